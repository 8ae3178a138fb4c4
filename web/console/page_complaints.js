// page_complaints.js - complaints at the platform stage.
//   list:   complaints.list {"state","stage","group","reporter","limit"}
//   one:    complaints.show {"id"} (#/complaints/<id>)
//   decide: complaints.decide {"id","decision","severity","rule","note"}
// Rows carry data-testid "complaint-row" and data-id; the decide form's
// fields are "decide-decision", "decide-severity", "decide-rule",
// "decide-note", "decide-submit".

import { h } from './dom.js';
import { t } from './i18n.js';
import { complaintListArgs, complaintDecideArgs, COMPLAINT_STATES, COMPLAINT_STAGES, COMPLAINT_DECISIONS, SEVERITIES } from './forms.js';
import { answerBox, facts, field, input, load, runAction, section, select, table } from './ui.js';
import { hrefFor } from './router.js';

export const COMPLAINT_FIELDS = ['id', 'state', 'stage', 'kind', 'target', 'category', 'text', 'reporter',
  'subject', 'group_code', 'msg_seq', 'filed_at', 'deadline', 'overdue_group', 'overdue', 'escalated_by',
  'escalated_at', 'decided_by', 'decided_at', 'severity', 'rule', 'note'];

export function complaintTable(rows) {
  return table('complaints-table', [
    { key: 'id', label: 'field.id', render: (r) => h('a', { testid: 'complaint-open', href: hrefFor('complaints', r.id), text: `#${r.id}` }) },
    { key: 'state', label: 'field.state', render: (r) => t(`complaint.state.${r.state}`) },
    { key: 'stage', label: 'field.stage', render: (r) => t(`complaint.stage.${r.stage}`) },
    { key: 'kind', label: 'field.kind' },
    { key: 'target', label: 'field.target' },
    { key: 'category', label: 'field.category' },
    { key: 'reporter', label: 'field.reporter' },
    { key: 'filed_at', label: 'field.filed_at', time: true },
    { key: 'deadline', label: 'field.deadline', time: true },
    { key: 'overdue', label: 'field.overdue', render: (r) => (r.overdue ? t('common.yes') : r.overdue_group ? t('complaint.overdue_group') : '') },
  ], rows, (r) => ({ testid: 'complaint-row', 'data-id': r.id, 'data-state': r.state, 'data-stage': r.stage,
    class: r.overdue ? 'overdue' : null }));
}

function decideForm(ctx, c, reload) {
  const box = answerBox('decide-answer');
  const decision = select('decide-decision', COMPLAINT_DECISIONS, 'complaint.decision', { emptyLabel: 'common.choose' });
  const severity = select('decide-severity', SEVERITIES, 'severity', { emptyLabel: 'common.choose' });
  const rule = input('decide-rule', { maxlength: 400 });
  const note = h('textarea', { testid: 'decide-note', rows: 3, maxlength: 2000 });
  const submit = h('button', { testid: 'decide-submit', type: 'submit', text: t('complaint.decide') });
  const form = h('form', {
    testid: 'decide-form', class: 'form',
    onsubmit: async (e) => {
      e.preventDefault();
      submit.disabled = true;
      await runAction(ctx, box, 'complaints.decide', complaintDecideArgs({
        id: c.id, decision: decision.value, severity: severity.value, rule: rule.value, note: note.value,
      }), { okText: (r) => t('complaint.decided', { id: r.id, state: t(`complaint.state.${r.state}`) }), done: reload });
      submit.disabled = false;
    },
  },
  field('field.decision', decision), field('field.severity', severity), field('field.rule', rule),
  field('field.note', note), h('p', { class: 'muted', text: t('complaint.decide_help') }), submit, box);
  return section('complaint.decide_title', form);
}

async function renderOne(ctx, root, id) {
  const body = h('div', { testid: 'complaint-detail', 'data-id': id });
  root.append(h('p', {}, h('a', { href: hrefFor('complaints'), text: `← ${t('nav.complaints')}` })),
    h('h1', { text: t('complaint.title', { id }) }), body);
  const reload = async () => {
    await load(ctx, body, 'complaints.show', { id: Number(id) }, (c) => h('div', {},
      facts('complaint-facts', c, COMPLAINT_FIELDS),
      c.state === 'open' && ctx.can('complaints.decide') ? decideForm(ctx, c, reload) : null,
      c.group_code ? h('p', {}, h('a', { href: hrefFor('group', String(c.group_code)), text: t('complaint.see_group') })) : null,
      c.subject ? h('p', {}, h('a', { href: hrefFor('user', c.subject), text: t('complaint.see_subject', { name: c.subject }) })) : null));
  };
  await reload();
}

export async function render(ctx, root, route) {
  if (route.param) return renderOne(ctx, root, route.param);
  const q = route.query || {};
  const state = select('complaints-filter-state', COMPLAINT_STATES, 'complaint.state', { value: q.state === undefined ? 'open' : q.state === 'any' ? '' : q.state });
  const stage = select('complaints-filter-stage', COMPLAINT_STAGES, 'complaint.stage', { value: q.stage ?? '' });
  const group = input('complaints-filter-group', { value: q.group || '', placeholder: '#name / 10001' });
  const reporter = input('complaints-filter-reporter', { value: q.reporter || '' });
  const list = h('div', { testid: 'complaints-list' });
  const box = answerBox('complaints-answer');
  const form = h('form', {
    class: 'filters', testid: 'complaints-filter',
    onsubmit: (e) => {
      e.preventDefault();
      ctx.navigate(hrefFor('complaints', null, { state: state.value || 'any', stage: stage.value, group: group.value.trim(), reporter: reporter.value.trim() }));
    },
  }, field('field.state', state), field('field.stage', stage), field('field.group', group), field('field.reporter', reporter),
  h('button', { testid: 'complaints-filter-submit', type: 'submit', text: t('common.filter') }));
  root.append(h('h1', { text: t('nav.complaints') }), form, box, list);
  const built = complaintListArgs({ state: state.value || 'any', stage: stage.value, group: group.value, reporter: reporter.value });
  if (built.error) {
    box.error({ key: built.error, code: 'form' });
    return;
  }
  await load(ctx, list, 'complaints.list', built.args, complaintTable);
}
