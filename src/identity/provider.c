/*
 * provider.c - identity and SMS providers: creation, the request JSON, the
 * answer parser, the dev and manual kinds, and the job bookkeeping shared
 * with provider_exec.c (child processes) and provider_http.c (libcurl on
 * the pool).
 *
 * Owns: struct provider and the life of every job (provider_internal.h has
 * the state diagram and the invariants). Thread: the loop thread only,
 * except provider_parse_answer, which the HTTP worker also calls (it
 * touches nothing shared).
 */
#include "identity/provider.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "identity/provider_internal.h"
#include "util/alloc.h"
#include "util/log.h"

static const char *const kind_names[] = {
    [PROVIDER_NONE] = "none", [PROVIDER_DEV] = "dev",       [PROVIDER_EXEC] = "exec",
    [PROVIDER_HTTP] = "http", [PROVIDER_MANUAL] = "manual",
};

int provider_kind_parse(const char *name, enum provider_kind *out)
{
    for (size_t i = 0; name && i < sizeof kind_names / sizeof kind_names[0]; i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (enum provider_kind)i;
            return 0;
        }
    }
    return -1;
}

const char *provider_kind_name(enum provider_kind kind)
{
    return (unsigned)kind < sizeof kind_names / sizeof kind_names[0] ? kind_names[kind] : "?";
}

const char *provider_verdict_name(enum provider_verdict v)
{
    switch (v) {
    case PROVIDER_ACCEPTED:
        return "accepted";
    case PROVIDER_REJECTED:
        return "rejected";
    case PROVIDER_PENDING:
        return "pending";
    case PROVIDER_FAILED:
        return "failed";
    }
    return "?";
}

/*
 * Copies a provider-supplied reason into out: control characters become
 * spaces (it may end up in a log or an IRC line), and a cut never splits a
 * UTF-8 sequence.
 */
static void reason_copy(char out[PROVIDER_REASON_MAX], const char *in)
{
    size_t n = strlen(in);
    if (n >= PROVIDER_REASON_MAX) {
        n = PROVIDER_REASON_MAX - 1;
        while (n > 0 && ((unsigned char)in[n] & 0xC0) == 0x80)
            n--; /* in[n] is the first byte cut off: back to a sequence start */
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)in[i];
        out[i] = (c < 0x20 || c == 0x7F) ? ' ' : (char)c;
    }
    out[n] = '\0';
}

static void provider_unlink(struct provider_job *job)
{
    struct provider *p = job->p;
    if (!p)
        return;
    if (job->prev)
        job->prev->next = job->next;
    else
        p->head = job->next;
    if (job->next)
        job->next->prev = job->prev;
    job->prev = job->next = NULL;
    p->njobs--;
}

void job_finish(struct provider_job *job, enum provider_verdict v, const char *fmt, ...)
{
    if (job->done)
        return;
    job->done = true;
    provider_unlink(job);
    struct provider_result r = {.verdict = v};
    char tmp[PROVIDER_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    reason_copy(r.reason, tmp);
    job->cb(job->ud, &r);
    job_release(job); /* the reference "callback owed" */
}

void job_release(struct provider_job *job)
{
    if (--job->pending > 0)
        return;
    free(job->request);
    free(job->ex.out_buf);
    free(job->http.url);
    free(job);
}

void job_close_cb(uv_handle_t *h)
{
    job_release(h->data);
}

static void defer_timer_cb(uv_timer_t *t)
{
    struct provider_job *job = t->data;
    job_finish(job, job->deferred.verdict, "%s", job->deferred.reason);
    job->timer_open = false;
    uv_close((uv_handle_t *)t, job_close_cb);
}

void job_defer(struct provider_job *job, enum provider_verdict v, const char *reason)
{
    job->deferred.verdict = v;
    reason_copy(job->deferred.reason, reason);
    uv_timer_init(job->p->loop, &job->timer);
    job->timer.data = job;
    job->timer_open = true;
    job->pending++;
    uv_timer_start(&job->timer, defer_timer_cb, 0, 0);
}

/* ---- answers ---------------------------------------------------------- */

void provider_parse_answer(bool sms, const char *buf, size_t len, struct provider_result *r)
{
    json_error_t e;
    json_t *root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &e);
    const char *result = NULL, *reason = "";
    r->verdict = PROVIDER_FAILED;
    if (!root ||
        json_unpack_ex(root, &e, 0, "{s:s, s?:s}", "result", &result, "reason", &reason) != 0) {
        reason_copy(r->reason, "bad answer from provider");
        json_decref(root);
        return;
    }
    const char *yes = sms ? "sent" : "accepted";
    const char *no = sms ? "failed" : "rejected";
    if (strcmp(result, yes) == 0)
        r->verdict = PROVIDER_ACCEPTED;
    else if (strcmp(result, no) == 0)
        r->verdict = PROVIDER_REJECTED;
    else
        reason = "bad answer from provider";
    reason_copy(r->reason, reason);
    json_decref(root);
}

/* ---- creation ----------------------------------------------------------- */

static bool kind_allowed(bool sms, enum provider_kind kind)
{
    if (sms)
        return kind != PROVIDER_MANUAL;
    return kind != PROVIDER_NONE;
}

static int check_settings(bool sms, enum provider_kind kind, const char *command, const char *url,
                          int timeout_s, int retries, char *err, size_t errlen)
{
    const char *what = sms ? "sms" : "identity";
    if (!kind_allowed(sms, kind)) {
        snprintf(err, errlen, "%s provider \"%s\" is not available", what,
                 provider_kind_name(kind));
        return -1;
    }
    if (kind == PROVIDER_EXEC && (!command || !*command)) {
        snprintf(err, errlen, "%s provider \"exec\" needs a command", what);
        return -1;
    }
    if (kind == PROVIDER_EXEC && strchr(command, '/') && access(command, X_OK) != 0) {
        snprintf(err, errlen, "%s provider command %s is not an executable file", what, command);
        return -1;
    }
    if (kind == PROVIDER_HTTP &&
        (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0))) {
        snprintf(err, errlen, "%s provider \"http\" needs an http:// or https:// url", what);
        return -1;
    }
    if ((kind == PROVIDER_EXEC || kind == PROVIDER_HTTP) && (timeout_s < 1 || timeout_s > 3600)) {
        snprintf(err, errlen, "%s provider timeout must be 1..3600 seconds", what);
        return -1;
    }
    if (retries < 0 || retries > 10) {
        snprintf(err, errlen, "%s provider retries must be 0..10", what);
        return -1;
    }
    return 0;
}

struct provider *provider_new(uv_loop_t *loop, bool sms, enum provider_kind kind,
                              const char *command, const char *url, int timeout_s, int retries,
                              char *err, size_t errlen)
{
    if (check_settings(sms, kind, command, url, timeout_s, retries, err, errlen) != 0)
        return NULL;
    if (kind == PROVIDER_HTTP)
        provider_http_global_init();
    struct provider *p = xcalloc(1, sizeof *p);
    p->loop = loop;
    p->sms = sms;
    p->kind = kind;
    p->command = command ? xstrdup(command) : NULL;
    p->url = url ? xstrdup(url) : NULL;
    p->timeout_s = timeout_s;
    p->retries = retries;
    return p;
}

static struct provider *new_from(uv_loop_t *loop, bool sms, const char *name, const char *command,
                                 const char *url, int timeout_s, int retries, char *err,
                                 size_t errlen)
{
    enum provider_kind kind;
    if (provider_kind_parse(name, &kind) != 0) {
        snprintf(err, errlen, "unknown %s provider \"%s\"", sms ? "sms" : "identity",
                 name ? name : "");
        return NULL;
    }
    return provider_new(loop, sms, kind, command, url, timeout_s, retries, err, errlen);
}

struct provider *provider_new_identity(uv_loop_t *loop, const struct qun_config *cfg, char *err,
                                       size_t errlen)
{
    return new_from(loop, false, cfg->id_provider, cfg->id_provider_command, cfg->id_provider_url,
                    cfg->id_provider_timeout, cfg->id_provider_retries, err, errlen);
}

struct provider *provider_new_sms(uv_loop_t *loop, const struct qun_config *cfg, char *err,
                                  size_t errlen)
{
    return new_from(loop, true, cfg->sms_provider, cfg->sms_command, cfg->sms_url, cfg->sms_timeout,
                    cfg->sms_retries, err, errlen);
}

enum provider_kind provider_kind_of(const struct provider *p)
{
    return p->kind;
}

size_t provider_inflight(const struct provider *p)
{
    return p->njobs;
}

/* ---- requests ----------------------------------------------------------- */

static bool field_ok(const char *s)
{
    return s && strnlen(s, PROVIDER_FIELD_MAX + 1) <= PROVIDER_FIELD_MAX;
}

static struct provider_job *job_new(struct provider *p, provider_cb cb, void *ud)
{
    struct provider_job *job = xcalloc(1, sizeof *job);
    job->p = p;
    job->cb = cb;
    job->ud = ud;
    job->sms = p->sms;
    job->pending = 1; /* the callback owed; dropped by job_finish */
    return job;
}

static void job_link(struct provider_job *job)
{
    struct provider *p = job->p;
    job->next = p->head;
    if (p->head)
        p->head->prev = job;
    p->head = job;
    p->njobs++;
}

/* Starts an exec or http job whose request JSON is set; 0 always (a spawn
 * failure is reported through the callback). */
static void job_start(struct provider_job *job)
{
    job_link(job);
    if (job->p->kind == PROVIDER_EXEC) {
        if (provider_exec_start(job) != 0)
            job_defer(job, PROVIDER_FAILED, "cannot start provider");
    } else {
        provider_http_submit(job);
    }
}

static char *identity_json(const struct identity_request *req)
{
    json_t *o =
        json_pack("{s:s, s:I, s:s, s:s, s:s, s:s}", "kind", "identity", "request",
                  (json_int_t)req->request_id, "account", req->account, "name", req->real_name,
                  "document_type", req->doc_type, "document_number", req->doc_number);
    if (!o)
        return NULL; /* not UTF-8 */
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

int provider_check_identity(struct provider *p, const struct identity_request *req, provider_cb cb,
                            void *ud)
{
    if (!p || p->sms || !req || !cb || !field_ok(req->account) || !field_ok(req->real_name) ||
        !field_ok(req->doc_type) || !field_ok(req->doc_number))
        return PROVIDER_ERR_ARG;
    if (p->njobs >= PROVIDER_MAX_INFLIGHT)
        return PROVIDER_ERR_BUSY;
    struct provider_job *job = job_new(p, cb, ud);
    if (p->kind == PROVIDER_DEV || p->kind == PROVIDER_MANUAL) {
        job_link(job);
        if (p->kind == PROVIDER_DEV)
            job_defer(job, PROVIDER_ACCEPTED, "");
        else
            job_defer(job, PROVIDER_PENDING, "queued for a moderator");
        return 0;
    }
    job->request = identity_json(req);
    if (!job->request) {
        free(job);
        return PROVIDER_ERR_ARG;
    }
    job_start(job);
    return 0;
}

/* "+8613812345678" -> "+86138****5678": the country code and operator
 * prefix stay, the last four digits stay, the rest is starred. */
static void phone_mask(const char *phone, char *out, size_t outlen)
{
    size_t n = strlen(phone), keep_head = 6, keep_tail = 4;
    if (n < keep_head + keep_tail + 3) {
        keep_head = n > 4 ? 2 : 0;
        keep_tail = n > 6 ? 2 : 0;
    }
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outlen; i++)
        out[o++] = (i < keep_head || i >= n - keep_tail) ? phone[i] : '*';
    out[o] = '\0';
}

static char *sms_json(const char *phone, const char *code, const char *account)
{
    char text[PROVIDER_FIELD_MAX + 64];
    snprintf(text, sizeof text, "Qun verification code: %s", code);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s}", "kind", "sms", "account", account, "phone",
                          phone, "code", code, "text", text);
    if (!o)
        return NULL;
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

int provider_send_sms(struct provider *p, const char *phone_e164, const char *code,
                      const char *account, provider_cb cb, void *ud)
{
    if (!p || !p->sms || !cb || !field_ok(phone_e164) || !field_ok(code) || !field_ok(account))
        return PROVIDER_ERR_ARG;
    if (p->kind == PROVIDER_NONE)
        return PROVIDER_ERR_DISABLED;
    if (p->njobs >= PROVIDER_MAX_INFLIGHT)
        return PROVIDER_ERR_BUSY;
    struct provider_job *job = job_new(p, cb, ud);
    if (p->kind == PROVIDER_DEV) {
        char masked[PROVIDER_FIELD_MAX + 1];
        phone_mask(phone_e164, masked, sizeof masked);
        /* Deliberately logs the code: on a development server the log is
         * how a newcomer receives it. Never the whole phone. */
        log_notice("dev SMS to %s for account %s: code %s", masked, account, code);
        job_link(job);
        job_defer(job, PROVIDER_ACCEPTED, "");
        return 0;
    }
    job->request = sms_json(phone_e164, code, account);
    if (!job->request) {
        free(job);
        return PROVIDER_ERR_ARG;
    }
    job_start(job);
    return 0;
}

/* ---- shutdown ------------------------------------------------------------ */

void provider_free(struct provider *p)
{
    if (!p)
        return;
    /* The HTTP wait queue holds jobs that are also on the list; they own no
     * pool request, so finishing them below frees them. */
    p->http_wait_head = p->http_wait_tail = NULL;
    while (p->head) {
        struct provider_job *job = p->head;
        if (job->timer_open && !uv_is_closing((uv_handle_t *)&job->timer))
            uv_timer_stop(&job->timer);
        if (p->kind == PROVIDER_EXEC && job->request)
            provider_exec_stop(job);
        else if (p->kind == PROVIDER_HTTP)
            provider_http_stop(job);
        if (job->timer_open) {
            job->timer_open = false;
            uv_close((uv_handle_t *)&job->timer, job_close_cb);
        }
        provider_unlink(job);
        job->p = NULL; /* the job outlives its provider from here on */
        job_finish(job, PROVIDER_FAILED, "shutting down");
    }
    free(p->command);
    free(p->url);
    free(p);
}
