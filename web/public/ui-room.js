// ui-room.js - the open group: header, messages, members and the composer.
//
// What it owns: #room-name/#room-topic/#room-info, the message list
// (#messages, aria-live; one <li data-testid="message"> per message with
// its time, nick, text and an actions menu holding "Report"), the member
// list with role labels (owner ~, manager @, voiced +), the "load older"
// button (CHATHISTORY BEFORE) and the composer (plain text, or /join,
// /part, /msg, /me, /quote).
//
// Invariants: a live message is appended (only that line is announced);
// history and a change of room rebuild the list with aria-busy set, keeping
// the reader's place when older messages are put above. Message text is
// set as text only.
//
// Threads: browser main thread.

import { onLangChange, t } from './i18n.js';
import { $, describeReply, el, formatTime, trimList } from './ui-dom.js';
import { foldName, isChannel, serialize, stripFormatting } from './irc.js';

export function initRoom(client, app, report) {
  const list = $('messages');
  const members = $('members');
  const older = $('load-older');
  const composer = $('composer');
  const input = $('message-input');

  function current() {
    return app.room ? client.channel(app.room) : null;
  }

  function eventText(m) {
    const p = m.params || [];
    switch (m.event) {
      case 'KICK': return t('event.KICK', { nick: m.nick, target: p[1] || '' });
      case 'TOPIC': return t('event.TOPIC', { nick: m.nick, text: p[1] || '' });
      case 'MODE': return t('event.MODE', { nick: m.nick, text: p.slice(1).join(' ') });
      default: return t(`event.${m.event}`, { nick: m.nick });
    }
  }

  function closeMenus(except = null) {
    for (const menu of list.querySelectorAll('[role="menu"]:not([hidden])')) {
      if (menu !== except) {
        menu.hidden = true;
        menu.previousElementSibling?.setAttribute('aria-expanded', 'false');
      }
    }
  }

  function messageItem(m) {
    const time = el('time', { datetime: m.time.toISOString(), title: m.time.toLocaleString() }, formatTime(m.time));
    if (m.kind === 'event') {
      return el('li', { class: 'event', dataset: { testid: 'event', msgid: m.msgid || '' } }, time, ' ', eventText(m));
    }
    if (m.kind === 'error' || m.kind === 'warn') {
      const text = m.code && /^[A-Z_]+$/.test(m.code) ? describeReply({ code: m.code, description: m.text, command: m.command })
        : m.text;
      return el('li', { class: m.kind, dataset: { testid: 'message-error', code: m.code || '' } }, time, ' ', text);
    }
    const li = el('li', {
      class: `msg ${m.kind}${m.self ? ' self' : ''}`,
      dataset: { testid: 'message', msgid: m.msgid || '', nick: m.nick || '' },
    });
    const nick = el('span', { class: 'nick', title: m.account || null }, m.kind === 'action' ? `* ${m.nick}` : m.nick);
    const text = el('span', { class: 'text' }, stripFormatting(m.text));
    li.append(time, ' ', nick, ' ', text);
    if (m.msgid && !m.self) {
      const menu = el('div', { role: 'menu', class: 'menu', hidden: true, dataset: { testid: 'message-menu-popup' } },
        el('button', {
          type: 'button', role: 'menuitem', dataset: { testid: 'report-menu-item' },
          onclick: () => {
            closeMenus();
            report.open(app.room, m);
          },
        }, t('msg.report')));
      const btn = el('button', {
        type: 'button', class: 'menubtn', 'aria-haspopup': 'menu', 'aria-expanded': 'false',
        'aria-label': t('msg.menu'), title: t('msg.menu'), dataset: { testid: 'message-menu' },
        onclick: (ev) => {
          ev.stopPropagation();
          const open = menu.hidden;
          closeMenus(menu);
          menu.hidden = !open;
          btn.setAttribute('aria-expanded', String(open));
          if (open) menu.querySelector('button').focus();
        },
      }, '⋯');
      li.append(btn, menu);
    }
    return li;
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function renderMessages({ keepPlace = false } = {}) {
    const ch = current();
    const fromBottom = list.scrollHeight - list.scrollTop;
    list.setAttribute('aria-busy', 'true');
    list.replaceChildren(...(ch ? ch.messages.map(messageItem) : []));
    list.setAttribute('aria-busy', 'false');
    if (keepPlace) list.scrollTop = list.scrollHeight - fromBottom;
    else list.scrollTop = list.scrollHeight;
    renderOlder();
  }

  function renderOlder() {
    const ch = current();
    older.hidden = !ch || !client.caps.has('draft/chathistory');
    if (!ch) return;
    older.disabled = !!ch.historyPending || ch.noOlder;
    older.textContent = ch.historyPending ? t('room.older.loading') : ch.noOlder ? t('room.older.none') : t('room.older');
  }

  function roleRank(p) {
    const chars = client.prefix.chars;
    return p ? chars.indexOf(p[0]) : chars.length;
  }

  function renderMembers() {
    const ch = current();
    members.replaceChildren();
    if (!ch) return;
    const sorted = [...ch.members.values()].sort((a, b) =>
      roleRank(a.prefixes) - roleRank(b.prefixes) || a.nick.localeCompare(b.nick));
    for (const m of sorted) {
      const roles = m.prefixes.split('').filter(Boolean);
      members.append(el('li', { dataset: { testid: 'member', nick: m.nick, roles: m.prefixes } },
        el('span', { class: 'nick' }, m.nick),
        ...roles.map((r) => el('span', { class: `role role-${'~@+'.indexOf(r)}`, dataset: { role: r } }, t(`role.${r}`)))));
    }
  }

  function renderHead() {
    const ch = current();
    $('room-empty').hidden = !!ch;
    composer.hidden = !ch;
    $('part-button').hidden = !ch;
    $('room-name').textContent = ch ? ch.name : '';
    $('room-topic').textContent = ch ? (ch.topic ? stripFormatting(ch.topic) : t('room.topic.none')) : '';
    $('room-info').textContent = ch ? ch.info : '';
    list.setAttribute('aria-label', ch ? t('room.messages', { channel: ch.name }) : '');
    input.placeholder = ch ? t('room.input.placeholder', { channel: ch.name }) : '';
  }

  app.openRoom = (name) => {
    const ch = client.channel(name);
    if (!ch) return;
    app.room = ch.name;
    ch.unread = 0;
    renderHead();
    renderMessages();
    renderMembers();
    app.groups.renderJoined();
    input.focus();
  };

  app.closeRoom = () => {
    app.room = null;
    renderHead();
    renderMessages();
    renderMembers();
  };

  function isCurrent(name) {
    return app.room && foldName(app.room) === foldName(name);
  }

  client.addEventListener('message', ({ detail: d }) => {
    if (isCurrent(d.channel)) {
      const stick = nearBottom();
      list.append(messageItem(d.message));
      trimList(list, 2000);
      if (stick || d.message.self) list.scrollTop = list.scrollHeight;
    } else if (d.message.kind !== 'event') {
      const ch = client.channel(d.channel);
      if (ch) {
        ch.unread = (ch.unread || 0) + 1;
        app.groups.renderJoined();
      }
    }
  });
  client.addEventListener('history', ({ detail: d }) => {
    if (isCurrent(d.channel)) renderMessages({ keepPlace: d.older });
  });
  client.addEventListener('members', ({ detail: d }) => {
    if (isCurrent(d.channel)) renderMembers();
  });
  client.addEventListener('topic', ({ detail: d }) => {
    if (isCurrent(d.channel)) renderHead();
  });
  client.addEventListener('parted', ({ detail: d }) => {
    if (d.kicked) app.notify(t('groups.kicked', { channel: d.channel, reason: d.reason || '' }), 'error');
    if (isCurrent(d.channel)) {
      const next = [...client.channels.values()].find((c) => c.joined);
      if (next) app.openRoom(next.name);
      else app.closeRoom();
    }
  });

  older.addEventListener('click', () => {
    if (app.room && client.loadOlder(app.room)) renderOlder();
  });

  $('part-button').addEventListener('click', () => {
    if (app.room) client.part(app.room);
  });

  document.addEventListener('click', () => closeMenus());
  list.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') closeMenus();
  });

  composer.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const text = input.value;
    if (!text.trim() || !app.room) return;
    try {
      if (!runCommand(text)) client.say(app.room, text);
      input.value = '';
    } catch (e) {
      app.notify(t('err.badinput', { text: e.message }), 'error');
    }
  });

  /** Slash commands; false when text is a plain message. */
  function runCommand(text) {
    if (!text.startsWith('/') || text.startsWith('//')) return false;
    const [, cmd, rest = ''] = /^\/(\S+)\s*(.*)$/s.exec(text) || [];
    switch ((cmd || '').toLowerCase()) {
      case 'join': case 'j':
        if (rest.trim()) {
          app.wantRoom = isChannel(rest.trim()) ? rest.trim() : '#' + rest.trim();
          client.join(rest.trim().split(/\s+/)[0]);
        }
        return true;
      case 'part': case 'leave':
        client.part(rest.trim() || app.room);
        return true;
      case 'me':
        client.cmd('PRIVMSG', app.room, `\x01ACTION ${rest}\x01`);
        return true;
      case 'msg': case 'query': {
        const m = /^(\S+)\s+(.+)$/s.exec(rest);
        if (m) client.send(serialize({ command: 'PRIVMSG', params: [m[1], m[2]] }, { trailing: true }));
        return true;
      }
      case 'quote': case 'raw':
        if (rest.trim()) client.send(rest.trim());
        return true;
      default:
        app.notify(t('cmd.help'));
        return true;
    }
  }

  onLangChange(() => {
    renderHead();
    renderMessages({ keepPlace: true });
    renderMembers();
  });

  return { renderMessages, renderMembers, renderHead };
}
