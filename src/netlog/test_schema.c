/*
 * test_schema.c - the log's msgid indexes (netlog/schema.h): a chat
 * message's log id is found by primary key and is in no index; counter
 * ids and every id of a log written before log ids are found through
 * events_msgid_counter; redact events through events_redact; an old log
 * loses its full msgid index and keeps every old id findable; no lookup
 * scans the table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "netlog/schema.h"
#include "util/msgid.h"

/* history's "not redacted" test (cmd_chathistory.c) */
#define NOT_REDACTED "SELECT e.seq FROM events e WHERE e.target = ?1" NETLOG_SQL_NOT_REDACTED

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
        if (strstr(p, "SCAN"))
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
                     5);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lookups),
        cmocka_unit_test(test_old_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
