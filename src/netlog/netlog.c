/*
 * netlog.c - the network log writer: a queue filled on the loop (each
 * event's leaf hash computed there); a writer thread that chains batches
 * (group commit), keeps the Merkle accumulator, signs checkpoints and
 * makes each batch durable in the journal (journal.h); an applier thread
 * that copies journaled records into the SQLite database in large
 * transactions; and an async handle that runs the callbacks back on the
 * loop (see netlog.h).
 *
 * The applier owns the SQLite connection and its prepared statements
 * (start-up uses them before the threads exist); the writer owns the
 * journal; the loop touches neither. Shared state (the lists, the flags,
 * the counters) is under nl.mu.
 */
#include "netlog/netlog.h"

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "config/config.h"
#include "netlog/checkpoint.h"
#include "netlog/history_index.h"
#include "netlog/journal.h"
#include "netlog/merkle.h"
#include "netlog/retention.h"
#include "netlog/schema.h"
#include "util/alloc.h"
#include "util/blockcache.h"
#include "util/log.h"
#include "util/loopwatch.h"

#define NL_BATCH_MAX    4096        /* events per journal write */
#define NL_BATCH_BYTES  (1 << 20)   /* and about this many bytes */
#define NL_ROWS         64          /* rows per multi-row INSERT */
#define NL_APPLY_EVENTS 32768       /* the applier starts at once past this many */
#define NL_APPLY_MS     2000        /* or this long after the first (readers hurry it) */
#define NL_JOURNAL_CAP  (32u << 20) /* when the configuration gives none */

struct nl_entry {
    struct nl_entry *next;
    struct netlog_event ev; /* strings point into the same allocation */
    netlog_cb cb;
    void *ud;
    /* RFC 6962 leaf hash of ev, computed on the loop at append: it depends
     * on the event alone, so the writer (the log's bottleneck) only chains
     * and inserts */
    uint8_t leaf[NETLOG_HASH_BYTES];
    uint32_t lens[NETLOG_TEXTS]; /* strlen of ev's strings (0 for NULL) */
    size_t rec_bytes;            /* its journal record's size */
};

/* A journaled batch on its way to the database (journal records). */
struct nl_chunk {
    struct nl_chunk *next;
    struct journal_buf b; /* b.last_seq 0: checkpoint only */
};

/* Applied chunks go back to the writer, buffer and all (nl.spare): a batch
 * is up to NL_BATCH_BYTES, and a fresh one each time made the writer's
 * allocator grow and trim its heap, the kernel clearing every page again
 * (a tenth of the writer's time at 1,000 groups of 5). */
#define NL_SPARE_MAX 4

/* A loop-side wait for the database to hold what was appended before it
 * (netlog_when_readable). */
struct nl_waiter {
    struct nl_waiter *next;
    int64_t want_seq;
    uint64_t since_ms;
    void (*fn)(void *ud);
    void *ud;
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
    /* writer -> applier: journaled chunks not yet in the database */
    pthread_t ap_thread;
    pthread_cond_t ap_cv; /* wakes the applier */
    pthread_cond_t wr_cv; /* wakes a writer waiting for journal room */
    struct nl_chunk *ap_head, *ap_tail;
    struct nl_chunk *spare; /* applied chunks to reuse (NL_SPARE_MAX at most) */
    size_t spare_n;
    size_t ap_events;
    int64_t ap_first_ms;
    uint64_t chunks_written, chunks_applied;
    /* writer-only: the number of the last chunk written into each half of
     * the journal (a half is free once chunks_applied reaches it) */
    uint64_t half_last[2];
    size_t batch_bytes; /* NL_BATCH_BYTES, or a quarter of a small journal */
    int64_t ap_want;    /* a reader waits for the database to reach this seq: apply now */
    /* writer-only: timing of the journal's write + sync, published into
     * stats under mu after each batch */
    uint64_t sync_max_us, syncs_slow;
    struct log_limit sync_warn; /* one warning per 10 s */
    bool ap_room;               /* the writer waits for journal room: apply now */
    bool ap_stop;
    uint64_t released; /* loop-only: events whose callbacks ran (loopwatch_track) */
    /* loop-only: netlog_when_readable's FIFO, polled by wait_timer */
    struct nl_waiter *wait_head, *wait_tail;
    uv_timer_t wait_timer;
    /* applier-only (and start-up) */
    sqlite3 *db;
    sqlite3_stmt *ins, *ins_many, *cp_ins;
    struct hix hix; /* the runs of this transaction's events (history_index.h) */
    /* writer-only (and start-up) */
    struct journal jr;
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
    int bf_pages;          /* NL_BACKFILL_PAGES (test builds: QUN_NETLOG_BACKFILL_PAGES) */
    atomic_bool bf_copied; /* the backfill copied: the applier copies the rest */
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

/* The applier and the backfill thread work behind delivery: at a lower
 * priority (nice + NL_BEHIND_NICE) the loop and the writer, on whose turn a
 * message waits, take the processor from them at once when they wake. */
#define NL_BEHIND_NICE 10

static void nl_lower_priority(void)
{
    errno = 0;
    int now = getpriority(PRIO_PROCESS, (id_t)gettid());
    if (errno == 0)
        setpriority(PRIO_PROCESS, (id_t)gettid(), now + NL_BEHIND_NICE);
}

/* ---- the backfill thread ---- */

#define NL_BACKFILL_PAGES 8192              /* WAL pages (32 MiB) that wake the backfill thread */
#define NL_WAL_PAGES_MAX  (3 * nl.bf_pages) /* past this the applier copies itself */

static void *nl_backfill(void *arg)
{
    (void)arg;
    nl_lower_priority();
    pthread_mutex_lock(&nl.bf_mu);
    while (!nl.bf_stop) {
        if (!nl.bf_due) {
            pthread_cond_wait(&nl.bf_cv, &nl.bf_mu);
            continue;
        }
        nl.bf_due = false;
        pthread_mutex_unlock(&nl.bf_mu);
        /* PASSIVE: copies what no reader still needs, never blocks the
         * applier, which copies the rest after its next commit (nl_wal_hook) */
        int rc = sqlite3_wal_checkpoint_v2(nl.bf_db, "main", SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc == SQLITE_OK)
            atomic_store(&nl.bf_copied, true);
        else if (rc != SQLITE_BUSY)
            log_warn("netlog: copying the WAL into the database failed: %s",
                     sqlite3_errmsg(nl.bf_db));
        pthread_mutex_lock(&nl.bf_mu);
    }
    pthread_mutex_unlock(&nl.bf_mu);
    return NULL;
}

/* SQLite's commit hook for the WAL (applier thread): wakes the backfill
 * thread past NL_BACKFILL_PAGES; if it falls behind (a busy processor: it
 * runs at a lower priority; a reader holding an old snapshot; a slow
 * disk), the applier copies in its own time past NL_WAL_PAGES_MAX, as
 * SQLite's automatic checkpoint would.
 *
 * SQLite starts the WAL over only when a write transaction begins with
 * every frame of it copied. Under a steady load the applier always commits
 * more while the backfill copies, so the WAL grew until that limit (then
 * eight times the threshold: 115 MB in a 6 s benchmark phase), every
 * write landing on new blocks that the kernel first zeroes. So once the
 * backfill has copied, the applier copies what it committed meanwhile (one
 * or two transactions' pages), and its next transaction starts the WAL
 * over (netlog/test_writer.c, test_wal_bounded_under_steady_load). */
static int nl_wal_hook(void *ud, sqlite3 *db, const char *name, int pages)
{
    (void)ud;
    if (pages >= NL_WAL_PAGES_MAX || (!nl.bf_running && pages >= nl.bf_pages) ||
        atomic_exchange(&nl.bf_copied, false)) {
        sqlite3_wal_checkpoint_v2(db, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
    } else if (pages >= nl.bf_pages) {
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
    atomic_store(&nl.bf_copied, false);
    nl.bf_pages = NL_BACKFILL_PAGES;
#ifdef QUN_TEST_HOOKS
    /* test builds: a WAL that cycles within a test */
    const char *v = getenv("QUN_NETLOG_BACKFILL_PAGES");
    if (v && atoi(v) > 0)
        nl.bf_pages = atoi(v);
#endif
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

/* ---- the applier thread: journal records into SQLite ---- */

/* Binds the event of journal record r as the row starting at parameter
 * base + 1 (the strings with the lengths the record carries). */
static void nl_bind_row(sqlite3_stmt *s, int base, const struct journal_rec *r)
{
    const struct netlog_event *e = &r->ev;
    sqlite3_bind_int64(s, base + 1, e->seq);
    sqlite3_bind_int64(s, base + 2, e->at_ms);
    sqlite3_bind_text(s, base + 3, e->kind, (int)r->kind_len, SQLITE_STATIC);
    sqlite3_bind_text(s, base + 4, e->actor ? e->actor : "", (int)r->actor_len, SQLITE_STATIC);
    if (e->target)
        sqlite3_bind_text(s, base + 5, e->target, (int)r->target_len, SQLITE_STATIC);
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
        sqlite3_bind_text(s, base + 8, e->msgid, (int)r->msgid_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, base + 8);
    if (e->body)
        sqlite3_bind_text(s, base + 9, e->body, (int)r->body_len, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, base + 9);
    sqlite3_bind_blob(s, base + 10, r->leaf, NETLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, base + 11, r->chain, NETLOG_HASH_BYTES, SQLITE_STATIC);
}

static int nl_step(sqlite3_stmt *s)
{
    int rc = sqlite3_step(s); /* every parameter is bound each time: no clear */
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int nl_insert_checkpoint(const struct journal_rec *r)
{
    sqlite3_stmt *s = nl.cp_ins;
    sqlite3_bind_int64(s, 1, (int64_t)r->size);
    sqlite3_bind_int64(s, 2, r->at_ms);
    sqlite3_bind_blob(s, 3, r->root, NETLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, r->note, (int)r->note_len, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, r->acc, (int)r->acc_len, SQLITE_STATIC);
    return nl_step(s);
}

/* Inserts the records of p[0..len): events NL_ROWS per INSERT statement
 * (one statement per row costs more in SQLite's VM than the row itself),
 * the rest one by one; checkpoints as they come (another table). */
static int nl_insert_records(const uint8_t *p, size_t len)
{
    struct journal_rec rows[NL_ROWS];
    int n = 0, rc = 0;
    size_t off = 0;
    while (off < len && rc == 0) {
        struct journal_rec *r = &rows[n];
        size_t k = journal_decode(p + off, len - off, r, false);
        if (k == 0)
            return -1; /* our own bytes: cannot happen */
        off += k;
        if (r->type == 'C') {
            rc = nl_insert_checkpoint(r);
            continue;
        }
        rc = hix_add(&nl.hix, &r->ev, r->target_len);
        if (++n == NL_ROWS && rc == 0) {
            for (int i = 0; i < n; i++)
                nl_bind_row(nl.ins_many, i * 11, &rows[i]);
            rc = nl_step(nl.ins_many);
            n = 0;
        }
    }
    for (int i = 0; i < n && rc == 0; i++) {
        nl_bind_row(nl.ins, 0, &rows[i]);
        rc = nl_step(nl.ins);
    }
    return rc;
}

/* One transaction for the chunks of list (applier thread, or start-up). */
static int nl_apply(const struct nl_chunk *list)
{
    if (sqlite3_exec(nl.db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
        /* e.g. another process holds the write lock past busy_timeout */
        log_error("netlog: writing to the log database failed: %s", sqlite3_errmsg(nl.db));
        return -1;
    }
    int rc = 0;
    for (const struct nl_chunk *c = list; c && rc == 0; c = c->next)
        rc = nl_insert_records(c->b.p, c->b.len);
    if (rc == 0)
        rc = hix_flush(&nl.hix);
    if (rc == 0 && sqlite3_exec(nl.db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
        rc = -1;
    if (rc != 0) {
        hix_discard(&nl.hix);
        log_error("netlog: writing to the log database failed (the journal keeps the events): %s",
                  sqlite3_errmsg(nl.db));
        sqlite3_exec(nl.db, "ROLLBACK", NULL, NULL, NULL);
    }
    return rc;
}

static void nl_wait_on(pthread_cond_t *cv, int ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += ms / 1000;
    ts.tv_nsec += (long)(ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(cv, &nl.mu, &ts);
}

static int64_t nl_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static int64_t nl_mono_ms(void)
{
    return nl_mono_us() / 1000;
}

static void nl_free_chunks(struct nl_chunk *c)
{
    while (c) {
        struct nl_chunk *next = c->next;
        journal_buf_free(&c->b);
        free(c);
        c = next;
    }
}

/* Keeps applied chunks whose buffers are no larger than a batch needs as
 * spares for the writer (under nl.mu); returns the rest, to be freed. */
static struct nl_chunk *nl_keep_spares(struct nl_chunk *list)
{
    struct nl_chunk *rest = NULL, **tail = &rest;
    while (list) {
        struct nl_chunk *c = list;
        list = c->next;
        if (nl.spare_n < NL_SPARE_MAX && c->b.cap <= 2 * NL_BATCH_BYTES) {
            c->next = nl.spare;
            nl.spare = c;
            nl.spare_n++;
        } else {
            c->next = NULL;
            *tail = c;
            tail = &c->next;
        }
    }
    return rest;
}

/* A chunk for a batch of about bytes (writer): a spare when there is one. */
static struct nl_chunk *nl_take_chunk(size_t bytes)
{
    pthread_mutex_lock(&nl.mu);
    struct nl_chunk *c = nl.spare;
    if (c) {
        nl.spare = c->next;
        nl.spare_n--;
    }
    pthread_mutex_unlock(&nl.mu);
    if (!c)
        c = xcalloc(1, sizeof *c);
    c->next = NULL;
    c->b = (struct journal_buf){.p = c->b.p, .cap = c->b.cap}; /* emptied, memory kept */
    journal_buf_reserve(&c->b, bytes);
    return c;
}

/* The applier thread: copies journaled records into the database, as
 * many as have gathered (at least NL_APPLY_EVENTS, or NL_APPLY_MS after
 * the first, or at once when a reader or the writer asks). */
static void *nl_applier(void *arg)
{
    (void)arg;
    nl_lower_priority();
    pthread_mutex_lock(&nl.mu);
    for (;;) {
        if (!nl.ap_head) {
            if (nl.ap_stop)
                break;
            pthread_cond_wait(&nl.ap_cv, &nl.mu);
            continue;
        }
        bool hurried = nl.ap_room || nl.ap_want > nl.stats.applied_seq;
        if (!hurried && !nl.ap_stop && nl.ap_events < NL_APPLY_EVENTS) {
            int64_t wait = nl.ap_first_ms + NL_APPLY_MS - nl_mono_ms();
            if (wait > 0) {
                nl_wait_on(&nl.ap_cv, (int)wait);
                continue;
            }
        }
        struct nl_chunk *list = nl.ap_head, *last = nl.ap_tail;
        size_t events = nl.ap_events;
        nl.ap_head = nl.ap_tail = NULL;
        nl.ap_events = 0;
        nl.ap_room = false;
        pthread_mutex_unlock(&nl.mu);
        int rc = nl_apply(list);
        pthread_mutex_lock(&nl.mu);
        if (rc != 0) {
            /* keep them, in front of anything newer, and retry */
            last->next = nl.ap_head;
            nl.ap_head = list;
            if (!nl.ap_tail)
                nl.ap_tail = last;
            nl.ap_events += events;
            nl.stats.apply_failed++;
            if (nl.ap_stop)
                break; /* the journal keeps them for the next start */
            nl_wait_on(&nl.ap_cv, 1000);
            continue;
        }
        for (struct nl_chunk *c = list; c; c = c->next) {
            nl.chunks_applied++;
            if (c->b.last_seq > 0)
                nl.stats.applied_seq = c->b.last_seq;
        }
        nl.stats.applies++;
        pthread_cond_broadcast(&nl.wr_cv); /* the writer may rewind the journal */
        list = nl_keep_spares(list);
        pthread_mutex_unlock(&nl.mu);
        uv_async_send(&nl.async); /* readers waiting for these (netlog_when_readable) */
        nl_free_chunks(list);
        pthread_mutex_lock(&nl.mu);
    }
    pthread_mutex_unlock(&nl.mu);
    return NULL;
}

/* ---- the writer thread: the journal ---- */

static bool nl_checkpoint_due(bool closing)
{
    if (nl.acc.size <= nl.cp_size)
        return false;
    return closing || nl.acc.size - nl.cp_size >= (uint64_t)nl.cp_events ||
           nl_now_ms() - nl.cp_ms >= (int64_t)nl.cp_seconds * 1000;
}

/* Signs a checkpoint at the accumulator's size into b. */
static int nl_put_checkpoint(struct journal_buf *b)
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
    journal_put_checkpoint(b, cp.size, now, cp.root, note, acc, acc_len);
    nl.cp_size = cp.size;
    nl.cp_ms = now;
    return 0;
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

/* journal_append, timed: a slow disk sync holds back every delivery behind
 * it (strict mode), so it is counted and said. */
static int nl_journal_append_timed(const struct journal_buf *b)
{
    int64_t t0 = nl_mono_us();
    int rc = journal_append(&nl.jr, b->p, b->len);
    uint64_t us = (uint64_t)(nl_mono_us() - t0);
    if (us > nl.sync_max_us)
        nl.sync_max_us = us;
    if (us > NETLOG_SYNC_SLOW_MS * 1000ull) {
        nl.syncs_slow++;
        unsigned dropped;
        if (log_limit_pass(&nl.sync_warn, 1, 10, &dropped))
            log_warn("netlog: writing and syncing the journal took %llu ms (%llu such in all); "
                     "deliveries waited for it",
                     (unsigned long long)(us / 1000), (unsigned long long)nl.syncs_slow);
    }
    return rc;
}

/* Where the next len bytes go in the journal (writer thread, under
 * nl.mu; the halves are in journal.h): on at the write offset while they
 * fit in its half; else at the start of the other half once the database
 * holds every record there; at offset 0 whenever it holds everything (a
 * batch larger than a half, only in a journal made tiny for a test, then
 * crosses the middle). False when there is no room until the applier
 * takes more. */
static bool nl_journal_place(size_t len)
{
    uint64_t cap = nl.jr.cap, mid = cap / 2, off = nl.jr.off;
    if (nl.chunks_applied == nl.chunks_written) {
        journal_seek(&nl.jr, 0);
        return len <= cap;
    }
    if (off < mid ? off + len <= mid : off + len <= cap)
        return true;
    int other = off < mid ? 1 : 0;
    uint64_t start = other ? mid : 0, end = other ? cap : mid;
    if (nl.chunks_applied < nl.half_last[other] || start + len > end)
        return false;
    journal_seek(&nl.jr, start);
    return true;
}

/* Writes b to the journal (writer thread) where nl_journal_place puts it;
 * when it has no room, the applier is hurried and waited for (up to a
 * second). Returns 0, -1 (errno set) or -2 when the journal is full of
 * records the database has not taken. */
static int nl_journal_write(const struct journal_buf *b)
{
    if (nl_fault_injected())
        return -3;
    pthread_mutex_lock(&nl.mu);
    bool room = nl_journal_place(b->len);
    if (!room) {
        nl.ap_room = true;
        pthread_cond_signal(&nl.ap_cv);
        int64_t until = nl_mono_ms() + 1000;
        while (!(room = nl_journal_place(b->len)) && nl_mono_ms() < until)
            nl_wait_on(&nl.wr_cv, 100);
    }
    pthread_mutex_unlock(&nl.mu);
    if (!room)
        return -2;
    uint64_t start = nl.jr.off, end = start + b->len, mid = nl.jr.cap / 2;
    int rc = nl_journal_append_timed(b);
    if (rc == 0) {
        /* the chunk's number once handed to the applier (nl_to_applier) */
        uint64_t num = nl.chunks_written + 1;
        if (start < mid)
            nl.half_last[0] = num;
        if (end > mid)
            nl.half_last[1] = num;
        /* across the middle: nothing may follow it in the second half, where
         * only the run from 0 would reach it; the next batch waits until the
         * database has it and starts over at offset 0 */
        if (start < mid && end > mid)
            journal_seek(&nl.jr, nl.jr.cap);
    }
    return rc;
}

/* Chains the batch, adds a signed checkpoint when one is due, and writes
 * it all to the journal; on failure everything the batch changed in
 * memory is put back. On success *out is the encoded chunk for the
 * applier (NULL when there was nothing to write). */
static int nl_journal_batch(struct nl_entry *batch, bool closing, struct nl_chunk **out)
{
    uint8_t chain_before[NETLOG_HASH_BYTES];
    struct merkle_acc acc_before = nl.acc;
    uint64_t cp_size_before = nl.cp_size;
    int64_t cp_ms_before = nl.cp_ms;
    memcpy(chain_before, nl.chain, sizeof chain_before);
    *out = NULL;
    size_t bytes = 0;
    for (struct nl_entry *e = batch; e; e = e->next)
        bytes += e->rec_bytes;
    struct nl_chunk *c = nl_take_chunk(bytes);
    struct journal_buf *b = &c->b;
    for (struct nl_entry *e = batch; e; e = e->next) {
        netlog_chain_next(nl.chain, e->leaf, nl.chain);
        merkle_acc_add(&nl.acc, e->leaf);
        journal_put_event_lens(b, &e->ev, e->lens, e->leaf, nl.chain);
    }
    int rc = 0;
    if (nl_checkpoint_due(closing))
        rc = nl_put_checkpoint(b);
    int wrc = rc == 0 && b->len > 0 ? nl_journal_write(b) : 0;
    if (wrc != 0) {
        rc = -1;
        log_error("netlog: commit failed: %s",
                  wrc == -3   ? "injected fault (test build)"
                  : wrc == -2 ? "the journal is full of events the log database has not taken"
                              : strerror(errno));
    }
    if (rc != 0) {
        memcpy(nl.chain, chain_before, sizeof chain_before);
        nl.acc = acc_before;
        nl.cp_size = cp_size_before;
        nl.cp_ms = cp_ms_before;
        nl_free_chunks(c);
        return -1;
    }
    if (b->len == 0) {
        nl_free_chunks(c);
        return 0;
    }
    *out = c;
    return 0;
}

/* Hands a journaled chunk to the applier (under nl.mu). */
static void nl_to_applier(struct nl_chunk *c)
{
    bool was_empty = !nl.ap_head;
    if (nl.ap_tail)
        nl.ap_tail->next = c;
    else
        nl.ap_head = c;
    nl.ap_tail = c;
    nl.ap_events += c->b.events;
    nl.chunks_written++;
    if (was_empty)
        nl.ap_first_ms = nl_mono_ms();
    if (was_empty || nl.ap_events >= NL_APPLY_EVENTS || nl.stop ||
        nl.ap_want > nl.stats.applied_seq)
        pthread_cond_signal(&nl.ap_cv);
}

static void *nl_writer(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&nl.mu);
    for (;;) {
        if (!nl.in_head && !nl.stop) {
            /* relaxed: gather up to 100 ms; strict: wake on the first event,
             * and at least once a second for time-based checkpoints */
            nl_wait_on(&nl.cv, 1000);
            if (!nl.in_head && !nl.stop) {
                if (nl_checkpoint_due(false)) {
                    struct nl_chunk *c = NULL;
                    pthread_mutex_unlock(&nl.mu);
                    int rc = nl_journal_batch(NULL, false, &c);
                    pthread_mutex_lock(&nl.mu);
                    if (rc == 0 && c) {
                        nl_to_applier(c);
                        nl.stats.checkpoint_size = nl.cp_size;
                        nl.stats.checkpoint_ms = nl.cp_ms;
                    }
                }
                continue;
            }
        }
        if (!nl.strict && !nl.stop)
            nl_wait_on(&nl.cv, 100);
        /* at most NL_BATCH_MAX events and about NL_BATCH_BYTES per batch */
        struct nl_entry *batch = nl.in_head, *last = batch;
        size_t n = batch ? 1 : 0, bytes = batch ? batch->rec_bytes : 0;
        while (last && last->next && n < NL_BATCH_MAX && bytes < nl.batch_bytes) {
            last = last->next;
            bytes += last->rec_bytes;
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
        struct nl_chunk *chunk = NULL;
        int rc = batch || stopping ? nl_journal_batch(batch, stopping, &chunk) : 0;
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
            nl_wait_on(&nl.cv, 1000);
            continue;
        }
        if (!atomic_exchange(&nl.healthy, true))
            log_notice("netlog: the log is writable again; posting resumes");
        if (chunk)
            nl_to_applier(chunk);
        nl.stats.checkpoint_size = nl.cp_size; /* writer-only fields, read here on the writer */
        nl.stats.checkpoint_ms = nl.cp_ms;
        nl.stats.sync_max_us = nl.sync_max_us;
        nl.stats.syncs_slow = nl.syncs_slow;
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

static void nl_hand_over(void);

static void nl_run_callbacks(struct nl_entry *list, int status)
{
    while (list) {
        struct nl_entry *next = list->next;
        if (list->cb)
            list->cb(list->ud, status, list->ev.seq);
        nl.released++;
        blockcache_free(list);
        list = next;
    }
}

/* Read-your-writes: how long a waiter waits for the database to take the
 * events appended before it (a failing disk must not hold readers forever). */
#define NL_READABLE_WAIT_MS 2000

/* Calls the waiters whose events are in the database (or that waited too
 * long, or all when closing), in order (loop). */
static void nl_run_waiters(bool all)
{
    if (!nl.wait_head)
        return;
    pthread_mutex_lock(&nl.mu);
    int64_t applied = nl.stats.applied_seq;
    pthread_mutex_unlock(&nl.mu);
    uint64_t now = uv_now(nl.loop);
    while (nl.wait_head && (all || nl.wait_head->want_seq <= applied ||
                            now - nl.wait_head->since_ms >= NL_READABLE_WAIT_MS)) {
        struct nl_waiter *w = nl.wait_head;
        nl.wait_head = w->next;
        if (!nl.wait_head)
            nl.wait_tail = NULL;
        w->fn(w->ud);
        free(w);
    }
    if (!nl.wait_head)
        uv_timer_stop(&nl.wait_timer);
}

static void nl_on_wait_timer(uv_timer_t *t)
{
    (void)t;
    nl_run_waiters(false);
}

static void nl_on_async(uv_async_t *h)
{
    pthread_mutex_lock(&nl.mu);
    struct nl_entry *done = nl.done_head;
    nl.done_head = nl.done_tail = NULL;
    pthread_mutex_unlock(&nl.mu);
    nl_run_callbacks(done, 0);
    nl_run_waiters(false);
}

void netlog_when_readable(void (*fn)(void *ud), void *ud)
{
    if (!nl.open || nl.off) {
        fn(ud);
        return;
    }
    int64_t want = nl.next_seq - 1;
    pthread_mutex_lock(&nl.mu);
    bool ready = nl.stats.applied_seq >= want && !nl.wait_head;
    if (!ready) { /* hurry the applier until the database reaches want */
        if (want > nl.ap_want)
            nl.ap_want = want;
        pthread_cond_signal(&nl.ap_cv);
    }
    pthread_mutex_unlock(&nl.mu);
    if (ready) {
        fn(ud);
        return;
    }
    nl_hand_over();
    struct nl_waiter *w = xcalloc(1, sizeof *w);
    w->want_seq = want;
    w->since_ms = uv_now(nl.loop);
    w->fn = fn;
    w->ud = ud;
    if (nl.wait_tail)
        nl.wait_tail->next = w;
    else
        nl.wait_head = w;
    nl.wait_tail = w;
    /* the applier's async wakes the FIFO; the timer bounds the wait */
    if (!uv_is_active((uv_handle_t *)&nl.wait_timer))
        uv_timer_start(&nl.wait_timer, nl_on_wait_timer, 50, 50);
}

/* s (len bytes) and its NUL at *p, moving *p past them; NULL stays NULL. */
static char *nl_copy(char **p, const char *s, size_t len)
{
    if (!s)
        return NULL;
    memcpy(*p, s, len + 1);
    char *out = *p;
    *p += len + 1;
    return out;
}

int64_t netlog_append(const struct netlog_event *e, netlog_cb cb, void *ud)
{
    uint32_t lens[NETLOG_TEXTS];
    netlog_text_lens(e, lens);
    return netlog_append_lens(e, lens, cb, ud);
}

int64_t netlog_append_lens(const struct netlog_event *e, const uint32_t lens[NETLOG_TEXTS],
                           netlog_cb cb, void *ud)
{
    if (!nl.open || nl.stop || nl.queued + nl.it_count >= nl.queue_max ||
        (e->seq && e->seq != nl.next_seq))
        return -1;
    if (nl.off) { /* benchmarks of the core without the log: a seq, nothing kept */
        int64_t seq = nl.next_seq++;
        if (cb)
            cb(ud, 0, seq);
        return seq;
    }
#ifndef NDEBUG /* the test build: a wrong length would corrupt the journal record */
    uint32_t measured[NETLOG_TEXTS];
    netlog_text_lens(e, measured);
    assert(memcmp(measured, lens, sizeof measured) == 0);
#endif
    size_t text_bytes = netlog_text_bytes(e, lens);
    size_t len = sizeof(struct nl_entry) + text_bytes;
    struct nl_entry *x = blockcache_alloc(len); /* loop-only, like its free */
    char *p = (char *)(x + 1);
    x->next = NULL;
    x->ev = *e;
    x->ev.seq = nl.next_seq++;
    if (!x->ev.at_ms)
        x->ev.at_ms = nl_now_ms();
    if (x->ev.at_ms < nl.last_at) /* the clock stepped back: time ranges stay seq ranges */
        x->ev.at_ms = nl.last_at;
    nl.last_at = x->ev.at_ms;
    /* the strings into the entry, in NETLOG_TEXTS order */
    const char **text[NETLOG_TEXTS] = {&x->ev.kind, &x->ev.actor, &x->ev.target, &x->ev.msgid,
                                       &x->ev.body};
    for (size_t i = 0; i < NETLOG_TEXTS; i++)
        *text[i] = nl_copy(&p, *text[i], lens[i]);
    memcpy(x->lens, lens, sizeof x->lens);
    x->rec_bytes = JOURNAL_EVENT_FIXED + text_bytes; /* = journal_event_bytes(&x->ev) */
    netlog_leaf_hash_lens(&x->ev, lens, x->leaf);
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

int64_t netlog_next_seq(void)
{
    return nl.next_seq;
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

/* The NL_ROWS-row INSERT. OR ROLLBACK: a row that breaks a constraint ends
 * the whole transaction (nl_apply retries it all), so SQLite keeps no
 * statement journal of the pages each statement changes, which for rows
 * spread over many groups' index pages spilled to a temporary file. */
static int nl_prepare_many(char *err, size_t errlen)
{
    /* the head (about 110 bytes), then 36 bytes a row */
    char sql[128 + NL_ROWS * 40];
    size_t n = (size_t)snprintf(
        sql, sizeof sql,
        "INSERT OR ROLLBACK INTO events (seq, at, kind, actor, target, code, account_id,"
        " msgid, body, leaf, chain) VALUES ");
    for (int i = 0; i < NL_ROWS; i++)
        n += (size_t)snprintf(sql + n, sizeof sql - n, "%s(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                              i ? ", " : "");
    assert(n < sizeof sql); /* the text is fixed: a wrong size shows in every test run */
    if (sqlite3_prepare_v3(nl.db, sql, -1, SQLITE_PREPARE_PERSISTENT, &nl.ins_many, NULL) !=
        SQLITE_OK) {
        snprintf(err, errlen, "netlog: %s", sqlite3_errmsg(nl.db));
        return -1;
    }
    return 0;
}

/* The history index's statements, and its runs for events it lacks: a
 * log from before it (once; 2.3 s for a million events on the benchmark
 * machine), or events another program wrote. Before the replay, whose
 * transaction adds runs after them. */
static int nl_history_index(char *err, size_t errlen)
{
    if (hix_init(&nl.hix, nl.db) < 0) {
        snprintf(err, errlen, "netlog: %s", sqlite3_errmsg(nl.db));
        return -1;
    }
    int64_t added = 0;
    int64_t t0 = nl_mono_ms();
    if (hix_catch_up(nl.db, &added, err, errlen) < 0)
        return -1;
    if (added > 1000)
        log_notice("netlog: history index built for %lld event(s) in %lld ms", (long long)added,
                   (long long)(nl_mono_ms() - t0));
    return 0;
}

static uint64_t nl_journal_cap(const struct qun_config *cfg)
{
#ifdef QUN_TEST_HOOKS
    /* test builds: a journal below the configurable minimum, which fills
     * within a test (QUN_NETLOG_JOURNAL_BYTES) */
    const char *v = getenv("QUN_NETLOG_JOURNAL_BYTES");
    if (v && atol(v) > 0)
        return (uint64_t)atol(v);
#endif
    return cfg->netlog_journal_size ? (uint64_t)cfg->netlog_journal_size : NL_JOURNAL_CAP;
}

static void nl_close_db(void)
{
    sqlite3_finalize(nl.ins);
    sqlite3_finalize(nl.ins_many);
    sqlite3_finalize(nl.cp_ins);
    nl.ins = nl.ins_many = nl.cp_ins = NULL;
    hix_close(&nl.hix);
    sqlite3_close(nl.db);
    nl.db = NULL;
    journal_close(&nl.jr);
    checkpoint_key_wipe(&nl.key);
}

/* Start-up: copies into the database what a crash left only in the
 * journal (the events after the database's last, and the checkpoints over
 * them), checking each against the chain, then rewinds the journal. */
static int nl_replay(char *err, size_t errlen)
{
    uint8_t *buf;
    size_t len;
    if (journal_read_all(&nl.jr, &buf, &len, err, errlen) < 0)
        return -1;
    /* its halves as they were written: a file grown just now (a larger
     * journal_size) had its middle at its old size's half */
    struct journal_iter it;
    journal_iter_init(&it, buf, len, (size_t)(nl.jr.found ? nl.jr.found : nl.jr.cap) / 2);
    /* the records the database lacks, as one chunk */
    struct journal_buf b = {0};
    size_t events = 0;
    struct journal_rec r;
    while (journal_iter_next(&it, &r)) {
        if (r.type == 'C') {
            if (r.size + 1 == (uint64_t)nl.next_seq && r.size > nl.cp_size) {
                journal_put_checkpoint(&b, r.size, r.at_ms, r.root, r.note, r.acc, r.acc_len);
                nl.cp_size = r.size;
                nl.cp_ms = r.at_ms;
            }
            continue;
        }
        if (r.ev.seq < nl.next_seq)
            continue;
        uint8_t leaf[NETLOG_HASH_BYTES], chain[NETLOG_HASH_BYTES];
        netlog_leaf_hash(&r.ev, leaf);
        netlog_chain_next(nl.chain, leaf, chain);
        if (r.ev.seq != nl.next_seq || memcmp(leaf, r.leaf, sizeof leaf) != 0 ||
            memcmp(chain, r.chain, sizeof chain) != 0) {
            log_error("netlog: the journal's record for seq %lld does not follow the log "
                      "(which ends at seq %lld); it and what follows are not replayed",
                      (long long)r.ev.seq, (long long)(nl.next_seq - 1));
            break;
        }
        journal_put_event(&b, &r.ev, leaf, chain);
        memcpy(nl.chain, chain, sizeof chain);
        merkle_acc_add(&nl.acc, leaf);
        nl.next_seq = r.ev.seq + 1;
        if (r.ev.at_ms > nl.last_at)
            nl.last_at = r.ev.at_ms;
        events++;
    }
    free(buf);
    int rc = 0;
    if (b.len > 0) {
        struct nl_chunk c = {.b = b};
        rc = nl_apply(&c);
        if (rc != 0)
            snprintf(err, errlen, "netlog: cannot copy the journal into the log: %s",
                     sqlite3_errmsg(nl.db));
        else
            log_notice("netlog: %zu event(s) recovered from the journal; the log ends at seq %lld",
                       events, (long long)(nl.next_seq - 1));
    }
    journal_buf_free(&b);
    journal_seek(&nl.jr, 0);
    return rc;
}

/* Whether the database has an object named name. */
static bool nl_has(sqlite3 *db, const char *name)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, "SELECT 1 FROM sqlite_master WHERE name = ?", -1, &s, NULL) !=
        SQLITE_OK)
        return false; /* not a database: the schema step says so */
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    bool found = sqlite3_step(s) == SQLITE_ROW;
    sqlite3_finalize(s);
    return found;
}

/* What NETLOG_SCHEMA_SQL changes in an old log, once, each a pass over the
 * events; says so first. A log made before log ids has an index of every
 * msgid, replaced by the counter-id index (about 16 s for ten million
 * events here); one made before the history index has three B-tree indexes
 * for history and inspection, dropped for the partial indexes of direct
 * messages (the runs are built after: nl_history_index). */
static int nl_announce_upgrade(sqlite3 *db)
{
    if (nl_has(db, "events_msgid"))
        log_notice("netlog: replacing the index of every msgid by one of the few that need it"
                   " (once, one pass over the log; docs/netlog.md)");
    if (nl_has(db, "events_target_at"))
        log_notice("netlog: replacing the log's history indexes by the history index"
                   " (once, two passes over the log; docs/netlog.md)");
    return SQLITE_OK;
}

int netlog_open(uv_loop_t *loop, const struct qun_config *cfg, char *err, size_t errlen)
{
    memset(&nl, 0, sizeof nl);
    nl.loop = loop;
    loopwatch_track("events the log released", &nl.released);
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
        nl_announce_upgrade(nl.db) != SQLITE_OK ||
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
                           "INSERT OR IGNORE INTO checkpoints (size, at, root, note, acc)"
                           " VALUES (?, ?, ?, ?, ?)",
                           -1, SQLITE_PREPARE_PERSISTENT, &nl.cp_ins, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "netlog: %s: %s", cfg->netlog_path,
                 nl.db ? sqlite3_errmsg(nl.db) : "cannot open");
        sqlite3_close(nl.db);
        nl.db = NULL;
        checkpoint_key_wipe(&nl.key);
        return -1;
    }
    char jpath[4096];
    snprintf(jpath, sizeof jpath, "%s.jnl", cfg->netlog_path);
    nl.jr.fd = -1;
    if (nl_prepare_many(err, errlen) < 0 || nl_history_index(err, errlen) < 0 ||
        nl_load_state(err, errlen) < 0 ||
        journal_open(&nl.jr, jpath, nl_journal_cap(cfg), err, errlen) < 0 ||
        nl_replay(err, errlen) < 0 ||
        journal_shrink(&nl.jr, nl_journal_cap(cfg), err, errlen) < 0) {
        nl_close_db();
        return -1;
    }
    /* a batch fits in a half of the journal, with room for a large event */
    nl.batch_bytes = NL_BATCH_BYTES < nl.jr.cap / 4 ? NL_BATCH_BYTES : (size_t)(nl.jr.cap / 4);
    pthread_mutex_init(&nl.mu, NULL);
    pthread_cond_init(&nl.cv, NULL);
    pthread_cond_init(&nl.ap_cv, NULL);
    pthread_cond_init(&nl.wr_cv, NULL);
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
    nl.stats.applied_seq = nl.next_seq - 1;
    uv_timer_init(loop, &nl.wait_timer);
    if (pthread_create(&nl.ap_thread, NULL, nl_applier, NULL) != 0) {
        snprintf(err, errlen, "netlog: cannot start the applier thread");
        return -1;
    }
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
    pthread_mutex_lock(&nl.mu); /* the applier takes what the writer journaled last */
    nl.ap_stop = true;
    pthread_cond_signal(&nl.ap_cv);
    pthread_mutex_unlock(&nl.mu);
    pthread_join(nl.ap_thread, NULL);
    nl_backfill_stop();     /* before the applier's connection closes (and copies the rest) */
    nl_on_async(&nl.async); /* what was committed last */
    nl_run_waiters(true);
    uv_close((uv_handle_t *)&nl.wait_timer, NULL);
    if (nl.ap_head)
        log_error("netlog: closing with %zu journaled event(s) not yet in the log database; the "
                  "next start copies them from the journal",
                  nl.ap_events);
    nl_free_chunks(nl.ap_head);
    nl_free_chunks(nl.spare);
    nl.spare = NULL;
    nl.spare_n = 0;
    nl.ap_head = nl.ap_tail = NULL;
    struct nl_entry *left = nl.in_head;
    nl.in_head = nl.in_tail = NULL;
    if (left)
        log_error("netlog: closing with %zu event(s) that could not be written", nl.queued);
    nl_run_callbacks(left, -1);
    uv_close((uv_handle_t *)&nl.async, NULL);
    nl_close_db();
    pthread_mutex_destroy(&nl.mu);
    pthread_cond_destroy(&nl.cv);
    pthread_cond_destroy(&nl.ap_cv);
    pthread_cond_destroy(&nl.wr_cv);
    if (!nl.purge_running) { /* else the purge's completion frees it */
        free(nl.path);
        nl.path = NULL;
    }
    nl.open = false;
    log_info("netlog: closed at seq %lld, checkpoint at %llu", (long long)(nl.next_seq - 1),
             (unsigned long long)nl.cp_size);
}
