/*
 * history_index.h - the network log's history index: where each target's
 * events are, as runs instead of a B-tree entry per event.
 *
 * A run is one row of the table target_runs (schema.h): a target (a group's
 * name), the seq and time of its first and last event, and the offsets
 * (seq - first) of every event of that target in between, as a JSON array
 * that SQL reads with json_each. A run holds the events one writer
 * transaction added for that target, at most HIX_RUN_MAX of them, so the
 * runs of one target are disjoint and ordered alike by first, by last and
 * by last_at (time never goes back as seq grows). target_runs_upto holds
 * the seq up to which every event is in a run.
 *
 * Why: a B-tree entry per event, inserted at one of a thousand places in
 * the (target, at) index, cost the applier about half its time at 1,000
 * groups of 5; a run costs one row per target and transaction
 * (docs/internals/netlog-history-index.md). History reads runs in order
 * and each event by primary key (cmd_chathistory.c).
 *
 * Derived data, not evidence: nothing in the chain or the checkpoints
 * covers it, and deleting target_runs and target_runs_upto rebuilds it
 * at the next start (hix_catch_up). Direct messages are not in runs: their
 * history is by account and nick, through the partial index
 * events_dm_target.
 *
 * Threads: a struct hix belongs to the thread that owns its connection.
 */
#ifndef QUN_NETLOG_HISTORY_INDEX_H
#define QUN_NETLOG_HISTORY_INDEX_H

#include <sqlite3.h>
#include <stddef.h>
#include <stdint.h>

#include "util/strmap.h"

/* Events in one run at most: history sorts a run's events, so this bounds
 * the work of reading one (and a run's row stays under ~2 KiB). */
#define HIX_RUN_MAX 256

/* The runs a writer is filling inside one transaction. */
struct hix {
    sqlite3 *db;
    sqlite3_stmt *ins, *upto;
    struct strmap open; /* target -> struct hix_run */
    int64_t last_seq;   /* the last event added (0: none) */
};

/* Prepares the statements on db (whose schema exists). */
int hix_init(struct hix *h, sqlite3 *db);
void hix_close(struct hix *h);

/* Adds event seq (time at, kind, target: lengths given, target may be
 * NULL) to the runs; seqs come in increasing order. A run that fills up is
 * written at once: returns -1 when that fails. */
int hix_add(struct hix *h, int64_t seq, int64_t at, const char *kind, size_t kind_len,
            const char *target, size_t target_len);
/* Writes the open runs and the new upto; call inside the transaction,
 * before COMMIT. -1 on a database error. */
int hix_flush(struct hix *h);
/* Forgets the open runs (after a ROLLBACK). */
void hix_discard(struct hix *h);

/* Puts every event past target_runs_upto into runs, in transactions of
 * HIX_CATCH_UP_TX events (start-up after an upgrade, logs written by
 * other programs). *added: how many events it read. */
#define HIX_CATCH_UP_TX 100000
int hix_catch_up(sqlite3 *db, int64_t *added, char *err, size_t errlen);

#endif
