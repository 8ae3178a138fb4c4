"""test_channel_ops.py - channel privileges and modes against a real qund:
the creator's ~ (owner), +o/+v, bans, invite-only, keys, limits,
moderation, no-external-messages, topic lock, KICK.

References: modern.ircdocs.horse (channel modes, numerics 404/471-475/482),
RFC 2811.
"""

from ircclient import split_prefixes

CHAN = "#群组"


def names_map(client, chan=CHAN):
    return {split_prefixes(e)[1]: split_prefixes(e)[0] for e in client.names(chan)}


def setup_channel(server, *nicks):
    """First nick creates the channel; all join; returns the clients."""
    clients = [server.client(n) for n in nicks]
    for i, c in enumerate(clients):
        c.join(CHAN)
        for earlier in clients[:i]:
            earlier.expect("JOIN", pred=lambda m, n=c.nick: m.nick == n)
    return clients


def set_mode(op, others, modestr):
    """op sets a mode; every member sees the MODE line from op."""
    op.send("MODE %s %s" % (CHAN, modestr))
    m = op.expect("MODE")
    assert m.nick == op.nick and m.params[0] == CHAN, m.raw
    for o in others:
        o.expect("MODE", pred=lambda x: x.nick == op.nick)
    return m


def channel_modes(client, chan=CHAN):
    """The mode letters from RPL_CHANNELMODEIS (324)."""
    client.send("MODE %s" % chan)
    m = client.expect("324")
    assert m.params[:2] == [client.nick, chan], m.raw
    return m.params[2].lstrip("+")


def ensure_mode(op, others, letter, on):
    """Brings a flag mode to the wanted state, seeing the MODE line when it
    changes, and checks the result with 324."""
    if (letter in channel_modes(op)) != on:
        m = set_mode(op, others, ("+" if on else "-") + letter)
        assert m.params[1] == ("+" if on else "-") + letter, m.raw
    assert (letter in channel_modes(op)) == on


def test_creator_is_owner(server):
    (a,) = setup_channel(server, "creator")
    lines = [m for m in a.log if m.command == "353"]
    assert lines, "no NAMES reply after JOIN"
    assert lines[-1].params[-1].split() == ["~creator"], lines[-1].raw
    assert lines[-1].params[-2] == CHAN
    assert names_map(a) == {"creator": "~"}


def test_op_and_voice(server):
    a, b, c = setup_channel(server, "opA", "opB", "opC")
    m = set_mode(a, [b, c], "+o opB")
    assert m.params[1:] == ["+o", "opB"], m.raw
    m = set_mode(a, [b, c], "+v opC")
    assert m.params[1:] == ["+v", "opC"], m.raw
    assert names_map(c) == {"opA": "~", "opB": "@", "opC": "+"}
    # The new op may now give voice; the voiced one may not give op.
    set_mode(b, [a, c], "-v opC")
    c.send("MODE %s +o opC" % CHAN)
    m = c.expect("482")
    assert m.params[:2] == ["opC", CHAN], m.raw
    # Unknown mode letter.
    a.send("MODE %s +Z" % CHAN)
    m = a.expect("472")
    assert m.params[:2] == ["opA", "Z"], m.raw
    # Op on someone not in the channel.
    server.client("outsider")
    a.send("MODE %s +o outsider" % CHAN)
    m = a.expect("441")
    assert m.params[:3] == ["opA", "outsider", CHAN], m.raw


def test_ban_blocks_join(server):
    a, = setup_channel(server, "banner")
    d = server.client("banned")
    set_mode(a, [], "+b banned!*@*")
    d.send("JOIN %s" % CHAN)
    m = d.expect("474")
    assert m.params[:2] == ["banned", CHAN], m.raw
    a.send("MODE %s +b" % CHAN)
    lines = a.collect("368")
    bans = [m for m in lines if m.command == "367"]
    assert [m.params[2] for m in bans] == ["banned!*@*"], [m.raw for m in lines]
    set_mode(a, [], "-b banned!*@*")
    d.join(CHAN)


def test_ban_blocks_speaking_of_member(server):
    a, b = setup_channel(server, "bnA", "bnB")
    set_mode(a, [b], "+b bnB!*@*")
    b.send("PRIVMSG %s :still here?" % CHAN)
    m = b.expect("404")
    assert m.params[:2] == ["bnB", CHAN], m.raw


def test_invite_only_and_invite(server):
    a, = setup_channel(server, "inviteOp")
    d = server.client("invitee")
    set_mode(a, [], "+i")
    d.send("JOIN %s" % CHAN)
    m = d.expect("473")
    assert m.params[:2] == ["invitee", CHAN], m.raw
    a.send("INVITE invitee %s" % CHAN)
    assert a.expect("341").params == ["inviteOp", "invitee", CHAN]
    inv = d.expect("INVITE")
    assert inv.nick == "inviteOp" and inv.params == ["invitee", CHAN], inv.raw
    lines = d.join(CHAN)
    assert any(m.command == "JOIN" and m.nick == "invitee" for m in lines)
    # A non-op may not invite to a +i channel.
    e = server.client("third")
    d.send("INVITE third %s" % CHAN)
    m = d.expect("482")
    assert m.params[:2] == ["invitee", CHAN], m.raw
    e.sync()
    assert not [x for x in e.log if x.command == "INVITE"]


def test_key(server):
    a, = setup_channel(server, "keyOp")
    d = server.client("keyless")
    set_mode(a, [], "+k sesame")
    d.send("JOIN %s" % CHAN)
    m = d.expect("475")
    assert m.params[:2] == ["keyless", CHAN], m.raw
    d.send("JOIN %s wrong" % CHAN)
    assert d.expect("475").params[1] == CHAN
    lines = d.join(CHAN, key="sesame")
    assert any(m.command == "JOIN" for m in lines)


def test_limit(server):
    a, b = setup_channel(server, "limOp", "limB")
    d = server.client("limD")
    set_mode(a, [b], "+l 2")
    d.send("JOIN %s" % CHAN)
    m = d.expect("471")
    assert m.params[:2] == ["limD", CHAN], m.raw
    set_mode(a, [b], "-l")
    d.join(CHAN)


def test_moderated(server):
    a, b, c = setup_channel(server, "modOp", "modB", "modC")
    set_mode(a, [b, c], "+m")
    b.send("PRIVMSG %s :may I speak" % CHAN)
    m = b.expect("404")
    assert m.params[:2] == ["modB", CHAN], m.raw
    set_mode(a, [b, c], "+v modB")
    b.send("PRIVMSG %s :voiced now" % CHAN)
    m = c.expect("PRIVMSG")
    assert m.nick == "modB" and m.last == "voiced now", m.raw
    a.send("PRIVMSG %s :owner speaks" % CHAN)
    m = c.expect("PRIVMSG")
    assert m.nick == "modOp" and m.last == "owner speaks", m.raw
    # Nothing of the refused message reached anyone.
    assert not [x for x in c.log if x.command == "PRIVMSG" and x.last == "may I speak"]


def test_no_external_messages(server):
    a, b = setup_channel(server, "extOp", "extB")
    out = server.client("extOut")
    ensure_mode(a, [b], "n", False)
    out.send("PRIVMSG %s :from outside" % CHAN)
    m = b.expect("PRIVMSG")
    assert m.nick == "extOut" and m.last == "from outside", m.raw
    ensure_mode(a, [b], "n", True)
    out.send("PRIVMSG %s :from outside again" % CHAN)
    m = out.expect("404")
    assert m.params[:2] == ["extOut", CHAN], m.raw
    b.sync()
    assert not [x for x in b.log if x.last == "from outside again"]


def test_topic_lock(server):
    a, b = setup_channel(server, "topOp", "topB")
    ensure_mode(a, [b], "t", True)
    b.send("TOPIC %s :我的主题" % CHAN)
    m = b.expect("482")
    assert m.params[:2] == ["topB", CHAN], m.raw
    a.send("TOPIC %s :官方主题" % CHAN)
    for c in (a, b):
        m = c.expect("TOPIC")
        assert m.nick == "topOp" and m.params == [CHAN, "官方主题"], m.raw
    b.send("TOPIC %s" % CHAN)
    m = b.expect("332")
    assert m.params == ["topB", CHAN, "官方主题"], m.raw
    m = b.expect("333")
    assert m.params[:2] == ["topB", CHAN] and m.params[2].split("!")[0] == "topOp", m.raw
    ensure_mode(a, [b], "t", False)
    b.send("TOPIC %s :free topic" % CHAN)
    m = a.expect("TOPIC")
    assert m.nick == "topB" and m.params == [CHAN, "free topic"], m.raw


def test_kick(server):
    a, b, c = setup_channel(server, "kickOp", "kickB", "kickC")
    a.send("KICK %s kickB :规则" % CHAN)
    for x in (a, b, c):
        m = x.expect("KICK")
        assert m.nick == "kickOp" and m.params == [CHAN, "kickB", "规则"], (x.name, m.raw)
    assert set(names_map(a)) == {"kickOp", "kickC"}
    b.send("PART %s" % CHAN)
    assert b.expect("442").params[:2] == ["kickB", CHAN]
    # A non-op cannot kick.
    c.send("KICK %s kickOp :coup" % CHAN)
    m = c.expect("482")
    assert m.params[:2] == ["kickC", CHAN], m.raw
    assert set(names_map(c)) == {"kickOp", "kickC"}
    # Kicking someone not in the channel.
    a.send("KICK %s kickB" % CHAN)
    m = a.expect("441")
    assert m.params[:3] == ["kickOp", "kickB", CHAN], m.raw
