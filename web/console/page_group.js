// page_group.js - one group (#/group/<#name or code>):
//   groups.show {"group"} (code, name, category, owner, managers, members,
//     online, size, approval, pending requests, messages in 7 days)
//   sanctions.state {"group"} (state normal/warned/suspended/closed,
//     violations in the window, blacklisted, active sanctions)
//   complaints.list {"group"}
// Moderator actions, each confirmed first:
//   sanctions.violation {"group","severity","rule","account"} - an upheld
//     violation: counted against the group, which is warned, then
//     suspended, by the escalation of docs/sanctions.md
//   sanctions.close {"group","reason"}; sanctions.lift {"id"};
//   blacklist.add {"kind":"group","value":<code>,"reason"}

import { h } from './dom.js';
import { t } from './i18n.js';
import { violationArgs, closeArgs, blacklistArgs, groupRef, SEVERITIES } from './forms.js';
import { answerBox, facts, field, input, load, runAction, section, select, table } from './ui.js';
import { formatTime } from './format.js';
import { hrefFor } from './router.js';
import { sanctionTable } from './page_user.js';
import { complaintTable } from './page_complaints.js';

function searchForm(ctx, value) {
  const g = input('group-search', { value: value || '', placeholder: '#name / 10001', maxlength: 64 });
  const box = answerBox('group-search-answer');
  return h('form', { class: 'filters', testid: 'group-search-form', onsubmit: (e) => {
    e.preventDefault();
    const ref = groupRef(g.value);
    if (!ref) return box.error({ key: 'form.need_group', code: 'form' });
    ctx.navigate(hrefFor('group', ref));
  } }, field('group.search', g), h('button', { testid: 'group-search-submit', type: 'submit', text: t('common.show') }), box);
}

function actions(ctx, ref, box, reload, state) {
  const forms = [];
  if (ctx.can('sanctions.violation') && state.state !== 'closed') {
    const severity = select('violation-severity', SEVERITIES, 'severity', { emptyLabel: 'common.choose' });
    const rule = input('violation-rule', { maxlength: 400 });
    const account = input('violation-account', { maxlength: 64 });
    forms.push(h('form', { class: 'form', testid: 'group-violation', onsubmit: (e) => {
      e.preventDefault();
      runAction(ctx, box, 'sanctions.violation', violationArgs({ group: ref, severity: severity.value, rule: rule.value, account: account.value }),
        { confirm: t('group.confirm_violation', { group: ref }),
          okText: (s) => t('group.state_now', { state: t(`group.state.${s.state}`), violations: s.violations }), done: reload });
    } }, h('h3', { text: t('group.violation') }), h('p', { class: 'muted', text: t('group.violation_help') }),
    field('field.severity', severity), field('field.rule', rule), field('group.responsible', account),
    h('button', { testid: 'group-violation-submit', type: 'submit', text: t('group.violation') })));
  }
  if (ctx.can('sanctions.close') && state.state !== 'closed') {
    const reason = input('close-reason', { maxlength: 400 });
    forms.push(h('form', { class: 'form', testid: 'group-close', onsubmit: (e) => {
      e.preventDefault();
      runAction(ctx, box, 'sanctions.close', closeArgs(ref, reason.value),
        { confirm: t('group.confirm_close', { group: ref }), okText: () => t('group.closed'), done: reload });
    } }, h('h3', { text: t('group.close') }), field('field.reason', reason),
    h('button', { testid: 'group-close-submit', type: 'submit', class: 'danger', text: t('group.close') })));
  }
  if (ctx.can('blacklist.add') && !state.blacklisted) {
    const reason = input('group-blacklist-reason', { maxlength: 400 });
    forms.push(h('form', { class: 'form', testid: 'group-blacklist', onsubmit: (e) => {
      e.preventDefault();
      runAction(ctx, box, 'blacklist.add', blacklistArgs('group', String(state.code), reason.value),
        { confirm: t('group.confirm_blacklist', { group: ref }), okText: (r) => t('user.blacklist_done', { id: r.id }), done: reload });
    } }, h('h3', { text: t('group.blacklist') }), field('field.reason', reason),
    h('button', { testid: 'group-blacklist-submit', type: 'submit', class: 'danger', text: t('group.blacklist') })));
  }
  return forms.length ? section('group.actions', ...forms) : null;
}

export async function render(ctx, root, route) {
  root.append(h('h1', { text: route.param ? t('group.title', { group: route.param }) : t('nav.group') }), searchForm(ctx, route.param));
  if (!route.param) return;
  const ref = groupRef(route.param) || route.param;
  const box = answerBox('group-answer');
  const info = h('div', { testid: 'group-info' });
  const state = h('div', { testid: 'group-state' });
  const acts = h('div', { testid: 'group-actions' });
  const complaints = h('div', { testid: 'group-complaints' });
  root.append(box);
  if (ctx.can('groups.show')) root.append(section('group.info', info));
  root.append(section('group.sanctions', state), acts, section('nav.complaints', complaints));
  const reload = async () => {
    if (ctx.can('groups.show')) {
      await load(ctx, info, 'groups.show', { group: ref }, (g) => h('div', {},
        facts('group-facts', g, ['code', 'name', 'category', 'owner', 'members', 'online', 'size', 'approval',
          'pending_requests', 'messages_7_days']),
        h('p', { testid: 'group-roles' }, h('strong', { text: `${t('group.owner')}: ` }),
          g.owner ? h('a', { href: hrefFor('user', g.owner), text: g.owner }) : '—', ' · ',
          h('strong', { text: `${t('group.managers')}: ` }),
          (g.managers || []).length ? g.managers.map((m, i) => [i ? ', ' : '', h('a', { href: hrefFor('user', m), text: m })]) : '—'),
        Array.isArray(g.member_list) ? table('group-members', [
          { key: 'account', label: 'field.account', render: (m) => h('a', { href: hrefFor('user', m.account), text: m.account }) },
          { key: 'role', label: 'field.role', render: (m) => t(`group.role.${m.role}`) },
          { key: 'joined_at', label: 'field.joined_at', time: true },
          { key: 'muted_until', label: 'field.muted_until', render: (m) => (m.muted_until ? formatTime(m.muted_until) : '') }],
          g.member_list) : null));
    }
    const s = await load(ctx, state, 'sanctions.state', { group: ref }, (st) => h('div', {},
      h('p', { class: `state state-${st.state}`, testid: 'group-state-value', 'data-state': st.state,
        text: `${t('field.state')}: ${t(`group.state.${st.state}`)}` }),
      facts('group-state-facts', st, ['code', 'name', 'violations', 'blacklisted']),
      sanctionTable(ctx, box, st.sanctions, reload, 'group-sanctions-table')));
    acts.replaceChildren();
    if (s) {
      const a = actions(ctx, ref, box, reload, s);
      if (a) acts.appendChild(a);
    }
    const code = s && s.code ? String(s.code) : ref;
    await load(ctx, complaints, 'complaints.list', { group: code, limit: 50 }, complaintTable);
  };
  await reload();
}
