// ui-auth.js - the log-in, registration and phone-code forms.
//
// What it owns: the three forms of #auth-view and their status lines.
// Log-in opens a connection that authenticates with SASL PLAIN before
// connection registration ends; registration opens one without SASL and
// sends REGISTER <account> <phone> <password> once connected (this works
// whether or not the server allows REGISTER before connecting), then
// VERIFY <account> <code> on the same connection.
//
// Invariants: password fields are cleared as soon as their value has been
// handed to the client; a form answer is shown in its own role=alert line.
//
// Threads: browser main thread.

import { t } from './i18n.js';
import { $, describeReply } from './ui-dom.js';

export function initAuth(client, app) {
  const loginForm = $('login-form');
  const regForm = $('register-form');
  const verifyForm = $('verify-form');
  const loginStatus = $('login-status');
  const regStatus = $('register-status');
  const verifyStatus = $('verify-status');
  let verifyAccount = null;
  let lastStatusKey = null;

  const say = (node, text, isError = false) => {
    node.textContent = text;
    node.classList.toggle('error', isError);
  };

  loginForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const account = $('login-account').value.trim();
    const password = $('login-password').value;
    if (!account || !password) return;
    $('login-password').value = '';
    say(loginStatus, t('login.working'));
    lastStatusKey = 'login';
    client.connect({ mode: 'login', account, password });
  });

  regForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const account = $('register-account').value.trim();
    const password = $('register-password').value;
    const phone = $('register-phone').value.replace(/[\s-]/g, '');
    if (!account || !password) return;
    if (/[\r\n\0]/.test(password) || /\s/.test(account)) {
      say(regStatus, t('code.BAD_ACCOUNT_NAME'), true);
      return;
    }
    $('register-password').value = '';
    say(regStatus, t('register.working'));
    lastStatusKey = 'register';
    verifyForm.hidden = true;
    if (client.state === 'registered' && !client.account && client.mode === 'register') {
      client.pendingVerifyAccount = account;
      client.register(account, phone, password); // same connection, second try
    } else {
      client.connect({ mode: 'register', account, password, phone });
    }
  });

  verifyForm.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const code = $('verify-code').value.trim();
    if (!/^\d{6}$/.test(code) || !verifyAccount) return;
    say(verifyStatus, '');
    client.verify(verifyAccount, code);
  });

  client.addEventListener('register', ({ detail: d }) => {
    if (d.code === 'VERIFICATION_REQUIRED') {
      verifyAccount = d.account;
      say(regStatus, t('register.code_sent', { account: d.account }));
      verifyForm.hidden = false;
      $('verify-code').focus();
    } else if (d.code === 'SUCCESS') {
      say(regStatus, t('register.done', { account: d.account }));
    }
  });

  client.addEventListener('verify', ({ detail: d }) => {
    if (d.code === 'SUCCESS') {
      say(verifyStatus, t('verify.done'));
      app.afterVerify = true;
    }
  });

  client.addEventListener('reply', ({ detail: r }) => {
    if (r.kind !== 'FAIL' && r.kind !== 'WARN') return;
    if (r.command === 'REGISTER') say(regStatus, describeReply(r), true);
    else if (r.command === 'VERIFY') say(verifyStatus, describeReply(r), true);
  });

  client.addEventListener('login-failed', ({ detail: d }) => {
    const base = d.numeric === 'nocap' ? t('login.nosasl') : t('login.failed');
    say(loginStatus, d.text && d.numeric !== 'nocap' ? `${base} (${d.text})` : base, true);
  });

  client.addEventListener('status', ({ detail: d }) => {
    if (d.state === 'offline' && d.was && d.was !== 'offline' && !app.chatShown) {
      const node = lastStatusKey === 'register' ? regStatus : loginStatus;
      if (!node.textContent || node.textContent === t('login.working') || node.textContent === t('register.working')) {
        say(node, t('status.lost') + (d.reason ? ` ${d.reason}` : ''), true);
      }
      verifyForm.hidden = true;
    }
  });

  return {
    reset() {
      for (const n of [loginStatus, regStatus, verifyStatus]) say(n, '');
      verifyForm.hidden = true;
      verifyAccount = null;
    },
  };
}
