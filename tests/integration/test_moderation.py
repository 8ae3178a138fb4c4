"""test_moderation.py - issue 6 end to end, with every module real (no
stub between them): complaints, credit, sanctions, the blacklist and the
reports outbox acting on one another as SPEC §6-§10 describe.

The story, through real clients (the reporter speaks like irssi: no
standard-replies, so every answer arrives as a NOTICE), qunctl and the
real databases, with time moved by the test-only moderation clock:

  1. a member reports a message by its msgid; a manager upholds it as
     serious through ReportServ;
  2. the author's credit drops by 100 (the ledger is the score), the level
     falls from C to D, and a privilege of C disappears: the author can no
     longer create a group; management rights are suspended too;
  3. the decision is reported to the authority: a signed file appears in
     the spool directory and a POST reaches a local receiver, both carrying
     the reported message's log record with its inclusion proof;
  4. two more upheld complaints about the group's messages warn it, one
     more suspends its posting; after 7 days of clock it lifts by itself;
  5. the author's identity is blacklisted: a new account submitting the
     same identity document is refused.
"""

import json
import os
import re
import sqlite3
import time

from identity_helpers import (PASSWORD, REAL_NAME, clock_advance, db_rows, db_wait, leveled_user,
                              new_id, next_serial, ns, qunctl_json, wait_code)
from test_reports import Receiver, check_proofs, check_signature

DAY = 86400
SPOOL = "data/reports"


def moderation_server(qund_factory, url):
    return qund_factory(
        identity={"provider": "dev", "sms": "dev", "post_level": 1, "create_level": 2,
                  "max_accounts_per_identity": 100},
        limits={"max_per_ip": 200, "max_channels": 100},
        netlog={"checkpoint_seconds": 1},
        reports={"spool_dir": SPOOL, "http_url": url, "backoff_base": 60, "backoff_max": 3600,
                 "max_attempts": 5, "http_timeout": 5})


def user_with_document(srv, nick, doc, caps=("standard-replies", "message-tags")):
    """An account at identity level 2 bound to the resident ID doc."""
    c = srv.client(nick, caps=caps)
    ns(c, "REGISTER %s +861370000%04d" % (PASSWORD, next_serial()), "created")
    ns(c, "VERIFY %s" % wait_code(srv, nick), "identity level 1")
    ns(c, "IDENTITY cn-id %s %s" % (doc, REAL_NAME), "identity level 2")
    return c


def join_ok(c, chan):
    c.send("JOIN %s" % chan)
    c.expect("JOIN", pred=lambda m: m.nick == c.nick and m.params[0] == chan)
    c.expect_numeric("366")


def notice_from(c, service, want, timeout=10.0):
    return c.expect("NOTICE", timeout, pred=lambda m: m.nick == service and want in m.last,
                    what="a %s NOTICE with %r" % (service, want))


def said(sender, reader, chan, text):
    """sender posts; returns the msgid reader saw."""
    sender.send("PRIVMSG %s :%s" % (chan, text))
    return reader.expect("PRIVMSG", pred=lambda m: m.params == [chan, text]).tags.get("msgid")


def file_report(c, msgid, category, text):
    """REPORT from a client without standard-replies: the NOTICE names the id."""
    c.send("REPORT %s %s :%s" % (msgid, category, text))
    m = c.expect("NOTICE", pred=lambda m: "filed" in m.last)
    return int(re.search(r"Complaint (\d+) filed", m.last).group(1))


def uphold(mgr, cid, severity, rule):
    mgr.send("PRIVMSG ReportServ :UPHOLD %d %s %s" % (cid, severity, rule))
    notice_from(mgr, "ReportServ", "upheld")


def ledger(srv, name):
    return db_rows(srv, "SELECT e.delta FROM credit_events e JOIN accounts a"
                        " ON a.id = e.account_id WHERE a.name = ? ORDER BY e.id", (name,))


def test_report_uphold_sanction_report_escalate_blacklist(qund_factory):
    rx = Receiver([(200, "{}")])
    try:
        srv = moderation_server(qund_factory, rx.url)
        run_story(srv, rx)
    finally:
        rx.close()


def run_story(srv, rx):
    owner = leveled_user(srv, "owner", 2)
    mgr = leveled_user(srv, "mgr", 2)
    doc = new_id()
    author = user_with_document(srv, "author", doc)
    reporter = leveled_user(srv, "reporter", 1, caps=("message-tags",))  # like irssi
    join_ok(owner, "#治理")
    for c in (mgr, author, reporter):
        join_ok(c, "#治理")
    owner.send("MODE #治理 +o mgr")
    mgr.expect("MODE", pred=lambda m: m.params[:3] == ["#治理", "+o", "mgr"])
    shown = qunctl_json(srv, "groups", "show", "#治理")
    code = shown["code"]
    # the console's group page lists the members with their roles, by account
    roles = {m["account"]: m["role"] for m in shown["member_list"]}
    assert roles == {"owner": "owner", "mgr": "manager", "author": "member",
                     "reporter": "member"}, shown

    # the author starts at 550 (level C: may own 3 groups)
    qunctl_json(srv, "credit", "adjust", "author", "--delta", "-50", "--reason", "earlier")
    assert qunctl_json(srv, "credit", "show", "author")["level"] == "C"

    # 1. the report and the decision
    msgid = said(author, reporter, "#治理", "代开发票 fake invoices, cheap")
    cid = file_report(reporter, msgid, "fraud", "selling fake invoices")
    notice_from(mgr, "ReportServ", "%d" % cid)  # the managers are told
    uphold(mgr, cid, "serious", "selling fake invoices")
    notice_from(reporter, "ReportServ", "upheld")  # the reporter is told the outcome

    # 2. credit and level fall, a privilege disappears
    rows = db_wait(srv, "SELECT count(*) FROM credit_events e JOIN accounts a"
                        " ON a.id = e.account_id WHERE a.name = 'author'",
                   want=lambda r: r[0][0] == 2)
    assert [d for (d,) in ledger(srv, "author")] == [-50, -100], rows
    shown = qunctl_json(srv, "credit", "show", "author")
    assert shown["score"] == 600 - 150 and shown["level"] == "D", shown
    author.send("PRIVMSG CreditServ :INFO")
    notice_from(author, "CreditServ", "level D")
    author.send("JOIN #我的群")
    m = author.expect("FAIL", pred=lambda m: m.params[:2] == ["JOIN", "CANNOT_CREATE"])
    assert "suspended" in m.last, m.raw  # the serious decision's person measure
    sanctions = qunctl_json(srv, "sanctions", "list", "--account", "author")
    held = [s for s in sanctions if s["kind"] == "manage-suspended"]
    assert held, sanctions
    # with the measure lifted, level D itself still forbids owning a group
    qunctl_json(srv, "sanctions", "lift", str(held[0]["id"]))
    author.send("JOIN #我的群")
    m = author.expect("FAIL", pred=lambda m: m.params[:2] == ["JOIN", "CANNOT_CREATE"])
    assert "level D" in m.last, m.raw

    # 3. the report to the authority: spool file and POST, with the message proved
    seq = db_rows(srv, "SELECT msg_seq FROM complaints WHERE id = ?", (cid,))[0][0]
    rid = db_wait(srv, "SELECT id FROM reports WHERE kind = 'decision'", want=lambda r: r)[0][0]
    path = os.path.join(srv.workdir, SPOOL, "%d.json" % rid)
    deadline = time.monotonic() + 15
    while not os.path.exists(path) and time.monotonic() < deadline:
        clock_advance(srv, 1)  # the outbox seals once a checkpoint covers the evidence
        time.sleep(0.1)
    assert os.path.exists(path), srv.stderr()[-3000:]
    with open(path, encoding="utf-8") as f:
        env = json.load(f)
    check_signature(srv, env)
    doc_ = env["document"]
    assert doc_["severity"] == "serious" and doc_["subject"]["account"] == "author", doc_
    assert doc_["group"]["code"] == code, doc_
    assert doc_["evidence"]["seqs"][0] == seq, doc_["evidence"]  # the message comes first
    check_proofs(srv, doc_, doc_["evidence"]["seqs"])
    posted = rx.wait(1)["body"]  # the same signed envelope, over HTTP
    assert posted["document"] == doc_ and posted["signature"] == env["signature"], posted
    db_wait(srv, "SELECT status FROM reports WHERE id = ?", (rid,),
            want=lambda r: r and r[0][0] in ("delivered", "acknowledged"))

    # 4. two more upheld complaints warn the group, one more suspends it
    for i in range(3):
        msgid = said(author, reporter, "#治理", "spam %d" % i)
        cid = file_report(reporter, msgid, "spam", "spam again %d" % i)
        uphold(mgr, cid, "minor", "spam")
        if i == 1:
            notice_from(owner, "ChanServ", "72")  # warned: rectify within 72 h
    st = qunctl_json(srv, "sanctions", "state", str(code))
    assert st["state"] == "suspended", st
    owner.send("PRIVMSG #治理 :still here?")
    m = owner.expect("FAIL", pred=lambda m: m.params[:2] == ["PRIVMSG", "GROUP_SUSPENDED"])
    assert "appeal" in m.last.lower() or "until" in m.last.lower(), m.raw
    clock_advance(srv, 7 * DAY + 3600)
    assert qunctl_json(srv, "sanctions", "state", str(code))["state"] == "normal"
    said(owner, mgr, "#治理", "posting again")

    # 5. the blacklisted identity cannot come back with a new account
    qunctl_json(srv, "blacklist", "add", "identity", "author", "--reason", "invoice fraud ring")
    again = srv.client("author2", caps=("standard-replies",))
    ns(again, "REGISTER %s +861370000%04d" % (PASSWORD, next_serial()), "created")
    ns(again, "VERIFY %s" % wait_code(srv, "author2"), "identity level 1")
    ns(again, "IDENTITY cn-id %s %s" % (doc, REAL_NAME), "blacklist")
    assert db_rows(srv, "SELECT level FROM accounts WHERE name = 'author2'") == [(1,)]
    db_wait(srv, "SELECT kind FROM reports WHERE kind = 'blacklist'", want=lambda r: r)

    # nothing in the ledger or the log was rewritten: sums and seqs are dense
    srv.log_sync()
    conn = sqlite3.connect("file:%s?mode=ro" % srv.netlog_path, uri=True, timeout=5)
    try:
        seqs = [s for (s,) in conn.execute("SELECT seq FROM events ORDER BY seq")]
        kinds = {k for (k,) in conn.execute("SELECT DISTINCT kind FROM events")}
    finally:
        conn.close()
    assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
    assert {"complaint", "complaint-decision", "credit", "sanction", "report",
            "blacklist"} <= kinds, kinds
    total = db_rows(srv, "SELECT sum(delta) FROM credit_events e JOIN accounts a"
                         " ON a.id = e.account_id WHERE a.name = 'author'")[0][0]
    assert qunctl_json(srv, "credit", "show", "author")["score"] == 600 + total
