"""test_web_api.py - the console API's refusals not covered by test_web.py
(issue 7 item 3; docs/web.md "The console API"), against the real qund.

test_web.py already proves: a wrong password 401, throttling 429, no or a
wrong X-CSRF-Token 403 on /api/ctl and /api/logout, an auditor approving an
identity 403, non-JSON and non-object bodies 400, an oversized body 413, an
unknown command 404. This file adds:
  1. bad logins: an unknown operator gets the same 401 as a wrong password
     (no account probing), a disabled operator cannot log in and its open
     session stops working; malformed login bodies (not JSON, missing or
     non-string fields, duplicate keys, NUL, invalid UTF-8) are 400 and
     never log anyone in;
  2. sessions and CSRF: no or a forged cookie 401 (with or without a
     token), another session's CSRF token 403, a token is not a session;
  3. roles: a moderator may not export (403) nor adjust credit
     (administrators only), an auditor may not decide complaints, an
     administrator may not export (auditors only) - each refusal leaves
     the data alone;
  4. oversized and malformed requests: a huge cookie header 431, command
     names that are too long or outside [a-z0-9._-] 404, a GET on a POST
     route 405, deeply nested or trailing-garbage JSON 400, an export
     without a case or a filter 400; the daemon keeps answering.
"""

from identity_helpers import db_rows, leveled_user, qunctl
from test_web import OP_PW, api, get, login, make_operator  # noqa: F401
from test_web import srv, web_factory  # noqa: F401 (fixtures)


def err(b):
    return b["error"]["code"] if isinstance(b, dict) and "error" in b else b


def test_bad_logins_look_alike_and_malformed_bodies(srv):
    make_operator(srv, "mod", "moderator")
    st1, h1, b1 = api(srv, "POST", "/api/login", {"name": "mod", "password": "wrong password"})
    st2, h2, b2 = api(srv, "POST", "/api/login", {"name": "nobody", "password": "wrong password"})
    assert (st1, err(b1)) == (401, "bad-login") and (st2, err(b2)) == (401, "bad-login")
    assert b1 == b2, (b1, b2)  # the same sentence: no probing for operator names
    assert "set-cookie" not in h1 and "set-cookie" not in h2
    bodies = [b"", b"not json", b"[]", b'"mod"', b'{"name":"mod"}', b'{"password":"x"}',
              b'{"name":1,"password":"x"}', b'{"name":"mod","password":null}',
              b'{"name":"mod","name":"mod","password":"%s"}' % OP_PW.encode(),
              b'{"name":"mo\\u0000d","password":"%s"}' % OP_PW.encode(),
              b'{"name":"mod\xff","password":"%s"}' % OP_PW.encode(),
              b'{"name":"mod","password":"%s"} trailing' % OP_PW.encode()]
    for raw in bodies:
        st, h, b = api(srv, "POST", "/api/login", raw=raw)
        assert st in (400, 401), (raw, st, b)
        assert "set-cookie" not in h, raw
    # a GET is not a login
    st, h, _ = api(srv, "GET", "/api/login")
    assert st == 405 and "POST" in h.get("allow", ""), (st, h)
    # the right password still works afterwards
    cookie, csrf = login(srv, "mod")
    assert api(srv, "GET", "/api/session", cookie=cookie)[0] == 200


def test_disabled_operator_is_logged_out(srv):
    make_operator(srv, "temp", "moderator")
    cookie, csrf = login(srv, "temp")
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=cookie, csrf=csrf)
    assert st == 200, b
    r = qunctl(srv, "operators", "disable", "temp")
    assert r.returncode == 0, (r.stdout, r.stderr)
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=cookie, csrf=csrf)
    assert st in (401, 403), (st, b)
    st, _, b = api(srv, "POST", "/api/login", {"name": "temp", "password": OP_PW})
    assert (st, err(b)) == (401, "bad-login"), (st, b)


def test_sessions_cookies_and_csrf(srv):
    make_operator(srv, "m1", "moderator")
    make_operator(srv, "m2", "moderator")
    c1, t1 = login(srv, "m1")
    c2, t2 = login(srv, "m2")
    assert t1 != t2 and c1 != c2
    name = c1.split("=", 1)[0]
    for cookie in (None, name + "=", name + "=" + "A" * 43, name + "=" + "0" * 500,
                   name + "=" + t1, "other=" + c1.split("=", 1)[1]):
        st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=cookie, csrf=t1)
        assert st == 401, (cookie, st, b)
        assert api(srv, "GET", "/api/session", cookie=cookie)[0] == 401, cookie
    # another session's token is no token for this one
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=c1, csrf=t2)
    assert (st, err(b)) == (403, "csrf"), (st, b)
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=c1, csrf=t1[:-1])
    assert (st, err(b)) == (403, "csrf"), (st, b)
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=c1, csrf=t1 + "0")
    assert (st, err(b)) == (403, "csrf"), (st, b)
    # the token only in the body does not count
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {"csrf": t1}, cookie=c1)
    assert (st, err(b)) == (403, "csrf"), (st, b)
    # logging one session out leaves the other
    assert api(srv, "POST", "/api/logout", cookie=c1, csrf=t1)[0] == 200
    assert api(srv, "GET", "/api/session", cookie=c1)[0] == 401
    assert api(srv, "GET", "/api/session", cookie=c2)[0] == 200
    # the export is a GET: a cookie is enough, and without one it is 401
    assert api(srv, "GET", "/api/export?group=10001&case=x")[0] == 401


def test_roles_refused_and_nothing_changes(web_factory):
    srv = web_factory(identity={"provider": "dev", "sms": "dev", "post_level": 1,
                                "create_level": 2})
    make_operator(srv, "mod", "moderator")
    make_operator(srv, "aud", "auditor")
    make_operator(srv, "adm", "administrator")
    u = leveled_user(srv, "someone", 1)
    u.send("REPORT someone spam :a complaint to decide")
    # a user may not report themselves; any FAIL/NOTE answer is fine here
    u.expect(("NOTE", "FAIL"), pred=lambda m: m.params[0] == "REPORT")
    mc, mt = login(srv, "mod")
    ac, at = login(srv, "aud")
    dc, dt = login(srv, "adm")
    st, _, b = api(srv, "POST", "/api/ctl/credit.adjust",
                   {"name": "someone", "delta": 50, "reason": "r", "evidence": "e"},
                   cookie=mc, csrf=mt)
    assert (st, err(b)) == (403, "forbidden"), (st, b)
    assert db_rows(srv, "SELECT count(*) FROM credit_events") == [(0,)]
    st, _, b = api(srv, "POST", "/api/ctl/complaints.decide",
                   {"id": 1, "decision": "dismiss"}, cookie=ac, csrf=at)
    assert (st, err(b)) == (403, "forbidden"), (st, b)
    st, _, b = api(srv, "POST", "/api/ctl/operators.create",
                   {"name": "evil", "role": "administrator"}, cookie=mc, csrf=mt)
    assert st == 403, (st, b)
    # only auditors export
    for cookie in (mc, dc):
        st, h, b = api(srv, "GET", "/api/export?account=someone&case=C1", cookie=cookie)
        assert (st, err(b)) == (403, "forbidden"), (st, b)
        assert "content-disposition" not in h
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=mc, csrf=mt)
    assert st == 200, b


def test_oversized_and_malformed_requests(srv):
    make_operator(srv, "aud", "auditor")
    cookie, csrf = login(srv, "aud")
    # one huge header
    st, _, _ = get(srv.console_port, "/api/session", ["Cookie: " + cookie + "; x=" + "y" * 20000])
    assert st == 431
    for name in ("a" * 65, "Status", "log..search/x", "log%2esearch", "st%00atus", "-",
                 "a b", "%C3%A9"):
        st, _, b = api(srv, "POST", "/api/ctl/" + name, {}, cookie=cookie, csrf=csrf)
        assert st in (400, 404), (name, st, b)
    assert api(srv, "POST", "/api/ctl/", {}, cookie=cookie, csrf=csrf)[0] == 404
    st, h, _ = api(srv, "GET", "/api/ctl/status", cookie=cookie)
    assert st == 405 and "POST" in h.get("allow", ""), (st, h)
    assert api(srv, "POST", "/api/export", {}, cookie=cookie, csrf=csrf)[0] == 405
    for raw in (b"[" * 5000 + b"]" * 5000, b'{"a":' * 1000 + b"1" + b"}" * 1000,
                b"{} {}", b'{"limit": 1e999999}', b'{"a": "\xc3\x28"}', b"\x00"):
        st, _, b = api(srv, "POST", "/api/ctl/status", cookie=cookie, csrf=csrf, raw=raw)
        assert st in (400, 413), (raw[:20], st, b)
    # export: a case and a group or account are required; bad times refused
    for q in ("", "?group=10001", "?case=C1", "?case=C1&group=abc",
              "?case=C1&account=x&from=yesterday", "?case=C1&group=%zz"):
        st, h, b = api(srv, "GET", "/api/export" + q, cookie=cookie)
        assert st == 400, (q, st, b)
        assert "content-disposition" not in h, q
    # still answering, same session
    st, _, b = api(srv, "POST", "/api/ctl/status", {}, cookie=cookie, csrf=csrf)
    assert st == 200 and "complaints" in b["result"], b
