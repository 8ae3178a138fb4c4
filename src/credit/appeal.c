/*
 * appeal.c - reading a ledger, and appeals against credit events (SPEC §6:
 * "appeal upheld: the original event is offset").
 *
 * An appeal is a row of credit_appeals: open (outcome NULL) until a
 * moderator decides it "upheld" or "rejected". Rules:
 *   1. A user appeals only their own events, one open appeal per event (a
 *      partial unique index), never an offset event nor an event already
 *      offset.
 *   2. The decider is not the original event's author (compared as actor
 *      strings, "unix:alice" against the event's author column).
 *   3. Deciding first claims the row (UPDATE ... WHERE outcome IS NULL), so
 *      two moderators deciding at once produce one decision and at most one
 *      offset; then, when upheld, the offset event (-delta, reason
 *      "appeal-upheld", evidence "credit:<id>", author the decider) is
 *      appended and the appeal points to it.
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
#include "credit/credit.h"
#include "netlog/netlog.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

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

/* ---- listing appeals ---- */

#define APPEAL_COLUMNS                                                                             \
    "SELECT a.id, a.event_id, a.account_id, a.text, a.filed_at, a.outcome, a.decided_by,"          \
    " a.decided_at, a.note, a.offset_event_id, e.delta, e.reason, e.author, e.at"                  \
    " FROM credit_appeals a JOIN credit_events e ON e.id = a.event_id"

struct appeals_read {
    credit_appeal_row row;
    credit_done_cb done;
    void *ud;
};

static void appeal_from_row(const struct store_value *c, struct credit_appeal *ap)
{
    *ap = (struct credit_appeal){
        .id = c[0].i,
        .event_id = c[1].i,
        .account_id = c[2].i,
        .text = store_cell_text(&c[3]) ? store_cell_text(&c[3]) : "",
        .filed_at = c[4].i,
        .outcome = store_cell_text(&c[5]),
        .decided_by = store_cell_text(&c[6]),
        .decided_at = store_cell_int(&c[7]),
        .note = store_cell_text(&c[8]),
        .offset_event_id = store_cell_int(&c[9]),
        .event_delta = (int)c[10].i,
        .event_reason = store_cell_text(&c[11]) ? store_cell_text(&c[11]) : "",
        .event_author = store_cell_text(&c[12]) ? store_cell_text(&c[12]) : "",
    };
}

static int appeals_row(void *ud, const struct store_value *c, size_t n)
{
    struct appeals_read *r = ud;
    if (n != 14)
        return 0;
    struct credit_appeal ap;
    appeal_from_row(c, &ap);
    r->row(r->ud, &ap);
    return 0;
}

static void appeals_done(void *ud, int status, const char *err)
{
    struct appeals_read *r = ud;
    if (status != STORE_OK)
        log_error("credit: appeals read failed: %s", err ? err : store_status_name(status));
    r->done(r->ud, status == STORE_OK ? 0 : -1);
    free(r);
}

int credit_appeals_list(int64_t account_id, const char *state, int limit, credit_appeal_row row,
                        credit_done_cb done, void *ud)
{
    struct store *st = credit__store();
    if (!st)
        return -1;
    if (!state)
        state = "all";
    struct appeals_read *r = xcalloc(1, sizeof *r);
    *r = (struct appeals_read){row, done, ud};
    struct store_value b[] = {STORE_INT(account_id), STORE_INT(account_id),
                              STORE_TEXT(state),     STORE_TEXT(state),
                              STORE_TEXT(state),     STORE_INT(list_limit(limit))};
    if (store_query(st,
                    APPEAL_COLUMNS " WHERE (? = 0 OR a.account_id = ?)"
                                   " AND (? = 'all' OR (? = 'open' AND a.outcome IS NULL)"
                                   "  OR a.outcome = ?)"
                                   " ORDER BY a.id DESC LIMIT ?",
                    b, 6, appeals_row, appeals_done, r) != STORE_OK) {
        free(r);
        return -1;
    }
    return 0;
}

/* ---- counting (the console's dashboard: status) ---- */

int credit_appeals_open_count(credit_count_cb cb, void *ud)
{
    struct store *st = credit__store();
    if (!st)
        return -1;
    return store_count(st, "SELECT count(*) FROM credit_appeals WHERE outcome IS NULL", NULL, 0,
                       "open credit appeals", cb, ud) == STORE_OK
               ? 0
               : -1;
}

/* ---- filing ---- */

struct appeal_job {
    struct account *a; /* referenced */
    int64_t appeal_id, event_id, event_at;
    int event_delta;
    char *text, *note, *actor, *event_author;
    bool uphold, found, offset, decided;
    credit_appeal_cb cb;
    void *ud;
};

static void appeal_finish(struct appeal_job *j, int status, const char *sentence, int64_t offset_id)
{
    struct credit_appeal_result r = {
        .status = status,
        .sentence = sentence,
        .appeal_id = j->appeal_id,
        .event_id = j->event_id,
        .offset_event_id = offset_id,
        .account = j->a,
        .upheld = j->uphold,
        .score = j->a ? credit_score(j->a) : 0,
    };
    j->cb(j->ud, &r);
    if (j->a)
        account_unref(j->a);
    free(j->text);
    free(j->note);
    free(j->actor);
    free(j->event_author);
    free(j);
}

static void appeal_netlog(const char *kind, const char *actor, const struct appeal_job *j,
                          const char *outcome, int64_t offset_id)
{
    json_t *o = json_pack("{s:I, s:I, s:I}", "appeal", (json_int_t)j->appeal_id, "event",
                          (json_int_t)j->event_id, "delta", (json_int_t)j->event_delta);
    if (j->text)
        json_object_set_new(o, "text", json_string(j->text));
    if (outcome)
        json_object_set_new(o, "outcome", json_string(outcome));
    if (j->note)
        json_object_set_new(o, "note", json_string(j->note));
    if (offset_id)
        json_object_set_new(o, "offset_event", json_integer(offset_id));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (netlog_record(kind, actor, j->a ? j->a->name : NULL, 0, j->a ? j->a->id : 0, NULL, body) <
        0)
        log_error("credit: appeal %lld not in the network log", (long long)j->appeal_id);
    free(body);
}

static void filed(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct appeal_job *j = ud;
    char s[200];
    if (status == STORE_ERR_CONSTRAINT) {
        snprintf(s, sizeof s, "Event %lld already has an open appeal; wait for its decision.",
                 (long long)j->event_id);
        appeal_finish(j, CREDIT_APPEAL_OPEN, s, 0);
        return;
    }
    if (status != STORE_OK) {
        appeal_finish(j, CREDIT_APPEAL_STORE, "The appeal could not be stored; try again later.",
                      0);
        return;
    }
    j->appeal_id = last_id;
    appeal_netlog("credit.appeal", j->a->name, j, NULL, 0);
    snprintf(s, sizeof s,
             "Appeal %lld against event %lld is filed; a moderator will decide it and you will "
             "be told the outcome.",
             (long long)last_id, (long long)j->event_id);
    appeal_finish(j, CREDIT_APPEAL_OK, s, 0);
}

static int event_row(void *ud, const struct store_value *c, size_t n)
{
    struct appeal_job *j = ud;
    if (n != 6)
        return 0;
    j->found = c[1].i == j->a->id;
    j->event_delta = (int)c[2].i;
    j->offset =
        (store_cell_text(&c[3]) && strcmp(store_cell_text(&c[3]), CREDIT_REASON_OFFSET) == 0) ||
        store_cell_int(&c[5]) != 0;
    j->event_at = c[4].i;
    return 0;
}

static void event_read(void *ud, int status, const char *err)
{
    struct appeal_job *j = ud;
    char s[200];
    struct store *st = credit__store();
    if (status != STORE_OK || !st) {
        appeal_finish(j, CREDIT_APPEAL_STORE, "Your ledger cannot be read now; try again later.",
                      0);
        return;
    }
    if (!j->found) {
        snprintf(s, sizeof s,
                 "You have no credit event %lld; /msg CreditServ LEDGER lists yours with their "
                 "numbers.",
                 (long long)j->event_id);
        appeal_finish(j, CREDIT_APPEAL_NOT_FOUND, s, 0);
        return;
    }
    if (j->offset) {
        snprintf(s, sizeof s,
                 "Event %lld is already offset (or is itself an offset): there is "
                 "nothing left to appeal.",
                 (long long)j->event_id);
        appeal_finish(j, CREDIT_APPEAL_OFFSET, s, 0);
        return;
    }
    struct store_value b[] = {STORE_INT(j->event_id), STORE_INT(j->a->id), STORE_TEXT(j->text),
                              STORE_INT(qclock_now())};
    if (store_exec_write(st,
                         "INSERT INTO credit_appeals (event_id, account_id, text, filed_at)"
                         " VALUES (?, ?, ?, ?)",
                         b, 4, filed, j) != STORE_OK)
        appeal_finish(j, CREDIT_APPEAL_STORE, "The appeal could not be stored; try again later.",
                      0);
}

/* Reads event_id (owner, delta, reason, time, whether offset): rows of 6. */
static int read_event(int64_t event_id, store_row_cb row, store_done_cb done, void *ud)
{
    char evidence[40];
    snprintf(evidence, sizeof evidence, "credit:%lld", (long long)event_id);
    struct store_value b[] = {STORE_TEXT(evidence), STORE_INT(event_id)};
    return store_query(credit__store(),
                       "SELECT e.id, e.account_id, e.delta, e.reason, e.at,"
                       " (SELECT count(*) FROM credit_events o WHERE o.account_id = e.account_id"
                       "  AND o.reason = '" CREDIT_REASON_OFFSET "' AND o.evidence = ?)"
                       " FROM credit_events e WHERE e.id = ?",
                       b, 2, row, done, ud);
}

static int appeal_read_event(struct appeal_job *j, store_row_cb row, store_done_cb done)
{
    return read_event(j->event_id, row, done, j);
}

/* The offset of an upheld appeal (rule 3): the negation of the event. */
static int offset_append(struct account *a, int64_t event_id, int delta, const char *actor,
                         credit_event_cb cb, void *ud)
{
    char evidence[40];
    snprintf(evidence, sizeof evidence, "credit:%lld", (long long)event_id);
    return a ? credit_record(a, -delta, CREDIT_REASON_OFFSET, evidence, actor, 0, cb, ud) : -1;
}

void credit_appeal_file(struct account *a, int64_t event_id, const char *text, credit_appeal_cb cb,
                        void *ud)
{
    struct appeal_job *j = xcalloc(1, sizeof *j);
    j->a = a;
    account_ref(a);
    j->event_id = event_id;
    j->cb = cb;
    j->ud = ud;
    size_t len = text ? strlen(text) : 0;
    if (len == 0 || len > CREDIT_APPEAL_TEXT) {
        char s[160];
        snprintf(s, sizeof s,
                 "An appeal needs a text of 1 to %d bytes saying why the event is "
                 "wrong.",
                 CREDIT_APPEAL_TEXT);
        appeal_finish(j, CREDIT_APPEAL_BAD, s, 0);
        return;
    }
    j->text = xstrdup(text);
    if (event_id <= 0 || !credit__store() ||
        appeal_read_event(j, event_row, event_read) != STORE_OK)
        appeal_finish(j, event_id <= 0 ? CREDIT_APPEAL_NOT_FOUND : CREDIT_APPEAL_STORE,
                      event_id <= 0 ? "Give the number of one of your credit events (see "
                                      "/msg CreditServ LEDGER)."
                                    : "Your ledger cannot be read now; try again later.",
                      0);
}

/* ---- deciding ---- */

static void decided_logged(struct appeal_job *j, int64_t offset_id)
{
    appeal_netlog("credit.appeal.decided", j->actor, j, j->uphold ? "upheld" : "rejected",
                  offset_id);
    char s[240];
    if (j->uphold)
        snprintf(s, sizeof s,
                 "Appeal %lld upheld: event %lld (%+d) is offset by event %lld; %s's score is "
                 "now %d.",
                 (long long)j->appeal_id, (long long)j->event_id, j->event_delta,
                 (long long)offset_id, j->a ? j->a->name : "the account",
                 j->a ? credit_score(j->a) : 0);
    else
        snprintf(s, sizeof s, "Appeal %lld rejected: event %lld (%+d) stands.",
                 (long long)j->appeal_id, (long long)j->event_id, j->event_delta);
    appeal_finish(j, CREDIT_APPEAL_OK, s, offset_id);
}

static void offset_linked(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    if (status != STORE_OK)
        log_error("credit: appeal not linked to its offset: %s",
                  err ? err : store_status_name(status));
}

static void offset_written(void *ud, int status, int64_t event_id, int score)
{
    struct appeal_job *j = ud;
    if (status != 0) {
        appeal_finish(j, CREDIT_APPEAL_STORE,
                      "The appeal is recorded as upheld but its offset event could not be "
                      "stored (a store failure): tell an administrator.",
                      0);
        return;
    }
    struct store_value b[] = {STORE_INT(event_id), STORE_INT(j->appeal_id)};
    if (credit__store())
        store_exec_write(credit__store(),
                         "UPDATE credit_appeals SET offset_event_id = ? WHERE id = ?", b, 2,
                         offset_linked, NULL);
    credit__refresh_violation(j->a, j->event_at);
    decided_logged(j, event_id);
}

static void claimed(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct appeal_job *j = ud;
    char s[200];
    if (status != STORE_OK) {
        appeal_finish(j, CREDIT_APPEAL_STORE, "The decision could not be stored; try again.", 0);
        return;
    }
    if (changes != 1) {
        snprintf(s, sizeof s, "Appeal %lld was decided by someone else meanwhile.",
                 (long long)j->appeal_id);
        appeal_finish(j, CREDIT_APPEAL_DECIDED, s, 0);
        return;
    }
    if (!j->uphold) {
        decided_logged(j, 0);
        return;
    }
    if (offset_append(j->a, j->event_id, j->event_delta, j->actor, offset_written, j) != 0)
        offset_written(j, -1, 0, 0);
}

static int decide_row(void *ud, const struct store_value *c, size_t n)
{
    struct appeal_job *j = ud;
    if (n != 14)
        return 0;
    struct credit_appeal ap;
    appeal_from_row(c, &ap);
    j->found = true;
    j->decided = ap.outcome != NULL;
    j->event_id = ap.event_id;
    j->event_delta = ap.event_delta;
    j->event_at = store_cell_int(&c[13]);
    j->event_author = xstrdup(ap.event_author);
    j->a = account_find_id(ap.account_id);
    if (j->a)
        account_ref(j->a);
    return 0;
}

static void decide_read(void *ud, int status, const char *err)
{
    struct appeal_job *j = ud;
    char s[300];
    struct store *st = credit__store();
    if (status != STORE_OK || !st) {
        appeal_finish(j, CREDIT_APPEAL_STORE, "The appeals cannot be read now; try again.", 0);
        return;
    }
    if (!j->found) {
        snprintf(s, sizeof s, "There is no appeal %lld (appeals list shows them).",
                 (long long)j->appeal_id);
        appeal_finish(j, CREDIT_APPEAL_NOT_FOUND, s, 0);
        return;
    }
    if (j->decided) {
        snprintf(s, sizeof s, "Appeal %lld is decided already.", (long long)j->appeal_id);
        appeal_finish(j, CREDIT_APPEAL_DECIDED, s, 0);
        return;
    }
    if (j->uphold && !j->a) {
        snprintf(s, sizeof s, "The account of appeal %lld no longer exists: nothing to offset.",
                 (long long)j->appeal_id);
        appeal_finish(j, CREDIT_APPEAL_NOT_FOUND, s, 0);
        return;
    }
    if (strcmp(j->event_author, j->actor) == 0) {
        snprintf(s, sizeof s,
                 "You (%.60s) recorded event %lld yourself, so another moderator must decide "
                 "appeal %lld against it.",
                 j->actor, (long long)j->event_id, (long long)j->appeal_id);
        appeal_finish(j, CREDIT_APPEAL_SAME_AUTHOR, s, 0);
        return;
    }
    struct store_value b[] = {STORE_TEXT(j->uphold ? "upheld" : "rejected"), STORE_TEXT(j->actor),
                              STORE_INT(qclock_now()), j->note ? STORE_TEXT(j->note) : STORE_NULL(),
                              STORE_INT(j->appeal_id)};
    if (store_exec_write(st,
                         "UPDATE credit_appeals SET outcome = ?, decided_by = ?, decided_at = ?,"
                         " note = ? WHERE id = ? AND outcome IS NULL",
                         b, 5, claimed, j) != STORE_OK)
        appeal_finish(j, CREDIT_APPEAL_STORE, "The decision could not be stored; try again.", 0);
}

void credit_appeal_decide(int64_t appeal_id, bool uphold, const char *note, const char *actor,
                          credit_appeal_cb cb, void *ud)
{
    struct appeal_job *j = xcalloc(1, sizeof *j);
    j->appeal_id = appeal_id;
    j->uphold = uphold;
    j->cb = cb;
    j->ud = ud;
    j->actor = xstrdup(actor);
    if (note && strlen(note) > CREDIT_APPEAL_TEXT) {
        appeal_finish(j, CREDIT_APPEAL_BAD, "The note is too long (400 bytes at most).", 0);
        return;
    }
    j->note = note && *note ? xstrdup(note) : NULL;
    struct store_value b[] = {STORE_INT(appeal_id)};
    if (!credit__store() || store_query(credit__store(), APPEAL_COLUMNS " WHERE a.id = ?", b, 1,
                                        decide_row, decide_read, j) != STORE_OK)
        appeal_finish(j, CREDIT_APPEAL_STORE, "The appeals cannot be read now; try again.", 0);
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
    if (n != 6)
        return 0;
    j->found = true;
    j->a = account_find_id(c[1].i);
    if (j->a)
        account_ref(j->a);
    j->delta = (int)c[2].i;
    j->offset =
        (store_cell_text(&c[3]) && strcmp(store_cell_text(&c[3]), CREDIT_REASON_OFFSET) == 0) ||
        store_cell_int(&c[5]) != 0;
    j->event_at = c[4].i;
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
