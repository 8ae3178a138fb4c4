// ui-report.js - the "report a message" dialog.
//
// What it owns: #report-dialog: the quoted message, the category select
// (the server's categories from "/msg ReportServ CATEGORIES", asked once per
// connection; the documented defaults until the answer comes), the text,
// and the result line: "Complaint <id> filed" from NOTE REPORT FILED <id>,
// or the FAIL REPORT sentence. Sends REPORT msgid=<id> <category> :<text>.
//
// Invariants: one report in flight at a time (the submit button is
// disabled until the server answers); the dialog never closes by itself on
// a failure, so the user sees why.
//
// Threads: browser main thread.

import { onLangChange, t, has } from './i18n.js';
import { $, describeReply, el } from './ui-dom.js';

export const DEFAULT_CATEGORIES = ['illegal', 'pornography', 'fraud', 'spam', 'harassment', 'rumor', 'other'];

export function initReport(client, app) {
  const dialog = $('report-dialog');
  const form = $('report-form');
  const select = $('report-category');
  const textArea = $('report-text');
  const result = $('report-result');
  const submit = form.querySelector('[data-testid="report-submit"]');
  let categories = DEFAULT_CATEGORIES;
  let asked = false;
  let target = null;
  let inFlight = false;

  function renderCategories() {
    const keep = select.value;
    select.replaceChildren(...categories.map((c) =>
      el('option', { value: c }, has(`cat.${c}`) ? t(`cat.${c}`) : c)));
    if (categories.includes(keep)) select.value = keep;
  }

  function setResult(text, isError) {
    result.textContent = text;
    result.classList.toggle('error', !!isError);
  }

  client.addEventListener('service', ({ detail: d }) => {
    if (d.service !== 'ReportServ') return;
    const m = /^Categories:\s*(.+)$/.exec(d.text || '');
    if (m) {
      const got = m[1].split(/\s+/).filter((w) => /^[A-Za-z0-9_-]+$/.test(w));
      if (got.length) {
        categories = got;
        renderCategories();
      }
    }
  });

  client.addEventListener('reply', ({ detail: r }) => {
    if (r.command !== 'REPORT') return;
    if (r.kind === 'NOTE' && r.code === 'FILED') {
      inFlight = false;
      submit.disabled = false;
      const id = r.context[0] || '?';
      setResult(t('report.filed', { id }), false);
      app.notify(t('report.filed', { id }));
    } else if (r.kind === 'FAIL') {
      inFlight = false;
      submit.disabled = false;
      setResult(describeReply(r), true);
    }
  });

  client.addEventListener('status', ({ detail }) => {
    if (detail.state === 'offline') asked = false;
  });

  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = textArea.value.trim();
    if (!target || !text || inFlight) return;
    inFlight = true;
    submit.disabled = true;
    setResult('…', false);
    if (!client.report(target.msgid, select.value, text)) {
      inFlight = false;
      submit.disabled = false;
      setResult(t('status.offline'), true);
    }
  });

  $('report-cancel').addEventListener('click', () => dialog.close());

  onLangChange(renderCategories);
  renderCategories();

  return {
    open(channel, message) {
      if (!message.msgid) return;
      target = message;
      if (!asked) {
        asked = true;
        client.service('ReportServ', 'CATEGORIES');
      }
      $('report-quote').textContent = t('report.quoted', { nick: message.nick, text: message.text });
      textArea.value = '';
      setResult('', false);
      inFlight = false;
      submit.disabled = false;
      if (typeof dialog.showModal === 'function') dialog.showModal();
      else dialog.setAttribute('open', '');
      select.focus();
    },
  };
}
