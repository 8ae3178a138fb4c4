// ui-groups.js - the sidebar: joined groups, LIST search, join by name.
//
// What it owns: #joined-groups (one button per joined group, the open one
// marked aria-current), #group-list (the last LIST answer, each row with a
// Join button) and the two forms. Choosing a group calls app.openRoom().
//
// Invariants: the lists are rebuilt from the client's state, so they never
// disagree with it; group names and topics are set as text only.
//
// Threads: browser main thread.

import { onLangChange, t } from './i18n.js';
import { $, el } from './ui-dom.js';
import { foldName } from './irc.js';

export function initGroups(client, app) {
  const joined = $('joined-groups');
  const results = $('group-list');
  const listStatus = $('list-status');
  let searched = false;

  function renderJoined() {
    joined.replaceChildren();
    const chans = [...client.channels.values()].filter((c) => c.joined);
    if (!chans.length) joined.append(el('li', { class: 'hint', text: t('groups.none') }));
    for (const ch of chans) {
      const current = app.room && foldName(app.room) === foldName(ch.name);
      joined.append(el('li', {},
        el('button', {
          type: 'button', class: 'group', 'aria-current': current ? 'true' : null,
          dataset: { testid: 'joined-group', channel: ch.name },
          onclick: () => app.openRoom(ch.name),
        }, ch.name, ch.unread ? el('span', { class: 'badge', text: String(ch.unread) }) : null)));
    }
  }

  function renderResults() {
    results.replaceChildren();
    if (!searched) {
      listStatus.textContent = '';
      return;
    }
    const entries = client.lastList;
    listStatus.textContent = entries.length ? t('groups.results', { count: entries.length }) : t('groups.noresults');
    for (const g of entries) {
      const isIn = client.channel(g.name)?.joined;
      results.append(el('li', { class: 'result', dataset: { testid: 'group-list-item', channel: g.name } },
        el('div', { class: 'gname' }, g.name,
          g.code ? el('span', { class: 'code', text: ` ${g.code}` }) : null),
        el('div', { class: 'hint' },
          [t('groups.members', { count: g.members }), g.category, g.topic].filter(Boolean).join(' · ')),
        el('button', {
          type: 'button', dataset: { testid: 'join-button', channel: g.name }, disabled: isIn ? true : null,
          'aria-label': `${t('groups.join')} ${g.name}`,
          onclick: () => {
            app.wantRoom = g.name;
            client.join(g.name);
          },
        }, isIn ? t('groups.joined') : t('groups.join'))));
    }
  }

  $('list-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    searched = true;
    listStatus.textContent = '…';
    client.list($('list-filter').value);
  });

  $('join-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const name = $('join-name').value.trim();
    if (!name || /[\s,]/.test(name)) return;
    app.wantRoom = name.startsWith('#') ? name : '#' + name;
    client.join(name);
    $('join-name').value = '';
  });

  client.addEventListener('list', renderResults);
  client.addEventListener('joined', ({ detail }) => {
    renderJoined();
    renderResults();
    if (!app.room || (app.wantRoom && foldName(app.wantRoom) === foldName(detail.channel))) {
      app.wantRoom = null;
      app.openRoom(detail.channel);
    }
  });
  client.addEventListener('parted', () => {
    renderJoined();
    renderResults();
  });
  client.addEventListener('reply', ({ detail: r }) => {
    if (r.command === 'LIST' && r.kind === 'FAIL') listStatus.textContent = r.description;
  });
  onLangChange(() => {
    renderJoined();
    renderResults();
  });

  return {
    renderJoined,
    reset() {
      searched = false;
      renderJoined();
      renderResults();
    },
  };
}
