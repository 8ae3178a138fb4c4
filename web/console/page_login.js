// page_login.js - the login form (POST /api/login). Errors: a wrong name or
// password (401 bad-login) and throttling (429) each get their own sentence.

import { h } from './dom.js';
import { t } from './i18n.js';
import { answerBox, field } from './ui.js';

export function render(ctx, root) {
  const name = h('input', { testid: 'login-name', type: 'text', autocomplete: 'username', required: true, maxlength: 32, autofocus: true });
  const password = h('input', { testid: 'login-password', type: 'password', autocomplete: 'current-password', required: true, maxlength: 512 });
  const submit = h('button', { testid: 'login-submit', type: 'submit', text: t('login.submit') });
  const box = answerBox('login-answer');
  const form = h('form', {
    class: 'card login', testid: 'login-form',
    onsubmit: async (e) => {
      e.preventDefault();
      box.clear();
      if (!name.value.trim() || !password.value) {
        box.error({ key: 'login.need_both', code: 'form' });
        return;
      }
      submit.disabled = true;
      const r = await ctx.api.login(name.value.trim(), password.value);
      submit.disabled = false;
      password.value = '';
      if (!r.ok) {
        box.error(r.status === 401 && r.code !== 'csrf' ? { ...r, code: 'bad-login' } : r);
        box.firstChild && box.firstChild.setAttribute('data-testid', 'login-error');
        return;
      }
      ctx.loggedIn(r.result);
    },
  },
  h('h1', { text: t('login.title') }),
  field('login.name', name),
  field('login.password', password),
  submit, box);
  root.appendChild(form);
}
