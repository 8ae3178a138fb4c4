"""test_storage.py - qund opens its store and identity vault at start-up.

What an operator relies on (docs/configuration.md, store and vault groups):

  1. the first start creates the vault key file (mode 0600, 32 bytes) and
     the database (private to qund's user), with every schema migration
     applied;
  2. a restart reuses both: the same key, no migration run again;
  3. a key file others can read stops qund with a sentence that names the
     file and says how to fix it;
  4. key bytes never reach the log, in raw or hex form.

The key is compared and searched for, never printed: assertion messages
carry lengths and the log only.
"""

import os
import re
import sqlite3
import stat
import subprocess

from conftest import STOP_TIMEOUT

STORE_LINE = re.compile(r"store (\S+) open at schema version (\d+) \((\d+) migration")


def _read_key(path):
    with open(path, "rb") as f:
        return f.read()


def _user_version(db_path):
    """PRAGMA user_version through a read-only URI connection (the daemon
    may hold the file open; a read-only reader does not disturb it)."""
    conn = sqlite3.connect("file:%s?mode=ro" % db_path, uri=True)
    try:
        return conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()


def _store_line(srv):
    found = STORE_LINE.findall(srv.stderr())
    assert found, "no 'store ... open at schema version' line:\n" + srv.stderr()
    path, version, applied = found[-1]
    return path, int(version), int(applied)


def _assert_key_not_logged(srv, key):
    text = srv.stderr()
    with open(srv.stderr_path, "rb") as f:
        raw = f.read()
    assert key not in raw, "the raw vault key appears in qund's stderr"
    for form in (key.hex(), key.hex().upper()):
        assert form not in text, "the vault key appears in hex in qund's stderr"


def _restart(srv):
    assert srv.stop() == 0, srv.stderr()
    assert "store closed" in srv.stderr(), "the store was not closed at shutdown:\n" + srv.stderr()
    srv.start()


def test_first_start_creates_key_and_database(server):
    st = os.stat(server.key_path)
    assert stat.S_ISREG(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o600, oct(st.st_mode)
    assert st.st_size == 32
    assert os.path.isfile(server.db_path)
    db_mode = stat.S_IMODE(os.stat(server.db_path).st_mode)
    assert db_mode & 0o077 == 0, "database mode %o lets others read it" % db_mode
    path, version, applied = _store_line(server)
    assert path == server.db_path
    # A fresh database gets every step, so the version reached is the
    # latest the program knows.
    assert version >= 1 and applied == version, (version, applied)
    assert _user_version(server.db_path) == version
    _assert_key_not_logged(server, _read_key(server.key_path))


def test_restart_keeps_the_key_and_the_schema(server):
    key = _read_key(server.key_path)
    _, version, _ = _store_line(server)
    _restart(server)
    assert _read_key(server.key_path) == key, "the vault key file changed across a restart"
    assert stat.S_IMODE(os.stat(server.key_path).st_mode) == 0o600
    _, version2, applied2 = _store_line(server)
    assert (version2, applied2) == (version, 0)
    assert _user_version(server.db_path) == version
    # The server still serves after reopening its storage.
    server.client("alice")
    _assert_key_not_logged(server, key)


def test_group_readable_key_file_is_refused(server):
    key = _read_key(server.key_path)
    assert server.stop() == 0, server.stderr()
    os.chmod(server.key_path, 0o644)
    with open(server.stderr_path, "wb") as errf:
        proc = subprocess.run([server.binary, "-c", server.config_path], cwd=server.workdir,
                              stdin=subprocess.DEVNULL, stdout=errf, stderr=errf,
                              timeout=STOP_TIMEOUT * 2)
    err = server.stderr()
    assert proc.returncode == 1, err
    lines = [x for x in err.splitlines() if server.key_path in x]
    assert lines, "no log line names the key file:\n" + err
    assert any("chmod 600" in x or "chmod 0600" in x for x in lines), err
    assert "qund ready" not in err, err
    for marker in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
        assert marker not in err, err
    # The vault refuses; it never repairs or replaces the file.
    assert _read_key(server.key_path) == key
    assert stat.S_IMODE(os.stat(server.key_path).st_mode) == 0o644
    _assert_key_not_logged(server, key)
    # With the mode fixed as the message says, it starts again (and the
    # fixture's teardown checks it stops cleanly).
    os.chmod(server.key_path, 0o600)
    server.start()
    assert _read_key(server.key_path) == key
