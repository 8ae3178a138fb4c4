// page_appeals.js - credit appeals (appeals.list {"state","name"}) and their
// decision (appeals.decide {"id","decision":"uphold"|"reject","note"}; the
// note is shown to the user and required). Rows: "appeal-row" with data-id;
// inside "appeal-note", "appeal-uphold", "appeal-reject".
// Below them, appeals against sanctions (sanctions.appeals {"state",
// "account"}, decided with sanctions.appeal.decide {"id","decision":
// "upheld"|"rejected","note"}): rows "sappeal-row", inside "sappeal-note",
// "sappeal-uphold", "sappeal-reject".

import { h } from './dom.js';
import { t } from './i18n.js';
import { appealListArgs, appealDecideArgs, sanctionAppealListArgs, sanctionAppealDecideArgs, APPEAL_STATES } from './forms.js';
import { answerBox, field, input, load, runAction, select, table } from './ui.js';
import { hrefFor } from './router.js';

export function appealTable(ctx, box, rows, reload) {
  return table('appeals-table', [
    { key: 'id', label: 'field.id' },
    { key: 'account', label: 'field.account', render: (r) => h('a', { href: hrefFor('user', r.account), text: r.account }) },
    { key: 'event', label: 'field.event' },
    { key: 'event_delta', label: 'field.delta' },
    { key: 'event_reason', label: 'field.reason' },
    { key: 'event_author', label: 'field.author' },
    { key: 'text', label: 'field.text' },
    { key: 'filed_at', label: 'field.filed_at', time: true },
    { key: 'state', label: 'field.state', render: (r) => t(`appeal.state.${r.state}`) },
    { key: 'actions', label: 'common.actions', render: (r) => {
      if (r.state !== 'open') return [r.decided_by || '', r.note ? ` — ${r.note}` : ''];
      if (!ctx.can('appeals.decide')) return '';
      const note = h('input', { testid: 'appeal-note', type: 'text', placeholder: t('field.note'), maxlength: 400 });
      const go = (decision) => runAction(ctx, box, 'appeals.decide', appealDecideArgs(r.id, decision, note.value),
        { okText: (res) => t('appeal.decided', { id: res.appeal, outcome: t(`appeal.state.${res.outcome}`), score: res.score }), done: reload });
      return h('div', { class: 'row-actions' }, note,
        h('button', { testid: 'appeal-uphold', type: 'button', text: t('appeal.uphold'), onclick: () => go('uphold') }),
        h('button', { testid: 'appeal-reject', type: 'button', class: 'danger', text: t('appeal.reject'), onclick: () => go('reject') }));
    } },
  ], rows, (r) => ({ testid: 'appeal-row', 'data-id': r.id, 'data-state': r.state }));
}

export function sanctionAppealTable(ctx, box, rows, reload) {
  return table('sappeals-table', [
    { key: 'id', label: 'field.id' },
    { key: 'account', label: 'field.account', render: (r) => h('a', { href: hrefFor('user', r.account), text: r.account }) },
    { key: 'sanction', label: 'field.sanction' },
    { key: 'kind', label: 'field.kind' },
    { key: 'sanction_reason', label: 'field.reason' },
    { key: 'sanction_author', label: 'field.author' },
    { key: 'text', label: 'field.text' },
    { key: 'filed_at', label: 'field.filed_at', time: true },
    { key: 'state', label: 'field.state', render: (r) => t(`appeal.state.${r.state}`) },
    { key: 'actions', label: 'common.actions', render: (r) => {
      if (r.state !== 'open') return [r.decided_by || '', r.note ? ` — ${r.note}` : ''];
      if (!ctx.can('sanctions.appeal.decide')) return '';
      const note = h('input', { testid: 'sappeal-note', type: 'text', placeholder: t('field.note'), maxlength: 400 });
      const go = (decision) => runAction(ctx, box, 'sanctions.appeal.decide', sanctionAppealDecideArgs(r.id, decision, note.value),
        { okText: (res) => res.result, done: reload });
      return h('div', { class: 'row-actions' }, note,
        h('button', { testid: 'sappeal-uphold', type: 'button', text: t('appeal.uphold'), onclick: () => go('upheld') }),
        h('button', { testid: 'sappeal-reject', type: 'button', class: 'danger', text: t('appeal.reject'), onclick: () => go('rejected') }));
    } },
  ], rows, (r) => ({ testid: 'sappeal-row', 'data-id': r.id, 'data-state': r.state }));
}

export async function render(ctx, root, route) {
  const q = route.query || {};
  const state = select('appeals-filter-state', APPEAL_STATES, 'appeal.state', { empty: false, value: q.state || 'open' });
  const name = input('appeals-filter-name', { value: q.name || '' });
  const list = h('div', { testid: 'appeals-list' });
  const box = answerBox('appeals-answer');
  root.append(h('h1', { text: t('nav.appeals') }),
    h('form', { class: 'filters', testid: 'appeals-filter', onsubmit: (e) => {
      e.preventDefault();
      ctx.navigate(hrefFor('appeals', null, { state: state.value, name: name.value.trim() }));
    } }, field('field.state', state), field('field.account', name),
    h('button', { testid: 'appeals-filter-submit', type: 'submit', text: t('common.filter') })), box, list);
  const built = appealListArgs({ state: state.value, name: name.value });
  if (built.error) return box.error({ key: built.error, code: 'form' });
  const reload = () => load(ctx, list, 'appeals.list', built.args, (rows) => appealTable(ctx, box, rows, reload));
  await reload();
  if (!ctx.can('sanctions.appeals')) return;
  const slist = h('div', { testid: 'sappeals-list' });
  root.append(h('h2', { text: t('appeal.sanctions_title') }), slist);
  const sbuilt = sanctionAppealListArgs({ state: state.value, name: name.value });
  if (sbuilt.error) return box.error({ key: sbuilt.error, code: 'form' });
  const sreload = () => load(ctx, slist, 'sanctions.appeals', sbuilt.args, (rows) => sanctionAppealTable(ctx, box, rows, sreload));
  await sreload();
}
