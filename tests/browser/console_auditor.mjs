// console_auditor.mjs - scenario: an auditor exports a case bundle from the
// operator console (driven by test_browser_console.py, which checks the
// download with `qunctl verify-bundle`).
//
// Argument: one JSON object {url, name, password, group, text, case, out}.
// Logs in, opens the log page, searches the group's messages (one holds
// `text`), fills the export form, clicks the download
// link and saves the file the browser downloaded to `out`.
// Results: {rows, file, suggested, url}.
//
// Threads: Node's one thread.

import { newPage, noPageErrors, result, run, screenshot, tid } from './lib/harness.mjs';

const a = JSON.parse(process.argv[2]);

await run(async (browser) => {
  const page = await newPage(browser, { locale: 'en-US', acceptDownloads: true });
  await page.goto(a.url);
  await page.fill(tid('login-name'), a.name);
  await page.fill(tid('login-password'), a.password);
  await page.click(tid('login-submit'));
  await page.waitForSelector(`${tid('whoami')}[data-role="auditor"]`);
  await page.click(tid('nav-log'));
  await page.waitForSelector(tid('export-form'));
  // search the group's messages first (log.search)
  await page.fill(tid('log-search-group'), String(a.group));
  await page.fill(tid('log-search-kind'), 'msg');
  await page.click(tid('log-search-submit'));
  await page.waitForSelector(`${tid('log-table-row')}:has-text("${a.text}")`);
  result({ rows: await page.locator(tid('log-table-row')).count() });
  await page.fill(tid('export-group'), String(a.group));
  await page.fill(tid('export-case'), a.case);
  await page.click(tid('export-build'));
  const link = page.locator(tid('export-link'));
  await link.waitFor({ state: 'visible' });
  await screenshot(page, 'console-export');
  const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
  const failure = await download.failure();
  if (failure) throw new Error(`the download failed: ${failure}`);
  await download.saveAs(a.out);
  result({ file: a.out, suggested: download.suggestedFilename(), url: download.url() });
  noPageErrors(page);
});
