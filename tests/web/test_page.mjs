// test_page.mjs - static checks of the chat page (web/public/) that need no
// browser: both languages have the same keys; every key the HTML and the
// scripts use exists; every $('id') the scripts look up is in index.html;
// every named import of every module (app.js too) is exported by its
// target; the files are flat (the server maps /static/<file>) and load
// nothing from another origin; the language default follows the browser.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

import { STRINGS, initialLang, setLang, t } from '../../web/public/i18n.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../web/public');
const files = readdirSync(dir, { withFileTypes: true });
const read = (f) => readFileSync(join(dir, f), 'utf8');
const scripts = files.filter((f) => f.name.endsWith('.js')).map((f) => f.name);
const html = read('index.html');

test('the page is flat and self-contained', () => {
  assert.deepEqual(files.filter((f) => f.isDirectory()).map((f) => f.name), []);
  for (const f of [...scripts, 'index.html', 'style.css']) {
    const src = read(f);
    assert.doesNotMatch(src, /(src|href)\s*=\s*["']?(https?:)?\/\/|@import|url\(\s*["']?(https?:)?\/\//i, f);
    assert.doesNotMatch(src, /\bfetch\(|XMLHttpRequest|innerHTML|insertAdjacentHTML|eval\(/, f);
  }
  for (const m of html.matchAll(/(?:src|href)="([^"#]+)"/g)) {
    assert.match(m[1], /^\/static\/[a-z-]+\.(js|css)$/, m[1]);
    assert.ok(files.some((f) => f.name === m[1].slice(8)), m[1]);
  }
});

test('both languages have the same keys and the used keys exist', () => {
  const en = Object.keys(STRINGS.en).sort();
  const zh = Object.keys(STRINGS.zh).sort();
  assert.deepEqual(zh, en);
  const used = new Set();
  for (const m of html.matchAll(/data-i18n(?:-[a-z-]+)?="([^"]+)"/g)) used.add(m[1]);
  for (const f of scripts) {
    for (const m of read(f).matchAll(/\bt\('([a-z][\w.~@+-]*)'/g)) used.add(m[1]);
    for (const m of read(f).matchAll(/i18n: '([^']+)'/g)) used.add(m[1]);
  }
  for (const k of used) assert.ok(k in STRINGS.en, `missing key ${k}`);
  for (const r of ['~', '@', '+']) assert.ok(`role.${r}` in STRINGS.zh);
  assert.equal(STRINGS.zh['role.~'], '群主');
  assert.equal(STRINGS.en['role.@'], 'manager');
});

test('t() fills placeholders and falls back', () => {
  setLang('zh');
  assert.equal(t('report.filed', { id: 17 }), '投诉 17 已提交，处理结果将通知您。');
  setLang('en');
  assert.equal(t('report.filed', { id: 17 }), 'Complaint 17 filed. You will be told the outcome.');
  assert.equal(t('no.such.key'), 'no.such.key');
  assert.equal(initialLang(null, 'zh-CN'), 'zh');
  assert.equal(initialLang(null, 'zh-Hant-TW'), 'zh');
  assert.equal(initialLang(null, 'en-US'), 'en');
  assert.equal(initialLang(null, 'fr'), 'en');
  assert.equal(initialLang('zh', 'en-US'), 'zh');
  assert.equal(initialLang('xx', 'en-US'), 'en');
});

test('every element id the scripts look up is in index.html', () => {
  const ids = new Set([...html.matchAll(/\bid="([^"]+)"/g)].map((m) => m[1]));
  for (const f of scripts) {
    for (const m of read(f).matchAll(/\$\('([^']+)'\)/g)) assert.ok(ids.has(m[1]), `${f}: #${m[1]}`);
  }
});

test('the test ids the browser tests drive are present', () => {
  const all = html + scripts.map(read).join('\n');
  for (const id of ['login-form', 'login-account', 'login-password', 'login-submit', 'register-form',
    'register-account', 'register-password', 'register-phone', 'register-submit', 'verify-code', 'verify-submit',
    'identity-form', 'identity-type', 'identity-number', 'identity-name', 'identity-submit', 'convention-accept',
    'group-filter', 'group-search', 'group-list', 'join-button', 'joined-groups', 'message-input', 'send-button',
    'message-list', 'message', 'message-menu', 'report-menu-item', 'report-dialog', 'report-category',
    'report-text', 'report-submit', 'report-result', 'credit-panel', 'credit-line', 'appeal-button',
    'appeal-text', 'appeal-submit', 'member-list', 'member', 'service-pane', 'account-name', 'lang-select',
    'load-older']) {
    assert.ok(all.includes(`data-testid="${id}"`) || all.includes(`testid: '${id}'`), id);
  }
});

test('every named import is exported by its module', async () => {
  for (const f of scripts) {
    for (const m of read(f).matchAll(/import\s*\{([^}]*)\}\s*from\s*'\.\/([^']+)'/g)) {
      const mod = await import(join(dir, m[2]));
      for (const name of m[1].split(',').map((s) => s.trim()).filter(Boolean)) {
        assert.ok(name in mod, `${f} imports ${name} from ${m[2]}`);
      }
    }
  }
});
