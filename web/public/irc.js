// irc.js - the IRC protocol, without I/O and without the DOM.
//
// What it owns: parsing one IRC line (IRCv3 message tags with value
// escaping, source, command, middle and trailing parameters) and
// serialising one back; source, ISUPPORT, NAMES-entry, LIST-entry, MODE and
// standard-reply helpers; the CAP LS 302 / CAP REQ / SASL PLAIN state machine
// (CapNegotiator) and the BATCH collector (BatchTracker).
//
// Invariants: every function here is pure or owns only its own object's
// state; nothing touches the network, timers or the page, so the whole
// module runs under `node --test` (tests/web/test_irc_parse.mjs).
// parseLine() never throws: a line that does not follow the grammar gives
// null. serialize() throws on a parameter that cannot be sent (CR, LF or
// NUL anywhere; a space, a leading ':' or emptiness in a middle parameter),
// so user text can never inject a second command.
//
// Threads: none (browser main thread or Node).

const TAG_UNESCAPE = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };
const TAG_ESCAPE = { ';': '\\:', ' ': '\\s', '\\': '\\\\', '\r': '\\r', '\n': '\\n' };

/** Undoes IRCv3 tag-value escaping: "\:" ";", "\s" " ", "\\" "\", "\r", "\n";
 *  any other "\x" is "x" and a lone trailing backslash is dropped. */
export function unescapeTagValue(raw) {
  let out = '';
  for (let i = 0; i < raw.length; i++) {
    const ch = raw[i];
    if (ch !== '\\') {
      out += ch;
      continue;
    }
    if (i + 1 >= raw.length) break;
    const nx = raw[++i];
    out += Object.prototype.hasOwnProperty.call(TAG_UNESCAPE, nx) ? TAG_UNESCAPE[nx] : nx;
  }
  return out;
}

export function escapeTagValue(value) {
  let out = '';
  for (const ch of String(value)) out += TAG_ESCAPE[ch] ?? ch;
  return out;
}

/**
 * Parses one line (CR/LF already removed; a trailing CR/LF is tolerated).
 * Returns { tags, source, command, params } or null for a malformed line.
 * tags: plain object, a tag without a value (or with an empty one) is "";
 * a repeated key keeps its last value. source: without ':' or null.
 * command: upper-cased. params: the trailing parameter last, without ':'.
 */
export function parseLine(line) {
  if (typeof line !== 'string') return null;
  let rest = line.replace(/[\r\n]+$/, '');
  const tags = Object.create(null);
  if (rest.startsWith('@')) {
    const sp = rest.indexOf(' ');
    if (sp < 0) return null;
    for (const item of rest.slice(1, sp).split(';')) {
      if (!item) continue;
      const eq = item.indexOf('=');
      if (eq < 0) tags[item] = '';
      else if (eq > 0) tags[item.slice(0, eq)] = unescapeTagValue(item.slice(eq + 1));
    }
    rest = rest.slice(sp + 1).replace(/^ +/, '');
  }
  let source = null;
  if (rest.startsWith(':')) {
    const sp = rest.indexOf(' ');
    if (sp < 0) return null;
    source = rest.slice(1, sp);
    rest = rest.slice(sp + 1).replace(/^ +/, '');
  }
  const params = [];
  let command = null;
  while (rest.length) {
    if (command !== null && rest.startsWith(':')) {
      params.push(rest.slice(1));
      rest = '';
      break;
    }
    const sp = rest.indexOf(' ');
    const word = sp < 0 ? rest : rest.slice(0, sp);
    rest = sp < 0 ? '' : rest.slice(sp + 1).replace(/^ +/, '');
    if (command === null) command = word;
    else params.push(word);
  }
  if (!command || command.startsWith(':')) return null;
  if (!/^([A-Za-z]+|[0-9]{3})$/.test(command)) return null;
  return { tags: { ...tags }, source, command: command.toUpperCase(), params };
}

function checkParam(p, last) {
  if (typeof p !== 'string') p = String(p);
  if (/[\r\n\0]/.test(p)) throw new Error('IRC parameter contains CR, LF or NUL');
  if (!last && (p === '' || p.includes(' ') || p.startsWith(':')))
    throw new Error('IRC middle parameter is empty, has a space or starts with ":"');
  return p;
}

/**
 * Serialises { tags?, source?, command, params? } (or command + params) to
 * one line without CRLF. The last parameter gets a ':' when it needs one
 * (empty, a space, or a leading ':'), or always when `trailing` is true.
 */
export function serialize(msg, { trailing = false } = {}) {
  const parts = [];
  if (msg.tags) {
    const t = Object.entries(msg.tags).map(([k, v]) =>
      v === '' || v === true || v == null ? k : `${k}=${escapeTagValue(v)}`);
    if (t.length) parts.push('@' + t.join(';'));
  }
  if (msg.source) parts.push(':' + msg.source);
  if (!/^([A-Za-z]+|[0-9]{3})$/.test(msg.command || '')) throw new Error('bad IRC command');
  parts.push(msg.command);
  const params = msg.params || [];
  params.forEach((p, i) => {
    const last = i === params.length - 1;
    p = checkParam(p, last);
    if (last && (trailing || p === '' || p.includes(' ') || p.startsWith(':'))) parts.push(':' + p);
    else parts.push(p);
  });
  return parts.join(' ');
}

/** Shorthand: line('PRIVMSG', '#g', 'hello there') */
export function line(command, ...params) {
  return serialize({ command, params });
}

/** "nick!user@host" → { nick, user, host }; a server name is all nick. */
export function parseSource(source) {
  if (!source) return { nick: null, user: null, host: null };
  const bang = source.indexOf('!');
  const at = source.indexOf('@', bang < 0 ? 0 : bang);
  if (bang < 0 && at < 0) return { nick: source, user: null, host: null };
  const nickEnd = bang >= 0 ? bang : at;
  return {
    nick: source.slice(0, nickEnd),
    user: bang >= 0 ? source.slice(bang + 1, at >= 0 ? at : undefined) : null,
    host: at >= 0 ? source.slice(at + 1) : null,
  };
}

/** The words of a CAP list ("a b=c d") → Map name → value ('' when none). */
export function parseCapList(text) {
  const caps = new Map();
  for (const w of (text || '').split(' ')) {
    if (!w) continue;
    const eq = w.indexOf('=');
    if (eq < 0) caps.set(w.replace(/^[-~=]/, ''), '');
    else caps.set(w.slice(0, eq).replace(/^[-~=]/, ''), w.slice(eq + 1));
  }
  return caps;
}

/** RPL_ISUPPORT (005) parameters (without the nick and the trailing text)
 *  into an object; "-TOKEN" removes, values are \xHH-unescaped. */
export function parseIsupport(params, into = {}) {
  for (const tok of params) {
    if (!tok) continue;
    if (tok.startsWith('-')) {
      delete into[tok.slice(1)];
      continue;
    }
    const eq = tok.indexOf('=');
    const key = eq < 0 ? tok : tok.slice(0, eq);
    const val = eq < 0 ? '' : tok.slice(eq + 1).replace(/\\x([0-9A-Fa-f]{2})/g,
      (_, h) => String.fromCharCode(parseInt(h, 16)));
    into[key] = val;
  }
  return into;
}

/** "PREFIX=(qov)~@+" value → { modes: 'qov', chars: '~@+' }. */
export function parsePrefix(value) {
  const m = /^\(([^)]*)\)(.*)$/.exec(value || '');
  if (!m || m[1].length !== m[2].length) return { modes: 'qov', chars: '~@+' };
  return { modes: m[1], chars: m[2] };
}

/** One NAMES entry ("~@alice", or "@bob!u@h" with userhost-in-names) →
 *  { nick, prefixes } where prefixes holds the role characters, highest first. */
export function parseNamesEntry(entry, chars = '~@+') {
  let i = 0;
  while (i < entry.length && chars.includes(entry[i])) i++;
  const prefixes = entry.slice(0, i).split('').sort((a, b) => chars.indexOf(a) - chars.indexOf(b));
  return { nick: parseSource(entry.slice(i)).nick, prefixes: prefixes.join('') };
}

/** The 322 RPL_LIST topic field of Qun: "[+nt] {10001 friends small} topic". */
export function parseListTopic(text) {
  const m = /^(?:\[([^\]]*)\] ?)?(?:\{(\S+) (\S+) (\S+)\} ?)?(.*)$/s.exec(text || '');
  return { modes: m[1] || '', code: m[2] || '', category: m[3] || '', size: m[4] || '', topic: m[5] || '' };
}

/**
 * A channel MODE change list → [{ add, mode, arg }]. chanmodes: the
 * CHANMODES ISUPPORT value ("beI,k,l,imnst"); prefixModes: "qov".
 */
export function parseModeChanges(modestr, args, chanmodes = 'beI,k,l,imnst', prefixModes = 'qov') {
  const [a = '', b = '', c = ''] = chanmodes.split(',');
  const out = [];
  let add = true;
  let ai = 0;
  for (const ch of modestr || '') {
    if (ch === '+') add = true;
    else if (ch === '-') add = false;
    else {
      const takes = prefixModes.includes(ch) || a.includes(ch) || b.includes(ch) || (add && c.includes(ch));
      out.push({ add, mode: ch, arg: takes ? (args[ai++] ?? null) : null });
    }
  }
  return out;
}

/** FAIL/WARN/NOTE: "<command> <code> [<context>...] :<description>" →
 *  { kind, command, code, context: [...], description }. */
export function parseStandardReply(msg) {
  const p = msg.params;
  return {
    kind: msg.command,
    command: p[0] || '*',
    code: p[1] || '',
    context: p.slice(2, -1),
    description: p.length >= 3 ? p[p.length - 1] : '',
  };
}

/** Splits text into pieces of at most maxBytes UTF-8 bytes, on code-point
 *  boundaries, preferring a space near the end. Lines break on "\n". */
export function splitText(text, maxBytes = 400) {
  const enc = new TextEncoder();
  const out = [];
  for (const lineText of String(text).replace(/\r\n?/g, '\n').split('\n')) {
    let rest = lineText;
    if (!rest) continue;
    while (enc.encode(rest).length > maxBytes) {
      let bytes = 0;
      let cut = 0;
      for (const ch of rest) {
        const n = enc.encode(ch).length;
        if (bytes + n > maxBytes) break;
        bytes += n;
        cut += ch.length;
      }
      const sp = rest.lastIndexOf(' ', cut);
      if (sp > cut / 2) cut = sp + 1;
      out.push(rest.slice(0, cut));
      rest = rest.slice(cut);
    }
    if (rest) out.push(rest);
  }
  return out.filter((s) => s.trim() !== '');
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/** Base64 of a Uint8Array (no line breaks). */
export function base64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

/** The AUTHENTICATE lines carrying a SASL payload: base64 cut into 400-byte
 *  chunks; a payload whose length is a multiple of 400 (or empty) ends
 *  with "AUTHENTICATE +". */
export function authenticateLines(payloadBytes) {
  const b = base64(payloadBytes);
  const out = [];
  for (let i = 0; i < b.length; i += 400) out.push('AUTHENTICATE ' + b.slice(i, i + 400));
  if (b.length % 400 === 0) out.push('AUTHENTICATE +');
  return out;
}

/** SASL PLAIN payload "authzid\0account\0password" (authzid empty). */
export function saslPlainLines(account, password) {
  return authenticateLines(new TextEncoder().encode(`\0${account}\0${password}`));
}

/** The capabilities the web page uses. */
export const WANTED_CAPS = [
  'sasl', 'draft/account-registration', 'message-tags', 'server-time', 'echo-message',
  'batch', 'labeled-response', 'multi-prefix', 'standard-replies', 'draft/chathistory',
  'draft/event-playback', 'account-tag', 'away-notify', 'extended-join', 'cap-notify',
];

/**
 * CAP negotiation and SASL PLAIN, as a state machine fed with parsed
 * messages. start() gives the first lines; handle(msg) returns
 * { send: [lines], events: [{ type, ... }] }. Events: 'caps' (negotiation
 * finished: enabled, available), 'sasl-success' (account), 'sasl-failure'
 * (numeric, text), 'cap-end'. With credentials the machine sends
 * AUTHENTICATE PLAIN once sasl is acknowledged and CAP END after 903; on a
 * SASL failure it sends nothing more and leaves CAP END to the caller
 * (who may close instead). Without credentials it ends at once.
 */
export class CapNegotiator {
  constructor({ wanted = WANTED_CAPS, sasl = null } = {}) {
    this.wanted = wanted;
    this.sasl = sasl;
    this.available = new Map();
    this.enabled = new Set();
    this.state = 'idle'; // idle → ls → req → sasl → done
    this.pendingReq = 0;
    this.account = null;
  }

  start() {
    this.state = 'ls';
    return ['CAP LS 302'];
  }

  handle(msg) {
    const send = [];
    const events = [];
    const out = { send, events };
    if (msg.command === 'CAP') {
      const sub = (msg.params[1] || '').toUpperCase();
      const more = msg.params.length > 3 && msg.params[2] === '*';
      const list = msg.params[msg.params.length - 1] || '';
      if (sub === 'LS' && this.state === 'ls') {
        for (const [k, v] of parseCapList(list)) this.available.set(k, v);
        if (!more) this._request(send, events);
      } else if (sub === 'ACK') {
        for (const w of list.split(' ')) {
          if (!w) continue;
          if (w.startsWith('-')) this.enabled.delete(w.slice(1));
          else this.enabled.add(w);
        }
        if (this.state === 'req' && --this.pendingReq <= 0) this._negotiated(send, events);
      } else if (sub === 'NAK') {
        if (this.state === 'req' && --this.pendingReq <= 0) this._negotiated(send, events);
      } else if (sub === 'NEW') {
        for (const [k, v] of parseCapList(list)) this.available.set(k, v);
        const ask = [...parseCapList(list).keys()].filter((c) => this.wanted.includes(c) && !this.enabled.has(c));
        if (ask.length && this.state === 'done') send.push('CAP REQ :' + ask.join(' '));
      } else if (sub === 'DEL') {
        for (const k of parseCapList(list).keys()) {
          this.available.delete(k);
          this.enabled.delete(k);
        }
      }
      return out;
    }
    if (this.state !== 'sasl') return out;
    if (msg.command === 'AUTHENTICATE' && msg.params[0] === '+') {
      send.push(...saslPlainLines(this.sasl.account, this.sasl.password));
    } else if (msg.command === '900') {
      this.account = msg.params[2] || null;
    } else if (msg.command === '903') {
      this.state = 'done';
      events.push({ type: 'sasl-success', account: this.account });
      this._end(send, events);
    } else if (['902', '904', '905', '906', '907', '908'].includes(msg.command)) {
      if (msg.command === '908') return out; // the mechanism list; 904 follows
      this.state = 'done';
      events.push({ type: 'sasl-failure', numeric: msg.command, text: msg.params[msg.params.length - 1] || '' });
    }
    return out;
  }

  _request(send, events) {
    const ask = this.wanted.filter((c) => this.available.has(c));
    if (!ask.length) {
      this._negotiated(send, events);
      return;
    }
    this.state = 'req';
    // one REQ per ~400 bytes; the server acknowledges or refuses each whole
    const reqs = [];
    let cur = [];
    for (const c of ask) {
      if ((cur.join(' ') + ' ' + c).length > 400) {
        reqs.push(cur);
        cur = [];
      }
      cur.push(c);
    }
    if (cur.length) reqs.push(cur);
    this.pendingReq = reqs.length;
    for (const r of reqs) send.push('CAP REQ :' + r.join(' '));
  }

  _negotiated(send, events) {
    events.push({ type: 'caps', enabled: new Set(this.enabled), available: new Map(this.available) });
    if (this.sasl && this.enabled.has('sasl')) {
      this.state = 'sasl';
      send.push('AUTHENTICATE PLAIN');
    } else {
      if (this.sasl) events.push({ type: 'sasl-failure', numeric: 'nocap', text: 'SASL is not available' });
      this.state = 'done';
      if (!this.sasl) this._end(send, events);
    }
  }

  _end(send, events) {
    send.push('CAP END');
    events.push({ type: 'cap-end' });
  }
}

/**
 * BATCH collector. handle(msg) returns:
 *   { kind: 'start', batch } for "BATCH +id type params..." (kept, not shown),
 *   { kind: 'inside' } for a message tagged batch=<open id> (kept in it),
 *   { kind: 'end', batch } for "BATCH -id", batch = { id, type, params,
 *      messages, parent } with the messages in arrival order (a nested
 *      batch's end is also stored as { batch } in its parent's messages),
 *   null for any other message (handle it live).
 * At most maxOpen batches and maxMessages messages per batch are kept; past
 * that, messages are dropped (counted in batch.dropped).
 */
export class BatchTracker {
  constructor({ maxOpen = 32, maxMessages = 5000 } = {}) {
    this.open = new Map();
    this.maxOpen = maxOpen;
    this.maxMessages = maxMessages;
  }

  handle(msg) {
    if (msg.command === 'BATCH' && msg.params.length) {
      const ref = msg.params[0];
      if (ref.startsWith('+')) {
        const id = ref.slice(1);
        if (this.open.size >= this.maxOpen) return { kind: 'inside' };
        const parent = msg.tags.batch && this.open.has(msg.tags.batch) ? msg.tags.batch : null;
        const batch = { id, type: msg.params[1] || '', params: msg.params.slice(2), messages: [],
          parent, tags: msg.tags, dropped: 0 };
        this.open.set(id, batch);
        return { kind: 'start', batch };
      }
      if (ref.startsWith('-')) {
        const id = ref.slice(1);
        const batch = this.open.get(id);
        if (!batch) return { kind: 'inside' };
        this.open.delete(id);
        if (batch.parent && this.open.has(batch.parent)) {
          this.open.get(batch.parent).messages.push({ batch });
          return { kind: 'inside' };
        }
        return { kind: 'end', batch };
      }
    }
    const id = msg.tags && msg.tags.batch;
    if (id && this.open.has(id)) {
      const batch = this.open.get(id);
      if (batch.messages.length < this.maxMessages) batch.messages.push(msg);
      else batch.dropped++;
      return { kind: 'inside' };
    }
    return null;
  }
}

/** The message's time: the server-time tag, else now. */
export function messageTime(msg, now = () => new Date()) {
  const t = msg.tags && msg.tags.time;
  if (t) {
    const d = new Date(t);
    if (!Number.isNaN(d.getTime())) return d;
  }
  return now();
}

/** A CTCP ACTION ("\x01ACTION waves\x01") → "waves", else null. */
export function ctcpAction(text) {
  const m = /^\x01ACTION (.*?)\x01?$/s.exec(text || '');
  return m ? m[1] : null;
}

/** Strips mIRC formatting codes (bold, colours, ...) from text. */
export function stripFormatting(text) {
  return String(text).replace(/\x03(\d{1,2}(,\d{1,2})?)?|[\x02\x0f\x11\x16\x1d\x1e\x1f]/g, '');
}

/** True when name is a channel (CHANTYPES "#"). */
export function isChannel(name, chantypes = '#') {
  return !!name && chantypes.includes(name[0]);
}

/** Case folding for comparing names: ASCII plus Unicode lower-casing and
 *  NFKC, near enough to the server's rfc8265 folding for a client's maps. */
export function foldName(name) {
  return String(name).normalize('NFKC').toLowerCase();
}
