"""test_accounts.py - accounts through real clients: IRCv3 REGISTER/VERIFY,
SASL PLAIN, SCRAM-SHA-256 and EXTERNAL, account-notify and account-tag,
login throttling, nick protection.

The daemon runs with the development providers (the SMS code is read from
its log, which is how a newcomer on a development server gets it) and with
the SPEC's identity levels: posting needs level 1, creating a group level 2.

References: IRCv3 draft/account-registration, sasl-3.1, account-notify,
account-tag, extended-join; RFC 4616 (PLAIN), RFC 5802/7677 (SCRAM).
"""

import base64
import hashlib
import hmac
import os
import re
import time

import pytest

CODE_RE = re.compile(r"dev SMS to \S+ for account (\S+): code (\d{6})")


def identity_server(qund_factory, tls=False, **over):
    cfg = {"identity": {"provider": "dev", "sms": "dev", "post_level": 1, "create_level": 2},
           "accounts": {"nick_grace": 5}}
    for k, v in over.items():
        cfg.setdefault(k, {}).update(v)
    return qund_factory(tls=tls, **cfg)


def sms_code(srv, account, timeout=5.0):
    """The newest code the dev SMS sender wrote to the log for account."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [c for a, c in CODE_RE.findall(srv.stderr()) if a == account]
        if found:
            return found[-1]
        time.sleep(0.05)
    raise AssertionError("no dev SMS code for %s in the log:\n%s" % (account, srv.stderr()))


def register(srv, nick, password="correct horse", phone=None, caps=("standard-replies",)):
    c = srv.client(nick, caps=caps)
    c.send("REGISTER * %s :%s" % (phone or "*", password))
    return c


def b64(data):
    return base64.b64encode(data).decode()


def sasl_plain(c, account, password, authzid=""):
    c.send("AUTHENTICATE PLAIN")
    c.expect("AUTHENTICATE", pred=lambda m: m.params == ["+"])
    c.send("AUTHENTICATE " + b64(("%s\0%s\0%s" % (authzid, account, password)).encode()))


# ---------------------------------------------------------------- REGISTER

def test_register_star_logs_in_and_advertises(qund_factory):
    srv = identity_server(qund_factory)
    c = srv.connect()
    c.send("CAP LS 302")
    caps = c.cap_ls()
    assert "sasl" in caps and "SCRAM-SHA-256" in (caps["sasl"] or ""), caps
    reg = caps["draft/account-registration"] or ""
    assert "before-connect" in reg and "custom-account-name" in reg, reg
    c.send("CAP END")
    c.close()

    c = register(srv, "alice")
    m = c.expect("REGISTER")
    assert m.params[:2] == ["SUCCESS", "alice"], m.raw
    m = c.expect_numeric("900")
    assert m.params[2] == "alice", m.raw

    d = srv.client("dave", caps=("standard-replies",))
    d.send("REGISTER alice * :another password")
    m = d.expect("FAIL")
    assert m.params[:2] == ["REGISTER", "ACCOUNT_EXISTS"], m.raw
    d.send("REGISTER dave * :short")
    m = d.expect("FAIL")
    assert m.params[:2] == ["REGISTER", "WEAK_PASSWORD"], m.raw


def test_register_before_connect_and_no_land_grab(qund_factory):
    srv = identity_server(qund_factory)
    srv.client("holder")
    c = srv.connect()
    c.send("NICK holder2")
    c.send("REGISTER holder * :some password")
    m = c.expect("FAIL")
    assert m.params[:2] == ["REGISTER", "ACCOUNT_EXISTS"], m.raw
    c.send("REGISTER * * :some password")
    m = c.expect("REGISTER")
    assert m.params[:2] == ["SUCCESS", "holder2"], m.raw
    c.send("USER u 0 * :r")
    c.expect_numeric("001")


def test_register_with_phone_then_verify(qund_factory):
    srv = identity_server(qund_factory)
    c = register(srv, "bob", phone="+8613800138000")
    m = c.expect("REGISTER")
    assert m.params[:2] == ["VERIFICATION_REQUIRED", "bob"], m.raw
    code = sms_code(srv, "bob")
    wrong = "000000" if code != "000000" else "111111"
    c.send("VERIFY bob %s" % wrong)
    m = c.expect("FAIL")
    assert m.params[:2] == ["VERIFY", "INVALID_CODE"], m.raw
    assert "4 tries left" in m.params[-1], m.raw
    c.send("VERIFY bob %s" % code)
    m = c.expect("VERIFY")
    assert m.params[:2] == ["SUCCESS", "bob"], m.raw
    c.expect_numeric("900")
    # the phone number is nowhere in the log
    assert "13800138000" not in srv.stderr()


def test_verify_someone_elses_account_refused(qund_factory):
    srv = identity_server(qund_factory)
    c = register(srv, "carol", phone="+8613900139000")
    c.expect("REGISTER")
    e = srv.client("eve", caps=("standard-replies",))
    e.send("VERIFY carol 123456")
    m = e.expect("FAIL")
    assert m.params[:2] == ["VERIFY", "INVALID_ACCOUNT"], m.raw


# ---------------------------------------------------------------- SASL

def test_sasl_plain_success_failure_and_tags(qund_factory):
    srv = identity_server(qund_factory)
    register(srv, "frank").expect_numeric("900")
    c = srv.connect()
    c.send("CAP LS 302")
    c.cap_ls()
    c.cap_req(["sasl"])
    sasl_plain(c, "frank", "wrong password")
    c.expect_numeric("904")
    sasl_plain(c, "FRANK", "correct horse")
    m = c.expect_numeric("900")
    assert m.params[2] == "frank", m.raw
    c.expect_numeric("903")
    c.send("CAP END")
    c.send("NICK frank_web")
    c.send("USER f 0 * :Frank")
    c.expect_numeric("001")
    c.send("AUTHENTICATE PLAIN")
    c.expect_numeric("907")


def test_sasl_scram_sha256(qund_factory):
    srv = identity_server(qund_factory)
    register(srv, "grace", password="scram password").expect_numeric("900")
    c = srv.connect()
    c.send("CAP REQ :sasl")
    c.expect("CAP")
    c.send("AUTHENTICATE SCRAM-SHA-256")
    c.expect("AUTHENTICATE", pred=lambda m: m.params == ["+"])
    cnonce = b64(os.urandom(18))
    first_bare = "n=grace,r=" + cnonce
    c.send("AUTHENTICATE " + b64(("n,," + first_bare).encode()))
    server_first = base64.b64decode(c.expect("AUTHENTICATE").params[0]).decode()
    attrs = dict(kv.split("=", 1) for kv in server_first.split(","))
    assert attrs["r"].startswith(cnonce)
    salted = hashlib.pbkdf2_hmac("sha256", b"scram password", base64.b64decode(attrs["s"]),
                                 int(attrs["i"]))
    client_key = hmac.new(salted, b"Client Key", hashlib.sha256).digest()
    stored_key = hashlib.sha256(client_key).digest()
    final_bare = "c=biws,r=" + attrs["r"]
    auth_msg = ",".join([first_bare, server_first, final_bare]).encode()
    sig = hmac.new(stored_key, auth_msg, hashlib.sha256).digest()
    proof = bytes(a ^ b for a, b in zip(client_key, sig))
    c.send("AUTHENTICATE " + b64((final_bare + ",p=" + b64(proof)).encode()))
    server_final = base64.b64decode(c.expect("AUTHENTICATE").params[0]).decode()
    server_key = hmac.new(salted, b"Server Key", hashlib.sha256).digest()
    want = b64(hmac.new(server_key, auth_msg, hashlib.sha256).digest())
    assert server_final == "v=" + want
    c.send("AUTHENTICATE +")
    c.expect_numeric("900")
    c.expect_numeric("903")


def test_login_throttled_per_account(qund_factory):
    srv = identity_server(qund_factory, accounts={"login_failures": 3, "login_window": 60})
    register(srv, "henry").expect_numeric("900")
    c = srv.connect()
    c.send("CAP REQ :sasl")
    c.expect("CAP")
    for _ in range(3):
        sasl_plain(c, "henry", "bad guess")
        c.expect_numeric("904")
    sasl_plain(c, "henry", "correct horse")
    m = c.expect_numeric("904")
    assert "too many" in m.params[-1].lower(), m.raw


def test_account_notify_and_tag(qund_factory):
    srv = identity_server(qund_factory, identity={"post_level": 0, "create_level": 0})
    w = srv.client("watcher", caps=("account-notify", "account-tag", "extended-join"))
    w.join("#hall")
    u = srv.client("ivan")
    u.join("#hall")
    m = w.expect("JOIN")
    assert m.params[:2] == ["#hall", "*"], m.raw  # extended-join: not logged in
    u.send("REGISTER * * :ivan password")
    u.expect("REGISTER")
    m = w.expect("ACCOUNT")
    assert m.nick == "ivan" and m.params == ["ivan"], m.raw
    u.send("PRIVMSG #hall :hello")
    m = w.expect("PRIVMSG")
    assert m.tags.get("account") == "ivan", m.raw


# ---------------------------------------------------------------- nick protection

def test_registered_nick_is_protected(qund_factory):
    srv = identity_server(qund_factory)
    register(srv, "judy").expect_numeric("900")
    srv.clients[-1].close()
    c = srv.client("judy")
    m = c.expect("NOTICE", pred=lambda m: "is registered" in m.params[-1])
    m = c.expect("NICK", timeout=10)
    assert m.nick == "judy" and m.params[0].startswith("Guest"), m.raw
