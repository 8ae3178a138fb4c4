"""test_chat.py - messages between clients in a Chinese-named channel, and
the IRCv3 capabilities that change how they are delivered.

References: IRCv3 message-tags, server-time, message-ids, echo-message,
labeled-response, batch, extended-join, multi-prefix, userhost-in-names,
away-notify, setname, invite-notify; RFC 2812 JOIN/PART/QUIT.
"""

import pytest

from ircclient import SERVER_TIME_RE, split_prefixes

CHAN = "#测试"
RICH = ["message-tags", "server-time", "echo-message", "batch", "labeled-response"]


def join_all(chan, *clients):
    """Joins in order; each earlier member sees each later JOIN."""
    for i, c in enumerate(clients):
        c.join(chan)
        for earlier in clients[:i]:
            earlier.expect("JOIN", pred=lambda m, n=c.nick: m.nick == n)


def test_join_privmsg_notice_both_ways(server):
    a = server.client("甲")
    b = server.client("乙")
    lines = a.join(CHAN)
    join = [m for m in lines if m.command == "JOIN"][0]
    assert join.nick == "甲" and join.params[0] == CHAN, join.raw
    assert "!" in join.prefix and "@" in join.prefix, join.raw
    b.join(CHAN)
    m = a.expect("JOIN")
    assert m.nick == "乙" and m.params[0] == CHAN

    a.send("PRIVMSG %s :你好，乙" % CHAN)
    m = b.expect("PRIVMSG")
    assert m.nick == "甲" and m.params == [CHAN, "你好，乙"], m.raw
    b.send("PRIVMSG %s :你好，甲" % CHAN)
    m = a.expect("PRIVMSG")
    assert m.nick == "乙" and m.params == [CHAN, "你好，甲"], m.raw
    # A sender does not get its own message back without echo-message.
    a.sync()
    assert not [x for x in a.read_all(0.2) if x.command == "PRIVMSG"]

    # Private messages both ways.
    a.send("PRIVMSG 乙 :私聊")
    m = b.expect("PRIVMSG")
    assert m.nick == "甲" and m.params == ["乙", "私聊"], m.raw
    b.send("NOTICE 甲 :notice text")
    m = a.expect("NOTICE")
    assert m.nick == "乙" and m.params == ["甲", "notice text"], m.raw
    a.send("NOTICE %s :channel notice" % CHAN)
    m = b.expect("NOTICE")
    assert m.nick == "甲" and m.params == [CHAN, "channel notice"], m.raw
    # Errors: no such nick / channel.
    a.send("PRIVMSG nobody :x")
    assert a.expect("401").params[:2] == ["甲", "nobody"]
    a.send("PRIVMSG #nowhere :x")
    m = a.expect(("401", "403"))
    assert m.params[1] == "#nowhere", m.raw
    a.send("PRIVMSG %s" % CHAN)
    assert a.expect("412").params[0] == "甲"


def test_tagmsg_typing_only_to_message_tags_clients(server):
    a = server.client("typer", caps=["message-tags"])
    b = server.client("tagged", caps=["message-tags"])
    c = server.client("plainc")
    join_all(CHAN, a, b, c)
    a.send("@+typing=active TAGMSG %s" % CHAN)
    a.send("PRIVMSG %s :marker" % CHAN)
    m = b.expect("TAGMSG")
    assert m.nick == "typer" and m.params == [CHAN], m.raw
    assert m.tags.get("+typing") == "active", m.raw
    b.expect("PRIVMSG")
    # The plain client's next line from typer is the marker, not the TAGMSG.
    lines = c.collect("PRIVMSG")
    assert "TAGMSG" not in [x.command for x in lines], [x.raw for x in lines]
    assert lines[-1].last == "marker" and lines[-1].tags == {}, lines[-1].raw


def test_server_time_and_msgid(server):
    a = server.client("sender")
    b = server.client("tagsrv", caps=["message-tags", "server-time"])
    c = server.client("plainr")
    join_all(CHAN, a, b, c)
    a.send("PRIVMSG %s :tagged?" % CHAN)
    m = b.expect("PRIVMSG")
    assert SERVER_TIME_RE.match(m.tags.get("time") or ""), m.raw
    assert m.tags.get("msgid"), m.raw
    m = c.expect("PRIVMSG")
    assert m.tags == {}, m.raw
    # Two messages get different msgids.
    a.send("PRIVMSG %s :again" % CHAN)
    m2 = b.expect("PRIVMSG")
    assert m2.tags["msgid"] != m.tags.get("msgid", "")


def test_echo_message_has_same_msgid(server):
    a = server.client("echoer", caps=["echo-message", "message-tags", "server-time"])
    b = server.client("seer", caps=["message-tags", "server-time"])
    join_all(CHAN, a, b)
    a.send("PRIVMSG %s :回声" % CHAN)
    echo = a.expect("PRIVMSG")
    seen = b.expect("PRIVMSG")
    assert echo.nick == "echoer" and echo.params == [CHAN, "回声"], echo.raw
    assert echo.tags.get("msgid") and echo.tags["msgid"] == seen.tags.get("msgid"), \
        (echo.raw, seen.raw)
    assert echo.tags.get("time") == seen.tags.get("time")
    # Echo of a private message too.
    a.send("PRIVMSG seer :pm")
    echo = a.expect("PRIVMSG")
    seen = b.expect("PRIVMSG")
    assert echo.params == ["seer", "pm"], echo.raw
    assert echo.tags["msgid"] == seen.tags["msgid"]


def test_labeled_response_single_batch_and_ack(server):
    a = server.client("labeler", caps=["labeled-response", "batch", "message-tags"])
    b = server.client("target")
    join_all(CHAN, a, b)
    # Single reply: the reply carries the label.
    a.send("@label=one PING :x")
    m = a.expect("PONG")
    assert m.tags.get("label") == "one", m.raw
    # Several replies: a labeled-response batch.
    a.send("@label=two WHOIS target")
    lines = a.collect("BATCH", pred=lambda m: m.params[0].startswith("-"))
    start = lines[0]
    assert start.command == "BATCH" and start.params[0].startswith("+"), \
        [x.raw for x in lines]
    ref = start.params[0][1:]
    assert start.params[1] == "labeled-response" and start.tags.get("label") == "two", start.raw
    inner = lines[1:-1]
    assert [x.command for x in inner][0] == "311" and inner[-1].command == "318", \
        [x.raw for x in lines]
    assert all(x.tags.get("batch") == ref for x in inner), [x.raw for x in inner]
    assert all("label" not in x.tags for x in inner)
    assert lines[-1].params[0] == "-" + ref
    # No reply at all: ACK.
    a.send("@label=three PONG :nothing")
    m = a.expect("ACK")
    assert m.tags.get("label") == "three" and m.prefix, m.raw
    # PRIVMSG without echo-message: ACK too.
    a.send("@label=four PRIVMSG target :hi")
    m = a.expect("ACK")
    assert m.tags.get("label") == "four", m.raw
    b.expect("PRIVMSG")
    # Labeled JOIN: JOIN + NAMES come in one batch.
    a.send("@label=five JOIN #second")
    lines = a.collect("BATCH", pred=lambda m: m.params[0].startswith("-"))
    assert lines[0].command == "BATCH" and lines[0].tags.get("label") == "five"
    cmds = [x.command for x in lines[1:-1]]
    assert cmds[0] == "JOIN" and "353" in cmds and cmds[-1] == "366", cmds


def test_labeled_echo_message_is_the_labeled_reply(server):
    a = server.client("labecho", caps=["labeled-response", "batch", "message-tags",
                                        "echo-message"])
    server.client("other")
    a.send("@label=e1 PRIVMSG other :hello")
    m = a.expect("PRIVMSG")
    assert m.tags.get("label") == "e1" and m.params == ["other", "hello"], m.raw


def test_extended_join(server):
    a = server.client("extj", caps=["extended-join"])
    b = server.client("joiner", user="jn", realname="Joiner Realname")
    a.join(CHAN)
    b.join(CHAN)
    m = a.expect("JOIN")
    assert m.nick == "joiner" and m.params == [CHAN, "*", "Joiner Realname"], m.raw


def test_multi_prefix_and_userhost_in_names(server):
    owner = server.client("owner1")
    member = server.client("member1")
    mp = server.client("mpx", caps=["multi-prefix"])
    uh = server.client("uhn", caps=["userhost-in-names"])
    plain = server.client("plainn")
    join_all(CHAN, owner, member, mp, uh, plain)
    owner.send("MODE %s +ov member1 member1" % CHAN)
    for c in (member, mp, uh, plain):
        c.expect("MODE", pred=lambda m: m.nick == "owner1")
    entries = dict(reversed(split_prefixes(e)) for e in mp.names(CHAN))
    assert entries["member1"] == "@+", entries
    assert entries["owner1"].startswith("~"), entries
    entries = dict(reversed(split_prefixes(e)) for e in plain.names(CHAN))
    assert entries["member1"] == "@", entries
    assert entries["owner1"] == "~", entries
    assert entries["plainn"] == "", entries
    names = uh.names(CHAN)
    hosts = {split_prefixes(e)[1].split("!")[0]: split_prefixes(e)[1] for e in names}
    assert set(hosts) == {"owner1", "member1", "mpx", "uhn", "plainn"}, names
    for nick, full in hosts.items():
        assert "!" in full and "@" in full, names
    assert split_prefixes([e for e in names if "member1!" in e][0])[0] == "@"


def test_away_notify(server):
    a = server.client("watcher", caps=["away-notify"])
    p = server.client("plainw")
    b = server.client("goer")
    join_all(CHAN, a, p, b)
    b.send("AWAY :去吃饭")
    assert b.expect("306").params[0] == "goer"
    m = a.expect("AWAY")
    assert m.nick == "goer" and m.params == ["去吃饭"], m.raw
    b.send("AWAY")
    assert b.expect("305").params[0] == "goer"
    m = a.expect("AWAY")
    assert m.nick == "goer" and m.params == [], m.raw
    # The plain member hears nothing of it.
    b.send("PRIVMSG %s :back" % CHAN)
    lines = p.collect("PRIVMSG")
    assert "AWAY" not in [x.command for x in lines]
    # PRIVMSG to an away user answers 301.
    b.send("AWAY :gone")
    b.expect("306")
    p.send("PRIVMSG goer :are you there")
    m = p.expect("301")
    assert m.params[1:] == ["goer", "gone"], m.raw


def test_setname(server):
    a = server.client("namewatch", caps=["setname"])
    b = server.client("renamer", caps=["setname"])
    join_all(CHAN, a, b)
    b.send("SETNAME :新的名字 New Name")
    m = b.expect("SETNAME")
    assert m.nick == "renamer" and m.params == ["新的名字 New Name"], m.raw
    m = a.expect("SETNAME")
    assert m.nick == "renamer" and m.params == ["新的名字 New Name"], m.raw
    a.send("WHOIS renamer")
    m = a.expect("311")
    assert m.last == "新的名字 New Name", m.raw


def test_invite_notify(server):
    op = server.client("inviter")
    watcher = server.client("opwatch", caps=["invite-notify"])
    guest = server.client("guest")
    join_all(CHAN, op, watcher)
    op.send("MODE %s +o opwatch" % CHAN)
    watcher.expect("MODE")
    op.send("INVITE guest %s" % CHAN)
    m = op.expect("341")
    assert m.params == ["inviter", "guest", CHAN], m.raw
    m = guest.expect("INVITE")
    assert m.nick == "inviter" and m.params == ["guest", CHAN], m.raw
    m = watcher.expect("INVITE")
    assert m.nick == "inviter" and m.params == ["guest", CHAN], m.raw


def test_part_join0_quit_seen_by_others(server):
    a = server.client("stayer")
    b = server.client("leaver")
    join_all(CHAN, a, b)
    join_all("#second", a, b)
    b.send("PART %s :再见" % CHAN)
    m = b.expect("PART")
    assert m.params == [CHAN, "再见"], m.raw
    m = a.expect("PART")
    assert m.nick == "leaver" and m.params == [CHAN, "再见"], m.raw
    assert "leaver" not in [split_prefixes(e)[1] for e in a.names(CHAN)]
    b.join(CHAN)
    a.expect("JOIN")
    # JOIN 0 leaves every channel.
    b.send("JOIN 0")
    parts = set()
    while len(parts) < 2:
        m = a.expect("PART", pred=lambda m: m.nick == "leaver")
        parts.add(m.params[0])
    assert parts == {CHAN, "#second"}
    b.send("PART #second")
    assert b.expect("442").params[:2] == ["leaver", "#second"]
    # QUIT is seen by channel peers, and the quitter gets ERROR.
    b.join(CHAN)
    a.expect("JOIN")
    b.send("QUIT :下线了")
    m = a.expect("QUIT")
    assert m.nick == "leaver" and "下线了" in m.last, m.raw
    lines = b.expect_closed()
    assert any(x.command == "ERROR" for x in lines), [x.raw for x in lines]


def test_privmsg_too_many_targets_and_multiple_targets(server):
    a = server.client("multi")
    b = server.client("t1")
    c = server.client("t2")
    a.send("PRIVMSG t1,t2 :both")
    assert b.expect("PRIVMSG").params == ["t1", "both"]
    assert c.expect("PRIVMSG").params == ["t2", "both"]
    a.send("PRIVMSG a1,a2,a3,a4,a5 :too many")
    m = a.expect("407")
    assert m.params[0] == "multi", m.raw


if __name__ == "__main__":
    pytest.main([__file__])


def test_nick_change_seen_by_peers(server):
    a = server.client("oldname")
    b = server.client("peerN")
    join_all(CHAN, a, b)
    a.send("NICK 新名字")
    for c in (a, b):
        m = c.expect("NICK")
        assert m.nick == "oldname" and m.params == ["新名字"], (c.name, m.raw)
    entries = [split_prefixes(e)[1] for e in b.names(CHAN)]
    assert "新名字" in entries and "oldname" not in entries, entries


def test_channel_names_are_case_insensitive(server):
    a = server.client("caseA")
    b = server.client("caseB")
    a.join("#MixedCase")
    lines = b.join("#mixedcase")
    names = [m for m in lines if m.command == "353"][0]
    assert sorted(split_prefixes(e)[1] for e in names.last.split()) == ["caseA", "caseB"], \
        names.raw
    m = a.expect("JOIN")
    assert m.nick == "caseB"
    b.send("PRIVMSG #MIXEDCASE :hi")
    assert a.expect("PRIVMSG").last == "hi"


def test_dropped_connection_is_a_quit(server):
    a = server.client("stays")
    b = server.client("drops")
    join_all(CHAN, a, b)
    b.close()
    m = a.expect("QUIT")
    assert m.nick == "drops" and m.last, m.raw


def test_client_tags_relayed_only_with_message_tags(server):
    a = server.client("tagger", caps=["message-tags", "echo-message"])
    b = server.client("tagrecv", caps=["message-tags"])
    c = server.client("notags")
    join_all(CHAN, a, b, c)
    a.send("@+draft/reply=abc;+example.com/x=a\\sb PRIVMSG %s :with tags" % CHAN)
    m = b.expect("PRIVMSG")
    assert m.tags.get("+draft/reply") == "abc" and m.tags.get("+example.com/x") == "a b", m.raw
    echo = a.expect("PRIVMSG")
    assert echo.tags.get("+draft/reply") == "abc" and echo.tags.get("msgid") == m.tags.get("msgid")
    m = c.expect("PRIVMSG")
    assert m.tags == {} and m.last == "with tags", m.raw
    # A client may not forge server tags: msgid/time come from the server.
    a.send("@msgid=forged;time=2000-01-01T00:00:00.000Z PRIVMSG %s :forgery" % CHAN)
    m = b.expect("PRIVMSG")
    assert m.tags.get("msgid") != "forged", m.raw
    assert m.tags.get("time") != "2000-01-01T00:00:00.000Z", m.raw


def test_echo_message_tagmsg_and_notice(server):
    a = server.client("echo2", caps=["message-tags", "echo-message"])
    b = server.client("echo2peer", caps=["message-tags"])
    a.send("@+typing=paused TAGMSG echo2peer")
    m = a.expect("TAGMSG")
    assert m.params == ["echo2peer"] and m.tags.get("+typing") == "paused", m.raw
    assert b.expect("TAGMSG").tags.get("msgid") == m.tags.get("msgid")
    a.send("NOTICE echo2peer :n")
    m = a.expect("NOTICE")
    assert m.nick == "echo2" and m.params == ["echo2peer", "n"], m.raw
