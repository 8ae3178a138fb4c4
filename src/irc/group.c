/*
 * group.c - groups: caps, roles and persistence (see group.h).
 *
 * Persistence is write-through: each change updates struct channel and
 * queues one statement on the store's writer thread (fixed SQL, bound
 * values). group_save() rewrites the group row and its list modes as a
 * whole; it runs after MODE and TOPIC, which are rare next to messages.
 */
#include "irc/group.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
#include "credit/credit.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/logevents.h"
#include "irc/send.h"
#include "irc/service.h"
#include "sanction/sanction.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/strmap.h"

extern struct qun_config *server_config;

static struct store *group_store;
static struct strmap group_by_code; /* codekey -> channel */
static int64_t group_next_code = 10001;

static int64_t group_now(void)
{
    return (int64_t)time(NULL);
}

static void group_write(const char *sql, const struct store_value *b, size_t n)
{
    if (!group_store || store_exec_write(group_store, sql, b, n, NULL, NULL) != STORE_OK)
        log_error("groups: a change could not be queued for the store");
}

static void group_index(struct channel *ch)
{
    snprintf(ch->codekey, sizeof ch->codekey, "%lld", (long long)ch->code);
    strmap_put(&group_by_code, ch->codekey, ch);
}

struct channel *group_find_code(int64_t code)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)code);
    return strmap_get(&group_by_code, key);
}

/* ---- load ---- */

static char *text_or_null(const struct store_value *v)
{
    return v->type == STORE_TYPE_TEXT ? xstrdup(v->p) : NULL;
}

static int load_group(void *ud, const struct store_value *c, size_t n)
{
    if (n != 14 || c[1].type != STORE_TYPE_TEXT)
        return 0;
    struct channel *ch = channel_create(c[1].p);
    if (!ch)
        return 0;
    ch->code = c[0].i;
    ch->category = text_or_null(&c[3]);
    ch->owner_id = c[4].i;
    ch->created = (time_t)c[5].i;
    ch->modes = (uint32_t)c[6].i;
    ch->key = text_or_null(&c[7]);
    ch->limit = (int)c[8].i;
    ch->topic = text_or_null(&c[9]);
    ch->topic_setter = text_or_null(&c[10]);
    ch->topic_time = (time_t)c[11].i;
    ch->approval = c[12].i != 0;
    ch->transfer_to = c[13].i;
    group_index(ch);
    if (ch->code >= group_next_code)
        group_next_code = ch->code + 1;
    return 0;
}

static int load_member(void *ud, const struct store_value *c, size_t n)
{
    struct channel *ch = n == 5 ? group_find_code(c[0].i) : NULL;
    if (!ch)
        return 0;
    if (ch->ngm == ch->gm_cap) {
        ch->gm_cap = ch->gm_cap ? ch->gm_cap * 2 : 8;
        ch->gm = xrealloc(ch->gm, ch->gm_cap * sizeof *ch->gm);
    }
    ch->gm[ch->ngm++] = (struct group_member){c[1].i, (int)c[2].i, c[3].i, c[4].i};
    struct account *a = account_find_id(c[1].i);
    if (a) {
        a->groups_joined++;
        if (c[2].i == ROLE_OWNER)
            a->groups_owned++;
    }
    return 0;
}

static int load_list(void *ud, const struct store_value *c, size_t n)
{
    struct channel *ch = n == 5 ? group_find_code(c[0].i) : NULL;
    if (!ch || c[1].i < 0 || c[1].i >= CHANLIST_COUNT || c[2].type != STORE_TYPE_TEXT ||
        c[3].type != STORE_TYPE_TEXT)
        return 0;
    chanlist_add(&ch->lists[c[1].i], c[2].p, c[3].p, (time_t)c[4].i);
    return 0;
}

static int load_request(void *ud, const struct store_value *c, size_t n)
{
    struct channel *ch = n == 3 ? group_find_code(c[0].i) : NULL;
    if (!ch)
        return 0;
    if (ch->nreq == ch->req_cap) {
        ch->req_cap = ch->req_cap ? ch->req_cap * 2 : 4;
        ch->req = xrealloc(ch->req, ch->req_cap * sizeof *ch->req);
    }
    ch->req[ch->nreq++] = (struct group_request){c[1].i, c[2].i};
    return 0;
}

static int load_seq(void *ud, const struct store_value *c, size_t n)
{
    if (n == 1 && c[0].i + 1 > group_next_code)
        group_next_code = c[0].i + 1;
    return 0;
}

static int load_run(const char *sql, store_row_cb row, char *err, size_t errlen)
{
    return store_load(group_store, sql, NULL, 0, row, NULL, "groups", err, errlen);
}

int group_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen)
{
    group_store = st;
    strmap_init(&group_by_code);
    if (load_run("SELECT seq FROM sqlite_sequence WHERE name = 'groups'", load_seq, err, errlen) <
            0 ||
        load_run("SELECT code, name, name_folded, category, owner_id, created_at, modes,"
                 " chan_key, chan_limit, topic, topic_setter, coalesce(topic_at, 0), approval,"
                 " coalesce(transfer_to, 0) FROM groups WHERE dissolved_at IS NULL ORDER BY code",
                 load_group, err, errlen) < 0 ||
        load_run("SELECT code, account_id, role, joined_at, muted_until FROM group_members"
                 " ORDER BY code, joined_at",
                 load_member, err, errlen) < 0 ||
        load_run("SELECT code, list, mask, setter, set_at FROM group_lists ORDER BY rowid",
                 load_list, err, errlen) < 0 ||
        load_run("SELECT code, account_id, requested_at FROM group_requests ORDER BY requested_at",
                 load_request, err, errlen) < 0)
        return -1;
    log_info("groups: %zu loaded, next code %lld", group_by_code.count, (long long)group_next_code);
    return 0;
}

void group_detach_store(void)
{
    group_store = NULL;
}

/* ---- counting and classes ---- */

struct group_member *group_member_find(const struct channel *ch, int64_t account_id)
{
    for (size_t i = 0; i < ch->ngm; i++)
        if (ch->gm[i].account_id == account_id)
            return &ch->gm[i];
    return NULL;
}

size_t group_member_count(const struct channel *ch)
{
    size_t guests = 0;
    for (size_t i = 0; i < ch->members_cap; i++) {
        const struct member *m = &ch->members[i];
        if (member_used(m) && !(m->client->acct && group_member_find(ch, m->client->acct->id)))
            guests++;
    }
    return ch->ngm + guests;
}

enum group_size group_size_class(size_t members)
{
    return members >= 500 ? GROUP_LARGE : members >= 100 ? GROUP_MEDIUM : GROUP_SMALL;
}

const char *group_size_name(enum group_size s)
{
    return s == GROUP_LARGE ? "large" : s == GROUP_MEDIUM ? "medium" : "small";
}

static void activity_roll(struct channel *ch)
{
    int64_t today = group_now() / 86400;
    if (ch->activity_day == today)
        return;
    int64_t gap = today - ch->activity_day;
    for (int64_t d = 1; d <= gap && d <= 7; d++)
        ch->activity[(ch->activity_day + d) % 7] = 0;
    ch->activity_day = today;
}

uint32_t group_activity(struct channel *ch)
{
    activity_roll(ch);
    uint32_t sum = 0;
    for (int i = 0; i < 7; i++)
        sum += ch->activity[i];
    return sum;
}

void group_note_message(struct channel *ch)
{
    activity_roll(ch);
    ch->activity[ch->activity_day % 7]++;
}

/* The first policy row matching the category and size class. */
static const struct config_group_policy *group_policy(const char *category, enum group_size size)
{
    const struct qun_config *cfg = server_config;
    for (size_t i = 0; i < cfg->ngroup_policy; i++) {
        const struct config_group_policy *p = &cfg->group_policy[i];
        if ((strcmp(p->category, "*") == 0 || (category && strcmp(p->category, category) == 0)) &&
            (p->size < 0 || p->size == (int)size))
            return p;
    }
    return NULL;
}

bool group_needs_approval(const struct channel *ch)
{
    const struct config_group_policy *p =
        group_policy(ch->category, group_size_class(group_member_count(ch)));
    return ch->approval || (p && p->approval);
}

/* The lowest score of a level letter, or INT_MAX when the table lacks it. */
static int level_min(char letter)
{
    const struct qun_config *cfg = server_config;
    for (size_t i = 0; i < cfg->ncredit_levels; i++)
        if (cfg->credit_levels[i].level == letter)
            return cfg->credit_levels[i].min_score;
    return 1001;
}

/* ---- checks ---- */

bool group_may_manage(const struct account *a, char *why, size_t len)
{
    const struct config_credit_level *lv = credit_level(a);
    if (!a || a->suspended) {
        snprintf(why, len, "Managing a group needs an account in good standing.");
        return false;
    }
    if (!sanction_may_manage(a, why, len))
        return false;
    if (a->level < server_config->create_level) {
        snprintf(why, len, "Managing a group needs a verified real identity (level %d).",
                 server_config->create_level);
        return false;
    }
    if (!lv->manage) {
        snprintf(why, len, "Credit level %c does not allow managing groups.", lv->level);
        return false;
    }
    return true;
}

bool group_may_create(struct client *c, const char *category, char *why, size_t len)
{
    struct account *a = c->acct;
    if (!group_may_manage(a, why, len) || !sanction_may_create(a, why, len))
        return false;
    const struct config_credit_level *lv = credit_level(a);
    if (a->groups_owned >= lv->groups_owned) {
        snprintf(why, len,
                 "Credit level %c allows owning %d group(s) and you own %d: dissolve or transfer "
                 "one first.",
                 lv->level, lv->groups_owned, a->groups_owned);
        return false;
    }
    const struct config_group_policy *p = group_policy(category, GROUP_SMALL);
    if (!p || !p->create) {
        snprintf(why, len, "Groups of category %s cannot be created on this server.", category);
        return false;
    }
    return true;
}

/* The owner's cap on members, with the 100/500 thresholds (SPEC §5). */
static bool group_room_for(const struct channel *ch, size_t after, char *why, size_t len)
{
    const struct account *owner = account_find_id(ch->owner_id);
    const struct config_credit_level *lv = credit_level(owner);
    size_t cap = lv->manage ? (size_t)lv->members : 0;
    const struct config_group_policy *p = group_policy(ch->category, group_size_class(after));
    if (p && p->members > 0 && (size_t)p->members < cap)
        cap = (size_t)p->members;
    if (after > cap) {
        snprintf(why, len,
                 "The group is full: %zu members is the most allowed (owner's credit level %c%s).",
                 cap, lv->level, p && p->members ? ", category policy" : "");
        return false;
    }
    int score = credit_score(owner);
    bool verified = owner && owner->level >= 2;
    if (after > 500 && !(verified && score >= level_min('A'))) {
        snprintf(why, len,
                 "The group has 500 members: growing past 500 needs an owner with a verified "
                 "identity and credit level A.");
        return false;
    }
    if (after > 100 && !(verified && score >= level_min('B'))) {
        snprintf(why, len,
                 "The group has 100 members: growing past 100 needs an owner with a verified "
                 "identity and credit level B or better.");
        return false;
    }
    return true;
}

bool group_has_room(const struct channel *ch, char *why, size_t len)
{
    return group_room_for(ch, group_member_count(ch) + 1, why, len);
}

bool group_may_join(struct client *c, struct channel *ch, const char **code, char *why, size_t len)
{
    struct account *a = c->acct;
    if (!sanction_may_join(a, why, len)) {
        *code = "BLACKLISTED";
        return false;
    }
    if (a && group_member_find(ch, a->id))
        return true; /* a member coming back */
    if (!group_room_for(ch, group_member_count(ch) + 1, why, len)) {
        *code = "GROUP_FULL";
        return false;
    }
    if (a) {
        const struct config_credit_level *lv = credit_level(a);
        if (a->groups_joined >= lv->groups_joined) {
            snprintf(why, len,
                     "Credit level %c allows belonging to %d groups and you belong to %d: leave "
                     "one first.",
                     lv->level, lv->groups_joined, a->groups_joined);
            *code = "TOO_MANY_GROUPS";
            return false;
        }
    }
    return true;
}

/* ---- roles ---- */

uint8_t group_role_flags(int role)
{
    switch (role) {
    case ROLE_OWNER:
        return MEMBER_OWNER;
    case ROLE_MANAGER:
        return MEMBER_OP;
    case ROLE_VOICE:
        return MEMBER_VOICE;
    default:
        return 0;
    }
}

int group_role_of(const struct channel *ch, const struct client *c)
{
    const struct group_member *m = c->acct ? group_member_find(ch, c->acct->id) : NULL;
    return m ? m->role : ROLE_MEMBER;
}

int group_acting_role(const struct channel *ch, const struct client *c, char *why, size_t len)
{
    int role = group_role_of(ch, c);
    if (role >= ROLE_MANAGER && !sanction_may_manage(c->acct, why, len))
        return ROLE_VOICE; /* still heard under +m, no management */
    return role;
}

/* Shows m's prefix change from old to new flags (MODE from source). */
static void group_show_flags(struct channel *ch, struct member *m, const char *source,
                             uint8_t old_flags, uint8_t new_flags)
{
    m->flags = (uint8_t)((m->flags & ~old_flags) | new_flags);
    char modes[8];
    size_t n = 0;
    if (old_flags) {
        modes[n++] = '-';
        modes[n++] = old_flags == MEMBER_OWNER ? 'q' : old_flags == MEMBER_OP ? 'o' : 'v';
    }
    if (new_flags) {
        modes[n++] = '+';
        modes[n++] = new_flags == MEMBER_OWNER ? 'q' : new_flags == MEMBER_OP ? 'o' : 'v';
    }
    modes[n] = '\0';
    struct irc_event ev;
    event_init(&ev, source, "MODE", true);
    event_param(&ev, ch->name);
    event_param(&ev, modes);
    if (old_flags)
        event_param(&ev, m->client->nick);
    if (new_flags)
        event_param(&ev, m->client->nick);
    send_to_channel(ch, &ev, NULL, 0, 0);
}

static void group_refresh_client(struct client *c, void *ud)
{
    if (c->acct != ud)
        return;
    const uint8_t prefixes = MEMBER_OWNER | MEMBER_OP | MEMBER_VOICE;
    for (size_t i = 0; i < c->nchans; i++) {
        struct channel *ch = c->chans[i];
        struct member *m = ch->code ? channel_member(ch, c) : NULL;
        if (!m)
            continue;
        uint8_t want = group_role_flags(group_acting_role(ch, c, NULL, 0));
        uint8_t cur = m->flags & prefixes;
        if (cur != want)
            group_show_flags(ch, m, service_source(&chanserv_service), cur, want);
    }
}

void group_refresh_roles(struct account *a)
{
    client_foreach(group_refresh_client, a);
}

/* ---- changes ---- */

struct channel *group_create(const char *name, struct account *owner, const char *category)
{
    struct channel *ch = channel_create(name);
    if (!ch)
        return NULL;
    ch->code = group_next_code++;
    ch->category = xstrdup(category);
    ch->owner_id = owner->id;
    ch->modes = CMODE_NO_EXTERNAL | CMODE_TOPIC_LOCK;
    group_index(ch);
    struct store_value b[] = {STORE_INT(ch->code),          STORE_TEXT(ch->name),
                              STORE_TEXT(ch->folded),       STORE_TEXT(category),
                              STORE_INT(owner->id),         STORE_INT((int64_t)ch->created),
                              STORE_INT((int64_t)ch->modes)};
    group_write(
        "INSERT INTO groups (code, name, name_folded, category, owner_id, created_at, modes)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        b, 7);
    group_member_add(ch, owner, ROLE_OWNER);
    owner->groups_owned++;
    char detail[64];
    snprintf(detail, sizeof detail, "code %lld, category %s", (long long)ch->code, category);
    account_audit(owner->name, "group.create", ch->name, detail);
    log_info("groups: %s created %s (code %lld)", owner->name, ch->name, (long long)ch->code);
    return ch;
}

void group_member_add(struct channel *ch, struct account *a, int role)
{
    if (group_member_find(ch, a->id))
        return;
    if (ch->ngm == ch->gm_cap) {
        ch->gm_cap = ch->gm_cap ? ch->gm_cap * 2 : 8;
        ch->gm = xrealloc(ch->gm, ch->gm_cap * sizeof *ch->gm);
    }
    int64_t now = group_now();
    ch->gm[ch->ngm++] = (struct group_member){a->id, role, now, 0};
    a->groups_joined++;
    struct store_value b[] = {STORE_INT(ch->code), STORE_INT(a->id), STORE_INT(role),
                              STORE_INT(now)};
    group_write("INSERT OR REPLACE INTO group_members (code, account_id, role, joined_at)"
                " VALUES (?, ?, ?, ?)",
                b, 4);
}

void group_member_remove(struct channel *ch, int64_t account_id)
{
    struct group_member *m = group_member_find(ch, account_id);
    if (!m)
        return;
    struct account *a = account_find_id(account_id);
    if (a && a->groups_joined > 0)
        a->groups_joined--;
    *m = ch->gm[--ch->ngm];
    struct store_value b[] = {STORE_INT(ch->code), STORE_INT(account_id)};
    group_write("DELETE FROM group_members WHERE code = ? AND account_id = ?", b, 2);
}

void group_member_set_role(struct channel *ch, int64_t account_id, int role)
{
    struct group_member *m = group_member_find(ch, account_id);
    if (!m || m->role == role)
        return;
    m->role = role;
    struct store_value b[] = {STORE_INT(role), STORE_INT(ch->code), STORE_INT(account_id)};
    group_write("UPDATE group_members SET role = ? WHERE code = ? AND account_id = ?", b, 3);
}

void group_member_set_mute(struct channel *ch, int64_t account_id, int64_t until)
{
    struct group_member *m = group_member_find(ch, account_id);
    if (!m)
        return;
    m->muted_until = until;
    struct store_value b[] = {STORE_INT(until), STORE_INT(ch->code), STORE_INT(account_id)};
    group_write("UPDATE group_members SET muted_until = ? WHERE code = ? AND account_id = ?", b, 3);
}

static struct store_value text_or_null_value(const char *s)
{
    return s ? STORE_TEXT(s) : STORE_NULL();
}

void group_save(struct channel *ch)
{
    if (!ch->code)
        return;
    struct store_value b[] = {STORE_INT((int64_t)ch->modes),
                              text_or_null_value(ch->key),
                              STORE_INT(ch->limit),
                              text_or_null_value(ch->topic),
                              text_or_null_value(ch->topic_setter),
                              STORE_INT((int64_t)ch->topic_time),
                              STORE_INT(ch->approval ? 1 : 0),
                              STORE_INT(ch->code)};
    group_write("UPDATE groups SET modes = ?, chan_key = ?, chan_limit = ?, topic = ?,"
                " topic_setter = ?, topic_at = ?, approval = ? WHERE code = ?",
                b, 8);
    struct store_value c[] = {STORE_INT(ch->code)};
    group_write("DELETE FROM group_lists WHERE code = ?", c, 1);
    for (int l = 0; l < CHANLIST_COUNT; l++)
        for (size_t i = 0; i < ch->lists[l].n; i++) {
            const struct chanlist_entry *e = &ch->lists[l].items[i];
            struct store_value d[] = {STORE_INT(ch->code), STORE_INT(l), STORE_TEXT(e->mask),
                                      STORE_TEXT(e->setter), STORE_INT((int64_t)e->when)};
            group_write("INSERT INTO group_lists (code, list, mask, setter, set_at)"
                        " VALUES (?, ?, ?, ?, ?)",
                        d, 5);
        }
}

void group_set_category(struct channel *ch, const char *category)
{
    free(ch->category);
    ch->category = xstrdup(category);
    struct store_value b[] = {STORE_TEXT(category), STORE_INT(ch->code)};
    group_write("UPDATE groups SET category = ? WHERE code = ?", b, 2);
}

bool group_request_add(struct channel *ch, int64_t account_id)
{
    for (size_t i = 0; i < ch->nreq; i++)
        if (ch->req[i].account_id == account_id)
            return false;
    if (ch->nreq == ch->req_cap) {
        ch->req_cap = ch->req_cap ? ch->req_cap * 2 : 4;
        ch->req = xrealloc(ch->req, ch->req_cap * sizeof *ch->req);
    }
    int64_t now = group_now();
    ch->req[ch->nreq++] = (struct group_request){account_id, now};
    struct store_value b[] = {STORE_INT(ch->code), STORE_INT(account_id), STORE_INT(now)};
    group_write("INSERT OR IGNORE INTO group_requests (code, account_id, requested_at)"
                " VALUES (?, ?, ?)",
                b, 3);
    return true;
}

bool group_request_remove(struct channel *ch, int64_t account_id)
{
    for (size_t i = 0; i < ch->nreq; i++)
        if (ch->req[i].account_id == account_id) {
            memmove(&ch->req[i], &ch->req[i + 1], (ch->nreq - i - 1) * sizeof *ch->req);
            ch->nreq--;
            struct store_value b[] = {STORE_INT(ch->code), STORE_INT(account_id)};
            group_write("DELETE FROM group_requests WHERE code = ? AND account_id = ?", b, 2);
            return true;
        }
    return false;
}

void group_transfer_offer(struct channel *ch, int64_t to)
{
    ch->transfer_to = to;
    struct store_value b[] = {to ? STORE_INT(to) : STORE_NULL(), STORE_INT(ch->code)};
    group_write("UPDATE groups SET transfer_to = ? WHERE code = ?", b, 2);
}

void group_transfer_complete(struct channel *ch, struct account *new_owner)
{
    struct account *old = account_find_id(ch->owner_id);
    if (old && old->groups_owned > 0)
        old->groups_owned--;
    group_member_set_role(ch, ch->owner_id, ROLE_MANAGER);
    group_member_add(ch, new_owner, ROLE_OWNER);
    group_member_set_role(ch, new_owner->id, ROLE_OWNER);
    new_owner->groups_owned++;
    ch->owner_id = new_owner->id;
    ch->transfer_to = 0;
    struct store_value b[] = {STORE_INT(new_owner->id), STORE_INT(ch->code)};
    group_write("UPDATE groups SET owner_id = ?, transfer_to = NULL WHERE code = ?", b, 2);
}

void group_dissolve(struct channel *ch)
{
    struct account *owner = account_find_id(ch->owner_id);
    if (owner && owner->groups_owned > 0)
        owner->groups_owned--;
    for (size_t i = 0; i < ch->ngm; i++) {
        struct account *a = account_find_id(ch->gm[i].account_id);
        if (a && a->groups_joined > 0)
            a->groups_joined--;
    }
    struct store_value b[] = {STORE_INT(group_now()), STORE_INT(ch->code)};
    group_write("UPDATE groups SET dissolved_at = ? WHERE code = ?", b, 2);
    struct store_value c[] = {STORE_INT(ch->code)};
    group_write("DELETE FROM group_members WHERE code = ?", c, 1);
    group_write("DELETE FROM group_requests WHERE code = ?", c, 1);
    strmap_del(&group_by_code, ch->codekey);
    ch->ngm = 0;
    ch->code = 0; /* transient from now on: it goes with its last member */
}

/* ---- role changes (MODE +q/+o/+v and ChanServ share these) ---- */

static size_t group_managers(const struct channel *ch)
{
    size_t n = 0;
    for (size_t i = 0; i < ch->ngm; i++)
        n += ch->gm[i].role == ROLE_MANAGER;
    return n;
}

bool group_role_allowed(const struct channel *ch, int actor_role, const struct account *target,
                        int new_role, char *why, size_t len)
{
    const struct group_member *tm = target ? group_member_find(ch, target->id) : NULL;
    if (!tm) {
        snprintf(why, len, "Roles are held by members with an account; %s is not a member of %s.",
                 target ? target->name : "that user", ch->name);
        return false;
    }
    if (tm->role == ROLE_OWNER || new_role == ROLE_OWNER) {
        snprintf(why, len,
                 "Ownership moves only by /msg ChanServ TRANSFER %s <account>, which the new "
                 "owner must ACCEPT.",
                 ch->name);
        return false;
    }
    bool about_manager = new_role == ROLE_MANAGER || tm->role == ROLE_MANAGER;
    if (about_manager && actor_role != ROLE_OWNER) {
        snprintf(why, len, "Only the owner of %s appoints and removes managers.", ch->name);
        return false;
    }
    if (actor_role < ROLE_MANAGER) {
        snprintf(why, len, "Only managers of %s change roles.", ch->name);
        return false;
    }
    if (new_role == ROLE_MANAGER && tm->role != ROLE_MANAGER) {
        if (group_managers(ch) >= (size_t)server_config->managers_max) {
            snprintf(why, len, "%s already has %d managers, the most allowed.", ch->name,
                     server_config->managers_max);
            return false;
        }
        char sub[200];
        if (!group_may_manage(target, sub, sizeof sub)) {
            snprintf(why, len, "%s cannot be a manager: %s", target->name, sub);
            return false;
        }
    }
    return true;
}

void group_apply_role(struct channel *ch, const char *source, struct account *target, int new_role)
{
    struct group_member *tm = group_member_find(ch, target->id);
    if (!tm || tm->role == new_role)
        return;
    group_member_set_role(ch, target->id, new_role);
    static const char *const names[] = {"member", "voice", "manager", "owner"};
    log_group_event("role", NULL, ch, false, "account", target->name, "role",
                    names[new_role >= 0 && new_role <= 3 ? new_role : 0]);
    /* every online connection of that account in the channel shows it
     * (a manager whose rights are suspended shows as voiced) */
    for (size_t i = 0; i < ch->members_cap; i++) {
        struct member *m = &ch->members[i];
        if (!member_used(m) || m->client->acct != target)
            continue;
        uint8_t want = group_role_flags(group_acting_role(ch, m->client, NULL, 0));
        uint8_t cur = m->flags & (MEMBER_OWNER | MEMBER_OP | MEMBER_VOICE);
        if (cur != want)
            group_show_flags(ch, m, source, cur, want);
    }
}

void group_show_role(struct channel *ch, struct client *c, const char *source)
{
    struct member *m = channel_member(ch, c);
    uint8_t want = group_role_flags(group_acting_role(ch, c, NULL, 0));
    if (!m || (m->flags & want) == want)
        return;
    m->flags |= want;
    char modes[3] = {'+', want == MEMBER_OWNER ? 'q' : want == MEMBER_OP ? 'o' : 'v', '\0'};
    struct irc_event ev;
    event_init(&ev, source, "MODE", true);
    event_param(&ev, ch->name);
    event_param(&ev, modes);
    event_param(&ev, c->nick);
    send_to_channel(ch, &ev, NULL, 0, 0);
}

const char *group_describe(struct channel *ch)
{
    static char line[300];
    const struct account *owner = account_find_id(ch->owner_id);
    size_t members = group_member_count(ch);
    snprintf(line, sizeof line,
             "Group %lld, category %s, %s (%zu members), owner %s, %u messages in 7 days.",
             (long long)ch->code, ch->category ? ch->category : "?",
             group_size_name(group_size_class(members)), members, owner ? owner->name : "?",
             group_activity(ch));
    return line;
}
