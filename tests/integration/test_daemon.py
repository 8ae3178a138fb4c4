"""The daemon's life as an operator sees it: systemd readiness
notifications, switching away from root, refusing to stay root."""

import os
import pwd
import signal
import socket
import subprocess
import time

from conftest import (HOST, RUN_USER, SERVER_NAME, make_data_dir, make_world_readable_dir,
                      pick_port, port_listening, qund_binary, render_config,
                      require_run_user, storage_config, write_file)


def _config(port, workdir, with_user=True):
    server = {"name": SERVER_NAME, "network": "QunTest", "development": True}
    if with_user and os.geteuid() == 0:
        server["user"] = RUN_USER
    cfg = {"server": server, "listen": [{"address": HOST, "port": port, "tls": False}]}
    cfg.update(storage_config(make_data_dir(os.path.join(workdir, "data"))))
    return render_config(cfg)


def _notify_socket(workdir):
    """A datagram socket standing in for systemd's notification socket; the
    daemon writes to it after dropping root, so it must be writable by all."""
    path = os.path.join(workdir, "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    os.chmod(path, 0o777)
    sock.settimeout(5.0)
    return sock, path


def _expect_notification(sock, word):
    seen = []
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        data = sock.recv(4096).decode()
        seen.append(data)
        if word in data.split("\n"):
            return
    raise AssertionError("no %s notification; got %r" % (word, seen))


def _uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError("no Uid line")


def test_readiness_reload_and_stop_are_notified_and_root_is_dropped():
    require_run_user()
    workdir = make_world_readable_dir("qund-daemon-")
    port = pick_port()
    conf = os.path.join(workdir, "qund.conf")
    write_file(conf, _config(port, workdir))
    sock, path = _notify_socket(workdir)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    proc = subprocess.Popen([qund_binary(), "-c", conf], cwd=workdir, env=env,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        _expect_notification(sock, "READY=1")
        assert port_listening(port)
        uids = _uid_of(proc.pid)
        if os.geteuid() == 0:
            want = pwd.getpwnam(RUN_USER).pw_uid
            assert uids == [want] * 4, uids  # real, effective, saved, fs
        else:
            assert uids[1] == os.geteuid()
        proc.send_signal(signal.SIGHUP)
        _expect_notification(sock, "RELOADING=1")
        _expect_notification(sock, "READY=1")
        proc.send_signal(signal.SIGTERM)
        _expect_notification(sock, "STOPPING=1")
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        out = proc.communicate()[0].decode("utf-8", "replace")
        sock.close()
    assert "qund ready" in out and "qund stopped" in out, out


def test_root_without_a_user_to_switch_to_is_refused():
    """As root without server.user, qund must exit with a reason; as any
    other user the same file simply runs under that user."""
    workdir = make_world_readable_dir("qund-root-")
    port = pick_port()
    conf = os.path.join(workdir, "qund.conf")
    write_file(conf, _config(port, workdir, with_user=False))
    cmd = [qund_binary(), "-c", conf]
    if os.geteuid() == 0:
        proc = subprocess.run(cmd, cwd=workdir, timeout=10, stdin=subprocess.DEVNULL,
                              capture_output=True)
        assert proc.returncode == 1
        err = proc.stderr.decode()
        assert "refusing to run as root" in err and "server.user" in err, err
        return
    p = subprocess.Popen(cmd, cwd=workdir, stdin=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 5
    while not port_listening(port) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert port_listening(port)
    p.send_signal(signal.SIGTERM)
    assert p.wait(timeout=5) == 0


def _status_fields(pid):
    """Uid, Gid (real, effective, saved, fs) and Groups from /proc."""
    out = {}
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            key, _, rest = line.partition(":")
            if key in ("Uid", "Gid", "Groups"):
                out[key] = [int(x) for x in rest.split()]
    return out


def test_dropped_process_has_the_users_ids_and_no_supplementary_groups():
    """Security review (issue 8): after start-up every uid and gid is
    server.user's and root's supplementary groups (0 among them) are gone,
    so no file of group root stays reachable."""
    require_run_user()
    workdir = make_world_readable_dir("qund-ids-")
    port = pick_port()
    conf = os.path.join(workdir, "qund.conf")
    write_file(conf, _config(port, workdir))
    proc = subprocess.Popen([qund_binary(), "-c", conf], cwd=workdir,
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while not port_listening(port) and time.monotonic() < deadline:
            time.sleep(0.02)
        assert port_listening(port)
        time.sleep(0.2)  # storage opens after the listeners, as server.user
        st = _status_fields(proc.pid)
        if os.geteuid() == 0:
            pw = pwd.getpwnam(RUN_USER)
            assert st["Uid"] == [pw.pw_uid] * 4, st
            assert st["Gid"] == [pw.pw_gid] * 4, st
            assert st["Groups"] in ([], [pw.pw_gid]), st
            assert 0 not in st["Groups"], st
        else:
            assert st["Uid"][1] == os.geteuid() and st["Gid"][1] == os.getegid(), st
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=5) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def _run_as_root_with_user(user, check_only=False):
    workdir = make_world_readable_dir("qund-user-")
    port = pick_port()
    cfg = {"server": {"name": SERVER_NAME, "network": "QunTest", "development": True,
                      "user": user},
           "listen": [{"address": HOST, "port": port, "tls": False}]}
    cfg.update(storage_config(make_data_dir(os.path.join(workdir, "data"))))
    conf = os.path.join(workdir, "qund.conf")
    write_file(conf, render_config(cfg))
    cmd = [qund_binary(), "-c", conf] + (["-t"] if check_only else [])
    return subprocess.run(cmd, cwd=workdir, timeout=10,
                          stdin=subprocess.DEVNULL, capture_output=True)


def test_root_refuses_a_missing_user_and_staying_root():
    """As root, server.user naming no account, or naming root itself (or
    another uid-0 alias), makes qund exit 1 with the reason before it opens
    any storage; as an ordinary user there is nothing to drop."""
    if os.geteuid() != 0:
        # nothing to drop: the same file only has to pass the check
        p = _run_as_root_with_user("qun-no-such-user", check_only=True)
        assert p.returncode == 0, p
        return
    missing = _run_as_root_with_user("qun-no-such-user")
    assert missing.returncode == 1, missing
    assert "does not exist" in missing.stderr.decode(), missing.stderr
    root = _run_as_root_with_user("root")
    assert root.returncode == 1, root
    assert "is root" in root.stderr.decode(), root.stderr
    for p in (missing, root):
        assert "qund ready" not in p.stderr.decode()
