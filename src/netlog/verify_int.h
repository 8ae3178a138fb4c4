/*
 * verify_int.h - internals of netlog_verify_file shared by verify.c (the
 * checks) and verify_read.c (the reader thread). Not a public API.
 *
 * Reading SQLite rows and hashing them cost about the same, so they run
 * on two threads: the reader steps the two cursors (events by seq,
 * checkpoints by size) and fills batches with copies of the rows and with
 * the checkpoint rows (signature already checked), interleaved in walk
 * order: a checkpoint follows the event whose seq equals its size.
 * verify.c takes the batches in order and does every check.
 *
 *   reader thread                      caller's thread
 *   fill batch 0  -- full[0] -->       check batch 0
 *   fill batch 1  -- full[1] -->       check batch 1, releasing batch 0
 *   ...  (a ring of NBATCH batches; the reader waits while the next one
 *   is still full, the caller while the next one is not yet full)
 *
 * Invariants:
 *   1. While the reader runs it alone uses the SQLite connection; the
 *      caller touches it again only after verify_reader_finish.
 *   2. A batch is written only by the reader while not full, read only by
 *      the caller while full; the flag flips under the mutex.
 *   3. Items come in walk order; the last batch has last = true and holds
 *      every checkpoint beyond the last event.
 *   4. Memory is reused between batches (grown, never per row).
 */
#ifndef QUN_NETLOG_VERIFY_INT_H
#define QUN_NETLOG_VERIFY_INT_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlog/checkpoint.h"
#include "netlog/merkle.h"

/* A checkpoint row, checked on its own: signature, origin, row = note. */
struct verify_cp {
    bool trusted;
    int64_t size;
    uint8_t root[NETLOG_HASH_BYTES]; /* the signed root */
    struct merkle_acc acc;           /* the stored accumulator, when acc_ok */
    bool acc_ok;                     /* it parses and has this size (its root: verify.c checks) */
    char why[160];                   /* what is wrong, when not trusted */
};

/* Checks a checkpoint on its own (a row of the database's checkpoints
 * table, or a journal record): signature with key, origin, and that size
 * and root are the signed ones; parses the accumulator. */
void verify_cp_parse(const struct checkpoint_key *key, int64_t size, const void *root,
                     size_t root_len, const char *note, size_t note_len, const void *acc,
                     size_t acc_len, struct verify_cp *cp);

enum verify_text { VT_KIND, VT_ACTOR, VT_TARGET, VT_MSGID, VT_BODY, VT_COUNT };

/* One event row (cp < 0) or one checkpoint (cp = index into cps). */
struct verify_item {
    int32_t cp;
    bool typed; /* every field has its column's type */
    bool has_leaf, has_chain;
    int64_t seq, at, code, account;
    uint32_t off[VT_COUNT], len[VT_COUNT]; /* text, in the batch's arena */
    uint8_t leaf[NETLOG_HASH_BYTES], chain[NETLOG_HASH_BYTES];
};

struct verify_batch {
    struct verify_item *items;
    size_t n, cap;
    uint8_t *arena;
    size_t used, arena_cap;
    struct verify_cp *cps;
    size_t ncps, cps_cap;
    bool last;   /* nothing follows */
    bool failed; /* SQLite failed: the walk is incomplete */
};

struct verify_reader;

/* Starts the reader on ev (events in seq order) and cps (checkpoints in
 * size order); first_seq is where the log starts (checkpoints up to
 * first_seq - 1 come first). NULL when no thread can be started. */
struct verify_reader *verify_reader_start(sqlite3 *db, sqlite3_stmt *ev, sqlite3_stmt *cps,
                                          const struct checkpoint_key *key, int64_t first_seq);
/* The next batch in order (blocks); the batch returned before is released.
 * After a batch with last = true, call finish. */
const struct verify_batch *verify_reader_next(struct verify_reader *rd);
/* Joins and frees; -1 with SQLite's sentence in err if reading failed. */
int verify_reader_finish(struct verify_reader *rd, char *err, size_t errlen);

#endif
