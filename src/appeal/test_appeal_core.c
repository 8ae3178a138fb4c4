/*
 * test_appeal_core.c - the appeal machinery (appeal_core.h) on its own,
 * with a toy kind of appeal over a table of its own, a real store (SQLite
 * on a temporary file) and a real network log: the rules of appeal_core.h
 * one by one (1: text, the kind's checks, one open appeal per thing;
 * 2: the author cannot decide; 3: two decisions at once give one; 4: the
 * filed and decided events with their bodies in order), listing with its
 * filters and limits, and the open count. The credit and sanction kinds
 * are tested through the daemon (tests/integration); this pins the core.
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

#include "appeal/appeal_core.h"
#include "config/config.h"
#include "netlog/netlog.h"
#include "store/store.h"
#include "util/alloc.h"

struct qun_config *server_config;

#define TOY_TEXT_MAX 40
#define TOY_LIST_MAX 2
#define TOY_REFUSED  (-8) /* the kind's own check refused the filing */

#define TOY_SELECT                                                                                 \
    "SELECT a.id, a.thing_id" APPEAL_SQL_COLUMNS ", t.author FROM toy_appeals a"                   \
    " JOIN toy_things t ON t.id = a.thing_id"
#define TOY_INSERT                                                                                 \
    "INSERT INTO toy_appeals (thing_id, account_id, text, filed_at) VALUES (?, ?, ?, ?)"
#define TOY_CLAIM   "UPDATE toy_appeals" APPEAL_SQL_CLAIM_SET
#define TOY_LIST    TOY_SELECT APPEAL_SQL_LIST_WHERE
#define TOY_ONE     TOY_SELECT " WHERE a.id = ?"
#define TOY_COUNT   "SELECT count(*) FROM toy_appeals WHERE outcome IS NULL"
#define TOY_NO_SUCH 999 /* a thing the kind's check refuses */

static struct {
    char dir[64], db[128], log[128], key[128];
    struct qun_config cfg;
    uv_loop_t loop;
    struct store *st;
    /* what the kind's hooks saw */
    int finished, upheld, status;
    int statuses[64];        /* status of each finished job, in order */
    char sentences[64][120]; /* and its sentence */
    char sentence[320];
    int rows;
    int64_t row_ids[8];
    char row_author[8][16];
    int hold_claims; /* the claim hook waits until this many jobs read the appeal */
    struct appeal_job *held[2];
    int nheld;
    int counted, count_status;
    int64_t count;
    int writes;
} t;

static struct store *toy_store(void)
{
    return t.st;
}

struct toy_row {
    int64_t id, thing_id, account_id;
    const char *text;
    int64_t filed_at;
    const char *outcome, *decided_by;
    int64_t decided_at;
    const char *note, *author;
};
typedef void (*toy_row_cb)(void *ud, const struct toy_row *r);

static void toy_log_target(const struct appeal_job *j, const char **target, int64_t *account_id)
{
    *target = "toybox";
    *account_id = j->account_id;
}

static void toy_log_head(const struct appeal_job *j, json_t *o)
{
    (void)j;
    json_object_set_new(o, "thing_kind", json_string("toy"));
}

static void toy_deliver_row(const struct store_value *c, appeal_fn row, void *ud)
{
    struct toy_row r = {APPEAL_ROW_FIELDS(c, thing_id), .author = store_cell_text(&c[9])};
    ((toy_row_cb)row)(ud, &r);
}

static void toy_file_check(struct appeal_job *j)
{
    if (j->subject_id == TOY_NO_SUCH)
        appeal_finish(j, TOY_REFUSED, "There is no such toy.");
    else
        appeal_file_store(j, TOY_INSERT);
}

static void toy_decide_row(struct appeal_job *j, const struct store_value *c)
{
    j->author = xstrdup(store_cell_text(&c[9]) ? store_cell_text(&c[9]) : "");
}

static void toy_claim(struct appeal_job *j)
{
    if (!t.hold_claims) {
        appeal_claim(j, TOY_CLAIM);
        return;
    }
    t.held[t.nheld++] = j;
    if (t.nheld < t.hold_claims)
        return;
    /* both read the appeal open: now both claim it */
    t.hold_claims = 0;
    for (int i = 0; i < t.nheld; i++)
        appeal_claim(t.held[i], TOY_CLAIM);
}

static void toy_upheld(struct appeal_job *j)
{
    t.upheld++;
    j->offset_event = 77;
    appeal_decided(j);
}

static void toy_decided(struct appeal_job *j, char *s, size_t len)
{
    snprintf(s, len, "Toy appeal %lld: %s.", (long long)j->appeal_id,
             j->uphold ? "upheld" : "rejected");
}

static void toy_finish(struct appeal_job *j, int status, const char *sentence)
{
    (void)j;
    if (t.finished < 64) {
        t.statuses[t.finished] = status;
        snprintf(t.sentences[t.finished], sizeof t.sentences[0], "%s", sentence ? sentence : "");
    }
    t.finished++;
    t.status = status;
    snprintf(t.sentence, sizeof t.sentence, "%s", sentence ? sentence : "");
}

static const struct appeal_kind toy_kind = {
    .log_name = "toys",
    .store = toy_store,
    .job_size = sizeof(struct appeal_job),
    .ncolumns = 10,
    .list_max = TOY_LIST_MAX,
    .text_max = TOY_TEXT_MAX,
    .subject = "toy",
    .subject_cap = "Toy",
    .decider = "a tester",
    .authored = "made toy",
    .appeal_name = "toy appeal",
    .list_hint = "toy list shows them",
    .log_filed = "toy.appeal",
    .log_decided = "toy.appeal_decided",
    .log_target = toy_log_target,
    .log_head = toy_log_head,
    .log_tail = NULL,
    .deliver_row = toy_deliver_row,
    .file_check = toy_file_check,
    .decide_row = toy_decide_row,
    .claim = toy_claim,
    .upheld = toy_upheld,
    .decided = toy_decided,
    .finish = toy_finish,
};

/* ---- the fixture: a store with the toy tables, a log ---- */

static void on_write(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    (void)ud, (void)last_id, (void)changes;
    if (status != STORE_OK)
        fail_msg("setup write failed: %s", err ? err : "?");
    t.writes++;
}

static void run_until(const int *counter, int want)
{
    while (*counter < want)
        assert_true(uv_run(&t.loop, UV_RUN_ONCE) != 0 || *counter >= want);
}

static void setup_write(const char *sql, const struct store_value *b, size_t n)
{
    int before = t.writes;
    assert_int_equal(store_exec_write(t.st, sql, b, n, on_write, NULL), STORE_OK);
    run_until(&t.writes, before + 1);
}

static int setup(void **state)
{
    (void)state;
    memset(&t, 0, sizeof t);
    snprintf(t.dir, sizeof t.dir, "/tmp/qun-appeal-XXXXXX");
    assert_non_null(mkdtemp(t.dir));
    snprintf(t.db, sizeof t.db, "%s/qun.db", t.dir);
    snprintf(t.log, sizeof t.log, "%s/netlog.db", t.dir);
    snprintf(t.key, sizeof t.key, "%s/netlog.key", t.dir);
    assert_int_equal(uv_loop_init(&t.loop), 0);
    t.cfg.server_name = "appeal.test";
    t.cfg.netlog_path = t.log;
    t.cfg.netlog_key_file = t.key;
    t.cfg.netlog_mode = "strict";
    t.cfg.netlog_dm = "content";
    t.cfg.netlog_checkpoint_events = 1000;
    t.cfg.netlog_checkpoint_seconds = 60;
    t.cfg.netlog_keep_months = 7;
    t.cfg.netlog_queue_max = 1000;
    server_config = &t.cfg;
    char err[256] = "";
    assert_int_equal(netlog_open(&t.loop, &t.cfg, err, sizeof err), 0);
    struct store_options o = {.path = t.db};
    if (store_open(&t.loop, &o, &t.st, err, sizeof err) != STORE_OK)
        fail_msg("store_open: %s", err);
    setup_write("CREATE TABLE toy_things (id INTEGER PRIMARY KEY, author TEXT NOT NULL)", NULL, 0);
    setup_write("CREATE TABLE toy_appeals (id INTEGER PRIMARY KEY, thing_id INTEGER NOT NULL,"
                " account_id INTEGER NOT NULL, text TEXT NOT NULL, filed_at INTEGER NOT NULL,"
                " outcome TEXT, decided_by TEXT, decided_at INTEGER, note TEXT)",
                NULL, 0);
    setup_write("CREATE UNIQUE INDEX toy_open ON toy_appeals (thing_id) WHERE outcome IS NULL",
                NULL, 0);
    static const char *const authors[] = {"unix:alice", "unix:bob", "unix:carol"};
    for (int i = 0; i < 3; i++) {
        struct store_value b[] = {STORE_INT(i + 1), STORE_TEXT(authors[i])};
        setup_write("INSERT INTO toy_things (id, author) VALUES (?, ?)", b, 2);
    }
    return 0;
}

static void on_closed(void *ud)
{
    (*(int *)ud)++;
}

static void close_all(void)
{
    int closed = 0;
    netlog_close();
    store_close(t.st, on_closed, &closed);
    uv_run(&t.loop, UV_RUN_DEFAULT);
    assert_int_equal(closed, 1);
    assert_int_equal(uv_loop_close(&t.loop), 0);
    t.st = NULL;
}

static int teardown(void **state)
{
    (void)state;
    if (t.st)
        close_all();
    static const char *const files[] = {"qun.db",        "qun.db-wal",    "qun.db-shm",
                                        "netlog.db",     "netlog.db-wal", "netlog.db-shm",
                                        "netlog.db.jnl", "netlog.key",    "netlog.key.pub"};
    char p[192];
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(p, sizeof p, "%s/%s", t.dir, files[i]);
        unlink(p);
    }
    rmdir(t.dir);
    return 0;
}

/* ---- driving the core ---- */

static int file(int64_t thing, int64_t account, const char *text)
{
    struct appeal_job *j = appeal_job_new(&toy_kind);
    j->subject_id = thing;
    j->account_id = account;
    int before = t.finished;
    appeal_file(j, text);
    run_until(&t.finished, before + 1);
    return t.status;
}

static void decide_start(int64_t id, bool uphold, const char *note, const char *actor)
{
    appeal_decide(appeal_job_new(&toy_kind), TOY_ONE, id, uphold, note, actor);
}

static int decide(int64_t id, bool uphold, const char *note, const char *actor)
{
    int before = t.finished;
    decide_start(id, uphold, note, actor);
    run_until(&t.finished, before + 1);
    return t.status;
}

static void on_row(void *ud, const struct toy_row *r)
{
    (void)ud;
    if (t.rows < 8) {
        t.row_ids[t.rows] = r->id;
        snprintf(t.row_author[t.rows], sizeof t.row_author[0], "%s", r->author);
    }
    t.rows++;
}

static int listed_done;
static void on_list_done(void *ud, int status)
{
    (void)ud;
    assert_int_equal(status, 0);
    listed_done++;
}

static int list(int64_t account, const char *state, int limit)
{
    t.rows = 0;
    int before = listed_done;
    assert_int_equal(appeal_list(&toy_kind, TOY_LIST, account, state, limit, (appeal_fn)on_row,
                                 on_list_done, NULL),
                     0);
    run_until(&listed_done, before + 1);
    return t.rows;
}

static void on_count(void *ud, int status, int64_t n)
{
    (void)ud;
    t.count_status = status;
    t.count = n;
    t.counted++;
}

/* ---- the tests ---- */

/* Rule 1: the text, the kind's check, one open appeal per thing. */
static void test_filing(void **state)
{
    (void)state;
    char long_text[TOY_TEXT_MAX + 2];
    memset(long_text, 'x', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';

    assert_int_equal(file(1, 10, ""), APPEAL_BAD);
    assert_string_equal(t.sentence,
                        "An appeal needs a text of 1 to 40 bytes saying why the toy is wrong.");
    assert_int_equal(file(1, 10, NULL), APPEAL_BAD);
    assert_int_equal(file(1, 10, long_text), APPEAL_BAD);
    long_text[TOY_TEXT_MAX] = '\0'; /* exactly the maximum is fine */
    assert_int_equal(file(2, 10, long_text), APPEAL_OK);
    assert_string_equal(t.sentence, "Appeal 1 against toy 2 is filed; a tester will decide it and "
                                    "you will be told the outcome.");

    assert_int_equal(file(TOY_NO_SUCH, 10, "please"), TOY_REFUSED);
    assert_string_equal(t.sentence, "There is no such toy.");

    assert_int_equal(file(1, 10, "it is not broken"), APPEAL_OK);
    assert_int_equal(file(1, 11, "neither says I"), APPEAL_OPEN);
    assert_string_equal(t.sentence, "Toy 1 already has an open appeal; wait for its decision.");
    assert_int_equal(t.upheld, 0);
}

/* Rules 2 and 3 one at a time: a missing or decided appeal, the author,
 * a note too long, a rejection (no upheld action), a new appeal after it. */
static void test_deciding(void **state)
{
    (void)state;
    char long_note[TOY_TEXT_MAX + 2];
    memset(long_note, 'n', sizeof long_note - 1);
    long_note[sizeof long_note - 1] = '\0';
    assert_int_equal(file(1, 10, "mine is fine"), APPEAL_OK);

    assert_int_equal(decide(42, true, NULL, "unix:bob"), APPEAL_NOT_FOUND);
    assert_string_equal(t.sentence, "There is no toy appeal 42 (toy list shows them).");
    assert_int_equal(decide(1, true, NULL, "unix:alice"), APPEAL_SAME_AUTHOR);
    assert_string_equal(t.sentence, "You (unix:alice) made toy 1 yourself, so another moderator "
                                    "must decide appeal 1 against it.");
    assert_int_equal(decide(1, true, long_note, "unix:bob"), APPEAL_BAD);
    assert_string_equal(t.sentence, "The note is too long (40 bytes at most).");

    assert_int_equal(decide(1, false, "", "unix:bob"), APPEAL_OK);
    assert_string_equal(t.sentence, "Toy appeal 1: rejected.");
    assert_int_equal(t.upheld, 0);
    assert_int_equal(decide(1, true, NULL, "unix:carol"), APPEAL_DECIDED);
    assert_string_equal(t.sentence, "Appeal 1 is decided already.");
    assert_int_equal(t.upheld, 0);

    /* decided, it no longer blocks a new appeal against the same toy */
    assert_int_equal(file(1, 10, "look again"), APPEAL_OK);
    assert_int_equal(decide(2, true, "right", "unix:bob"), APPEAL_OK);
    assert_string_equal(t.sentence, "Toy appeal 2: upheld.");
    assert_int_equal(t.upheld, 1);
}

/* Rule 3 under a race: two moderators decide the same appeal, both read it
 * open (the claim hook holds the first until the second has read), both
 * claim it; one decision stands and the upheld action runs once. */
static void test_racing_decisions(void **state)
{
    (void)state;
    assert_int_equal(file(3, 12, "carol's toy is fine"), APPEAL_OK);
    int before = t.finished;
    t.hold_claims = 2;
    decide_start(1, true, NULL, "unix:alice");
    decide_start(1, true, NULL, "unix:bob");
    run_until(&t.finished, before + 2);
    assert_int_equal(t.nheld, 2);
    int win = t.statuses[before] == APPEAL_OK ? before : before + 1;
    int lose = win == before ? before + 1 : before;
    assert_int_equal(t.statuses[win], APPEAL_OK);
    assert_string_equal(t.sentences[win], "Toy appeal 1: upheld.");
    assert_int_equal(t.statuses[lose], APPEAL_DECIDED); /* lost the claim, not the read */
    assert_string_equal(t.sentences[lose], "Appeal 1 was decided by someone else meanwhile.");
    assert_int_equal(t.upheld, 1);
}

/* Listing: newest first, by account and state, the limit clamped; and the
 * open count. */
static void test_listing_and_counting(void **state)
{
    (void)state;
    assert_int_equal(file(1, 10, "a"), APPEAL_OK); /* 1 */
    assert_int_equal(file(2, 10, "b"), APPEAL_OK); /* 2 */
    assert_int_equal(file(3, 20, "c"), APPEAL_OK); /* 3 */
    assert_int_equal(decide(2, true, NULL, "unix:carol"), APPEAL_OK);

    assert_int_equal(list(0, NULL, 100), TOY_LIST_MAX); /* clamped to list_max */
    assert_int_equal(t.row_ids[0], 3);
    assert_int_equal(t.row_ids[1], 2);
    assert_string_equal(t.row_author[0], "unix:carol");
    assert_int_equal(list(0, "all", 0), 1); /* clamped up to 1 */
    assert_int_equal(t.row_ids[0], 3);
    assert_int_equal(list(0, "open", 10), 2);
    assert_int_equal(t.row_ids[0], 3);
    assert_int_equal(t.row_ids[1], 1);
    assert_int_equal(list(0, "upheld", 10), 1);
    assert_int_equal(t.row_ids[0], 2);
    assert_int_equal(list(0, "rejected", 10), 0);
    assert_int_equal(list(10, "all", 10), 2);
    assert_int_equal(list(20, "open", 10), 1);
    assert_int_equal(t.row_ids[0], 3);

    assert_int_equal(appeal_open_count(&toy_kind, TOY_COUNT, "open toy appeals", on_count, NULL),
                     0);
    run_until(&t.counted, 1);
    assert_int_equal(t.count_status, 0);
    assert_int_equal(t.count, 2);
}

/* Rule 4: filing and deciding are log events, by the filer's target and
 * by the decider, with the body's fields in their order. */
static void test_logged(void **state)
{
    (void)state;
    assert_int_equal(file(2, 10, "bob's toy is fine"), APPEAL_OK);
    assert_int_equal(decide(1, true, "agreed", "unix:carol"), APPEAL_OK);
    assert_int_equal(file(3, 20, "so is carol's"), APPEAL_OK);
    assert_int_equal(decide(2, false, NULL, "unix:alice"), APPEAL_OK);
    close_all(); /* the log is durable and applied when closed */

    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open_v2(t.log, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT kind, actor, target, account_id, body FROM events"
                                        " WHERE kind LIKE 'toy.%' ORDER BY seq",
                                        -1, &s, NULL),
                     SQLITE_OK);
    static const char *const want[][5] = {
        {"toy.appeal", "toybox", "toybox", "10",
         "{\"appeal\":1,\"toy\":2,\"thing_kind\":\"toy\",\"text\":\"bob's toy is fine\"}"},
        {"toy.appeal_decided", "unix:carol", "toybox", "10", /* the decider's job has no text */
         "{\"appeal\":1,\"toy\":2,\"thing_kind\":\"toy\",\"outcome\":\"upheld\","
         "\"note\":\"agreed\",\"offset_event\":77}"},
        {"toy.appeal", "toybox", "toybox", "20",
         "{\"appeal\":2,\"toy\":3,\"thing_kind\":\"toy\",\"text\":\"so is carol's\"}"},
        {"toy.appeal_decided", "unix:alice", "toybox", "20",
         "{\"appeal\":2,\"toy\":3,\"thing_kind\":\"toy\",\"outcome\":\"rejected\"}"},
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        assert_int_equal(sqlite3_step(s), SQLITE_ROW);
        for (int c = 0; c < 5; c++)
            assert_string_equal((const char *)sqlite3_column_text(s, c), want[i][c]);
    }
    assert_int_equal(sqlite3_step(s), SQLITE_DONE);
    sqlite3_finalize(s);
    sqlite3_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_filing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deciding, setup, teardown),
        cmocka_unit_test_setup_teardown(test_racing_decisions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_listing_and_counting, setup, teardown),
        cmocka_unit_test_setup_teardown(test_logged, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
