/*
 * provider_internal.h - what provider.c shares with provider_exec.c and
 * provider_http.c: the provider, the job (one request in flight), and the
 * helpers that finish a job.
 *
 * Lifetime of a job (all on the loop thread except the HTTP attempt):
 *
 *   QUEUED --start--> RUNNING --job_finish()--> DONE --handles closed,
 *                                                       worker returned--> freed
 *
 *   1. A job is on its provider's list from creation until job_finish();
 *      job->done is set exactly once, there, and the callback runs there.
 *   2. After job_finish() a job may still own handles (exec) or a pool
 *      request (http); job->pending counts them. job_release() drops one
 *      and frees the job when the count reaches zero and it is done.
 *   3. provider_free() finishes every job on the list with "shutting down",
 *      asks each kind to stop (kill the child, flag the worker) and sets
 *      job->p = NULL: a job never touches its provider after that.
 */
#ifndef QUN_IDENTITY_PROVIDER_INTERNAL_H
#define QUN_IDENTITY_PROVIDER_INTERNAL_H

#include <stdatomic.h>

#include "identity/provider.h"

struct provider_job;

struct provider {
    uv_loop_t *loop;
    bool sms;
    enum provider_kind kind;
    char *command; /* exec */
    char *url;     /* http */
    int timeout_s;
    int retries;
    struct provider_job *head; /* jobs not yet finished */
    size_t njobs;
    struct provider_job *http_wait_head, *http_wait_tail; /* http: not yet on the pool */
    unsigned http_running;                                /* http: on the pool now */
};

/* Exec state of a job (provider_exec.c). */
struct provider_exec {
    uv_process_t proc;
    uv_pipe_t in, out, err;
    uv_write_t wreq;
    uv_buf_t wbuf;
    bool proc_open, in_open, out_open, err_open;
    bool exited, out_eof, err_eof;
    int64_t exit_status;
    int term_signal;
    char *out_buf;
    size_t out_len;
    char err_buf[1024];
    size_t err_len;
};

/* HTTP state of a job (provider_http.c); written by the worker, read by
 * the loop after the work callback. */
struct provider_http {
    uv_work_t work;
    struct provider_job *wait_next; /* provider's wait queue */
    bool on_pool;                   /* uv_queue_work accepted it */
    char *url;
    long timeout_ms;
    int retries;
    atomic_int cancelled; /* set by the loop, read by the worker */
    enum provider_verdict verdict;
    char reason[PROVIDER_REASON_MAX];
};

struct provider_job {
    struct provider *p; /* NULL once the provider is freed */
    struct provider_job *prev, *next;
    provider_cb cb;
    void *ud;
    bool sms;
    bool done;
    unsigned pending; /* open handles + pool requests still owned */
    char *request;    /* the JSON sent to exec/http */
    uv_timer_t timer; /* defer (dev/manual/spawn failure) and exec timeout */
    bool timer_open;
    struct provider_result deferred; /* what the timer delivers when deferring */
    struct provider_exec ex;
    struct provider_http http;
};

/* Runs the callback once (if still owed) and takes the job off its
 * provider's list. Later calls do nothing. */
void job_finish(struct provider_job *job, enum provider_verdict v, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* Drops one of job->pending; frees the job when none is left and it is done. */
void job_release(struct provider_job *job);
/* uv_close callback for a handle whose data is its job. */
void job_close_cb(uv_handle_t *h);
/* Delivers v/reason from the loop on the next iteration (timer at 0). */
void job_defer(struct provider_job *job, enum provider_verdict v, const char *reason);

/* Parses a provider's answer into r (never fails: bad -> FAILED). */
void provider_parse_answer(bool sms, const char *buf, size_t len, struct provider_result *r);

int provider_exec_start(struct provider_job *job);
void provider_exec_stop(struct provider_job *job);
void provider_http_global_init(void);
void provider_http_submit(struct provider_job *job);
void provider_http_stop(struct provider_job *job);

#endif
