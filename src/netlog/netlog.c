/*
 * netlog.c - the network log writer: a queue filled on the loop (each
 * event's leaf hash computed there), one writer thread that commits
 * batches (group commit) with chain values, the Merkle accumulator and
 * signed checkpoints, and an
 * async handle that runs the callbacks back on the loop (see netlog.h).
 *
 * The writer owns its SQLite connection and two prepared statements; the
 * loop never touches them. Shared state (the two lists, the flags) is
 * under nl.mu.
 */
#include "netlog/netlog.h"

#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "netlog/checkpoint.h"
#include "netlog/merkle.h"
#include "netlog/retention.h"
#include "netlog/schema.h"
#include "util/alloc.h"
#include "util/log.h"

#define NL_BATCH_MAX 4096 /* events per transaction */
#define NL_ROWS      64   /* rows per multi-row INSERT */

struct nl_entry {
    struct nl_entry *next;
    struct netlog_event ev; /* strings point into the same allocation */
    netlog_cb cb;
    void *ud;
    /* RFC 6962 leaf hash of ev, computed on the loop at append: it depends
     * on the event alone, so the writer (the log's bottleneck) only chains
     * and inserts */
    uint8_t leaf[NETLOG_HASH_BYTES];
};

static struct {
    bool open;
    uv_loop_t *loop;
    uv_async_t async;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* loop -> writer */
    struct nl_entry *in_head, *in_tail;
    size_t queued;
    /* loop-only: this loop iteration's events, handed to the writer at its
     * end (nl_on_check) with one lock and one wake-up: the writer commits
     * whole iterations and never wakes for the first event of one while
     * the loop, on the same core, is still reading the rest */
    struct nl_entry *it_head, *it_tail;
    size_t it_count;
    uv_check_t check;     /* after the I/O callbacks of an iteration */
    uv_prepare_t prepare; /* before its poll: what timers and close callbacks appended */
    /* writer -> loop, in seq order */
    struct nl_entry *done_head, *done_tail;
    bool stop;
    atomic_bool healthy;
    bool strict;
    bool off; /* netlog.mode = "off": nothing is written (development benchmarks only) */
    bool dm_content;
    int64_t next_seq; /* loop */
    int64_t last_at;  /* loop: the at of the last event; at never goes back (schema.h) */
    size_t queue_max;
    /* writer-only */
    sqlite3 *db;
    sqlite3_stmt *ins, *ins_many, *cp_ins;
    uint8_t chain[NETLOG_HASH_BYTES];
    struct merkle_acc acc;
    uint64_t cp_size;
    int64_t cp_ms;
    int cp_events, cp_seconds;
    struct checkpoint_key key;
    char origin[CHECKPOINT_NAME_MAX + 1];
    struct netlog_stats stats; /* under mu */
    /* the backfill thread: copies the WAL into the database file (SQLite's
     * "WAL checkpoint", not to be confused with the signed checkpoints) on
     * a connection of its own, so the writer only appends */
    pthread_t bf_thread;
    pthread_mutex_t bf_mu;
    pthread_cond_t bf_cv;
    sqlite3 *bf_db;
    bool bf_due, bf_stop, bf_running;
    /* the daily purge (retention.c) on the thread pool */
    uv_timer_t purge_timer;
    uv_work_t purge_work;
    bool purge_running;
    char *path;
    int keep_months;
    int purge_rc;
    char purge_err[256];
    struct retention_result purge_result;
} nl;

static int64_t nl_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the backfill thread ---- */

#define NL_BACKFILL_PAGES 8192 /* WAL pages (32 MiB) that wake the backfill thread */
#define NL_WAL_PAGES_MAX  (8 * NL_BACKFILL_PAGES) /* past this the writer copies itself */

static void *nl_backfill(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&nl.bf_mu);
    while (!nl.bf_stop) {
        if (!nl.bf_due) {
            pthread_cond_wait(&nl.bf_cv, &nl.bf_mu);
            continue;
        }
        nl.bf_due = false;
        pthread_mutex_unlock(&nl.bf_mu);
        /* PASSIVE: copies what no reader still needs, never blocks the writer;
         * the writer's next transaction starts the WAL over once all is copied */
        int rc = sqlite3_wal_checkpoint_v2(nl.bf_db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            log_warn("netlog: copying the WAL into the database failed: %s",
                     sqlite3_errmsg(nl.bf_db));
        pthread_mutex_lock(&nl.bf_mu);
    }
    pthread_mutex_unlock(&nl.bf_mu);
    return NULL;
}

/* SQLite's commit hook for the WAL (writer thread): wakes the backfill
 * thread past NL_BACKFILL_PAGES; if it falls far behind (a reader holding an
 * old snapshot, a slow disk), the writer copies in its own time, as SQLite's
 * automatic checkpoint would. */
static int nl_wal_hook(void *ud, sqlite3 *db, const char *name, int pages)
{
    (void)ud;
    if (pages >= NL_WAL_PAGES_MAX || (!nl.bf_running && pages >= NL_BACKFILL_PAGES)) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (pages >= NL_BACKFILL_PAGES) {
        pthread_mutex_lock(&nl.bf_mu);
        nl.bf_due = true;
        pthread_cond_signal(&nl.bf_cv);
        pthread_mutex_unlock(&nl.bf_mu);
    }
    return SQLITE_OK;
}

static void nl_backfill_start(const char *path)
{
    pthread_mutex_init(&nl.bf_mu, NULL);
    pthread_cond_init(&nl.bf_cv, NULL);
    nl.bf_due = nl.bf_stop = false;
    if (sqlite3_open_v2(path, &nl.bf_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ==
            SQLITE_OK &&
        sqlite3_exec(nl.bf_db, "PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000", NULL, NULL,
                     NULL) == SQLITE_OK &&
        pthread_create(&nl.bf_thread, NULL, nl_backfill, NULL) == 0) {
        nl.bf_running = true;
    } else {
        log_warn("netlog: no backfill thread; the writer copies the WAL itself");
        sqlite3_close(nl.bf_db);
        nl.bf_db = NULL;
    }
    sqlite3_wal_hook(nl.db, nl_wal_hook, NULL);
}

static void nl_backfill_stop(void)
{
    if (nl.bf_running) {
        pthread_mutex_lock(&nl.bf_mu);
        nl.bf_stop = true;
        pthread_cond_signal(&nl.bf_cv);
        pthread_mutex_unlock(&nl.bf_mu);
        pthread_join(nl.bf_thread, NULL);
        nl.bf_running = false;
    }
    sqlite3_close(nl.bf_db);
    nl.bf_db = NULL;
    pthread_mutex_destroy(&nl.bf_mu);
    pthread_cond_destroy(&nl.bf_cv);
}

/* ---- the writer thread ---- */

/* Binds event e as the row starting at parameter base + 1. */
static void nl_bind_row(sqlite3_stmt *s, int base, const struct netlog_event *e,
                        const uint8_t *leaf, const uint8_t *chain)
{
    sqlite3_bind_int64(s, base + 1, e->seq);
    sqlite3_bind_int64(s, base + 2, e->at_ms);
    sqlite3_bind_text(s, base + 3, e->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, base + 4, e->actor ? e->actor : "", -1, SQLITE_STATIC);
    if (e->target)
        sqlite3_bind_text(s, base + 5, e->target, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, base + 5);
    if (e->code)
        sqlite3_bind_int64(s, base + 6, e->code);
    else
        sqlite3_bind_null(s, base + 6);
    if (e->account_id)
        sqlite3_bind_int64(s, base + 7, e->account_id);
    else
        sqlite3_bind_null(s, base + 7);
    if (e->msgid)
        sqlite3_bind_text(s, base + 8, e->msgid, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, base + 8);
    if (e->body)
        sqlite3_bind_text(s, base + 9, e->body, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, base + 9);
    sqlite3_bind_blob(s, base + 10, leaf, NETLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, base + 11, chain, NETLOG_HASH_BYTES, SQLITE_STATIC);
}

static int nl_step(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s); /* every parameter is bound each time: no clear */
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

/* Chains and inserts the batch: NL_ROWS events per INSERT statement (one
 * statement per row costs more in SQLite's VM than the row itself), the
 * rest one by one. */
static int nl_insert_batch(struct nl_entry *batch)
{
    uint8_t chain[NL_ROWS][NETLOG_HASH_BYTES];
    struct nl_entry *group[NL_ROWS];
    int n = 0, rc = 0;
    for (struct nl_entry *e = batch; e && rc == 0; e = e->next) {
        netlog_chain_next(nl.chain, e->leaf, chain[n]);
        memcpy(nl.chain, chain[n], NETLOG_HASH_BYTES);
        merkle_acc_add(&nl.acc, e->leaf);
        group[n++] = e;
        if (n == NL_ROWS) {
            for (int i = 0; i < n; i++)
                nl_bind_row(nl.ins_many, i * 11, &group[i]->ev, group[i]->leaf, chain[i]);
            rc = nl_step(nl.ins_many);
            n = 0;
        }
    }
    for (int i = 0; i < n && rc == 0; i++) {
        nl_bind_row(nl.ins, 0, &group[i]->ev, group[i]->leaf, chain[i]);
        rc = nl_step(nl.ins);
    }
    return rc;
}

static int nl_write_checkpoint(void)
{
    struct checkpoint cp;
    snprintf(cp.origin, sizeof cp.origin, "%s", nl.origin);
    cp.size = nl.acc.size;
    merkle_acc_root(&nl.acc, cp.root);
    char note[CHECKPOINT_NOTE_MAX];
    uint8_t acc[MERKLE_ACC_BYTES_MAX];
    size_t acc_len = merkle_acc_serialize(&nl.acc, acc, sizeof acc);
    if (checkpoint_sign(&nl.key, &cp, note, sizeof note) < 0)
        return -1;
    int64_t now = nl_now_ms();
    sqlite3_stmt *s = nl.cp_ins;
    sqlite3_bind_int64(s, 1, (int64_t)cp.size);
    sqlite3_bind_int64(s, 2, now);
    sqlite3_bind_blob(s, 3, cp.root, NETLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, note, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, acc, (int)acc_len, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    sqlite3_clear_bindings(s);
    if (rc != SQLITE_DONE)
        return -1;
    nl.cp_size = cp.size;
    nl.cp_ms = now;
    return 0;
}

static bool nl_checkpoint_due(bool closing)
{
    if (nl.acc.size <= nl.cp_size)
        return false;
    return closing || nl.acc.size - nl.cp_size >= (uint64_t)nl.cp_events ||
           nl_now_ms() - nl.cp_ms >= (int64_t)nl.cp_seconds * 1000;
}

static bool nl_fault_injected(void)
{
#ifdef QUN_TEST_HOOKS
    const char *f = getenv("QUN_NETLOG_FAULT");
    return f && access(f, F_OK) == 0;
#else
    return false;
#endif
}

/* Writes one batch in one transaction; on failure everything the batch
 * changed in memory is put back. */
static int nl_commit(struct nl_entry *batch, bool closing)
{
    uint8_t chain_before[NETLOG_HASH_BYTES];
    struct merkle_acc acc_before = nl.acc;
    uint64_t cp_size_before = nl.cp_size;
    int64_t cp_ms_before = nl.cp_ms;
    memcpy(chain_before, nl.chain, sizeof chain_before);
    if (sqlite3_exec(nl.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        /* e.g. another process holds the write lock past busy_timeout */
        log_error("netlog: commit failed: %s", sqlite3_errmsg(nl.db));
        return -1;
    }
    int rc = nl_insert_batch(batch);
    if (rc == 0 && nl_checkpoint_due(closing))
        rc = nl_write_checkpoint();
    if (rc == 0 && nl_fault_injected())
        rc = -1;
    if (rc == 0 && sqlite3_exec(nl.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    if (rc != 0) {
        log_error("netlog: commit failed: %s",
                  nl_fault_injected() ? "injected fault (test build)" : sqlite3_errmsg(nl.db));
        sqlite3_exec(nl.db, "ROLLBACK", NULL, NULL, NULL);
        memcpy(nl.chain, chain_before, sizeof chain_before);
        nl.acc = acc_before;
        nl.cp_size = cp_size_before;
        nl.cp_ms = cp_ms_before;
    }
    return rc;
}

static void nl_wait(int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&nl.cv, &nl.mu, &ts);
}

static void *nl_writer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&nl.mu);
    for (;;) {
        if (!nl.in_head && !nl.stop) {
            /* relaxed: gather up to 100 ms; strict: wake on the first event,
             * and at least once a second for time-based checkpoints */
            nl_wait(1000);
            if (!nl.in_head && !nl.stop) {
                if (nl_checkpoint_due(false)) {
                    pthread_mutex_unlock(&nl.mu);
                    int rc = nl_commit(NULL, false);
                    pthread_mutex_lock(&nl.mu);
                    if (rc == 0) {
                        nl.stats.checkpoint_size = nl.cp_size;
                        nl.stats.checkpoint_ms = nl.cp_ms;
                    }
                }
                continue;
            }
        }
        if (!nl.strict && !nl.stop)
            nl_wait(100);
        /* at most NL_BATCH_MAX events per transaction: a bigger one spills
         * SQLite's page cache to the WAL before the commit */
        struct nl_entry *batch = nl.in_head, *last = batch;
        size_t n = batch ? 1 : 0;
        while (last && last->next && n < NL_BATCH_MAX) {
            last = last->next;
            n++;
        }
        bool stopping = nl.stop && (!last || !last->next);
        nl.in_head = last ? last->next : NULL;
        if (!nl.in_head)
            nl.in_tail = NULL;
        if (last)
            last->next = NULL;
        nl.queued -= n;
        pthread_mutex_unlock(&nl.mu);
        int rc = batch || stopping ? nl_commit(batch, stopping) : 0;
        pthread_mutex_lock(&nl.mu);
        if (rc != 0) {
            /* keep the batch, in front of anything newer, and retry */
            atomic_store(&nl.healthy, false);
            nl.stats.batches_failed++;
            if (batch) {
                last->next = nl.in_head;
                nl.in_head = batch;
                if (!nl.in_tail)
                    nl.in_tail = last;
                nl.queued += n;
            }
            if (stopping) {
                nl.stop = true;
                break; /* the loop side fails what is left */
            }
            nl_wait(1000);
            continue;
        }
        if (!atomic_exchange(&nl.healthy, true))
            log_notice("netlog: the log is writable again; posting resumes");
        nl.stats.checkpoint_size = nl.cp_size; /* writer-only fields, read here on the writer */
        nl.stats.checkpoint_ms = nl.cp_ms;
        if (batch) {
            nl.stats.commits++;
            nl.stats.durable_seq = last->ev.seq;
            if (n > nl.stats.max_batch)
                nl.stats.max_batch = n;
            if (nl.done_tail)
                nl.done_tail->next = batch;
            else
                nl.done_head = batch;
            nl.done_tail = last;
            uv_async_send(&nl.async);
        }
        if (stopping && !nl.in_head)
            break;
    }
    pthread_mutex_unlock(&nl.mu);
    return NULL;
}

/* ---- the loop side ---- */

static void nl_run_callbacks(struct nl_entry *list, int status)
{
    while (list) {
        struct nl_entry *next = list->next;
        if (list->cb)
            list->cb(list->ud, status, list->ev.seq);
        free(list);
        list = next;
    }
}

static void nl_on_async(uv_async_t *h)
{
    pthread_mutex_lock(&nl.mu);
    struct nl_entry *done = nl.done_head;
    nl.done_head = nl.done_tail = NULL;
    pthread_mutex_unlock(&nl.mu);
    nl_run_callbacks(done, 0);
}

static char *nl_copy(char **p, const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    memcpy(*p, s, n);
    char *out = *p;
    *p += n;
    return out;
}

int64_t netlog_append(const struct netlog_event *e, netlog_cb cb, void *ud)
{
    if (!nl.open || nl.stop || nl.queued + nl.it_count >= nl.queue_max)
        return -1;
    if (nl.off) { /* benchmarks of the core without the log: a seq, nothing kept */
        int64_t seq = nl.next_seq++;
        if (cb)
            cb(ud, 0, seq);
        return seq;
    }
    size_t len = sizeof(struct nl_entry);
    const char *texts[] = {e->kind, e->actor, e->target, e->msgid, e->body};
    for (size_t i = 0; i < 5; i++)
        len += texts[i] ? strlen(texts[i]) + 1 : 0;
    struct nl_entry *x = xmalloc(len);
    char *p = (char *)(x + 1);
    x->next = NULL;
    x->ev = *e;
    x->ev.seq = nl.next_seq++;
    if (!x->ev.at_ms)
        x->ev.at_ms = nl_now_ms();
    if (x->ev.at_ms < nl.last_at) /* the clock stepped back: time ranges stay seq ranges */
        x->ev.at_ms = nl.last_at;
    nl.last_at = x->ev.at_ms;
    x->ev.kind = nl_copy(&p, e->kind);
    x->ev.actor = nl_copy(&p, e->actor);
    x->ev.target = nl_copy(&p, e->target);
    x->ev.msgid = nl_copy(&p, e->msgid);
    x->ev.body = nl_copy(&p, e->body);
    netlog_leaf_hash(&x->ev, x->leaf);
    int64_t seq = x->ev.seq;
    if (!nl.strict && cb) { /* relaxed: the caller goes on at once */
        cb(ud, 0, seq);
        cb = NULL;
    }
    x->cb = cb;
    x->ud = ud;
    if (nl.it_tail)
        nl.it_tail->next = x;
    else
        nl.it_head = x;
    nl.it_tail = x;
    nl.it_count++;
    return seq;
}

/* Hands this iteration's events to the writer (loop thread). */
static void nl_hand_over(void)
{
    if (!nl.it_head)
        return;
    pthread_mutex_lock(&nl.mu);
    if (nl.in_tail)
        nl.in_tail->next = nl.it_head;
    else
        nl.in_head = nl.it_head;
    nl.in_tail = nl.it_tail;
    nl.queued += nl.it_count;
    pthread_cond_signal(&nl.cv);
    pthread_mutex_unlock(&nl.mu);
    nl.it_head = nl.it_tail = NULL;
    nl.it_count = 0;
}

static void nl_on_check(uv_check_t *h)
{
    (void)h;
    nl_hand_over();
}

static void nl_on_prepare(uv_prepare_t *h)
{
    (void)h;
    nl_hand_over();
}

int64_t netlog_record(const char *kind, const char *actor, const char *target, int64_t code,
                      int64_t account_id, const char *msgid, const char *body)
{
    struct netlog_event e = {.kind = kind,
                             .actor = actor,
                             .target = target,
                             .code = code,
                             .account_id = account_id,
                             .msgid = msgid,
                             .body = body};
    int64_t seq = netlog_append(&e, NULL, NULL);
    if (seq < 0 && nl.open)
        log_error("netlog: event %s could not be queued (queue full)", kind);
    return seq;
}

bool netlog_healthy(void)
{
    return nl.open && atomic_load(&nl.healthy);
}

bool netlog_strict(void)
{
    return nl.strict;
}

bool netlog_dm_content(void)
{
    return nl.dm_content;
}

void netlog_get_stats(struct netlog_stats *out)
{
    pthread_mutex_lock(&nl.mu);
    *out = nl.stats;
    out->queued = nl.queued + nl.it_count;
    /* appended, handed over or not: a reader waits for all of it (loop) */
    out->last_seq = nl.next_seq - 1;
    pthread_mutex_unlock(&nl.mu);
}

int netlog_sign(const void *msg, size_t len, uint8_t sig[64], char *key_name, size_t cap,
                uint8_t key_id[4])
{
    /* nl.key is written only by netlog_open and netlog_close (loop); the
     * writer thread only reads it, as this does */
    if (!nl.open || cap == 0)
        return -1;
    crypto_sign_detached(sig, NULL, msg, len, nl.key.sk);
    snprintf(key_name, cap, "%s", nl.key.name);
    memcpy(key_id, nl.key.key_hash, 4);
    return 0;
}

/* ---- retention: the daily purge ---- */

static void nl_purge_work(uv_work_t *w)
{
    nl.purge_rc = retention_purge_file(nl.path, nl.keep_months, nl_now_ms(), nl.purge_err,
                                       sizeof nl.purge_err, &nl.purge_result);
}

static void nl_purge_after(uv_work_t *w, int status)
{
    nl.purge_running = false;
    if (!nl.open) { /* closed meanwhile */
        free(nl.path);
        nl.path = NULL;
        return;
    }
    if (status != 0)
        return;
    if (nl.purge_rc != 0)
        log_error("netlog: retention purge refused: %s", nl.purge_err);
    else if (nl.purge_result.purged > 0)
        log_notice("netlog: retention purged %lld event(s) older than %d months; the log now "
                   "starts at seq %lld",
                   (long long)nl.purge_result.purged, nl.keep_months,
                   (long long)nl.purge_result.first_kept);
    if (nl.purge_rc == 0) {
        char body[160];
        snprintf(body, sizeof body, "{\"purged\":%lld,\"first_kept\":%lld,\"keep_months\":%d}",
                 (long long)nl.purge_result.purged, (long long)nl.purge_result.first_kept,
                 nl.keep_months);
        netlog_record("log.purge", "server", NULL, 0, 0, NULL, body);
    }
}

static void nl_purge_tick(uv_timer_t *t)
{
    if (nl.purge_running || !nl.open)
        return;
    nl.purge_running = true;
    if (uv_queue_work(nl.loop, &nl.purge_work, nl_purge_work, nl_purge_after) != 0)
        nl.purge_running = false;
}

/* ---- open and close ---- */

static int nl_load_state(char *err, size_t errlen)
{
    sqlite3_stmt *s;
    int64_t first = 1;
    merkle_acc_init(&nl.acc);
    memset(nl.chain, 0, sizeof nl.chain);
    /* a purge left the accumulator and the chain of what it removed */
    if (sqlite3_prepare_v2(nl.db, "SELECT first, chain, acc FROM purged WHERE id = 1", -1, &s,
                           NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        first = sqlite3_column_int64(s, 0);
        if (sqlite3_column_bytes(s, 1) == NETLOG_HASH_BYTES)
            memcpy(nl.chain, sqlite3_column_blob(s, 1), NETLOG_HASH_BYTES);
        merkle_acc_deserialize(&nl.acc, sqlite3_column_blob(s, 2),
                               (size_t)sqlite3_column_bytes(s, 2));
    }
    sqlite3_finalize(s);
    /* resume from the last checkpoint, then add the leaves after it */
    int64_t from = first;
    if (sqlite3_prepare_v2(nl.db,
                           "SELECT size, acc, at FROM checkpoints ORDER BY size DESC LIMIT 1", -1,
                           &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW && sqlite3_column_int64(s, 0) >= first - 1) {
        struct merkle_acc a;
        if (merkle_acc_deserialize(&a, sqlite3_column_blob(s, 1),
                                   (size_t)sqlite3_column_bytes(s, 1)) &&
            a.size == (uint64_t)sqlite3_column_int64(s, 0)) {
            nl.acc = a;
            nl.cp_size = a.size;
            nl.cp_ms = sqlite3_column_int64(s, 2);
            from = (int64_t)a.size + 1;
        }
    }
    sqlite3_finalize(s);
    nl.next_seq = from;
    if (sqlite3_prepare_v2(nl.db, "SELECT seq, leaf, chain FROM events WHERE seq >= ? ORDER BY seq",
                           -1, &s, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "netlog: cannot read the log: %s", sqlite3_errmsg(nl.db));
        return -1;
    }
    sqlite3_bind_int64(s, 1, from);
    while (sqlite3_step(s) == SQLITE_ROW) {
        if (sqlite3_column_bytes(s, 1) != NETLOG_HASH_BYTES)
            continue;
        merkle_acc_add(&nl.acc, sqlite3_column_blob(s, 1));
        nl.next_seq = sqlite3_column_int64(s, 0) + 1;
    }
    sqlite3_finalize(s);
    /* the chain continues from the last row */
    if (sqlite3_prepare_v2(nl.db, "SELECT seq, chain, at FROM events ORDER BY seq DESC LIMIT 1", -1,
                           &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        nl.last_at = sqlite3_column_int64(s, 2);
        if (sqlite3_column_bytes(s, 1) == NETLOG_HASH_BYTES)
            memcpy(nl.chain, sqlite3_column_blob(s, 1), NETLOG_HASH_BYTES);
        if (sqlite3_column_int64(s, 0) + 1 > nl.next_seq)
            nl.next_seq = sqlite3_column_int64(s, 0) + 1;
    }
    sqlite3_finalize(s);
    if (nl.cp_ms == 0)
        nl.cp_ms = nl_now_ms();
    return 0;
}

static int nl_prepare_many(char *err, size_t errlen)
{
    char sql[4096];
    size_t n =
        (size_t)snprintf(sql, sizeof sql,
                         "INSERT INTO events (seq, at, kind, actor, target, code, account_id,"
                         " msgid, body, leaf, chain) VALUES ");
    for (int i = 0; i < NL_ROWS; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              i ? ", " : "");
    if (sqlite3_prepare_v3(nl.db, sql, -1, SQLITE_PREPARE_PERSISTENT, &nl.ins_many, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "netlog: %s", sqlite3_errmsg(nl.db));
        return -1;
    }
    return 0;
}

int netlog_open(uv_loop_t *loop, const struct qun_config *cfg, char *err, size_t errlen)
{
    memset(&nl, 0, sizeof nl);
    nl.loop = loop;
    nl.strict = strcmp(cfg->netlog_mode, "strict") == 0;
    nl.off = strcmp(cfg->netlog_mode, "off") == 0;
    nl.dm_content = strcmp(cfg->netlog_dm, "content") == 0;
    nl.cp_events = cfg->netlog_checkpoint_events;
    nl.cp_seconds = cfg->netlog_checkpoint_seconds;
    nl.queue_max = (size_t)cfg->netlog_queue_max;
    snprintf(nl.origin, sizeof nl.origin, "%s/qun-log", cfg->server_name);
    if (checkpoint_key_load(cfg->netlog_key_file, nl.origin, &nl.key, err, errlen) < 0)
        return -1;
    if (sqlite3_open_v2(cfg->netlog_path, &nl.db,
                        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                        NULL) != SQLITE_OK ||
        sqlite3_exec(
            nl.db,
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA cache_size = -65536;"
            " PRAGMA wal_autocheckpoint = 0;" /* the backfill thread copies the WAL */
            " PRAGMA busy_timeout = 5000;" NETLOG_SCHEMA_SQL,
            NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(nl.db,
                           "INSERT INTO events (seq, at, kind, actor, target, code, account_id,"
                           " msgid, body, leaf, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &nl.ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v3(nl.db,
                           "INSERT INTO checkpoints (size, at, root, note, acc)"
                           " VALUES (?, ?, ?, ?, ?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &nl.cp_ins, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "netlog: %s: %s", cfg->netlog_path,
                 nl.db ? sqlite3_errmsg(nl.db) : "cannot open");
        sqlite3_close(nl.db);
        nl.db = NULL;
        checkpoint_key_wipe(&nl.key);
        return -1;
    }
    if (nl_prepare_many(err, errlen) < 0 || nl_load_state(err, errlen) < 0)
        return -1;
    pthread_mutex_init(&nl.mu, NULL);
    pthread_cond_init(&nl.cv, NULL);
    nl_backfill_start(cfg->netlog_path);
    uv_async_init(loop, &nl.async, nl_on_async);
    uv_check_init(loop, &nl.check);
    uv_check_start(&nl.check, nl_on_check);
    uv_unref((uv_handle_t *)&nl.check);
    uv_prepare_init(loop, &nl.prepare);
    uv_prepare_start(&nl.prepare, nl_on_prepare);
    uv_unref((uv_handle_t *)&nl.prepare);
    atomic_store(&nl.healthy, true);
    nl.stats.durable_seq = nl.next_seq - 1; /* last_seq comes from next_seq */
    nl.stats.checkpoint_size = nl.cp_size;
    nl.stats.checkpoint_ms = nl.cp_ms;
    if (pthread_create(&nl.thread, NULL, nl_writer, NULL) != 0) {
        snprintf(err, errlen, "netlog: cannot start the writer thread");
        return -1;
    }
    nl.open = true;
    nl.path = xstrdup(cfg->netlog_path);
    nl.keep_months = cfg->netlog_keep_months;
    uv_timer_init(loop, &nl.purge_timer);
    uv_timer_start(&nl.purge_timer, nl_purge_tick, 10 * 1000, 24 * 3600 * 1000);
    uv_unref((uv_handle_t *)&nl.purge_timer);
    log_info("netlog: %s open, %lld events, last checkpoint at %llu, %s", cfg->netlog_path,
             (long long)(nl.next_seq - 1), (unsigned long long)nl.cp_size,
             nl.strict ? "strict mode"
             : nl.off  ? "mode OFF: NOTHING IS LOGGED (development benchmarks only)"
                       : "RELAXED mode (benchmarks only)");
    return 0;
}

void netlog_close(void)
{
    if (!nl.open)
        return;
    uv_timer_stop(&nl.purge_timer);
    uv_close((uv_handle_t *)&nl.purge_timer, NULL);
    nl_hand_over(); /* what this iteration appended */
    uv_close((uv_handle_t *)&nl.check, NULL);
    uv_close((uv_handle_t *)&nl.prepare, NULL);
    pthread_mutex_lock(&nl.mu);
    nl.stop = true;
    pthread_cond_signal(&nl.cv);
    pthread_mutex_unlock(&nl.mu);
    pthread_join(nl.thread, NULL);
    nl_backfill_stop();     /* before the writer's connection closes (and copies the rest) */
    nl_on_async(&nl.async); /* what was committed last */
    struct nl_entry *left = nl.in_head;
    nl.in_head = nl.in_tail = NULL;
    if (left)
        log_error("netlog: closing with %zu event(s) that could not be written", nl.queued);
    nl_run_callbacks(left, -1);
    uv_close((uv_handle_t *)&nl.async, NULL);
    sqlite3_finalize(nl.ins);
    sqlite3_finalize(nl.ins_many);
    sqlite3_finalize(nl.cp_ins);
    sqlite3_close(nl.db);
    checkpoint_key_wipe(&nl.key);
    pthread_mutex_destroy(&nl.mu);
    pthread_cond_destroy(&nl.cv);
    if (!nl.purge_running) { /* else the purge's completion frees it */
        free(nl.path);
        nl.path = NULL;
    }
    nl.open = false;
    log_info("netlog: closed at seq %lld, checkpoint at %llu", (long long)(nl.next_seq - 1),
             (unsigned long long)nl.cp_size);
}
