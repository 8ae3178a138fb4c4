"""test_sanction_appeals.py - appeals against sanctions (SPEC §7: every
sanction is told "with its reason and how to appeal"; moderators "handle
appeals") through real clients, qunctl and the real databases.

  1. a suspended group's owner appeals through ChanServ; a member who is not
     the owner is refused, and so is a second open appeal; the moderator who
     imposed the suspension cannot decide it; another moderator upholds it:
     the suspension is lifted, posting works again, the owner is told, and
     the network log has "sanction.appeal" and "sanction.appeal.decided";
  2. a rejected appeal leaves the sanction standing; a filer who is offline
     when it is decided is told at the next login, even after a restart;
  3. a person sanction with a credit event (management suspended by a
     serious violation) appealed by its subject and upheld: managing works
     again and the credit event is offset (the score comes back).

Two operators, as in test_credit.py: qunctl run as the daemon's user
(conftest RUN_USER) imposes the sanctions; qunctl run as root decides.
"""

import json
import os
import subprocess

from conftest import RUN_USER
from identity_helpers import PASSWORD, db_rows, db_wait, leveled_user, log_wait, ns, qunctl, \
    qunctl_json
from test_credit import credit_server, need_root, score
from test_sanctions import cs, cs_wait, join_ok, post_ok, post_refused


def as_run_user(srv, *args):
    """qunctl --json run as the daemon's own user (actor unix:RUN_USER)."""
    cmd = [os.path.abspath(os.environ["QUNCTL"]), "-s", srv.control_path, "--json"] + list(args)
    return subprocess.run(cmd, capture_output=True, text=True, timeout=30, user=RUN_USER)


def appeal_id(notice):
    # "Appeal 3 against sanction 2 is filed; ..."
    return int(notice.last.split()[1])


def test_group_owner_appeals_a_suspension_and_another_moderator_upholds(qund_factory):
    need_root()
    srv = credit_server(qund_factory)
    owner = leveled_user(srv, "gowner")
    member = leveled_user(srv, "gmember", level=1)
    join_ok(owner, "#appealme")
    join_ok(member, "#appealme")
    for rule in ("spam", "spam again", "more spam", "still spam"):
        r = as_run_user(srv, "sanctions", "violation", "#appealme", "--severity", "minor",
                        "--rule", rule)
        assert r.returncode == 0, r.stderr
    st = json.loads(r.stdout)
    assert st["state"] == "suspended", st
    sid = [s["id"] for s in st["sanctions"] if s["kind"] == "suspended"][0]
    m = cs_wait(owner, "posting in #appealme")
    assert "/msg ChanServ APPEAL %d" % sid in m.last, m.raw
    m = post_refused(member, "#appealme", "GROUP_SUSPENDED")
    assert "/msg ChanServ APPEAL %d" % sid in m.last, m.raw

    # refusals, each one sentence
    cs(member, "APPEAL %d we did nothing" % sid, "Only the owner")
    cs(owner, "APPEAL 9999 what", "There is no sanction 9999")
    cs(owner, "APPEAL %d %s" % (sid, "x" * 401), "1 to 400 bytes")
    a = appeal_id(cs(owner, "APPEAL %d The spam came from a hijacked bot." % sid, "is filed"))
    cs(owner, "APPEAL %d again" % sid, "already has an open appeal")
    cs(owner, "APPEALS", "Appeal %d on sanction %d (suspended)" % (a, sid))
    cs(owner, "HELP", "APPEAL")
    assert db_rows(srv, "SELECT sanction_id, text, outcome FROM sanction_appeals WHERE id = ?",
                   (a,)) == [(sid, "The spam came from a hijacked bot.", None)]
    listed = qunctl_json(srv, "sanctions", "appeals")
    assert [(x["id"], x["account"], x["sanction"], x["sanction_author"]) for x in listed] == \
        [(a, "gowner", sid, "unix:%s" % RUN_USER)], listed
    st = qunctl_json(srv, "status")  # the console's dashboard counts it
    assert st["appeals"] == {"pending": 0, "sanctions_pending": 1} and "partial" not in st, st

    # the moderator who imposed it may not decide it
    r = as_run_user(srv, "sanctions", "appeal-decide", str(a), "upheld")
    assert r.returncode == 1 and "imposed sanction %d yourself" % sid in r.stderr, r.stderr
    assert db_rows(srv, "SELECT outcome FROM sanction_appeals WHERE id = ?", (a,)) == [(None,)]

    # another moderator upholds it: lifted, posting works, the owner told
    got = qunctl_json(srv, "sanctions", "appeal-decide", str(a), "upheld", "--note", "a bot")
    assert got["outcome"] == "upheld" and got["lifted"], got
    m = cs_wait(owner, "Your appeal %d against sanction %d was upheld" % (a, sid))
    assert qunctl_json(srv, "sanctions", "state", "#appealme")["state"] == "warned"
    post_ok(member, owner, "#appealme", "back again")
    rows = db_wait(srv, "SELECT lifted_by FROM sanctions WHERE id = ?", (sid,),
                   want=lambda r: r and r[0][0])
    assert rows == [("unix:root",)], rows
    assert db_rows(srv, "SELECT outcome, decided_by, note, told FROM sanction_appeals"
                        " WHERE id = ?", (a,)) == [("upheld", "unix:root", "a bot", 1)]
    cs(owner, "APPEALS", "upheld")
    assert qunctl_json(srv, "status")["appeals"]["sanctions_pending"] == 0
    r = qunctl(srv, "sanctions", "appeal-decide", str(a), "rejected")
    assert r.returncode == 1 and "decided already" in r.stderr, r.stderr
    ev = log_wait(srv, "SELECT kind, actor, body FROM events WHERE kind LIKE 'sanction.appeal%'"
                       " ORDER BY seq", want=lambda r: len(r) == 2)
    assert [(e[0], e[1]) for e in ev] == [("sanction.appeal", "gowner"),
                                          ("sanction.appeal.decided", "unix:root")], ev
    assert '"outcome":"upheld"' in ev[1][2] and '"sanction":%d' % sid in ev[1][2], ev
    lift = log_wait(srv, "SELECT body FROM events WHERE kind = 'sanction' AND body LIKE"
                         " '%\"action\":\"lift\"%'", want=lambda r: r)
    assert "appeal upheld" in lift[-1][0], lift


def test_rejected_appeal_leaves_the_sanction_and_an_offline_filer_is_told_at_login(qund_factory):
    need_root()
    srv = credit_server(qund_factory)
    owner = leveled_user(srv, "rowner")
    user = leveled_user(srv, "ruser", level=1)
    join_ok(owner, "#rej")
    join_ok(user, "#rej")
    r = as_run_user(srv, "sanctions", "person", "ruser", "--kind", "post-suspended",
                    "--reason", "insults", "--days", "3")
    assert r.returncode == 0, r.stderr
    sid = json.loads(r.stdout)["id"]
    m = cs_wait(user, "Sanction %d: you may not post" % sid)
    assert "/msg ChanServ APPEAL %d <why>" % sid in m.last, m.raw
    cs(owner, "APPEAL %d not mine" % sid, "not yours")
    a = appeal_id(cs(user, "APPEAL %d I was quoting someone." % sid, "is filed"))

    user.send("QUIT :bye")
    user.expect_closed()
    got = qunctl_json(srv, "sanctions", "appeal-decide", str(a), "rejected", "--note",
                      "insults are insults")
    assert got["outcome"] == "rejected" and not got["lifted"], got
    assert [s["id"] for s in qunctl_json(srv, "sanctions", "list", "--account", "ruser")] == [sid]
    assert db_rows(srv, "SELECT outcome, told FROM sanction_appeals WHERE id = ?", (a,)) == \
        [("rejected", 0)]
    assert qunctl_json(srv, "sanctions", "appeals") == []
    assert [x["id"] for x in qunctl_json(srv, "sanctions", "appeals", "--state", "decided")] == [a]

    # the untold outcome survives a restart (loaded from told = 0)
    srv.stop()
    srv.start()
    back = srv.client("ruser2", caps=("standard-replies",))
    ns(back, "IDENTIFY ruser %s" % PASSWORD, "")
    m = cs_wait(back, "Your appeal %d against sanction %d was rejected" % (a, sid))
    assert "While you were away" in m.last, m.raw
    join_ok(back, "#rej")
    post_refused(back, "#rej", "POSTING_SUSPENDED")
    cs(back, "APPEALS", "insults are insults")
    db_wait(srv, "SELECT told FROM sanction_appeals WHERE id = ?", (a,),
            want=lambda r: r == [(1,)])
    # a second appeal after a decision is allowed (the sanction is still active)
    cs(back, "APPEAL %d new facts" % sid, "is filed")


def test_person_sanction_upheld_restores_managing_and_offsets_its_credit_event(qund_factory):
    need_root()
    srv = credit_server(qund_factory)
    owner = leveled_user(srv, "powner")
    mgr = leveled_user(srv, "pmgr")
    target = leveled_user(srv, "ptarget", level=1)
    join_ok(owner, "#pm")
    join_ok(mgr, "#pm")
    join_ok(target, "#pm")
    cs(owner, "OP #pm pmgr", "manager")
    before = score(srv, "pmgr")
    r = as_run_user(srv, "sanctions", "violation", "#pm", "--severity", "serious", "--rule",
                    "rumours", "--account", "pmgr")
    assert r.returncode == 0, r.stderr
    rows = db_wait(srv, "SELECT id, credit_event FROM sanctions WHERE subject_kind = 'account'"
                        " AND kind = 'manage-suspended'", want=lambda r: r and r[0][1])
    sid, event = rows[0]
    assert score(srv, "pmgr") == before - 100
    m = cs_wait(mgr, "rights to manage groups are suspended")
    assert "/msg ChanServ APPEAL %d" % sid in m.last and "CreditServ APPEAL %d" % event in m.last
    cs(mgr, "MUTE #pm ptarget 10", "suspended")
    # a credit appeal against the same event is open meanwhile
    mgr.send("PRIVMSG CreditServ :APPEAL %d not rumours" % event)
    m = mgr.expect("NOTICE", pred=lambda m: m.nick == "CreditServ" and "filed" in m.last)
    credit_appeal = int(m.last.split()[1])

    a = appeal_id(cs(mgr, "APPEAL %d They were not rumours: here is the source." % sid,
                     "is filed"))
    got = qunctl_json(srv, "sanctions", "appeal-decide", str(a), "upheld", "--note", "sourced")
    assert got["outcome"] == "upheld" and got["lifted"] and got["offset_event"], got
    cs_wait(mgr, "Your appeal %d against sanction %d was upheld" % (a, sid))
    cs(mgr, "MUTE #pm ptarget 10", "muted")
    assert score(srv, "pmgr") == before
    offset = db_rows(srv, "SELECT delta, reason, evidence, author FROM credit_events WHERE id = ?",
                     (got["offset_event"],))
    assert offset == [(100, "appeal-upheld", "credit:%d" % event, "unix:root")], offset
    # the event is offset once: the open credit appeal is closed with it, and
    # a new one has nothing left to offset
    assert db_wait(srv, "SELECT outcome, decided_by, offset_event_id FROM credit_appeals"
                        " WHERE id = ?", (credit_appeal,),
                   want=lambda r: r and r[0][0]) == [("upheld", "unix:root", got["offset_event"])]
    r = qunctl(srv, "appeals", "decide", str(credit_appeal), "uphold", "--note", "again")
    assert r.returncode == 1 and "decided already" in r.stderr, r.stderr
    mgr.send("PRIVMSG CreditServ :APPEAL %d still" % event)
    mgr.expect("NOTICE", pred=lambda m: m.nick == "CreditServ" and "already offset" in m.last)
    assert score(srv, "pmgr") == before
