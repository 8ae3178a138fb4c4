/*
 * provider_http.c - the "http" provider kind: POST the request JSON with
 * libcurl, one blocking easy handle per request, on the libuv thread pool.
 *
 * Why the pool: curl_easy_perform blocks; the loop must not. The pool is
 * shared with SQLite reads and argon2id, so a provider runs at most
 * HTTP_PARALLEL requests there at once; the rest wait, in order, in the
 * provider's queue on the loop (http_wait_head). A dead provider therefore
 * holds at most HTTP_PARALLEL pool threads per provider, never all of them.
 *
 * One request (http_work, on the worker):
 *   attempt 1..1+retries: POST, per-attempt timeout = the provider timeout;
 *     network error or HTTP 5xx -> sleep (200 ms x attempt) and try again;
 *     HTTP 2xx -> the body (<= PROVIDER_ANSWER_MAX) is parsed like exec's
 *     stdout; any other status -> FAILED "provider answered HTTP n".
 *   The result goes into job->http and http_done delivers it on the loop.
 *
 * Invariants:
 *   1. The worker reads only its job's copies (url, request, limits) and
 *      writes only job->http.verdict/reason; the loop reads those only in
 *      http_done, after the pool hands the job back.
 *   2. job->http.cancelled is the only field both threads touch while the
 *      work runs (atomic). Set by provider_free; curl's progress callback
 *      and the backoff sleep poll it, so a cancelled job returns soon.
 *   3. A job on the pool holds one job reference until http_done.
 * curl_global_init runs once (uv_once), before the first worker uses curl;
 * curl_global_cleanup is never called (other threads may still use curl).
 */
#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "identity/provider_internal.h"
#include "util/alloc.h"
#include "util/log.h"

#define HTTP_PARALLEL   2   /* requests of one provider on the pool at once */
#define HTTP_BACKOFF_MS 200 /* times the attempt number */

static uv_once_t curl_once = UV_ONCE_INIT;

static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        log_error("libcurl initialisation failed; http providers will fail");
}

void provider_http_global_init(void)
{
    uv_once(&curl_once, curl_init_once);
}

/* The response body, capped. */
struct http_body {
    char *buf;
    size_t len;
    bool too_big;
};

static size_t body_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct http_body *b = ud;
    size_t n = size * nmemb;
    if (b->len + n > PROVIDER_ANSWER_MAX) {
        b->too_big = true;
        return 0; /* makes curl stop with CURLE_WRITE_ERROR */
    }
    memcpy(b->buf + b->len, data, n);
    b->len += n;
    return n;
}

static int progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct provider_job *job = ud;
    return atomic_load(&job->http.cancelled) ? 1 : 0;
}

static void sleep_ms_unless_cancelled(struct provider_job *job, int ms)
{
    for (; ms > 0 && !atomic_load(&job->http.cancelled); ms -= 50)
        nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000L}, NULL);
}

static CURL *easy_new(struct provider_job *job, struct curl_slist *hdrs, struct http_body *body)
{
    CURL *c = curl_easy_init();
    if (!c)
        return NULL;
    curl_easy_setopt(c, CURLOPT_URL, job->http.url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "qund");
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, job->request);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(job->request));
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, job->http.timeout_ms);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, body);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, job);
    return c;
}

/* Writes the job's outcome; returns true when another attempt may help. */
static bool attempt_outcome(struct provider_job *job, CURL *c, CURLcode rc, struct http_body *body)
{
    struct provider_http *h = &job->http;
    struct provider_result r = {.verdict = PROVIDER_FAILED};
    bool retry = false;
    long status = 0;
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (rc == CURLE_OK && status >= 200 && status < 300) {
        provider_parse_answer(job->sms, body->buf, body->len, &r);
    } else if (rc == CURLE_OK) {
        retry = status >= 500;
        snprintf(r.reason, sizeof r.reason, "provider answered HTTP %ld", status);
    } else if (body->too_big) {
        snprintf(r.reason, sizeof r.reason, "answer from provider over %d bytes",
                 PROVIDER_ANSWER_MAX);
    } else if (rc == CURLE_OPERATION_TIMEDOUT) {
        retry = true;
        snprintf(r.reason, sizeof r.reason, "timed out after %ld s", h->timeout_ms / 1000);
    } else {
        retry = true;
        snprintf(r.reason, sizeof r.reason, "provider unreachable: %s", curl_easy_strerror(rc));
    }
    h->verdict = r.verdict;
    memcpy(h->reason, r.reason, sizeof h->reason);
    return retry;
}

static void http_work(uv_work_t *w)
{
    struct provider_job *job = w->data;
    struct provider_http *h = &job->http;
    struct http_body body = {.buf = xmalloc(PROVIDER_ANSWER_MAX)};
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = curl_slist_append(hdrs, "Accept: application/json");
    h->verdict = PROVIDER_FAILED;
    snprintf(h->reason, sizeof h->reason, "cannot start an HTTP request");
    CURL *c = hdrs ? easy_new(job, hdrs, &body) : NULL;
    for (int attempt = 0; c && attempt <= h->retries; attempt++) {
        if (attempt > 0)
            sleep_ms_unless_cancelled(job, HTTP_BACKOFF_MS * attempt);
        if (atomic_load(&h->cancelled))
            break;
        body.len = 0;
        body.too_big = false;
        CURLcode rc = curl_easy_perform(c);
        if (!attempt_outcome(job, c, rc, &body))
            break;
    }
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    free(body.buf);
}

static void http_done(uv_work_t *w, int status);

static void http_start(struct provider_job *job)
{
    struct provider *p = job->p;
    job->http.work.data = job;
    job->pending++;
    p->http_running++;
    job->http.on_pool = true;
    uv_queue_work(p->loop, &job->http.work, http_work, http_done);
}

/* Moves waiting jobs onto the pool while there is room. */
static void http_pump(struct provider *p)
{
    while (p->http_running < HTTP_PARALLEL && p->http_wait_head) {
        struct provider_job *job = p->http_wait_head;
        p->http_wait_head = job->http.wait_next;
        if (!p->http_wait_head)
            p->http_wait_tail = NULL;
        job->http.wait_next = NULL;
        http_start(job);
    }
}

static void http_done(uv_work_t *w, int status)
{
    struct provider_job *job = w->data;
    struct provider *p = job->p;
    job->http.on_pool = false;
    if (p) { /* start the next ones before the callback, which may free p */
        p->http_running--;
        http_pump(p);
    }
    if (status == UV_ECANCELED || atomic_load(&job->http.cancelled))
        job_finish(job, PROVIDER_FAILED, "shutting down");
    else
        job_finish(job, job->http.verdict, "%s", job->http.reason);
    job_release(job); /* the pool's reference */
}

void provider_http_submit(struct provider_job *job)
{
    struct provider *p = job->p;
    struct provider_http *h = &job->http;
    h->url = xstrdup(p->url);
    h->timeout_ms = (long)p->timeout_s * 1000;
    h->retries = p->retries;
    atomic_init(&h->cancelled, 0);
    h->work.data = job;
    if (p->http_running < HTTP_PARALLEL && !p->http_wait_head) {
        http_start(job);
        return;
    }
    if (p->http_wait_tail)
        p->http_wait_tail->http.wait_next = job;
    else
        p->http_wait_head = job;
    p->http_wait_tail = job;
}

void provider_http_stop(struct provider_job *job)
{
    if (!job->http.on_pool)
        return; /* waiting: provider_free dropped the queue; finishing frees it */
    atomic_store(&job->http.cancelled, 1);
    uv_cancel((uv_req_t *)&job->http.work); /* only succeeds if not started */
}
