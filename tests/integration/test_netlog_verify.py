"""test_netlog_verify.py - `qunctl verify` on a network log the daemon
really wrote (issue 5, item 4; SPEC §9).

A daemon with a checkpoint every 10 events carries a short chat in a
group, is stopped, and `qunctl verify --db ... --key ....pub` must pass
(exit 0). Then copies of the database are edited with plain SQLite, as an
attacker holding the file would: one byte of a message body changed, a
record removed, a record inserted, two records swapped. Each time verify
must exit 1 and name the first bad record by its seq.

Also: files that cannot be opened give exit 3; a verify while the daemon
runs passes and is itself recorded in the log ("log.access").

Environment: QUND and QUNCTL (set by ctest).
"""

import os
import re
import shutil
import sqlite3
import subprocess

import pytest

CHAN = "#核对"
MESSAGES = 25


def qunctl_binary():
    path = os.environ.get("QUNCTL")
    if not path:
        pytest.fail("QUNCTL is not set: run through ctest, or set QUNCTL=/path/to/qunctl")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("QUNCTL=%s is not an executable file (build qunctl first)" % path)
    return path


def verify(db, key, sock=None):
    args = [qunctl_binary()]
    if sock:
        args += ["-s", sock]
    args += ["verify", "--db", db, "--key", key]
    env = dict(os.environ)
    env.pop("QUN_CONTROL_SOCKET", None)
    return subprocess.run(args, capture_output=True, text=True, timeout=60, env=env)


def chat(srv):
    a = srv.client("核对甲")
    b = srv.client("核对乙")
    a.join(CHAN)
    b.join(CHAN)
    a.expect("JOIN", pred=lambda m: m.nick == "核对乙")
    for i in range(MESSAGES):
        a.send("PRIVMSG %s :message number %d 你好" % (CHAN, i))
        m = b.expect("PRIVMSG")
        assert m.params == [CHAN, "message number %d 你好" % i], m.raw
    srv.close_clients()


@pytest.fixture
def written_log(qund_factory, tmp_path):
    """A log written by a real daemon, copied to tmp_path once it stopped."""
    srv = qund_factory(netlog={"checkpoint_events": 10})
    chat(srv)
    assert srv.stop() == 0, srv.stderr()
    db = str(tmp_path / "netlog.db")
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(srv.netlog_path + suffix):
            shutil.copyfile(srv.netlog_path + suffix, db + suffix)
    key = str(tmp_path / "netlog.key.pub")
    shutil.copyfile(srv.netlog_key + ".pub", key)
    return srv, db, key


def copy_db(db, tmp_path, name):
    out = str(tmp_path / name)
    for suffix in ("", "-wal", "-shm"):
        if os.path.exists(db + suffix):
            shutil.copyfile(db + suffix, out + suffix)
    return out


def edit(db, *statements):
    conn = sqlite3.connect(db)
    with conn:
        for s in statements:
            conn.execute(s[0], s[1]) if isinstance(s, tuple) else conn.execute(s)
    conn.close()


def seq_of_message(db, n):
    conn = sqlite3.connect(db)
    rows = conn.execute("SELECT seq, body FROM events WHERE kind = 'msg' AND body LIKE ?",
                        ("%%message number %d %%" % n,)).fetchall()
    conn.close()
    assert len(rows) == 1, rows
    return rows[0]


def assert_names(r, seq):
    out = r.stdout + r.stderr
    assert r.returncode == 1, out
    assert re.search(r"\brecords? %d\b" % seq, out), out


def test_clean_log_verifies(written_log):
    _srv, db, key = written_log
    r = verify(db, key)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "OK" in r.stdout
    conn = sqlite3.connect(db)
    events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
    cps = conn.execute("SELECT count(*) FROM checkpoints").fetchone()[0]
    conn.close()
    assert events >= MESSAGES + 2  # the messages, two joins, ...
    assert cps >= 2  # every 10 events, and the final one at close
    assert re.search(r"events:\s+%d\b" % events, r.stdout), r.stdout
    assert re.search(r"not signed:\s+0 events", r.stdout), r.stdout


def test_changed_byte_is_named(written_log, tmp_path):
    _srv, db, key = written_log
    bad = copy_db(db, tmp_path, "changed.db")
    seq, body = seq_of_message(bad, 7)
    i = body.index("message number 7")
    forged = body[:i] + "massage" + body[i + len("message"):]
    assert len(forged) == len(body)
    edit(bad, ("UPDATE events SET body = ? WHERE seq = ?", (forged, seq)))
    r = verify(bad, key)
    assert_names(r, seq)
    assert "changed" in r.stdout + r.stderr


def test_removed_record_is_named(written_log, tmp_path):
    _srv, db, key = written_log
    bad = copy_db(db, tmp_path, "removed.db")
    seq, _ = seq_of_message(bad, 12)
    edit(bad, ("DELETE FROM events WHERE seq = ?", (seq,)))
    r = verify(bad, key)
    assert_names(r, seq)
    assert "removed" in r.stdout + r.stderr


def test_inserted_record_is_named(written_log, tmp_path):
    _srv, db, key = written_log
    bad = copy_db(db, tmp_path, "inserted.db")
    seq, _ = seq_of_message(bad, 5)
    edit(bad,
         ("UPDATE events SET seq = seq + 1000000 WHERE seq >= ?", (seq,)),
         "UPDATE events SET seq = seq - 999999 WHERE seq > 1000000",
         ("INSERT INTO events (seq, at, kind, actor, target, code, account_id, msgid, body,"
          " leaf, chain) SELECT ?, at, kind, actor, target, code, account_id, 'forged',"
          " '{\"text\":\"I never said this\"}', leaf, chain FROM events WHERE seq = ?",
          (seq, seq + 1)))
    r = verify(bad, key)
    assert_names(r, seq)
    assert "inserted" in r.stdout + r.stderr


def test_swapped_records_are_named(written_log, tmp_path):
    _srv, db, key = written_log
    bad = copy_db(db, tmp_path, "swapped.db")
    s1, _ = seq_of_message(bad, 3)
    s2, _ = seq_of_message(bad, 9)
    edit(bad,
         ("UPDATE events SET seq = -1 WHERE seq = ?", (s1,)),
         ("UPDATE events SET seq = ? WHERE seq = ?", (s1, s2)),
         ("UPDATE events SET seq = ? WHERE seq = -1", (s2,)))
    r = verify(bad, key)
    assert_names(r, s1)


def test_unreadable_files_exit_3(written_log, tmp_path):
    _srv, db, key = written_log
    r = verify(str(tmp_path / "nothing.db"), key)
    assert r.returncode == 3, r.stdout + r.stderr
    assert "nothing.db" in r.stderr
    r = verify(db, str(tmp_path / "nothing.pub"))
    assert r.returncode == 3, r.stdout + r.stderr
    assert "nothing.pub" in r.stderr


def test_verify_while_running_is_recorded(qund_factory):
    srv = qund_factory(netlog={"checkpoint_events": 10})
    chat(srv)
    r = verify(srv.netlog_path, srv.netlog_key + ".pub", sock=srv.control_path)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "note:" not in r.stderr, r.stderr  # the daemon recorded the access
    assert srv.stop() == 0, srv.stderr()
    conn = sqlite3.connect(srv.netlog_path)
    rows = conn.execute("SELECT body FROM events WHERE kind = 'log.access'").fetchall()
    conn.close()
    assert any("verify" in (b or "") for (b,) in rows), rows
    # and the log, with that access in it, still verifies
    r = verify(srv.netlog_path, srv.netlog_key + ".pub")
    assert r.returncode == 0, r.stdout + r.stderr
