"""test_reports.py - reports to the competent department (issue 6 item 7,
SPEC §10) through the real daemon: `qunctl reports create` makes a report,
the outbox writes a signed file into the spool and POSTs it to a small
local receiver (http.server on 127.0.0.1 in a thread).

What is checked, with nothing but the public key file and the standard
library (plus `cryptography` for Ed25519):
- the spool file's signature over the document's canonical bytes
  (RFC 8785 form: sorted keys, no whitespace, UTF-8);
- each evidence record's leaf (RFC 6962, the fields of src/netlog/event.h)
  and its inclusion proof up to the signed checkpoint's root, and the
  checkpoint note's own signature;
- retries with exponential backoff driven by the moderation clock
  (clock_advance, never sleeps), the same Idempotency-Key on every attempt,
  a 400 failing at once, `reports retry`, acknowledgement by the receiver
  and by an operator, a pending report surviving a restart and a report
  waiting for a checkpoint before it is sealed;
- the rows (reports, report_attempts) and the network-log events.
"""

import base64
import hashlib
import http.server
import json
import os
import stat
import threading
import time

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from identity_helpers import (clock_advance, db_rows, db_wait, leveled_user, log_rows, log_wait,
                              qunctl, qunctl_json)

SPOOL = "data/reports"  # relative to the daemon's work directory


# ---------------------------------------------------------------- receiver

class Receiver:
    """Answers POSTs with the scripted (status, body) pairs, then the last
    one forever; keeps every request."""

    def __init__(self, script):
        self.script = list(script)
        self.requests = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                n = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(n)
                with outer.lock:
                    outer.requests.append({"path": self.path,
                                           "idem": self.headers.get("Idempotency-Key"),
                                           "type": self.headers.get("Content-Type"),
                                           "body": json.loads(body)})
                    status, text = outer.script[0]
                    if len(outer.script) > 1:
                        outer.script.pop(0)
                data = text.encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/reports" % self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def set_script(self, script):
        with self.lock:
            self.script = list(script)

    def count(self):
        with self.lock:
            return len(self.requests)

    def wait(self, n, timeout=10.0):
        deadline = time.monotonic() + timeout
        while self.count() < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.count() >= n, "receiver got %d request(s), wanted %d" % (self.count(), n)
        return self.requests[n - 1]

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


def report_server(qund_factory, reports=None, netlog=None):
    cfg = {"identity": {"provider": "dev", "sms": "dev", "post_level": 1, "create_level": 2,
                        "max_accounts_per_identity": 100},
           "netlog": dict({"checkpoint_seconds": 1}, **(netlog or {})),
           "reports": dict({"spool_dir": SPOOL, "backoff_base": 60, "backoff_max": 3600,
                            "max_attempts": 5, "http_timeout": 5}, **(reports or {}))}
    return qund_factory(**cfg)


def status_of(srv, rid):
    rows = db_rows(srv, "SELECT status FROM reports WHERE id = ?", (rid,))
    return rows[0][0] if rows else None


def wait_status(srv, rid, want, timeout=10.0):
    rows = db_wait(srv, "SELECT status FROM reports WHERE id = ?", (rid,),
                   want=lambda r: r and r[0][0] == want, timeout=timeout)
    assert rows and rows[0][0] == want, (rid, rows, want)


def create(srv, *args):
    return qunctl_json(srv, "reports", "create", *args)["id"]


def log_events(srv, kind, rid):
    rows = log_rows(srv, "SELECT body FROM events WHERE kind = ? ORDER BY seq", (kind,))
    return [json.loads(b) for (b,) in rows if json.loads(b).get("id") == rid]


# ---------------------------------------------------------------- checking

def load_pub(srv):
    """name, key id (4 bytes) and the Ed25519 public key of netlog.key.pub."""
    with open(srv.netlog_key + ".pub") as f:
        name, key_id, k64 = f.read().strip().split("+", 2)
    raw = base64.b64decode(k64)
    assert raw[0] == 1 and len(raw) == 33
    return name, key_id, Ed25519PublicKey.from_public_bytes(raw[1:])


def canonical(doc):
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode()


def check_signature(srv, env):
    name, key_id, pk = load_pub(srv)
    sig = env["signature"]
    assert sig["algorithm"] == "Ed25519" and sig["key_name"] == name and sig["key_id"] == key_id
    pk.verify(base64.b64decode(sig["value"]), canonical(env["document"]))  # raises if bad
    forged = json.loads(json.dumps(env["document"]))
    forged["measures"] = "nothing was done"
    try:
        pk.verify(base64.b64decode(sig["value"]), canonical(forged))
    except InvalidSignature:
        pass
    else:
        raise AssertionError("a changed document still verifies")


def leaf_hash(ev):
    """RFC 6962 leaf of a network-log event (src/netlog/event.h)."""
    out = b""
    for key in ("seq", "at", "kind", "actor", "target", "code", "account_id", "msgid", "body"):
        v = ev[key]
        if key in ("seq", "at", "code", "account_id"):
            b = str(v or 0).encode()
        else:
            b = (v or "").encode()
        out += len(b).to_bytes(4, "big") + b
    return hashlib.sha256(b"\x00" + out).digest()


def node(a, b):
    return hashlib.sha256(b"\x01" + a + b).digest()


def root_from_path(leaf, index, size, path):
    """RFC 9162 §2.1.3.2: the root an audit path leads to."""
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return None
        if fn & 1 or fn == sn:
            r = node(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node(r, p)
        fn >>= 1
        sn >>= 1
    return r if sn == 0 else None


def check_checkpoint(srv, cp):
    """The note is signed by the log key and names the root and size given."""
    name, key_id, pk = load_pub(srv)
    note = cp["note"]
    body, _, sigs = note.partition("\n\n")
    body += "\n"
    origin, size, root64 = body.splitlines()
    assert int(size) == cp["size"] and base64.b64decode(root64).hex() == cp["root"]
    line = [s for s in sigs.splitlines() if s.startswith("\u2014 %s " % name)][0]
    raw = base64.b64decode(line.split(" ")[2])
    assert raw[:4].hex() == key_id
    pk.verify(raw[4:], body.encode())


def check_proofs(srv, doc, seqs):
    ev = doc["evidence"]
    cp = ev["checkpoint"]
    check_checkpoint(srv, cp)
    root = bytes.fromhex(cp["root"])
    assert [r["event"]["seq"] for r in ev["records"]] == seqs
    for rec in ev["records"]:
        e = rec["event"]
        leaf = leaf_hash(e)
        assert leaf.hex() == e["leaf"]
        path = [bytes.fromhex(h) for h in rec["path"]]
        assert rec["index"] == e["seq"] - 1
        assert root_from_path(leaf, rec["index"], cp["size"], path) == root
        # the same proof does not carry a changed event
        changed = dict(e, body=(e["body"] or "") + "x")
        assert root_from_path(leaf_hash(changed), rec["index"], cp["size"], path) != root
    # and the events are the log's own rows
    for rec in ev["records"]:
        row = log_rows(srv, "SELECT kind, actor, body FROM events WHERE seq = ?",
                       (rec["event"]["seq"],))
        assert row == [(rec["event"]["kind"], rec["event"]["actor"], rec["event"]["body"])]


def spool_file(srv, rid):
    return os.path.join(srv.workdir, SPOOL, "%d.json" % rid)


def wait_spooled(srv, rid, timeout=15.0):
    """The file appears once a checkpoint covers the evidence; the outbox
    looks again on each tick of the moderation clock (advanced by 1 s)."""
    path = spool_file(srv, rid)
    deadline = time.monotonic() + timeout
    while not os.path.exists(path) and time.monotonic() < deadline:
        clock_advance(srv, 1)
        time.sleep(0.1)
    assert os.path.exists(path), "no %s; daemon log:\n%s" % (path, srv.stderr()[-3000:])
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ---------------------------------------------------------------- tests

def test_spool_file_signed_with_proofs(qund_factory):
    srv = report_server(qund_factory)
    leveled_user(srv, "坏人")
    # the log commits on its own thread: wait for the user's events
    rows = log_wait(srv, "SELECT seq FROM events WHERE actor = ? OR target = ? ORDER BY seq",
                    ("坏人", "坏人"), want=lambda rows: len(rows) >= 3)
    seqs = [r[0] for r in rows][:3]
    assert len(seqs) >= 2, rows
    rid = create(srv, "--account", "坏人", "--reason", "散布谣言 (rule 7)", "--measures",
                 "posting suspended for 7 days; credit -100", "--severity", "serious",
                 "--evidence", "complaint:12", "--seqs", ",".join(map(str, seqs)), "--kind",
                 "decision")
    env = wait_spooled(srv, rid)
    assert env["format"] == "qun-report-envelope/1"
    check_signature(srv, env)
    doc = env["document"]
    assert doc["id"] == rid and doc["kind"] == "decision" and doc["severity"] == "serious"
    assert doc["reason"] == "散布谣言 (rule 7)" and doc["evidence"]["text"] == "complaint:12"
    assert doc["author"].startswith("unix:")
    assert doc["created"].endswith("Z") and "T" in doc["created"]
    assert len(doc["idempotency_key"]) == 32 and int(doc["idempotency_key"], 16) >= 0
    # the identity reference is the vault's keyed hash, never the identity
    (ihash,) = db_rows(srv, "SELECT identity_hash FROM accounts WHERE name = ?", ("坏人",))[0]
    assert doc["subject"]["account"] == "坏人" and doc["subject"]["identity_ref"] == ihash.hex()
    text = open(spool_file(srv, rid), encoding="utf-8").read()
    assert "测试用户" not in text  # the real name given at level 2
    check_proofs(srv, doc, seqs)
    # private files: directory 0700, file 0600, nothing half-written left
    spool = os.path.join(srv.workdir, SPOOL)
    assert stat.S_IMODE(os.stat(spool).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(spool_file(srv, rid)).st_mode) == 0o600
    assert sorted(os.listdir(spool)) == ["%d.json" % rid]
    # row, attempts and network-log events
    wait_status(srv, rid, "delivered")
    row = db_rows(srv, "SELECT kind, subject, sealed, attempts, idem_key, spool_done, http_done"
                       " FROM reports WHERE id = ?", (rid,))
    assert row == [("decision", "坏人", 1, 1, doc["idempotency_key"], 1, 0)], row
    assert db_rows(srv, "SELECT sink, ok FROM report_attempts WHERE report_id = ?",
                   (rid,)) == [("spool", 1)]
    created = [json.loads(b) for (b,) in log_rows(
        srv, "SELECT body FROM events WHERE kind = 'report'")]
    assert [e["id"] for e in created] == [rid] and created[0]["seqs"] == seqs
    assert [e["sink"] for e in log_events(srv, "report.delivered", rid)] == ["spool"]
    # qunctl show: the document and the attempts
    shown = qunctl_json(srv, "reports", "show", str(rid))
    assert shown["document"] == doc and shown["status"] == "delivered"
    assert [a["sink"] for a in shown["attempt_log"]] == ["spool"]
    listed = qunctl_json(srv, "reports", "list", "--status", "delivered")
    assert [r["id"] for r in listed] == [rid]
    assert qunctl_json(srv, "reports", "list", "--status", "failed") == []


def test_http_retries_with_backoff_and_one_idempotency_key(qund_factory):
    rx = Receiver([(503, "{}"), (503, "{}"), (200, "{}")])
    try:
        srv = report_server(qund_factory, reports={"http_url": rx.url})
        leveled_user(srv, "刷屏者")
        rid = create(srv, "--account", "刷屏者", "--reason", "flood", "--measures",
                     "posting suspended for one day")
        first = rx.wait(1)  # attempt 1 at once: 503
        assert first["type"] == "application/json"
        check_signature(srv, first["body"])
        db_wait(srv, "SELECT attempts FROM reports WHERE id = ?", (rid,),
                want=lambda r: r == [(1,)])
        assert status_of(srv, rid) == "pending"
        assert os.path.exists(spool_file(srv, rid))  # the spool sink succeeded already
        clock_advance(srv, 30)  # backoff 60 s: not yet
        time.sleep(0.3)
        assert rx.count() == 1
        clock_advance(srv, 31)
        rx.wait(2)  # attempt 2: 503 again; now 120 s
        db_wait(srv, "SELECT attempts FROM reports WHERE id = ?", (rid,),
                want=lambda r: r == [(2,)])
        clock_advance(srv, 61)
        time.sleep(0.3)
        assert rx.count() == 2, "the second backoff is longer than the first"
        clock_advance(srv, 60)
        rx.wait(3)
        wait_status(srv, rid, "delivered")
        keys = {r["idem"] for r in rx.requests}
        doc = rx.requests[0]["body"]["document"]
        assert keys == {doc["idempotency_key"]}, keys
        assert all(r["body"] == rx.requests[0]["body"] for r in rx.requests)
        attempts = db_rows(srv, "SELECT sink, ok FROM report_attempts WHERE report_id = ?"
                                " ORDER BY id", (rid,))
        assert attempts == [("spool", 1), ("http", 0), ("http", 0), ("http", 1)], attempts
        failed = log_events(srv, "report.failed", rid)
        assert [(e["sink"], e["http_status"], e["final"]) for e in failed] == \
            [("http", 503, False), ("http", 503, False)]
        assert sorted(e["sink"] for e in log_events(srv, "report.delivered", rid)) == \
            ["http", "spool"]
    finally:
        rx.close()


def test_refused_report_fails_then_retry_and_acknowledgements(qund_factory):
    rx = Receiver([(400, '{"error":"bad"}'), (200, "{}")])
    try:
        srv = report_server(qund_factory, reports={"http_url": rx.url, "spool_dir": ""})
        leveled_user(srv, "违规者")
        rid = create(srv, "--account", "违规者", "--reason", "rule 3", "--measures", "blacklisted",
                     "--kind", "blacklist", "--severity", "severe")
        rx.wait(1)
        wait_status(srv, rid, "failed")  # a 400 is not retried
        (err,) = db_rows(srv, "SELECT last_error FROM reports WHERE id = ?", (rid,))[0]
        assert "HTTP 400" in err
        clock_advance(srv, 7200)
        time.sleep(0.3)
        assert rx.count() == 1
        assert [e["final"] for e in log_events(srv, "report.failed", rid)] == [True]
        assert not os.path.exists(os.path.join(srv.workdir, SPOOL))  # spool off
        # a failed report goes back to pending and is delivered
        assert qunctl_json(srv, "reports", "retry", str(rid))["status"] == "pending"
        rx.wait(2)
        wait_status(srv, rid, "delivered")
        assert rx.requests[1]["idem"] == rx.requests[0]["idem"]
        assert len(log_events(srv, "report.retry", rid)) == 1
        r = qunctl(srv, "reports", "retry", str(rid))
        assert r.returncode == 1 and "delivered already" in r.stderr, (r.stdout, r.stderr)
        # an operator acknowledges it (the authority confirmed receipt)
        assert qunctl_json(srv, "reports", "ack", str(rid))["status"] == "acknowledged"
        wait_status(srv, rid, "acknowledged")
        (by,) = db_rows(srv, "SELECT acked_by FROM reports WHERE id = ?", (rid,))[0]
        assert by.startswith("unix:")
        assert [e["by"] for e in log_events(srv, "report.acknowledged", rid)] == [by]
        r = qunctl(srv, "reports", "ack", str(rid))
        assert r.returncode == 1 and "already" in r.stderr
        # a receiver that acknowledges in its reply
        rx.set_script([(201, '{"acknowledged": true}')])
        rid2 = create(srv, "--account", "违规者", "--reason", "rule 4", "--measures", "warned")
        rx.wait(3)
        wait_status(srv, rid2, "acknowledged")
        assert [e["by"] for e in log_events(srv, "report.acknowledged", rid2)] == ["receiver"]
        # refusals are sentences, nothing is created
        r = qunctl(srv, "reports", "create", "--reason", "x", "--measures", "y")
        assert r.returncode == 1 and "subject account or a group" in r.stderr
        r = qunctl(srv, "reports", "create", "--account", "违规者", "--reason", "x",
                   "--measures", "y", "--seqs", "999999")
        assert r.returncode == 1 and "does not exist" in r.stderr
        r = qunctl(srv, "reports", "show", "999")
        assert r.returncode == 1 and "no report 999" in r.stderr
        assert len(db_rows(srv, "SELECT id FROM reports")) == 2
    finally:
        rx.close()


def test_pending_reports_survive_a_restart(qund_factory):
    rx = Receiver([(503, "{}")])
    try:
        # no checkpoint until shutdown: the proven report must wait
        srv = report_server(qund_factory, reports={"http_url": rx.url},
                            netlog={"checkpoint_seconds": 86400,
                                    "checkpoint_events": 10000000})
        leveled_user(srv, "嫌疑人")
        (seq,) = log_rows(srv, "SELECT max(seq) FROM events")[0]
        waiting = create(srv, "--account", "嫌疑人", "--reason", "r", "--measures", "m",
                         "--seqs", str(seq))
        posted = create(srv, "--account", "嫌疑人", "--reason", "r2", "--measures", "m2")
        rx.wait(1)
        db_wait(srv, "SELECT attempts FROM reports WHERE id = ?", (posted,),
                want=lambda r: r == [(1,)])
        clock_advance(srv, 5)
        time.sleep(0.3)
        shown = qunctl_json(srv, "reports", "show", str(waiting))
        assert shown["status"] == "pending" and shown["waiting_for_checkpoint"] is True
        assert not os.path.exists(spool_file(srv, waiting))
        assert rx.count() == 1  # only `posted`; `waiting` is not sealed
        key = rx.requests[0]["idem"]
        assert srv.stop() == 0
        rx.set_script([(200, "{}")])
        srv.start()  # the shutdown wrote a checkpoint covering seq
        env = wait_spooled(srv, waiting)
        check_signature(srv, env)
        check_proofs(srv, env["document"], [seq])
        clock_advance(srv, 61)  # `posted`'s backoff is still owed after the restart
        wait_status(srv, posted, "delivered")
        wait_status(srv, waiting, "delivered")
        by_doc = {r["body"]["document"]["id"]: r["idem"] for r in rx.requests}
        assert by_doc[posted] == key
        assert {r["idem"] for r in rx.requests if r["body"]["document"]["id"] == posted} == {key}
        # nothing in the network log was changed: events of all kinds are append-only
        kinds = [k for (k,) in log_rows(srv, "SELECT kind FROM events WHERE kind LIKE 'report%'")]
        assert kinds.count("report") == 2
    finally:
        rx.close()
