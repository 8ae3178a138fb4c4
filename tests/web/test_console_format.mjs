// web/console/format.js: times in China time (seconds or milliseconds),
// error sentences (403 forbidden names the role), the dashboard model of
// a "status" result, full or partial.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatTime, toMillis, formatDuration, cellText, errorSentence, dashboardModel } from '../../web/console/format.js';
import { translate } from '../../web/console/i18n.js';
import { STRINGS } from '../../web/console/strings.js';

const en = (k, p) => translate(STRINGS, 'en', k, p);

test('times: seconds and milliseconds, China time', () => {
  assert.equal(formatTime(1764487528), '2025-11-30 15:25:28');
  assert.equal(formatTime(1764487528462), '2025-11-30 15:25:28');
  assert.equal(formatTime('2026-11-30T07:25:28Z'), '2026-11-30T07:25:28Z');
  assert.equal(formatTime(0), '—');
  assert.equal(formatTime(null), '—');
  assert.equal(formatTime(NaN), '—');
  assert.equal(toMillis(-5), null);
  assert.equal(formatDuration(59), '59s');
  assert.equal(formatDuration(3 * 86400 + 7200), '3d 2h');
  assert.equal(cellText(null), '—');
  assert.equal(cellText({ a: 1 }), '{"a":1}');
});

test('error sentences', () => {
  assert.match(errorSentence({ code: 'forbidden', status: 403, message: 'x' }, en, 'auditor'), /403.*auditor.*\(x\)$/);
  assert.match(errorSentence({ code: 'csrf', status: 403 }, en), /csrf/);
  assert.match(errorSentence({ code: 'throttled', status: 429 }, en), /Too many/);
  assert.match(errorSentence({ code: 'whatever', status: 429 }, en), /Too many/);
  assert.equal(errorSentence({ code: 'bad-login', status: 401 }, en), 'Unknown operator or wrong password.');
  assert.match(errorSentence({ code: 'wrong-stage', status: 409, message: 'still with the group' }, en),
    /^Refused: wrong-stage \(HTTP 409\) \(still with the group\)$/);
  assert.match(errorSentence({ code: 'unknown-command', status: 404 }, en), /does not know/);
  assert.equal(errorSentence(null, en), '');
});

test('dashboard model of a full status', () => {
  // the shape of h_status in src/ctl/ctl_logquery.c
  const m = dashboardModel({
    version: 'qun-0.1', started_at: 1, uptime_s: 5,
    clients: { online: 160, registered: 150 },
    accounts: { logged_in: 120 },
    groups: { live: 40, warned: 2, suspended: 1, closed: 3 },
    identity: { queue: 5 },
    complaints: { open_group: 4, open_platform: 5, overdue: 2 },
    netlog: { last_seq: 9000, durable_seq: 8999, checkpoint_size: 8990, checkpoint_at: 1764487520000,
      healthy: false, queued: 1, commits: 7, failed_batches: 3 },
    emergency: { on: true, switches: [{ scope: 'all', message: 'm', set_by: 'unix:root', set_at: 1 }] },
    appeals: { pending: 3, sanctions_pending: 2 },
    reports: { pending: 1, delivered: 7, failed: 2, acknowledged: 4 },
  });
  assert.equal(m.online_accounts, 120);
  assert.equal(m.online_sessions, 150);
  assert.equal(m.groups_closed, 3);
  assert.equal(m.identity_queue, 5);
  assert.equal(m.complaints_open, 9);
  assert.equal(m.complaints_overdue, 2);
  assert.equal(m.appeals_open, 5, 'credit and sanction appeals together');
  assert.equal(m.log_healthy, false);
  assert.equal(m.log_failed_batches, 3);
  assert.equal(m.log_checkpoint_size, 8990);
  assert.equal(m.log_unsigned, 10);
  assert.deepEqual(m.outbox, { pending: 1, delivered: 7, failed: 2, acknowledged: 4 });
  assert.equal(m.emergency.length, 1);
  assert.deepEqual(m.alerts, ['log', 'overdue', 'reports_failed', 'emergency']);
});

test('dashboard model of an empty or odd status', () => {
  for (const s of [null, {}, { log: 'x', reports: [], complaints: { open: '3' } }]) {
    const m = dashboardModel(s);
    assert.equal(m.complaints_open, null);
    assert.equal(m.log_healthy, null);
    assert.deepEqual(m.alerts, []);
    assert.deepEqual(m.emergency, []);
  }
});
