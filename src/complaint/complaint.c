/*
 * complaint.c - filing complaints, the open set and the deadlines (see
 * complaint.h for the life of a complaint and its invariants).
 *
 * Owns the open complaints in memory (an array; at most
 * COMPLAINT_OPEN_MAX), the filings of the last hour (for the rate limit),
 * the INSERT of a filing and the UPDATEs of the deadline job. Listings and statistics read
 * the store (complaint_query.c).
 *
 * Decisions are complaint_decide.c's; complaint_internal.h is what the
 * files share.
 *
 * Threads: loop thread only; store and network-log callbacks on the loop.
 */
#include "complaint/complaint.h"
#include "complaint/complaint_internal.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "account/account.h"
#include "config/config.h"
#include "credit/credit.h"
#include "irc/channel.h"
#include "irc/group.h"
#include "netlog/netlog.h"
#include "netlog/reader.h"
#include "netlog/schema.h"
#include "proto/utf8.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/msgid.h"

extern struct qun_config *server_config;

void (*complaint_tell_hook)(const struct account *a, const char *text);

static struct store *cp_store;
static struct complaint **cp_open; /* by id, ascending */
static size_t cp_nopen, cp_cap;

/* Filings of the last hour, oldest first (the rate limit). */
struct cp_recent {
    int64_t account_id, at;
};
static struct cp_recent *cp_recent;
static size_t cp_nrecent, cp_recent_cap;

static uint64_t cp_overdue_warnings;

/* ---- names ---- */

static const char *const cp_kinds[] = {"message", "user", "group"};
static const char *const cp_stages[] = {"group", "platform"};
static const char *const cp_decisions[] = {"dismiss", "malicious", "uphold", "escalate"};

const char *complaint_kind_name(enum complaint_kind k)
{
    return (unsigned)k < 3 ? cp_kinds[k] : "unknown";
}

const char *complaint_stage_name(enum complaint_stage s)
{
    return (unsigned)s < 2 ? cp_stages[s] : "unknown";
}

const char *complaint__decision_name(enum complaint_decision d)
{
    return (unsigned)d < 4 ? cp_decisions[d] : "unknown";
}

int complaint_decision_parse(const char *name)
{
    for (int i = 0; i < 4; i++)
        if (strcasecmp(cp_decisions[i], name) == 0)
            return i;
    return -1;
}

const char *complaint_error_code(int err)
{
    switch (err) {
    case COMPLAINT_ERR_CATEGORY:
        return "INVALID_CATEGORY";
    case COMPLAINT_ERR_TEXT:
        return "INVALID_TEXT";
    case COMPLAINT_ERR_RATE:
        return "RATE_LIMITED";
    case COMPLAINT_ERR_TARGET:
        return "UNKNOWN_TARGET";
    case COMPLAINT_ERR_NOT_MEMBER:
        return "NOT_MEMBER";
    case COMPLAINT_ERR_SELF:
        return "SELF";
    case COMPLAINT_ERR_DUPLICATE:
        return "DUPLICATE";
    case COMPLAINT_ERR_FULL:
        return "QUEUE_FULL";
    case COMPLAINT_ERR_STORE:
        return "TEMPORARILY_UNAVAILABLE";
    case COMPLAINT_ERR_NOT_FOUND:
        return "NOT_FOUND";
    case COMPLAINT_ERR_CLOSED:
        return "ALREADY_DECIDED";
    case COMPLAINT_ERR_FORBIDDEN:
        return "NOT_ALLOWED";
    case COMPLAINT_ERR_STAGE:
        return "WRONG_STAGE";
    case COMPLAINT_ERR_ARG:
        return "INVALID_PARAMS";
    default:
        return "UNKNOWN";
    }
}

/* ---- the open set ---- */

void complaint__free(struct complaint *c)
{
    if (!c)
        return;
    free(c->target);
    free(c->category);
    free(c->text);
    free(c);
}

static size_t cp_index(int64_t id)
{
    size_t lo = 0, hi = cp_nopen;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (cp_open[mid]->id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void complaint__insert(struct complaint *c)
{
    size_t i = cp_index(c->id);
    if (cp_nopen == cp_cap) {
        cp_cap = cp_cap ? cp_cap * 2 : 64;
        cp_open = xrealloc(cp_open, cp_cap * sizeof *cp_open);
    }
    memmove(cp_open + i + 1, cp_open + i, (cp_nopen - i) * sizeof *cp_open);
    cp_open[i] = c;
    cp_nopen++;
}

struct complaint *complaint__take(int64_t id)
{
    size_t i = cp_index(id);
    if (i == cp_nopen || cp_open[i]->id != id)
        return NULL;
    struct complaint *c = cp_open[i];
    memmove(cp_open + i, cp_open + i + 1, (cp_nopen - i - 1) * sizeof *cp_open);
    cp_nopen--;
    return c;
}

const struct complaint *complaint_find_open(int64_t id)
{
    size_t i = cp_index(id);
    return i < cp_nopen && cp_open[i]->id == id ? cp_open[i] : NULL;
}

size_t complaint_group_queue(int64_t code, const struct complaint **out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < cp_nopen && n < max; i++)
        if (cp_open[i]->group_code == code && cp_open[i]->stage == COMPLAINT_STAGE_GROUP)
            out[n++] = cp_open[i];
    return n;
}

/* ---- the rate limit ---- */

static void cp_recent_prune(int64_t now)
{
    size_t k = 0;
    while (k < cp_nrecent && cp_recent[k].at <= now - 3600)
        k++;
    if (k == 0)
        return;
    memmove(cp_recent, cp_recent + k, (cp_nrecent - k) * sizeof *cp_recent);
    cp_nrecent -= k;
}

static void cp_recent_add(int64_t account_id, int64_t at)
{
    if (cp_nrecent == cp_recent_cap) {
        cp_recent_cap = cp_recent_cap ? cp_recent_cap * 2 : 64;
        cp_recent = xrealloc(cp_recent, cp_recent_cap * sizeof *cp_recent);
    }
    cp_recent[cp_nrecent++] = (struct cp_recent){account_id, at};
}

/* Filings of the account in the last hour; *oldest the first of them. */
static int cp_recent_count(int64_t account_id, int64_t *oldest)
{
    int n = 0;
    for (size_t i = 0; i < cp_nrecent; i++)
        if (cp_recent[i].account_id == account_id && n++ == 0)
            *oldest = cp_recent[i].at;
    return n;
}

/* ---- telling people ---- */

void complaint__tell(const struct account *a, const char *fmt, ...)
{
    if (!a || !complaint_tell_hook)
        return;
    char text[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    complaint_tell_hook(a, text);
}

/* "the message <msgid> in #g", "the user bob", "the group #g". */
const char *complaint__describe(const struct complaint *c, char *buf, size_t len)
{
    struct channel *ch = c->group_code ? group_find_code(c->group_code) : NULL;
    const char *gname = ch ? ch->name : "a closed group";
    if (c->kind == COMPLAINT_MESSAGE)
        snprintf(buf, len, "the message %s in %s", c->target, gname);
    else if (c->kind == COMPLAINT_USER)
        snprintf(buf, len, "the user %s", c->target);
    else
        snprintf(buf, len, "the group %s", gname);
    return buf;
}

/* Each online-or-not owner and manager of the group, except skip_id. */
void complaint__managers_foreach(int64_t code, int64_t skip_id,
                                 void (*fn)(struct account *a, void *ud), void *ud)
{
    struct channel *ch = code ? group_find_code(code) : NULL;
    if (!ch)
        return;
    for (size_t i = 0; i < ch->ngm; i++) {
        if (ch->gm[i].role < ROLE_MANAGER || ch->gm[i].account_id == skip_id)
            continue;
        struct account *a = account_find_id(ch->gm[i].account_id);
        if (a)
            fn(a, ud);
    }
}

static void cp_tell_manager(struct account *a, void *ud)
{
    complaint__tell(a, "%s", (const char *)ud);
}

/* ---- the network log ---- */

/* Records one event; body is stolen. */
void complaint__log(const char *kind, const char *actor, const struct complaint *c, json_t *body)
{
    char target[48];
    snprintf(target, sizeof target, "complaint:%" PRId64, c->id);
    json_object_set_new(body, "id", json_integer(c->id));
    char *text = json_dumps(body, JSON_COMPACT);
    if (!text || netlog_record(kind, actor, target, c->group_code, c->reporter_id,
                               c->kind == COMPLAINT_MESSAGE ? c->target : NULL, text) < 0)
        log_error("complaint %" PRId64 ": the network log did not take the %s event", c->id, kind);
    free(text);
    json_decref(body);
}

/* ---- loading ---- */

static int cp_load_row(void *ud, const struct store_value *v, size_t n)
{
    if (n != 14 || cp_nopen >= COMPLAINT_OPEN_MAX)
        return 0;
    struct complaint *c = xcalloc(1, sizeof *c);
    c->id = v[0].i;
    c->reporter_id = v[1].i;
    c->kind = strcmp(v[2].p, "message") == 0 ? COMPLAINT_MESSAGE
              : strcmp(v[2].p, "user") == 0  ? COMPLAINT_USER
                                             : COMPLAINT_GROUP;
    c->target = xstrdup(v[3].p);
    c->subject_id = v[4].i;
    c->group_code = v[5].i;
    c->msg_seq = v[6].i;
    c->category = xstrdup(v[7].p);
    c->text = xstrdup(v[8].p);
    c->filed_at = v[9].i;
    c->stage = strcmp(v[10].p, "group") == 0 ? COMPLAINT_STAGE_GROUP : COMPLAINT_STAGE_PLATFORM;
    c->deadline = v[11].i;
    c->overdue_group = v[12].i != 0;
    c->overdue = v[13].i != 0;
    complaint__insert(c);
    return 0;
}

static int cp_recent_row(void *ud, const struct store_value *v, size_t n)
{
    if (n == 2)
        cp_recent_add(v[0].i, v[1].i);
    return 0;
}

static void complaint_tick(int64_t now);

int complaint_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen)
{
    static bool job_registered;
    cp_store = st;
    struct store_value since = STORE_INT(qclock_now() - 3600);
    if (store_load(st,
                   "SELECT id, reporter_id, kind, target, coalesce(subject_id, 0),"
                   " coalesce(group_code, 0), coalesce(msg_seq, 0), category, text, filed_at,"
                   " stage, deadline, overdue_group, overdue FROM complaints"
                   " WHERE state = 'open' ORDER BY id",
                   NULL, 0, cp_load_row, NULL, "complaints", err, errlen) < 0 ||
        store_load(st,
                   "SELECT reporter_id, filed_at FROM complaints WHERE filed_at > ?"
                   " ORDER BY filed_at",
                   &since, 1, cp_recent_row, NULL, "complaints", err, errlen) < 0)
        return -1;
    if (!job_registered) {
        qclock_every(complaint_tick);
        job_registered = true;
    }
    return 0;
}

struct store *complaint__store(void)
{
    return cp_store;
}

void complaint_detach_store(void)
{
    cp_store = NULL;
    for (size_t i = 0; i < cp_nopen; i++)
        complaint__free(cp_open[i]);
    free(cp_open);
    cp_open = NULL;
    cp_nopen = cp_cap = 0;
    free(cp_recent);
    cp_recent = NULL;
    cp_nrecent = cp_recent_cap = 0;
}

/* ---- filing ---- */

struct cp_file_job {
    struct complaint *c;
    struct account *reporter;
    complaint_filed_cb cb;
    void *ud;
    bool found;
    char msg_kind[16];
};

static void cp_file_end(struct cp_file_job *j, int64_t id, int err, const char *why)
{
    j->cb(j->ud, id, err, why);
    complaint__free(j->c);
    account_unref(j->reporter);
    free(j);
}

static void cp_filed(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct cp_file_job *j = ud;
    if (status != STORE_OK) {
        log_error("complaint by %s not stored: %s", j->reporter->name,
                  err ? err : store_status_name(status));
        cp_file_end(j, 0, COMPLAINT_ERR_STORE,
                    "Your complaint could not be stored right now; please try again later.");
        return;
    }
    struct complaint *c = j->c;
    j->c = NULL;
    c->id = last_id;
    if (cp_store) /* not during shutdown */
        complaint__insert(c);
    const struct account *subject = c->subject_id ? account_find_id(c->subject_id) : NULL;
    complaint__log("complaint", j->reporter->name, c,
                   json_pack("{s:s, s:s, s:s, s:s?, s:I, s:s, s:s, s:s, s:I}", "event", "filed",
                             "kind", complaint_kind_name(c->kind), "target", c->target, "subject",
                             subject ? subject->name : NULL, "seq", (json_int_t)c->msg_seq,
                             "category", c->category, "text", c->text, "stage",
                             complaint_stage_name(c->stage), "deadline", (json_int_t)c->deadline));
    if (c->stage == COMPLAINT_STAGE_GROUP) {
        char what[200], note[400];
        snprintf(note, sizeof note,
                 "New complaint %" PRId64 " (%s) about %s; decide within 24 hours: /msg ReportServ "
                 "SHOW %" PRId64,
                 c->id, c->category, complaint__describe(c, what, sizeof what), c->id);
        complaint__managers_foreach(c->group_code, c->subject_id, cp_tell_manager, note);
    }
    int64_t id = c->id;
    if (!cp_store)
        complaint__free(c);
    cp_file_end(j, id, 0, NULL);
}

static bool cp_duplicate(const struct complaint *n)
{
    for (size_t i = 0; i < cp_nopen; i++) {
        const struct complaint *c = cp_open[i];
        if (c->reporter_id == n->reporter_id && c->kind == n->kind &&
            c->group_code == n->group_code && strcmp(c->target, n->target) == 0)
            return true;
    }
    return false;
}

/* The target is known: the last checks, then the INSERT. */
static void cp_file_store(struct cp_file_job *j)
{
    struct complaint *c = j->c;
    if (c->subject_id && c->subject_id == j->reporter->id) {
        cp_file_end(j, 0, COMPLAINT_ERR_SELF, "You cannot file a complaint about yourself.");
        return;
    }
    if (cp_duplicate(c)) {
        cp_file_end(j, 0, COMPLAINT_ERR_DUPLICATE,
                    "You already have an open complaint about this; you will be told its "
                    "outcome (/msg ReportServ MINE).");
        return;
    }
    int64_t now = qclock_now();
    c->filed_at = now;
    c->stage = c->group_code ? COMPLAINT_STAGE_GROUP : COMPLAINT_STAGE_PLATFORM;
    c->deadline =
        now + (c->stage == COMPLAINT_STAGE_GROUP ? server_config->complaint_group_deadline
                                                 : server_config->complaint_platform_deadline);
    cp_recent_add(j->reporter->id, now);
    struct store_value b[] = {
        STORE_INT(c->reporter_id),
        STORE_TEXT(complaint_kind_name(c->kind)),
        STORE_TEXT(c->target),
        c->subject_id ? STORE_INT(c->subject_id) : STORE_NULL(),
        c->group_code ? STORE_INT(c->group_code) : STORE_NULL(),
        c->msg_seq ? STORE_INT(c->msg_seq) : STORE_NULL(),
        STORE_TEXT(c->category),
        STORE_TEXT(c->text),
        STORE_INT(c->filed_at),
        STORE_TEXT(complaint_stage_name(c->stage)),
        STORE_INT(c->deadline),
    };
    if (!cp_store ||
        store_exec_write(
            cp_store,
            "INSERT INTO complaints (reporter_id, kind, target, subject_id, group_code,"
            " msg_seq, category, text, filed_at, stage, deadline)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            b, sizeof b / sizeof b[0], cp_filed, j) != STORE_OK)
        cp_file_end(j, 0, COMPLAINT_ERR_STORE,
                    "Your complaint could not be stored right now; please try again later.");
}

static int cp_msg_row(void *ud, const struct store_value *v, size_t n)
{
    struct cp_file_job *j = ud;
    if (n != 4)
        return 1;
    j->found = true;
    j->c->msg_seq = v[0].i;
    snprintf(j->msg_kind, sizeof j->msg_kind, "%s",
             v[1].type == STORE_TYPE_TEXT ? (const char *)v[1].p : "");
    j->c->group_code = v[2].type == STORE_TYPE_INT ? v[2].i : 0;
    j->c->subject_id = v[3].type == STORE_TYPE_INT ? v[3].i : 0;
    return 1;
}

static void cp_msg_done(void *ud, int status, const char *err)
{
    struct cp_file_job *j = ud;
    char why[300];
    if (status != STORE_OK) {
        cp_file_end(j, 0, COMPLAINT_ERR_STORE,
                    "The network log cannot be searched right now; please try again later.");
        return;
    }
    if (!j->found) {
        snprintf(why, sizeof why,
                 "There is no message, user or group %.80s: give the msgid of a message in one "
                 "of your groups, a nick or account, or a group's #name or code.",
                 j->c->target);
        cp_file_end(j, 0, COMPLAINT_ERR_TARGET, why);
        return;
    }
    struct channel *ch = j->c->group_code ? group_find_code(j->c->group_code) : NULL;
    if (strcmp(j->msg_kind, "dm") == 0 || !j->c->group_code) {
        cp_file_end(j, 0, COMPLAINT_ERR_TARGET,
                    "That is a direct message, not a group message: report its sender as a user "
                    "instead (REPORT <nick> <category> :<text>).");
        return;
    }
    if (!ch || !group_member_find(ch, j->reporter->id)) {
        cp_file_end(j, 0, COMPLAINT_ERR_NOT_MEMBER,
                    "You can report only messages of groups you are a member of.");
        return;
    }
    cp_file_store(j);
}

void complaint_file(const struct complaint_filing *f, complaint_filed_cb cb, void *ud)
{
    const struct qun_config *cfg = server_config;
    char why[300];
    const char *cat = NULL;
    for (char **p = cfg->complaint_categories; p && *p && !cat; p++)
        if (strcasecmp(*p, f->category) == 0)
            cat = *p;
    if (!f->reporter || f->reporter->id <= 0) {
        cb(ud, 0, COMPLAINT_ERR_FORBIDDEN, "Log in first to file a complaint.");
        return;
    }
    if (!cat) {
        size_t n =
            (size_t)snprintf(why, sizeof why, "Unknown category %.40s; use one of:", f->category);
        for (char **p = cfg->complaint_categories; *p && n < sizeof why; p++)
            n += (size_t)snprintf(why + n, sizeof why - n, " %s%s", *p, p[1] ? "," : ".");
        cb(ud, 0, COMPLAINT_ERR_CATEGORY, why);
        return;
    }
    size_t tlen = strlen(f->text);
    if (tlen == 0 || !utf8_valid_text(f->text, tlen)) {
        cb(ud, 0, COMPLAINT_ERR_TEXT, "Say in a few words what is wrong (the text is empty).");
        return;
    }
    if (tlen > (size_t)cfg->complaint_text_max) {
        snprintf(why, sizeof why, "The text is too long: at most %d bytes, yours has %zu.",
                 cfg->complaint_text_max, tlen);
        cb(ud, 0, COMPLAINT_ERR_TEXT, why);
        return;
    }
    if (!f->target || !*f->target || strlen(f->target) > COMPLAINT_TARGET_MAX) {
        cb(ud, 0, COMPLAINT_ERR_TARGET, "Name a message (msgid), a user or a group to report.");
        return;
    }
    int64_t now = qclock_now(), oldest = now;
    cp_recent_prune(now);
    if (cp_recent_count(f->reporter->id, &oldest) >= cfg->complaint_rate_per_hour) {
        snprintf(why, sizeof why,
                 "You have filed %d complaints in the last hour, the most allowed; try again in "
                 "%" PRId64 " minutes.",
                 cfg->complaint_rate_per_hour, (oldest + 3600 - now + 59) / 60);
        cb(ud, 0, COMPLAINT_ERR_RATE, why);
        return;
    }
    if (cp_nopen >= COMPLAINT_OPEN_MAX) {
        cb(ud, 0, COMPLAINT_ERR_FULL,
           "The complaint queue is full right now; please try again later.");
        return;
    }
    struct cp_file_job *j = xcalloc(1, sizeof *j);
    j->reporter = f->reporter;
    account_ref(f->reporter);
    j->cb = cb;
    j->ud = ud;
    j->c = xcalloc(1, sizeof *j->c);
    j->c->reporter_id = f->reporter->id;
    j->c->kind = f->kind;
    j->c->target = xstrdup(f->target);
    j->c->category = xstrdup(cat);
    j->c->text = xstrdup(f->text);
    if (f->kind == COMPLAINT_USER) {
        j->c->subject_id = f->subject ? f->subject->id : 0;
    } else if (f->kind == COMPLAINT_GROUP) {
        j->c->group_code = f->group_code;
    } else {
        struct store_value b[2] = {STORE_TEXT(f->target), STORE_INT(msgid_seq(f->target))};
        if (netlog_query(NETLOG_SQL_FIND_MESSAGE, b, 2, cp_msg_row, cp_msg_done, j) != STORE_OK)
            cp_file_end(j, 0, COMPLAINT_ERR_STORE,
                        "The network log cannot be searched right now; please try again later.");
        return;
    }
    cp_file_store(j);
}

/* ---- deadlines ---- */

static void cp_write(const char *sql, const struct store_value *b, size_t n)
{
    if (cp_store && store_exec_write(cp_store, sql, b, n, NULL, NULL) != STORE_OK)
        log_error("complaints: the store refused an update");
}

static void cp_to_platform(struct complaint *c, int64_t now)
{
    c->overdue_group = true;
    c->stage = COMPLAINT_STAGE_PLATFORM;
    c->deadline = now + server_config->complaint_platform_deadline;
    struct store_value b[] = {STORE_INT(c->deadline), STORE_INT(c->id)};
    cp_write("UPDATE complaints SET stage = 'platform', deadline = ?, overdue_group = 1"
             " WHERE id = ? AND state = 'open'",
             b, 2);
    complaint__log("complaint", "system", c,
                   json_pack("{s:s, s:s, s:s, s:I}", "event", "overdue", "stage", "group", "to",
                             "platform", "deadline", (json_int_t)c->deadline));
    char what[200], note[400];
    snprintf(note, sizeof note,
             "Complaint %" PRId64 " about %s was not handled within the group's deadline; it has "
             "gone to the platform moderators.",
             c->id, complaint__describe(c, what, sizeof what));
    complaint__managers_foreach(c->group_code, c->subject_id, cp_tell_manager, note);
    log_info("complaint %" PRId64 " passed the group deadline: now with the platform moderators",
             c->id);
}

static void cp_platform_overdue(struct complaint *c)
{
    c->overdue = true;
    cp_overdue_warnings++;
    struct store_value b[] = {STORE_INT(c->id)};
    cp_write("UPDATE complaints SET overdue = 1 WHERE id = ? AND state = 'open'", b, 1);
    complaint__log("complaint", "system", c,
                   json_pack("{s:s, s:s}", "event", "overdue", "stage", "platform"));
    log_warn("complaint %" PRId64 " is past the platform moderators' deadline (filed %" PRId64
             ", category %s): decide it with qunctl complaints decide",
             c->id, c->filed_at, c->category);
}

static void complaint_tick(int64_t now)
{
    if (!cp_store)
        return;
    for (size_t i = 0; i < cp_nopen; i++) {
        struct complaint *c = cp_open[i];
        if (c->deadline > now)
            continue;
        if (c->stage == COMPLAINT_STAGE_GROUP)
            cp_to_platform(c, now);
        else if (!c->overdue)
            cp_platform_overdue(c);
    }
}

uint64_t complaint_overdue_warnings(void)
{
    return cp_overdue_warnings;
}

void complaint_open_counts(struct complaint_open_counts *out)
{
    memset(out, 0, sizeof *out);
    for (size_t i = 0; i < cp_nopen; i++) {
        const struct complaint *c = cp_open[i];
        if (c->stage == COMPLAINT_STAGE_GROUP)
            out->group++;
        else
            out->platform++;
        if (c->overdue)
            out->overdue++;
    }
}
