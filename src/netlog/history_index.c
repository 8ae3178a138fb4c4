/*
 * history_index.c - runs of each group's, code's and account's events
 * (history_index.h).
 */
#include "netlog/history_index.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlog/row.h"
#include "util/alloc.h"
#include "util/log.h"

struct hix_run {
    char *name;       /* the map's key: the axis's letter, then the key */
    const char *axis; /* "target", "code" or "account" */
    int64_t num;      /* the key of a code or account */
    int64_t first, last, first_at, last_at;
    int n;
    char *offs; /* "[0,3,17" while open; "]" is added when written */
    size_t len, cap;
};

int hix_init(struct hix *h, sqlite3 *db)
{
    memset(h, 0, sizeof *h);
    strmap_init(&h->open);
    if (sqlite3_prepare_v3(db,
                           "INSERT INTO runs (axis, key, last_at, first, last, first_at, n, offs)"
                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &h->ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(db, "INSERT OR REPLACE INTO runs_upto (id, seq) VALUES (1, ?)", -1,
                           SQLITE_PREPARE_PERSISTENT, &h->upto, NULL) != SQLITE_OK) {
        hix_close(h);
        return -1;
    }
    return 0;
}

static void run_free(struct hix_run *r)
{
    free(r->name);
    free(r->offs);
    free(r);
}

/* Frees every key's run. */
static void forget_all(struct hix *h)
{
    for (size_t i = 0; i < h->open.cap; i++)
        if (h->open.slots[i].key)
            run_free(h->open.slots[i].value);
    strmap_free(&h->open);
    strmap_init(&h->open);
}

/* Ends every open run; the keys stay, with their buffers, for the next
 * transaction (a busy key is in most), up to HIX_KEYS_KEPT of them. */
static void close_all(struct hix *h)
{
    if (h->open.count > HIX_KEYS_KEPT) {
        forget_all(h);
        return;
    }
    for (size_t i = 0; i < h->open.cap; i++)
        if (h->open.slots[i].key)
            ((struct hix_run *)h->open.slots[i].value)->n = 0;
}

void hix_discard(struct hix *h)
{
    close_all(h);
    h->last_seq = 0;
}

void hix_close(struct hix *h)
{
    forget_all(h);
    strmap_free(&h->open);
    sqlite3_finalize(h->ins);
    sqlite3_finalize(h->upto);
    h->ins = h->upto = NULL;
}

static int run_write(struct hix *h, struct hix_run *r)
{
    r->offs[r->len] = ']'; /* cap keeps a byte for it */
    sqlite3_stmt *s = h->ins;
    sqlite3_bind_text(s, 1, r->axis, -1, SQLITE_STATIC);
    if (r->axis[0] == 't')
        sqlite3_bind_text(s, 2, r->name + 1, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, 2, r->num);
    sqlite3_bind_int64(s, 3, r->last_at);
    sqlite3_bind_int64(s, 4, r->first);
    sqlite3_bind_int64(s, 5, r->last);
    sqlite3_bind_int64(s, 6, r->first_at);
    sqlite3_bind_int(s, 7, r->n);
    sqlite3_bind_text(s, 8, r->offs, (int)r->len + 1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void run_start(struct hix_run *r, int64_t seq, int64_t at)
{
    r->first = r->last = seq;
    r->first_at = r->last_at = at;
    r->n = 1;
    r->len = 2;
    memcpy(r->offs, "[0", 2);
}

/* Adds seq to the run of name (axis letter and key), opening it. */
static int run_add(struct hix *h, const char *name, size_t name_len, const char *axis, int64_t num,
                   int64_t seq, int64_t at)
{
    struct hix_run *r = strmap_get(&h->open, name);
    if (!r) {
        r = xcalloc(1, sizeof *r);
        r->name = xstrndup(name, name_len);
        r->axis = axis;
        r->num = num;
        r->cap = 64;
        r->offs = xmalloc(r->cap);
        run_start(r, seq, at);
        strmap_put(&h->open, r->name, r);
        return 0;
    }
    if (r->n == 0) { /* kept from an earlier transaction */
        run_start(r, seq, at);
        return 0;
    }
    if (r->n == HIX_RUN_MAX) {
        if (run_write(h, r) < 0)
            return -1;
        run_start(r, seq, at);
        return 0;
    }
    /* ",<offset>" (printf cost as much as the rest of this function) */
    char digits[24], *p = digits + sizeof digits;
    uint64_t v = (uint64_t)(seq - r->first);
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    *--p = ',';
    size_t k = (size_t)(digits + sizeof digits - p);
    if (r->len + k + 1 > r->cap) {
        r->cap = r->cap * 2 + k;
        r->offs = xrealloc(r->offs, r->cap);
    }
    memcpy(r->offs + r->len, p, k);
    r->len += k;
    r->n++;
    r->last = seq;
    r->last_at = at;
    return 0;
}

/* name: letter then the decimal number (codes and ids are positive) */
static int run_add_num(struct hix *h, char letter, const char *axis, int64_t num, int64_t seq,
                       int64_t at)
{
    char name[24], *p = name + sizeof name;
    uint64_t v = (uint64_t)num;
    *--p = '\0';
    do
        *--p = (char)('0' + v % 10);
    while ((v /= 10) != 0);
    *--p = letter;
    return run_add(h, p, (size_t)(name + sizeof name - 1 - p), axis, num, seq, at);
}

int hix_add(struct hix *h, const struct netlog_event *e, size_t target_len)
{
    h->last_seq = e->seq;
    /* a direct message's target: history by account (history_index.h) */
    bool dm = strcmp(e->kind, "dm") == 0;
    /* a group's name is at most 200 bytes (limits.channel_length); a
     * longer target is no group's and no history's */
    char name[HIX_TARGET_MAX + 2];
    if (e->target && !dm && target_len <= HIX_TARGET_MAX) {
        name[0] = 't';
        memcpy(name + 1, e->target, target_len + 1);
        if (run_add(h, name, target_len + 1, "target", 0, e->seq, e->at_ms) < 0)
            return -1;
    }
    if (e->code && run_add_num(h, 'c', "code", e->code, e->seq, e->at_ms) < 0)
        return -1;
    if (e->account_id && run_add_num(h, 'a', "account", e->account_id, e->seq, e->at_ms) < 0)
        return -1;
    return 0;
}

int hix_flush(struct hix *h)
{
    int rc = 0;
    for (size_t i = 0; i < h->open.cap && rc == 0; i++)
        if (h->open.slots[i].key && ((struct hix_run *)h->open.slots[i].value)->n > 0)
            rc = run_write(h, h->open.slots[i].value);
    if (rc == 0 && h->last_seq > 0) {
        sqlite3_bind_int64(h->upto, 1, h->last_seq);
        rc = sqlite3_step(h->upto) == SQLITE_DONE ? 0 : -1;
        sqlite3_reset(h->upto);
    }
    hix_discard(h);
    return rc;
}

static int64_t query_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    int64_t v = 0;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    if (sqlite3_step(s) == SQLITE_ROW)
        v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return v;
}

bool hix_complete(sqlite3 *db)
{
    /* -1 without a runs table (a log from before it), 0 without runs_upto */
    return query_int(db, "SELECT (SELECT seq FROM runs_upto WHERE id = 1) >="
                         " (SELECT coalesce(max(seq), 0) FROM events)") == 1;
}

int hix_catch_up(sqlite3 *db, int64_t *added, char *err, size_t errlen)
{
    *added = 0;
    int64_t upto = query_int(db, "SELECT coalesce(max(seq), 0) FROM runs_upto");
    int64_t end = query_int(db, "SELECT coalesce(max(seq), 0) FROM events");
    if (upto < 0 || end < 0) {
        snprintf(err, errlen, "history index: %s", sqlite3_errmsg(db));
        return -1;
    }
    if (upto >= end)
        return 0;
    if (end - upto > HIX_CATCH_UP_TX)
        log_notice("netlog: adding %lld event(s) to the history index (once after an upgrade;"
                   " docs/netlog.md)",
                   (long long)(end - upto));
    struct hix h;
    sqlite3_stmt *s = NULL;
    if (hix_init(&h, db) < 0 || sqlite3_prepare_v2(db,
                                                   "SELECT " NETLOG_EVENT_COLUMNS " FROM events"
                                                   " WHERE seq > ? AND seq <= ? ORDER BY seq",
                                                   -1, &s, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "history index: %s", sqlite3_errmsg(db));
        hix_close(&h);
        return -1;
    }
    int rc = 0;
    while (rc == 0 && upto < end) {
        int64_t to = end - upto > HIX_CATCH_UP_TX ? upto + HIX_CATCH_UP_TX : end;
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            snprintf(err, errlen, "history index: %s", sqlite3_errmsg(db));
            rc = -1;
            break;
        }
        sqlite3_bind_int64(s, 1, upto);
        sqlite3_bind_int64(s, 2, to);
        while (rc == 0 && sqlite3_step(s) == SQLITE_ROW) {
            struct netlog_event e;
            netlog_event_from_row(s, &e);
            rc = hix_add(&h, &e, e.target ? strlen(e.target) : 0);
            (*added)++;
        }
        sqlite3_reset(s);
        /* a gap (rows deleted by hand) still moves upto past the range */
        h.last_seq = to;
        if (rc == 0)
            rc = hix_flush(&h);
        if (rc == 0 && sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            rc = -1;
        if (rc != 0) {
            snprintf(err, errlen, "history index: %s", sqlite3_errmsg(db));
            sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
            hix_discard(&h);
        }
        upto = to;
    }
    sqlite3_finalize(s);
    hix_close(&h);
    return rc;
}
