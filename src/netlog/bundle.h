/*
 * bundle.h - inspection of the network log: search, case bundles and their
 * offline verification (`qunctl search`, `qunctl export`, `qunctl
 * verify-bundle`; SPEC §9, issue 5 item 7).
 *
 * Search and export open the log database READ-ONLY (their own connection;
 * the daemon may be writing meanwhile, WAL lets both run). A query filters
 * by group code, account, time range [from, to) and a text substring:
 *
 *   code      events.code = ?            the code's runs of the history
 *                                        index (history_index.h)
 *   account   events.account_id = ?      the account's runs; a NAME is
 *             first resolved to its id from the newest event whose actor is
 *             that name (a scan from the end); a name never seen with an id
 *             matches actor = name (a full scan). A log qund has not
 *             indexed yet (no runs, or runs behind): a scan for either.
 *   from, to  events.at range, and the     no index of its own: at follows
 *             seq range it is            seq, so the range is bisected into
 *                                        a seq range (and bounds the runs
 *                                        read by their time)
 *   text      body LIKE '%text%'         no index: evaluated on the rows
 *                                        the other filters leave (ASCII
 *                                        case-insensitive, like LIKE)
 *   kind      kind = ? or kind LIKE 'p%' no index (filter on the rows left)
 *   actor     actor = ?                  no index (filter on the rows left)
 *   audit     kind LIKE 'audit.%' OR 'console.%' OR IN (BUNDLE_AUDIT_KINDS)
 *
 * Results come in seq order (descending with newest_first), which is also
 * (at, seq) order.
 *
 * A case bundle is a directory:
 *   events.jsonl   one JSON object per matching event: seq, at, kind,
 *                  actor, target, code, account_id, msgid, body (null for
 *                  NULL columns) and leaf (hex)
 *   manifest.json  format, case id, query, export time, counts, the latest
 *                  checkpoint (signed note text, size, root hex) and per
 *                  event its inclusion proof (leaf index = seq - 1, audit
 *                  path as hex hashes) against that checkpoint's tree
 *   key.pub        the log's verifier key text (a copy: a verifier should
 *                  get the key from the operator independently, --key)
 *
 * Only events covered by the latest checkpoint (seq <= its size) can be
 * proven; later matches are counted in the manifest (after_checkpoint) and
 * left out. After a purge the proofs are computed from the kept leaves and
 * the purged accumulator (purged.acc): the audit path of a kept leaf only
 * ever needs whole purged subtrees, never their insides; purged events
 * themselves cannot be exported (they are gone).
 *
 * Memory: export holds the leaf hashes from purged.first to the checkpoint
 * size (32 bytes each: 320 MB at 10 million events) plus one hash per
 * 1024 leaves; each proof then costs about 1024 + size/1024 hashes.
 *
 * Threads: none; blocking file I/O; for the command-line tool and, on the
 * libuv thread pool, the daemon's log.search, audit.list and log.export
 * (ctl/ctl_logquery.c): every call opens its own read-only connection.
 */
#ifndef QUN_NETLOG_BUNDLE_H
#define QUN_NETLOG_BUNDLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <jansson.h>

#include "netlog/event.h"

#define BUNDLE_DEFAULT_LIMIT 1000
#define BUNDLE_EXPORT_MAX    1000000 /* events in one bundle */
#define BUNDLE_MESSAGE_MAX   512

struct bundle_query {
    int64_t code;        /* group code, or 0 for any */
    const char *account; /* account name or id, or NULL */
    int64_t from_ms;     /* at >= from_ms, or 0 */
    int64_t to_ms;       /* at < to_ms, or 0 */
    const char *text;    /* substring of body, or NULL */
    int64_t limit;       /* search only: rows at most (0: BUNDLE_DEFAULT_LIMIT) */
    /* Added for the daemon's log.search and audit.list (ctl_logquery.c): */
    const char *kind;   /* events.kind = kind; "audit.*" (a trailing '*') is a prefix */
    const char *actor;  /* events.actor = actor exactly ("console:alice", "unix:root") */
    bool audit;         /* only operator and management actions (BUNDLE_AUDIT_KINDS) */
    bool newest_first;  /* order (at, seq) descending: the limit keeps the newest */
    int64_t after_seq;  /* seq > after_seq (paging forward), or 0 */
    int64_t before_seq; /* seq < before_seq (paging back), or 0 */
};

/* The kinds audit.list shows: every audit.* and console.* event, and these. */
#define BUNDLE_AUDIT_KINDS                                                                         \
    "'log.access', 'log.purge', 'sanction', 'blacklist', 'emergency', 'credit.appeal.decided',"    \
    " 'complaint-decision', 'report', 'report.retry', 'report.acknowledged'"

/* The query as a JSON object (for the manifest and log.access). */
json_t *bundle_query_json(const struct bundle_query *q);
/* One event as its events.jsonl object (leaf may be NULL: not included). */
json_t *bundle_event_json(const struct netlog_event *e, const uint8_t *leaf);
/* Parses "1718000000000" (ms), "2024-06-01" or "2024-06-01 12:30[:45]"
 * (China time; 'T' may replace the space). false when not a time. */
bool bundle_parse_time(const char *text, int64_t *ms);

/* Calls fn for each matching event in (at, seq) order, up to the limit.
 * Returns the number of events, or -1 with a sentence in err. fn returning
 * non-zero stops the search. */
typedef int (*bundle_event_fn)(void *ud, const struct netlog_event *e);
int64_t bundle_search(const char *db_path, const struct bundle_query *q, bundle_event_fn fn,
                      void *ud, char *err, size_t errlen);

struct bundle_export_result {
    int64_t events;           /* written with a proof */
    int64_t after_checkpoint; /* matched but newer than the checkpoint */
    uint64_t tree_size;       /* of the checkpoint proven against */
    double seconds;
    bool too_big; /* bundle_export_mem: over max_bytes */
};

/* Writes a case bundle into out_dir (created 0700 if missing). pub_path is
 * the log's ".pub" key; the checkpoint must verify with it. Returns 0, or
 * -1 with a sentence in err (a record that does not match its leaf or
 * proof is named: the log itself is then damaged). */
int bundle_export(const char *db_path, const char *pub_path, const struct bundle_query *q,
                  const char *case_id, const char *out_dir, struct bundle_export_result *r,
                  char *err, size_t errlen);

/* The same bundle in memory: the three files' bytes, exactly what
 * bundle_export writes (for the daemon's log.export, which packs them into
 * a tar archive). */
struct bundle_files {
    char *events, *manifest, *key; /* NUL-terminated; *_len without the NUL */
    size_t events_len, manifest_len, key_len;
};
/* max_bytes (0: no cap) bounds events.jsonl plus the proofs: past it the
 * export stops with -1, r->too_big set and a sentence in err. Blocking;
 * any thread (own read-only connection). On 0 the caller frees out with
 * bundle_files_free; on -1 out is empty. */
int bundle_export_mem(const char *db_path, const char *pub_path, const struct bundle_query *q,
                      const char *case_id, size_t max_bytes, struct bundle_files *out,
                      struct bundle_export_result *r, char *err, size_t errlen);
void bundle_files_free(struct bundle_files *f);

enum bundle_prove_result {
    BUNDLE_PROVE_OK = 0,
    BUNDLE_PROVE_LATER = 1,  /* a record is newer than the latest checkpoint */
    BUNDLE_PROVE_ERROR = -1, /* sentence in err */
};

#define BUNDLE_PROVE_MAX 64 /* records in one bundle_prove call */

/* Inclusion proofs of single records, for evidence outside a case bundle
 * (reports to the authority, report/report.h), made exactly as export
 * makes them: the latest checkpoint, checked with the key at pub_path,
 * and per record its events.jsonl object (with leaf) and audit path.
 * On OK *out is a new object
 *   {"checkpoint": {"note", "size", "root"},
 *    "records": [{"event": {...}, "index": seq - 1, "path": [hex, ...]}]}
 * in the order of seqs. LATER: some seq is beyond the latest checkpoint
 * (or there is none yet); ask again after the next one. ERROR: n is 0 or
 * over BUNDLE_PROVE_MAX, a record is not in the log (purged, or never
 * written) or the log does not match its checkpoint. Memory as export
 * (one leaf hash per kept record up to the checkpoint). Blocking; any
 * thread (own read-only connection). */
enum bundle_prove_result bundle_prove(const char *db_path, const char *pub_path,
                                      const int64_t *seqs, size_t n, json_t **out, char *err,
                                      size_t errlen);

enum bundle_verify_result {
    BUNDLE_VERIFY_OK = 0,
    BUNDLE_VERIFY_BAD = 1,   /* message names the first bad event or the note */
    BUNDLE_VERIFY_ERROR = 3, /* a file could not be read or parsed */
};

struct bundle_verify_report {
    int64_t events; /* events checked */
    uint64_t tree_size;
    int64_t bad_seq; /* first bad event, or 0 */
    char message[BUNDLE_MESSAGE_MAX];
};

/* Checks a bundle offline: the note's signature with the key at pub_path
 * (NULL: the bundle's own key.pub, weaker), each event's leaf recomputed
 * from its fields and its proof against the signed root. */
enum bundle_verify_result bundle_verify(const char *dir, const char *pub_path,
                                        struct bundle_verify_report *r);
/* The same checks on a bundle already opened (sans file names; fuzzed by
 * fuzz/fuzz_bundle_verify.c): the verifier key, the manifest as parsed
 * JSON and events.jsonl as a stream read line by line (NULL: it could not
 * be opened, named events_name in the message). Memory: one index entry
 * per proof of the manifest, and one line at a time. */
struct checkpoint_key;
enum bundle_verify_result bundle_verify_parts(const struct checkpoint_key *key, json_t *manifest,
                                              FILE *events, const char *events_name,
                                              struct bundle_verify_report *r);

#endif
