/*
 * cmd_message.c - PRIVMSG, NOTICE and TAGMSG: target resolution and the
 * checks that decide whether a message may be sent. Accepted messages go to
 * msgpath_submit() (record, then deliver).
 *
 * NOTICE never triggers an error reply (RFC 2812 §3.3.2), so its refusals
 * are silent; PRIVMSG and TAGMSG refusals are numerics.
 */
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "credit/credit.h"
#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "account/account.h"
#include "irc/commands.h"
#include "irc/group.h"
#include "irc/login.h"
#include "irc/msgpath.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "netlog/netlog.h"
#include "irc/service.h"
#include "irc/services.h"
#include "proto/message.h"
#include "sanction/sanction.h"
#include "rules/rules.h"

/* Re-escapes the client-only (+) tags of m into out ("+a=b;+c"). */
static void message_client_tags(const struct irc_msg *m, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < m->ntags; i++) {
        const struct irc_tag *t = &m->tags[i];
        if (t->key[0] != '+')
            continue;
        size_t kl = strlen(t->key);
        if (n + kl + 2 >= cap)
            break;
        if (n)
            out[n++] = ';';
        memcpy(out + n, t->key, kl);
        n += kl;
        if (t->value[0]) {
            out[n++] = '=';
            ssize_t e = irc_tag_escape(t->value, strlen(t->value), out + n, cap - n - 1);
            if (e < 0) { /* cannot fit: drop this tag entirely */
                n -= kl + 2;
                break;
            }
            n += (size_t)e;
        }
        out[n] = '\0';
    }
    out[n] = '\0';
}

/* A manager's timed mute of this member (ChanServ MUTE), still running. */
static const char *message_group_mute(struct client *c, struct channel *ch)
{
    static char why[160];
    const struct group_member *gm = c->acct ? group_member_find(ch, c->acct->id) : NULL;
    time_t now = time(NULL);
    if (!gm || gm->muted_until <= now)
        return NULL;
    long minutes = (long)((gm->muted_until - now + 59) / 60);
    snprintf(why, sizeof why, "Cannot send to channel (a manager muted you for %ld more minute%s)",
             minutes, minutes == 1 ? "" : "s");
    return why;
}

/* While the network log cannot be written (disk full, I/O error), nothing
 * may be posted: a message that cannot be logged must not be delivered
 * (SPEC §9). Posting resumes by itself once a commit succeeds. */
static bool message_log_ok(struct client *c, enum chat_kind kind, const char *target)
{
    if (netlog_healthy())
        return true;
    send_fail(c, "FAIL", chat_command_name(kind), "LOG_UNAVAILABLE", target,
              "The group log cannot be written right now (the server's disk may be full), so "
              "nothing can be posted; posting resumes by itself when the log is writable again.");
    return false;
}

/* A moderation refusal (credit, rules): FAIL with standard-replies, else
 * ERR_CANNOTSENDTOCHAN with the same sentence; NOTICE refusals stay
 * silent. Always false. */
static bool message_refuse(struct client *c, enum chat_kind kind, const char *code,
                           const char *target, const char *why)
{
    if (kind == CHAT_NOTICE)
        return false;
    if (c->caps & CAP_STANDARD_REPLIES)
        send_fail(c, "FAIL", chat_command_name(kind), code, target, why);
    else
        send_numeric(c, ERR_CANNOTSENDTOCHAN, "%s :%s", target, why);
    return false;
}

/* The automatic rules (rules/rules.h): false when the message stops here
 * (blocked, or held for review), after telling the sender unless quiet. */
static bool message_rules_ok(struct client *c, enum chat_kind kind, struct channel *ch,
                             const char *target, const char *name, const char *text,
                             const char *tags)
{
    char status[8] = "", why[400];
    size_t sl = (size_t)(name - target);
    if (sl < sizeof status) {
        memcpy(status, target, sl);
        status[sl] = '\0';
    }
    enum rule_verdict v =
        rules_check(c, ch, status, chat_command_name(kind), text, tags, why, sizeof why);
    if (v == RULE_PASS || v == RULE_FLAG)
        return true;
    if (v == RULE_HOLD && kind != CHAT_NOTICE) {
        send_fail(c, "NOTE", chat_command_name(kind), "MESSAGE_HELD", ch->name, why);
        return false;
    }
    return message_refuse(c, kind, "MESSAGE_BLOCKED", ch->name, why);
}

/* Returns NULL when c may speak in ch, else the reason. */
static const char *message_channel_refusal(struct client *c, struct channel *ch)
{
    struct member *mb = channel_member(ch, c);
    const char *muted = ch->code ? message_group_mute(c, ch) : NULL;
    if (muted && !(mb && (mb->flags & MEMBER_OWNER)))
        return muted;
    if (!mb && (ch->modes & CMODE_NO_EXTERNAL))
        return "Cannot send to channel (no external messages)";
    if (mb && (mb->flags & (MEMBER_OWNER | MEMBER_OP | MEMBER_VOICE)))
        return NULL;
    if (ch->modes & CMODE_MODERATED)
        return "Cannot send to channel (+m: you need voice)";
    /* a ban, or a mute (m: extban), not lifted by a +e exception */
    if (channel_is_muted(ch, c))
        return "Cannot send to channel (you are banned or muted)";
    return NULL;
}

/* The credit level's privileges (SPEC §6): level E may not post, and each
 * level has a rate of messages per 10 s. TAGMSG carries no text and is
 * not counted. Called after the checks that cost nothing, so a message
 * refused for another reason spends none of the rate. */
static bool message_credit_ok(struct client *c, enum chat_kind kind, const char *target)
{
    char why[400];
    int rc = kind == CHAT_TAGMSG ? CREDIT_POST_OK : credit_may_post(c->acct, why, sizeof why);
    if (rc == CREDIT_POST_OK)
        return true;
    return message_refuse(c, kind, rc == CREDIT_POST_LEVEL ? "CREDIT_LEVEL" : "CREDIT_RATE", target,
                          why);
}

static void message_one(struct client *c, enum chat_kind kind, char *target, const char *text,
                        const char *tags)
{
    bool quiet = kind == CHAT_NOTICE;
    /* STATUSMSG: "@#chan" is #chan's ops (and owners); the same checks as
     * a message to the whole channel apply */
    uint8_t status_mask;
    const char *name = msgpath_status_parse(target, &status_mask);
    if (name[0] == '#') {
        struct channel *ch = channel_find(name);
        if (!ch) {
            if (!quiet)
                send_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel", name);
            return;
        }
        if (!message_log_ok(c, kind, ch->name))
            return;
        if (!login_may_post(c, chat_command_name(kind), ch->name))
            return;
        char swhy[500];
        if (!sanction_may_post(c, ch, swhy, sizeof swhy)) { /* sanctions, emergency switch */
            if (!quiet)
                send_fail(c, "FAIL", chat_command_name(kind), sanction_refusal_code(), ch->name,
                          swhy);
            return;
        }
        const char *why = message_channel_refusal(c, ch);
        if (why) {
            if (!quiet)
                send_numeric(c, ERR_CANNOTSENDTOCHAN, "%s :%s", ch->name, why);
            return;
        }
        /* the checks with side effects last: the rate, then the rules */
        if (!message_credit_ok(c, kind, ch->name))
            return;
        if (text && !message_rules_ok(c, kind, ch, target, name, text, tags))
            return;
        if (ch->code && kind != CHAT_TAGMSG)
            group_note_message(ch);
        if (name == target) {
            msgpath_submit(c, ch, NULL, kind, text, tags);
        } else {
            target[name - target] = '\0'; /* keep just the prefix chars */
            msgpath_submit_status(c, ch, target, status_mask, kind, text, tags);
        }
        return;
    }
    const struct service *svc = service_find(target);
    if (svc) {
        if (kind == CHAT_PRIVMSG)
            service_dispatch(svc, c, (char *)text);
        return;
    }
    struct client *to = client_find(target);
    if (!to || to->state != CLIENT_REGISTERED) {
        if (!quiet)
            send_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel", target);
        return;
    }
    if (!message_log_ok(c, kind, target))
        return;
    msgpath_submit(c, NULL, to, kind, text, tags);
    if (kind == CHAT_PRIVMSG && to->away)
        send_numeric(c, RPL_AWAY, "%s :%s", to->nick, to->away);
}

static void message_command(struct client *c, struct irc_msg *m, enum chat_kind kind)
{
    const char *cmd = kind == CHAT_PRIVMSG ? "PRIVMSG" : kind == CHAT_NOTICE ? "NOTICE" : "TAGMSG";
    bool quiet = kind == CHAT_NOTICE;
    if (m->nparams < 1 || !m->params[0][0]) {
        if (!quiet)
            send_numeric(c, ERR_NORECIPIENT, ":No recipient given (%s)", cmd);
        return;
    }
    const char *text = NULL;
    if (kind != CHAT_TAGMSG) {
        if (m->nparams < 2 || !m->params[1][0]) {
            if (!quiet)
                send_numeric(c, ERR_NOTEXTTOSEND, ":No text to send");
            return;
        }
        text = m->params[1];
    }
    char tags[IRC_CLIENT_TAG_DATA_MAX + 1];
    message_client_tags(m, tags, sizeof tags);
    if (kind == CHAT_TAGMSG && !tags[0])
        return; /* nothing to relay */
    if (kind != CHAT_NOTICE)
        c->idle_since = time(NULL);

    int ntargets = 0;
    char *save = NULL;
    for (char *t = strtok_r((char *)m->params[0], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (++ntargets > server_config->max_targets) {
            if (!quiet)
                send_numeric(c, ERR_TOOMANYTARGETS, "%s :Too many targets (at most %d)", t,
                             server_config->max_targets);
            break;
        }
        message_one(c, kind, t, text, tags);
    }
}

void cmd_privmsg(struct client *c, struct irc_msg *m)
{
    message_command(c, m, CHAT_PRIVMSG);
}

void cmd_notice(struct client *c, struct irc_msg *m)
{
    message_command(c, m, CHAT_NOTICE);
}

void cmd_tagmsg(struct client *c, struct irc_msg *m)
{
    message_command(c, m, CHAT_TAGMSG);
}
