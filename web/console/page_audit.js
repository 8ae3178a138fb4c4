// page_audit.js - the audit trail: operators' actions from the network log
// (audit.list, contract in README.md), newest first, with filters for the
// actor ("console:alice", "unix:root") and the kind ("audit.*" for every
// audit.* kind), and "older" paging by before_seq.

import { h } from './dom.js';
import { t } from './i18n.js';
import { auditListArgs } from './forms.js';
import { answerBox, field, input, load } from './ui.js';
import { hrefFor } from './router.js';
import { eventTable } from './page_log.js';

export async function render(ctx, root, route) {
  const q = route.query || {};
  const f = {};
  const fields = [['actor', 'field.actor', 'console:alice'], ['kind', 'field.kind', 'audit.*'],
    ['from', 'field.from', '2026-11-01'], ['to', 'field.to', ''], ['limit', 'field.limit', '100']];
  for (const [k, , ph] of fields) f[k] = input(`audit-${k}`, { value: q[k] || '', placeholder: ph });
  const out = h('div', { testid: 'audit-results' });
  const box = answerBox('audit-answer');
  const query = () => Object.fromEntries(Object.keys(f).map((k) => [k, f[k].value.trim()]));
  root.append(h('h1', { text: t('nav.audit') }), h('p', { class: 'muted', text: t('audit.help') }),
    h('form', { class: 'filters', testid: 'audit-filter', onsubmit: (e) => {
      e.preventDefault();
      ctx.navigate(hrefFor('audit', null, query()));
    } }, fields.map(([k, label]) => field(label, f[k])),
    h('button', { testid: 'audit-filter-submit', type: 'submit', text: t('common.filter') })), box, out);
  const built = auditListArgs({ ...query(), before_seq: q.before_seq || '' });
  if (built.error) return box.error({ key: built.error, code: 'form' });
  await load(ctx, out, 'audit.list', built.args, (r) => h('div', {},
    eventTable('audit-table', r.events),
    r.next_before_seq ? h('p', {}, h('a', { testid: 'audit-older', href: hrefFor('audit', null, { ...query(), before_seq: r.next_before_seq }), text: t('audit.older') })) : null));
}
