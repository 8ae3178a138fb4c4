/*
 * channel.c - channel registry, membership tables, and the list modes
 * (+b +e +I) with the rules that match them against a client (see
 * channel.h).
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
    return channel_find_folded(folded);
}

struct channel *channel_find_folded(const char *folded)
{
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
    for (int l = 0; l < CHANLIST_COUNT; l++) {
        struct chanlist *list = &ch->lists[l];
        for (size_t i = 0; i < list->n; i++) {
            free(list->items[i].mask);
            free(list->items[i].setter);
        }
        free(list->items);
    }
    for (size_t i = 0; i < ch->ninvites; i++)
        free(ch->invites[i]);
    free(ch->invites);
    free(ch->members);
    free(ch->name);
    free(ch->folded);
    free(ch->key);
    free(ch->topic);
    free(ch->topic_setter);
    free(ch->category);
    free(ch->gm);
    free(ch->req);
    free(ch->recent);
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
    if (ch->nmembers == 0 && ch->code == 0) {
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

/* ---- list modes ---------------------------------------------------------- */

long chanlist_find(const struct chanlist *l, const char *mask)
{
    /* masks are at most MODEPARSE_MASK_MAX bytes; folding may grow them */
    char want[1024], have[1024];
    if (casemap_fold(mask, strlen(mask), want, sizeof want) < 0)
        return -1;
    for (size_t i = 0; i < l->n; i++) {
        const char *m = l->items[i].mask;
        if (casemap_fold(m, strlen(m), have, sizeof have) >= 0 && strcmp(want, have) == 0)
            return (long)i;
    }
    return -1;
}

void chanlist_add(struct chanlist *l, const char *mask, const char *setter, time_t when)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    struct chanlist_entry *e = &l->items[l->n++];
    e->mask = xstrdup(mask);
    e->setter = xstrdup(setter);
    e->when = when;
}

void chanlist_remove(struct chanlist *l, size_t i)
{
    free(l->items[i].mask);
    free(l->items[i].setter);
    /* keep the order: lists are shown oldest first */
    memmove(&l->items[i], &l->items[i + 1], (l->n - i - 1) * sizeof *l->items);
    l->n--;
}

size_t channel_list_total(const struct channel *ch)
{
    size_t n = 0;
    for (int l = 0; l < CHANLIST_COUNT; l++)
        n += ch->lists[l].n;
    return n;
}

/* What matching entries of one list were found, by kind. */
enum {
    LISTMATCH_FULL = 1u << 0, /* an entry without m: */
    LISTMATCH_MUTE = 1u << 1, /* an m: entry */
};

/* One entry (without its m: part) against the client; prefix is the
 * client's nick!user@host. */
static bool entry_match(const char *mask, const struct client *c, const char *prefix)
{
    if (strncmp(mask, "a:", 2) == 0)
        return c->account && mask_match(mask + 2, c->account);
    return mask_match(mask, prefix);
}

static unsigned chanlist_match(const struct chanlist *l, const struct client *c, const char *prefix)
{
    unsigned found = 0;
    for (size_t i = 0; i < l->n; i++) {
        const char *mask = l->items[i].mask;
        bool mute = strncmp(mask, "m:", 2) == 0;
        unsigned kind = mute ? LISTMATCH_MUTE : LISTMATCH_FULL;
        if (!(found & kind) && entry_match(mute ? mask + 2 : mask, c, prefix))
            found |= kind;
    }
    return found;
}

bool channel_is_banned(const struct channel *ch, const struct client *c)
{
    if (!ch->lists[CHANLIST_BAN].n)
        return false;
    char prefix[512];
    client_prefix(c, prefix, sizeof prefix);
    return (chanlist_match(&ch->lists[CHANLIST_BAN], c, prefix) & LISTMATCH_FULL) &&
           !(chanlist_match(&ch->lists[CHANLIST_EXCEPT], c, prefix) & LISTMATCH_FULL);
}

bool channel_is_muted(const struct channel *ch, const struct client *c)
{
    if (!ch->lists[CHANLIST_BAN].n)
        return false;
    char prefix[512];
    client_prefix(c, prefix, sizeof prefix);
    unsigned ban = chanlist_match(&ch->lists[CHANLIST_BAN], c, prefix);
    if (!ban)
        return false;
    unsigned except = chanlist_match(&ch->lists[CHANLIST_EXCEPT], c, prefix);
    if ((ban & LISTMATCH_FULL) && !(except & LISTMATCH_FULL))
        return true;
    return (ban & LISTMATCH_MUTE) && !except;
}

bool channel_is_invex(const struct channel *ch, const struct client *c)
{
    if (!ch->lists[CHANLIST_INVEX].n)
        return false;
    char prefix[512];
    client_prefix(c, prefix, sizeof prefix);
    return chanlist_match(&ch->lists[CHANLIST_INVEX], c, prefix) & LISTMATCH_FULL;
}

/* ---- invitations ------------------------------------------------------------ */

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
    } flags[] = {{CMODE_INVITE, 'i'},
                 {CMODE_MODERATED, 'm'},
                 {CMODE_NO_EXTERNAL, 'n'},
                 {CMODE_SECRET, 's'},
                 {CMODE_TOPIC_LOCK, 't'}};
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
