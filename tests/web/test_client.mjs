// test_client.mjs - the web page's session logic (web/public/client.js)
// against a scripted fake connection, without a browser or a server: the
// log-in conversation (CAP LS 302, REQ, SASL PLAIN, CAP END, NICK/USER),
// registration then VERIFY, JOIN with NAMES roles and CHATHISTORY LATEST,
// history batches merged by msgid without touching live membership, BEFORE
// paging, echo-message, FAIL replies, REPORT and PING. Run: node --test.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { IrcClient, listFilter } from '../../web/public/client.js';

function fake() {
  const sent = [];
  let handlers = null;
  const client = new IrcClient({
    connectionFactory: (h) => {
      handlers = h;
      return {
        open() {},
        send(l) {
          if (/[\r\n]/.test(l)) throw new Error('CRLF in a line');
          sent.push(l);
          return true;
        },
        close() {},
      };
    },
  });
  const events = [];
  for (const type of ['status', 'account', 'register', 'verify', 'reply', 'login-failed', 'joined', 'history',
    'members', 'message', 'service', 'list', 'parted']) {
    client.addEventListener(type, (e) => events.push({ ...e.detail, type }));
  }
  return {
    client, sent, events,
    open() {
      handlers.onOpen();
    },
    recv(...lines) {
      for (const l of lines) handlers.onLine(l);
    },
    take() {
      return sent.splice(0);
    },
  };
}

const CAPS = 'sasl=PLAIN,EXTERNAL,SCRAM-SHA-256 draft/account-registration=before-connect,custom-account-name '
  + 'message-tags server-time echo-message batch labeled-response multi-prefix standard-replies '
  + 'draft/chathistory draft/event-playback account-tag away-notify extended-join cap-notify';

function loggedIn(nick = 'xiaoming') {
  const f = fake();
  f.client.connect({ mode: 'login', account: nick, password: 'pw pw pw pw' });
  f.open();
  assert.deepEqual(f.take(), ['CAP LS 302', `NICK ${nick}`, `USER ${nick} 0 * :Qun web chat`]);
  f.recv(`:irc.qun.test CAP * LS :${CAPS}`);
  const [req] = f.take();
  f.recv(`:irc.qun.test CAP * ACK :${req.slice(9)}`);
  assert.deepEqual(f.take(), ['AUTHENTICATE PLAIN']);
  f.recv('AUTHENTICATE +');
  assert.deepEqual(f.take(), ['AUTHENTICATE ' + Buffer.from(`\0${nick}\0pw pw pw pw`).toString('base64')]);
  f.recv(`:irc.qun.test 900 * * ${nick} :You are now logged in`, ':irc.qun.test 903 * :SASL successful');
  assert.deepEqual(f.take(), ['CAP END']);
  f.recv(`:irc.qun.test 001 ${nick} :Welcome`, `:irc.qun.test 005 ${nick} PREFIX=(qov)~@+ CHANMODES=beI,k,l,imnst :are supported`);
  assert.equal(f.client.state, 'registered');
  assert.equal(f.client.account, nick);
  return f;
}

test('log-in: CAP negotiation and SASL PLAIN before CAP END', () => {
  const f = loggedIn();
  assert.ok(f.client.caps.has('draft/chathistory'));
  assert.ok(f.client.caps.has('echo-message'));
  f.recv('PING :tok123');
  assert.deepEqual(f.take(), ['PONG tok123']);
});

test('log-in failure closes and says so', () => {
  const f = fake();
  f.client.connect({ mode: 'login', account: 'a', password: 'b' });
  f.open();
  f.take();
  f.recv(':s CAP * LS :sasl', ':s CAP * ACK :sasl', 'AUTHENTICATE +', ':s 904 * :SASL authentication failed');
  assert.ok(f.events.some((e) => e.type === 'login-failed' && e.numeric === '904'));
  assert.ok(f.take().includes('QUIT :Leaving'));
});

test('registration: REGISTER after 001, VERIFY, FAIL shown', () => {
  const f = fake();
  f.client.connect({ mode: 'register', account: 'newbie', password: 'long password', phone: '+8613800138000' });
  f.open();
  f.take();
  f.recv(`:s CAP * LS :${CAPS}`);
  const [req] = f.take();
  f.recv(`:s CAP * ACK :${req.slice(9)}`);
  assert.deepEqual(f.take(), ['CAP END']);
  f.recv(':s 433 * newbie :Nickname is already in use');
  assert.deepEqual(f.take(), ['NICK newbie_']);
  f.recv(':s 001 newbie_ :Welcome');
  assert.deepEqual(f.take(), ['REGISTER newbie +8613800138000 :long password']);
  f.recv('FAIL REGISTER WEAK_PASSWORD newbie :Too weak');
  assert.ok(f.events.some((e) => e.type === 'reply' && e.code === 'WEAK_PASSWORD'));
  f.recv(':s REGISTER VERIFICATION_REQUIRED newbie :A code was sent');
  assert.ok(f.events.some((e) => e.type === 'register' && e.code === 'VERIFICATION_REQUIRED' && e.account === 'newbie'));
  f.client.verify('newbie', '417305');
  assert.deepEqual(f.take(), ['VERIFY newbie 417305']);
  f.recv(':s VERIFY SUCCESS newbie :Verified', ':s 900 newbie_ newbie_!u@h newbie :You are now logged in as newbie');
  assert.equal(f.client.account, 'newbie');
});

test('join, roles from NAMES and MODE, history merged, live state untouched by history', () => {
  const f = loggedIn('me');
  f.client.join('我的群');
  assert.deepEqual(f.take(), ['JOIN #我的群']);
  f.recv('@msgid=j1;time=2026-03-01T10:00:00.000Z :me!u@h JOIN #我的群 me :Web');
  assert.deepEqual(f.take(), ['CHATHISTORY LATEST #我的群 * 50']);
  f.recv(':s 332 me #我的群 :Welcome all', ':s 353 me = #我的群 :~@owner @mgr +talker me',
    ':s 366 me #我的群 :End of /NAMES list', 'NOTE JOIN GROUP_INFO #我的群 :Group 10001, category friends');
  const ch = f.client.channel('#我的群');
  assert.equal(ch.topic, 'Welcome all');
  assert.equal(ch.info, 'Group 10001, category friends');
  assert.deepEqual([...ch.members.values()].map((m) => [m.nick, m.prefixes]),
    [['owner', '~@'], ['mgr', '@'], ['talker', '+'], ['me', '']]);
  f.recv(':mgr!u@h MODE #我的群 +v-o me mgr');
  assert.equal(ch.members.get('me').prefixes, '+');
  assert.equal(ch.members.get('mgr').prefixes, '');
  // a live message arrives before the history answer
  f.recv('@msgid=m3;time=2026-03-01T10:00:02.000Z :owner!u@h PRIVMSG #我的群 :third');
  f.recv(':s BATCH +b1 chathistory #我的群',
    '@batch=b1;msgid=p1;time=2026-03-01T09:00:00.000Z :gone!u@h JOIN #我的群',
    '@batch=b1;msgid=m1;time=2026-03-01T09:59:00.000Z;account=owner :owner!u@h PRIVMSG #我的群 :first',
    '@batch=b1;msgid=p2;time=2026-03-01T09:59:30.000Z :gone!u@h PART #我的群',
    '@batch=b1;msgid=m2;time=2026-03-01T09:59:59.000Z :mgr!u@h NOTICE #我的群 :second',
    '@batch=b1;msgid=m3;time=2026-03-01T10:00:02.000Z :owner!u@h PRIVMSG #我的群 :third',
    ':s BATCH -b1');
  const texts = ch.messages.filter((m) => m.kind !== 'event').map((m) => m.text);
  assert.deepEqual(texts, ['first', 'second', 'third']);
  assert.equal(ch.members.has('gone'), false); // history JOIN/PART changed nothing live
  assert.equal(ch.noOlder, true); // fewer than 50: nothing older
  assert.equal(ch.messages[0].event, 'JOIN');
  // echo-message: the own message appears once, from the server
  f.client.say('#我的群', 'hello there');
  assert.deepEqual(f.take(), ['PRIVMSG #我的群 :hello there']);
  assert.equal(ch.messages.at(-1).text, 'third');
  f.recv('@msgid=m4;time=2026-03-01T10:01:00.000Z :me!u@h PRIVMSG #我的群 :hello there');
  assert.equal(ch.messages.at(-1).self, true);
  // posting refused
  f.recv('FAIL PRIVMSG CREDIT_LEVEL #我的群 :Credit level E does not allow posting');
  assert.equal(ch.messages.at(-1).kind, 'error');
  assert.equal(ch.messages.at(-1).code, 'CREDIT_LEVEL');
  // report
  f.client.report('m1', 'spam', 'ads again');
  assert.deepEqual(f.take(), ['REPORT msgid=m1 spam :ads again']);
  f.recv('NOTE REPORT FILED 17 :Complaint 17 filed.');
  assert.ok(f.events.some((e) => e.type === 'reply' && e.code === 'FILED' && e.context[0] === '17'));
});

test('load older pages with CHATHISTORY BEFORE the oldest msgid', () => {
  const f = loggedIn('me');
  f.recv(':me!u@h JOIN #g');
  f.take();
  const batch = ['BATCH +x chathistory #g'];
  for (let i = 10; i < 60; i++) {
    batch.push(`@batch=x;msgid=id${i};time=2026-03-01T10:00:${String(i).padStart(2, '0')}.000Z :a!u@h PRIVMSG #g :m${i}`);
  }
  batch.push('BATCH -x');
  f.recv(...batch);
  const ch = f.client.channel('#g');
  assert.equal(ch.noOlder, false);
  assert.equal(f.client.loadOlder('#g'), true);
  assert.deepEqual(f.take(), ['CHATHISTORY BEFORE #g msgid=id10 50']);
  assert.equal(f.client.loadOlder('#g'), false); // one request at a time
  f.recv('BATCH +y chathistory #g',
    '@batch=y;msgid=id09;time=2026-03-01T10:00:09.000Z :a!u@h PRIVMSG #g :m9', 'BATCH -y');
  assert.equal(ch.messages.find((m) => m.kind !== 'event').text, 'm9');
  assert.equal(ch.noOlder, true);
  assert.ok(f.events.some((e) => e.type === 'history' && e.older));
});

test('services, LIST, kick', () => {
  const f = loggedIn('me');
  f.recv(':CreditServ!CreditServ@services.irc.qun.test NOTICE me :#12 -30 severity:general evidence complaint:7 by unix:alice 2026-03-01');
  const svc = f.events.filter((e) => e.type === 'service');
  assert.equal(svc.at(-1).service, 'CreditServ');
  f.client.list('friends');
  assert.deepEqual(f.take(), ['LIST *friends*']);
  f.recv(':s 321 me Channel :Users Name', ':s 322 me #friends 3 :[+nt] {10001 friends small} Hi', ':s 323 me :End of /LIST');
  const list = f.events.find((e) => e.type === 'list');
  assert.deepEqual(list.entries[0], { name: '#friends', members: 3, modes: '+nt', code: '10001', category: 'friends', size: 'small', topic: 'Hi' });
  f.recv(':me!u@h JOIN #friends');
  f.recv(':boss!u@h KICK #friends me :bye');
  assert.equal(f.client.channel('#friends'), null);
  assert.ok(f.events.some((e) => e.type === 'parted' && e.kicked));
  assert.equal(listFilter(''), '');
  assert.equal(listFilter('>10'), '>10');
  assert.equal(listFilter('#a*'), '#a*');
});

test('secrets are masked in what the page shows of its own lines', async () => {
  const { maskSecret } = await import('../../web/public/client.js');
  assert.equal(maskSecret('AUTHENTICATE AGEAYg=='), 'AUTHENTICATE ***');
  assert.equal(maskSecret('REGISTER a +86138 :pw'), 'REGISTER ***');
  assert.equal(maskSecret('PRIVMSG NickServ :IDENTITY cn-id 11010519491231002X 张三'), 'PRIVMSG NickServ :IDENTITY ***');
  assert.equal(maskSecret('PRIVMSG #g :IDENTITY is fine here'), 'PRIVMSG #g :IDENTITY is fine here');
  const f = loggedIn('me');
  f.recv('@msgid=x :me!u@h PRIVMSG NickServ :IDENTITY cn-id 11010519491231002X 张三');
  const shown = f.events.filter((e) => e.type === 'service').at(-1);
  assert.equal(shown.text, 'IDENTITY ***');
  f.recv('@msgid=y :me!u@h PRIVMSG CreditServ :INFO');
  assert.equal(f.events.filter((e) => e.type === 'service').at(-1).text, 'INFO');
});
