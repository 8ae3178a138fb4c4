/*
 * ctl_logquery.c - the operator console's reads: the dashboard and the
 * network log through the daemon (qunctl status, log search, audit list,
 * log export; web console POST /api/ctl/<command>).
 *
 *   status      (every role) one object: clients and accounts online,
 *               groups, the identity queue, open and overdue complaints,
 *               open appeals, the network log (seqs, latest checkpoint,
 *               health, queue), reports by status, the emergency switch,
 *               uptime and version. Counts come from the modules' own
 *               functions (netlog_get_stats, complaint_open_counts,
 *               credit_appeals_open_count, report_counts,
 *               verify_queue_list, emergency_foreach, client_count_*).
 *   log.search  (administrators, moderators, auditors: who may record a
 *               log.access today) {"group","account","from","to","text",
 *               "kind","actor","limit","order","after_seq","before_seq"} -> {"events":[...],
 *               "count","limit","truncated"}
 *   audit.list  (administrators, auditors) the operator and management
 *               actions (bundle.h BUNDLE_AUDIT_KINDS) {"actor","from",
 *               "to","kind","limit"} newest first
 *   log.export  (auditors) {"case", "group" or "account", "from","to",
 *               "text"} -> the case bundle `qunctl export` writes, as a
 *               ustar archive (util/tar.h) of the directory case-<id>/:
 *               {"case","name","size","sha256","encoding":"base64",
 *               "archive","events","after_checkpoint","tree_size"}
 *
 * The log is read with the same code as `qunctl search` and `qunctl
 * export` (netlog/bundle.h) on the libuv thread pool (uv_queue_work on the
 * default loop, the daemon's loop), each job with its own read-only SQLite
 * connection to server_config->netlog_path, never on the loop. Each
 * search, audit listing and export is a "log.access" network-log event
 * (actor: the requester; target: "search", "audit.list" or "export"; body:
 * what, query, count, case and, on failure, the error), written when the
 * read is done; when it cannot be written the result is withheld and the
 * answer is the error "log".
 *
 * Limits: a search returns at most LQ_LIMIT_MAX events; a filter string
 * at most LQ_TEXT_MAX bytes; the archive at most LQ_EXPORT_MAX bytes (its
 * base64 fits qunctl's 64 MiB answer line); at most LQ_MAX_JOBS reads and
 * one export run at once, more are answered "busy".
 *
 * Threads: handlers and completions on the loop; lq_work on the pool
 * touches only its job.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "account/account.h"
#include "complaint/complaint.h"
#include "config/config.h"
#include "credit/credit.h"
#include "ctl/ctl.h"
#include "identity/verify.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/server.h"
#include "netlog/bundle.h"
#include "netlog/netlog.h"
#include "report/report.h"
#include "sanction/sanction.h"
#include "util/alloc.h"
#include "util/loopwatch.h"
#include "util/tar.h"

#define ALL_ROLES     (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR)
#define AUDIT_ROLES   (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_AUDITOR)
#define LQ_LIMIT_MAX  1000
#define LQ_TEXT_MAX   400
#define LQ_MAX_JOBS   4
#define LQ_EXPORT_MAX ((size_t)32 << 20) /* bytes of the tar archive */

/* ------------------------------------------------------------ status */

struct status_job {
    struct ctl_request *req;
    json_t *result;
    int pending; /* store answers still to come */
    int64_t queue;
    bool failed;
};

static void status_finish(struct status_job *s)
{
    if (--s->pending > 0)
        return;
    json_object_set_new(json_object_get(s->result, "identity"), "queue", json_integer(s->queue));
    if (s->failed)
        json_object_set_new(s->result, "partial", json_true());
    ctl_reply_ok(s->req, s->result);
    free(s);
}

static void status_queue_row(void *ud, int64_t id, const char *account, const char *doc_type,
                             int64_t submitted_at)
{
    (void)id, (void)account, (void)doc_type, (void)submitted_at;
    ((struct status_job *)ud)->queue++;
}

static void status_queue_done(void *ud, bool ok)
{
    struct status_job *s = ud;
    if (!ok) {
        s->failed = true;
        s->queue = -1;
    }
    status_finish(s);
}

/* The *_fill halves record an answer without releasing its hold: h_status
   uses them when a request fails at once, so that nothing it calls may free
   the job before its own last use (and GCC's -Wuse-after-free can see it). */
/* appeals: {"pending": open credit appeals, "sanctions_pending": open
   appeals against sanctions}, each filled by its own count */
static void status_count_fill(struct status_job *s, const char *key, int status, int64_t n)
{
    if (status != 0)
        s->failed = true;
    json_t *a = json_object_get(s->result, "appeals");
    if (!a)
        json_object_set_new(s->result, "appeals", a = json_object());
    json_object_set_new(a, key, json_integer((json_int_t)n));
}

static void status_appeals(void *ud, int status, int64_t n)
{
    status_count_fill(ud, "pending", status, n);
    status_finish(ud);
}

static void status_sanction_appeals(void *ud, int status, int64_t n)
{
    status_count_fill(ud, "sanctions_pending", status, n);
    status_finish(ud);
}

static void status_reports_fill(struct status_job *s, int rc, json_t *result)
{
    if (rc != REPORT_OK || !result) {
        s->failed = true;
        json_decref(result);
        result = json_object();
    }
    json_object_set_new(s->result, "reports", result);
}

static void status_reports(void *ud, int rc, json_t *result, const char *err)
{
    (void)err;
    status_reports_fill(ud, rc, result);
    status_finish(ud);
}

static void count_account(struct account *a, void *ud)
{
    if (a->id > 0 && a->online > 0)
        ++*(size_t *)ud;
}

struct group_counts {
    size_t live, warned, suspended, closed;
};

/* Live groups and their sanction states (closed ones are not channels). */
static void count_group(struct channel *ch, void *ud)
{
    struct group_counts *g = ud;
    if (!ch->code)
        return;
    g->live++;
    enum group_state st = sanction_group_state(ch->code);
    g->warned += st == GROUP_WARNED;
    g->suspended += st == GROUP_SUSPENDED;
}

static void count_closed(const struct sanction *sn, void *ud)
{
    ((struct group_counts *)ud)->closed += sn->kind == SANCTION_CLOSED;
}

static void emergency_one(const struct emergency_entry *e, void *ud)
{
    json_array_append_new(
        ud, json_pack("{s:s, s:s, s:s, s:I}", "scope", e->category ? e->category : "all", "message",
                      e->message ? e->message : "", "set_by", e->set_by ? e->set_by : "", "set_at",
                      (json_int_t)e->set_at));
}

static json_t *netlog_json(void)
{
    struct netlog_stats st;
    netlog_get_stats(&st);
    return json_pack("{s:I, s:I, s:I, s:I, s:I, s:b, s:I, s:I, s:I, s:I, s:I}", "last_seq",
                     (json_int_t)st.last_seq, "durable_seq", (json_int_t)st.durable_seq,
                     "applied_seq", (json_int_t)st.applied_seq, "checkpoint_size",
                     (json_int_t)st.checkpoint_size, "checkpoint_at", (json_int_t)st.checkpoint_ms,
                     "healthy", netlog_healthy(), "queued", (json_int_t)st.queued, "commits",
                     (json_int_t)st.commits, "failed_batches", (json_int_t)st.batches_failed,
                     "journal_sync_max_us", (json_int_t)st.sync_max_us, "journal_syncs_slow",
                     (json_int_t)st.syncs_slow);
}

static json_t *loop_json(void)
{
    struct loopwatch_stats st;
    loopwatch_get(&st);
    return json_pack("{s:I, s:s, s:I, s:I}", "busy_max_us", (json_int_t)st.busy_max_us,
                     "busiest_did", st.busiest_did, "stalls", (json_int_t)st.stalls, "iterations",
                     (json_int_t)st.iterations);
}

static void h_status(struct ctl_request *req, json_t *args)
{
    (void)args;
    struct status_job *s = xcalloc(1, sizeof *s);
    s->req = req;
    size_t online = 0;
    struct group_counts groups = {0};
    account_foreach(count_account, &online);
    channel_foreach(count_group, &groups);
    sanction_foreach(count_closed, &groups);
    struct complaint_open_counts cc;
    complaint_open_counts(&cc);
    json_t *em = json_array();
    emergency_foreach(emergency_one, em);
    time_t started = server_started();
    s->result = json_pack(
        "{s:s, s:I, s:I, s:{s:I, s:I}, s:{s:I}, s:{s:I, s:I, s:I, s:I}, s:{}, s:{s:I, s:I, s:I}, "
        "s:o, s:o,"
        " s:{s:b, s:o}}",
        "version", QUN_VERSION, "started_at", (json_int_t)started, "uptime_s",
        (json_int_t)(time(NULL) - started), "clients", "online", (json_int_t)client_count(),
        "registered", (json_int_t)client_count_registered(), "accounts", "logged_in",
        (json_int_t)online, "groups", "live", (json_int_t)groups.live, "warned",
        (json_int_t)groups.warned, "suspended", (json_int_t)groups.suspended, "closed",
        (json_int_t)groups.closed, "identity", "complaints", "open_group", (json_int_t)cc.group,
        "open_platform", (json_int_t)cc.platform, "overdue", (json_int_t)cc.overdue, "netlog",
        netlog_json(), "loop", loop_json(), "emergency", "on", json_array_size(em) > 0, "switches",
        em);
    /* the handler's own hold, released below, and one per store answer; all
       taken before the first request, since an answer may come at once */
    s->pending = 5;
    verify_queue_list(status_queue_row, status_queue_done, s);
    if (credit_appeals_open_count(status_appeals, s) != 0) {
        status_count_fill(s, "pending", -1, 0);
        s->pending--; /* never the last hold: the handler's own is still taken */
    }
    if (sanction_appeals_open_count(status_sanction_appeals, s) != 0) {
        status_count_fill(s, "sanctions_pending", -1, 0);
        s->pending--;
    }
    if (report_counts(status_reports, s) != REPORT_OK) {
        status_reports_fill(s, REPORT_ERR_STORE, NULL);
        s->pending--;
    }
    status_finish(s);
}

/* ------------------------------------------------------------ log reads */

enum lq_op { LQ_SEARCH, LQ_AUDIT, LQ_EXPORT };

static const char *const lq_what[] = {"search", "audit.list", "export"};

struct lq_job {
    uv_work_t work;
    struct ctl_request *req;
    enum lq_op op;
    struct bundle_query q; /* strings point into the copies below */
    char *account, *text, *kind, *actor, *case_id, *db_path, *pub_path;
    /* filled on the pool */
    int rc;
    int64_t count;
    json_t *events;                  /* search, audit */
    char *archive_b64;               /* export */
    size_t archive_len;              /* bytes of the tar */
    char sha256[2 * 32 + 1];         /* of the tar, hex */
    struct bundle_export_result res; /* export */
    char err[512];
};

static int lq_running, lq_exporting;

static void lq_free(struct lq_job *j)
{
    free(j->account);
    free(j->text);
    free(j->kind);
    free(j->actor);
    free(j->case_id);
    free(j->db_path);
    free(j->pub_path);
    json_decref(j->events);
    free(j->archive_b64);
    free(j);
}

static int lq_event(void *ud, const struct netlog_event *e)
{
    json_array_append_new(ud, bundle_event_json(e, NULL));
    return 0;
}

/* "case-<id>" with anything but [A-Za-z0-9._-] replaced by '_' (at most 64
 * bytes of the id): the bundle's directory in the archive. */
static void lq_dir_name(const char *case_id, char *out, size_t cap)
{
    size_t n = (size_t)snprintf(out, cap, "case-");
    for (const char *p = case_id; *p && n + 1 < cap && p - case_id < 64; p++) {
        char c = *p;
        bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                  c == '.' || c == '_' || c == '-';
        out[n++] = ok ? c : '_';
    }
    out[n] = '\0';
}

/* Packs the three files into a tar, hashes and base64-encodes it. */
static int lq_pack(struct lq_job *j, const struct bundle_files *f)
{
    char dir[80], path[TAR_NAME_MAX + 1];
    lq_dir_name(j->case_id, dir, sizeof dir);
    struct tar_writer t;
    tar_init(&t, LQ_EXPORT_MAX, time(NULL));
    int rc = tar_add_dir(&t, dir, 0700);
    const char *names[] = {"events.jsonl", "manifest.json", "key.pub"};
    const char *data[] = {f->events, f->manifest, f->key};
    size_t lens[] = {f->events_len, f->manifest_len, f->key_len};
    for (int i = 0; i < 3 && rc == TAR_OK; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = tar_add_file(&t, path, data[i], lens[i], 0600);
    }
    if (rc == TAR_OK)
        rc = tar_finish(&t);
    if (rc != TAR_OK) {
        tar_free(&t);
        if (rc == TAR_ERR_TOO_BIG)
            snprintf(j->err, sizeof j->err,
                     "the bundle would be larger than %zu bytes: narrow the query (group, "
                     "account, time range)",
                     LQ_EXPORT_MAX);
        else
            snprintf(j->err, sizeof j->err, "cannot build the archive: %s", tar_error_sentence(rc));
        return rc == TAR_ERR_TOO_BIG ? -2 : -1;
    }
    size_t len;
    unsigned char *tar = tar_take(&t, &len), hash[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(hash, tar, len);
    sodium_bin2hex(j->sha256, sizeof j->sha256, hash, sizeof hash);
    size_t b64 = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    j->archive_b64 = malloc(b64);
    if (!j->archive_b64) {
        free(tar);
        snprintf(j->err, sizeof j->err, "out of memory");
        return -1;
    }
    sodium_bin2base64(j->archive_b64, b64, tar, len, sodium_base64_VARIANT_ORIGINAL);
    j->archive_len = len;
    free(tar);
    return 0;
}

static void lq_work(uv_work_t *w)
{
    struct lq_job *j = w->data;
    if (j->op != LQ_EXPORT) {
        j->events = json_array();
        j->count = bundle_search(j->db_path, &j->q, lq_event, j->events, j->err, sizeof j->err);
        j->rc = j->count < 0 ? -1 : 0;
        return;
    }
    struct bundle_files f;
    /* the files' cap leaves room for the tar headers and padding */
    j->rc = bundle_export_mem(j->db_path, j->pub_path, &j->q, j->case_id, LQ_EXPORT_MAX - 64 * 1024,
                              &f, &j->res, j->err, sizeof j->err);
    j->count = j->res.events;
    if (j->rc == 0) {
        j->rc = lq_pack(j, &f);
        bundle_files_free(&f);
    } else if (j->res.too_big)
        j->rc = -2;
}

/* The log.access record of this read; its seq, or -1. */
static int64_t lq_record(struct lq_job *j)
{
    json_t *body = json_pack("{s:s, s:s, s:o, s:I}", "what", lq_what[j->op], "path", j->db_path,
                             "query", bundle_query_json(&j->q), "count", (json_int_t)j->count);
    if (j->case_id)
        json_object_set_new(body, "case", json_string(j->case_id));
    if (j->rc != 0)
        json_object_set_new(body, "error", json_string(j->err));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    int64_t seq = text ? netlog_record("log.access", ctl_request_actor(j->req), lq_what[j->op], 0,
                                       0, NULL, text)
                       : -1;
    free(text);
    return seq;
}

static void lq_done(uv_work_t *w, int status)
{
    struct lq_job *j = w->data;
    lq_running--;
    if (j->op == LQ_EXPORT)
        lq_exporting--;
    if (status != 0) {
        j->rc = -1;
        snprintf(j->err, sizeof j->err, "the read was cancelled");
    }
    int64_t seq = lq_record(j);
    if (seq < 0)
        ctl_reply_error(j->req, "log",
                        "the network log cannot record this access right now, so nothing is "
                        "returned; try again when the log is writable");
    else if (j->rc == -2)
        ctl_reply_error(j->req, "too-big", "%s", j->err);
    else if (j->rc != 0)
        ctl_reply_error(j->req, "log-read", "%s", j->err);
    else if (j->op != LQ_EXPORT) {
        int64_t limit = j->q.limit;
        json_t *r = json_pack("{s:O, s:I, s:I, s:b, s:I}", "events", j->events, "count",
                              (json_int_t)j->count, "limit", (json_int_t)limit, "truncated",
                              j->count >= limit, "access_seq", (json_int_t)seq);
        ctl_reply_ok(j->req, r);
    } else {
        char name[96];
        lq_dir_name(j->case_id, name, sizeof name - 4);
        strcat(name, ".tar");
        json_t *r = json_pack("{s:s, s:s, s:I, s:s, s:s, s:I, s:I, s:I, s:I}", "case", j->case_id,
                              "name", name, "size", (json_int_t)j->archive_len, "sha256", j->sha256,
                              "encoding", "base64", "events", (json_int_t)j->res.events,
                              "after_checkpoint", (json_int_t)j->res.after_checkpoint, "tree_size",
                              (json_int_t)j->res.tree_size, "access_seq", (json_int_t)seq);
        json_object_set_new(r, "archive",
                            json_stringn_nocheck(j->archive_b64, strlen(j->archive_b64)));
        ctl_reply_ok(j->req, r);
    }
    lq_free(j);
}

/* A string argument (at most LQ_TEXT_MAX bytes) copied into *out; false
 * after replying "bad-request". Absent or "" leaves *out NULL. */
static bool lq_string(struct ctl_request *req, json_t *args, const char *key, char **out)
{
    json_t *v = json_object_get(args, key);
    if (!v || json_is_null(v))
        return true;
    if (json_is_integer(v) && (!strcmp(key, "account") || !strcmp(key, "case"))) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        *out = xstrdup(buf);
        return true;
    }
    if (!json_is_string(v) || json_string_length(v) > LQ_TEXT_MAX) {
        ctl_reply_error(req, "bad-request", "%s must be a string of at most %d bytes", key,
                        LQ_TEXT_MAX);
        return false;
    }
    if (json_string_length(v) > 0)
        *out = xstrdup(json_string_value(v));
    return true;
}

/* from / to: milliseconds, or the times qunctl accepts (bundle_parse_time). */
static bool lq_time(struct ctl_request *req, json_t *args, const char *key, int64_t *out)
{
    json_t *v = json_object_get(args, key);
    if (!v || json_is_null(v))
        return true;
    if (json_is_integer(v) && json_integer_value(v) >= 0) {
        *out = json_integer_value(v);
        return true;
    }
    if (json_is_string(v) && bundle_parse_time(json_string_value(v), out))
        return true;
    ctl_reply_error(req, "bad-request",
                    "%s must be milliseconds since 1970 or YYYY-MM-DD[ HH:MM[:SS]] (China time)",
                    key);
    return false;
}

/* group: a code (number or digits) or a live group's #name. */
static bool lq_group(struct ctl_request *req, json_t *args, int64_t *code)
{
    json_t *v = json_object_get(args, "group");
    if (!v || json_is_null(v))
        return true;
    const char *s = json_string_value(v);
    if (json_is_integer(v))
        *code = json_integer_value(v);
    else if (s && s[0] == '#') {
        struct channel *ch = channel_find(s);
        if (!ch || !ch->code) {
            ctl_reply_error(req, "not-found", "no group %s (give its code for a closed group)", s);
            return false;
        }
        *code = ch->code;
    } else if (s && *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 19)
        *code = strtoll(s, NULL, 10);
    if (*code <= 0) {
        ctl_reply_error(req, "bad-request", "group must be a group code or #name");
        return false;
    }
    return true;
}

static bool lq_limit(struct ctl_request *req, json_t *args, int64_t *limit)
{
    json_t *v = json_object_get(args, "limit");
    *limit = LQ_LIMIT_MAX;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > LQ_LIMIT_MAX) {
        ctl_reply_error(req, "bad-request", "limit must be a number from 1 to %d", LQ_LIMIT_MAX);
        return false;
    }
    *limit = json_integer_value(v);
    return true;
}

/* An optional positive seq bound (after_seq, before_seq: paging). */
static bool lq_seq(struct ctl_request *req, json_t *args, const char *key, int64_t *out)
{
    json_t *v = json_object_get(args, key);
    *out = 0;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 1) {
        ctl_reply_error(req, "bad-request", "%s must be a positive sequence number", key);
        return false;
    }
    *out = json_integer_value(v);
    return true;
}

/* Parses the filters the op takes; NULL after an error reply. */
static struct lq_job *lq_parse(struct ctl_request *req, json_t *args, enum lq_op op)
{
    struct lq_job *j = xcalloc(1, sizeof *j);
    j->req = req;
    j->op = op;
    j->work.data = j;
    bool ok = lq_time(req, args, "from", &j->q.from_ms) && lq_time(req, args, "to", &j->q.to_ms) &&
              lq_string(req, args, "kind", &j->kind) && lq_string(req, args, "actor", &j->actor);
    if (ok && op != LQ_AUDIT)
        ok = lq_group(req, args, &j->q.code) && lq_string(req, args, "account", &j->account) &&
             lq_string(req, args, "text", &j->text);
    if (ok && op != LQ_EXPORT)
        ok = lq_limit(req, args, &j->q.limit) && lq_seq(req, args, "after_seq", &j->q.after_seq) &&
             lq_seq(req, args, "before_seq", &j->q.before_seq);
    if (ok && op == LQ_EXPORT)
        ok = lq_string(req, args, "case", &j->case_id);
    if (ok && op == LQ_EXPORT && !j->case_id) {
        ctl_reply_error(req, "bad-request", "case (the case id the export is for) is required");
        ok = false;
    } else if (ok && op == LQ_EXPORT && !j->q.code && !j->account) {
        ctl_reply_error(req, "bad-request", "group or account is required for an export");
        ok = false;
    }
    json_t *order = json_object_get(args, "order");
    if (ok && order && !json_is_null(order)) {
        const char *o = json_string_value(order);
        if (!o || (strcmp(o, "asc") && strcmp(o, "desc"))) {
            ctl_reply_error(req, "bad-request", "order must be asc or desc");
            ok = false;
        } else
            j->q.newest_first = !strcmp(o, "desc");
    } else if (op == LQ_AUDIT)
        j->q.newest_first = true;
    if (!ok) {
        lq_free(j);
        return NULL;
    }
    /* an account the daemon knows is searched by its id (events carry it) */
    struct account *a = j->account ? account_find(j->account) : NULL;
    if (a && a->id > 0) {
        char id[32];
        snprintf(id, sizeof id, "%lld", (long long)a->id);
        free(j->account);
        j->account = xstrdup(id);
    }
    j->q.account = j->account;
    j->q.text = j->text;
    j->q.kind = j->kind;
    j->q.actor = j->actor;
    j->q.audit = op == LQ_AUDIT;
    return j;
}

static void lq_go(void *ud)
{
    struct lq_job *j = ud;
    if (uv_queue_work(uv_default_loop(), &j->work, lq_work, lq_done) != 0) {
        ctl_reply_error(j->req, "internal", "the read could not be started");
        lq_running--;
        if (j->op == LQ_EXPORT)
            lq_exporting--;
        lq_free(j);
    }
}

static void lq_start(struct ctl_request *req, json_t *args, enum lq_op op)
{
    if (lq_running >= LQ_MAX_JOBS || (op == LQ_EXPORT && lq_exporting > 0)) {
        ctl_reply_error(req, "busy", "other reads of the log are running; try again shortly");
        return;
    }
    struct lq_job *j = lq_parse(req, args, op);
    if (!j)
        return;
    j->db_path = xstrdup(server_config->netlog_path);
    if (op == LQ_EXPORT) {
        size_t n = strlen(server_config->netlog_key_file) + 5;
        j->pub_path = xmalloc(n);
        snprintf(j->pub_path, n, "%s.pub", server_config->netlog_key_file);
    }
    lq_running++;
    if (op == LQ_EXPORT)
        lq_exporting++;
    netlog_when_readable(lq_go, j); /* what went out before the request is in the answer */
}

/* The database holds the events appended before the request: "log.sync"
 * answers then (for a reader of the file outside the daemon). */
static void sync_ready(void *ud)
{
    struct netlog_stats st;
    netlog_get_stats(&st);
    ctl_reply_ok(ud, json_pack("{s:I}", "applied_seq", (json_int_t)st.applied_seq));
}

static void h_log_sync(struct ctl_request *req, json_t *args)
{
    (void)args;
    netlog_when_readable(sync_ready, req);
}

static void h_log_search(struct ctl_request *req, json_t *args)
{
    lq_start(req, args, LQ_SEARCH);
}

static void h_audit_list(struct ctl_request *req, json_t *args)
{
    lq_start(req, args, LQ_AUDIT);
}

static void h_log_export(struct ctl_request *req, json_t *args)
{
    lq_start(req, args, LQ_EXPORT);
}

void ctl_logquery_register(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    ctl_register("status", ALL_ROLES,
                 "the console dashboard: clients, groups, queues, complaints, log, reports",
                 h_status);
    ctl_register("log.search", ALL_ROLES,
                 "search the network log (group, account, from, to, text, kind, actor, limit; "
                 "recorded)",
                 h_log_search);
    ctl_register("log.sync", ALL_ROLES,
                 "wait until the log database holds every event so far (before reading the "
                 "file outside the daemon)",
                 h_log_sync);
    ctl_register("audit.list", AUDIT_ROLES,
                 "operator and management actions from the network log (actor, from, to, kind, "
                 "limit; recorded)",
                 h_audit_list);
    ctl_register("log.export", CTL_ROLE_AUDITOR,
                 "a case bundle as a base64 tar archive (case, group or account, from, to, text; "
                 "auditors only; recorded)",
                 h_log_export);
}
