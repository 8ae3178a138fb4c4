/*
 * reader.c - read-only queries on the network log, run on the libuv thread
 * pool (see reader.h for the contract).
 *
 * Connections: a small pool of read-only SQLite connections to the log
 * file, opened lazily by the worker that first needs one and kept for the
 * next query (opening a connection and preparing statements cost more than
 * a LATEST 50 itself). A worker takes a free connection from the pool, or
 * opens one; so the pool never holds more connections than there are pool
 * threads. Each connection keeps its prepared statements keyed by the SQL
 * text (callers pass fixed SQL literals, so the cache stays small).
 *
 * Results: the worker copies every row into the job's arena (blocks that
 * never move, so cell pointers stay valid), then the loop thread calls the
 * row callbacks and the done callback and frees the arena.
 *
 * Invariants:
 *   1. A connection is used by one worker at a time: it is either on the
 *      free list (under nr.mu) or held by exactly one running job.
 *   2. After netlog_reader_close, a connection returned by a job is closed
 *      instead of going back to the free list; the free list is empty.
 *   3. Every accepted job reaches nr_after exactly once (libuv's promise
 *      for uv_queue_work), which calls done exactly once.
 *   4. Read-your-writes: a query runs only once the database holds every
 *      event appended before its submission (netlog_when_readable), so a
 *      REDACT, JOIN or TOPIC that went out before the CHATHISTORY is in
 *      its answer; after 2 s (a failing disk) it runs on what is there.
 *
 * Threads: nr_work on a pool thread; everything else on the loop thread.
 */
#include "netlog/reader.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlog/netlog.h"
#include "util/alloc.h"
#include "util/log.h"

#define NR_STMT_CACHE  24
#define NR_BLOCK_BYTES (64u * 1024u)

struct nr_stmt {
    char *sql;
    sqlite3_stmt *st;
};

struct nr_conn {
    struct nr_conn *next;
    sqlite3 *db;
    struct nr_stmt stmts[NR_STMT_CACHE];
    size_t next_evict;
};

struct nr_block {
    struct nr_block *next;
    size_t used, cap;
    max_align_t data[];
};

struct nr_row {
    struct store_value *cells;
    size_t ncols;
};

struct nr_job {
    uv_work_t req;
    char *sql;
    struct store_value *binds;
    size_t nbinds;
    store_row_cb row;
    store_done_cb done;
    void *ud;
    /* filled by the worker */
    struct nr_block *blocks;
    size_t bytes;
    struct nr_row *rows;
    size_t nrows, rows_cap;
    int status;
    char err[200];
};

static struct {
    bool open;
    uv_loop_t *loop;
    char *path;
    pthread_mutex_t mu;
    struct nr_conn *free_list;        /* under mu */
    bool closing;                     /* under mu */
    size_t inflight;                  /* loop thread: jobs queued, not yet done */
    struct netlog_reader_stats stats; /* under mu */
} nr;

/* ---- the arena ---- */

static void *nr_alloc(struct nr_job *j, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    j->bytes += n;
    struct nr_block *b = j->blocks;
    if (!b || b->cap - b->used < n) {
        size_t cap = n > NR_BLOCK_BYTES ? n : NR_BLOCK_BYTES;
        b = xmalloc(sizeof *b + cap);
        b->used = 0;
        b->cap = cap;
        b->next = j->blocks;
        j->blocks = b;
    }
    void *p = (char *)b->data + b->used;
    b->used += n;
    return p;
}

static void nr_arena_free(struct nr_job *j)
{
    while (j->blocks) {
        struct nr_block *next = j->blocks->next;
        free(j->blocks);
        j->blocks = next;
    }
    free(j->rows);
    j->rows = NULL;
}

/* ---- connections (worker threads) ---- */

static struct nr_conn *nr_conn_take(char *err, size_t errlen)
{
    pthread_mutex_lock(&nr.mu);
    bool closing = nr.closing;
    struct nr_conn *c = closing ? NULL : nr.free_list;
    if (c)
        nr.free_list = c->next;
    else if (!closing)
        nr.stats.connections_opened++;
    pthread_mutex_unlock(&nr.mu);
    if (c || closing) {
        if (closing)
            snprintf(err, errlen, "the log reader is closing");
        return c;
    }
    c = xcalloc(1, sizeof *c);
    if (sqlite3_open_v2(nr.path, &c->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(c->db,
                     "PRAGMA busy_timeout = 5000; PRAGMA query_only = 1;"
                     " PRAGMA cache_size = -16384; PRAGMA mmap_size = 268435456;",
                     NULL, NULL, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the log for reading: %s",
                 c->db ? sqlite3_errmsg(c->db) : "out of memory");
        sqlite3_close(c->db);
        free(c);
        return NULL;
    }
    return c;
}

static void nr_conn_close(struct nr_conn *c)
{
    for (size_t i = 0; i < NR_STMT_CACHE; i++) {
        sqlite3_finalize(c->stmts[i].st);
        free(c->stmts[i].sql);
    }
    sqlite3_close(c->db);
    free(c);
}

static void nr_conn_give(struct nr_conn *c)
{
    pthread_mutex_lock(&nr.mu);
    bool closing = nr.closing;
    if (!closing) {
        c->next = nr.free_list;
        nr.free_list = c;
    }
    pthread_mutex_unlock(&nr.mu);
    if (closing)
        nr_conn_close(c);
}

/* The connection's prepared statement for sql (prepared on first use). */
static sqlite3_stmt *nr_prepare(struct nr_conn *c, const char *sql)
{
    for (size_t i = 0; i < NR_STMT_CACHE; i++)
        if (c->stmts[i].sql && strcmp(c->stmts[i].sql, sql) == 0)
            return c->stmts[i].st;
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK)
        return NULL;
    struct nr_stmt *slot = &c->stmts[c->next_evict++ % NR_STMT_CACHE];
    sqlite3_finalize(slot->st);
    free(slot->sql);
    slot->sql = xstrdup(sql);
    slot->st = st;
    return st;
}

/* ---- the worker ---- */

static void nr_bind(sqlite3_stmt *st, const struct store_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int k = (int)i + 1;
        switch (v[i].type) {
        case STORE_TYPE_NULL:
            sqlite3_bind_null(st, k);
            break;
        case STORE_TYPE_INT:
            sqlite3_bind_int64(st, k, v[i].i);
            break;
        case STORE_TYPE_TEXT:
            sqlite3_bind_text(st, k, v[i].p, (int)v[i].len, SQLITE_STATIC);
            break;
        case STORE_TYPE_BLOB:
            sqlite3_bind_blob(st, k, v[i].p, (int)v[i].len, SQLITE_STATIC);
            break;
        }
    }
}

/* Copies the current row into the arena; -1 when over the cap. */
static int nr_copy_row(struct nr_job *j, sqlite3_stmt *st)
{
    size_t ncols = (size_t)sqlite3_column_count(st);
    struct store_value *cells = nr_alloc(j, ncols * sizeof *cells);
    for (size_t i = 0; i < ncols; i++) {
        int t = sqlite3_column_type(st, (int)i);
        memset(&cells[i], 0, sizeof cells[i]);
        if (t == SQLITE_INTEGER || t == SQLITE_FLOAT) {
            cells[i].type = STORE_TYPE_INT;
            cells[i].i = sqlite3_column_int64(st, (int)i);
        } else if (t == SQLITE_TEXT || t == SQLITE_BLOB) {
            const void *src = t == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, (int)i)
                                               : sqlite3_column_blob(st, (int)i);
            size_t len = (size_t)sqlite3_column_bytes(st, (int)i);
            char *dst = nr_alloc(j, len + 1);
            if (len)
                memcpy(dst, src, len);
            dst[len] = '\0';
            cells[i].type = t == SQLITE_TEXT ? STORE_TYPE_TEXT : STORE_TYPE_BLOB;
            cells[i].p = dst;
            cells[i].len = len;
        }
    }
    if (j->bytes > NETLOG_READER_MAX_BYTES)
        return -1;
    if (j->nrows == j->rows_cap) {
        j->rows_cap = j->rows_cap ? j->rows_cap * 2 : 64;
        j->rows = xrealloc(j->rows, j->rows_cap * sizeof *j->rows);
    }
    j->rows[j->nrows++] = (struct nr_row){cells, ncols};
    return 0;
}

static void nr_run(struct nr_job *j, struct nr_conn *c)
{
    sqlite3_stmt *st = nr_prepare(c, j->sql);
    if (!st) {
        j->status = STORE_ERR_SQL;
        snprintf(j->err, sizeof j->err, "%s", sqlite3_errmsg(c->db));
        return;
    }
    if (sqlite3_bind_parameter_count(st) != (int)j->nbinds) {
        j->status = STORE_ERR_SQL;
        snprintf(j->err, sizeof j->err, "bind count %zu, statement wants %d", j->nbinds,
                 sqlite3_bind_parameter_count(st));
        return;
    }
    nr_bind(st, j->binds, j->nbinds);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (nr_copy_row(j, st) < 0) {
            j->status = STORE_ERR_TOO_BIG;
            snprintf(j->err, sizeof j->err, "result over %u bytes", NETLOG_READER_MAX_BYTES);
            break;
        }
    }
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        j->status = rc == SQLITE_BUSY ? STORE_ERR_BUSY : STORE_ERR_IO;
        snprintf(j->err, sizeof j->err, "%s", sqlite3_errmsg(c->db));
    }
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

static void nr_work(uv_work_t *req)
{
    struct nr_job *j = req->data;
    struct nr_conn *c = nr_conn_take(j->err, sizeof j->err);
    if (!c) {
        j->status = STORE_ERR_IO;
        return;
    }
    nr_run(j, c);
    nr_conn_give(c);
}

/* ---- the loop side ---- */

static void nr_job_free(struct nr_job *j)
{
    nr_arena_free(j);
    free(j->sql);
    free(j->binds); /* the bound strings live in the same allocation */
    free(j);
}

static void nr_after(uv_work_t *req, int status)
{
    struct nr_job *j = req->data;
    if (status == UV_ECANCELED) {
        j->status = STORE_ERR_CLOSING;
        snprintf(j->err, sizeof j->err, "the log reader is closing");
    }
    pthread_mutex_lock(&nr.mu);
    nr.stats.queries++;
    nr.stats.rows += j->nrows;
    pthread_mutex_unlock(&nr.mu);
    if (j->status == STORE_OK && j->row)
        for (size_t i = 0; i < j->nrows; i++)
            if (j->row(j->ud, j->rows[i].cells, j->rows[i].ncols))
                break;
    j->done(j->ud, j->status, j->status == STORE_OK ? NULL : j->err);
    nr_job_free(j);
    if (--nr.inflight == 0 && !nr.open) {
        free(nr.path); /* the last job after close: nothing reads it now */
        nr.path = NULL;
    }
}

static void nr_queue(struct nr_job *j)
{
    if (uv_queue_work(nr.loop, &j->req, nr_work, nr_after) != 0) {
        j->status = STORE_ERR_IO;
        snprintf(j->err, sizeof j->err, "cannot queue the query");
        nr_after(&j->req, 0);
    }
}

/* netlog_when_readable's callback: the job's events are in the database. */
static void nr_ready(void *ud)
{
    nr_queue(ud);
}

/* One allocation for the bind array and every text or blob it points to. */
static struct store_value *nr_copy_binds(const struct store_value *b, size_t n)
{
    size_t bytes = n * sizeof *b;
    for (size_t i = 0; i < n; i++)
        if (b[i].type == STORE_TYPE_TEXT || b[i].type == STORE_TYPE_BLOB)
            bytes += b[i].len + 1;
    struct store_value *out = xmalloc(bytes ? bytes : 1);
    char *area = (char *)(out + n);
    for (size_t i = 0; i < n; i++) {
        out[i] = b[i];
        if (b[i].type == STORE_TYPE_TEXT || b[i].type == STORE_TYPE_BLOB) {
            if (b[i].len)
                memcpy(area, b[i].p, b[i].len);
            area[b[i].len] = '\0';
            out[i].p = area;
            area += b[i].len + 1;
        }
    }
    return out;
}

int netlog_query(const char *sql, const struct store_value *binds, size_t n, store_row_cb row,
                 store_done_cb done, void *ud)
{
    if (!nr.open)
        return STORE_ERR_CLOSING;
    if (!sql || !done)
        return STORE_ERR_ARG;
    struct nr_job *j = xcalloc(1, sizeof *j);
    j->req.data = j;
    j->sql = xstrdup(sql);
    j->binds = nr_copy_binds(binds, n);
    j->nbinds = n;
    j->row = row;
    j->done = done;
    j->ud = ud;
    nr.inflight++;
    netlog_when_readable(nr_ready, j);
    return STORE_OK;
}

int netlog_reader_init(uv_loop_t *loop, const char *path)
{
    if (nr.open)
        return 0;
    memset(&nr, 0, sizeof nr);
    pthread_mutex_init(&nr.mu, NULL);
    nr.loop = loop;
    nr.path = xstrdup(path);
    nr.open = true;
    return 0;
}

void netlog_reader_close(void)
{
    if (!nr.open)
        return;
    nr.open = false;
    pthread_mutex_lock(&nr.mu);
    nr.closing = true;
    struct nr_conn *list = nr.free_list;
    nr.free_list = NULL;
    pthread_mutex_unlock(&nr.mu);
    while (list) {
        struct nr_conn *next = list->next;
        nr_conn_close(list);
        list = next;
    }
    log_info("netlog reader: closed after %llu queries, %llu connection(s)", nr.stats.queries,
             nr.stats.connections_opened);
    /* a job still running needs nr.path until it ends (nr_after frees it) */
    if (nr.inflight == 0) {
        free(nr.path);
        nr.path = NULL;
    }
}

void netlog_reader_get_stats(struct netlog_reader_stats *out)
{
    pthread_mutex_lock(&nr.mu);
    *out = nr.stats;
    pthread_mutex_unlock(&nr.mu);
}
