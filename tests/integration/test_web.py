"""test_web.py - the web face (issue 7; docs/web.md) against the real qund:
HTTP on the public and console listeners, IRC over WebSocket through the
same IRC core as TCP, shared WebSocket frames, the console's JSON API and
the public pages of large groups.

What it proves:
  1. HTTP basics: keep-alive, pipelining, the parser's 400/413/414/431,
     404 and 405 answers, path traversal refused, static files with
     Content-Type, ETag/304 and the security headers, a slow-loris request
     closed after web.header_timeout;
  2. WebSocket IRC: a WebSocket client and a TCP client chat in a group
     both ways; the subprotocol is chosen in the client's order; invalid
     UTF-8 -> close 1007, an unmasked frame -> 1002, an oversized message
     -> 1009, ping -> pong; two WebSocket members get byte-identical frames
     of a group message while TCP members get ordinary lines;
  3. the console API: bad login 401, throttling 429, missing CSRF 403, a
     role the command does not allow 403, a moderator approving a manual
     identity request through /api/ctl/identity.approve, malformed and
     oversized JSON 400/413;
  4. /g/<code> (and .json) for a group of 100 members, 404 below 100.
"""

import json
import os
import pathlib
import shutil
import re
import socket
import subprocess
import time

import pytest

from conftest import HOST, WebServer, make_world_readable_dir
from identity_helpers import PASSWORD, leveled_user, ns, qunctl
from ircclient import ConnectionClosed
from wsclient import HandshakeError, WSClient

SOURCE = os.environ.get("QUN_SOURCE_DIR") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", ".."))
OP_PW = "console operator passphrase"


# ---------------------------------------------------------------- fixtures

@pytest.fixture
def web_factory(qund_factory, monkeypatch):
    """qund_factory (teardown checks included) with WebServer daemons and
    a web root of small files, a symlink pointing out of the root and a
    secret beside the root."""
    import conftest
    monkeypatch.setattr(conftest, "QundServer", WebServer)
    tmp_path = pathlib.Path(make_world_readable_dir("qund-webroot-"))
    root = tmp_path / "web"
    (root / "public").mkdir(parents=True)
    (root / "console").mkdir(parents=True)
    (root / "public" / "index.html").write_text("<!DOCTYPE html><title>chat</title>\n")
    (root / "public" / "app.js").write_text("export const x = 1;\n")
    (root / "console" / "index.html").write_text("<!DOCTYPE html><title>console</title>\n")
    (tmp_path / "secret.txt").write_text("top secret\n")
    os.symlink(str(tmp_path / "secret.txt"), str(root / "public" / "link.txt"))
    for p in (tmp_path, root, root / "public", root / "console"):
        os.chmod(str(p), 0o755)
    for p in (tmp_path / "secret.txt", root / "public" / "index.html",
              root / "public" / "app.js", root / "console" / "index.html"):
        os.chmod(str(p), 0o644)

    def start(**over):
        cfg = {"web": {"root": str(root), "header_timeout": 2, "idle_timeout": 5,
                       "body_max": 4096}}
        for k, v in over.items():
            cfg.setdefault(k, {}).update(v)
        return qund_factory(**cfg)

    yield start
    shutil.rmtree(str(tmp_path), ignore_errors=True)


@pytest.fixture
def srv(web_factory):
    return web_factory()


def http(port, data, timeout=5.0):
    """Sends raw bytes, reads until the server closes (or timeout)."""
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.sendall(data)
    out = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
    except socket.timeout:
        pass
    s.close()
    return out


def responses(raw):
    """Splits a byte stream into (status, headers, body) tuples."""
    out = []
    while raw:
        head, _, rest = raw.partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        status = int(lines[0].split(b" ")[1])
        hdrs = {}
        for l in lines[1:]:
            k, _, v = l.partition(b":")
            hdrs[k.strip().lower().decode()] = v.strip().decode()
        n = int(hdrs.get("content-length", "0"))
        out.append((status, hdrs, rest[:n]))
        raw = rest[n:]
    return out


def get(port, path, headers=(), method="GET", body=b""):
    req = "%s %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n" % (method, path)
    for h in headers:
        req += h + "\r\n"
    if body or method == "POST":
        req += "Content-Length: %d\r\n" % len(body)
    return responses(http(port, req.encode() + b"\r\n" + body))[0]


# ---------------------------------------------------------------- HTTP basics

def test_static_files_headers_and_caching(srv):
    st, h, body = get(srv.web_port, "/")
    assert st == 200 and b"<title>chat</title>" in body
    assert h["content-type"] == "text/html; charset=utf-8"
    assert "default-src 'self'" in h["content-security-policy"]
    assert "frame-ancestors 'none'" in h["content-security-policy"]
    assert h["x-content-type-options"] == "nosniff"
    assert h["referrer-policy"] == "no-referrer"
    st, h, body = get(srv.web_port, "/static/app.js")
    assert st == 200 and h["content-type"].startswith("text/javascript"), h
    etag = h["etag"]
    st, h2, body = get(srv.web_port, "/static/app.js", ["If-None-Match: " + etag])
    assert st == 304 and body == b""
    st, h, body = get(srv.web_port, "/static/app.js", method="HEAD")
    assert st == 200 and body == b""
    # the console listener serves its own directory
    st, h, body = get(srv.console_port, "/")
    assert st == 200 and b"console" in body


def test_errors_404_405_traversal(srv):
    st, h, body = get(srv.web_port, "/nothing/here")
    assert st == 404 and b"404" in body and h["content-type"].startswith("text/html")
    st, h, _ = get(srv.web_port, "/", method="DELETE")
    assert st == 405 and "GET" in h["allow"]
    for path in ("/static/../../secret.txt", "/static/%2e%2e/%2e%2e/secret.txt",
                 "/static/..%2f..%2fsecret.txt", "/static/link.txt", "/static/app.js%00",
                 "/static/.hidden", "/static//app.js"):
        st, _, body = get(srv.web_port, path)
        assert st in (400, 404) and b"top secret" not in body, (path, st)
    # the public listener has no API, the console no /irc
    assert get(srv.web_port, "/api/session")[0] == 404
    assert get(srv.console_port, "/irc")[0] == 404


def test_parser_limits(srv):
    assert responses(http(srv.web_port, b"GET / HTTP/1.1\nHost: x\n\n"))[0][0] == 400
    long_target = b"GET /" + b"a" * 9000 + b" HTTP/1.1\r\nHost: x\r\n\r\n"
    assert responses(http(srv.web_port, long_target))[0][0] == 414
    many = b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(
        b"X-H%d: v\r\n" % i for i in range(100)) + b"\r\n"
    assert responses(http(srv.web_port, many))[0][0] == 431
    big = b"POST /api/login HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n"
    assert responses(http(srv.console_port, big))[0][0] == 413


def test_keep_alive_and_pipelining(srv):
    s = socket.create_connection((HOST, srv.web_port), timeout=5)
    req = b"GET /static/app.js HTTP/1.1\r\nHost: x\r\n\r\n"
    s.sendall(req * 3 + b"GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while data.count(b"HTTP/1.1 ") < 4 or not data.endswith(b"</html>\n"):
        chunk = s.recv(65536)
        assert chunk, data
        data += chunk
    rs = responses(data)
    assert [r[0] for r in rs] == [200, 200, 200, 404]
    # still open: one more request on the same connection
    s.sendall(req)
    assert s.recv(65536).startswith(b"HTTP/1.1 200")
    s.close()


def test_slow_loris_closed(srv):
    s = socket.create_connection((HOST, srv.web_port), timeout=10)
    s.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n")
    t0 = time.monotonic()
    data = b""
    try:
        while True:
            s.sendall(b"X-Slow: 1\r\n")
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except (socket.timeout, ConnectionResetError, BrokenPipeError):
        pass
    elapsed = time.monotonic() - t0
    assert elapsed < 6, elapsed
    assert data.startswith(b"HTTP/1.1 408"), data


# ---------------------------------------------------------------- WebSocket IRC

def test_websocket_chat_with_tcp_client(srv):
    ws = WSClient(HOST, srv.web_port, name="wsuser")
    assert ws.protocol == "text.ircv3.net"
    ws.register("wsuser")
    tcp = srv.client("tcpuser")
    ws.send("JOIN #web")
    ws.expect("JOIN")
    tcp.join("#web")
    ws.expect("JOIN", pred=lambda m: m.nick == "tcpuser")
    tcp.send("PRIVMSG #web :你好 from TCP")
    m = ws.expect("PRIVMSG")
    assert m.nick == "tcpuser" and m.last == "你好 from TCP"
    ws.send("PRIVMSG #web :hello from WebSocket")
    m = tcp.expect("PRIVMSG")
    assert m.nick == "wsuser" and m.last == "hello from WebSocket"
    # the same limits as TCP: an overlong line gets ERR_INPUTTOOLONG (417)
    ws.send("PRIVMSG #web :" + "x" * 9000)
    ws.expect("417")
    # ping -> pong with the same data
    ws.send_frame(0x9, b"are you there")
    while True:
        op, payload = ws.recv_frame()
        if op == 0xA:
            assert payload == b"are you there"
            break
    ws.send_frame(0x8, b"\x03\xe8")
    assert ws.expect_close() == 1000
    tcp.expect("QUIT", pred=lambda m: m.nick == "wsuser")


def test_subprotocol_in_client_order(srv):
    ws = WSClient(HOST, srv.web_port, protocols=("binary.ircv3.net", "text.ircv3.net"))
    assert ws.protocol == "binary.ircv3.net"
    ws.register("binuser")
    ws.send("PING :x")
    while True:
        op, payload = ws.recv_frame()
        if b"PONG" in payload:
            assert op == 0x2
            break
    ws.close()
    ws = WSClient(HOST, srv.web_port, protocols=("text.ircv3.net", "binary.ircv3.net"))
    assert ws.protocol == "text.ircv3.net"
    ws.close()
    ws = WSClient(HOST, srv.web_port, protocols=("chat.example",))
    assert ws.protocol is None
    ws.close()
    with pytest.raises(HandshakeError) as e:
        WSClient(HOST, srv.web_port, path="/irc", protocols=(),
                 extra_headers=("Sec-WebSocket-Version: 8",))
    assert e.value.status in (400, 426)


def test_websocket_protocol_errors(srv):
    ws = WSClient(HOST, srv.web_port)
    ws.send_frame(0x1, b"NICK \xff\xfe")
    assert ws.expect_close() == 1007
    ws = WSClient(HOST, srv.web_port)
    ws.send_frame(0x1, b"NICK abc", mask=False)
    assert ws.expect_close() == 1002
    ws = WSClient(HOST, srv.web_port)
    ws.send_frame(0x1, b"PRIVMSG x :" + b"y" * 20000)
    assert ws.expect_close() == 1009


def test_two_websocket_members_get_identical_frames(srv):
    a = WSClient(HOST, srv.web_port, name="wsa").register("wsa")
    b = WSClient(HOST, srv.web_port, name="wsb").register("wsb")
    t = srv.client("tcpc")
    sender = srv.client("sender")
    for c in (a, b):
        c.send("JOIN #share")
        c.expect("JOIN")
    t.join("#share")
    sender.join("#share")
    a.raw_frames.clear()
    b.raw_frames.clear()
    sender.send("PRIVMSG #share :one frame for all")
    ma = a.expect("PRIVMSG")
    mb = b.expect("PRIVMSG")
    assert ma.raw == mb.raw
    fa = [f for f in a.raw_frames if b"one frame for all" in f]
    fb = [f for f in b.raw_frames if b"one frame for all" in f]
    assert fa == fb and len(fa) == 1
    assert fa[0][0] == 0x81  # FIN + text
    mt = t.expect("PRIVMSG")
    assert mt.raw == ma.raw  # the TCP member gets the same line, unframed


# ---------------------------------------------------------------- console API

def make_operator(srv, name, role):
    path = os.environ.get("QUNCTL")
    r = subprocess.run([os.path.abspath(path), "-s", srv.control_path, "operators", "create",
                        name, "--role", role], input=OP_PW + "\n", capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr


def api(srv, method, path, body=None, cookie=None, csrf=None, raw=None):
    hdrs = ["Content-Type: application/json"]
    if cookie:
        hdrs.append("Cookie: " + cookie)
    if csrf:
        hdrs.append("X-CSRF-Token: " + csrf)
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else b"")
    st, h, b = get(srv.console_port, path, hdrs, method=method, body=data)
    return st, h, (json.loads(b) if b and h.get("content-type") == "application/json" else b)


def login(srv, name):
    st, h, b = api(srv, "POST", "/api/login", {"name": name, "password": OP_PW})
    assert st == 200, (st, b)
    cookie = h["set-cookie"].split(";")[0]
    assert "HttpOnly" in h["set-cookie"] and "SameSite=Strict" in h["set-cookie"]
    return cookie, b["csrf"]


def test_console_login_session_csrf_roles(srv):
    make_operator(srv, "mod", "moderator")
    make_operator(srv, "aud", "auditor")
    st, _, b = api(srv, "POST", "/api/login", {"name": "mod", "password": "wrong password"})
    assert st == 401 and b["error"]["code"] == "bad-login"
    assert api(srv, "GET", "/api/session")[0] == 401
    cookie, csrf = login(srv, "mod")
    st, _, b = api(srv, "GET", "/api/session", cookie=cookie)
    assert st == 200 and b["operator"] == "mod" and b["role"] == "moderator"
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=cookie)
    assert st == 403 and b["error"]["code"] == "csrf"
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=cookie, csrf="0" * 64)
    assert st == 403 and b["error"]["code"] == "csrf"
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", {}, cookie=cookie, csrf=csrf)
    assert st == 200 and b["result"] == [], b
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", cookie=cookie, csrf=csrf,
                   raw=b"{not json")
    assert st == 400 and b["error"]["code"] == "bad-request"
    st, _, b = api(srv, "POST", "/api/ctl/identity.queue", cookie=cookie, csrf=csrf, raw=b"[1]")
    assert st == 400
    st, _, _ = api(srv, "POST", "/api/ctl/identity.queue", cookie=cookie, csrf=csrf,
                   raw=b'{"a":"' + b"x" * 5000 + b'"}')
    assert st == 413
    st, _, b = api(srv, "POST", "/api/ctl/no.such", {}, cookie=cookie, csrf=csrf)
    assert st == 404
    # an auditor may not approve identities
    acookie, acsrf = login(srv, "aud")
    st, _, b = api(srv, "POST", "/api/ctl/identity.approve", {"request": 1}, cookie=acookie,
                   csrf=acsrf)
    assert st == 403 and b["error"]["code"] == "forbidden", b
    # logout needs the token too, then the session is gone
    assert api(srv, "POST", "/api/logout", cookie=cookie)[0] == 403
    assert api(srv, "POST", "/api/logout", cookie=cookie, csrf=csrf)[0] == 200
    assert api(srv, "GET", "/api/session", cookie=cookie)[0] == 401


def test_console_login_throttled(srv):
    make_operator(srv, "victim", "moderator")
    codes = [api(srv, "POST", "/api/login", {"name": "victim", "password": "nope nope"})[0]
             for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429, codes


def test_moderator_approves_manual_identity(web_factory):
    srv = web_factory(identity={"provider": "manual", "sms": "dev", "post_level": 1,
                                "create_level": 2})
    make_operator(srv, "mod", "moderator")
    u = leveled_user(srv, "mona", level=1)
    m = ns(u, "IDENTITY passport-cn E12345678 张三丰", "queued for a moderator")
    req_id = int(re.search(r"request (\d+)", m.last).group(1))
    cookie, csrf = login(srv, "mod")
    st, _, b = api(srv, "POST", "/api/ctl/identity.approve", {"request": req_id},
                   cookie=cookie, csrf=csrf)
    assert st == 200, b
    u.expect("NOTICE", pred=lambda x: x.nick == "NickServ" and "level is now 2" in x.last)
    st, _, b = api(srv, "POST", "/api/ctl/identity.approve", {"request": req_id},
                   cookie=cookie, csrf=csrf)
    assert st == 409, b


# ---------------------------------------------------------------- /g/ pages

def test_group_page_from_100_members(web_factory):
    srv = web_factory(identity={"provider": "dev", "sms": "dev", "post_level": 1,
                                "create_level": 2, "max_accounts_per_identity": 100},
                      limits={"max_per_ip": 2000})
    owner = leveled_user(srv, "boss", 2)
    owner.send("JOIN #百人群")
    note = owner.expect(("NOTE", "NOTICE"), pred=lambda m: "Group" in m.last and "created" in m.last)
    code = int(re.search(r"Group (\d+)", note.last).group(1))
    guests = []
    for i in range(98):
        g = srv.client("g%d" % i)
        g.send("JOIN #百人群")
        guests.append(g)
    for g in guests:
        g.expect("JOIN", timeout=20, pred=lambda m, g=g: m.nick == g.nick)
    # 99 members: no public page
    assert get(srv.web_port, "/g/%d" % code)[0] == 404
    assert get(srv.web_port, "/g/%d.json" % code)[0] == 404
    last = srv.client("g98")
    last.send("JOIN #百人群")
    last.expect("JOIN", pred=lambda m: m.nick == "g98")
    st, h, body = get(srv.web_port, "/g/%d" % code)
    assert st == 200 and h["content-type"].startswith("text/html"), st
    text = body.decode()
    assert "#百人群" in text and "boss" in text and str(code) in text
    assert "<script" not in text
    st, _, body = get(srv.web_port, "/g/%d.json" % code)
    g = json.loads(body)
    assert st == 200 and g["code"] == code and g["members"] == 100 and g["owner"] == "boss"
    assert g["name"] == "#百人群" and g["managers"] == []
    assert get(srv.web_port, "/g/abc")[0] == 404
    assert get(srv.web_port, "/g/99999999")[0] == 404
