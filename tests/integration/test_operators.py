"""test_operators.py - console operator accounts through qunctl (issue 7
item 3; docs/console.md): operators.create, .list, .disable and .passwd.

What an administrator relies on:

  1. `qunctl operators create NAME --role R` reads the password from stdin
     (one line) or the terminal, never from the command line, and the store
     keeps only an argon2id hash of it;
  2. `operators list` shows name, role, creator and state; `disable` and
     `passwd` change them; bad names, roles, short passwords and duplicates
     are refused with a sentence;
  3. only administrators may do any of it: a unix user with the moderator
     role is refused (run as `nobody`, given access to the socket);
  4. every change is a network-log event ("audit.operator.*") naming the
     actor, and neither the password nor its hash is anywhere in the log.

Runs as root (like the other qunctl tests): root is "unix:root".
"""

import grp
import json
import os
import sqlite3
import subprocess

import pytest

from conftest import RUN_USER
from identity_helpers import db_wait

PW1 = "correct horse battery staple"
PW2 = "another long passphrase 2"


def qunctl(srv, *args, stdin=None, user=None, extra_groups=None):
    path = os.environ.get("QUNCTL")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("QUNCTL is not set to an executable qunctl (QUNCTL=%r)" % path)
    kw = {}
    if user:
        kw = {"user": user, "group": user if user != "nobody" else "nogroup",
              "extra_groups": extra_groups or []}
    return subprocess.run([os.path.abspath(path), "-s", srv.control_path] + list(args),
                          input=stdin if stdin is not None else "", capture_output=True,
                          text=True, timeout=60, **kw)


def ok_json(r):
    assert r.returncode == 0, (r.stdout, r.stderr)
    return json.loads(r.stdout)


def netlog_events(srv, prefix):
    srv.log_sync()
    conn = sqlite3.connect("file:%s?mode=ro" % srv.netlog_path, uri=True, timeout=5)
    try:
        return conn.execute("SELECT kind, actor, target, body FROM events WHERE kind LIKE ?"
                            " ORDER BY seq", (prefix + "%",)).fetchall()
    finally:
        conn.close()


def netlog_all_text(srv):
    srv.log_sync()
    conn = sqlite3.connect("file:%s?mode=ro" % srv.netlog_path, uri=True, timeout=5)
    try:
        rows = conn.execute("SELECT kind, actor, target, body FROM events").fetchall()
    finally:
        conn.close()
    return "\n".join(" ".join(str(c) for c in r) for r in rows)


@pytest.fixture
def srv(qund_factory):
    if os.geteuid() != 0:
        pytest.fail("this test runs qunctl as another unix user and must run as root")
    return qund_factory(control={"moderators": ["nobody"]})


def test_create_list_disable_passwd(srv):
    # 1. create with the password on stdin
    r = qunctl(srv, "--json", "operators", "create", "alice", "--role", "moderator",
               stdin=PW1 + "\n")
    made = ok_json(r)
    assert made["name"] == "alice" and made["role"] == "moderator"
    assert made["created_by"] == "unix:root" and made["disabled"] is False
    assert PW1 not in r.stdout + r.stderr
    ok_json(qunctl(srv, "--json", "operators", "create", "bob", "--role", "auditor",
                   stdin=PW2 + "\r\n"))

    # the store has an argon2id hash, not the password
    rows = db_wait(srv, "SELECT name, role, password_hash, created_by, disabled_at"
                        " FROM operators ORDER BY name", want=lambda rows: len(rows) == 2)
    assert [(n, role) for n, role, *_ in rows] == [("alice", "moderator"), ("bob", "auditor")]
    for _n, _role, h, by, dis in rows:
        assert h.startswith("$argon2id$v=19$"), h
        assert PW1 not in h and PW2 not in h
        assert by == "unix:root" and dis is None

    # 2. list
    listed = ok_json(qunctl(srv, "--json", "operators", "list"))
    assert [(o["name"], o["role"], o["disabled"]) for o in listed] == [
        ("alice", "moderator", False), ("bob", "auditor", False)]
    text = qunctl(srv, "operators", "list")
    assert text.returncode == 0 and "alice" in text.stdout and "moderator" in text.stdout

    # refusals: duplicate, bad name, bad role, short password, empty stdin
    r = qunctl(srv, "operators", "create", "alice", "--role", "auditor", stdin=PW1 + "\n")
    assert r.returncode == 1 and "exists" in r.stderr
    r = qunctl(srv, "operators", "create", "Bad Name", "--role", "auditor", stdin=PW1 + "\n")
    assert r.returncode == 1 and "operator name" in r.stderr
    r = qunctl(srv, "operators", "create", "carol", "--role", "root", stdin=PW1 + "\n")
    assert r.returncode == 1 and "administrator, moderator or auditor" in r.stderr
    r = qunctl(srv, "operators", "create", "carol", "--role", "auditor", stdin="short\n")
    assert r.returncode == 1 and "12 to 512 bytes" in r.stderr
    r = qunctl(srv, "operators", "create", "carol", "--role", "auditor", stdin="")
    assert r.returncode == 2 and "stdin" in r.stderr
    # there is no way to give the password as an argument
    r = qunctl(srv, "operators", "create", "carol", "--role", "auditor", "--password", PW1)
    assert r.returncode == 2 and "unknown option" in r.stderr
    assert "carol" not in [o["name"] for o in ok_json(qunctl(srv, "--json", "operators", "list"))]

    # 3. passwd: a new hash
    before = rows[0][2]
    ok_json(qunctl(srv, "--json", "operators", "passwd", "alice", stdin=PW2 + "\n"))
    after = db_wait(srv, "SELECT password_hash FROM operators WHERE name = 'alice'",
                    want=lambda rows: rows and rows[0][0] != before)[0][0]
    assert after != before and after.startswith("$argon2id$")
    r = qunctl(srv, "operators", "passwd", "nosuch", stdin=PW2 + "\n")
    assert r.returncode == 1 and "no operator" in r.stderr

    # 4. disable
    d = ok_json(qunctl(srv, "--json", "operators", "disable", "bob"))
    assert d["disabled"] is True and d["disabled_at"] > 0
    r = qunctl(srv, "operators", "disable", "bob")
    assert r.returncode == 1 and "disabled" in r.stderr
    rows = db_wait(srv, "SELECT disabled_by FROM operators WHERE name = 'bob'",
                   want=lambda rows: rows and rows[0][0])
    assert rows[0][0] == "unix:root"
    listed = ok_json(qunctl(srv, "--json", "operators", "list"))
    assert [(o["name"], o["disabled"]) for o in listed] == [("alice", False), ("bob", True)]

    # the network log: one event per change, with the actor, no secret
    events = netlog_events(srv, "audit.operator.")
    assert [(k, a, t) for k, a, t, _b in events] == [
        ("audit.operator.create", "unix:root", "alice"),
        ("audit.operator.create", "unix:root", "bob"),
        ("audit.operator.passwd", "unix:root", "alice"),
        ("audit.operator.disable", "unix:root", "bob")]
    assert json.loads(events[0][3]) == {"operator": "alice", "role": "moderator"}
    everything = netlog_all_text(srv)
    for secret in (PW1, PW2, after, before, "argon2"):
        assert secret not in everything
    # nor in the daemon's own log
    for secret in (PW1, PW2, after, before):
        assert secret not in srv.stderr()
    assert "control: unix:root operators.create" in srv.stderr()

    # the state survives a restart (loaded from the store)
    srv.stop()
    srv.start()
    listed = ok_json(qunctl(srv, "--json", "operators", "list"))
    assert [(o["name"], o["role"], o["disabled"]) for o in listed] == [
        ("alice", "moderator", False), ("bob", "auditor", True)]


def test_non_administrator_refused(srv):
    # let `nobody` (a moderator here) reach the socket: group qun, 0750 dir
    qun_gid = grp.getgrnam(RUN_USER).gr_gid
    os.chmod(srv.datadir, 0o750)
    os.chown(srv.datadir, -1, qun_gid)
    who = ok_json(qunctl(srv, "--json", "whoami", user="nobody", extra_groups=[qun_gid]))
    assert who["roles"] == ["moderator"]
    for args, stdin in ((("operators", "create", "mallory", "--role", "administrator"),
                         PW1 + "\n"),
                        (("operators", "list"), ""),
                        (("operators", "disable", "alice"), ""),
                        (("operators", "passwd", "alice"), PW1 + "\n")):
        r = qunctl(srv, *args, stdin=stdin, user="nobody", extra_groups=[qun_gid])
        assert r.returncode == 1, (args, r.stdout, r.stderr)
        assert "forbidden" in r.stderr and "administrator" in r.stderr, r.stderr
    rows = db_wait(srv, "SELECT count(*) FROM operators", want=lambda rows: True)
    assert rows[0][0] == 0
    assert netlog_events(srv, "audit.operator.") == []
