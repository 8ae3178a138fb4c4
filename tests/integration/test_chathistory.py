"""test_chathistory.py - IRCv3 draft/chathistory and draft/event-playback served
from the network log (issue 5 item 6), through real clients:

  1. LATEST, BEFORE, AFTER, AROUND and BETWEEN with msgid= and timestamp=
     references give the right slices, oldest first, with the original
     msgid and server-time;
  2. without draft/event-playback only PRIVMSG/NOTICE come back; with it
     JOIN, PART and MODE too;
  3. a non-member is refused (FAIL INVALID_TARGET), bad requests get
     FAIL INVALID_PARAMS, a label goes on the BATCH start line;
  4. a redacted message is left out of history but kept in the log;
  5. TARGETS lists channels and direct-message partners by latest time;
  6. history survives a restart (it is read from the log file);
  7. a log written before the history index (its three B-tree indexes, no
     runs) is upgraded at start-up, says so, and serves the same history.
"""

import sqlite3
import time

HIST_CAPS = ("batch", "message-tags", "server-time", "echo-message", "labeled-response",
             "draft/chathistory")


def history(c, line):
    """Sends a CHATHISTORY line; returns (batch start, lines inside)."""
    c.send(line)
    start = c.expect("BATCH", pred=lambda m: m.params[0].startswith("+"))
    ref = start.params[0][1:]
    lines = c.collect("BATCH", pred=lambda m: m.params[0] == "-" + ref)
    inside = lines[:-1]
    for m in inside:
        assert m.tags.get("batch") == ref, m.raw
    return start, inside


def texts(lines):
    return [m.params[-1] for m in lines if m.command == "PRIVMSG"]


def send_numbered(c, target, n, word="message"):
    """Sends n messages (distinct times); returns their echoes."""
    echoes = []
    for i in range(n):
        c.send("PRIVMSG %s :%s %d" % (target, word, i))
        echoes.append(c.expect("PRIVMSG", pred=lambda m, i=i: m.last == "%s %d" % (word, i)))
        time.sleep(0.003)
    return echoes


def test_subcommands_slice_history(server):
    a = server.client("alice", caps=HIST_CAPS)
    a.join("#hist")
    e = send_numbered(a, "#hist", 10)
    want = ["message %d" % i for i in range(10)]
    ids = [m.tags["msgid"] for m in e]
    times = [m.tags["time"] for m in e]

    start, got = history(a, "CHATHISTORY LATEST #hist * 50")
    assert start.params[1:] == ["chathistory", "#hist"], start.raw
    assert texts(got) == want
    # the original msgid, time and source come back
    assert [m.tags["msgid"] for m in got] == ids
    assert [m.tags["time"] for m in got] == times
    assert all(m.prefix.startswith("alice!") for m in got)

    assert texts(history(a, "CHATHISTORY LATEST #hist * 3")[1]) == want[-3:]
    assert texts(history(a, "CHATHISTORY LATEST #hist msgid=%s 50" % ids[4])[1]) == want[5:]
    assert texts(history(a, "CHATHISTORY BEFORE #hist msgid=%s 50" % ids[6])[1]) == want[:6]
    assert texts(history(a, "CHATHISTORY BEFORE #hist timestamp=%s 2" % times[6])[1]) == want[4:6]
    assert texts(history(a, "CHATHISTORY AFTER #hist msgid=%s 3" % ids[3])[1]) == want[4:7]
    assert texts(history(a, "CHATHISTORY AFTER #hist timestamp=%s 50" % times[3])[1]) == want[4:]
    assert texts(history(a, "CHATHISTORY AROUND #hist msgid=%s 1" % ids[7])[1]) == [want[7]]
    assert texts(history(a, "CHATHISTORY AROUND #hist msgid=%s 3" % ids[7])[1]) == want[6:9]
    assert texts(history(a, "CHATHISTORY BETWEEN #hist msgid=%s msgid=%s 50"
                         % (ids[0], ids[9]))[1]) == want[1:9]
    # backwards: counted from the first reference
    assert texts(history(a, "CHATHISTORY BETWEEN #hist msgid=%s msgid=%s 3"
                         % (ids[9], ids[0]))[1]) == want[6:9]
    assert texts(history(a, "CHATHISTORY BETWEEN #hist timestamp=%s timestamp=%s 3"
                         % (times[0], times[9]))[1]) == want[1:4]
    # an unknown msgid: an empty batch
    assert history(a, "CHATHISTORY BEFORE #hist msgid=nosuchid 10")[1] == []


def test_event_playback_on_and_off(server):
    a = server.client("alice", caps=HIST_CAPS + ("draft/event-playback",))
    b = server.client("bob", caps=HIST_CAPS)
    a.join("#ev")
    b.join("#ev")
    a.expect("JOIN", pred=lambda m: m.nick == "bob")
    a.send("MODE #ev +v bob")
    a.expect("MODE")
    a.send("PRIVMSG #ev :hello")
    a.expect("PRIVMSG")
    b.send("PART #ev :bye")
    a.expect("PART")
    b.join("#ev")
    a.expect("JOIN", pred=lambda m: m.nick == "bob")
    # events are appended in order but only messages wait for the commit;
    # a message after them makes sure everything before is readable
    a.send("PRIVMSG #ev :welcome back")
    a.expect("PRIVMSG", pred=lambda m: m.last == "welcome back")

    got = history(a, "CHATHISTORY LATEST #ev * 50")[1]
    kinds = [m.command for m in got]
    assert kinds == ["JOIN", "JOIN", "MODE", "PRIVMSG", "PART", "JOIN", "PRIVMSG"], \
        [m.raw for m in got]
    mode = got[2]
    # the log keeps the mode letters ("modes"); their arguments are not logged yet
    assert mode.params[:2] == ["#ev", "+v"], mode.raw
    assert got[4].params == ["#ev", "bye"], got[4].raw

    got = history(b, "CHATHISTORY LATEST #ev * 50")[1]
    assert [m.command for m in got] == ["PRIVMSG", "PRIVMSG"], [m.raw for m in got]

    # a reference to an event's msgid (a counter id, found through the log's
    # index) and to a message's (a log id, found by its seq)
    got_a = history(a, "CHATHISTORY LATEST #ev * 50")[1]
    hello_id, part_id = got_a[3].tags["msgid"], got_a[4].tags["msgid"]
    assert hello_id[0] == "1" and part_id[0] != "1", (hello_id, part_id)
    got_a = history(a, "CHATHISTORY AFTER #ev msgid=%s 10" % part_id)[1]
    assert [m.command for m in got_a] == ["JOIN", "PRIVMSG"], [m.raw for m in got_a]
    got_a = history(a, "CHATHISTORY BETWEEN #ev msgid=%s msgid=%s 10" % (hello_id, part_id))[1]
    assert got_a == [], [m.raw for m in got_a]  # nothing strictly between them
    got_a = history(a, "CHATHISTORY BEFORE #ev msgid=%s 10" % hello_id)[1]
    assert [m.command for m in got_a] == ["JOIN", "JOIN", "MODE"], [m.raw for m in got_a]


def test_refusals_and_labels(server):
    a = server.client("alice", caps=HIST_CAPS + ("standard-replies",))
    b = server.client("bob", caps=HIST_CAPS)
    b.join("#private")
    b.send("PRIVMSG #private :secret")
    b.expect("PRIVMSG")
    a.send("CHATHISTORY LATEST #private * 10")
    m = a.expect("FAIL")
    assert m.params[:4] == ["CHATHISTORY", "INVALID_TARGET", "LATEST", "#private"], m.raw
    a.send("CHATHISTORY LATEST #nosuch * 10")
    assert a.expect("FAIL").params[1] == "INVALID_TARGET"
    for bad in ("CHATHISTORY SIDEWAYS #x * 10", "CHATHISTORY LATEST #x * 0",
                "CHATHISTORY BEFORE #x * 10", "CHATHISTORY AFTER #x timestamp=yesterday 5",
                "CHATHISTORY BETWEEN #x * 10", "CHATHISTORY TARGETS msgid=a msgid=b 5"):
        a.send(bad)
        m = a.expect("FAIL")
        assert m.params[:2] == ["CHATHISTORY", "INVALID_PARAMS"], (bad, m.raw)
    # a labeled request: the label is on the BATCH start line
    a.join("#mine")
    a.send("@label=h1 CHATHISTORY LATEST #mine * 10")
    start = a.expect("BATCH")
    assert start.tags.get("label") == "h1" and start.params[1] == "chathistory", start.raw
    a.expect("BATCH", pred=lambda m: m.params[0] == "-" + start.params[0][1:])


def test_redacted_message_is_hidden_but_logged(server):
    a = server.client("alice", caps=HIST_CAPS + ("draft/message-redaction",))
    a.join("#red")
    e = send_numbered(a, "#red", 3)
    gone = e[1].tags["msgid"]
    a.send("REDACT #red %s :oops" % gone)
    a.expect("REDACT")
    # the redaction is appended before this message, which waits for the
    # commit: once it is echoed the redaction is readable too
    a.send("PRIVMSG #red :after")
    a.expect("PRIVMSG", pred=lambda m: m.last == "after")
    got = history(a, "CHATHISTORY LATEST #red * 10")[1]
    assert texts(got) == ["message 0", "message 2", "after"]
    server.log_sync()
    conn = sqlite3.connect("file:%s?mode=ro" % server.netlog_path, uri=True, timeout=5)
    kinds = [r[0] for r in conn.execute("SELECT kind FROM events WHERE msgid = ? ORDER BY seq",
                                        (gone,))]
    conn.close()
    assert kinds == ["msg", "redact"]


def test_direct_messages_and_targets(server):
    a = server.client("alice", caps=HIST_CAPS)
    b = server.client("bob", caps=HIST_CAPS)
    a.join("#t1")
    a.send("PRIVMSG #t1 :in the channel")
    t_chan = a.expect("PRIVMSG").tags["time"]
    time.sleep(0.005)
    a.send("PRIVMSG bob :hi bob")
    a.expect("PRIVMSG")
    time.sleep(0.005)
    b.expect("PRIVMSG", pred=lambda m: m.last == "hi bob")
    b.send("PRIVMSG alice :hi alice")
    t_dm = b.expect("PRIVMSG").tags["time"]
    a.expect("PRIVMSG", pred=lambda m: m.last == "hi alice")

    start, got = history(a, "CHATHISTORY LATEST BOB * 10")
    assert start.params[2] == "BOB"  # the name the client asked with
    assert texts(got) == ["hi bob", "hi alice"]
    assert [m.params[0] for m in got] == ["bob", "alice"]
    assert texts(history(b, "CHATHISTORY LATEST alice * 10")[1]) == ["hi bob", "hi alice"]
    # a third party sees nothing of it
    c = server.client("carol", caps=HIST_CAPS)
    assert history(c, "CHATHISTORY LATEST bob * 10")[1] == []

    a.send("CHATHISTORY TARGETS timestamp=2020-01-01T00:00:00.000Z "
           "timestamp=2262-01-01T00:00:00.000Z 10")
    start = a.expect("BATCH")
    assert start.params[1] == "draft/chathistory-targets", start.raw
    lines = a.collect("BATCH", pred=lambda m: m.params[0] == "-" + start.params[0][1:])
    got = [(m.params[1], m.params[2]) for m in lines if m.command == "CHATHISTORY"]
    assert got == [("#t1", t_chan), ("bob", t_dm)], got


def stop_after_three(server, channel, word):
    """alice says three things in channel, then the server stops."""
    a = server.client("alice", caps=HIST_CAPS)
    a.join(channel)
    send_numbered(a, channel, 3, word=word)
    a.close()
    assert server.stop() == 0, server.stderr()


def test_history_survives_restart(server):
    stop_after_three(server, "#keep", "kept")
    server.start()
    a = server.client("alice", caps=HIST_CAPS + ("draft/event-playback",))
    a.join("#keep")
    got = history(a, "CHATHISTORY LATEST #keep * 10")[1]
    assert texts(got) == ["kept 0", "kept 1", "kept 2"]
    # the earlier session's join and quit are events of the channel too
    assert [m.command for m in got][:1] == ["JOIN"]
    assert "QUIT" in [m.command for m in got]


# the history indexes every log had before the history index (2026-12)
OLD_INDEXES = """
DROP TABLE runs; DROP TABLE runs_upto;
DROP INDEX events_dm_target; DROP INDEX events_dm_account;
CREATE INDEX events_target_at ON events (target, at) WHERE target IS NOT NULL;
CREATE INDEX events_code_at ON events (code, at) WHERE code IS NOT NULL;
CREATE INDEX events_account_at ON events (account_id, at) WHERE account_id IS NOT NULL;
"""


def test_history_from_a_log_made_before_the_history_index(server):
    stop_after_three(server, "#old", "old")
    db = sqlite3.connect(server.netlog_path)
    db.executescript(OLD_INDEXES)
    db.close()
    server.start()
    assert "replacing the log's history indexes by the history index" in server.stderr()
    a = server.client("alice", caps=HIST_CAPS)
    a.join("#old")
    assert texts(history(a, "CHATHISTORY LATEST #old * 10")[1]) == ["old 0", "old 1", "old 2"]
    a.send("CHATHISTORY TARGETS timestamp=2020-01-01T00:00:00.000Z "
           "timestamp=2100-01-01T00:00:00.000Z 10")
    start = a.expect("BATCH")
    lines = a.collect("BATCH", pred=lambda m: m.params[0] == "-" + start.params[0][1:])
    assert [m.params[1] for m in lines if m.command == "CHATHISTORY"] == ["#old"]
    db = sqlite3.connect(server.netlog_path)
    names = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not names & {"events_target_at", "events_code_at", "events_account_at"}, names
    assert db.execute("SELECT sum(n) FROM runs WHERE axis = 'target' AND key = '#old'"
                      ).fetchone()[0] >= 3 + 1  # the messages and the join at least
    upto, = db.execute("SELECT seq FROM runs_upto").fetchone()
    assert upto == db.execute("SELECT max(seq) FROM events").fetchone()[0]
    db.close()
