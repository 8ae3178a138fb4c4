/*
 * retention.c - calendar cutoff and prefix purge of the network log
 * (retention.h has the rules, the hold kinds and why only a prefix goes).
 *
 * The purge, step by step, all inside one BEGIN IMMEDIATE transaction (the
 * writer thread waits on its busy timeout meanwhile; it keeps its own chain
 * and accumulator in memory, which a purge does not change):
 *
 *   1. read purged (first, chain, acc), or start at seq 1 with a zero chain
 *      and an empty accumulator;
 *   2. first_kept = the first seq with at >= cutoff (or max + 1), lowered
 *      to the first seq any active hold covers;
 *   3. walk seq first..first_kept-1: dense seq, leaf recomputed from the
 *      fields equals the stored leaf, chain recomputed equals the stored
 *      chain; each leaf goes into the accumulator. Any mismatch aborts the
 *      purge (rollback) naming the record;
 *   4. DELETE the prefix and write purged (first_kept, chain of the last
 *      purged record, accumulator covering 1..first_kept-1, time); COMMIT.
 *
 * Checkpoint rows are never touched.
 */
#include "netlog/retention.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netlog/event.h"
#include "netlog/history_index.h"
#include "netlog/merkle.h"
#include "netlog/row.h"
#include "netlog/schema.h"

#define DAY_MS 86400000LL

/* ---------------------------------------------------------------- calendar */

bool retention_leap_year(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

int retention_days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && retention_leap_year(y) ? 29 : dim[m - 1];
}

/* Counts in 400-year eras (146097 days each) with March as the first month,
 * so the leap day is the last day of the shifted year. */
int64_t retention_days_from_civil(int y, int m, int d)
{
    int64_t yy = (int64_t)y - (m <= 2);
    int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
    int64_t yoe = yy - era * 400;                                  /* 0..399 */
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1; /* 0..365 */
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;           /* 0..146096 */
    return era * 146097 + doe - 719468;
}

void retention_civil_from_days(int64_t days, int *y, int *m, int *d)
{
    days += 719468;
    int64_t era = (days >= 0 ? days : days - 146096) / 146097;
    int64_t doe = days - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = (int)(yoe + era * 400 + (*m <= 2));
}

int64_t retention_china_ms(int y, int mo, int d, int h, int mi, int s)
{
    return retention_days_from_civil(y, mo, d) * DAY_MS + ((int64_t)h * 3600 + mi * 60 + s) * 1000 -
           RETENTION_TZ_OFFSET_MS;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;
    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* Today is local day (Y, M, D). An event of day e is kept while
 * min(e.day, days_in(M)) of month e.month + k is >= today, i.e. the first
 * kept day is day D of month M - k, or the 1st of the month after when
 * that month has no day D. */
int64_t retention_cutoff_ms(int64_t now_ms, int keep_months)
{
    int y, m, d;
    retention_civil_from_days(floor_div(now_ms + RETENTION_TZ_OFFSET_MS, DAY_MS), &y, &m, &d);
    int64_t months = (int64_t)y * 12 + (m - 1) - keep_months;
    int ty = (int)floor_div(months, 12), tm = (int)(months - (int64_t)ty * 12) + 1;
    if (d > retention_days_in_month(ty, tm)) {
        d = 1;
        if (++tm > 12) {
            tm = 1;
            ty++;
        }
    }
    return retention_days_from_civil(ty, tm, d) * DAY_MS - RETENTION_TZ_OFFSET_MS;
}

/* ---------------------------------------------------------------- purge */

struct purge_ctx {
    sqlite3 *db;
    char *err;
    size_t errlen;
    int64_t first; /* first seq present */
    int64_t end;   /* first seq to keep (exclusive end of the purge) */
    uint8_t chain[NETLOG_HASH_BYTES];
    struct merkle_acc acc;
    struct retention_result *r;
};

static int db_fail(struct purge_ctx *c, const char *what)
{
    snprintf(c->err, c->errlen, "retention: %s: %s", what, sqlite3_errmsg(c->db));
    return -1;
}

/* One integer from a query with up to three int64 parameters and one text
 * parameter (?4); *out untouched when the answer is NULL or no row. */
static int query_int(struct purge_ctx *c, const char *sql, const int64_t *p, int np,
                     const char *text, int64_t *out)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(c->db, sql, -1, &s, NULL) != SQLITE_OK)
        return db_fail(c, "cannot prepare a query");
    for (int i = 0; i < np; i++)
        sqlite3_bind_int64(s, i + 1, p[i]);
    if (text)
        sqlite3_bind_text(s, 4, text, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL)
        *out = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : db_fail(c, "cannot read the log");
}

static int load_purged(struct purge_ctx *c)
{
    sqlite3_stmt *s;
    c->first = 1;
    memset(c->chain, 0, sizeof c->chain);
    merkle_acc_init(&c->acc);
    if (sqlite3_prepare_v2(c->db, "SELECT first, chain, acc FROM purged WHERE id = 1", -1, &s,
                           NULL) != SQLITE_OK)
        return db_fail(c, "cannot read the purged table");
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        c->first = sqlite3_column_int64(s, 0);
        bool ok = sqlite3_column_bytes(s, 1) == NETLOG_HASH_BYTES &&
                  merkle_acc_deserialize(&c->acc, sqlite3_column_blob(s, 2),
                                         (size_t)sqlite3_column_bytes(s, 2)) &&
                  c->acc.size == (uint64_t)(c->first - 1);
        if (ok)
            memcpy(c->chain, sqlite3_column_blob(s, 1), NETLOG_HASH_BYTES);
        sqlite3_finalize(s);
        if (!ok)
            snprintf(c->err, c->errlen, "retention: the purged row is damaged; not purging");
        return ok ? 0 : -1;
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(c, "cannot read the purged table");
}

static bool all_digits(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* A case value "<id>:<from>-<to>": true with the range; false = no range. */
static bool case_range(const char *v, int64_t *from, int64_t *to)
{
    const char *colon = strrchr(v, ':');
    const char *dash = colon ? strchr(colon, '-') : NULL;
    if (!dash || !all_digits(colon + 1, (size_t)(dash - colon - 1)) ||
        !all_digits(dash + 1, strlen(dash + 1)))
        return false;
    *from = strtoll(colon + 1, NULL, 10);
    *to = strtoll(dash + 1, NULL, 10);
    return *from <= *to;
}

/* The first event of group code ?3 in seqs [?1, ?2): its runs whose
 * last_at is from the time of ?1 to that of the first run ending after the
 * time of ?2 - 1 (NETLOG_SQL_RUNS_SCOPE), read in order. */
#define HOLD_AT_FIRST   "(SELECT at FROM events WHERE seq >= ?1 ORDER BY seq LIMIT 1)"
#define HOLD_AT_LAST    "(SELECT at FROM events WHERE seq < ?2 ORDER BY seq DESC LIMIT 1)"
#define HOLD_CODE_SCOPE NETLOG_SQL_RUNS_SCOPE("'code'", "?3", HOLD_AT_FIRST, HOLD_AT_LAST)
#define HOLD_CODE_FIRST                                                                            \
    "SELECT e.seq FROM " NETLOG_SQL_RUNS_FROM " WHERE " HOLD_CODE_SCOPE                            \
    " AND e.seq >= ?1 AND e.seq < ?2"                                                              \
    " ORDER BY " NETLOG_SQL_RUNS_ORDER("ASC") " LIMIT 1"

/* The first seq in [first, end) one hold covers, or end when none. */
static int hold_first_seq(struct purge_ctx *c, const char *kind, const char *value, int64_t *out)
{
    int64_t p[3] = {c->first, c->end, 0};
    *out = c->end;
    if (strcmp(kind, "group") == 0) {
        if (!all_digits(value, strlen(value)))
            return 0; /* not a code: covers nothing */
        p[2] = strtoll(value, NULL, 10);
        /* the code's runs (history_index.h) over the range's time, in order */
        if (!hix_complete(c->db)) /* a log qund has not indexed yet: a scan */
            return query_int(
                c, "SELECT min(seq) FROM events WHERE code = ?3 AND seq >= ?1 AND seq < ?2", p, 3,
                NULL, out);
        return query_int(c, HOLD_CODE_FIRST, p, 3, NULL, out);
    }
    if (strcmp(kind, "account") == 0) {
        p[2] = all_digits(value, strlen(value)) ? strtoll(value, NULL, 10) : -1;
        return query_int(c,
                         "SELECT min(seq) FROM events WHERE seq >= ?1 AND seq < ?2 AND"
                         " (account_id = ?3 OR actor = ?4 OR target = ?4)",
                         p, 3, value, out);
    }
    int64_t from, to;
    if (!case_range(value, &from, &to))
        *out = c->first; /* a case without a range keeps everything */
    else if (to >= c->first && from < c->end)
        *out = from > c->first ? from : c->first;
    return 0;
}

/* Lowers c->end to the first seq an active hold covers. */
static int apply_holds(struct purge_ctx *c)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(
            c->db, "SELECT id, kind, value FROM holds WHERE released_at IS NULL ORDER BY id", -1,
            &s, NULL) != SQLITE_OK)
        return db_fail(c, "cannot read the holds");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t pin;
        const char *kind = (const char *)sqlite3_column_text(s, 1);
        const char *value = (const char *)sqlite3_column_text(s, 2);
        if (hold_first_seq(c, kind ? kind : "", value ? value : "", &pin) < 0) {
            sqlite3_finalize(s);
            return -1;
        }
        if (pin < c->end) {
            c->end = pin;
            c->r->pinned_by_hold = sqlite3_column_int64(s, 0);
            c->r->held_seq = pin;
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(c, "cannot read the holds");
}

/* Step 3: checks and accumulates seq first..end-1. */
static int walk_prefix(struct purge_ctx *c)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(c->db,
                           "SELECT " NETLOG_EVENT_COLUMNS ","
                           " leaf, chain FROM events WHERE seq >= ?1 AND seq < ?2 ORDER BY seq",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(c, "cannot read the log");
    sqlite3_bind_int64(s, 1, c->first);
    sqlite3_bind_int64(s, 2, c->end);
    int64_t want = c->first;
    int rc;
    const char *bad = NULL;
    while (!bad && (rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct netlog_event e;
        uint8_t leaf[NETLOG_HASH_BYTES], chain[NETLOG_HASH_BYTES];
        netlog_event_from_row(s, &e);
        netlog_leaf_hash(&e, leaf);
        netlog_chain_next(c->chain, leaf, chain);
        if (e.seq != want)
            bad = "a record is missing before it";
        else if (sqlite3_column_bytes(s, 9) != NETLOG_HASH_BYTES ||
                 memcmp(sqlite3_column_blob(s, 9), leaf, NETLOG_HASH_BYTES) != 0)
            bad = "its fields do not match its leaf hash";
        else if (sqlite3_column_bytes(s, 10) != NETLOG_HASH_BYTES ||
                 memcmp(sqlite3_column_blob(s, 10), chain, NETLOG_HASH_BYTES) != 0)
            bad = "its chain value is wrong";
        if (bad) {
            snprintf(c->err, c->errlen,
                     "retention: record %" PRId64 " does not verify (%s); not purging", want, bad);
            break;
        }
        memcpy(c->chain, chain, NETLOG_HASH_BYTES);
        merkle_acc_add(&c->acc, leaf);
        want++;
    }
    sqlite3_finalize(s);
    if (bad)
        return -1;
    if (rc != SQLITE_DONE)
        return db_fail(c, "cannot read the log");
    if (want != c->end) {
        snprintf(c->err, c->errlen, "retention: record %" PRId64 " is missing; not purging", want);
        return -1;
    }
    return 0;
}

static int write_purge(struct purge_ctx *c)
{
    uint8_t acc[MERKLE_ACC_BYTES_MAX];
    size_t acclen = merkle_acc_serialize(&c->acc, acc, sizeof acc);
    sqlite3_stmt *s;
    int64_t p[1] = {c->end};
    if (sqlite3_prepare_v2(c->db, "DELETE FROM events WHERE seq < ?1", -1, &s, NULL) != SQLITE_OK)
        return db_fail(c, "cannot prepare the delete");
    sqlite3_bind_int64(s, 1, p[0]);
    int rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return db_fail(c, "cannot delete old events");
    c->r->purged = sqlite3_changes(c->db);
    /* the history index's runs wholly before it (a run across the cut
     * keeps offsets that now name nothing: history skips them) */
    if (sqlite3_prepare_v2(c->db, "DELETE FROM runs WHERE last < ?1", -1, &s, NULL) != SQLITE_OK)
        return db_fail(c, "cannot prepare the delete");
    sqlite3_bind_int64(s, 1, p[0]);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE)
        return db_fail(c, "cannot delete old runs");
    if (sqlite3_prepare_v2(c->db,
                           "INSERT OR REPLACE INTO purged (id, first, chain, acc, at)"
                           " VALUES (1, ?1, ?2, ?3, ?4)",
                           -1, &s, NULL) != SQLITE_OK)
        return db_fail(c, "cannot prepare the purged row");
    sqlite3_bind_int64(s, 1, c->end);
    sqlite3_bind_blob(s, 2, c->chain, NETLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, acc, (int)acclen, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (int64_t)time(NULL) * 1000);
    rc = sqlite3_step(s);
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? 0 : db_fail(c, "cannot write the purged row");
}

/* Steps 1-4 inside the transaction. */
static int purge_locked(struct purge_ctx *c, int64_t cutoff_ms)
{
    if (load_purged(c) < 0)
        return -1;
    c->r->first_before = c->r->first_kept = c->first;
    int64_t max = c->first - 1;
    int64_t p[1] = {cutoff_ms};
    if (query_int(c, "SELECT max(seq) FROM events", NULL, 0, NULL, &max) < 0)
        return -1;
    c->end = max + 1;
    if (query_int(c, "SELECT seq FROM events WHERE +at >= ?1 ORDER BY seq LIMIT 1", p, 1, NULL,
                  &c->end) < 0)
        return -1;
    /* walk seq order from the oldest (the purge is a short prefix); "+at"
     * keeps SQLite from choosing an index with at in it */
    if (c->end > c->first && apply_holds(c) < 0)
        return -1;
    if (c->end <= c->first)
        return 0; /* nothing old enough, or held */
    if (walk_prefix(c) < 0 || write_purge(c) < 0)
        return -1;
    c->r->first_kept = c->end;
    return 0;
}

int retention_purge(sqlite3 *db, int64_t cutoff_ms, char *err, size_t errlen,
                    struct retention_result *r)
{
    struct retention_result dummy;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct purge_ctx *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "retention: out of memory");
        return -1;
    }
    c->db = db;
    c->err = err;
    c->errlen = errlen;
    c->r = r ? r : &dummy;
    memset(c->r, 0, sizeof *c->r);
    c->r->cutoff_ms = cutoff_ms;
    int rc = -1;
    if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
        db_fail(c, "cannot begin the purge");
    else if (purge_locked(c, cutoff_ms) < 0)
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    else if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        db_fail(c, "cannot commit the purge");
        sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
    } else
        rc = 0;
    if (rc < 0)
        c->r->purged = 0;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    c->r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    free(c);
    return rc;
}

int retention_purge_file(const char *db_path, int keep_months, int64_t now_ms, char *err,
                         size_t errlen, struct retention_result *r)
{
    if (keep_months < RETENTION_MIN_MONTHS) {
        snprintf(err, errlen, "retention: keeping %d months is less than the %d the rules require",
                 keep_months, RETENTION_MIN_MONTHS);
        return -1;
    }
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "retention: cannot open %s: %s", db_path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return -1;
    }
    sqlite3_busy_timeout(db, 30000);
    sqlite3_exec(db, "PRAGMA synchronous=FULL", NULL, NULL, NULL);
    int rc = -1;
    if (sqlite3_exec(db, NETLOG_SCHEMA_SQL, NULL, NULL, NULL) != SQLITE_OK)
        snprintf(err, errlen, "retention: %s is not a network log: %s", db_path,
                 sqlite3_errmsg(db));
    else
        rc = retention_purge(db, retention_cutoff_ms(now_ms, keep_months), err, errlen, r);
    sqlite3_close(db);
    return rc;
}
