// page_user.js - one account (#/user/<name>):
//   accounts.show {"name"}; accounts.suspend {"name","reason"};
//   accounts.unsuspend {"name"}
//   credit.show {"name"}; credit.ledger {"name","limit"};
//   credit.adjust {"name","delta","reason","evidence"} (administrators)
//   sanctions.list {"account"}; sanctions.person {"name","kind","reason","days"};
//   sanctions.lift {"id"}
//   blacklist.add {"kind":"identity","value":<name>,"reason"}
//   groups.list (the groups it owns), appeals.list {"name","state":"all"},
//   complaints.list {"reporter"}, identity.reveal {"name","case"} (auditors)
// Each section and button is shown by role; every action asks for a
// confirmation first.

import { h } from './dom.js';
import { t } from './i18n.js';
import { suspendArgs, creditAdjustArgs, personSanctionArgs, blacklistArgs, PERSON_KINDS } from './forms.js';
import { answerBox, facts, field, input, load, runAction, section, select, table } from './ui.js';
import { hrefFor } from './router.js';
import { formatTime } from './format.js';
import { appealTable } from './page_appeals.js';
import { complaintTable } from './page_complaints.js';

export function sanctionTable(ctx, box, rows, reload, testid = 'sanctions-table') {
  return table(testid, [
    { key: 'id', label: 'field.id' },
    { key: 'kind', label: 'field.kind', render: (s) => t(`sanction.kind.${s.kind}`) },
    { key: 'subject', label: 'field.subject' },
    { key: 'reason', label: 'field.reason' },
    { key: 'author', label: 'field.author' },
    { key: 'started_at', label: 'field.started_at', time: true },
    { key: 'ends_at', label: 'field.ends_at', render: (s) => (s.ends_at ? formatTime(s.ends_at) : t('sanction.until_lifted')) },
    { key: 'actions', label: 'common.actions', render: (s) => (ctx.can('sanctions.lift') && s.kind !== 'closed'
      ? h('button', { testid: 'sanction-lift', type: 'button', 'data-id': s.id, text: t('sanction.lift'),
        onclick: () => runAction(ctx, box, 'sanctions.lift', { args: { id: s.id } },
          { confirm: t('sanction.confirm_lift', { id: s.id, kind: t(`sanction.kind.${s.kind}`) }), done: reload }) })
      : '') },
  ], rows, (s) => ({ testid: 'sanction-row', 'data-id': s.id, 'data-kind': s.kind }));
}

function searchForm(ctx, value) {
  const name = input('user-search-name', { value: value || '', maxlength: 64, placeholder: t('field.account') });
  return h('form', { class: 'filters', testid: 'user-search', onsubmit: (e) => {
    e.preventDefault();
    if (name.value.trim()) ctx.navigate(hrefFor('user', name.value.trim()));
  } }, field('user.search', name), h('button', { testid: 'user-search-submit', type: 'submit', text: t('common.show') }));
}

function accountSection(ctx, name, box) {
  const out = h('div', { testid: 'user-account' });
  const reload = () => load(ctx, out, 'accounts.show', { name }, (a) => {
    const reason = input('user-suspend-reason', { maxlength: 400, placeholder: t('field.reason') });
    return h('div', {}, facts('account-facts', a, ['name', 'id', 'level', 'created_at', 'suspended', 'suspend_reason',
      'online_sessions', 'identity_pending', 'convention_version', 'certificates']),
    ctx.can('accounts.suspend') ? (a.suspended
      ? h('button', { testid: 'user-unsuspend', type: 'button', text: t('user.unsuspend'),
        onclick: () => runAction(ctx, box, 'accounts.unsuspend', { args: { name } },
          { confirm: t('user.confirm_unsuspend', { name }), done: reload }) })
      : h('div', { class: 'row-actions' }, reason,
        h('button', { testid: 'user-suspend', type: 'button', class: 'danger', text: t('user.suspend'),
          onclick: () => runAction(ctx, box, 'accounts.suspend', suspendArgs(name, reason.value),
            { confirm: t('user.confirm_suspend', { name }), done: reload }) }))) : null);
  });
  reload();
  return section('user.account', out);
}

function creditSection(ctx, name, box) {
  const out = h('div', { testid: 'user-credit' });
  const ledger = h('div', { testid: 'user-ledger' });
  const reload = async () => {
    await load(ctx, out, 'credit.show', { name }, (c) => facts('credit-facts', c, ['score', 'level', 'initial',
      'ledger_sum', 'post', 'messages_per_10s', 'groups_owned_max', 'members_per_group_max', 'groups_joined_max',
      'may_manage', 'last_violation_at', 'last_recovery_at', 'next_recovery_at']));
    await load(ctx, ledger, 'credit.ledger', { name, limit: 50 }, (rows) => table('ledger-table', [
      { key: 'id', label: 'field.event' }, { key: 'delta', label: 'field.delta' }, { key: 'reason', label: 'field.reason' },
      { key: 'evidence', label: 'field.evidence' }, { key: 'author', label: 'field.author' },
      { key: 'at', label: 'field.at', time: true }, { key: 'offset_by', label: 'field.offset_by' }], rows,
    (e) => ({ testid: 'ledger-row', 'data-id': e.id })));
  };
  reload();
  let adjust = null;
  if (ctx.can('credit.adjust')) {
    const delta = input('credit-delta', { type: 'number', min: -1000, max: 1000, step: 1 });
    const reason = input('credit-reason', { maxlength: 200 });
    const evidence = input('credit-evidence', { maxlength: 200, placeholder: 'complaint:12' });
    adjust = h('form', { class: 'form', testid: 'credit-adjust', onsubmit: (e) => {
      e.preventDefault();
      runAction(ctx, box, 'credit.adjust', creditAdjustArgs({ name, delta: delta.value, reason: reason.value, evidence: evidence.value }),
        { confirm: t('user.confirm_credit', { name, delta: delta.value }),
          okText: (r) => t('user.credit_done', { event: r.event, score: r.score, level: r.level }), done: reload });
    } }, h('h3', { text: t('user.credit_adjust') }), field('field.delta', delta), field('field.reason', reason),
    field('field.evidence', evidence), h('button', { testid: 'credit-adjust-submit', type: 'submit', text: t('user.credit_adjust') }));
  }
  return section('user.credit', out, h('h3', { text: t('user.ledger') }), ledger, adjust);
}

function sanctionSection(ctx, name, box) {
  const out = h('div', { testid: 'user-sanctions' });
  const reload = () => load(ctx, out, 'sanctions.list', { account: name }, (rows) => sanctionTable(ctx, box, rows, reload));
  reload();
  let form = null;
  if (ctx.can('sanctions.person')) {
    const kind = select('person-kind', PERSON_KINDS, 'sanction.kind', { emptyLabel: 'common.choose' });
    const reason = input('person-reason', { maxlength: 400 });
    const days = input('person-days', { type: 'number', min: 1, max: 3650 });
    form = h('form', { class: 'form', testid: 'person-sanction', onsubmit: (e) => {
      e.preventDefault();
      runAction(ctx, box, 'sanctions.person', personSanctionArgs({ name, kind: kind.value, reason: reason.value, days: days.value }),
        { confirm: t('user.confirm_person', { name, kind: kind.value ? t(`sanction.kind.${kind.value}`) : '' }),
          okText: (s) => t('user.person_done', { id: s.id }), done: reload });
    } }, h('h3', { text: t('user.person_sanction') }), field('field.kind', kind), field('field.reason', reason),
    field('field.days', days), h('p', { class: 'muted', text: t('user.days_help') }),
    h('button', { testid: 'person-sanction-submit', type: 'submit', class: 'danger', text: t('user.person_sanction') }));
  }
  let bl = null;
  if (ctx.can('blacklist.add')) {
    const reason = input('blacklist-reason', { maxlength: 400 });
    bl = h('form', { class: 'form', testid: 'blacklist-identity', onsubmit: (e) => {
      e.preventDefault();
      runAction(ctx, box, 'blacklist.add', blacklistArgs('identity', name, reason.value),
        { confirm: t('user.confirm_blacklist', { name }), okText: (r) => t('user.blacklist_done', { id: r.id }) });
    } }, h('h3', { text: t('user.blacklist') }), h('p', { class: 'muted', text: t('user.blacklist_help') }),
    field('field.reason', reason),
    h('button', { testid: 'blacklist-identity-submit', type: 'submit', class: 'danger', text: t('user.blacklist') }));
  }
  return section('user.sanctions', out, form, bl);
}

function groupsSection(ctx, name) {
  const out = h('div', { testid: 'user-groups' });
  load(ctx, out, 'groups.list', {}, (rows) => table('user-groups-table', [
    { key: 'code', label: 'field.code', render: (g) => h('a', { href: hrefFor('group', String(g.code)), text: String(g.code) }) },
    { key: 'name', label: 'field.name' }, { key: 'category', label: 'field.category' },
    { key: 'members', label: 'field.members' }, { key: 'size', label: 'field.size' }],
  (rows || []).filter((g) => g.owner === name)));
  return section('user.groups_owned', h('p', { class: 'muted', text: t('user.groups_help') }), out);
}

function revealSection(ctx, name, box) {
  const caseRef = input('reveal-case', { maxlength: 200 });
  const out = h('div', { testid: 'reveal-result' });
  return section('user.reveal', h('p', { class: 'muted', text: t('user.reveal_help') }),
    h('form', { class: 'form', testid: 'reveal-form', onsubmit: async (e) => {
      e.preventDefault();
      const c = caseRef.value.trim();
      const r = await runAction(ctx, box, 'identity.reveal', c ? { args: { name, case: c } } : { error: 'form.need_case' },
        { confirm: t('user.confirm_reveal', { name, case: c }), okText: () => t('user.revealed') });
      out.replaceChildren();
      if (r) out.appendChild(facts('reveal-facts', r, ['real_name', 'document_type', 'document_number', 'phone', 'level']));
    } }, field('field.case', caseRef), h('button', { testid: 'reveal-submit', type: 'submit', text: t('user.reveal') })), out);
}

export async function render(ctx, root, route) {
  root.append(h('h1', { text: route.param ? t('user.title', { name: route.param }) : t('nav.user') }), searchForm(ctx, route.param));
  if (!route.param) return;
  const name = route.param;
  const box = answerBox('user-answer');
  root.append(box);
  if (ctx.can('accounts.show')) root.append(accountSection(ctx, name, box));
  if (ctx.can('credit.show')) root.append(creditSection(ctx, name, box));
  root.append(sanctionSection(ctx, name, box));
  if (ctx.can('groups.list')) root.append(groupsSection(ctx, name));
  if (ctx.can('appeals.list')) {
    const out = h('div', { testid: 'user-appeals' });
    const reload = () => load(ctx, out, 'appeals.list', { name, state: 'all' }, (rows) => appealTable(ctx, box, rows, reload));
    reload();
    root.append(section('nav.appeals', out));
  }
  const filed = h('div', { testid: 'user-complaints' });
  load(ctx, filed, 'complaints.list', { reporter: name, limit: 50 }, complaintTable);
  root.append(section('user.complaints_filed', filed));
  if (ctx.can('identity.reveal')) root.append(revealSection(ctx, name, box));
}
