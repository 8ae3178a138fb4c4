// api.js - the console's only way to the server: the JSON API of the
// console listener (POST /api/login, GET /api/session, POST /api/logout,
// POST /api/ctl/<command>, GET /api/export).
//
// createApi takes the fetch function (the browser's, or a fake in
// tests/web/test_console_api.mjs) and keeps the session's CSRF token in
// memory only (never in storage: a reload asks GET /api/session again).
// Every call resolves, never rejects: { ok: true, status, result } or
// { ok: false, status, code, message } where code is the server's error
// code, or one of ours: "network" (no answer), "bad-answer" (not JSON),
// "throttled" (429 without a code), "unauthorized" (401 without a code).

export const COMMAND_RE = /^[a-z][a-z0-9_-]*(\.[a-z][a-z0-9_-]*)*$/;

// The error of a non-2xx answer from its status and parsed body (or null).
export function errorFromAnswer(status, body) {
  const e = body && typeof body === 'object' && body.error && typeof body.error === 'object'
    ? body.error : null;
  let code = e && typeof e.code === 'string' ? e.code : null;
  if (!code) {
    if (status === 401) code = 'unauthorized';
    else if (status === 403) code = 'forbidden';
    else if (status === 404) code = 'not-found';
    else if (status === 429) code = 'throttled';
    else code = `http-${status}`;
  }
  const message = e && typeof e.message === 'string' ? e.message : '';
  return { ok: false, status, code, message };
}

// Query string of GET /api/export from the form's fields; empty fields are
// left out. Mirrors `qunctl export`: a case reference and a group or an
// account are required. Returns { url } or { error: <dictionary key> }.
export function buildExportUrl(fields) {
  const f = fields || {};
  const keys = ['group', 'account', 'from', 'to', 'case'];
  const p = new URLSearchParams();
  for (const k of keys) {
    const v = typeof f[k] === 'string' ? f[k].trim() : f[k] == null ? '' : String(f[k]);
    if (v !== '') p.set(k, v);
  }
  if (!p.get('case')) return { error: 'export.need_case' };
  if (!p.get('group') && !p.get('account')) return { error: 'export.need_subject' };
  const g = p.get('group');
  if (g && !/^[0-9]{1,18}$/.test(g)) return { error: 'export.bad_group' };
  return { url: `/api/export?${p.toString()}` };
}

export function createApi(fetchFn, hooks = {}) {
  let csrf = null;
  const onUnauthorized = typeof hooks.onUnauthorized === 'function' ? hooks.onUnauthorized : null;

  async function call(method, path, body, opts = {}) {
    const headers = { Accept: 'application/json' };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (opts.csrf && csrf) headers['X-CSRF-Token'] = csrf;
    let res;
    try {
      res = await fetchFn(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: 'same-origin',
        cache: 'no-store',
      });
    } catch (err) {
      return { ok: false, status: 0, code: 'network', message: String(err && err.message || err) };
    }
    let parsed = null;
    let text = '';
    try {
      text = await res.text();
      parsed = text === '' ? null : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (res.status >= 200 && res.status < 300) {
      if (parsed === undefined) {
        return { ok: false, status: res.status, code: 'bad-answer', message: '' };
      }
      return { ok: true, status: res.status, result: parsed };
    }
    const err = errorFromAnswer(res.status, parsed === undefined ? null : parsed);
    if (res.status === 401 && opts.notify401 !== false && onUnauthorized) onUnauthorized(err);
    return err;
  }

  function keep(r) {
    if (r.ok && r.result && typeof r.result.csrf === 'string') csrf = r.result.csrf;
    return r;
  }

  return {
    csrfToken: () => csrf,
    async login(name, password) {
      return keep(await call('POST', '/api/login', { name, password }, { notify401: false }));
    },
    async session() {
      return keep(await call('GET', '/api/session', undefined, { notify401: false }));
    },
    async logout() {
      const r = await call('POST', '/api/logout', {}, { csrf: true, notify401: false });
      csrf = null;
      return r;
    },
    // Runs a control command: resolves { ok, result } with the command's
    // result (the body's "result" member) or the error.
    async ctl(cmd, args = {}) {
      if (typeof cmd !== 'string' || !COMMAND_RE.test(cmd)) {
        return { ok: false, status: 0, code: 'bad-command', message: String(cmd) };
      }
      const r = await call('POST', `/api/ctl/${cmd}`, args || {}, { csrf: true });
      if (!r.ok) return r;
      const body = r.result;
      if (!body || typeof body !== 'object' || !('result' in body)) {
        return { ok: false, status: r.status, code: 'bad-answer', message: '' };
      }
      return { ok: true, status: r.status, result: body.result };
    },
  };
}
