/*
 * sqlite.c - the embedded SQLite backend of store.h.
 *
 * Owns the write connection, the writer thread, the read-connection pool,
 * the schema migrations, the hand-off of completions to the loop and the
 * start-up wait on one read (store_load).
 *
 * Threads:
 *   - the loop thread calls every public function and runs every callback;
 *   - ONE writer thread owns the write connection (wdb) and nothing else
 *     touches it after store_open returns;
 *   - reads run on the libuv thread pool (uv_queue_work), each on a
 *     read-only connection taken from a pool guarded by mu.
 *
 * Writer states (the function performing each transition in brackets):
 *
 *   IDLE --- queue non-empty [store_exec_write signals cv] ---> GATHER
 *   GATHER --- window over, take <= batch_max jobs [writer_take] ---> BATCH
 *   BATCH: BEGIN IMMEDIATE; per job SAVEPOINT / run / RELEASE (or ROLLBACK
 *          TO: that job alone fails); COMMIT [writer_run_batch]
 *      | COMMIT ok: every job keeps its own status
 *      | BEGIN or COMMIT failed: ROLLBACK, every job fails with the message
 *      v
 *   POST: jobs appended to the done list, uv_async_send [writer_post]
 *      -> GATHER if the queue is non-empty, IDLE if empty, EXIT if empty and
 *         stop is set [writer_main]
 *
 * Invariants:
 *   1. Jobs leave the queue in submission order and are completed on the
 *      loop in that order (the done list is FIFO).
 *   2. Every accepted job is completed exactly once, also during close:
 *      the writer exits only when stop is set AND the queue is empty.
 *   3. The store is freed only after the writer is joined, no read is in
 *      flight and the async handle is closed (store_finish).
 *
 * Durability: synchronous=FULL. In WAL mode NORMAL survives a crash of the
 * process but a power loss can lose the last commits, and a registration
 * or a level-2 verification that the user was told succeeded must not
 * vanish. FULL costs one fsync of the WAL per commit (about 0.2 ms here);
 * group commit shares that fsync among every write in a batch.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <sqlite3.h>

#include "store/store.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/loopwatch.h"

/* Answers handed to callers on the loop, every store (loopwatch_track). */
static uint64_t store_answers;

struct store_job {
    struct store_job *next;
    struct store *st;
    char *sql;
    struct store_value *binds;
    size_t nbinds;
    store_write_cb wcb;
    store_row_cb rcb;
    store_done_cb dcb;
    void *ud;
    int status;
    char *err;
    int64_t last_id;
    int64_t changes;
    struct store_value *cells; /* read result, ncells = rows * ncols */
    size_t ncells, cap_cells, ncols, result_bytes;
    uv_work_t work;
};

struct store {
    uv_loop_t *loop;
    struct store_options opt;
    char *path;
    int version;
    sqlite3 *wdb;
    uv_thread_t writer;
    uv_async_t async;
    uv_mutex_t mu; /* guards everything below down to stats */
    uv_cond_t cv;
    struct store_job *q_head, *q_tail; /* writes waiting for the writer */
    struct store_job *d_head, *d_tail; /* writes done, waiting for the loop */
    int stop, writer_done;
    sqlite3 **rpool; /* idle read connections */
    size_t rfree, rcap;
    struct store_stats stats;
    /* loop thread only */
    unsigned reads_inflight;
    int closing, finished;
    store_close_cb close_cb;
    void *close_ud;
};

/* Ordered schema steps; step k (1-based) brings user_version to k. Only
 * append: a released step is never edited. */
static const char *const store_migrations[] = {
    /* 1: account stub (the identity work extends it) and the audit trail. */
    "CREATE TABLE accounts ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL,"
    " name_folded TEXT NOT NULL UNIQUE,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " at INTEGER NOT NULL,"
    " actor TEXT NOT NULL,"
    " action TEXT NOT NULL,"
    " target TEXT,"
    " detail TEXT);"
    "CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;"
    "CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit is append-only'); END;",
    /* 2: credentials, identity levels, sessions, certificates, the manual
     * identity queue (src/account/, src/identity/verify.c). Sealed columns
     * hold vault output only; nothing here is plaintext personal data. */
    "ALTER TABLE accounts ADD COLUMN password_hash TEXT;"
    "ALTER TABLE accounts ADD COLUMN scram_salt BLOB;"
    "ALTER TABLE accounts ADD COLUMN scram_iterations INTEGER;"
    "ALTER TABLE accounts ADD COLUMN scram_stored_key BLOB;"
    "ALTER TABLE accounts ADD COLUMN scram_server_key BLOB;"
    "ALTER TABLE accounts ADD COLUMN level INTEGER NOT NULL DEFAULT 0;"
    "ALTER TABLE accounts ADD COLUMN phone_sealed BLOB;"
    "ALTER TABLE accounts ADD COLUMN phone_verified_at INTEGER;"
    "ALTER TABLE accounts ADD COLUMN identity_hash BLOB;"
    "ALTER TABLE accounts ADD COLUMN identity_doc_type TEXT;"
    "ALTER TABLE accounts ADD COLUMN identity_name_sealed BLOB;"
    "ALTER TABLE accounts ADD COLUMN identity_doc_sealed BLOB;"
    "ALTER TABLE accounts ADD COLUMN identity_verified_at INTEGER;"
    "ALTER TABLE accounts ADD COLUMN suspended_at INTEGER;"
    "ALTER TABLE accounts ADD COLUMN suspend_reason TEXT;"
    "ALTER TABLE accounts ADD COLUMN convention_version INTEGER;"
    "ALTER TABLE accounts ADD COLUMN convention_at INTEGER;"
    "CREATE INDEX accounts_identity_hash ON accounts (identity_hash);"
    "CREATE TABLE account_certs ("
    " account_id INTEGER NOT NULL,"
    " fingerprint TEXT NOT NULL UNIQUE,"
    " added_at INTEGER NOT NULL);"
    "CREATE TABLE sessions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " account_id INTEGER NOT NULL,"
    " account TEXT NOT NULL,"
    " event TEXT NOT NULL CHECK (event IN ('login', 'logout')),"
    " at INTEGER NOT NULL,"
    " mechanism TEXT,"
    " ip TEXT NOT NULL,"
    " port INTEGER NOT NULL,"
    " tls_version TEXT,"
    " tls_cipher TEXT,"
    " certfp TEXT);"
    "CREATE TABLE identity_requests ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " account_id INTEGER NOT NULL,"
    " account TEXT NOT NULL,"
    " doc_type TEXT NOT NULL,"
    " name_sealed BLOB NOT NULL,"
    " doc_sealed BLOB NOT NULL,"
    " identity_hash BLOB NOT NULL,"
    " provider TEXT NOT NULL,"
    " status TEXT NOT NULL CHECK (status IN ('pending', 'accepted', 'rejected')),"
    " reason TEXT,"
    " submitted_at INTEGER NOT NULL,"
    " decided_at INTEGER,"
    " decided_by TEXT);",
    /* 3: groups (src/irc/group.c) and the credit events (src/credit/).
     * Codes come from AUTOINCREMENT and start at 10001; a dissolved group
     * keeps its row, so a code is never reused. */
    "CREATE TABLE groups ("
    " code INTEGER PRIMARY KEY AUTOINCREMENT,"
    " name TEXT NOT NULL,"
    " name_folded TEXT NOT NULL,"
    " category TEXT NOT NULL,"
    " owner_id INTEGER NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " modes INTEGER NOT NULL DEFAULT 0,"
    " chan_key TEXT,"
    " chan_limit INTEGER NOT NULL DEFAULT 0,"
    " topic TEXT,"
    " topic_setter TEXT,"
    " topic_at INTEGER,"
    " approval INTEGER NOT NULL DEFAULT 0,"
    " transfer_to INTEGER,"
    " dissolved_at INTEGER);"
    "CREATE UNIQUE INDEX groups_live_name ON groups (name_folded) WHERE dissolved_at IS NULL;"
    "INSERT INTO sqlite_sequence (name, seq) VALUES ('groups', 10000);"
    "CREATE TABLE group_members ("
    " code INTEGER NOT NULL,"
    " account_id INTEGER NOT NULL,"
    " role INTEGER NOT NULL DEFAULT 0,"
    " joined_at INTEGER NOT NULL,"
    " muted_until INTEGER NOT NULL DEFAULT 0,"
    " PRIMARY KEY (code, account_id));"
    "CREATE TABLE group_lists ("
    " code INTEGER NOT NULL,"
    " list INTEGER NOT NULL,"
    " mask TEXT NOT NULL,"
    " setter TEXT NOT NULL,"
    " set_at INTEGER NOT NULL);"
    "CREATE TABLE group_requests ("
    " code INTEGER NOT NULL,"
    " account_id INTEGER NOT NULL,"
    " requested_at INTEGER NOT NULL,"
    " PRIMARY KEY (code, account_id));"
    "CREATE TABLE credit_events ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " account_id INTEGER NOT NULL,"
    " delta INTEGER NOT NULL,"
    " reason TEXT NOT NULL,"
    " evidence TEXT,"
    " author TEXT NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE TRIGGER credit_events_no_update BEFORE UPDATE ON credit_events"
    " BEGIN SELECT RAISE(ABORT, 'credit events are append-only'); END;"
    "CREATE TRIGGER credit_events_no_delete BEFORE DELETE ON credit_events"
    " BEGIN SELECT RAISE(ABORT, 'credit events are append-only'); END;",
    /* 4: moderation (rules art. 5, 10-12): credit appeals (src/credit/),
     * complaints (src/complaint/), sanctions, group violations, the
     * blacklist and the emergency switch (src/sanction/), messages held by
     * automatic rules (src/rules/) and reports to the authority
     * (src/report/). Times are moderation-clock seconds (util/clock.h). */
    "CREATE TABLE credit_appeals ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " event_id INTEGER NOT NULL,"
    " account_id INTEGER NOT NULL,"
    " text TEXT NOT NULL,"
    " filed_at INTEGER NOT NULL,"
    " outcome TEXT,"
    " decided_by TEXT,"
    " decided_at INTEGER,"
    " note TEXT,"
    " offset_event_id INTEGER);"
    /* one open appeal per event; a user's appeals and ledger by account */
    "CREATE UNIQUE INDEX credit_appeals_open ON credit_appeals (event_id)"
    " WHERE outcome IS NULL;"
    "CREATE INDEX credit_appeals_account ON credit_appeals (account_id, id);"
    "CREATE INDEX credit_events_account ON credit_events (account_id, id);"
    "CREATE TABLE complaints ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " reporter_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " target TEXT NOT NULL,"
    " subject_id INTEGER,"
    " group_code INTEGER,"
    " msg_seq INTEGER,"
    " category TEXT NOT NULL,"
    " text TEXT NOT NULL,"
    " filed_at INTEGER NOT NULL,"
    " stage TEXT NOT NULL,"
    " deadline INTEGER NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'open',"
    " overdue_group INTEGER NOT NULL DEFAULT 0,"
    " overdue INTEGER NOT NULL DEFAULT 0,"
    " escalated_by TEXT,"
    " escalated_at INTEGER,"
    " decided_by TEXT,"
    " decided_at INTEGER,"
    " severity TEXT,"
    " rule TEXT,"
    " note TEXT);"
    "CREATE INDEX complaints_state ON complaints (state, deadline);"
    "CREATE INDEX complaints_reporter ON complaints (reporter_id, filed_at);"
    "CREATE INDEX complaints_group ON complaints (group_code, state);"
    "CREATE TABLE sanctions ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " subject_kind TEXT NOT NULL,"
    " subject_id INTEGER NOT NULL,"
    " kind TEXT NOT NULL,"
    " reason TEXT NOT NULL,"
    " evidence TEXT,"
    " author TEXT NOT NULL,"
    " started_at INTEGER NOT NULL,"
    " ends_at INTEGER,"
    " lifted_at INTEGER,"
    " lifted_by TEXT,"
    " credit_event INTEGER,"
    " told INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX sanctions_subject ON sanctions (subject_kind, subject_id);"
    "CREATE TABLE group_violations ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " code INTEGER NOT NULL,"
    " severity TEXT NOT NULL,"
    " rule TEXT,"
    " evidence TEXT,"
    " author TEXT NOT NULL,"
    " at INTEGER NOT NULL);"
    "CREATE TABLE blacklist ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL,"
    " value TEXT NOT NULL,"
    " label TEXT,"
    " reason TEXT NOT NULL,"
    " author TEXT NOT NULL,"
    " added_at INTEGER NOT NULL,"
    " removed_at INTEGER,"
    " removed_by TEXT);"
    "CREATE TABLE emergency ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " scope TEXT NOT NULL,"
    " message TEXT NOT NULL,"
    " set_by TEXT NOT NULL,"
    " set_at INTEGER NOT NULL,"
    " lifted_at INTEGER,"
    " lifted_by TEXT);"
    "CREATE TABLE held_messages ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " code INTEGER NOT NULL,"
    " account_id INTEGER NOT NULL,"
    " account TEXT NOT NULL,"
    " sender TEXT NOT NULL,"
    " command TEXT NOT NULL,"
    " text TEXT,"
    " tags TEXT,"
    " relayed TEXT,"
    " rule TEXT NOT NULL,"
    " severity TEXT NOT NULL,"
    " group_violation INTEGER NOT NULL DEFAULT 0,"
    " held_at INTEGER NOT NULL,"
    " decision TEXT,"
    " decided_by TEXT,"
    " decided_at INTEGER);"
    "CREATE INDEX held_messages_waiting ON held_messages (code, id) WHERE decision IS NULL;"
    "CREATE TABLE reports ("
    " id INTEGER PRIMARY KEY,"
    " idem_key TEXT NOT NULL UNIQUE,"
    " kind TEXT NOT NULL,"
    " subject TEXT,"
    " group_code INTEGER,"
    " author TEXT NOT NULL,"
    " body TEXT NOT NULL,"
    " seqs TEXT NOT NULL DEFAULT '[]',"
    " sealed INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_attempt_at INTEGER NOT NULL,"
    " spool_done INTEGER NOT NULL DEFAULT 0,"
    " http_done INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " delivered_at INTEGER,"
    " acked_at INTEGER,"
    " acked_by TEXT);"
    "CREATE INDEX reports_status ON reports (status, id);"
    "CREATE TABLE report_attempts ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " report_id INTEGER NOT NULL,"
    " at INTEGER NOT NULL,"
    " sink TEXT NOT NULL,"
    " ok INTEGER NOT NULL,"
    " detail TEXT);"
    "CREATE INDEX report_attempts_report ON report_attempts (report_id, id);",
    /* 5: operator accounts of the web console (src/console/operator.c).
     * Console sessions are kept in memory only (src/console/session.c). */
    "CREATE TABLE operators ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " role TEXT NOT NULL CHECK (role IN ('administrator', 'moderator', 'auditor')),"
    " password_hash TEXT NOT NULL CHECK (password_hash LIKE '$argon2id$%'),"
    " created_at INTEGER NOT NULL,"
    " created_by TEXT NOT NULL,"
    " password_changed_at INTEGER,"
    " disabled_at INTEGER,"
    " disabled_by TEXT);",
    /* 6: appeals against sanctions (src/sanction/appeal.c): one open appeal
     * per sanction; filed by the sanction's subject (a person sanction) or
     * its group's owner (a group sanction). */
    "CREATE TABLE sanction_appeals ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " sanction_id INTEGER NOT NULL,"
    " account_id INTEGER NOT NULL,"
    " text TEXT NOT NULL,"
    " filed_at INTEGER NOT NULL,"
    " outcome TEXT CHECK (outcome IS NULL OR outcome IN ('upheld', 'rejected')),"
    " decided_by TEXT,"
    " decided_at INTEGER,"
    " note TEXT,"
    " told INTEGER NOT NULL DEFAULT 0);"
    "CREATE UNIQUE INDEX sanction_appeals_open ON sanction_appeals (sanction_id)"
    " WHERE outcome IS NULL;"
    "CREATE INDEX sanction_appeals_account ON sanction_appeals (account_id, id);",
};
#define STORE_NMIGRATIONS ((int)(sizeof store_migrations / sizeof store_migrations[0]))

int store_schema_latest(void)
{
    return STORE_NMIGRATIONS;
}

int store_schema_version(const struct store *st)
{
    return st->version;
}

const char *store_status_name(int status)
{
    switch (status) {
    case STORE_OK:
        return "OK";
    case STORE_ERR_CONSTRAINT:
        return "CONSTRAINT";
    case STORE_ERR_BUSY:
        return "BUSY";
    case STORE_ERR_SQL:
        return "SQL";
    case STORE_ERR_IO:
        return "IO";
    case STORE_ERR_TOO_BIG:
        return "TOO_BIG";
    case STORE_ERR_CLOSING:
        return "CLOSING";
    case STORE_ERR_SCHEMA:
        return "SCHEMA";
    case STORE_ERR_ARG:
        return "ARG";
    }
    return "UNKNOWN";
}

/* Maps a SQLite result code to the backend-neutral status. */
static int store_map_rc(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_DONE:
    case SQLITE_ROW:
        return STORE_OK;
    case SQLITE_CONSTRAINT:
        return STORE_ERR_CONSTRAINT;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return STORE_ERR_BUSY;
    case SQLITE_TOOBIG:
        return STORE_ERR_TOO_BIG;
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
    case SQLITE_PERM:
        return STORE_ERR_IO;
    }
    return STORE_ERR_SQL;
}

/* Records a failure on a job: status from rc, message copied from db. */
static void store_job_fail(struct store_job *job, int status, const char *msg)
{
    job->status = status;
    free(job->err);
    job->err = xstrdup(msg ? msg : store_status_name(status));
}

/* ---- jobs: copying in and freeing ---- */

static struct store_job *store_job_new(struct store *st, const char *sql,
                                       const struct store_value *binds, size_t nbinds)
{
    struct store_job *job = xcalloc(1, sizeof *job);
    job->st = st;
    job->sql = xstrdup(sql);
    job->nbinds = nbinds;
    if (nbinds > 0)
        job->binds = xcalloc(nbinds, sizeof *job->binds);
    for (size_t i = 0; i < nbinds; i++) {
        job->binds[i] = binds[i];
        if (binds[i].type == STORE_TYPE_TEXT || binds[i].type == STORE_TYPE_BLOB) {
            /* +1 keeps copied text NUL-terminated and makes len 0 non-NULL */
            void *copy = xmalloc(binds[i].len + 1);
            if (binds[i].len > 0)
                memcpy(copy, binds[i].p, binds[i].len);
            ((char *)copy)[binds[i].len] = '\0';
            job->binds[i].p = copy;
        }
    }
    return job;
}

static void store_values_free(struct store_value *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i].type == STORE_TYPE_TEXT || v[i].type == STORE_TYPE_BLOB)
            free((void *)v[i].p);
    free(v);
}

static void store_job_free(struct store_job *job)
{
    store_values_free(job->binds, job->nbinds);
    store_values_free(job->cells, job->ncells);
    free(job->sql);
    free(job->err);
    free(job);
}

/* ---- running one statement (any thread, on the connection it owns) ---- */

static int store_bind_all(sqlite3_stmt *stmt, const struct store_job *job)
{
    int rc = SQLITE_OK;
    for (size_t i = 0; i < job->nbinds && rc == SQLITE_OK; i++) {
        const struct store_value *v = &job->binds[i];
        int at = (int)i + 1;
        switch (v->type) {
        case STORE_TYPE_NULL:
            rc = sqlite3_bind_null(stmt, at);
            break;
        case STORE_TYPE_INT:
            rc = sqlite3_bind_int64(stmt, at, v->i);
            break;
        case STORE_TYPE_TEXT:
            rc = sqlite3_bind_text64(stmt, at, v->p, v->len, SQLITE_STATIC, SQLITE_UTF8);
            break;
        case STORE_TYPE_BLOB:
            rc = sqlite3_bind_blob64(stmt, at, v->p, v->len, SQLITE_STATIC);
            break;
        }
    }
    return rc;
}

/* Copies the current row of stmt into job->cells; returns 0, or -1 when the
 * result would pass max_result_bytes. */
static int store_row_copy(struct store_job *job, sqlite3_stmt *stmt)
{
    size_t n = (size_t)sqlite3_column_count(stmt);
    job->ncols = n;
    if (job->ncells + n > job->cap_cells) {
        job->cap_cells = (job->cap_cells + n) * 2;
        job->cells = xrealloc(job->cells, job->cap_cells * sizeof *job->cells);
    }
    for (size_t c = 0; c < n; c++) {
        struct store_value *v = &job->cells[job->ncells++];
        memset(v, 0, sizeof *v);
        int t = sqlite3_column_type(stmt, (int)c);
        if (t == SQLITE_NULL) {
            v->type = STORE_TYPE_NULL;
        } else if (t == SQLITE_INTEGER) {
            v->type = STORE_TYPE_INT;
            v->i = sqlite3_column_int64(stmt, (int)c);
        } else {
            /* FLOAT is stored as text; the schema uses no REAL columns */
            const void *p = t == SQLITE_BLOB ? sqlite3_column_blob(stmt, (int)c)
                                             : (const void *)sqlite3_column_text(stmt, (int)c);
            v->type = t == SQLITE_BLOB ? STORE_TYPE_BLOB : STORE_TYPE_TEXT;
            v->len = (size_t)sqlite3_column_bytes(stmt, (int)c);
            char *copy = xmalloc(v->len + 1);
            if (v->len > 0)
                memcpy(copy, p, v->len);
            copy[v->len] = '\0';
            v->p = copy;
        }
        job->result_bytes += sizeof *v + v->len;
    }
    return job->result_bytes > job->st->opt.max_result_bytes ? -1 : 0;
}

/* Prepares, binds and steps job->sql on db. Rows are copied when collect is
 * set (reads) and ignored otherwise. Sets job->status / err / changes. */
static void store_job_run(struct store_job *job, sqlite3 *db, int collect)
{
    sqlite3_stmt *stmt = NULL;
    const char *tail = NULL;
    int rc = sqlite3_prepare_v2(db, job->sql, -1, &stmt, &tail);
    if (rc != SQLITE_OK || stmt == NULL) {
        store_job_fail(job, rc == SQLITE_OK ? STORE_ERR_SQL : store_map_rc(rc), sqlite3_errmsg(db));
        sqlite3_finalize(stmt);
        return;
    }
    /* one statement per job: a second one would silently not run */
    tail += strspn(tail, " \t\r\n;");
    if (*tail != '\0') {
        store_job_fail(job, STORE_ERR_SQL, "more than one statement in a job");
        sqlite3_finalize(stmt);
        return;
    }
    if ((size_t)sqlite3_bind_parameter_count(stmt) != job->nbinds) {
        store_job_fail(job, STORE_ERR_SQL, "bind count does not match the placeholders");
        sqlite3_finalize(stmt);
        return;
    }
    rc = store_bind_all(stmt, job);
    while (rc == SQLITE_OK || rc == SQLITE_ROW) {
        rc = sqlite3_step(stmt);
        if (rc == SQLITE_ROW && collect && store_row_copy(job, stmt) != 0) {
            store_job_fail(job, STORE_ERR_TOO_BIG, "result larger than max_result_bytes");
            sqlite3_finalize(stmt);
            return;
        }
    }
    if (rc != SQLITE_DONE) {
        store_job_fail(job, store_map_rc(rc), sqlite3_errmsg(db));
    } else {
        job->changes = sqlite3_changes64(db);
        job->last_id = sqlite3_last_insert_rowid(db);
    }
    sqlite3_finalize(stmt);
}

/* ---- the writer thread ---- */

/* Runs fixed SQL (no values) on the write connection; returns the rc. */
static int store_wexec(struct store *st, const char *sql)
{
    return sqlite3_exec(st->wdb, sql, NULL, NULL, NULL);
}

/* One transaction around the batch; each job in its own savepoint so a
 * job's constraint error undoes that job only. Returns 0 when committed,
 * -1 when the whole batch failed (every job then carries the message). */
static int writer_run_batch(struct store *st, struct store_job *batch)
{
    int rc = store_wexec(st, "BEGIN IMMEDIATE");
    for (struct store_job *j = batch; j != NULL && rc == SQLITE_OK; j = j->next) {
        rc = store_wexec(st, "SAVEPOINT job");
        if (rc != SQLITE_OK)
            break;
        store_job_run(j, st->wdb, 0);
        if (j->status != STORE_OK)
            rc = store_wexec(st, "ROLLBACK TO job");
        if (rc == SQLITE_OK)
            rc = store_wexec(st, "RELEASE job");
    }
    if (rc == SQLITE_OK)
        rc = store_wexec(st, "COMMIT");
    if (rc == SQLITE_OK)
        return 0;
    /* The whole batch failed: every job gets the message, none is kept. */
    char *msg = xstrdup(sqlite3_errmsg(st->wdb));
    int status = store_map_rc(rc);
    if (!sqlite3_get_autocommit(st->wdb))
        store_wexec(st, "ROLLBACK");
    for (struct store_job *j = batch; j != NULL; j = j->next)
        store_job_fail(j, status, msg);
    free(msg);
    return -1;
}

/* Takes up to batch_max jobs off the queue; called with mu held. */
static struct store_job *writer_take(struct store *st, size_t *count)
{
    struct store_job *head = st->q_head, *last = NULL;
    size_t n = 0;
    for (struct store_job *j = head; j != NULL && n < st->opt.batch_max; j = j->next) {
        last = j;
        n++;
    }
    st->q_head = last->next;
    if (st->q_head == NULL)
        st->q_tail = NULL;
    last->next = NULL;
    *count = n;
    return head;
}

/* Hands a finished batch to the loop; called with mu held. */
static void writer_post(struct store *st, struct store_job *batch, size_t n, int committed)
{
    struct store_job *last = batch;
    if (committed == 0)
        st->stats.commits++;
    else
        st->stats.batches_failed++;
    for (struct store_job *j = batch; j != NULL; j = j->next) {
        last = j;
        if (j->status == STORE_OK)
            st->stats.writes_ok++;
        else
            st->stats.writes_failed++;
    }
    if (n > st->stats.max_batch)
        st->stats.max_batch = n;
    if (st->d_tail != NULL)
        st->d_tail->next = batch;
    else
        st->d_head = batch;
    st->d_tail = last;
    uv_async_send(&st->async);
}

static void writer_main(void *arg)
{
    struct store *st = arg;
    uv_mutex_lock(&st->mu);
    for (;;) {
        while (st->q_head == NULL && !st->stop)
            uv_cond_wait(&st->cv, &st->mu);
        if (st->q_head == NULL)
            break; /* stop set and nothing left: invariant 2 */
        if (st->opt.batch_window_us > 0) {
            uv_mutex_unlock(&st->mu);
            struct timespec ts = {0, (long)st->opt.batch_window_us * 1000L};
            nanosleep(&ts, NULL);
            uv_mutex_lock(&st->mu);
        }
        size_t n;
        struct store_job *batch = writer_take(st, &n);
        uv_mutex_unlock(&st->mu);
        int committed = writer_run_batch(st, batch);
        uv_mutex_lock(&st->mu);
        writer_post(st, batch, n, committed);
    }
    st->writer_done = 1;
    uv_async_send(&st->async);
    uv_mutex_unlock(&st->mu);
}

/* ---- the loop side: completions and close ---- */

static void store_on_async_closed(uv_handle_t *h)
{
    struct store *st = h->data;
    store_close_cb cb = st->close_cb;
    void *ud = st->close_ud;
    uv_cond_destroy(&st->cv);
    uv_mutex_destroy(&st->mu);
    free(st->rpool);
    free(st->path);
    free(st);
    if (cb != NULL)
        cb(ud);
}

/* Invariant 3: the last step of close, once nothing can still run. */
static void store_maybe_finish(struct store *st)
{
    if (!st->closing || st->finished || st->reads_inflight > 0)
        return;
    uv_mutex_lock(&st->mu);
    int done = st->writer_done && st->d_head == NULL;
    uv_mutex_unlock(&st->mu);
    if (!done)
        return;
    st->finished = 1;
    uv_thread_join(&st->writer);
    /* readers first: the last connection to close checkpoints the WAL */
    for (size_t i = 0; i < st->rfree; i++)
        sqlite3_close(st->rpool[i]);
    st->rfree = 0;
    sqlite3_close(st->wdb);
    uv_close((uv_handle_t *)&st->async, store_on_async_closed);
}

/* Loop thread: runs the callbacks of finished writes, in order. */
static void store_on_async(uv_async_t *a)
{
    struct store *st = a->data;
    uv_mutex_lock(&st->mu);
    struct store_job *j = st->d_head;
    st->d_head = st->d_tail = NULL;
    uv_mutex_unlock(&st->mu);
    while (j != NULL) {
        struct store_job *next = j->next;
        if (j->wcb != NULL)
            j->wcb(j->ud, j->status, j->last_id, j->changes, j->err);
        store_job_free(j);
        j = next;
    }
    store_maybe_finish(st);
}

int store_exec_write(struct store *st, const char *sql, const struct store_value *binds,
                     size_t nbinds, store_write_cb cb, void *ud)
{
    if (sql == NULL || (nbinds > 0 && binds == NULL))
        return STORE_ERR_ARG;
    if (st->closing)
        return STORE_ERR_CLOSING;
    struct store_job *job = store_job_new(st, sql, binds, nbinds);
    job->wcb = cb;
    job->ud = ud;
    uv_mutex_lock(&st->mu);
    if (st->q_tail != NULL)
        st->q_tail->next = job;
    else
        st->q_head = job;
    st->q_tail = job;
    uv_cond_signal(&st->cv);
    uv_mutex_unlock(&st->mu);
    return STORE_OK;
}

/* ---- reads on the thread pool ---- */

static sqlite3 *store_reader_open(struct store *st, char *msg, size_t msglen)
{
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(st->path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(db, st->opt.busy_timeout_ms);
    if (rc != SQLITE_OK) {
        snprintf(msg, msglen, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
        sqlite3_close(db);
        return NULL;
    }
    return db;
}

/* Pool thread: borrows a read connection, runs the query, returns it. */
static void store_read_work(uv_work_t *w)
{
    struct store_job *job = w->data;
    struct store *st = job->st;
    sqlite3 *db = NULL;
    uv_mutex_lock(&st->mu);
    if (st->rfree > 0)
        db = st->rpool[--st->rfree];
    uv_mutex_unlock(&st->mu);
    if (db == NULL) {
        char msg[256];
        db = store_reader_open(st, msg, sizeof msg);
        if (db == NULL) {
            store_job_fail(job, STORE_ERR_IO, msg);
            return;
        }
    }
    store_job_run(job, db, 1);
    uv_mutex_lock(&st->mu);
    if (st->rfree == st->rcap) {
        st->rcap = st->rcap ? st->rcap * 2 : 4;
        st->rpool = xrealloc(st->rpool, st->rcap * sizeof *st->rpool);
    }
    st->rpool[st->rfree++] = db;
    uv_mutex_unlock(&st->mu);
}

/* Loop thread: hands the rows to the caller, then done_cb. */
static void store_read_after(uv_work_t *w, int status)
{
    struct store_job *job = w->data;
    struct store *st = job->st;
    assert(status == 0); /* store reads are never cancelled */
    if (job->status == STORE_OK && job->rcb != NULL && job->ncols > 0) {
        for (size_t at = 0; at + job->ncols <= job->ncells; at += job->ncols)
            if (job->rcb(job->ud, &job->cells[at], job->ncols) != 0)
                break;
    }
    if (job->dcb != NULL)
        job->dcb(job->ud, job->status, job->err);
    store_answers++;
    store_job_free(job);
    uv_mutex_lock(&st->mu);
    st->stats.reads++;
    uv_mutex_unlock(&st->mu);
    st->reads_inflight--;
    store_maybe_finish(st);
}

int store_query(struct store *st, const char *sql, const struct store_value *binds, size_t nbinds,
                store_row_cb row_cb, store_done_cb done_cb, void *ud)
{
    if (sql == NULL || (nbinds > 0 && binds == NULL))
        return STORE_ERR_ARG;
    if (st->closing)
        return STORE_ERR_CLOSING;
    struct store_job *job = store_job_new(st, sql, binds, nbinds);
    job->rcb = row_cb;
    job->dcb = done_cb;
    job->ud = ud;
    job->work.data = job;
    int rc = uv_queue_work(st->loop, &job->work, store_read_work, store_read_after);
    if (rc != 0) {
        store_job_free(job);
        return STORE_ERR_ARG;
    }
    st->reads_inflight++;
    return STORE_OK;
}

struct store_count_read {
    store_count_cb cb;
    void *ud;
    const char *what;
    int64_t n;
};

static int store_count_row(void *ud, const struct store_value *c, size_t n)
{
    struct store_count_read *r = ud;
    if (n >= 1 && c[0].type == STORE_TYPE_INT)
        r->n = c[0].i;
    return 0;
}

static void store_count_done(void *ud, int status, const char *err)
{
    struct store_count_read *r = ud;
    if (status != STORE_OK)
        log_error("store: counting %s failed: %s", r->what, err ? err : store_status_name(status));
    r->cb(r->ud, status == STORE_OK ? 0 : -1, status == STORE_OK ? r->n : 0);
    free(r);
}

int store_count(struct store *st, const char *sql, const struct store_value *binds, size_t nbinds,
                const char *what, store_count_cb cb, void *ud)
{
    struct store_count_read *r = xcalloc(1, sizeof *r);
    *r = (struct store_count_read){cb, ud, what, 0};
    int rc = store_query(st, sql, binds, nbinds, store_count_row, store_count_done, r);
    if (rc != STORE_OK)
        free(r);
    return rc;
}

/* The state of one store_load: its rows go to the caller's row callback
 * with the caller's ud, so the wait needs its own done callback. */
struct store_load_wait {
    store_row_cb row;
    void *ud;
    bool done;
    int status;
    char err[256];
};

static int store_load_row(void *ud, const struct store_value *cols, size_t ncols)
{
    struct store_load_wait *w = ud;
    return w->row != NULL ? w->row(w->ud, cols, ncols) : 0;
}

static void store_load_done(void *ud, int status, const char *err)
{
    struct store_load_wait *w = ud;
    w->status = status;
    w->done = true;
    if (status != STORE_OK)
        snprintf(w->err, sizeof w->err, "%s", err ? err : store_status_name(status));
}

int store_load(struct store *st, const char *sql, const struct store_value *binds, size_t nbinds,
               store_row_cb row, void *ud, const char *what, char *err, size_t errlen)
{
    struct store_load_wait w = {.row = row, .ud = ud};
    if (store_query(st, sql, binds, nbinds, store_load_row, store_load_done, &w) != STORE_OK) {
        snprintf(err, errlen, "loading %s: the store refused the query", what);
        return -1;
    }
    while (!w.done)
        uv_run(st->loop, UV_RUN_ONCE);
    if (w.status != STORE_OK) {
        snprintf(err, errlen, "loading %s: %s", what, w.err);
        return -1;
    }
    return 0;
}

/* ---- open, migrations, close ---- */

/* Applies the pending migration steps in one transaction. Values in the
 * PRAGMA are our own integers (a PRAGMA cannot take bound parameters). */
static int store_migrate(struct store *st, char *err, size_t errlen)
{
    if (store_wexec(st, "BEGIN IMMEDIATE") != SQLITE_OK)
        goto fail;
    sqlite3_stmt *stmt = NULL;
    int version = -1;
    if (sqlite3_prepare_v2(st->wdb, "PRAGMA user_version", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        version = sqlite3_column_int(stmt, 0);
    sqlite3_finalize(stmt);
    if (version < 0)
        goto fail;
    if (version > STORE_NMIGRATIONS) {
        store_wexec(st, "ROLLBACK");
        snprintf(err, errlen, "database schema version %d is newer than this program (%d)", version,
                 STORE_NMIGRATIONS);
        return STORE_ERR_SCHEMA;
    }
    for (int v = version; v < STORE_NMIGRATIONS; v++)
        if (store_wexec(st, store_migrations[v]) != SQLITE_OK)
            goto fail;
    char pragma[64];
    snprintf(pragma, sizeof pragma, "PRAGMA user_version = %d", STORE_NMIGRATIONS);
    if (store_wexec(st, pragma) != SQLITE_OK || store_wexec(st, "COMMIT") != SQLITE_OK)
        goto fail;
    st->stats.migrations_applied = (uint64_t)(STORE_NMIGRATIONS - version);
    st->version = STORE_NMIGRATIONS;
    return STORE_OK;
fail:
    snprintf(err, errlen, "schema migration: %s", sqlite3_errmsg(st->wdb));
    int status = store_map_rc(sqlite3_errcode(st->wdb));
    if (!sqlite3_get_autocommit(st->wdb))
        store_wexec(st, "ROLLBACK");
    return status == STORE_OK ? STORE_ERR_SQL : status;
}

/* Opens the write connection with the pragmas every write relies on. */
static int store_open_writer(struct store *st, char *err, size_t errlen)
{
    int rc = sqlite3_open_v2(
        st->path, &st->wdb, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (rc == SQLITE_OK)
        rc = sqlite3_busy_timeout(st->wdb, st->opt.busy_timeout_ms);
    if (rc == SQLITE_OK)
        rc = store_wexec(st, "PRAGMA journal_mode = WAL");
    if (rc == SQLITE_OK)
        rc = store_wexec(st, "PRAGMA synchronous = FULL");
    if (rc == SQLITE_OK)
        rc = store_wexec(st, "PRAGMA foreign_keys = ON");
    if (rc != SQLITE_OK) {
        snprintf(err, errlen, "%s: %s", st->path,
                 st->wdb ? sqlite3_errmsg(st->wdb) : sqlite3_errstr(rc));
        return store_map_rc(rc);
    }
    /* journal_mode answers with the mode in force; anything but wal means
     * the file system refused it, and then readers would block the writer */
    sqlite3_stmt *stmt = NULL;
    int wal = 0;
    if (sqlite3_prepare_v2(st->wdb, "PRAGMA journal_mode", -1, &stmt, NULL) == SQLITE_OK &&
        sqlite3_step(stmt) == SQLITE_ROW)
        wal = strcmp((const char *)sqlite3_column_text(stmt, 0), "wal") == 0;
    sqlite3_finalize(stmt);
    if (!wal) {
        snprintf(err, errlen, "%s: WAL journal mode not available", st->path);
        return STORE_ERR_IO;
    }
    return STORE_OK;
}

static void store_options_default(struct store_options *o)
{
    if (o->busy_timeout_ms <= 0)
        o->busy_timeout_ms = 5000;
    if (o->batch_max == 0)
        o->batch_max = 1024;
    if (o->max_result_bytes == 0)
        o->max_result_bytes = 1u << 20;
}

int store_open(uv_loop_t *loop, const struct store_options *opt, struct store **out, char *err,
               size_t errlen)
{
    *out = NULL;
    if (loop == NULL || opt == NULL || opt->path == NULL || opt->path[0] == '\0') {
        snprintf(err, errlen, "store: no database path");
        return STORE_ERR_ARG;
    }
    struct store *st = xcalloc(1, sizeof *st);
    loopwatch_track("database answers", &store_answers);
    st->loop = loop;
    st->opt = *opt;
    store_options_default(&st->opt);
    st->path = xstrdup(opt->path);
    st->opt.path = st->path;
    int rc = store_open_writer(st, err, errlen);
    if (rc == STORE_OK)
        rc = store_migrate(st, err, errlen);
    if (rc != STORE_OK) {
        sqlite3_close(st->wdb);
        free(st->path);
        free(st);
        return rc;
    }
    uv_mutex_init(&st->mu);
    uv_cond_init(&st->cv);
    uv_async_init(loop, &st->async, store_on_async);
    st->async.data = st;
    if (uv_thread_create(&st->writer, writer_main, st) != 0)
        abort(); /* like allocation failure: no thread, no server */
    *out = st;
    return STORE_OK;
}

void store_close(struct store *st, store_close_cb cb, void *ud)
{
    assert(!st->closing);
    st->closing = 1;
    st->close_cb = cb;
    st->close_ud = ud;
    uv_mutex_lock(&st->mu);
    st->stop = 1;
    uv_cond_signal(&st->cv);
    uv_mutex_unlock(&st->mu);
    /* the writer's final uv_async_send ends in store_maybe_finish */
}

void store_get_stats(struct store *st, struct store_stats *out)
{
    uv_mutex_lock(&st->mu);
    *out = st->stats;
    uv_mutex_unlock(&st->mu);
}
