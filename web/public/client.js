// client.js - one IRC session of the web page, without the DOM.
//
// What it owns: the Connection, the CAP/SASL negotiator, the batch
// collector, and the session state the UI shows: own nick and account,
// ISUPPORT, the joined groups (topic, members with role prefixes, messages
// with their msgids, history paging), the last LIST answer. It turns server
// lines into state changes and events (an EventTarget; event.detail holds
// the data), and UI intentions into IRC commands.
//
// Invariants: messages of a chathistory batch never change live state
// (membership, topic); they are merged into the group's messages by msgid
// and time, so a message seen live and again in history shows once. At most
// MAX_MESSAGES are kept per group (the oldest are dropped). Passwords are
// kept only until the SASL exchange or REGISTER has been sent.
//
// Threads: browser main thread.

import { Connection } from './connection.js';
import {
  BatchTracker, CapNegotiator, ctcpAction, foldName, isChannel, line, messageTime,
  parseIsupport, parseListTopic, parseModeChanges, parseNamesEntry, parsePrefix, parseSource,
  parseStandardReply, parseLine, serialize, splitText,
} from './irc.js';

export const SERVICES = ['NickServ', 'ChanServ', 'CreditServ', 'ReportServ'];
const MAX_MESSAGES = 2000;
export const HISTORY_PAGE = 50;

let localSeq = 0;

export class IrcClient extends EventTarget {
  constructor({ connectionFactory = (h) => new Connection(h) } = {}) {
    super();
    this.connectionFactory = connectionFactory;
    this.reset();
  }

  reset() {
    this.conn = null;
    this.neg = null;
    this.batches = new BatchTracker();
    this.state = 'offline'; // offline → connecting → negotiating → registered
    this.nick = null;
    this.wantedNick = null;
    this.nickTries = 0;
    this.account = null;
    this.caps = new Set();
    this.availableCaps = new Map();
    this.isupport = {};
    this.prefix = { modes: 'qov', chars: '~@+' };
    this.serverName = null;
    this.channels = new Map();
    this.listing = null;
    this.lastList = [];
    this.pendingRegister = null;
    this.pendingVerifyAccount = null;
  }

  emit(type, detail = {}) {
    this.dispatchEvent(new CustomEvent(type, { detail }));
  }

  // ---- connecting ----

  /** mode 'login' (SASL PLAIN with account/password) or 'register'
   *  (REGISTER account phone password once connected). */
  connect({ mode, account, password, phone = '', nick = '' }) {
    this.close(true);
    this.reset();
    this.mode = mode;
    this.wantedNick = nick || account;
    this.neg = new CapNegotiator({ sasl: mode === 'login' ? { account, password } : null });
    if (mode === 'register') this.pendingRegister = { account, phone, password };
    this.state = 'connecting';
    this.emit('status', { state: this.state });
    this.conn = this.connectionFactory({
      onOpen: () => {
        this.state = 'negotiating';
        this.emit('status', { state: this.state });
        for (const l of this.neg.start()) this.send(l);
        this.send(line('NICK', this.wantedNick));
        this.send(serializeUser(account));
      },
      onLine: (l) => this.receive(l),
      onClose: (info) => {
        const was = this.state;
        this.state = 'offline';
        this.conn = null;
        this.emit('status', { state: 'offline', was, ...info });
      },
      onSend: (l) => this.emit('raw', { dir: 'out', line: maskSecret(l) }),
    });
    this.conn.open();
  }

  close(silent = false) {
    if (this.conn) {
      if (!silent) this.send('QUIT :Leaving');
      const c = this.conn;
      this.conn = null;
      c.close();
    }
  }

  send(l) {
    if (!this.conn) return false;
    return this.conn.send(l);
  }

  /** Sends a line built from command and parameters. */
  cmd(command, ...params) {
    return this.send(line(command, ...params));
  }

  /** /msg Service text */
  service(name, text) {
    return this.send(`PRIVMSG ${name} :${text.replace(/[\r\n\0]/g, ' ')}`);
  }

  // ---- receiving ----

  receive(raw) {
    const msg = parseLine(raw);
    this.emit('raw', { dir: 'in', line: raw });
    if (!msg) return;
    const b = this.batches.handle(msg);
    if (b) {
      if (b.kind === 'end') this.batchEnded(b.batch);
      return;
    }
    this.dispatch(msg);
  }

  batchEnded(batch) {
    if (batch.type === 'chathistory' || batch.type === 'draft/chathistory') {
      this.historyArrived(batch.params[0], batch.messages.filter((m) => !m.batch));
      return;
    }
    // any other batch (labeled-response, netsplit...): its lines, live, in order
    const flat = (list) => {
      for (const m of list) {
        if (m.batch) this.batchEnded(m.batch);
        else this.dispatch(m);
      }
    };
    flat(batch.messages);
  }

  dispatch(msg) {
    if (this.neg && this.neg.state !== 'done' || msg.command === 'CAP') {
      const r = this.neg ? this.neg.handle(msg) : { send: [], events: [] };
      for (const l of r.send) this.send(l);
      for (const ev of r.events) this.negotiatorEvent(ev);
    }
    const h = HANDLERS[msg.command];
    if (h) h.call(this, msg);
    else if (/^[45]\d\d$/.test(msg.command)) this.numericError(msg);
  }

  negotiatorEvent(ev) {
    if (ev.type === 'caps') {
      this.caps = this.neg.enabled; // live: CAP NEW/DEL keep it current
      this.availableCaps = ev.available;
      this.emit('caps', { enabled: ev.enabled, available: ev.available });
    } else if (ev.type === 'sasl-success') {
      this.neg.sasl = null;
    } else if (ev.type === 'sasl-failure') {
      this.neg.sasl = null;
      this.emit('login-failed', ev);
      this.close();
    }
  }

  numericError(msg) {
    const text = msg.params.slice(1).join(' ');
    const target = msg.params[1];
    if (target && isChannel(target) && this.channel(target)) {
      this.addMessage(target, { kind: 'error', text: msg.params[msg.params.length - 1], code: msg.command });
    }
    this.emit('service', { from: this.serverName || 'server', text, kind: 'error', code: msg.command });
  }

  // ---- channels ----

  channel(name, create = false) {
    const key = foldName(name);
    let ch = this.channels.get(key);
    if (!ch && create) {
      ch = { name, topic: '', members: new Map(), messages: [], msgids: new Set(), joined: false,
        namesBuf: null, historyPending: false, noOlder: false, info: '' };
      this.channels.set(key, ch);
    }
    return ch || null;
  }

  addMessage(target, m, { history = false } = {}) {
    const ch = this.channel(target, !history);
    if (!ch) return;
    const entry = { id: m.msgid || `local-${++localSeq}`, time: m.time || new Date(), ...m };
    if (entry.msgid) {
      if (ch.msgids.has(entry.msgid)) return;
      ch.msgids.add(entry.msgid);
    }
    if (history) {
      // keep time order; history is older than what is shown, usually
      let i = ch.messages.length;
      while (i > 0 && ch.messages[i - 1].time > entry.time) i--;
      ch.messages.splice(i, 0, entry);
    } else ch.messages.push(entry);
    while (ch.messages.length > MAX_MESSAGES) {
      const old = ch.messages.shift();
      if (old.msgid) ch.msgids.delete(old.msgid);
    }
    if (!history) this.emit('message', { channel: ch.name, message: entry });
  }

  entryOf(msg) {
    const src = parseSource(msg.source);
    const text = msg.params[msg.params.length - 1] || '';
    const action = msg.command === 'PRIVMSG' ? ctcpAction(text) : null;
    return {
      msgid: msg.tags.msgid || null,
      time: messageTime(msg),
      nick: src.nick,
      account: msg.tags.account || null,
      text: action ?? text,
      kind: action !== null ? 'action' : msg.command === 'NOTICE' ? 'notice' : 'privmsg',
      self: !!this.nick && foldName(src.nick || '') === foldName(this.nick),
    };
  }

  historyArrived(target, messages) {
    const ch = this.channel(target);
    if (!ch) return;
    let count = 0;
    for (const m of messages) {
      if (m.command === 'PRIVMSG' || m.command === 'NOTICE') {
        this.addMessage(ch.name, this.entryOf(m), { history: true });
        count++;
      } else if (['JOIN', 'PART', 'KICK', 'QUIT', 'TOPIC', 'MODE'].includes(m.command)) {
        const src = parseSource(m.source);
        this.addMessage(ch.name, { kind: 'event', event: m.command, nick: src.nick, msgid: m.tags.msgid || null,
          time: messageTime(m), params: m.params }, { history: true });
        count++;
      }
    }
    const wasOlder = ch.historyPending === 'older';
    ch.historyPending = false;
    if (messages.length < HISTORY_PAGE) ch.noOlder = true;
    this.emit('history', { channel: ch.name, count, older: wasOlder });
  }

  // ---- intentions from the UI ----

  register(account, phone, password) {
    return this.cmd('REGISTER', account, phone || '*', password);
  }

  verify(account, code) {
    return this.cmd('VERIFY', account, code);
  }

  list(filter) {
    this.listing = [];
    const f = listFilter(filter);
    return f ? this.cmd('LIST', f) : this.send('LIST');
  }

  join(name) {
    const n = name.trim();
    if (!n) return false;
    return this.cmd('JOIN', isChannel(n) ? n : '#' + n);
  }

  part(name) {
    return this.cmd('PART', name);
  }

  say(target, text) {
    let sent = 0;
    for (const piece of splitText(text, 400)) {
      if (!this.cmd('PRIVMSG', target, piece)) break;
      sent++;
      if (!this.caps.has('echo-message')) {
        this.addMessage(target, { kind: 'privmsg', nick: this.nick, text: piece, self: true, time: new Date() });
      }
    }
    return sent;
  }

  loadLatest(name) {
    const ch = this.channel(name);
    if (!ch || !this.caps.has('draft/chathistory')) return false;
    ch.historyPending = 'latest';
    return this.cmd('CHATHISTORY', 'LATEST', ch.name, '*', String(HISTORY_PAGE));
  }

  loadOlder(name) {
    const ch = this.channel(name);
    if (!ch || !this.caps.has('draft/chathistory') || ch.historyPending || ch.noOlder) return false;
    const oldest = ch.messages.find((m) => m.msgid || m.time);
    let ref = '*';
    if (oldest && oldest.msgid) ref = 'msgid=' + oldest.msgid;
    else if (oldest) ref = 'timestamp=' + oldest.time.toISOString();
    else return this.loadLatest(name);
    ch.historyPending = 'older';
    return this.cmd('CHATHISTORY', 'BEFORE', ch.name, ref, String(HISTORY_PAGE));
  }

  report(msgid, category, text) {
    const clean = text.replace(/[\r\n\0]/g, ' ');
    return this.send(serialize({ command: 'REPORT', params: ['msgid=' + msgid, category, clean] }, { trailing: true }));
  }
}

const SECRET_LINE = /^((?:AUTHENTICATE|REGISTER|PASS|VERIFY) |PRIVMSG NickServ :(?:IDENTIFY|REGISTER|SET PASSWORD|DROP|IDENTITY|PHONE|VERIFY)\b)/i;

/** A line with a password, code, phone or identity in it, shortened to its
 *  command for display and debugging. */
export function maskSecret(l) {
  const m = SECRET_LINE.exec(l);
  return m ? `${m[1].trim()} ***` : l;
}

/** USER line: the username is the account, cut to letters and digits. */
function serializeUser(account) {
  const u = String(account || 'web').replace(/[^A-Za-z0-9_-]/g, '').slice(0, 10) || 'web';
  return line('USER', u, '0', '*', 'Qun web chat');
}

/** The LIST parameter for what the user typed: empty → none; with a glob or
 *  a filter operator → as typed; a word → "*word*". */
export function listFilter(text) {
  const t = String(text || '').trim().replace(/\s+/g, '');
  if (!t) return '';
  if (/[*?<>!,]/.test(t) || /^[CT][<>]/.test(t)) return t;
  return `*${t}*`;
}

const HANDLERS = {
  PING(msg) {
    this.send(line('PONG', msg.params[0] ?? ''));
  },
  ERROR(msg) {
    this.emit('service', { from: 'server', text: msg.params[0] || 'ERROR', kind: 'error' });
  },
  '001'(msg) {
    this.nick = msg.params[0];
    this.serverName = msg.source;
    this.state = 'registered';
    this.emit('status', { state: this.state });
    this.emit('registered', { nick: this.nick });
    if (this.pendingRegister) {
      const r = this.pendingRegister;
      this.pendingRegister = null;
      this.pendingVerifyAccount = r.account;
      this.register(r.account, r.phone, r.password);
    }
  },
  '005'(msg) {
    parseIsupport(msg.params.slice(1, -1), this.isupport);
    if (this.isupport.PREFIX !== undefined) this.prefix = parsePrefix(this.isupport.PREFIX);
  },
  '432'(msg) {
    this.nickInUse(msg);
  },
  '433'(msg) {
    this.nickInUse(msg);
  },
  '900'(msg) {
    this.account = msg.params[2] || null;
    this.emit('account', { account: this.account });
  },
  '901'() {
    this.account = null;
    this.emit('account', { account: null });
  },
  NICK(msg) {
    const src = parseSource(msg.source);
    const nn = msg.params[0];
    if (this.nick && foldName(src.nick) === foldName(this.nick)) {
      this.nick = nn;
      this.emit('nick', { nick: nn });
    }
    for (const ch of this.channels.values()) {
      const m = ch.members.get(foldName(src.nick));
      if (m) {
        ch.members.delete(foldName(src.nick));
        ch.members.set(foldName(nn), { ...m, nick: nn });
        this.emit('members', { channel: ch.name });
      }
    }
  },
  JOIN(msg) {
    const src = parseSource(msg.source);
    const name = msg.params[0];
    const ch = this.channel(name, true);
    const self = foldName(src.nick) === foldName(this.nick || '');
    if (self) {
      ch.name = name;
      ch.joined = true;
      ch.members.clear();
      ch.noOlder = false;
      this.emit('joined', { channel: name });
      this.loadLatest(name);
    } else {
      ch.members.set(foldName(src.nick), { nick: src.nick, prefixes: '' });
      this.emit('members', { channel: ch.name });
    }
    this.addMessage(ch.name, { kind: 'event', event: 'JOIN', nick: src.nick, msgid: msg.tags.msgid || null,
      time: messageTime(msg), params: msg.params });
  },
  PART(msg) {
    this.left(msg, parseSource(msg.source).nick, msg.params[0]);
  },
  KICK(msg) {
    this.left(msg, msg.params[1], msg.params[0]);
  },
  QUIT(msg) {
    const nick = parseSource(msg.source).nick;
    for (const ch of this.channels.values()) {
      if (ch.members.delete(foldName(nick))) {
        this.addMessage(ch.name, { kind: 'event', event: 'QUIT', nick, time: messageTime(msg), params: msg.params });
        this.emit('members', { channel: ch.name });
      }
    }
  },
  TOPIC(msg) {
    const ch = this.channel(msg.params[0]);
    if (!ch) return;
    ch.topic = msg.params[1] || '';
    this.emit('topic', { channel: ch.name, topic: ch.topic });
    this.addMessage(ch.name, { kind: 'event', event: 'TOPIC', nick: parseSource(msg.source).nick,
      msgid: msg.tags.msgid || null, time: messageTime(msg), params: msg.params });
  },
  '331'(msg) {
    const ch = this.channel(msg.params[1]);
    if (ch) {
      ch.topic = '';
      this.emit('topic', { channel: ch.name, topic: '' });
    }
  },
  '332'(msg) {
    const ch = this.channel(msg.params[1], true);
    ch.topic = msg.params[2] || '';
    this.emit('topic', { channel: ch.name, topic: ch.topic });
  },
  '353'(msg) {
    const ch = this.channel(msg.params[2]);
    if (!ch) return;
    if (!ch.namesBuf) ch.namesBuf = new Map();
    for (const e of (msg.params[3] || '').split(' ')) {
      if (!e) continue;
      const n = parseNamesEntry(e, this.prefix.chars);
      ch.namesBuf.set(foldName(n.nick), n);
    }
  },
  '366'(msg) {
    for (const name of (msg.params[1] || '').split(',')) {
      const ch = this.channel(name);
      if (ch && ch.namesBuf) {
        ch.members = ch.namesBuf;
        ch.namesBuf = null;
        this.emit('members', { channel: ch.name });
      }
    }
  },
  MODE(msg) {
    const ch = isChannel(msg.params[0]) ? this.channel(msg.params[0]) : null;
    if (!ch) return;
    const changes = parseModeChanges(msg.params[1], msg.params.slice(2), this.isupport.CHANMODES || 'beI,k,l,imnst',
      this.prefix.modes);
    let roles = false;
    for (const c of changes) {
      const idx = this.prefix.modes.indexOf(c.mode);
      if (idx < 0 || !c.arg) continue;
      const m = ch.members.get(foldName(c.arg));
      if (!m) continue;
      const chr = this.prefix.chars[idx];
      let p = m.prefixes.replace(chr, '');
      if (c.add) p += chr;
      m.prefixes = p.split('').sort((a, b) => this.prefix.chars.indexOf(a) - this.prefix.chars.indexOf(b)).join('');
      roles = true;
    }
    if (roles) this.emit('members', { channel: ch.name });
    this.addMessage(ch.name, { kind: 'event', event: 'MODE', nick: parseSource(msg.source).nick,
      msgid: msg.tags.msgid || null, time: messageTime(msg), params: msg.params });
  },
  '321'() {
    this.listing = [];
  },
  '322'(msg) {
    if (!this.listing) this.listing = [];
    if (this.listing.length >= 1000) return;
    this.listing.push({ name: msg.params[1], members: Number(msg.params[2]) || 0, ...parseListTopic(msg.params[3]) });
  },
  '323'() {
    this.lastList = this.listing || [];
    this.listing = null;
    this.emit('list', { entries: this.lastList });
  },
  PRIVMSG(msg) {
    this.message(msg);
  },
  NOTICE(msg) {
    this.message(msg);
  },
  FAIL(msg) {
    this.standardReply(msg);
  },
  WARN(msg) {
    this.standardReply(msg);
  },
  NOTE(msg) {
    this.standardReply(msg);
  },
  REGISTER(msg) {
    // REGISTER SUCCESS|VERIFICATION_REQUIRED <account> :text
    this.emit('register', { code: msg.params[0], account: msg.params[1], text: msg.params[msg.params.length - 1] });
  },
  VERIFY(msg) {
    this.emit('verify', { code: msg.params[0], account: msg.params[1], text: msg.params[msg.params.length - 1] });
  },
};

Object.assign(IrcClient.prototype, {
  nickInUse(msg) {
    if (this.state === 'registered') {
      this.emit('service', { from: 'server', text: msg.params.slice(1).join(' '), kind: 'error', code: msg.command });
      return;
    }
    // during connection registration: try another nick
    this.nickTries++;
    const base = msg.command === '432' ? 'web' : (this.wantedNick || 'web').slice(0, 20);
    const alt = `${base}${this.nickTries < 3 ? '_'.repeat(this.nickTries) : Math.floor(Math.random() * 100000)}`;
    this.send(line('NICK', alt));
  },

  left(msg, nick, name) {
    const ch = this.channel(name);
    if (!ch) return;
    const self = foldName(nick) === foldName(this.nick || '');
    this.addMessage(ch.name, { kind: 'event', event: msg.command, nick, msgid: msg.tags.msgid || null,
      time: messageTime(msg), params: msg.params });
    if (self) {
      ch.joined = false;
      ch.members.clear();
      this.channels.delete(foldName(name));
      this.emit('parted', { channel: ch.name, kicked: msg.command === 'KICK', reason: msg.params[msg.params.length - 1] });
    } else {
      ch.members.delete(foldName(nick));
      this.emit('members', { channel: ch.name });
    }
  },

  message(msg) {
    const target = msg.params[0] || '';
    const src = parseSource(msg.source);
    const bare = target.replace(/^[~@+]+(?=#)/, ''); // STATUSMSG
    if (isChannel(bare)) {
      this.addMessage(bare, this.entryOf(msg));
      return;
    }
    if (msg.command === 'PRIVMSG' && /^\x01(?!ACTION)/.test(msg.params[1] || '')) return; // CTCP queries
    const e = this.entryOf(msg);
    const from = src.nick || this.serverName || 'server';
    const self = e.self;
    if (self) e.text = maskSecret(`PRIVMSG ${target} :${e.text}`).replace(/^PRIVMSG \S+ :?/, '');
    this.emit('service', {
      from: self ? `→ ${target}` : from,
      service: SERVICES.find((s) => s.toLowerCase() === (from || '').toLowerCase()) || null,
      text: e.text, kind: msg.command.toLowerCase(), time: e.time, self,
    });
  },

  standardReply(msg) {
    const r = parseStandardReply(msg);
    const chan = r.context.find((c) => isChannel(c));
    if (r.command === 'CHATHISTORY' && chan && this.channel(chan)) {
      const ch = this.channel(chan);
      ch.historyPending = false;
      this.emit('history', { channel: ch.name, count: 0, failed: true });
    }
    if (chan && this.channel(chan) && msg.command !== 'NOTE') {
      this.addMessage(chan, { kind: msg.command === 'FAIL' ? 'error' : 'warn', text: r.description, code: r.code,
        command: r.command });
    }
    if (msg.command === 'NOTE' && r.command === 'JOIN' && chan) {
      const ch = this.channel(chan);
      if (ch) {
        ch.info = r.description;
        this.emit('topic', { channel: ch.name, topic: ch.topic });
      }
    }
    this.emit('reply', r);
  },
});
