// web/console/api.js against a fake fetch: paths, methods, the CSRF header,
// the answer shapes, and every kind of failure (401, 403 forbidden/csrf,
// 429, not JSON, no answer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createApi, errorFromAnswer, buildExportUrl } from '../../web/console/api.js';

function fakeFetch(answers) {
  const calls = [];
  const fn = async (path, init) => {
    calls.push({ path, init, body: init.body === undefined ? undefined : JSON.parse(init.body) });
    const a = answers.shift();
    if (a instanceof Error) throw a;
    return { status: a.status, text: async () => (typeof a.body === 'string' ? a.body : JSON.stringify(a.body)) };
  };
  fn.calls = calls;
  return fn;
}

test('login keeps the CSRF token and ctl sends it', async () => {
  const f = fakeFetch([
    { status: 200, body: { operator: 'alice', role: 'moderator', csrf: 'c0ffee' } },
    { status: 200, body: { result: [{ request: 3, account: 'xm' }] } },
  ]);
  const api = createApi(f);
  const r = await api.login('alice', 'pw-pw-pw-pw-pw');
  assert.equal(r.ok, true);
  assert.equal(r.result.role, 'moderator');
  assert.equal(api.csrfToken(), 'c0ffee');
  assert.equal(f.calls[0].path, '/api/login');
  assert.equal(f.calls[0].init.method, 'POST');
  assert.deepEqual(f.calls[0].body, { name: 'alice', password: 'pw-pw-pw-pw-pw' });
  assert.equal(f.calls[0].init.headers['X-CSRF-Token'], undefined);
  const q = await api.ctl('identity.queue');
  assert.deepEqual(q, { ok: true, status: 200, result: [{ request: 3, account: 'xm' }] });
  assert.equal(f.calls[1].path, '/api/ctl/identity.queue');
  assert.equal(f.calls[1].init.method, 'POST');
  assert.equal(f.calls[1].init.headers['X-CSRF-Token'], 'c0ffee');
  assert.equal(f.calls[1].init.headers['Content-Type'], 'application/json');
  assert.deepEqual(f.calls[1].body, {});
  assert.equal(f.calls[1].init.credentials, 'same-origin');
});

test('session restores the token; logout sends it and forgets it', async () => {
  const f = fakeFetch([
    { status: 200, body: { operator: 'bob', role: 'auditor', csrf: 'abc' } },
    { status: 200, body: {} },
  ]);
  const api = createApi(f);
  assert.equal((await api.session()).ok, true);
  assert.equal(f.calls[0].init.method, 'GET');
  assert.equal(f.calls[0].path, '/api/session');
  await api.logout();
  assert.equal(f.calls[1].path, '/api/logout');
  assert.equal(f.calls[1].init.headers['X-CSRF-Token'], 'abc');
  assert.equal(api.csrfToken(), null);
});

test('bad login, throttling, forbidden, csrf, conflicts', async () => {
  const f = fakeFetch([
    { status: 401, body: { error: { code: 'bad-login', message: 'unknown operator or wrong password' } } },
    { status: 429, body: '' },
    { status: 403, body: { error: { code: 'forbidden', message: 'moderators only' } } },
    { status: 403, body: { error: { code: 'csrf', message: 'missing token' } } },
    { status: 409, body: { error: { code: 'conflict', message: 'cannot be retried' } } },
    { status: 400, body: { error: { code: 'bad-request', message: 'uphold needs --severity' } } },
  ]);
  const api = createApi(f);
  const a = await api.login('x', 'y');
  assert.deepEqual(a, { ok: false, status: 401, code: 'bad-login', message: 'unknown operator or wrong password' });
  assert.equal((await api.login('x', 'y')).code, 'throttled');
  assert.deepEqual(await api.ctl('credit.adjust', { name: 'a' }),
    { ok: false, status: 403, code: 'forbidden', message: 'moderators only' });
  assert.equal((await api.ctl('status')).code, 'csrf');
  assert.equal((await api.ctl('reports.retry', { id: 1 })).code, 'conflict');
  const b = await api.ctl('complaints.decide', { id: 1, decision: 'uphold' });
  assert.equal(b.code, 'bad-request');
  assert.equal(b.status, 400);
});

test('401 on a command calls onUnauthorized; login and session do not', async () => {
  let n = 0;
  const f = fakeFetch([{ status: 401, body: '' }, { status: 401, body: '' }, { status: 401, body: { error: { code: 'bad-login' } } }]);
  const api = createApi(f, { onUnauthorized: () => n++ });
  const r = await api.ctl('status');
  assert.equal(r.code, 'unauthorized');
  assert.equal(n, 1);
  await api.session();
  await api.login('a', 'b');
  assert.equal(n, 1);
});

test('no answer, not JSON, no result member, bad command names', async () => {
  const f = fakeFetch([new TypeError('Failed to fetch'), { status: 200, body: '<html>' }, { status: 200, body: { ok: true } }]);
  const api = createApi(f);
  assert.equal((await api.ctl('status')).code, 'network');
  assert.equal((await api.ctl('status')).code, 'bad-answer');
  assert.equal((await api.ctl('status')).code, 'bad-answer');
  for (const bad of ['', '../login', 'a/b', 'Status', 'x..y', 'status?x=1', null]) {
    assert.equal((await api.ctl(bad)).code, 'bad-command', String(bad));
  }
  assert.equal(f.calls.length, 3);
});

test('errorFromAnswer without a body', () => {
  assert.equal(errorFromAnswer(403, null).code, 'forbidden');
  assert.equal(errorFromAnswer(404, null).code, 'not-found');
  assert.equal(errorFromAnswer(500, null).code, 'http-500');
  assert.equal(errorFromAnswer(500, { error: 'x' }).code, 'http-500');
  assert.equal(errorFromAnswer(400, { error: { code: 7 } }).code, 'http-400');
});

test('export URL: required fields, encoding, empty fields left out', () => {
  assert.deepEqual(buildExportUrl({ group: '10001', case: 'PSB-2026-0042' }), { url: '/api/export?group=10001&case=PSB-2026-0042' });
  assert.deepEqual(buildExportUrl({ account: '小明 &x', from: '2026-11-01 08:00', to: '', case: 'c/1' }),
    { url: '/api/export?account=%E5%B0%8F%E6%98%8E+%26x&from=2026-11-01+08%3A00&case=c%2F1' });
  assert.equal(buildExportUrl({ group: '10001' }).error, 'export.need_case');
  assert.equal(buildExportUrl({ case: 'x' }).error, 'export.need_subject');
  assert.equal(buildExportUrl({ group: '#g', case: 'x' }).error, 'export.bad_group');
  assert.equal(buildExportUrl(null).error, 'export.need_case');
  assert.equal(buildExportUrl({ group: ' 10001 ', case: ' k ' }).url, '/api/export?group=10001&case=k');
});
