// page_dashboard.js - the "status" command (contract in README.md) as tiles:
// people online, groups, identity queue, complaints (and overdue), appeals,
// the network log's health, the reports outbox by status.

import { h } from './dom.js';
import { t } from './i18n.js';
import { dashboardModel, formatTime, cellText } from './format.js';
import { load, section, table } from './ui.js';
import { hrefFor } from './router.js';

function tile(testid, label, value, href, alert) {
  const body = [h('div', { class: 'tile-value', 'data-value': value === null ? '' : value, text: cellText(value) }),
    h('div', { class: 'tile-label', text: t(label) })];
  return href
    ? h('a', { class: alert ? 'tile alert' : 'tile', testid, href }, body)
    : h('div', { class: alert ? 'tile alert' : 'tile', testid }, body);
}

export async function render(ctx, root) {
  const out = h('div', { testid: 'dashboard' });
  root.appendChild(h('h1', { text: t('nav.dashboard') }));
  root.appendChild(out);
  await load(ctx, out, 'status', {}, (s) => {
    const m = dashboardModel(s);
    const c = ctx.can;
    return h('div', {},
      m.alerts.length ? h('div', { class: 'alerts', testid: 'dash-alerts' },
        m.alerts.map((a) => h('p', { class: 'alert-line', 'data-alert': a, text: t(`dash.alert.${a}`) }))) : null,
      h('div', { class: 'tiles' },
        tile('dash-online', 'dash.online', m.online_accounts),
        tile('dash-sessions', 'dash.sessions', m.online_sessions),
        tile('dash-groups', 'dash.groups', m.groups_live),
        tile('dash-groups-warned', 'dash.groups_warned', m.groups_warned),
        tile('dash-groups-suspended', 'dash.groups_suspended', m.groups_suspended),
        tile('dash-identity', 'dash.identity', m.identity_queue, c('identity.queue') ? hrefFor('identity') : null, m.identity_queue > 0),
        tile('dash-complaints', 'dash.complaints', m.complaints_open, hrefFor('complaints')),
        tile('dash-complaints-platform', 'dash.complaints_platform', m.complaints_platform, hrefFor('complaints')),
        tile('dash-overdue', 'dash.overdue', m.complaints_overdue, hrefFor('complaints'), m.complaints_overdue > 0),
        tile('dash-groups-closed', 'dash.groups_closed', m.groups_closed),
        tile('dash-appeals', 'dash.appeals', m.appeals_open, c('appeals.list') ? hrefFor('appeals') : null, m.appeals_open > 0)),
      section('dash.log',
        h('dl', { class: 'facts', testid: 'dash-log' },
          h('dt', { text: t('dash.log_healthy') }),
          h('dd', { 'data-field': 'healthy', class: m.log_healthy === false ? 'bad' : 'good',
            text: m.log_healthy === null ? '—' : t(m.log_healthy ? 'dash.healthy' : 'dash.unhealthy') }),
          m.log_failed_batches > 0 ? [h('dt', { text: t('dash.log_failed') }), h('dd', { class: 'bad', text: cellText(m.log_failed_batches) })] : null,
          h('dt', { text: t('dash.log_last_seq') }), h('dd', { 'data-field': 'last_seq', text: cellText(m.log_last_seq) }),
          h('dt', { text: t('dash.log_durable') }), h('dd', { 'data-field': 'durable_seq', text: cellText(m.log_durable_seq) }),
          h('dt', { text: t('dash.log_checkpoint') }),
          h('dd', { 'data-field': 'checkpoint', text: m.log_checkpoint_size === null ? '—'
            : `${m.log_checkpoint_size} (${formatTime(m.log_checkpoint_at)})` }),
          h('dt', { text: t('dash.log_unsigned') }), h('dd', { text: cellText(m.log_unsigned) }))),
      section('dash.reports',
        h('div', { class: 'tiles', testid: 'dash-reports' },
          Object.entries(m.outbox).map(([k, v]) => tile(`dash-reports-${k}`, `report.status.${k}`, v,
            hrefFor('reports', null, { status: k }), k === 'failed' && v > 0)))),
      m.emergency.length ? section('dash.emergency',
        table('dash-emergency', [
          { key: 'scope', label: 'field.scope' }, { key: 'message', label: 'field.message' },
          { key: 'set_by', label: 'field.set_by' }, { key: 'set_at', label: 'field.set_at', time: true }],
        m.emergency)) : null);
  });
}
