"""conftest.py - runs the real qund for Qun's integration tests.

What it owns: writing a temporary libconfig file (the schema is the one
src/config/config.c accepts), choosing free loopback ports, starting
`$QUND -c <file>`, waiting until every listener is in the LISTEN state, and
stopping the daemon at the end of each test with the checks that every test
gets for free:

  1. SIGTERM makes qund exit with status 0 within 5 seconds;
  2. qund's stderr (saved to a file in the test's work directory) has no
     AddressSanitizer, LeakSanitizer or UBSan ("runtime error:") report.

A failing test gets the daemon's stderr attached to its report.

Rules (house style): a missing binary or tool is a FAILURE, never a skip.
When the tests run as root, qund drops privileges to server.user = "qun";
that system user must exist (the install script creates it) - the fixture
fails with a clear message rather than creating users on the machine.

Storage: qund opens its database (store.path) and vault key
(vault.key_file) after dropping root, and creates both on the first start.
Each server gets them in <workdir>/data, a directory of mode 0700 owned by
the user qund runs as (chowned to server.user when the tests run as root).
Not a mode-0777 directory: anyone could then plant or swap the key file
and the database, and the vault checks a key file's mode, not its owner.

Environment: QUND = path of the qund binary; QUN_SOURCE_DIR = repository
root (set by ctest; see CMakeLists.txt). QUND_WRAPPER = a command line put
in front of qund by the fixture (e.g. "valgrind --error-exitcode=99 ..."
from tests/valgrind/run.sh); QUND_TIMEOUT_SCALE = a factor for the start
and stop timeouts, for such slow wrappers.
"""

import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import pytest

from ircclient import IRCClient

HOST = "127.0.0.1"
SERVER_NAME = "irc.qun.test"
NETWORK = "QunTest"
RUN_USER = "qun"
TIMEOUT_SCALE = float(os.environ.get("QUND_TIMEOUT_SCALE") or 1)
STOP_TIMEOUT = 5.0 * TIMEOUT_SCALE
START_TIMEOUT = 10.0 * TIMEOUT_SCALE
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "ERROR: LeakSanitizer", "runtime error:",
                     "are definitely lost in loss record")  # the last: valgrind
DEFAULT_MOTD = "Welcome to the Qun integration test server.\n欢迎来到群。\n"


def qund_binary():
    path = os.environ.get("QUND")
    if not path:
        pytest.fail("QUND is not set: run through ctest, or set QUND=/path/to/qund")
    if not (os.path.isfile(path) and os.access(path, os.X_OK)):
        pytest.fail("QUND=%s is not an executable file (build qund first)" % path)
    return path


def need_tool(name):
    path = shutil.which(name)
    if not path:
        pytest.fail("the `%s` command is required by this test and is not installed" % name)
    return path


def require_run_user():
    """As root, qund switches to server.user; that user must exist."""
    if os.geteuid() != 0:
        return
    try:
        pwd.getpwnam(RUN_USER)
    except KeyError:
        pytest.fail("tests run as root, so qund drops privileges to the system user "
                    "%r, which does not exist; create it (e.g. `useradd --system "
                    "--no-create-home --shell /usr/sbin/nologin qun`) or run the tests "
                    "as an ordinary user" % RUN_USER)


def make_world_readable_dir(prefix):
    """A temp dir the dropped-privilege daemon can read (SIGHUP re-reads the
    config and certificates after the switch to server.user)."""
    path = tempfile.mkdtemp(prefix=prefix)
    os.chmod(path, 0o755)
    return path


def make_data_dir(path):
    """A private directory (0700) for qund's database and vault key, owned
    by the user the daemon runs as, so it can create and write both files
    after dropping root."""
    os.makedirs(path, exist_ok=True)
    os.chmod(path, 0o700)
    if os.geteuid() == 0:
        pw = pwd.getpwnam(RUN_USER)
        os.chown(path, pw.pw_uid, pw.pw_gid)
    return path


def storage_config(datadir):
    """The store and vault groups pointing into datadir."""
    return {"store": {"path": os.path.join(datadir, "qun.db")},
            "vault": {"key_file": os.path.join(datadir, "vault.key")},
            "control": {"socket": os.path.join(datadir, "qund.sock")},
            "netlog": {"path": os.path.join(datadir, "netlog.db"),
                       "key_file": os.path.join(datadir, "netlog.key")}}


def write_file(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o644)


# ---------------------------------------------------------------- libconfig

def _render_value(value, indent):
    pad = "  " * indent
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return '"%s"' % value.replace("\\", "\\\\").replace('"', '\\"')
    if isinstance(value, dict):
        inner = "".join("%s  %s = %s;\n" % (pad, k, _render_value(v, indent + 1))
                        for k, v in value.items() if v is not None)
        return "{\n%s%s}" % (inner, pad)
    if isinstance(value, (list, tuple)):
        if value and all(isinstance(v, dict) for v in value):
            items = ",\n".join(pad + "  " + _render_value(v, indent + 1) for v in value)
            return "(\n%s\n%s)" % (items, pad)
        return "[ %s ]" % ", ".join(_render_value(v, indent) for v in value)
    raise TypeError("cannot render %r" % (value,))


def render_config(cfg):
    """Renders a dict of top-level settings as a libconfig file. Groups are
    dicts; `listen`/`operators` are lists of dicts; None values are left
    out (so an override can remove a default)."""
    out = []
    for key, value in cfg.items():
        if value is None:
            continue
        sep = ":" if isinstance(value, dict) else " ="
        out.append("%s%s %s;\n" % (key, sep, _render_value(value, 0)))
    return "".join(out)


def _merge(base, over):
    for k, v in over.items():
        if isinstance(v, dict) and isinstance(base.get(k), dict):
            _merge(base[k], v)
        else:
            base[k] = v
    return base


def pick_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((HOST, 0))
    port = s.getsockname()[1]
    s.close()
    return port


def port_listening(port):
    """True when 127.0.0.1:port is in LISTEN state (read from /proc, so the
    check opens no connection the daemon would count)."""
    want = "0100007F:%04X" % port
    try:
        with open("/proc/net/tcp") as f:
            next(f)
            for line in f:
                parts = line.split()
                if parts[1] == want and parts[3] == "0A":
                    return True
    except OSError:
        pass
    return False


# ---------------------------------------------------------------- the daemon

class QundServer:
    """One qund process with its own work directory, config and ports."""

    def __init__(self, workdir, overrides, tls_files=None, tls=False, env=None):
        self.workdir = workdir
        self.env = env  # extra environment variables for the daemon
        self.binary = qund_binary()
        self.config_path = os.path.join(workdir, "qund.conf")
        self.stderr_path = os.path.join(workdir, "qund.stderr")
        self.motd_path = os.path.join(workdir, "motd.txt")
        self.datadir = os.path.join(workdir, "data")
        self.db_path = os.path.join(self.datadir, "qun.db")
        self.key_path = os.path.join(self.datadir, "vault.key")
        self.control_path = os.path.join(self.datadir, "qund.sock")
        self.netlog_path = os.path.join(self.datadir, "netlog.db")
        self.netlog_key = os.path.join(self.datadir, "netlog.key")
        self.overrides = overrides
        self.tls = tls
        self.tls_files = tls_files
        self.proc = None
        self.returncode = None
        self.port = None
        self.tls_port = None
        self.clients = []
        self.config = None

    # config ---------------------------------------------------------------

    def build_config(self):
        server = {"name": SERVER_NAME, "network": NETWORK,
                  "description": "Qun integration test server", "development": True,
                  "motd": self.motd_path}
        if os.geteuid() == 0:
            server["user"] = RUN_USER
        listen = [{"address": HOST, "port": self.port, "tls": False}]
        cfg = {"server": server, "log": {"level": "info"}, "listen": listen,
               "limits": {"registration_timeout": 60, "ping_interval": 120,
                          "ping_timeout": 60, "max_per_ip": 50,
                          "flood_exempt": ["127.0.0.0/8"]},
               "store": {"path": self.db_path}, "vault": {"key_file": self.key_path},
               "control": {"socket": self.control_path},
               "netlog": {"path": self.netlog_path, "key_file": self.netlog_key},
               "reports": {"spool_dir": os.path.join(self.datadir, "reports")},
               # The core protocol tests chat without accounts; the identity
               # tests (test_accounts.py) restore the SPEC levels 1 and 2.
               "identity": {"post_level": 0, "create_level": 0}}
        if self.tls:
            listen.append({"address": HOST, "port": self.tls_port, "tls": True})
            cfg["tls"] = {"certificate": self.tls_files[0], "key": self.tls_files[1]}
        cfg = _merge(cfg, self.overrides)
        if not cfg["server"].get("development"):
            # levels below the SPEC's are refused outside development
            for key in ("post_level", "create_level"):
                if self.overrides.get("identity", {}).get(key) is None:
                    cfg["identity"].pop(key, None)
        return cfg

    def write_config(self, extra=None):
        """(Re)writes the config file; `extra` is merged into the current
        config (used by reload tests)."""
        if self.config is None:
            self.config = self.build_config()
        if extra:
            _merge(self.config, extra)
        write_file(self.config_path, render_config(self.config))

    # process --------------------------------------------------------------

    def start(self):
        require_run_user()
        make_data_dir(self.datadir)
        if not os.path.exists(self.motd_path):
            write_file(self.motd_path, DEFAULT_MOTD)
        last_err = ""
        for _attempt in range(5):
            self.port = pick_port()
            self.tls_port = pick_port() if self.tls else None
            self.config = None
            self.write_config()
            err = self._spawn()
            if err is None:
                return self
            last_err = err
            if "in use" not in err.lower():
                break
        pytest.fail("qund did not start:\n%s" % last_err)

    def _spawn(self):
        """Starts the process and waits for its listeners; returns None on
        success or the reason (with stderr) on failure."""
        with open(self.stderr_path, "wb") as errf:
            env = dict(os.environ, **self.env) if self.env else None
            wrapper = shlex.split(os.environ.get("QUND_WRAPPER", ""))
            self.proc = subprocess.Popen(wrapper + [self.binary, "-c", self.config_path],
                                         stdin=subprocess.DEVNULL, stdout=errf,
                                         stderr=errf, cwd=self.workdir, env=env)
        ports = [p for p in (self.port, self.tls_port) if p]
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            rc = self.proc.poll()
            if rc is not None:
                self.returncode = rc
                return "qund exited with status %d before listening; stderr:\n%s" % (
                    rc, self.stderr())
            # listening is not enough: storage, accounts and the control
            # socket come up after the listeners; "qund ready" ends start-up
            if all(port_listening(p) for p in ports) and "qund ready" in self.stderr():
                return None
            time.sleep(0.02)
        self.proc.kill()
        self.proc.wait()
        return "qund did not listen on %s within %.0fs; stderr:\n%s" % (
            ports, START_TIMEOUT, self.stderr())

    def log_sync(self):
        """Waits until the network log's database file holds every event the
        daemon has appended (`qunctl log sync`): the daemon makes events
        durable in its journal first and copies them into the database
        behind, so a test reading the file from outside syncs first. A
        stopped daemon has copied everything."""
        if not self.proc or self.proc.poll() is not None:
            return
        qunctl = os.environ.get("QUNCTL")
        if not qunctl or not os.access(qunctl, os.X_OK):
            pytest.fail("QUNCTL is not set to an executable qunctl (QUNCTL=%r)" % qunctl)
        r = subprocess.run([os.path.abspath(qunctl), "-s", self.control_path, "log", "sync"],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 0, "qunctl log sync: %s%s" % (r.stdout, r.stderr)

    def stderr(self):
        try:
            with open(self.stderr_path, "rb") as f:
                return f.read().decode("utf-8", "replace")
        except OSError:
            return "(no stderr file)"

    def signal(self, sig):
        assert self.proc.poll() is None, "qund is not running:\n" + self.stderr()
        self.proc.send_signal(sig)

    def stop(self, timeout=STOP_TIMEOUT):
        """SIGTERM and wait; returns the exit status (None: did not exit)."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                self.returncode = None
                return None
        self.returncode = self.proc.returncode
        return self.returncode

    def sanitizer_reports(self):
        return [line for line in self.stderr().splitlines()
                if any(m in line for m in SANITIZER_MARKERS)]

    # clients --------------------------------------------------------------

    def connect(self, tls=False, name=None, **kw):
        port = self.tls_port if tls else self.port
        assert port, "this server has no TLS listener"
        c = IRCClient(HOST, port, tls=tls, name=name, **kw)
        self.clients.append(c)
        return c

    def client(self, nick, caps=(), tls=False, user=None, realname=None, **kw):
        """Connects and registers; returns the client."""
        c = self.connect(tls=tls, name=nick, **kw)
        c.register(nick, caps=caps, user=user, realname=realname)
        return c

    def close_clients(self):
        for c in self.clients:
            c.close()


class WebServer(QundServer):
    """qund with a public web listener and a console listener on loopback
    (web_port, console_port), for the web, console and browser tests."""

    def build_config(self):
        cfg = super().build_config()
        self.web_port = pick_port()
        self.console_port = pick_port()
        cfg["listen"] = list(cfg["listen"]) + [
            {"address": HOST, "port": self.web_port, "kind": "web"},
            {"address": HOST, "port": self.console_port, "kind": "console"}]
        return cfg


def wait_exit(srv, timeout=STOP_TIMEOUT):
    """Waits for a server already told to stop; returns its exit status, or
    None if it is still running after timeout."""
    try:
        return srv.proc.wait(timeout)
    except subprocess.TimeoutExpired:
        return None


# ---------------------------------------------------------------- fixtures

@pytest.fixture(scope="session")
def tls_files():
    """A self-signed certificate and key, made once per session with the
    openssl command."""
    openssl = need_tool("openssl")
    d = make_world_readable_dir("qund-tls-")
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run([openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-days", "2",
                        "-subj", "/CN=" + SERVER_NAME, "-keyout", key, "-out", cert],
                       capture_output=True, text=True, timeout=30)
    if r.returncode != 0:
        pytest.fail("openssl could not make a test certificate:\n" + r.stderr)
    os.chmod(cert, 0o644)
    os.chmod(key, 0o644)  # the test daemon runs as another user; test key only
    yield cert, key
    shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def qund_factory(request):
    """Returns start(**overrides) -> QundServer. Keyword arguments are
    config groups merged over the defaults (e.g. limits={"sendq": 65536});
    tls=True adds a TLS listener (and needs the tls_files fixture, which
    it pulls in). Every server is stopped and checked at teardown."""
    servers = []
    request.node._qund_servers = servers
    workdirs = []

    def start(tls=False, env=None, **overrides):
        files = request.getfixturevalue("tls_files") if tls else None
        workdir = make_world_readable_dir("qund-it-")
        workdirs.append(workdir)
        srv = QundServer(workdir, overrides, tls_files=files, tls=tls, env=env)
        servers.append(srv)
        return srv.start()

    yield start

    problems = []
    for srv in servers:
        srv.close_clients()
        if srv.proc is None:
            continue
        already = srv.proc.poll() is not None
        rc = srv.stop()
        if rc != 0:
            problems.append("qund %s with status %r%s (want exit 0 within %.0fs of SIGTERM)"
                            % ("had exited" if already else "exited", rc,
                               "" if rc is not None else " - it did not exit", STOP_TIMEOUT))
        reports = srv.sanitizer_reports()
        if reports:
            problems.append("sanitizer reports in qund's stderr:\n  " + "\n  ".join(reports))
        if problems:
            problems.append("qund stderr (%s):\n%s" % (srv.stderr_path, srv.stderr()))
    failed = getattr(request.node, "_qund_failed", False)
    if not problems and not failed:
        for d in workdirs:
            shutil.rmtree(d, ignore_errors=True)
    if problems:
        pytest.fail("\n".join(problems), pytrace=False)


@pytest.fixture
def server(qund_factory):
    """A qund with the default test configuration (plain listener only)."""
    return qund_factory()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.when == "call" and rep.failed:
        item._qund_failed = True
        for srv in getattr(item, "_qund_servers", []):
            text = srv.stderr()
            lines = text.splitlines()
            if len(lines) > 200:
                text = "\n".join(["... (%d lines cut)" % (len(lines) - 200)] + lines[-200:])
            rep.sections.append(("qund stderr (%s)" % srv.stderr_path, text))
