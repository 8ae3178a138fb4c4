// app.js - the console's entry point: the session, the header (navigation
// by role, operator and role, language switch, logout) and the hash router.
//
// State: the session ({operator, role, csrf}) lives in memory; a reload
// asks GET /api/session. A 401 on any call (session ended: idle, lifetime,
// operator disabled) returns to the login page with a sentence.

import { createApi } from './api.js';
import { h, clear } from './dom.js';
import { t, setLanguage, language, pickLanguage, STORAGE_KEY, LANGUAGES } from './i18n.js';
import { can, pagesFor } from './roles.js';
import { parseHash, hrefFor } from './router.js';
import * as login from './page_login.js';
import * as dashboard from './page_dashboard.js';
import * as identity from './page_identity.js';
import * as complaints from './page_complaints.js';
import * as appeals from './page_appeals.js';
import * as user from './page_user.js';
import * as group from './page_group.js';
import * as log from './page_log.js';
import * as reports from './page_reports.js';
import * as audit from './page_audit.js';

const PAGES = { dashboard, identity, complaints, appeals, user, group, log, reports, audit };

let session = null; // { operator, role, csrf }
let notice = null;  // a sentence for the login page (session ended)
let renderSeq = 0;

function storedLanguage() {
  try { return localStorage.getItem(STORAGE_KEY); } catch { return null; }
}

const api = createApi((...a) => fetch(...a), {
  onUnauthorized: () => {
    if (!session) return;
    session = null;
    notice = 'err.session_ended';
    location.hash = hrefFor('login');
    route();
  },
});

const ctx = {
  api,
  get role() { return session ? session.role : null; },
  get operator() { return session ? session.operator : null; },
  can: (cmd) => !!session && can(session.role, cmd),
  navigate: (href) => {
    if (location.hash === href) route();
    else location.hash = href;
  },
  loggedIn: (s) => {
    session = { operator: s.operator, role: s.role };
    notice = null;
    ctx.navigate(hrefFor('dashboard'));
  },
};

function header() {
  const bar = clear(document.getElementById('bar'));
  document.documentElement.lang = language() === 'zh' ? 'zh-CN' : 'en';
  document.title = t('app.title');
  const other = LANGUAGES.find((l) => l !== language());
  const langButton = h('button', { testid: 'lang-switch', type: 'button', class: 'link', 'data-lang': other,
    text: t(`lang.${other}`), onclick: () => {
      setLanguage(other);
      try { localStorage.setItem(STORAGE_KEY, other); } catch { /* private mode */ }
      route();
    } });
  bar.appendChild(h('span', { class: 'brand', text: t('app.title') }));
  if (session) {
    const current = parseHash(location.hash).page;
    bar.appendChild(h('nav', { testid: 'nav' }, pagesFor(session.role).map((p) =>
      h('a', { testid: `nav-${p}`, href: hrefFor(p), class: p === current ? 'current' : null, text: t(`nav.${p}`) }))));
    bar.appendChild(h('span', { class: 'who', testid: 'whoami', 'data-role': session.role },
      `${session.operator} · ${t(`role.${session.role}`)}`));
    bar.appendChild(h('button', { testid: 'nav-logout', type: 'button', class: 'link', text: t('nav.logout'), onclick: async () => {
      await api.logout();
      session = null;
      ctx.navigate(hrefFor('login'));
    } }));
  }
  bar.appendChild(langButton);
}

async function route() {
  const seq = ++renderSeq;
  const r = parseHash(location.hash);
  const view = clear(document.getElementById('view'));
  header();
  if (!session) {
    if (notice) view.appendChild(h('p', { class: 'answer error', testid: 'session-notice', text: t(notice) }));
    login.render(ctx, view);
    return;
  }
  if (r.page === 'login') {
    ctx.navigate(hrefFor('dashboard'));
    return;
  }
  const allowed = pagesFor(session.role);
  const page = PAGES[r.page] ? r.page : 'dashboard';
  const root = h('div', { class: 'page', testid: `page-${page}` });
  view.appendChild(root);
  if (!allowed.includes(page)) {
    root.appendChild(h('p', { class: 'answer error', testid: 'page-forbidden', text: t('err.page_role', { role: t(`role.${session.role}`) }) }));
    return;
  }
  try {
    await PAGES[page].render(ctx, root, r);
  } catch (err) {
    if (seq === renderSeq) root.appendChild(h('p', { class: 'answer error', text: `${t('err.page')}: ${err && err.message || err}` }));
  }
}

async function start() {
  setLanguage(pickLanguage(storedLanguage(), navigator.languages || [navigator.language]));
  const r = await api.session();
  if (r.ok && r.result && r.result.role) session = { operator: r.result.operator, role: r.result.role };
  window.addEventListener('hashchange', route);
  route();
}

start();
