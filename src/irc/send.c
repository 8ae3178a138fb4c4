/*
 * send.c - rendering events once per capability set, numerics, standard
 * replies and labeled-response capture (see send.h for the contract).
 */
#include "irc/send.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/monitor.h"
#include "irc/server.h"
#include "net/conn.h"
#include "proto/utf8.h"
#include "util/alloc.h"
#include "util/msgid.h"

/* Line buffer large enough for a full tag section plus a 512-byte body. */
#define SEND_BUF (IRC_LINE_BUF_MIN + 64)

/* ---- time and msgid -------------------------------------------------- */

uint64_t time_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

void time_format_iso(uint64_t ms, char *buf, size_t len)
{
    time_t sec = (time_t)(ms / 1000);
    struct tm tm;
    gmtime_r(&sec, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03uZ", base, (unsigned)(ms % 1000));
}

static char event_msgid[MSGID_MAX + 1];
static uint64_t event_msgid_time;

void event_init(struct irc_event *ev, const char *source, const char *command, bool with_msgid)
{
    memset(ev, 0, sizeof *ev);
    ev->source = source;
    ev->command = command;
    ev->time_ms = time_now_ms();
    if (with_msgid) {
        msgid_new(event_msgid, sizeof event_msgid);
        ev->msgid = event_msgid;
        event_msgid_time = ev->time_ms;
    }
}

const char *event_last_msgid(uint64_t *time_ms)
{
    *time_ms = event_msgid_time;
    return event_msgid[0] ? event_msgid : NULL;
}

void event_from_client(struct irc_event *ev, const struct client *c)
{
    ev->account = c->account;
    ev->bot = (c->umodes & UMODE_BOT) != 0;
}

void event_param(struct irc_event *ev, const char *param)
{
    if (ev->nparams < IRC_PARAMS_MAX)
        ev->params[ev->nparams++] = param;
}

/* ---- rendering ------------------------------------------------------- */

/* Index 0..7 of a capability set within CAP_TAGS_MASK. */
static inline unsigned tag_index(uint32_t caps)
{
    return ((caps & CAP_MESSAGE_TAGS) ? 1u : 0u) | ((caps & CAP_SERVER_TIME) ? 2u : 0u) |
           ((caps & CAP_ACCOUNT_TAG) ? 4u : 0u);
}

static struct qbuf *event_render(const struct irc_event *ev, unsigned idx)
{
    char buf[SEND_BUF];
    struct irc_wbuf w;
    irc_wbuf_init(&w, buf, sizeof buf);
    if ((idx & 4) && ev->account)
        irc_wbuf_tag(&w, "account", ev->account);
    if ((idx & 1) && ev->msgid)
        irc_wbuf_tag(&w, "msgid", ev->msgid);
    /* bot-mode: the tag never has a value */
    if ((idx & 1) && ev->bot)
        irc_wbuf_tag(&w, "bot", NULL);
    if (idx & 2) {
        char t[40];
        time_format_iso(ev->time_ms, t, sizeof t);
        irc_wbuf_tag(&w, "time", t);
    }
    if ((idx & 1) && ev->client_tags && ev->client_tags[0])
        irc_wbuf_tags_raw(&w, ev->client_tags, strlen(ev->client_tags));
    irc_wbuf_source(&w, ev->source ? ev->source : server_name());
    irc_wbuf_command(&w, ev->command);
    for (int i = 0; i < ev->nparams; i++) {
        const char *p = ev->params[i];
        bool last = i == ev->nparams - 1;
        if (last && (ev->trailing || !p[0] || p[0] == ':' || strchr(p, ' ')))
            irc_wbuf_trailing(&w, p);
        else
            irc_wbuf_param(&w, p);
    }
    ssize_t n = irc_wbuf_finish(&w);
    if (n < 0)
        return NULL;
    return qbuf_new_shared(buf, (size_t)n);
}

/* ---- labeled-response capture ----------------------------------------- */

static struct {
    struct client *client;
    char label[128];
    char **lines;
    size_t *lens;
    size_t n, cap;
    size_t bytes;              /* captured so far */
    bool overflow;             /* more than limits.sendq: the client is dropped */
    struct label_group *group; /* the reply waits for logged messages */
} label_ctx;

/* A labeled reply that waits for messages being logged (strict network
 * log): the lines captured so far, the messages still to be delivered,
 * and whether the command has ended. */
struct label_group {
    char label[128];
    char **lines;
    size_t *lens;
    size_t n, cap, bytes;
    bool overflow;
    bool closed;    /* the command ended: no more messages join */
    unsigned waits; /* messages not yet delivered */
    uint64_t client_id;
};

static void label_move(char **lines, size_t *lens, size_t n, size_t cap, size_t bytes,
                       bool overflow, struct label_group *to)
{
    to->lines = lines;
    to->lens = lens;
    to->n = n;
    to->cap = cap;
    to->bytes = bytes;
    to->overflow = overflow;
}

struct label_group *label_group_join(struct client *c)
{
    if (label_ctx.client != c)
        return NULL;
    if (!label_ctx.group) {
        label_ctx.group = xcalloc(1, sizeof *label_ctx.group);
        label_ctx.group->client_id = c->id;
        snprintf(label_ctx.group->label, sizeof label_ctx.group->label, "%s", label_ctx.label);
    }
    label_ctx.group->waits++;
    return label_ctx.group;
}

/* Puts a group's capture back as the current labeled reply of c. */
void label_group_resume(struct client *c, struct label_group *g)
{
    label_ctx.client = c;
    snprintf(label_ctx.label, sizeof label_ctx.label, "%s", g->label);
    free(label_ctx.lines);
    free(label_ctx.lens);
    label_ctx.lines = g->lines;
    label_ctx.lens = g->lens;
    label_ctx.n = g->n;
    label_ctx.cap = g->cap;
    label_ctx.bytes = g->bytes;
    label_ctx.overflow = g->overflow;
    label_ctx.group = NULL;
    g->lines = NULL;
    g->lens = NULL;
    g->n = g->cap = 0;
}

/* After one waiting message was delivered (or dropped): the last one ends
 * the labeled reply; otherwise the capture goes back into the group. */
void label_group_done(struct label_group *g, struct client *c)
{
    g->waits--;
    if (g->waits == 0 && g->closed) {
        if (c && label_ctx.client == c)
            label_end();
        else
            label_forget(label_ctx.client);
        for (size_t i = 0; i < g->n; i++)
            free(g->lines[i]);
        free(g->lines);
        free(g->lens);
        free(g);
        return;
    }
    if (c && label_ctx.client == c) {
        label_move(label_ctx.lines, label_ctx.lens, label_ctx.n, label_ctx.cap, label_ctx.bytes,
                   label_ctx.overflow, g);
        label_ctx.lines = NULL;
        label_ctx.lens = NULL;
        label_ctx.n = label_ctx.cap = 0;
        label_ctx.client = NULL;
    }
}

void label_begin(struct client *c, const char *label)
{
    label_ctx.client = c;
    snprintf(label_ctx.label, sizeof label_ctx.label, "%s", label);
    label_ctx.n = 0;
    label_ctx.bytes = 0;
    label_ctx.overflow = false;
}

static void label_capture(const char *data, size_t len)
{
    /* The capture is bounded like a send queue: a labeled reply bigger than
     * limits.sendq would have overflowed it anyway. */
    if (label_ctx.overflow)
        return;
    label_ctx.bytes += len;
    if (label_ctx.bytes > server_config->sendq) {
        label_ctx.overflow = true;
        return;
    }
    if (label_ctx.n == label_ctx.cap) {
        label_ctx.cap = label_ctx.cap ? label_ctx.cap * 2 : 8;
        label_ctx.lines = xrealloc(label_ctx.lines, label_ctx.cap * sizeof *label_ctx.lines);
        label_ctx.lens = xrealloc(label_ctx.lens, label_ctx.cap * sizeof *label_ctx.lens);
    }
    label_ctx.lines[label_ctx.n] = xstrndup(data, len);
    label_ctx.lens[label_ctx.n] = len;
    label_ctx.n++;
}

/* Sends line with one more tag ("key=value", already escaped) in front. */
static void send_with_tag(struct client *c, const char *tag, const char *line, size_t len)
{
    char buf[SEND_BUF + 160];
    int n;
    if (line[0] == '@')
        n = snprintf(buf, sizeof buf, "@%s;%.*s", tag, (int)(len - 1), line + 1);
    else
        n = snprintf(buf, sizeof buf, "@%s %.*s", tag, (int)len, line);
    if (n > 0 && (size_t)n < sizeof buf)
        conn_send_copy(c->conn, buf, (size_t)n);
}

void label_end(void)
{
    struct client *c = label_ctx.client;
    if (!c)
        return;
    label_ctx.client = NULL;
    if (label_ctx.group) {
        /* messages of this command wait for the log: keep the capture in
         * their group; the last delivery ends the reply */
        struct label_group *g = label_ctx.group;
        label_ctx.group = NULL;
        g->closed = true;
        label_move(label_ctx.lines, label_ctx.lens, label_ctx.n, label_ctx.cap, label_ctx.bytes,
                   label_ctx.overflow, g);
        label_ctx.lines = NULL;
        label_ctx.lens = NULL;
        label_ctx.n = label_ctx.cap = 0;
        return;
    }
    if (label_ctx.overflow) {
        for (size_t i = 0; i < label_ctx.n; i++)
            free(label_ctx.lines[i]);
        label_ctx.n = 0;
        conn_close(c->conn, "SendQ exceeded");
        return;
    }
    char tag[160], esc[140];
    ssize_t el = irc_tag_escape(label_ctx.label, strlen(label_ctx.label), esc, sizeof esc - 1);
    esc[el < 0 ? 0 : el] = '\0';
    snprintf(tag, sizeof tag, "label=%s", esc);
    if (label_ctx.n == 0) {
        char ack[256];
        int n = snprintf(ack, sizeof ack, "@%s :%s ACK\r\n", tag, server_name());
        conn_send_copy(c->conn, ack, (size_t)n);
    } else if (label_ctx.n == 1 || !(c->caps & CAP_BATCH)) {
        if (label_ctx.n == 1)
            send_with_tag(c, tag, label_ctx.lines[0], label_ctx.lens[0]);
        else
            for (size_t i = 0; i < label_ctx.n; i++)
                conn_send_copy(c->conn, label_ctx.lines[i], label_ctx.lens[i]);
    } else {
        char id[32], line[300], btag[48];
        msgid_new(id, sizeof id);
        int n = snprintf(line, sizeof line, "@%s :%s BATCH +%s labeled-response\r\n", tag,
                         server_name(), id);
        conn_send_copy(c->conn, line, (size_t)n);
        snprintf(btag, sizeof btag, "batch=%s", id);
        for (size_t i = 0; i < label_ctx.n; i++)
            send_with_tag(c, btag, label_ctx.lines[i], label_ctx.lens[i]);
        n = snprintf(line, sizeof line, ":%s BATCH -%s\r\n", server_name(), id);
        conn_send_copy(c->conn, line, (size_t)n);
    }
    for (size_t i = 0; i < label_ctx.n; i++)
        free(label_ctx.lines[i]);
    label_ctx.n = 0;
}

void label_forget(struct client *c)
{
    if (label_ctx.client != c)
        return;
    for (size_t i = 0; i < label_ctx.n; i++)
        free(label_ctx.lines[i]);
    label_ctx.n = 0;
    label_ctx.client = NULL;
    label_ctx.group = NULL;
}

/* ---- delivery ---------------------------------------------------------- */

static void send_qbuf(struct client *c, struct qbuf *b)
{
    if (c == label_ctx.client)
        label_capture(b->data, b->len);
    else
        conn_send(c->conn, b);
}

static void send_bytes(struct client *c, const char *data, size_t len)
{
    if (c == label_ctx.client)
        label_capture(data, len);
    else
        conn_send_copy(c->conn, data, len);
}

/* Renders ev for one recipient; labeled decides whether the line may join
 * the labeled response being captured for that client. */
static void event_send_one(struct client *to, const struct irc_event *ev, bool labeled)
{
    struct qbuf *b = event_render(ev, tag_index(to->caps));
    if (!b)
        return;
    if (labeled)
        send_qbuf(to, b);
    else
        conn_send(to->conn, b);
    qbuf_unref(b);
}

void send_event_unlabeled(struct client *to, const struct irc_event *ev)
{
    event_send_one(to, ev, false);
}

void send_event(struct client *to, const struct irc_event *ev)
{
    event_send_one(to, ev, true);
}

/* One fan-out's renderings: v[idx] per capability set, and f[idx][kind]
 * the same line framed for connections with a framer of that kind (the
 * WebSocket bridge: one frame shared by every WebSocket recipient with
 * these capabilities). Framed variants are made lazily, only when such a
 * recipient exists; TCP recipients never cause one. */
struct render_cache {
    struct qbuf *v[8];
    struct qbuf *f[8][CONN_FRAME_KINDS];
};

static void cache_send(struct render_cache *rc, const struct irc_event *ev, struct client *c)
{
    unsigned idx = tag_index(c->caps);
    if (!rc->v[idx]) {
        rc->v[idx] = event_render(ev, idx);
        if (!rc->v[idx])
            return;
    }
    const struct conn_framer *fr = c->conn->framer;
    if (!fr || c == label_ctx.client || fr->kind >= CONN_FRAME_KINDS) {
        send_qbuf(c, rc->v[idx]); /* a labeled capture keeps the plain line */
        return;
    }
    if (!rc->f[idx][fr->kind]) {
        rc->f[idx][fr->kind] = fr->frame(rc->v[idx]);
        if (!rc->f[idx][fr->kind])
            return;
    }
    conn_send_framed(c->conn, rc->f[idx][fr->kind]);
}

static void cache_release(struct render_cache *rc)
{
    for (int i = 0; i < 8; i++) {
        if (rc->v[i])
            qbuf_unref(rc->v[i]);
        for (int k = 0; k < CONN_FRAME_KINDS; k++)
            if (rc->f[i][k])
                qbuf_unref(rc->f[i][k]);
    }
}

void send_to_channel_members(struct channel *ch, const struct irc_event *ev,
                             const struct client *except, uint32_t need_mask, uint32_t need_value,
                             uint8_t member_mask)
{
    struct render_cache rc = {0};
    for (size_t i = 0; i < ch->members_cap; i++) {
        struct member *m = &ch->members[i];
        /* every member is cold in a large group: ask for the client twice
         * as far ahead as its connection, and that CONN_PREFETCH_AHEAD
         * before its turn */
        size_t ahead = i + CONN_PREFETCH_AHEAD, far = i + 2 * CONN_PREFETCH_AHEAD;
        if (far < ch->members_cap && member_used(&ch->members[far]))
            __builtin_prefetch(ch->members[far].client);
        if (ahead < ch->members_cap && member_used(&ch->members[ahead]) &&
            ch->members[ahead].client->conn)
            conn_prefetch(ch->members[ahead].client->conn);
        if (!member_used(m) || m->client == except)
            continue;
        if ((m->client->caps & need_mask) != need_value)
            continue;
        if (member_mask && !(m->flags & member_mask))
            continue;
        cache_send(&rc, ev, m->client);
    }
    cache_release(&rc);
}

void send_to_channel(struct channel *ch, const struct irc_event *ev, const struct client *except,
                     uint32_t need_mask, uint32_t need_value)
{
    send_to_channel_members(ch, ev, except, need_mask, need_value, 0);
}

/* The channel-peer part of send_to_common(), in generation gen: callers
 * may go on to reach more clients in the same generation without sending
 * anyone a second copy. */
static void common_fanout(struct render_cache *rc, uint32_t gen, struct client *src,
                          const struct irc_event *ev, bool include_self, uint32_t need_mask,
                          uint32_t need_value)
{
    if (!include_self)
        client_fanout_take(src, gen);
    else if ((src->caps & need_mask) == need_value && client_fanout_take(src, gen))
        cache_send(rc, ev, src);
    for (uint16_t k = 0; k < src->nchans; k++) {
        struct channel *ch = src->chans[k];
        for (size_t i = 0; i < ch->members_cap; i++) {
            struct member *m = &ch->members[i];
            if (!member_used(m) || (m->client->caps & need_mask) != need_value)
                continue;
            if (client_fanout_take(m->client, gen))
                cache_send(rc, ev, m->client);
        }
    }
}

void send_to_common(struct client *src, const struct irc_event *ev, bool include_self,
                    uint32_t need_mask, uint32_t need_value)
{
    struct render_cache rc = {0};
    common_fanout(&rc, client_fanout_begin(), src, ev, include_self, need_mask, need_value);
    cache_release(&rc);
}

void send_to_observers(struct client *src, const struct irc_event *ev, bool include_self,
                       uint32_t need_cap)
{
    struct render_cache rc = {0};
    uint32_t gen = client_fanout_begin();
    common_fanout(&rc, gen, src, ev, include_self, need_cap, need_cap);
    /* watchers already reached through a channel (or src itself when
     * !include_self) carry this generation's mark and are skipped */
    uint32_t need = need_cap | CAP_EXTENDED_MONITOR;
    size_t n = 0;
    struct client *const *w = monitor_watchers(src, &n);
    for (size_t i = 0; i < n; i++)
        if ((w[i]->caps & need) == need && client_fanout_take(w[i], gen))
            cache_send(&rc, ev, w[i]);
    cache_release(&rc);
}

struct umode_fanout {
    struct render_cache rc;
    const struct irc_event *ev;
    uint8_t umode;
};

static void umode_fanout_one(struct client *c, void *ud)
{
    struct umode_fanout *f = ud;
    if (c->state == CLIENT_REGISTERED && (c->umodes & f->umode))
        cache_send(&f->rc, f->ev, c);
}

void send_to_umode(const struct irc_event *ev, uint8_t umode)
{
    struct umode_fanout f = {.ev = ev, .umode = umode};
    client_foreach(umode_fanout_one, &f);
    cache_release(&f.rc);
}

static void send_vformat(struct client *to, const char *head, const char *fmt, va_list ap)
{
    char buf[1024];
    int n = snprintf(buf, sizeof buf, "%s", head);
    int m = vsnprintf(buf + n, sizeof buf - (size_t)n, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof buf - 1)
        len = sizeof buf - 1;
    /* never let a CR, LF or NUL from formatted text split the line */
    for (size_t i = 0; i < len; i++)
        if (buf[i] == '\r' || buf[i] == '\n' || buf[i] == '\0')
            buf[i] = ' ';
    len = utf8_truncate(buf, len, IRC_BODY_MAX);
    buf[len++] = '\r';
    buf[len++] = '\n';
    send_bytes(to, buf, len);
}

void send_numeric(struct client *to, int numeric, const char *fmt, ...)
{
    char head[128];
    snprintf(head, sizeof head, ":%s %03d %s ", server_name(), numeric, client_nick(to));
    va_list ap;
    va_start(ap, fmt);
    send_vformat(to, head, fmt, ap);
    va_end(ap);
}

void send_line(struct client *to, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    send_vformat(to, "", fmt, ap);
    va_end(ap);
}

void send_fail(struct client *to, const char *kind, const char *command, const char *code,
               const char *context, const char *description)
{
    /* Standard replies may go to every client; those that did not ask for
     * standard-replies also get the sentence as a NOTICE, which every client
     * displays. */
    send_line(to, ":%s %s %s %s%s%s :%s", server_name(), kind, command, code, context ? " " : "",
              context ? context : "", description);
    if (!(to->caps & CAP_STANDARD_REPLIES))
        send_line(to, ":%s NOTICE %s :%s %s: %s", server_name(), client_nick(to), command, kind,
                  description);
}
