"""irctest controller for qund, the Qun daemon.

irctest imports this module by name (``--controller qun``); run.sh puts this
folder on PYTHONPATH. For every test case irctest calls ``run()`` with a
fresh port; we write a libconfig file into a temporary directory and start
``qund -c <file>`` in the foreground.

Environment:
  QUND                  path of the binary (default: <repo>/build/qund)
  QUND_ARGS             extra arguments appended to the command line
  QUND_USER             unix user qund drops to when started as root
                        (server.user; default "qun", only set when root)
  QUN_IRCTEST_LENIENT   "1": declare no capabilities, optional behaviours or
                        ISUPPORT values, so that what qund lacks is skipped
                        instead of failed (useful while features are missing)
  QUN_IRCTEST_WEBSOCKET "1": give the WebSocket tests a listener with
                        ``websocket = true`` (the setting is not in qund's
                        schema yet; without this those tests are skipped)
  IRCTEST_DEBUG_LOGS    "1": qund's output is shown and log.level = "debug"
"""

import os
from pathlib import Path
import pwd
import shutil
import subprocess
import time
from typing import Dict, List, Optional, Set, Type, Union

from irctest import patma
from irctest.basecontrollers import BaseServerController, DirectoryBasedController
from irctest.runner import NotImplementedByController
from irctest.specifications import Capabilities, OptionalBehaviors

REPO_ROOT = Path(__file__).resolve().parents[2]

LENIENT = os.environ.get("QUN_IRCTEST_LENIENT", "0").lower() in ("1", "true")

# draft/chathistory and draft/event-playback (issue 5) are advertised too, but
# irctest b00c039 has no Capabilities member for them: its chathistory tests
# ask for the cap by name. History is always on in Qun (the network log), so
# TestCaseControllerConfig.chathistory needs nothing in the config below.
# What SPEC.md section 3 promises. A capability listed here turns a CAP NAK in
# a test that uses skip_if_cap_nak into a failure instead of a skip.
SPEC_CAPABILITIES = frozenset(
    [
        Capabilities.ACCOUNT_NOTIFY,
        Capabilities.ACCOUNT_TAG,
        Capabilities.AWAY_NOTIFY,
        Capabilities.BATCH,
        Capabilities.ECHO_MESSAGE,
        Capabilities.EXTENDED_JOIN,
        Capabilities.EXTENDED_MONITOR,
        Capabilities.LABELED_RESPONSE,
        Capabilities.MESSAGE_REDACTION,
        Capabilities.MESSAGE_TAGS,
        Capabilities.MULTI_PREFIX,
        Capabilities.SERVER_TIME,
        Capabilities.SETNAME,
    ]
)

# Behaviours irctest treats as optional. Listed ones fail instead of skip
# when qund does not show them. Keep to what qund has decided to do.
SPEC_OPTIONAL_BEHAVIORS = frozenset(
    [
        OptionalBehaviors.BAN_EXCEPTION_MODE,
        OptionalBehaviors.CAP_REQ_MINUS,
        OptionalBehaviors.ELIST_C,
        OptionalBehaviors.ELIST_M,
        OptionalBehaviors.ELIST_N,
        OptionalBehaviors.ELIST_T,
        OptionalBehaviors.ELIST_U,
        OptionalBehaviors.INVITE_EXCEPTION_MODE,
        OptionalBehaviors.INVITE_LIST,
        OptionalBehaviors.MULTI_JOIN,
        OptionalBehaviors.MULTI_KICK,
        OptionalBehaviors.MULTI_NAMES_COMMAND,
        OptionalBehaviors.MULTI_PRIVMSG,
    ]
)

# RPL_ISUPPORT tokens checked by isupport.py::testValues (patma patterns).
SPEC_ISUPPORT: Dict[str, Union[str, patma.Operator, None]] = {
    "CASEMAPPING": patma.ANYSTR,
    "CHANTYPES": "#",
    "NETWORK": "QunTest",
    "PREFIX": patma.StrRe(r"\(.*o.*v\).*@.*\+"),
    "TARGMAX": patma.ANYSTR,
    "UTF8ONLY": None,
}


def _q(value: str) -> str:
    """A libconfig string literal."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


class QunController(BaseServerController, DirectoryBasedController):
    software_name = "Qun"
    _port_wait_interval = 0.02
    # Accounts are built in (NickServ, REGISTER, SASL): registerUser below
    # goes through Qun's own NickServ. EXTERNAL needs a client certificate,
    # which irctest's SASL tests do not provide.
    supported_sasl_mechanisms: Set[str] = {"PLAIN", "SCRAM-SHA-256"}
    supports_sts = False
    # EXTBAN=,am: "m:<mask>" mutes (src/irc/modeparse.h)
    extban_mute_char: Optional[str] = None if LENIENT else "m"

    capabilities = frozenset() if LENIENT else SPEC_CAPABILITIES
    optional_behaviors = frozenset() if LENIENT else SPEC_OPTIONAL_BEHAVIORS
    isupport = {} if LENIENT else SPEC_ISUPPORT

    def binary(self) -> str:
        path = os.environ.get("QUND") or str(REPO_ROOT / "build" / "qund")
        if not os.access(path, os.X_OK):
            raise FileNotFoundError(f"qund binary not found or not executable: {path}")
        return path

    def run_user(self) -> Optional[str]:
        """server.user: only when we are root (qund refuses to stay root)."""
        if os.geteuid() != 0:
            return None
        name = os.environ.get("QUND_USER", "qun")
        try:
            pwd.getpwnam(name)
        except KeyError:
            raise RuntimeError(
                f"running as root but user {name!r} does not exist; "
                f"create it (useradd --system {name}) or set QUND_USER"
            )
        return name

    def run(
        self,
        hostname: str,
        port: int,
        *,
        password: Optional[str],
        ssl: bool,
        run_services: bool,
        faketime: Optional[str] = None,
        websocket_hostname: Optional[str] = None,
        websocket_port: Optional[int] = None,
    ) -> None:
        want_ws = websocket_hostname is not None or websocket_port is not None
        if want_ws and os.environ.get("QUN_IRCTEST_WEBSOCKET") != "1":
            raise NotImplementedByController("Websocket")
        assert self.proc is None
        self.port = port
        self.hostname = hostname
        self.create_config()
        assert self.directory
        # qund may switch to another user: it must read the directory.
        os.chmod(self.directory, 0o755)

        listen: List[str] = [
            f"{{ address = {_q(hostname)}; port = {port};"
            + (" tls = true;" if ssl else "")
            + " }"
        ]
        tls_block = ""
        if ssl:
            self.gen_ssl()
            for p in (self.key_path, self.pem_path):
                os.chmod(p, 0o644)
            tls_block = (
                f"tls: {{ certificate = {_q(str(self.pem_path))}; "
                f"key = {_q(str(self.key_path))}; }};\n"
            )
        if want_ws:
            assert websocket_hostname and websocket_port
            listen.append(
                f"{{ address = {_q(websocket_hostname)}; port = {websocket_port};"
                " websocket = true; }"
            )

        server = [
            'name = "My.Little.Server";',
            'description = "test server";',  # links.py expects it
            'network = "QunTest";',
            "development = true;",
        ]
        user = self.run_user()
        if user:
            server.append(f"user = {_q(user)};")
        if password is not None:
            server.append(f"password = {_q(password)};")

        # The store and the vault key live in a private directory the daemon
        # (running as server.user when we are root) can write.
        data_dir = self.directory / "data"
        data_dir.mkdir(mode=0o700, exist_ok=True)
        if user:
            pw = pwd.getpwnam(user)
            os.chown(data_dir, pw.pw_uid, pw.pw_gid)
        storage = (
            f"store: {{ path = {_q(str(data_dir / 'qun.db'))}; }};\n"
            f"vault: {{ key_file = {_q(str(data_dir / 'vault.key'))}; }};\n"
            f"control: {{ socket = {_q(str(data_dir / 'qund.sock'))}; }};\n"
            f"netlog: {{ path = {_q(str(data_dir / 'netlog.db'))}; "
            f"key_file = {_q(str(data_dir / 'netlog.key'))}; }};\n"
        )
        # The conformance suite chats without verified identities: levels 0
        # (allowed on development servers only). The registration options
        # follow the test case; "email-required" is Qun's phone requirement.
        tc = self.test_config
        accounts = [
            f"before_connect = {'true' if tc.account_registration_before_connect else 'false'};",
            f"phone_required = {'true' if tc.account_registration_requires_email else 'false'};",
            "password_min = 1;",  # irctest's passwords are short ("sesame")
        ]
        storage += (
            'identity: { provider = "dev"; sms = "dev"; post_level = 0; create_level = 0; };\n'
            f"accounts: {{ {' '.join(accounts)} }};\n"
        )
        config = (
            "# written by tests/irctest/qun.py\n"
            f"{storage}"
            f"server: {{ {' '.join(server)} }};\n"
            f"listen = ( {', '.join(listen)} );\n"
            f"{tls_block}"
            'limits: { flood_exempt = [ "127.0.0.0/8" ]; max_per_ip = 1000; };\n'
            'operators = ( { name = "operuser"; password = "operpassword"; } );\n'
            # the conformance tests expect a channel's creator to be "@"
            'channels: { creator_prefix = "@"; };\n'
        )
        if self.debug_mode:
            config += 'log: { level = "debug"; };\n'

        conf_path = self.directory / "qund.conf"
        with self.open_file("qund.conf", "w") as fd:
            fd.write(config)
        os.chmod(conf_path, 0o644)
        self._command = [
            self.binary(),
            "-c",
            str(conf_path),
            *os.environ.get("QUND_ARGS", "").split(),
        ]

        self._env: Optional[Dict[str, str]] = None
        if faketime and shutil.which("faketime"):
            self._command = ["faketime", "-f", faketime, *self._command]
            self.faketime_enabled = True
            # A sanitizer build (-DQUN_SANITIZE=ON) deadlocks at start under
            # libfaketime: ASan's allocator reads the monotonic clock, and
            # libfaketime's first clock_gettime() allocates (dlsym) inside
            # it. Without release-to-OS the allocator never reads the clock.
            asan = os.environ.get("ASAN_OPTIONS", "")
            self._env = {
                **os.environ,
                "ASAN_OPTIONS": (asan + ":" if asan else "")
                + "allocator_release_to_os_interval_ms=-1",
            }

        self._start()

    def _start(self) -> None:
        self.proc = self.execute(
            self._command, proc_name="qund", cwd=self.directory, env=self._env
        )

    def wait_for_services(self) -> None:
        """NickServ is part of qund: it is up when the port is."""
        self.services_up = True

    def registerUser(self, case, username: str, password: Optional[str] = None) -> None:
        """Registers an account the way a plain client would: through
        NickServ REGISTER, which answers once the account is durable."""
        assert password
        client = case.addClient(show_io=False)
        case.sendLine(client, "CAP LS 302")
        case.sendLine(client, "NICK " + username)
        case.sendLine(client, "USER r e g :user")
        case.sendLine(client, "CAP END")
        while case.getRegistrationMessage(client).command != "001":
            pass
        case.getMessages(client)
        case.sendLine(client, "NS REGISTER " + password)
        for _ in range(50):
            msg = case.getMessage(client)
            if msg.command == "NOTICE" and "Account created" in msg.params[-1]:
                break
            assert msg.command != "NOTICE" or "NickServ" not in (msg.prefix or ""), msg
        case.sendLine(client, "QUIT")
        case.assertDisconnected(client)

    def kill_proc(self) -> None:
        """irctest stops the process (group) it started; under faketime that
        is the wrapper, and qund may still be closing its database when the
        directory is removed. Wait until no qund uses this configuration."""
        super().kill_proc()
        conf = str(self.directory / "qund.conf") if self.directory else None
        deadline = time.monotonic() + 10
        while conf and time.monotonic() < deadline:
            r = subprocess.run(["pgrep", "-f", conf], capture_output=True)
            if r.returncode != 0:
                break
            time.sleep(0.05)

    def restart(self) -> None:
        self.kill_proc()
        self.port_open = False
        self._start()
        self.wait_for_port()


def get_irctest_controller_class() -> Type[QunController]:
    return QunController
