"""test_limits.py - every buffer and rate has a cap, and hitting it is an
answer, not a crash: overlong lines (417), flood penalty (slowed, never
lost), SendQ for a client that never reads, connections per address, and
the client limit.

Loopback tricks: the whole of 127.0.0.0/8 is local, so a client binds a
source address (127.0.0.2, 127.0.0.3, ...) to look like a different host;
limits.flood_exempt then names exactly the addresses that are exempt.
"""

import re
import time

import pytest

from conftest import wait_exit

CHAN = "#limits"
EXEMPT = "127.0.0.2"


def test_overlong_body_is_417_and_connection_survives(server):
    a = server.client("longA")
    b = server.client("longB")
    a.send("PRIVMSG longB :" + "x" * 600)
    m = a.expect("417")
    assert m.params[0] == "longA", m.raw
    a.sync()
    # A 510-byte body (the limit) is accepted and delivered.
    prefix = "PRIVMSG longB :"
    text = "y" * (510 - len(prefix))
    a.send(prefix + text)
    lines = a.sync()
    assert "417" not in [x.command for x in lines], [x.raw for x in lines]
    m = b.expect("PRIVMSG")
    assert m.nick == "longA" and text.startswith(m.last) and len(m.last) > 400, m.raw
    # 511 bytes is one too many.
    a.send(prefix + text + "y")
    assert a.expect("417").params[0] == "longA"
    a.send("PRIVMSG longB :after")
    assert b.expect("PRIVMSG").last == "after"


def test_overlong_line_and_tags_are_417(server):
    a = server.client("tagsA", caps=["message-tags"])
    b = server.client("tagsB", caps=["message-tags"])
    # Client-only tags over 4094 bytes.
    a.send("@+big=%s TAGMSG tagsB" % ("v" * 5000))
    assert a.expect("417").params[0] == "tagsA"
    # A line far beyond tags + body limits (transport-level refusal).
    a.send("@+huge=%s PRIVMSG tagsB :%s" % ("w" * 9000, "z" * 2000))
    assert a.expect("417").params[0] == "tagsA"
    # Both refused lines were discarded whole: nothing reached B.
    a.send("PRIVMSG tagsB :still fine")
    lines = b.collect("PRIVMSG")
    assert lines[-1].last == "still fine"
    assert "TAGMSG" not in [x.command for x in lines], [x.raw for x in lines]
    # A client tag under the limit passes.
    a.send("@+ok=%s TAGMSG tagsB" % ("v" * 100))
    m = b.expect("TAGMSG")
    assert m.tags.get("+ok") == "v" * 100


def flood_round(client, n=100):
    """Sends n cheap commands in one write, then a PING; returns the
    seconds until the PONG and the number of replies."""
    token = "flood-done"
    payload = "".join("ISON %s\r\n" % client.nick for _ in range(n))
    payload += "PING :%s\r\n" % token
    t0 = time.monotonic()
    client.send_raw(payload.encode())
    lines = client.collect("PONG", timeout=40, pred=lambda m: m.last == token)
    elapsed = time.monotonic() - t0
    replies = [m for m in lines if m.command == "303"]
    assert all(m.last.strip() == client.nick for m in replies), [m.raw for m in replies[:3]]
    assert not [m for m in lines if m.command == "ERROR"], [m.raw for m in lines]
    return elapsed, len(replies)


def test_flood_is_slowed_not_lost(qund_factory):
    srv = qund_factory(limits={"flood_exempt": [EXEMPT], "flood_burst": 10})
    slow = srv.client("flooder")                   # 127.0.0.1: not exempt
    fast = srv.client("exempted", source=EXEMPT)
    fast_time, fast_n = flood_round(fast)
    slow_time, slow_n = flood_round(slow)
    assert fast_n == 100 and slow_n == 100, (fast_n, slow_n)
    # ISON costs 200 ms; 100 of them are 20 s of penalty, 10 s of which the
    # burst allows at once: the non-exempt client needs ~10 s.
    assert fast_time < 3.0, "exempt client took %.1fs" % fast_time
    assert slow_time >= 7.0, "non-exempt client took only %.1fs" % slow_time
    assert slow_time - fast_time >= 5.0, (slow_time, fast_time)
    # Still connected and served.
    slow.sync()


def test_sendq_exceeded_drops_only_the_slow_reader(qund_factory):
    srv = qund_factory(limits={"sendq": 65536, "flood_exempt": [EXEMPT],
                               "max_per_ip": 10})
    sender = srv.client("talker", source=EXEMPT)
    watcher = srv.client("watcher", source=EXEMPT)
    sloth = srv.client("sloth", rcvbuf=4096)
    for c in (sender, watcher, sloth):
        c.join(CHAN)
    sender.sync()
    watcher.sync()
    text = "快" * 100 + "x" * 150   # ~450 bytes once relayed
    quit_line = None
    sent = 0
    for batch in range(300):
        sender.send_raw("".join("PRIVMSG %s :%d %s\r\n" % (CHAN, batch * 100 + i, text)
                                for i in range(100)).encode())
        sent += 100
        last = "%d %s" % (batch * 100 + 99, text)
        lines = watcher.collect("PRIVMSG", timeout=10, pred=lambda m: m.last == last)
        quits = [m for m in lines if m.command == "QUIT" and m.nick == "sloth"]
        if quits:
            quit_line = quits[0]
            break
    assert quit_line is not None, "sloth was never disconnected after %d messages" % sent
    assert "SendQ exceeded" in quit_line.last, quit_line.raw
    # The others keep chatting, and nothing was lost for them.
    watcher.send("PRIVMSG %s :still here" % CHAN)
    m = sender.expect("PRIVMSG")
    assert m.nick == "watcher" and m.last == "still here", m.raw
    sender.send("PRIVMSG %s :me too" % CHAN)
    assert watcher.expect("PRIVMSG").last == "me too"
    assert sloth.nick not in [n.lstrip("~@+") for n in watcher.names(CHAN)]


def test_max_per_ip(qund_factory):
    srv = qund_factory(limits={"max_per_ip": 3, "flood_exempt": [EXEMPT]})
    ip = "127.0.0.3"
    first = [srv.client("ip%d" % i, source=ip) for i in range(3)]
    extra = srv.connect(source=ip, name="fourth")
    lines = extra.expect_closed()
    errors = [m for m in lines if m.command == "ERROR"]
    assert errors, [m.raw for m in lines]
    assert re.search(r"(?i)too many connections", errors[0].last), errors[0].raw
    # Another address is not affected, and neither are the first three.
    other = srv.client("otherip", source="127.0.0.4")
    other.sync()
    for c in first:
        c.sync()
    # When one leaves, the address has room again.
    first[0].send("QUIT :bye")
    first[0].expect_closed()
    first[1].sync()
    again = srv.client("ipagain", source=ip)
    again.sync()


def test_max_clients(qund_factory):
    srv = qund_factory(limits={"max_clients": 3})
    clients = [srv.client("full%d" % i) for i in range(3)]
    extra = srv.connect(name="overflow")
    lines = extra.expect_closed()
    errors = [m for m in lines if m.command == "ERROR"]
    assert errors, [m.raw for m in lines]
    assert re.search(r"(?i)full|too many", errors[0].last), errors[0].raw
    for c in clients:
        c.sync()
    clients[0].send("QUIT")
    clients[0].expect_closed()
    clients[1].sync()
    srv.client("fullagain").sync()


if __name__ == "__main__":
    pytest.main([__file__])


def test_sigterm_with_a_stuck_reader_and_a_paused_flooder(qund_factory):
    """Shutdown must not wait for a client that never reads, nor for one
    whose lines are held back by the flood penalty."""
    import signal
    srv = qund_factory(limits={"flood_exempt": [EXEMPT]})
    sender = srv.client("pusher", source=EXEMPT)
    sloth = srv.client("stuck", rcvbuf=4096)
    flooder = srv.client("paused")                 # not exempt
    sender.join(CHAN)
    sloth.join(CHAN)
    sender.sync()
    text = "z" * 400
    for batch in range(5):
        sender.send_raw("".join("PRIVMSG %s :%s\r\n" % (CHAN, text)
                                for _ in range(100)).encode())
        sender.sync()
    flooder.send_raw(b"".join(b"ISON paused\r\n" for _ in range(200)))
    flooder.expect("303")
    srv.signal(signal.SIGTERM)
    t0 = time.monotonic()
    lines = sender.expect_closed()
    assert "ERROR" in [m.command for m in lines], [m.raw for m in lines]
    rc = wait_exit(srv)
    assert rc == 0, "qund exit status %r (None: still running 5 s after SIGTERM)" % rc
    assert time.monotonic() - t0 < 5
