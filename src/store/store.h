/*
 * store.h - the persistent store: a backend-neutral, asynchronous interface.
 *
 * Owns the contract every backend (SQLite now, PostgreSQL later) keeps; the
 * SQLite backend is store/sqlite.c and docs/internals/store.md describes its
 * threads and the group commit.
 *
 * Design: SQL text plus typed bind values. A caller passes a fixed SQL
 * string with `?` placeholders and an array of struct store_value; the
 * backend prepares the statement and binds the values, so a value never
 * becomes part of SQL text (no quoting, no injection). Callers keep SQL in
 * string literals; the same literals are written in the dialect subset both
 * backends accept (a PostgreSQL backend rewrites `?` to `$n`).
 *
 * Threads: every public function is called on the loop thread only. Every
 * callback runs on the loop thread, never on a worker. Submission copies the
 * SQL and the bound values, so the caller may free them when the call
 * returns.
 *
 * Ordering guarantees:
 *   1. Writes are applied and completed in submission order.
 *   2. A write is durable (committed and synced) before its callback runs.
 *   3. A read submitted after a write's callback has run sees that write.
 *      A read submitted before that point may or may not see it.
 *   4. Reads have no order among themselves or against pending writes.
 *
 * Errors: submission returns 0 or a negative STORE_ERR_*; a job that was
 * accepted always gets exactly one completion callback (also at close). A
 * write that fails alone (say a UNIQUE violation) fails only itself; a batch
 * whose COMMIT fails fails every write in it, each with the backend's
 * message.
 */
#ifndef QUN_STORE_STORE_H
#define QUN_STORE_STORE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h> /* strlen in STORE_TEXT */
#include <uv.h>

enum store_status {
    STORE_OK = 0,
    STORE_ERR_CONSTRAINT = -1, /* UNIQUE, FOREIGN KEY, NOT NULL, CHECK */
    STORE_ERR_BUSY = -2,       /* lock not obtained within busy_timeout */
    STORE_ERR_SQL = -3,        /* bad statement or bind count (a bug) */
    STORE_ERR_IO = -4,         /* disk, corruption, full */
    STORE_ERR_TOO_BIG = -5,    /* result larger than max_result_bytes */
    STORE_ERR_CLOSING = -6,    /* store_close was called */
    STORE_ERR_SCHEMA = -7,     /* database newer than this program */
    STORE_ERR_ARG = -8         /* bad option or argument */
};

enum store_type { STORE_TYPE_NULL, STORE_TYPE_INT, STORE_TYPE_TEXT, STORE_TYPE_BLOB };

/* One bound parameter or one result cell. For TEXT, p is UTF-8 and, in
 * results, NUL-terminated (len excludes the NUL). */
struct store_value {
    enum store_type type;
    int64_t i;
    const void *p;
    size_t len;
};

#define STORE_NULL()     ((struct store_value){.type = STORE_TYPE_NULL})
#define STORE_INT(v)     ((struct store_value){.type = STORE_TYPE_INT, .i = (v)})
#define STORE_TEXT(s)    ((struct store_value){.type = STORE_TYPE_TEXT, .p = (s), .len = strlen(s)})
#define STORE_BLOB(b, n) ((struct store_value){.type = STORE_TYPE_BLOB, .p = (b), .len = (n)})

/* A result cell read as text (NULL unless TEXT) or as an integer (0 unless
 * INTEGER). */
static inline const char *store_cell_text(const struct store_value *v)
{
    return v->type == STORE_TYPE_TEXT ? (const char *)v->p : NULL;
}
static inline int64_t store_cell_int(const struct store_value *v)
{
    return v->type == STORE_TYPE_INT ? v->i : 0;
}

struct store_options {
    const char *path;         /* database file; created if missing */
    int busy_timeout_ms;      /* 0 means 5000 */
    unsigned batch_window_us; /* extra wait to gather a batch; 0 = none */
    unsigned batch_max;       /* writes per transaction; 0 means 1024 */
    size_t max_result_bytes;  /* cap on one read's result; 0 means 1 MiB */
};

/* Counters, read on the loop thread (a snapshot under the store's lock). */
struct store_stats {
    uint64_t writes_ok;          /* write jobs completed successfully */
    uint64_t writes_failed;      /* write jobs completed with an error */
    uint64_t commits;            /* transactions committed by the writer */
    uint64_t batches_failed;     /* transactions rolled back as a whole */
    uint64_t reads;              /* read jobs completed */
    uint64_t max_batch;          /* largest batch committed */
    uint64_t migrations_applied; /* steps applied by store_open */
};

struct store;

/* Completion of a write: status, the last inserted row id and the number
 * of rows changed by this write; err is the backend message (NULL on
 * success), valid only during the call. */
typedef void (*store_write_cb)(void *ud, int status, int64_t last_id, int64_t changes,
                               const char *err);
/* One result row; cols valid only during the call. Return nonzero to skip
 * the remaining rows (done_cb still runs, with STORE_OK). */
typedef int (*store_row_cb)(void *ud, const struct store_value *cols, size_t ncols);
typedef void (*store_done_cb)(void *ud, int status, const char *err);
typedef void (*store_close_cb)(void *ud);

/* Opens (creating if needed) the store and applies pending schema
 * migrations in one transaction before returning. On failure returns a
 * STORE_ERR_* and writes a sentence into err; *out is left NULL. */
int store_open(uv_loop_t *loop, const struct store_options *opt, struct store **out, char *err,
               size_t errlen);

/* Queues one write statement. cb may be NULL. */
int store_exec_write(struct store *st, const char *sql, const struct store_value *binds,
                     size_t nbinds, store_write_cb cb, void *ud);

/* Runs one read statement off the loop; row_cb is called for each row,
 * then done_cb once, all on the loop thread. row_cb may be NULL. */
int store_query(struct store *st, const char *sql, const struct store_value *binds, size_t nbinds,
                store_row_cb row_cb, store_done_cb done_cb, void *ud);

/* One number: runs a read whose first row's first column is an integer
 * (a count, say) and calls cb(ud, 0, n) on the loop, or cb(ud, -1, 0) when
 * the read fails (logged with `what`). Returns like store_query; cb runs
 * only when it returns STORE_OK. */
typedef void (*store_count_cb)(void *ud, int status, int64_t n);
int store_count(struct store *st, const char *sql, const struct store_value *binds, size_t nbinds,
                const char *what, store_count_cb cb, void *ud);

/* Start-up only: runs one read and waits for it by turning the store's
 * loop (uv_run UV_RUN_ONCE) until done_cb would have run, so a module can
 * load its rows before the server accepts anyone. Never call it from a
 * callback or once clients are served: it runs other handles' callbacks
 * re-entrantly and blocks the loop for the whole read. row gets ud (may be
 * NULL). On failure returns -1 and writes "loading <what>: <reason>" into
 * err, the reason being the backend's message or "the store refused the
 * query"; 0 when every row was handed over. */
int store_load(struct store *st, const char *sql, const struct store_value *binds, size_t nbinds,
               store_row_cb row, void *ud, const char *what, char *err, size_t errlen);

/* Refuses new jobs, lets every accepted job complete (its callback runs),
 * stops the writer, closes the connections and the loop handle, then calls
 * cb (may be NULL) and frees the store. */
void store_close(struct store *st, store_close_cb cb, void *ud);

void store_get_stats(struct store *st, struct store_stats *out);
/* The schema version after migrations (PRAGMA user_version). */
int store_schema_version(const struct store *st);
/* The number of migration steps this program knows. */
int store_schema_latest(void);
const char *store_status_name(int status);

#endif
