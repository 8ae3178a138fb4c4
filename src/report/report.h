/*
 * report.h - reports to the competent department (SPEC §10, rules art. 11).
 *
 * Each serious or severe decision, group closure and blacklisting creates
 * a report: subject, identity reference (the vault's keyed hash, never the
 * identity itself), group code, evidence (network-log records with
 * inclusion proofs against a signed checkpoint) and the measures taken.
 * The outbox delivers each report to the configured sinks: a spool
 * directory (one signed JSON file per report; the default) and/or an HTTP
 * endpoint (POST, retries with backoff, an idempotency key). Statuses:
 * pending, delivered, failed, acknowledged. Creation is a network-log
 * event; qunctl lists and retries reports.
 *
 * Rows: reports and report_attempts (store schema step 4). The document
 * format, the signature and the sinks are described in docs/reports.md;
 * the files: report.c (creation, the document, control operations),
 * outbox.c (the queue of pending reports, proofs, attempts, backoff),
 * sinks.c (spool file and HTTP POST, blocking, on the pool), canon.c (the
 * signed canonical bytes).
 *
 * Threads: every function here on the loop thread; proofs and delivery
 * run on the libuv thread pool and report back on the loop.
 */
#ifndef QUN_REPORT_REPORT_H
#define QUN_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>
#include <uv.h>

struct account;
struct qun_config;
struct store;

struct report_input {
    const char *kind;              /* "decision", "closure", "blacklist" */
    const struct account *subject; /* may be NULL */
    int64_t group_code;            /* 0: none */
    const char *severity;          /* "serious", "severe" or NULL */
    const char *reason;            /* the rule or the moderator's reason */
    const char *measures;          /* what was done, one sentence */
    const char *evidence;          /* "complaint:12", "msgid:...", ... */
    const int64_t *seqs;           /* network-log records to prove */
    size_t nseqs;
    const char *author;
};

int report_start(uv_loop_t *loop, const struct qun_config *cfg, struct store *st, char *err,
                 size_t errlen);
void report_stop(void);

/* Queues a report; returns its id, or -1 when it could not be stored. */
int64_t report_create(const struct report_input *in);

/* ---- beyond the contract: what the control commands need ---- */

#define REPORT_TEXT_MAX 2000 /* bytes of reason, measures, evidence */
#define REPORT_SEQS_MAX 64   /* network-log records proven in one report */

/* report_create, with the reason of a refusal (one sentence) in err:
 * kind not one of decision, closure, blacklist, manual; no subject and no
 * group; empty reason or measures; a text over REPORT_TEXT_MAX; more than
 * REPORT_SEQS_MAX seqs or a seq the log has not assigned; not started. */
int64_t report_create_ex(const struct report_input *in, char *err, size_t errlen);

enum report_error {
    REPORT_OK = 0,
    REPORT_ERR_NOT_FOUND = -1, /* no report with that id */
    REPORT_ERR_STATE = -2,     /* not in a status that allows it; err says which */
    REPORT_ERR_STORE = -3,     /* the store failed or is closing */
};

/* Answers of the operations below, on the loop: rc is enum report_error,
 * result a new reference (NULL on error), err a sentence (NULL on OK). */
typedef void (*report_result_cb)(void *ud, int rc, json_t *result, const char *err);

/* Newest first, at most REPORT_LIST_MAX; status NULL for all. */
#define REPORT_LIST_MAX 500
int report_list(const char *status, report_result_cb cb, void *ud);
/* How many reports are in each status: {"pending": n, "delivered": n,
 * "failed": n, "acknowledged": n} (for the console's dashboard). */
int report_counts(report_result_cb cb, void *ud);
/* One report: its row, the document and the delivery attempts. */
int report_show(int64_t id, report_result_cb cb, void *ud);
/* failed -> pending, with a fresh budget of attempts, tried now. */
int report_retry(int64_t id, const char *actor, report_result_cb cb, void *ud);
/* pending (not in the middle of an attempt), delivered or failed ->
 * acknowledged: the authority confirmed receipt (told the operator). */
int report_ack(int64_t id, const char *actor, report_result_cb cb, void *ud);

#endif
