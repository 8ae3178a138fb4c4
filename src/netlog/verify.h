/*
 * verify.h - checks a network-log database file end to end (`qunctl
 * verify`, SPEC §9, issue 5 item 4).
 *
 * netlog_verify_file opens the log read-only and walks every retained
 * event once, in seq order, with one prepared statement. For each row:
 *
 *   1. seq is dense: the first row is 1 (or purged.first after a purge)
 *      and each row is the previous one plus one;
 *   2. the leaf recomputed from the row's fields (event.h) equals the
 *      stored leaf: any changed byte of any field shows here;
 *   3. the stored chain equals SHA-256(previous chain || stored leaf): a
 *      removed, inserted or moved row breaks the chain here;
 *   4. the leaf is added to a Merkle accumulator (merkle.h), started from
 *      purged.acc when older events were purged.
 *
 * Every checkpoint row is checked too: its signed note must verify with
 * the public key (the ".pub" verifier key), name this log (origin = key
 * name), and agree with the row's size and root; when the walk reaches its
 * size, the root of the accumulator must equal the signed root. This is
 * what catches an attacker who recomputed leaf and chain values for the
 * rows they touched: they cannot sign a new root.
 *
 * Events after the last checkpoint are checked for 1-3 but are not yet
 * covered by a signature; they are counted apart (report.unsigned_events).
 *
 * The report names the FIRST problem in seq order (a record, or a
 * checkpoint whose root no longer matches), with a sentence that says what
 * is wrong; later problems are counted, not described. After a problem
 * the walk resynchronises (the stored chain, the signed accumulator) so
 * one edit is counted once per check it fails, not for every later row.
 *
 * Threads: runs one reader thread of its own for the length of the call
 * (verify_read.c: SQLite on one core, hashing on the other); call from any
 * thread. Memory: a ring of row batches, reused, plus what SQLite maps; no
 * allocation per event.
 */
#ifndef QUN_NETLOG_VERIFY_H
#define QUN_NETLOG_VERIFY_H

#include <stdbool.h>
#include <stdint.h>

#define NETLOG_VERIFY_MESSAGE_MAX 512

enum netlog_verify_result {
    NETLOG_VERIFY_OK = 0,    /* everything retained checks out */
    NETLOG_VERIFY_BAD = 1,   /* the log was altered (see the report) */
    NETLOG_VERIFY_ERROR = 3, /* a file could not be opened or read */
};

struct netlog_verify_report {
    int64_t events;          /* event rows read */
    int64_t first_seq;       /* first seq expected (1, or purged.first) */
    int64_t last_seq;        /* seq of the last row read, or first_seq - 1 */
    int64_t checkpoints;     /* checkpoint rows read */
    int64_t signed_size;     /* size of the last checkpoint that verified */
    int64_t unsigned_events; /* events after the last checkpoint */
    int64_t problems;        /* problems found (records and checkpoints) */
    bool journal;            /* a journal (<db>.jnl) was found beside the database */
    int64_t journal_events;  /* events only the journal holds (after a crash), checked */
    bool ok;
    bool purged;      /* a purge happened: events before first_seq are gone */
    int64_t bad_seq;  /* the first bad record, or 0 */
    int64_t bad_cp;   /* the size of the first bad checkpoint, or 0 */
    int64_t bad_from; /* with bad_cp from a root mismatch: the first record */
                      /* it could be (the previous good checkpoint + 1) */
    double seconds;   /* wall time of the walk */
    char message[NETLOG_VERIFY_MESSAGE_MAX]; /* the first problem, or why not run */
};

/* Verifies the log database at db_path with the verifier key file at
 * pubkey_path (the signing key's ".pub"). Fills *r and returns
 * NETLOG_VERIFY_OK, NETLOG_VERIFY_BAD, or NETLOG_VERIFY_ERROR (then
 * r->message says which file could not be used and why). */
enum netlog_verify_result netlog_verify_file(const char *db_path, const char *pubkey_path,
                                             struct netlog_verify_report *r);

#endif
