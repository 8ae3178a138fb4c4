"""test_identity.py - identity levels through real clients (issue 3, SPEC §4).

What a user and an operator rely on:

  1. level 1: NickServ PHONE sends a 6-digit code (on a development server
     the dev SMS sender writes it to the log, phone masked); VERIFY with a
     wrong code says how many tries are left, the fifth wrong try locks
     the code (a new PHONE is needed), a code expires after
     identity.code_ttl seconds, and a phone gets at most 5 codes an hour;
  2. posting gate: below identity.post_level a PRIVMSG, NOTICE or TAGMSG to
     a channel is refused with FAIL (plus a NOTICE for clients without
     standard-replies) and nobody receives it; not logged in is
     ACCOUNT_REQUIRED; at the level, the platform convention must be
     accepted (CONVENTION shows it, ACCEPT <version> accepts it);
  3. creating a channel needs identity.create_level; joining an existing
     one does not;
  4. level 2: IDENTITY <type> <number> <real name> is checked locally
     (format, check character), needs level 1, and goes to the provider:
     dev accepts well-formed input, an exec program answers JSON (accepted,
     rejected with a reason, or too slow), manual queues it for qunctl;
     identity.max_accounts_per_identity caps accounts per document;
  5. only an auditor reveals an identity, with a case reference, and each
     reveal leaves an audit row;
  6. a restart keeps levels and the accepted convention;
  7. the database and the log never hold the real name, document number or
     phone number in plaintext.

The daemon runs with the development providers unless a test says
otherwise, and with the SPEC's levels (post 1, create 2).
"""

import base64
import json
import os
import pwd
import re
import shutil
import sqlite3
import subprocess
import time

import pytest

from conftest import make_world_readable_dir, write_file

CODE_RE = re.compile(r"dev SMS to \S+ for account (\S+): code (\d{6})")
PASSWORD = "correct-horse-battery"

# A valid mainland resident ID (check character X) and two more made with
# the ISO 7064 MOD 11-2 rule.
ID_ACCEPTED = "11010519491231002X"
ID_REJECTED = "110105198001011238"
ID_SLOW = "310101199002031456"
ID_BAD_CHECK = "110105194912310021"  # ID_ACCEPTED with a wrong check character
REAL_NAME = "张三丰"
PHONE = "+8613812345678"
PHONE_NATIONAL = "13812345678"


# ---------------------------------------------------------------- helpers

def identity_server(qund_factory, **over):
    cfg = {"identity": {"provider": "dev", "sms": "dev", "post_level": 1, "create_level": 2},
           "accounts": {"nick_grace": 30}}
    for k, v in over.items():
        cfg.setdefault(k, {}).update(v)
    return qund_factory(**cfg)


@pytest.fixture
def shared_dir():
    """A world-readable directory for files the daemon (user qun when the
    tests run as root) must read: convention text, provider scripts."""
    d = make_world_readable_dir("qund-idt-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def sms_codes(srv, account):
    return [c for a, c in CODE_RE.findall(srv.stderr()) if a == account]


def wait_new_code(srv, account, known, timeout=5.0):
    """The code of the (known+1)-th dev SMS for account."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = sms_codes(srv, account)
        if len(codes) > known:
            return codes[known]
        time.sleep(0.02)
    raise AssertionError("no new dev SMS code for %s in the log:\n%s" % (account, srv.stderr()))


def ns(c, text, want, timeout=5.0):
    """/msg NickServ text; returns the NickServ NOTICE containing want."""
    c.send("PRIVMSG NickServ :%s" % text)
    return c.expect("NOTICE", timeout, pred=lambda m: m.nick == "NickServ" and want in m.last,
                    what="a NickServ NOTICE with %r" % want)


def ns_register(srv, nick, caps=("standard-replies",)):
    """Registers nick through NickServ (no phone); logged in at level 0."""
    c = srv.client(nick, caps=caps)
    c.send("PRIVMSG NickServ :REGISTER %s" % PASSWORD)
    m = c.expect_numeric("900")
    assert m.params[2] == nick, m.raw
    return c


def phone_request(srv, c, account, phone=PHONE):
    """PHONE; returns the code the dev SMS sender logged."""
    known = len(sms_codes(srv, account))
    ns(c, "PHONE %s" % phone, "A 6-digit code was sent")
    return wait_new_code(srv, account, known)


def verify_phone(srv, c, account, phone=PHONE):
    code = phone_request(srv, c, account, phone)
    ns(c, "VERIFY %s" % code, "Your phone number is verified: identity level 1.")


def other_code(code):
    return "000000" if code != "000000" else "111111"


def qunctl(srv, *args):
    path = os.environ.get("QUNCTL")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("QUNCTL is not set to an executable qunctl (QUNCTL=%r)" % path)
    env = dict(os.environ)
    env.pop("QUN_CONTROL_SOCKET", None)
    return subprocess.run([os.path.abspath(path), "-s", srv.control_path] + list(args),
                          capture_output=True, text=True, timeout=30, env=env)


def my_name():
    return pwd.getpwuid(os.geteuid()).pw_name


def db_rows(srv, sql):
    """Runs a query on the daemon's SQLite file through a read-only URI
    connection (the daemon keeps it open; a reader does not disturb it)."""
    # audit records and sessions are network-log events (views in netlog.db)
    path = srv.db_path
    if re.search(r"FROM (audit|sessions)\b", sql):
        srv.log_sync()
        path = srv.netlog_path
    conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def fails(lines, command, code):
    return [m for m in lines if m.command == "FAIL" and m.params[:2] == [command, code]]


def assert_no_secrets(blob, where):
    for secret in (REAL_NAME, ID_ACCEPTED, PHONE, PHONE_NATIONAL):
        assert secret.encode("utf-8") not in blob, "%r appears in %s" % (secret, where)


# ---------------------------------------------------------------- level 1

def test_phone_code_tries_lock_the_code(qund_factory):
    srv = identity_server(qund_factory)
    c = ns_register(srv, "alice")
    ns(c, "STATUS", "identity level 0 (registered)")
    code = phone_request(srv, c, "alice")
    wrong = other_code(code)
    for left in (4, 3, 2, 1):
        ns(c, "VERIFY %s" % wrong, "not right; please try again. %d tries left." % left)
    ns(c, "VERIFY %s" % wrong, "Too many wrong codes; please ask for a new one.")
    # locked: even the right code is refused now; a new PHONE is needed
    ns(c, "VERIFY %s" % code, "No code is pending")
    ns(c, "STATUS", "identity level 0 (registered)")
    new = phone_request(srv, c, "alice")
    if new != code:  # one chance in a million that they are equal
        ns(c, "VERIFY %s" % code, "4 tries left.")
    ns(c, "VERIFY %s" % new, "Your phone number is verified: identity level 1.")
    ns(c, "STATUS", "identity level 1 (phone verified)")
    ns(c, "PHONE %s" % PHONE, "already verified")
    # the dev SMS line masks the number
    assert PHONE_NATIONAL not in srv.stderr()


def test_code_expires_and_phone_rate_limit(qund_factory):
    srv = identity_server(qund_factory, identity={"code_ttl": 2})
    b = ns_register(srv, "bob")
    code = phone_request(srv, b, "bob")
    time.sleep(3)
    ns(b, "VERIFY %s" % code, "That code has expired")
    ns(b, "STATUS", "identity level 0")
    # five codes an hour per phone: four more are sent, the sixth is refused
    for _ in range(4):
        phone_request(srv, b, "bob")
    known = len(sms_codes(srv, "bob"))
    m = ns(b, "PHONE %s" % PHONE, "Too many codes")
    assert "this phone number" in m.last and "try again in" in m.last, m.raw
    # the limit is the phone's, not the account's: another account is refused
    # for that number and served for another
    c = ns_register(srv, "carol")
    ns(c, "PHONE %s" % PHONE, "Too many codes were requested for this phone number")
    phone_request(srv, c, "carol", phone="+8613900001111")
    time.sleep(0.2)
    assert len(sms_codes(srv, "bob")) == known, "a refused request still sent a code"


# ---------------------------------------------------------------- posting gate

def test_posting_gate_and_convention(qund_factory, shared_dir):
    conv = os.path.join(shared_dir, "convention.txt")
    write_file(conv, "Qun platform convention\n第一条 文明发言。\n")
    srv = identity_server(qund_factory, identity={"create_level": 0, "convention": conv,
                                                  "convention_version": 3})
    w = srv.client("watcher", caps=("message-tags",))
    w.join("#hall")

    u = ns_register(srv, "ursula", caps=("standard-replies", "message-tags"))
    u.join("#hall")
    u.send("PRIVMSG #hall :hello from level 0")
    m = u.expect("FAIL")
    assert m.params[:3] == ["PRIVMSG", "VERIFICATION_REQUIRED", "#hall"], m.raw
    assert "NickServ PHONE" in m.last, m.raw
    u.send("NOTICE #hall :notice from level 0")
    m = u.expect("FAIL")
    assert m.params[:3] == ["NOTICE", "VERIFICATION_REQUIRED", "#hall"], m.raw
    u.send("@+draft/react=x TAGMSG #hall")
    m = u.expect("FAIL")
    assert m.params[:3] == ["TAGMSG", "VERIFICATION_REQUIRED", "#hall"], m.raw
    # with standard-replies there is no NOTICE copy of the FAIL
    assert not [x for x in u.sync() if x.command == "NOTICE"], u.log[-5:]

    # without standard-replies the sentence also comes as a NOTICE
    v = ns_register(srv, "victor", caps=())
    v.join("#hall")
    v.send("PRIVMSG #hall :hello")
    m = v.expect("NOTICE", pred=lambda x: x.nick == "irc.qun.test"
                 and "Posting in groups needs identity level 1" in x.last)
    assert m.params[0] == "victor" and m.last.startswith("PRIVMSG FAIL"), m.raw

    # not logged in at all
    n = srv.client("nobody", caps=("standard-replies",))
    n.join("#hall")
    n.send("PRIVMSG #hall :anonymous")
    m = n.expect("FAIL")
    assert m.params[:3] == ["PRIVMSG", "ACCOUNT_REQUIRED", "#hall"], m.raw

    # nothing of the refused messages reached the member
    got = [x for x in w.sync() if x.command in ("PRIVMSG", "NOTICE", "TAGMSG")]
    assert not got, [x.raw for x in got]

    # level 1: now the convention is what is missing
    verify_phone(srv, u, "ursula")
    u.send("PRIVMSG #hall :hello from level 1")
    m = u.expect("FAIL")
    assert m.params[:3] == ["PRIVMSG", "CONVENTION_REQUIRED", "#hall"], m.raw
    assert "ACCEPT 3" in m.last, m.raw
    ns(u, "CONVENTION", "Platform convention, version 3:")
    ns(u, "CONVENTION", "第一条 文明发言。")
    ns(u, "CONVENTION", "To accept it: /msg NickServ ACCEPT 3")
    ns(u, "ACCEPT 2", "The current convention is version 3")
    u.send("PRIVMSG #hall :still refused")
    m = u.expect("FAIL")
    assert m.params[1] == "CONVENTION_REQUIRED", m.raw
    ns(u, "ACCEPT 3", "You accepted the platform convention, version 3.")
    ns(u, "STATUS", "Platform convention: accepted.")
    u.send("PRIVMSG #hall :hello, everyone")
    m = w.expect("PRIVMSG")
    assert m.nick == "ursula" and m.params == ["#hall", "hello, everyone"], m.raw
    got = [x for x in w.log if x.command in ("PRIVMSG", "NOTICE", "TAGMSG")
           and x.nick == "ursula"]
    assert len(got) == 1, [x.raw for x in got]


# ---------------------------------------------------------------- level 2 (dev)

def test_identity_levels_creation_gate_and_identity_limit(qund_factory):
    srv = identity_server(qund_factory, identity={"max_accounts_per_identity": 1})
    a = srv.client("anon", caps=("standard-replies",))
    a.send("JOIN #newgroup")
    m = a.expect("FAIL")
    assert m.params[:3] == ["JOIN", "CANNOT_CREATE", "#newgroup"], m.raw

    b = ns_register(srv, "berta")
    b.send("JOIN #newgroup")
    m = b.expect("FAIL")
    assert m.params[:3] == ["JOIN", "CANNOT_CREATE", "#newgroup"], m.raw
    assert "level 2; yours is 0" in m.last, m.raw
    ns(b, "IDENTITY cn-id %s %s" % (ID_ACCEPTED, REAL_NAME),
       "Verify a phone number first (identity level 1).")
    verify_phone(srv, b, "berta")
    b.send("JOIN #newgroup")
    m = b.expect("FAIL")
    assert m.params[:2] == ["JOIN", "CANNOT_CREATE"] and "yours is 1" in m.last, m.raw
    ns(b, "IDENTITY cn-id %s %s" % (ID_BAD_CHECK, REAL_NAME),
       "The last character does not match the others")
    ns(b, "IDENTITY driving-licence %s %s" % (ID_ACCEPTED, REAL_NAME), "Unknown document type")
    ns(b, "STATUS", "identity level 1")
    ns(b, "IDENTITY cn-id %s %s" % (ID_ACCEPTED.lower(), REAL_NAME),
       "Your identity is verified: identity level 2.")
    ns(b, "STATUS", "identity level 2 (real identity verified)")
    ns(b, "IDENTITY cn-id %s %s" % (ID_ACCEPTED, REAL_NAME), "already verified")

    lines = b.join("#newgroup")
    assert not fails(lines, "JOIN", "CANNOT_CREATE"), [x.raw for x in lines]
    # someone else created it: level 0 and no account may join
    a.join("#newgroup")
    assert "anon" in [n.lstrip("~&@%+") for n in a.names("#newgroup")]

    # one account per identity here: a second account with the same document
    c = ns_register(srv, "cecil")
    verify_phone(srv, c, "cecil", phone="+8613700001234")
    ns(c, "IDENTITY cn-id %s 李四" % ID_ACCEPTED, "This identity already verifies 1 accounts")
    ns(c, "STATUS", "identity level 1")
    ns(c, "IDENTITY cn-id %s 李四" % ID_REJECTED, "Your identity is verified: identity level 2.")


# ---------------------------------------------------------------- exec provider

EXEC_SCRIPT = """#!/bin/sh
# test identity provider: one JSON request on stdin, one JSON answer out
req=$(cat)
case "$req" in
  *'"document_number":"%s"'*) echo '{"result":"accepted"}' ;;
  *'"document_number":"%s"'*) exec sleep 5 ;;
  *) echo '{"result":"rejected","reason":"no such document on file"}' ;;
esac
""" % (ID_ACCEPTED, ID_SLOW)


def test_exec_provider_accepts_rejects_and_times_out(qund_factory, shared_dir):
    script = os.path.join(shared_dir, "idcheck.sh")
    write_file(script, EXEC_SCRIPT)
    os.chmod(script, 0o755)
    srv = identity_server(qund_factory, identity={"provider": "exec", "provider_command": script,
                                                  "provider_timeout": 1})
    users = {}
    for nick, phone in (("emma", "+8613600000001"), ("rita", "+8613600000002"),
                        ("sam", "+8613600000003")):
        users[nick] = ns_register(srv, nick)
        verify_phone(srv, users[nick], nick, phone=phone)

    ns(users["rita"], "IDENTITY cn-id %s 王五" % ID_REJECTED,
       "did not confirm these details (no such document on file)")
    ns(users["rita"], "STATUS", "identity level 1")

    t0 = time.monotonic()
    ns(users["sam"], "IDENTITY cn-id %s 赵六" % ID_SLOW,
       "The identity check is not reachable right now; try again later.")
    assert time.monotonic() - t0 < 4, "the provider timeout (1 s) was not applied"
    ns(users["sam"], "STATUS", "identity level 1")

    ns(users["emma"], "IDENTITY cn-id %s %s" % (ID_ACCEPTED, REAL_NAME),
       "Your identity is verified: identity level 2.")
    ns(users["emma"], "STATUS", "identity level 2")
    users["emma"].join("#emmas")


# ---------------------------------------------------------------- manual queue

def test_manual_queue_worked_with_qunctl(qund_factory):
    srv = identity_server(qund_factory, identity={"provider": "manual"})
    m_ = ns_register(srv, "mona")
    verify_phone(srv, m_, "mona")
    m = ns(m_, "IDENTITY passport-cn E12345678 %s" % REAL_NAME, "queued for a moderator")
    req_id = int(re.search(r"request (\d+)", m.last).group(1))
    ns(m_, "STATUS", "Your identity is waiting for a moderator.")
    ns(m_, "IDENTITY passport-cn E12345678 %s" % REAL_NAME, "already waiting for a moderator")

    r = qunctl(srv, "--json", "identity", "queue")
    assert r.returncode == 0, r.stderr
    queue = json.loads(r.stdout)
    assert [(q["request"], q["account"], q["document_type"]) for q in queue] == \
        [(req_id, "mona", "passport-cn")], queue
    assert REAL_NAME not in r.stdout and "E12345678" not in r.stdout

    r = qunctl(srv, "identity", "reject", str(req_id))
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "--reason" in r.stderr, r.stderr

    r = qunctl(srv, "identity", "approve", str(req_id))
    assert r.returncode == 0, r.stderr
    m = m_.expect("NOTICE", pred=lambda x: x.nick == "NickServ" and "level is now 2" in x.last)
    ns(m_, "STATUS", "identity level 2 (real identity verified)")

    r = qunctl(srv, "identity", "approve", str(req_id))
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "already accepted" in r.stderr, r.stderr
    r = qunctl(srv, "--json", "identity", "queue")
    assert r.returncode == 0 and json.loads(r.stdout) == [], (r.stdout, r.stderr)
    r = qunctl(srv, "identity", "approve", "999")
    assert r.returncode == 1 and "No identity request 999" in r.stderr, r.stderr
    # the decision is audited with the moderator's name (the audit write
    # may still be in the store's next batch: poll briefly)
    deadline = time.monotonic() + 3
    while True:
        rows = db_rows(srv, "SELECT actor, target FROM audit WHERE action = 'identity.approve'")
        if rows or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert rows == [("unix:" + my_name(), "mona")], rows


# ---------------------------------------------------------------- reveal, restart, plaintext

def sasl_plain_client(srv, account, password, nick):
    c = srv.connect(name=nick)
    c.send("CAP LS 302")
    c.cap_ls()
    c.cap_req(["sasl", "standard-replies"])
    c.send("AUTHENTICATE PLAIN")
    c.expect("AUTHENTICATE", pred=lambda m: m.params == ["+"])
    c.send("AUTHENTICATE " + base64.b64encode(
        ("\0%s\0%s" % (account, password)).encode()).decode())
    m = c.expect_numeric("900")
    assert m.params[2] == account, m.raw
    c.expect_numeric("903")
    c.send("CAP END")
    c.register(nick)
    return c


def test_reveal_restart_and_no_plaintext(qund_factory, shared_dir):
    conv = os.path.join(shared_dir, "convention.txt")
    write_file(conv, "Be kind.\n")
    srv = identity_server(qund_factory, identity={"convention": conv, "convention_version": 1},
                          control={"auditors": ["nobody-such-user"]})
    z = ns_register(srv, "zhang")
    verify_phone(srv, z, "zhang")
    ns(z, "IDENTITY cn-id %s %s" % (ID_ACCEPTED, REAL_NAME),
       "Your identity is verified: identity level 2.")
    ns(z, "ACCEPT 1", "You accepted the platform convention, version 1.")

    # an administrator who is not an auditor cannot reveal
    r = qunctl(srv, "identity", "reveal", "zhang", "--case", "C-1")
    assert r.returncode == 1, (r.returncode, r.stdout, r.stderr)
    assert "forbidden" in r.stderr or "auditor" in r.stderr, r.stderr
    assert REAL_NAME not in r.stdout + r.stderr

    # restart on the same data directory, now with this user as an auditor
    z.close()
    assert srv.stop() == 0, srv.stderr()
    first_log = open(srv.stderr_path, "rb").read()
    srv.overrides["control"] = {"auditors": [my_name()]}
    srv.start()

    z = sasl_plain_client(srv, "zhang", PASSWORD, "zhang")
    ns(z, "STATUS", "identity level 2 (real identity verified)")
    ns(z, "STATUS", "Platform convention: accepted.")
    lines = z.join("#afterrestart")  # creating needs level 2
    assert not [x for x in lines if x.command == "FAIL"], [x.raw for x in lines]
    w = srv.client("reader")
    w.join("#afterrestart")
    z.send("PRIVMSG #afterrestart :still here")
    m = w.expect("PRIVMSG")
    assert m.nick == "zhang" and m.params == ["#afterrestart", "still here"], m.raw

    r = qunctl(srv, "identity", "reveal", "zhang")
    assert r.returncode == 2 and "--case" in r.stderr, (r.returncode, r.stderr)
    r = qunctl(srv, "--json", "identity", "reveal", "zhang", "--case", "C-1")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got["real_name"] == REAL_NAME and got["document_number"] == ID_ACCEPTED, got
    assert got["document_type"] == "cn-id" and got["phone"] == PHONE and got["level"] == 2, got
    r = qunctl(srv, "identity", "reveal", "zhang", "--case", "C-2")
    assert r.returncode == 0 and REAL_NAME in r.stdout and PHONE in r.stdout, r.stdout

    rows = db_rows(srv, "SELECT actor, target, detail FROM audit"
                        " WHERE action = 'identity.reveal' ORDER BY id")
    actor = "unix:" + my_name()
    assert rows == [(actor, "zhang", "case C-1"), (actor, "zhang", "case C-2")], rows

    # the identity is in the database, sealed: the byte search below looks
    # at a file that holds it
    sealed = db_rows(srv, "SELECT length(identity_name_sealed), length(identity_doc_sealed),"
                          " length(phone_sealed), level FROM accounts WHERE name = 'zhang'")
    assert len(sealed) == 1 and all(n and n > 0 for n in sealed[0][:3]), sealed
    assert sealed[0][3] == 2, sealed
    # no plaintext in the database (and its WAL) or in either run's log
    for path in (srv.db_path, srv.db_path + "-wal"):
        if os.path.exists(path):
            with open(path, "rb") as f:
                assert_no_secrets(f.read(), path)
    assert_no_secrets(first_log, "the first run's log")
    with open(srv.stderr_path, "rb") as f:
        assert_no_secrets(f.read(), "the second run's log")
