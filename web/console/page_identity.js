// page_identity.js - the manual identity checks waiting for a moderator
// (identity.queue) with approve (identity.approve {"request"}) and reject
// with a reason (identity.reject {"request","reason"}) on each row.
// Auditors also get identity.reveal {"name","case"} (on the user page).

import { h } from './dom.js';
import { t } from './i18n.js';
import { identityDecisionArgs } from './forms.js';
import { answerBox, load, runAction, table } from './ui.js';

export async function render(ctx, root) {
  const list = h('div', { testid: 'identity-queue' });
  const box = answerBox('identity-answer');
  root.append(h('h1', { text: t('nav.identity') }), box, list);
  const reload = () => load(ctx, list, 'identity.queue', {}, (rows) => table('identity-table', [
    { key: 'request', label: 'field.request' },
    { key: 'account', label: 'field.account' },
    { key: 'document_type', label: 'field.document_type' },
    { key: 'submitted_at', label: 'field.submitted_at', time: true },
    { key: 'actions', label: 'common.actions', render: (row) => {
      if (!ctx.can('identity.approve')) return '';
      const reason = h('input', { testid: 'identity-reason', type: 'text', placeholder: t('field.reason'), maxlength: 400 });
      return h('div', { class: 'row-actions' },
        h('button', { testid: 'identity-approve', type: 'button', text: t('identity.approve'),
          onclick: () => runAction(ctx, box, 'identity.approve', identityDecisionArgs(row.request, true),
            { okText: (r) => t('identity.approved', { id: row.request, result: r && r.result || '' }), done: reload }) }),
        reason,
        h('button', { testid: 'identity-reject', type: 'button', class: 'danger', text: t('identity.reject'),
          onclick: () => runAction(ctx, box, 'identity.reject', identityDecisionArgs(row.request, false, reason.value),
            { okText: (r) => t('identity.rejected', { id: row.request, result: r && r.result || '' }), done: reload }) }));
    } },
  ], rows, (row) => ({ testid: 'identity-row', 'data-id': row.request, 'data-account': row.account })));
  await reload();
}
