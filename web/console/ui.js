// ui.js - widgets the pages share: the answer box (success or error, with
// the server's code), the confirmation dialog, tables, labelled fields, and
// runAction, the one path every action button takes (form check, optional
// confirmation, POST /api/ctl/<command>, answer shown).

import { h, clear } from './dom.js';
import { t } from './i18n.js';
import { errorSentence, cellText, formatTime } from './format.js';

// An answer box: .ok(text) / .error(err) / .clear(). data-testid
// "action-result" on success, "action-error" on failure, with data-code.
export function answerBox(testid = 'answer') {
  const el = h('div', { class: 'answer', testid, role: 'status', 'aria-live': 'polite' });
  el.ok = (text) => {
    clear(el);
    el.className = 'answer ok';
    el.appendChild(h('span', { testid: 'action-result', text }));
  };
  el.error = (err, role) => {
    clear(el);
    el.className = 'answer error';
    el.appendChild(h('span', {
      testid: 'action-error', 'data-code': err && err.code || '', 'data-status': err && err.status || '',
      text: err && err.key ? t(err.key) : errorSentence(err, t, role),
    }));
  };
  el.clear = () => {
    clear(el);
    el.className = 'answer';
  };
  return el;
}

// Asks for a confirmation in the page's <dialog>; resolves true or false.
export function confirmDialog(text) {
  const dlg = document.getElementById('confirm');
  if (!dlg || typeof dlg.showModal !== 'function') return Promise.resolve(window.confirm(text));
  document.getElementById('confirm-text').textContent = text;
  const ok = document.getElementById('confirm-ok');
  const cancel = document.getElementById('confirm-cancel');
  ok.textContent = t('common.confirm');
  cancel.textContent = t('common.cancel');
  return new Promise((resolve) => {
    const done = (v) => {
      ok.removeEventListener('click', onOk);
      cancel.removeEventListener('click', onCancel);
      dlg.removeEventListener('cancel', onCancel);
      if (dlg.open) dlg.close();
      resolve(v);
    };
    const onOk = (e) => { e.preventDefault(); done(true); };
    const onCancel = (e) => { e.preventDefault(); done(false); };
    ok.addEventListener('click', onOk);
    cancel.addEventListener('click', onCancel);
    dlg.addEventListener('cancel', onCancel);
    dlg.showModal();
  });
}

// Runs a command for an action button.
//   built: { args } or { error } from forms.js
//   opts.confirm: text of the confirmation (none: no dialog)
//   opts.done(result): after success (e.g. reload the page's data)
//   opts.okText(result): the success sentence
export async function runAction(ctx, box, cmd, built, opts = {}) {
  box.clear();
  if (built.error) {
    box.error({ key: built.error, code: 'form' });
    return null;
  }
  if (opts.confirm && !(await confirmDialog(opts.confirm))) return null;
  const r = await ctx.api.ctl(cmd, built.args);
  if (!r.ok) {
    box.error(r, ctx.role);
    return null;
  }
  box.ok(opts.okText ? opts.okText(r.result) : t('ok.done', { cmd }));
  if (opts.done) await opts.done(r.result);
  return r.result;
}

// Loads a command's result into a section: shows "loading", then calls
// render(result) or shows the error in place.
export async function load(ctx, into, cmd, args, render) {
  clear(into).appendChild(h('p', { class: 'muted', text: t('common.loading') }));
  const r = await ctx.api.ctl(cmd, args || {});
  clear(into);
  if (!r.ok) {
    const box = answerBox(`${cmd}-error`);
    box.error(r, ctx.role);
    into.appendChild(box);
    return null;
  }
  const out = render(r.result);
  if (out) into.appendChild(out);
  return r.result;
}

// columns: [{ key, label (dictionary key), render?(row) -> node|string, time? }]
export function table(testid, columns, rows, rowAttrs) {
  if (!Array.isArray(rows) || rows.length === 0) {
    return h('p', { class: 'muted', testid: `${testid}-empty`, text: t('common.none') });
  }
  return h('table', { testid, class: 'grid' },
    h('thead', {}, h('tr', {}, columns.map((c) => h('th', { text: t(c.label) })))),
    h('tbody', {}, rows.map((row) => h('tr', rowAttrs ? rowAttrs(row) : {},
      columns.map((c) => h('td', { 'data-col': c.key },
        c.render ? c.render(row) : c.time ? formatTime(row[c.key]) : cellText(row[c.key])))))));
}

// A key/value list of an object's members (labels from the dictionary when
// known, else the member name).
export function facts(testid, obj, keys) {
  const names = keys || Object.keys(obj || {});
  return h('dl', { class: 'facts', testid },
    names.filter((k) => obj && k in obj).map((k) => [
      h('dt', { text: t(`field.${k}`) === `field.${k}` ? k : t(`field.${k}`) }),
      h('dd', { 'data-field': k, text: /(_at|^at|created|delivered|acknowledged|deadline)$/.test(k) ? formatTime(obj[k]) : cellText(obj[k]) }),
    ]));
}

export function field(label, input) {
  return h('label', { class: 'field' }, h('span', { text: t(label) }), input);
}

export function input(testid, attrs = {}) {
  return h('input', { testid, type: 'text', ...attrs });
}

export function select(testid, values, labelPrefix, opts = {}) {
  const el = h('select', { testid });
  if (opts.empty !== false) el.appendChild(h('option', { value: '', text: t(opts.emptyLabel || 'common.any') }));
  for (const v of values) el.appendChild(h('option', { value: v, text: labelPrefix ? t(`${labelPrefix}.${v}`) : v }));
  if (opts.value !== undefined) el.value = opts.value;
  return el;
}

export function section(titleKey, ...body) {
  return h('section', { class: 'card' }, h('h2', { text: t(titleKey) }), ...body);
}
