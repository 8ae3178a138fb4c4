/*
 * report_ops.c - the operations behind the control commands (report.h):
 * list, show, retry (failed -> pending) and acknowledge.
 *
 * Each is a store query and, for retry and acknowledge, one UPDATE whose
 * WHERE clause repeats the status checked, so a report that changed in
 * between is left alone. Pending reports live in the outbox (outbox.c):
 * acknowledging one takes it out unless an attempt is running.
 *
 * Threads: loop only.
 */
#include <inttypes.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

struct op {
    report_result_cb cb;
    void *ud;
    int64_t id;
    char *actor;
    json_t *result; /* list: array; show: the report object */
    bool found;
    char status[16];
    struct rpt *r; /* retry: the report to bring back */
};

static struct op *op_new(report_result_cb cb, void *ud, int64_t id, const char *actor)
{
    struct op *o = xcalloc(1, sizeof *o);
    o->cb = cb;
    o->ud = ud;
    o->id = id;
    o->actor = actor ? xstrdup(actor) : NULL;
    return o;
}

/* Answers and frees the op. */
static void op_finish(struct op *o, int rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void op_finish(struct op *o, int rc, const char *fmt, ...)
{
    char err[256] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, sizeof err, fmt, ap);
        va_end(ap);
    }
    json_t *res = rc == REPORT_OK ? o->result : NULL;
    o->result = rc == REPORT_OK ? NULL : o->result;
    o->cb(o->ud, rc, res, rc == REPORT_OK ? NULL : err);
    json_decref(o->result);
    rpt_free(o->r);
    free(o->actor);
    free(o);
}

static json_t *cell(const struct store_value *c)
{
    switch (c->type) {
    case STORE_TYPE_INT:
        return json_integer(c->i);
    case STORE_TYPE_TEXT:
        return json_string(c->p);
    default:
        return json_null();
    }
}

static json_t *time_cell(const struct store_value *c)
{
    char t[32];
    if (c->type != STORE_TYPE_INT || c->i <= 0)
        return json_null();
    report_time_text(c->i, t, sizeof t);
    return json_string(t);
}

static bool store_ok(struct op *o, int rc)
{
    if (rc == STORE_OK)
        return true;
    op_finish(o, REPORT_ERR_STORE, "the store refused the request (%s)", store_status_name(rc));
    return false;
}

static void query_done(void *ud, int status, const char *err)
{
    (void)err;
    struct op *o = ud;
    if (status != STORE_OK)
        op_finish(o, REPORT_ERR_STORE, "the reports could not be read (%s)",
                  store_status_name(status));
    else
        op_finish(o, REPORT_OK, NULL);
}

/* ---- list ---- */

static int list_row(void *ud, const struct store_value *c, size_t n)
{
    struct op *o = ud;
    if (n != 8)
        return 0;
    json_t *row = json_object();
    json_object_set_new(row, "id", cell(&c[0]));
    json_object_set_new(row, "kind", cell(&c[1]));
    json_object_set_new(row, "status", cell(&c[2]));
    json_object_set_new(row, "subject", cell(&c[3]));
    json_object_set_new(row, "group", cell(&c[4]));
    json_object_set_new(row, "created", time_cell(&c[5]));
    json_object_set_new(row, "attempts", cell(&c[6]));
    json_object_set_new(row, "last_error", cell(&c[7]));
    json_array_append_new(o->result, row);
    return 0;
}

int report_list(const char *status, report_result_cb cb, void *ud)
{
    if (!report_g.st)
        return REPORT_ERR_STORE;
    if (status && strcmp(status, "pending") && strcmp(status, "delivered") &&
        strcmp(status, "failed") && strcmp(status, "acknowledged"))
        return REPORT_ERR_STATE;
    struct op *o = op_new(cb, ud, 0, NULL);
    o->result = json_array();
    struct store_value v[] = {status ? STORE_TEXT(status) : STORE_NULL(),
                              STORE_INT(REPORT_LIST_MAX)};
    store_ok(o, store_query(report_g.st,
                            "SELECT id, kind, status, subject, group_code, created_at, attempts,"
                            " last_error FROM reports WHERE ?1 IS NULL OR status = ?1"
                            " ORDER BY id DESC LIMIT ?2",
                            v, 2, list_row, query_done, o));
    return REPORT_OK;
}

/* ---- counts (the console's dashboard) ---- */

static int count_row(void *ud, const struct store_value *c, size_t n)
{
    struct op *o = ud;
    if (n == 2 && c[0].type == STORE_TYPE_TEXT)
        json_object_set_new(o->result, c[0].p, json_integer(c[1].i));
    return 0;
}

int report_counts(report_result_cb cb, void *ud)
{
    if (!report_g.st)
        return REPORT_ERR_STORE;
    struct op *o = op_new(cb, ud, 0, NULL);
    o->result = json_pack("{s:i, s:i, s:i, s:i}", "pending", 0, "delivered", 0, "failed", 0,
                          "acknowledged", 0);
    store_ok(o, store_query(report_g.st, "SELECT status, count(*) FROM reports GROUP BY status",
                            NULL, 0, count_row, query_done, o));
    return REPORT_OK;
}

/* ---- show ---- */

static const char *const show_cols[] = {
    "id",         "idempotency_key", "kind",         "status",          "subject",
    "group",      "author",          "created",      "attempts",        "next_attempt",
    "last_error", "delivered",       "acknowledged", "acknowledged_by", "waiting_for_checkpoint"};

static int show_row(void *ud, const struct store_value *c, size_t n)
{
    struct op *o = ud;
    if (n != 16)
        return 0;
    o->found = true;
    o->result = json_object();
    for (size_t i = 0; i < 15; i++) {
        bool is_time = i == 7 || i == 9 || i == 11 || i == 12;
        json_object_set_new(o->result, show_cols[i], is_time ? time_cell(&c[i]) : cell(&c[i]));
    }
    bool pending = c[3].type == STORE_TYPE_TEXT && strcmp(c[3].p, "pending") == 0;
    if (!pending)
        json_object_set_new(o->result, "next_attempt", json_null());
    json_object_set_new(o->result, "waiting_for_checkpoint", json_boolean(pending && c[14].i == 0));
    json_error_t jerr;
    json_t *doc = c[15].type == STORE_TYPE_TEXT ? json_loads(c[15].p, 0, &jerr) : NULL;
    json_object_set_new(o->result, "document", doc ? doc : json_null());
    json_object_set_new(o->result, "attempt_log", json_array());
    return 0;
}

static int attempt_row(void *ud, const struct store_value *c, size_t n)
{
    struct op *o = ud;
    if (n != 4)
        return 0;
    json_t *a = json_object();
    json_object_set_new(a, "at", time_cell(&c[0]));
    json_object_set_new(a, "sink", cell(&c[1]));
    json_object_set_new(a, "ok", json_boolean(c[2].i != 0));
    json_object_set_new(a, "detail", cell(&c[3]));
    json_array_append_new(json_object_get(o->result, "attempt_log"), a);
    return 0;
}

static void show_done(void *ud, int status, const char *err)
{
    (void)err;
    struct op *o = ud;
    if (status != STORE_OK) {
        query_done(o, status, NULL);
        return;
    }
    if (!o->found) {
        op_finish(o, REPORT_ERR_NOT_FOUND, "there is no report %" PRId64, o->id);
        return;
    }
    struct store_value v[] = {STORE_INT(o->id)};
    store_ok(o, store_query(report_g.st,
                            "SELECT at, sink, ok, detail FROM report_attempts WHERE report_id = ?"
                            " ORDER BY id LIMIT 1000",
                            v, 1, attempt_row, query_done, o));
}

int report_show(int64_t id, report_result_cb cb, void *ud)
{
    if (!report_g.st)
        return REPORT_ERR_STORE;
    struct op *o = op_new(cb, ud, id, NULL);
    struct store_value v[] = {STORE_INT(id)};
    store_ok(o, store_query(report_g.st,
                            "SELECT id, idem_key, kind, status, subject, group_code, author,"
                            " created_at, attempts, next_attempt_at, last_error, delivered_at,"
                            " acked_at, acked_by, sealed, body FROM reports WHERE id = ?",
                            v, 1, show_row, show_done, o));
    return REPORT_OK;
}

/* ---- retry and acknowledge ---- */

static int status_row(void *ud, const struct store_value *c, size_t n)
{
    struct op *o = ud;
    if (n < 1 || c[0].type != STORE_TYPE_TEXT)
        return 0;
    o->found = true;
    snprintf(o->status, sizeof o->status, "%s", (const char *)c[0].p);
    if (n == 7 && c[1].type == STORE_TYPE_TEXT && c[2].type == STORE_TYPE_TEXT) {
        struct rpt *r = xcalloc(1, sizeof *r);
        r->id = o->id;
        snprintf(r->idem, sizeof r->idem, "%s", (const char *)c[1].p);
        r->body = xstrdup(c[2].p);
        json_error_t jerr;
        json_t *a = json_loads(c[3].type == STORE_TYPE_TEXT ? c[3].p : "[]", 0, &jerr), *v;
        size_t i;
        json_array_foreach(a, i, v)
        {
            if (r->nseqs < REPORT_SEQS_MAX && json_is_integer(v))
                r->seqs[r->nseqs++] = json_integer_value(v);
        }
        json_decref(a);
        r->sealed = c[4].i != 0;
        r->spool_done = c[5].i != 0;
        r->http_done = c[6].i != 0;
        o->r = r;
    }
    return 0;
}

static void op_written(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    (void)last_id, (void)changes, (void)err;
    struct op *o = ud;
    if (status != STORE_OK)
        op_finish(o, REPORT_ERR_STORE, "the change could not be stored (%s)",
                  store_status_name(status));
    else
        op_finish(o, REPORT_OK, NULL);
}

static const char *state_sentence(const char *status)
{
    if (strcmp(status, "pending") == 0)
        return "it is pending: the outbox is still delivering it";
    if (strcmp(status, "delivered") == 0)
        return "it was delivered already";
    if (strcmp(status, "acknowledged") == 0)
        return "it was acknowledged already";
    return "only a failed report can be retried";
}

static void retry_checked(void *ud, int status, const char *err)
{
    (void)err;
    struct op *o = ud;
    if (status != STORE_OK || !o->found) {
        if (status != STORE_OK)
            query_done(o, status, NULL);
        else
            op_finish(o, REPORT_ERR_NOT_FOUND, "there is no report %" PRId64, o->id);
        return;
    }
    if (strcmp(o->status, "failed") != 0 || outbox_find(o->id) || !o->r) {
        op_finish(o, REPORT_ERR_STATE, "report %" PRId64 " cannot be retried: %s", o->id,
                  state_sentence(o->status));
        return;
    }
    int64_t now = qclock_now();
    struct store_value v[] = {STORE_INT(now), STORE_INT(o->id)};
    if (!store_ok(o, store_exec_write(report_g.st,
                                      "UPDATE reports SET status = 'pending', attempts = 0,"
                                      " next_attempt_at = ? WHERE id = ? AND status = 'failed'",
                                      v, 2, op_written, o)))
        return;
    struct rpt *r = o->r;
    o->r = NULL;
    r->next_at = now;
    outbox_add(r);
    report_log_event("retry", o->actor, o->id, NULL);
    o->result = json_pack("{s:I, s:s}", "id", (json_int_t)o->id, "status", "pending");
    outbox_pump();
}

int report_retry(int64_t id, const char *actor, report_result_cb cb, void *ud)
{
    if (!report_g.st || !report_g.running)
        return REPORT_ERR_STORE;
    struct op *o = op_new(cb, ud, id, actor);
    struct store_value v[] = {STORE_INT(id)};
    store_ok(o, store_query(report_g.st,
                            "SELECT status, idem_key, body, seqs, sealed, spool_done, http_done"
                            " FROM reports WHERE id = ?",
                            v, 1, status_row, retry_checked, o));
    return REPORT_OK;
}

/* Marks the row acknowledged by the operator (from pending, delivered or
 * failed) and logs it. */
static void ack_write(struct op *o)
{
    int64_t now = qclock_now();
    struct store_value v[] = {STORE_INT(now), STORE_TEXT(o->actor), STORE_INT(o->id)};
    if (!store_ok(o, store_exec_write(report_g.st,
                                      "UPDATE reports SET status = 'acknowledged', acked_at = ?,"
                                      " acked_by = ? WHERE id = ? AND status <> 'acknowledged'",
                                      v, 3, op_written, o)))
        return;
    report_log_event("acknowledged", o->actor, o->id, json_pack("{s:s}", "by", o->actor));
    o->result = json_pack("{s:I, s:s}", "id", (json_int_t)o->id, "status", "acknowledged");
}

static void ack_checked(void *ud, int status, const char *err)
{
    (void)err;
    struct op *o = ud;
    if (status != STORE_OK)
        query_done(o, status, NULL);
    else if (!o->found)
        op_finish(o, REPORT_ERR_NOT_FOUND, "there is no report %" PRId64, o->id);
    else if (strcmp(o->status, "acknowledged") == 0)
        op_finish(o, REPORT_ERR_STATE, "report %" PRId64 " was acknowledged already", o->id);
    else if (strcmp(o->status, "pending") == 0)
        op_finish(o, REPORT_ERR_STATE,
                  "report %" PRId64 " changed meanwhile; look at it again and retry", o->id);
    else
        ack_write(o);
}

int report_ack(int64_t id, const char *actor, report_result_cb cb, void *ud)
{
    if (!report_g.st || !report_g.running)
        return REPORT_ERR_STORE;
    struct op *o = op_new(cb, ud, id, actor);
    struct rpt *r = outbox_find(id);
    if (r && r->busy) {
        op_finish(o, REPORT_ERR_STATE,
                  "report %" PRId64 " is being delivered right now; acknowledge it in a moment",
                  id);
        return REPORT_OK;
    }
    if (r) { /* pending: out of the outbox, then the row */
        outbox_remove(r);
        ack_write(o);
        return REPORT_OK;
    }
    struct store_value v[] = {STORE_INT(id)};
    store_ok(o, store_query(report_g.st, "SELECT status FROM reports WHERE id = ?", v, 1,
                            status_row, ack_checked, o));
    return REPORT_OK;
}
