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
 * Rows: reports (store schema step 4). Threads: loop thread (delivery
 * work on the thread pool).
 */
#ifndef QUN_REPORT_REPORT_H
#define QUN_REPORT_REPORT_H

#include <stddef.h>
#include <stdint.h>
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

#endif
