/*
 * netlog.h - the network log (SPEC §9, art. 11 and 13): every event
 * appended, durable before anyone sees it, hashed into a Merkle tree and
 * signed at checkpoints.
 *
 * Life of one event:
 *
 *   netlog_append()  (loop)     seq assigned, fields copied, leaf hash,
 *        |                      queued
 *        v
 *   [WRITER THREAD]            takes everything queued (group commit):
 *                              chain, Merkle accumulator, a signed
 *                              checkpoint when N events or T seconds have
 *                              passed; one write of the records to the
 *                              journal (journal.h) and fdatasync
 *        |  uv_async                         |
 *        v                                   v
 *   (loop) callbacks in seq order:      [APPLIER THREAD] copies journaled
 *   the message is delivered now        records into the SQLite database
 *   (strict)                            (one transaction per 4,096 events
 *                                       or 20 ms, at once when a reader
 *                                       waits); the journal starts over
 *                                       when the database holds all of it
 *
 * Start-up copies into the database what a crash left only in the journal
 * before anything else runs. Readers of the database (CHATHISTORY,
 * search, export) first wait for the events appended before them:
 * netlog_when_readable.
 *
 * In relaxed mode (benchmarks only) the callback runs at once and the
 * writer writes within 100 ms.
 *
 * When a journal write fails (disk full, I/O error, read-only file system)
 * the batch is kept, the writer retries every second, and
 * netlog_healthy() is false until a write succeeds: group posting is
 * refused meanwhile (msgpath.c), and nothing accepted is lost: accepted
 * events stay queued, in order, and are delivered once written. When the
 * database refuses records, the journal keeps them until it takes them;
 * once the journal is full, journal writes fail as above.
 *
 * Invariants:
 *   1. seq is dense and increasing; callbacks run in seq order, once each.
 *   2. A strict-mode callback runs only after its event is in the journal
 *      on disk (fdatasync returned).
 *   3. The writer's chain and accumulator advance only with a journal
 *      write; the journal is rewound only when the database holds, synced,
 *      every record in it.
 *
 * Threads: every public function on the loop thread; callbacks on the loop.
 */
#ifndef QUN_NETLOG_NETLOG_H
#define QUN_NETLOG_NETLOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "netlog/event.h"

struct qun_config;

/* status: 0 when committed (or accepted in relaxed mode), -1 when the log
 * was closed before the event could be written. */
typedef void (*netlog_cb)(void *ud, int status, int64_t seq);

/* Opens (creating) the log database and the signing key. -1 with err. */
int netlog_open(uv_loop_t *loop, const struct qun_config *cfg, char *err, size_t errlen);
/* Commits what is queued, writes a final checkpoint, stops the writer. */
void netlog_close(void);

/* Appends e (every string is copied). cb may be NULL. Returns the seq, or
 * -1 when the log is not open or its queue is over its bound, or when
 * e->seq is set (the seq the caller named the event after, as a chat
 * message's msgid names it: util/msgid.h) and is not the next one. */
int64_t netlog_append(const struct netlog_event *e, netlog_cb cb, void *ud);
/* The same when the caller knows the strings' lengths (NETLOG_TEXTS of
 * them in event.h's order, 0 for a NULL string): the message path does,
 * and the log then never measures a message twice. */
int64_t netlog_append_lens(const struct netlog_event *e, const uint32_t lens[NETLOG_TEXTS],
                           netlog_cb cb, void *ud);
/* The seq the next appended event gets. */
int64_t netlog_next_seq(void);
/* Convenience: time now, no callback. */
int64_t netlog_record(const char *kind, const char *actor, const char *target, int64_t code,
                      int64_t account_id, const char *msgid, const char *body);

/* Calls fn(ud) on the loop once the database holds every event appended
 * before this call (at once when it already does), or after 2 s when it
 * cannot take them (a failing disk): readers of the database call it
 * first, so what went out before a query is in its answer. */
void netlog_when_readable(void (*fn)(void *ud), void *ud);

/* False while commits fail (posting is then refused). */
bool netlog_healthy(void);
bool netlog_strict(void);
/* Whether direct messages keep their text (log.direct_messages). */
bool netlog_dm_content(void);

struct netlog_stats {
    int64_t last_seq;    /* assigned */
    int64_t durable_seq; /* in the journal, on disk */
    int64_t applied_seq; /* in the database, readable */
    uint64_t commits, batches_failed, checkpoints, max_batch;
    uint64_t applies, apply_failed; /* database transactions */
    size_t queued;
    uint64_t checkpoint_size; /* tree size of the latest signed checkpoint (0: none) */
    int64_t checkpoint_ms;    /* when it was signed (ms), or 0 */
    /* The journal's write + fdatasync, which every strict delivery waits
     * for: the slowest one so far (microseconds) and how many took longer
     * than NETLOG_SYNC_SLOW_MS (each of those is also a warning in the
     * log, at most one per 10 s). */
    uint64_t sync_max_us, syncs_slow;
};
#define NETLOG_SYNC_SLOW_MS 100
void netlog_get_stats(struct netlog_stats *out);

/* The log's Ed25519 signing key (the checkpoint key) signs documents that
 * leave the server, e.g. reports to the authority (report/report.h), so a
 * receiver checks them with the same ".pub" file as the log. The key is
 * loaded once, by netlog_open; nothing else reads the key file.
 *
 * Signs msg[0..len) (a plain Ed25519 signature over exactly those bytes):
 * sig gets 64 bytes, key_name the key's name (NUL-terminated, cap >= 201)
 * and key_id the 4-byte key hash, as in the ".pub" file. The signed bytes
 * must not be able to pass for a checkpoint note (whose body starts with
 * the origin line): a JSON document starting with '{' cannot. Returns 0,
 * or -1 when the log is not open. Loop thread. */
int netlog_sign(const void *msg, size_t len, uint8_t sig[64], char *key_name, size_t cap,
                uint8_t key_id[4]);

/* Test builds only (QUN_TEST_HOOKS): when the file named by the
 * environment variable QUN_NETLOG_FAULT exists, every journal write fails
 * as if the disk were full; QUN_NETLOG_JOURNAL_BYTES sets the journal's
 * size below netlog.journal_size's minimum (so a test can fill it). */

#endif
