// page_log.js - network-log search (log.search, contract in README.md:
// the daemon reads the log read-only as `qunctl search` does and records
// the access) and the case-bundle export form, which builds
// GET /api/export?group=&account=&from=&to=&case= and offers it as a
// download link ("export-link"). The download is an ordinary GET with the
// session cookie; the server records it as `qunctl export` does.

import { h } from './dom.js';
import { t } from './i18n.js';
import { logSearchArgs } from './forms.js';
import { buildExportUrl } from './api.js';
import { answerBox, field, input, load, section, table } from './ui.js';
import { hrefFor } from './router.js';

export function eventTable(testid, events) {
  return table(testid, [
    { key: 'seq', label: 'field.seq' },
    { key: 'at', label: 'field.at', time: true },
    { key: 'kind', label: 'field.kind' },
    { key: 'actor', label: 'field.actor' },
    { key: 'target', label: 'field.target' },
    { key: 'code', label: 'field.code', render: (e) => (e.code ? h('a', { href: hrefFor('group', String(e.code)), text: String(e.code) }) : '—') },
    { key: 'body', label: 'field.body', render: (e) => h('code', { class: 'body', text: e.body == null ? '' : String(e.body) }) },
  ], events, (e) => ({ testid: `${testid}-row`, 'data-seq': e.seq, 'data-kind': e.kind }));
}

function searchSection(ctx, q) {
  const f = {};
  const fields = [['group', 'field.group_code', '10001'], ['account', 'field.account', ''],
    ['from', 'field.from', '2026-11-01'], ['to', 'field.to', '2026-11-30 23:59'], ['text', 'field.text', ''],
    ['kind', 'field.kind', 'msg / audit.'], ['limit', 'field.limit', '100']];
  for (const [k, , ph] of fields) f[k] = input(`log-search-${k}`, { value: q[k] || '', placeholder: ph });
  const out = h('div', { testid: 'log-results' });
  const box = answerBox('log-answer');
  const form = h('form', { class: 'filters', testid: 'log-search', onsubmit: (e) => {
    e.preventDefault();
    const query = {};
    for (const k of Object.keys(f)) query[k] = f[k].value.trim();
    ctx.navigate(hrefFor('log', null, { ...query, go: 1 }));
  } }, fields.map(([k, label]) => field(label, f[k])),
  h('button', { testid: 'log-search-submit', type: 'submit', text: t('log.search') }));
  const sec = section('log.search_title', h('p', { class: 'muted', text: t('log.search_help') }), form, box, out);
  if (q.go) {
    const built = logSearchArgs(Object.fromEntries(Object.keys(f).map((k) => [k, f[k].value])));
    if (built.error) box.error({ key: built.error, code: 'form' });
    else {
      load(ctx, out, 'log.search', built.args, (r) => h('div', {},
        h('p', { testid: 'log-count', 'data-count': r.count, text: t(r.truncated ? 'log.count_limit' : 'log.count', { count: r.count }) }),
        eventTable('log-table', r.events)));
    }
  }
  return sec;
}

function exportSection() {
  const f = {};
  const fields = [['group', 'field.group_code', '10001'], ['account', 'field.account', ''],
    ['from', 'field.from', '2026-11-01'], ['to', 'field.to', '2026-12-01'], ['case', 'field.case', 'PSB-2026-0042']];
  for (const [k, , ph] of fields) f[k] = input(`export-${k}`, { placeholder: ph, maxlength: 200 });
  const box = answerBox('export-answer');
  const link = h('a', { testid: 'export-link', class: 'download', hidden: true, download: '' });
  const form = h('form', { class: 'filters', testid: 'export-form', onsubmit: (e) => {
    e.preventDefault();
    box.clear();
    const r = buildExportUrl(Object.fromEntries(Object.keys(f).map((k) => [k, f[k].value])));
    if (r.error) {
      link.hidden = true;
      link.removeAttribute('href');
      box.error({ key: r.error, code: 'form' });
      return;
    }
    link.href = r.url;
    link.setAttribute('download', `case-${f.case.value.trim().replace(/[^A-Za-z0-9._-]+/g, '_')}.tar.gz`);
    link.textContent = t('export.download', { case: f.case.value.trim() });
    link.hidden = false;
  } }, fields.map(([k, label]) => field(label, f[k])),
  h('button', { testid: 'export-build', type: 'submit', text: t('export.build') }));
  return section('export.title', h('p', { class: 'muted', text: t('export.help') }), form, box, h('p', {}, link));
}

export async function render(ctx, root, route) {
  root.append(h('h1', { text: t('nav.log') }));
  if (ctx.can('log.search')) root.append(searchSection(ctx, route.query || {}));
  if (ctx.can('export')) root.append(exportSection());
}
