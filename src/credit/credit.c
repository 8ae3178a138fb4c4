/*
 * credit.c - credit scores from the append-only credit_events table, the
 * level lookup, the posting gate (post / messages per 10 s) and recovery
 * (see credit.h for the invariants).
 *
 * Per account, in struct account and derived only from the ledger:
 * credit_delta (sum), credit_violation_at, credit_recovery_at; plus the
 * recovery events in flight (credit_pending, so the job never queues a
 * period twice) and the rate bucket, which is not credit but a privilege
 * of the level and lives with it.
 *
 * Threads: loop thread only; the store calls back on the loop.
 */
#include "credit/credit.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
#include "netlog/netlog.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

extern struct qun_config *server_config;

static struct store *credit_store;
static int64_t credit_event_now; /* credit_current_event() */

struct store *credit__store(void)
{
    return credit_store;
}

/* ---- start-up: derive the per-account state from the ledger ---- */

/* One row per account: sum, last recovery, last violation not offset. The
 * same statement with "WHERE account_id = ?" refreshes one account. */
#define CREDIT_STATE_COLUMNS                                                                       \
    "SELECT e.account_id, sum(e.delta),"                                                           \
    " max(CASE WHEN e.reason = '" CREDIT_REASON_RECOVERY "' THEN e.at END),"                       \
    " max(CASE WHEN e.delta < 0 AND e.reason <> '" CREDIT_REASON_OFFSET "' AND NOT EXISTS"         \
    "  (SELECT 1 FROM credit_events o WHERE o.account_id = e.account_id"                           \
    "   AND o.reason = '" CREDIT_REASON_OFFSET "' AND o.evidence = 'credit:' || e.id)"             \
    "  THEN e.at END)"                                                                             \
    " FROM credit_events e"

static int credit_row(void *ud, const struct store_value *c, size_t n)
{
    if (n == 4) {
        struct account *a = account_find_id(c[0].i);
        if (a) {
            a->credit_delta = (int)c[1].i;
            a->credit_recovery_at = store_cell_int(&c[2]);
            a->credit_violation_at = store_cell_int(&c[3]);
        }
    }
    return 0;
}

int credit_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen)
{
    static bool job_registered;
    credit_store = st;
    if (store_load(st, CREDIT_STATE_COLUMNS " GROUP BY e.account_id", NULL, 0, credit_row, NULL,
                   "credit", err, errlen) < 0)
        return -1;
    if (!job_registered) {
        qclock_every(credit_recovery_run);
        job_registered = true;
    }
    return 0;
}

void credit_detach_store(void)
{
    credit_store = NULL;
}

struct credit_refresh {
    struct account *a;
    int64_t original_at;
};

static int credit_refresh_row(void *ud, const struct store_value *c, size_t n)
{
    struct credit_refresh *r = ud;
    /* A violation newer than the offset one stays the last violation; a
     * read may miss one committed after it was submitted (store.h). */
    if (n == 4 && r->a->credit_violation_at <= r->original_at)
        r->a->credit_violation_at = store_cell_int(&c[3]);
    return 0;
}

static void credit_refresh_done(void *ud, int status, const char *err)
{
    struct credit_refresh *r = ud;
    if (status != STORE_OK)
        log_error("credit: last violation of %s not refreshed: %s", r->a->name,
                  err ? err : store_status_name(status));
    account_unref(r->a);
    free(r);
}

void credit__refresh_violation(struct account *a, int64_t offset_original_at)
{
    if (!credit_store)
        return;
    struct credit_refresh *r = xcalloc(1, sizeof *r);
    r->a = a;
    r->original_at = offset_original_at;
    account_ref(a);
    struct store_value b[] = {STORE_INT(a->id)};
    if (store_query(credit_store, CREDIT_STATE_COLUMNS " WHERE e.account_id = ?", b, 1,
                    credit_refresh_row, credit_refresh_done, r) != STORE_OK) {
        account_unref(a);
        free(r);
    }
}

/* ---- scores and levels ---- */

static int credit_clamp(int score)
{
    return score < 0 ? 0 : score > 1000 ? 1000 : score;
}

int credit_score(const struct account *a)
{
    return credit_clamp(server_config->credit_initial + (a ? a->credit_delta : 0));
}

const struct config_credit_level *credit_level_of_score(int score)
{
    const struct qun_config *cfg = server_config;
    for (size_t i = 0; i < cfg->ncredit_levels; i++)
        if (score >= cfg->credit_levels[i].min_score)
            return &cfg->credit_levels[i];
    return &cfg->credit_levels[cfg->ncredit_levels - 1];
}

const struct config_credit_level *credit_level(const struct account *a)
{
    return credit_level_of_score(credit_score(a));
}

/* ---- appending events ---- */

struct credit_job {
    struct account *a;
    int delta;
    int64_t at;
    char *reason, *evidence, *author;
    credit_event_cb cb;
    void *ud;
};

/* Invariant 2: the network-log event of a committed credit event. */
static void credit_log(const struct credit_job *j, int64_t id, int score)
{
    const struct config_credit_level *lv = credit_level_of_score(score);
    char level[2] = {lv->level, '\0'};
    json_t *o = json_pack("{s:I, s:s, s:i, s:s, s:s, s:I, s:i, s:s}", "event", (json_int_t)id,
                          "account", j->a->name, "delta", j->delta, "reason", j->reason, "author",
                          j->author, "at", (json_int_t)j->at, "score", score, "level", level);
    json_object_set_new(o, "evidence", j->evidence ? json_string(j->evidence) : json_null());
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (netlog_record("credit", j->author, j->a->name, 0, j->a->id, NULL, body) < 0)
        log_error("credit: event %lld of %s not in the network log", (long long)id, j->a->name);
    free(body);
}

static void credit_written(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct credit_job *j = ud;
    struct account *a = j->a;
    int score = credit_score(a);
    if (strcmp(j->reason, CREDIT_REASON_RECOVERY) == 0 && a->credit_pending > 0)
        a->credit_pending--;
    if (status == STORE_OK) {
        a->credit_delta += j->delta;
        score = credit_score(a);
        if (strcmp(j->reason, CREDIT_REASON_RECOVERY) == 0 && j->at > a->credit_recovery_at)
            a->credit_recovery_at = j->at;
        else if (j->delta < 0 && strcmp(j->reason, CREDIT_REASON_OFFSET) != 0 &&
                 j->at > a->credit_violation_at)
            a->credit_violation_at = j->at;
        credit_log(j, last_id, score);
    } else {
        log_error("credit: event for %s not stored: %s", a->name,
                  err ? err : store_status_name(status));
    }
    credit_event_now = status == STORE_OK ? last_id : 0;
    if (j->cb)
        j->cb(j->ud, status == STORE_OK ? 0 : -1, status == STORE_OK ? last_id : 0, score);
    credit_event_now = 0;
    account_unref(a);
    free(j->reason);
    free(j->evidence);
    free(j->author);
    free(j);
}

int credit_record(struct account *a, int delta, const char *reason, const char *evidence,
                  const char *author, int64_t at, credit_event_cb cb, void *ud)
{
    if (!credit_store || !a || a->id <= 0 || !reason || !author)
        return -1;
    struct credit_job *j = xcalloc(1, sizeof *j);
    j->a = a;
    j->delta = delta;
    j->at = at > 0 ? at : qclock_now();
    j->reason = xstrdup(reason);
    j->evidence = evidence ? xstrdup(evidence) : NULL;
    j->author = xstrdup(author);
    j->cb = cb;
    j->ud = ud;
    account_ref(a);
    struct store_value b[] = {STORE_INT(a->id),   STORE_INT(delta),
                              STORE_TEXT(reason), evidence ? STORE_TEXT(evidence) : STORE_NULL(),
                              STORE_TEXT(author), STORE_INT(j->at)};
    if (store_exec_write(
            credit_store,
            "INSERT INTO credit_events (account_id, delta, reason, evidence, author, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            b, 6, credit_written, j) != STORE_OK) {
        account_unref(a);
        free(j->reason);
        free(j->evidence);
        free(j->author);
        free(j);
        return -1;
    }
    return 0;
}

struct credit_adjust_ud {
    credit_cb cb;
    void *ud;
};

static void credit_adjusted(void *ud, int status, int64_t id, int score)
{
    struct credit_adjust_ud *c = ud;
    if (c->cb)
        c->cb(c->ud, status);
    free(c);
}

int credit_adjust(struct account *a, int delta, const char *reason, const char *evidence,
                  const char *author, credit_cb cb, void *ud)
{
    struct credit_adjust_ud *c = xcalloc(1, sizeof *c);
    c->cb = cb;
    c->ud = ud;
    if (credit_record(a, delta, reason, evidence, author, 0, credit_adjusted, c) != 0) {
        free(c);
        return -1;
    }
    return 0;
}

int64_t credit_current_event(void)
{
    return credit_event_now;
}

/* ---- severities ---- */

static const struct {
    const char *name;
    int delta;
} credit_severities[CREDIT_NSEVERITIES] = {
    [CREDIT_MINOR] = {"minor", -10},           [CREDIT_GENERAL] = {"general", -30},
    [CREDIT_SERIOUS] = {"serious", -100},      [CREDIT_SEVERE] = {"severe", -300},
    [CREDIT_NEGLIGENCE] = {"negligence", -20}, [CREDIT_MALICIOUS] = {"malicious", -20},
};

int credit_severity_delta(enum credit_severity s)
{
    return (unsigned)s < CREDIT_NSEVERITIES ? credit_severities[s].delta : 0;
}

const char *credit_severity_name(enum credit_severity s)
{
    return (unsigned)s < CREDIT_NSEVERITIES ? credit_severities[s].name : "unknown";
}

int credit_severity_parse(const char *name)
{
    for (int i = 0; i < CREDIT_NSEVERITIES; i++)
        if (strcasecmp(credit_severities[i].name, name) == 0)
            return i;
    return -1;
}

int credit_penalize(struct account *a, enum credit_severity s, const char *reason,
                    const char *evidence, const char *author, credit_cb cb, void *ud)
{
    char code[64];
    if (!reason) {
        snprintf(code, sizeof code, "severity:%s", credit_severity_name(s));
        reason = code;
    }
    return credit_adjust(a, credit_severity_delta(s), reason, evidence, author, cb, ud);
}

/* ---- posting: the level's post privilege and message rate ---- */

bool credit_rate_take(int *tokens, uint64_t *at_ms, int rate, uint64_t now_ms)
{
    /* Units of 1/10,000 of a message: rate messages per 10,000 ms refill
     * exactly rate units per ms, so frequent calls lose no fraction. */
    if (rate <= 0)
        return true;
    if (rate > 100000)
        rate = 100000; /* keeps cap and refill within int */
    int64_t cap = (int64_t)rate * 10000;
    int64_t t = *tokens;
    if (*at_ms == 0 || now_ms < *at_ms) {
        t = cap; /* first message, or a clock that went back: a full bucket */
    } else {
        uint64_t elapsed = now_ms - *at_ms;
        t += (int64_t)(elapsed > 10000 ? 10000 : elapsed) * rate;
        if (t > cap)
            t = cap;
    }
    *at_ms = now_ms;
    if (t < 10000) {
        *tokens = (int)t;
        return false;
    }
    *tokens = (int)(t - 10000);
    return true;
}

const char *credit_recovery_sentence(void)
{
    return "credit recovers by 10 points for each 30 days without a violation (up to 700), and "
           "/msg CreditServ INFO shows your score and privileges";
}

int credit_may_post(struct account *a, char *why, size_t len)
{
    if (!a)
        return CREDIT_POST_OK;
    int score = credit_score(a);
    const struct config_credit_level *lv = credit_level_of_score(score);
    if (!lv->post) {
        snprintf(why, len, "Credit level %c (score %d) does not allow posting in groups; %s.",
                 lv->level, score, credit_recovery_sentence());
        return CREDIT_POST_LEVEL;
    }
    uint64_t now_ms = uv_hrtime() / 1000000;
    if (!credit_rate_take(&a->credit_tokens, &a->credit_tokens_ms, lv->rate, now_ms)) {
        snprintf(why, len,
                 "Credit level %c allows %d message%s per 10 seconds in groups: wait a moment "
                 "before sending more; %s.",
                 lv->level, lv->rate, lv->rate == 1 ? "" : "s", credit_recovery_sentence());
        return CREDIT_POST_RATE;
    }
    return CREDIT_POST_OK;
}

/* ---- recovery ---- */

int credit_recovery_step(int score)
{
    if (score >= CREDIT_RECOVERY_CAP)
        return 0;
    int room = CREDIT_RECOVERY_CAP - score;
    return room < CREDIT_RECOVERY_STEP ? room : CREDIT_RECOVERY_STEP;
}

int64_t credit_recovery_base(const struct account *a)
{
    int64_t base = a->created_at;
    if (a->credit_violation_at > base)
        base = a->credit_violation_at;
    if (a->credit_recovery_at > base)
        base = a->credit_recovery_at;
    return base;
}

struct recovery_run {
    int64_t now;
    int budget; /* accounts still to credit in this run */
};

static void credit_recovered(void *ud, int status, int64_t id, int score)
{
    /* credit_written keeps the pending count and the last recovery */
}

static void credit_recover_one(struct account *a, void *ud)
{
    struct recovery_run *r = ud;
    if (r->budget <= 0 || a->id <= 0 || a->dropped || a->credit_pending > 0)
        return;
    int64_t base = credit_recovery_base(a);
    if (base <= 0 || r->now - base < CREDIT_RECOVERY_PERIOD)
        return;
    int score = credit_score(a);
    int64_t periods = (r->now - base) / CREDIT_RECOVERY_PERIOD;
    bool any = false;
    for (int64_t k = 1; k <= periods; k++) {
        int step = credit_recovery_step(score);
        if (step <= 0)
            break;
        /* one event per period, dated at the period's end, so the next
         * period counts from there (invariant 3) */
        int64_t from = base + (k - 1) * CREDIT_RECOVERY_PERIOD, to = from + CREDIT_RECOVERY_PERIOD;
        char evidence[64], d1[16], d2[16];
        time_t t1 = (time_t)from, t2 = (time_t)to;
        struct tm tm;
        strftime(d1, sizeof d1, "%Y-%m-%d", gmtime_r(&t1, &tm));
        strftime(d2, sizeof d2, "%Y-%m-%d", gmtime_r(&t2, &tm));
        snprintf(evidence, sizeof evidence, "period:%s..%s", d1, d2);
        if (credit_record(a, step, CREDIT_REASON_RECOVERY, evidence, CREDIT_AUTHOR_RECOVERY, to,
                          credit_recovered, NULL) != 0)
            break;
        a->credit_pending++;
        score += step;
        any = true;
    }
    if (any)
        r->budget--;
}

void credit_recovery_run(int64_t now)
{
    if (!credit_store)
        return;
    struct recovery_run r = {now, CREDIT_RECOVERY_BATCH};
    account_foreach(credit_recover_one, &r);
}
