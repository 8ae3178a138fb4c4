"""test_faults.py - faults against the real daemon (issue 8, item 2;
SPEC §12 reliability). See docs/operations.md "Fault tests" for the list
of faults, which test covers each and the peak RSS figures seen.
"""

import json
import os
import random
import re
import selectors
import socket
import sqlite3
import threading
import time

import pytest

from faults_helpers import (assert_logged, assert_serves, baseline, check_rss, daemon_env,
                            message_texts, qunctl, verify_log)
from identity_helpers import PASSWORD
from test_web import web_factory  # noqa: F401 (a fixture)
from wsclient import WSClient


def hold_write_lock(path, seconds, started):
    """Another process's view of a writer: BEGIN EXCLUSIVE on the database
    file for `seconds` (a thread of the test process, which is not qund)."""
    db = sqlite3.connect(path, timeout=10, isolation_level=None)
    db.execute("BEGIN EXCLUSIVE")
    started.set()
    time.sleep(seconds)
    db.execute("ROLLBACK")
    db.close()


def lock_both(srv, seconds):
    evs, threads = [], []
    for path in (srv.db_path, srv.netlog_path):
        ev = threading.Event()
        t = threading.Thread(target=hold_write_lock, args=(path, seconds, ev), daemon=True)
        t.start()
        evs.append(ev)
        threads.append(t)
    for ev in evs:
        assert ev.wait(10), "could not take the write lock"
    return threads


def responsive(c, within=1.0):
    """The daemon answers a PING within `within` seconds; returns the lines
    read up to the PONG."""
    t0 = time.monotonic()
    c.send("PING :alive")
    seen = c.collect("PONG", timeout=within + 1, pred=lambda m: m.last == "alive")
    took = time.monotonic() - t0
    assert took < within, "PONG took %.2fs" % took
    return seen


def test_databases_locked_by_another_process(qund_factory, capsys):
    """Another process holds the write lock on the store and the network
    log's database. A post is durable once its journal record is synced, so
    under a short lock it is delivered at once and the database takes it
    when the lock goes; a store write waits under the 5 s busy timeout.
    Under a long lock the journal (2 KiB here) fills with what the
    database has not taken: then posting is refused with FAIL
    LOG_UNAVAILABLE, what was accepted is delivered and kept, posting
    resumes by itself once the lock is gone, and the event loop answers all
    along."""
    srv = qund_factory(env=daemon_env({"QUN_NETLOG_JOURNAL_BYTES": "2048"}))
    base = baseline(srv)
    a = srv.client("lockw", caps=("standard-replies",))
    b = srv.client("lockr", caps=("message-tags",))
    c = srv.client("lockc", caps=("standard-replies",))
    for x in (a, b):
        x.join("#lock")
    a.expect("JOIN", pred=lambda m: m.nick == "lockr")
    received = []

    # 1. a short lock (3 s): delivered at once (journaled); a store write waits
    threads = lock_both(srv, 3)
    t0 = time.monotonic()
    a.send("PRIVMSG #lock :during a short lock")
    c.send("PRIVMSG NickServ :REGISTER %s *" % PASSWORD)
    m = b.expect("PRIVMSG", timeout=10)
    assert m.last == "during a short lock", m.raw
    assert time.monotonic() - t0 < 2, "delivery waited for the database lock"
    received.append(m.tags["msgid"])
    responsive(b)
    c.expect("NOTICE", timeout=10, pred=lambda m: m.nick == "NickServ" and "created" in m.last)
    assert time.monotonic() - t0 > 2.5, "the store write did not wait for the lock"
    for t in threads:
        t.join()

    # 2. a long lock (8 s): the journal fills, then posting is refused
    threads = lock_both(srv, 8)
    sent, fails, got = [], 0, []
    t_end = time.monotonic() + 7
    i = 0
    while time.monotonic() < t_end:
        text = "long %d" % i
        a.send("PRIVMSG #lock :" + text)
        sent.append(text)
        i += 1
        got += [m for m in responsive(b) if m.command == "PRIVMSG"]
        fails += len([m for m in a.read_all(0.5) if m.command == "FAIL"])
    assert fails > 0, "posting was never refused while the log was locked: " + srv.stderr()[-3000:]
    for t in threads:
        t.join()
    # the log recovers by itself (the writer retries every second)
    deadline = time.monotonic() + 10
    while True:
        a.send("PRIVMSG #lock :after the lock")
        lines = a.read_all(1.0)
        refused = [m for m in lines if m.command == "FAIL"]
        for m in refused:
            assert m.params[:2] == ["PRIVMSG", "LOG_UNAVAILABLE"], m.raw
        if not refused:
            break
        assert time.monotonic() < deadline, "posting did not resume after the lock"
    got += [m for m in b.collect("PRIVMSG", timeout=10,
                                 pred=lambda m: m.last == "after the lock")
            if m.command == "PRIVMSG"]
    received += [m.tags["msgid"] for m in got]
    texts = [m.last for m in got]
    assert texts[-1] == "after the lock"
    # accepted posts arrive in order, refused ones never; each post was
    # either delivered or refused
    assert texts[:-1] == [t for t in sent if t in texts], texts
    assert len(texts) - 1 + fails == len(sent), (texts, fails, sent)
    assert message_texts(srv, "#lock") == ["during a short lock"] + texts
    assert_logged(srv, received)
    err = srv.stderr()
    assert "netlog: writing to the log database failed: database is locked" in err, err[-2000:]
    assert "netlog: commit failed: the journal is full" in err, err[-2000:]
    assert "netlog: the log is writable again" in err
    check_rss(capsys, srv, "databases locked (one argon2id REGISTER: 64 MiB)", base, 96, 160)
    assert_serves(srv, "lk")
    verify_log(srv)


# ---------------------------------------------------------------- TLS garbage

def closed_within(sock, seconds):
    """Reads until the peer closes; returns (seconds it took, bytes read),
    or fails when the connection is still open after `seconds`."""
    t0 = time.monotonic()
    sock.settimeout(0.2)
    data = b""
    while time.monotonic() - t0 < seconds:
        try:
            chunk = sock.recv(4096)
        except socket.timeout:
            continue
        except ConnectionResetError:
            break
        if not chunk:
            break
        data += chunk
    else:
        raise AssertionError("still open after %.1fs (read %r)" % (seconds, data[:200]))
    return time.monotonic() - t0, data


def raw_connect(port, source):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((source, 0))
    s.settimeout(5)
    s.connect(("127.0.0.1", port))
    return s


def test_garbage_instead_of_a_tls_handshake(qund_factory, capsys):
    """Random bytes, an HTTP request, an IRC line: closed at once with one
    log line each; a truncated ClientHello: closed at the handshake
    deadline (limits.registration_timeout) with one log line. TLS clients
    already connected notice nothing. (test_tls.py has the plaintext and
    idle-handshake cases at SIGTERM.)"""
    srv = qund_factory(tls=True, env=daemon_env(), limits={"registration_timeout": 5})
    base = baseline(srv)
    ok = srv.client("tlsfine", tls=True)
    ok.join("#tlsg")
    rnd = bytes([0x42]) + random.Random(8).randbytes(1023)   # not a handshake record
    cases = {"127.0.0.11": rnd,
             "127.0.0.12": b"GET / HTTP/1.1\r\nHost: irc.qun.test\r\n\r\n",
             "127.0.0.13": b"NICK plain\r\nUSER a 0 * :b\r\n"}
    # a ClientHello record header promising 200 bytes, and 3 of them
    truncated = raw_connect(srv.tls_port, "127.0.0.14")
    truncated.sendall(b"\x16\x03\x01\x00\xc8\x01\x00\x00")
    t_trunc = time.monotonic()
    for source, payload in cases.items():
        s = raw_connect(srv.tls_port, source)
        s.sendall(payload)
        took, data = closed_within(s, 2.0)
        s.close()
        assert b"qun" not in data.lower(), data     # nothing but a TLS alert
        ok.sync()
    took, _ = closed_within(truncated, 5 + 3 - (time.monotonic() - t_trunc))
    truncated.close()
    ok.sync()
    err = srv.stderr()
    for source in cases:
        lines = [l for l in err.splitlines() if "TLS handshake from %s " % source in l]
        assert len(lines) == 1 and "failed:" in lines[0] and " info: " in lines[0], lines
    lines = [l for l in err.splitlines() if "TLS handshake from 127.0.0.14 " in l]
    assert len(lines) == 1 and lines[0].endswith("timed out"), lines
    # the TLS client chats on with a new one
    other = srv.client("tlsnew", tls=True)
    other.join("#tlsg")
    ok.send("PRIVMSG #tlsg :still encrypted")
    assert other.expect("PRIVMSG").last == "still encrypted"
    check_rss(capsys, srv, "TLS garbage", base, 16, 64)
    assert_serves(srv, "tg")


def test_refused_handshakes_do_not_flood_the_log(qund_factory):
    """A peer may fail TLS handshakes as fast as it likes; the log gets at
    most 20 such lines per 10 s, and the next line that passes says how
    many were held back."""
    srv = qund_factory(tls=True, env=daemon_env())
    for i in range(60):
        s = raw_connect(srv.tls_port, "127.0.0.21")
        s.sendall(b"NICK plain\r\nUSER a 0 * :b\r\n")
        closed_within(s, 2.0)
        s.close()
    time.sleep(10.5)  # the next window: its first line says how many were held back
    s = raw_connect(srv.tls_port, "127.0.0.21")
    s.sendall(b"NICK plain\r\nUSER a 0 * :b\r\n")
    closed_within(s, 2.0)
    s.close()
    lines = [l for l in srv.stderr().splitlines() if "TLS handshake from 127.0.0.21 " in l]
    assert 21 <= len(lines) <= 41, len(lines)  # 61 refused; the 60 may span two windows
    held = [int(re.search(r"\((\d+) more like it held back\)", l).group(1))
            for l in lines if "held back" in l]
    assert "held back" in lines[-1], lines[-1]
    assert len(lines) + sum(held) == 61, (len(lines), held)
    client = srv.client("stillhere", tls=True)
    client.join("#flood")


# ---------------------------------------------------------------- slow loris

def test_half_open_and_slow_loris_on_the_irc_listener(qund_factory, capsys):
    """A connection that sends nothing, one that drips a line a byte a
    second before registering, and a registered one that drips a line that
    never ends: the first two are closed by the registration timeout, the
    last by the ping timeout (a byte is not a line: only complete lines
    count as activity). A normal client that answers PINGs stays. (The web
    listeners: test_web.py::test_slow_loris_closed, web.header_timeout.)"""
    srv = qund_factory(env=daemon_env(), limits={"registration_timeout": 5,
                                                 "ping_interval": 5, "ping_timeout": 5})
    base = baseline(srv)
    normal = srv.client("steady")
    dripper = srv.client("dripreg")
    results = {}

    def watch(name, sock, drip):
        t0 = time.monotonic()
        sock.settimeout(1.0)
        data, i = b"", 0
        while time.monotonic() - t0 < 20:
            if drip:
                try:
                    sock.send(drip[i % len(drip):i % len(drip) + 1])
                except OSError:
                    break
                i += 1
            try:
                chunk = sock.recv(4096)
            except socket.timeout:
                continue
            except OSError:
                break
            if not chunk:
                break
            data += chunk
        results[name] = (time.monotonic() - t0, data)

    idle = raw_connect(srv.port, "127.0.0.21")
    drip = raw_connect(srv.port, "127.0.0.22")
    half = raw_connect(srv.port, "127.0.0.23")
    half.sendall(b"NICK halfreg\r\n")
    threads = [threading.Thread(target=watch, args=a, daemon=True) for a in (
        ("idle", idle, None), ("drip", drip, b"NICK dripper USER x 0 * :y"),
        ("half", half, b"USER x 0 * :slowly"),
        ("registered", dripper.sock, b"PRIVMSG steady :never ends"))]
    for t in threads:
        t.start()
    t0 = time.monotonic()
    while any(t.is_alive() for t in threads) and time.monotonic() - t0 < 25:
        normal.sync()          # answers the server's PINGs on the way
        time.sleep(0.5)
    for name in ("idle", "drip", "half"):
        took, data = results[name]
        assert 4 <= took < 8, (name, took, data)
        assert b"ERROR :Closing link" in data and b"Registration timed out" in data, (name, data)
    took, data = results["registered"]
    assert 9 <= took < 14, (took, data)
    assert b"PING" in data and b"Ping timeout" in data, data
    normal.sync()
    check_rss(capsys, srv, "slow loris", base, 16, 64)
    assert_serves(srv, "sl")


# ---------------------------------------------------------------- control socket

def ctl_connect(srv):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(srv.control_path)     # blocking: waits while the backlog (16) is full
    s.settimeout(5)
    return s


def ctl_answers(s, n):
    """Reads n answer lines."""
    buf = b""
    while buf.count(b"\n") < n:
        chunk = s.recv(65536)
        assert chunk, "closed after %r" % buf[-300:]
        buf += chunk
    return [json.loads(l) for l in buf.split(b"\n")[:n]]


def test_malformed_input_on_the_control_socket(qund_factory, capsys):
    """docs/internals/ctl.md: a line that is not a JSON request gets a
    bad-request answer (id null) and the connection goes on; a line over
    64 KiB gets line-too-long and the connection closes; over 64
    connections get busy. Binary garbage, invalid UTF-8 and deep nesting
    are just bad requests."""
    srv = qund_factory(env=daemon_env())
    base = baseline(srv)
    s = ctl_connect(srv)
    bad = [b"not json", b"\x00\xff\xfe\x80garbage\x01", b'{"cmd": "whoami", "x": "\xff\xfe"}',
           b"[1, 2, 3]", b'{"cmd": 5}', b'{"cmd": "whoami", "args": []}',
           b'{"id": 1, "id": 2, "cmd": "whoami"}', b"[" * 60000, b'"' + b"a" * 1000]
    s.sendall(b"\n".join(bad) + b"\n" + b'{"id": 7, "cmd": "whoami"}\n')
    answers = ctl_answers(s, len(bad) + 1)
    for line, a in zip(bad, answers):
        assert a["ok"] is False and a["error"]["code"] == "bad-request", (line[:40], a)
    assert answers[-1]["id"] == 7 and answers[-1]["ok"] is True, answers[-1]
    # a thousand garbage lines in one write: a thousand answers, still open
    s.sendall(b"\x13\x37 nonsense\n" * 1000 + b'{"id": 8, "cmd": "whoami"}\n')
    answers = ctl_answers(s, 1001)
    assert all(a["error"]["code"] == "bad-request" for a in answers[:1000])
    assert answers[-1]["id"] == 8 and answers[-1]["ok"] is True
    # an overlong line (no newline, then one): line-too-long, then closed
    for tail in (b"", b"\n"):
        t = ctl_connect(srv)
        try:
            t.sendall(b"x" * 70000 + tail)
        except (BrokenPipeError, ConnectionResetError):
            pass
        a = ctl_answers(t, 1)[0]
        assert a["id"] is None and a["error"]["code"] == "line-too-long", a
        closed_within(t, 2.0)
        t.close()
    s.close()
    # 64 idle connections fill the socket; the 65th is answered busy
    idle = [ctl_connect(srv) for _ in range(64)]
    time.sleep(0.2)
    extra = ctl_connect(srv)
    a = ctl_answers(extra, 1)[0]
    assert a["error"]["code"] == "busy", a
    extra.close()
    for x in idle:
        x.close()
    time.sleep(0.2)
    r = qunctl("-s", srv.control_path, "whoami")
    assert r.returncode == 0, r.stdout + r.stderr
    check_rss(capsys, srv, "control socket garbage", base, 16, 64)
    assert_serves(srv, "cs")


# ---------------------------------------------------------------- WebSocket sloth

def ws_sloth(port, nick, big=None):
    """A WebSocket client with a 4 KiB receive buffer that will not read.
    `big`: fetch that static file first on the same keep-alive connection
    (a response bigger than limits.sendq), then upgrade."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", port))
    if big:
        s.sendall(b"GET /static/%s HTTP/1.1\r\nHost: x\r\n\r\n" % big.encode())
        data = b""
        while b"\r\n\r\n" not in data:
            data += s.recv(65536)
        head, _, body = data.partition(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 200"), head
        n = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
        while len(body) < n:
            body += s.recv(1 << 20)
        assert len(body) == n
    ws = WSClient("127.0.0.1", port, name=nick, sock=s)
    ws.register(nick)
    ws.send("JOIN #wsflood")
    ws.expect("JOIN")
    return ws


def test_websocket_client_that_never_reads(web_factory, capsys, monkeypatch):
    """WebSocket members of a busy group that never read are dropped at
    limits.sendq ("SendQ exceeded") like TCP ones (test_limits.py::
    test_sendq_exceeded_drops_only_the_slow_reader), also when the
    connection carried an HTTP response bigger than limits.sendq before
    its upgrade; the others keep chatting and lose nothing."""
    for k, v in daemon_env().items():
        monkeypatch.setenv(k, v)
    srv = web_factory(limits={"sendq": 65536, "flood_exempt": ["127.0.0.2"]})
    root = srv.config["web"]["root"]
    big = os.path.join(root, "public", "big.js")
    with open(big, "w") as f:
        f.write("//" + "b" * (4 << 20) + "\n")      # 4 MiB, far above limits.sendq
    os.chmod(big, 0o644)
    base = baseline(srv)
    sender = srv.client("wstalker", source="127.0.0.2")
    watcher = srv.client("wswatch", source="127.0.0.2", caps=("message-tags",))
    for c in (sender, watcher):
        c.join("#wsflood")
    sloths = {"wsloth": ws_sloth(srv.web_port, "wsloth"),
              "wsbig": ws_sloth(srv.web_port, "wsbig", big="big.js")}
    sender.sync()
    watcher.sync()
    text = "快" * 100 + "x" * 150
    quits, received, n = {}, [], 0
    for batch in range(200):
        sender.send_raw("".join("PRIVMSG #wsflood :%d %s\r\n" % (batch * 50 + i, text)
                                for i in range(50)).encode())
        n += 50
        last = "%d %s" % (n - 1, text)
        for m in watcher.collect("PRIVMSG", timeout=10, pred=lambda m: m.last == last):
            if m.command == "QUIT" and m.nick in sloths:
                quits.setdefault(m.nick, (n, m.last))
            elif m.command == "PRIVMSG":
                received.append(m.tags["msgid"])
        if len(quits) == len(sloths):
            break
    assert set(quits) == set(sloths), "not dropped after %d messages: %s" % (
        n, set(sloths) - set(quits))
    for nick, (at, reason) in quits.items():
        assert "SendQ exceeded" in reason, (nick, reason)
    # the connection that served 4 MiB first is not allowed 4 MiB of sendq:
    # ~450-byte lines, 64 KiB of sendq and the kernel's buffers
    assert quits["wsbig"][0] <= quits["wsloth"][0] + 1000, quits
    watcher.send("PRIVMSG #wsflood :still here")
    assert sender.expect("PRIVMSG").last == "still here"
    assert len(received) == n, (len(received), n)
    assert_logged(srv, received)
    check_rss(capsys, srv, "WebSocket clients that never read", base, 48, 96)
    assert_serves(srv, "ws")
    for s in sloths.values():
        s.close()


def test_http_client_pipelining_big_downloads_never_reads(web_factory, capsys, monkeypatch):
    """A client that pipelines 100 requests for a 2 MiB file and reads
    nothing: the connection holds one response plus limits.sendq and is
    then dropped ("SendQ exceeded"), not 200 MiB of queued responses (the
    finding: each response raised the cap by its own size). Others are
    served on."""
    for k, v in daemon_env().items():
        monkeypatch.setenv(k, v)
    srv = web_factory(limits={"sendq": 65536})
    big = os.path.join(srv.config["web"]["root"], "public", "big2.js")
    with open(big, "w") as f:
        f.write("//" + "p" * (2 << 20) + "\n")
    os.chmod(big, 0o644)
    base = baseline(srv)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", srv.web_port))
    s.sendall(b"GET /static/big2.js HTTP/1.1\r\nHost: x\r\n\r\n" * 100)
    time.sleep(2)
    took, data = closed_within(s, 10)
    s.close()
    assert len(data) < 4 * (2 << 20), len(data)   # closed (often reset: nothing read)
    check_rss(capsys, srv, "HTTP pipelined downloads never read", base, 48, 96)
    w = socket.create_connection(("127.0.0.1", srv.web_port), timeout=5)
    w.sendall(b"GET /static/app.js HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    _, data = closed_within(w, 5)
    assert data.startswith(b"HTTP/1.1 200"), data[:100]
    assert_serves(srv, "hp")


# ---------------------------------------------------------------- connection storm

STORM_BATCHES = 40
STORM_ADDRS = 250          # per batch, 4 attempts each: 1,000 attempts a batch
STORM_PER_IP = 3
STORM_MAX_CLIENTS = 600


def storm_batch(port, batch):
    """1,000 connection attempts from 250 addresses 127.<b>.<x>.<y>; each
    accepted one sends CAP LS and waits for the answer (so every attempt
    ends accepted or refused, none in between). Returns (accepted per
    address, refusal ERROR lines, connections still open)."""
    sel = selectors.DefaultSelector()
    socks = {}
    for a in range(STORM_ADDRS):
        n = batch * STORM_ADDRS + a
        src = "127.%d.%d.%d" % (1 + n // 65000, (n // 250) % 250 + 1, n % 250 + 1)
        for _ in range(STORM_PER_IP + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setblocking(False)
            s.bind((src, 0))
            s.connect_ex(("127.0.0.1", port))
            socks[s] = [src, b"", "connecting"]
            sel.register(s, selectors.EVENT_WRITE)
    deadline = time.monotonic() + 20
    pending = len(socks)
    while pending and time.monotonic() < deadline:
        for key, ev in sel.select(0.5):
            s = key.fileobj
            st = socks[s]
            if st[2] == "connecting":
                err = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
                assert err == 0, os.strerror(err)
                try:
                    s.send(b"CAP LS 302\r\n")
                except OSError:
                    pass            # refused and closed already: read the ERROR
                st[2] = "waiting"
                sel.modify(s, selectors.EVENT_READ)
                continue
            try:
                chunk = s.recv(4096)
            except ConnectionResetError:
                chunk = b""
            st[1] += chunk
            if b" CAP " in st[1]:
                st[2] = "accepted"
            elif not chunk:
                st[2] = "refused"
            else:
                continue
            sel.unregister(s)
            pending -= 1
    sel.close()
    assert pending == 0, "%d attempts neither accepted nor refused" % pending
    per_ip, errors, open_ = {}, [], []
    for s, (src, data, state) in socks.items():
        if state == "accepted":
            per_ip[src] = per_ip.get(src, 0) + 1
            open_.append(s)
        else:
            errors.append(data.decode("utf-8", "replace").strip())
            s.close()
    return per_ip, errors, open_


def unknown_gone(watcher, timeout=10.0):
    """Waits until LUSERS counts no unregistered connection (253)."""
    deadline = time.monotonic() + timeout
    while True:
        watcher.send("LUSERS")
        n = int(watcher.expect("253").params[1])
        watcher.expect("266")
        if n == 0:
            return
        assert time.monotonic() < deadline, "%d unregistered connections still counted" % n
        time.sleep(0.05)


def test_connection_storm_from_many_addresses(qund_factory, capsys):
    """40,000 connection attempts in batches of 1,000 from 10,000 loopback
    addresses with limits.max_per_ip = 3 and limits.max_clients = 600:
    refusals carry "Too many connections from your address" or "Server is
    full", no address ever has more than 3 and the server never more than
    600, a registered client answers PING within a second during every
    batch, a new client registers between batches, and RSS stays bounded."""
    srv = qund_factory(env=daemon_env(), limits={
        "max_per_ip": STORM_PER_IP, "max_clients": STORM_MAX_CLIENTS,
        "flood_exempt": ["127.0.0.1/32"]})
    base = baseline(srv)
    watcher = srv.client("stormw")
    t0 = time.monotonic()
    kinds = {"per-ip": 0, "full": 0}
    accepted_total = 0
    for batch in range(STORM_BATCHES):
        per_ip, errors, open_ = storm_batch(srv.port, batch)
        responsive(watcher, within=1.0)
        assert max(per_ip.values(), default=0) <= STORM_PER_IP, max(per_ip.values())
        assert len(open_) <= STORM_MAX_CLIENTS - 1, len(open_)
        for e in errors:
            if "Too many connections from your address" in e:
                kinds["per-ip"] += 1
            elif "Server is full" in e:
                kinds["full"] += 1
            else:
                raise AssertionError("refusal without the right ERROR: %r" % e)
            assert e.startswith("ERROR :Closing link: 127."), e
        accepted_total += len(open_)
        for s in open_:
            s.close()
        if batch % 5 == 4:
            # the server reads the closes just made in its next iterations
            # and counts those connections against max_clients until then
            unknown_gone(watcher)
            t1 = time.monotonic()
            c = srv.client("storm%d" % batch)
            took = time.monotonic() - t1
            assert took < 2.0, "registration took %.2fs during the storm" % took
            c.close()
    elapsed = time.monotonic() - t0
    with capsys.disabled():
        print("\n[fault storm] %d attempts in %.1fs: %d accepted, %d refused per address, "
              "%d refused server full" % (STORM_BATCHES * STORM_ADDRS * (STORM_PER_IP + 1),
                                          elapsed, accepted_total, kinds["per-ip"], kinds["full"]))
    assert kinds["per-ip"] > 0 and kinds["full"] > 0, kinds
    check_rss(capsys, srv, "40,000 connection attempts", base, 64, 128)
    assert_serves(srv, "st")


# ---------------------------------------------------------------- malformed IRC

def test_malformed_irc_input_mix(qund_factory, capsys):
    """The IRC listener with lines no parser should see (overlong lines and
    tags: test_limits.py; invalid UTF-8: test_registration.py): NUL and
    bare CR, 40 parameters, a prefix without a command, tags without a
    command, a line of 8,000 spaces, and 256 KiB of seeded random bytes,
    before and after registration. Every answer is a line within the
    limits (ircclient checks), the connection survives or ends with
    ERROR, and the daemon serves on."""
    srv = qund_factory(env=daemon_env())
    base = baseline(srv)
    c = srv.client("mangled")
    lines = [b"PRIVMSG mangled :nul\x00byte", b"PRIVMSG mangled :bare\rcr",
             b"PRIVMSG " + b" ".join(b"p%d" % i for i in range(40)), b":prefix.only",
             b"@a=b;c=d", b"@", b":", b" " * 8000, b"\x01\x02\x03", b"JOIN #a,#b," * 200,
             b"MODE mangled " + b"+i-i" * 200, b"CAP REQ :" + b"x " * 300]
    c.send_raw(b"\r\n".join(lines) + b"\r\n")
    c.sync()
    rnd = random.Random(88)
    for i in range(4):
        d = srv.connect(name="noise%d" % i)
        d.strict = False
        if i % 2:
            d.register("noise%d" % i)
        for _ in range(4):
            try:
                d.send_raw(rnd.randbytes(16384) + b"\r\n")
            except OSError:
                break
        try:
            msgs = d.read_all(1.0)
        except Exception:
            msgs = []
        for m in msgs:
            assert m.command != "ERROR" or "Closing link" in m.last, m.raw
        d.close()
    c.sync()
    check_rss(capsys, srv, "malformed IRC input", base, 16, 64)
    assert_serves(srv, "mi")
