#!/usr/bin/python3
"""Adapt an irctest checkout to this machine (Debian 12). Nothing here is
committed to irctest; run.sh calls it on a fresh temporary clone.

Usage: prepare.py IRCTEST_DIR

1. conftest.py: irctest's pytest_runtest_call hook is a new-style wrapper
   (@pytest.hookimpl(wrapper=True)), which needs pluggy >= 1.1; Debian 12 has
   pluggy 1.0, where pytest refuses to start. We replace that hook with an
   old-style hookwrapper (hookwrapper=True, "outcome = yield") that does the
   same thing: a test skipped with OptionalBehaviorNotSupported fails instead
   when the controller lists that behaviour in optional_behaviors.
2. irctest/controllers/inspircd.py (only used for the baseline run): Debian
   installs the example help file under /usr/share/doc/inspircd/examples and
   InspIRCd's default pid file is /var/run/inspircd/inspircd.pid, which a
   non-root user cannot write; point the include at the Debian path and add a
   <pid> tag in /tmp.

Each edit is checked: if irctest changed so that an edit no longer applies,
this script says so and exits 1 rather than run a half-adapted suite.
"""

import re
import sys
from pathlib import Path

OLD_STYLE_HOOK = '''@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    # Written for pluggy 1.0 by Qun's tests/irctest/prepare.py.
    outcome = yield
    excinfo = outcome.excinfo
    if excinfo is None or not isinstance(excinfo[1], OptionalBehaviorNotSupported):
        return
    behavior = excinfo[1].args[0]
    controller = getattr(item.instance, "controller", None)
    if controller is not None and behavior in controller.optional_behaviors:
        exc = Exception(
            f"Software {controller.software_name} must support behavior "
            f"{behavior} but does not"
        )
        if hasattr(outcome, "force_exception"):  # pluggy >= 1.1
            outcome.force_exception(exc)
        else:
            # pluggy 1.0: no public setter. Raising here would skip the
            # teardown of the other wrappers (capture, logging), so replace
            # the stored exception instead.
            outcome._excinfo = (type(exc), exc, exc.__traceback__)
'''


def fail(msg: str) -> None:
    print(f"prepare.py: {msg}", file=sys.stderr)
    sys.exit(1)


def patch_conftest(root: Path) -> None:
    path = root / "conftest.py"
    text = path.read_text()
    if "Written for pluggy 1.0" in text:
        return
    m = re.search(
        r"^@pytest\.hookimpl\(wrapper=True\)\ndef pytest_runtest_call\(item\):\n"
        r"(?:(?:[ \t]+.*)?\n)*",
        text,
        re.M,
    )
    if not m:
        fail("conftest.py: new-style pytest_runtest_call hook not found")
    text = text[: m.start()] + OLD_STYLE_HOOK + text[m.end():]
    if "wrapper=True" in text.replace("hookwrapper=True", ""):
        fail("conftest.py: another new-style hook wrapper remains")
    path.write_text(text)


def patch_inspircd(root: Path) -> None:
    path = root / "irctest" / "controllers" / "inspircd.py"
    text = path.read_text()
    if "/usr/share/doc/inspircd" in text:
        return
    old_inc = '<include file="examples/helpop.conf.example">'
    new_inc = '<include file="/usr/share/doc/inspircd/examples/helpop.conf.example">'
    log_re = re.compile(r'^(<log method="file"[^\n]*target="/tmp/ircd-\{port\}\.log">)$', re.M)
    if old_inc not in text or not log_re.search(text):
        fail("inspircd.py: template changed; update prepare.py")
    text = text.replace(old_inc, new_inc)
    text = log_re.sub(r'\1\n<pid file="/tmp/ircd-{port}.pid">', text, count=1)
    path.write_text(text)


def main() -> None:
    if len(sys.argv) != 2:
        fail("usage: prepare.py IRCTEST_DIR")
    root = Path(sys.argv[1])
    if not (root / "conftest.py").is_file():
        fail(f"{root} is not an irctest checkout")
    patch_conftest(root)
    patch_inspircd(root)


if __name__ == "__main__":
    main()
