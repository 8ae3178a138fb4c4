/*
 * blacklist.c - the platform blacklist (SPEC §7, rules art. 11): entries
 * for identities (the vault's keyed hash of the identity document, never
 * the identity itself) and for groups (by code).
 *
 * Owns: the active rows of the blacklist table, in memory and written
 * through. A row is never deleted: removal sets removed_at/removed_by.
 *
 * Effects: every account bound to a blacklisted identity is refused group
 * services (posting, joining, creating, managing: sanction.c gates and
 * group.c), and a new level-2 submission of that identity is refused
 * (identity/verify.c), so the person cannot come back with a new account.
 * A blacklisted group is closed (sanction_close_group) and stays closed.
 * Each addition is a network-log event (kind "blacklist") and a report
 * (kind "blacklist"); each removal a network-log event.
 *
 * Threads: loop thread only.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "irc/channel.h"
#include "irc/group.h"
#include "irc/service.h"
#include "netlog/netlog.h"
#include "report/report.h"
#include "sanction/sanction.h"
#include "sanction/sanction_int.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "vault/vault.h"

static struct blacklist_entry *entries;
static size_t nentries, entries_cap;
static int64_t blacklist_next_id = 1;

static struct blacklist_entry *entry_push(void)
{
    if (nentries == entries_cap) {
        entries_cap = entries_cap ? entries_cap * 2 : 8;
        entries = xrealloc(entries, entries_cap * sizeof *entries);
    }
    struct blacklist_entry *e = &entries[nentries++];
    memset(e, 0, sizeof *e);
    return e;
}

static char *text_dup(const struct store_value *v)
{
    return xstrdup(v->type == STORE_TYPE_TEXT ? v->p : "");
}

static int load_max(void *ud, const struct store_value *c, size_t n)
{
    if (n == 1 && c[0].type == STORE_TYPE_INT && c[0].i >= blacklist_next_id)
        blacklist_next_id = c[0].i + 1;
    return 0;
}

static int load_entry(void *ud, const struct store_value *c, size_t n)
{
    if (n != 7 || c[1].type != STORE_TYPE_TEXT)
        return 0;
    struct blacklist_entry *e = entry_push();
    e->id = c[0].i;
    e->group = strcmp(c[1].p, "group") == 0;
    e->value = text_dup(&c[2]);
    e->label = text_dup(&c[3]);
    e->reason = text_dup(&c[4]);
    e->author = text_dup(&c[5]);
    e->added_at = c[6].i;
    return 0;
}

int blacklist_load(char *err, size_t errlen)
{
    return store_load(sanction_store, "SELECT max(id) FROM blacklist", NULL, 0, load_max, NULL,
                      "the blacklist", err, errlen) < 0 ||
                   store_load(sanction_store,
                              "SELECT id, kind, value, label, reason, author, added_at"
                              " FROM blacklist WHERE removed_at IS NULL ORDER BY id",
                              NULL, 0, load_entry, NULL, "the blacklist", err, errlen) < 0
               ? -1
               : 0;
}

/* ---- lookups ---- */

static void hash_hex(const uint8_t *hash, size_t len, char *out, size_t outlen)
{
    sodium_bin2hex(out, outlen, hash, len);
}

static const struct blacklist_entry *find_identity(const uint8_t *hash, size_t len)
{
    char hex[2 * VAULT_HASH_BYTES + 1];
    if (!hash || len != VAULT_HASH_BYTES)
        return NULL;
    hash_hex(hash, len, hex, sizeof hex);
    for (size_t i = 0; i < nentries; i++)
        if (!entries[i].group && strcmp(entries[i].value, hex) == 0)
            return &entries[i];
    return NULL;
}

bool blacklist_has_identity(const uint8_t *hash, size_t len)
{
    return find_identity(hash, len) != NULL;
}

bool blacklist_has_group(int64_t code)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)code);
    for (size_t i = 0; i < nentries; i++)
        if (entries[i].group && strcmp(entries[i].value, key) == 0)
            return true;
    return false;
}

int64_t blacklist_account_entry(const struct account *a)
{
    if (!a || !a->has_identity_hash)
        return 0;
    const struct blacklist_entry *e = find_identity(a->identity_hash, VAULT_HASH_BYTES);
    return e ? e->id : 0;
}

bool blacklist_has_account(const struct account *a)
{
    return blacklist_account_entry(a) != 0;
}

const char *blacklist_reason(int64_t id)
{
    for (size_t i = 0; i < nentries; i++)
        if (entries[i].id == id)
            return entries[i].reason;
    return "";
}

void blacklist_foreach(void (*fn)(const struct blacklist_entry *e, void *ud), void *ud)
{
    for (size_t i = 0; i < nentries; i++)
        fn(&entries[i], ud);
}

/* ---- changes ---- */

static int64_t entry_add(bool group, const char *value, const char *label, const char *reason,
                         const char *author, int64_t code, int64_t account_id, int64_t *seq)
{
    struct blacklist_entry *e = entry_push();
    e->id = blacklist_next_id++;
    e->group = group;
    e->value = xstrdup(value);
    e->label = xstrdup(label);
    e->reason = xstrdup(reason);
    e->author = xstrdup(author);
    e->added_at = qclock_now();
    struct store_value b[] = {STORE_INT(e->id),      STORE_TEXT(group ? "group" : "identity"),
                              STORE_TEXT(e->value),  STORE_TEXT(e->label),
                              STORE_TEXT(e->reason), STORE_TEXT(e->author),
                              STORE_INT(e->added_at)};
    sanction_write("INSERT INTO blacklist (id, kind, value, label, reason, author, added_at)"
                   " VALUES (?, ?, ?, ?, ?, ?, ?)",
                   b, 7);
    char idtext[24];
    snprintf(idtext, sizeof idtext, "%lld", (long long)e->id);
    /* the identity hash itself stays out of the log: the entry id names it */
    *seq = netlog_record("blacklist", author, label, code, account_id, NULL,
                         sanction_body("action", "add", "id", idtext, "kind",
                                       group ? "group" : "identity", "reason", reason, NULL));
    log_info("blacklist: entry %lld (%s %s) added by %s", (long long)e->id,
             group ? "group" : "identity", label, author);
    return e->id;
}

/* Queues the report to the authority of entry id, proving its log record
 * seq (when it has one). subject may be NULL, code 0. */
static void entry_report(int64_t id, int64_t seq, const struct account *subject, int64_t code,
                         const char *reason, const char *measures, const char *author)
{
    int64_t seqs[1] = {seq};
    struct report_input in = {.kind = "blacklist",
                              .subject = subject,
                              .group_code = code,
                              .reason = reason,
                              .measures = measures,
                              .seqs = seq > 0 ? seqs : NULL,
                              .nseqs = seq > 0 ? 1 : 0,
                              .author = author};
    if (report_create(&in) < 0)
        log_error("blacklist: the report of entry %lld could not be queued", (long long)id);
}

struct identity_walk {
    const uint8_t *hash;
    const char *text;
    bool refresh;
};

static void identity_one(struct account *a, void *ud)
{
    struct identity_walk *w = ud;
    if (!a->has_identity_hash || !vault_hash_equal(a->identity_hash, w->hash))
        return;
    if (w->text)
        service_tell(&chanserv_service, a, "%s", w->text);
    if (w->refresh)
        group_refresh_roles(a);
}

int64_t blacklist_add_identity(const struct account *a, const char *reason, const char *author,
                               char *why, size_t len)
{
    if (!a || !a->has_identity_hash) {
        snprintf(why, len,
                 "%s has no verified identity (level 2) to blacklist; suspend the account "
                 "instead.",
                 a ? a->name : "That account");
        return -1;
    }
    const struct blacklist_entry *old = find_identity(a->identity_hash, VAULT_HASH_BYTES);
    if (old) {
        snprintf(why, len, "The identity of %s is already blacklisted (entry %lld).", a->name,
                 (long long)old->id);
        return -1;
    }
    char hex[2 * VAULT_HASH_BYTES + 1];
    hash_hex(a->identity_hash, VAULT_HASH_BYTES, hex, sizeof hex);
    int64_t seq = -1;
    int64_t id = entry_add(false, hex, a->name, reason, author, 0, a->id, &seq);
    entry_report(id, seq, a, 0, reason,
                 "The identity was blacklisted: no account bound to it may use group services, "
                 "and it cannot verify a new account.",
                 author);
    char text[450];
    snprintf(text, sizeof text,
             "Your identity is on the platform's blacklist (entry %lld): %s. No account of yours "
             "may post, join, create or manage groups. To appeal, write to the platform's "
             "moderators quoting entry %lld.",
             (long long)id, reason, (long long)id);
    struct identity_walk w = {a->identity_hash, text, true};
    account_foreach(identity_one, &w);
    return id;
}

int64_t blacklist_add_group(int64_t code, const char *reason, const char *author, char *why,
                            size_t len)
{
    if (code <= 0) {
        snprintf(why, len, "Give a group code (a positive number).");
        return -1;
    }
    if (blacklist_has_group(code)) {
        snprintf(why, len, "Group %lld is already blacklisted.", (long long)code);
        return -1;
    }
    struct channel *ch = group_find_code(code);
    char value[24], label[220];
    snprintf(value, sizeof value, "%lld", (long long)code);
    snprintf(label, sizeof label, "%s", ch ? ch->name : value);
    const struct account *owner = ch ? account_find_id(ch->owner_id) : NULL;
    int64_t seq = -1;
    int64_t id = entry_add(true, value, label, reason, author, code, 0, &seq);
    entry_report(id, seq, owner, code, reason,
                 ch ? "The group was blacklisted and closed: its members were removed; its code "
                      "and log are kept."
                    : "The group (already ended) was blacklisted.",
                 author);
    if (ch) {
        char sub[300], evidence[48];
        snprintf(evidence, sizeof evidence, "blacklist:%lld", (long long)id);
        if (sanction_close_group(code, reason, evidence, author, false, sub, sizeof sub) < 0)
            log_error("blacklist: group %lld not closed: %s", (long long)code, sub);
    }
    return id;
}

int blacklist_remove(int64_t id, const char *by, char *why, size_t len)
{
    for (size_t i = 0; i < nentries; i++) {
        if (entries[i].id != id)
            continue;
        struct blacklist_entry e = entries[i];
        memmove(&entries[i], &entries[i + 1], (nentries - i - 1) * sizeof *entries);
        nentries--;
        struct store_value b[] = {STORE_INT(qclock_now()), STORE_TEXT(by), STORE_INT(id)};
        sanction_write("UPDATE blacklist SET removed_at = ?, removed_by = ? WHERE id = ?", b, 3);
        char idtext[24];
        snprintf(idtext, sizeof idtext, "%lld", (long long)id);
        netlog_record("blacklist", by, e.label, e.group ? strtoll(e.value, NULL, 10) : 0, 0, NULL,
                      sanction_body("action", "remove", "id", idtext, "kind",
                                    e.group ? "group" : "identity", NULL));
        log_info("blacklist: entry %lld removed by %s", (long long)id, by);
        if (!e.group) {
            uint8_t hash[VAULT_HASH_BYTES];
            size_t blen = 0;
            if (sodium_hex2bin(hash, sizeof hash, e.value, strlen(e.value), NULL, &blen, NULL) ==
                    0 &&
                blen == VAULT_HASH_BYTES) {
                char text[200];
                snprintf(text, sizeof text,
                         "Your identity is no longer on the platform's blacklist (entry %lld "
                         "removed).",
                         (long long)id);
                struct identity_walk w = {hash, text, true};
                account_foreach(identity_one, &w);
            }
        }
        free(e.value);
        free(e.label);
        free(e.reason);
        free(e.author);
        return 0;
    }
    snprintf(why, len, "There is no active blacklist entry %lld.", (long long)id);
    return -1;
}
