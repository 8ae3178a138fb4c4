/*
 * journal.h - the network log's commit record file (sans policy; netlog.c
 * decides when to write, rewind and replay).
 *
 * A strict-mode event is durable once its record is in this file and the
 * file is fdatasync'ed: one sequential write of a few hundred bytes per
 * event, into a preallocated file, instead of an SQLite transaction that
 * rewrites every B-tree page the event touches. The SQLite database
 * (schema.h) stays the log that everything reads; the applier thread
 * copies the records into it in large transactions, and start-up copies
 * whatever a crash left only here (netlog_open).
 *
 * File: "<log.path>.jnl", preallocated to its capacity, in two halves.
 * Records follow each other from the start of a half; when the next batch
 * does not fit in the half being filled, the writer goes on at the start
 * of the other half once the database has taken (and synced) every record
 * there, and at offset 0 whenever the database has taken everything. So
 * the file holds at most two runs of records, one from offset 0 and one
 * from the middle (the file's size / 2), the older of them possibly
 * partly in the database already; readers take both, the older first
 * (journal_iter). A batch larger than a half (only in a journal made tiny
 * for a test) is written from offset 0 across the middle; the run from 0
 * then goes on into the second half. One record:
 *
 *     magic  u32  "QJR1"
 *     len    u32  payload bytes
 *     crc    u32  CRC-32C of the payload
 *     payload:
 *       'E' seq i64, at i64, code i64, account i64, leaf[32], chain[32],
 *           kind, actor, target, msgid, body   (strings: u32 n, then n
 *           bytes ending in NUL; n = 0 for an absent one)
 *       'C' size u64, at i64, root[32], note, acc   (a signed checkpoint
 *           covering the events before it; note as a string, acc as u32
 *           n and n bytes)
 *
 * integers little-endian. Reading stops at the first record that is torn
 * (bad magic, length or CRC) or out of order: an event's seq must follow
 * the previous event's, a checkpoint's size must equal it. Records from
 * before a rewind that survive past the new tail carry smaller seqs, so
 * the order rule ends the valid run there. A journal written before the
 * halves (one run from offset 0, up to the whole file) reads the same way:
 * its run from 0 goes on past the middle, and what starts at the middle is
 * the inside of a record.
 */
#ifndef QUN_NETLOG_JOURNAL_H
#define QUN_NETLOG_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlog/event.h"

#define JOURNAL_HEAD_BYTES 12

/* A growing byte buffer of encoded records. */
struct journal_buf {
    uint8_t *p;
    size_t len, cap;
    int64_t last_seq; /* of the last event record, or 0 */
    size_t events;
};

/* The bytes of an event record besides its strings' bytes (each string
 * counted with its NUL): a caller that already summed those adds them. */
#define JOURNAL_EVENT_FIXED (JOURNAL_HEAD_BYTES + 1 + 4 * 8 + 2 * NETLOG_HASH_BYTES + 5 * 4)

/* The bytes one event record takes (for batch sizing). */
size_t journal_event_bytes(const struct netlog_event *e);
/* Makes room for at least n more bytes (one allocation for a known batch). */
void journal_buf_reserve(struct journal_buf *b, size_t n);
void journal_put_event(struct journal_buf *b, const struct netlog_event *e,
                       const uint8_t leaf[NETLOG_HASH_BYTES],
                       const uint8_t chain[NETLOG_HASH_BYTES]);
/* The same with the strings' lengths known (netlog_text_lens). */
void journal_put_event_lens(struct journal_buf *b, const struct netlog_event *e,
                            const uint32_t lens[NETLOG_TEXTS],
                            const uint8_t leaf[NETLOG_HASH_BYTES],
                            const uint8_t chain[NETLOG_HASH_BYTES]);
void journal_put_checkpoint(struct journal_buf *b, uint64_t size, int64_t at_ms,
                            const uint8_t root[NETLOG_HASH_BYTES], const char *note,
                            const uint8_t *acc, size_t acc_len);
void journal_buf_free(struct journal_buf *b);

/* One decoded record; strings and blobs point into the decoded bytes. */
struct journal_rec {
    char type; /* 'E' or 'C' */
    struct netlog_event ev;
    const uint8_t *leaf, *chain;
    /* byte lengths of ev's strings without their NUL (0 when absent), so
     * the applier binds them without measuring them again */
    uint32_t kind_len, actor_len, target_len, msgid_len, body_len;
    /* 'C' */
    uint64_t size;
    int64_t at_ms;
    const uint8_t *root;
    const char *note;
    uint32_t note_len;
    const uint8_t *acc;
    size_t acc_len;
};

/* Decodes the record at p (avail bytes). Returns its length, or 0 when
 * there is none (end, torn or damaged). check_crc false: bytes this
 * process encoded itself (the applier's chunks), whose CRC was computed at
 * encoding and cannot have changed in memory. */
size_t journal_decode(const uint8_t *p, size_t avail, struct journal_rec *r, bool check_crc);

/* The valid run of records at the front of buf: returns its length in
 * bytes (the order rule above applies). */
size_t journal_valid_prefix(const uint8_t *buf, size_t len);

/* The records of a journal file's two runs in the order they were
 * written (the older run first; records that both runs hold, when the run
 * from 0 goes on past the middle, come twice: readers skip seqs they
 * have). mid: where the second run starts, the file's size / 2. */
struct journal_iter {
    const uint8_t *buf;
    size_t run_off[2], run_len[2];
    int runs, run;
    size_t at; /* within the current run */
};
void journal_iter_init(struct journal_iter *it, const uint8_t *buf, size_t len, size_t mid);
/* The next record (CRC checked), or false at the end. */
bool journal_iter_next(struct journal_iter *it, struct journal_rec *r);

struct journal {
    int fd;
    uint64_t off;   /* where the next record goes */
    uint64_t cap;   /* preallocated bytes */
    uint64_t found; /* the file's size when opened (0: new), before any growth */
};

/* Opens or creates path with cap bytes reserved. -1 with err. */
int journal_open(struct journal *j, const char *path, uint64_t cap, char *err, size_t errlen);
void journal_close(struct journal *j);
/* Reads the journal file at path, read-only (an inspector's copy: qunctl
 * verify), into a malloc'ed buffer. 0, or 1 when there is no such file,
 * or -1 with err (unreadable, or larger than JOURNAL_FILE_MAX). */
#define JOURNAL_FILE_MAX (1ULL << 30)
int journal_load(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen);
/* Reads the whole file into a malloc'ed buffer (*len bytes). -1 with err. */
int journal_read_all(struct journal *j, uint8_t **buf, size_t *len, char *err, size_t errlen);
/* Writes len bytes at the current offset and fdatasyncs. -1 with errno set
 * (ENOSPC when they do not fit before cap). */
int journal_append(struct journal *j, const void *p, size_t len);
/* Cuts a journal file larger than cap down to cap (the configured size
 * was lowered); only when every record in it is in the database. -1 with
 * err. */
int journal_shrink(struct journal *j, uint64_t cap, char *err, size_t errlen);
/* The next record goes to off: 0 when every record written so far is in
 * the database, or the start of a half whose records all are. */
void journal_seek(struct journal *j, uint64_t off);

uint32_t journal_crc32c(const uint8_t *p, size_t n);

#endif
