// page_reports.js - the outbox of reports to the competent department:
//   reports.list {"status"}; reports.show {"id"} (#/reports/<id>: the row,
//   the signed document and the delivery attempts); reports.retry {"id"}
//   (a failed report, tried again now); reports.ack {"id"} (the authority
//   confirmed receipt). Retry and ack are confirmed first.

import { h } from './dom.js';
import { t } from './i18n.js';
import { reportListArgs, REPORT_STATUSES } from './forms.js';
import { answerBox, facts, field, load, runAction, section, select, table } from './ui.js';
import { hrefFor } from './router.js';

function buttons(ctx, box, r, reload) {
  const out = [];
  if (ctx.can('reports.retry') && r.status === 'failed') {
    out.push(h('button', { testid: 'report-retry', type: 'button', 'data-id': r.id, text: t('report.retry'),
      onclick: () => runAction(ctx, box, 'reports.retry', { args: { id: r.id } },
        { confirm: t('report.confirm_retry', { id: r.id }), okText: (x) => t('report.now', { id: x.id, status: t(`report.status.${x.status}`) }), done: reload }) }));
  }
  if (ctx.can('reports.ack') && (r.status === 'delivered' || r.status === 'failed' || r.status === 'pending')) {
    out.push(h('button', { testid: 'report-ack', type: 'button', 'data-id': r.id, text: t('report.ack'),
      onclick: () => runAction(ctx, box, 'reports.ack', { args: { id: r.id } },
        { confirm: t('report.confirm_ack', { id: r.id }), okText: (x) => t('report.now', { id: x.id, status: t(`report.status.${x.status}`) }), done: reload }) }));
  }
  return out;
}

async function renderOne(ctx, root, id) {
  const box = answerBox('report-answer');
  const out = h('div', { testid: 'report-detail', 'data-id': id });
  root.append(h('p', {}, h('a', { href: hrefFor('reports'), text: `← ${t('nav.reports')}` })),
    h('h1', { text: t('report.title', { id }) }), box, out);
  const reload = () => load(ctx, out, 'reports.show', { id: Number(id) }, (r) => h('div', {},
    facts('report-facts', r, ['id', 'kind', 'status', 'subject', 'group', 'author', 'created', 'attempts',
      'next_attempt', 'last_error', 'delivered', 'acknowledged', 'acknowledged_by', 'waiting_for_checkpoint', 'idempotency_key']),
    h('div', { class: 'row-actions' }, buttons(ctx, box, r, reload)),
    section('report.attempts', table('report-attempts', [
      { key: 'at', label: 'field.at' }, { key: 'sink', label: 'field.sink' },
      { key: 'ok', label: 'field.ok' }, { key: 'detail', label: 'field.detail' }], r.attempt_log)),
    section('report.document', h('pre', { testid: 'report-document', class: 'json', text: JSON.stringify(r.document, null, 2) }))));
  await reload();
}

export async function render(ctx, root, route) {
  if (route.param) return renderOne(ctx, root, route.param);
  const q = route.query || {};
  const status = select('reports-filter-status', REPORT_STATUSES, 'report.status', { value: q.status || '' });
  const box = answerBox('reports-answer');
  const list = h('div', { testid: 'reports-list' });
  root.append(h('h1', { text: t('nav.reports') }),
    h('form', { class: 'filters', testid: 'reports-filter', onsubmit: (e) => {
      e.preventDefault();
      ctx.navigate(hrefFor('reports', null, { status: status.value }));
    } }, field('field.status', status), h('button', { testid: 'reports-filter-submit', type: 'submit', text: t('common.filter') })),
    box, list);
  const built = reportListArgs(status.value);
  if (built.error) return box.error({ key: built.error, code: 'form' });
  const reload = () => load(ctx, list, 'reports.list', built.args, (rows) => table('reports-table', [
    { key: 'id', label: 'field.id', render: (r) => h('a', { testid: 'report-open', href: hrefFor('reports', r.id), text: `#${r.id}` }) },
    { key: 'kind', label: 'field.kind' },
    { key: 'status', label: 'field.status', render: (r) => t(`report.status.${r.status}`) },
    { key: 'subject', label: 'field.subject' },
    { key: 'group', label: 'field.group_code' },
    { key: 'created', label: 'field.created' },
    { key: 'attempts', label: 'field.attempts' },
    { key: 'last_error', label: 'field.last_error' },
    { key: 'actions', label: 'common.actions', render: (r) => h('div', { class: 'row-actions' }, buttons(ctx, box, r, reload)) },
  ], rows, (r) => ({ testid: 'report-row', 'data-id': r.id, 'data-status': r.status })));
  await reload();
}
