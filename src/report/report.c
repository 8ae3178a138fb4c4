/*
 * report.c - reports to the competent department: creation (the
 * document), start-up and shutdown, and the operations behind the control
 * commands (list, show, retry, acknowledge). The outbox (outbox.c) moves
 * pending reports to the sinks (sinks.c).
 *
 * Ids are assigned here, not by SQLite: report_create must return the id
 * at once while the INSERT is still queued. The loop owns the counter;
 * start-up reads the highest id in the table. A report's idempotency key
 * is 128 random bits in hex, stored UNIQUE, sent as the HTTP
 * Idempotency-Key header on every attempt and written into the document.
 *
 * The document (docs/reports.md) is stored as its canonical text (canon.h)
 * so the stored bytes are the signed bytes; the draft of a report whose
 * evidence names network-log records lacks the proofs until outbox.c
 * seals it.
 *
 * Threads: loop only.
 */
#include "report/report.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
#include "irc/channel.h"
#include "irc/group.h"
#include "netlog/netlog.h"
#include "report/report_internal.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

struct report_state report_g;

static const char *const report_kinds[] = {"decision", "closure", "blacklist", "manual", NULL};

static bool in_list(const char *const *list, const char *s)
{
    for (; s && *list; list++)
        if (strcmp(*list, s) == 0)
            return true;
    return false;
}

void report_time_text(int64_t t, char *out, size_t cap)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void report_log_event(const char *what, const char *actor, int64_t id, json_t *extra)
{
    char kind[48];
    snprintf(kind, sizeof kind, "report.%s", what);
    json_t *body = extra ? extra : json_object();
    json_object_set_new(body, "id", json_integer(id));
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char target[32];
    snprintf(target, sizeof target, "report:%" PRId64, id);
    netlog_record(kind, actor, target, 0, 0, NULL, text);
    free(text);
}

/* ---- start and stop ---- */

static int max_row(void *ud, const struct store_value *c, size_t n)
{
    (void)ud;
    if (n == 1 && c[0].type == STORE_TYPE_INT)
        report_g.last_id = c[0].i;
    return 0;
}

/* Fills r->seqs from the seqs column (a JSON array of integers). */
static void parse_seqs(struct rpt *r, const char *text)
{
    json_error_t jerr;
    json_t *a = json_loads(text ? text : "[]", 0, &jerr), *v;
    size_t i;
    json_array_foreach(a, i, v)
    {
        if (r->nseqs < REPORT_SEQS_MAX && json_is_integer(v))
            r->seqs[r->nseqs++] = json_integer_value(v);
    }
    json_decref(a);
}

static int pending_row(void *ud, const struct store_value *c, size_t n)
{
    (void)ud;
    if (n != 9 || c[1].type != STORE_TYPE_TEXT || c[2].type != STORE_TYPE_TEXT)
        return 0;
    struct rpt *r = xcalloc(1, sizeof *r);
    r->id = c[0].i;
    snprintf(r->idem, sizeof r->idem, "%s", (const char *)c[1].p);
    r->body = xstrdup(c[2].p);
    parse_seqs(r, c[3].type == STORE_TYPE_TEXT ? c[3].p : NULL);
    r->sealed = c[4].i != 0;
    r->attempts = (int)c[5].i;
    r->next_at = c[6].i;
    r->spool_done = c[7].i != 0;
    r->http_done = c[8].i != 0;
    outbox_add(r);
    return 0;
}

int report_start(uv_loop_t *loop, const struct qun_config *cfg, struct store *st, char *err,
                 size_t errlen)
{
    memset(&report_g, 0, sizeof report_g);
    report_g.loop = loop;
    report_g.st = st;
    if (cfg->reports_spool_dir[0]) {
        /* A spool that cannot be made now does not stop the server: chat
         * goes on, reports stay pending (last_error says why, every failed
         * attempt is logged) and the directory is tried again each time. */
        if (sinks_mkdirs(cfg->reports_spool_dir) != 0)
            log_error("reports: reports.spool_dir %s cannot be created (%s): reports stay "
                      "pending until it can",
                      cfg->reports_spool_dir, strerror(errno));
        report_g.spool_dir = xstrdup(cfg->reports_spool_dir);
    }
    report_g.http_url = cfg->reports_http_url ? xstrdup(cfg->reports_http_url) : NULL;
    report_g.netlog_path = xstrdup(cfg->netlog_path);
    size_t n = strlen(cfg->netlog_key_file) + 5;
    report_g.pub_path = xmalloc(n);
    snprintf(report_g.pub_path, n, "%s.pub", cfg->netlog_key_file);
    report_g.server_name = xstrdup(cfg->server_name);
    report_g.http_timeout = cfg->reports_http_timeout;
    report_g.max_attempts = cfg->reports_max_attempts;
    report_g.backoff_base = cfg->reports_backoff_base;
    report_g.backoff_max = cfg->reports_backoff_max;
    atomic_init(&report_g.cancel, 0);
    if (store_load(st, "SELECT max(id) FROM reports", NULL, 0, max_row, NULL, "reports", err,
                   errlen) < 0 ||
        store_load(st,
                   "SELECT id, idem_key, body, seqs, sealed, attempts, next_attempt_at,"
                   " spool_done, http_done FROM reports WHERE status = 'pending' ORDER BY id",
                   NULL, 0, pending_row, NULL, "reports", err, errlen) < 0) {
        report_stop();
        return -1;
    }
    report_g.running = true;
    static bool job_registered; /* qclock_every is once per process */
    if (!job_registered) {
        qclock_every(outbox_tick);
        job_registered = true;
    }
    size_t pending = 0;
    for (struct rpt *r = report_g.head; r; r = r->next)
        pending++;
    log_info("reports: sinks %s%s%s, %zu pending report(s)",
             report_g.spool_dir ? report_g.spool_dir : "",
             report_g.spool_dir && report_g.http_url ? " and " : "",
             report_g.http_url ? "HTTP" : "", pending);
    outbox_pump();
    return 0;
}

void report_stop(void)
{
    report_g.running = false;
    atomic_store(&report_g.cancel, 1);
    outbox_free_all();
    report_g.st = NULL;
    free(report_g.spool_dir);
    free(report_g.http_url);
    free(report_g.netlog_path);
    free(report_g.pub_path);
    free(report_g.server_name);
    report_g.spool_dir = report_g.http_url = report_g.netlog_path = NULL;
    report_g.pub_path = report_g.server_name = NULL;
}

/* ---- creation ---- */

static bool text_ok(const char *s, bool required)
{
    return s ? strlen(s) <= REPORT_TEXT_MAX && (!required || s[0]) : !required;
}

static int check_input(const struct report_input *in, char *err, size_t errlen)
{
    struct netlog_stats ns;
    netlog_get_stats(&ns);
    if (!report_g.running)
        snprintf(err, errlen, "reports are not running (the server is starting or stopping)");
    else if (!in_list(report_kinds, in->kind))
        snprintf(err, errlen, "the kind must be decision, closure, blacklist or manual");
    else if (!in->subject && in->group_code <= 0)
        snprintf(err, errlen, "a report needs a subject account or a group");
    else if (!text_ok(in->reason, true) || !text_ok(in->measures, true))
        snprintf(err, errlen,
                 "a report needs a reason and the measures taken, each at most %d "
                 "bytes",
                 REPORT_TEXT_MAX);
    else if (!text_ok(in->evidence, false) || !text_ok(in->severity, false) ||
             !text_ok(in->author, true))
        snprintf(err, errlen,
                 "the evidence, severity and author are limited to %d bytes (the "
                 "author is required)",
                 REPORT_TEXT_MAX);
    else if (in->nseqs > REPORT_SEQS_MAX || (in->nseqs && !in->seqs))
        snprintf(err, errlen, "a report proves at most %d network-log records", REPORT_SEQS_MAX);
    else {
        for (size_t i = 0; i < in->nseqs; i++)
            if (in->seqs[i] < 1 || in->seqs[i] > ns.last_seq) {
                snprintf(err, errlen,
                         "network-log record %" PRId64 " does not exist (the log is "
                         "at %" PRId64 ")",
                         in->seqs[i], ns.last_seq);
                return -1;
            }
        return 0;
    }
    return -1;
}

static json_t *subject_json(const struct account *a)
{
    if (!a)
        return json_null();
    json_t *o = json_pack("{s:s, s:I}", "account", a->name, "account_id", (json_int_t)a->id);
    if (a->has_identity_hash) {
        char hex[2 * VAULT_HASH_BYTES + 1];
        sodium_bin2hex(hex, sizeof hex, a->identity_hash, VAULT_HASH_BYTES);
        json_object_set_new(o, "identity_ref", json_string(hex));
    } else {
        json_object_set_new(o, "identity_ref", json_null());
    }
    return o;
}

static json_t *group_json(int64_t code)
{
    if (code <= 0)
        return json_null();
    struct channel *ch = group_find_code(code);
    return json_pack("{s:I, s:s?}", "code", (json_int_t)code, "name", ch ? ch->name : NULL);
}

static json_t *text_or_null(const char *s)
{
    return s && *s ? json_string(s) : json_null();
}

static json_t *document(const struct report_input *in, const struct rpt *r, int64_t now)
{
    char created[32];
    report_time_text(now, created, sizeof created);
    json_t *seqs = json_array();
    for (size_t i = 0; i < in->nseqs; i++)
        json_array_append_new(seqs, json_integer(in->seqs[i]));
    json_t *evidence =
        json_pack("{s:o, s:o, s:[]}", "text", text_or_null(in->evidence), "seqs", seqs, "records");
    return json_pack("{s:s, s:I, s:s, s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:s, s:s, s:o}", "format",
                     "qun-report/1", "id", (json_int_t)r->id, "idempotency_key", r->idem, "created",
                     created, "server", report_g.server_name, "kind", in->kind, "subject",
                     subject_json(in->subject), "group", group_json(in->group_code), "severity",
                     text_or_null(in->severity), "reason", in->reason, "measures", in->measures,
                     "author", in->author, "evidence", evidence);
}

static void inserted(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    (void)last_id, (void)changes;
    if (status != STORE_OK)
        log_error("reports: report %" PRId64 " could not be stored: %s", (int64_t)(intptr_t)ud,
                  err ? err : store_status_name(status));
}

static void log_created(const struct report_input *in, const struct rpt *r)
{
    json_t *seqs = json_array();
    for (size_t i = 0; i < in->nseqs; i++)
        json_array_append_new(seqs, json_integer(in->seqs[i]));
    json_t *body =
        json_pack("{s:I, s:s, s:s, s:o, s:o}", "id", (json_int_t)r->id, "kind", in->kind,
                  "idempotency_key", r->idem, "severity", text_or_null(in->severity), "seqs", seqs);
    char *text = json_dumps(body, JSON_COMPACT);
    json_decref(body);
    char group[32];
    snprintf(group, sizeof group, "group:%" PRId64, in->group_code);
    netlog_record("report", in->author, in->subject ? in->subject->name : group,
                  in->group_code > 0 ? in->group_code : 0, in->subject ? in->subject->id : 0, NULL,
                  text);
    free(text);
}

int64_t report_create_ex(const struct report_input *in, char *err, size_t errlen)
{
    if (check_input(in, err, errlen) < 0)
        return -1;
    struct rpt *r = xcalloc(1, sizeof *r);
    uint8_t key[REPORT_IDEM_HEX / 2];
    randombytes_buf(key, sizeof key);
    sodium_bin2hex(r->idem, sizeof r->idem, key, sizeof key);
    r->id = report_g.last_id + 1;
    int64_t now = qclock_now();
    json_t *doc = document(in, r, now);
    r->body = doc ? canon_json(doc) : NULL;
    json_decref(doc);
    if (!r->body) {
        snprintf(err, errlen, "the report document could not be built");
        rpt_free(r);
        return -1;
    }
    r->nseqs = in->nseqs;
    memcpy(r->seqs, in->seqs ? in->seqs : r->seqs, in->nseqs * sizeof r->seqs[0]);
    r->sealed = in->nseqs == 0; /* nothing to prove: final already */
    r->next_at = now;
    json_t *sj = json_array();
    for (size_t i = 0; i < in->nseqs; i++)
        json_array_append_new(sj, json_integer(in->seqs[i]));
    char *seqs = json_dumps(sj, JSON_COMPACT);
    json_decref(sj);
    struct store_value v[] = {STORE_INT(r->id),
                              STORE_TEXT(r->idem),
                              STORE_TEXT(in->kind),
                              in->subject ? STORE_TEXT(in->subject->name) : STORE_NULL(),
                              in->group_code > 0 ? STORE_INT(in->group_code) : STORE_NULL(),
                              STORE_TEXT(in->author),
                              STORE_TEXT(r->body),
                              STORE_TEXT(seqs),
                              STORE_INT(r->sealed),
                              STORE_INT(now),
                              STORE_INT(now)};
    int rc =
        store_exec_write(report_g.st,
                         "INSERT INTO reports (id, idem_key, kind, subject, group_code, author,"
                         " body, seqs, sealed, created_at, status, next_attempt_at)"
                         " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending', ?)",
                         v, 11, inserted, (void *)(intptr_t)r->id);
    free(seqs);
    if (rc != STORE_OK) {
        snprintf(err, errlen, "the report could not be stored: %s", store_status_name(rc));
        rpt_free(r);
        return -1;
    }
    report_g.last_id = r->id;
    log_created(in, r);
    log_notice("reports: report %" PRId64 " (%s) created by %s", r->id, in->kind, in->author);
    outbox_add(r);
    outbox_pump();
    return r->id;
}

int64_t report_create(const struct report_input *in)
{
    char err[256];
    int64_t id = report_create_ex(in, err, sizeof err);
    if (id < 0)
        log_error("reports: a %s report was not created: %s", in->kind ? in->kind : "?", err);
    return id;
}
