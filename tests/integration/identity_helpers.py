"""identity_helpers.py - getting test users to an identity level through the
real daemon, shared by the group and moderation tests; read-only queries on
the store and the network log (db_rows, log_rows and their polling *_wait);
and qunctl and the test-only moderation clock.

Users register with NickServ, confirm the phone code the development SMS
sender writes to the daemon's log, and submit a valid resident ID (each one
different, so the per-identity limit does not get in the way).
"""

import json
import os
import re
import sqlite3
import subprocess
import time

import pytest

CODE_RE = re.compile(r"dev SMS to \S+ for account (\S+): code (\d{6})")
PASSWORD = "group-test-password"
REAL_NAME = "测试用户"
_serial = [0]


def mod11_2(first17):
    """The ISO 7064 MOD 11-2 check character of a resident ID."""
    weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
    total = sum(int(d) * w for d, w in zip(first17, weights))
    return "10X98765432"[total % 11]


def next_serial():
    _serial[0] += 1
    return _serial[0]


def new_id():
    """A valid, not yet used resident ID number."""
    n = next_serial()
    first17 = "110105199001%02d%03d" % (1 + n % 28, 100 + n % 900)
    return first17 + mod11_2(first17)


def ns(c, text, want, timeout=10.0):
    """/msg NickServ text; returns the NickServ NOTICE containing want."""
    c.send("PRIVMSG NickServ :%s" % text)
    return c.expect("NOTICE", timeout, pred=lambda m: m.nick == "NickServ" and want in m.last,
                    what="a NickServ NOTICE with %r" % want)


def wait_code(srv, account, timeout=5.0):
    """The newest code the dev SMS sender logged for account."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        codes = [c for a, c in CODE_RE.findall(srv.stderr()) if a == account]
        if codes:
            return codes[-1]
        time.sleep(0.02)
    raise AssertionError("no dev SMS code for %s in the log" % account)


def leveled_user(srv, nick, level=2, caps=("standard-replies",)):
    """A client logged in to account `nick` at the identity level asked."""
    phone = "+861380000%04d" % next_serial()
    c = srv.client(nick, caps=caps)
    ns(c, "REGISTER %s %s" % (PASSWORD, phone), "created")
    if level >= 1:
        ns(c, "VERIFY %s" % wait_code(srv, nick), "identity level 1")
    if level >= 2:
        ns(c, "IDENTITY cn-id %s %s" % (new_id(), REAL_NAME), "identity level 2")
    return c


def _read_only(path, sql, args):
    conn = sqlite3.connect("file:%s?mode=ro" % path, uri=True, timeout=5)
    try:
        return conn.execute(sql, args).fetchall()
    finally:
        conn.close()


def _poll(rows_of, want, timeout):
    """Changes reach the databases on writer threads after the answer: poll
    until want(rows) holds (or time out) and return the rows."""
    deadline = time.monotonic() + timeout
    while True:
        rows = rows_of()
        if want(rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.05)


def db_rows(srv, sql, args=()):
    """A read-only query: the audit and sessions views are in the network
    log's file, everything else in the store's."""
    if re.search(r"FROM (audit|sessions)\b", sql):
        return log_rows(srv, sql, args)
    return _read_only(srv.db_path, sql, args)


def db_wait(srv, sql, args=(), want=lambda rows: rows, timeout=5.0):
    """db_rows until want(rows) holds (or timeout seconds pass)."""
    return _poll(lambda: db_rows(srv, sql, args), want, timeout)


def log_rows(srv, sql, args=()):
    """A read-only query on the network log's file (events, checkpoints),
    after `qunctl log sync` (QundServer.log_sync)."""
    srv.log_sync()
    return _read_only(srv.netlog_path, sql, args)


def log_wait(srv, sql, args=(), want=lambda rows: rows, timeout=5.0):
    """log_rows until want(rows) holds (or timeout seconds pass)."""
    return _poll(lambda: log_rows(srv, sql, args), want, timeout)


def qunctl(srv, *args):
    """Runs qunctl against srv's control socket; returns the CompletedProcess."""
    path = os.environ.get("QUNCTL")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("QUNCTL is not set to an executable qunctl (QUNCTL=%r)" % path)
    return subprocess.run([os.path.abspath(path), "-s", srv.control_path] + list(args),
                          capture_output=True, text=True, timeout=30)


def qunctl_json(srv, *args):
    """qunctl --json; asserts success and returns the parsed result."""
    r = qunctl(srv, "--json", *args)
    assert r.returncode == 0, (args, r.stdout, r.stderr)
    return json.loads(r.stdout)


def clock_advance(srv, seconds):
    """Moves the daemon's moderation clock forward (test builds only) and
    runs its periodic jobs: deadlines, timed sanctions, recovery."""
    return qunctl_json(srv, "test", "clock-advance", str(int(seconds)))["now"]
