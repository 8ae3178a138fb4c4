// format.js - pure display helpers: times, error sentences, the dashboard's
// model of a "status" result (tests/web/test_console_format.mjs).

// Times come in two units: store and moderation-clock times in seconds
// since 1970, network-log times (at) in milliseconds; a number above 1e11
// is taken as milliseconds (1e11 s is the year 5138). Strings (reports use
// ISO 8601 text) are shown as they are. Shown in China time (UTC+8), the
// time the rules and qunctl use.
export function toMillis(v) {
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) return null;
  return v > 1e11 ? v : v * 1000;
}

export function formatTime(v) {
  if (typeof v === 'string') return v;
  const ms = toMillis(v);
  if (ms === null) return '—';
  const d = new Date(ms + 8 * 3600 * 1000);
  const p = (n) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}`;
}

export function formatDuration(seconds) {
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${Math.floor((s % 3600) / 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

// Any JSON value as one short line of text for a table cell.
export function cellText(v) {
  if (v === null || v === undefined) return '—';
  if (typeof v === 'boolean') return v ? '✓' : '✗';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

// The sentence for a failed API call. t is the dictionary lookup; role the
// operator's role (named in a 403 "forbidden").
export function errorSentence(err, t, role) {
  if (!err) return '';
  const code = err.code || '';
  const msg = err.message ? ` (${err.message})` : '';
  if (code === 'forbidden') return t('err.forbidden', { role: role || '?' }) + msg;
  if (code === 'csrf') return t('err.csrf');
  if (code === 'throttled' || err.status === 429) return t('err.throttled') + msg;
  if (code === 'bad-login') return t('err.bad_login');
  if (code === 'unauthorized' || err.status === 401) return t('err.unauthorized');
  if (code === 'network') return t('err.network');
  if (code === 'bad-answer') return t('err.bad_answer');
  if (code === 'unknown-command') return t('err.unknown_command') + msg;
  if (code === 'not-found') return t('err.not_found') + msg;
  return `${t('err.generic', { code, status: err.status })}${msg}`;
}

function num(v) {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

// a + b when at least one is known (an older daemon sends only the first)
function sumKnown(a, b) {
  if (a === null && b === null) return null;
  return (a || 0) + (b || 0);
}

// The dashboard's tiles from the "status" control command's result (the
// shape is h_status in src/ctl/ctl_logquery.c; README.md describes it).
// Missing members show as null ("—"), so an older daemon still renders.
export function dashboardModel(s) {
  const o = s && typeof s === 'object' ? s : {};
  const get = (path) => path.reduce((x, k) => (x && typeof x === 'object' ? x[k] : undefined), o);
  const log = get(['netlog']) || {};
  const reports = get(['reports']) || {};
  const outbox = {};
  for (const k of ['pending', 'delivered', 'failed', 'acknowledged']) outbox[k] = num(reports[k]);
  const group = num(get(['complaints', 'open_group']));
  const platform = num(get(['complaints', 'open_platform']));
  const last = num(log.last_seq);
  const cpSize = num(log.checkpoint_size);
  const switches = get(['emergency', 'switches']);
  const emergency = Array.isArray(switches) ? switches : [];
  return {
    online_accounts: num(get(['accounts', 'logged_in'])),
    online_sessions: num(get(['clients', 'registered'])),
    groups_live: num(get(['groups', 'live'])),
    groups_warned: num(get(['groups', 'warned'])),
    groups_suspended: num(get(['groups', 'suspended'])),
    groups_closed: num(get(['groups', 'closed'])),
    identity_queue: num(get(['identity', 'queue'])),
    complaints_open: group !== null && platform !== null ? group + platform : null,
    complaints_group: group,
    complaints_platform: platform,
    complaints_overdue: num(get(['complaints', 'overdue'])),
    // credit appeals and appeals against sanctions, both on the appeals page
    appeals_open: sumKnown(num(get(['appeals', 'pending'])), num(get(['appeals', 'sanctions_pending']))),
    log_last_seq: last,
    log_durable_seq: num(log.durable_seq),
    log_checkpoint_size: cpSize,
    log_checkpoint_at: num(log.checkpoint_at),
    log_unsigned: last !== null && cpSize !== null ? Math.max(0, last - cpSize) : null,
    log_healthy: typeof log.healthy === 'boolean' ? log.healthy : null,
    log_failed_batches: num(log.failed_batches),
    outbox,
    emergency,
    // an alert when something needs an operator now
    alerts: [
      ...(log.healthy === false ? ['log'] : []),
      ...(num(get(['complaints', 'overdue'])) > 0 ? ['overdue'] : []),
      ...(num(reports.failed) > 0 ? ['reports_failed'] : []),
      ...(emergency.length ? ['emergency'] : []),
    ],
  };
}
