/*
 * appeal_core.c - the machinery of appeal_core.h, shared by appeals
 * against credit events and against sanctions: listing and counting a
 * kind's table, filing (text check, the kind's checks, insert), and
 * deciding (read the row, refuse the author, claim, the kind's upheld
 * action, the decided event). The rules are numbered in appeal_core.h.
 *
 * Threads: loop thread only; store callbacks on the loop.
 */
#include <assert.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "appeal/appeal_core.h"
#include "netlog/netlog.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

/* ---- listing ---- */

struct list_read {
    const struct appeal_kind *kind;
    appeal_fn row;
    appeal_done_cb done;
    void *ud;
};

static int list_row(void *ud, const struct store_value *c, size_t n)
{
    struct list_read *r = ud;
    if (n == r->kind->ncolumns)
        r->kind->deliver_row(c, r->row, r->ud);
    return 0;
}

static void list_done(void *ud, int status, const char *err)
{
    struct list_read *r = ud;
    if (status != STORE_OK)
        log_error("%s: appeals read failed: %s", r->kind->log_name,
                  err ? err : store_status_name(status));
    r->done(r->ud, status == STORE_OK ? 0 : -1);
    free(r);
}

int appeal_list(const struct appeal_kind *k, const char *sql, int64_t account_id, const char *state,
                int limit, appeal_fn row, appeal_done_cb done, void *ud)
{
    struct store *st = k->store();
    if (!st)
        return -1;
    if (!state)
        state = "all";
    limit = limit < 1 ? 1 : limit > k->list_max ? k->list_max : limit;
    struct list_read *r = xcalloc(1, sizeof *r);
    *r = (struct list_read){k, row, done, ud};
    /* The state is bound once per test of it: three, or four with "decided". */
    struct store_value b[7];
    size_t n = 0;
    b[n++] = STORE_INT(account_id);
    b[n++] = STORE_INT(account_id);
    for (int i = k->list_decided ? 4 : 3; i > 0; i--)
        b[n++] = STORE_TEXT(state);
    b[n++] = STORE_INT(limit);
    if (store_query(st, sql, b, n, list_row, list_done, r) != STORE_OK) {
        free(r);
        return -1;
    }
    return 0;
}

/* ---- counting (the console's dashboard: status) ---- */

int appeal_open_count(const struct appeal_kind *k, const char *sql, const char *what,
                      store_count_cb cb, void *ud)
{
    struct store *st = k->store();
    if (!st)
        return -1;
    return store_count(st, sql, NULL, 0, what, cb, ud) == STORE_OK ? 0 : -1;
}

/* ---- jobs ---- */

struct appeal_job *appeal_job_new(const struct appeal_kind *k)
{
    assert(k->job_size >= sizeof(struct appeal_job));
    struct appeal_job *j = xcalloc(1, k->job_size);
    j->kind = k;
    return j;
}

void appeal_finish(struct appeal_job *j, int status, const char *sentence)
{
    j->kind->finish(j, status, sentence);
    free(j->text);
    free(j->note);
    free(j->actor);
    free(j->author);
    free(j);
}

/* The filing or decided event (rule 4); outcome NULL when filing, by the
 * filer (the record's target), else by the decider. */
static void appeal_netlog(const struct appeal_job *j, const char *kind, const char *outcome)
{
    const struct appeal_kind *k = j->kind;
    const char *target;
    int64_t account_id;
    k->log_target(j, &target, &account_id);
    json_t *o = json_pack("{s:I, s:I}", "appeal", (json_int_t)j->appeal_id, k->subject,
                          (json_int_t)j->subject_id);
    if (k->log_head)
        k->log_head(j, o);
    if (j->text)
        json_object_set_new(o, "text", json_string(j->text));
    if (outcome)
        json_object_set_new(o, "outcome", json_string(outcome));
    if (j->note)
        json_object_set_new(o, "note", json_string(j->note));
    if (k->log_tail)
        k->log_tail(j, o, outcome);
    if (j->offset_event)
        json_object_set_new(o, "offset_event", json_integer(j->offset_event));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (netlog_record(kind, outcome ? j->actor : target, target, 0, account_id, NULL, body) < 0)
        log_error("%s: appeal %lld not in the network log", k->log_name, (long long)j->appeal_id);
    free(body);
}

/* ---- filing ---- */

static void filed(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct appeal_job *j = ud;
    const struct appeal_kind *k = j->kind;
    char s[240];
    if (status == STORE_ERR_CONSTRAINT) {
        snprintf(s, sizeof s, "%s %lld already has an open appeal; wait for its decision.",
                 k->subject_cap, (long long)j->subject_id);
        appeal_finish(j, APPEAL_OPEN, s);
        return;
    }
    if (status != STORE_OK) {
        appeal_finish(j, APPEAL_STORE, "The appeal could not be stored; try again later.");
        return;
    }
    j->appeal_id = last_id;
    appeal_netlog(j, k->log_filed, NULL);
    snprintf(s, sizeof s,
             "Appeal %lld against %s %lld is filed; %s will decide it and you will be told the "
             "outcome.",
             (long long)last_id, k->subject, (long long)j->subject_id, k->decider);
    appeal_finish(j, APPEAL_OK, s);
}

void appeal_file_store(struct appeal_job *j, const char *sql)
{
    struct store *st = j->kind->store();
    struct store_value b[] = {STORE_INT(j->subject_id), STORE_INT(j->account_id),
                              STORE_TEXT(j->text), STORE_INT(qclock_now())};
    if (!st || store_exec_write(st, sql, b, 4, filed, j) != STORE_OK)
        appeal_finish(j, APPEAL_STORE, "The appeal could not be stored; try again later.");
}

void appeal_file(struct appeal_job *j, const char *text)
{
    size_t len = text ? strlen(text) : 0;
    if (len == 0 || len > (size_t)j->kind->text_max) {
        char s[160];
        snprintf(s, sizeof s, "An appeal needs a text of 1 to %d bytes saying why the %s is wrong.",
                 j->kind->text_max, j->kind->subject);
        appeal_finish(j, APPEAL_BAD, s);
        return;
    }
    j->text = xstrdup(text);
    j->kind->file_check(j);
}

/* ---- deciding ---- */

void appeal_decided(struct appeal_job *j)
{
    appeal_netlog(j, j->kind->log_decided, j->uphold ? "upheld" : "rejected");
    char s[300];
    j->kind->decided(j, s, sizeof s);
    appeal_finish(j, APPEAL_OK, s);
}

static void claimed(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct appeal_job *j = ud;
    char s[200];
    if (status != STORE_OK) {
        appeal_finish(j, APPEAL_STORE, "The decision could not be stored; try again.");
        return;
    }
    if (changes != 1) {
        snprintf(s, sizeof s, "Appeal %lld was decided by someone else meanwhile.",
                 (long long)j->appeal_id);
        appeal_finish(j, APPEAL_DECIDED, s);
        return;
    }
    if (j->uphold)
        j->kind->upheld(j);
    else
        appeal_decided(j);
}

static int decide_row(void *ud, const struct store_value *c, size_t n)
{
    struct appeal_job *j = ud;
    if (n != j->kind->ncolumns)
        return 0;
    j->found = true;
    j->subject_id = c[1].i;
    j->account_id = c[2].i;
    j->decided = store_cell_text(&c[5]) != NULL;
    j->kind->decide_row(j, c);
    return 0;
}

static void decide_read(void *ud, int status, const char *err)
{
    struct appeal_job *j = ud;
    const struct appeal_kind *k = j->kind;
    char s[300];
    struct store *st = k->store();
    if (status != STORE_OK || !st) {
        appeal_finish(j, APPEAL_STORE, "The appeals cannot be read now; try again.");
        return;
    }
    if (!j->found) {
        snprintf(s, sizeof s, "There is no %s %lld (%s).", k->appeal_name, (long long)j->appeal_id,
                 k->list_hint);
        appeal_finish(j, APPEAL_NOT_FOUND, s);
        return;
    }
    if (j->decided) {
        snprintf(s, sizeof s, "Appeal %lld is decided already.", (long long)j->appeal_id);
        appeal_finish(j, APPEAL_DECIDED, s);
        return;
    }
    k->claim(j);
}

void appeal_claim(struct appeal_job *j, const char *sql)
{
    char s[300];
    if (strcmp(j->author, j->actor) == 0) {
        snprintf(s, sizeof s,
                 "You (%.60s) %s %lld yourself, so another moderator must decide appeal %lld "
                 "against it.",
                 j->actor, j->kind->authored, (long long)j->subject_id, (long long)j->appeal_id);
        appeal_finish(j, APPEAL_SAME_AUTHOR, s);
        return;
    }
    struct store_value b[] = {STORE_TEXT(j->uphold ? "upheld" : "rejected"), STORE_TEXT(j->actor),
                              STORE_INT(qclock_now()), j->note ? STORE_TEXT(j->note) : STORE_NULL(),
                              STORE_INT(j->appeal_id)};
    struct store *st = j->kind->store();
    if (!st || store_exec_write(st, sql, b, 5, claimed, j) != STORE_OK)
        appeal_finish(j, APPEAL_STORE, "The decision could not be stored; try again.");
}

void appeal_decide(struct appeal_job *j, const char *sql, int64_t appeal_id, bool uphold,
                   const char *note, const char *actor)
{
    const struct appeal_kind *k = j->kind;
    j->appeal_id = appeal_id;
    j->uphold = uphold;
    j->actor = xstrdup(actor);
    if (note && strlen(note) > (size_t)k->text_max) {
        char s[120];
        snprintf(s, sizeof s, "The note is too long (%d bytes at most).", k->text_max);
        appeal_finish(j, APPEAL_BAD, s);
        return;
    }
    j->note = note && *note ? xstrdup(note) : NULL;
    struct store *st = k->store();
    struct store_value b[] = {STORE_INT(appeal_id)};
    if (!st || store_query(st, sql, b, 1, decide_row, decide_read, j) != STORE_OK)
        appeal_finish(j, APPEAL_STORE, "The appeals cannot be read now; try again.");
}
