/*
 * test_store.c - unit tests for store/sqlite.c through store.h: schema
 * migrations applied once, group commit (many writes, few commits), reads
 * seeing committed writes, callbacks only on the loop thread, bound values
 * surviving quotes and Chinese text, a failed write or a failed batch, the
 * append-only audit table, close draining every accepted job, and the
 * start-up wait of store_load. Each test ends with uv_loop_close() == 0,
 * and the ASan build proves nothing leaks.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <sqlite3.h>
#include <uv.h>

#include "store/store.h"

static uv_thread_t loop_thread;
static char dir[64];
static char path[128];

/* Shared result of callbacks in a test. */
struct tally {
    int writes_ok, writes_failed, reads_done, closed, rows, off_loop;
    int last_status;
    int64_t count;
    char text[256];
    char err[256];
};

static void check_thread(struct tally *t)
{
    uv_thread_t self = uv_thread_self();
    if (!uv_thread_equal(&self, &loop_thread))
        t->off_loop++;
}

static void on_write(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct tally *t = ud;
    check_thread(t);
    t->last_status = status;
    if (status == STORE_OK) {
        t->writes_ok++;
    } else {
        t->writes_failed++;
        snprintf(t->err, sizeof t->err, "%s", err ? err : "");
    }
}

static int on_row(void *ud, const struct store_value *cols, size_t ncols)
{
    struct tally *t = ud;
    check_thread(t);
    t->rows++;
    if (ncols >= 1 && cols[0].type == STORE_TYPE_INT)
        t->count = cols[0].i;
    if (ncols >= 1 && cols[0].type == STORE_TYPE_TEXT)
        snprintf(t->text, sizeof t->text, "%s", (const char *)cols[0].p);
    return 0;
}

static void on_done(void *ud, int status, const char *err)
{
    struct tally *t = ud;
    check_thread(t);
    t->reads_done++;
    t->last_status = status;
    if (err != NULL)
        snprintf(t->err, sizeof t->err, "%s", err);
}

static void on_closed(void *ud)
{
    struct tally *t = ud;
    check_thread(t);
    t->closed++;
}

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/qun-store-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/qun.db", dir);
    loop_thread = uv_thread_self();
    return 0;
}

static int teardown(void **state)
{
    static const char *const suffix[] = {"", "-wal", "-shm"};
    char p[160];
    for (size_t i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s%s", path, suffix[i]);
        unlink(p);
    }
    rmdir(dir);
    return 0;
}

static struct store *open_store(uv_loop_t *loop, const struct store_options *o)
{
    struct store_options def = {.path = path};
    struct store *st = NULL;
    char err[256] = "";
    int rc = store_open(loop, o ? o : &def, &st, err, sizeof err);
    if (rc != STORE_OK)
        fail_msg("store_open: %s", err);
    return st;
}

static void run_until(uv_loop_t *loop, const int *counter, int want)
{
    while (*counter < want)
        assert_true(uv_run(loop, UV_RUN_ONCE) != 0 || *counter >= want);
}

static void close_store(uv_loop_t *loop, struct store *st, struct tally *t)
{
    store_close(st, on_closed, t);
    uv_run(loop, UV_RUN_DEFAULT);
    assert_int_equal(t->closed, 1);
    assert_int_equal(t->off_loop, 0);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* SELECT count(*) ... with binds; returns the count. */
static int64_t count_rows(uv_loop_t *loop, struct store *st, const char *sql,
                          const struct store_value *b, size_t n)
{
    struct tally t = {0};
    assert_int_equal(store_query(st, sql, b, n, on_row, on_done, &t), STORE_OK);
    run_until(loop, &t.reads_done, 1);
    assert_int_equal(t.last_status, STORE_OK);
    assert_int_equal(t.off_loop, 0);
    return t.count;
}

static void test_migrations_once(void **state)
{
    uv_loop_t loop;
    struct tally t = {0};
    struct store_stats s;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct store *st = open_store(&loop, NULL);
    store_get_stats(st, &s);
    assert_int_equal(s.migrations_applied, (uint64_t)store_schema_latest());
    assert_int_equal(store_schema_version(st), store_schema_latest());
    struct store_value b[] = {STORE_TEXT("alice"), STORE_TEXT("alice"), STORE_INT(1)};
    store_exec_write(st, "INSERT INTO accounts(name, name_folded, created_at) VALUES(?,?,?)", b, 3,
                     on_write, &t);
    run_until(&loop, &t.writes_ok, 1);
    close_store(&loop, st, &t);

    /* re-open: nothing re-applied, version kept, data kept */
    memset(&t, 0, sizeof t);
    assert_int_equal(uv_loop_init(&loop), 0);
    st = open_store(&loop, NULL);
    store_get_stats(st, &s);
    assert_int_equal(s.migrations_applied, 0);
    assert_int_equal(store_schema_version(st), store_schema_latest());
    assert_int_equal(count_rows(&loop, st, "SELECT count(*) FROM accounts", NULL, 0), 1);
    close_store(&loop, st, &t);

    /* the version really is in the file */
    sqlite3 *db;
    sqlite3_stmt *stmt;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &stmt, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(stmt), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(stmt, 0), store_schema_latest());
    sqlite3_finalize(stmt);
    sqlite3_close(db);
}

static void test_group_commit(void **state)
{
    enum { N = 1000 };
    uv_loop_t loop;
    struct tally t = {0};
    struct store_stats s;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct store *st = open_store(&loop, NULL);
    for (int i = 0; i < N; i++) {
        char name[32];
        snprintf(name, sizeof name, "user%d", i);
        struct store_value b[] = {STORE_TEXT(name), STORE_TEXT(name), STORE_INT(i)};
        assert_int_equal(store_exec_write(st,
                                          "INSERT INTO accounts(name, name_folded, created_at)"
                                          " VALUES(?,?,?)",
                                          b, 3, on_write, &t),
                         STORE_OK);
    }
    run_until(&loop, &t.writes_ok, N);
    assert_int_equal(t.writes_failed, 0);
    store_get_stats(st, &s);
    assert_int_equal(s.writes_ok, N);
    assert_true(s.commits >= 1);
    assert_true(s.commits <= N / 10); /* far fewer commits than writes */
    assert_true(s.max_batch >= 10);
    print_message("    1000 writes in %llu commits (largest batch %llu)\n",
                  (unsigned long long)s.commits, (unsigned long long)s.max_batch);
    /* a read submitted after the callbacks sees every write */
    assert_int_equal(count_rows(&loop, st, "SELECT count(*) FROM accounts", NULL, 0), N);
    struct store_value q = STORE_TEXT("user999");
    assert_int_equal(
        count_rows(&loop, st, "SELECT created_at FROM accounts WHERE name_folded = ?", &q, 1), 999);
    close_store(&loop, st, &t);
}

static void test_bound_text(void **state)
{
    static const char *const names[] = {
        "O'Brien\"; DROP TABLE accounts; --",
        "张三",
        "李四's 群聊 \"引号\"",
        "",
    };
    uv_loop_t loop;
    struct tally t = {0};
    assert_int_equal(uv_loop_init(&loop), 0);
    struct store *st = open_store(&loop, NULL);
    for (size_t i = 0; i < 4; i++) {
        struct store_value b[] = {STORE_TEXT(names[i]), STORE_TEXT(names[i]), STORE_INT(7)};
        store_exec_write(st, "INSERT INTO accounts(name, name_folded, created_at) VALUES(?,?,?)", b,
                         3, on_write, &t);
    }
    run_until(&loop, &t.writes_ok, 4);
    for (size_t i = 0; i < 4; i++) {
        struct tally r = {0};
        struct store_value q = STORE_TEXT(names[i]);
        store_query(st, "SELECT name FROM accounts WHERE name_folded = ?", &q, 1, on_row, on_done,
                    &r);
        run_until(&loop, &r.reads_done, 1);
        assert_int_equal(r.rows, 1);
        assert_string_equal(r.text, names[i]);
    }
    assert_int_equal(count_rows(&loop, st, "SELECT count(*) FROM accounts", NULL, 0), 4);
    close_store(&loop, st, &t);
}

/* A constraint error fails that write only; its batch neighbours commit. */
static void test_write_fails_alone(void **state)
{
    uv_loop_t loop;
    struct tally t = {0};
    assert_int_equal(uv_loop_init(&loop), 0);
    struct store *st = open_store(&loop, NULL);
    const char *ins = "INSERT INTO accounts(name, name_folded, created_at) VALUES(?,?,1)";
    struct store_value a[] = {STORE_TEXT("A"), STORE_TEXT("a")};
    struct store_value b[] = {STORE_TEXT("B"), STORE_TEXT("b")};
    struct tally dup = {0};
    store_exec_write(st, ins, a, 2, on_write, &t);
    store_exec_write(st, ins, a, 2, on_write, &dup);
    store_exec_write(st, ins, b, 2, on_write, &t);
    run_until(&loop, &t.writes_ok, 2);
    run_until(&loop, &dup.writes_failed, 1);
    assert_int_equal(dup.last_status, STORE_ERR_CONSTRAINT);
    assert_non_null(strstr(dup.err, "UNIQUE"));
    assert_int_equal(count_rows(&loop, st, "SELECT count(*) FROM accounts", NULL, 0), 2);

    /* audit is append-only; bad SQL and bind mismatches are SQL errors */
    struct tally e = {0};
    struct store_value au[] = {STORE_INT(1), STORE_TEXT("root"), STORE_TEXT("reveal")};
    store_exec_write(st, "INSERT INTO audit(at, actor, action) VALUES(?,?,?)", au, 3, on_write, &t);
    run_until(&loop, &t.writes_ok, 3);
    store_exec_write(st, "UPDATE audit SET actor = 'x'", NULL, 0, on_write, &e);
    run_until(&loop, &e.writes_failed, 1);
    assert_int_equal(e.last_status, STORE_ERR_CONSTRAINT);
    assert_non_null(strstr(e.err, "append-only"));
    store_exec_write(st, "DELETE FROM audit", NULL, 0, on_write, &e);
    store_exec_write(st, "INSERT INTO nowhere VALUES(1)", NULL, 0, on_write, &e);
    store_exec_write(st, ins, a, 1, on_write, &e);
    store_exec_write(st, "DELETE FROM accounts; DELETE FROM audit", NULL, 0, on_write, &e);
    run_until(&loop, &e.writes_failed, 5);
    assert_int_equal(e.last_status, STORE_ERR_SQL);
    assert_int_equal(count_rows(&loop, st, "SELECT count(*) FROM audit", NULL, 0), 1);
    assert_int_equal(count_rows(&loop, st, "SELECT count(*) FROM accounts", NULL, 0), 2);
    assert_int_equal(t.off_loop + e.off_loop + dup.off_loop, 0);
    close_store(&loop, st, &t);
}

/* A batch that cannot begin (another process holds the write lock) fails
 * every write in it with SQLite's message. */
static void test_batch_fails_together(void **state)
{
    uv_loop_t loop;
    struct tally t = {0};
    struct store_stats s;
    assert_int_equal(uv_loop_init(&loop), 0);
    struct store_options o = {.path = path, .busy_timeout_ms = 50, .batch_window_us = 20000};
    struct store *st = open_store(&loop, &o);
    sqlite3 *other;
    assert_int_equal(sqlite3_open(path, &other), SQLITE_OK);
    assert_int_equal(sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL), SQLITE_OK);
    struct store_value au[] = {STORE_INT(1), STORE_TEXT("root"), STORE_TEXT("x")};
    for (int i = 0; i < 3; i++)
        store_exec_write(st, "INSERT INTO audit(at, actor, action) VALUES(?,?,?)", au, 3, on_write,
                         &t);
    run_until(&loop, &t.writes_failed, 3);
    assert_int_equal(t.writes_ok, 0);
    assert_int_equal(t.last_status, STORE_ERR_BUSY);
    assert_non_null(strstr(t.err, "locked"));
    store_get_stats(st, &s);
    assert_int_equal(s.batches_failed, 1);
    assert_int_equal(s.writes_failed, 3);
    assert_int_equal(sqlite3_exec(other, "ROLLBACK", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(other);
    store_exec_write(st, "INSERT INTO audit(at, actor, action) VALUES(?,?,?)", au, 3, on_write, &t);
    run_until(&loop, &t.writes_ok, 1);
    close_store(&loop, st, &t);
}

/* store_close completes every accepted job; nothing is lost or leaked. */
static void test_close_drains(void **state)
{
    enum { N = 300 };
    uv_loop_t loop;
    struct tally t = {0};
    assert_int_equal(uv_loop_init(&loop), 0);
    struct store *st = open_store(&loop, NULL);
    for (int i = 0; i < N; i++) {
        struct store_value b[] = {STORE_INT(i), STORE_TEXT("drain"), STORE_TEXT("write")};
        store_exec_write(st, "INSERT INTO audit(at, actor, action) VALUES(?,?,?)", b, 3, on_write,
                         &t);
        if (i % 100 == 0)
            store_query(st, "SELECT count(*) FROM audit", NULL, 0, on_row, on_done, &t);
    }
    store_close(st, on_closed, &t);
    assert_int_equal(store_exec_write(st, "DELETE FROM audit", NULL, 0, on_write, &t),
                     STORE_ERR_CLOSING);
    assert_int_equal(store_query(st, "SELECT 1", NULL, 0, NULL, on_done, &t), STORE_ERR_CLOSING);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(t.writes_ok, N);
    assert_int_equal(t.reads_done, 3);
    assert_int_equal(t.closed, 1);
    assert_int_equal(t.off_loop, 0);
    assert_int_equal(uv_loop_close(&loop), 0);

    memset(&t, 0, sizeof t);
    assert_int_equal(uv_loop_init(&loop), 0);
    st = open_store(&loop, NULL);
    assert_int_equal(count_rows(&loop, st, "SELECT count(*) FROM audit", NULL, 0), N);
    close_store(&loop, st, &t);
}

static void test_open_errors(void **state)
{
    uv_loop_t loop;
    struct store *st = (struct store *)1;
    char err[256];
    assert_int_equal(uv_loop_init(&loop), 0);
    struct store_options none = {0};
    assert_int_equal(store_open(&loop, &none, &st, err, sizeof err), STORE_ERR_ARG);
    assert_null(st);
    struct store_options bad = {.path = "/nonexistent-dir/qun.db"};
    assert_int_equal(store_open(&loop, &bad, &st, err, sizeof err), STORE_ERR_IO);
    assert_non_null(strstr(err, "/nonexistent-dir/qun.db"));
    /* a database from a newer program is refused, not downgraded */
    sqlite3 *db;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    struct store_options o = {.path = path};
    assert_int_equal(store_open(&loop, &o, &st, err, sizeof err), STORE_ERR_SCHEMA);
    assert_non_null(strstr(err, "newer"));
    assert_int_equal(uv_loop_close(&loop), 0);
}

static int load_row(void *ud, const struct store_value *cols, size_t ncols)
{
    struct tally *t = ud;
    check_thread(t);
    t->rows++;
    if (ncols == 1 && cols[0].type == STORE_TYPE_TEXT)
        snprintf(t->text, sizeof t->text, "%s", (const char *)cols[0].p);
    return 0;
}

/* store_load waits for its read on the loop: the rows are there when it
 * returns, with the caller's ud; a failed read and a closing store are
 * sentences "loading <what>: ...". */
static void test_load(void **state)
{
    uv_loop_t loop;
    struct tally t = {0};
    char err[256] = "";
    assert_int_equal(uv_loop_init(&loop), 0);
    struct store *st = open_store(&loop, NULL);
    for (int i = 0; i < 3; i++) {
        char name[16];
        snprintf(name, sizeof name, "user%d", i);
        struct store_value b[] = {STORE_TEXT(name), STORE_TEXT(name), STORE_INT(i)};
        store_exec_write(st, "INSERT INTO accounts(name, name_folded, created_at) VALUES(?,?,?)", b,
                         3, on_write, &t);
    }
    run_until(&loop, &t.writes_ok, 3);

    struct tally r = {0};
    struct store_value since = STORE_INT(1);
    assert_int_equal(store_load(st, "SELECT name FROM accounts WHERE created_at >= ? ORDER BY id",
                                &since, 1, load_row, &r, "accounts", err, sizeof err),
                     0);
    assert_int_equal(r.rows, 2);
    assert_string_equal(r.text, "user2");
    assert_int_equal(store_load(st, "SELECT 1", NULL, 0, NULL, NULL, "nothing", err, sizeof err),
                     0);

    assert_int_equal(store_load(st, "SELECT x FROM no_such_table", NULL, 0, load_row, &r, "things",
                                err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "loading things: "));
    assert_non_null(strstr(err, "no_such_table"));
    assert_int_equal(r.rows, 2);

    store_close(st, on_closed, &t);
    assert_int_equal(store_load(st, "SELECT 1", NULL, 0, NULL, NULL, "late", err, sizeof err), -1);
    assert_string_equal(err, "loading late: the store refused the query");
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(t.closed, 1);
    assert_int_equal(t.off_loop + r.off_loop, 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_migrations_once, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_commit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bound_text, setup, teardown),
        cmocka_unit_test_setup_teardown(test_write_fails_alone, setup, teardown),
        cmocka_unit_test_setup_teardown(test_batch_fails_together, setup, teardown),
        cmocka_unit_test_setup_teardown(test_close_drains, setup, teardown),
        cmocka_unit_test_setup_teardown(test_open_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
