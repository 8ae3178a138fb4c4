// test_irc_parse.mjs - the web page's pure IRC module (web/public/irc.js):
// line parsing (tags and their escapes, sources, middle and trailing
// parameters), serialising (and refusing what would inject a line), CAP LS
// 302 multi-line answers and the CAP/SASL state machine, SASL PLAIN
// chunking at 400 bytes, BATCH collection, and the helpers for NAMES, LIST,
// MODE, ISUPPORT and standard replies. Run: node --test tests/web/
import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  BatchTracker, CapNegotiator, authenticateLines, base64, ctcpAction, escapeTagValue, line,
  parseCapList, parseIsupport, parseLine, parseListTopic, parseModeChanges, parseNamesEntry,
  parsePrefix, parseSource, parseStandardReply, saslPlainLines, serialize, splitText,
  unescapeTagValue,
} from '../../web/public/irc.js';

test('plain lines: source, command, middle and trailing parameters', () => {
  assert.deepEqual(parseLine(':irc.qun.test 001 alice :Welcome to Qun, alice'), {
    tags: {}, source: 'irc.qun.test', command: '001', params: ['alice', 'Welcome to Qun, alice'],
  });
  assert.deepEqual(parseLine('PING :abc def').params, ['abc def']);
  assert.deepEqual(parseLine('privmsg #g hi').command, 'PRIVMSG');
  assert.deepEqual(parseLine(':a!b@c PRIVMSG #g :').params, ['#g', '']);
  assert.deepEqual(parseLine(':a!b@c PRIVMSG #g ::-) smile').params, ['#g', ':-) smile']);
  assert.deepEqual(parseLine(':a!b@c PRIVMSG #g :a  b : c').params, ['#g', 'a  b : c']);
  assert.deepEqual(parseLine(':s  MODE   #g  +o   bob').params, ['#g', '+o', 'bob']);
  assert.deepEqual(parseLine('CMD a b c\r\n').params, ['a', 'b', 'c']);
  assert.deepEqual(parseLine(':s 005 me PREFIX=(qov)~@+ CHANTYPES=# :are supported').params,
    ['me', 'PREFIX=(qov)~@+', 'CHANTYPES=#', 'are supported']);
  // UTF-8 text is kept as is
  assert.equal(parseLine(':x!y@z PRIVMSG #我的群 :大家好').params[0], '#我的群');
});

test('malformed lines give null, never an exception', () => {
  for (const bad of ['', '   ', '@a=b', ':src', ':src ', '@a=b :src', ':a :b', '12 x', 'FOO-BAR x', null, 42]) {
    assert.equal(parseLine(bad), null, String(bad));
  }
});

test('message tags: values, escapes, no value, repeats', () => {
  const m = parseLine('@time=2026-01-02T03:04:05.678Z;msgid=AbC;account=xiao;+draft/x;empty= :n!u@h PRIVMSG #g :hi');
  assert.equal(m.tags.time, '2026-01-02T03:04:05.678Z');
  assert.equal(m.tags.msgid, 'AbC');
  assert.equal(m.tags.account, 'xiao');
  assert.equal(m.tags['+draft/x'], '');
  assert.equal(m.tags.empty, '');
  assert.equal(m.source, 'n!u@h');
  const e = parseLine('@a=x\\:y\\sz\\\\w\\r\\n;b=\\q\\;c=trail\\ CMD');
  assert.equal(e.tags.a, 'x;y z\\w\r\n');
  assert.equal(e.tags.b, 'q'); // unknown escape: the character
  assert.equal(e.tags.c, 'trail'); // lone trailing backslash dropped
  assert.equal(parseLine('@k=1;k=2 CMD').tags.k, '2');
  assert.equal(unescapeTagValue('\\s\\s'), '  ');
  for (const v of ['a;b c\\d\r\ne', '', '中文;空格 ']) assert.equal(unescapeTagValue(escapeTagValue(v)), v);
  assert.equal(escapeTagValue('a; b'), 'a\\:\\sb');
});

test('serialize: colon only when needed, tags escaped, injection refused', () => {
  assert.equal(line('PRIVMSG', '#g', 'hello'), 'PRIVMSG #g hello');
  assert.equal(line('PRIVMSG', '#g', 'hello there'), 'PRIVMSG #g :hello there');
  assert.equal(line('PRIVMSG', '#g', ':)'), 'PRIVMSG #g ::)');
  assert.equal(line('TOPIC', '#g', ''), 'TOPIC #g :');
  assert.equal(serialize({ command: 'REPORT', params: ['msgid=x', 'spam', 'one'] }, { trailing: true }),
    'REPORT msgid=x spam :one');
  assert.equal(serialize({ tags: { label: 'a b;c', '+typing': '' }, command: 'TAGMSG', params: ['#g'] }),
    '@label=a\\sb\\:c;+typing TAGMSG #g');
  assert.throws(() => line('PRIVMSG', '#g', 'hi\r\nQUIT :pwned'));
  assert.throws(() => line('PRIVMSG', '#g', 'nul\0'));
  assert.throws(() => line('PRIVMSG', 'two words', 'x'));
  assert.throws(() => line('PRIVMSG', ':x', 'x'));
  assert.throws(() => line('PRIVMSG', '', 'x'));
  assert.throws(() => line('BAD CMD'));
  // round trip
  for (const l of ['@a=b\\sc :n!u@h PRIVMSG #g :x y', 'PING :t u', 'MODE #g +o bob']) {
    assert.equal(serialize(parseLine(l)), l);
  }
});

test('sources', () => {
  assert.deepEqual(parseSource('alice!~a@host.example'), { nick: 'alice', user: '~a', host: 'host.example' });
  assert.deepEqual(parseSource('irc.qun.test'), { nick: 'irc.qun.test', user: null, host: null });
  assert.deepEqual(parseSource('nick@host'), { nick: 'nick', user: null, host: 'host' });
  assert.equal(parseSource('NickServ!NickServ@services.irc.qun.test').nick, 'NickServ');
  assert.equal(parseSource(null).nick, null);
});

test('CAP lists and ISUPPORT', () => {
  const caps = parseCapList('sasl=PLAIN,EXTERNAL,SCRAM-SHA-256 draft/account-registration=before-connect,custom-account-name batch');
  assert.equal(caps.get('sasl'), 'PLAIN,EXTERNAL,SCRAM-SHA-256');
  assert.equal(caps.get('draft/account-registration'), 'before-connect,custom-account-name');
  assert.equal(caps.get('batch'), '');
  const is = parseIsupport(['PREFIX=(qov)~@+', 'NETWORK=Qun\\x20Net', 'SAFELIST', 'CHATHISTORY=1000']);
  assert.deepEqual(is, { PREFIX: '(qov)~@+', NETWORK: 'Qun Net', SAFELIST: '', CHATHISTORY: '1000' });
  parseIsupport(['-SAFELIST'], is);
  assert.equal('SAFELIST' in is, false);
  assert.deepEqual(parsePrefix('(qov)~@+'), { modes: 'qov', chars: '~@+' });
  assert.deepEqual(parsePrefix('garbage'), { modes: 'qov', chars: '~@+' });
});

test('CAP LS 302 over several lines, REQ, ACK, then SASL PLAIN and CAP END', () => {
  const n = new CapNegotiator({ sasl: { account: 'xiaoming', password: 'my long password' } });
  assert.deepEqual(n.start(), ['CAP LS 302']);
  let r = n.handle(parseLine(':s CAP * LS * :multi-prefix sasl=PLAIN,EXTERNAL,SCRAM-SHA-256 batch'));
  assert.deepEqual(r.send, []); // more to come
  r = n.handle(parseLine(':s CAP * LS :server-time echo-message unknown-cap draft/chathistory'));
  assert.equal(r.send.length, 1);
  const req = r.send[0];
  assert.match(req, /^CAP REQ :/);
  const asked = req.slice('CAP REQ :'.length).split(' ');
  assert.deepEqual(asked.sort(), ['batch', 'draft/chathistory', 'echo-message', 'multi-prefix', 'sasl', 'server-time']);
  r = n.handle(parseLine(`:s CAP * ACK :${asked.join(' ')}`));
  assert.deepEqual(r.send, ['AUTHENTICATE PLAIN']);
  assert.equal(r.events[0].type, 'caps');
  assert.ok(n.enabled.has('sasl'));
  r = n.handle(parseLine('AUTHENTICATE +'));
  assert.deepEqual(r.send, ['AUTHENTICATE ' + Buffer.from('\0xiaoming\0my long password').toString('base64')]);
  r = n.handle(parseLine(':s 900 * * xiaoming :You are now logged in as xiaoming'));
  r = n.handle(parseLine(':s 903 * :SASL authentication successful'));
  assert.deepEqual(r.send, ['CAP END']);
  assert.deepEqual(r.events.map((e) => e.type), ['sasl-success', 'cap-end']);
  assert.equal(r.events[0].account, 'xiaoming');
});

test('SASL failure is reported and CAP END left to the caller; no SASL cap; no credentials', () => {
  let n = new CapNegotiator({ sasl: { account: 'a', password: 'b' } });
  n.start();
  n.handle(parseLine(':s CAP * LS :sasl'));
  n.handle(parseLine(':s CAP * ACK :sasl'));
  n.handle(parseLine('AUTHENTICATE +'));
  let r = n.handle(parseLine(':s 904 * :SASL authentication failed'));
  assert.deepEqual(r.send, []);
  assert.equal(r.events[0].type, 'sasl-failure');
  assert.equal(r.events[0].numeric, '904');

  n = new CapNegotiator({ sasl: { account: 'a', password: 'b' } });
  n.start();
  r = n.handle(parseLine(':s CAP * LS :batch'));
  assert.deepEqual(r.send, ['CAP REQ :batch']);
  r = n.handle(parseLine(':s CAP * NAK :batch'));
  assert.equal(r.events.find((e) => e.type === 'sasl-failure').numeric, 'nocap');

  n = new CapNegotiator();
  n.start();
  r = n.handle(parseLine(':s CAP * LS :'));
  assert.deepEqual(r.send, ['CAP END']);
});

test('SASL PLAIN is cut into 400-byte chunks; a multiple of 400 ends with +', () => {
  assert.equal(base64(new TextEncoder().encode('\0a\0b')), 'AGEAYg==');
  assert.equal(base64(new Uint8Array([0xff, 0xfe])), '//4=');
  // 300 payload bytes → 400 base64 characters exactly
  const exact = authenticateLines(new Uint8Array(300).fill(65));
  assert.equal(exact.length, 2);
  assert.equal(exact[0].length, 'AUTHENTICATE '.length + 400);
  assert.equal(exact[1], 'AUTHENTICATE +');
  const long = saslPlainLines('account', 'p'.repeat(600));
  const b64 = Buffer.from('\0account\0' + 'p'.repeat(600)).toString('base64');
  assert.equal(long.length, Math.ceil(b64.length / 400));
  assert.equal(long.map((l) => l.slice('AUTHENTICATE '.length)).join(''), b64);
  assert.ok(long.every((l) => l.length <= 'AUTHENTICATE '.length + 400));
  assert.deepEqual(authenticateLines(new Uint8Array(0)), ['AUTHENTICATE +']);
  // non-ASCII passwords are UTF-8
  assert.equal(saslPlainLines('张三', '密码密码')[0].slice(13),
    Buffer.from('\0张三\0密码密码').toString('base64'));
});

test('BATCH: chathistory collected, nested batches, unknown ids live', () => {
  const b = new BatchTracker();
  let r = b.handle(parseLine('@label=1 :s BATCH +h1 chathistory #g'));
  assert.equal(r.kind, 'start');
  assert.equal(r.batch.type, 'chathistory');
  assert.deepEqual(r.batch.params, ['#g']);
  assert.equal(b.handle(parseLine('@batch=h1;msgid=m1;time=2026-01-01T00:00:00.000Z :a!b@c PRIVMSG #g :one')).kind, 'inside');
  assert.equal(b.handle(parseLine('@batch=h1;msgid=m2 :a!b@c JOIN #g')).kind, 'inside');
  assert.equal(b.handle(parseLine('@batch=other :a!b@c PRIVMSG #g :live')), null);
  assert.equal(b.handle(parseLine(':a!b@c PRIVMSG #g :live')), null);
  r = b.handle(parseLine(':s BATCH -h1'));
  assert.equal(r.kind, 'end');
  assert.deepEqual(r.batch.messages.map((m) => m.tags.msgid), ['m1', 'm2']);
  // nested: the inner batch ends inside the outer one
  b.handle(parseLine(':s BATCH +out labeled-response'));
  b.handle(parseLine('@batch=out :s BATCH +in chathistory #g'));
  b.handle(parseLine('@batch=in :a!b@c PRIVMSG #g :x'));
  assert.equal(b.handle(parseLine(':s BATCH -in')).kind, 'inside');
  r = b.handle(parseLine(':s BATCH -out'));
  assert.equal(r.kind, 'end');
  assert.equal(r.batch.messages[0].batch.type, 'chathistory');
  assert.equal(r.batch.messages[0].batch.messages.length, 1);
  // an unknown end is swallowed, not thrown
  assert.equal(b.handle(parseLine(':s BATCH -nosuch')).kind, 'inside');
  // bounded
  const small = new BatchTracker({ maxOpen: 1, maxMessages: 2 });
  small.handle(parseLine('BATCH +a x'));
  small.handle(parseLine('BATCH +b x'));
  for (let i = 0; i < 5; i++) small.handle(parseLine('@batch=a PRIVMSG #g :x'));
  r = small.handle(parseLine('BATCH -a'));
  assert.equal(r.batch.messages.length, 2);
  assert.equal(r.batch.dropped, 3);
});

test('NAMES entries, LIST topics, MODE changes, standard replies', () => {
  assert.deepEqual(parseNamesEntry('~@alice'), { nick: 'alice', prefixes: '~@' });
  assert.deepEqual(parseNamesEntry('@~alice'), { nick: 'alice', prefixes: '~@' });
  assert.deepEqual(parseNamesEntry('+bob!u@h'), { nick: 'bob', prefixes: '+' });
  assert.deepEqual(parseNamesEntry('carol'), { nick: 'carol', prefixes: '' });
  assert.deepEqual(parseListTopic('[+nt] {10001 friends small} hello world'),
    { modes: '+nt', code: '10001', category: 'friends', size: 'small', topic: 'hello world' });
  assert.deepEqual(parseListTopic('plain topic'),
    { modes: '', code: '', category: '', size: '', topic: 'plain topic' });
  assert.deepEqual(parseModeChanges('+ov-b+l', ['bob', 'bob', '*!*@x', '5']), [
    { add: true, mode: 'o', arg: 'bob' }, { add: true, mode: 'v', arg: 'bob' },
    { add: false, mode: 'b', arg: '*!*@x' }, { add: true, mode: 'l', arg: '5' }]);
  assert.deepEqual(parseModeChanges('-l+m', []), [{ add: false, mode: 'l', arg: null }, { add: true, mode: 'm', arg: null }]);
  const r = parseStandardReply(parseLine('FAIL PRIVMSG CREDIT_LEVEL #g :Credit level E'));
  assert.deepEqual(r, { kind: 'FAIL', command: 'PRIVMSG', code: 'CREDIT_LEVEL', context: ['#g'], description: 'Credit level E' });
  const n = parseStandardReply(parseLine('NOTE REPORT FILED 17 :Complaint 17 filed.'));
  assert.deepEqual(n.context, ['17']);
});

test('splitText keeps pieces under the byte limit and splits lines', () => {
  assert.deepEqual(splitText('a\nb\r\n\nc'), ['a', 'b', 'c']);
  const zh = '你'.repeat(300); // 900 bytes
  const parts = splitText(zh, 400);
  assert.ok(parts.every((p) => new TextEncoder().encode(p).length <= 400));
  assert.equal(parts.join(''), zh);
  const words = Array.from({ length: 100 }, (_, i) => `word${i}`).join(' ');
  assert.equal(splitText(words, 100).join(''), words);
  assert.deepEqual(splitText('   '), []);
  assert.equal(ctcpAction('\x01ACTION waves\x01'), 'waves');
  assert.equal(ctcpAction('hello'), null);
});
