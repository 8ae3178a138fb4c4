// router.js - hash routes of the console: "#/<page>[/<param>][?k=v&...]".
//
// parseHash is pure (tested by tests/web/test_console_router.mjs). A
// parameter is percent-decoded; a malformed one gives the page without it.

export const ROUTES = Object.freeze([
  'login', 'dashboard', 'identity', 'complaints', 'appeals', 'user', 'group', 'log',
  'reports', 'audit',
]);

export function parseHash(hash) {
  let h = typeof hash === 'string' ? hash : '';
  if (h.startsWith('#')) h = h.slice(1);
  if (h.startsWith('/')) h = h.slice(1);
  const q = h.indexOf('?');
  const query = {};
  if (q >= 0) {
    for (const [k, v] of new URLSearchParams(h.slice(q + 1))) query[k] = v;
    h = h.slice(0, q);
  }
  const slash = h.indexOf('/');
  const page = slash >= 0 ? h.slice(0, slash) : h;
  const rest = slash >= 0 ? h.slice(slash + 1) : '';
  if (!ROUTES.includes(page)) return { page: 'dashboard', param: null, query: {} };
  let param = null;
  if (rest !== '') {
    try {
      param = decodeURIComponent(rest);
    } catch {
      param = null;
    }
  }
  return { page, param, query };
}

export function hrefFor(page, param, query) {
  let s = param === undefined || param === null || param === ''
    ? `#/${page}` : `#/${page}/${encodeURIComponent(String(param))}`;
  if (query) {
    const p = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') p.set(k, String(v));
    if (p.toString()) s += `?${p.toString()}`;
  }
  return s;
}
