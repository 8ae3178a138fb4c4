/*
 * history_index.h - the network log's history index: where each group's,
 * each group code's and each account's events are, as runs instead of a
 * B-tree entry per event.
 *
 * A run is one row of the table runs (schema.h): an axis ("target": a
 * group's name; "code": a group's code; "account": an account id) and its
 * key, the seq and time of the first and last event, and the offsets
 * (seq - first) of every event of that key in between, as a JSON array
 * that SQL reads with json_each. A run holds the events of one key that
 * one writer transaction added, at most HIX_RUN_MAX of them, so the runs
 * of one key are disjoint and ordered alike by first, by last and by
 * last_at (time never goes back as seq grows). runs_upto holds the seq up
 * to which every event is in its runs.
 *
 * Why: a B-tree entry per event, inserted at one of a thousand places in
 * the (target, at) index, cost the applier about half its time at 1,000
 * groups of 5; a run costs one row per key and transaction
 * (docs/internals/netlog-history-index.md). History reads runs in order
 * and each event by primary key (NETLOG_SQL_RUNS_* in schema.h).
 *
 * Derived data, not evidence: nothing in the chain or the checkpoints
 * covers it, and deleting runs and runs_upto rebuilds it at the next start
 * (hix_catch_up). A direct message is in its sender's account runs but not
 * in target runs: its history is by account and nick, through the partial
 * indexes events_dm_target and events_dm_account.
 *
 * Threads: a struct hix belongs to the thread that owns its connection.
 */
#ifndef QUN_NETLOG_HISTORY_INDEX_H
#define QUN_NETLOG_HISTORY_INDEX_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlog/event.h"
#include "util/strmap.h"

/* Events in one run at most: history sorts a run's events, so this bounds
 * the work of reading one (and a run's row stays under ~2 KiB). */
#define HIX_RUN_MAX 256

/* The longest target in runs, in bytes: any group's name (at most
 * limits.channel_length, 200). */
#define HIX_TARGET_MAX 255

/* Keys whose (empty) runs a writer keeps between transactions. */
#define HIX_KEYS_KEPT 16384

/* The runs a writer is filling inside one transaction. */
struct hix {
    sqlite3_stmt *ins, *upto;
    struct strmap open; /* axis letter and key -> struct hix_run (n 0: none open) */
    int64_t last_seq;   /* the last event added (0: none) */
};

/* Prepares the statements on db (whose schema exists). */
int hix_init(struct hix *h, sqlite3 *db);
void hix_close(struct hix *h);

/* Adds event e (its seq, time, kind, target, code, account; target_len:
 * strlen of its target, 0 when it has none) to its runs; seqs come in
 * increasing order. A run that fills up is written at once: returns -1
 * when that fails. */
int hix_add(struct hix *h, const struct netlog_event *e, size_t target_len);
/* Writes the open runs and the new upto; call inside the transaction,
 * before COMMIT. -1 on a database error. */
int hix_flush(struct hix *h);
/* Forgets the open runs (after a ROLLBACK). */
void hix_discard(struct hix *h);

/* Whether every event is in its runs (runs_upto at the last seq): a log
 * written before the index, not yet opened by qund, has no runs; readers
 * then search the events themselves. */
bool hix_complete(sqlite3 *db);

/* Puts every event past runs_upto into runs, in transactions of
 * HIX_CATCH_UP_TX events (start-up after an upgrade, logs written by
 * other programs). *added: how many events it read. */
#define HIX_CATCH_UP_TX 100000
int hix_catch_up(sqlite3 *db, int64_t *added, char *err, size_t errlen);

#endif
