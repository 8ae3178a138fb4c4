"""test_sanctions.py - sanctions, the blacklist and the emergency switch
(issue 6 items 5, 6, 8; SPEC §7; rules art. 5 and 11) through real clients,
qunctl and the real databases. Time moves with the test-only moderation
clock (clock_advance), never by sleeping.

  1. a group escalates: 3 upheld violations within 30 days -> warned (owner
     told, 72 h to rectify); one more -> posting suspended (FAIL with the
     end time and how to appeal); after 7 days of clock it lifts itself;
     each violation costs the person credit (append-only ledger);
  2. a moderator closes a group: members are KICKed by ChanServ, the group
     ends, its row, name and code are kept, a closure report is queued;
  3. person sanctions: a timed posting suspension refuses posting and lifts
     itself; a manager whose rights are suspended loses @ and cannot MUTE
     through ChanServ; an owner whose rights are suspended cannot OP;
     revoked creation refuses a new group; an offline subject is told at
     the next login;
  4. a blacklisted identity: another account bound to it cannot post or
     join, a new account submitting the same document is refused; a
     blacklisted group is closed; removal restores;
  5. the emergency switch per category and platform-wide, with notices,
     surviving a restart, reversible;
  6. every sanction is in the sanctions table and the network log.
"""

from identity_helpers import (PASSWORD, REAL_NAME, clock_advance, db_rows, db_wait,
                              leveled_user, log_rows, log_wait, new_id, ns, qunctl, qunctl_json,
                              wait_code, next_serial)
from test_groups import fail_of, group_server

DAY = 86400


def cs_wait(c, want, timeout=5.0):
    return c.expect("NOTICE", timeout, pred=lambda m: m.nick == "ChanServ" and want in m.last,
                    what="a ChanServ NOTICE with %r" % want)


def cs(c, text, want, timeout=5.0):
    c.send("PRIVMSG ChanServ :%s" % text)
    return cs_wait(c, want, timeout)


def post_ok(sender, reader, chan, text):
    sender.send("PRIVMSG %s :%s" % (chan, text))
    reader.expect("PRIVMSG", pred=lambda m: m.params == [chan, text])


def post_refused(c, chan, code):
    c.send("PRIVMSG %s :should not pass" % chan)
    return fail_of(c, "PRIVMSG", code)


def join_ok(c, chan):
    c.send("JOIN %s" % chan)
    c.expect("JOIN", pred=lambda m: m.nick == c.nick and m.params[0] == chan)
    c.expect_numeric("366")


def group_code(srv, chan):
    return qunctl_json(srv, "groups", "show", chan)["code"]


def state(srv, group):
    return qunctl_json(srv, "sanctions", "state", str(group))


def violation(srv, chan, severity="minor", rule="spam", account=None):
    args = ["sanctions", "violation", chan, "--severity", severity, "--rule", rule]
    if account:
        args += ["--account", account]
    return qunctl_json(srv, *args)


def sanction_events(srv):
    return [r for r in log_rows(srv, "SELECT kind, target, code, body FROM events"
                                " WHERE kind IN ('sanction', 'blacklist', 'emergency')"
                                " ORDER BY seq")]


# ---------------------------------------------------------------- groups

def test_group_escalates_to_warned_then_suspended_and_lifts_itself(qund_factory):
    srv = group_server(qund_factory)
    owner = leveled_user(srv, "owner1")
    member = leveled_user(srv, "member1", level=1)
    join_ok(owner, "#esc")
    join_ok(member, "#esc")
    code = group_code(srv, "#esc")
    post_ok(member, owner, "#esc", "hello before")

    assert violation(srv, "#esc", account="member1")["state"] == "normal"
    assert violation(srv, "#esc", account="member1")["state"] == "normal"
    st = violation(srv, "#esc", account="member1", rule="advertising")
    assert st["state"] == "warned" and st["violations"] == 3, st
    m = cs_wait(owner, "is warned")
    assert "72 hours" in m.last and "APPEAL" in m.last, m.raw
    # the person pays each time: -10 per minor violation, in the ledger
    rows = db_wait(srv, "SELECT delta, reason, author FROM credit_events WHERE account_id ="
                   " (SELECT id FROM accounts WHERE name = 'member1') ORDER BY id",
                   want=lambda r: len(r) == 3)
    assert [r[0] for r in rows] == [-10, -10, -10], rows
    assert rows[2][1] == "advertising" and rows[0][2].startswith("unix:"), rows
    cs_wait(member, "Your credit was lowered by 10")
    ledger_before = db_rows(srv, "SELECT * FROM credit_events ORDER BY id")
    post_ok(member, owner, "#esc", "still allowed while warned")

    st = violation(srv, "#esc", account="member1", rule="more spam")
    assert st["state"] == "suspended", st
    cs_wait(owner, "posting in #esc (group %d) is suspended" % code)
    m = post_refused(member, "#esc", "GROUP_SUSPENDED")
    assert "suspended until" in m.last and "APPEAL" in m.last, m.raw
    post_refused(owner, "#esc", "GROUP_SUSPENDED")

    # no sleeping: 7 days of moderation clock lift it
    clock_advance(srv, 7 * DAY + 60)
    assert state(srv, code)["state"] == "normal"
    cs_wait(owner, "is lifted")
    post_ok(member, owner, "#esc", "after the suspension")

    rows = db_wait(srv, "SELECT kind, subject_kind, subject_id, lifted_by FROM sanctions"
                   " WHERE subject_kind = 'group' ORDER BY id",
                   want=lambda r: len(r) == 2 and all(x[3] for x in r))
    assert [(r[0], r[1], r[2]) for r in rows] == [("warning", "group", code),
                                                  ("suspended", "group", code)], rows
    assert all(r[3] == "system" for r in rows), rows
    assert len(db_rows(srv, "SELECT * FROM group_violations WHERE code = ?", (code,))) == 4
    evs = log_wait(srv, "SELECT body FROM events WHERE kind = 'sanction' AND code = ?", (code,),
                   want=lambda r: len(r) >= 8)
    bodies = [r[0] for r in evs]
    assert sum('"action":"violation"' in b for b in bodies) == 4, bodies
    assert sum('"action":"impose"' in b for b in bodies) == 2, bodies
    assert sum('"action":"lift"' in b for b in bodies) == 2, bodies
    # the ledger only grew: earlier rows are untouched
    after = db_rows(srv, "SELECT * FROM credit_events ORDER BY id")
    assert after[:len(ledger_before)] == ledger_before
    assert len(after) == 4


def test_serious_violation_suspends_management_and_reports(qund_factory):
    srv = group_server(qund_factory)
    owner = leveled_user(srv, "owner2")
    mgr = leveled_user(srv, "mgr2")
    join_ok(owner, "#ser")
    join_ok(mgr, "#ser")
    cs(owner, "OP #ser mgr2", "manager")
    violation(srv, "#ser", severity="serious", rule="rumours", account="mgr2")
    mgr.expect("MODE", pred=lambda m: m.params[:2] == ["#ser", "-o+v"])
    m = cs_wait(mgr, "rights to manage groups are suspended")
    assert "APPEAL" in m.last, m.raw
    rows = db_wait(srv, "SELECT kind, credit_event FROM sanctions WHERE subject_kind = 'account'",
                   want=lambda r: r and r[0][1])
    assert rows[0][0] == "manage-suspended" and rows[0][1] > 0, rows
    reports = db_wait(srv, "SELECT kind FROM reports", want=lambda r: r)
    assert ("decision",) in reports, reports
    # severe: creation revoked and a blacklist review entry
    violation(srv, "#ser", severity="severe", rule="fraud", account="mgr2")
    lst = qunctl_json(srv, "sanctions", "list", "--account", "mgr2")
    kinds = sorted(s["kind"] for s in lst)
    assert kinds == ["blacklist-review", "create-revoked", "manage-suspended"], lst
    mgr.send("JOIN #newone")
    m = fail_of(mgr, "JOIN", "CANNOT_CREATE")


def test_moderator_closes_a_group_and_keeps_its_code(qund_factory):
    srv = group_server(qund_factory)
    owner = leveled_user(srv, "owner3")
    member = leveled_user(srv, "member3", level=1)
    join_ok(owner, "#closeme")
    join_ok(member, "#closeme")
    code = group_code(srv, "#closeme")
    r = qunctl_json(srv, "sanctions", "close", "#closeme", "--reason", "illegal content")
    assert r["state"] == "closed", r
    cs_wait(owner, "is closed")
    for c in (owner, member):
        k = c.expect("KICK", pred=lambda m: m.params[0] == "#closeme" and m.params[1] == c.nick)
        assert k.nick == "ChanServ" and "illegal content" in k.last, k.raw
    rows = db_wait(srv, "SELECT name, dissolved_at FROM groups WHERE code = ?", (code,),
                   want=lambda r: r and r[0][1])
    assert rows[0][0] == "#closeme" and rows[0][1], rows
    assert db_rows(srv, "SELECT count(*) FROM group_members WHERE code = ?", (code,)) == [(0,)]
    assert state(srv, code)["state"] == "closed"
    assert db_wait(srv, "SELECT kind FROM reports WHERE kind = 'closure'", want=lambda r: r)
    # the name may be used again, but never the code
    join_ok(owner, "#closeme")
    assert group_code(srv, "#closeme") != code
    # a closure cannot be lifted
    sid = [s for s in qunctl_json(srv, "sanctions", "list") if s["kind"] == "closed"][0]["id"]
    r = qunctl(srv, "sanctions", "lift", str(sid))
    assert r.returncode == 1 and "cannot be lifted" in r.stderr + r.stdout


# ---------------------------------------------------------------- people

def test_person_posting_suspension_is_timed_and_told(qund_factory):
    srv = group_server(qund_factory)
    owner = leveled_user(srv, "owner4")
    user = leveled_user(srv, "user4", level=1)
    join_ok(owner, "#p")
    join_ok(user, "#p")
    r = qunctl_json(srv, "sanctions", "person", "user4", "--kind", "post-suspended",
                    "--reason", "insults", "--days", "2")
    assert r["kind"] == "post-suspended" and r["ends_at"], r
    m = cs_wait(user, "Sanction %d: you may not post in any group" % r["id"])
    assert "insults" in m.last and "APPEAL" in m.last, m.raw
    m = post_refused(user, "#p", "POSTING_SUSPENDED")
    assert "until" in m.last and "insults" in m.last, m.raw
    clock_advance(srv, DAY)
    post_refused(user, "#p", "POSTING_SUSPENDED")
    clock_advance(srv, DAY + 60)
    cs_wait(user, "Sanction %d is lifted" % r["id"])
    post_ok(user, owner, "#p", "free again")
    ev = log_wait(srv, "SELECT body FROM events WHERE kind = 'sanction' AND target = 'user4'",
                  want=lambda r: len(r) == 2)
    assert '"action":"impose"' in ev[0][0] and '"action":"lift"' in ev[1][0], ev


def test_manage_suspension_blocks_manager_actions(qund_factory):
    srv = group_server(qund_factory)
    owner = leveled_user(srv, "owner5")
    mgr = leveled_user(srv, "mgr5")
    target = leveled_user(srv, "tgt5", level=1)
    join_ok(owner, "#m")
    join_ok(mgr, "#m")
    join_ok(target, "#m")
    cs(owner, "OP #m mgr5", "manager")
    r = qunctl_json(srv, "sanctions", "person", "mgr5", "--kind", "manage-suspended",
                    "--reason", "abuse of powers", "--days", "3")
    mgr.expect("MODE", pred=lambda m: m.params[:3] == ["#m", "-o+v", "mgr5"])
    cs_wait(mgr, "rights to manage groups are suspended")
    m = cs(mgr, "MUTE #m tgt5 10", "suspended")
    assert "abuse of powers" in m.last and "APPEAL" in m.last, m.raw
    mgr.send("KICK #m tgt5 :bye")
    mgr.expect_numeric("482")
    # the owner cannot appoint a sanctioned account, and a sanctioned owner cannot OP
    cs(owner, "DEOP #m mgr5", "member")
    cs(owner, "OP #m mgr5", "suspended")
    qunctl_json(srv, "sanctions", "person", "owner5", "--kind", "manage-revoked",
                "--reason", "negligence")
    m = cs(owner, "OP #m tgt5", "revoked")
    assert "negligence" in m.last
    # lifting the manager's suspension gives the rights back
    qunctl_json(srv, "sanctions", "lift", str(r["id"]))
    cs_wait(mgr, "Sanction %d is lifted" % r["id"])
    rows = db_wait(srv, "SELECT kind, lifted_by FROM sanctions WHERE id = ?", (r["id"],),
                   want=lambda r: r and r[0][1])
    assert rows[0][1].startswith("unix:"), rows


def test_creation_revoked_and_offline_subject_told_at_login(qund_factory):
    srv = group_server(qund_factory)
    maker = leveled_user(srv, "maker6")
    join_ok(maker, "#first")
    maker.send("QUIT :bye")
    maker.expect_closed()
    r = qunctl_json(srv, "sanctions", "person", "maker6", "--kind", "create-revoked",
                    "--reason", "repeated illegal groups")
    c = srv.client("maker6x", caps=("standard-replies",))
    ns(c, "IDENTIFY maker6 %s" % PASSWORD, "")
    m = cs_wait(c, "Sanction %d: you may no longer create groups" % r["id"])
    assert "repeated illegal groups" in m.last
    c.send("JOIN #second")
    m = fail_of(c, "JOIN", "CANNOT_CREATE")
    assert "revoked" in m.last and "repeated illegal groups" in m.last, m.raw
    # joining an existing group is still fine; lifting restores creation
    qunctl_json(srv, "sanctions", "lift", str(r["id"]))
    join_ok(c, "#second")
    assert db_wait(srv, "SELECT told FROM sanctions WHERE id = ?", (r["id"],),
                   want=lambda r: r == [(1,)]) == [(1,)]


# ---------------------------------------------------------------- blacklist

def identity_user(srv, nick, doc, level1_only=False):
    phone = "+861390000%04d" % next_serial()
    c = srv.client(nick, caps=("standard-replies",))
    ns(c, "REGISTER %s %s" % (PASSWORD, phone), "created")
    ns(c, "VERIFY %s" % wait_code(srv, nick), "identity level 1")
    return c


def test_blacklisted_identity_is_refused_with_any_account(qund_factory):
    srv = group_server(qund_factory)
    owner = leveled_user(srv, "owner7")
    join_ok(owner, "#bl")
    join_ok(owner, "#other")
    doc = new_id()
    a1 = identity_user(srv, "bad7", doc)
    ns(a1, "IDENTITY cn-id %s %s" % (doc, REAL_NAME), "identity level 2")
    a2 = identity_user(srv, "bad7b", doc)
    ns(a2, "IDENTITY cn-id %s %s" % (doc, REAL_NAME), "identity level 2")
    join_ok(a2, "#bl")
    post_ok(a2, owner, "#bl", "before")

    r = qunctl_json(srv, "blacklist", "add", "identity", "bad7", "--reason", "fraud ring")
    entry = r["id"]
    cs_wait(a2, "blacklist")
    m = post_refused(a2, "#bl", "BLACKLISTED")
    assert "fraud ring" in m.last, m.raw
    a2.send("JOIN #other")
    fail_of(a2, "JOIN", "BLACKLISTED")
    a1.send("JOIN #newgroup7")
    fail_of(a1, "JOIN", "CANNOT_CREATE")
    # a new account with the same document cannot verify
    a3 = identity_user(srv, "bad7c", doc)
    ns(a3, "IDENTITY cn-id %s %s" % (doc, REAL_NAME), "blacklist")
    assert db_rows(srv, "SELECT level FROM accounts WHERE name = 'bad7c'") == [(1,)]

    lst = qunctl_json(srv, "blacklist", "list")
    assert [(e["id"], e["kind"], e["label"]) for e in lst] == [(entry, "identity", "bad7")], lst
    assert db_wait(srv, "SELECT kind FROM reports WHERE kind = 'blacklist'", want=lambda r: r)
    ev = log_wait(srv, "SELECT body FROM events WHERE kind = 'blacklist'", want=lambda r: r)
    assert "fraud ring" in ev[0][0]
    # the identity hash never leaves the daemon in the log or the list
    hashes = db_rows(srv, "SELECT hex(identity_hash) FROM accounts WHERE name = 'bad7'")
    assert hashes[0][0].lower() not in ev[0][0].lower()

    qunctl_json(srv, "blacklist", "remove", str(entry))
    post_ok(a2, owner, "#bl", "after removal")
    rows = db_wait(srv, "SELECT removed_by FROM blacklist WHERE id = ?", (entry,),
                   want=lambda r: r and r[0][0])
    assert rows[0][0].startswith("unix:")


def test_blacklisted_group_is_closed(qund_factory):
    srv = group_server(qund_factory)
    owner = leveled_user(srv, "owner8")
    member = leveled_user(srv, "member8", level=1)
    join_ok(owner, "#badgroup")
    join_ok(member, "#badgroup")
    code = group_code(srv, "#badgroup")
    qunctl_json(srv, "blacklist", "add", "group", str(code), "--reason", "gambling")
    member.expect("KICK", pred=lambda m: m.params[:2] == ["#badgroup", "member8"])
    st = state(srv, code)
    assert st["state"] == "closed" and st["blacklisted"], st
    rows = db_wait(srv, "SELECT kind, value, label FROM blacklist", want=lambda r: r)
    assert rows == [("group", str(code), "#badgroup")], rows


# ---------------------------------------------------------------- emergency

def test_emergency_switch_per_category_and_platform_wide(qund_factory):
    srv = group_server(qund_factory)
    fam = leveled_user(srv, "fam9")
    wrk = leveled_user(srv, "wrk9")
    join_ok(fam, "#home")
    join_ok(wrk, "#office")
    cs(fam, "SET #home CATEGORY family", "category family")
    cs(wrk, "SET #office CATEGORY work", "category work")

    qunctl_json(srv, "emergency", "on", "--category", "family", "--message", "灾害预警：暂停发言")
    m = fam.expect("NOTICE", pred=lambda m: "灾害预警" in m.last)
    assert "family" in m.last, m.raw
    wrk.assert_no("NOTICE", pred=lambda m: "灾害预警" in m.last)
    m = post_refused(fam, "#home", "EMERGENCY")
    assert "灾害预警" in m.last, m.raw
    wrk.send("PRIVMSG #office :work goes on")
    wrk.assert_no("FAIL")

    qunctl_json(srv, "emergency", "on", "--message", "platform maintenance")
    for c in (fam, wrk):
        c.expect("NOTICE", pred=lambda m: "platform maintenance" in m.last)
    post_refused(wrk, "#office", "EMERGENCY")

    # survives a restart
    srv.stop()
    srv.start()
    st = qunctl_json(srv, "emergency", "status")
    assert sorted(e["scope"] for e in st) == ["all", "family"], st
    fam = srv.client("fam9b", caps=("standard-replies",))
    ns(fam, "IDENTIFY fam9 %s" % PASSWORD, "")
    wrk = srv.client("wrk9b", caps=("standard-replies",))
    ns(wrk, "IDENTIFY wrk9 %s" % PASSWORD, "")
    join_ok(fam, "#home")
    join_ok(wrk, "#office")
    post_refused(wrk, "#office", "EMERGENCY")

    qunctl_json(srv, "emergency", "off")
    wrk.expect("NOTICE", pred=lambda m: "emergency measure is over" in m.last)
    wrk.send("PRIVMSG #office :back")
    wrk.assert_no("FAIL")
    post_refused(fam, "#home", "EMERGENCY")
    r = qunctl(srv, "emergency", "off")
    assert r.returncode == 1
    qunctl_json(srv, "emergency", "off", "--category", "family")
    fam.send("PRIVMSG #home :home again")
    fam.assert_no("FAIL")
    assert qunctl_json(srv, "emergency", "status") == []
    ev = log_wait(srv, "SELECT target, body FROM events WHERE kind = 'emergency' ORDER BY seq",
                  want=lambda r: len(r) == 4)
    assert [r[0] for r in ev] == ["category:family", "all", "all", "category:family"], ev
    rows = db_rows(srv, "SELECT scope, lifted_by IS NOT NULL FROM emergency ORDER BY id")
    assert rows == [("category:family", 1), ("all", 1)], rows
