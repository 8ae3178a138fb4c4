/*
 * sanction.c - graded sanctions on groups and people (SPEC §7, rules
 * art. 11): the decided-violation path (sanction_apply), group states and
 * their escalation, person sanctions, automatic lifting, the gates, and
 * telling subjects (see sanction.h).
 *
 * Owns: the active rows of the sanctions table (in memory, written
 * through), the group violations within the counting window, and the
 * person sanctions lifted while their subject was offline (told at the
 * next login, then marked told).
 *
 * Invariants:
 *   1. sanctions[] holds exactly the rows with lifted_at NULL, oldest
 *      first; a row is lifted once (by a moderator or by the clock job
 *      when ends_at has passed) and never deleted.
 *   2. A group's state is derived from its active rows (and the group
 *      blacklist), never stored apart from them.
 *   3. Every imposition and lifting is one network-log event of kind
 *      "sanction" and one notice to the subject (NOTICE from ChanServ;
 *      offline subjects at their next login).
 *   4. A change of someone's management rights re-shows their role
 *      prefixes at once (group_refresh_roles), so raw IRC commands that
 *      check channel-operator status follow the sanction too.
 *
 * Threads: loop thread only.
 */
#include "sanction/sanction.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/group.h"
#include "irc/send.h"
#include "irc/service.h"
#include "netlog/netlog.h"
#include "report/report.h"
#include "sanction/sanction_int.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

extern struct qun_config *server_config;

#define SANCTION_UNTOLD_MAX    10000 /* lifted-while-offline notices kept */
#define SANCTION_VIOLATION_MAX 100000

struct store *sanction_store;

static struct sanction *sanctions; /* active, oldest first */
static size_t nsanctions, sanctions_cap;
static int64_t sanction_next_id = 1;

struct violation {
    int64_t code, at;
};
static struct violation *violations;
static size_t nviolations, violations_cap;

/* A person sanction lifted while its subject was offline. */
struct untold {
    int64_t id, account_id;
    enum sanction_kind kind;
};
static struct untold *untold;
static size_t nuntold, untold_cap;

static const char *last_refusal_code = "POSTING_SUSPENDED";

#define sanction_tell(a, ...) service_tell(&chanserv_service, (a), __VA_ARGS__)

/* ---- names ---- */

static const char *const kind_names[SANCTION_NKINDS] = {
    [SANCTION_WARNING] = "warning",
    [SANCTION_SUSPENDED] = "suspended",
    [SANCTION_CLOSED] = "closed",
    [SANCTION_MANAGE_SUSPENDED] = "manage-suspended",
    [SANCTION_MANAGE_REVOKED] = "manage-revoked",
    [SANCTION_CREATE_REVOKED] = "create-revoked",
    [SANCTION_POST_SUSPENDED] = "post-suspended",
    [SANCTION_BLACKLIST_REVIEW] = "blacklist-review",
};

const char *sanction_kind_name(enum sanction_kind k)
{
    return (unsigned)k < SANCTION_NKINDS ? kind_names[k] : "unknown";
}

int sanction_kind_parse(const char *name)
{
    for (int i = 0; name && i < SANCTION_NKINDS; i++)
        if (strcasecmp(kind_names[i], name) == 0)
            return i;
    return -1;
}

bool sanction_kind_is_group(enum sanction_kind k)
{
    return k == SANCTION_WARNING || k == SANCTION_SUSPENDED || k == SANCTION_CLOSED;
}

const char *group_state_name(enum group_state s)
{
    switch (s) {
    case GROUP_WARNED:
        return "warned";
    case GROUP_SUSPENDED:
        return "suspended";
    case GROUP_CLOSED:
        return "closed";
    default:
        return "normal";
    }
}

const char *sanction_refusal_code(void)
{
    return last_refusal_code;
}

/* ---- shared helpers (sanction_int.h) ---- */

void sanction_write(const char *sql, const struct store_value *b, size_t n)
{
    if (!sanction_store || store_exec_write(sanction_store, sql, b, n, NULL, NULL) != STORE_OK)
        log_error("sanctions: a change could not be queued for the store");
}

const char *sanction_body(const char *k, ...)
{
    static char buf[2048];
    json_t *o = json_object();
    va_list ap;
    va_start(ap, k);
    for (const char *key = k; key; key = va_arg(ap, const char *)) {
        const char *v = va_arg(ap, const char *);
        if (v)
            json_object_set_new(o, key, json_string(v));
    }
    va_end(ap);
    char *s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    snprintf(buf, sizeof buf, "%s", s ? s : "{}");
    free(s);
    return buf;
}

const char *sanction_time(int64_t t)
{
    static char buf[2][40];
    static int which;
    which ^= 1;
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf[which], sizeof buf[which], "%Y-%m-%d %H:%M UTC", &tm);
    return buf[which];
}

static char *text_dup(const struct store_value *v)
{
    return v->type == STORE_TYPE_TEXT ? xstrdup(v->p) : NULL;
}

/* ---- load ---- */

static struct sanction *sanction_push(void)
{
    if (nsanctions == sanctions_cap) {
        sanctions_cap = sanctions_cap ? sanctions_cap * 2 : 16;
        sanctions = xrealloc(sanctions, sanctions_cap * sizeof *sanctions);
    }
    struct sanction *s = &sanctions[nsanctions++];
    memset(s, 0, sizeof *s);
    return s;
}

static void violation_push(int64_t code, int64_t at)
{
    if (nviolations >= SANCTION_VIOLATION_MAX) { /* drop the oldest */
        memmove(violations, violations + 1, (nviolations - 1) * sizeof *violations);
        nviolations--;
    }
    if (nviolations == violations_cap) {
        violations_cap = violations_cap ? violations_cap * 2 : 16;
        violations = xrealloc(violations, violations_cap * sizeof *violations);
    }
    violations[nviolations++] = (struct violation){code, at};
}

static void untold_push(int64_t id, int64_t account_id, enum sanction_kind kind)
{
    if (nuntold >= SANCTION_UNTOLD_MAX) {
        memmove(untold, untold + 1, (nuntold - 1) * sizeof *untold);
        nuntold--;
    }
    if (nuntold == untold_cap) {
        untold_cap = untold_cap ? untold_cap * 2 : 8;
        untold = xrealloc(untold, untold_cap * sizeof *untold);
    }
    untold[nuntold++] = (struct untold){id, account_id, kind};
}

static int load_max_id(void *ud, const struct store_value *c, size_t n)
{
    if (n == 1 && c[0].type == STORE_TYPE_INT && c[0].i >= sanction_next_id)
        sanction_next_id = c[0].i + 1;
    return 0;
}

static int load_sanction(void *ud, const struct store_value *c, size_t n)
{
    if (n != 9)
        return 0;
    int kind = sanction_kind_parse(c[1].type == STORE_TYPE_TEXT ? c[1].p : NULL);
    if (kind < 0)
        return 0;
    struct sanction *s = sanction_push();
    s->id = c[0].i;
    s->kind = (enum sanction_kind)kind;
    s->subject = c[2].i;
    s->reason = text_dup(&c[3]);
    s->evidence = text_dup(&c[4]);
    s->author = text_dup(&c[5]);
    s->started_at = c[6].i;
    s->ends_at = c[7].type == STORE_TYPE_INT ? c[7].i : 0;
    s->credit_event = c[8].type == STORE_TYPE_INT ? c[8].i : 0;
    if (!s->reason)
        s->reason = xstrdup("");
    if (!s->author)
        s->author = xstrdup("system");
    return 0;
}

static int load_untold(void *ud, const struct store_value *c, size_t n)
{
    int kind = n == 3 && c[2].type == STORE_TYPE_TEXT ? sanction_kind_parse(c[2].p) : -1;
    if (kind >= 0)
        untold_push(c[0].i, c[1].i, (enum sanction_kind)kind);
    return 0;
}

static int load_violation(void *ud, const struct store_value *c, size_t n)
{
    if (n == 2)
        violation_push(c[0].i, c[1].i);
    return 0;
}

static void sanction_tick(int64_t now);

int sanction_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen)
{
    sanction_store = st;
    if (store_load(sanction_store, "SELECT max(id) FROM sanctions", NULL, 0, load_max_id, NULL,
                   "sanctions", err, errlen) < 0 ||
        store_load(sanction_store,
                   "SELECT id, kind, subject_id, reason, evidence, author, started_at,"
                   " ends_at, credit_event FROM sanctions WHERE lifted_at IS NULL"
                   " ORDER BY id",
                   NULL, 0, load_sanction, NULL, "sanctions", err, errlen) < 0 ||
        store_load(sanction_store,
                   "SELECT id, subject_id, kind FROM sanctions WHERE lifted_at IS NOT NULL"
                   " AND told = 0 AND subject_kind = 'account' ORDER BY id",
                   NULL, 0, load_untold, NULL, "sanctions", err, errlen) < 0 ||
        store_load(sanction_store, "SELECT code, at FROM group_violations ORDER BY id", NULL, 0,
                   load_violation, NULL, "group violations", err, errlen) < 0 ||
        blacklist_load(err, errlen) < 0 || emergency_load(err, errlen) < 0 ||
        sanction_appeal_load(err, errlen) < 0)
        return -1;
    static bool registered;
    if (!registered) {
        registered = true;
        qclock_every(sanction_tick);
    }
    log_info("sanctions: %zu active, %zu violations counted", nsanctions, nviolations);
    return 0;
}

void sanction_detach_store(void)
{
    sanction_store = NULL;
}

/* ---- queries ---- */

const struct sanction *sanction_find(int64_t id)
{
    for (size_t i = 0; i < nsanctions; i++)
        if (sanctions[i].id == id)
            return &sanctions[i];
    return NULL;
}

void sanction_foreach(void (*fn)(const struct sanction *s, void *ud), void *ud)
{
    for (size_t i = 0; i < nsanctions; i++)
        fn(&sanctions[i], ud);
}

/* The active sanction of kind on subject (the one ending last), or NULL. */
static const struct sanction *sanction_active(enum sanction_kind kind, int64_t subject)
{
    const struct sanction *best = NULL;
    for (size_t i = 0; i < nsanctions; i++) {
        const struct sanction *s = &sanctions[i];
        if (s->kind != kind || s->subject != subject)
            continue;
        if (!best || s->ends_at == 0 || (best->ends_at && s->ends_at > best->ends_at))
            best = s;
    }
    return best;
}

int sanction_group_violations(int64_t code)
{
    int64_t since = qclock_now() - (int64_t)server_config->sanction_window_days * 86400;
    int n = 0;
    for (size_t i = 0; i < nviolations; i++)
        n += violations[i].code == code && violations[i].at >= since;
    return n;
}

enum group_state sanction_group_state(int64_t code)
{
    if (code <= 0)
        return GROUP_NORMAL;
    if (blacklist_has_group(code) || sanction_active(SANCTION_CLOSED, code))
        return GROUP_CLOSED;
    if (sanction_active(SANCTION_SUSPENDED, code))
        return GROUP_SUSPENDED;
    if (sanction_active(SANCTION_WARNING, code))
        return GROUP_WARNED;
    return GROUP_NORMAL;
}

/* ---- telling ---- */

static const char *until_text(int64_t ends_at)
{
    static char buf[64];
    if (ends_at)
        snprintf(buf, sizeof buf, "until %s", sanction_time(ends_at));
    else
        snprintf(buf, sizeof buf, "until a moderator lifts it");
    return buf;
}

static const char *appeal_text(const struct sanction *s)
{
    static char buf[240];
    if (s->credit_event > 0)
        snprintf(buf, sizeof buf,
                 "To appeal: /msg ChanServ APPEAL %lld <why>. (Its credit event alone: /msg "
                 "CreditServ APPEAL %lld <why>.)",
                 (long long)s->id, (long long)s->credit_event);
    else
        snprintf(buf, sizeof buf, "To appeal: /msg ChanServ APPEAL %lld <why>.", (long long)s->id);
    return buf;
}

/* What s means, as a sentence fragment. */
static const char *what_text(const struct sanction *s)
{
    static char buf[300];
    const struct channel *ch = sanction_kind_is_group(s->kind) ? group_find_code(s->subject) : NULL;
    char gname[220];
    if (ch)
        snprintf(gname, sizeof gname, "%s (group %lld)", ch->name, (long long)s->subject);
    else
        snprintf(gname, sizeof gname, "group %lld", (long long)s->subject);
    switch (s->kind) {
    case SANCTION_WARNING:
        snprintf(buf, sizeof buf,
                 "%s is warned: its owner and managers must rectify its problems within %d hours "
                 "or its posting will be suspended at the next violation",
                 gname, server_config->sanction_warn_hours);
        break;
    case SANCTION_SUSPENDED:
        snprintf(buf, sizeof buf, "posting in %s is suspended", gname);
        break;
    case SANCTION_CLOSED:
        snprintf(buf, sizeof buf, "%s is closed: its members are removed, its code and log kept",
                 gname);
        break;
    case SANCTION_MANAGE_SUSPENDED:
        snprintf(buf, sizeof buf, "your rights to manage groups are suspended");
        break;
    case SANCTION_MANAGE_REVOKED:
        snprintf(buf, sizeof buf, "your rights to manage groups are revoked");
        break;
    case SANCTION_CREATE_REVOKED:
        snprintf(buf, sizeof buf, "you may no longer create groups");
        break;
    case SANCTION_POST_SUSPENDED:
        snprintf(buf, sizeof buf, "you may not post in any group");
        break;
    default:
        snprintf(buf, sizeof buf, "your case is under review for the blacklist");
        break;
    }
    return buf;
}

static void tell_imposed(const struct account *a, const struct sanction *s)
{
    sanction_tell(a, "Sanction %lld: %s, %s. Reason: %s. %s", (long long)s->id, what_text(s),
                  s->ends_at ? until_text(s->ends_at) : "until lifted", s->reason, appeal_text(s));
}

/* The owner and managers of a live group. */
static void tell_group(int64_t code, const struct sanction *s, bool lifted, const char *by)
{
    struct channel *ch = group_find_code(code);
    if (!ch)
        return;
    for (size_t i = 0; i < ch->ngm; i++) {
        if (ch->gm[i].role < ROLE_MANAGER)
            continue;
        const struct account *a = account_find_id(ch->gm[i].account_id);
        if (!a)
            continue;
        if (lifted)
            sanction_tell(a, "Sanction %lld on %s is lifted (%s): the group is %s again.",
                          (long long)s->id, ch->name, by,
                          group_state_name(sanction_group_state(code)));
        else
            tell_imposed(a, s);
    }
}

static void mark_told(int64_t id)
{
    struct store_value b[] = {STORE_INT(id)};
    sanction_write("UPDATE sanctions SET told = 1 WHERE id = ?", b, 1);
}

/* Tells the subject of a person sanction now, or marks it for the next
 * login. */
static void tell_person(const struct sanction *s, bool lifted, const char *by)
{
    struct account *a = account_find_id(s->subject);
    if (!a)
        return;
    if (s->kind == SANCTION_BLACKLIST_REVIEW)
        return; /* an internal queue entry: the outcome is what is told */
    if (!a->online) {
        if (lifted)
            untold_push(s->id, a->id, s->kind);
        return;
    }
    if (lifted) {
        sanction_tell(a, "Sanction %lld is lifted (%s): %s no longer applies.", (long long)s->id,
                      by, sanction_kind_name(s->kind));
    } else {
        tell_imposed(a, s);
    }
    mark_told(s->id);
}

/* ---- imposing and lifting ---- */

static void roles_changed(const struct sanction *s)
{
    if (s->kind == SANCTION_MANAGE_SUSPENDED || s->kind == SANCTION_MANAGE_REVOKED) {
        struct account *a = account_find_id(s->subject);
        if (a)
            group_refresh_roles(a);
    }
}

static const char *subject_name(enum sanction_kind kind, int64_t subject, char *buf, size_t len)
{
    if (sanction_kind_is_group(kind)) {
        const struct channel *ch = group_find_code(subject);
        snprintf(buf, len, "%s", ch ? ch->name : "");
    } else {
        const struct account *a = account_find_id(subject);
        snprintf(buf, len, "%s", a ? a->name : "");
    }
    return buf;
}

/* Writes, logs and tells one new sanction; *seq gets its network-log
 * record (may be NULL). Returns the in-memory row (valid until the next
 * change of the array). */
static struct sanction *impose(enum sanction_kind kind, int64_t subject, int64_t seconds,
                               const char *reason, const char *evidence, const char *author,
                               int64_t credit_event, bool tell, int64_t *seq)
{
    int64_t now = qclock_now();
    struct sanction *s = sanction_push();
    s->id = sanction_next_id++;
    s->kind = kind;
    s->subject = subject;
    s->reason = xstrdup(reason && *reason ? reason : "no reason given");
    s->evidence = evidence ? xstrdup(evidence) : NULL;
    s->author = xstrdup(author ? author : "system");
    s->started_at = now;
    s->ends_at = seconds > 0 ? now + seconds : 0;
    s->credit_event = credit_event;
    bool group = sanction_kind_is_group(kind);
    struct store_value b[] = {STORE_INT(s->id),
                              STORE_TEXT(group ? "group" : "account"),
                              STORE_INT(subject),
                              STORE_TEXT(sanction_kind_name(kind)),
                              STORE_TEXT(s->reason),
                              s->evidence ? STORE_TEXT(s->evidence) : STORE_NULL(),
                              STORE_TEXT(s->author),
                              STORE_INT(now),
                              s->ends_at ? STORE_INT(s->ends_at) : STORE_NULL(),
                              credit_event ? STORE_INT(credit_event) : STORE_NULL()};
    sanction_write("INSERT INTO sanctions (id, subject_kind, subject_id, kind, reason, evidence,"
                   " author, started_at, ends_at, credit_event) VALUES (?, ?, ?, ?, ?, ?, ?, ?,"
                   " ?, ?)",
                   b, 10);
    char idtext[24], ends[24], name[220];
    snprintf(idtext, sizeof idtext, "%lld", (long long)s->id);
    snprintf(ends, sizeof ends, "%lld", (long long)s->ends_at);
    subject_name(kind, subject, name, sizeof name);
    int64_t rec = netlog_record(
        "sanction", s->author, name, group ? subject : 0, group ? 0 : subject, NULL,
        sanction_body("action", "impose", "id", idtext, "kind", sanction_kind_name(kind), "subject",
                      group ? "group" : "account", "reason", s->reason, "evidence", s->evidence,
                      "ends_at", s->ends_at ? ends : NULL, NULL));
    if (seq)
        *seq = rec;
    log_info("sanctions: %s on %s %s (sanction %lld) by %s", sanction_kind_name(kind),
             group ? "group" : "account", name, (long long)s->id, s->author);
    roles_changed(s);
    if (tell) {
        if (group)
            tell_group(subject, s, false, NULL);
        else
            tell_person(s, false, NULL);
    }
    return s;
}

static void lift_at(size_t i, const char *by, const char *why)
{
    struct sanction s = sanctions[i];
    memmove(&sanctions[i], &sanctions[i + 1], (nsanctions - i - 1) * sizeof *sanctions);
    nsanctions--;
    int64_t now = qclock_now();
    struct store_value b[] = {STORE_INT(now), STORE_TEXT(by), STORE_INT(s.id)};
    sanction_write("UPDATE sanctions SET lifted_at = ?, lifted_by = ?, told = 0 WHERE id = ?", b,
                   3);
    bool group = sanction_kind_is_group(s.kind);
    char idtext[24], name[220];
    snprintf(idtext, sizeof idtext, "%lld", (long long)s.id);
    subject_name(s.kind, s.subject, name, sizeof name);
    netlog_record("sanction", by, name, group ? s.subject : 0, group ? 0 : s.subject, NULL,
                  sanction_body("action", "lift", "id", idtext, "kind", sanction_kind_name(s.kind),
                                "subject", group ? "group" : "account", "why", why, NULL));
    log_info("sanctions: sanction %lld (%s) lifted by %s", (long long)s.id,
             sanction_kind_name(s.kind), by);
    roles_changed(&s);
    if (group)
        tell_group(s.subject, &s, true, why);
    else
        tell_person(&s, true, why);
    free(s.reason);
    free(s.evidence);
    free(s.author);
}

int sanction_lift(int64_t id, const char *by, char *why, size_t len)
{
    char text[160];
    snprintf(text, sizeof text, "lifted by %s", by);
    return sanction_lift_because(id, by, text, why, len);
}

bool sanction_existed(int64_t id)
{
    return id > 0 && id < sanction_next_id;
}

int sanction_lift_because(int64_t id, const char *by, const char *because, char *why, size_t len)
{
    for (size_t i = 0; i < nsanctions; i++)
        if (sanctions[i].id == id) {
            if (sanctions[i].kind == SANCTION_CLOSED) {
                snprintf(why, len,
                         "Sanction %lld closed its group, which has ended; a closure cannot be "
                         "lifted (the code is never reused).",
                         (long long)id);
                return -1;
            }
            lift_at(i, by, because);
            return 0;
        }
    snprintf(why, len, "There is no active sanction %lld.", (long long)id);
    return -1;
}

/* The clock job: timed sanctions whose time has ended lift themselves;
 * violations leave the window. */
static void sanction_tick(int64_t now)
{
    for (size_t i = 0; i < nsanctions;) {
        if (sanctions[i].ends_at && sanctions[i].ends_at <= now)
            lift_at(i, "system", "its time ended");
        else
            i++;
    }
    int64_t since = now - (int64_t)server_config->sanction_window_days * 86400;
    size_t k = 0;
    for (size_t i = 0; i < nviolations; i++)
        if (violations[i].at >= since)
            violations[k++] = violations[i];
    nviolations = k;
}

/* ---- moderator actions ---- */

static int64_t default_seconds(enum sanction_kind kind)
{
    switch (kind) {
    case SANCTION_MANAGE_SUSPENDED:
        return (int64_t)server_config->sanction_manage_days * 86400;
    case SANCTION_POST_SUSPENDED:
        return (int64_t)server_config->sanction_post_days * 86400;
    case SANCTION_SUSPENDED:
        return (int64_t)server_config->sanction_suspend_days * 86400;
    case SANCTION_WARNING:
        return (int64_t)server_config->sanction_warn_hours * 3600;
    default:
        return 0;
    }
}

int64_t sanction_person(struct account *a, enum sanction_kind kind, int64_t seconds,
                        const char *reason, const char *evidence, const char *author, char *why,
                        size_t len)
{
    if (!a || a->id <= 0) {
        snprintf(why, len, "There is no such account.");
        return -1;
    }
    if (sanction_kind_is_group(kind) || kind == SANCTION_BLACKLIST_REVIEW ||
        (unsigned)kind >= SANCTION_NKINDS) {
        snprintf(why, len,
                 "A person sanction is one of manage-suspended, manage-revoked, create-revoked, "
                 "post-suspended.");
        return -1;
    }
    bool timed = kind == SANCTION_MANAGE_SUSPENDED || kind == SANCTION_POST_SUSPENDED;
    if (!timed)
        seconds = 0;
    else if (seconds <= 0)
        seconds = default_seconds(kind);
    const struct sanction *old = sanction_active(kind, a->id);
    if (old && (old->ends_at == 0 || (seconds && old->ends_at >= qclock_now() + seconds))) {
        snprintf(why, len, "%s already has sanction %lld (%s, %s).", a->name, (long long)old->id,
                 sanction_kind_name(kind), until_text(old->ends_at));
        return -1;
    }
    return impose(kind, a->id, seconds, reason, evidence, author, 0, true, NULL)->id;
}

/* Removes every online member of a dissolving group (ChanServ KICK). */
static void kick_all(struct channel *ch, const char *reason)
{
    size_t n = ch->nmembers;
    if (n == 0) {
        channel_destroy(ch);
        return;
    }
    struct client **who = xcalloc(n, sizeof *who);
    size_t k = 0;
    for (size_t i = 0; i < ch->members_cap && k < n; i++)
        if (member_used(&ch->members[i]))
            who[k++] = ch->members[i].client;
    for (size_t i = 0; i < k; i++) {
        struct irc_event ev;
        event_init(&ev, service_source(&chanserv_service), "KICK", true);
        event_param(&ev, ch->name);
        event_param(&ev, who[i]->nick);
        event_param(&ev, reason);
        ev.trailing = true;
        send_to_channel(ch, &ev, NULL, 0, 0);
        if (channel_remove_member(ch, who[i]))
            break; /* the last one destroyed ch */
    }
    free(who);
}

int64_t sanction_close_group(int64_t code, const char *reason, const char *evidence,
                             const char *author, bool report, char *why, size_t len)
{
    struct channel *ch = group_find_code(code);
    if (!ch) {
        snprintf(why, len, "There is no live group %lld (it may already be closed or dissolved).",
                 (long long)code);
        return -1;
    }
    int64_t seq = -1;
    struct sanction *s = impose(SANCTION_CLOSED, code, 0, reason, evidence, author, 0, true, &seq);
    int64_t id = s->id;
    if (report) {
        int64_t seqs[1] = {seq};
        struct report_input in = {.kind = "closure",
                                  .subject = account_find_id(ch->owner_id),
                                  .group_code = code,
                                  .severity = NULL,
                                  .reason = s->reason,
                                  .measures = "The group was closed: its members were removed; "
                                              "its name, code and log are kept.",
                                  .evidence = evidence,
                                  .seqs = seq > 0 ? seqs : NULL,
                                  .nseqs = seq > 0 ? 1 : 0,
                                  .author = author};
        if (report_create(&in) < 0)
            log_error("sanctions: the closure report of group %lld could not be queued",
                      (long long)code);
    }
    char kick_reason[400];
    snprintf(kick_reason, sizeof kick_reason,
             "The group was closed by the platform (sanction %lld): %s", (long long)id, s->reason);
    group_dissolve(ch); /* transient now: it goes with its last member */
    kick_all(ch, kick_reason);
    return id;
}

int64_t sanction_group_close(int64_t code, const char *reason, const char *author, char *why,
                             size_t len)
{
    return sanction_close_group(code, reason, NULL, author, true, why, len);
}

/* ---- sanction_apply ---- */

struct decision {
    struct account *a;
    int64_t ids[4];
    size_t nids;
    enum credit_severity severity;
    char *rule;
};

static void decision_free(struct decision *d)
{
    account_unref(d->a);
    free(d->rule);
    free(d);
}

/* Tells the subject the deduction and its measures, with the event id. */
static void decision_tell(struct decision *d, int64_t event_id)
{
    for (size_t i = 0; i < d->nids; i++)
        for (size_t k = 0; k < nsanctions; k++)
            if (sanctions[k].id == d->ids[i] && event_id > 0) {
                sanctions[k].credit_event = event_id;
                struct store_value b[] = {STORE_INT(event_id), STORE_INT(d->ids[i])};
                sanction_write("UPDATE sanctions SET credit_event = ? WHERE id = ?", b, 2);
            }
    if (event_id > 0)
        sanction_tell(d->a,
                      "Your credit was lowered by %d (a %s violation: %s); score now %d. To "
                      "appeal: /msg CreditServ APPEAL %lld.",
                      -credit_severity_delta(d->severity), credit_severity_name(d->severity),
                      d->rule ? d->rule : credit_severity_name(d->severity), credit_score(d->a),
                      (long long)event_id);
    for (size_t i = 0; i < d->nids; i++) {
        const struct sanction *s = sanction_find(d->ids[i]);
        if (s && !sanction_kind_is_group(s->kind))
            tell_person(s, false, NULL);
    }
}

/* The credit event is committed: tell the subject its id (to appeal). */
static void penalized(void *ud, int status)
{
    struct decision *d = ud;
    decision_tell(d, status == 0 ? credit_current_event() : 0);
    decision_free(d);
}

/* A violation counted against a group, and its escalation. */
static void group_violation(const struct sanction_decision *in, int64_t *seqs, size_t *nseqs,
                            char *measures, size_t mlen)
{
    int64_t code = in->group_code, now = qclock_now();
    const char *sev = credit_severity_name(in->severity);
    struct store_value b[] = {STORE_INT(code),
                              STORE_TEXT(sev),
                              in->rule ? STORE_TEXT(in->rule) : STORE_NULL(),
                              in->evidence ? STORE_TEXT(in->evidence) : STORE_NULL(),
                              STORE_TEXT(in->author ? in->author : "system"),
                              STORE_INT(now)};
    sanction_write("INSERT INTO group_violations (code, severity, rule, evidence, author, at)"
                   " VALUES (?, ?, ?, ?, ?, ?)",
                   b, 6);
    violation_push(code, now);
    int count = sanction_group_violations(code);
    enum group_state state = sanction_group_state(code);
    char ctext[16];
    snprintf(ctext, sizeof ctext, "%d", count);
    const struct channel *ch = group_find_code(code);
    int64_t seq = netlog_record(
        "sanction", in->author ? in->author : "system", ch ? ch->name : "", code, 0, NULL,
        sanction_body("action", "violation", "severity", sev, "rule", in->rule, "evidence",
                      in->evidence, "violations_in_window", ctext, "state", group_state_name(state),
                      NULL));
    if (seq > 0 && *nseqs < 8)
        seqs[(*nseqs)++] = seq;
    size_t used = strlen(measures);
    if (state == GROUP_WARNED) {
        impose(SANCTION_SUSPENDED, code, default_seconds(SANCTION_SUSPENDED),
               in->rule ? in->rule : "a further violation during a warning", in->evidence,
               in->author, 0, true, &seq);
        snprintf(measures + used, mlen - used, " Posting in group %lld suspended for %d days.",
                 (long long)code, server_config->sanction_suspend_days);
    } else if (state == GROUP_NORMAL && count >= server_config->sanction_violations) {
        char reason[300];
        snprintf(reason, sizeof reason, "%d upheld violations within %d days (latest: %s)", count,
                 server_config->sanction_window_days, in->rule ? in->rule : sev);
        impose(SANCTION_WARNING, code, default_seconds(SANCTION_WARNING), reason, in->evidence,
               in->author, 0, true, &seq);
        snprintf(measures + used, mlen - used, " Group %lld warned (%d hours to rectify).",
                 (long long)code, server_config->sanction_warn_hours);
    } else {
        return;
    }
    if (seq > 0 && *nseqs < 8)
        seqs[(*nseqs)++] = seq;
}

void sanction_apply(const struct sanction_decision *in)
{
    const char *author = in->author ? in->author : "system";
    int64_t seqs[8];
    size_t nseqs = 0;
    if (in->evidence_seq > 0)
        seqs[nseqs++] = in->evidence_seq;
    char measures[600];
    snprintf(measures, sizeof measures, "%s", in->subject ? "Credit lowered." : "");
    struct decision *d = NULL;
    if (in->subject && in->subject->id > 0) {
        d = xcalloc(1, sizeof *d);
        d->a = in->subject;
        account_ref(d->a);
        d->severity = in->severity;
        d->rule = in->rule ? xstrdup(in->rule) : NULL;
    }
    if (in->group_code > 0 && in->group_violation)
        group_violation(in, seqs, &nseqs, measures, sizeof measures);
    bool serious = in->severity == CREDIT_SERIOUS || in->severity == CREDIT_SEVERE;
    if (d && serious) {
        const char *reason = in->rule ? in->rule : credit_severity_name(in->severity);
        int64_t seq = -1;
        size_t used = strlen(measures);
        if (!sanction_active(SANCTION_MANAGE_SUSPENDED, d->a->id) &&
            !sanction_active(SANCTION_MANAGE_REVOKED, d->a->id)) {
            d->ids[d->nids++] = impose(SANCTION_MANAGE_SUSPENDED, d->a->id,
                                       default_seconds(SANCTION_MANAGE_SUSPENDED), reason,
                                       in->evidence, author, 0, false, &seq)
                                    ->id;
            if (seq > 0 && nseqs < 8)
                seqs[nseqs++] = seq;
            used += (size_t)snprintf(measures + used, sizeof measures - used,
                                     " Management rights suspended for %d days.",
                                     server_config->sanction_manage_days);
        }
        if (in->severity == CREDIT_SEVERE && used < sizeof measures) {
            if (!sanction_active(SANCTION_CREATE_REVOKED, d->a->id)) {
                d->ids[d->nids++] = impose(SANCTION_CREATE_REVOKED, d->a->id, 0, reason,
                                           in->evidence, author, 0, false, &seq)
                                        ->id;
                if (seq > 0 && nseqs < 8)
                    seqs[nseqs++] = seq;
            }
            impose(SANCTION_BLACKLIST_REVIEW, d->a->id, 0, reason, in->evidence, author, 0, false,
                   &seq);
            if (seq > 0 && nseqs < 8)
                seqs[nseqs++] = seq;
            snprintf(measures + used, sizeof measures - used,
                     " Group creation revoked; the identity is queued for a blacklist review.");
        }
    }
    if (serious) {
        struct report_input r = {.kind = "decision",
                                 .subject = in->subject,
                                 .group_code = in->group_code,
                                 .severity = credit_severity_name(in->severity),
                                 .reason = in->rule ? in->rule : credit_severity_name(in->severity),
                                 .measures = measures[0] == ' ' ? measures + 1 : measures,
                                 .evidence = in->evidence,
                                 .seqs = nseqs ? seqs : NULL,
                                 .nseqs = nseqs,
                                 .author = author};
        if (report_create(&r) < 0)
            log_error("sanctions: the report of a %s decision could not be queued",
                      credit_severity_name(in->severity));
    }
    if (d && credit_penalize(d->a, in->severity, in->rule, in->evidence, author, penalized, d) != 0)
        penalized(d, -1);
}

/* ---- gates ---- */

static bool refuse(char *why, size_t len, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool refuse(char *why, size_t len, const char *code, const char *fmt, ...)
{
    last_refusal_code = code;
    if (why && len) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(why, len, fmt, ap);
        va_end(ap);
    }
    return false;
}

static bool blacklisted(const struct account *a, char *why, size_t len, const char *what)
{
    int64_t id = blacklist_account_entry(a);
    if (!id)
        return false;
    refuse(why, len, "BLACKLISTED",
           "Your identity is on the platform's blacklist (entry %lld: %s), so you may not %s with "
           "any account; to appeal, write to the platform's moderators quoting entry %lld.",
           (long long)id, blacklist_reason(id), what, (long long)id);
    return true;
}

bool sanction_may_post(const struct client *c, const struct channel *ch, char *why, size_t len)
{
    const char *em = emergency_refusal(ch);
    if (em)
        return refuse(why, len, "EMERGENCY", "%s", em);
    if (ch->code) {
        enum group_state st = sanction_group_state(ch->code);
        const struct sanction *s = st == GROUP_SUSPENDED
                                       ? sanction_active(SANCTION_SUSPENDED, ch->code)
                                   : st == GROUP_CLOSED ? sanction_active(SANCTION_CLOSED, ch->code)
                                                        : NULL;
        if (st == GROUP_CLOSED)
            return refuse(why, len, "GROUP_CLOSED", "%s is closed by the platform%s%s.", ch->name,
                          s ? ": " : "", s ? s->reason : "");
        if (s)
            return refuse(why, len, "GROUP_SUSPENDED",
                          "Posting in %s is suspended %s (sanction %lld: %s). %s", ch->name,
                          until_text(s->ends_at), (long long)s->id, s->reason, appeal_text(s));
    }
    const struct account *a = c->acct;
    if (!a)
        return true;
    const struct sanction *s = sanction_active(SANCTION_POST_SUSPENDED, a->id);
    if (s)
        return refuse(why, len, "POSTING_SUSPENDED",
                      "Your posting is suspended in every group %s (sanction %lld: %s). %s",
                      until_text(s->ends_at), (long long)s->id, s->reason, appeal_text(s));
    if (blacklisted(a, why, len, "post in groups"))
        return false;
    return true;
}

bool sanction_may_manage(const struct account *a, char *why, size_t len)
{
    if (!a)
        return true;
    const struct sanction *s = sanction_active(SANCTION_MANAGE_REVOKED, a->id);
    if (!s)
        s = sanction_active(SANCTION_MANAGE_SUSPENDED, a->id);
    if (s)
        return refuse(why, len, "MANAGE_SUSPENDED",
                      "Your rights to manage groups are %s %s (sanction %lld: %s). %s",
                      s->kind == SANCTION_MANAGE_REVOKED ? "revoked" : "suspended",
                      until_text(s->ends_at), (long long)s->id, s->reason, appeal_text(s));
    if (blacklisted(a, why, len, "manage groups"))
        return false;
    return true;
}

bool sanction_may_create(const struct account *a, char *why, size_t len)
{
    if (!a)
        return true;
    const struct sanction *s = sanction_active(SANCTION_CREATE_REVOKED, a->id);
    if (s)
        return refuse(why, len, "CREATE_REVOKED",
                      "Your right to create groups is revoked %s (sanction %lld: %s). %s",
                      until_text(s->ends_at), (long long)s->id, s->reason, appeal_text(s));
    if (blacklisted(a, why, len, "create groups"))
        return false;
    return true;
}

bool sanction_may_join(const struct account *a, char *why, size_t len)
{
    return !blacklisted(a, why, len, "join groups");
}

/* ---- login ---- */

void sanction_login(struct client *c)
{
    struct account *a = c->acct;
    if (!a)
        return;
    for (size_t i = 0; i < nsanctions; i++) {
        const struct sanction *s = &sanctions[i];
        if (s->kind == SANCTION_BLACKLIST_REVIEW)
            continue;
        bool mine = !sanction_kind_is_group(s->kind) && s->subject == a->id;
        if (!mine && sanction_kind_is_group(s->kind)) {
            const struct channel *ch = group_find_code(s->subject);
            const struct group_member *m = ch ? group_member_find(ch, a->id) : NULL;
            mine = m && m->role >= ROLE_MANAGER;
        }
        if (!mine)
            continue;
        service_notice(&chanserv_service, c, "Sanction %lld: %s, %s. Reason: %s. %s",
                       (long long)s->id, what_text(s),
                       s->ends_at ? until_text(s->ends_at) : "until lifted", s->reason,
                       appeal_text(s));
        if (!sanction_kind_is_group(s->kind))
            mark_told(s->id);
    }
    size_t k = 0;
    for (size_t i = 0; i < nuntold; i++) {
        if (untold[i].account_id != a->id) {
            untold[k++] = untold[i];
            continue;
        }
        service_notice(&chanserv_service, c,
                       "While you were away, sanction %lld was lifted: %s no longer applies.",
                       (long long)untold[i].id, sanction_kind_name(untold[i].kind));
        mark_told(untold[i].id);
    }
    nuntold = k;
    sanction_appeal_login(c);
    char why[400];
    if (blacklisted(a, why, sizeof why, "use group services"))
        service_notice(&chanserv_service, c, "%s", why);
}
