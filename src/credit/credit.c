/*
 * credit.c - credit scores from the append-only credit_events table, and
 * the level lookup (see credit.h).
 */
#include "credit/credit.h"

#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/log.h"

extern struct qun_config *server_config;

static struct store *credit_store;

struct credit_load_state {
    bool done;
    int status;
};

static int credit_row(void *ud, const struct store_value *c, size_t n)
{
    if (n == 2) {
        struct account *a = account_find_id(c[0].i);
        if (a)
            a->credit_delta = (int)c[1].i;
    }
    return 0;
}

static void credit_loaded(void *ud, int status, const char *err)
{
    struct credit_load_state *s = ud;
    s->status = status;
    s->done = true;
}

int credit_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen)
{
    credit_store = st;
    struct credit_load_state s = {0};
    if (store_query(st, "SELECT account_id, sum(delta) FROM credit_events GROUP BY account_id",
                    NULL, 0, credit_row, credit_loaded, &s) != STORE_OK) {
        snprintf(err, errlen, "loading credit: the store refused the query");
        return -1;
    }
    while (!s.done)
        uv_run(loop, UV_RUN_ONCE);
    if (s.status != STORE_OK) {
        snprintf(err, errlen, "loading credit: %s", store_status_name(s.status));
        return -1;
    }
    return 0;
}

void credit_detach_store(void)
{
    credit_store = NULL;
}

int credit_score(const struct account *a)
{
    int score = server_config->credit_initial + (a ? a->credit_delta : 0);
    return score < 0 ? 0 : score > 1000 ? 1000 : score;
}

const struct config_credit_level *credit_level(const struct account *a)
{
    const struct qun_config *cfg = server_config;
    int score = credit_score(a);
    for (size_t i = 0; i < cfg->ncredit_levels; i++)
        if (score >= cfg->credit_levels[i].min_score)
            return &cfg->credit_levels[i];
    return &cfg->credit_levels[cfg->ncredit_levels - 1];
}

struct credit_job {
    struct account *a;
    int delta;
    credit_cb cb;
    void *ud;
};

static void credit_written(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct credit_job *j = ud;
    if (status == STORE_OK)
        j->a->credit_delta += j->delta;
    else
        log_error("credit: event for %s not stored: %s", j->a->name,
                  err ? err : store_status_name(status));
    if (j->cb)
        j->cb(j->ud, status == STORE_OK ? 0 : -1);
    account_unref(j->a);
    free(j);
}

int credit_adjust(struct account *a, int delta, const char *reason, const char *evidence,
                  const char *author, credit_cb cb, void *ud)
{
    if (!credit_store || a->id <= 0)
        return -1;
    struct credit_job *j = xcalloc(1, sizeof *j);
    j->a = a;
    j->delta = delta;
    j->cb = cb;
    j->ud = ud;
    account_ref(a);
    struct store_value b[] = {STORE_INT(a->id),   STORE_INT(delta),
                              STORE_TEXT(reason), evidence ? STORE_TEXT(evidence) : STORE_NULL(),
                              STORE_TEXT(author), STORE_INT((int64_t)time(NULL))};
    if (store_exec_write(
            credit_store,
            "INSERT INTO credit_events (account_id, delta, reason, evidence, author, at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            b, 6, credit_written, j) != STORE_OK) {
        account_unref(a);
        free(j);
        return -1;
    }
    return 0;
}

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
