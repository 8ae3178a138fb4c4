"""test_ctl_web.py - the control commands the web console needs, through
qunctl against the real daemon (src/ctl/ctl_logquery.c):

  1. `status` counts change when a user logs in and a group is created,
     after a complaint and after a report; the network log part follows
     the log (last and durable seq, checkpoint).
  2. `log search` filters by group, account, text, time and kind with the
     limit; `audit list` shows an operator action by its actor.
  3. `log export` returns a base64 ustar archive whose size and sha256
     match; `tar -xf` extracts it and `qunctl verify-bundle DIR --key
     <netlog key .pub>` accepts it.
  4. log.export is for auditors only: an administrator who is not an
     auditor is refused; bad filters and limits get clear errors.
  5. every search, audit listing and export is a log.access event.
"""
import base64
import hashlib
import io
import json
import os
import re
import subprocess
import tarfile
import time

from identity_helpers import leveled_user, log_rows, log_wait, qunctl, qunctl_json
from test_groups import group_server, join_ok
from test_identity import my_name

TAGS = ("standard-replies", "echo-message", "message-tags")


def ctl_server(qund_factory, auditor=True):
    return group_server(qund_factory, control={"auditors": [my_name() if auditor
                                                            else "nobody-such-user"]},
                        netlog={"checkpoint_seconds": 1},
                        reports={"spool_dir": "data/reports"})


def accesses(srv, what):
    return [json.loads(b) for (b,) in log_rows(
        srv, "SELECT body FROM events WHERE kind = 'log.access' AND target = ? ORDER BY seq",
        (what,))]


def say(c, chan, text):
    c.send("PRIVMSG %s :%s" % (chan, text))
    return c.expect("PRIVMSG", pred=lambda m: m.nick == c.nick and m.last == text)


def wait_status(srv, pred, timeout=5.0):
    deadline = time.monotonic() + timeout
    while True:
        st = qunctl_json(srv, "status")
        if pred(st) or time.monotonic() > deadline:
            return st
        time.sleep(0.1)


def test_status_follows_the_server(qund_factory):
    srv = ctl_server(qund_factory)
    st0 = qunctl_json(srv, "status")
    for key in ("version", "uptime_s", "clients", "accounts", "groups", "identity",
                "complaints", "appeals", "netlog", "reports", "emergency"):
        assert key in st0, (key, st0)
    assert "partial" not in st0, st0
    assert st0["accounts"]["logged_in"] == 0 and st0["groups"]["live"] == 0, st0
    assert st0["identity"]["queue"] == 0 and st0["appeals"]["pending"] == 0, st0
    assert st0["emergency"]["on"] is False, st0
    assert st0["netlog"]["healthy"] is True, st0

    owner = leveled_user(srv, "owner", 2, caps=TAGS)
    owner.send("JOIN #看板")
    note = owner.expect("NOTE", pred=lambda m: m.params[:2] == ["JOIN", "GROUP_CREATED"])
    code = int(re.search(r"Group (\d+) created", note.last).group(1))
    member = leveled_user(srv, "member", 1)
    join_ok(member, "#看板")
    st1 = qunctl_json(srv, "status")
    assert st1["accounts"]["logged_in"] == 2, st1
    assert st1["clients"]["registered"] >= 2, st1
    assert st1["groups"]["live"] == 1, st1
    assert st1["netlog"]["last_seq"] > st0["netlog"]["last_seq"], (st0, st1)

    # a complaint about a message: open at the group stage
    msg = say(owner, "#看板", "look here")
    member.send("REPORT %s spam :advertising" % msg.tags["msgid"])
    member.expect("NOTE", pred=lambda m: m.params[:2] == ["REPORT", "FILED"])
    st2 = qunctl_json(srv, "status")
    assert st2["complaints"]["open_group"] == st1["complaints"]["open_group"] + 1, st2

    # a report to the authority
    before = sum(st2["reports"].values())
    qunctl_json(srv, "reports", "create", "--group", str(code), "--reason", "rule 3",
                "--measures", "closed")
    st3 = wait_status(srv, lambda s: sum(s["reports"].values()) == before + 1)
    assert sum(st3["reports"].values()) == before + 1, st3

    # the emergency switch
    qunctl_json(srv, "emergency", "on", "--message", "maintenance")
    st4 = qunctl_json(srv, "status")
    assert st4["emergency"]["on"] is True and st4["emergency"]["switches"][0]["scope"] == "all"
    qunctl_json(srv, "emergency", "off")

    # the log's checkpoint follows (every second here)
    st5 = wait_status(srv, lambda s: s["netlog"]["checkpoint_size"] > 0 and
                      s["netlog"]["durable_seq"] == s["netlog"]["last_seq"])
    assert 0 < st5["netlog"]["checkpoint_size"] <= st5["netlog"]["durable_seq"], st5
    assert st5["netlog"]["checkpoint_at"] > 0, st5
    # every journal write + sync is timed; none of these was slow enough to count
    assert 0 < st5["netlog"]["journal_sync_max_us"] < 60_000_000, st5
    assert st5["netlog"]["journal_syncs_slow"] <= st5["netlog"]["commits"], st5
    # every turn of the event loop is timed (util/loopwatch.c)
    loop = st5["loop"]
    assert loop["iterations"] > 0 and 0 < loop["busy_max_us"] < 60_000_000, loop
    assert loop["stalls"] <= loop["iterations"], loop
    # and what the longest turn did, in the counters the daemon tracks
    names = {"reads", "writes", "accepted connections", "closed connections", "command lines",
             "registrations", "events the log released", "database answers"}
    did = loop["busiest_did"]
    assert did == "nothing it counts" or all(
        re.fullmatch(r"[1-9][0-9]*", part.split(" ", 1)[0]) and part.split(" ", 1)[1] in names
        for part in did.split(", ")), loop

    # nothing above read the log: no log.access
    assert accesses(srv, "search") == [] and accesses(srv, "export") == []


def world(qund_factory, auditor=True):
    srv = ctl_server(qund_factory, auditor)
    owner = leveled_user(srv, "owner", 2, caps=TAGS)
    owner.send("JOIN #检索群")
    note = owner.expect("NOTE", pred=lambda m: m.params[:2] == ["JOIN", "GROUP_CREATED"])
    code = int(re.search(r"Group (\d+) created", note.last).group(1))
    talker = leveled_user(srv, "talker", 1, caps=TAGS)
    join_ok(talker, "#检索群")
    for i in range(6):
        say(talker, "#检索群", "message %d %s" % (i, "needle" if i % 2 else "hay"))
    say(owner, "#检索群", "owner speaks needle")
    return srv, code, owner, talker


def test_search_and_audit(qund_factory):
    srv, code, owner, talker = world(qund_factory)
    res = qunctl_json(srv, "log", "search", "--group", str(code), "--kind", "msg")
    msgs = [e for e in res["events"]]
    assert len(msgs) == 7 and res["count"] == 7 and not res["truncated"], res
    assert set(msgs[0]) >= {"seq", "at", "kind", "actor", "target", "code", "account_id",
                            "msgid", "body"}, msgs[0]
    assert [e["seq"] for e in msgs] == sorted(e["seq"] for e in msgs)
    # by account (name), with text
    res = qunctl_json(srv, "log", "search", "--account", "talker", "--text", "needle",
                      "--kind", "msg")
    assert res["count"] == 3 and all("needle" in e["body"] for e in res["events"]), res
    assert all(e["actor"].startswith("talker!") for e in res["events"]), res
    # by #name and text: the owner's message too
    res = qunctl_json(srv, "log", "search", "--group", "#检索群", "--text", "needle")
    assert res["count"] == 4, res
    # the limit, newest first
    res = qunctl_json(srv, "log", "search", "--group", str(code), "--kind", "msg",
                      "--limit", "2", "--order", "desc")
    assert res["count"] == 2 and res["truncated"] and res["limit"] == 2, res
    assert "owner speaks" in res["events"][0]["body"], res
    # a time window: from the third message on
    all_msgs = qunctl_json(srv, "log", "search", "--group", str(code), "--kind", "msg")["events"]
    t = all_msgs[2]["at"]
    res = qunctl_json(srv, "log", "search", "--group", str(code), "--kind", "msg",
                      "--from", str(t))
    assert res["count"] == len([e for e in all_msgs if e["at"] >= t]), res
    res = qunctl_json(srv, "log", "search", "--group", str(code), "--to", "2000-01-01")
    assert res["count"] == 0, res
    # bad arguments are refused clearly
    r = qunctl(srv, "log", "search", "--limit", "1001")
    assert r.returncode == 1 and "1 to 1000" in r.stderr, r.stderr
    r = qunctl(srv, "log", "search", "--from", "yesterday")
    assert r.returncode == 1 and "from must be" in r.stderr, r.stderr

    # an operator action, then audit list by its actor
    actor = "unix:" + my_name()
    qunctl_json(srv, "accounts", "suspend", "talker", "--reason", "test suspension")
    res = qunctl_json(srv, "audit", "list", "--actor", actor, "--limit", "50")
    kinds = [e["kind"] for e in res["events"]]
    assert any(k.startswith("audit.") and "suspend" in k for k in kinds), kinds
    assert "log.access" in kinds, kinds  # the searches above
    assert all(e["actor"] == actor for e in res["events"]), res
    assert "msg" not in kinds, kinds
    ats = [e["at"] for e in res["events"]]
    assert ats == sorted(ats, reverse=True), ats

    # every read is recorded, with its query and count
    searches = accesses(srv, "search")
    assert len(searches) >= 7, searches
    assert searches[0]["query"]["group_code"] == code and searches[0]["count"] == 7
    audits = log_wait(srv, "SELECT actor, body FROM events WHERE kind = 'log.access'"
                           " AND target = 'audit.list'")
    assert audits and audits[0][0] == actor, audits


def test_export_archive_verifies(qund_factory, tmp_path):
    srv, code, owner, talker = world(qund_factory)
    # wait for a checkpoint covering the messages
    last = log_rows(srv, "SELECT max(seq) FROM events")[0][0]
    log_wait(srv, "SELECT size FROM checkpoints WHERE size >= ?", (last,), timeout=10)
    res = qunctl_json(srv, "log", "export", "--case", "PSB-2026/7", "--group", str(code))
    assert res["encoding"] == "base64" and res["name"] == "case-PSB-2026_7.tar", res
    raw = base64.b64decode(res["archive"])
    assert len(raw) == res["size"] and hashlib.sha256(raw).hexdigest() == res["sha256"]
    assert res["events"] >= 7, res
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:
        names = t.getnames()
    assert sorted(names) == ["case-PSB-2026_7", "case-PSB-2026_7/events.jsonl",
                             "case-PSB-2026_7/key.pub", "case-PSB-2026_7/manifest.json"], names
    path = tmp_path / "case.tar"
    path.write_bytes(raw)
    listed = subprocess.run(["tar", "-tf", str(path)], capture_output=True, text=True)
    assert listed.returncode == 0 and "case-PSB-2026_7/manifest.json" in listed.stdout
    out = tmp_path / "x"
    out.mkdir()
    assert subprocess.run(["tar", "-xf", str(path), "-C", str(out)]).returncode == 0
    bundle = out / "case-PSB-2026_7"
    manifest = json.loads((bundle / "manifest.json").read_text())
    assert manifest["case"] == "PSB-2026/7" and manifest["query"]["group_code"] == code
    r = qunctl(srv, "verify-bundle", str(bundle), "--key", srv.netlog_key + ".pub")
    assert r.returncode == 0 and r.stdout.startswith("OK:"), (r.stdout, r.stderr)

    # recorded with the case id
    exports = accesses(srv, "export")
    assert len(exports) == 1 and exports[0]["case"] == "PSB-2026/7", exports
    assert exports[0]["count"] == res["events"], exports

    # a case id and a group or account are required
    r = qunctl(srv, "log", "export", "--case", "C-1")
    assert r.returncode == 1 and "group or account" in r.stderr, r.stderr
    r = qunctl(srv, "log", "export", "--group", str(code))
    assert r.returncode == 2 and "--case" in r.stderr, r.stderr


def test_roles(qund_factory):
    srv, code, owner, talker = world(qund_factory, auditor=False)
    # an administrator who is not an auditor: no export, search and audit list allowed
    r = qunctl(srv, "log", "export", "--case", "C-1", "--group", str(code))
    assert r.returncode == 1 and "forbidden" in r.stderr, r.stderr
    assert accesses(srv, "export") == []
    assert qunctl_json(srv, "log", "search", "--group", str(code))["count"] > 0
    assert qunctl_json(srv, "audit", "list")["count"] > 0
    help_text = qunctl(srv, "help").stdout
    for cmd in ("status", "log.search", "audit.list", "log.export"):
        assert cmd in help_text, help_text
