// The console's pages rendered in a tiny fake DOM (lib/fakedom.mjs) with a
// fake API: the data-testid controls a browser test drives exist, buttons
// follow the role, and each action sends the right command and args; the
// server's refusals (401, 403, 429) are shown.
import { test, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { installDom, settle } from './lib/fakedom.mjs';

installDom();
globalThis.window = { confirm: () => true };
const { setLanguage } = await import('../../web/console/i18n.js');
const { can } = await import('../../web/console/roles.js');
const { h } = await import('../../web/console/dom.js');
const pages = {
  login: await import('../../web/console/page_login.js'),
  dashboard: await import('../../web/console/page_dashboard.js'),
  identity: await import('../../web/console/page_identity.js'),
  complaints: await import('../../web/console/page_complaints.js'),
  user: await import('../../web/console/page_user.js'),
  group: await import('../../web/console/page_group.js'),
  log: await import('../../web/console/page_log.js'),
  reports: await import('../../web/console/page_reports.js'),
  appeals: await import('../../web/console/page_appeals.js'),
};

beforeEach(() => setLanguage('en'));

function fakeApi(answers) {
  const calls = [];
  return {
    calls,
    async ctl(cmd, args) {
      calls.push({ cmd, args });
      const a = typeof answers[cmd] === 'function' ? answers[cmd](args) : answers[cmd];
      return a || { ok: false, status: 404, code: 'unknown-command', message: cmd };
    },
    async login(name, password) {
      calls.push({ cmd: 'login', args: { name, password } });
      return answers.login;
    },
  };
}

function makeCtx(role, answers) {
  const api = fakeApi(answers);
  const ctx = { api, role, operator: 'op', can: (c) => can(role, c), navigated: [], navigate: (x) => ctx.navigated.push(x) };
  return ctx;
}

async function show(page, ctx, route = {}) {
  const root = h('div', {});
  await pages[page].render(ctx, root, { page, param: null, query: {}, ...route });
  await settle();
  return root;
}

const ok = (result) => ({ ok: true, status: 200, result });
const $ = (root, sel) => root.querySelector(sel);

test('login: bad login and throttling are told apart; success hands over the session', async () => {
  for (const [answer, re] of [[{ ok: false, status: 401, code: 'bad-login', message: '' }, /Unknown operator or wrong password/],
    [{ ok: false, status: 429, code: 'throttled', message: '' }, /Too many failed logins/]]) {
    const ctx = makeCtx(null, { login: answer });
    const root = await show('login', ctx);
    $(root, '[data-testid=login-name]').value = 'alice';
    $(root, '[data-testid=login-password]').value = 'secret-secret';
    await $(root, '[data-testid=login-submit]').click();
    await settle();
    assert.deepEqual(ctx.api.calls, [{ cmd: 'login', args: { name: 'alice', password: 'secret-secret' } }]);
    assert.match($(root, '[data-testid=login-error]').textContent, re);
    assert.equal($(root, '[data-testid=login-password]').value, '');
  }
  const ctx = makeCtx(null, { login: ok({ operator: 'alice', role: 'auditor', csrf: 'x' }) });
  let got = null;
  ctx.loggedIn = (s) => { got = s; };
  const root = await show('login', ctx);
  await $(root, '[data-testid=login-submit]').click();
  assert.equal(ctx.api.calls.length, 0, 'empty fields are not sent');
  $(root, '[data-testid=login-name]').value = 'alice';
  $(root, '[data-testid=login-password]').value = 'secret-secret';
  await $(root, '[data-testid=login-submit]').click();
  await settle();
  assert.equal(got.role, 'auditor');
});

test('dashboard renders the status command (h_status)', async () => {
  const ctx = makeCtx('moderator', { status: ok({
    clients: { online: 16, registered: 15 }, accounts: { logged_in: 12 }, groups: { live: 4 },
    identity: { queue: 2 }, complaints: { open_group: 2, open_platform: 3, overdue: 1 },
    appeals: { pending: 3 }, emergency: { on: false, switches: [] },
    netlog: { last_seq: 99, durable_seq: 99, healthy: true, checkpoint_size: 90, checkpoint_at: 1764487520000 },
    reports: { pending: 0, delivered: 1, failed: 2, acknowledged: 0 } }) });
  const root = await show('dashboard', ctx);
  const val = (id) => $(root, `[data-testid=${id}]`).children[0].getAttribute('data-value');
  assert.equal(val('dash-online'), '12');
  assert.equal(val('dash-identity'), '2');
  assert.equal(val('dash-overdue'), '1');
  assert.equal(val('dash-appeals'), '3');
  assert.equal(val('dash-reports-failed'), '2');
  assert.equal($(root, '[data-testid=dash-log] [data-field=last_seq]').textContent, '99');
  assert.equal($(root, '[data-testid=dash-log] [data-field=healthy]').textContent, 'healthy');
  assert.ok($(root, '[data-alert=overdue]'));
});

test('dashboard shows an unknown command (status not implemented yet) as an error', async () => {
  const root = await show('dashboard', makeCtx('auditor', {}));
  assert.equal($(root, '[data-testid=action-error]').getAttribute('data-code'), 'unknown-command');
});

test('identity queue: approve and reject with a reason', async () => {
  const queue = [{ request: 12, account: 'xm', document_type: 'cn-id', submitted_at: 1764487528 },
    { request: 13, account: 'xh', document_type: 'passport', submitted_at: 1764487529 }];
  const ctx = makeCtx('moderator', {
    'identity.queue': ok(queue),
    'identity.approve': ok({ result: 'approved' }),
    'identity.reject': ok({ result: 'rejected' }),
  });
  const root = await show('identity', ctx);
  assert.equal(root.querySelectorAll('[data-testid=identity-row]').length, 2);
  const row = $(root, '[data-testid=identity-row][data-id="12"]');
  await $(row, '[data-testid=identity-approve]').click();
  await settle();
  assert.deepEqual(ctx.api.calls[1], { cmd: 'identity.approve', args: { request: 12 } });
  assert.match($(root, '[data-testid=action-result]').textContent, /12/);
  const row13 = $(root, '[data-testid=identity-row][data-id="13"]');
  await $(row13, '[data-testid=identity-reject]').click();
  await settle();
  assert.equal($(root, '[data-testid=action-error]').getAttribute('data-code'), 'form');
  const again = $(root, '[data-testid=identity-row][data-id="13"]');
  $(again, '[data-testid=identity-reason]').value = 'photo unreadable';
  await $(again, '[data-testid=identity-reject]').click();
  await settle();
  assert.deepEqual(ctx.api.calls.filter((c) => c.cmd === 'identity.reject'),
    [{ cmd: 'identity.reject', args: { request: 13, reason: 'photo unreadable' } }]);
});

test('identity queue: no buttons for a role that may not decide', async () => {
  const root = await show('identity', makeCtx('auditor', { 'identity.queue': ok([{ request: 1, account: 'a', document_type: 'x', submitted_at: 1 }]) }));
  assert.ok($(root, '[data-testid=identity-row]'));
  assert.equal($(root, '[data-testid=identity-approve]'), null);
});

test('complaints: list with filters, decide form, a 403 shown', async () => {
  const c = { id: 7, state: 'open', stage: 'platform', kind: 'message', target: 'msgid', category: 'spam', reporter: 'xm', filed_at: 1764487528, overdue: true, overdue_group: false };
  const ctx = makeCtx('moderator', {
    'complaints.list': ok([c]), 'complaints.show': ok(c),
    'complaints.decide': (args) => (args.decision === 'uphold' ? ok({ id: 7, state: 'upheld' })
      : { ok: false, status: 403, code: 'forbidden', message: 'moderators only' }),
  });
  const list = await show('complaints', ctx, { query: { state: 'open', stage: 'platform' } });
  assert.deepEqual(ctx.api.calls[0], { cmd: 'complaints.list', args: { state: 'open', stage: 'platform' } });
  const row = $(list, '[data-testid=complaint-row][data-id="7"]');
  assert.equal($(row, '[data-testid=complaint-open]').href, '#/complaints/7');
  assert.ok($(list, '[data-testid=complaints-filter-state]'));

  const root = await show('complaints', ctx, { param: '7' });
  assert.deepEqual(ctx.api.calls[1], { cmd: 'complaints.show', args: { id: 7 } });
  $(root, '[data-testid=decide-decision]').value = 'uphold';
  await $(root, '[data-testid=decide-submit]').click();
  await settle();
  assert.equal($(root, '[data-testid=action-error]').getAttribute('data-code'), 'form');
  $(root, '[data-testid=decide-severity]').value = 'serious';
  $(root, '[data-testid=decide-rule]').value = 'rule 7';
  $(root, '[data-testid=decide-note]').value = 'seen';
  await $(root, '[data-testid=decide-submit]').click();
  await settle();
  assert.deepEqual(ctx.api.calls.find((x) => x.cmd === 'complaints.decide').args,
    { id: 7, decision: 'uphold', severity: 'serious', rule: 'rule 7', note: 'seen' });

  const again = await show('complaints', ctx, { param: '7' });
  $(again, '[data-testid=decide-decision]').value = 'dismiss';
  await $(again, '[data-testid=decide-submit]').click();
  await settle();
  const err = $(again, '[data-testid=action-error]');
  assert.equal(err.getAttribute('data-code'), 'forbidden');
  assert.match(err.textContent, /403.*moderator/);
});

test('complaints: no decide form for auditors', async () => {
  const c = { id: 7, state: 'open', stage: 'platform' };
  const root = await show('complaints', makeCtx('auditor', { 'complaints.show': ok(c) }), { param: '7' });
  assert.ok($(root, '[data-testid=complaint-detail]'));
  assert.equal($(root, '[data-testid=decide-submit]'), null);
});

test('user page: sections and actions by role', async () => {
  const answers = {
    'accounts.show': ok({ name: 'xm', id: 3, level: 2, created_at: 1, suspended: false }),
    'credit.show': ok({ name: 'xm', score: 570, level: 'C' }), 'credit.ledger': ok([]),
    'sanctions.list': ok([{ id: 4, kind: 'post-suspended', subject: 'xm', reason: 'spam', author: 'unix:a', started_at: 1, ends_at: null }]),
    'groups.list': ok([{ code: 10001, name: '#g', owner: 'xm' }, { code: 10002, name: '#h', owner: 'other' }]),
    'appeals.list': ok([]), 'complaints.list': ok([]),
    'accounts.suspend': ok({ name: 'xm', suspended: true }),
  };
  const mod = makeCtx('moderator', answers);
  const root = await show('user', mod, { param: 'xm' });
  assert.ok($(root, '[data-testid=user-suspend]'));
  assert.ok($(root, '[data-testid=person-sanction]'));
  assert.ok($(root, '[data-testid=sanction-lift]'));
  assert.equal($(root, '[data-testid=credit-adjust]'), null, 'credit.adjust is for administrators');
  assert.equal($(root, '[data-testid=reveal-form]'), null);
  assert.equal(root.querySelectorAll('[data-testid=user-groups-table] tbody tr').length, 1);
  $(root, '[data-testid=user-suspend-reason]').value = 'fraud';
  await $(root, '[data-testid=user-suspend]').click();
  await settle();
  assert.deepEqual(mod.api.calls.find((c) => c.cmd === 'accounts.suspend').args, { name: 'xm', reason: 'fraud' });

  const admin = await show('user', makeCtx('administrator', answers), { param: 'xm' });
  assert.ok($(admin, '[data-testid=credit-adjust]'));
  const aud = makeCtx('auditor', answers);
  const a = await show('user', aud, { param: 'xm' });
  assert.equal($(a, '[data-testid=user-suspend]'), null);
  assert.equal($(a, '[data-testid=sanction-lift]'), null);
  assert.ok($(a, '[data-testid=reveal-form]'));
  assert.ok(!aud.api.calls.some((c) => c.cmd === 'accounts.show'), 'no accounts.show for auditors');
});

test('group page: state, sanctions and moderator actions', async () => {
  const state = { code: 10001, name: '#g', state: 'warned', violations: 3, blacklisted: false, sanctions: [] };
  const answers = {
    'groups.show': ok({ code: 10001, name: '#g', owner: 'xm', managers: ['a', 'b'], members: 120 }),
    'sanctions.state': ok(state), 'complaints.list': ok([]),
    'sanctions.close': ok({ ...state, state: 'closed' }),
  };
  const mod = makeCtx('moderator', answers);
  const root = await show('group', mod, { param: '#g' });
  assert.equal($(root, '[data-testid=group-state-value]').getAttribute('data-state'), 'warned');
  assert.match($(root, '[data-testid=group-roles]').textContent, /xm.*a, b/);
  assert.ok($(root, '[data-testid=group-violation]'));
  $(root, '[data-testid=close-reason]').value = 'gambling';
  await $(root, '[data-testid=group-close-submit]').click();
  await settle();
  assert.deepEqual(mod.api.calls.find((c) => c.cmd === 'sanctions.close').args, { group: '#g', reason: 'gambling' });
  assert.deepEqual(mod.api.calls.find((c) => c.cmd === 'complaints.list').args, { group: '10001', limit: 50 });
  const aud = await show('group', makeCtx('auditor', answers), { param: '10001' });
  assert.equal($(aud, '[data-testid=group-close]'), null);
  assert.ok($(aud, '[data-testid=group-state-value]'));
});

test('log page: search calls log.search; export builds the download link', async () => {
  const ctx = makeCtx('auditor', { 'log.search': ok({ events: [{ seq: 5, at: 1764487528462, kind: 'msg', actor: 'xm', target: '#g', code: 10001, body: 'hi' }], count: 1, limit: 100, truncated: false }) });
  const root = await show('log', ctx, { query: { group: '10001', text: 'hi', go: '1' } });
  assert.deepEqual(ctx.api.calls[0], { cmd: 'log.search', args: { group: '10001', text: 'hi' } });
  assert.ok($(root, '[data-testid=log-table-row][data-seq="5"]'));
  const link = $(root, '[data-testid=export-link]');
  assert.equal(link.hidden, true);
  await $(root, '[data-testid=export-build]').click();
  assert.equal(link.hidden, true);
  assert.equal($(root, '[data-testid=action-error]').getAttribute('data-code'), 'form');
  $(root, '[data-testid=export-group]').value = '10001';
  $(root, '[data-testid=export-from]').value = '2026-11-01';
  $(root, '[data-testid=export-case]').value = 'PSB-2026-0042';
  await $(root, '[data-testid=export-build]').click();
  assert.equal(link.hidden, false);
  assert.equal(link.href, '/api/export?group=10001&from=2026-11-01&case=PSB-2026-0042');
  const mod = await show('log', makeCtx('moderator', {}));
  assert.equal($(mod, '[data-testid=export-form]'), null);
});

test('reports: list by status, retry and ack confirmed and sent', async () => {
  const ctx = makeCtx('moderator', {
    'reports.list': ok([{ id: 7, kind: 'decision', status: 'failed', attempts: 8 }, { id: 8, kind: 'manual', status: 'acknowledged' }]),
    'reports.retry': ok({ id: 7, status: 'pending' }),
  });
  const root = await show('reports', ctx, { query: { status: 'failed' } });
  assert.deepEqual(ctx.api.calls[0], { cmd: 'reports.list', args: { status: 'failed' } });
  const row = $(root, '[data-testid=report-row][data-id="7"]');
  assert.ok($(row, '[data-testid=report-ack]'));
  assert.equal($(root, '[data-testid=report-row][data-id="8"] [data-testid=report-retry]'), null);
  await $(row, '[data-testid=report-retry]').click();
  await settle();
  assert.deepEqual(ctx.api.calls[1], { cmd: 'reports.retry', args: { id: 7 } });
  const aud = await show('reports', makeCtx('auditor', { 'reports.list': ok([{ id: 7, status: 'failed' }]) }));
  assert.equal($(aud, '[data-testid=report-retry]'), null);
});

test('appeals page: credit appeals, then appeals against sanctions decided with a note', async () => {
  const sapp = { id: 5, sanction: 9, account: 'xm', text: 'we removed the spam', filed_at: 1, state: 'open',
    kind: 'group-suspended', subject_id: 10001, sanction_reason: 'spam', sanction_author: 'unix:a' };
  const answers = {
    'appeals.list': ok([]),
    'sanctions.appeals': ok([sapp, { ...sapp, id: 4, state: 'rejected', decided_by: 'unix:b', note: 'no' }]),
    'sanctions.appeal.decide': ok({ result: 'Appeal 5 upheld: sanction 9 lifted.', appeal: 5, sanction: 9, lifted: true }),
  };
  const mod = makeCtx('moderator', answers);
  const root = await show('appeals', mod, { query: { state: 'all' } });
  assert.deepEqual(mod.api.calls.find((c) => c.cmd === 'sanctions.appeals').args, { state: 'all' });
  const rows = root.querySelectorAll('[data-testid=sappeal-row]');
  assert.equal(rows.length, 2);
  assert.equal(root.querySelectorAll('[data-testid=sappeal-uphold]').length, 1, 'only the open one has buttons');
  await $(root, '[data-testid=sappeal-uphold]').click();
  await settle();
  assert.equal(mod.api.calls.filter((c) => c.cmd === 'sanctions.appeal.decide').length, 0, 'no note, nothing sent');
  $(root, '[data-testid=sappeal-note]').value = 'the spam is gone';
  await $(root, '[data-testid=sappeal-uphold]').click();
  await settle();
  assert.deepEqual(mod.api.calls.find((c) => c.cmd === 'sanctions.appeal.decide').args,
    { id: 5, decision: 'upheld', note: 'the spam is gone' });
  assert.match($(root, '[data-testid=appeals-answer]').textContent, /sanction 9 lifted/);

  const aud = makeCtx('auditor', answers);
  const a = await show('appeals', aud);
  assert.equal($(a, '[data-testid=sappeals-list]'), null, 'auditors do not list sanction appeals');
  assert.ok(!aud.api.calls.some((c) => c.cmd === 'sanctions.appeals'));
});
