/*
 * appeal.c - reading a ledger, and appeals against credit events (SPEC §6:
 * "appeal upheld: the original event is offset").
 *
 * An appeal is a row of credit_appeals: open (outcome NULL) until a
 * moderator decides it "upheld" or "rejected". Listing, counting, filing
 * and claim-then-decide are the appeals core's (appeal/appeal_core.c, its
 * rules 1-4); this file is the credit kind (credit_appeal_kind): its
 * table, words and hooks. Rules:
 *   1. A user appeals only their own events, one open appeal per event (a
 *      partial unique index), never an offset event nor an event already
 *      offset (credit_file_check, before the core's INSERT).
 *   2. The decider is not the original event's author (compared as actor
 *      strings, "unix:alice" against the event's author column, which
 *      credit_decide_row keeps for the core's check).
 *   3. Deciding first claims the row (UPDATE ... WHERE outcome IS NULL, in
 *      the core), so two moderators deciding at once produce one decision
 *      and at most one offset; then, when upheld (credit_upheld), the
 *      offset event (-delta, reason "appeal-upheld", evidence
 *      "credit:<id>", author the decider) is appended and the appeal
 *      points to it.
 *   4. Filing and deciding are network-log events ("credit.appeal",
 *      "credit.appeal.decided"); the offset is a "credit" event like any.
 *   5. credit_event_offset is the same offset for another module's upheld
 *      appeal (an appeal against a sanction that carried the event): it
 *      re-reads the event, does nothing when it is already offset, and
 *      closes an open credit appeal against it as upheld, so an event is
 *      offset at most once by either path.
 *
 * Threads: loop thread only; store callbacks on the loop.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "appeal/appeal_core.h"
#include "credit/credit.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

_Static_assert((int)CREDIT_APPEAL_OK == APPEAL_OK &&
                   (int)CREDIT_APPEAL_NOT_FOUND == APPEAL_NOT_FOUND &&
                   (int)CREDIT_APPEAL_OPEN == APPEAL_OPEN &&
                   (int)CREDIT_APPEAL_DECIDED == APPEAL_DECIDED &&
                   (int)CREDIT_APPEAL_SAME_AUTHOR == APPEAL_SAME_AUTHOR &&
                   (int)CREDIT_APPEAL_STORE == APPEAL_STORE && (int)CREDIT_APPEAL_BAD == APPEAL_BAD,
               "credit appeal statuses are the core's");

static int list_limit(int limit)
{
    return limit < 1 ? 1 : limit > CREDIT_LIST_MAX ? CREDIT_LIST_MAX : limit;
}

/* ---- the ledger ---- */

struct ledger_read {
    credit_event_row row;
    credit_done_cb done;
    void *ud;
};

static int ledger_row(void *ud, const struct store_value *c, size_t n)
{
    struct ledger_read *r = ud;
    if (n != 8)
        return 0;
    struct credit_event e = {
        .id = c[0].i,
        .account_id = c[1].i,
        .delta = (int)c[2].i,
        .reason = store_cell_text(&c[3]) ? store_cell_text(&c[3]) : "",
        .evidence = store_cell_text(&c[4]),
        .author = store_cell_text(&c[5]) ? store_cell_text(&c[5]) : "",
        .at = c[6].i,
        .offset_by = store_cell_int(&c[7]),
    };
    r->row(r->ud, &e);
    return 0;
}

static void read_done(void *ud, int status, const char *err)
{
    struct ledger_read *r = ud;
    if (status != STORE_OK)
        log_error("credit: read failed: %s", err ? err : store_status_name(status));
    r->done(r->ud, status == STORE_OK ? 0 : -1);
    free(r);
}

int credit_ledger(int64_t account_id, int limit, credit_event_row row, credit_done_cb done,
                  void *ud)
{
    struct store *st = credit__store();
    if (!st)
        return -1;
    struct ledger_read *r = xcalloc(1, sizeof *r);
    *r = (struct ledger_read){row, done, ud};
    struct store_value b[] = {STORE_INT(account_id), STORE_INT(list_limit(limit))};
    if (store_query(st,
                    "SELECT e.id, e.account_id, e.delta, e.reason, e.evidence, e.author, e.at,"
                    " (SELECT min(o.id) FROM credit_events o WHERE o.account_id = e.account_id"
                    "  AND o.reason = '" CREDIT_REASON_OFFSET "'"
                    "  AND o.evidence = 'credit:' || e.id)"
                    " FROM credit_events e WHERE e.account_id = ? ORDER BY e.id DESC LIMIT ?",
                    b, 2, ledger_row, read_done, r) != STORE_OK) {
        free(r);
        return -1;
    }
    return 0;
}

/* ---- the credit kind of appeal ---- */

#define CREDIT_APPEAL_SELECT                                                                       \
    "SELECT a.id, a.event_id" APPEAL_SQL_COLUMNS                                                   \
    ", a.offset_event_id, e.delta, e.reason, e.author, e.at"                                       \
    " FROM credit_appeals a JOIN credit_events e ON e.id = a.event_id"

struct credit_appeal_job {
    struct appeal_job base; /* first: the core's part */
    struct account *a;      /* the appellant, referenced (NULL when gone) */
    int64_t event_at;
    int event_delta;
    bool offset; /* filing: the event is offset, or is itself an offset */
    credit_appeal_cb cb;
    void *ud;
};

static struct credit_appeal_job *credit_job(struct appeal_job *j)
{
    return (struct credit_appeal_job *)j;
}

static void appeal_from_row(const struct store_value *c, struct credit_appeal *ap)
{
    *ap = (struct credit_appeal){
        APPEAL_ROW_FIELDS(c, event_id),
        .offset_event_id = store_cell_int(&c[9]),
        .event_delta = (int)c[10].i,
        .event_reason = store_cell_text(&c[11]) ? store_cell_text(&c[11]) : "",
        .event_author = store_cell_text(&c[12]) ? store_cell_text(&c[12]) : "",
    };
}

static void credit_deliver_row(const struct store_value *c, appeal_fn row, void *ud)
{
    struct credit_appeal ap;
    appeal_from_row(c, &ap);
    ((credit_appeal_row)row)(ud, &ap);
}

static void credit_finish(struct appeal_job *base, int status, const char *sentence)
{
    struct credit_appeal_job *j = credit_job(base);
    struct credit_appeal_result r = {
        .status = status,
        .sentence = sentence,
        .appeal_id = base->appeal_id,
        .event_id = base->subject_id,
        .offset_event_id = base->offset_event,
        .account = j->a,
        .upheld = base->uphold,
        .score = j->a ? credit_score(j->a) : 0,
    };
    j->cb(j->ud, &r);
    if (j->a)
        account_unref(j->a);
}

static void credit_log_target(const struct appeal_job *base, const char **target,
                              int64_t *account_id)
{
    const struct credit_appeal_job *j = (const struct credit_appeal_job *)base;
    *target = j->a ? j->a->name : NULL;
    *account_id = j->a ? j->a->id : 0;
}

static void credit_log_head(const struct appeal_job *base, json_t *o)
{
    const struct credit_appeal_job *j = (const struct credit_appeal_job *)base;
    json_object_set_new(o, "delta", json_integer(j->event_delta));
}

/* ---- filing: the event must be the appellant's and not offset (rule 1) ---- */

/* The evidence an offset of event_id carries: "credit:<id>". */
static void offset_evidence(char buf[40], int64_t event_id)
{
    snprintf(buf, 40, "credit:%lld", (long long)event_id);
}

/* Reads event_id (owner, delta, reason, time, whether offset): rows of 6,
 * decoded by event_facts. */
static int read_event(int64_t event_id, store_row_cb row, store_done_cb done, void *ud)
{
    char evidence[40];
    offset_evidence(evidence, event_id);
    struct store_value b[] = {STORE_TEXT(evidence), STORE_INT(event_id)};
    return store_query(credit__store(),
                       "SELECT e.id, e.account_id, e.delta, e.reason, e.at,"
                       " (SELECT count(*) FROM credit_events o WHERE o.account_id = e.account_id"
                       "  AND o.reason = '" CREDIT_REASON_OFFSET "' AND o.evidence = ?)"
                       " FROM credit_events e WHERE e.id = ?",
                       b, 2, row, done, ud);
}

/* What filing and offsetting need of an event: a row of read_event. */
struct event_facts {
    int64_t account_id, at;
    int delta;
    bool offset; /* offset already, or an offset itself */
};

static bool event_facts(const struct store_value *c, size_t n, struct event_facts *f)
{
    if (n != 6)
        return false;
    const char *reason = store_cell_text(&c[3]);
    *f = (struct event_facts){
        .account_id = c[1].i,
        .at = c[4].i,
        .delta = (int)c[2].i,
        .offset = (reason && strcmp(reason, CREDIT_REASON_OFFSET) == 0) || store_cell_int(&c[5]),
    };
    return true;
}

static int event_row(void *ud, const struct store_value *c, size_t n)
{
    struct credit_appeal_job *j = ud;
    struct event_facts f;
    if (!event_facts(c, n, &f))
        return 0;
    j->base.found = f.account_id == j->a->id;
    j->event_delta = f.delta;
    j->offset = f.offset;
    j->event_at = f.at;
    return 0;
}

static void event_read(void *ud, int status, const char *err)
{
    struct credit_appeal_job *j = ud;
    char s[200];
    if (status != STORE_OK || !credit__store()) {
        appeal_finish(&j->base, CREDIT_APPEAL_STORE,
                      "Your ledger cannot be read now; try again later.");
        return;
    }
    if (!j->base.found) {
        snprintf(s, sizeof s,
                 "You have no credit event %lld; /msg CreditServ LEDGER lists yours with their "
                 "numbers.",
                 (long long)j->base.subject_id);
        appeal_finish(&j->base, CREDIT_APPEAL_NOT_FOUND, s);
        return;
    }
    if (j->offset) {
        snprintf(s, sizeof s,
                 "Event %lld is already offset (or is itself an offset): there is "
                 "nothing left to appeal.",
                 (long long)j->base.subject_id);
        appeal_finish(&j->base, CREDIT_APPEAL_OFFSET, s);
        return;
    }
    appeal_file_store(&j->base, "INSERT INTO credit_appeals (event_id, account_id, text, filed_at)"
                                " VALUES (?, ?, ?, ?)");
}

static void credit_file_check(struct appeal_job *base)
{
    int64_t event_id = base->subject_id;
    if (event_id <= 0 || !credit__store() ||
        read_event(event_id, event_row, event_read, credit_job(base)) != STORE_OK)
        appeal_finish(base, event_id <= 0 ? CREDIT_APPEAL_NOT_FOUND : CREDIT_APPEAL_STORE,
                      event_id <= 0 ? "Give the number of one of your credit events (see "
                                      "/msg CreditServ LEDGER)."
                                    : "Your ledger cannot be read now; try again later.");
}

/* ---- deciding: the offset of an upheld appeal (rule 3) ---- */

/* The offset of an upheld appeal (rule 3): the negation of the event. */
static int offset_append(struct account *a, int64_t event_id, int delta, const char *actor,
                         credit_event_cb cb, void *ud)
{
    char evidence[40];
    offset_evidence(evidence, event_id);
    return a ? credit_record(a, -delta, CREDIT_REASON_OFFSET, evidence, actor, 0, cb, ud) : -1;
}

static void credit_decide_row(struct appeal_job *base, const struct store_value *c)
{
    struct credit_appeal_job *j = credit_job(base);
    struct credit_appeal ap;
    appeal_from_row(c, &ap);
    j->event_delta = ap.event_delta;
    j->event_at = store_cell_int(&c[13]);
    base->author = xstrdup(ap.event_author);
    j->a = account_find_id(ap.account_id);
    if (j->a)
        account_ref(j->a);
}

/* An upheld appeal needs the account its offset goes to; then the core's
 * author check and claim (rules 2 and 3). */
static void credit_claim(struct appeal_job *base)
{
    if (base->uphold && !credit_job(base)->a) {
        char s[300];
        snprintf(s, sizeof s, "The account of appeal %lld no longer exists: nothing to offset.",
                 (long long)base->appeal_id);
        appeal_finish(base, CREDIT_APPEAL_NOT_FOUND, s);
        return;
    }
    appeal_claim(base, "UPDATE credit_appeals" APPEAL_SQL_CLAIM_SET);
}

static void offset_linked(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    if (status != STORE_OK)
        log_error("credit: appeal not linked to its offset: %s",
                  err ? err : store_status_name(status));
}

static void offset_written(void *ud, int status, int64_t event_id, int score)
{
    struct credit_appeal_job *j = ud;
    if (status != 0) {
        appeal_finish(&j->base, CREDIT_APPEAL_STORE,
                      "The appeal is recorded as upheld but its offset event could not be "
                      "stored (a store failure): tell an administrator.");
        return;
    }
    struct store_value b[] = {STORE_INT(event_id), STORE_INT(j->base.appeal_id)};
    if (credit__store())
        store_exec_write(credit__store(),
                         "UPDATE credit_appeals SET offset_event_id = ? WHERE id = ?", b, 2,
                         offset_linked, NULL);
    credit__refresh_violation(j->a, j->event_at);
    j->base.offset_event = event_id;
    appeal_decided(&j->base);
}

/* The appeal is claimed as upheld: the offset, then the core's decided. */
static void credit_upheld(struct appeal_job *base)
{
    struct credit_appeal_job *j = credit_job(base);
    if (offset_append(j->a, base->subject_id, j->event_delta, base->actor, offset_written, j) != 0)
        offset_written(j, -1, 0, 0);
}

static void credit_decided(struct appeal_job *base, char *s, size_t len)
{
    struct credit_appeal_job *j = credit_job(base);
    if (base->uphold)
        snprintf(s, len,
                 "Appeal %lld upheld: event %lld (%+d) is offset by event %lld; %s's score is "
                 "now %d.",
                 (long long)base->appeal_id, (long long)base->subject_id, j->event_delta,
                 (long long)base->offset_event, j->a ? j->a->name : "the account",
                 j->a ? credit_score(j->a) : 0);
    else
        snprintf(s, len, "Appeal %lld rejected: event %lld (%+d) stands.",
                 (long long)base->appeal_id, (long long)base->subject_id, j->event_delta);
}

static const struct appeal_kind credit_appeal_kind = {
    .log_name = "credit",
    .store = credit__store,
    .job_size = sizeof(struct credit_appeal_job),
    .ncolumns = 14,
    .list_max = CREDIT_LIST_MAX,
    .text_max = CREDIT_APPEAL_TEXT,
    .subject = "event",
    .subject_cap = "Event",
    .decider = "a moderator",
    .authored = "recorded event",
    .appeal_name = "appeal",
    .list_hint = "appeals list shows them",
    .log_filed = "credit.appeal",
    .log_decided = "credit.appeal.decided",
    .log_target = credit_log_target,
    .log_head = credit_log_head,
    .deliver_row = credit_deliver_row,
    .file_check = credit_file_check,
    .decide_row = credit_decide_row,
    .claim = credit_claim,
    .upheld = credit_upheld,
    .decided = credit_decided,
    .finish = credit_finish,
};

/* ---- the public functions (credit.h) ---- */

int credit_appeals_list(int64_t account_id, const char *state, int limit, credit_appeal_row row,
                        credit_done_cb done, void *ud)
{
    return appeal_list(&credit_appeal_kind, CREDIT_APPEAL_SELECT APPEAL_SQL_LIST_WHERE, account_id,
                       state, limit, (appeal_fn)row, done, ud);
}

int credit_appeals_open_count(credit_count_cb cb, void *ud)
{
    return appeal_open_count(&credit_appeal_kind,
                             "SELECT count(*) FROM credit_appeals WHERE outcome IS NULL",
                             "open credit appeals", cb, ud);
}

static struct credit_appeal_job *credit_job_new(credit_appeal_cb cb, void *ud)
{
    struct credit_appeal_job *j = credit_job(appeal_job_new(&credit_appeal_kind));
    j->cb = cb;
    j->ud = ud;
    return j;
}

void credit_appeal_file(struct account *a, int64_t event_id, const char *text, credit_appeal_cb cb,
                        void *ud)
{
    struct credit_appeal_job *j = credit_job_new(cb, ud);
    j->a = a;
    account_ref(a);
    j->base.subject_id = event_id;
    j->base.account_id = a->id;
    appeal_file(&j->base, text);
}

void credit_appeal_decide(int64_t appeal_id, bool uphold, const char *note, const char *actor,
                          credit_appeal_cb cb, void *ud)
{
    appeal_decide(&credit_job_new(cb, ud)->base, CREDIT_APPEAL_SELECT " WHERE a.id = ?", appeal_id,
                  uphold, note, actor);
}

/* ---- offsetting for another module's upheld appeal ---- */

struct offset_job {
    struct account *a; /* referenced once the event is read */
    int64_t event_id, event_at;
    int delta;
    bool found, offset;
    char *actor, *note;
    credit_event_cb cb;
    void *ud;
};

static void offset_finish(struct offset_job *j, int status, int64_t id, int score)
{
    j->cb(j->ud, status, id, score);
    if (j->a)
        account_unref(j->a);
    free(j->actor);
    free(j->note);
    free(j);
}

static void open_appeal_closed(void *ud, int status, int64_t last_id, int64_t changes,
                               const char *err)
{
    if (status != STORE_OK)
        log_error("credit: an open appeal was not closed by an offset: %s",
                  err ? err : store_status_name(status));
}

static void other_offset_written(void *ud, int status, int64_t event_id, int score)
{
    struct offset_job *j = ud;
    if (status != 0) {
        offset_finish(j, -1, 0, 0);
        return;
    }
    credit__refresh_violation(j->a, j->event_at);
    struct store_value b[] = {STORE_TEXT(j->actor), STORE_INT(qclock_now()),
                              j->note ? STORE_TEXT(j->note) : STORE_NULL(), STORE_INT(event_id),
                              STORE_INT(j->event_id)};
    if (credit__store())
        store_exec_write(credit__store(),
                         "UPDATE credit_appeals SET outcome = 'upheld', decided_by = ?,"
                         " decided_at = ?, note = ?, offset_event_id = ?"
                         " WHERE event_id = ? AND outcome IS NULL",
                         b, 5, open_appeal_closed, NULL);
    offset_finish(j, 0, event_id, score);
}

static int offset_event_row(void *ud, const struct store_value *c, size_t n)
{
    struct offset_job *j = ud;
    struct event_facts f;
    if (!event_facts(c, n, &f))
        return 0;
    j->found = true;
    j->a = account_find_id(f.account_id);
    if (j->a)
        account_ref(j->a);
    j->delta = f.delta;
    j->offset = f.offset;
    j->event_at = f.at;
    return 0;
}

static void offset_event_read(void *ud, int status, const char *err)
{
    struct offset_job *j = ud;
    if (status != STORE_OK) {
        offset_finish(j, -1, 0, 0);
        return;
    }
    if (!j->found || !j->a || j->offset) {
        offset_finish(j, 1, 0, j->a ? credit_score(j->a) : 0);
        return;
    }
    if (offset_append(j->a, j->event_id, j->delta, j->actor, other_offset_written, j) != 0)
        offset_finish(j, -1, 0, 0);
}

void credit_event_offset(int64_t event_id, const char *actor, const char *note, credit_event_cb cb,
                         void *ud)
{
    struct offset_job *j = xcalloc(1, sizeof *j);
    j->event_id = event_id;
    j->actor = xstrdup(actor);
    j->note = note && *note ? xstrdup(note) : NULL;
    j->cb = cb;
    j->ud = ud;
    if (event_id <= 0) {
        offset_finish(j, 1, 0, 0);
        return;
    }
    if (!credit__store() ||
        read_event(event_id, offset_event_row, offset_event_read, j) != STORE_OK)
        offset_finish(j, -1, 0, 0);
}
