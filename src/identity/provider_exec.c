/*
 * provider_exec.c - the "exec" provider kind: one child process per request.
 *
 * The program named by the configuration is started without a shell
 * (argv = {command, NULL}, the daemon's environment). The request JSON and a
 * newline are written to its stdin, which is then closed. Its stdout is the
 * answer (at most PROVIDER_ANSWER_MAX bytes); its stderr is collected (at
 * most sizeof err_buf, the rest discarded) and logged at debug, never
 * parsed.
 *
 * A job's exec state goes
 *
 *   provider_exec_start -> RUNNING -> (exit + stdout EOF + stderr EOF) -> exec_complete
 *                            |-- timer fires ------------------> FAILED "timed out", kill
 *                            |-- stdout over the cap ----------> FAILED, kill
 *                            `-- provider_free ----------------> kill (provider.c finishes)
 *
 * Invariants:
 *   1. Each handle (proc, in, out, err; the timer is in provider.c's job)
 *      holds one job reference from init until its close callback.
 *   2. The process handle is only closed from its exit callback, so the
 *      child is always reaped (a killed child still exits).
 *   3. After the job is finished nothing here calls back again; the
 *      remaining events only close handles.
 * Thread: loop only. The daemon ignores SIGPIPE (qund/main.c), so a child
 * that exits without reading its stdin gives a write error, not a signal.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "identity/provider_internal.h"
#include "util/alloc.h"
#include "util/log.h"

static void close_handle(struct provider_job *job, uv_handle_t *h, bool *open)
{
    (void)job;
    if (*open) {
        *open = false;
        uv_close(h, job_close_cb);
    }
}

static void exec_kill(struct provider_job *job)
{
    struct provider_exec *ex = &job->ex;
    if (ex->proc_open && !ex->exited)
        uv_process_kill(&ex->proc, SIGKILL);
    close_handle(job, (uv_handle_t *)&ex->in, &ex->in_open);
    close_handle(job, (uv_handle_t *)&ex->out, &ex->out_open);
    close_handle(job, (uv_handle_t *)&ex->err, &ex->err_open);
}

static void close_timer(struct provider_job *job)
{
    if (job->timer_open) {
        job->timer_open = false;
        uv_timer_stop(&job->timer);
        uv_close((uv_handle_t *)&job->timer, job_close_cb);
    }
}

/* Logs what the child wrote to stderr, one debug line, control characters
 * replaced. It is the provider's own diagnostics; we never act on it. */
static void log_stderr(struct provider_job *job)
{
    struct provider_exec *ex = &job->ex;
    if (ex->err_len == 0)
        return;
    for (size_t i = 0; i < ex->err_len; i++)
        if ((unsigned char)ex->err_buf[i] < 0x20)
            ex->err_buf[i] = ' ';
    log_debug("%s provider stderr: %.*s", job->sms ? "sms" : "identity", (int)ex->err_len,
              ex->err_buf);
}

static void exec_complete(struct provider_job *job)
{
    struct provider_exec *ex = &job->ex;
    if (job->done || !ex->exited || !ex->out_eof || !ex->err_eof)
        return;
    log_stderr(job);
    close_timer(job);
    if (ex->term_signal != 0) {
        job_finish(job, PROVIDER_FAILED, "provider killed by signal %d", ex->term_signal);
    } else if (ex->exit_status != 0) {
        job_finish(job, PROVIDER_FAILED, "provider exited with status %lld",
                   (long long)ex->exit_status);
    } else {
        struct provider_result r;
        provider_parse_answer(job->sms, ex->out_buf ? ex->out_buf : "", ex->out_len, &r);
        job_finish(job, r.verdict, "%s", r.reason);
    }
}

static void on_child_exit(uv_process_t *proc, int64_t status, int term_signal)
{
    struct provider_job *job = proc->data;
    job->ex.exited = true;
    job->ex.exit_status = status;
    job->ex.term_signal = term_signal;
    job->ex.proc_open = false;
    uv_close((uv_handle_t *)proc, job_close_cb);
    exec_complete(job);
}

static void on_timeout(uv_timer_t *t)
{
    struct provider_job *job = t->data;
    int secs = job->p ? job->p->timeout_s : 0;
    close_timer(job);
    exec_kill(job);
    job_finish(job, PROVIDER_FAILED, "timed out after %d s", secs);
}

static void out_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    struct provider_job *job = h->data;
    struct provider_exec *ex = &job->ex;
    (void)suggested;
    if (!ex->out_buf)
        ex->out_buf = xmalloc(PROVIDER_ANSWER_MAX + 1);
    /* one byte of room past the cap, so "over the cap" can be seen */
    *buf =
        uv_buf_init(ex->out_buf + ex->out_len, (unsigned)(PROVIDER_ANSWER_MAX + 1 - ex->out_len));
}

static void out_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct provider_job *job = s->data;
    struct provider_exec *ex = &job->ex;
    (void)buf;
    if (nread > 0) {
        ex->out_len += (size_t)nread;
        if (ex->out_len > PROVIDER_ANSWER_MAX) {
            close_timer(job);
            exec_kill(job);
            job_finish(job, PROVIDER_FAILED, "answer from provider over %d bytes",
                       PROVIDER_ANSWER_MAX);
        }
        return;
    }
    if (nread < 0) { /* EOF or a read error: either way the answer is complete */
        ex->out_eof = true;
        close_handle(job, (uv_handle_t *)s, &ex->out_open);
        exec_complete(job);
    }
}

static void err_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    static char discard[4096]; /* loop thread only; contents never read */
    struct provider_job *job = h->data;
    struct provider_exec *ex = &job->ex;
    (void)suggested;
    if (ex->err_len < sizeof ex->err_buf)
        *buf = uv_buf_init(ex->err_buf + ex->err_len, (unsigned)(sizeof ex->err_buf - ex->err_len));
    else
        *buf = uv_buf_init(discard, sizeof discard);
}

static void err_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct provider_job *job = s->data;
    struct provider_exec *ex = &job->ex;
    if (nread > 0 && buf->base != ex->err_buf + ex->err_len)
        return; /* went to the discard buffer */
    if (nread > 0) {
        ex->err_len += (size_t)nread;
        return;
    }
    if (nread < 0) {
        ex->err_eof = true;
        close_handle(job, (uv_handle_t *)s, &ex->err_open);
        exec_complete(job);
    }
}

static void in_written(uv_write_t *w, int status)
{
    struct provider_job *job = w->data;
    /* A failed write (the child exited without reading) is not an error by
     * itself: the exit status and stdout decide. */
    close_handle(job, (uv_handle_t *)&job->ex.in, &job->ex.in_open);
    job_release(job); /* the write request's reference */
}

static void pipe_open(struct provider_job *job, uv_pipe_t *pipe, bool *open)
{
    uv_pipe_init(job->p->loop, pipe, 0);
    pipe->data = job;
    *open = true;
    job->pending++;
}

/* Wires stdin/stdout/stderr and the timeout once the child runs. */
static void exec_running(struct provider_job *job)
{
    struct provider_exec *ex = &job->ex;
    size_t n = strlen(job->request);
    job->request[n] = '\n'; /* the NUL's place; request is not used as a string after */
    ex->wbuf = uv_buf_init(job->request, (unsigned)(n + 1));
    ex->wreq.data = job;
    job->pending++;
    if (uv_write(&ex->wreq, (uv_stream_t *)&ex->in, &ex->wbuf, 1, in_written) != 0) {
        job->pending--;
        close_handle(job, (uv_handle_t *)&ex->in, &ex->in_open);
    }
    uv_read_start((uv_stream_t *)&ex->out, out_alloc, out_read);
    uv_read_start((uv_stream_t *)&ex->err, err_alloc, err_read);
    uv_timer_init(job->p->loop, &job->timer);
    job->timer.data = job;
    job->timer_open = true;
    job->pending++;
    uv_timer_start(&job->timer, on_timeout, (uint64_t)job->p->timeout_s * 1000, 0);
}

int provider_exec_start(struct provider_job *job)
{
    struct provider_exec *ex = &job->ex;
    pipe_open(job, &ex->in, &ex->in_open);
    pipe_open(job, &ex->out, &ex->out_open);
    pipe_open(job, &ex->err, &ex->err_open);
    char *args[] = {job->p->command, NULL};
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_CREATE_PIPE | UV_READABLE_PIPE, .data.stream = (uv_stream_t *)&ex->in},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&ex->out},
        {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&ex->err},
    };
    uv_process_options_t opt = {.exit_cb = on_child_exit,
                                .file = job->p->command,
                                .args = args,
                                .stdio_count = 3,
                                .stdio = stdio};
    ex->proc.data = job;
    int rc = uv_spawn(job->p->loop, &ex->proc, &opt);
    /* Even a failed uv_spawn leaves the handle initialised: it must be closed. */
    job->pending++;
    if (rc != 0) {
        log_warn("%s provider: cannot start %s: %s", job->sms ? "sms" : "identity", job->p->command,
                 uv_strerror(rc));
        uv_close((uv_handle_t *)&ex->proc, job_close_cb);
        exec_kill(job); /* closes the pipes */
        return -1;
    }
    ex->proc_open = true;
    exec_running(job);
    return 0;
}

void provider_exec_stop(struct provider_job *job)
{
    exec_kill(job);
}
