"""test_groups_chanserv.py - the ChanServ service (issue 4, SPEC §5) through
real clients against the real daemon.

What an owner, a manager and a member rely on:

  1. HELP lists every command and explains one; the nick ChanServ cannot
     be taken; answers are NOTICEs from ChanServ!ChanServ@services.<server>;
  2. INFO by name or code shows code, category, size, activity, approval,
     owner and managers by account name (never real names); groups under
     100 members show it to members only, others get the reason;
  3. OP by the owner shows MODE +o from ChanServ; a manager cannot OP, an
     unverified member cannot be a manager, groups.managers_max holds;
     managers VOICE;
  4. TRANSFER + ACCEPT moves ~ to the new owner and the old owner keeps @;
     CANCEL withdraws an offer;
  5. MUTE stops a member speaking for the given minutes (the target is
     told), UNMUTE ends it; MUTEALL sets +m;
  6. with APPROVAL ON a join is queued (FAIL JOIN APPROVAL_REQUIRED), the
     managers are told, REQUESTS lists it, APPROVE puts the requester in
     the group, DENY tells the requester;
  7. KICK, BAN (account extban, the banned user leaves), UNBAN, TOPIC;
  8. DISSOLVE with the name twice removes everyone and ends the group;
  9. every management action leaves an audit row naming its author;
 10. transient channels are refused with a sentence.

Users reach identity level 2 with the development providers; every
account keeps the default score (600, level C: may manage, owns up to 3).
"""

import time

from identity_helpers import REAL_NAME, db_rows, leveled_user

CS_PREFIX = "ChanServ!ChanServ@services.irc.qun.test"


def cs_server(qund_factory, **over):
    cfg = {"identity": {"provider": "dev", "sms": "dev", "post_level": 1, "create_level": 2,
                        "max_accounts_per_identity": 100},
           "limits": {"max_per_ip": 200}}
    for k, v in over.items():
        cfg.setdefault(k, {}).update(v)
    return qund_factory(**cfg)


def user(srv, nick, level=2, caps=("standard-replies",)):
    return leveled_user(srv, nick, level, caps)


def cs(c, text, want, timeout=5.0):
    """/msg ChanServ text; returns the ChanServ NOTICE containing want."""
    c.send("PRIVMSG ChanServ :%s" % text)
    return cs_wait(c, want, timeout)


def cs_wait(c, want, timeout=5.0):
    m = c.expect("NOTICE", timeout, pred=lambda m: m.nick == "ChanServ" and want in m.last,
                 what="a ChanServ NOTICE with %r" % want)
    assert m.prefix == CS_PREFIX, m.raw
    assert m.params[0] == c.nick, m.raw
    return m


def cs_mode(c, chan, modes, *args):
    """Waits for MODE chan modes args... from ChanServ."""
    want = [chan, modes] + list(args)
    m = c.expect("MODE", pred=lambda m: m.params == want,
                 what="MODE %s from ChanServ" % " ".join(want))
    assert m.prefix == CS_PREFIX, m.raw
    return m


def join_ok(c, chan):
    c.send("JOIN %s" % chan)
    return c.expect("JOIN", pred=lambda m: m.nick == c.nick and m.params[0] == chan)


def names_of(c, chan):
    return sorted(c.names(chan))


def db_eventually(srv, sql, want=[(0,)], timeout=5.0, args=()):
    """Group changes reach the store on its writer thread after the answer:
    poll until the rows are as expected (or time out and return them)."""
    deadline = time.monotonic() + timeout
    while True:
        rows = db_rows(srv, sql, args)
        if rows == want or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def audit(srv, action, actor, target, detail_part="", timeout=5.0):
    """Waits for an audit row (the writer thread commits it shortly)."""
    deadline = time.monotonic() + timeout
    rows = []
    while time.monotonic() < deadline:
        rows = db_rows(srv, "SELECT actor, target, detail FROM audit WHERE action = ?", (action,))
        hit = [r for r in rows if r[0] == actor and r[1] == target and detail_part in (r[2] or "")]
        if hit:
            return hit[0]
        time.sleep(0.05)
    raise AssertionError("no audit row %s by %s on %s with %r; rows: %r"
                         % (action, actor, target, detail_part, rows))


def group_code(srv, chan):
    rows = db_rows(srv, "SELECT code FROM groups WHERE name = ?", (chan,))
    assert len(rows) == 1, rows
    return rows[0][0]


def owner_with_group(srv, chan, *others):
    """alice owns chan; each of others (nick, level) joins it. Returns the
    clients, alice first."""
    alice = user(srv, "alice")
    join_ok(alice, chan)
    out = [alice]
    for nick, level in others:
        c = user(srv, nick, level=level)
        join_ok(c, chan)
        out.append(c)
    for c in out:
        c.sync()
    return out


# ---------------------------------------------------------------- HELP

def test_help_and_reserved_nick(qund_factory):
    srv = cs_server(qund_factory)
    g = srv.client("guest")
    g.send("PRIVMSG ChanServ :HELP")
    lines = g.collect("NOTICE", pred=lambda m: "HELP <command> explains one" in m.last)
    listed = {m.last.split()[0] for m in lines if m.nick == "ChanServ" and m.last.startswith("  ")}
    for cmd in ("INFO", "SET", "OP", "DEOP", "VOICE", "DEVOICE", "TRANSFER", "ACCEPT", "CANCEL",
                "DISSOLVE", "MUTE", "UNMUTE", "MUTEALL", "UNMUTEALL", "KICK", "BAN", "UNBAN",
                "TOPIC", "REQUESTS", "APPROVE", "DENY", "HELP"):
        assert cmd in listed, (cmd, [m.raw for m in lines])
    cs(g, "HELP MUTE", "Syntax: MUTE <#group> <nick|account> [time]")
    cs_wait(g, "the default is 10 minutes, at most a week")
    # the CS and CHANSERV commands reach the same service
    g.send("CS HELP DISSOLVE")
    cs_wait(g, "Syntax: DISSOLVE <#group> <#group>")
    g.send("CHANSERV HELP APPROVE")
    cs_wait(g, "Syntax: APPROVE <#group> <account>")
    cs(g, "FROBNICATE", "Unknown command FROBNICATE")
    cs(g, "OP #x", "Syntax: OP <#group> <nick|account>")
    # management needs an account
    cs(g, "MUTEALL #x", "Log in first")
    # the nick is reserved
    g.send("NICK ChanServ")
    g.expect("433")
    g.send("NICK chanserv")
    g.expect("433")


def test_transient_channel_refused(qund_factory):
    srv = qund_factory()  # create_level 0: a guest's channel is transient
    g = srv.client("guest")
    join_ok(g, "#temp")
    m = cs(g, "INFO #temp", "transient channel, not a group")
    assert "#temp" in m.last, m.raw
    cs(g, "INFO #nosuch", "There is no group #nosuch")


# ---------------------------------------------------------------- INFO

def test_info_by_name_and_code_members_only(qund_factory):
    srv = cs_server(qund_factory)
    alice, bob = owner_with_group(srv, "#info", ("bob", 2))
    cs(alice, "OP #info bob", "is now a manager of #info")
    code = group_code(srv, "#info")
    for who, arg in ((alice, "#info"), (bob, str(code))):
        who.send("PRIVMSG ChanServ :INFO %s" % arg)
        lines = who.collect("NOTICE", pred=lambda m: m.last.startswith("Owner:"))
        text = "\n".join(m.last for m in lines if m.nick == "ChanServ")
        assert "Group #info, code %d, category friends" % code in text, text
        assert "Size: small, 2 members" in text, text
        assert "activity: " in text and "in the last 7 days" in text, text
        assert "Join approval: off." in text, text
        assert "Owner: alice. Managers: bob." in text, text
        assert REAL_NAME not in text
    # activity counts channel messages
    alice.send("PRIVMSG #info :hello")
    bob.expect("PRIVMSG")
    m = cs(alice, "INFO #info", "activity:")
    assert "activity: 1 message(s)" in m.last, m.raw
    # a verified user who is not a member of this small group is told why
    carol = user(srv, "carol")
    m = cs(carol, "INFO #info", "fewer than 100 members")
    assert "members only" in m.last and "art. 8" in m.last, m.raw
    m = cs(carol, "INFO %d" % code, "fewer than 100 members")
    cs(carol, "INFO 999999", "There is no group 999999")


# ---------------------------------------------------------------- roles

def test_op_voice_and_manager_limit(qund_factory):
    srv = cs_server(qund_factory, groups={"managers_max": 1})
    alice, bob, carol, dave = owner_with_group(srv, "#roles", ("bob", 2), ("carol", 2),
                                               ("dave", 1))
    # a member without a verified identity cannot be a manager
    m = cs(alice, "OP #roles dave", "dave cannot be a manager")
    assert "verified real identity" in m.last, m.raw
    alice.send("PRIVMSG ChanServ :OP #roles bob")
    for c in (alice, bob, carol, dave):
        cs_mode(c, "#roles", "+o", "bob")
    cs_wait(alice, "bob is now a manager of #roles")
    cs_wait(bob, "alice made you a manager of #roles")
    assert "@bob" in names_of(carol, "#roles")
    audit(srv, "group.op", "alice", "#roles", "bob")
    # a manager does not appoint managers
    cs(bob, "OP #roles carol", "Only the owner of #roles appoints and removes managers")
    # groups.managers_max = 1
    cs(alice, "OP #roles carol", "already has 1 managers, the most allowed")
    # someone who is not a member
    user(srv, "erin")
    cs(alice, "OP #roles erin", "erin is not a member of #roles")
    # a manager voices, a member does not
    cs(bob, "VOICE #roles carol", "carol is now a voiced member of #roles")
    cs_mode(alice, "#roles", "+v", "carol")
    audit(srv, "group.voice", "bob", "#roles", "carol")
    cs(dave, "VOICE #roles dave", "Only managers of #roles")
    cs(bob, "DEVOICE #roles carol", "carol is now a member of #roles")
    cs_mode(carol, "#roles", "-v", "carol")
    # the owner removes the manager
    cs(alice, "DEOP #roles bob", "bob is now a member of #roles")
    cs_mode(carol, "#roles", "-o", "bob")
    audit(srv, "group.deop", "alice", "#roles", "bob")
    assert db_eventually(srv, "SELECT role FROM group_members m JOIN accounts a"
                              " ON a.id = m.account_id WHERE a.name = 'bob'") == [(0,)]


def test_transfer_cancel_and_accept(qund_factory):
    srv = cs_server(qund_factory)
    alice, bob, carol = owner_with_group(srv, "#own", ("bob", 2), ("carol", 2))
    cs(bob, "TRANSFER #own carol", "Only the owner of #own")
    cs(alice, "TRANSFER #own bob", "Ownership of #own is offered to bob")
    cs_wait(bob, "alice offers you the ownership of #own")
    audit(srv, "group.transfer_offer", "alice", "#own", "bob")
    cs(carol, "ACCEPT #own", "No ownership offer of #own is waiting for your account")
    cs(alice, "CANCEL #own", "withdrawn")
    cs_wait(bob, "was withdrawn")
    audit(srv, "group.transfer_cancel", "alice", "#own")
    cs(bob, "ACCEPT #own", "No ownership offer")
    cs(alice, "TRANSFER #own bob", "is offered to bob")
    cs(bob, "ACCEPT #own", "You are now the owner of #own")
    cs_mode(carol, "#own", "-q+o", "alice", "alice")
    cs_mode(carol, "#own", "+q", "bob")
    cs_wait(alice, "bob accepted the ownership of #own")
    names = names_of(carol, "#own")
    assert "~bob" in names and "@alice" in names, names
    audit(srv, "group.transfer", "bob", "#own", "from alice to bob")
    owner = db_eventually(srv, "SELECT a.name FROM groups g JOIN accounts a ON a.id = g.owner_id"
                               " WHERE g.name = '#own'", want=[("bob",)])
    assert owner == [("bob",)], owner
    # the new owner runs it; the old one is a manager now
    cs(alice, "TRANSFER #own carol", "Only the owner of #own")
    m = cs(carol, "INFO #own", "Owner:")
    assert m.last == "Owner: bob. Managers: alice.", m.raw


# ---------------------------------------------------------------- mutes

def test_mute_unmute_and_muteall(qund_factory):
    srv = cs_server(qund_factory)
    alice, bob, carol = owner_with_group(srv, "#quiet", ("bob", 2), ("carol", 2))
    cs(carol, "MUTE #quiet bob", "Only managers of #quiet")
    cs(alice, "MUTE #quiet bob 0", "at most a week")
    cs(alice, "MUTE #quiet bob 5", "bob is muted in #quiet for 5 minutes")
    cs_wait(bob, "muted you there for 5 minutes")
    audit(srv, "group.mute", "alice", "#quiet", "bob for 5 minutes")
    # the message path refuses the muted member, and nobody receives it
    bob.send("PRIVMSG #quiet :can you hear me")
    m = bob.expect("404")
    assert "muted" in m.last, m.raw
    carol.send("PRIVMSG #quiet :carol speaks")
    alice.expect("PRIVMSG", pred=lambda m: m.nick == "carol")
    alice.assert_no("PRIVMSG", pred=lambda m: m.nick == "bob")
    cs(alice, "UNMUTE #quiet bob", "bob may speak in #quiet again")
    cs_wait(bob, "You may speak in #quiet again")
    audit(srv, "group.unmute", "alice", "#quiet", "bob")
    bob.send("PRIVMSG #quiet :back again")
    alice.expect("PRIVMSG", pred=lambda m: m.nick == "bob" and m.last == "back again")
    cs(alice, "UNMUTE #quiet bob", "bob is not muted")
    # the owner cannot be muted
    cs(alice, "OP #quiet bob", "manager")
    cs(bob, "MUTE #quiet alice", "alice is the owner of #quiet")
    # the whole group
    cs(bob, "MUTEALL #quiet", "#quiet is muted")
    cs_mode(carol, "#quiet", "+m")
    audit(srv, "group.muteall", "bob", "#quiet")
    carol.send("PRIVMSG #quiet :anyone?")
    carol.expect("404")
    cs(bob, "MUTEALL #quiet", "already muted")
    cs(bob, "UNMUTEALL #quiet", "#quiet is unmuted")
    cs_mode(carol, "#quiet", "-m")
    audit(srv, "group.unmuteall", "bob", "#quiet")
    deadline = time.monotonic() + 5
    while True:  # the store's writer thread commits after the answer
        modes = db_rows(srv, "SELECT modes FROM groups WHERE name = '#quiet'")[0][0]
        if modes & 2 == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert modes & 2 == 0, modes  # CMODE_MODERATED persisted as cleared


# ---------------------------------------------------------------- approval

def test_join_approval_requests_approve_deny(qund_factory):
    srv = cs_server(qund_factory)
    alice, bob = owner_with_group(srv, "#club", ("bob", 2))
    cs(alice, "OP #club bob", "manager")
    cs(bob, "SET #club APPROVAL ON", "Join approval for #club is now on")
    audit(srv, "group.approval", "bob", "#club", "on")
    cs(alice, "INFO #club", "Join approval: on.")
    erin = user(srv, "erin", level=1)
    erin.send("JOIN #club")
    m = erin.expect("FAIL", pred=lambda m: m.params[:2] == ["JOIN", "APPROVAL_REQUIRED"])
    assert m.params[2] == "#club", m.raw
    for mgr in (alice, bob):
        m = cs_wait(mgr, "erin (account erin) asks to join #club")
        assert "APPROVE #club erin" in m.last, m.raw
    alice.send("PRIVMSG ChanServ :REQUESTS #club")
    lines = alice.collect("NOTICE", pred=lambda m: "APPROVE #club <account>" in m.last)
    text = [m.last for m in lines if m.nick == "ChanServ"]
    assert any(t.startswith("  erin, asked ") and t.endswith(" ago") for t in text), text
    frank = user(srv, "frank", level=1)
    frank.send("JOIN #club")
    frank.expect("FAIL", pred=lambda m: m.params[:2] == ["JOIN", "APPROVAL_REQUIRED"])
    cs_wait(bob, "frank (account frank) asks")
    # a member cannot answer requests
    cs(erin, "APPROVE #club erin", "Only managers of #club")
    cs(bob, "APPROVE #club erin", "erin is now a member of #club")
    cs_wait(erin, "Your request to join #club was approved by bob")
    m = erin.expect("JOIN", pred=lambda m: m.nick == "erin" and m.params[0] == "#club")
    alice.expect("JOIN", pred=lambda m: m.nick == "erin")
    audit(srv, "group.approve", "bob", "#club", "erin")
    cs(bob, "APPROVE #club erin", "No join request from erin")
    cs(alice, "DENY #club frank not this time", "The request of frank to join #club is denied")
    m = cs_wait(frank, "Your request to join #club was denied by alice")
    assert m.last.endswith(": not this time"), m.raw
    audit(srv, "group.deny", "alice", "#club", "frank: not this time")
    cs(alice, "REQUESTS #club", "No join requests are waiting for #club")
    assert db_eventually(srv, "SELECT count(*) FROM group_requests") == [(0,)]
    # erin is a persistent member now: she comes back without asking
    erin.send("PART #club")
    erin.expect("PART")
    frank.send("JOIN #club")
    frank.expect("FAIL", pred=lambda m: m.params[:2] == ["JOIN", "APPROVAL_REQUIRED"])


# ---------------------------------------------------------------- KICK, BAN, TOPIC

def test_kick_ban_unban_topic(qund_factory):
    srv = cs_server(qund_factory)
    alice, bob, carol = owner_with_group(srv, "#rules", ("bob", 2), ("carol", 2))
    cs(alice, "OP #rules bob", "manager")
    cs(bob, "KICK #rules alice", "alice is the owner of #rules")
    cs(carol, "KICK #rules bob", "Only managers of #rules")
    cs(bob, "KICK #rules carol please behave", "carol was removed from #rules")
    m = alice.expect("KICK", pred=lambda m: m.params[:2] == ["#rules", "carol"])
    assert m.prefix == CS_PREFIX and m.last == "please behave (bob)", m.raw
    carol.expect("KICK")
    audit(srv, "group.kick", "bob", "#rules", "carol")
    join_ok(carol, "#rules")
    # a logged-in nick is banned by account, and leaves
    cs(bob, "BAN #rules carol", "a:carol is banned from #rules")
    cs_mode(alice, "#rules", "+b", "a:carol")
    m = alice.expect("KICK", pred=lambda m: m.params[:2] == ["#rules", "carol"])
    assert m.prefix == CS_PREFIX, m.raw
    audit(srv, "group.ban", "bob", "#rules", "a:carol")
    carol.send("JOIN #rules")
    carol.expect("474")
    assert db_eventually(srv, "SELECT mask FROM group_lists WHERE list = 0",
                         want=[("a:carol",)]) == [("a:carol",)]
    cs(bob, "BAN #rules carol", "already banned")
    cs(bob, "UNBAN #rules a:carol", "a:carol is no longer banned from #rules")
    cs_mode(alice, "#rules", "-b", "a:carol")
    audit(srv, "group.unban", "bob", "#rules", "a:carol")
    join_ok(carol, "#rules")
    # a mask
    cs(bob, "BAN #rules *!*@bad.example", "*!*@bad.example is banned")
    cs_mode(carol, "#rules", "+b", "*!*@bad.example")
    # the topic, announced from ChanServ and kept
    cs(bob, "TOPIC #rules Be kind  to each other", "The topic of #rules is set")
    m = carol.expect("TOPIC")
    assert m.prefix == CS_PREFIX and m.params == ["#rules", "Be kind  to each other"], m.raw
    audit(srv, "group.topic", "bob", "#rules", "Be kind")
    assert db_eventually(srv, "SELECT topic FROM groups WHERE name = '#rules'",
                         want=[("Be kind  to each other",)]) == [("Be kind  to each other",)]


# ---------------------------------------------------------------- DISSOLVE

def test_dissolve(qund_factory):
    srv = cs_server(qund_factory)
    alice, bob, carol = owner_with_group(srv, "#gone", ("bob", 2), ("carol", 2))
    code = group_code(srv, "#gone")
    cs(alice, "OP #gone bob", "manager")
    cs(bob, "DISSOLVE #gone #gone", "Only the owner of #gone")
    cs(alice, "DISSOLVE #gone #other", "give its name twice")
    cs(alice, "SET #gone CATEGORY nonsense", "nonsense is not a category here")
    cs(alice, "SET #gone CATEGORY work", "#gone is now in category work")
    audit(srv, "group.category", "alice", "#gone", "friends -> work")
    alice.send("PRIVMSG ChanServ :DISSOLVE #gone #GONE")
    for c in (alice, bob, carol):
        m = c.expect("KICK", pred=lambda m, c=c: m.params[:2] == ["#gone", c.nick])
        assert m.prefix == CS_PREFIX and "dissolved" in m.last, m.raw
    cs_wait(alice, "#gone is dissolved")
    audit(srv, "group.dissolve", "alice", "#gone", "code %d" % code)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        rows = db_rows(srv, "SELECT dissolved_at IS NOT NULL FROM groups WHERE code = ?", (code,))
        if rows == [(1,)]:
            break
        time.sleep(0.05)
    assert rows == [(1,)], rows
    assert db_eventually(srv, "SELECT count(*) FROM group_members WHERE code = ?",
                         args=(code,)) == [(0,)]
    cs(carol, "INFO #gone", "There is no group #gone")
    cs(carol, "INFO %d" % code, "There is no group")
    # the name can become a new group, with a new code
    join_ok(alice, "#gone")
    assert group_code_new(srv, "#gone", code) > code


def group_code_new(srv, chan, old):
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        rows = db_rows(srv, "SELECT code FROM groups WHERE name = ? AND code != ?", (chan, old))
        if rows:
            return rows[0][0]
        time.sleep(0.05)
    raise AssertionError("no new group row for %s" % chan)
