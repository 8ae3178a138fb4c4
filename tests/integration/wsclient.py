"""wsclient.py - a minimal RFC 6455 WebSocket client for the tests, standard
library only: the opening handshake, masked frames out, frames in, and an
IRC layer (one IRC line per message) shaped like ircclient.IRCClient so the
WebSocket and TCP clients can be used side by side.

Not a general client: no extensions, no fragmentation of what it sends
(unless asked), no TLS. `raw_frames` keeps the exact bytes of every frame
received, for the byte-identical shared-frame test.
"""

import base64
import hashlib
import os
import socket
import struct
import time

from ircclient import ConnectionClosed, parse_message

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
DEFAULT_TIMEOUT = 5.0


class HandshakeError(Exception):
    def __init__(self, status, head):
        super().__init__("WebSocket handshake refused: %s" % status)
        self.status = status
        self.head = head


class WSClient:
    def __init__(self, host, port, path="/irc", protocols=("text.ircv3.net",),
                 timeout=DEFAULT_TIMEOUT, name=None, extra_headers=(), sock=None):
        """`sock`: an already connected socket to upgrade (e.g. one that
        already carried HTTP requests, or one with a small SO_RCVBUF)."""
        self.name = name or "ws"
        self.sock = sock or socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.buf = b""
        self.closed = False
        self.raw_frames = []   # bytes of every frame received, in order
        self.log = []          # every IRC Message received
        self.nick = None
        self.auto_pong = True
        key = base64.b64encode(os.urandom(16)).decode()
        req = ["GET %s HTTP/1.1" % path, "Host: %s:%d" % (host, port),
               "Upgrade: websocket", "Connection: Upgrade",
               "Sec-WebSocket-Key: " + key, "Sec-WebSocket-Version: 13"]
        if protocols:
            req.append("Sec-WebSocket-Protocol: " + ", ".join(protocols))
        req.extend(extra_headers)
        self.sock.sendall(("\r\n".join(req) + "\r\n\r\n").encode())
        head = self._read_head(time.monotonic() + timeout)
        status = int(head.split(b" ", 2)[1])
        self.headers = {}
        for line in head.split(b"\r\n")[1:]:
            if b":" in line:
                k, v = line.split(b":", 1)
                self.headers[k.strip().lower().decode()] = v.strip().decode()
        if status != 101:
            raise HandshakeError(status, head)
        want = base64.b64encode(hashlib.sha1(key.encode() + GUID).digest()).decode()
        assert self.headers.get("sec-websocket-accept") == want, self.headers
        self.protocol = self.headers.get("sec-websocket-protocol")

    # -- bytes -------------------------------------------------------------

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

    def _read_head(self, deadline):
        while b"\r\n\r\n" not in self.buf:
            self._fill(deadline)
        head, self.buf = self.buf.split(b"\r\n\r\n", 1)
        return head

    def _need(self, n, deadline):
        while len(self.buf) < n:
            self._fill(deadline)

    # -- frames ------------------------------------------------------------

    def send_frame(self, opcode, payload, fin=True, mask=True, rsv=0):
        if isinstance(payload, str):
            payload = payload.encode("utf-8")
        b0 = (0x80 if fin else 0) | (rsv << 4) | opcode
        n = len(payload)
        mbit = 0x80 if mask else 0
        if n < 126:
            head = struct.pack("!BB", b0, mbit | n)
        elif n < 65536:
            head = struct.pack("!BBH", b0, mbit | 126, n)
        else:
            head = struct.pack("!BBQ", b0, mbit | 127, n)
        if mask:
            key = os.urandom(4)
            payload = bytes(c ^ key[i % 4] for i, c in enumerate(payload))
            head += key
        self.sock.sendall(head + payload)

    def recv_frame(self, timeout=DEFAULT_TIMEOUT):
        """Returns (opcode, payload) of the next frame."""
        deadline = time.monotonic() + timeout
        self._need(2, deadline)
        b0, b1 = self.buf[0], self.buf[1]
        assert not b1 & 0x80, "%s: the server masked a frame" % self.name
        n = b1 & 0x7F
        off = 2
        if n == 126:
            self._need(4, deadline)
            n = struct.unpack("!H", self.buf[2:4])[0]
            off = 4
        elif n == 127:
            self._need(10, deadline)
            n = struct.unpack("!Q", self.buf[2:10])[0]
            off = 10
        self._need(off + n, deadline)
        frame, self.buf = self.buf[:off + n], self.buf[off + n:]
        self.raw_frames.append(frame)
        assert b0 & 0x80, "%s: fragmented frame from the server" % self.name
        return b0 & 0x0F, frame[off:]

    def expect_close(self, timeout=DEFAULT_TIMEOUT):
        """Reads frames until a close frame; returns its code (None if
        empty). Then expects the TCP connection to end."""
        deadline = time.monotonic() + timeout
        while True:
            op, payload = self.recv_frame(max(0.01, deadline - time.monotonic()))
            if op == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else None
                try:
                    while True:
                        self._fill(deadline)
                except (ConnectionClosed, socket.timeout):
                    pass
                return code

    # -- IRC -----------------------------------------------------------------

    def send(self, line):
        self.send_frame(0x1 if self.protocol != "binary.ircv3.net" else 0x2, line)

    def recv(self, timeout=DEFAULT_TIMEOUT):
        deadline = time.monotonic() + timeout
        while True:
            op, payload = self.recv_frame(max(0.01, deadline - time.monotonic()))
            if op in (0x1, 0x2):
                assert b"\r" not in payload and b"\n" not in payload, payload
                msg = parse_message(payload.decode("utf-8"))
                self.log.append(msg)
                if self.auto_pong and msg.command == "PING":
                    self.send("PONG :%s" % (msg.last or ""))
                return msg
            if op == 0x8:
                self.closed = True
                raise ConnectionClosed()

    def expect(self, command=None, timeout=DEFAULT_TIMEOUT, pred=None):
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            try:
                m = self.recv(max(0.01, deadline - time.monotonic()))
            except (socket.timeout, ConnectionClosed) as e:
                raise AssertionError("%s: waiting for %s (%s); seen:\n%s" % (
                    self.name, command, type(e).__name__,
                    "\n".join("  " + x.raw for x in seen)))
            seen.append(m)
            cmds = (command,) if isinstance(command, str) else command
            if (cmds is None or m.command in cmds) and (pred is None or pred(m)):
                return m

    def register(self, nick):
        self.send("NICK %s" % nick)
        self.send("USER %s 0 * :WebSocket user" % nick)
        self.expect("001")
        self.nick = nick
        self.expect(("376", "422"))  # end of the MOTD: registration is over
        return self

    def close(self):
        if self.sock is not None:
            try:
                self.sock.close()
            except OSError:
                pass
            self.sock = None
        self.closed = True
