"""test_config.py - a bad configuration file stops qund before it serves
anyone, with an exit status other than 0 and one message on stderr of the
form "file:line: sentence" that points at the offending line.
"""

import os
import re
import shutil
import subprocess
import tempfile

import pytest

from conftest import pick_port, qund_binary

VALID = """\
server: {
  name = "irc.qun.test";
  network = "QunTest";
};
listen = (
  { address = "127.0.0.1"; port = %(port)d; }
);
limits: {
  sendq = 65536;
};
"""


@pytest.fixture
def confdir():
    d = tempfile.mkdtemp(prefix="qund-cfg-")
    yield d
    shutil.rmtree(d, ignore_errors=True)


def run_qund(confdir, text, name="bad.conf"):
    path = os.path.join(confdir, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    try:
        r = subprocess.run([qund_binary(), "-c", path], capture_output=True, text=True,
                           timeout=5, stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        pytest.fail("qund kept running with an invalid configuration:\n" + text)
    return path, r


def assert_refused(path, r, line, pattern):
    """Exit status != 0; stderr has "path:line: " followed by a sentence
    matching pattern."""
    assert r.returncode != 0, "qund exited 0 with a bad config; stderr:\n" + r.stderr
    assert r.returncode > 0, "qund died from signal %d; stderr:\n%s" % (-r.returncode, r.stderr)
    want = re.compile(re.escape("%s:%d: " % (path, line)) + r"(.*)")
    found = [want.search(x) for x in r.stderr.splitlines()]
    found = [m for m in found if m]
    assert found, "no '%s:%d: ...' message on stderr:\n%s" % (path, line, r.stderr)
    sentence = found[0].group(1)
    assert re.search(pattern, sentence), "message %r does not match %r" % (sentence, pattern)
    assert len(sentence.split()) >= 3, "not a sentence: %r" % sentence
    for marker in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        assert marker not in r.stderr, r.stderr


def test_unknown_setting_in_group(confdir):
    text = VALID.replace("  sendq = 65536;\n", "  sendq = 65536;\n  sendqq = 1;\n")
    path, r = run_qund(confdir, text % {"port": pick_port()})
    assert_refused(path, r, 10, r"unknown setting limits\.sendqq")


def test_unknown_top_level_setting(confdir):
    text = VALID + "colour = \"red\";\n"
    path, r = run_qund(confdir, text % {"port": pick_port()})
    assert_refused(path, r, 11, r"unknown setting colour")


def test_unknown_setting_in_listen_block(confdir):
    text = VALID.replace('port = %(port)d; }', 'port = %(port)d; tsl = true; }')
    path, r = run_qund(confdir, text % {"port": pick_port()})
    assert_refused(path, r, 6, r"unknown setting tsl")


def test_wrong_type(confdir):
    text = VALID.replace("sendq = 65536;", 'sendq = "big";')
    path, r = run_qund(confdir, text % {"port": pick_port()})
    assert_refused(path, r, 9, r"limits\.sendq must be an integer")


def test_wrong_type_bool(confdir):
    text = VALID.replace('network = "QunTest";', 'network = "QunTest";\n  development = "yes";')
    path, r = run_qund(confdir, text % {"port": pick_port()})
    assert_refused(path, r, 4, r"server\.development must be true or false")


def test_out_of_range(confdir):
    text = VALID.replace("sendq = 65536;", "sendq = 65536;\n  registration_timeout = 1;")
    path, r = run_qund(confdir, text % {"port": pick_port()})
    assert_refused(path, r, 10, r"limits\.registration_timeout must be between 5 and 3600")


def test_journal_size_out_of_range(confdir):
    text = VALID.replace("sendq = 65536;\n};", "sendq = 65536;\n};\nnetlog: {\n  journal_size = 4096;\n};")
    path, r = run_qund(confdir, text % {"port": pick_port()})
    assert_refused(path, r, 12, r"netlog\.journal_size must be between 2097152 and 1073741824")


def test_syntax_error(confdir):
    text = VALID.replace('network = "QunTest";', 'network = = "QunTest";')
    path, r = run_qund(confdir, text % {"port": pick_port()})
    assert_refused(path, r, 3, r"syntax error")


def test_missing_server_name(confdir):
    text = VALID.replace('  name = "irc.qun.test";\n', "")
    path, r = run_qund(confdir, text % {"port": pick_port()})
    assert r.returncode > 0
    assert re.search(re.escape(path) + r":\d+: server\.name is required", r.stderr), r.stderr


def test_missing_file(confdir):
    path = os.path.join(confdir, "nonexistent.conf")
    r = subprocess.run([qund_binary(), "-c", path], capture_output=True, text=True, timeout=5)
    assert r.returncode > 0, r.stderr
    assert path in r.stderr and re.search(r"(?i)cannot read", r.stderr), r.stderr


def test_valid_config_starts(confdir):
    """Sanity check for the fixtures above: the base text itself is valid
    (qund starts; it is then stopped with SIGTERM and must exit 0). It runs
    in confdir with the default storage paths, var/qun.db and var/vault.key."""
    import signal
    import time
    from conftest import make_data_dir, port_listening, require_run_user
    require_run_user()
    port = pick_port()
    path = os.path.join(confdir, "good.conf")
    text = VALID % {"port": port}
    if os.geteuid() == 0:
        text = text.replace('network = "QunTest";', 'network = "QunTest";\n  user = "qun";')
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(confdir, 0o755)
    os.chmod(path, 0o644)
    make_data_dir(os.path.join(confdir, "var"))
    p = subprocess.Popen([qund_binary(), "-c", path], stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, cwd=confdir)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and p.poll() is None and not port_listening(port):
            time.sleep(0.02)
        assert p.poll() is None, "qund exited: %s" % p.stdout.read()
        assert port_listening(port)
    finally:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
        out = p.communicate(timeout=5)[0]
    assert p.returncode == 0, out


@pytest.mark.parametrize("name", ["qund.conf", "qund.production.conf"])
def test_shipped_configs_are_valid(name):
    """Both shipped files pass `qund -c FILE -t` (the development one with
    its dev providers, the production example with exec and http)."""
    src = os.environ.get("QUN_SOURCE_DIR") or os.path.join(os.path.dirname(__file__), "..", "..")
    path = os.path.join(src, "conf", name)
    r = subprocess.run([qund_binary(), "-c", path, "-t"], capture_output=True, text=True,
                       timeout=5, stdin=subprocess.DEVNULL, cwd=src)
    assert r.returncode == 0, r.stderr
    assert "is valid" in r.stdout


# A setting that is well-formed but refused for what it means: one block
# after VALID, the refusal on its line (12) with the sentence that says why.
REFUSED_MEANINGS = [
    ("dev provider in production", 'identity: {\n  provider = "dev";\n};\n', r"development server"),
    ("low post level in production", "identity: {\n  post_level = 0;\n};\n", r"post_level"),
    ("exec provider without a command", 'identity: {\n  provider = "exec";\n};\n', r"provider_command"),
    ("log off in production", 'netlog: {\n  mode = "off";\n};\n', r"development = true"),
    ("unknown log mode", 'netlog: {\n  mode = "lazy";\n};\n', r'"strict"'),
]


@pytest.mark.parametrize("block,pattern", [c[1:] for c in REFUSED_MEANINGS],
                         ids=[c[0] for c in REFUSED_MEANINGS])
def test_refused_meaning(confdir, block, pattern):
    text = (VALID + block) % {"port": pick_port()}
    path, r = run_qund(confdir, text)
    assert_refused(path, r, 12, pattern)
