"""ircclient.py - a small, strict IRC client for Qun's integration tests.

What it owns: one TCP (optionally TLS) connection to a running qund, line
framing, a parser for the IRCv3 message format (tags, source, command,
parameters), and the few conversations every test needs (registration with
CAP negotiation, waiting for a given reply).

Contracts:
  * Every wait has a timeout (default 5 s). A wait that times out raises
    AssertionError listing every line received while waiting, so a failing
    test shows the exchange instead of "timed out".
  * expect() consumes the lines it skips; they are kept in `self.log`
    (everything ever received, in order) for failure messages.
  * PING from the server is answered automatically (and still returned),
    so a test that waits long never gets disconnected for not answering.
  * Nothing here hides server behaviour: the parser is the IRCv3 grammar,
    no normalisation of the server's output beyond tag-value unescaping.

Only the Python standard library is used.
"""

import re
import socket
import ssl
import time

DEFAULT_TIMEOUT = 5.0

# IRCv3 message-tags escaping: value escapes and what they stand for.
_TAG_UNESCAPES = {":": ";", "s": " ", "\\": "\\", "r": "\r", "n": "\n"}


def unescape_tag_value(raw):
    """Undoes message-tags value escaping; an unknown escape "\\x" is "x" and a
    lone trailing backslash is dropped, as the specification says."""
    out = []
    i = 0
    while i < len(raw):
        ch = raw[i]
        if ch == "\\":
            if i + 1 >= len(raw):
                break
            nxt = raw[i + 1]
            out.append(_TAG_UNESCAPES.get(nxt, nxt))
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def escape_tag_value(value):
    out = []
    rev = {v: k for k, v in _TAG_UNESCAPES.items()}
    for ch in value:
        out.append("\\" + rev[ch] if ch in rev else ch)
    return "".join(out)


class Message:
    """One parsed line. tags: dict (value None when the tag has no '='),
    prefix: source without ':' or None, command: upper-cased, params: list
    (the trailing parameter is the last element, without its ':')."""

    __slots__ = ("raw", "tags", "prefix", "command", "params")

    def __init__(self, raw, tags, prefix, command, params):
        self.raw = raw
        self.tags = tags
        self.prefix = prefix
        self.command = command
        self.params = params

    @property
    def nick(self):
        """Nick part of the source (the whole source for a server)."""
        if self.prefix is None:
            return None
        return self.prefix.split("!", 1)[0].split("@", 1)[0]

    @property
    def last(self):
        return self.params[-1] if self.params else None

    def __repr__(self):
        return "<Message %r>" % self.raw


def parse_message(line):
    """Parses one line (without CRLF) into a Message. Raises ValueError on a
    line that does not follow the grammar (a server bug worth seeing)."""
    raw = line
    tags = {}
    rest = line
    if rest.startswith("@"):
        sp = rest.find(" ")
        if sp < 0:
            raise ValueError("tags without a command: %r" % raw)
        for item in rest[1:sp].split(";"):
            if not item:
                continue
            if "=" in item:
                key, val = item.split("=", 1)
                tags[key] = unescape_tag_value(val)
            else:
                tags[item] = None
        rest = rest[sp + 1:].lstrip(" ")
    prefix = None
    if rest.startswith(":"):
        sp = rest.find(" ")
        if sp < 0:
            raise ValueError("source without a command: %r" % raw)
        prefix = rest[1:sp]
        rest = rest[sp + 1:].lstrip(" ")
    params = []
    trailing = None
    idx = rest.find(" :")
    if rest.startswith(":"):
        raise ValueError("no command: %r" % raw)
    if idx >= 0:
        trailing = rest[idx + 2:]
        rest = rest[:idx]
    words = [w for w in rest.split(" ") if w]
    if not words:
        raise ValueError("no command: %r" % raw)
    command = words[0].upper()
    params = words[1:]
    if trailing is not None:
        params.append(trailing)
    return Message(raw, tags, prefix, command, params)


class ConnectionClosed(Exception):
    """The server closed the connection."""


class IRCClient:
    """A connection to qund. `host`/`port` as for socket.create_connection;
    `tls` wraps the socket without verifying the certificate; `source` is a
    local address to bind (e.g. "127.0.0.2") so one machine can look like
    several client addresses; `rcvbuf` shrinks the kernel receive buffer
    (for slow-reader tests); `certfile`/`keyfile` present a TLS client
    certificate (PEM files; for SASL EXTERNAL)."""

    def __init__(self, host, port, tls=False, source=None, rcvbuf=None,
                 timeout=DEFAULT_TIMEOUT, name=None, certfile=None, keyfile=None):
        self.name = name or "client"
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if rcvbuf is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        if source is not None:
            sock.bind((source, 0))
        sock.settimeout(timeout)
        sock.connect((host, port))
        if tls:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            if certfile:
                ctx.load_cert_chain(certfile, keyfile)
            sock = ctx.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.tls = tls
        self.buf = b""
        self.log = []          # every Message received, in order
        self.sent = []         # every line sent, in order
        self.closed = False
        self.nick = None
        self.isupport = {}
        self.caps_available = {}
        self.caps_enabled = set()
        self.auto_pong = True
        self.strict = True     # check every server line against the limits

    # -- sending ---------------------------------------------------------

    def send(self, line):
        """Sends one line; CRLF is appended."""
        self.sent.append(line)
        self.sock.sendall(line.encode("utf-8") + b"\r\n")

    def send_raw(self, data):
        self.sent.append(repr(data))
        self.sock.sendall(data)

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        self.closed = True

    # -- receiving -------------------------------------------------------

    def _fill(self, deadline):
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise socket.timeout()
        self.sock.settimeout(remaining)
        try:
            data = self.sock.recv(65536)
        except ConnectionResetError:
            data = b""
        if not data:
            self.closed = True
            raise ConnectionClosed()
        self.buf += data

    def recv(self, timeout=DEFAULT_TIMEOUT):
        """Returns the next Message; raises socket.timeout or
        ConnectionClosed."""
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            if self.closed:
                raise ConnectionClosed()
            self._fill(deadline)
        raw, self.buf = self.buf.split(b"\n", 1)
        if raw.endswith(b"\r"):
            raw = raw[:-1]
        msg = parse_message(raw.decode("utf-8"))
        self.log.append(msg)
        self._check_limits(raw, msg)
        if self.auto_pong and msg.command == "PING" and self.sock is not None:
            self.send("PONG :%s" % (msg.last or ""))
        return msg

    def _check_limits(self, raw, msg):
        """Protocol limits every server line must respect: at most 15
        parameters, a body (everything after the tags) of at most 510 bytes
        without CRLF, and valid UTF-8 (decoding above already failed
        otherwise)."""
        if not self.strict:
            return
        body = raw.split(b" ", 1)[1].lstrip(b" ") if raw.startswith(b"@") else raw
        assert len(msg.params) <= 15, "%s: more than 15 parameters: %r" % (self.name, msg.raw)
        assert len(body) <= 510, "%s: %d-byte line body (max 510): %r" % (
            self.name, len(body), msg.raw)

    def _describe(self, seen, what, timeout, closed=False):
        lines = "\n".join("    " + m.raw for m in seen) or "    (nothing)"
        end = "connection closed" if closed else "timed out after %.1fs" % timeout
        return "%s: waiting for %s, %s; lines seen:\n%s" % (self.name, what, end, lines)

    def expect(self, command=None, timeout=DEFAULT_TIMEOUT, pred=None, what=None):
        """Reads until a line with this command (string or collection of
        strings, e.g. "PRIVMSG" or ("376", "422")) for which pred(msg) is
        true; returns it. Fails with the lines seen otherwise."""
        return self.collect(command, timeout, pred, what)[-1]

    def collect(self, command=None, timeout=DEFAULT_TIMEOUT, pred=None, what=None):
        """Like expect() but returns every line read, the match last."""
        if isinstance(command, str):
            commands = {command.upper()}
        elif command is None:
            commands = None
        else:
            commands = {c.upper() for c in command}
        what = what or ("%s%s" % (sorted(commands) if commands else "any line",
                                  " matching a condition" if pred else ""))
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            try:
                msg = self.recv(max(0.0, deadline - time.monotonic()) or 0.001)
            except socket.timeout:
                raise AssertionError(self._describe(seen, what, timeout)) from None
            except ConnectionClosed:
                raise AssertionError(
                    self._describe(seen, what, timeout, closed=True)) from None
            seen.append(msg)
            if commands is not None and msg.command not in commands:
                continue
            if pred is not None and not pred(msg):
                continue
            return seen

    def expect_numeric(self, numeric, timeout=DEFAULT_TIMEOUT, pred=None):
        return self.expect("%03d" % numeric if isinstance(numeric, int) else numeric,
                           timeout, pred)

    def read_all(self, timeout=0.5):
        """Reads whatever arrives within timeout (silence ends it early
        only when the timeout expires); returns the list."""
        out = []
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return out
            try:
                out.append(self.recv(remaining))
            except (socket.timeout, ConnectionClosed):
                return out

    def assert_no(self, command, timeout=0.5, pred=None):
        """Fails if a line with this command (and pred) arrives within
        timeout. Prefer a marker message over a long timeout."""
        for msg in self.read_all(timeout):
            if msg.command == command.upper() and (pred is None or pred(msg)):
                raise AssertionError("%s: did not expect %r" % (self.name, msg.raw))

    def sync(self, timeout=DEFAULT_TIMEOUT):
        """Round trip: sends a PING with a unique token and reads up to its
        PONG; returns the lines received before it. Everything the server
        sent in response to earlier lines has arrived by then."""
        token = "sync%d" % int(time.monotonic() * 1e6)
        self.send("PING :%s" % token)
        lines = self.collect("PONG", timeout, pred=lambda m: m.last == token)
        return lines[:-1]

    def expect_closed(self, timeout=DEFAULT_TIMEOUT):
        """Reads until the server closes the connection; returns the lines."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            try:
                seen.append(self.recv(max(0.001, deadline - time.monotonic())))
            except ConnectionClosed:
                return seen
            except socket.timeout:
                raise AssertionError(
                    self._describe(seen, "the connection to close", timeout)) from None

    # -- conversations ---------------------------------------------------

    def cap_ls(self, timeout=DEFAULT_TIMEOUT):
        """Sends CAP LS 302 and reads the (possibly multi-line) answer into
        self.caps_available (name -> value or None)."""
        self.send("CAP LS 302")
        caps = {}
        while True:
            msg = self.expect("CAP", timeout)
            assert len(msg.params) >= 3 and msg.params[1] == "LS", msg.raw
            for item in msg.params[-1].split():
                name, _, value = item.partition("=")
                caps[name] = value if "=" in item else None
            if not (len(msg.params) >= 4 and msg.params[2] == "*"):
                break
        self.caps_available = caps
        return caps

    def cap_req(self, caps, timeout=DEFAULT_TIMEOUT):
        """CAP REQ; returns the answering CAP message (ACK or NAK)."""
        self.send("CAP REQ :%s" % " ".join(caps))
        msg = self.expect("CAP", timeout, pred=lambda m: len(m.params) >= 3
                          and m.params[1] in ("ACK", "NAK"))
        if msg.params[1] == "ACK":
            for c in msg.params[-1].split():
                if c.startswith("-"):
                    self.caps_enabled.discard(c[1:])
                else:
                    self.caps_enabled.add(c)
        return msg

    def register(self, nick, caps=(), user=None, realname=None, timeout=DEFAULT_TIMEOUT):
        """Registers: with caps, CAP LS 302 / CAP REQ / CAP END first; then
        NICK and USER; waits for 001 and the end of the MOTD (376 or 422).
        Returns every line received during registration."""
        caps = list(caps)
        if caps:
            self.cap_ls(timeout)
            missing = [c for c in caps if c not in self.caps_available]
            assert not missing, "%s: server does not offer %s (offers %s)" % (
                self.name, missing, sorted(self.caps_available))
            ack = self.cap_req(caps, timeout)
            assert ack.params[1] == "ACK", "%s: CAP REQ refused: %s" % (self.name, ack.raw)
            assert set(ack.params[-1].split()) == set(caps), ack.raw
        self.send("NICK %s" % nick)
        self.send("USER %s 0 * :%s" % (user or "qtest", realname or "Real " + nick))
        if caps:
            self.send("CAP END")
        lines = self.collect("001", timeout)
        self.nick = lines[-1].params[0]
        lines += self.collect(("376", "422"), timeout)
        for m in lines:
            if m.command == "005":
                for tok in m.params[1:-1]:
                    key, _, value = tok.partition("=")
                    self.isupport[key] = value if "=" in tok else None
        return lines

    def join(self, channel, timeout=DEFAULT_TIMEOUT, key=None):
        """JOINs and waits for the end of NAMES; returns the lines."""
        self.send("JOIN %s%s" % (channel, " " + key if key else ""))
        return self.collect("366", timeout)

    def names(self, channel, timeout=DEFAULT_TIMEOUT):
        """NAMES; returns the list of entries (with prefixes) from 353."""
        self.send("NAMES %s" % channel)
        lines = self.collect("366", timeout)
        out = []
        for m in lines:
            if m.command == "353":
                out.extend(m.params[-1].split())
        return out


def split_prefixes(entry, prefixes="~&@%+"):
    """'@+nick!u@h' -> ('@+', 'nick!u@h')."""
    i = 0
    while i < len(entry) and entry[i] in prefixes:
        i += 1
    return entry[:i], entry[i:]


SERVER_TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
