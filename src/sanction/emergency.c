/*
 * emergency.c - the emergency switch (rules art. 5): posting suspended
 * platform-wide or for one group category, by a moderator, with a message
 * to users; logged and reversible.
 *
 * Owns: the active rows of the emergency table (at most one per scope:
 * "all" or "category:<name>"), in memory and written through, so a switch
 * that is on stays on across a restart. Switching a scope on again
 * replaces its message (the old row is lifted, a new one written). Rows
 * are never deleted.
 *
 * Each change is a network-log event (kind "emergency") and a NOTICE from
 * the server to the users concerned: everyone online, or the online
 * members (present or persistent) of the groups in the category.
 *
 * Threads: loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account/account.h"
#include "config/config.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/group.h"
#include "irc/send.h"
#include "irc/server.h"
#include "netlog/netlog.h"
#include "sanction/sanction.h"
#include "sanction/sanction_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

#define EMERGENCY_MAX 256 /* scopes switched on at once */

static struct emergency_entry *entries;
static size_t nentries, entries_cap;
static int64_t emergency_next_id = 1;

static struct emergency_entry *entry_push(void)
{
    if (nentries == entries_cap) {
        entries_cap = entries_cap ? entries_cap * 2 : 4;
        entries = xrealloc(entries, entries_cap * sizeof *entries);
    }
    struct emergency_entry *e = &entries[nentries++];
    memset(e, 0, sizeof *e);
    return e;
}

static int load_max(void *ud, const struct store_value *c, size_t n)
{
    if (n == 1 && c[0].type == STORE_TYPE_INT && c[0].i >= emergency_next_id)
        emergency_next_id = c[0].i + 1;
    return 0;
}

static int load_entry(void *ud, const struct store_value *c, size_t n)
{
    if (n != 5 || c[1].type != STORE_TYPE_TEXT || c[2].type != STORE_TYPE_TEXT)
        return 0;
    const char *scope = c[1].p;
    struct emergency_entry *e = entry_push();
    e->id = c[0].i;
    e->category = strncmp(scope, "category:", 9) == 0 ? xstrdup(scope + 9) : NULL;
    e->message = xstrdup(c[2].p);
    e->set_by = xstrdup(c[3].type == STORE_TYPE_TEXT ? c[3].p : "");
    e->set_at = c[4].i;
    return 0;
}

int emergency_load(char *err, size_t errlen)
{
    if (store_load(sanction_store, "SELECT max(id) FROM emergency", NULL, 0, load_max, NULL,
                   "the emergency switch", err, errlen) < 0 ||
        store_load(sanction_store,
                   "SELECT id, scope, message, set_by, set_at FROM emergency"
                   " WHERE lifted_at IS NULL ORDER BY id",
                   NULL, 0, load_entry, NULL, "the emergency switch", err, errlen) < 0)
        return -1;
    if (nentries)
        log_warn("emergency: %zu switch(es) on since before the restart", nentries);
    return 0;
}

void emergency_foreach(void (*fn)(const struct emergency_entry *e, void *ud), void *ud)
{
    for (size_t i = 0; i < nentries; i++)
        fn(&entries[i], ud);
}

static bool same_scope(const struct emergency_entry *e, const char *category)
{
    if (!e->category || !category)
        return !e->category && !category;
    return strcasecmp(e->category, category) == 0;
}

const char *emergency_refusal(const struct channel *ch)
{
    static char why[500];
    for (size_t i = 0; i < nentries; i++) {
        const struct emergency_entry *e = &entries[i];
        if (!e->category) {
            snprintf(why, sizeof why,
                     "Posting is suspended on the whole platform by an emergency measure (since "
                     "%s): %s",
                     sanction_time(e->set_at), e->message);
            return why;
        }
        if (ch->code && ch->category && strcasecmp(ch->category, e->category) == 0) {
            snprintf(why, sizeof why,
                     "Posting in groups of category %s is suspended by an emergency measure "
                     "(since %s): %s",
                     e->category, sanction_time(e->set_at), e->message);
            return why;
        }
    }
    return NULL;
}

/* ---- telling users ---- */

struct announce {
    const char *category;
    const char *text;
    struct channel **groups; /* the groups of the category */
    size_t ngroups, cap;
};

static void collect_group(struct channel *ch, void *ud)
{
    struct announce *an = ud;
    if (!ch->code || !ch->category || strcasecmp(ch->category, an->category) != 0)
        return;
    if (an->ngroups == an->cap) {
        an->cap = an->cap ? an->cap * 2 : 16;
        an->groups = xrealloc(an->groups, an->cap * sizeof *an->groups);
    }
    an->groups[an->ngroups++] = ch;
}

static bool concerned(struct client *c, const struct announce *an)
{
    if (!an->category)
        return true;
    for (size_t i = 0; i < an->ngroups; i++)
        if (channel_member(an->groups[i], c) ||
            (c->acct && group_member_find(an->groups[i], c->acct->id)))
            return true;
    return false;
}

static void announce_one(struct client *c, void *ud)
{
    struct announce *an = ud;
    if (c->state != CLIENT_REGISTERED || !concerned(c, an))
        return;
    send_line(c, ":%s NOTICE %s :%s", server_name(), c->nick, an->text);
}

static void announce(const char *category, const char *text)
{
    struct announce an = {.category = category, .text = text};
    if (category)
        channel_foreach(collect_group, &an);
    client_foreach(announce_one, &an);
    free(an.groups);
}

/* ---- switching ---- */

static void scope_text(const char *category, char *buf, size_t len)
{
    if (category)
        snprintf(buf, len, "category:%s", category);
    else
        snprintf(buf, len, "all");
}

static void lift_row(size_t i, const char *author)
{
    struct emergency_entry e = entries[i];
    memmove(&entries[i], &entries[i + 1], (nentries - i - 1) * sizeof *entries);
    nentries--;
    struct store_value b[] = {STORE_INT(qclock_now()), STORE_TEXT(author), STORE_INT(e.id)};
    sanction_write("UPDATE emergency SET lifted_at = ?, lifted_by = ? WHERE id = ?", b, 3);
    free(e.category);
    free(e.message);
    free(e.set_by);
}

int64_t emergency_on(const char *category, const char *message, const char *author, char *why,
                     size_t len)
{
    if (category && !*category)
        category = NULL;
    if (!message || !*message || strlen(message) > 400 || strpbrk(message, "\r\n")) {
        snprintf(why, len, "Give a message for users (1 to 400 bytes, one line).");
        return -1;
    }
    if (category && !config_category_valid(server_config, category)) {
        snprintf(why, len, "%s is not a group category of this server.", category);
        return -1;
    }
    bool replaced = false;
    for (size_t i = 0; i < nentries; i++)
        if (same_scope(&entries[i], category)) {
            lift_row(i, author);
            replaced = true;
            break;
        }
    if (!replaced && nentries >= EMERGENCY_MAX) {
        snprintf(why, len, "Too many emergency switches are on (%d).", EMERGENCY_MAX);
        return -1;
    }
    struct emergency_entry *e = entry_push();
    e->id = emergency_next_id++;
    e->category = category ? xstrdup(category) : NULL;
    e->message = xstrdup(message);
    e->set_by = xstrdup(author);
    e->set_at = qclock_now();
    char scope[80], idtext[24];
    scope_text(category, scope, sizeof scope);
    snprintf(idtext, sizeof idtext, "%lld", (long long)e->id);
    struct store_value b[] = {STORE_INT(e->id), STORE_TEXT(scope), STORE_TEXT(message),
                              STORE_TEXT(author), STORE_INT(e->set_at)};
    sanction_write("INSERT INTO emergency (id, scope, message, set_by, set_at)"
                   " VALUES (?, ?, ?, ?, ?)",
                   b, 5);
    netlog_record(
        "emergency", author, scope, 0, 0, NULL,
        sanction_body("action", "on", "id", idtext, "scope", scope, "message", message, NULL));
    log_warn("emergency: posting suspended (%s) by %s", scope, author);
    char text[500];
    if (category)
        snprintf(text, sizeof text,
                 "Emergency: posting in groups of category %s is suspended until further "
                 "notice: %s",
                 category, message);
    else
        snprintf(text, sizeof text,
                 "Emergency: posting in every group is suspended until further notice: %s",
                 message);
    announce(category, text);
    return e->id;
}

int emergency_off(const char *category, const char *author, char *why, size_t len)
{
    if (category && !*category)
        category = NULL;
    for (size_t i = 0; i < nentries; i++) {
        if (!same_scope(&entries[i], category))
            continue;
        char scope[80], idtext[24];
        scope_text(category, scope, sizeof scope);
        snprintf(idtext, sizeof idtext, "%lld", (long long)entries[i].id);
        lift_row(i, author);
        netlog_record("emergency", author, scope, 0, 0, NULL,
                      sanction_body("action", "off", "id", idtext, "scope", scope, NULL));
        log_warn("emergency: posting allowed again (%s) by %s", scope, author);
        char text[300];
        if (category)
            snprintf(text, sizeof text,
                     "The emergency measure is over: posting in groups of category %s is allowed "
                     "again.",
                     category);
        else
            snprintf(text, sizeof text,
                     "The emergency measure is over: posting in groups is allowed again.");
        announce(category, text);
        return 0;
    }
    if (category)
        snprintf(why, len, "The emergency switch for category %s is not on.", category);
    else
        snprintf(why, len, "The platform-wide emergency switch is not on.");
    return -1;
}
