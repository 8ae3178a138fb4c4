/*
 * cmd_chathistory.c - CHATHISTORY (IRCv3 draft/chathistory, with
 * draft/event-playback), answered from the network log.
 *
 *   CHATHISTORY LATEST|BEFORE|AFTER|AROUND <target> <ref> <limit>
 *   CHATHISTORY BETWEEN <target> <ref> <ref> <limit>
 *   CHATHISTORY TARGETS <timestamp=> <timestamp=> <limit>
 *
 * A reference is msgid=<id> or timestamp=<ISO 8601 UTC>; LATEST also takes
 * "*". The order of history is (at, seq): the log's time and sequence
 * number, total and the same for every connection. A reference becomes a
 * position in that order: msgid=X is X's own (at, seq); a timestamp T is
 * just before every event at T (as an upper bound) or just after them (as
 * a lower bound), so references always exclude what they name. AROUND
 * includes the message named and gives half of the limit to each side.
 *
 * Who sees what (docs/protocol.md, "CHATHISTORY"):
 *   - a channel: current members only (else FAIL INVALID_TARGET). Messages
 *     sent to a member prefix (STATUSMSG "@#chan") only to members holding
 *     such a prefix now. Without draft/event-playback only PRIVMSG and
 *     NOTICE; with it also TAGMSG (needs message-tags), JOIN, PART, KICK,
 *     QUIT, TOPIC and MODE.
 *   - a nick: the direct messages between the requester and that nick.
 *     Messages the requester sent are found by account when logged in (by
 *     nick during this connection otherwise); messages to the requester's
 *     current nick count only from the moment that nick was theirs: the
 *     account's first logged event, or this connection's start. So a
 *     previous holder of a nick never shows through.
 *   - redacted messages (a later "redact" event with their msgid) never.
 *
 * Flow: the handler checks the request, holds the client (server_hold, so
 * its next lines wait) and runs up to three log queries one after another
 * on the thread pool (netlog/reader.h): msgid references to positions,
 * then the history (AROUND: before, then from). The reply is sent when
 * the last one completes; the client is found again by id.
 *
 * Labels: a labeled CHATHISTORY answers with one batch, so the label goes
 * on its BATCH start line (labeled-response: a response that is a single
 * batch carries the label there). The handler therefore takes the label
 * out of send.c's capture (label_forget) once the request is accepted,
 * and the reply writes it itself; label_group_* would wrap the chathistory
 * batch in a labeled-response batch and tag its lines twice.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/chathistory_ref.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/msgpath.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "net/conn.h"
#include "netlog/reader.h"
#include "netlog/schema.h"
#include "proto/message.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/msgid.h"

enum ch_sub { CH_LATEST, CH_BEFORE, CH_AFTER, CH_AROUND, CH_BETWEEN, CH_TARGETS };
static const char *const ch_sub_names[] = {"LATEST", "AROUND",  "BEFORE",
                                           "AFTER",  "BETWEEN", "TARGETS"};
static const enum ch_sub ch_sub_values[] = {CH_LATEST, CH_AROUND,  CH_BEFORE,
                                            CH_AFTER,  CH_BETWEEN, CH_TARGETS};

/* One history row, copied out of the reader's callback. */
struct ch_item {
    int64_t at, seq, account_id;
    char *kind, *actor, *target, *msgid, *body;
};

/* A query step: bounds (exclusive) and direction. */
struct ch_step {
    int64_t lo_at, lo_seq, hi_at, hi_seq;
    bool desc;
    int limit;
};

struct ch_req {
    uint64_t client_id;
    enum ch_sub sub;
    char target[256]; /* canonical: the channel's name or the nick */
    char shown[256];  /* the batch's parameter: the target as asked */
    bool dm;
    char me[64]; /* the requester's nick (DM scope) */
    int64_t me_acct;
    int64_t since_ms; /* DM scope without account: this connection's start */
    bool playback, tags;
    bool labeled;
    char label[128];
    int limit;
    struct chathistory_ref ref[2];
    int nrefs;
    struct ch_step steps[2];
    int nsteps, step;
    struct ch_item *items;
    size_t n, cap;
    bool failed;
};

static void ch_req_free(struct ch_req *r)
{
    for (size_t i = 0; i < r->n; i++) {
        free(r->items[i].kind);
        free(r->items[i].actor);
        free(r->items[i].target);
        free(r->items[i].msgid);
        free(r->items[i].body);
    }
    free(r->items);
    free(r);
}

/* ---- positions ---------------------------------------------------------- */

/* A reference as an exclusive lower bound (what comes after it) ... */
static void ch_ref_lo(const struct chathistory_ref *r, int64_t *at, int64_t *seq)
{
    *at = r->at;
    *seq = r->type == CHATHISTORY_REF_TIME ? INT64_MAX : r->seq;
}

/* ... and as an exclusive upper bound (what comes before it). */
static void ch_ref_hi(const struct chathistory_ref *r, int64_t *at, int64_t *seq)
{
    *at = r->at;
    *seq = r->type == CHATHISTORY_REF_TIME ? INT64_MIN : r->seq;
}

static void ch_step_open(struct ch_step *s, bool desc, int limit)
{
    *s = (struct ch_step){INT64_MIN, INT64_MIN, INT64_MAX, INT64_MAX, desc, limit};
}

/* Turns the (resolved) references into query steps; false when a msgid
 * reference names nothing known: the answer is an empty batch. */
static bool ch_plan(struct ch_req *r)
{
    for (int i = 0; i < r->nrefs; i++)
        if (r->ref[i].type == CHATHISTORY_REF_MSGID && !r->ref[i].found)
            return false;
    struct ch_step *s = &r->steps[0];
    r->nsteps = 1;
    const struct chathistory_ref *a = &r->ref[0];
    switch (r->sub) {
    case CH_LATEST:
        ch_step_open(s, true, r->limit);
        if (a->type != CHATHISTORY_REF_STAR)
            ch_ref_lo(a, &s->lo_at, &s->lo_seq);
        break;
    case CH_BEFORE:
        ch_step_open(s, true, r->limit);
        ch_ref_hi(a, &s->hi_at, &s->hi_seq);
        break;
    case CH_AFTER:
        ch_step_open(s, false, r->limit);
        ch_ref_lo(a, &s->lo_at, &s->lo_seq);
        break;
    case CH_AROUND:
        /* before the reference, then from it on (the message itself) */
        ch_step_open(s, true, r->limit / 2);
        ch_ref_hi(a, &s->hi_at, &s->hi_seq);
        ch_step_open(&r->steps[1], false, r->limit - r->limit / 2);
        ch_ref_hi(a, &r->steps[1].lo_at, &r->steps[1].lo_seq);
        if (r->steps[1].lo_seq != INT64_MIN)
            r->steps[1].lo_seq--; /* inclusive */
        r->nsteps = s->limit ? 2 : 1;
        if (!s->limit)
            r->steps[0] = r->steps[1];
        break;
    case CH_BETWEEN: {
        const struct chathistory_ref *b = &r->ref[1];
        bool forward = a->at < b->at || (a->at == b->at && a->type == CHATHISTORY_REF_MSGID &&
                                         b->type == CHATHISTORY_REF_MSGID && a->seq < b->seq);
        const struct chathistory_ref *first = forward ? a : b, *last = forward ? b : a;
        ch_step_open(s, !forward, r->limit);
        ch_ref_lo(first, &s->lo_at, &s->lo_seq);
        ch_ref_hi(last, &s->hi_at, &s->hi_seq);
        break;
    }
    case CH_TARGETS:
        break;
    }
    return true;
}

/* ---- SQL ---------------------------------------------------------------- */

#define CH_COLS "e.at, e.seq, e.kind, e.actor, e.target, e.msgid, e.body, e.account_id"
#define CH_BOUNDS                                                                                  \
    " AND e.at >= ? AND e.at <= ? AND (e.at, e.seq) > (?, ?) AND (e.at, e.seq) < (?, ?)"
/* a DM's text may be absent (netlog.direct_messages = "metadata") */
#define CH_DM_TEXT                                                                                 \
    " AND (json_extract(e.body, '$.text') IS NOT NULL"                                             \
    " OR json_extract(e.body, '$.command') = 'TAGMSG')"
#define CH_DM_NO_TAGMSG " AND json_extract(e.body, '$.command') <> 'TAGMSG'"
/* a group's events: its runs (binds: name, lo_at, name, hi_at) */
#define CH_GROUP_SCOPE NETLOG_SQL_RUNS_SCOPE("'target'", "?", "?", "?")
/* when account ? was first seen: the first of its runs (history_index.h) */
#define CH_ACCT_SINCE                                                                              \
    "(SELECT first_at FROM runs WHERE axis = 'account' AND key = ? ORDER BY last_at, first"        \
    " LIMIT 1)"
/* sent by my account, or to my nick from the peer since I hold the nick;
 * kind = 'dm' in each branch, or SQLite does not take the partial index
 * events_dm_target for it */
#define CH_DM_ACCT                                                                                 \
    "((e.kind = 'dm' AND e.account_id = ? AND e.target = ?) OR (e.kind = 'dm' AND e.target = ?"    \
    " AND e.actor >= ? AND e.actor < ? AND e.at >= " CH_ACCT_SINCE "))"
/* without an account: this connection's messages only */
#define CH_DM_NICK                                                                                 \
    "e.at >= ? AND ((e.kind = 'dm' AND e.target = ? AND e.actor >= ? AND e.actor < ?)"             \
    " OR (e.kind = 'dm' AND e.target = ? AND e.actor >= ? AND e.actor < ?))"

static const char *ch_channel_kinds(const struct ch_req *r)
{
    if (!r->playback)
        return "e.kind IN ('msg', 'notice')";
    if (!r->tags)
        return "e.kind IN ('msg', 'notice', 'join', 'part', 'kick', 'quit', 'topic', 'mode')";
    return "e.kind IN ('msg', 'notice', 'tagmsg', 'join', 'part', 'kick', 'quit', 'topic',"
           " 'mode')";
}

/* "nick!" and the string just above every "nick!..." ("nick\"") */
static void ch_prefix_range(const char *nick, char *lo, char *hi, size_t len)
{
    snprintf(lo, len, "%s!", nick);
    snprintf(hi, len, "%s\"", nick);
}

static size_t ch_scope_binds(const struct ch_req *r, const struct ch_step *s, struct store_value *b,
                             char (*tmp)[80])
{
    size_t n = 0;
    if (!r->dm) {
        b[n++] = STORE_TEXT(r->target);
        b[n++] = STORE_INT(s->lo_at);
        b[n++] = STORE_TEXT(r->target);
        b[n++] = STORE_INT(s->hi_at);
        return n;
    }
    if (r->me_acct) {
        ch_prefix_range(r->target, tmp[0], tmp[1], 80);
        b[n++] = STORE_INT(r->me_acct);
        b[n++] = STORE_TEXT(r->target);
        b[n++] = STORE_TEXT(r->me);
        b[n++] = STORE_TEXT(tmp[0]);
        b[n++] = STORE_TEXT(tmp[1]);
        b[n++] = STORE_INT(r->me_acct);
        return n;
    }
    ch_prefix_range(r->me, tmp[0], tmp[1], 80);
    ch_prefix_range(r->target, tmp[2], tmp[3], 80);
    b[n++] = STORE_INT(r->since_ms);
    b[n++] = STORE_TEXT(r->target);
    b[n++] = STORE_TEXT(tmp[0]);
    b[n++] = STORE_TEXT(tmp[1]);
    b[n++] = STORE_TEXT(r->me);
    b[n++] = STORE_TEXT(tmp[2]);
    b[n++] = STORE_TEXT(tmp[3]);
    return n;
}

static void ch_history_sql(const struct ch_req *r, bool desc, char *sql, size_t len)
{
    const char *scope = !r->dm ? CH_GROUP_SCOPE : r->me_acct ? CH_DM_ACCT : CH_DM_NICK;
    const char *order = !r->dm
                            ? (desc ? NETLOG_SQL_RUNS_ORDER("DESC") : NETLOG_SQL_RUNS_ORDER("ASC"))
                        : desc ? "e.at DESC, e.seq DESC"
                               : "e.at ASC, e.seq ASC";
    snprintf(sql, len,
             "SELECT " CH_COLS " FROM %s WHERE %s%s%s%s" CH_BOUNDS NETLOG_SQL_NOT_REDACTED
             " ORDER BY %s LIMIT ?",
             r->dm ? "events e" : NETLOG_SQL_RUNS_FROM, scope, r->dm ? "" : " AND ",
             r->dm ? "" : ch_channel_kinds(r),
             !r->dm                   ? ""
             : r->playback && r->tags ? CH_DM_TEXT
                                      : CH_DM_TEXT CH_DM_NO_TAGMSG,
             order);
}

/* ---- the reply ---------------------------------------------------------- */

/* Writes one line, with "label" on it when label is not NULL. */
static void ch_send_raw(struct client *c, const char *label, const char *line, size_t len)
{
    if (!label) {
        conn_send_copy(c->conn, line, len);
        return;
    }
    char esc[300], buf[IRC_LINE_BUF_MIN + 320];
    ssize_t el = irc_tag_escape(label, strlen(label), esc, sizeof esc - 1);
    esc[el < 0 ? 0 : el] = '\0';
    int n = line[0] == '@' ? snprintf(buf, sizeof buf, "@label=%s;%s", esc, line + 1)
                           : snprintf(buf, sizeof buf, "@label=%s %s", esc, line);
    if (n > 0 && (size_t)n < sizeof buf)
        conn_send_copy(c->conn, buf, (size_t)n);
}

struct ch_line {
    const char *source, *command;
    const char *params[IRC_PARAMS_MAX];
    int nparams;
    bool trailing;
    const char *msgid, *account, *client_tags, *batch;
    int64_t at;
};

/* Renders l for c's capabilities; returns the length or -1. */
static ssize_t ch_render(const struct client *c, const struct ch_line *l, char *buf, size_t cap)
{
    struct irc_wbuf w;
    irc_wbuf_init(&w, buf, cap);
    bool tags = c->caps & CAP_MESSAGE_TAGS;
    if (l->batch)
        irc_wbuf_tag(&w, "batch", l->batch);
    if ((c->caps & CAP_ACCOUNT_TAG) && l->account)
        irc_wbuf_tag(&w, "account", l->account);
    if (tags && l->msgid)
        irc_wbuf_tag(&w, "msgid", l->msgid);
    if (c->caps & CAP_SERVER_TIME) {
        char t[40];
        time_format_iso((uint64_t)l->at, t, sizeof t);
        irc_wbuf_tag(&w, "time", t);
    }
    if (tags && l->client_tags && l->client_tags[0])
        irc_wbuf_tags_raw(&w, l->client_tags, strlen(l->client_tags));
    irc_wbuf_source(&w, l->source);
    irc_wbuf_command(&w, l->command);
    for (int i = 0; i < l->nparams; i++) {
        const char *p = l->params[i];
        if (i == l->nparams - 1 && (l->trailing || !p[0] || p[0] == ':' || strchr(p, ' ')))
            irc_wbuf_trailing(&w, p);
        else
            irc_wbuf_param(&w, p);
    }
    return irc_wbuf_finish(&w);
}

static const char *ch_json_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* Fills l from a chat row; false when c may not see it. */
static bool ch_line_chat(const struct ch_req *r, struct client *c, const struct ch_item *it,
                         json_t *body, struct ch_line *l)
{
    const char *cmd = ch_json_str(body, "command");
    const char *text = ch_json_str(body, "text");
    const char *relayed = ch_json_str(body, "relayed_as");
    if (!cmd || (strcmp(cmd, "TAGMSG") != 0 && !text))
        return false;
    if (strcmp(cmd, "TAGMSG") == 0 && !(r->playback && r->tags))
        return false;
    if (relayed && !r->dm) {
        /* STATUSMSG: only for members who hold such a prefix now */
        uint8_t mask = 0;
        msgpath_status_parse(relayed, &mask);
        struct channel *ch = channel_find(r->target);
        struct member *m = ch ? channel_member(ch, c) : NULL;
        if (mask && (!m || !(m->flags & mask)))
            return false;
    }
    l->command = cmd;
    l->params[l->nparams++] = relayed ? relayed : it->target;
    if (text) {
        l->params[l->nparams++] = text;
        l->trailing = true;
    }
    l->client_tags = ch_json_str(body, "tags");
    return true;
}

/* Fills l from a join/part/kick/quit/topic/mode row. modes: scratch for
 * splitting a mode string (at least 512 bytes). */
static bool ch_line_event(const struct ch_item *it, json_t *body, struct ch_line *l, char *modes)
{
    const char *k = it->kind;
    if (strcmp(k, "join") == 0) {
        l->command = "JOIN";
        l->params[l->nparams++] = it->target;
    } else if (strcmp(k, "part") == 0 || strcmp(k, "quit") == 0) {
        const char *reason = body ? ch_json_str(body, "reason") : NULL;
        l->command = k[0] == 'p' ? "PART" : "QUIT";
        if (k[0] == 'p')
            l->params[l->nparams++] = it->target;
        if (reason || k[0] == 'q') {
            l->params[l->nparams++] = reason ? reason : "";
            l->trailing = true;
        }
    } else if (strcmp(k, "kick") == 0 || strcmp(k, "topic") == 0) {
        bool kick = k[0] == 'k';
        const char *who = body ? ch_json_str(body, "kicked") : NULL;
        const char *text = body ? ch_json_str(body, kick ? "reason" : "topic") : NULL;
        if (kick && !who)
            return false;
        l->command = kick ? "KICK" : "TOPIC";
        l->params[l->nparams++] = it->target;
        if (kick)
            l->params[l->nparams++] = who;
        l->params[l->nparams++] = text ? text : "";
        l->trailing = true;
    } else if (strcmp(k, "mode") == 0) {
        const char *m = body ? ch_json_str(body, "modes") : NULL;
        if (!m)
            return false;
        snprintf(modes, 512, "%s", m);
        l->command = "MODE";
        l->params[l->nparams++] = it->target;
        char *save = NULL;
        for (char *t = strtok_r(modes, " ", &save); t && l->nparams < IRC_PARAMS_MAX;
             t = strtok_r(NULL, " ", &save))
            l->params[l->nparams++] = t;
    } else {
        return false;
    }
    return true;
}

/* Renders and sends one history row inside the batch (or plainly). */
static int ch_send_item(const struct ch_req *r, struct client *c, const struct ch_item *it,
                        const char *batch, const char *label)
{
    json_t *body = it->body ? json_loads(it->body, 0, NULL) : NULL;
    struct ch_line l = {.source = strcmp(it->actor, "server") == 0 ? server_name() : it->actor,
                        .msgid = it->msgid,
                        .batch = batch,
                        .at = it->at};
    char modes[512];
    bool chat = strcmp(it->kind, "msg") == 0 || strcmp(it->kind, "notice") == 0 ||
                strcmp(it->kind, "tagmsg") == 0 || strcmp(it->kind, "dm") == 0;
    bool ok = chat ? body && ch_line_chat(r, c, it, body, &l) : ch_line_event(it, body, &l, modes);
    if (ok && it->account_id) {
        struct account *a = account_find_id(it->account_id);
        l.account = a ? a->name : NULL;
    }
    int sent = 0;
    if (ok) {
        char buf[IRC_LINE_BUF_MIN + 64];
        ssize_t n = ch_render(c, &l, buf, sizeof buf);
        if (n > 0) {
            ch_send_raw(c, label, buf, (size_t)n);
            sent = 1;
        }
    }
    json_decref(body);
    return sent;
}

static int ch_item_cmp(const void *a, const void *b)
{
    const struct ch_item *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

static const char *ch_sub_name(enum ch_sub sub)
{
    for (size_t i = 0; i < sizeof ch_sub_values / sizeof ch_sub_values[0]; i++)
        if (ch_sub_values[i] == sub)
            return ch_sub_names[i];
    return "*";
}

/* A failure after the request was accepted: FAIL, labeled if asked. */
static void ch_fail_async(struct client *c, const struct ch_req *r)
{
    char line[600];
    int n =
        snprintf(line, sizeof line,
                 ":%s FAIL CHATHISTORY MESSAGE_ERROR %s %s :Messages could not be retrieved\r\n",
                 server_name(), ch_sub_name(r->sub), r->sub == CH_TARGETS ? "*" : r->target);
    if (n > 0 && (size_t)n < sizeof line)
        ch_send_raw(c, r->labeled ? r->label : NULL, line, (size_t)n);
}

/* Sends the whole answer: one chathistory batch, or plain lines. */
static void ch_reply(struct ch_req *r, struct client *c)
{
    if (r->n)
        qsort(r->items, r->n, sizeof *r->items, ch_item_cmp);
    const char *label = r->labeled ? r->label : NULL;
    if (c->caps & CAP_BATCH) {
        char id[32], line[400];
        msgid_new(id, sizeof id);
        int n = snprintf(line, sizeof line, ":%s BATCH +%s chathistory %s\r\n", server_name(), id,
                         r->shown);
        ch_send_raw(c, label, line, (size_t)n);
        for (size_t i = 0; i < r->n; i++)
            ch_send_item(r, c, &r->items[i], id, NULL);
        n = snprintf(line, sizeof line, ":%s BATCH -%s\r\n", server_name(), id);
        conn_send_copy(c->conn, line, (size_t)n);
        return;
    }
    /* no batch: a label goes on a lone line, or an ACK when nothing */
    int sent = 0;
    for (size_t i = 0; i < r->n; i++)
        sent += ch_send_item(r, c, &r->items[i], NULL, r->n == 1 ? label : NULL);
    if (label && sent == 0) {
        char line[300];
        int n = snprintf(line, sizeof line, ":%s ACK\r\n", server_name());
        ch_send_raw(c, label, line, (size_t)n);
    }
}

/* ---- TARGETS ------------------------------------------------------------ */

/* each channel's last message: the last of its runs that has one */
#define CH_TARGETS_LAST                                                                            \
    "(SELECT e.at FROM " NETLOG_SQL_RUNS_FROM " WHERE tr.axis = 'target' AND tr.key = n.value"     \
    " AND e.seq = tr.first + j.value AND e.kind IN ('msg', 'notice')" NETLOG_SQL_NOT_REDACTED      \
    " ORDER BY " NETLOG_SQL_RUNS_ORDER("DESC") " LIMIT 1)"
#define CH_TARGETS_HEAD                                                                            \
    "WITH t(name, at) AS (SELECT n.value, " CH_TARGETS_LAST " FROM json_each(?) n UNION ALL "
#define CH_TARGETS_TAIL                                                                            \
    ") SELECT name, max(at) AS last FROM t WHERE at IS NOT NULL GROUP BY name"                     \
    " HAVING last > ? AND last < ? ORDER BY last, name LIMIT ?"
#define CH_TARGETS_DM_ACCT                                                                         \
    "SELECT e.target, e.at FROM events e WHERE e.account_id = ? AND e.kind = 'dm'"                 \
    " UNION ALL SELECT substr(e.actor, 1, instr(e.actor, '!') - 1), e.at FROM events e"            \
    " WHERE e.target = ? AND e.kind = 'dm'"                                                        \
    " AND e.at >= " CH_ACCT_SINCE
#define CH_TARGETS_DM_NICK                                                                         \
    "SELECT CASE WHEN e.actor >= ? AND e.actor < ? THEN e.target"                                  \
    " ELSE substr(e.actor, 1, instr(e.actor, '!') - 1) END, e.at FROM events e"                    \
    " WHERE e.at >= ? AND e.kind = 'dm' AND ((e.actor >= ? AND e.actor < ?) OR e.target = ?)"

static int ch_targets_row(void *ud, const struct store_value *cols, size_t ncols)
{
    struct ch_req *r = ud;
    if (ncols < 2 || cols[0].type != STORE_TYPE_TEXT || cols[1].type != STORE_TYPE_INT)
        return 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 16;
        r->items = xrealloc(r->items, r->cap * sizeof *r->items);
    }
    r->items[r->n++] = (struct ch_item){.at = cols[1].i, .target = xstrdup(cols[0].p)};
    return 0;
}

static void ch_targets_reply(struct ch_req *r, struct client *c)
{
    const char *label = r->labeled ? r->label : NULL;
    char id[32], line[600];
    bool batch = c->caps & CAP_BATCH;
    msgid_new(id, sizeof id);
    if (batch) {
        int n = snprintf(line, sizeof line, ":%s BATCH +%s draft/chathistory-targets\r\n",
                         server_name(), id);
        ch_send_raw(c, label, line, (size_t)n);
    }
    for (size_t i = 0; i < r->n; i++) {
        char t[40];
        time_format_iso((uint64_t)r->items[i].at, t, sizeof t);
        int n = snprintf(line, sizeof line, "%s%s%s:%s CHATHISTORY TARGETS %s %s\r\n",
                         batch ? "@batch=" : "", batch ? id : "", batch ? " " : "", server_name(),
                         r->items[i].target, t);
        if (n > 0 && (size_t)n < sizeof line)
            ch_send_raw(c, !batch && r->n == 1 ? label : NULL, line, (size_t)n);
    }
    if (batch) {
        int n = snprintf(line, sizeof line, ":%s BATCH -%s\r\n", server_name(), id);
        conn_send_copy(c->conn, line, (size_t)n);
    } else if (label && r->n == 0) {
        int n = snprintf(line, sizeof line, ":%s ACK\r\n", server_name());
        ch_send_raw(c, label, line, (size_t)n);
    }
}

/* ---- running the queries ------------------------------------------------ */

static void ch_finish(struct ch_req *r)
{
    struct client *c = client_by_id(r->client_id);
    if (c && !c->conn->closing) {
        if (r->failed)
            ch_fail_async(c, r);
        else if (r->sub == CH_TARGETS)
            ch_targets_reply(r, c);
        else
            ch_reply(r, c);
    }
    server_release_id(r->client_id);
    ch_req_free(r);
}

static void ch_done(void *ud, int status, const char *err);

static void ch_submit(struct ch_req *r, const char *sql, const struct store_value *b, size_t n,
                      store_row_cb row)
{
    int rc = netlog_query(sql, b, n, row, ch_done, r);
    if (rc != STORE_OK) {
        log_warn("chathistory: log query refused: %s", store_status_name(rc));
        r->failed = true;
        ch_finish(r);
    }
}

static int ch_history_row(void *ud, const struct store_value *cols, size_t ncols)
{
    struct ch_req *r = ud;
    if (ncols < 8)
        return 0;
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 64;
        r->items = xrealloc(r->items, r->cap * sizeof *r->items);
    }
    struct ch_item *it = &r->items[r->n++];
    it->at = cols[0].i;
    it->seq = cols[1].i;
    it->kind = xstrdup(cols[2].type == STORE_TYPE_TEXT ? cols[2].p : "");
    it->actor = xstrdup(cols[3].type == STORE_TYPE_TEXT ? cols[3].p : "server");
    it->target = xstrdup(cols[4].type == STORE_TYPE_TEXT ? cols[4].p : "*");
    it->msgid = cols[5].type == STORE_TYPE_TEXT ? xstrdup(cols[5].p) : NULL;
    it->body = cols[6].type == STORE_TYPE_TEXT ? xstrdup(cols[6].p) : NULL;
    it->account_id = cols[7].type == STORE_TYPE_INT ? cols[7].i : 0;
    return 0;
}

/* Runs history step r->step. */
static void ch_run_step(struct ch_req *r)
{
    const struct ch_step *s = &r->steps[r->step];
    char sql[2048], tmp[4][80];
    struct store_value b[16];
    ch_history_sql(r, s->desc, sql, sizeof sql);
    size_t n = ch_scope_binds(r, s, b, tmp);
    b[n++] = STORE_INT(s->lo_at);
    b[n++] = STORE_INT(s->hi_at);
    b[n++] = STORE_INT(s->lo_at);
    b[n++] = STORE_INT(s->lo_seq);
    b[n++] = STORE_INT(s->hi_at);
    b[n++] = STORE_INT(s->hi_seq);
    b[n++] = STORE_INT(s->limit);
    ch_submit(r, sql, b, n, ch_history_row);
}

static int ch_resolve_row(void *ud, const struct store_value *cols, size_t ncols)
{
    struct ch_req *r = ud;
    if (ncols < 3 || cols[0].type != STORE_TYPE_TEXT)
        return 0;
    for (int i = 0; i < r->nrefs; i++) {
        struct chathistory_ref *ref = &r->ref[i];
        if (ref->type == CHATHISTORY_REF_MSGID && !ref->found &&
            strcmp(ref->msgid, cols[0].p) == 0) {
            ref->found = true;
            ref->at = cols[1].i;
            ref->seq = cols[2].i;
        }
    }
    return 0;
}

/* Every query ends here: go on with the next step or answer. */
static void ch_done(void *ud, int status, const char *err)
{
    struct ch_req *r = ud;
    if (status != STORE_OK) {
        log_warn("chathistory: log query failed: %s", err ? err : store_status_name(status));
        r->failed = true;
        ch_finish(r);
        return;
    }
    if (r->sub == CH_TARGETS) {
        ch_finish(r);
        return;
    }
    if (r->step < 0) { /* references resolved */
        r->step = 0;
        if (!ch_plan(r)) {
            ch_finish(r); /* an unknown msgid: an empty batch */
            return;
        }
        ch_run_step(r);
        return;
    }
    if (++r->step < r->nsteps) {
        ch_run_step(r);
        return;
    }
    ch_finish(r);
}

static void ch_start(struct ch_req *r)
{
    bool msgid = false;
    for (int i = 0; i < r->nrefs; i++)
        msgid |= r->ref[i].type == CHATHISTORY_REF_MSGID;
    if (msgid) {
        /* the message's own row (a "redact" event repeats its msgid) */
        const char *a = r->ref[0].msgid, *z = r->ref[r->nrefs - 1].msgid;
        struct store_value b[4] = {STORE_TEXT(a), STORE_TEXT(z), STORE_INT(msgid_seq(a)),
                                   STORE_INT(msgid_seq(z))};
        r->step = -1;
        ch_submit(r, NETLOG_SQL_FIND_REFS, b, 4, ch_resolve_row);
        return;
    }
    r->step = 0;
    ch_plan(r);
    ch_run_step(r);
}

static void ch_start_targets(struct ch_req *r, struct client *c)
{
    json_t *names = json_array();
    for (uint16_t i = 0; i < c->nchans; i++)
        json_array_append_new(names, json_string(c->chans[i]->name));
    char *list = json_dumps(names, JSON_COMPACT);
    json_decref(names);
    char tmp[4][80];
    struct store_value b[12];
    size_t n = 0;
    b[n++] = STORE_TEXT(list);
    if (r->me_acct) {
        b[n++] = STORE_INT(r->me_acct);
        b[n++] = STORE_TEXT(r->me);
        b[n++] = STORE_INT(r->me_acct);
    } else {
        ch_prefix_range(r->me, tmp[0], tmp[1], 80);
        b[n++] = STORE_TEXT(tmp[0]);
        b[n++] = STORE_TEXT(tmp[1]);
        b[n++] = STORE_INT(r->since_ms);
        b[n++] = STORE_TEXT(tmp[0]);
        b[n++] = STORE_TEXT(tmp[1]);
        b[n++] = STORE_TEXT(r->me);
    }
    int64_t lo = r->ref[0].at < r->ref[1].at ? r->ref[0].at : r->ref[1].at;
    int64_t hi = r->ref[0].at < r->ref[1].at ? r->ref[1].at : r->ref[0].at;
    b[n++] = STORE_INT(lo);
    b[n++] = STORE_INT(hi);
    b[n++] = STORE_INT(r->limit);
    /* Compile-time text either way (tools/check_sql.py) */
    const char *sql = r->me_acct ? CH_TARGETS_HEAD CH_TARGETS_DM_ACCT CH_TARGETS_TAIL
                                 : CH_TARGETS_HEAD CH_TARGETS_DM_NICK CH_TARGETS_TAIL;
    ch_submit(r, sql, b, n, ch_targets_row);
    free(list);
}

/* ---- the command -------------------------------------------------------- */

static void ch_fail(struct client *c, const char *code, const char *sub, const char *ctx,
                    const char *why)
{
    char context[400];
    snprintf(context, sizeof context, "%s%s%.300s", sub, ctx ? " " : "", ctx ? ctx : "");
    send_fail(c, "FAIL", "CHATHISTORY", code, context, why);
}

/* Who may read the target: sets r->target (canonical) and the scope.
 * False (and a FAIL sent) when c may not. */
static bool ch_authorize(struct client *c, struct ch_req *r, const char *sub, const char *target)
{
    if (target[0] == '#' || target[0] == '&') {
        struct channel *ch = channel_find(target);
        if (!ch || !channel_member(ch, c)) {
            ch_fail(c, "INVALID_TARGET", sub, target, "Messages could not be retrieved");
            return false;
        }
        snprintf(r->target, sizeof r->target, "%s", ch->name);
        snprintf(r->shown, sizeof r->shown, "%s", ch->name);
        return true;
    }
    size_t len = strlen(target);
    if (len == 0 || len > (size_t)server_config->nick_length || strpbrk(target, "!@*?, ")) {
        ch_fail(c, "INVALID_TARGET", sub, target, "Messages could not be retrieved");
        return false;
    }
    /* the nick as its holder writes it, when online (nicks are compared
     * without case; the log keeps them as written) */
    struct client *peer = client_find(target);
    snprintf(r->target, sizeof r->target, "%s", peer ? peer->nick : target);
    r->dm = true;
    /* clients match the batch to their query buffer by the name they used */
    snprintf(r->shown, sizeof r->shown, "%s", target);
    return true;
}

static bool ch_parse(struct client *c, struct irc_msg *m, struct ch_req *r, const char *sub)
{
    int needed = r->sub == CH_BETWEEN ? 5 : 4;
    if ((int)m->nparams != needed) {
        ch_fail(c, "INVALID_PARAMS", sub, NULL,
                (int)m->nparams < needed ? "Insufficient parameters" : "Too many parameters");
        return false;
    }
    r->limit = chathistory_parse_limit(m->params[needed - 1], CHATHISTORY_MAX);
    if (r->limit < 0) {
        ch_fail(c, "INVALID_PARAMS", sub, m->params[needed - 1], "Invalid limit");
        return false;
    }
    int first = r->sub == CH_TARGETS ? 1 : 2;
    r->nrefs = needed - 1 - first;
    for (int i = 0; i < r->nrefs; i++) {
        const char *p = m->params[first + i];
        bool star = r->sub == CH_LATEST;
        if (!chathistory_parse_ref(p, star, r->sub != CH_TARGETS, &r->ref[i])) {
            ch_fail(c, "INVALID_PARAMS", sub, p, "Invalid message reference");
            return false;
        }
    }
    return r->sub == CH_TARGETS || ch_authorize(c, r, sub, m->params[1]);
}

void cmd_chathistory(struct client *c, struct irc_msg *m)
{
    char sub[16];
    snprintf(sub, sizeof sub, "%s", m->params[0]);
    for (char *p = sub; *p; p++)
        if (*p >= 'a' && *p <= 'z')
            *p = (char)(*p - 32);
    struct ch_req *r = xcalloc(1, sizeof *r);
    size_t k = 0, nsubs = sizeof ch_sub_names / sizeof ch_sub_names[0];
    while (k < nsubs && strcmp(ch_sub_names[k], sub) != 0)
        k++;
    if (k == nsubs) {
        ch_fail(c, "INVALID_PARAMS", sub[0] ? sub : "*", NULL, "Unknown subcommand");
        free(r);
        return;
    }
    r->sub = ch_sub_values[k];
    if (!ch_parse(c, m, r, sub)) {
        ch_req_free(r);
        return;
    }
    r->client_id = c->id;
    snprintf(r->me, sizeof r->me, "%s", c->nick);
    r->me_acct = c->acct ? c->acct->id : 0;
    /* this connection's start on the wall clock */
    r->since_ms = (int64_t)(time_now_ms() - (server_now_ms() - c->created_ms));
    r->playback = c->caps & CAP_EVENT_PLAYBACK;
    r->tags = c->caps & CAP_MESSAGE_TAGS;
    const char *label = (c->caps & CAP_LABELED_RESPONSE) ? irc_msg_tag(m, "label") : NULL;
    if (label && label[0]) {
        r->labeled = true;
        snprintf(r->label, sizeof r->label, "%s", label);
        label_forget(c); /* the reply carries the label itself */
    }
    server_hold(c); /* released in ch_finish */
    if (r->sub == CH_TARGETS)
        ch_start_targets(r, c);
    else
        ch_start(r);
}
