"""faults_helpers.py - what every fault test checks afterwards (issue 8,
item 2; docs/operations.md "Fault tests"):

  * the daemon keeps working: a fresh pair of clients registers, joins a
    group and chats (assert_serves);
  * nothing received is lost: every msgid a client received is in the
    network log (assert_logged), and `qunctl verify` passes (verify_log);
  * memory stays bounded: the daemon's peak RSS (VmHWM in
    /proc/<pid>/status) is below a bound, and the figure is printed in the
    test output (check_rss).

RSS under AddressSanitizer: the shadow memory and the allocator's
quarantine (256 MiB by default) make freed memory look resident, so the
fault tests start ASan builds of qund with a small quarantine
(daemon_env) and bound the growth over the daemon's start-up figure as
well as the peak itself.
"""

import json
import os
import subprocess

import pytest

from identity_helpers import log_rows

_asan = {}


def qund_is_asan():
    path = os.environ.get("QUND", "")
    if path not in _asan:
        try:
            with open(path, "rb") as f:
                _asan[path] = b"AddressSanitizer" in f.read()
        except OSError:
            _asan[path] = False
    return _asan[path]


def daemon_env(extra=None):
    """Environment for a fault-test daemon: a 16 MiB ASan quarantine so
    peak RSS measures the daemon, not freed memory ASan keeps."""
    env = dict(extra or {})
    if qund_is_asan():
        base = os.environ.get("ASAN_OPTIONS", "")
        env["ASAN_OPTIONS"] = (base + ":" if base else "") + "quarantine_size_mb=16"
    return env


def status_kib(srv, field):
    """A /proc/<pid>/status figure in KiB (VmHWM: peak RSS; VmRSS: now)."""
    with open("/proc/%d/status" % srv.proc.pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise AssertionError("no %s in /proc/%d/status" % (field, srv.proc.pid))


def baseline(srv):
    """Resets the daemon's peak RSS to its current RSS (writing 5 to
    /proc/<pid>/clear_refs; start-up hashes with argon2id and peaks well
    above the steady state) and returns it, in KiB: the peak measured
    later is the peak of the fault."""
    try:
        with open("/proc/%d/clear_refs" % srv.proc.pid, "w") as f:
            f.write("5")
    except OSError as e:
        pytest.fail("cannot reset qund's peak RSS (/proc/%d/clear_refs): %s" % (srv.proc.pid, e))
    return status_kib(srv, "VmHWM")


def check_rss(capsys, srv, label, base_kib, max_growth_mib, max_peak_mib):
    """Prints the peak RSS and asserts it and its growth over base_kib."""
    peak = status_kib(srv, "VmHWM")
    now = status_kib(srv, "VmRSS")
    line = ("[fault rss] %s: peak %.1f MiB, now %.1f MiB, before %.1f MiB, growth %.1f MiB%s"
            % (label, peak / 1024, now / 1024, base_kib / 1024, (peak - base_kib) / 1024,
               " (ASan build)" if qund_is_asan() else ""))
    with capsys.disabled():
        print("\n" + line)
    if qund_is_asan():
        max_peak_mib *= 4  # shadow memory and redzones
    assert peak - base_kib <= max_growth_mib * 1024, line
    assert peak <= max_peak_mib * 1024, line
    return peak


def assert_serves(srv, tag):
    """A fresh client registers, joins a group and chats with another."""
    a = srv.client(tag + "a")
    b = srv.client(tag + "b")
    chan = "#ok" + tag
    a.join(chan)
    b.join(chan)
    a.expect("JOIN", pred=lambda m: m.nick == b.nick)
    a.send("PRIVMSG %s :still serving %s" % (chan, tag))
    m = b.expect("PRIVMSG", timeout=10)
    assert m.last == "still serving " + tag, m.raw
    a.close()
    b.close()


def assert_logged(srv, msgids):
    """Every msgid in msgids is a message event in the network log."""
    logged = {r[0] for r in log_rows(srv, "SELECT msgid FROM events WHERE msgid IS NOT NULL")}
    missing = [m for m in msgids if m not in logged]
    assert not missing, "%d received messages are not in the log: %r" % (len(missing),
                                                                         missing[:5])


def qunctl(*args):
    path = os.environ.get("QUNCTL")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("QUNCTL is not set to an executable qunctl (QUNCTL=%r)" % path)
    env = dict(os.environ)
    env.pop("QUN_CONTROL_SOCKET", None)
    return subprocess.run([os.path.abspath(path)] + list(args), capture_output=True, text=True,
                          timeout=120, env=env)


def verify_log(srv):
    """`qunctl verify` on the daemon's network log must pass."""
    r = qunctl("verify", "--db", srv.netlog_path, "--key", srv.netlog_key + ".pub")
    assert r.returncode == 0, r.stdout + r.stderr


def message_texts(srv, target):
    return [json.loads(r[0])["text"] for r in log_rows(
        srv, "SELECT body FROM events WHERE kind = 'msg' AND target = ? ORDER BY seq", (target,))]
