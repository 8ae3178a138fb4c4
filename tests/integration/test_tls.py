"""test_tls.py - IRC over TLS, and the daemon's signals: SIGHUP reloads the
configuration without dropping anyone, SIGTERM says goodbye and exits 0.

The certificate is self-signed, made by the `openssl` command once per
session (conftest.tls_files); the client does not verify it.
"""

import os
import signal
import time

from conftest import wait_exit, write_file

CHAN = "#加密"


def test_register_over_tls_and_chat_with_plain(qund_factory):
    srv = qund_factory(tls=True)
    t = srv.client("tlsuser", tls=True)
    assert t.sock.version() in ("TLSv1.2", "TLSv1.3"), t.sock.version()
    p = srv.client("plainuser")
    t.join(CHAN)
    p.join(CHAN)
    t.expect("JOIN", pred=lambda m: m.nick == "plainuser")
    t.send("PRIVMSG %s :从TLS来的" % CHAN)
    m = p.expect("PRIVMSG")
    assert m.nick == "tlsuser" and m.params == [CHAN, "从TLS来的"], m.raw
    p.send("PRIVMSG tlsuser :plain reply")
    m = t.expect("PRIVMSG")
    assert m.nick == "plainuser" and m.params == ["tlsuser", "plain reply"], m.raw
    # WHOIS shows 671 for the TLS client only.
    p.send("WHOIS tlsuser")
    lines = p.collect("318")
    secure = [x for x in lines if x.command == "671"]
    assert len(secure) == 1 and secure[0].params[:2] == ["plainuser", "tlsuser"], \
        [x.raw for x in lines]
    t.send("WHOIS plainuser")
    lines = t.collect("318")
    assert "311" in [x.command for x in lines]
    assert "671" not in [x.command for x in lines], [x.raw for x in lines]


def test_tls_overlong_line_is_417(qund_factory):
    srv = qund_factory(tls=True)
    t = srv.client("tlslong", tls=True)
    t.send("PRIVMSG tlslong :" + "x" * 600)
    assert t.expect("417").params[0] == "tlslong"
    t.sync()


def test_sighup_reloads_without_dropping_clients(qund_factory):
    srv = qund_factory(tls=True)
    t = srv.client("hupTLS", tls=True)
    p = srv.client("hupPlain")
    t.join(CHAN)
    p.join(CHAN)
    t.expect("JOIN", pred=lambda m: m.nick == "hupPlain")
    p.send("MOTD")
    old = [m.last for m in p.collect("376") if m.command == "372"]
    assert not any("重新加载之后" in x for x in old), old

    new_motd = os.path.join(srv.workdir, "motd2.txt")
    write_file(new_motd, "After the reload / 重新加载之后\n")
    srv.write_config({"server": {"motd": new_motd}, "admin": {"location": "Reloaded City"}})
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    motd = old
    while time.monotonic() < deadline:
        p.send("MOTD")
        motd = [m.last for m in p.collect("376") if m.command == "372"]
        if any("重新加载之后" in x for x in motd):
            break
        time.sleep(0.2)
    assert any("重新加载之后" in x for x in motd), "MOTD after SIGHUP: %s" % motd
    # Both clients are still connected and can talk (TLS included).
    t.send("PRIVMSG %s :after reload" % CHAN)
    assert p.expect("PRIVMSG").last == "after reload"
    p.send("PRIVMSG %s :ok" % CHAN)
    assert t.expect("PRIVMSG").last == "ok"
    # New TLS connections still work after the certificates were re-read.
    srv.client("hupNew", tls=True).sync()
    assert srv.proc.poll() is None


def test_sighup_with_bad_config_keeps_running(qund_factory):
    srv = qund_factory()
    c = srv.client("survivor")
    with open(srv.config_path, "a", encoding="utf-8") as f:
        f.write("bogus_setting = 1;\n")
    srv.signal(signal.SIGHUP)
    time.sleep(0.5)
    c.sync()
    assert srv.proc.poll() is None
    assert "bogus_setting" in srv.stderr(), srv.stderr()
    srv.client("newcomer").sync()


def test_sigterm_sends_error_and_exits_0(qund_factory):
    srv = qund_factory(tls=True)
    t = srv.client("termTLS", tls=True)
    p = srv.client("termPlain")
    srv.signal(signal.SIGTERM)
    for c in (t, p):
        lines = c.expect_closed()
        errors = [m for m in lines if m.command == "ERROR"]
        assert errors, (c.name, [m.raw for m in lines])
    rc = wait_exit(srv)
    assert rc == 0, "qund exit status %r after SIGTERM; stderr:\n%s" % (rc, srv.stderr())


def test_sighup_reloads_certificate(qund_factory, tls_files):
    import subprocess
    from conftest import need_tool
    srv = qund_factory(tls=True)
    before = srv.client("certA", tls=True)
    old_der = before.sock.getpeercert(binary_form=True)
    cert = os.path.join(srv.workdir, "cert2.pem")
    key = os.path.join(srv.workdir, "key2.pem")
    r = subprocess.run([need_tool("openssl"), "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=second.qun.test", "-keyout", key, "-out", cert],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    os.chmod(cert, 0o644)
    os.chmod(key, 0o644)
    srv.write_config({"tls": {"certificate": cert, "key": key}})
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    new_der = old_der
    while time.monotonic() < deadline and new_der == old_der:
        time.sleep(0.2)
        c = srv.connect(tls=True, name="probe")
        new_der = c.sock.getpeercert(binary_form=True)
        c.close()
    assert new_der != old_der, "the TLS listener still serves the old certificate"
    before.sync()


def test_plaintext_on_tls_port_and_idle_handshake(qund_factory):
    """Garbage on the TLS port closes that connection only; a connection
    that never starts its handshake does not delay SIGTERM."""
    import socket
    srv = qund_factory(tls=True)
    ok = srv.client("tlsok", tls=True)
    raw = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    raw.sendall(b"NICK plain\r\nUSER a 0 * :b\r\n")
    raw.settimeout(5)
    try:
        while raw.recv(4096):
            pass
    except ConnectionResetError:
        pass
    raw.close()
    ok.sync()
    idle = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    half = socket.create_connection(("127.0.0.1", srv.tls_port), timeout=5)
    half.sendall(b"\x16\x03\x01\x00\xc8\x01\x00")   # a truncated ClientHello
    ok.sync()
    srv.signal(signal.SIGTERM)
    ok.expect_closed()
    rc = wait_exit(srv)
    assert rc == 0, "qund exit status %r (None: still running 5 s after SIGTERM)" % rc
    idle.close()
    half.close()
