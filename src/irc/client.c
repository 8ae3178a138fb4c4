/*
 * client.c - client lifetime and the nickname registry (see client.h).
 */
#include "irc/client.h"

#include <stdio.h>
#include <string.h>

#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/logevents.h"
#include "irc/login.h"
#include "irc/monitor.h"
#include "irc/send.h"
#include "irc/whowas.h"
#include "net/conn.h"
#include "proto/casemap.h"
#include "util/alloc.h"
#include "util/idmap.h"
#include "util/strmap.h"

static struct strmap client_nicks;
static struct idmap client_ids; /* id -> client, every live client */
static size_t client_total, client_registered, client_invisible, client_opers, client_max;
static uint64_t client_registrations; /* completed since the start */
static uint32_t client_fanout_gen;

struct client *client_create(struct conn *conn)
{
    struct client *c = xcalloc(1, sizeof *c);
    c->conn = conn;
    c->id = conn->id;
    /* a host starting with ':' would break the IRC line syntax */
    c->host = conn->ip[0] == ':' ? xasprintf("0%s", conn->ip) : conn->ip;
    c->signon = time(NULL);
    c->idle_since = c->signon;
    idmap_put(&client_ids, c->id, c);
    client_total++;
    return c;
}

static void client_leave_all(struct client *c, const char *reason)
{
    if (c->state == CLIENT_REGISTERED && c->nchans) {
        char prefix[256];
        struct irc_event ev;
        event_init(&ev, client_prefix(c, prefix, sizeof prefix), "QUIT", true);
        event_param(&ev, reason);
        ev.trailing = true;
        event_from_client(&ev, c);
        send_to_common(c, &ev, false, 0, 0);
    }
    while (c->nchans) {
        struct channel *ch = c->chans[c->nchans - 1];
        if (c->state == CLIENT_REGISTERED)
            log_group_event("quit", c, ch, true, "reason", reason, NULL, NULL);
        channel_remove_member(ch, c); /* also shrinks c->chans */
    }
}

void client_destroy(struct client *c, const char *quit_reason)
{
    label_forget(c);
    idmap_del(&client_ids, c->id);
    login_client_gone(c);
    client_leave_all(c, quit_reason ? quit_reason : "Client quit");
    monitor_forget(c);
    if (c->nick) {
        if (c->state == CLIENT_REGISTERED) {
            whowas_add(c);
            monitor_notify_offline(c->nick_folded, c->nick);
        }
        strmap_del(&client_nicks, c->nick_folded);
    }
    if (c->state == CLIENT_REGISTERED) {
        client_registered--;
        if (c->umodes & UMODE_INVISIBLE)
            client_invisible--;
        if (c->umodes & UMODE_OPER)
            client_opers--;
    }
    client_total--;
    free(c->nick);
    free(c->nick_folded);
    free(c->nick_wanted);
    free(c->user);
    free(c->realname);
    if (c->host != c->conn->ip)
        free(c->host);
    free(c->away);
    free(c->account);
    free(c->chans);
    free(c->monitors);
    free(c->sent_dms);
    free(c->deferred_line);
    free(c);
}

struct client *client_by_id(uint64_t id)
{
    return idmap_get(&client_ids, id);
}

struct client *client_find(const char *nick)
{
    char folded[256];
    int n = casemap_fold(nick, strlen(nick), folded, sizeof folded);
    if (n < 0)
        return NULL;
    return strmap_get(&client_nicks, folded);
}

bool client_set_nick(struct client *c, const char *nick)
{
    char folded[256];
    int n = casemap_fold(nick, strlen(nick), folded, sizeof folded);
    if (n < 0)
        return false;
    struct client *other = strmap_get(&client_nicks, folded);
    if (other && other != c)
        return false;
    if (c->nick_folded)
        strmap_del(&client_nicks, c->nick_folded);
    free(c->nick);
    free(c->nick_folded);
    c->nick = xstrdup(nick);
    c->nick_folded = xstrdup(folded);
    strmap_put(&client_nicks, c->nick_folded, c);
    return true;
}

/* Appends src to buf at *off, never past len - 1. */
static void prefix_append(char *buf, size_t len, size_t *off, const char *src)
{
    size_t n = strlen(src);
    if (n > len - 1 - *off)
        n = len - 1 - *off;
    memcpy(buf + *off, src, n);
    *off += n;
}

const char *client_prefix(const struct client *c, char *buf, size_t len)
{
    /* on every relayed message: plain copies, no printf */
    size_t off = 0;
    prefix_append(buf, len, &off, client_nick(c));
    prefix_append(buf, len, &off, "!");
    prefix_append(buf, len, &off, c->user ? c->user : "*");
    prefix_append(buf, len, &off, "@");
    prefix_append(buf, len, &off, c->host);
    buf[off] = '\0';
    return buf;
}

const char *client_nick(const struct client *c)
{
    return c->nick ? c->nick : "*";
}

void client_add_channel(struct client *c, struct channel *ch)
{
    if (c->nchans == c->chans_cap) {
        c->chans_cap = c->chans_cap ? (uint16_t)(c->chans_cap * 2) : 4;
        c->chans = xrealloc(c->chans, c->chans_cap * sizeof *c->chans);
    }
    c->chans[c->nchans++] = ch;
}

void client_remove_channel(struct client *c, struct channel *ch)
{
    for (uint16_t i = 0; i < c->nchans; i++) {
        if (c->chans[i] == ch) {
            /* keep join order: clients see WHOIS channel lists in order */
            memmove(&c->chans[i], &c->chans[i + 1], (size_t)(c->nchans - i - 1) * sizeof ch);
            c->nchans--;
            return;
        }
    }
}

size_t client_count(void)
{
    return client_total;
}

size_t client_count_registered(void)
{
    return client_registered;
}

size_t client_count_invisible(void)
{
    return client_invisible;
}

size_t client_count_opers(void)
{
    return client_opers;
}

size_t client_max_registered(void)
{
    return client_max;
}

const uint64_t *client_registrations_total(void)
{
    return &client_registrations;
}

void client_note_registered(struct client *c)
{
    client_registered++;
    client_registrations++;
    if (client_registered > client_max)
        client_max = client_registered;
    if (c->umodes & UMODE_INVISIBLE)
        client_invisible++;
    if (c->umodes & UMODE_OPER)
        client_opers++;
}

void client_note_umode(struct client *c, uint8_t old_modes)
{
    if (c->state != CLIENT_REGISTERED)
        return;
    if ((old_modes ^ c->umodes) & UMODE_INVISIBLE)
        client_invisible += (c->umodes & UMODE_INVISIBLE) ? 1 : (size_t)-1;
    if ((old_modes ^ c->umodes) & UMODE_OPER)
        client_opers += (c->umodes & UMODE_OPER) ? 1 : (size_t)-1;
}

void client_foreach(void (*fn)(struct client *c, void *ud), void *ud)
{
    for (size_t i = 0; i < client_nicks.cap; i++)
        if (client_nicks.slots[i].key)
            fn(client_nicks.slots[i].value, ud);
}

uint32_t client_fanout_begin(void)
{
    if (++client_fanout_gen == 0)
        ++client_fanout_gen;
    return client_fanout_gen;
}

/* Glob matching over case-folded strings: '*' any run, '?' one byte. */
static bool glob_match(const char *p, const char *t)
{
    const char *star = NULL, *resume = NULL;
    while (*t) {
        if (*p == '*') {
            star = p++;
            resume = t;
        } else if (*p == '?' || *p == *t) {
            p++;
            t++;
        } else if (star) {
            p = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (*p == '*')
        p++;
    return *p == '\0';
}

bool mask_match(const char *mask, const char *text)
{
    char fm[1024], ft[1024];
    int a = casemap_fold(mask, strlen(mask), fm, sizeof fm);
    int b = casemap_fold(text, strlen(text), ft, sizeof ft);
    if (a < 0 || b < 0)
        return false;
    return glob_match(fm, ft);
}
