// connection.js - the WebSocket carrying IRC.
//
// What it owns: one WebSocket to /irc on the page's own origin (ws: or wss:
// following the page's http: or https:), subprotocol text.ircv3.net (one
// IRC line per text message, no CRLF); binary.ircv3.net frames are decoded
// as UTF-8 too if the server picks it.
//
// Invariants: send() takes one line and refuses CR, LF and NUL, so one call
// is one IRC message; lines are sent only while the socket is open (earlier
// ones are dropped and reported by the return value); handlers are called on
// the page's event loop, one line at a time, in arrival order.
//
// Threads: browser main thread.

export function ircUrl(loc = window.location) {
  const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${scheme}//${loc.host}/irc`;
}

export class Connection {
  constructor({ url = ircUrl(), onLine = () => {}, onOpen = () => {}, onClose = () => {}, onSend = () => {} } = {}) {
    this.url = url;
    this.onLine = onLine;
    this.onOpen = onOpen;
    this.onClose = onClose;
    this.onSend = onSend;
    this.ws = null;
    this.decoder = new TextDecoder('utf-8');
  }

  open() {
    const ws = new WebSocket(this.url, ['text.ircv3.net', 'binary.ircv3.net']);
    ws.binaryType = 'arraybuffer';
    this.ws = ws;
    ws.addEventListener('open', () => this.onOpen());
    ws.addEventListener('message', (ev) => {
      const text = typeof ev.data === 'string' ? ev.data : this.decoder.decode(ev.data);
      // a server may still send CRLF-terminated or several lines per frame
      for (const l of text.split(/\r?\n/)) if (l) this.onLine(l);
    });
    ws.addEventListener('close', (ev) => {
      if (this.ws !== ws) return; // closed by close(), already reported
      this.ws = null;
      this.onClose({ code: ev.code, reason: ev.reason, clean: ev.wasClean });
    });
    ws.addEventListener('error', () => {
      /* a close event follows */
    });
  }

  get isOpen() {
    return !!this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(lineText) {
    if (/[\r\n\0]/.test(lineText)) throw new Error('one IRC line without CR, LF or NUL');
    if (!this.isOpen) return false;
    if (this.ws.protocol === 'binary.ircv3.net') this.ws.send(new TextEncoder().encode(lineText));
    else this.ws.send(lineText);
    this.onSend(lineText);
    return true;
  }

  close() {
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      try {
        ws.close(1000, 'bye');
      } catch {
        /* already closing */
      }
      this.onClose({ code: 1000, reason: 'bye', clean: true });
    }
  }
}
