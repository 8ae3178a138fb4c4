"""test_rules.py - the automatic rules on group messages (issue 6 item 4,
rules art. 10, docs/rules.md) through real clients against the real daemon:
flood, duplicate spam across groups, literal (Chinese) and regex pattern
sets with the actions block, hold (ChanServ HELD / RELEASE / REJECT) and
flag; every hit in the network log, every deduction a credit event; a bad
pattern file refuses start-up with file:line and, at SIGHUP, keeps the old
rules.

Time moves with clock_advance (the moderation clock), never by sleeping.
"""

import json
import os
import signal
import time

from conftest import QundServer, make_data_dir, make_world_readable_dir, pick_port, write_file
from identity_helpers import clock_advance, db_rows, db_wait, log_rows, log_wait
from test_groups import fail_of, group_server, join_ok, verified_user


def hits(srv, kind, rule):
    rows = log_rows(srv, "SELECT seq, actor, target, code, account_id, body FROM events"
                         " WHERE kind = ? ORDER BY seq", (kind,))
    return [r[:5] + (json.loads(r[5]),) for r in rows if json.loads(r[5]).get("rule") == rule]


def account_id(srv, name):
    return db_rows(srv, "SELECT id FROM accounts WHERE name = ?", (name,))[0][0]


def credit_rows(srv, name, want=lambda rows: rows):
    return db_wait(srv, "SELECT delta, reason, evidence, author FROM credit_events"
                        " WHERE account_id = ? ORDER BY id", (account_id(srv, name),), want)


def pattern_file(text, name="patterns.txt"):
    d = make_world_readable_dir("qund-rules-")
    path = os.path.join(d, name)
    write_file(path, text)
    os.chmod(path, 0o644)
    return path


def rules_server(qund_factory, **rules):
    return group_server(qund_factory, rules=rules)


def group_of(srv, owner, members, chan):
    """owner creates chan; members join; returns once everyone is in."""
    join_ok(owner, chan)
    for m in members:
        join_ok(m, chan)
        owner.expect("JOIN", pred=lambda x, m=m: x.nick == m.nick)
    return chan


def blocked(c, chan, want=None):
    m = fail_of(c, "PRIVMSG", "MESSAGE_BLOCKED")
    assert m.params[2] == chan, m.raw
    if want:
        assert want in m.last, m.raw
    return m


def no_db_rewrites(srv):
    """credit_events rows are only ever appended (ids dense, nothing
    removed); the log's seq is dense from 1."""
    ids = [r[0] for r in db_rows(srv, "SELECT id FROM credit_events ORDER BY id")]
    assert ids == list(range(ids[0], ids[0] + len(ids))) if ids else True, ids
    seqs = [r[0] for r in log_rows(srv, "SELECT seq FROM events ORDER BY seq")]
    assert seqs == list(range(1, len(seqs) + 1))


# ---------------------------------------------------------------- flood

def test_flood_over_the_limit_is_blocked_and_deducted(qund_factory):
    srv = rules_server(qund_factory, flood_messages=3, flood_window=10)
    owner = verified_user(srv, "群主")
    talker = verified_user(srv, "话痨")
    group_of(srv, owner, [talker], "#闲聊")
    for i in range(3):
        talker.send("PRIVMSG #闲聊 :消息 %d" % i)
    for i in range(3):
        owner.expect("PRIVMSG", pred=lambda m, i=i: m.last == "消息 %d" % i)
    talker.send("PRIVMSG #闲聊 :第四条")
    m = blocked(talker, "#闲聊", "flood")
    assert "3 messages" in m.last and "10 seconds" in m.last, m.raw
    talker.send("PRIVMSG #闲聊 :第五条")
    blocked(talker, "#闲聊")
    owner.assert_no("PRIVMSG", pred=lambda m: m.last in ("第四条", "第五条"))
    # one deduction for the burst (rules.sanction_seconds), minor: -10
    rows = credit_rows(srv, "话痨")
    assert rows == [(-10, "flood", "rule:flood", "system")], rows
    ev = hits(srv, "rule-hit", "flood")
    assert len(ev) == 2, ev
    assert ev[0][2] == "#闲聊" and ev[0][4] == account_id(srv, "话痨"), ev
    assert ev[0][5]["action"] == "block" and ev[0][5]["text"] == "第四条", ev
    # the window ends: talking is fine again
    clock_advance(srv, 11)
    talker.send("PRIVMSG #闲聊 :又可以说话了")
    owner.expect("PRIVMSG", pred=lambda m: m.last == "又可以说话了")
    no_db_rewrites(srv)


def test_flood_without_standard_replies_gets_404(qund_factory):
    srv = rules_server(qund_factory, flood_messages=1, flood_window=10)
    owner = verified_user(srv, "owner1")
    old = verified_user(srv, "oldclient", caps=())
    group_of(srv, owner, [old], "#plain")
    old.send("PRIVMSG #plain :one")
    old.send("PRIVMSG #plain :two")
    m = old.expect("404")
    assert m.params[1] == "#plain" and "flood" in m.last, m.raw


# ---------------------------------------------------------------- spam

def test_same_text_in_three_groups_is_blocked(qund_factory):
    srv = rules_server(qund_factory, spam_groups=3, spam_window=60)
    owner = verified_user(srv, "店主")
    spammer = verified_user(srv, "广告")
    for g in ("#一群", "#二群", "#三群"):
        group_of(srv, owner, [spammer], g)
    spammer.send("PRIVMSG #一群 :Cheap  Watches 便宜")
    owner.expect("PRIVMSG", pred=lambda m: m.params[0] == "#一群")
    spammer.send("PRIVMSG #二群 :cheap watches 便宜 ")
    owner.expect("PRIVMSG", pred=lambda m: m.params[0] == "#二群")
    spammer.send("PRIVMSG #三群 :CHEAP WATCHES 便宜")
    m = blocked(spammer, "#三群", "duplicate-spam")
    assert "3 groups" in m.last, m.raw
    owner.assert_no("PRIVMSG", pred=lambda m: m.params[0] == "#三群")
    # other text still goes through
    spammer.send("PRIVMSG #三群 :你好")
    owner.expect("PRIVMSG", pred=lambda m: m.params[0] == "#三群" and m.last == "你好")
    assert credit_rows(srv, "广告") == [(-10, "duplicate-spam", "rule:duplicate-spam", "system")]
    ev = hits(srv, "rule-hit", "duplicate-spam")
    assert len(ev) == 1 and ev[0][5]["action"] == "block", ev
    # after the window the text is new again
    clock_advance(srv, 61)
    spammer.send("PRIVMSG #三群 :cheap watches 便宜")
    owner.expect("PRIVMSG", pred=lambda m: m.params[0] == "#三群" and "便宜" in m.last)


# ---------------------------------------------------------------- patterns

def test_literal_chinese_pattern_blocks(qund_factory):
    path = pattern_file("# 禁用词\n\n  违禁词语  \nBadWord\n")
    srv = rules_server(qund_factory, patterns=[
        {"name": "banned-words", "file": path, "kind": "literal", "action": "block",
         "severity": "general"}])
    owner = verified_user(srv, "管理员")
    member = verified_user(srv, "成员")
    group_of(srv, owner, [member], "#词语")
    member.send("PRIVMSG #词语 :这里有违禁词语啊")
    m = blocked(member, "#词语", "banned-words")
    # literal patterns ignore case and width (folded: NFKC + case fold)
    clock_advance(srv, 61)
    member.send("PRIVMSG #词语 :a ＢＡＤｗｏｒｄ here")
    blocked(member, "#词语", "banned-words")
    member.send("PRIVMSG #词语 :正常的话")
    owner.expect("PRIVMSG", pred=lambda m: m.last == "正常的话")
    owner.assert_no("PRIVMSG", pred=lambda m: "违禁" in m.last or "ＢＡＤ" in m.last)
    rows = credit_rows(srv, "成员", want=lambda r: len(r) >= 2)
    assert rows == [(-30, "banned-words", "rule:banned-words", "system")] * 2, rows
    ev = hits(srv, "rule-hit", "banned-words")
    assert [e[5]["text"] for e in ev] == ["这里有违禁词语啊", "a ＢＡＤｗｏｒｄ here"], ev
    assert ev[0][5]["severity"] == "general" and ev[0][3] > 0, ev
    no_db_rewrites(srv)


def test_regex_hold_release_and_reject(qund_factory):
    path = pattern_file("# links\nhttps?://[a-z0-9.]+\\.example\n")
    srv = rules_server(qund_factory, patterns=[
        {"name": "links", "file": path, "kind": "regex", "action": "hold",
         "severity": "minor"}])
    caps = ("standard-replies", "message-tags", "account-tag")
    owner = verified_user(srv, "版主", caps=caps)
    author = verified_user(srv, "作者", caps=caps)
    reader = verified_user(srv, "读者", caps=caps)
    group_of(srv, owner, [author, reader], "#链接")
    author.send("PRIVMSG #链接 :看 HTTP://shop.EXAMPLE/a")
    m = author.expect("NOTE", pred=lambda m: m.params[:2] == ["PRIVMSG", "MESSAGE_HELD"])
    assert m.params[2] == "#链接" and "links" in m.last and "manager" in m.last, m.raw
    n = owner.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "held message" in m.last)
    held_id = int(n.last.split("held message ")[1].split()[0])
    reader.assert_no("PRIVMSG", pred=lambda m: "shop" in m.last)
    # a plain member may not review
    reader.send("PRIVMSG ChanServ :HELD #链接")
    reader.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "Only the owner" in m.last)
    reader.send("PRIVMSG ChanServ :RELEASE %d" % held_id)
    reader.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "Only the owner" in m.last)
    owner.send("PRIVMSG ChanServ :HELD #链接")
    lst = owner.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and
                       m.last.startswith("%d " % held_id))
    assert "作者" in lst.last and "links" in lst.last and "shop.EXAMPLE" in lst.last, lst.raw
    owner.send("PRIVMSG ChanServ :RELEASE %d" % held_id)
    got = reader.expect("PRIVMSG", pred=lambda m: "shop.EXAMPLE" in m.last)
    assert got.nick == "作者" and got.params[0] == "#链接", got.raw
    assert got.tags.get("account") == "作者", got.raw
    owner.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "released" in m.last)
    # in the log, durably, before anyone got it: the delivered msgid is an event
    ev = log_rows(srv, "SELECT seq, kind, body FROM events WHERE msgid = ?", (got.tags["msgid"],))
    assert len(ev) == 1 and ev[0][1] == "msg" and json.loads(ev[0][2])["held"] == held_id, ev
    held_ev = hits(srv, "held", "links")
    assert [e[5]["decision"] for e in held_ev] == ["held", "released"], held_ev
    assert held_ev[0][5]["text"] == "看 HTTP://shop.EXAMPLE/a", held_ev
    assert held_ev[1][5]["by"] == "account:版主" and held_ev[1][0] < ev[0][0], held_ev
    # deciding twice is refused
    owner.send("PRIVMSG ChanServ :REJECT %d" % held_id)
    owner.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "already released" in m.last)
    assert credit_rows(srv, "作者", want=lambda r: False, ) == []

    # a second one is rejected: dropped, and the rule's deduction applies
    author.send("PRIVMSG #链接 :https://bad.example/x")
    author.expect("NOTE", pred=lambda m: m.params[:2] == ["PRIVMSG", "MESSAGE_HELD"])
    n = owner.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "held message" in m.last)
    second = int(n.last.split("held message ")[1].split()[0])
    owner.send("PRIVMSG ChanServ :REJECT %d" % second)
    owner.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "rejected" in m.last)
    author.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "rejected" in m.last)
    reader.assert_no("PRIVMSG", pred=lambda m: "bad.example" in m.last)
    rows = credit_rows(srv, "作者")
    assert rows == [(-10, "links", "rule:links", "account:版主")], rows
    rows = db_rows(srv, "SELECT id, decision, decided_by FROM held_messages ORDER BY id")
    assert rows == [(held_id, "released", "版主"), (second, "rejected", "版主")], rows
    owner.send("PRIVMSG ChanServ :HELD #链接")
    owner.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "No message waits" in m.last)
    no_db_rewrites(srv)


def test_release_when_the_author_is_offline(qund_factory):
    path = pattern_file("hold[ -]?me\n")
    srv = rules_server(qund_factory, patterns=[
        {"name": "review", "file": path, "kind": "regex", "action": "hold",
         "severity": "general"}])
    owner = verified_user(srv, "老板")
    author = verified_user(srv, "离开")
    reader = verified_user(srv, "留下")
    group_of(srv, owner, [author, reader], "#离线")
    author.send("PRIVMSG #离线 :please hold me")
    n = owner.expect("NOTICE", pred=lambda m: m.nick == "ChanServ" and "held message" in m.last)
    held_id = int(n.last.split("held message ")[1].split()[0])
    author.send("QUIT :bye")
    author.expect_closed()
    owner.send("PRIVMSG ChanServ :RELEASE %d" % held_id)
    got = reader.expect("PRIVMSG", pred=lambda m: m.last == "please hold me")
    assert got.nick == "离开", got.raw


def test_flag_delivers_and_records(qund_factory):
    path = pattern_file("可疑\n")
    srv = rules_server(qund_factory, patterns=[
        {"name": "watch", "file": path, "kind": "literal", "action": "flag",
         "severity": "minor"}])
    owner = verified_user(srv, "看守")
    member = verified_user(srv, "路人")
    group_of(srv, owner, [member], "#观察")
    member.send("PRIVMSG #观察 :这很可疑")
    # the managers are told as the message goes out (the notice comes first)
    lines = owner.collect("PRIVMSG", pred=lambda m: m.last == "这很可疑")
    n = [m for m in lines if m.command == "NOTICE" and m.nick == "ChanServ"][0]
    assert "flagged" in n.last, n.raw
    assert "watch" in n.last and "路人" in n.last, n.raw
    ev = log_wait(srv, "SELECT body FROM events WHERE kind = 'rule-hit'")
    body = json.loads(ev[0][0])
    assert body["action"] == "flag" and body["rule"] == "watch", body
    assert db_rows(srv, "SELECT count(*) FROM credit_events")[0][0] == 0


# ---------------------------------------------------------------- files

def spawn_with(workdir, rules):
    srv = QundServer(workdir, {"rules": rules})
    make_data_dir(srv.datadir)
    write_file(srv.motd_path, "motd\n")
    srv.port = pick_port()
    srv.write_config()
    return srv, srv._spawn()


def test_bad_pattern_file_refuses_start_up(qund_factory):
    path = pattern_file("ok\n# fine\n(unclosed\n", "bad.txt")
    workdir = make_world_readable_dir("qund-rules-bad-")
    srv, err = spawn_with(workdir, {"patterns": [
        {"name": "x", "file": path, "kind": "regex", "action": "block", "severity": "minor"}]})
    assert err is not None and srv.returncode and srv.returncode > 0, err
    assert "%s:3:" % path in srv.stderr() and "does not compile" in srv.stderr(), srv.stderr()
    # a back-reference and an empty-matching expression are refused too
    write_file(path, "(a)\\1\n")
    srv, err = spawn_with(workdir, {"patterns": [
        {"name": "x", "file": path, "kind": "regex", "action": "block", "severity": "minor"}]})
    assert err and "%s:1:" % path in srv.stderr() and "back-reference" in srv.stderr()
    missing = path + ".missing"
    srv, err = spawn_with(workdir, {"patterns": [
        {"name": "x", "file": missing, "kind": "literal", "action": "block",
         "severity": "minor"}]})
    assert err and missing in srv.stderr() and "cannot read" in srv.stderr(), srv.stderr()


def test_sighup_with_a_bad_file_keeps_the_old_rules(qund_factory):
    path = pattern_file("旧规则\n")
    srv = rules_server(qund_factory, patterns=[
        {"name": "old", "file": path, "kind": "regex", "action": "block",
         "severity": "minor"}], sanction_seconds=0)
    owner = verified_user(srv, "主人")
    member = verified_user(srv, "客人")
    group_of(srv, owner, [member], "#重载")
    write_file(path, "新规则\n[z-a]\n")
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "reload refused" not in srv.stderr() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert "reload refused" in srv.stderr() and "%s:2:" % path in srv.stderr(), srv.stderr()
    member.send("PRIVMSG #重载 :旧规则还在")
    blocked(member, "#重载", "old")
    member.send("PRIVMSG #重载 :新规则不在")
    owner.expect("PRIVMSG", pred=lambda m: m.last == "新规则不在")
    # a good file is taken at the next SIGHUP
    write_file(path, "新规则+\n")
    srv.signal(signal.SIGHUP)
    deadline = time.monotonic() + 5
    while "configuration and certificates reloaded" not in srv.stderr() and \
            time.monotonic() < deadline:
        time.sleep(0.05)
    member.send("PRIVMSG #重载 :新规则来了")
    blocked(member, "#重载", "old")
    member.send("PRIVMSG #重载 :旧规则走了")
    owner.expect("PRIVMSG", pred=lambda m: m.last == "旧规则走了")


def test_bad_rules_settings_are_refused_with_their_line(qund_factory):
    path = pattern_file("x\n")
    workdir = make_world_readable_dir("qund-rules-cfg-")
    srv, err = spawn_with(workdir, {"patterns": [
        {"name": "x", "file": path, "kind": "literal", "action": "delete",
         "severity": "minor"}]})
    assert err and 'action must be "block", "hold" or "flag"' in srv.stderr(), srv.stderr()
    srv, err = spawn_with(workdir, {"flood_severity": "mild"})
    assert err and "rules.flood_severity" in srv.stderr(), srv.stderr()
    srv, err = spawn_with(workdir, {"spam_groups": 1})
    assert err and "rules.spam_groups must be 0" in srv.stderr(), srv.stderr()
    srv, err = spawn_with(workdir, {"patterns": [
        {"name": "x", "file": path, "kind": "glob", "action": "block", "severity": "minor"}]})
    assert err and 'kind must be "literal" or "regex"' in srv.stderr(), srv.stderr()
    assert "qund.conf:" in srv.stderr()
