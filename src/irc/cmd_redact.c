/*
 * cmd_redact.c - REDACT (IRCv3 draft/message-redaction): removing a group
 * message from view.
 *
 * A redaction hides a message from members' view; it never deletes it:
 * the message stays where the law wants it (the network log, issue 5),
 * and the redaction itself is an audit record with its author. The
 * author of a message may redact it; so may the group's managers and
 * owner (SPEC §5).
 *
 * To check a msgid the server remembers, per channel, the last
 * REDACT_RECENT messages (msgid and sender) in a ring allocated on the
 * channel's first message. Older messages can no longer be redacted over
 * IRC (FAIL REDACT UNKNOWN_MSGID); the console, with the network log,
 * will reach them.
 *
 * Relay: ":<redactor> REDACT <#channel> <msgid> [:<reason>]" to members
 * with the capability only (the spec forbids sending it to others).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "netlog/netlog.h"
#include "proto/message.h"
#include "util/alloc.h"

#define REDACT_RECENT 128

struct redact_entry {
    char msgid[32];
    uint64_t client_id; /* the sending connection (a DM: the recipient) */
    int64_t account_id; /* its account, or 0 */
};

struct redact_ring {
    size_t next;
    struct redact_entry e[REDACT_RECENT];
};

/* msgid into e, cut to fit (without printf: this runs for every message) */
static void redact_set_msgid(struct redact_entry *e, const char *msgid)
{
    size_t n = strnlen(msgid, sizeof e->msgid - 1);
    memcpy(e->msgid, msgid, n);
    e->msgid[n] = '\0';
}

void redact_remember(struct channel *ch, const char *msgid, const struct client *sender)
{
    if (!ch->recent)
        ch->recent = xcalloc(1, sizeof *ch->recent);
    struct redact_entry *e = &ch->recent->e[ch->recent->next++ % REDACT_RECENT];
    redact_set_msgid(e, msgid);
    e->client_id = sender->id;
    e->account_id = sender->acct ? sender->acct->id : 0;
}

void redact_remember_dm(struct client *sender, const char *msgid, const struct client *to)
{
    if (!sender->sent_dms)
        sender->sent_dms = xcalloc(1, sizeof *sender->sent_dms);
    struct redact_entry *e = &sender->sent_dms->e[sender->sent_dms->next++ % REDACT_RECENT];
    redact_set_msgid(e, msgid);
    e->client_id = to->id;
    e->account_id = 0;
}

static struct redact_entry *redact_find(struct redact_ring *r, const char *msgid)
{
    if (!r)
        return NULL;
    for (size_t i = 0; i < REDACT_RECENT; i++)
        if (r->e[i].msgid[0] && strcmp(r->e[i].msgid, msgid) == 0)
            return &r->e[i];
    return NULL;
}

static void redact_event(struct irc_event *ev, struct client *c, char *prefix, size_t len,
                         const char *target, const char *msgid, const char *reason)
{
    event_init(ev, client_prefix(c, prefix, len), "REDACT", true);
    event_from_client(ev, c);
    event_param(ev, target);
    event_param(ev, msgid);
    if (reason) {
        event_param(ev, reason);
        ev->trailing = true;
    }
}

/* A direct message: only its author may redact it; the REDACT goes to the
 * author and the recipient, each if they have the capability. */
static void redact_dm(struct client *c, const char *target, const char *msgid, const char *reason)
{
    struct redact_entry *e = redact_find(c->sent_dms, msgid);
    struct client *to = client_find(target);
    char ctx[300];
    snprintf(ctx, sizeof ctx, "%s %s", target, msgid);
    if (!e || !to || e->client_id != to->id) {
        send_fail(c, "FAIL", "REDACT", "UNKNOWN_MSGID", ctx,
                  "That is not a recent direct message of yours to that user.");
        return;
    }
    char prefix[512];
    struct irc_event ev;
    redact_event(&ev, c, prefix, sizeof prefix, to->nick, msgid, reason);
    if (c->caps & CAP_REDACTION)
        send_event(c, &ev);
    if (to != c && (to->caps & CAP_REDACTION))
        send_event_unlabeled(to, &ev);
    netlog_record("redact", prefix, to->nick, 0, c->acct ? c->acct->id : 0, msgid, NULL);
    e->msgid[0] = '\0';
}

void cmd_redact(struct client *c, struct irc_msg *m)
{
    const char *target = m->params[0], *msgid = m->params[1];
    const char *reason = m->nparams > 2 && m->params[2][0] ? m->params[2] : NULL;
    if (target[0] != '#') {
        redact_dm(c, target, msgid, reason);
        return;
    }
    struct channel *ch = channel_find(target);
    struct member *me = ch ? channel_member(ch, c) : NULL;
    if (!me) {
        send_fail(c, "FAIL", "REDACT", "INVALID_TARGET", target,
                  "You can redact messages only in a group you are in.");
        return;
    }
    struct redact_entry *e = redact_find(ch->recent, msgid);
    if (!e) {
        char ctx[300];
        snprintf(ctx, sizeof ctx, "%s %s", ch->name, msgid);
        send_fail(c, "FAIL", "REDACT", "UNKNOWN_MSGID", ctx,
                  "That message is unknown here or too old to redact over IRC.");
        return;
    }
    bool own = e->client_id == c->id || (e->account_id && c->acct && c->acct->id == e->account_id);
    if (!own && !member_is_op(me)) {
        char ctx[300];
        snprintf(ctx, sizeof ctx, "%s %s", ch->name, msgid);
        send_fail(c, "FAIL", "REDACT", "REDACT_FORBIDDEN", ctx,
                  "Only the author or the group's managers may redact a message.");
        return;
    }
    char prefix[512], detail[160];
    struct irc_event ev;
    redact_event(&ev, c, prefix, sizeof prefix, ch->name, msgid, reason);
    send_to_channel(ch, &ev, NULL, CAP_REDACTION, CAP_REDACTION);
    snprintf(detail, sizeof detail, "msgid %s%s%.100s", msgid, reason ? ": " : "",
             reason ? reason : "");
    account_audit(c->account ? c->account : c->nick, "group.redact", ch->name, detail);
    /* the "redact" event names the hidden message: history leaves it out,
     * the log keeps it */
    netlog_record("redact", prefix, ch->name, ch->code, c->acct ? c->acct->id : 0, msgid, NULL);
    e->msgid[0] = '\0'; /* once is enough */
}
