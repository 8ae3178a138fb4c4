/*
 * report_internal.h - what report.c, outbox.c and sinks.c share (not for
 * other modules; report.h is the interface).
 *
 * The outbox holds every pending report in memory (struct rpt, a list by
 * id); delivered, failed and acknowledged ones live only in the store.
 * State of one pending report:
 *
 *   UNSEALED --proof made (outbox_prove)--> SEALED --attempt--> delivered
 *      |  a seq newer than the latest          |  (every sink done)
 *      |  checkpoint: stays, retried           +--> pending again, next_at
 *      |  every tick                           |    = now + backoff
 *      |                                       +--> failed (budget spent,
 *      |                                            or a permanent 4xx)
 *   the body is the draft document until sealed, then the final canonical
 *   document: the exact bytes that are signed.
 *
 * Invariants:
 *   1. A rpt on the pool (busy) is never freed or unlinked by anyone but
 *      the work's completion; report_stop leaves it to that completion.
 *   2. At most one proof job and one delivery job are on the pool at once.
 *   3. The row is written (store, in order) before and after every change
 *      of a rpt; the memory copy is the truth only while the daemon runs.
 *
 * Threads: loop, except sinks_* (pool, touching only their job).
 */
#ifndef QUN_REPORT_INTERNAL_H
#define QUN_REPORT_INTERNAL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "report/canon.h"
#include "report/report.h"

#define REPORT_IDEM_HEX 32 /* 128 random bits */
#define REPORT_ERR_MAX  200

struct rpt {
    struct rpt *next;
    int64_t id;
    char idem[REPORT_IDEM_HEX + 1];
    char *body; /* canonical document text (draft until sealed) */
    int64_t seqs[REPORT_SEQS_MAX];
    size_t nseqs;
    bool sealed;
    int attempts;
    int64_t next_at; /* moderation-clock seconds */
    bool spool_done, http_done;
    bool busy;            /* a proof or delivery job has it */
    bool wait_checkpoint; /* proof asked for too early: next tick */
};

struct report_state {
    bool running;
    uv_loop_t *loop;
    struct store *st;
    char *spool_dir; /* NULL: no spool */
    char *http_url;  /* NULL: no HTTP */
    char *netlog_path, *pub_path, *server_name;
    int http_timeout, max_attempts, backoff_base, backoff_max;
    int64_t last_id;
    struct rpt *head; /* pending reports, by id */
    bool proving, delivering;
    atomic_int cancel; /* set by report_stop: running HTTP requests end */
};

extern struct report_state report_g;

/* outbox.c */
void outbox_add(struct rpt *r); /* takes r, keeps the list sorted by id */
struct rpt *outbox_find(int64_t id);
void outbox_remove(struct rpt *r); /* unlinks and frees (not busy) */
void outbox_pump(void);            /* starts the work that is due */
void outbox_tick(int64_t now);     /* the qclock job */
void outbox_free_all(void);        /* report_stop: frees the idle ones */
void rpt_free(struct rpt *r);
/* Writes an event "report.<what>" with body {"id":..} plus extra members
 * (a JSON object, stolen; may be NULL). */
void report_log_event(const char *what, const char *actor, int64_t id, json_t *extra);
/* RFC 3339 UTC of a moderation-clock time into out (>= 21 bytes). */
void report_time_text(int64_t t, char *out, size_t cap);

/* sinks.c: blocking, on the pool */
struct sink_result {
    bool ok;
    bool permanent;    /* http: a 4xx other than 408 and 429 */
    bool acknowledged; /* http: the reply body was {"acknowledged":true} */
    long status;       /* http status, 0 when none */
    char err[REPORT_ERR_MAX];
};
/* Writes dir/<id>.json atomically (temp file, fsync, rename, fsync dir). */
void sinks_spool(const char *dir, int64_t id, const char *text, struct sink_result *out);
/* POSTs text to url with the Idempotency-Key header. */
void sinks_http(const char *url, long timeout_ms, const char *idem, const char *text,
                struct sink_result *out);
/* Creates dir (and missing parents) mode 0700; 0 or -1 with errno. */
int sinks_mkdirs(const char *dir);

#endif
