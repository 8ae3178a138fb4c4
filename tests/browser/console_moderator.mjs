// console_moderator.mjs - scenario: a moderator works the operator console
// (driven by test_browser_console.py, which owns the daemon, the users and
// the checks of the database, the network log and the users' notices).
//
// Argument: one JSON object {url, name, password, request, complaint, rule}.
// Logs in, screenshots the dashboard, approves identity request `request`
// in the review queue, upholds complaint `complaint` (severity general,
// rule `rule`). Steps asked of the driver: "approved", "upheld".
//
// Threads: Node's one thread.

import { newPage, noPageErrors, run, screenshot, step, tid } from './lib/harness.mjs';

const a = JSON.parse(process.argv[2]);

await run(async (browser) => {
  const page = await newPage(browser, { locale: 'en-US' });
  await page.goto(a.url);
  await page.fill(tid('login-name'), a.name);
  await page.fill(tid('login-password'), a.password);
  await page.click(tid('login-submit'));
  await page.waitForSelector(`${tid('whoami')}[data-role="moderator"]`);
  await page.waitForSelector(tid('dashboard'));
  await screenshot(page, 'console-dashboard');

  // the identity review queue: approve the request
  await page.click(tid('nav-identity'));
  const row = page.locator(`${tid('identity-row')}[data-id="${a.request}"]`);
  await row.waitFor();
  await screenshot(page, 'console-identity');
  await row.locator(tid('identity-approve')).click();
  await page.waitForSelector(tid('action-result'));
  await row.waitFor({ state: 'detached' });
  await step('approved', { request: a.request });

  // the complaint: open it from the list and uphold it
  await page.click(tid('nav-complaints'));
  const crow = page.locator(`${tid('complaint-row')}[data-id="${a.complaint}"]`);
  await crow.waitFor();
  await screenshot(page, 'console-complaints');
  await crow.locator(tid('complaint-open')).click();
  await page.waitForSelector(tid('complaint-detail'));
  await page.selectOption(tid('decide-decision'), 'uphold');
  await page.selectOption(tid('decide-severity'), 'general');
  await page.fill(tid('decide-rule'), a.rule);
  await page.fill(tid('decide-note'), 'upheld from the console');
  await page.click(tid('decide-submit'));
  // decided: the page shows the complaint again, without the form
  await page.waitForSelector(tid('decide-form'), { state: 'detached' });
  await page.waitForSelector(`${tid('complaint-detail')}:has-text("console:${a.name}")`);
  await step('upheld', { complaint: a.complaint });
  await screenshot(page, 'console-complaint-upheld');
  noPageErrors(page);
});
