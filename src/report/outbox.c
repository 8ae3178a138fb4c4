/*
 * outbox.c - the queue of pending reports: proofs, delivery attempts,
 * backoff and the final status (the state diagram is in
 * report_internal.h).
 *
 * Work happens when something may have become due: a report is created or
 * retried (outbox_pump at once), a job completes, or the moderation
 * clock's job ticks (every 5 s, and after a test's clock advance). Each
 * pump starts at most one proof and one delivery on the thread pool, the
 * oldest first, so a dead receiver costs one pool thread at a time.
 *
 * Backoff: after attempt k fails, the next one is due at now + min(base *
 * 2^(k-1), max) (moderation-clock seconds); after max_attempts, or at
 * once on a permanent refusal (HTTP 4xx other than 408/429), the report is
 * failed and waits for an operator (qunctl reports retry).
 *
 * Threads: loop; the *_work functions on the pool touch only their job.
 */
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlog/bundle.h"
#include "netlog/checkpoint.h"
#include "netlog/netlog.h"
#include "report/report_internal.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- the list ---- */

void rpt_free(struct rpt *r)
{
    if (!r)
        return;
    free(r->body);
    free(r);
}

void outbox_add(struct rpt *r)
{
    struct rpt **p = &report_g.head;
    while (*p && (*p)->id < r->id)
        p = &(*p)->next;
    r->next = *p;
    *p = r;
}

struct rpt *outbox_find(int64_t id)
{
    for (struct rpt *r = report_g.head; r; r = r->next)
        if (r->id == id)
            return r;
    return NULL;
}

static void outbox_unlink(struct rpt *r)
{
    for (struct rpt **p = &report_g.head; *p; p = &(*p)->next)
        if (*p == r) {
            *p = r->next;
            r->next = NULL;
            return;
        }
}

void outbox_remove(struct rpt *r)
{
    outbox_unlink(r);
    rpt_free(r);
}

void outbox_free_all(void)
{
    struct rpt *r = report_g.head;
    report_g.head = NULL;
    while (r) {
        struct rpt *next = r->next;
        r->next = NULL;
        if (!r->busy) /* a busy one is freed by its job's completion */
            rpt_free(r);
        r = next;
    }
}

/* ---- rows and events ---- */

static void row_written(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    (void)last_id, (void)changes;
    if (status != STORE_OK)
        log_error("reports: report %" PRId64 " could not be updated: %s", (int64_t)(intptr_t)ud,
                  err ? err : store_status_name(status));
}

static void write_row(const char *sql, const struct store_value *v, size_t n, int64_t id)
{
    if (report_g.st)
        store_exec_write(report_g.st, sql, v, n, row_written, (void *)(intptr_t)id);
}

static void save_attempt(int64_t id, int64_t now, const char *sink, bool ok, const char *detail)
{
    struct store_value v[] = {STORE_INT(id), STORE_INT(now), STORE_TEXT(sink), STORE_INT(ok),
                              detail ? STORE_TEXT(detail) : STORE_NULL()};
    write_row("INSERT INTO report_attempts (report_id, at, sink, ok, detail)"
              " VALUES (?, ?, ?, ?, ?)",
              v, 5, id);
}

/* ---- proofs ---- */

struct proof_job {
    uv_work_t work;
    struct rpt *r;
    int64_t seqs[REPORT_SEQS_MAX];
    size_t n;
    char *db_path, *pub_path;
    json_t *proof;
    enum bundle_prove_result rc;
    char err[256];
};

static void proof_work(uv_work_t *w)
{
    struct proof_job *j = w->data;
    j->rc = bundle_prove(j->db_path, j->pub_path, j->seqs, j->n, &j->proof, j->err, sizeof j->err);
}

/* Puts the proofs (or why there are none) into the draft: the document is
 * final from now on. */
static void seal(struct rpt *r, json_t *proof, const char *why)
{
    json_error_t jerr;
    json_t *doc = json_loads(r->body, 0, &jerr);
    json_t *ev = json_object_get(doc, "evidence");
    if (!json_is_object(ev)) {
        log_error("reports: report %" PRId64 " has a damaged draft; sent without proofs", r->id);
        json_decref(doc);
        r->sealed = true;
        return;
    }
    if (proof) {
        json_object_set(ev, "checkpoint", json_object_get(proof, "checkpoint"));
        json_object_set(ev, "records", json_object_get(proof, "records"));
    } else {
        json_object_set_new(ev, "proof_error", json_string(why));
    }
    char *text = canon_json(doc);
    json_decref(doc);
    if (text) {
        free(r->body);
        r->body = text;
    }
    r->sealed = true;
    struct store_value v[] = {STORE_TEXT(r->body), STORE_INT(r->id)};
    write_row("UPDATE reports SET body = ?, sealed = 1 WHERE id = ?", v, 2, r->id);
}

static void proof_done(uv_work_t *w, int status)
{
    struct proof_job *j = w->data;
    struct rpt *r = j->r;
    r->busy = false;
    report_g.proving = false;
    if (!report_g.running) { /* stopped meanwhile: r was left to us */
        rpt_free(r);
    } else if (status != 0) {
        r->wait_checkpoint = true;
    } else if (j->rc == BUNDLE_PROVE_LATER) {
        r->wait_checkpoint = true; /* until the next tick */
    } else if (j->rc == BUNDLE_PROVE_OK) {
        seal(r, j->proof, NULL);
    } else {
        log_warn("reports: report %" PRId64 " goes without inclusion proofs: %s", r->id, j->err);
        seal(r, NULL, j->err);
    }
    json_decref(j->proof);
    free(j->db_path);
    free(j->pub_path);
    free(j);
    outbox_pump();
}

static void start_proof(struct rpt *r)
{
    struct proof_job *j = xcalloc(1, sizeof *j);
    j->r = r;
    j->n = r->nseqs;
    memcpy(j->seqs, r->seqs, r->nseqs * sizeof r->seqs[0]);
    j->db_path = xstrdup(report_g.netlog_path);
    j->pub_path = xstrdup(report_g.pub_path);
    j->work.data = j;
    r->busy = true;
    report_g.proving = true;
    if (uv_queue_work(report_g.loop, &j->work, proof_work, proof_done) != 0) {
        r->busy = false;
        report_g.proving = false;
        free(j->db_path);
        free(j->pub_path);
        free(j);
    }
}

/* ---- delivery ---- */

struct delivery_job {
    uv_work_t work;
    struct rpt *r;
    int64_t id;
    char idem[REPORT_IDEM_HEX + 1];
    char *text; /* the signed envelope */
    char *dir, *url;
    long timeout_ms;
    struct sink_result spool, http;
};

static void delivery_work(uv_work_t *w)
{
    struct delivery_job *j = w->data;
    if (j->dir)
        sinks_spool(j->dir, j->id, j->text, &j->spool);
    if (j->url)
        sinks_http(j->url, j->timeout_ms, j->idem, j->text, &j->http);
}

/* The envelope: the document, and the Ed25519 signature over its
 * canonical bytes (r->body) with the network log's key. */
static char *envelope(const struct rpt *r)
{
    uint8_t sig[64], key_id[4];
    char name[CHECKPOINT_NAME_MAX + 1], id_hex[9];
    char sig64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
    json_error_t jerr;
    if (netlog_sign(r->body, strlen(r->body), sig, name, sizeof name, key_id) < 0)
        return NULL;
    json_t *doc = json_loads(r->body, 0, &jerr);
    if (!doc)
        return NULL;
    sodium_bin2hex(id_hex, sizeof id_hex, key_id, 4);
    sodium_bin2base64(sig64, sizeof sig64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
    json_t *env = json_pack("{s:s, s:o, s:{s:s, s:s, s:s, s:s, s:s}}", "format",
                            "qun-report-envelope/1", "document", doc, "signature", "algorithm",
                            "Ed25519", "signed", "canonical JSON of document (RFC 8785)",
                            "key_name", name, "key_id", id_hex, "value", sig64);
    char *text = env ? json_dumps(env, JSON_INDENT(1)) : NULL;
    json_decref(env);
    return text;
}

static int64_t backoff(int attempts)
{
    int64_t d = report_g.backoff_base;
    for (int i = 1; i < attempts && d < report_g.backoff_max; i++)
        d *= 2;
    return d < report_g.backoff_max ? d : report_g.backoff_max;
}

/* Records one sink's outcome: an attempt row and a network-log event. */
static void sink_outcome(struct delivery_job *j, const char *sink, const struct sink_result *s,
                         bool final, int64_t now)
{
    char detail[REPORT_ERR_MAX + 32];
    if (s->ok)
        snprintf(detail, sizeof detail, s->status ? "HTTP %ld" : "written", s->status);
    save_attempt(j->id, now, sink, s->ok, s->ok ? detail : s->err);
    json_t *extra = json_pack("{s:s, s:i}", "sink", sink, "attempt", j->r->attempts);
    if (s->status)
        json_object_set_new(extra, "http_status", json_integer(s->status));
    if (!s->ok) {
        json_object_set_new(extra, "error", json_string(s->err));
        json_object_set_new(extra, "final", json_boolean(final));
    }
    report_log_event(s->ok ? "delivered" : "failed", "server", j->id, extra);
}

static void delivery_settle(struct delivery_job *j)
{
    struct rpt *r = j->r;
    int64_t now = qclock_now();
    r->attempts++;
    if (j->dir && j->spool.ok)
        r->spool_done = true;
    if (j->url && j->http.ok)
        r->http_done = true;
    bool done = (!report_g.spool_dir || r->spool_done) && (!report_g.http_url || r->http_done);
    bool permanent = j->url && j->http.permanent;
    bool failed = !done && (permanent || r->attempts >= report_g.max_attempts);
    bool ack = done && j->http.acknowledged;
    if (j->dir)
        sink_outcome(j, "spool", &j->spool, failed, now);
    if (j->url)
        sink_outcome(j, "http", &j->http, failed, now);
    const char *err = j->url && !j->http.ok    ? j->http.err
                      : j->dir && !j->spool.ok ? j->spool.err
                                               : NULL;
    const char *status = ack ? "acknowledged" : done ? "delivered" : failed ? "failed" : "pending";
    r->next_at = done || failed ? 0 : now + backoff(r->attempts);
    struct store_value v[] = {STORE_TEXT(status),      STORE_INT(r->attempts),
                              STORE_INT(r->next_at),   STORE_INT(r->spool_done),
                              STORE_INT(r->http_done), err ? STORE_TEXT(err) : STORE_NULL(),
                              STORE_INT(now),          STORE_INT(r->id)};
    write_row("UPDATE reports SET status = ?1, attempts = ?2, next_attempt_at = ?3,"
              " spool_done = ?4, http_done = ?5, last_error = ?6,"
              " delivered_at = CASE WHEN ?1 IN ('delivered', 'acknowledged') THEN ?7 END,"
              " acked_at = CASE WHEN ?1 = 'acknowledged' THEN ?7 END,"
              " acked_by = CASE WHEN ?1 = 'acknowledged' THEN 'receiver' END"
              " WHERE id = ?8",
              v, 8, r->id);
    if (ack)
        report_log_event("acknowledged", "server", r->id, json_pack("{s:s}", "by", "receiver"));
    if (failed)
        log_warn("reports: report %" PRId64 " failed after %d attempt(s): %s", r->id, r->attempts,
                 err ? err : "?");
    if (done || failed)
        outbox_remove(r);
}

static void delivery_done(uv_work_t *w, int status)
{
    struct delivery_job *j = w->data;
    j->r->busy = false;
    report_g.delivering = false;
    if (!report_g.running)
        rpt_free(j->r);
    else if (status != 0)
        j->r->next_at = qclock_now() + report_g.backoff_base;
    else
        delivery_settle(j);
    free(j->text);
    free(j->dir);
    free(j->url);
    free(j);
    outbox_pump();
}

static void start_delivery(struct rpt *r)
{
    char *text = envelope(r);
    if (!text) {
        log_error("reports: report %" PRId64 " cannot be signed now (the log is closed)", r->id);
        r->next_at = qclock_now() + report_g.backoff_base;
        return;
    }
    struct delivery_job *j = xcalloc(1, sizeof *j);
    j->r = r;
    j->id = r->id;
    memcpy(j->idem, r->idem, sizeof j->idem);
    j->text = text;
    j->dir = report_g.spool_dir && !r->spool_done ? xstrdup(report_g.spool_dir) : NULL;
    j->url = report_g.http_url && !r->http_done ? xstrdup(report_g.http_url) : NULL;
    j->timeout_ms = (long)report_g.http_timeout * 1000;
    j->work.data = j;
    r->busy = true;
    report_g.delivering = true;
    if (uv_queue_work(report_g.loop, &j->work, delivery_work, delivery_done) != 0) {
        r->busy = false;
        report_g.delivering = false;
        free(j->text);
        free(j->dir);
        free(j->url);
        free(j);
    }
}

/* ---- scheduling ---- */

void outbox_pump(void)
{
    if (!report_g.running)
        return;
    int64_t now = qclock_now();
    for (struct rpt *r = report_g.head; r && !(report_g.proving && report_g.delivering);
         r = r->next) {
        if (r->busy)
            continue;
        if (!r->sealed && !r->wait_checkpoint && !report_g.proving)
            start_proof(r);
        else if (r->sealed && r->next_at <= now && !report_g.delivering)
            start_delivery(r);
    }
}

void outbox_tick(int64_t now)
{
    (void)now;
    for (struct rpt *r = report_g.head; r; r = r->next)
        r->wait_checkpoint = false;
    outbox_pump();
}
