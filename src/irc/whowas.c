/*
 * whowas.c - a bounded history of nicknames that left, and WHOWAS.
 *
 * Owns the ring of remembered nicks (struct whowas_entry) and the WHOWAS
 * command. Entries are copies of what the client looked like at the moment
 * it quit or changed nick; nothing here points at a live client.
 *
 * Invariants:
 *   1. ring.cap is the whowas_max in force when the ring was last sized;
 *      0 <= ring.count <= ring.cap; ring.head is the slot written next.
 *   2. The newest entry is at head - 1, the oldest at head - count (mod cap).
 *      Slots outside those count entries are zeroed.
 *   3. When the configured size changes (reload), the next whowas_add
 *      re-sizes the ring keeping the newest entries that fit.
 *
 * Lookups scan the ring newest-first. At the default 1000 entries that is
 * cheaper than maintaining an index on every quit; a server configured for
 * a very large history pays a linear scan per WHOWAS target, which the
 * command's flood penalty bounds.
 *
 * Threads: loop thread only.
 */
#include "irc/whowas.h"

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

static struct {
    struct whowas_entry *v;
    size_t cap, count, head;
} ring;

static void entry_clear(struct whowas_entry *e)
{
    free(e->nick);
    free(e->folded);
    free(e->user);
    free(e->host);
    free(e->realname);
    free(e->account);
    free(e->server);
    memset(e, 0, sizeof *e);
}

/* Index of the k-th newest entry (k < count). */
static size_t ring_slot(size_t k)
{
    return (ring.head + ring.cap - 1 - k) % ring.cap;
}

/* Moves the newest min(count, cap) entries into a ring of cap slots. */
static void ring_resize(size_t cap)
{
    struct whowas_entry *v = cap ? xcalloc(cap, sizeof *v) : NULL;
    size_t keep = ring.count < cap ? ring.count : cap;
    for (size_t k = 0; k < ring.count; k++) {
        struct whowas_entry *e = &ring.v[ring_slot(k)];
        if (k < keep)
            v[keep - 1 - k] = *e; /* oldest kept lands at 0 */
        else
            entry_clear(e);
    }
    free(ring.v);
    ring.v = v;
    ring.cap = cap;
    ring.count = keep;
    ring.head = cap ? keep % cap : 0;
}

void whowas_reset(void)
{
    for (size_t i = 0; i < ring.cap; i++)
        entry_clear(&ring.v[i]);
    free(ring.v);
    memset(&ring, 0, sizeof ring);
}

void whowas_add(const struct client *c)
{
    size_t want = server_config->whowas_max > 0 ? (size_t)server_config->whowas_max : 0;
    if (want != ring.cap)
        ring_resize(want);
    if (ring.cap == 0 || !c->nick || !c->nick_folded)
        return;
    struct whowas_entry *e = &ring.v[ring.head];
    entry_clear(e); /* the oldest entry, when the ring is full */
    e->nick = xstrdup(c->nick);
    e->folded = xstrdup(c->nick_folded);
    e->user = xstrdup(c->user ? c->user : "*");
    e->host = xstrdup(c->host ? c->host : "*");
    e->realname = xstrdup(c->realname ? c->realname : "");
    e->account = c->account ? xstrdup(c->account) : NULL;
    e->server = xstrdup(server_name());
    e->when = time(NULL);
    ring.head = (ring.head + 1) % ring.cap;
    if (ring.count < ring.cap)
        ring.count++;
}

size_t whowas_find(const char *folded, size_t max,
                   void (*fn)(const struct whowas_entry *e, void *ud), void *ud)
{
    size_t found = 0;
    for (size_t k = 0; k < ring.count && (max == 0 || found < max); k++) {
        const struct whowas_entry *e = &ring.v[ring_slot(k)];
        if (strcmp(e->folded, folded) == 0) {
            fn(e, ud);
            found++;
        }
    }
    return found;
}

/* ---- WHOWAS --------------------------------------------------------------- */

static void whowas_send_entry(const struct whowas_entry *e, void *ud)
{
    struct client *c = ud;
    char when[64];
    struct tm tm;
    gmtime_r(&e->when, &tm);
    strftime(when, sizeof when, "%a %b %d %H:%M:%S %Y UTC", &tm);
    send_numeric(c, RPL_WHOWASUSER, "%s %s %s * :%s", e->nick, e->user, e->host, e->realname);
    send_numeric(c, RPL_WHOISSERVER, "%s %s :%s", e->nick, e->server, when);
    if (e->account)
        send_numeric(c, RPL_WHOISACCOUNT, "%s %s :was logged in as", e->nick, e->account);
}

/* A client-supplied name echoed as a middle parameter must not break the
 * line's syntax; anything that could is replaced by "*". */
static const char *whowas_echo(const char *s)
{
    return (!s[0] || s[0] == ':' || strchr(s, ' ')) ? "*" : s;
}

static void whowas_one(struct client *c, const char *nick, size_t max)
{
    char folded[256];
    size_t n = 0;
    if (casemap_fold(nick, strlen(nick), folded, sizeof folded) >= 0)
        n = whowas_find(folded, max, whowas_send_entry, c);
    if (n == 0)
        send_numeric(c, ERR_WASNOSUCHNICK, "%s :There was no such nickname", whowas_echo(nick));
    send_numeric(c, RPL_ENDOFWHOWAS, "%s :End of WHOWAS", whowas_echo(nick));
}

/* WHOWAS nick[,nick...] [count]: count <= 0 or absent means all entries. */
void whowas_command(struct client *c, const struct irc_msg *m)
{
    if (m->nparams == 0 || !m->params[0][0]) {
        send_numeric(c, ERR_NONICKNAMEGIVEN, ":No nickname given");
        return;
    }
    long count = m->nparams > 1 ? strtol(m->params[1], NULL, 10) : 0;
    size_t max = count > 0 ? (size_t)count : 0;
    char copy[IRC_BODY_MAX + 1];
    snprintf(copy, sizeof copy, "%s", m->params[0]);
    int targets = 0, limit = server_config->max_targets > 0 ? server_config->max_targets : 1;
    char *save = NULL;
    for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (targets++ == limit) {
            send_numeric(c, ERR_TOOMANYTARGETS, "%s :Too many targets", whowas_echo(t));
            break;
        }
        whowas_one(c, t, max);
    }
    if (targets == 0)
        send_numeric(c, ERR_NONICKNAMEGIVEN, ":No nickname given");
}

void cmd_whowas(struct client *c, struct irc_msg *m)
{
    whowas_command(c, m);
}
