"""test_registration.py - connection registration, CAP negotiation, nicks,
ISUPPORT, the registration timeout and PING/PONG, against a real qund.

References: modern.ircdocs.horse (connection registration, numerics),
IRCv3 capability-negotiation (CAP LS 302), RFC 2812 section 3.1.
"""

import re
import time

from conftest import NETWORK, SERVER_NAME

ADVERTISED_CAPS = {
    "cap-notify", "message-tags", "server-time", "echo-message", "batch",
    "labeled-response", "multi-prefix", "userhost-in-names", "extended-join",
    "away-notify", "account-notify", "account-tag", "chghost", "invite-notify",
    "setname", "standard-replies",
}


def commands(lines):
    return [m.command for m in lines]


def test_plain_registration_sends_welcome_lusers_motd(server):
    c = server.connect(name="plain")
    c.send("NICK alice")
    c.send("USER alice 0 * :Alice Liddell")
    lines = c.collect("376")
    cmds = commands(lines)
    # 001-004 exactly once, in order, then at least one 005.
    assert cmds[:4] == ["001", "002", "003", "004"], cmds
    assert cmds[4] == "005", cmds
    welcome = lines[0]
    assert welcome.prefix == SERVER_NAME
    assert welcome.params[0] == "alice"
    assert "alice" in welcome.last
    myinfo = lines[3]
    assert myinfo.params[0] == "alice" and myinfo.params[1] == SERVER_NAME, myinfo.raw
    assert len(myinfo.params) >= 5, myinfo.raw
    # LUSERS: 251 and 255 are mandatory; they come after 005 and before MOTD.
    assert "251" in cmds and "255" in cmds, cmds
    i005 = max(i for i, x in enumerate(cmds) if x == "005")
    assert i005 < cmds.index("251") < cmds.index("255") < cmds.index("375"), cmds
    # MOTD from the configured file, line by line.
    motd = [m.last for m in lines if m.command == "372"]
    assert any("Welcome to the Qun integration test server." in t for t in motd), motd
    assert any("欢迎来到群。" in t for t in motd), motd
    assert cmds[-1] == "376"
    # Every numeric is addressed to the new nick.
    for m in lines:
        if m.command.isdigit():
            assert m.params[0] == "alice", m.raw


def test_motd_missing_gives_422(qund_factory):
    # A development server always has a MOTD (its warning), so turn that off.
    srv = qund_factory(server={"motd": None, "development": False})
    c = srv.connect(name="nomotd")
    c.send("NICK bob")
    c.send("USER bob 0 * :Bob")
    lines = c.collect(("376", "422"))
    assert lines[-1].command == "422", [m.raw for m in lines]


def test_cap_ls_302_lists_the_capabilities(server):
    c = server.connect(name="capls")
    caps = c.cap_ls()
    missing = ADVERTISED_CAPS - set(caps)
    assert not missing, "missing caps %s; advertised %s" % (sorted(missing), sorted(caps))
    # Every CAP reply during registration is addressed to "*".
    assert all(m.params[0] == "*" for m in c.log if m.command == "CAP")


def test_cap_req_ack_and_nak(server):
    c = server.connect(name="capreq")
    c.cap_ls()
    ack = c.cap_req(["multi-prefix", "server-time"])
    assert ack.params[1] == "ACK", ack.raw
    assert set(ack.last.split()) == {"multi-prefix", "server-time"}
    # A request with one unknown cap is refused as a whole.
    nak = c.cap_req(["echo-message", "no-such-cap"])
    assert nak.params[1] == "NAK", nak.raw
    assert set(nak.last.split()) == {"echo-message", "no-such-cap"}
    c.send("CAP LIST")
    lst = c.expect("CAP", pred=lambda m: m.params[1] == "LIST")
    # CAP LS 302 enables cap-notify implicitly, so LIST may show it.
    assert set(lst.last.split()) - {"cap-notify"} == {"multi-prefix", "server-time"}, lst.raw
    # Disabling with '-'.
    ack = c.cap_req(["-server-time"])
    assert ack.params[1] == "ACK" and ack.last.split() == ["-server-time"], ack.raw
    c.send("CAP LIST")
    lst = c.expect("CAP", pred=lambda m: m.params[1] == "LIST")
    assert set(lst.last.split()) - {"cap-notify"} == {"multi-prefix"}, lst.raw


def test_registration_waits_for_cap_end(server):
    c = server.connect(name="capwait")
    c.cap_ls()
    c.send("NICK carol")
    c.send("USER carol 0 * :Carol")
    early = c.read_all(1.0)
    assert "001" not in commands(early), [m.raw for m in early]
    c.send("CAP END")
    lines = c.collect("001")
    assert lines[-1].params[0] == "carol"
    c.expect(("376", "422"))


def test_nick_in_use_is_433_case_insensitively(server):
    server.client("Dave")
    c = server.connect(name="second")
    c.send("NICK Dave")
    m = c.expect("433")
    assert m.params[:2] == ["*", "Dave"], m.raw
    c.send("NICK dAVE")
    m = c.expect("433")
    assert m.params[:2] == ["*", "dAVE"], m.raw
    # Still possible to register under another nick.
    c.send("NICK dave2")
    c.send("USER dave2 0 * :Dave Two")
    assert c.expect("001").params[0] == "dave2"
    # A registered client changing to a taken nick gets 433 with its own nick.
    c.expect(("376", "422"))
    c.send("NICK DAVE")
    m = c.expect("433")
    assert m.params[:2] == ["dave2", "DAVE"], m.raw


def test_erroneous_nick_is_432(server):
    c = server.connect(name="badnick")
    for bad in ("#chan", "1abc", "-dash", "a!b", "ab@cd", "~owner", "ab＠cd"):
        c.send("NICK :%s" % bad)
        m = c.expect("432")
        assert m.params[:2] == ["*", bad], (bad, m.raw)
    c.send("NICK")
    assert c.expect("431").params[0] == "*"


def test_chinese_nick_and_case_insensitive_whois(server):
    zh = server.client("小明")
    assert zh.nick == "小明"
    alice = server.client("Alice")
    alice.send("WHOIS 小明")
    m = alice.expect("311")
    assert m.params[1] == "小明", m.raw
    alice.expect("318")
    zh.send("WHOIS alice")
    m = zh.expect("311")
    assert m.params[1] == "Alice", m.raw
    assert m.params[-1] == "Real Alice"
    end = zh.expect("318")
    assert end.params[1].lower() == "alice"
    zh.send("WHOIS nobody-here")
    m = zh.expect("401")
    assert m.params[1] == "nobody-here"


def test_isupport_tokens(server):
    c = server.client("tokens")
    isup = c.isupport
    assert "UTF8ONLY" in isup, isup
    assert isup.get("CASEMAPPING"), isup
    assert isup.get("PREFIX") == "(qov)~@+", isup
    assert isup.get("NETWORK") == NETWORK, isup
    assert "#" in (isup.get("CHANTYPES") or ""), isup
    # 005 lines end with the human-readable trailing text.
    for m in c.log:
        if m.command == "005":
            assert m.last.endswith("supported by this server"), m.raw


def test_unregistered_commands_get_451(server):
    c = server.connect(name="early")
    c.send("JOIN #x")
    m = c.expect("451")
    assert m.params[0] == "*", m.raw


def test_unknown_command_is_421(server):
    c = server.client("unk")
    c.send("FROBNICATE a b")
    m = c.expect("421")
    assert m.params[:2] == ["unk", "FROBNICATE"], m.raw


def test_ping_pong(server):
    c = server.client("pinger")
    c.send("PING :hello 世界")
    m = c.expect("PONG")
    assert m.prefix == SERVER_NAME
    assert m.params[0] == SERVER_NAME and m.last == "hello 世界", m.raw
    c.send("PING")
    m = c.expect(("461", "409"))
    assert m.params[0] == "pinger"


def test_registration_timeout_sends_error(qund_factory):
    srv = qund_factory(limits={"registration_timeout": 5})
    c = srv.connect(name="silent")
    t0 = time.monotonic()
    lines = c.expect_closed(timeout=9)
    elapsed = time.monotonic() - t0
    errors = [m for m in lines if m.command == "ERROR"]
    assert errors, "no ERROR line before the close: %s" % [m.raw for m in lines]
    assert re.search(r"(?i)regist|time", errors[0].last), errors[0].raw
    assert 4.5 <= elapsed <= 8.0, "closed after %.1fs, want ~5s" % elapsed
    # A client that does register in time is not affected.
    ok = srv.connect(name="quick")
    ok.register("quick")
    time.sleep(5.5)
    ok.sync()


def test_nick_lookup_folds_compatibility_forms(server):
    server.client("Alice")
    c = server.client("finder")
    c.send("WHOIS ＡＬＩＣＥ")    # fullwidth letters fold to "alice"
    m = c.expect("311")
    assert m.params[1] == "Alice", m.raw
    c.send("NICK ａｌｉｃｅ")
    m = c.expect("433")
    assert m.params[:2] == ["finder", "ａｌｉｃｅ"], m.raw


def test_own_nick_case_change(server):
    c = server.client("Case")
    c.send("NICK CASE")
    m = c.expect("NICK")
    assert m.nick == "Case" and m.params == ["CASE"], m.raw
    c.send("NICK 小明")
    m = c.expect("NICK")
    assert m.nick == "CASE" and m.params == ["小明"], m.raw
    other = server.client("asker")
    other.send("WHOIS case")
    assert other.expect("401").params[1] == "case"


def test_user_errors(server):
    c = server.connect(name="usererr")
    c.send("USER onlyone")
    m = c.expect("461")
    assert m.params[:2] == ["*", "USER"], m.raw
    c.register("usererr")
    c.send("USER again 0 * :Again")
    assert c.expect("462").params[0] == "usererr"


def test_invalid_utf8_is_refused_with_fail(server):
    c = server.client("bytes", caps=["standard-replies"])
    peer = server.client("peer")
    c.send_raw(b"PRIVMSG peer :\xff\xfe broken\r\n")
    m = c.expect("FAIL")
    assert "INVALID_UTF8" in m.params, m.raw
    # Without standard-replies the refusal is a NOTICE that says why.
    peer.send_raw(b"PRIVMSG bytes :\xc3\r\n")
    m = peer.expect("NOTICE")
    assert m.params[0] == "peer" and "UTF-8" in m.last, m.raw
    assert not [x for x in c.read_all(0.3) if x.command == "PRIVMSG"]
    c.send("PRIVMSG peer :fine")
    lines = peer.collect("PRIVMSG")
    assert [x.last for x in lines if x.command == "PRIVMSG"] == ["fine"]


def test_server_password(qund_factory):
    srv = qund_factory(server={"password": "sesame123"})
    bad = srv.connect(name="badpass")
    bad.send("PASS wrong")
    bad.send("NICK badpass")
    bad.send("USER badpass 0 * :Bad")
    lines = bad.expect_closed()
    cmds = [m.command for m in lines]
    assert "464" in cmds and "ERROR" in cmds and "001" not in cmds, [m.raw for m in lines]
    nopass = srv.connect(name="nopass")
    nopass.send("NICK nopass")
    nopass.send("USER nopass 0 * :None")
    lines = nopass.expect_closed()
    cmds = [m.command for m in lines]
    assert "464" in cmds and "001" not in cmds, [m.raw for m in lines]
    good = srv.connect(name="goodpass")
    good.send("PASS sesame123")
    good.register("goodpass")


def test_ping_timeout(qund_factory):
    srv = qund_factory(limits={"ping_interval": 5, "ping_timeout": 5})
    c = srv.client("sleepy")
    c.auto_pong = False
    t0 = time.monotonic()
    ping = c.expect("PING", timeout=8)
    assert ping.params == [SERVER_NAME] or ping.last, ping.raw
    lines = c.expect_closed(timeout=9)
    elapsed = time.monotonic() - t0
    errors = [m for m in lines if m.command == "ERROR"]
    assert errors and "Ping timeout" in errors[0].last, [m.raw for m in lines]
    assert 8.5 <= elapsed <= 13.0, "closed after %.1fs, want ~10s" % elapsed
