/*
 * test_schema.c - the log's msgid indexes (netlog/schema.h): a chat
 * message's log id is found by primary key and is in no index; counter
 * ids and every id of a log written before log ids are found through
 * events_msgid_counter; redact events through events_redact; an old log
 * loses its full msgid index and keeps every old id findable; no lookup
 * scans the table. The history index (history_index.h): runs as the
 * applier writes them and as a catch-up rebuilds them give each group's
 * events in order in both directions, bounded by time, without a scan;
 * direct messages go through their partial index.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "netlog/history_index.h"
#include "netlog/schema.h"
#include "util/msgid.h"

/* history's "not redacted" test (cmd_chathistory.c) */
#define NOT_REDACTED                                                                               \
    "SELECT e.seq FROM " NETLOG_SQL_RUNS_FROM                                                      \
    " WHERE " NETLOG_SQL_RUNS_SCOPE("'target'", "?1", "0", "0") NETLOG_SQL_NOT_REDACTED

/* the table and its msgid index as every log before 2026-12 had them */
static const char old_schema[] =
    "CREATE TABLE events (seq INTEGER PRIMARY KEY, at INTEGER NOT NULL, kind TEXT NOT NULL,"
    " actor TEXT NOT NULL, target TEXT, code INTEGER, account_id INTEGER, msgid TEXT, body TEXT,"
    " leaf BLOB NOT NULL, chain BLOB NOT NULL);"
    "CREATE INDEX events_msgid ON events (msgid) WHERE msgid IS NOT NULL;";

static void exec(sqlite3 *db, const char *sql)
{
    char *err = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &err) != SQLITE_OK)
        fail_msg("%s: %s", sql, err);
}

static void add(sqlite3 *db, int64_t seq, const char *kind, const char *msgid)
{
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO events (seq, at, kind, actor, target, msgid,"
                                        " leaf, chain) VALUES (?, ?, ?, 'a', '#g', ?, x'', x'')",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_bind_int64(s, 1, seq);
    sqlite3_bind_int64(s, 2, 1000 + seq);
    sqlite3_bind_text(s, 3, kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, msgid, -1, SQLITE_STATIC);
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
}

/* The seqs the lookup finds for ids a and z, in order, into out (up to 4);
 * returns how many. */
static int find(sqlite3 *db, const char *sql, const char *a, const char *z, int64_t out[4])
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_bind_text(s, 1, a, -1, SQLITE_STATIC);
    if (z) {
        sqlite3_bind_text(s, 2, z, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 3, msgid_seq(a));
        sqlite3_bind_int64(s, 4, msgid_seq(z));
    } else {
        sqlite3_bind_int64(s, 2, msgid_seq(a));
    }
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW)
        if (n < 4)
            out[n++] = sqlite3_column_int64(s, z ? 2 : 0);
    sqlite3_finalize(s);
    return n;
}

/* The query plan of sql, every step on one line. */
static void plan(sqlite3 *db, const char *sql, char *out, size_t cap)
{
    char q[2048];
    snprintf(q, sizeof q, "EXPLAIN QUERY PLAN %s", sql);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, q, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", q, sqlite3_errmsg(db));
    size_t off = 0;
    out[0] = '\0';
    while (sqlite3_step(s) == SQLITE_ROW && off < cap)
        off += (size_t)snprintf(out + off, cap - off, "%s; ", sqlite3_column_text(s, 3));
    sqlite3_finalize(s);
}

/* Whether a plan scans a table (reading a run's JSON array is no scan). */
static bool scans(const char *plan)
{
    for (const char *p = strstr(plan, "SCAN"); p; p = strstr(p + 4, "SCAN"))
        if (strncmp(p, "SCAN j VIRTUAL TABLE", 20) != 0)
            return true;
    return false;
}

static int64_t count(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* 1,000 chat messages named by seq, a join with a counter id, a redact of
 * message 500: each found by its id, redacts left out, log ids in no
 * index, and no lookup scanning the table. */
static void test_lookups(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    exec(db, NETLOG_SCHEMA_SQL);
    char ids[1001][MSGID_MAX + 1], join_id[MSGID_MAX + 1];
    exec(db, "BEGIN");
    for (int64_t seq = 1; seq <= 1000; seq++) {
        msgid_for_seq(seq, ids[seq], sizeof ids[seq]);
        add(db, seq, "msg", ids[seq]);
    }
    msgid_new(join_id, sizeof join_id);
    add(db, 1001, "join", join_id);
    add(db, 1002, "redact", ids[500]);
    exec(db, "COMMIT");

    int64_t got[4];
    assert_int_equal(find(db, NETLOG_SQL_FIND_REFS, ids[500], ids[7], got), 2);
    assert_true((got[0] == 500 && got[1] == 7) || (got[0] == 7 && got[1] == 500));
    assert_int_equal(find(db, NETLOG_SQL_FIND_REFS, join_id, ids[1000], got), 2);
    assert_int_equal(find(db, NETLOG_SQL_FIND_MESSAGE, ids[999], NULL, got), 1);
    assert_int_equal(got[0], 999);
    assert_int_equal(find(db, NETLOG_SQL_FIND_MESSAGE, join_id, NULL, got), 0); /* not a message */
    /* the same seq under another process's prefix is another id */
    char other[MSGID_MAX + 1];
    snprintf(other, sizeof other, "%s", ids[42]);
    other[1] = other[1] == 'z' ? 'y' : 'z';
    assert_int_equal(msgid_seq(other), 42);
    assert_int_equal(find(db, NETLOG_SQL_FIND_MESSAGE, other, NULL, got), 0);
    assert_int_equal(find(db, NETLOG_SQL_FIND_REFS, "nosuchid", "", got), 0);

    /* the counter index holds the join's id, the redact index the redact */
    assert_int_equal(count(db, "SELECT count(*) FROM events INDEXED BY events_msgid_counter"
                               " WHERE " NETLOG_MSGID_COUNTER),
                     1);
    assert_int_equal(count(db, "SELECT count(*) FROM events INDEXED BY events_redact"
                               " WHERE kind = 'redact'"),
                     1);
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'events_msgid'"),
                     0);

    char p[1024];
    const char *sqls[] = {NETLOG_SQL_FIND_REFS, NETLOG_SQL_FIND_MESSAGE, NOT_REDACTED};
    for (size_t i = 0; i < 3; i++) {
        plan(db, sqls[i], p, sizeof p);
        if (scans(p))
            fail_msg("a lookup scans: %s", p);
    }
    plan(db, NETLOG_SQL_FIND_MESSAGE, p, sizeof p);
    assert_non_null(strstr(p, "INTEGER PRIMARY KEY"));
    assert_non_null(strstr(p, "events_msgid_counter"));
    plan(db, NOT_REDACTED, p, sizeof p);
    assert_non_null(strstr(p, "events_redact"));
    sqlite3_close(db);
}

/* A log written before log ids: its full msgid index goes, and its
 * messages' ids (counter ids, or the loggen's "m<hex>") are still found. */
static void test_old_log(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    exec(db, old_schema);
    char ids[201][MSGID_MAX + 1];
    exec(db, "BEGIN");
    for (int64_t seq = 1; seq <= 200; seq++) {
        if (seq % 2)
            msgid_new(ids[seq], sizeof ids[seq]);
        else
            snprintf(ids[seq], sizeof ids[seq], "m%016llx", (unsigned long long)seq * 977);
        add(db, seq, "msg", ids[seq]);
    }
    add(db, 201, "redact", ids[3]);
    exec(db, "COMMIT");
    exec(db, NETLOG_SCHEMA_SQL); /* what netlog_open runs */
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE name = 'events_msgid'"),
                     0);
    assert_int_equal(count(db, "SELECT count(*) FROM events INDEXED BY events_msgid_counter"
                               " WHERE " NETLOG_MSGID_COUNTER),
                     201);
    int64_t got[4];
    for (int64_t seq = 1; seq <= 200; seq++) {
        assert_int_equal(find(db, NETLOG_SQL_FIND_MESSAGE, ids[seq], NULL, got), 1);
        assert_int_equal(got[0], seq);
    }
    assert_int_equal(find(db, NETLOG_SQL_FIND_REFS, ids[3], ids[4], got), 2);
    exec(db, NETLOG_SCHEMA_SQL); /* again: nothing changes */
    assert_int_equal(count(db, "SELECT count(*) FROM sqlite_master WHERE type = 'index'"
                               " AND name LIKE 'events_%'"),
                     4); /* msgid_counter, redact, dm_target, dm_account */
    assert_int_equal(count(db,
                           "SELECT count(*) FROM sqlite_master WHERE name IN ('events_target_at',"
                           " 'events_code_at', 'events_account_at')"),
                     0);
    sqlite3_close(db);
}

/* ---- the history index ---- */

#define HX_EVENTS 3000
static const char *const hx_targets[] = {"#a", "#b", "#测试", "#big"};

/* One key of the index: an axis and a name or a number. */
struct hx_key {
    const char *axis, *name;
    int64_t num;
};
static const struct hx_key hx_keys[] = {
    {"target", "#a", 0},   {"target", "#b", 0},  {"target", "#测试", 0},
    {"target", "#big", 0}, {"code", NULL, 101},  {"code", NULL, 104},
    {"account", NULL, 7},  {"account", NULL, 9}, {"target", "bob", 0}};

/* Event seq of the history test log: most go to #big (runs fill up and
 * split), the rest round the other groups; every 10th has no target, every
 * 7th is a DM to "bob". Groups #a, #b, #测试, #big have codes 101-104 (#b
 * none); accounts 5-9 send (every 10th: no account). */
static void hx_event(int64_t seq, struct netlog_event *e)
{
    *e = (struct netlog_event){.seq = seq, .at_ms = seq / 4, .kind = "msg"};
    if (seq % 10 == 0)
        e->kind = "session.login";
    else if (seq % 7 == 0)
        e->target = "bob", e->kind = "dm";
    else if (seq % 3 == 0)
        e->target = hx_targets[(seq / 3) % 3];
    else
        e->target = "#big";
    for (int i = 0; i < 4; i++)
        if (e->target && e->target == hx_targets[i] && i != 1)
            e->code = 101 + i;
    if (seq % 10 != 0)
        e->account_id = 5 + seq % 5;
}

static bool hx_matches(const struct netlog_event *e, const struct hx_key *k)
{
    if (k->axis[0] == 't')
        return e->target && strcmp(e->target, k->name) == 0 && strcmp(e->kind, "dm") != 0;
    return (k->axis[0] == 'c' ? e->code : e->account_id) == k->num;
}

/* The log as the applier writes it: rows and runs in transactions of tx
 * events; at is seq / 4 (several events in one millisecond). */
static void hx_fill(sqlite3 *db, int tx)
{
    struct hix h;
    assert_int_equal(hix_init(&h, db), 0);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "INSERT INTO events (seq, at, kind, actor, target, code,"
                                        " account_id, leaf, chain)"
                                        " VALUES (?, ?, ?, 'a', ?, nullif(?, 0), nullif(?, 0),"
                                        " x'', x'')",
                                        -1, &s, NULL),
                     SQLITE_OK);
    for (int64_t seq = 1; seq <= HX_EVENTS; seq++) {
        if ((seq - 1) % tx == 0)
            exec(db, "BEGIN");
        struct netlog_event e;
        hx_event(seq, &e);
        sqlite3_bind_int64(s, 1, seq);
        sqlite3_bind_int64(s, 2, e.at_ms);
        sqlite3_bind_text(s, 3, e.kind, -1, SQLITE_STATIC);
        sqlite3_bind_text(s, 4, e.target, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, e.code);
        sqlite3_bind_int64(s, 6, e.account_id);
        assert_int_equal(sqlite3_step(s), SQLITE_DONE);
        sqlite3_reset(s);
        assert_int_equal(hix_add(&h, &e, e.target ? strlen(e.target) : 0), 0);
        if (seq % tx == 0 || seq == HX_EVENTS) {
            assert_int_equal(hix_flush(&h), 0);
            exec(db, "COMMIT");
        }
    }
    sqlite3_finalize(s);
    hix_close(&h);
}

static void hx_bind_key(sqlite3_stmt *s, int i, const struct hx_key *k)
{
    if (k->name)
        sqlite3_bind_text(s, i, k->name, -1, SQLITE_STATIC);
    else
        sqlite3_bind_int64(s, i, k->num);
}

/* What a history query (NETLOG_SQL_RUNS_*, as cmd_chathistory.c and
 * bundle.c build it) returns for key k between lo_at and hi_at
 * (inclusive), limit rows, into out; returns how many. */
static int hx_query(sqlite3 *db, const struct hx_key *k, int64_t lo_at, int64_t hi_at, bool desc,
                    int limit, int64_t *out)
{
    char sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT e.seq FROM " NETLOG_SQL_RUNS_FROM " WHERE " NETLOG_SQL_RUNS_SCOPE(
                 "?1", "?2", "?3", "?4") " AND e.at >= ?3 AND e.at <= ?4"
                                         " ORDER BY %s LIMIT ?5",
             desc ? NETLOG_SQL_RUNS_ORDER("DESC") : NETLOG_SQL_RUNS_ORDER("ASC"));
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        fail_msg("%s: %s", sql, sqlite3_errmsg(db));
    sqlite3_bind_text(s, 1, k->axis, -1, SQLITE_STATIC);
    hx_bind_key(s, 2, k);
    sqlite3_bind_int64(s, 3, lo_at);
    sqlite3_bind_int64(s, 4, hi_at);
    sqlite3_bind_int(s, 5, limit);
    int n = 0;
    while (sqlite3_step(s) == SQLITE_ROW)
        out[n++] = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

/* The same answer by brute force over hx_event. */
static int hx_expect(const struct hx_key *k, int64_t lo_at, int64_t hi_at, bool desc, int limit,
                     int64_t *out)
{
    int n = 0;
    for (int64_t i = 1; i <= HX_EVENTS && n < limit; i++) {
        int64_t seq = desc ? HX_EVENTS + 1 - i : i;
        struct netlog_event e;
        hx_event(seq, &e);
        if (hx_matches(&e, k) && e.at_ms >= lo_at && e.at_ms <= hi_at)
            out[n++] = seq;
    }
    return n;
}

static void hx_compare(sqlite3 *db, const struct hx_key *k, int64_t lo, int64_t hi, bool desc,
                       int limit)
{
    static int64_t got[HX_EVENTS], want[HX_EVENTS];
    int n = hx_query(db, k, lo, hi, desc, limit, got);
    int m = hx_expect(k, lo, hi, desc, limit, want);
    if (n != m || memcmp(got, want, (size_t)n * sizeof got[0]) != 0)
        fail_msg("%s %s%lld [%lld, %lld] %s limit %d: %d rows, want %d", k->axis,
                 k->name ? k->name : "", (long long)k->num, (long long)lo, (long long)hi,
                 desc ? "desc" : "asc", limit, n, m);
}

static void hx_check_queries(sqlite3 *db)
{
    const int64_t bounds[][2] = {
        {INT64_MIN, INT64_MAX}, {100, 200},       {0, 3},     {740, 750},       {749, 749},
        {INT64_MIN, 10},        {700, INT64_MAX}, {900, 100}, {5000, INT64_MAX}};
    const int limits[] = {1, 50, HX_EVENTS};
    for (size_t k = 0; k < sizeof hx_keys / sizeof hx_keys[0]; k++)
        for (size_t b = 0; b < sizeof bounds / sizeof bounds[0]; b++)
            for (size_t l = 0; l < 3; l++)
                for (int desc = 0; desc < 2; desc++)
                    hx_compare(db, &hx_keys[k], bounds[b][0], bounds[b][1], desc, limits[l]);
    /* bounds at the runs' own edges, where runs end and start within one
     * millisecond */
    sqlite3_stmt *s;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT axis, key, first_at, last_at FROM runs", -1, &s, NULL),
        SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
        struct hx_key k = {.axis = (const char *)sqlite3_column_text(s, 0)};
        if (k.axis[0] == 't')
            k.name = (const char *)sqlite3_column_text(s, 1);
        else
            k.num = sqlite3_column_int64(s, 1);
        int64_t first_at = sqlite3_column_int64(s, 2), last_at = sqlite3_column_int64(s, 3);
        int64_t edges[][2] = {
            {first_at, last_at}, {INT64_MIN, last_at}, {last_at, INT64_MAX}, {INT64_MIN, first_at}};
        for (size_t b = 0; b < 4; b++)
            for (int desc = 0; desc < 2; desc++)
                hx_compare(db, &k, edges[b][0], edges[b][1], desc, HX_EVENTS);
    }
    sqlite3_finalize(s);
    /* a DM is in no target run; an untargeted event neither */
    assert_int_equal(count(db, "SELECT count(*) FROM runs WHERE axis = 'target' AND key = 'bob'"),
                     0);
}

/* Runs written transaction by transaction answer every bounded query on
 * each axis as a scan of the events would; a run never holds more than
 * HIX_RUN_MAX; the plan reads the runs' index and events by primary key;
 * dropping the runs and catching up gives the same answers; the DM
 * queries use their partial indexes. */
static void test_history_index(void **state)
{
    (void)state;
    sqlite3 *db;
    assert_int_equal(sqlite3_open(":memory:", &db), SQLITE_OK);
    exec(db, NETLOG_SCHEMA_SQL);
    hx_fill(db, 1000);
    assert_int_equal(count(db, "SELECT seq FROM runs_upto"), HX_EVENTS);
    assert_int_equal(count(db, "SELECT max(n) FROM runs"), HIX_RUN_MAX);
    assert_int_equal(count(db, "SELECT sum(n) FROM runs WHERE axis = 'target'"),
                     count(db, "SELECT count(*) FROM events WHERE target IS NOT NULL"
                               " AND kind <> 'dm'"));
    assert_int_equal(count(db, "SELECT sum(n) FROM runs WHERE axis = 'account'"),
                     count(db, "SELECT count(*) FROM events WHERE account_id IS NOT NULL"));
    /* #big: over 3 transactions, runs split at HIX_RUN_MAX inside each */
    assert_true(count(db, "SELECT count(*) FROM runs WHERE key = '#big'") >= 3 + 6);
    hx_check_queries(db);

    char p[1024], sql[1024];
    snprintf(sql, sizeof sql,
             "SELECT e.seq FROM " NETLOG_SQL_RUNS_FROM " WHERE " NETLOG_SQL_RUNS_SCOPE(
                 "'target'", "?", "?", "?") " ORDER BY " NETLOG_SQL_RUNS_ORDER("DESC") " LIMIT 50");
    plan(db, sql, p, sizeof p);
    if (scans(p) || !strstr(p, "runs_by_key") || !strstr(p, "INTEGER PRIMARY KEY"))
        fail_msg("history reads: %s", p);
    plan(db,
         "SELECT e.at FROM events e WHERE ((e.kind = 'dm' AND e.account_id = 5 AND e.target = 'b')"
         " OR (e.kind = 'dm' AND e.target = 'a' AND e.actor >= 'b!' AND e.actor < 'b\"'))"
         " ORDER BY e.at DESC, e.seq DESC LIMIT 50",
         p, sizeof p);
    if (scans(p) || !strstr(p, "events_dm_target"))
        fail_msg("DM history reads: %s", p);
    plan(db, "SELECT e.target, e.at FROM events e WHERE e.account_id = ? AND e.kind = 'dm'", p,
         sizeof p); /* CHATHISTORY TARGETS of an account's DMs */
    if (scans(p) || !strstr(p, "events_dm_account"))
        fail_msg("DM targets read: %s", p);

    /* rebuilt: another cut into transactions, the same answers */
    exec(db, "DELETE FROM runs; DELETE FROM runs_upto");
    int64_t added;
    char err[200];
    assert_int_equal(hix_catch_up(db, &added, err, sizeof err), 0);
    assert_int_equal(added, HX_EVENTS);
    assert_int_equal(count(db, "SELECT seq FROM runs_upto"), HX_EVENTS);
    hx_check_queries(db);
    assert_int_equal(hix_catch_up(db, &added, err, sizeof err), 0); /* nothing left */
    assert_int_equal(added, 0);

    /* a target longer than any group's name: in no target run */
    char longname[301];
    memset(longname, 'x', sizeof longname - 1);
    longname[0] = '#';
    longname[sizeof longname - 1] = '\0';
    struct hix h;
    assert_int_equal(hix_init(&h, db), 0);
    exec(db, "BEGIN");
    assert_int_equal(hix_add(&h,
                             &(struct netlog_event){.seq = HX_EVENTS + 1,
                                                    .at_ms = HX_EVENTS,
                                                    .kind = "msg",
                                                    .target = longname,
                                                    .code = 101},
                             strlen(longname)),
                     0);
    assert_int_equal(hix_flush(&h), 0);
    exec(db, "COMMIT");
    hix_close(&h);
    assert_int_equal(count(db, "SELECT count(*) FROM runs WHERE length(key) > 255"), 0);
    assert_int_equal(count(db, "SELECT last FROM runs WHERE axis = 'code' AND key = 101"
                               " ORDER BY last DESC LIMIT 1"),
                     HX_EVENTS + 1);
    assert_int_equal(count(db, "SELECT seq FROM runs_upto"), HX_EVENTS + 1);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_old_log),
        cmocka_unit_test(test_history_index),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
