// The console's dictionary (web/console/strings.js): both languages have
// the same keys and no empty string; every key the sources name exists;
// language choice and interpolation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join, dirname } from 'node:path';
import { STRINGS } from '../../web/console/strings.js';
import { pickLanguage, translate, setLanguage, t } from '../../web/console/i18n.js';
import * as forms from '../../web/console/forms.js';
import { PAGES, ROLES } from '../../web/console/roles.js';

const dir = join(dirname(fileURLToPath(import.meta.url)), '../../web/console');

test('zh and en have the same keys, none empty', () => {
  const en = Object.keys(STRINGS.en).sort(), zh = Object.keys(STRINGS.zh).sort();
  assert.deepEqual(zh, en);
  for (const lang of ['en', 'zh']) {
    for (const [k, v] of Object.entries(STRINGS[lang])) assert.ok(typeof v === 'string' && v.trim() !== '', `${lang} ${k}`);
  }
});

test('placeholders agree between languages', () => {
  const ph = (s) => [...s.matchAll(/\{([a-z_0-9]+)\}/g)].map((m) => m[1]).sort();
  for (const k of Object.keys(STRINGS.en)) assert.deepEqual(ph(STRINGS.zh[k]), ph(STRINGS.en[k]), k);
});

test('every key named in the sources exists', () => {
  const keys = new Set();
  const re = [/\bt\('([^']+)'/g, /label: '([^']+)'/g, /\bfield\('([^']+)'/g, /\bsection\('([^']+)'/g,
    /error: '([^']+)'/g, /key: '([a-z]+\.[^']+)'/g, /emptyLabel: '([^']+)'/g, /tile\('[^']+', '([^']+)'/g,
    /notice = '([^']+)'/g, /'(log\.count(?:_limit)?)'/g, /\['[a-z_]+', '(field\.[a-z_]+)'/g];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.js') && n !== 'strings.js')) {
    const src = readFileSync(join(dir, f), 'utf8');
    for (const r of re) for (const m of src.matchAll(r)) keys.add(m[1]);
  }
  // families built from values
  const fam = (prefix, values) => values.forEach((v) => keys.add(`${prefix}.${v}`));
  fam('complaint.state', forms.COMPLAINT_STATES);
  fam('complaint.stage', forms.COMPLAINT_STAGES);
  fam('complaint.decision', forms.COMPLAINT_DECISIONS);
  fam('severity', forms.SEVERITIES);
  fam('appeal.state', forms.APPEAL_STATES);
  fam('report.status', forms.REPORT_STATUSES);
  fam('sanction.kind', forms.PERSON_KINDS);
  fam('group.state', ['normal', 'warned', 'suspended', 'closed']);
  fam('nav', PAGES.map((p) => p.route));
  fam('role', ROLES);
  fam('lang', ['en', 'zh']);
  fam('dash.alert', ['log', 'overdue', 'reports_failed', 'emergency']);
  assert.ok(keys.size > 150, `found ${keys.size} keys`);
  const missing = [...keys].filter((k) => !(k in STRINGS.en) && !k.includes('${'));
  assert.deepEqual(missing, []);
});

test('language: stored choice, then the browser, then Chinese', () => {
  assert.equal(pickLanguage('en', ['zh-CN']), 'en');
  assert.equal(pickLanguage(null, ['fr-FR', 'en-US']), 'en');
  assert.equal(pickLanguage(null, ['zh-TW']), 'zh');
  assert.equal(pickLanguage('xx', ['de']), 'zh');
  assert.equal(pickLanguage(undefined, undefined), 'zh');
});

test('translate fills placeholders, falls back to English, then to the key', () => {
  const d = { en: { a: 'x {n} {m}', b: 'only en' }, zh: { a: '甲 {n}' } };
  assert.equal(translate(d, 'en', 'a', { n: 1, m: '<b>' }), 'x 1 <b>');
  assert.equal(translate(d, 'zh', 'a', { n: 2 }), '甲 2');
  assert.equal(translate(d, 'zh', 'b'), 'only en');
  assert.equal(translate(d, 'zh', 'nope'), 'nope');
  assert.equal(translate(d, 'en', 'a', { n: 1 }), 'x 1 {m}');
  assert.equal(translate(d, 'en', 'constructor'), 'constructor');
  setLanguage('en');
  assert.equal(t('nav.logout'), 'Log out');
  setLanguage('zh');
  assert.equal(t('nav.logout'), '退出');
  setLanguage('klingon');
  assert.equal(t('nav.logout'), '退出');
});
