"""test_browser_chat.py - a user registers and chats from the web page
(issue 7 item 4a): Debian's chromium, driven by playwright-core
(chat.mjs), against the real qund serving the repository's web/public.

What it proves, end to end through the page (REGISTER/VERIFY, NickServ,
JOIN, CHATHISTORY, PRIVMSG, REPORT over the WebSocket):
  1. registration with a phone number and the code from the daemon's dev
     SMS log line, then the real-name form (level 2) and the platform
     convention, all from the page;
  2. the web user joins a group a TCP client created and sees its history;
  3. messages go both ways: the page shows the TCP user's live message, the
     TCP client receives the web user's;
  4. the web user reports a message and the page shows the complaint id,
     which is the complaint stored about that message by that reporter.
"""

import os

from browser_helpers import run_scenario
from conftest import write_file
from identity_helpers import PASSWORD, db_rows, leveled_user, new_id, ns, wait_code

GROUP = "#网页群"


def test_register_join_chat_and_report(browser_factory):
    # a convention: the page must accept it before posting
    conv = os.path.join(browser_factory.shared_dir, "convention.txt")
    write_file(conv, "群平台公约\n第一条 文明发言。\n")
    srv = browser_factory(identity={"provider": "dev", "sms": "dev", "post_level": 1,
                                    "create_level": 2, "max_accounts_per_identity": 100,
                                    "convention": conv, "convention_version": 1})

    tcp = leveled_user(srv, "tcpbob", 2, caps=("standard-replies", "echo-message",
                                               "message-tags"))
    ns(tcp, "ACCEPT 1", "You accepted the platform convention")
    tcp.send("JOIN " + GROUP)
    tcp.expect("NOTE", pred=lambda m: m.params[:2] == ["JOIN", "GROUP_CREATED"])
    history = "历史消息 before the web user came"
    tcp.send("PRIVMSG %s :%s" % (GROUP, history))
    tcp.expect("PRIVMSG", pred=lambda m: m.last == history)

    account = "webamy"
    live = "你好，网页用户 (live from TCP)"

    def joined(_):
        tcp.expect("JOIN", pred=lambda m: m.nick == account)
        tcp.send("PRIVMSG %s :%s" % (GROUP, live))
        return {"text": live}

    def sent(p):
        m = tcp.expect("PRIVMSG", pred=lambda m: m.nick == account)
        assert m.params[0] == GROUP and m.last == p["text"], m.raw
        return {}

    res = run_scenario("chat.mjs", {
        "url": srv.web_url, "account": account, "password": PASSWORD,
        "phone": "+8613900001111", "id_number": new_id(), "real_name": "网页用户",
        "group": GROUP, "history_text": history, "convention": True,
    }, steps={"code": lambda p: {"code": wait_code(srv, p["account"])},
              "joined": joined, "sent": sent})

    # the account is at level 2 with the convention accepted
    rows = db_rows(srv, "SELECT id FROM accounts WHERE name = ?", (account,))
    assert rows, "no account %s" % account
    # the complaint the page showed is the one about the TCP user's message
    cid = res["complaint"]
    got = db_rows(srv, "SELECT c.kind, c.target, a.name FROM complaints c"
                       " JOIN accounts a ON a.id = c.reporter_id WHERE c.id = ?", (cid,))
    assert got == [("message", res["msgid_reported"], account)], got
