/*
 * channel.h - channels (groups), their members and modes, and the channel
 * registry.
 *
 * Members live in an open-addressing table keyed by client pointer, so a
 * membership test is O(1) and a fan-out walks one contiguous array.
 *
 * Invariants:
 *   1. A group (code > 0, irc/group.c) stays in the registry, members or
 *      not, until it is dissolved. A transient channel (code 0: only
 *      possible when identity.create_level is 0, a conformance setting)
 *      exists while it has at least one member.
 *   2. nmembers equals the number of used slots; every member's client has
 *      the channel in its client->chans.
 *   3. Member prefix bits: MEMBER_OWNER (~), MEMBER_OP (@), MEMBER_VOICE (+).
 *   4. The list modes +b, +e and +I are three struct chanlist of one kind;
 *      together they hold at most limits.max_list entries (MAXLIST=beI:N),
 *      each mask in the normal form of modeparse_ban_mask(), unique within
 *      its list up to case folding, oldest first.
 *
 * List entries and what they match (the extban syntax is EXTBAN=,am: no
 * prefix character, a type letter and ':'):
 *   nick!user@host glob   the client's nick!user@host
 *   a:<account glob>      the client's account (never a logged-out client)
 *   m:<either of those>   "mute": in +b it stops the client speaking but
 *                         not joining; in +e it exempts from mutes only
 * A +e entry without m: exempts from everything a +b entry would do.
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
    CMODE_INVITE = 1u << 0,      /* +i */
    CMODE_MODERATED = 1u << 1,   /* +m */
    CMODE_NO_EXTERNAL = 1u << 2, /* +n */
    CMODE_SECRET = 1u << 3,      /* +s */
    CMODE_TOPIC_LOCK = 1u << 4,  /* +t */
};

struct member {
    struct client *client; /* NULL: empty slot; (void *)1: tombstone */
    uint8_t flags;
};

/* One entry of a list mode. */
struct chanlist_entry {
    char *mask;   /* normalised (modeparse_ban_mask) */
    char *setter; /* nick!user@host of who set it */
    time_t when;
};

struct chanlist {
    struct chanlist_entry *items;
    size_t n, cap;
};

/* The list modes, indexing channel.lists. */
enum chanlist_id {
    CHANLIST_BAN,    /* +b */
    CHANLIST_EXCEPT, /* +e: ban exceptions */
    CHANLIST_INVEX,  /* +I: invite exceptions */
    CHANLIST_COUNT,
};

/* A persistent member of a group (an account), with its role. */
enum group_role { ROLE_MEMBER = 0, ROLE_VOICE = 1, ROLE_MANAGER = 2, ROLE_OWNER = 3 };

struct group_member {
    int64_t account_id;
    int role; /* enum group_role */
    int64_t joined_at;
    int64_t muted_until; /* Unix seconds; 0: not muted */
};

struct group_request {
    int64_t account_id;
    int64_t requested_at;
};

struct channel {
    /* the group (irc/group.c); code 0 for a transient channel */
    int64_t code;
    char *category;
    int64_t owner_id;
    int64_t transfer_to;     /* account offered the ownership, or 0 */
    bool approval;           /* joins need a manager's approval */
    struct group_member *gm; /* persistent members */
    size_t ngm, gm_cap;
    struct group_request *req; /* pending join requests */
    size_t nreq, req_cap;
    uint32_t activity[7];       /* messages per day, ring indexed by day % 7 */
    int64_t activity_day;       /* the day (Unix days) activity[day % 7] counts */
    struct redact_ring *recent; /* recent msgids for REDACT (irc/cmd_redact.c) */
    char codekey[24];           /* decimal code: key in the code registry */

    char *name;
    char *folded;
    time_t created;
    uint32_t modes;
    char *key; /* +k, or NULL */
    int limit; /* +l, 0 when unset */
    char *topic;
    char *topic_setter;
    time_t topic_time;

    struct chanlist lists[CHANLIST_COUNT];
    char **invites; /* folded nicks invited (cleared when they join) */
    size_t ninvites, invites_cap;

    struct member *members;
    size_t members_cap, nmembers, members_tombs;
};

#define MEMBER_TOMB ((struct client *)1)

struct channel *channel_find(const char *name);
/* The same by the name's casefolded form (struct channel's folded): no
 * folding, for a name folded before. */
struct channel *channel_find_folded(const char *folded);
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

/* ---- list modes (+b +e +I) ---- */

/* Index of the entry equal to mask up to case folding, or -1. */
long chanlist_find(const struct chanlist *l, const char *mask);
/* Appends a copy of mask (already normalised and not present). */
void chanlist_add(struct chanlist *l, const char *mask, const char *setter, time_t when);
/* Removes entry i, keeping the order of the others. */
void chanlist_remove(struct chanlist *l, size_t i);
/* Entries in all list modes of ch, the count MAXLIST bounds. */
size_t channel_list_total(const struct channel *ch);

/* c may not join: a +b entry without m: matches and no +e entry without m:
 * does. */
bool channel_is_banned(const struct channel *ch, const struct client *c);
/* c may not speak (unless voiced): banned as above, or an m: ban matches
 * and no +e entry (of either kind) does. */
bool channel_is_muted(const struct channel *ch, const struct client *c);
/* A +I entry matches c: +i does not apply to them. */
bool channel_is_invex(const struct channel *ch, const struct client *c);
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
