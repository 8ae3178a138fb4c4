"""test_browser_console.py - the operator console in Debian's chromium
(issue 7 item 4b, 4c): a moderator and an auditor use web/console against
the real qund, driven by console_moderator.mjs and console_auditor.mjs.

What it proves:
  1. a moderator (made with `qunctl operators create --role moderator`, the
     password on stdin) logs in, approves a manual identity request from the
     review queue and upholds a complaint: the user gets NickServ's notice
     and level 2, the audit records `console:<name>`, the complaint is
     upheld by `console:<name>` with its credit event, the network log has
     the decision, and the reporter is told on IRC;
  2. an auditor searches the log for a group's messages and exports a case
     bundle from the log page: the browser's
     download is a tar that extracts and passes `qunctl verify-bundle` with
     the network log's public key.
"""

import json
import os
import re
import tarfile

from browser_helpers import OP_PW, make_operator, run_scenario
from identity_helpers import db_wait, leveled_user, log_wait, ns, qunctl

RULE = "art. 6: no harassment"


def notice_from(c, service, want, timeout=10.0):
    return c.expect("NOTICE", timeout, pred=lambda m: m.nick == service and want in m.last,
                    what="a %s NOTICE with %r" % (service, want))


def test_moderator_approves_identity_and_upholds_complaint(browser_factory):
    srv = browser_factory(identity={"provider": "manual", "sms": "dev", "post_level": 1,
                                    "create_level": 2})
    make_operator(srv, "mod", "moderator")
    mona = leveled_user(srv, "mona", level=1)
    m = ns(mona, "IDENTITY passport-cn E12345678 张三丰", "queued for a moderator")
    request = int(re.search(r"request (\d+)", m.last).group(1))
    rita = leveled_user(srv, "rita", level=1, caps=("standard-replies",))
    leveled_user(srv, "troll", level=1)
    rita.send("REPORT troll harassment :keeps insulting me")
    note = rita.expect("NOTE", pred=lambda m: m.params[:2] == ["REPORT", "FILED"])
    complaint = int(note.params[2])

    def approved(_):
        notice_from(mona, "NickServ", "level is now 2")
        rows = db_wait(srv, "SELECT actor, target FROM audit WHERE action = 'identity.approve'")
        assert rows == [("console:mod", "mona")], rows
        return {}

    def upheld(_):
        notice_from(rita, "ReportServ", "Your complaint %d" % complaint)
        return {}

    run_scenario("console_moderator.mjs", {
        "url": srv.console_url, "name": "mod", "password": OP_PW, "request": request,
        "complaint": complaint, "rule": RULE}, steps={"approved": approved, "upheld": upheld})

    ns(mona, "STATUS", "identity level 2 (real identity verified)")
    rows = db_wait(srv, "SELECT state, decided_by, severity, rule FROM complaints WHERE id = ?",
                   (complaint,), want=lambda r: r and r[0][0] == "upheld")
    assert rows == [("upheld", "console:mod", "general", RULE)], rows
    troll = db_wait(srv, "SELECT c.delta, c.evidence FROM credit_events c JOIN accounts a"
                         " ON a.id = c.account_id WHERE a.name = 'troll'")
    assert troll == [(-30, "complaint:%d" % complaint)], troll
    ev = log_wait(srv, "SELECT actor, body FROM events WHERE kind = 'complaint-decision'"
                       " AND target = ?", ("complaint:%d" % complaint,))
    assert len(ev) == 1 and ev[0][0] == "console:mod", ev
    assert json.loads(ev[0][1])["decision"] == "uphold", ev


def test_auditor_exports_a_bundle_that_verifies(browser_factory, tmp_path):
    srv = browser_factory(identity={"provider": "dev", "sms": "dev", "post_level": 1,
                                    "create_level": 2},
                          netlog={"checkpoint_seconds": 1})
    make_operator(srv, "aud", "auditor")
    owner = leveled_user(srv, "owner", 2)
    owner.send("JOIN #案件群")
    note = owner.expect("NOTE", pred=lambda m: m.params[:2] == ["JOIN", "GROUP_CREATED"])
    code = int(re.search(r"Group (\d+)", note.last).group(1))
    for i in range(3):
        owner.send("PRIVMSG #案件群 :证据 %d" % i)
    # a signed checkpoint covering the messages
    last = log_wait(srv, "SELECT max(seq) FROM events WHERE kind = 'msg'",
                    want=lambda r: r and r[0][0])[0][0]
    log_wait(srv, "SELECT size FROM checkpoints WHERE size >= ?", (last,), timeout=10)

    out = str(tmp_path / "download.tar")
    res = run_scenario("console_auditor.mjs", {
        "url": srv.console_url, "name": "aud", "password": OP_PW, "group": code,
        "text": "证据 2", "case": "PSB-2026-0042", "out": out})
    assert res["rows"] == 3, res
    assert res["suggested"].endswith(".tar"), res
    assert "/api/export?" in res["url"] and "case=PSB-2026-0042" in res["url"], res
    with tarfile.open(out) as t:
        names = t.getnames()
        assert all(not n.startswith("/") and ".." not in n.split("/") for n in names), names
        t.extractall(str(tmp_path / "x"))
    manifests = [os.path.dirname(n) for n in names if n.endswith("manifest.json")]
    assert len(manifests) == 1, names
    bundle = str(tmp_path / "x" / manifests[0])
    with open(os.path.join(bundle, "manifest.json")) as f:
        manifest = json.load(f)
    assert manifest["case"] == "PSB-2026-0042", manifest
    with open(os.path.join(bundle, "events.jsonl"), encoding="utf-8") as f:
        events = [json.loads(line) for line in f if line.strip()]
    texts = [json.loads(e["body"]).get("text") for e in events
             if e["kind"] == "msg" and e["body"].startswith("{")]
    assert "证据 2" in texts, events
    r = qunctl(srv, "verify-bundle", bundle, "--key", srv.netlog_key + ".pub")
    assert r.returncode == 0 and r.stdout.startswith("OK:"), (r.stdout, r.stderr)
    # the export is an access to the log, recorded with the auditor's name
    acc = log_wait(srv, "SELECT actor, body FROM events WHERE kind = 'log.access'",
                   want=lambda r: any("export" in b for _, b in r))
    assert any(a == "console:aud" and "PSB-2026-0042" in b for a, b in acc), acc
