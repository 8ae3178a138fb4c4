"""test_complaints.py - complaints end to end (SPEC section 8, rules art. 12;
docs/complaints.md): real clients file with REPORT and ReportServ, a group's
managers decide at the group stage, moderators through qunctl at the
platform stage; deadlines move with the test-only moderation clock.

Every test checks the database too: the complaints rows, the credit events
written (by the decision or, for upheld complaints, by sanction_apply) and
the network log's complaint events.
"""

import re
import sqlite3

from identity_helpers import (PASSWORD, clock_advance, db_rows, db_wait, leveled_user, log_rows,
                              log_wait, qunctl, qunctl_json)
from test_groups import group_server, join_ok

DAY = 86400
TAGS = ("standard-replies", "echo-message", "message-tags")


def complaint_events(srv, want):
    """(seq, kind, actor, target, code, body) of the network log's complaint
    events, once want(rows) holds (or after 5 s)."""
    return log_wait(srv, "SELECT seq, kind, actor, target, code, body FROM events"
                    " WHERE kind IN ('complaint', 'complaint-decision') ORDER BY seq", want=want)


def rs(c, text, want, timeout=10.0):
    """/msg ReportServ text; returns the ReportServ NOTICE containing want."""
    c.send("PRIVMSG ReportServ :%s" % text)
    return rs_wait(c, want, timeout)


def rs_wait(c, want, timeout=10.0):
    return c.expect("NOTICE", timeout, pred=lambda m: m.nick == "ReportServ" and want in m.last,
                    what="a ReportServ NOTICE with %r" % want)


def report(c, target, category, text):
    """REPORT; returns the complaint id from NOTE REPORT FILED <id>."""
    c.send("REPORT %s %s :%s" % (target, category, text))
    m = c.expect("NOTE", pred=lambda m: m.params[:2] == ["REPORT", "FILED"])
    return int(m.params[2])


def report_fail(c, target, category, text, code):
    c.send("REPORT %s %s :%s" % (target, category, text))
    m = c.expect("FAIL", pred=lambda m: m.params[0] == "REPORT",
                 what="FAIL REPORT %s" % code)
    assert m.params[1] == code, m.raw
    assert m.last.endswith("."), m.raw  # one sentence
    return m


def say(c, chan, text):
    """Posts; returns the msgid of the echo."""
    c.send("PRIVMSG %s :%s" % (chan, text))
    m = c.expect("PRIVMSG", pred=lambda m: m.nick == c.nick and m.last == text)
    return m.tags["msgid"]


def account_id(srv, name):
    return db_rows(srv, "SELECT id FROM accounts WHERE name = ?", (name,))[0][0]


def credit_events(srv, name):
    return db_rows(srv, "SELECT delta, reason, evidence, author FROM credit_events"
                        " WHERE account_id = ? ORDER BY id", (account_id(srv, name),))


def complaint(srv, cid):
    rows = db_rows(srv, "SELECT kind, target, subject_id, group_code, msg_seq, category, stage,"
                        " state, filed_at, deadline, overdue_group, overdue, decided_by, severity,"
                        " rule, escalated_by FROM complaints WHERE id = ?", (cid,))
    keys = ("kind", "target", "subject_id", "group_code", "msg_seq", "category", "stage", "state",
            "filed_at", "deadline", "overdue_group", "overdue", "decided_by", "severity", "rule",
            "escalated_by")
    return dict(zip(keys, rows[0])) if rows else None


def world(qund_factory, **over):
    """A group #举报群 by `owner` with manager `mgr`, members `author` (posts,
    sees msgids) and `reporter`, and `outsider` in no group."""
    srv = group_server(qund_factory, **over)
    w = {"srv": srv}
    w["owner"] = leveled_user(srv, "owner", 2)
    w["mgr"] = leveled_user(srv, "mgr", 2)
    w["author"] = leveled_user(srv, "author", 1, caps=TAGS)
    w["reporter"] = leveled_user(srv, "reporter", 1)
    w["outsider"] = leveled_user(srv, "outsider", 1)
    owner = w["owner"]
    owner.send("JOIN #举报群")
    note = owner.expect("NOTE", pred=lambda m: m.params[:2] == ["JOIN", "GROUP_CREATED"])
    w["code"] = int(re.search(r"Group (\d+) created", note.last).group(1))
    for who in ("mgr", "author", "reporter"):
        join_ok(w[who], "#举报群")
    owner.send("MODE #举报群 +o mgr")
    w["mgr"].expect("MODE", pred=lambda m: m.params[:2] == ["#举报群", "+o"])
    db_wait(srv, "SELECT role FROM group_members WHERE account_id = ?",
            (account_id(srv, "mgr"),), want=lambda rows: rows and rows[0][0] == 2)
    return w


# ---------------------------------------------------------------- filing and the group stage

def test_message_report_upheld_by_a_manager(qund_factory):
    w = world(qund_factory)
    srv, mgr, reporter = w["srv"], w["mgr"], w["reporter"]
    msgid = say(w["author"], "#举报群", "buy cheap followers at example.com")
    cid = report(reporter, msgid, "spam", "advertising in the group")
    row = complaint(srv, cid)
    assert row["kind"] == "message" and row["target"] == msgid, row
    assert row["subject_id"] == account_id(srv, "author"), row
    assert row["group_code"] == w["code"] and row["msg_seq"] > 0, row
    assert row["stage"] == "group" and row["state"] == "open", row
    assert row["deadline"] == row["filed_at"] + DAY, row
    # the online managers are told, never who reported
    n = rs_wait(mgr, "New complaint %d" % cid)
    assert "reporter" not in n.last
    rs_wait(w["owner"], "New complaint %d" % cid)
    q = rs(mgr, "QUEUE #举报群", "#%d message" % cid)
    assert "author" in q.last and "spam" in q.last, q.raw
    rs(mgr, "SHOW %d" % cid, "Text: advertising in the group")
    rs(mgr, "UPHOLD %d general no advertising in the group" % cid, "Complaint %d upheld" % cid)
    told = rs_wait(reporter, "Your complaint %d" % cid)
    assert "upheld" in told.last and "no advertising in the group" in told.last, told.raw
    row = complaint(srv, cid)
    assert row["state"] == "upheld" and row["decided_by"] == "account:mgr", row
    assert row["severity"] == "general" and row["rule"] == "no advertising in the group", row
    # the sanction's credit event (general: -30), with the complaint as evidence
    ev = db_wait(srv, "SELECT delta, evidence, author FROM credit_events WHERE account_id = ?",
                 (account_id(srv, "author"),))
    assert ev == [(-30, "complaint:%d" % cid, "account:mgr")], ev
    assert credit_events(srv, "reporter") == []
    # the reporter sees the outcome with STATUS and MINE
    rs(reporter, "STATUS %d" % cid, "upheld")
    rs(reporter, "MINE", "#%d message" % cid)
    # the network log has the filing and the decision
    events = complaint_events(srv, lambda rows: len(rows) >= 2)
    kinds = [(k, a, t, code) for _, k, a, t, code, _ in events]
    assert ("complaint", "reporter", "complaint:%d" % cid, w["code"]) in kinds, kinds
    assert ("complaint-decision", "account:mgr", "complaint:%d" % cid, w["code"]) in kinds, kinds
    decision = [b for _, k, _, _, _, b in events if k == "complaint-decision"][0]
    assert '"decision":"uphold"' in decision and '"severity":"general"' in decision, decision


def test_report_through_reportserv_and_a_group(qund_factory):
    w = world(qund_factory)
    srv = w["srv"]
    n = rs(w["reporter"], "REPORT #举报群 rumor the group spreads rumours", "filed")
    cid = int(re.search(r"Complaint (\d+) filed", n.last).group(1))
    row = complaint(srv, cid)
    assert row["kind"] == "group" and row["group_code"] == w["code"], row
    assert row["stage"] == "group" and row["subject_id"] is None, row
    # by code too; the same reporter and target while open is a duplicate
    report_fail(w["reporter"], str(w["code"]), "rumor", "again", "DUPLICATE")
    rs(w["reporter"], "CATEGORIES", "harassment")


def test_bad_input_is_refused(qund_factory):
    w = world(qund_factory, complaints={"rate_per_hour": 3})
    srv, reporter = w["srv"], w["reporter"]
    msgid = say(w["author"], "#举报群", "hello")
    m = report_fail(reporter, msgid, "nonsense", "x", "INVALID_CATEGORY")
    assert "spam" in m.last
    report_fail(reporter, msgid, "spam", "x" * 401, "INVALID_TEXT")
    report_fail(reporter, "msgid=nosuchmessage0001", "spam", "where", "UNKNOWN_TARGET")
    report_fail(reporter, "#nosuchgroup", "spam", "where", "UNKNOWN_TARGET")
    report_fail(reporter, "reporter", "spam", "me", "SELF")
    # a message of a group the reporter is not in
    report_fail(w["outsider"], msgid, "spam", "not my group", "NOT_MEMBER")
    # not logged in
    guest = srv.client("guest", caps=("standard-replies",))
    report_fail(guest, msgid, "spam", "anon", "ACCOUNT_REQUIRED")
    assert db_rows(srv, "SELECT count(*) FROM complaints") == [(0,)]
    # the rate limit: 3 an hour here
    for i in range(3):
        report(reporter, say(w["author"], "#举报群", "line %d" % i), "spam", "n%d" % i)
    m = report_fail(reporter, msgid, "spam", "fourth", "RATE_LIMITED")
    assert "3 complaints in the last hour" in m.last
    clock_advance(srv, 3601)
    report(reporter, msgid, "spam", "an hour later")
    assert db_rows(srv, "SELECT count(*) FROM complaints") == [(4,)]


# ---------------------------------------------------------------- who decides

def test_managers_decide_only_their_group_and_never_about_themselves(qund_factory):
    w = world(qund_factory)
    srv, mgr = w["srv"], w["mgr"]
    # another group, another owner; its complaint is not mgr's to decide
    other = leveled_user(srv, "other", 2)
    join_ok(other, "#别的群")
    join_ok(w["reporter"], "#别的群")
    join_ok(w["author"], "#别的群")
    elsewhere = report(w["reporter"], say(w["author"], "#别的群", "rude"), "harassment", "rude")
    rs(mgr, "DISMISS %d" % elsewhere, "Only the owner and managers of the group concerned")
    rs(mgr, "QUEUE #别的群", "Only the owner and managers of #别的群")
    # a complaint about the manager's own message
    about_mgr = report(w["reporter"], say_tags(srv, mgr, "#举报群", "mine"), "fraud", "mgr")
    rs(mgr, "UPHOLD %d minor x" % about_mgr, "is about you")
    rs(mgr, "SHOW %d" % about_mgr, "is about you")
    q = rs(mgr, "QUEUE #举报群", "open complaint")
    assert "#%d" % about_mgr not in q.last
    # a moderator cannot take it while it is at the group stage
    r = qunctl(srv, "complaints", "decide", str(about_mgr), "dismiss")
    assert r.returncode == 1 and "still with the group" in r.stderr, (r.stdout, r.stderr)
    # the owner may
    rs(w["owner"], "DISMISS %d not fraud" % about_mgr, "Complaint %d dismissed" % about_mgr)
    rs_wait(w["reporter"], "was dismissed: not fraud")
    assert complaint(srv, about_mgr)["state"] == "dismissed"
    assert complaint(srv, elsewhere)["state"] == "open"
    # a decided complaint cannot be decided again
    rs(w["owner"], "UPHOLD %d minor x" % about_mgr, "no open complaint")
    assert credit_events(srv, "mgr") == []


def say_tags(srv, c, chan, text):
    """Posts as c (a client without message-tags); returns the msgid from
    the network log."""
    c.send("PRIVMSG %s :%s" % (chan, text))
    rows = log_wait(srv, "SELECT msgid FROM events WHERE kind = 'msg' AND actor LIKE ?"
                    " AND body LIKE ?", (c.nick + "!%", "%" + text + "%"))
    assert rows, "%s's message is not in the log" % c.nick
    return rows[0][0]


# ---------------------------------------------------------------- deadlines

def test_group_deadline_escalates_then_platform_overdue_and_negligence(qund_factory):
    w = world(qund_factory)
    srv = w["srv"]
    cid = report(w["reporter"], say(w["author"], "#举报群", "scam link"), "fraud", "a scam")
    clock_advance(srv, DAY - 60)
    assert complaint(srv, cid)["stage"] == "group"
    now = clock_advance(srv, 120)
    row = db_wait(srv, "SELECT stage, overdue_group, deadline FROM complaints WHERE id = ?", (cid,),
                  want=lambda rows: rows and rows[0][0] == "platform")
    assert row == [("platform", 1, now + 3 * DAY)], (row, now)
    rs_wait(w["mgr"], "not handled within the group's deadline")
    # the managers can no longer decide it
    rs(w["mgr"], "DISMISS %d" % cid, "with the platform moderators now")
    listed = qunctl_json(srv, "complaints", "list", "--stage", "platform")
    assert [c["id"] for c in listed] == [cid] and listed[0]["overdue_group"] is True, listed
    # 72 hours later it is overdue at the platform stage too
    clock_advance(srv, 3 * DAY + 10)
    db_wait(srv, "SELECT overdue FROM complaints WHERE id = ?", (cid,),
            want=lambda rows: rows == [(1,)])
    assert "past the platform moderators' deadline" in srv.stderr()
    stats = qunctl_json(srv, "complaints", "stats")
    assert stats["overdue_group"] == 1 and stats["overdue_platform"] == 1, stats
    assert stats["by_stage"]["platform"] == 1 and stats["by_state"]["open"] == 1, stats
    # upheld at last: the sanction, and negligence -20 for the owner and the manager
    out = qunctl_json(srv, "complaints", "decide", str(cid), "uphold", "--severity", "general",
                      "--rule", "fraud: scam links")
    assert out == {"id": cid, "state": "upheld"}, out
    ev = "complaint:%d" % cid
    for name in ("owner", "mgr"):
        got = db_wait(srv, "SELECT delta, reason, evidence FROM credit_events WHERE account_id = ?",
                      (account_id(srv, name),))
        assert got == [(-20, "severity:negligence", ev)], (name, got)
    assert [e[:3] for e in credit_events(srv, "author")] == [(-30, "fraud: scam links", ev)]
    assert credit_events(srv, "reporter") == []
    rs_wait(w["owner"], "negligence")
    rs_wait(w["reporter"], "was upheld")
    events = complaint_events(srv, lambda rows: len(rows) >= 4)
    bodies = [(k, b) for _, k, _, t, _, b in events if t == ev]
    assert sum(1 for k, b in bodies if k == "complaint" and '"event":"overdue"' in b) == 2, bodies
    assert any(k == "complaint-decision" and '"overdue_group":true' in b for k, b in bodies)
    stats = qunctl_json(srv, "complaints", "stats")
    assert stats["by_state"] == {"upheld": 1}, stats
    assert stats["handling"]["decided"] == 1 and stats["handling"]["max_s"] >= 4 * DAY, stats


def test_user_complaint_and_escalation_go_to_the_platform(qund_factory):
    w = world(qund_factory)
    srv = w["srv"]
    cid = report(w["reporter"], "author", "harassment", "keeps insulting me")
    row = complaint(srv, cid)
    assert row["kind"] == "user" and row["stage"] == "platform", row
    assert row["group_code"] is None and row["deadline"] == row["filed_at"] + 3 * DAY, row
    shown = qunctl_json(srv, "complaints", "show", str(cid))
    assert shown["subject"] == "author" and shown["reporter"] == "reporter", shown
    qunctl_json(srv, "complaints", "decide", str(cid), "dismiss", "--note", "no evidence")
    rs_wait(w["reporter"], "was dismissed: no evidence")
    assert complaint(srv, cid)["decided_by"].startswith("unix:")
    # a group complaint escalated by its manager
    gid = report(w["reporter"], "#举报群", "illegal", "illegal content in the topic")
    rs(w["mgr"], "ESCALATE %d too serious for us" % gid, "passed to the platform")
    rs_wait(w["reporter"], "passed to the platform moderators")
    row = complaint(srv, gid)
    assert row["stage"] == "platform" and row["escalated_by"] == "account:mgr", row
    assert row["overdue_group"] == 0, row
    r = qunctl(srv, "complaints", "decide", str(gid), "escalate")
    assert r.returncode == 1 and "no stage above" in r.stderr, r.stderr
    r = qunctl(srv, "complaints", "decide", str(gid), "uphold", "--severity", "severe")
    assert r.returncode == 1, r.stderr  # a rule is required
    qunctl_json(srv, "complaints", "decide", str(gid), "uphold", "--severity", "minor", "--rule",
                "topic must be lawful")
    # escalated on time: no negligence
    assert credit_events(srv, "owner") == [] and credit_events(srv, "mgr") == []
    events = complaint_events(srv, lambda rows: len(rows) >= 5)
    decisions = [b for _, k, _, t, _, b in events
                 if k == "complaint-decision" and t == "complaint:%d" % gid]
    assert len(decisions) == 2 and '"decision":"escalate"' in decisions[0], decisions


# ---------------------------------------------------------------- malicious reporters

def test_malicious_reports_cost_credit_and_flag_the_reporter(qund_factory):
    w = world(qund_factory)
    srv, mgr, reporter = w["srv"], w["mgr"], w["reporter"]
    ids = [report(reporter, say(w["author"], "#举报群", "good morning %d" % i), "illegal",
                  "lies %d" % i) for i in range(3)]
    for i, cid in enumerate(ids):
        rs(mgr, "MALICIOUS %d harmless greeting" % cid, "dismissed as malicious")
        told = rs_wait(reporter, "Your complaint %d" % cid)
        assert "costs you 20 credit" in told.last, told.raw
        if i == 1:
            assert qunctl_json(srv, "complaints", "flagged") == []
    got = db_wait(srv, "SELECT delta, reason, evidence, author FROM credit_events"
                       " WHERE account_id = ?", (account_id(srv, "reporter"),),
                  want=lambda rows: len(rows) == 3)
    assert got == [(-20, "severity:malicious", "complaint:%d" % c, "account:mgr") for c in ids]
    assert credit_events(srv, "author") == []
    flagged = complaint_events(srv, lambda rows: any('"reporter-flagged"' in (r[5] or "") for r in rows))
    flag = [r for r in flagged if '"reporter-flagged"' in (r[5] or "")]
    assert flag and flag[0][3] == "reporter" and '"malicious":3' in flag[0][5], flagged
    out = qunctl_json(srv, "complaints", "flagged")
    assert out == [{"account": "reporter", "account_id": account_id(srv, "reporter"),
                    "malicious": 3}], out
    stats = qunctl_json(srv, "complaints", "stats")
    assert stats["by_state"] == {"malicious": 3} and len(stats["flagged"]) == 1, stats
    # 91 days later the window has passed
    clock_advance(srv, 91 * DAY)
    assert qunctl_json(srv, "complaints", "flagged") == []


# ---------------------------------------------------------------- counts

def test_stats_over_a_time_range_and_the_log_is_append_only(qund_factory):
    w = world(qund_factory)
    srv = w["srv"]
    a = report(w["reporter"], say(w["author"], "#举报群", "one"), "spam", "one")
    clock_advance(srv, 3600)
    rs(w["mgr"], "DISMISS %d" % a, "dismissed")
    now = clock_advance(srv, 10)
    b = report(w["reporter"], say(w["author"], "#举报群", "two"), "spam", "two")
    stats = qunctl_json(srv, "complaints", "stats")
    assert stats["total"] == 2 and stats["by_state"] == {"dismissed": 1, "open": 1}, stats
    assert stats["by_stage"]["group"] == 1, stats
    h = stats["handling"]
    assert h["decided"] == 1 and 3600 <= h["mean_s"] <= 3660 and h["max_s"] == h["mean_s"], h
    assert h["by_outcome"]["dismissed"]["decided"] == 1, h
    later = qunctl_json(srv, "complaints", "stats", "--since", str(now))
    assert later["total"] == 1 and later["by_state"] == {"open": 1}, later
    listed = qunctl_json(srv, "complaints", "list", "--state", "open", "--group", "#举报群")
    assert [c["id"] for c in listed] == [b], listed
    # the network log is dense (nothing deleted) and credit_events refuses changes
    [(lo, hi, n)] = log_rows(srv, "SELECT min(seq), max(seq), count(*) FROM events")
    assert n == hi - lo + 1
    conn = sqlite3.connect(srv.db_path, timeout=5)
    try:
        triggers = {r[0] for r in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'credit_events'")}
    finally:
        conn.close()
    assert {"credit_events_no_update", "credit_events_no_delete"} <= triggers


def test_open_complaints_survive_a_restart(qund_factory):
    w = world(qund_factory)
    srv = w["srv"]
    keep = report(w["reporter"], say(w["author"], "#举报群", "stay"), "spam", "kept")
    late = report(w["reporter"], say(w["author"], "#举报群", "late"), "spam", "late")
    for name in ("owner", "mgr", "author", "reporter", "outsider"):
        w[name].close()
    assert srv.stop() == 0, srv.stderr()
    srv.start()
    mgr = srv.client("mgr", caps=("standard-replies",))
    mgr.send("PRIVMSG NickServ :IDENTIFY mgr %s" % PASSWORD)
    mgr.expect_numeric("900")
    q = rs(mgr, "QUEUE #举报群", "2 open complaints")
    rs(mgr, "DISMISS %d" % keep, "Complaint %d dismissed" % keep)
    # the deadline job runs on the loaded complaints too
    clock_advance(srv, DAY + 10)
    db_wait(srv, "SELECT stage, overdue_group FROM complaints WHERE id = ?", (late,),
            want=lambda rows: rows == [("platform", 1)])
    assert complaint(srv, keep)["state"] == "dismissed", q
