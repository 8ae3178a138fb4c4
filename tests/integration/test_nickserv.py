"""test_nickserv.py - the NickServ service, SASL EXTERNAL, login sessions,
suspension and nick protection, through real IRC clients against qund.

What a user without account-registration or SASL support relies on
(issue 3, "Accounts"; src/irc/svc_nickserv.c):

  1. NickServ answers "/msg NickServ", NS and NICKSERV alike: HELP lists
     every command, HELP <command> gives its syntax; REGISTER, IDENTIFY,
     INFO, SET PASSWORD, GHOST, REGAIN, DROP and CERT do what HELP says;
     an unknown command points to HELP; nobody can take the nick NickServ.
  2. SASL EXTERNAL over TLS logs in with a client certificate registered
     with CERT ADD, and fails without one or with an unregistered one.
  3. Every login and logout is stored in the sessions table with the
     source address and port and, over TLS, the version, cipher and the
     certificate fingerprint (read here from the SQLite file, read-only).
  4. `qunctl accounts suspend` stops a user posting (FAIL
     ACCOUNT_SUSPENDED) and logging in; `unsuspend` lifts it.
  5. A registered nick is kept by its owner and by whoever IDENTIFYs within
     accounts.nick_grace; anyone else is renamed to Guest<digits>.
  6. Failed logins are throttled per source address across account names.

Password checks run argon2id on the daemon's thread pool, so answers to
REGISTER/IDENTIFY/SET/DROP are awaited by their text, with a generous
timeout for the sanitizer build.
"""

import base64
import hashlib
import json
import os
import re
import shutil
import sqlite3
import ssl
import subprocess
import tempfile
import time

import pytest

from conftest import need_tool

SLOW = 15.0  # argon2id under ASan on two cores
PW = "correct-horse-battery"

NS_COMMANDS = ("HELP", "REGISTER", "IDENTIFY", "VERIFY", "PHONE", "IDENTITY", "CONVENTION",
               "ACCEPT", "STATUS", "INFO", "SET", "GHOST", "REGAIN", "DROP", "CERT")


# ---------------------------------------------------------------- helpers

def is_ns(m):
    return m.command == "NOTICE" and m.nick == "NickServ"


def ns_texts(lines):
    return [m.last for m in lines if is_ns(m)]


def ns(c, text, how="PRIVMSG"):
    """Sends text to NickServ: PRIVMSG NickServ, or the NS / NICKSERV
    commands."""
    if how == "PRIVMSG":
        c.send("PRIVMSG NickServ :%s" % text)
    else:
        c.send("%s %s" % (how, text))


def ns_sync(c, text, how="PRIVMSG"):
    """A synchronous NickServ command: returns its NOTICE texts."""
    ns(c, text, how)
    return ns_texts(c.sync())


def ns_expect(c, fragment, timeout=SLOW):
    """Waits for a NickServ NOTICE containing fragment; returns the text."""
    return c.expect("NOTICE", timeout, pred=lambda m: is_ns(m) and fragment in m.last,
                    what="a NickServ notice with %r" % fragment).last


def b64(data):
    return base64.b64encode(data).decode()


def sasl_plain(c, account, password):
    c.send("AUTHENTICATE PLAIN")
    c.expect("AUTHENTICATE", pred=lambda m: m.params == ["+"])
    c.send("AUTHENTICATE " + b64(("\0%s\0%s" % (account, password)).encode()))


def sasl_client(srv, caps=("sasl",), tls=False, **kw):
    """A connection that negotiated the sasl capability and is not yet
    registered."""
    c = srv.connect(tls=tls, **kw)
    c.cap_ls()
    ack = c.cap_req(list(caps))
    assert ack.params[1] == "ACK", ack.raw
    return c


def finish_registration(c, nick):
    c.send("CAP END")
    c.send("NICK %s" % nick)
    c.send("USER u 0 * :r")
    lines = c.collect("001")
    c.nick = lines[-1].params[0]
    return lines + c.collect(("376", "422"))


def ns_register(srv, nick, password=PW, caps=()):
    """Connects as nick and registers it with NickServ; waits for 900."""
    c = srv.client(nick, caps=caps)
    ns(c, "REGISTER %s" % password)
    m = c.expect_numeric("900", timeout=SLOW)
    assert m.params[2] == nick, m.raw
    return c


def make_client_cert(directory, cn):
    """A self-signed client certificate made with the openssl command;
    returns (cert, key, sha256 fingerprint of the DER form, lower hex)."""
    openssl = need_tool("openssl")
    cert = os.path.join(directory, cn + ".crt")
    key = os.path.join(directory, cn + ".key")
    r = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=" + cn, "-keyout", key, "-out", cert],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.fail("openssl could not make a client certificate:\n" + r.stderr)
    with open(cert) as f:
        der = ssl.PEM_cert_to_DER_cert(f.read())
    return cert, key, hashlib.sha256(der).hexdigest()


@pytest.fixture
def client_certs():
    """Two client certificates: the one registered and a stranger's."""
    d = tempfile.mkdtemp(prefix="qund-nscert-")
    yield make_client_cert(d, "owner"), make_client_cert(d, "stranger")
    shutil.rmtree(d, ignore_errors=True)


def qunctl(srv, *args):
    path = os.environ.get("QUNCTL")
    if not path:
        pytest.fail("QUNCTL is not set: run through ctest, or set QUNCTL=/path/to/qunctl")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("QUNCTL=%s is not an executable file (build qunctl first)" % path)
    env = dict(os.environ)
    env.pop("QUN_CONTROL_SOCKET", None)
    return subprocess.run([os.path.abspath(path), "-s", srv.control_path] + list(args),
                          capture_output=True, text=True, timeout=30, env=env)


def session_rows(srv, account, want, timeout=10.0):
    """Polls the sessions table (read-only) until `want` rows exist for
    account; returns them as dicts, oldest first."""
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline:
        try:
            srv.log_sync()
            db = sqlite3.connect("file:%s?mode=ro" % srv.netlog_path, uri=True, timeout=2)
            try:
                db.row_factory = sqlite3.Row
                rows = [dict(r) for r in db.execute(
                    "SELECT * FROM sessions WHERE account = ? ORDER BY id", (account,))]
            finally:
                db.close()
        except sqlite3.OperationalError:
            rows = []
        if len(rows) >= want:
            return rows
        time.sleep(0.05)
    raise AssertionError("sessions for %s: wanted %d rows, have %r" % (account, want, rows))


# ---------------------------------------------------------------- 1. NickServ

def test_help_lists_commands_and_syntax_by_every_route(qund_factory):
    srv = qund_factory()
    c = srv.client("helper")
    for how in ("PRIVMSG", "NS", "NICKSERV"):
        texts = ns_sync(c, "HELP", how)
        listed = {t.split()[0] for t in texts if t.startswith("  ")}
        assert listed == set(NS_COMMANDS), (how, texts)
        texts = ns_sync(c, "help register", how)
        assert "Syntax: REGISTER <password> [phone]" in texts, (how, texts)
    assert "Syntax: IDENTIFY [account] <password>" in ns_sync(c, "HELP IDENTIFY", "NS")
    assert "Syntax: CERT ADD [fingerprint] | DEL <fingerprint> | LIST" in ns_sync(c, "HELP CERT")
    # a command that needs arguments, given none, answers with its syntax
    assert ns_sync(c, "IDENTIFY", "NS") == ["Syntax: IDENTIFY [account] <password>"]

    texts = ns_sync(c, "FROBNICATE now")
    assert len(texts) == 1 and "Unknown command FROBNICATE" in texts[0] and "HELP" in texts[0], \
        texts
    # commands that need a login say so
    texts = ns_sync(c, "CERT LIST")
    assert texts == ["Log in first (/msg NickServ IDENTIFY, or SASL) to use CERT."], texts

    # NickServ is reserved, before and after registration, in any case
    c.send("NICK NickServ")
    m = c.expect_numeric("433")
    assert m.params[1] == "NickServ", m.raw
    d = srv.connect()
    d.send("NICK nickserv")
    d.expect_numeric("433")
    d.send("NICK late")
    d.send("USER u 0 * :r")
    d.expect_numeric("001")


def test_register_identify_and_account_notify(qund_factory):
    srv = qund_factory()
    a = srv.client("alice")
    ns(a, "REGISTER %s" % PW)
    lines = a.collect("900", timeout=SLOW)
    assert lines[-1].params[2] == "alice", lines[-1].raw
    assert "Account created; you are logged in." in ns_texts(lines), [m.raw for m in lines]
    # one account per connection
    texts = ns_sync(a, "REGISTER %s" % PW)
    assert texts == ["You are already logged in to an account."], texts

    w = srv.client("watcher", caps=("account-notify",))
    w.join("#room")
    b = srv.client("alice_web")
    b.join("#room")
    w.expect("JOIN", pred=lambda m: m.nick == "alice_web")

    ns(b, "IDENTIFY alice wrong-password")
    assert ns_expect(b, "Invalid") == "Invalid account name or password."
    ns(b, "IDENTIFY alice %s" % PW)
    lines = b.collect("900", timeout=SLOW)
    assert lines[-1].params[2] == "alice", lines[-1].raw
    assert "You are now logged in as alice." in ns_texts(b.sync() + lines)
    m = w.expect("ACCOUNT")
    assert m.nick == "alice_web" and m.params == ["alice"], m.raw
    # the failed attempt sent nothing to the channel peer
    assert not [x for x in w.log if x.command == "ACCOUNT" and x.params != ["alice"]]
    texts = ns_sync(b, "IDENTIFY alice %s" % PW, "NS")
    assert texts == ["You are already logged in as alice."], texts


def test_info_shows_level_only_to_owner(qund_factory):
    srv = qund_factory()
    a = ns_register(srv, "ann")
    o = srv.client("other")
    texts = ns_sync(o, "INFO ann")
    assert len(texts) == 1, texts
    assert texts[0].startswith("Account ann: registered ") and "logged in now" in texts[0], texts
    assert " UTC" in texts[0]
    assert not any("level" in t.lower() for t in texts), texts
    texts = ns_sync(o, "INFO nosuchaccount")
    assert texts == ["No such account."], texts
    texts = ns_sync(o, "INFO")
    assert texts == ["You are not logged in; give an account name."], texts

    texts = ns_sync(a, "INFO", "NS")
    assert texts[0].startswith("Account ann: registered "), texts
    assert "Identity level 0; 0 certificate fingerprint(s)." in texts, texts
    a.close()
    deadline = time.monotonic() + 5
    while "not logged in" not in ns_sync(o, "INFO ann")[0]:
        assert time.monotonic() < deadline, "INFO still says ann is logged in"
        time.sleep(0.05)


def test_set_password_changes_identify_and_sasl(qund_factory):
    srv = qund_factory()
    a = ns_register(srv, "pat")
    ns(a, "SET PASSWORD")
    assert ns_expect(a, "Usage") == "Usage: SET PASSWORD <new password>"
    ns(a, "SET PASSWORD short")
    assert "8 to 512 bytes" in ns_expect(a, "password")
    ns(a, "SET PASSWORD new-secret-words")
    assert ns_expect(a, "changed") == "Your password was changed."

    b = srv.client("pat2")
    ns(b, "IDENTIFY pat %s" % PW)
    assert ns_expect(b, "Invalid") == "Invalid account name or password."
    ns(b, "IDENTIFY pat new-secret-words")
    assert b.expect_numeric("900", timeout=SLOW).params[2] == "pat"

    c = sasl_client(srv)
    sasl_plain(c, "pat", PW)
    c.expect_numeric("904", timeout=SLOW)
    sasl_plain(c, "pat", "new-secret-words")
    assert c.expect_numeric("900", timeout=SLOW).params[2] == "pat"
    c.expect_numeric("903")
    finish_registration(c, "pat3")

    # a password with spaces: SET PASSWORD and DROP take the rest of the line
    ns(a, "SET PASSWORD three word secret")
    assert ns_expect(a, "changed") == "Your password was changed."
    ns(a, "DROP three word")
    assert ns_expect(a, "not dropped") == "Wrong password: the account was not dropped."
    x = sasl_client(srv)
    sasl_plain(x, "pat", "three word secret")
    assert x.expect_numeric("900", timeout=SLOW).params[2] == "pat"
    x.expect_numeric("903")


def test_ghost_disconnects_the_other_connection(qund_factory):
    srv = qund_factory()
    old = ns_register(srv, "gus")   # the stale connection holding the nick
    new = srv.client("gus_")
    texts = ns_sync(new, "GHOST gus")
    assert texts == ["Log in first (/msg NickServ IDENTIFY, or SASL) to use GHOST."], texts
    ns(new, "IDENTIFY gus %s" % PW)
    new.expect_numeric("900", timeout=SLOW)
    texts = ns_sync(new, "GHOST gus_")
    assert texts == ["gus_ is not your account's nickname."], texts
    texts = ns_sync(new, "GHOST gus", "NS")
    assert texts == ["gus has been ghosted."], texts
    lines = old.expect_closed()
    assert any(m.command == "ERROR" and "Ghosted by gus_" in m.last for m in lines), \
        [m.raw for m in lines]
    new.send("NICK gus")
    m = new.expect("NICK")
    assert m.nick == "gus_" and m.params[0] == "gus", m.raw
    # no rename follows: the nick is the account of the logged-in user
    new.assert_no("NICK", timeout=0.3)


def test_regain_renames_then_closes_the_holder(qund_factory):
    srv = qund_factory()
    holder = ns_register(srv, "rita")
    watcher = srv.client("ward")
    watcher.join("#r")
    holder.join("#r")
    me = srv.client("rita_")
    me.join("#r")
    ns(me, "IDENTIFY rita %s" % PW)
    me.expect_numeric("900", timeout=SLOW)
    ns(me, "REGAIN")
    lines = me.collect("NICK", pred=lambda m: m.nick == "rita_")
    assert lines[-1].params[0] == "rita", lines[-1].raw
    assert "rita has been regained." in ns_texts(lines + me.sync())
    # the holder was renamed to a Guest nick, then its connection closed
    hl = holder.expect_closed()
    renames = [m for m in hl if m.command == "NICK" and m.nick == "rita"]
    assert renames and renames[0].params[0].startswith("Guest"), [m.raw for m in hl]
    guest = renames[0].params[0]
    # the channel saw the holder renamed, then quit under its Guest nick,
    # and the regain
    want = [("NICK", "rita", guest), ("QUIT", guest, None), ("NICK", "rita_", "rita")]
    seen = []
    deadline = time.monotonic() + 5
    while not all(w in seen for w in want):
        assert time.monotonic() < deadline, (want, seen)
        m = watcher.recv(max(0.01, deadline - time.monotonic()))
        seen.append((m.command, m.nick, m.params[0] if m.command == "NICK" else None))
    assert seen.index(want[0]) < seen.index(want[1]), seen


def test_drop_wrong_password_then_drop(qund_factory):
    srv = qund_factory()
    d = ns_register(srv, "dora")
    ns(d, "DROP not-the-password")
    assert ns_expect(d, "not dropped") == "Wrong password: the account was not dropped."
    ns(d, "DROP %s" % PW, "NS")
    lines = d.collect("901", timeout=SLOW)
    assert "Account dora is being dropped." in ns_texts(lines), [m.raw for m in lines]
    assert "dropped" in lines[-1].last, lines[-1].raw
    # nothing else: no "the nickname dora is registered" warning either
    texts = ns_sync(d, "INFO dora")
    assert texts == ["No such account."], texts

    o = srv.client("other")
    ns(o, "IDENTIFY dora %s" % PW)
    assert ns_expect(o, "Invalid") == "Invalid account name or password."
    # the name is free again: the same user registers it anew
    ns(d, "REGISTER another-password")
    assert d.expect_numeric("900", timeout=SLOW).params[2] == "dora"
    ns(o, "IDENTIFY dora another-password")
    assert o.expect_numeric("900", timeout=SLOW).params[2] == "dora"


def test_cert_add_list_del(qund_factory):
    srv = qund_factory()
    c = ns_register(srv, "cora")
    fp = hashlib.sha256(b"cora's certificate").hexdigest()
    colon_upper = ":".join(fp[i:i + 2] for i in range(0, 64, 2)).upper()
    assert ns_sync(c, "CERT LIST") == ["0 certificate fingerprint(s):"]
    ns(c, "CERT ADD %s" % colon_upper)   # normalised to lower-case hex
    assert ns_expect(c, "Done") == "Done."
    assert ns_sync(c, "CERT LIST", "NS") == ["1 certificate fingerprint(s):", " " + fp]
    texts = ns_sync(c, "CERT ADD %s" % fp)
    assert texts == ["That fingerprint is already registered."], texts
    texts = ns_sync(c, "CERT ADD 1234")
    assert texts and texts[0].startswith("Give a SHA-256 fingerprint (64 hex digits)"), texts
    # CERT ADD without an argument over plain text: no certificate to use
    texts = ns_sync(c, "CERT ADD")
    assert texts and "connect with a client certificate" in texts[0], texts
    texts = ns_sync(c, "CERT FROB")
    assert texts and texts[0].startswith("Usage: CERT"), texts
    ns(c, "CERT DEL %s" % fp)
    assert ns_expect(c, "Done") == "Done."
    assert ns_sync(c, "CERT LIST") == ["0 certificate fingerprint(s):"]
    texts = ns_sync(c, "CERT DEL %s" % fp)
    assert texts == ["That fingerprint is not registered to your account."], texts


# ---------------------------------------------------------------- 2. SASL EXTERNAL

def external(c):
    c.send("AUTHENTICATE EXTERNAL")
    c.expect("AUTHENTICATE", pred=lambda m: m.params == ["+"])
    c.send("AUTHENTICATE +")


def test_sasl_external_with_registered_certificate(qund_factory, client_certs):
    (cert, key, fp), (cert2, key2, _fp2) = client_certs
    srv = qund_factory(tls=True)
    c = srv.client("certy", tls=True, certfile=cert, keyfile=key)
    ns(c, "REGISTER %s" % PW)
    c.expect_numeric("900", timeout=SLOW)
    ns(c, "CERT ADD")   # the connection's own fingerprint
    assert ns_expect(c, "Done") == "Done."
    assert ns_sync(c, "CERT LIST") == ["1 certificate fingerprint(s):", " " + fp]
    c.close()

    e = sasl_client(srv, tls=True, certfile=cert, keyfile=key)
    external(e)
    m = e.expect_numeric("900")
    assert m.params[2] == "certy", m.raw
    e.expect_numeric("903")
    finish_registration(e, "certy")
    e.assert_no("NOTICE", timeout=0.3, pred=lambda m: "is registered" in m.last)

    # TLS without a certificate, an unregistered certificate, plain text
    for kw in ({"tls": True}, {"tls": True, "certfile": cert2, "keyfile": key2}, {}):
        x = sasl_client(srv, **kw)
        external(x)
        m = x.expect_numeric("904")
        assert ("no client certificate" in m.last) == ("certfile" not in kw), (kw, m.raw)
        x.send("CAP END")
        x.close()


# ---------------------------------------------------------------- 3. sessions

def test_sessions_recorded_plain(qund_factory):
    srv = qund_factory()
    c = srv.client("sam")
    port = c.sock.getsockname()[1]
    ns(c, "REGISTER %s" % PW)
    c.expect_numeric("900", timeout=SLOW)
    c.send("QUIT :bye")
    c.expect_closed()
    rows = session_rows(srv, "sam", 2)
    assert [r["event"] for r in rows] == ["login", "logout"], rows
    for r in rows:
        assert r["ip"] == "127.0.0.1" and r["port"] == port, r
        assert r["tls_version"] is None and r["tls_cipher"] is None and r["certfp"] is None, r
        assert r["mechanism"] == "NickServ", r
    assert rows[0]["at"] <= rows[1]["at"]
    assert abs(rows[1]["at"] - time.time()) < 120, rows  # seconds since the epoch


def test_sessions_recorded_tls_with_certificate(qund_factory, client_certs):
    (cert, key, fp), _ = client_certs
    srv = qund_factory(tls=True)
    c = srv.client("tess", tls=True, certfile=cert, keyfile=key)
    port = c.sock.getsockname()[1]
    version, cipher = c.sock.version(), c.sock.cipher()[0]
    assert version in ("TLSv1.2", "TLSv1.3"), version
    ns(c, "REGISTER %s" % PW)
    c.expect_numeric("900", timeout=SLOW)
    c.close()
    rows = session_rows(srv, "tess", 2)
    assert [r["event"] for r in rows] == ["login", "logout"], rows
    for r in rows:
        assert (r["ip"], r["port"]) == ("127.0.0.1", port), r
        assert (r["tls_version"], r["tls_cipher"], r["certfp"]) == (version, cipher, fp), r


# ---------------------------------------------------------------- 4. suspension

def test_suspend_and_unsuspend_with_qunctl(qund_factory):
    srv = qund_factory(identity={"post_level": 0, "create_level": 0})
    s = ns_register(srv, "spammer", caps=("standard-replies",))
    peer = srv.client("peer")
    peer.join("#s")
    s.join("#s")

    r = qunctl(srv, "accounts", "suspend", "spammer", "--reason", "spam")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ns_expect(s, "suspended") == "Your account has been suspended: spam"
    s.send("PRIVMSG #s :buy now")
    m = s.expect("FAIL")
    assert m.params[:3] == ["PRIVMSG", "ACCOUNT_SUSPENDED", "#s"], m.raw
    peer.assert_no("PRIVMSG", timeout=0.3)

    x = sasl_client(srv)
    sasl_plain(x, "spammer", PW)
    m = x.expect_numeric("904", timeout=SLOW)
    assert "suspended" in m.last, m.raw
    x.close()

    r = qunctl(srv, "--json", "accounts", "list")
    assert r.returncode == 0, r.stdout + r.stderr
    listed = json.loads(r.stdout)
    assert isinstance(listed, list), r.stdout
    mine = [a for a in listed if a["name"] == "spammer"]
    assert len(mine) == 1 and mine[0]["suspended"] is True, r.stdout
    r = qunctl(srv, "accounts", "show", "spammer")
    assert r.returncode == 0, r.stdout + r.stderr
    fields = dict(line.split(":", 1) for line in r.stdout.splitlines())
    fields = {k.strip(): v.strip() for k, v in fields.items()}
    assert fields["name"] == "spammer" and fields["suspend_reason"] == "spam", r.stdout
    r = qunctl(srv, "accounts", "show", "nobody")
    assert r.returncode != 0, r.stdout

    r = qunctl(srv, "accounts", "unsuspend", "spammer")
    assert r.returncode == 0, r.stdout + r.stderr
    assert ns_expect(s, "no longer") == "Your account is no longer suspended."
    s.send("PRIVMSG #s :sorry")
    m = peer.expect("PRIVMSG")
    assert m.nick == "spammer" and m.last == "sorry", m.raw
    r = qunctl(srv, "--json", "accounts", "show", "spammer")
    shown = json.loads(r.stdout)
    assert shown["name"] == "spammer" and shown["suspended"] is False, r.stdout
    y = sasl_client(srv)
    sasl_plain(y, "spammer", PW)
    y.expect_numeric("903", timeout=SLOW)


# ---------------------------------------------------------------- 5. nick protection

def test_nick_protection_grace_and_rename(qund_factory):
    srv = qund_factory(accounts={"nick_grace": 5})
    for nick in ("kate", "lena", "mike"):
        ns_register(srv, nick).close()
    # kate logs in with SASL before registering: never warned, never renamed
    k = sasl_client(srv)
    sasl_plain(k, "kate", PW)
    k.expect_numeric("903", timeout=SLOW)
    klines = finish_registration(k, "kate")
    # lena and mike arrive unidentified and are warned
    l = srv.client("lena")
    m = srv.client("mike")
    for c in (l, m):
        text = ns_expect(c, "is registered", timeout=5)
        assert "within 5 seconds" in text, text
    start = time.monotonic()
    ns(l, "IDENTIFY %s" % PW)   # the one-argument form: the current nick
    assert l.expect_numeric("900", timeout=SLOW).params[2] == "lena"
    nick = m.expect("NICK", timeout=10)
    assert time.monotonic() - start > 3.5, "renamed before the grace period ended"
    assert nick.nick == "mike" and nick.params[0].startswith("Guest"), nick.raw
    assert "did not log in to mike in time" in " ".join(ns_texts(m.log))
    time.sleep(max(0.0, start + 6.0 - time.monotonic()))
    for c, name in ((k, "kate"), (l, "lena")):
        lines = c.sync()
        assert not [x for x in lines if x.command == "NICK"], (name, [x.raw for x in lines])
    assert not [x for x in klines + k.log if is_ns(x) and "is registered" in x.last]
    k.send("WHOIS lena")
    k.expect_numeric("311", pred=lambda x: x.params[1] == "lena")


# ---------------------------------------------------------------- 6. throttle

def test_login_throttled_per_ip_across_accounts(qund_factory):
    srv = qund_factory(accounts={"login_failures": 3, "login_window": 60})
    ns_register(srv, "vic").close()
    c = srv.client("tryer")
    for name in ("nobody1", "nobody2", "nobody3"):
        ns(c, "IDENTIFY %s wrong-password" % name)
        assert ns_expect(c, "Invalid") == "Invalid account name or password."
    # vic never failed: only the address is over the limit
    texts = ns_sync(c, "IDENTIFY vic %s" % PW)
    assert texts == ["Too many failed logins; wait a while before trying again."], texts
    c.assert_no("900", timeout=0.3)
    # another address is not affected
    d = srv.client("elsewhere", source="127.0.0.2")
    ns(d, "IDENTIFY vic %s" % PW)
    assert d.expect_numeric("900", timeout=SLOW).params[2] == "vic"
