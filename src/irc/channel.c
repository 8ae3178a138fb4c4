/*
 * channel.c - channel registry and membership tables (see channel.h).
 */
#include "irc/channel.h"

#include <stdio.h>
#include <string.h>

#include "irc/client.h"
#include "proto/casemap.h"
#include "util/alloc.h"
#include "util/strmap.h"

static struct strmap channels;

struct channel *channel_find(const char *name)
{
    char folded[512];
    if (casemap_fold(name, strlen(name), folded, sizeof folded) < 0)
        return NULL;
    return strmap_get(&channels, folded);
}

struct channel *channel_create(const char *name)
{
    char folded[512];
    if (casemap_fold(name, strlen(name), folded, sizeof folded) < 0)
        return NULL;
    struct channel *ch = xcalloc(1, sizeof *ch);
    ch->name = xstrdup(name);
    ch->folded = xstrdup(folded);
    ch->created = time(NULL);
    strmap_put(&channels, ch->folded, ch);
    return ch;
}

void channel_destroy(struct channel *ch)
{
    strmap_del(&channels, ch->folded);
    for (size_t i = 0; i < ch->nbans; i++) {
        free(ch->bans[i].mask);
        free(ch->bans[i].setter);
    }
    for (size_t i = 0; i < ch->ninvites; i++)
        free(ch->invites[i]);
    free(ch->bans);
    free(ch->invites);
    free(ch->members);
    free(ch->name);
    free(ch->folded);
    free(ch->key);
    free(ch->topic);
    free(ch->topic_setter);
    free(ch);
}

/* ---- membership table: linear probing keyed by client pointer ---------- */

static struct member *member_slot(const struct channel *ch, const struct client *c, bool for_insert)
{
    if (ch->members_cap == 0)
        return NULL;
    size_t mask = ch->members_cap - 1;
    struct member *tomb = NULL;
    for (size_t i = hash_ptr(c) & mask;; i = (i + 1) & mask) {
        struct member *m = &ch->members[i];
        if (m->client == c)
            return m;
        if (m->client == MEMBER_TOMB) {
            if (!tomb)
                tomb = m;
            continue;
        }
        if (!m->client)
            return for_insert ? (tomb ? tomb : m) : NULL;
    }
}

static void member_grow(struct channel *ch)
{
    size_t ncap = ch->members_cap ? ch->members_cap : 8;
    while ((ch->nmembers + 1) * 2 > ncap)
        ncap *= 2;
    struct member *old = ch->members;
    size_t ocap = ch->members_cap;
    ch->members = xcalloc(ncap, sizeof *ch->members);
    ch->members_cap = ncap;
    ch->members_tombs = 0;
    for (size_t i = 0; i < ocap; i++) {
        if (!member_used(&old[i]))
            continue;
        struct member *m = member_slot(ch, old[i].client, true);
        *m = old[i];
    }
    free(old);
}

struct member *channel_member(const struct channel *ch, const struct client *c)
{
    return member_slot(ch, c, false);
}

struct member *channel_add_member(struct channel *ch, struct client *c, uint8_t flags)
{
    struct member *m = channel_member(ch, c);
    if (m)
        return m;
    if ((ch->nmembers + ch->members_tombs + 1) * 4 > ch->members_cap * 3)
        member_grow(ch);
    m = member_slot(ch, c, true);
    if (m->client == MEMBER_TOMB)
        ch->members_tombs--;
    m->client = c;
    m->flags = flags;
    ch->nmembers++;
    client_add_channel(c, ch);
    return m;
}

bool channel_remove_member(struct channel *ch, struct client *c)
{
    struct member *m = channel_member(ch, c);
    if (!m)
        return false;
    m->client = MEMBER_TOMB;
    m->flags = 0;
    ch->nmembers--;
    ch->members_tombs++;
    client_remove_channel(c, ch);
    if (ch->nmembers == 0) {
        channel_destroy(ch);
        return true;
    }
    return false;
}

const char *member_prefix(uint8_t flags, bool all, char *buf)
{
    size_t n = 0;
    if (flags & MEMBER_OWNER)
        buf[n++] = '~';
    if ((flags & MEMBER_OP) && (all || !n))
        buf[n++] = '@';
    if ((flags & MEMBER_VOICE) && (all || !n))
        buf[n++] = '+';
    buf[n] = '\0';
    return buf;
}

bool channel_is_banned(const struct channel *ch, const struct client *c)
{
    if (!ch->nbans)
        return false;
    char prefix[512];
    client_prefix(c, prefix, sizeof prefix);
    for (size_t i = 0; i < ch->nbans; i++) {
        const char *mask = ch->bans[i].mask;
        if (strncmp(mask, "$a:", 3) == 0) {
            if (c->account && mask_match(mask + 3, c->account))
                return true;
        } else if (mask_match(mask, prefix)) {
            return true;
        }
    }
    return false;
}

bool channel_is_invited(const struct channel *ch, const struct client *c)
{
    for (size_t i = 0; i < ch->ninvites; i++)
        if (c->nick_folded && strcmp(ch->invites[i], c->nick_folded) == 0)
            return true;
    return false;
}

void channel_add_invite(struct channel *ch, const char *folded_nick)
{
    for (size_t i = 0; i < ch->ninvites; i++)
        if (strcmp(ch->invites[i], folded_nick) == 0)
            return;
    if (ch->ninvites == ch->invites_cap) {
        ch->invites_cap = ch->invites_cap ? ch->invites_cap * 2 : 4;
        ch->invites = xrealloc(ch->invites, ch->invites_cap * sizeof *ch->invites);
    }
    ch->invites[ch->ninvites++] = xstrdup(folded_nick);
}

void channel_clear_invite(struct channel *ch, const char *folded_nick)
{
    for (size_t i = 0; i < ch->ninvites; i++) {
        if (strcmp(ch->invites[i], folded_nick) == 0) {
            free(ch->invites[i]);
            ch->invites[i] = ch->invites[--ch->ninvites];
            return;
        }
    }
}

size_t channel_count(void)
{
    return channels.count;
}

void channel_foreach(void (*fn)(struct channel *ch, void *ud), void *ud)
{
    for (size_t i = 0; i < channels.cap; i++)
        if (channels.slots[i].key)
            fn(channels.slots[i].value, ud);
}

void channel_mode_string(const struct channel *ch, bool show_key, char *buf, size_t len)
{
    char modes[32], args[256];
    size_t n = 0;
    modes[n++] = '+';
    static const struct {
        uint32_t bit;
        char ch;
    } flags[] = {{CMODE_INVITE, 'i'}, {CMODE_MODERATED, 'm'}, {CMODE_NO_EXTERNAL, 'n'},
                 {CMODE_SECRET, 's'}, {CMODE_TOPIC_LOCK, 't'}};
    for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++)
        if (ch->modes & flags[i].bit)
            modes[n++] = flags[i].ch;
    args[0] = '\0';
    size_t an = 0;
    if (ch->key) {
        modes[n++] = 'k';
        an += (size_t)snprintf(args + an, sizeof args - an, " %s", show_key ? ch->key : "*");
    }
    if (ch->limit > 0 && an < sizeof args) {
        modes[n++] = 'l';
        snprintf(args + an, sizeof args - an, " %d", ch->limit);
    }
    modes[n] = '\0';
    snprintf(buf, len, "%s%s", modes, args);
}
