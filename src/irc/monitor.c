/*
 * monitor.c - MONITOR (IRCv3): clients watching nicknames come and go.
 *
 * Owns the watch table and each client's own monitor list, and the
 * MONITOR command (+, -, C, L, S) with its numerics 730-734.
 *
 * Data
 * ----
 * Two views of the same relation "client W watches folded nick N":
 *
 *   - monitor_table: strmap N -> struct monitor_watch, the clients watching
 *     N. Announcing a sign-on, sign-off or nick change is one lookup.
 *   - W->monitors: the folded nicks W watches (insertion order, no
 *     duplicates), so W's list can be listed, and dropped on disconnect,
 *     without scanning the table.
 *
 * Invariants:
 *   1. N is in W->monitors exactly when W is in the watch of N.
 *   2. A watch in the table has at least one watcher; the last removal
 *      deletes and frees it.
 *   3. The table holds client pointers. That is safe only because
 *      monitor_forget() runs from client_destroy() before the client is
 *      freed and removes the client from every watch it is in (1).
 *   4. W->nmonitors <= server_config->monitor_max at the time of each add
 *      (a reload that lowers the limit does not trim existing lists).
 *
 * Notifications: 730 when a watched nick signs on or a user takes it,
 * 731 when it signs off or is given up. A change of case only (foo ->
 * Foo) keeps the folded nick, so it is neither (monitor_notify_nick_change).
 * With extended-monitor, watchers also get the watched user's AWAY,
 * SETNAME, CHGHOST and ACCOUNT messages; send_to_observers() (send.c)
 * reaches them through monitor_watchers().
 *
 * Targets that are not valid nicknames are skipped silently in "MONITOR +":
 * the spec says a target MUST be a valid nick, and such a name can never
 * come online, so watching it could never produce a notification.
 *
 * Replies that list targets are packed into as few numerics as fit in one
 * 512-byte line each (see struct monitor_reply).
 *
 * Threads: loop thread only.
 */
#include "irc/monitor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "proto/casemap.h"
#include "proto/message.h"
#include "util/alloc.h"
#include "util/strmap.h"

/* Longest folded nick we handle; nick_length is far below this. */
#define MONITOR_NICK_MAX 256

struct monitor_watch {
    char *folded; /* table key, owned */
    struct client **watchers;
    size_t n, cap;
};

static struct strmap monitor_table;

/* ---- the watch table ---------------------------------------------------- */

static void watch_add(const char *folded, struct client *c)
{
    struct monitor_watch *w = strmap_get(&monitor_table, folded);
    if (!w) {
        w = xcalloc(1, sizeof *w);
        w->folded = xstrdup(folded);
        strmap_put(&monitor_table, w->folded, w);
    }
    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 2;
        w->watchers = xrealloc(w->watchers, w->cap * sizeof *w->watchers);
    }
    w->watchers[w->n++] = c;
}

static void watch_remove(const char *folded, struct client *c)
{
    struct monitor_watch *w = strmap_get(&monitor_table, folded);
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++) {
        if (w->watchers[i] == c) {
            /* order among watchers does not matter: swap with the last */
            w->watchers[i] = w->watchers[--w->n];
            break;
        }
    }
    if (w->n == 0) {
        strmap_del(&monitor_table, folded);
        free(w->watchers);
        free(w->folded);
        free(w);
    }
}

/* ---- a client's own list ------------------------------------------------ */

static int list_index(const struct client *c, const char *folded)
{
    for (uint16_t i = 0; i < c->nmonitors; i++)
        if (strcmp(c->monitors[i], folded) == 0)
            return i;
    return -1;
}

static void list_add(struct client *c, const char *folded)
{
    if (c->nmonitors == c->monitors_cap) {
        uint32_t cap = c->monitors_cap ? (uint32_t)c->monitors_cap * 2 : 8;
        if (cap > UINT16_MAX)
            cap = UINT16_MAX;
        c->monitors_cap = (uint16_t)cap;
        c->monitors = xrealloc(c->monitors, cap * sizeof *c->monitors);
    }
    c->monitors[c->nmonitors++] = xstrdup(folded);
    watch_add(folded, c);
}

static void list_remove(struct client *c, const char *folded)
{
    int i = list_index(c, folded);
    if (i < 0)
        return;
    watch_remove(folded, c);
    free(c->monitors[i]);
    /* keep insertion order so MONITOR L lists in the order added */
    memmove(&c->monitors[i], &c->monitors[i + 1],
            (size_t)(c->nmonitors - i - 1) * sizeof *c->monitors);
    c->nmonitors--;
}

void monitor_forget(struct client *c)
{
    for (uint16_t i = 0; i < c->nmonitors; i++) {
        watch_remove(c->monitors[i], c);
        free(c->monitors[i]);
    }
    free(c->monitors);
    c->monitors = NULL;
    c->nmonitors = c->monitors_cap = 0;
}

/* ---- packing comma lists into numerics ---------------------------------- */

/*
 * Collects items for one numeric ("730", "731", "732") and sends a line
 * whenever the next item would push it past 512 bytes with CRLF. budget is
 * what remains of IRC_BODY_MAX after ":server NNN nick :".
 */
struct monitor_reply {
    struct client *to;
    int numeric;
    size_t len, budget;
    char buf[IRC_BODY_MAX + 1];
};

static void reply_init(struct monitor_reply *r, struct client *to, int numeric)
{
    size_t head = 1 + strlen(server_name()) + 5 + strlen(client_nick(to)) + 2;
    r->to = to;
    r->numeric = numeric;
    r->len = 0;
    r->budget = head < IRC_BODY_MAX - 64 ? IRC_BODY_MAX - head : 64;
}

static void reply_flush(struct monitor_reply *r)
{
    if (r->len == 0)
        return;
    r->buf[r->len] = '\0';
    send_numeric(r->to, r->numeric, ":%s", r->buf);
    r->len = 0;
}

static void reply_add(struct monitor_reply *r, const char *item)
{
    size_t n = strlen(item);
    if (n == 0 || n > r->budget)
        return; /* cannot happen for nicks and masks; never split an item */
    if (r->len && r->len + 1 + n > r->budget)
        reply_flush(r);
    if (r->len)
        r->buf[r->len++] = ',';
    memcpy(r->buf + r->len, item, n);
    r->len += n;
}

/* Online means registered: a nick held during registration is not yet a
 * user anyone can talk to. */
static struct client *monitor_online(const char *nick)
{
    struct client *t = client_find(nick);
    return t && t->state == CLIENT_REGISTERED ? t : NULL;
}

/* Adds one target's status to the online or offline reply. */
static void reply_status(struct monitor_reply *on, struct monitor_reply *off, const char *nick)
{
    struct client *t = monitor_online(nick);
    if (t) {
        char prefix[512];
        reply_add(on, client_prefix(t, prefix, sizeof prefix));
    } else {
        reply_add(off, nick);
    }
}

/* ---- MONITOR subcommands ------------------------------------------------ */

/* Splits the next comma-separated item off *p (in place); NULL at the end. */
static char *next_target(char **p)
{
    while (**p == ',')
        (*p)++;
    if (!**p)
        return NULL;
    char *t = *p;
    char *comma = strchr(t, ',');
    if (comma) {
        *comma = '\0';
        *p = comma + 1;
    } else {
        *p = t + strlen(t);
    }
    return t;
}

/* ERR_MONLISTFULL with the targets not added, as the client sent them.
 * rest is cut at a space so it stays one middle parameter. */
static void monitor_send_full(struct client *c, const char *rest)
{
    char targets[IRC_BODY_MAX + 1];
    size_t n = strcspn(rest, " ");
    if (n >= sizeof targets)
        n = sizeof targets - 1;
    memcpy(targets, rest, n);
    targets[n] = '\0';
    send_numeric(c, ERR_MONLISTFULL, "%d %s :Monitor list is full.", server_config->monitor_max,
                 targets);
}

static void monitor_add(struct client *c, const char *param)
{
    char copy[IRC_BODY_MAX + 1], folded[MONITOR_NICK_MAX];
    snprintf(copy, sizeof copy, "%s", param);
    struct monitor_reply on, off;
    reply_init(&on, c, RPL_MONONLINE);
    reply_init(&off, c, RPL_MONOFFLINE);
    size_t limit = server_config->monitor_max > 0 ? (size_t)server_config->monitor_max : 0;
    if (limit > UINT16_MAX)
        limit = UINT16_MAX;
    const char *rest = NULL; /* first target that did not fit, in param */
    char *p = copy, *t;
    while ((t = next_target(&p))) {
        size_t len = strlen(t);
        if (!casemap_nick_valid(t, len, (size_t)server_config->nick_length) ||
            casemap_fold(t, len, folded, sizeof folded) < 0)
            continue;
        if (list_index(c, folded) < 0) {
            if (c->nmonitors >= limit) {
                rest = param + (t - copy);
                break;
            }
            list_add(c, folded);
        }
        reply_status(&on, &off, t);
    }
    /* the status of what was added first, then what was not */
    reply_flush(&on);
    reply_flush(&off);
    if (rest)
        monitor_send_full(c, rest);
}

static void monitor_del(struct client *c, const char *param)
{
    char copy[IRC_BODY_MAX + 1], folded[MONITOR_NICK_MAX];
    snprintf(copy, sizeof copy, "%s", param);
    char *p = copy, *t;
    while ((t = next_target(&p)))
        if (casemap_fold(t, strlen(t), folded, sizeof folded) >= 0)
            list_remove(c, folded);
}

static void monitor_list(struct client *c)
{
    struct monitor_reply r;
    reply_init(&r, c, RPL_MONLIST);
    for (uint16_t i = 0; i < c->nmonitors; i++)
        reply_add(&r, c->monitors[i]);
    reply_flush(&r);
    send_numeric(c, RPL_ENDOFMONLIST, ":End of MONITOR list");
}

static void monitor_status(struct client *c)
{
    struct monitor_reply on, off;
    reply_init(&on, c, RPL_MONONLINE);
    reply_init(&off, c, RPL_MONOFFLINE);
    for (uint16_t i = 0; i < c->nmonitors; i++)
        reply_status(&on, &off, c->monitors[i]);
    reply_flush(&on);
    reply_flush(&off);
}

void monitor_command(struct client *c, const struct irc_msg *m)
{
    const char *mod = m->nparams ? m->params[0] : "";
    char op = (mod[0] && !mod[1]) ? mod[0] : '\0';
    if ((op == '+' || op == '-') && (m->nparams < 2 || !m->params[1][0])) {
        send_numeric(c, ERR_NEEDMOREPARAMS, "MONITOR :Not enough parameters");
        return;
    }
    switch (op) {
    case '+':
        monitor_add(c, m->params[1]);
        break;
    case '-':
        monitor_del(c, m->params[1]);
        break;
    case 'C':
    case 'c':
        monitor_forget(c);
        break;
    case 'L':
    case 'l':
        monitor_list(c);
        break;
    case 'S':
    case 's':
        monitor_status(c);
        break;
    default:
        send_fail(c, "FAIL", "MONITOR", "INVALID_PARAMS", NULL,
                  "Unknown MONITOR modifier; use +, -, C, L or S");
        break;
    }
}

void cmd_monitor(struct client *c, struct irc_msg *m)
{
    monitor_command(c, m);
}

/* ---- notifications ------------------------------------------------------ */

/* Each watcher gets its own line (the numeric carries its nick); the
 * watcher list is not changed by sending, since a client is only ever
 * destroyed from the transport's on_close, never during a send. */
void monitor_notify_online(struct client *c)
{
    if (!c->nick_folded)
        return;
    struct monitor_watch *w = strmap_get(&monitor_table, c->nick_folded);
    if (!w)
        return;
    char prefix[512];
    client_prefix(c, prefix, sizeof prefix);
    for (size_t i = 0; i < w->n; i++)
        send_numeric(w->watchers[i], RPL_MONONLINE, ":%s", prefix);
}

void monitor_notify_offline(const char *folded, const char *nick)
{
    struct monitor_watch *w = strmap_get(&monitor_table, folded);
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        send_numeric(w->watchers[i], RPL_MONOFFLINE, ":%s", nick);
}

void monitor_notify_nick_change(struct client *c, const char *old_folded, const char *old_nick)
{
    /* foo -> Foo is the same user under the same name: watchers of "foo"
     * must not see it leave and come back (731 then 730) */
    if (c->nick_folded && strcmp(old_folded, c->nick_folded) == 0)
        return;
    monitor_notify_offline(old_folded, old_nick);
    monitor_notify_online(c);
}

struct client *const *monitor_watchers(const struct client *c, size_t *n)
{
    struct monitor_watch *w = c->nick_folded ? strmap_get(&monitor_table, c->nick_folded) : NULL;
    *n = w ? w->n : 0;
    return w ? w->watchers : NULL;
}
