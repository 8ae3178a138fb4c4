/*
 * test_retention.c - calendar cutoffs (month ends, leap years, year
 * boundaries, China time) and the prefix purge of the network log: what
 * goes, what holds keep, that the purged row lets the tree be recomputed,
 * that `verify` still passes afterwards, and that a damaged record is
 * never purged.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "netlog/retention.h"
#include "netlog/test_gen.h"
#include "netlog/verify.h"

/* ---- calendar ---- */

/* The cutoff at local time y-m-d h:mi as a local date "YYYY-MM-DD". */
static void cutoff_date(int y, int m, int d, int h, int mi, int k, char out[16])
{
    int64_t c = retention_cutoff_ms(retention_china_ms(y, m, d, h, mi, 0), k);
    int cy, cm, cd;
    /* always a local midnight */
    assert_int_equal((c + RETENTION_TZ_OFFSET_MS) % 86400000LL, 0);
    retention_civil_from_days((c + RETENTION_TZ_OFFSET_MS) / 86400000LL, &cy, &cm, &cd);
    snprintf(out, 16, "%04d-%02d-%02d", cy, cm, cd);
}

#define CUT(y, m, d, k, want)                                                                      \
    do {                                                                                           \
        char got[16];                                                                              \
        cutoff_date(y, m, d, 12, 0, k, got);                                                       \
        assert_string_equal(got, want);                                                            \
    } while (0)

static void test_civil_roundtrip(void **state)
{
    (void)state;
    assert_int_equal(retention_days_from_civil(1970, 1, 1), 0);
    assert_int_equal(retention_days_from_civil(2000, 3, 1), 11017);
    for (int64_t day = -800000; day < 800000; day += 37) {
        int y, m, d;
        retention_civil_from_days(day, &y, &m, &d);
        assert_int_equal(retention_days_from_civil(y, m, d), day);
        assert_true(d >= 1 && d <= retention_days_in_month(y, m));
    }
    assert_true(retention_leap_year(2024));
    assert_true(retention_leap_year(2028));
    assert_true(retention_leap_year(2000));
    assert_false(retention_leap_year(2100));
    assert_false(retention_leap_year(2025));
    assert_int_equal(retention_days_in_month(2100, 2), 28);
    assert_int_equal(retention_days_in_month(2000, 2), 29);
}

static void test_cutoff_month_ends(void **state)
{
    (void)state;
    /* 31 August is kept until the end of February: still kept on the 28th */
    CUT(2025, 2, 28, 6, "2024-08-28");
    CUT(2025, 3, 1, 6, "2024-09-01"); /* ... and may go on 1 March */
    /* leap year: kept through 29 February 2024 */
    CUT(2024, 2, 29, 6, "2023-08-29");
    CUT(2024, 3, 1, 6, "2023-09-01");
    CUT(2028, 2, 29, 6, "2027-08-29");
    /* 2100 is not a leap year, 2000 is */
    CUT(2100, 2, 28, 6, "2099-08-28");
    CUT(2100, 3, 1, 6, "2099-09-01");
    CUT(2000, 2, 29, 6, "1999-08-29");
    /* today is a day the earlier month lacks: that whole month may go */
    CUT(2025, 3, 31, 6, "2024-10-01");  /* September has no 31st */
    CUT(2000, 8, 31, 6, "2000-03-01");  /* February 2000 has 29 days */
    CUT(2100, 8, 30, 6, "2100-03-01");  /* February 2100 has 28 */
    CUT(2028, 2, 29, 12, "2027-03-01"); /* 2027-02-28 + 12 months < 2028-02-29 */
    CUT(2024, 2, 29, 12, "2023-03-01");
    CUT(2025, 2, 28, 12, "2024-02-28"); /* 29 Feb 2024 is kept through 28 Feb 2025 */
    CUT(2025, 10, 31, 6, "2025-05-01"); /* April has 30 days */
    CUT(2025, 10, 31, 7, "2025-03-31");
    CUT(2025, 9, 30, 7, "2025-03-01"); /* February 2025 has 28 days */
}

static void test_cutoff_years_and_zone(void **state)
{
    (void)state;
    CUT(2025, 1, 15, 7, "2024-06-15");
    CUT(2025, 1, 15, 6, "2024-07-15");
    CUT(2025, 1, 15, 12, "2024-01-15");
    CUT(2025, 12, 31, 6, "2025-07-01"); /* June has no 31st */
    CUT(2026, 1, 31, 7, "2025-07-01");
    CUT(2026, 6, 30, 7, "2025-11-30");
    CUT(2025, 6, 30, 12, "2024-06-30");
    char got[16];
    /* 00:30 on 1 March China time is still 28 February in UTC */
    cutoff_date(2025, 3, 1, 0, 30, 6, got);
    assert_string_equal(got, "2024-09-01");
    cutoff_date(2025, 2, 28, 23, 59, 6, got);
    assert_string_equal(got, "2024-08-28");
    /* the cutoff is midnight China time = 16:00 UTC the day before */
    int64_t c = retention_cutoff_ms(retention_china_ms(2025, 3, 1, 0, 30, 0), 6);
    assert_int_equal(c, retention_days_from_civil(2024, 8, 31) * 86400000LL + 16 * 3600000LL);
    /* an event at 23:59 on 31 August is kept through 28 February and no longer */
    int64_t ev = retention_china_ms(2024, 8, 31, 23, 59, 0);
    assert_true(ev >= retention_cutoff_ms(retention_china_ms(2025, 2, 28, 23, 59, 59), 6));
    assert_true(ev < retention_cutoff_ms(retention_china_ms(2025, 3, 1, 0, 0, 0), 6));
}

/* ---- purge ---- */

#define DAY   86400000LL
#define BASE  1704038400000LL /* 2024-01-01 00:00 China time */
#define AT(i) (BASE + (int64_t)(i)*DAY)

/* n events, one a day, group code 100 + i % 3, account i % 5 (0: none),
 * a checkpoint every 8 events and at the end. */
static struct gen *make_log(int n)
{
    struct gen *g = gen_open();
    gen_exec(g, "BEGIN");
    for (int i = 1; i <= n; i++) {
        char actor[32], body[64];
        snprintf(actor, sizeof actor, "user%d", i % 5);
        snprintf(body, sizeof body, "{\"text\":\"message %d\"}", i);
        gen_add(g, AT(i), "msg", actor, "#g", 100 + i % 3, i % 5, body);
        if (i % 8 == 0 || i == n)
            gen_checkpoint(g, AT(i));
    }
    gen_exec(g, "COMMIT");
    gen_index(g);
    return g;
}

static void assert_verifies(struct gen *g, int64_t first)
{
    struct netlog_verify_report vr;
    enum netlog_verify_result v = netlog_verify_file(g->db_path, g->pub_path, &vr);
    if (v != NETLOG_VERIFY_OK)
        fail_msg("verify: %s", vr.message);
    assert_int_equal(vr.first_seq, first);
}

/* The purged row holds the chain of record first-1 and the accumulator
 * whose root is MTH(leaves 1..first-1). */
static void assert_purged_row(struct gen *g, int64_t first)
{
    sqlite3_stmt *s;
    assert_int_equal(
        sqlite3_prepare_v2(g->db, "SELECT first, chain, acc FROM purged", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int64(s, 0), first);
    struct merkle_acc a;
    assert_true(
        merkle_acc_deserialize(&a, sqlite3_column_blob(s, 2), (size_t)sqlite3_column_bytes(s, 2)));
    assert_int_equal(a.size, first - 1);
    uint8_t want[32], got[32], chain[32] = {0};
    merkle_root((const uint8_t(*)[32])g->leaves, (size_t)(first - 1), want);
    merkle_acc_root(&a, got);
    assert_memory_equal(got, want, 32);
    for (int64_t i = 0; i < first - 1; i++)
        netlog_chain_next(chain, g->leaves[i], chain);
    assert_memory_equal(sqlite3_column_blob(s, 1), chain, 32);
    sqlite3_finalize(s);
}

static int64_t count_events(struct gen *g)
{
    sqlite3_stmt *s;
    sqlite3_prepare_v2(g->db, "SELECT count(*), min(seq) FROM events", -1, &s, NULL);
    sqlite3_step(s);
    int64_t n = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return n;
}

static void test_purge_prefix_and_verify(void **state)
{
    (void)state;
    struct gen *g = make_log(100);
    struct retention_result r;
    char err[256] = "";
    assert_verifies(g, 1);
    /* events 1..40 are older than the cutoff */
    assert_int_equal(retention_purge(g->db, AT(41), err, sizeof err, &r), 0);
    assert_int_equal(r.purged, 40);
    assert_int_equal(r.first_before, 1);
    assert_int_equal(r.first_kept, 41);
    assert_int_equal(count_events(g), 60);
    assert_purged_row(g, 41);
    assert_verifies(g, 41);
    /* a second purge resumes from purged.acc */
    assert_int_equal(retention_purge(g->db, AT(61) - 1, err, sizeof err, &r), 0);
    assert_int_equal(r.purged, 20);
    assert_purged_row(g, 61);
    assert_verifies(g, 61);
    /* nothing old enough: nothing changes */
    assert_int_equal(retention_purge(g->db, AT(30), err, sizeof err, &r), 0);
    assert_int_equal(r.purged, 0);
    assert_int_equal(r.first_kept, 61);
    assert_int_equal(count_events(g), 40);
    gen_free(g);
}

static void test_purge_stops_at_recent_event(void **state)
{
    (void)state;
    struct gen *g = make_log(20);
    char err[256];
    struct retention_result r;
    /* record 21 is recent, 22 is old again: 22 stays (prefix only) */
    gen_add(g, AT(500), "msg", "x", "#g", 1, 0, "recent");
    gen_add(g, AT(2), "msg", "x", "#g", 1, 0, "old but after a recent one");
    gen_checkpoint(g, AT(500));
    assert_int_equal(retention_purge(g->db, AT(400), err, sizeof err, &r), 0);
    assert_int_equal(r.first_kept, 21);
    assert_int_equal(count_events(g), 2);
    assert_verifies(g, 21);
    /* everything old: the log may be emptied; the purged row keeps the tree */
    assert_int_equal(retention_purge(g->db, AT(1000), err, sizeof err, &r), 0);
    assert_int_equal(r.first_kept, 23);
    assert_int_equal(count_events(g), 0);
    assert_purged_row(g, 23);
    gen_free(g);
}

static int64_t add_hold(struct gen *g, const char *kind, const char *value, bool released)
{
    char sql[256];
    snprintf(sql, sizeof sql,
             "INSERT INTO holds (kind, value, reason, created_at, created_by, released_at)"
             " VALUES ('%s', '%s', 'test', 1, 'unix:test', %s)",
             kind, value, released ? "2" : "NULL");
    gen_exec(g, sql);
    return sqlite3_last_insert_rowid(g->db);
}

static bool no_index; /* purge_with_hold on a log without its history index */

/* Purges everything older than day 80 with the holds given; returns first_kept. */
static int64_t purge_with_hold(const char *kind, const char *value, bool released, int64_t *hold_id)
{
    struct gen *g = make_log(100);
    if (no_index)
        gen_exec(g, "DELETE FROM runs_upto");
    char err[256];
    struct retention_result r;
    int64_t id = add_hold(g, kind, value, released);
    assert_int_equal(retention_purge(g->db, AT(80), err, sizeof err, &r), 0);
    assert_int_equal(r.first_kept - 1, r.purged);
    if (r.purged)
        assert_verifies(g, r.first_kept);
    *hold_id = r.pinned_by_hold == id ? id : 0;
    int64_t first = r.first_kept;
    gen_free(g);
    return first;
}

static void test_purge_holds(void **state)
{
    (void)state;
    int64_t id;
    /* group 102 = codes of i % 3 == 2: first is event 2 */
    assert_int_equal(purge_with_hold("group", "102", false, &id), 2);
    assert_true(id > 0);
    assert_int_equal(purge_with_hold("group", "100", false, &id), 3);
    no_index = true; /* an old log: the group's events by a scan */
    assert_int_equal(purge_with_hold("group", "102", false, &id), 2);
    assert_int_equal(purge_with_hold("group", "101", false, &id), 1);
    no_index = false;
    /* a released hold keeps nothing */
    assert_int_equal(purge_with_hold("group", "102", true, &id), 80);
    assert_int_equal(id, 0);
    /* account by id (events with account_id 4: 4, 9, ...) and by name */
    assert_int_equal(purge_with_hold("account", "4", false, &id), 4);
    assert_int_equal(purge_with_hold("account", "user3", false, &id), 3);
    assert_int_equal(purge_with_hold("account", "nobody", false, &id), 80);
    /* a case with a seq range pins from its start; without one, everything */
    assert_int_equal(purge_with_hold("case", "CASE-7:30-35", false, &id), 30);
    assert_int_equal(purge_with_hold("case", "CASE-7:90-95", false, &id), 80);
    assert_int_equal(purge_with_hold("case", "CASE-8", false, &id), 1);
    assert_true(id > 0);
}

static void test_purge_refuses_damaged_record(void **state)
{
    (void)state;
    struct gen *g = make_log(30);
    char err[256] = "";
    struct retention_result r;
    gen_exec(g, "UPDATE events SET body = 'changed' WHERE seq = 7");
    assert_int_equal(retention_purge(g->db, AT(20), err, sizeof err, &r), -1);
    assert_non_null(strstr(err, "record 7 "));
    assert_int_equal(count_events(g), 30); /* rolled back: nothing deleted */
    gen_exec(g, "DELETE FROM events WHERE seq = 12");
    gen_exec(g, "UPDATE events SET body = '{\"text\":\"message 7\"}' WHERE seq = 7");
    assert_int_equal(retention_purge(g->db, AT(20), err, sizeof err, &r), -1);
    assert_non_null(strstr(err, "record 12 "));
    assert_int_equal(count_events(g), 29);
    gen_free(g);
}

static void test_purge_file(void **state)
{
    (void)state;
    struct gen *g = make_log(40);
    char err[256];
    struct retention_result r;
    assert_int_equal(retention_purge_file(g->db_path, 5, AT(400), err, sizeof err, &r), -1);
    assert_non_null(strstr(err, "less than the 6"));
    /* now = day 40 + 7 months: events of days 1..9 (Jan 2..10 2024) may go */
    int64_t now = retention_china_ms(2024, 8, 10, 9, 0, 0);
    assert_int_equal(retention_purge_file(g->db_path, 7, now, err, sizeof err, &r), 0);
    assert_int_equal(r.cutoff_ms, retention_china_ms(2024, 1, 10, 0, 0, 0));
    assert_int_equal(r.first_kept, 9); /* day 9 = 10 January */
    assert_verifies(g, 9);
    gen_free(g);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_civil_roundtrip),
        cmocka_unit_test(test_cutoff_month_ends),
        cmocka_unit_test(test_cutoff_years_and_zone),
        cmocka_unit_test(test_purge_prefix_and_verify),
        cmocka_unit_test(test_purge_stops_at_recent_event),
        cmocka_unit_test(test_purge_holds),
        cmocka_unit_test(test_purge_refuses_damaged_record),
        cmocka_unit_test(test_purge_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
