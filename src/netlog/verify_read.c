/*
 * verify_read.c - the reader thread of netlog_verify_file (see
 * verify_int.h for the hand-over protocol and its invariants).
 *
 * It owns the SQLite cursors while it runs: it steps the events cursor,
 * copies each row's fields into the batch (SQLite's pointers die at the
 * next step), and reads the checkpoint cursor one row ahead, emitting a
 * checkpoint right after the event whose seq reaches its size. It judges
 * nothing but the checkpoint rows' signatures (so the Ed25519 work is off
 * the checking thread too); every other check is verify.c's.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlog/verify_int.h"
#include "util/alloc.h"

/* Small batches stay in the caches; four of them smooth out the moments
 * when one thread is descheduled (measured: docs/internals/netlog-verify.md). */
#define BATCH_ROWS 512
#define NBATCH     4

enum ev_col {
    COL_SEQ,
    COL_AT,
    COL_KIND,
    COL_ACTOR,
    COL_TARGET,
    COL_CODE,
    COL_ACCOUNT,
    COL_MSGID,
    COL_BODY,
    COL_LEAF,
    COL_CHAIN,
};

struct verify_reader {
    sqlite3 *db;
    sqlite3_stmt *ev, *cps;
    const struct checkpoint_key *key;
    int64_t first_seq;
    struct verify_cp pending; /* the checkpoint read ahead */
    bool pending_present;
    bool cp_failed; /* reading the checkpoints failed (err says why) */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct verify_batch b[NBATCH];
    bool full[NBATCH]; /* under mu */
    int next;          /* caller: the batch to take next */
    bool holding;      /* caller: it holds the one before next */
    char err[256];
};

/* ------------------------------------------------------------ checkpoints */

void verify_cp_parse(const struct checkpoint_key *key, int64_t size, const void *root,
                     size_t root_len, const char *note, size_t note_len, const void *acc,
                     size_t acc_len, struct verify_cp *cp)
{
    memset(cp, 0, sizeof *cp);
    cp->size = size;
    struct checkpoint signed_cp;
    if (!note || !checkpoint_verify(key, note, note_len, &signed_cp)) {
        snprintf(cp->why, sizeof cp->why, "bad signature");
    } else if (strcmp(signed_cp.origin, key->name) != 0) {
        snprintf(cp->why, sizeof cp->why, "signed for another log (%.64s)", signed_cp.origin);
    } else if (signed_cp.size != (uint64_t)size || root_len != NETLOG_HASH_BYTES ||
               memcmp(root, signed_cp.root, NETLOG_HASH_BYTES) != 0) {
        snprintf(cp->why, sizeof cp->why,
                 "the row's size or root differs from its signed note (changed)");
    } else {
        cp->trusted = true;
        memcpy(cp->root, signed_cp.root, NETLOG_HASH_BYTES);
        /* whether its root is the signed one is for the checking thread
         * (tree hashing stays on one thread) */
        cp->acc_ok =
            merkle_acc_deserialize(&cp->acc, acc, acc_len) && cp->acc.size == (uint64_t)size;
    }
}

static void cp_parse(struct verify_reader *rd, struct verify_cp *cp)
{
    sqlite3_stmt *s = rd->cps;
    /* each value before its length, as SQLite asks */
    const void *root = sqlite3_column_blob(s, 1);
    size_t root_len = (size_t)sqlite3_column_bytes(s, 1);
    const char *note = (const char *)sqlite3_column_text(s, 2);
    size_t note_len = (size_t)sqlite3_column_bytes(s, 2);
    const void *acc = sqlite3_column_blob(s, 3);
    size_t acc_len = (size_t)sqlite3_column_bytes(s, 3);
    verify_cp_parse(rd->key, sqlite3_column_int64(s, 0), root, root_len, note, note_len, acc,
                    acc_len, cp);
}

static void cp_read_ahead(struct verify_reader *rd)
{
    int rc = sqlite3_step(rd->cps);
    rd->pending_present = rc == SQLITE_ROW;
    if (rd->pending_present)
        cp_parse(rd, &rd->pending);
    else if (rc != SQLITE_DONE && !rd->cp_failed) {
        /* never let a read error pass for "no more checkpoints" */
        rd->cp_failed = true;
        snprintf(rd->err, sizeof rd->err, "checkpoints: %s", sqlite3_errmsg(rd->db));
    }
}

static struct verify_item *item_push(struct verify_batch *b)
{
    if (b->n == b->cap) {
        b->cap = b->cap ? b->cap * 2 : BATCH_ROWS + 64;
        b->items = xrealloc(b->items, b->cap * sizeof *b->items);
    }
    return &b->items[b->n++];
}

/* Emits every checkpoint read ahead whose size is at most upto. */
static void cp_emit(struct verify_reader *rd, struct verify_batch *b, int64_t upto)
{
    while (rd->pending_present && rd->pending.size <= upto) {
        if (b->ncps == b->cps_cap) {
            b->cps_cap = b->cps_cap ? b->cps_cap * 2 : 16;
            b->cps = xrealloc(b->cps, b->cps_cap * sizeof *b->cps);
        }
        b->cps[b->ncps] = rd->pending;
        struct verify_item *it = item_push(b);
        it->cp = (int32_t)b->ncps++;
        cp_read_ahead(rd);
    }
}

/* ------------------------------------------------------------ events */

/* Copies a text column (TEXT or NULL) into the arena; false for another
 * type. Read as a blob: sqlite3_column_text would copy to add a NUL. */
static bool copy_text(struct verify_batch *b, sqlite3_stmt *s, int col, bool nullable,
                      struct verify_item *it, enum verify_text t)
{
    sqlite3_value *v = sqlite3_column_value(s, col);
    int type = sqlite3_value_type(v);
    it->off[t] = it->len[t] = 0;
    if (type == SQLITE_NULL)
        return nullable;
    if (type != SQLITE_TEXT)
        return false;
    const void *p = sqlite3_value_blob(v);
    size_t n = (size_t)sqlite3_value_bytes(v);
    if (b->used + n > b->arena_cap) {
        b->arena_cap = (b->used + n) * 2;
        b->arena = xrealloc(b->arena, b->arena_cap);
    }
    if (n)
        memcpy(b->arena + b->used, p, n);
    it->off[t] = (uint32_t)b->used;
    it->len[t] = (uint32_t)n;
    b->used += n;
    return true;
}

static bool copy_int(sqlite3_stmt *s, int col, bool nullable, int64_t *out)
{
    sqlite3_value *v = sqlite3_column_value(s, col);
    int type = sqlite3_value_type(v);
    *out = 0;
    if (type == SQLITE_NULL)
        return nullable;
    if (type != SQLITE_INTEGER)
        return false;
    *out = sqlite3_value_int64(v);
    return true;
}

static bool copy_hash(sqlite3_stmt *s, int col, uint8_t out[NETLOG_HASH_BYTES])
{
    sqlite3_value *v = sqlite3_column_value(s, col);
    if (sqlite3_value_type(v) != SQLITE_BLOB || sqlite3_value_bytes(v) != NETLOG_HASH_BYTES)
        return false;
    memcpy(out, sqlite3_value_blob(v), NETLOG_HASH_BYTES);
    return true;
}

static void copy_row(struct verify_batch *b, sqlite3_stmt *s)
{
    struct verify_item *it = item_push(b);
    it->cp = -1;
    it->seq = sqlite3_column_int64(s, COL_SEQ);
    /* & not &&: every field is copied even when one has the wrong type */
    it->typed = (int)copy_int(s, COL_AT, false, &it->at) &
                (int)copy_text(b, s, COL_KIND, false, it, VT_KIND) &
                (int)copy_text(b, s, COL_ACTOR, false, it, VT_ACTOR) &
                (int)copy_text(b, s, COL_TARGET, true, it, VT_TARGET) &
                (int)copy_int(s, COL_CODE, true, &it->code) &
                (int)copy_int(s, COL_ACCOUNT, true, &it->account) &
                (int)copy_text(b, s, COL_MSGID, true, it, VT_MSGID) &
                (int)copy_text(b, s, COL_BODY, true, it, VT_BODY);
    it->has_leaf = copy_hash(s, COL_LEAF, it->leaf);
    it->has_chain = copy_hash(s, COL_CHAIN, it->chain);
}

/* ------------------------------------------------------------ the thread */

/* Fills b; returns false when it was the last batch. */
static bool fill(struct verify_reader *rd, struct verify_batch *b, bool first)
{
    b->n = b->used = b->ncps = 0;
    if (first)
        cp_emit(rd, b, rd->first_seq - 1);
    for (size_t rows = 0; rows < BATCH_ROWS; rows++) {
        int rc = sqlite3_step(rd->ev);
        if (rc == SQLITE_ROW) {
            copy_row(b, rd->ev);
            cp_emit(rd, b, b->items[b->n - 1].seq);
            continue;
        }
        if (rc != SQLITE_DONE) {
            b->failed = true;
            snprintf(rd->err, sizeof rd->err, "%s", sqlite3_errmsg(rd->db));
        }
        b->failed = b->failed || rd->cp_failed;
        cp_emit(rd, b, INT64_MAX); /* checkpoints beyond the last event */
        b->last = true;
        return false;
    }
    return true;
}

static void *reader_main(void *arg)
{
    struct verify_reader *rd = arg;
    cp_read_ahead(rd);
    bool more = true, first = true;
    for (int i = 0; more; i = (i + 1) % NBATCH) {
        pthread_mutex_lock(&rd->mu);
        while (rd->full[i])
            pthread_cond_wait(&rd->cv, &rd->mu);
        pthread_mutex_unlock(&rd->mu);
        more = fill(rd, &rd->b[i], first);
        first = false;
        pthread_mutex_lock(&rd->mu);
        rd->full[i] = true;
        pthread_cond_broadcast(&rd->cv);
        pthread_mutex_unlock(&rd->mu);
    }
    return NULL;
}

struct verify_reader *verify_reader_start(sqlite3 *db, sqlite3_stmt *ev, sqlite3_stmt *cps,
                                          const struct checkpoint_key *key, int64_t first_seq)
{
    struct verify_reader *rd = xcalloc(1, sizeof *rd);
    rd->db = db;
    rd->ev = ev;
    rd->cps = cps;
    rd->key = key;
    rd->first_seq = first_seq;
    pthread_mutex_init(&rd->mu, NULL);
    pthread_cond_init(&rd->cv, NULL);
    if (pthread_create(&rd->thread, NULL, reader_main, rd) != 0) {
        pthread_mutex_destroy(&rd->mu);
        pthread_cond_destroy(&rd->cv);
        free(rd);
        return NULL;
    }
    return rd;
}

const struct verify_batch *verify_reader_next(struct verify_reader *rd)
{
    pthread_mutex_lock(&rd->mu);
    if (rd->holding) {
        rd->full[(rd->next + NBATCH - 1) % NBATCH] = false;
        pthread_cond_broadcast(&rd->cv);
    }
    while (!rd->full[rd->next])
        pthread_cond_wait(&rd->cv, &rd->mu);
    pthread_mutex_unlock(&rd->mu);
    const struct verify_batch *b = &rd->b[rd->next];
    rd->holding = true;
    rd->next = (rd->next + 1) % NBATCH;
    return b;
}

int verify_reader_finish(struct verify_reader *rd, char *err, size_t errlen)
{
    pthread_join(rd->thread, NULL);
    int rc = rd->cp_failed ? -1 : 0;
    for (int i = 0; i < NBATCH; i++)
        rc = rd->b[i].failed ? -1 : rc;
    if (rc < 0)
        snprintf(err, errlen, "%s", rd->err);
    for (int i = 0; i < NBATCH; i++) {
        free(rd->b[i].items);
        free(rd->b[i].arena);
        free(rd->b[i].cps);
    }
    pthread_mutex_destroy(&rd->mu);
    pthread_cond_destroy(&rd->cv);
    free(rd);
    return rc;
}
