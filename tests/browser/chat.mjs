// chat.mjs - scenario: a new user registers on the chat page and chats with
// a TCP client (driven by test_browser_chat.py, which owns the daemon and
// the TCP side; see lib/harness.mjs for the step protocol).
//
// Argument: one JSON object {url, account, password, phone, id_number,
// real_name, group, history_text, convention}.
// Steps asked of the driver: "code" (the dev SMS code), "joined" (the TCP
// user posts {text} live), "sent" (the TCP user must have received {text}).
// Results: {complaint, msgid_reported}.
//
// Threads: Node's one thread.

import { newPage, noPageErrors, result, run, screenshot, step, tid } from './lib/harness.mjs';

const a = JSON.parse(process.argv[2]);

await run(async (browser) => {
  const page = await newPage(browser, { locale: 'zh-CN' });
  await page.goto(a.url);

  // register with a phone number; the code comes from the daemon's log
  await page.fill(tid('register-account'), a.account);
  await page.fill(tid('register-password'), a.password);
  await page.fill(tid('register-phone'), a.phone);
  await page.click(tid('register-submit'));
  await page.waitForSelector(tid('verify-form'), { state: 'visible' });
  const { code } = await step('code', { account: a.account });
  await page.fill(tid('verify-code'), code);
  await page.click(tid('verify-submit'));

  // verified and logged in: the chat view and the account panel open
  await page.waitForSelector(tid('account-panel'), { state: 'visible' });
  await page.waitForFunction((acc) => globalThis.qunChat.client.account === acc, a.account);

  // the real-name form (the dev provider accepts a well-formed ID at once)
  await page.selectOption(tid('identity-type'), 'cn-id');
  await page.fill(tid('identity-number'), a.id_number);
  await page.fill(tid('identity-name'), a.real_name);
  await page.click(tid('identity-submit'));
  await page.waitForSelector(`${tid('nickserv-line')}:has-text("identity level 2")`);

  if (a.convention) {
    await page.click(tid('convention-show'));
    await page.waitForSelector(tid('convention-accept'), { state: 'visible' });
    await page.click(tid('convention-accept'));
    await page.waitForSelector(`${tid('nickserv-line')}:has-text("You accepted the platform convention")`);
    await page.waitForSelector(tid('convention-accept'), { state: 'hidden' });
  }
  await page.click(`${tid('account-panel')} [data-close]`);
  await page.waitForSelector(tid('account-panel'), { state: 'hidden' });

  // join the group the TCP user made; its history loads on join
  await page.fill(tid('join-name'), a.group);
  await page.click(tid('join-name-button'));
  await page.waitForSelector(`${tid('room-name')}:has-text("${a.group}")`);
  await page.waitForSelector(`${tid('message')}:has-text("${a.history_text}")`);
  await page.waitForSelector(`${tid('member')}[data-nick="${a.account}"]`);

  // live: TCP -> web
  const { text: live } = await step('joined', {});
  const theirs = page.locator(`${tid('message')}:has-text("${live}")`);
  await theirs.waitFor();
  const msgid = await theirs.getAttribute('data-msgid');

  // live: web -> TCP
  const mine = `网页用户的消息 ${Date.now()}`;
  await page.fill(tid('message-input'), mine);
  await page.click(tid('send-button'));
  await page.waitForSelector(`${tid('message')}[data-nick="${a.account}"]:has-text("${mine}")`);
  await step('sent', { text: mine });

  // report the TCP user's message; the dialog shows the complaint id
  await theirs.hover();
  await theirs.locator(tid('message-menu')).click();
  await theirs.locator(tid('report-menu-item')).click();
  await page.waitForSelector(tid('report-dialog'), { state: 'visible' });
  await page.fill(tid('report-text'), '广告刷屏');
  await page.click(tid('report-submit'));
  const filed = page.locator(tid('report-result'));
  await page.waitForFunction((sel) => /\d+/.test(document.querySelector(sel)?.textContent || ''),
    tid('report-result'));
  const complaint = Number(/(\d+)/.exec(await filed.textContent())[1]);
  result({ complaint, msgid_reported: msgid, sent: mine });
  await page.click(tid('report-cancel'));
  await page.waitForSelector(tid('report-dialog'), { state: 'hidden' });

  noPageErrors(page);
  await screenshot(page, 'chat');
});
