"""test_qunctl.py - qunctl talks to a running qund over the control socket.

What an operator relies on (docs/operations.md, section qunctl):

  1. `qunctl whoami` names the unix user the daemon sees on the socket and
     its roles: root and the daemon's own user are administrators, the
     names in control.administrators / moderators / auditors add roles;
  2. `qunctl help` lists the daemon's control commands;
  3. usage mistakes exit 2 with a usage message, an unreachable socket
     exits 3 with a sentence naming the path, --help exits 0;
  4. the socket is created inside the configured path with mode 0660 and
     removed when qund stops; every request is logged without its args.

The control socket lives in the server's private data directory
(control.socket is relative: qund runs in its work directory).

Environment: QUNCTL = path of the qunctl binary (set by ctest next to QUND).
"""

import json
import os
import pwd
import socket
import stat
import subprocess
import time

import pytest

from conftest import RUN_USER, START_TIMEOUT

SOCKET_REL = "data/qund.sock"


def qunctl_binary():
    path = os.environ.get("QUNCTL")
    if not path:
        pytest.fail("QUNCTL is not set: run through ctest, or set QUNCTL=/path/to/qunctl")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("QUNCTL=%s is not an executable file (build qunctl first)" % path)
    return path


def qunctl(*args, env=None):
    full_env = dict(os.environ)
    full_env.pop("QUN_CONTROL_SOCKET", None)
    full_env.update(env or {})
    return subprocess.run([os.path.abspath(qunctl_binary())] + list(args), capture_output=True, text=True,
                          timeout=40, env=full_env)


def sock_path(srv):
    """The control socket, once it exists: qund creates it after opening the
    store, a moment after its IRC listener answers (which is all the
    fixture waits for)."""
    path = os.path.join(srv.workdir, SOCKET_REL)
    deadline = time.monotonic() + START_TIMEOUT
    while not os.path.exists(path):
        assert srv.proc.poll() is None, "qund exited:\n" + srv.stderr()
        assert time.monotonic() < deadline, "no control socket %s:\n%s" % (path, srv.stderr())
        time.sleep(0.02)
    return path


def my_name():
    return pwd.getpwuid(os.geteuid()).pw_name


def daemon_uid():
    """qund drops root for server.user when started as root."""
    if os.geteuid() == 0:
        return pwd.getpwnam(RUN_USER).pw_uid
    return os.geteuid()


def expected_roles(moderators=(), auditors=()):
    """The rule of src/ctl/ctl.c, computed for the user running the test."""
    uid, name = os.geteuid(), my_name()
    roles = []
    if uid == 0 or uid == daemon_uid():
        roles.append("administrator")
    if name in moderators:
        roles.append("moderator")
    if name in auditors:
        roles.append("auditor")
    return roles


@pytest.fixture
def ctl_server(qund_factory):
    return qund_factory(control={"socket": SOCKET_REL})


def test_whoami_names_the_user_and_roles(ctl_server):
    path = sock_path(ctl_server)
    st = os.lstat(path)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660

    r = qunctl("-s", path, "--json", "whoami")
    assert r.returncode == 0, r.stderr
    got = json.loads(r.stdout)
    assert got == {"user": my_name(), "uid": os.geteuid(), "roles": expected_roles()}

    r = qunctl("-s", path, "whoami")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert any(l.split() == ["user:", my_name()] for l in lines), r.stdout
    assert any(l.split() == ["roles:", ",".join(expected_roles())] for l in lines), r.stdout

    # every request is logged with the actor and the command, never the args
    assert "control: unix:%s whoami" % my_name() in ctl_server.stderr()


def test_configured_roles_add_to_whoami(qund_factory):
    name = my_name()
    srv = qund_factory(control={"socket": SOCKET_REL, "moderators": [name],
                                "auditors": ["nobody-such-user"]})
    r = qunctl("--json", "whoami", env={"QUN_CONTROL_SOCKET": sock_path(srv)})
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["roles"] == expected_roles(moderators=[name])
    assert "moderator" in json.loads(r.stdout)["roles"]


def test_help_lists_the_daemons_commands(ctl_server):
    path = sock_path(ctl_server)
    r = qunctl("-s", path, "--json", "help")
    assert r.returncode == 0, r.stderr
    commands = {c["command"]: c for c in json.loads(r.stdout)}
    assert "whoami" in commands and "help" in commands
    assert sorted(commands["whoami"]["roles"]) == ["administrator", "auditor", "moderator"]

    r = qunctl("-s", path, "help")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["command", "roles", "help"], r.stdout
    assert any(l.startswith("whoami ") for l in lines[1:]), r.stdout


def test_socket_removed_when_qund_stops(ctl_server):
    path = sock_path(ctl_server)
    assert os.path.exists(path)
    assert ctl_server.stop() == 0, ctl_server.stderr()
    assert not os.path.exists(path)
    r = qunctl("-s", path, "whoami")
    assert r.returncode == 3
    assert path in r.stderr and "No such file or directory" in r.stderr, r.stderr


def test_help_and_usage_errors():
    r = qunctl("--help")
    assert r.returncode == 0
    for words in ("whoami", "accounts list", "accounts suspend", "identity queue",
                  "identity reveal"):
        assert words in r.stdout, r.stdout

    r = qunctl("accounts", "suspend", "--help")
    assert r.returncode == 0
    assert "--reason TEXT" in r.stdout and "NAME" in r.stdout

    cases = [
        ("frobnicate",),                                   # unknown command
        ("accounts", "frobnicate"),                        # unknown subcommand
        ("accounts", "show"),                              # missing NAME
        ("accounts", "show", "alice", "bob"),              # extra argument
        ("accounts", "suspend", "alice"),                  # missing --reason
        ("accounts", "list", "--colour", "red"),           # unknown option
        ("identity", "approve", "twelve"),                 # not a number
        ("identity", "reveal", "alice"),                   # missing --case
        (),                                                # nothing at all
    ]
    for args in cases:
        r = qunctl("-s", "/nonexistent/qund.sock", *args)
        assert r.returncode == 2, (args, r.returncode, r.stderr)
        assert "qunctl:" in r.stderr, (args, r.stderr)
        assert r.stdout == "", (args, r.stdout)


def test_missing_socket_exits_3(tmp_path):
    path = str(tmp_path / "nothing-here.sock")
    r = qunctl("-s", path, "whoami")
    assert r.returncode == 3
    assert path in r.stderr and "No such file or directory" in r.stderr, r.stderr

    r = qunctl("whoami", env={"QUN_CONTROL_SOCKET": path})
    assert r.returncode == 3
    assert path in r.stderr


def test_idle_connection_is_closed(qund_factory):
    """control.idle_timeout: a connection that sends nothing is told and
    closed; one that keeps asking stays open; a half-written line is not
    activity."""
    srv = qund_factory(control={"socket": SOCKET_REL, "idle_timeout": 1})
    path = sock_path(srv)
    idle = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    idle.connect(path)
    half = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    half.connect(path)
    half.sendall(b'{"id": 1, "cmd": "who')
    busy = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    busy.connect(path)
    busy.settimeout(5)
    start = time.monotonic()
    n = 0
    while time.monotonic() - start < 3.5:  # a request every 0.4 s: never idle
        n += 1
        busy.sendall(json.dumps({"id": n, "cmd": "whoami"}).encode() + b"\n")
        got = b""
        while not got.endswith(b"\n"):
            chunk = busy.recv(4096)
            assert chunk, "the busy connection was closed after %.1f s" % (time.monotonic() - start)
            got += chunk
        assert json.loads(got)["ok"] is True, got
        time.sleep(0.4)
    for s in (idle, half):
        s.settimeout(5)
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
        reply = json.loads(data.decode().splitlines()[0])
        assert reply["ok"] is False and reply["error"]["code"] == "idle", data
    assert "idle for" in srv.stderr()
