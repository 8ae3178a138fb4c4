/*
 * complaint_query.c - reading complaints back from the store: listings,
 * counts and handling times, flagged reporters (see complaint.h).
 *
 * Every function here runs one or a few read statements (bound values
 * only) and builds a JSON value for the caller: qunctl's handlers
 * (ctl_complaints.c) and ReportServ's MINE and STATUS. Account ids are
 * shown as names where the account is known. Results are bounded
 * (COMPLAINT_LIST_MAX rows).
 *
 * Threads: loop thread; store callbacks on the loop.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "complaint/complaint.h"
#include "complaint/complaint_internal.h"
#include "config/config.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"

extern struct qun_config *server_config;

struct cq_job {
    complaint_json_cb cb;
    void *ud;
    json_t *result;
    int step;
    int64_t since, until;
};

static void cq_finish(struct cq_job *q, int status)
{
    if (status != STORE_OK) {
        json_decref(q->result);
        q->result = NULL;
    }
    q->cb(q->ud, status == STORE_OK ? 0 : -1, q->result);
    free(q);
}

static json_t *cq_value(const struct store_value *v)
{
    switch (v->type) {
    case STORE_TYPE_INT:
        return json_integer(v->i);
    case STORE_TYPE_TEXT:
        return json_string(v->p);
    default:
        return json_null();
    }
}

static void cq_name(json_t *o, const char *key, const struct store_value *v)
{
    const struct account *a = v->type == STORE_TYPE_INT ? account_find_id(v->i) : NULL;
    json_object_set_new(o, key, a ? json_string(a->name) : json_null());
}

/* ---- listing ---- */

static const char *const cq_cols[] = {
    "id",         "reporter_id",   "kind",    "target",       "subject_id",   "group_code",
    "msg_seq",    "category",      "text",    "filed_at",     "stage",        "deadline",
    "state",      "overdue_group", "overdue", "escalated_by", "escalated_at", "decided_by",
    "decided_at", "severity",      "rule",    "note",
};
#define CQ_NCOLS (sizeof cq_cols / sizeof cq_cols[0])

static int cq_list_row(void *ud, const struct store_value *v, size_t n)
{
    struct cq_job *q = ud;
    if (n != CQ_NCOLS)
        return 1;
    json_t *o = json_object();
    for (size_t i = 0; i < n; i++)
        if (v[i].type != STORE_TYPE_NULL)
            json_object_set_new(o, cq_cols[i], cq_value(&v[i]));
    cq_name(o, "reporter", &v[1]);
    cq_name(o, "subject", &v[4]);
    json_object_set_new(o, "overdue_group", json_boolean(v[13].i != 0));
    json_object_set_new(o, "overdue", json_boolean(v[14].i != 0));
    json_array_append_new(q->result, o);
    return 0;
}

static void cq_list_done(void *ud, int status, const char *err)
{
    cq_finish(ud, status);
}

int complaint_list(const struct complaint_filter *f, complaint_json_cb cb, void *ud)
{
    struct store *st = complaint__store();
    if (!st)
        return -1;
    const char *state = f->state ? f->state : "", *stage = f->stage ? f->stage : "";
    int limit = f->limit > 0 && f->limit < COMPLAINT_LIST_MAX ? f->limit : COMPLAINT_LIST_MAX;
    struct store_value b[] = {
        STORE_INT(f->id),          STORE_INT(f->id),         STORE_INT(f->reporter_id),
        STORE_INT(f->reporter_id), STORE_INT(f->group_code), STORE_INT(f->group_code),
        STORE_TEXT(state),         STORE_TEXT(state),        STORE_TEXT(stage),
        STORE_TEXT(stage),         STORE_INT(limit),
    };
    struct cq_job *q = xcalloc(1, sizeof *q);
    q->cb = cb;
    q->ud = ud;
    q->result = json_array();
    if (store_query(st,
                    "SELECT id, reporter_id, kind, target, subject_id, group_code, msg_seq,"
                    " category, text, filed_at, stage, deadline, state, overdue_group, overdue,"
                    " escalated_by, escalated_at, decided_by, decided_at, severity, rule, note"
                    " FROM complaints WHERE (? = 0 OR id = ?) AND (? = 0 OR reporter_id = ?)"
                    " AND (? = 0 OR group_code = ?) AND (? = '' OR state = ?)"
                    " AND (? = '' OR stage = ?) ORDER BY id DESC LIMIT ?",
                    b, sizeof b / sizeof b[0], cq_list_row, cq_list_done, q) != STORE_OK) {
        json_decref(q->result);
        free(q);
        return -1;
    }
    return 0;
}

/* ---- flagged reporters ---- */

static int cq_flag_row(void *ud, const struct store_value *v, size_t n)
{
    struct cq_job *q = ud;
    if (n != 2)
        return 1;
    json_t *o = json_object();
    cq_name(o, "account", &v[0]);
    json_object_set_new(o, "account_id", json_integer(v[0].i));
    json_object_set_new(o, "malicious", json_integer(v[1].i));
    json_array_append_new(q->step ? json_object_get(q->result, "flagged") : q->result, o);
    return 0;
}

static int cq_flag_query(struct cq_job *q, store_done_cb done)
{
    int64_t since = qclock_now() - (int64_t)server_config->complaint_malicious_days * 86400;
    struct store_value b[] = {STORE_INT(since), STORE_INT(server_config->complaint_malicious_flag),
                              STORE_INT(COMPLAINT_LIST_MAX)};
    return store_query(complaint__store(),
                       "SELECT reporter_id, count(*) FROM complaints WHERE state = 'malicious'"
                       " AND decided_at >= ? GROUP BY reporter_id HAVING count(*) >= ?"
                       " ORDER BY count(*) DESC LIMIT ?",
                       b, 3, cq_flag_row, done, q);
}

int complaint_flagged(complaint_json_cb cb, void *ud)
{
    if (!complaint__store())
        return -1;
    struct cq_job *q = xcalloc(1, sizeof *q);
    q->cb = cb;
    q->ud = ud;
    q->result = json_array();
    if (cq_flag_query(q, cq_list_done) != STORE_OK) {
        json_decref(q->result);
        free(q);
        return -1;
    }
    return 0;
}

/* ---- statistics ----
 * step 1: counts by state and stage, overdue counts; step 2: handling
 * times by outcome; step 3: flagged reporters. */

static int cq_count_row(void *ud, const struct store_value *v, size_t n)
{
    struct cq_job *q = ud;
    if (n != 5)
        return 1;
    json_t *r = q->result;
    json_t *by_state = json_object_get(r, "by_state"), *by_stage = json_object_get(r, "by_stage");
    const char *state = v[0].p, *stage = v[1].p;
    json_int_t n_rows = v[2].i;
    json_object_set_new(
        by_state, state,
        json_integer(json_integer_value(json_object_get(by_state, state)) + n_rows));
    if (strcmp(state, "open") == 0)
        json_object_set_new(
            by_stage, stage,
            json_integer(json_integer_value(json_object_get(by_stage, stage)) + n_rows));
    static const char *const keys[] = {"total", "overdue_group", "overdue_platform"};
    json_int_t add[] = {n_rows, v[3].i, v[4].i};
    for (int i = 0; i < 3; i++)
        json_object_set_new(r, keys[i],
                            json_integer(json_integer_value(json_object_get(r, keys[i])) + add[i]));
    return 0;
}

static int cq_time_row(void *ud, const struct store_value *v, size_t n)
{
    struct cq_job *q = ud;
    if (n != 4)
        return 1;
    json_t *h = json_object_get(q->result, "handling");
    json_t *by = json_object_get(h, "by_outcome");
    json_object_set_new(by, v[0].p,
                        json_pack("{s:I, s:I, s:I}", "decided", (json_int_t)v[1].i, "mean_s",
                                  (json_int_t)(v[1].i ? v[2].i / v[1].i : 0), "max_s",
                                  (json_int_t)v[3].i));
    json_int_t decided = json_integer_value(json_object_get(h, "decided")) + v[1].i;
    json_int_t sum = json_integer_value(json_object_get(h, "sum_s")) + v[2].i;
    json_int_t max = json_integer_value(json_object_get(h, "max_s"));
    json_object_set_new(h, "decided", json_integer(decided));
    json_object_set_new(h, "sum_s", json_integer(sum));
    json_object_set_new(h, "max_s", json_integer(v[3].i > max ? v[3].i : max));
    return 0;
}

static void cq_stats_step(void *ud, int status, const char *err)
{
    struct cq_job *q = ud;
    if (status != STORE_OK) {
        cq_finish(q, status);
        return;
    }
    struct store_value b[] = {STORE_INT(q->since), STORE_INT(q->until)};
    int rc = STORE_OK;
    switch (q->step++) {
    case 0:
        rc = store_query(complaint__store(),
                         "SELECT state, stage, count(*), sum(overdue_group), sum(overdue)"
                         " FROM complaints WHERE filed_at >= ? AND filed_at <= ?"
                         " GROUP BY state, stage",
                         b, 2, cq_count_row, cq_stats_step, q);
        break;
    case 1:
        rc = store_query(complaint__store(),
                         "SELECT state, count(*), sum(decided_at - filed_at),"
                         " max(decided_at - filed_at) FROM complaints"
                         " WHERE decided_at IS NOT NULL AND filed_at >= ? AND filed_at <= ?"
                         " GROUP BY state",
                         b, 2, cq_time_row, cq_stats_step, q);
        break;
    case 2: {
        json_t *h = json_object_get(q->result, "handling");
        json_int_t d = json_integer_value(json_object_get(h, "decided"));
        json_int_t sum = json_integer_value(json_object_get(h, "sum_s"));
        json_object_set_new(h, "mean_s", json_integer(d ? sum / d : 0));
        json_object_del(h, "sum_s");
        rc = cq_flag_query(q, cq_stats_step);
        break;
    }
    default:
        cq_finish(q, STORE_OK);
        return;
    }
    if (rc != STORE_OK)
        cq_finish(q, rc);
}

int complaint_stats(int64_t since, int64_t until, complaint_json_cb cb, void *ud)
{
    if (!complaint__store())
        return -1;
    struct cq_job *q = xcalloc(1, sizeof *q);
    q->cb = cb;
    q->ud = ud;
    q->since = since;
    q->until = until > 0 ? until : INT64_MAX;
    q->result =
        json_pack("{s:I, s:I, s:I, s:I, s:{}, s:{s:I, s:I}, s:{s:I, s:I, s:I, s:{}}, s:[], s:I}",
                  "since", (json_int_t)since, "until", (json_int_t)(until > 0 ? until : 0), "total",
                  (json_int_t)0, "overdue_group", (json_int_t)0, "by_state", "by_stage", "group",
                  (json_int_t)0, "platform", (json_int_t)0, "handling", "decided", (json_int_t)0,
                  "sum_s", (json_int_t)0, "max_s", (json_int_t)0, "by_outcome", "flagged",
                  "overdue_warnings_since_start", (json_int_t)complaint_overdue_warnings());
    json_object_set_new(q->result, "overdue_platform", json_integer(0));
    cq_stats_step(q, STORE_OK, NULL);
    return 0;
}
