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
 *                              BEGIN; chain, Merkle accumulator,
 *                              INSERT per event; a signed checkpoint when
 *                              N events or T seconds have passed; COMMIT
 *                              (fsync, synchronous=FULL)
 *        |  uv_async
 *        v
 *   (loop) callbacks in seq order: the message is delivered now (strict)
 *
 * In relaxed mode (benchmarks only) the callback runs at once and the
 * writer commits within 100 ms.
 *
 * When a commit fails (disk full, I/O error, read-only file system) the
 * batch is rolled back and kept, the writer retries every second, and
 * netlog_healthy() is false until a commit succeeds: group posting is
 * refused meanwhile (msgpath.c), and nothing accepted is lost: accepted
 * events stay queued, in order, and are delivered once written.
 *
 * Invariants:
 *   1. seq is dense and increasing; callbacks run in seq order, once each.
 *   2. A strict-mode callback runs only after its event is committed.
 *   3. The writer's chain and accumulator advance only with a commit.
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
 * -1 when the log is not open or its queue is over its bound. */
int64_t netlog_append(const struct netlog_event *e, netlog_cb cb, void *ud);
/* Convenience: time now, no callback. */
int64_t netlog_record(const char *kind, const char *actor, const char *target, int64_t code,
                      int64_t account_id, const char *msgid, const char *body);

/* False while commits fail (posting is then refused). */
bool netlog_healthy(void);
bool netlog_strict(void);
/* Whether direct messages keep their text (log.direct_messages). */
bool netlog_dm_content(void);

struct netlog_stats {
    int64_t last_seq;    /* assigned */
    int64_t durable_seq; /* committed */
    uint64_t commits, batches_failed, checkpoints, max_batch;
    size_t queued;
    uint64_t checkpoint_size; /* tree size of the latest signed checkpoint (0: none) */
    int64_t checkpoint_ms;    /* when it was signed (ms), or 0 */
};
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
 * environment variable QUN_NETLOG_FAULT exists, every commit fails as if
 * the disk were full. */

#endif
