// ui-services.js - the service pane, the account panel (NickServ) and the
// credit panel (CreditServ).
//
// What it owns: #service-pane (every NOTICE/PRIVMSG not addressed to a
// group: NickServ, ChanServ, CreditServ, ReportServ, the server, other
// users; and every FAIL/WARN/NOTE), #account-panel (real-name form →
// "/msg NickServ IDENTITY <type> <number> <name>", STATUS, CONVENTION and
// ACCEPT <version>, NickServ's answers in #account-log) and #credit-panel
// ("/msg CreditServ INFO" and "LEDGER 20", the answers in #credit-lines, an
// Appeal button on each ledger event → "APPEAL <id> <text>"; APPEALS).
//
// Invariants: the convention version offered for acceptance is the one the
// server named ("ACCEPT <n>" in its own sentence), never a guess; each pane
// keeps at most 500 lines.
//
// Threads: browser main thread.

import { t } from './i18n.js';
import { $, describeReply, el, formatTime, trimList } from './ui-dom.js';

const LEDGER_LINE = /^#(\d+) ([+-]\d+) /;

export function initServices(client, app) {
  const pane = $('service-pane');
  const accountLog = $('account-log');
  const creditLines = $('credit-lines');
  const acceptBtn = $('convention-accept');
  let conventionVersion = null;

  function append(list, node) {
    list.querySelector(':scope > li.hint')?.remove();
    list.append(node);
    trimList(list, 500);
    list.scrollTop = list.scrollHeight;
  }

  function paneLine({ from, text, kind = 'notice', time = new Date(), service = null }) {
    append(pane, el('li', {
      class: `svc ${kind}`, dataset: { testid: 'service-message', service: service || from || '' },
    }, el('time', { datetime: time.toISOString() }, formatTime(time)), ' ',
    el('span', { class: 'nick' }, from || ''), ' ', el('span', { class: 'text' }, text)));
  }

  app.notify = (text, kind = 'info') => paneLine({ from: '·', text, kind });

  function offerConvention(text) {
    const m = /ACCEPT (\d+)/.exec(text || '');
    if (m) {
      conventionVersion = m[1];
      acceptBtn.textContent = t('convention.accept', { version: conventionVersion });
      acceptBtn.hidden = false;
    }
  }

  client.addEventListener('service', ({ detail: d }) => {
    paneLine(d);
    if (d.service === 'NickServ' && !d.self) {
      append(accountLog, el('li', { dataset: { testid: 'nickserv-line' } }, d.text));
      if (/You accepted the platform convention/.test(d.text)) acceptBtn.hidden = true;
      else offerConvention(d.text);
    }
    if (d.service === 'CreditServ' && !d.self) creditLine(d.text);
  });

  client.addEventListener('reply', ({ detail: r }) => {
    paneLine({ from: `${r.kind} ${r.command}`, text: describeReply(r), kind: r.kind.toLowerCase() });
    if (r.code === 'CONVENTION_REQUIRED') offerConvention(r.description);
  });

  // ---- account panel ----

  $('identity-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const type = $('identity-type').value;
    const number = $('identity-number').value.replace(/\s+/g, '');
    const name = $('identity-name').value.trim().replace(/\s+/g, ' ');
    if (!number || !name) return;
    client.service('NickServ', `IDENTITY ${type} ${number} ${name}`);
    $('identity-number').value = '';
  });
  $('ns-status').addEventListener('click', () => client.service('NickServ', 'STATUS'));
  $('convention-show').addEventListener('click', () => client.service('NickServ', 'CONVENTION'));
  acceptBtn.addEventListener('click', () => {
    if (conventionVersion) client.service('NickServ', `ACCEPT ${conventionVersion}`);
  });

  // ---- credit panel ----

  function creditLine(text) {
    const li = el('li', { dataset: { testid: 'credit-line' } }, el('span', { class: 'text' }, text));
    const m = LEDGER_LINE.exec(text);
    if (m) {
      const id = m[1];
      li.dataset.eventId = id;
      const form = el('form', { class: 'appeal', hidden: true, dataset: { testid: 'appeal-form' } });
      const inputId = `appeal-text-${id}-${Math.random().toString(36).slice(2, 8)}`;
      const input = el('input', { id: inputId, required: true, maxlength: '400', dataset: { testid: 'appeal-text' } });
      form.append(el('label', { for: inputId }, t('credit.appeal.text', { id })), input,
        el('button', { type: 'submit', dataset: { testid: 'appeal-submit' } }, t('credit.appeal.submit')));
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const txt = input.value.trim().replace(/\s+/g, ' ');
        if (!txt || new TextEncoder().encode(txt).length > 400) return;
        client.service('CreditServ', `APPEAL ${id} ${txt}`);
        form.hidden = true;
      });
      li.append(' ', el('button', {
        type: 'button', dataset: { testid: 'appeal-button', eventId: id },
        onclick: () => {
          form.hidden = !form.hidden;
          if (!form.hidden) input.focus();
        },
      }, t('credit.appeal')), form);
    }
    append(creditLines, li);
  }

  function refreshCredit() {
    creditLines.replaceChildren(el('li', { class: 'hint' }, t('credit.empty')));
    client.service('CreditServ', 'INFO');
    client.service('CreditServ', 'LEDGER 20');
  }
  $('credit-refresh').addEventListener('click', refreshCredit);
  $('credit-appeals').addEventListener('click', () => client.service('CreditServ', 'APPEALS'));

  // ---- panels ----

  const panels = { account: $('account-panel'), credit: $('credit-panel') };
  app.openPanel = (name) => {
    for (const [k, p] of Object.entries(panels)) p.hidden = k !== name;
    if (name === 'credit') refreshCredit();
    if (name === 'account') client.service('NickServ', 'STATUS');
    panels[name]?.querySelector('button, input, select')?.focus();
  };
  app.closePanels = () => {
    for (const p of Object.values(panels)) p.hidden = true;
  };
  for (const p of Object.values(panels)) {
    p.querySelector('[data-close]').addEventListener('click', () => (p.hidden = true));
    p.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') p.hidden = true;
    });
  }

  return {
    reset() {
      pane.replaceChildren(el('li', { class: 'hint', dataset: { i18n: 'services.empty' } }, t('services.empty')));
      accountLog.replaceChildren();
      creditLines.replaceChildren();
      acceptBtn.hidden = true;
      conventionVersion = null;
    },
  };
}
