// harness.mjs - what every browser scenario shares: loading playwright-core
// from the directory the set-up installed it into, launching Debian's
// chromium, the step protocol with the pytest driver, screenshots.
//
// What it owns: the browser process of one scenario (launched once, closed
// by run() whatever happens) and the scenario's stdin/stdout.
//
// Protocol with the driver (tests/browser/browser_helpers.py): the scenario
// writes lines to stdout -
//   STEP <name> <json>    asks the driver to act (e.g. read the SMS code,
//                         make the TCP client talk) and waits for one line
//                         on stdin: "OK <json>" (the answer) or "ABORT ...";
//   RESULT <json>         facts for the driver to check (merged);
//   anything else         a log line.
// Exit status 0 only when the scenario ran to its end.
//
// Invariants: never downloads a browser (executablePath is Debian's
// chromium); a missing chromium or playwright-core is a failure with a
// sentence saying what to install, never a skip; every wait is on a
// selector or condition with a timeout, never a fixed sleep.
//
// Environment: QUN_BROWSER_MODULES = the directory holding
// node_modules/playwright-core (ctest's browser/setup fills
// <build>/browser); QUN_SCREENSHOT_DIR = where screenshots go;
// QUN_BROWSER_ARTIFACTS = where a failing scenario leaves a screenshot.
//
// Threads: Node's one thread.

import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { createRequire } from 'node:module';

export const CHROMIUM = process.env.QUN_CHROMIUM || '/usr/bin/chromium';
export const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic',
  '--no-first-run', '--disable-background-networking', '--disable-component-update',
  '--disable-sync'];
export const WAIT_MS = 15000;

function die(msg) {
  process.stderr.write(`browser test: ${msg}\n`);
  process.exit(2);
}

export function loadPlaywright() {
  const dir = process.env.QUN_BROWSER_MODULES;
  if (!dir) die('QUN_BROWSER_MODULES is not set: run through ctest (browser/setup installs playwright-core), or run tests/browser/install.sh DIR and set QUN_BROWSER_MODULES=DIR');
  const req = createRequire(path.join(path.resolve(dir), 'package.json'));
  try {
    return req('playwright-core');
  } catch (e) {
    die(`playwright-core is not installed in ${dir} (${e.code || e.message}): run tests/browser/install.sh ${dir}`);
  }
  return null;
}

export async function launch() {
  if (!fs.existsSync(CHROMIUM)) die(`${CHROMIUM} is missing: install Debian's chromium (scripts/install-deps.sh)`);
  const { chromium } = loadPlaywright();
  // launch() gives the browser a fresh temporary user-data-dir
  return chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 30000 });
}

const lines = readline.createInterface({ input: process.stdin })[Symbol.asyncIterator]();

export async function step(name, payload = {}) {
  process.stdout.write(`STEP ${name} ${JSON.stringify(payload)}\n`);
  const { value, done } = await lines.next();
  if (done) throw new Error(`the driver closed stdin during step ${name}`);
  if (!value.startsWith('OK ')) throw new Error(`the driver aborted step ${name}: ${value}`);
  return JSON.parse(value.slice(3));
}

export function result(obj) {
  process.stdout.write(`RESULT ${JSON.stringify(obj)}\n`);
}

export function log(text) {
  process.stdout.write(`${text}\n`);
}

export async function screenshot(page, name) {
  const dir = process.env.QUN_SCREENSHOT_DIR;
  if (!dir) return;
  fs.mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file });
  log(`screenshot ${file}`);
}

export const tid = (id, extra = '') => `[data-testid="${id}"]${extra}`;

// Runs main(browser) and exits: 0 on success, 1 with the error (and a
// screenshot of every open page in QUN_BROWSER_ARTIFACTS) on failure.
export async function run(main) {
  let browser = null;
  let code = 0;
  const t0 = Date.now();
  try {
    browser = await launch();
    await main(browser);
    log(`done in ${Date.now() - t0} ms`);
  } catch (e) {
    code = 1;
    process.stderr.write(`browser test failed: ${e.stack || e}\n`);
    const dir = process.env.QUN_BROWSER_ARTIFACTS;
    if (browser && dir) {
      fs.mkdirSync(dir, { recursive: true });
      let i = 0;
      for (const ctx of browser.contexts()) {
        for (const p of ctx.pages()) {
          const file = path.join(dir, `failure-${i++}.png`);
          try {
            await p.screenshot({ path: file, fullPage: true });
            process.stderr.write(`page ${p.url()} -> ${file}\n`);
          } catch { /* the page may be gone */ }
        }
      }
    }
  } finally {
    if (browser) await browser.close().catch(() => {});
  }
  process.exit(code);
}

// A page that fails the scenario on any uncaught script error and logs the
// console's errors (a CSP violation shows up there).
export async function newPage(browser, { locale = 'en-US', acceptDownloads = false } = {}) {
  const ctx = await browser.newContext({ locale, acceptDownloads, viewport: { width: 1280, height: 800 } });
  const page = await ctx.newPage();
  page.setDefaultTimeout(WAIT_MS);
  page.pageErrors = [];
  page.on('pageerror', (e) => page.pageErrors.push(String(e)));
  page.on('console', (m) => { if (m.type() === 'error') log(`console error: ${m.text()}`); });
  return page;
}

export function noPageErrors(page) {
  if (page.pageErrors.length) throw new Error(`script errors on ${page.url()}: ${page.pageErrors.join('; ')}`);
}
