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
