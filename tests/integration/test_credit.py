"""test_credit.py - the credit ledger (issue 6 items 1-2, SPEC §6) through
real clients, qunctl and the real databases: the score is always the
initial score plus the ledger, a deduction moves the level and takes
privileges away (posting at E, managing at D, the message rate), recovery
by the moderation clock (+10 per 30 days, never past 700, idempotent over
a restart), appeals decided by a moderator other than the event's author,
CreditServ, nobody sees another's credit, and credit_events is append-only
and mirrored in the network log.

Two operators: the tests run as root (CI and the development machines), so
qunctl run as root acts as "unix:root" and qunctl run as the daemon's own
user (conftest RUN_USER, an administrator of its own daemon) acts as
"unix:qun". That second, real unix identity records the deduction whose
appeal root then decides.
"""

import json
import os
import pwd
import subprocess

import pytest

from conftest import RUN_USER
from identity_helpers import (PASSWORD, clock_advance, db_rows, db_wait, leveled_user, log_rows,
                              log_wait, ns, qunctl, qunctl_json)
from test_groups import group_server, join_ok

DAY = 86400


def credit_server(qund_factory):
    """group_server with the test's own unix user a moderator (qunctl)."""
    return group_server(qund_factory, control={"moderators": [pwd.getpwuid(os.geteuid()).pw_name]})


def adjust(srv, name, delta, reason="test", as_user=None):
    """qunctl credit adjust; as_user runs it as another unix user. Returns
    the new event's id."""
    args = [os.path.abspath(os.environ["QUNCTL"]), "-s", srv.control_path, "--json", "credit",
            "adjust", name, "--delta", str(delta), "--reason", reason]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30,
                       user=as_user if as_user else None)
    assert r.returncode == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)["event"]


def account_id(srv, name):
    return db_wait(srv, "SELECT id FROM accounts WHERE name = ?", (name,))[0][0]


def ledger(srv, name):
    return db_rows(srv, "SELECT id, delta, reason, evidence, author, at FROM credit_events"
                        " WHERE account_id = ? ORDER BY id", (account_id(srv, name),))


def score(srv, name):
    return qunctl_json(srv, "credit", "show", name)["score"]


def assert_score_is_ledger(srv, name):
    """SPEC §6: the score is the initial score plus the sum of the ledger."""
    show = qunctl_json(srv, "credit", "show", name)
    total = sum(r[1] for r in ledger(srv, name))
    assert show["score"] == max(0, min(1000, show["initial"] + total)), (show, total)
    assert show["ledger_sum"] == total
    return show


def cr(c, text, want, timeout=10.0):
    """/msg CreditServ text; returns the CreditServ NOTICE containing want."""
    c.send("PRIVMSG CreditServ :%s" % text)
    return c.expect("NOTICE", timeout,
                    pred=lambda m: m.nick == "CreditServ" and want in m.last,
                    what="a CreditServ NOTICE with %r" % want)


def settle(srv):
    """Store writes complete in order: once a later write (a zero event on
    a bystander account) has been answered, every recovery event a clock
    advance queued before it is in the database."""
    adjust(srv, "bystander", 0, "barrier")


def recovery_events(srv, name):
    return [r for r in ledger(srv, name) if r[2] == "recovery"]


# ------------------------------------------------------------ levels and privileges

def test_deduction_moves_level_and_takes_privileges(qund_factory):
    srv = credit_server(qund_factory)
    owner = leveled_user(srv, "owner")
    low = leveled_user(srv, "low")
    plain = leveled_user(srv, "plain", caps=())
    join_ok(owner, "#credit")
    for c in (low, plain):
        join_ok(c, "#credit")
    show = assert_score_is_ledger(srv, "low")
    assert (show["score"], show["level"], show["post"]) == (600, "C", True)

    # level D (450): still posts, but can no longer be made a manager
    adjust(srv, "low", -150, "severity:serious")
    show = assert_score_is_ledger(srv, "low")
    assert (show["score"], show["level"], show["may_manage"]) == (450, "D", False)
    owner.send("MODE #credit +o low")
    m = owner.expect("FAIL", pred=lambda m: m.params[:2] == ["MODE", "ROLE_REFUSED"])
    assert "Credit level D does not allow managing groups" in m.last, m.raw
    low.send("PRIVMSG #credit :still here at D")
    owner.expect("PRIVMSG", pred=lambda m: m.nick == "low" and m.last == "still here at D")

    # level E (300): a group message is refused with one sentence
    adjust(srv, "low", -150, "severity:serious")
    assert assert_score_is_ledger(srv, "low")["level"] == "E"
    low.send("PRIVMSG #credit :can I post?")
    m = low.expect("FAIL", pred=lambda m: m.params[:2] == ["PRIVMSG", "CREDIT_LEVEL"])
    assert m.params[2] == "#credit", m.raw
    assert "Credit level E (score 300) does not allow posting in groups" in m.last, m.raw
    assert "recovers by 10 points for each 30 days" in m.last, m.raw
    owner.assert_no("PRIVMSG", pred=lambda m: m.nick == "low")

    # a client without standard-replies gets ERR_CANNOTSENDTOCHAN
    adjust(srv, "plain", -300, "severity:severe")
    plain.send("PRIVMSG #credit :me neither?")
    m = plain.expect("404")
    assert m.params[1] == "#credit" and "Credit level E" in m.last, m.raw
    owner.assert_no("PRIVMSG", pred=lambda m: m.nick == "plain")

    # back to C by a positive event: posting works again
    adjust(srv, "low", 300, "restored")
    low.send("PRIVMSG #credit :back")
    owner.expect("PRIVMSG", pred=lambda m: m.nick == "low" and m.last == "back")
    assert_score_is_ledger(srv, "low")


def burst(sender, watcher, chan, n, tag):
    """Sends n messages at once; returns (delivered texts, FAIL lines)."""
    sender.send_raw("".join("PRIVMSG %s :%s %d\r\n" % (chan, tag, i)
                            for i in range(n)).encode())
    sender.send("PRIVMSG %s :end-of-%s" % (chan, tag))  # refused or not: a marker below
    lines = sender.sync()
    fails = [m for m in lines if m.command == "FAIL" and m.params[1] == "CREDIT_RATE"]
    # the sender's PING is answered after its messages are delivered, so
    # the watcher's own round trip then reads every one of them
    got = [m.last for m in watcher.sync() if m.command == "PRIVMSG" and tag in m.last]
    return got, fails


def test_message_rate_per_level(qund_factory):
    srv = credit_server(qund_factory)
    fast = leveled_user(srv, "fast")
    watch = leveled_user(srv, "watch")
    join_ok(fast, "#rate")
    join_ok(watch, "#rate")
    watch.sync()
    # level C: 10 messages per 10 s
    got, fails = burst(fast, watch, "#rate", 14, "c-level")
    assert fails, "no CREDIT_RATE refusal at level C"
    assert "Credit level C allows 10 messages per 10 seconds" in fails[0].last, fails[0].raw
    assert 10 <= len(got) <= 11, got  # one token may refill during the burst
    assert got[:10] == ["c-level %d" % i for i in range(10)], got
    # level D: 5 messages per 10 s (a fresh sender: the bucket is full)
    slow = leveled_user(srv, "slow")
    join_ok(slow, "#rate")
    adjust(srv, "slow", -200, "severity:general")
    watch.sync()
    got, fails = burst(slow, watch, "#rate", 9, "d-level")
    assert fails and "Credit level D allows 5 messages" in fails[0].last, fails
    assert 5 <= len(got) <= 6, got
    assert got[:5] == ["d-level %d" % i for i in range(5)], got
    assert_score_is_ledger(srv, "slow")


# ------------------------------------------------------------ recovery

def test_recovery_by_the_clock_capped_and_idempotent(qund_factory):
    srv = credit_server(qund_factory)
    u = leveled_user(srv, "mender")
    leveled_user(srv, "bystander", level=0)
    adjust(srv, "mender", -100, "severity:serious")
    assert score(srv, "mender") == 500
    clock_advance(srv, 29 * DAY)
    settle(srv)
    assert recovery_events(srv, "mender") == []
    clock_advance(srv, 1 * DAY + 60)
    rows = db_wait(srv, "SELECT delta, author FROM credit_events WHERE reason = 'recovery'"
                        " AND account_id = ?", (account_id(srv, "mender"),))
    assert rows == [(10, "system:recovery")], rows
    assert score(srv, "mender") == 510
    # 90 more days: three periods, one event each
    clock_advance(srv, 90 * DAY)
    db_wait(srv, "SELECT id FROM credit_events WHERE reason = 'recovery' AND account_id = ?",
            (account_id(srv, "mender"),), want=lambda r: len(r) == 4)
    assert [r[1] for r in recovery_events(srv, "mender")] == [10, 10, 10, 10]
    assert assert_score_is_ledger(srv, "mender")["score"] == 540
    cr(u, "LEDGER 2", "+10 recovery")

    # a violation restarts the count
    adjust(srv, "mender", -10, "severity:minor")
    clock_advance(srv, 20 * DAY)
    settle(srv)
    assert len(recovery_events(srv, "mender")) == 4
    clock_advance(srv, 10 * DAY + 60)
    db_wait(srv, "SELECT id FROM credit_events WHERE reason = 'recovery' AND account_id = ?",
            (account_id(srv, "mender"),), want=lambda r: len(r) == 5)
    assert score(srv, "mender") == 540

    # a restart derives the state from the ledger: nothing is credited twice
    u.close()
    before = ledger(srv, "mender")
    assert srv.stop() == 0, srv.stderr()
    srv.start()
    clock_advance(srv, 1)
    settle(srv)
    assert ledger(srv, "mender") == before
    assert assert_score_is_ledger(srv, "mender")["score"] == 540

    # never above 700 by recovery: 695 + a partial step of 5, then nothing.
    # The clock restarted at real time; the last recovery is ~151 days ahead.
    adjust(srv, "mender", 155, "restored")
    clock_advance(srv, 182 * DAY)
    db_wait(srv, "SELECT id FROM credit_events WHERE reason = 'recovery' AND account_id = ?",
            (account_id(srv, "mender"),), want=lambda r: len(r) == 6)
    assert recovery_events(srv, "mender")[-1][1] == 5
    assert score(srv, "mender") == 700
    clock_advance(srv, 120 * DAY)
    settle(srv)
    assert len(recovery_events(srv, "mender")) == 6
    assert assert_score_is_ledger(srv, "mender")["score"] == 700


# ------------------------------------------------------------ appeals

def need_root():
    if os.geteuid() != 0:
        pytest.fail("this test needs a second unix identity: run it as root, so that qunctl "
                    "can also run as the daemon's user %r" % RUN_USER)


def test_appeal_decided_by_another_moderator_offsets_the_event(qund_factory):
    need_root()
    srv = credit_server(qund_factory)
    u = leveled_user(srv, "appellant")
    first = adjust(srv, "appellant", -50, "severity:general")  # by unix:root
    clock_advance(srv, 20 * DAY)
    second = adjust(srv, "appellant", -50, "severity:general", as_user=RUN_USER)
    assert [r[4] for r in ledger(srv, "appellant")] == ["unix:root", "unix:%s" % RUN_USER]
    assert score(srv, "appellant") == 500

    m = cr(u, "APPEAL %d It was a quotation, not my words." % second, "filed")
    appeal = int(m.last.split()[1])
    cr(u, "APPEAL %d again" % second, "already has an open appeal")
    cr(u, "APPEALS", "open")
    rows = db_rows(srv, "SELECT event_id, text, outcome FROM credit_appeals WHERE id = ?",
                   (appeal,))
    assert rows == [(second, "It was a quotation, not my words.", None)]
    listed = qunctl_json(srv, "appeals", "list")
    assert [(a["id"], a["account"], a["event_author"]) for a in listed] == \
        [(appeal, "appellant", "unix:%s" % RUN_USER)]

    # the author of the event may not decide its appeal
    args = [os.path.abspath(os.environ["QUNCTL"]), "-s", srv.control_path, "appeals", "decide",
            str(appeal), "uphold", "--note", "mine"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30, user=RUN_USER)
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "recorded event %d yourself, so another moderator must decide" % second in r.stderr
    assert db_rows(srv, "SELECT outcome FROM credit_appeals WHERE id = ?", (appeal,)) == [(None,)]

    # another moderator upholds it: the event is offset by a new event
    got = qunctl_json(srv, "appeals", "decide", str(appeal), "uphold", "--note", "a quotation")
    assert got["outcome"] == "upheld" and got["score"] == 550, got
    m = u.expect("NOTICE", pred=lambda m: m.nick == "CreditServ" and "was upheld" in m.last)
    assert "appeal %d" % appeal in m.last
    offset = ledger(srv, "appellant")[-1]
    assert offset[0] == got["offset_event"]
    assert offset[1:5] == (50, "appeal-upheld", "credit:%d" % second, "unix:root"), offset
    assert db_rows(srv, "SELECT outcome, decided_by, note, offset_event_id FROM credit_appeals"
                        " WHERE id = ?", (appeal,)) == \
        [("upheld", "unix:root", "a quotation", offset[0])]
    assert_score_is_ledger(srv, "appellant")
    cr(u, "APPEALS", "upheld")
    cr(u, "LEDGER", "(offset by #%d)" % offset[0])
    cr(u, "APPEAL %d more" % second, "already offset")
    # decided once only
    r = qunctl(srv, "appeals", "decide", str(appeal), "reject", "--note", "late")
    assert r.returncode == 1 and "decided already" in r.stderr, r.stderr

    # the offset violation no longer restarts recovery: 30 days after the
    # first deduction (not 30 after the second) recovery adds 10
    clock_advance(srv, 10 * DAY + 60)
    db_wait(srv, "SELECT id FROM credit_events WHERE reason = 'recovery' AND account_id = ?",
            (account_id(srv, "appellant"),), want=lambda r: len(r) == 1)
    assert score(srv, "appellant") == 560

    # a rejected appeal leaves the event standing; the user is told
    m = cr(u, "APPEAL %d I disagree" % first, "filed")
    appeal2 = int(m.last.split()[1])
    args[4:] = ["decide", str(appeal2), "reject", "--note", "the rule was broken"]
    r = subprocess.run(args, capture_output=True, text=True, timeout=30, user=RUN_USER)
    assert r.returncode == 0, r.stderr
    u.expect("NOTICE", pred=lambda m: m.nick == "CreditServ" and "was rejected" in m.last)
    cr(u, "APPEALS", "the rule was broken")
    assert score(srv, "appellant") == 560
    netlog = log_rows(srv, "SELECT kind, actor FROM events WHERE kind LIKE"
                           " 'credit.appeal%' ORDER BY seq")
    assert netlog == [("credit.appeal", "appellant"), ("credit.appeal.decided", "unix:root"),
                      ("credit.appeal", "appellant"),
                      ("credit.appeal.decided", "unix:%s" % RUN_USER)], netlog


# ------------------------------------------------------------ CreditServ

def test_creditserv_answers_only_about_oneself(qund_factory):
    srv = credit_server(qund_factory)
    me = leveled_user(srv, "self")
    other = leveled_user(srv, "other")
    anon = srv.client("anon")
    m = cr(me, "INFO", "credit score 600, level C")
    assert "may post in groups (10 messages per 10 s)" in m.last, m.raw
    assert "own up to 3 groups of up to 200 members" in m.last, m.raw
    assert "join up to 200 groups" in m.last and "may manage groups" in m.last, m.raw
    cr(me, "INFO", "Next recovery: +10")
    cr(me, "LEDGER", "Your ledger is empty: your score is the initial 600.")
    ev = adjust(srv, "self", -30, "severity:general")
    m = me.expect("NOTICE", pred=lambda m: m.nick == "CreditServ" and "changed by -30" in m.last)
    assert "APPEAL %d" % ev in m.last, m.raw
    m = cr(me, "LEDGER", "#%d -30 severity:general" % ev)
    assert "by unix:" in m.last, m.raw
    cr(me, "LEDGER", "End of ledger (1 newest event shown)")
    cr(me, "INFO", "credit score 570, level C")
    cr(me, "APPEALS", "You have no appeals")
    # HELP from the framework, with the privacy sentence
    me.send("PRIVMSG CreditServ :HELP")
    lines = me.collect("NOTICE", pred=lambda m: m.nick == "CreditServ" and "Only you" in m.last)
    text = "\n".join(m.last for m in lines)
    for cmd in ("INFO", "LEDGER [count]", "APPEAL <event id> <text>", "APPEALS"):
        assert cmd in text, text
    cr(me, "HELP APPEAL", "moderator other than the event's author")

    # nobody else sees it: no command takes an account, events are one's own
    cr(other, "INFO self", "CreditServ shows only your own credit")
    cr(other, "LEDGER self", "CreditServ shows only your own credit")
    cr(other, "APPEALS self", "CreditServ shows only your own credit")
    cr(other, "LEDGER", "Your ledger is empty")
    cr(other, "APPEAL %d mine now" % ev, "You have no credit event %d" % ev)
    assert db_rows(srv, "SELECT count(*) FROM credit_appeals") == [(0,)]
    cr(anon, "INFO", "Log in first")
    # the nick is reserved
    anon.send("NICK CreditServ")
    anon.expect("433")


# ------------------------------------------------------------ the ledger itself

def test_ledger_is_append_only_and_in_the_network_log(qund_factory):
    import sqlite3
    srv = credit_server(qund_factory)
    leveled_user(srv, "kept")
    adjust(srv, "kept", -30, "severity:general")
    adjust(srv, "kept", 12, "bonus")
    clock_advance(srv, 30 * DAY + 60)
    db_wait(srv, "SELECT id FROM credit_events WHERE reason = 'recovery'")
    before = db_rows(srv, "SELECT * FROM credit_events ORDER BY id")
    assert len(before) >= 3

    # the database refuses to change or remove an event
    conn = sqlite3.connect(srv.db_path, timeout=5)
    try:
        for sql in ("UPDATE credit_events SET delta = 0", "DELETE FROM credit_events"):
            with pytest.raises(sqlite3.DatabaseError, match="credit events are append-only"):
                conn.execute(sql)
            conn.rollback()
    finally:
        conn.close()

    # more events come, nothing earlier changes
    adjust(srv, "kept", -10, "severity:minor")
    after = db_rows(srv, "SELECT * FROM credit_events ORDER BY id")
    assert after[:len(before)] == before and len(after) == len(before) + 1
    assert_score_is_ledger(srv, "kept")

    # every event is a network-log event of kind "credit" with its fields
    rows = log_wait(srv, "SELECT actor, body FROM events WHERE kind = 'credit'",
                    want=lambda rows: len(rows) >= len(after))
    logged = {json.loads(b)["event"]: (actor, json.loads(b)) for actor, b in rows}
    for (eid, acc, delta, reason, evidence, author, at) in after:
        actor, body = logged[eid]
        assert (actor, body["delta"], body["reason"], body["evidence"], body["author"]) == \
            (author, delta, reason, evidence, author), body
    kept = [r for r in after if r[1] == account_id(srv, "kept")]
    assert logged[kept[-1][0]][1]["score"] == score(srv, "kept")
    # the reason codes of the system cannot be given by hand
    r = qunctl(srv, "credit", "adjust", "kept", "--delta", "10", "--reason", "recovery")
    assert r.returncode == 1 and "system's own" in r.stderr, r.stderr
