/*
 * ctl_netlog.c - control commands for legal holds on the network log
 * (qunctl hold add|list|release; retention.h says what a hold keeps).
 *
 *   hold.add      {"kind":"group"|"account"|"case", "value":..., "reason":...}
 *                 or {"group"|"account"|"case": value, "reason":...}
 *   hold.list     {"all": bool}  (active holds, or all with all=true)
 *   hold.release  {"id": N}
 *
 * Roles: auditors and administrators. Every change is itself logged
 * ("audit.hold.add", "audit.hold.release") through netlog_record.
 *
 * The holds table lives in the log database (server_config->netlog_path).
 * Each request opens its own short-lived SQLite connection on the libuv
 * thread pool (uv_queue_work on the default loop, the daemon's loop), so
 * the loop never waits on the writer's lock; the reply and the audit
 * record are made back on the loop. An account hold is stored by the
 * account's id when the daemon knows the account (events carry the id),
 * by the name as typed otherwise.
 *
 * Threads: handlers and completions on the loop; hold_work on the pool
 * touches only its job.
 */
#include <jansson.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "account/account.h"
#include "config/config.h"
#include "ctl/ctl.h"
#include "irc/server.h"
#include "netlog/netlog.h"
#include "netlog/schema.h"
#include "util/alloc.h"

#define HOLD_ROLES    (CTL_ROLE_AUDITOR | CTL_ROLE_ADMINISTRATOR)
#define HOLD_TEXT_MAX 400

enum hold_op { HOLD_ADD, HOLD_LIST, HOLD_RELEASE };

struct hold_job {
    uv_work_t work;
    struct ctl_request *req;
    enum hold_op op;
    char *db_path, *kind, *value, *reason, *actor;
    int64_t id;     /* release: the hold; add: the new hold's id */
    bool all;       /* list: released holds too */
    json_t *result; /* list: built on the pool, owned by the job */
    int changed;    /* release: rows changed */
    char err[256];
};

static void job_free(struct hold_job *j)
{
    free(j->db_path);
    free(j->kind);
    free(j->value);
    free(j->reason);
    free(j->actor);
    json_decref(j->result);
    free(j);
}

static int job_exec(struct hold_job *j, sqlite3 *db)
{
    sqlite3_stmt *s;
    const char *sql =
        j->op == HOLD_ADD ? "INSERT INTO holds (kind, value, reason, created_at, created_by)"
                            " VALUES (?1, ?2, ?3, ?4, ?5)"
        : j->op == HOLD_RELEASE
            ? "UPDATE holds SET released_at = ?4 WHERE id = ?6 AND released_at IS NULL"
            : "SELECT id, kind, value, reason, created_at, created_by, released_at FROM holds"
              " WHERE ?7 OR released_at IS NULL ORDER BY id";
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_text(s, 1, j->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, j->value, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, j->reason, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 4, (int64_t)time(NULL) * 1000);
    sqlite3_bind_text(s, 5, j->actor, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 6, j->id);
    sqlite3_bind_int(s, 7, j->all);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        json_t *o = json_pack("{s:I, s:s, s:s, s:s?, s:I, s:s}", "id",
                              (json_int_t)sqlite3_column_int64(s, 0), "kind",
                              (const char *)sqlite3_column_text(s, 1), "value",
                              (const char *)sqlite3_column_text(s, 2), "reason",
                              (const char *)sqlite3_column_text(s, 3), "created_at",
                              (json_int_t)sqlite3_column_int64(s, 4), "created_by",
                              (const char *)sqlite3_column_text(s, 5));
        if (o && sqlite3_column_type(s, 6) != SQLITE_NULL)
            json_object_set_new(o, "released_at", json_integer(sqlite3_column_int64(s, 6)));
        if (o)
            json_array_append_new(j->result, o);
    }
    sqlite3_finalize(s);
    j->changed = sqlite3_changes(db);
    if (j->op == HOLD_ADD)
        j->id = sqlite3_last_insert_rowid(db);
    return rc == SQLITE_DONE ? 0 : -1;
}

static void hold_work(uv_work_t *w)
{
    struct hold_job *j = w->data;
    sqlite3 *db = NULL;
    if (j->op == HOLD_LIST)
        j->result = json_array();
    if (sqlite3_open_v2(j->db_path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_busy_timeout(db, 10000) != SQLITE_OK ||
        sqlite3_exec(db, NETLOG_SCHEMA_SQL, NULL, NULL, NULL) != SQLITE_OK || job_exec(j, db) < 0)
        snprintf(j->err, sizeof j->err, "the log database could not be used: %s",
                 db ? sqlite3_errmsg(db) : "out of memory");
    sqlite3_close(db);
}

static void hold_done(uv_work_t *w, int status)
{
    struct hold_job *j = w->data;
    if (status != 0 || j->err[0]) {
        ctl_reply_error(j->req, "store", "%s", j->err[0] ? j->err : "the request was cancelled");
    } else if (j->op == HOLD_LIST) {
        ctl_reply_ok(j->req, json_incref(j->result));
    } else if (j->op == HOLD_RELEASE && j->changed == 0) {
        ctl_reply_error(j->req, "not-found", "no active hold %lld", (long long)j->id);
    } else {
        bool add = j->op == HOLD_ADD;
        json_t *body = add ? json_pack("{s:I, s:s, s:s, s:s}", "hold", (json_int_t)j->id, "kind",
                                       j->kind, "value", j->value, "reason", j->reason)
                           : json_pack("{s:I}", "hold", (json_int_t)j->id);
        char *text = json_dumps(body, JSON_COMPACT);
        netlog_record(add ? "audit.hold.add" : "audit.hold.release", j->actor,
                      add ? j->value : NULL, 0, 0, NULL, text);
        free(text);
        json_decref(body);
        ctl_reply_ok(j->req, json_pack("{s:I, s:s}", "hold", (json_int_t)j->id, "state",
                                       add ? "active" : "released"));
    }
    job_free(j);
}

static void hold_submit(struct ctl_request *req, struct hold_job *j)
{
    j->req = req;
    j->work.data = j;
    j->actor = xstrdup(ctl_request_actor(req));
    j->db_path = xstrdup(server_config->netlog_path);
    if (uv_queue_work(uv_default_loop(), &j->work, hold_work, hold_done) != 0) {
        ctl_reply_error(req, "busy", "the thread pool refused the request");
        job_free(j);
    }
}

/* The stored value of an account hold: its id when the daemon knows it. */
static char *account_value(const char *name)
{
    struct account *a = account_find(name);
    char buf[32];
    if (!a || a->id <= 0)
        return xstrdup(name);
    snprintf(buf, sizeof buf, "%lld", (long long)a->id);
    return xstrdup(buf);
}

static void h_hold_add(struct ctl_request *req, json_t *args)
{
    const char *kind = json_string_value(json_object_get(args, "kind"));
    const char *value = json_string_value(json_object_get(args, "value"));
    /* qunctl's form: exactly one of group, account, case */
    static const char *const kinds[] = {"group", "account", "case"};
    for (int i = 0; i < 3 && !kind; i++)
        if (json_is_string(json_object_get(args, kinds[i]))) {
            kind = kinds[i];
            value = json_string_value(json_object_get(args, kinds[i]));
        }
    const char *reason = json_string_value(json_object_get(args, "reason"));
    if (!kind || (strcmp(kind, "group") && strcmp(kind, "account") && strcmp(kind, "case"))) {
        ctl_reply_error(req, "bad-request", "kind must be group, account or case");
        return;
    }
    if (!value || !*value || strlen(value) > HOLD_TEXT_MAX || !reason || !*reason ||
        strlen(reason) > HOLD_TEXT_MAX) {
        ctl_reply_error(req, "bad-request", "a value and a reason (at most %d bytes) are required",
                        HOLD_TEXT_MAX);
        return;
    }
    if (!strcmp(kind, "group") && strspn(value, "0123456789") != strlen(value)) {
        ctl_reply_error(req, "bad-request", "a group hold names the group's code (a number)");
        return;
    }
    struct hold_job *j = xcalloc(1, sizeof *j);
    j->op = HOLD_ADD;
    j->kind = xstrdup(kind);
    j->value = !strcmp(kind, "account") ? account_value(value) : xstrdup(value);
    j->reason = xstrdup(reason);
    hold_submit(req, j);
}

static void h_hold_list(struct ctl_request *req, json_t *args)
{
    struct hold_job *j = xcalloc(1, sizeof *j);
    j->op = HOLD_LIST;
    j->all = json_is_true(json_object_get(args, "all"));
    hold_submit(req, j);
}

static void h_hold_release(struct ctl_request *req, json_t *args)
{
    json_t *id = json_object_get(args, "id");
    if (!json_is_integer(id) || json_integer_value(id) <= 0) {
        ctl_reply_error(req, "bad-request", "id must be a hold number from `hold list`");
        return;
    }
    struct hold_job *j = xcalloc(1, sizeof *j);
    j->op = HOLD_RELEASE;
    j->id = json_integer_value(id);
    hold_submit(req, j);
}

void ctl_netlog_register(void)
{
    ctl_register("hold.add", HOLD_ROLES, "place a legal hold on the network log (recorded)",
                 h_hold_add);
    ctl_register("hold.list", HOLD_ROLES, "list legal holds on the network log", h_hold_list);
    ctl_register("hold.release", HOLD_ROLES, "release a legal hold (recorded)", h_hold_release);
}
