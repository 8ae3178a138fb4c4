"""browser_helpers.py - the pytest side of the browser tests (issue 7;
docs/web.md "Browser tests"): a qund with the public web and console
listeners serving the repository's real web/ files, console operators, and
the driver that runs one node scenario (tests/browser/*.mjs) and answers
its steps.

What it owns: a world-readable copy of web/ per test (qund reads it after
dropping root to the qun user, and a checkout under /root would not be
readable), the node process of a scenario (killed if it outlives its
timeout) and the step protocol's Python end (lib/harness.mjs describes it).

This module is a pytest plugin (`-p browser_helpers`, with
PYTHONPATH=tests/integration:tests/browser, as ctest runs it): it
re-exports the integration tests' qund_factory, tls_files and report hook
from tests/integration/conftest.py, so the daemon is managed in one place
and the shutdown and sanitizer checks of every integration test apply here
too. (Loading conftest.py itself with -p would scope its fixtures to
tests/integration.)

Rules (house style): node, chromium and playwright-core missing are
failures with a sentence saying what to install, never skips.

Environment: QUN_BROWSER_MODULES (where playwright-core is installed;
ctest's browser/setup), QUN_SCREENSHOT_DIR (where the scenarios write
their screenshots; ctest: <build>/browser/screenshots; docs/screenshots to
refresh the documentation's), QUN_BROWSER_ARTIFACTS (failure screenshots).
"""

import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time

import pytest

import conftest
from conftest import HOST, WebServer, make_world_readable_dir, need_tool
from conftest import pytest_runtest_makereport, qund_factory, tls_files  # noqa: F401 (plugin)

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("QUN_SOURCE_DIR") or os.path.abspath(os.path.join(HERE, "..", ".."))
OP_PW = "console operator passphrase"
SCENARIO_TIMEOUT = 60.0


class BrowserServer(WebServer):
    """conftest.WebServer with the URLs the browser scenarios open."""

    @property
    def web_url(self):
        return "http://%s:%d/" % (HOST, self.web_port)

    @property
    def console_url(self):
        return "http://%s:%d/" % (HOST, self.console_port)


def copy_web_root():
    """A world-readable copy of the repository's web/ directory."""
    src = os.path.join(SOURCE, "web")
    if not os.path.isdir(os.path.join(src, "public")):
        pytest.fail("no web/public in %s (QUN_SOURCE_DIR)" % SOURCE)
    base = make_world_readable_dir("qund-browser-web-")
    root = os.path.join(base, "web")
    shutil.copytree(src, root)
    for d, dirs, files in os.walk(base):
        os.chmod(d, 0o755)
        for f in files:
            os.chmod(os.path.join(d, f), 0o644)
    return base, root


@pytest.fixture
def browser_factory(qund_factory, monkeypatch):
    """start(**overrides) -> BrowserServer serving the real web/ files;
    start.shared_dir is a world-readable directory for files qund reads."""
    monkeypatch.setattr(conftest, "QundServer", BrowserServer)
    base, root = copy_web_root()

    def start(**over):
        cfg = {"web": {"root": root}}
        for k, v in over.items():
            if isinstance(v, dict):
                cfg.setdefault(k, {}).update(v)
            else:
                cfg[k] = v
        return qund_factory(**cfg)

    start.shared_dir = base  # world-readable: convention texts and the like
    yield start
    shutil.rmtree(base, ignore_errors=True)


def make_operator(srv, name, role, password=OP_PW):
    """qunctl operators create NAME --role ROLE, the password on stdin."""
    path = os.environ.get("QUNCTL")
    if not path or not os.access(path, os.X_OK):
        pytest.fail("QUNCTL is not set to an executable qunctl (QUNCTL=%r)" % path)
    r = subprocess.run([os.path.abspath(path), "-s", srv.control_path, "operators", "create",
                        name, "--role", role], input=password + "\n", capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, (r.stdout, r.stderr)


def screenshot_dir():
    return os.environ.get("QUN_SCREENSHOT_DIR")


def _reader(stream, q):
    for line in stream:
        q.put(line.rstrip("\n"))
    q.put(None)


def run_scenario(script, arg, steps=None, timeout=SCENARIO_TIMEOUT):
    """Runs `node tests/browser/<script> <json arg>`; answers each STEP with
    steps[name](payload) -> dict; returns the merged RESULT objects. Fails
    the test when node exits non-zero, a step is unknown or raises, or the
    scenario outlives timeout seconds."""
    node = need_tool("node")
    if not os.environ.get("QUN_BROWSER_MODULES"):
        pytest.fail("QUN_BROWSER_MODULES is not set: run through ctest (its browser/setup "
                    "test installs playwright-core), or run tests/browser/install.sh DIR "
                    "and set QUN_BROWSER_MODULES=DIR")
    steps = steps or {}
    env = dict(os.environ)
    env.setdefault("QUN_BROWSER_ARTIFACTS", tempfile.mkdtemp(prefix="qun-browser-fail-"))
    proc = subprocess.Popen([node, os.path.join(HERE, script), json.dumps(arg)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env, cwd=HERE)
    out_q, err_q = queue.Queue(), queue.Queue()
    threading.Thread(target=_reader, args=(proc.stdout, out_q), daemon=True).start()
    threading.Thread(target=_reader, args=(proc.stderr, err_q), daemon=True).start()
    transcript, results = [], {}
    deadline = time.monotonic() + timeout
    problem = None
    try:
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                problem = "the scenario did not finish within %.0f s" % timeout
                break
            try:
                line = out_q.get(timeout=left)
            except queue.Empty:
                continue
            if line is None:
                break
            transcript.append(line)
            if line.startswith("STEP "):
                _, name, payload = line.split(" ", 2)
                if name not in steps:
                    problem = "unknown step %r" % name
                    proc.stdin.write("ABORT unknown step\n")
                    proc.stdin.flush()
                    break
                try:
                    answer = steps[name](json.loads(payload))
                except BaseException:
                    proc.stdin.write("ABORT driver failed\n")
                    proc.stdin.flush()
                    raise
                proc.stdin.write("OK %s\n" % json.dumps(answer or {}))
                proc.stdin.flush()
            elif line.startswith("RESULT "):
                results.update(json.loads(line[7:]))
    finally:
        try:
            rc = proc.wait(max(1.0, deadline - time.monotonic()) if problem is None else 1.0)
        except subprocess.TimeoutExpired:
            proc.kill()
            rc = proc.wait()
            problem = problem or "the scenario did not exit"
        errs = []
        while True:
            try:
                e = err_q.get(timeout=0.5)
            except queue.Empty:
                break
            if e is None:
                break
            errs.append(e)
        run_scenario.last = "\n".join(transcript + ["--- stderr ---"] + errs)
    if problem or rc != 0:
        pytest.fail("browser scenario %s: %s (exit %s)\n%s" % (
            script, problem or "failed", rc, run_scenario.last), pytrace=False)
    return results
