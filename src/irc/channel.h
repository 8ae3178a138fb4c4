/*
 * channel.h - channels (groups), their members and modes, and the channel
 * registry.
 *
 * Members live in an open-addressing table keyed by client pointer, so a
 * membership test is O(1) and a fan-out walks one contiguous array.
 *
 * Invariants:
 *   1. A channel exists in the registry while it has at least one member
 *      (the groups issue will make groups persistent; this is the point it
 *      will change: channel_part_cleanup()).
 *   2. nmembers equals the number of used slots; every member's client has
 *      the channel in its client->chans.
 *   3. Member prefix bits: MEMBER_OWNER (~), MEMBER_OP (@), MEMBER_VOICE (+).
 */
#ifndef QUN_IRC_CHANNEL_H
#define QUN_IRC_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct client;

enum member_flag {
    MEMBER_OWNER = 1u << 0, /* ~ (+q) */
    MEMBER_OP = 1u << 1,    /* @ (+o) */
    MEMBER_VOICE = 1u << 2, /* + (+v) */
};

enum channel_mode {
    CMODE_INVITE = 1u << 0,     /* +i */
    CMODE_MODERATED = 1u << 1,  /* +m */
    CMODE_NO_EXTERNAL = 1u << 2, /* +n */
    CMODE_SECRET = 1u << 3,     /* +s */
    CMODE_TOPIC_LOCK = 1u << 4, /* +t */
};

struct member {
    struct client *client; /* NULL: empty slot; (void *)1: tombstone */
    uint8_t flags;
};

struct channel_ban {
    char *mask;
    char *setter;
    time_t when;
};

struct channel {
    char *name;
    char *folded;
    time_t created;
    uint32_t modes;
    char *key;  /* +k, or NULL */
    int limit;  /* +l, 0 when unset */
    char *topic;
    char *topic_setter;
    time_t topic_time;

    struct channel_ban *bans;
    size_t nbans, bans_cap;
    char **invites; /* folded nicks invited (cleared when they join) */
    size_t ninvites, invites_cap;

    struct member *members;
    size_t members_cap, nmembers, members_tombs;
};

#define MEMBER_TOMB ((struct client *)1)

struct channel *channel_find(const char *name);
/* Creates an empty channel (name must be valid). */
struct channel *channel_create(const char *name);
void channel_destroy(struct channel *ch);

struct member *channel_member(const struct channel *ch, const struct client *c);
struct member *channel_add_member(struct channel *ch, struct client *c, uint8_t flags);
/* Removes the membership; destroys the channel when it becomes empty and
 * returns true in that case. */
bool channel_remove_member(struct channel *ch, struct client *c);

/* Highest prefix char ("~", "@", "+" or "") or all of them (multi-prefix). */
const char *member_prefix(uint8_t flags, bool all, char *buf);
/* True if the member has op rights (owner or op). */
static inline bool member_is_op(const struct member *m)
{
    return m && (m->flags & (MEMBER_OWNER | MEMBER_OP));
}

bool channel_is_banned(const struct channel *ch, const struct client *c);
bool channel_is_invited(const struct channel *ch, const struct client *c);
void channel_add_invite(struct channel *ch, const char *folded_nick);
void channel_clear_invite(struct channel *ch, const char *folded_nick);

/* Iterate members: for (size_t i = 0; i < ch->members_cap; i++) {
 *     struct member *m = &ch->members[i]; if (!member_used(m)) continue; ... } */
static inline bool member_used(const struct member *m)
{
    return m->client && m->client != MEMBER_TOMB;
}

size_t channel_count(void);
void channel_foreach(void (*fn)(struct channel *ch, void *ud), void *ud);

/* "+ntk key" style mode string for RPL_CHANNELMODEIS; with show_key false
 * the key is hidden. */
void channel_mode_string(const struct channel *ch, bool show_key, char *buf, size_t len);

#endif
