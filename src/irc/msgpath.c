/*
 * msgpath.c - record-then-deliver for chat messages (see msgpath.h).
 */
#include "irc/msgpath.h"

#include "irc/commands.h"

#include <stdio.h>
#include <string.h>

#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/send.h"
#include "util/alloc.h"
#include "util/blockcache.h"
#include "util/msgid.h"
#include "account/account.h"
#include "irc/server.h"
#include "netlog/netlog.h"

static const char *const chat_commands[] = {"PRIVMSG", "NOTICE", "TAGMSG"};

const char *chat_command_name(enum chat_kind kind)
{
    return chat_commands[kind];
}

/* Copies s (or nothing when NULL) into the record's string area. */
static char *chat_msg_copy(char **area, const char *s, size_t len)
{
    if (!s)
        return NULL;
    char *dst = *area;
    memcpy(dst, s, len);
    dst[len] = '\0';
    *area += len + 1;
    return dst;
}

/* One allocation per message: the record and its strings together. */
static struct chat_msg *chat_msg_new(const char *prefix, const char *account, const char *target,
                                     const char *text, const char *tags, const struct channel *ch)
{
    const char *folded = ch ? ch->folded : NULL;
    size_t lp = strlen(prefix), la = account ? strlen(account) : 0, lt = strlen(target);
    size_t lx = text ? strlen(text) : 0, lg = tags ? strlen(tags) : 0;
    size_t lf = folded ? strlen(folded) : 0;
    struct chat_msg *cm = blockcache_alloc(sizeof *cm + lp + la + lt + lx + lg + lf + 6);
    memset(cm, 0, sizeof *cm);
    char *area = (char *)(cm + 1);
    cm->sender_prefix = chat_msg_copy(&area, prefix, lp);
    cm->sender_account = chat_msg_copy(&area, account, la);
    cm->target = chat_msg_copy(&area, target, lt);
    cm->text = chat_msg_copy(&area, text, lx);
    cm->client_tags = chat_msg_copy(&area, tags, lg);
    cm->channel_folded = chat_msg_copy(&area, folded, lf);
    cm->target_len = (uint32_t)lt;
    cm->text_len = (uint32_t)lx;
    cm->tags_len = (uint32_t)lg;
    cm->prefix_len = (uint32_t)lp;
    return cm;
}

static void chat_event(const struct chat_msg *cm, struct irc_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->source = cm->sender_prefix;
    ev->command = chat_commands[cm->kind];
    ev->params[ev->nparams++] = cm->target;
    if (cm->text) {
        ev->params[ev->nparams++] = cm->text;
        ev->trailing = true;
    }
    ev->msgid = cm->msgid;
    ev->time_ms = cm->time_ms;
    ev->account = cm->sender_account;
    ev->client_tags = cm->client_tags;
    ev->bot = cm->sender_bot;
}

/* Delivery to everyone concerned. The sender and recipient are the ones
 * resolved at submission; when delivery becomes asynchronous they will be
 * looked up again by id and name here. */
static void msgpath_deliver(struct chat_msg *cm, struct client *sender, struct channel *ch,
                            struct client *to)
{
    struct irc_event ev;
    chat_event(cm, &ev);
    uint32_t need = cm->kind == CHAT_TAGMSG ? CAP_MESSAGE_TAGS : 0;
    if (ch)
        send_to_channel_members(ch, &ev, sender, need, need, cm->member_mask);
    else if (to && to == sender && (to->caps & need) == need)
        send_event_unlabeled(to, &ev);
    else if (to && (to->caps & need) == need)
        send_event(to, &ev);
    if (sender && (sender->caps & CAP_ECHO_MESSAGE) && (sender->caps & need) == need)
        send_event(sender, &ev);
}

/* Whether any of the 8 bytes of w needs escaping in a JSON string: a
 * quote, a backslash or a control character (below 0x20). */
static inline bool json_word_special(uint64_t w)
{
    const uint64_t ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
    uint64_t quote = w ^ (ones * '"'), bslash = w ^ (ones * '\\');
    uint64_t zero_q = (quote - ones) & ~quote & highs;
    uint64_t zero_b = (bslash - ones) & ~bslash & highs;
    uint64_t ctrl = (w - ones * 0x20) & ~w & highs; /* some byte < 0x20 */
    return (zero_q | zero_b | ctrl) != 0;
}

/* JSON string text of s (len bytes, already valid UTF-8: only quotes,
 * backslashes and control characters need escaping) at out; returns the
 * bytes written. out has room for 6 bytes per input byte plus the quotes.
 * Runs without any of those are copied 8 bytes at a time. */
static size_t json_quote(char *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    char *p = out;
    *p++ = '"';
    size_t i = 0;
    while (i < len) {
        uint64_t w;
        if (len - i >= 8 && (memcpy(&w, s + i, 8), !json_word_special(w))) {
            memcpy(p, &w, 8);
            p += 8;
            i += 8;
            continue;
        }
        unsigned char ch = (unsigned char)s[i++];
        if (ch == '"' || ch == '\\') {
            *p++ = '\\';
            *p++ = (char)ch;
        } else if (ch < 0x20) {
            memcpy(p, "\\u00", 4);
            p[4] = hex[ch >> 4];
            p[5] = hex[ch & 15];
            p += 6;
        } else {
            *p++ = (char)ch;
        }
    }
    *p++ = '"';
    return (size_t)(p - out);
}

/* The log's body for a message: JSON with the command, the text (or only
 * its length, for a direct message when netlog.direct_messages is
 * "metadata"), the client tags and a STATUSMSG prefix. Written straight
 * into buf (cap bytes) when it fits, else into a heap buffer (*heap); its
 * length in *len. */
static const char *msgpath_body(const struct chat_msg *cm, char *buf, size_t cap, char **heap,
                                size_t *len)
{
    size_t lt = cm->text_len, lg = cm->tags_len;
    size_t need = 6 * (lt + lg + cm->target_len) + 128;
    char *out = need <= cap ? buf : (*heap = xmalloc(need));
/* a string literal's bytes at out + n */
#define BODY_LIT(s) (memcpy(out + n, (s), sizeof(s) - 1), n += sizeof(s) - 1)
    size_t n = 0;
    BODY_LIT("{\"command\":\"");
    size_t lc = strlen(chat_commands[cm->kind]);
    memcpy(out + n, chat_commands[cm->kind], lc);
    n += lc;
    BODY_LIT("\"");
    if (cm->text && (cm->channel_folded || netlog_dm_content())) {
        BODY_LIT(",\"text\":");
        n += json_quote(out + n, cm->text, lt);
    } else if (cm->text) {
        n += (size_t)sprintf(out + n, ",\"length\":%zu", lt);
    }
    if (cm->client_tags) {
        BODY_LIT(",\"tags\":");
        n += json_quote(out + n, cm->client_tags, lg);
    }
    if (cm->member_mask) {
        BODY_LIT(",\"relayed_as\":");
        n += json_quote(out + n, cm->target, cm->target_len);
    }
    if (cm->held_id)
        n += (size_t)sprintf(out + n, ",\"held\":%lld", (long long)cm->held_id);
#undef BODY_LIT
    out[n++] = '}';
    out[n] = '\0';
    *len = n;
    return out;
}

/* The log has the message (or has been closed): deliver it, let the
 * sender's next lines in, and end a labeled reply waiting for it. */
static void msgpath_logged(void *ud, int status, int64_t seq)
{
    struct chat_msg *cm = ud;
    (void)seq;
    struct client *sender = client_by_id(cm->sender_id);
    if (sender && cm->label)
        label_group_resume(sender, cm->label);
    if (status == 0) {
        struct channel *ch = cm->channel_folded ? channel_find_folded(cm->channel_folded) : NULL;
        struct client *to = cm->to_id ? client_by_id(cm->to_id) : NULL;
        if (ch || to || sender)
            msgpath_deliver(cm, sender, ch, to);
    }
    if (cm->label)
        label_group_done(cm->label, sender);
    uint64_t id = cm->sender_id;
    blockcache_free(cm);
    if (id)
        server_message_logged(id);
}

/* cm's msgid names the seq its event is about to get (util/msgid.h): the
 * log finds a chat message by its primary key and keeps no msgid index
 * over chat messages. Nothing may be appended between this and
 * msgpath_log (which hands the seq over, and the log refuses the event if
 * another took it). */
static void msgpath_name(struct chat_msg *cm)
{
    cm->seq = netlog_next_seq();
    cm->msgid_len = (uint32_t)msgid_for_seq(cm->seq, cm->msgid, sizeof cm->msgid);
}

/* Appends cm to the log as the event of kind to target (target_len bytes),
 * with every length known (netlog_append_lens); msgpath_logged delivers it. */
static int64_t msgpath_log(struct chat_msg *cm, const char *kind, const char *target,
                           uint32_t target_len, int64_t code, int64_t account_id)
{
    char body_buf[4096], *body_heap = NULL;
    size_t body_len;
    const char *body = msgpath_body(cm, body_buf, sizeof body_buf, &body_heap, &body_len);
    struct netlog_event ev = {.seq = cm->seq,
                              .at_ms = (int64_t)cm->time_ms,
                              .kind = kind,
                              .actor = cm->sender_prefix,
                              .target = target,
                              .code = code,
                              .account_id = account_id,
                              .msgid = cm->msgid,
                              .body = body};
    uint32_t lens[NETLOG_TEXTS] = {(uint32_t)strlen(kind), cm->prefix_len, target_len,
                                   cm->msgid_len, (uint32_t)body_len};
    int64_t seq = netlog_append_lens(&ev, lens, msgpath_logged, cm);
    free(body_heap);
    return seq;
}

/* A group message: the event names the group itself (ch's name), not a
 * STATUSMSG target. */
static int64_t msgpath_append(struct chat_msg *cm, const struct channel *ch, int64_t account_id)
{
    static const char *const kinds[] = {"msg", "notice", "tagmsg"};
    return msgpath_log(cm, kinds[cm->kind], ch->name, (uint32_t)strlen(ch->name), ch->code,
                       account_id);
}

static int64_t msgpath_append_dm(struct chat_msg *cm, const struct client *to, int64_t account_id)
{
    return msgpath_log(cm, "dm", to->nick, (uint32_t)strlen(to->nick), 0, account_id);
}

/* Builds the record for c's message, logs it and delivers it once logged.
 * target is the name as relayed (a nick, a channel name, or a STATUSMSG
 * prefix + channel). */
static void msgpath_submit_to(struct client *c, struct channel *ch, struct client *to,
                              const char *target, uint8_t member_mask, enum chat_kind kind,
                              const char *text, const char *client_tags)
{
    char prefix[512];
    struct chat_msg *cm =
        chat_msg_new(client_prefix(c, prefix, sizeof prefix), c->account, target, text,
                     client_tags && client_tags[0] ? client_tags : NULL, ch);
    cm->kind = kind;
    cm->sender_id = c->id;
    cm->sender_bot = (c->umodes & UMODE_BOT) != 0;
    cm->to_id = to ? to->id : 0;
    cm->member_mask = member_mask;
    msgpath_name(cm);
    cm->time_ms = time_now_ms();
    if (ch && kind != CHAT_TAGMSG)
        redact_remember(ch, cm->msgid, c);
    else if (to && kind != CHAT_TAGMSG)
        redact_remember_dm(c, cm->msgid, to);
    if (netlog_strict())
        cm->label = label_group_join(c);
    c->msgs_in_flight++; /* counted down in msgpath_logged */
    int64_t seq = ch ? msgpath_append(cm, ch, c->acct ? c->acct->id : 0)
                     : msgpath_append_dm(cm, to, c->acct ? c->acct->id : 0);
    if (seq < 0) {
        if (cm->label)
            label_group_done(cm->label, NULL);
        cm->label = NULL;
        c->msgs_in_flight--;
        send_fail(c, "FAIL", chat_commands[kind], "LOG_UNAVAILABLE", target,
                  "The group log cannot take messages right now; yours was not sent.");
        blockcache_free(cm);
    }
}

void msgpath_submit(struct client *c, struct channel *ch, struct client *to, enum chat_kind kind,
                    const char *text, const char *client_tags)
{
    msgpath_submit_to(c, ch, to, ch ? ch->name : to->nick, 0, kind, text, client_tags);
}

void msgpath_submit_status(struct client *c, struct channel *ch, const char *status, uint8_t mask,
                           enum chat_kind kind, const char *text, const char *client_tags)
{
    /* the prefix as written, each character once ("@@+" -> "@+"), so the
     * relayed target always fits */
    char target[sizeof MSGPATH_STATUSMSG + 256];
    size_t n = 0;
    for (const char *p = status; *p && n < sizeof MSGPATH_STATUSMSG - 1; p++)
        if (strchr(MSGPATH_STATUSMSG, *p) && !memchr(target, *p, n))
            target[n++] = *p;
    snprintf(target + n, sizeof target - n, "%s", ch->name);
    msgpath_submit_to(c, ch, NULL, target, mask, kind, text, client_tags);
}

const char *msgpath_status_parse(const char *target, uint8_t *member_mask)
{
    /* rank order of MSGPATH_STATUSMSG: each prefix also reaches those above */
    static const uint8_t reach[] = {
        MEMBER_OWNER,
        MEMBER_OWNER | MEMBER_OP,
        MEMBER_OWNER | MEMBER_OP | MEMBER_VOICE,
    };
    uint8_t mask = 0;
    const char *p = target;
    const char *hit;
    while (*p && (hit = strchr(MSGPATH_STATUSMSG, *p))) {
        mask |= reach[hit - MSGPATH_STATUSMSG];
        p++;
    }
    *member_mask = mask;
    return p;
}

int msgpath_submit_released(const char *author, const char *account, int64_t account_id,
                            struct channel *ch, const char *status, enum chat_kind kind,
                            const char *text, const char *client_tags, int64_t held_id)
{
    uint8_t mask = 0;
    char target[sizeof MSGPATH_STATUSMSG + 256];
    if (status && *status)
        msgpath_status_parse(status, &mask);
    snprintf(target, sizeof target, "%s%s", mask ? status : "", ch->name);
    struct chat_msg *cm = chat_msg_new(author, account, target, text,
                                       client_tags && client_tags[0] ? client_tags : NULL, ch);
    cm->kind = kind;
    cm->member_mask = mask;
    cm->held_id = held_id;
    msgpath_name(cm);
    cm->time_ms = time_now_ms();
    /* sender_id 0: nobody's pipeline waits for it (msgpath_logged) */
    if (msgpath_append(cm, ch, account_id) < 0) {
        blockcache_free(cm);
        return -1;
    }
    return 0;
}
