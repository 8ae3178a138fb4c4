/*
 * sanction_appeal.c - appeals against sanctions (SPEC §7: "Every sanction:
 * ... told to the subject with its reason and how to appeal"; moderators
 * "handle appeals"), on the model of credit/appeal.c.
 *
 * An appeal is a row of sanction_appeals (store schema step 6): open
 * (outcome NULL) until a platform moderator decides it "upheld" or
 * "rejected". Rules:
 *   1. Filing: the sanction is active; a person sanction is appealed by its
 *      subject, a group sanction by its group's owner; a closure (which
 *      cannot be lifted) and a blacklist review (an internal queue entry)
 *      are not appealable here. One open appeal per sanction (a partial
 *      unique index); a text of 1..SANCTION_APPEAL_TEXT bytes.
 *   2. The decider is not the sanction's author (compared as actor
 *      strings, "unix:alice" against sanctions.author).
 *   3. Deciding first claims the row (UPDATE ... WHERE outcome IS NULL), so
 *      two moderators deciding at once produce one decision. Then, when
 *      upheld: the sanction is lifted by sanction_lift_because (the
 *      decider, "appeal upheld"), and its credit event, if it has one, is
 *      offset by credit_event_offset (the credit module's own path, which
 *      does nothing when the event is already offset).
 *   4. Filing and deciding are network-log events ("sanction.appeal",
 *      "sanction.appeal.decided"); the lifting and the offset are their
 *      own "sanction" and "credit" events.
 *   5. The filer is told the outcome by ChanServ when online (the row is
 *      then marked told); otherwise the outcome waits in untold[] (loaded
 *      at start-up from told = 0) for sanction_login.
 *
 * Threads: loop thread only; store callbacks on the loop.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "credit/credit.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/group.h"
#include "irc/service.h"
#include "netlog/netlog.h"
#include "sanction/sanction.h"
#include "sanction/sanction_int.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

#define UNTOLD_MAX 10000 /* decided-while-offline outcomes kept in memory */

/* ---- outcomes not yet told (rule 5) ---- */

struct untold_outcome {
    int64_t appeal_id, sanction_id, account_id;
    bool upheld;
};
static struct untold_outcome *untold;
static size_t nuntold, untold_cap;

static void untold_push(int64_t appeal_id, int64_t sanction_id, int64_t account_id, bool upheld)
{
    if (nuntold >= UNTOLD_MAX) {
        memmove(untold, untold + 1, (nuntold - 1) * sizeof *untold);
        nuntold--;
    }
    if (nuntold == untold_cap) {
        untold_cap = untold_cap ? untold_cap * 2 : 8;
        untold = xrealloc(untold, untold_cap * sizeof *untold);
    }
    untold[nuntold++] = (struct untold_outcome){appeal_id, sanction_id, account_id, upheld};
}

static int load_untold(void *ud, const struct store_value *c, size_t n)
{
    if (n == 4)
        untold_push(c[0].i, c[1].i, c[2].i,
                    store_cell_text(&c[3]) && strcmp(store_cell_text(&c[3]), "upheld") == 0);
    return 0;
}

int sanction_appeal_load(char *err, size_t errlen)
{
    nuntold = 0;
    return store_load(sanction_store,
                      "SELECT id, sanction_id, account_id, outcome FROM sanction_appeals"
                      " WHERE outcome IS NOT NULL AND told = 0 ORDER BY id",
                      NULL, 0, load_untold, NULL, "sanction appeals", err, errlen);
}

static void mark_told(int64_t appeal_id)
{
    struct store_value b[] = {STORE_INT(appeal_id)};
    sanction_write("UPDATE sanction_appeals SET told = 1 WHERE id = ?", b, 1);
}

static const char *outcome_sentence(int64_t appeal_id, int64_t sanction_id, bool upheld)
{
    static char buf[240];
    if (upheld)
        snprintf(buf, sizeof buf,
                 "Your appeal %lld against sanction %lld was upheld: the sanction no longer "
                 "applies. /msg "
                 "ChanServ APPEALS shows the moderator's note.",
                 (long long)appeal_id, (long long)sanction_id);
    else
        snprintf(buf, sizeof buf,
                 "Your appeal %lld against sanction %lld was rejected: the sanction stands. /msg "
                 "ChanServ APPEALS shows the moderator's note.",
                 (long long)appeal_id, (long long)sanction_id);
    return buf;
}

static void tell_outcome(int64_t appeal_id, int64_t sanction_id, int64_t account_id, bool upheld)
{
    const struct account *a = account_find_id(account_id);
    if (!a)
        return;
    if (!a->online) {
        untold_push(appeal_id, sanction_id, account_id, upheld);
        return;
    }
    service_tell(&chanserv_service, a, "%s", outcome_sentence(appeal_id, sanction_id, upheld));
    mark_told(appeal_id);
}

void sanction_appeal_login(struct client *c)
{
    if (!c->acct)
        return;
    size_t k = 0;
    for (size_t i = 0; i < nuntold; i++) {
        const struct untold_outcome *u = &untold[i];
        if (u->account_id != c->acct->id) {
            untold[k++] = *u;
            continue;
        }
        service_notice(&chanserv_service, c, "While you were away: %s",
                       outcome_sentence(u->appeal_id, u->sanction_id, u->upheld));
        mark_told(u->appeal_id);
    }
    nuntold = k;
}

/* ---- listing ---- */

#define APPEAL_COLUMNS                                                                             \
    "SELECT a.id, a.sanction_id, a.account_id, a.text, a.filed_at, a.outcome, a.decided_by,"       \
    " a.decided_at, a.note, s.kind, s.subject_id, s.reason, s.author, s.credit_event"              \
    " FROM sanction_appeals a JOIN sanctions s ON s.id = a.sanction_id"
#define APPEAL_NCOLUMNS 14

static void appeal_from_row(const struct store_value *c, struct sanction_appeal *ap)
{
    *ap = (struct sanction_appeal){
        .id = c[0].i,
        .sanction_id = c[1].i,
        .account_id = c[2].i,
        .text = store_cell_text(&c[3]) ? store_cell_text(&c[3]) : "",
        .filed_at = c[4].i,
        .outcome = store_cell_text(&c[5]),
        .decided_by = store_cell_text(&c[6]),
        .decided_at = store_cell_int(&c[7]),
        .note = store_cell_text(&c[8]),
        .kind = store_cell_text(&c[9]) ? store_cell_text(&c[9]) : "",
        .subject_id = c[10].i,
        .sanction_reason = store_cell_text(&c[11]) ? store_cell_text(&c[11]) : "",
        .sanction_author = store_cell_text(&c[12]) ? store_cell_text(&c[12]) : "system",
    };
}

struct list_read {
    sanction_appeal_row row;
    sanction_done_cb done;
    void *ud;
};

static int list_row(void *ud, const struct store_value *c, size_t n)
{
    struct list_read *r = ud;
    if (n != APPEAL_NCOLUMNS)
        return 0;
    struct sanction_appeal ap;
    appeal_from_row(c, &ap);
    r->row(r->ud, &ap);
    return 0;
}

static void list_done(void *ud, int status, const char *err)
{
    struct list_read *r = ud;
    if (status != STORE_OK)
        log_error("sanctions: appeals read failed: %s", err ? err : store_status_name(status));
    r->done(r->ud, status == STORE_OK ? 0 : -1);
    free(r);
}

int sanction_appeals_open_count(void (*cb)(void *ud, int status, int64_t n), void *ud)
{
    if (!sanction_store)
        return -1;
    return store_count(sanction_store,
                       "SELECT count(*) FROM sanction_appeals WHERE outcome IS NULL", NULL, 0,
                       "open sanction appeals", cb, ud) == STORE_OK
               ? 0
               : -1;
}

int sanction_appeals_list(int64_t account_id, const char *state, int limit, sanction_appeal_row row,
                          sanction_done_cb done, void *ud)
{
    if (!sanction_store)
        return -1;
    if (!state)
        state = "all";
    limit = limit < 1 ? 1 : limit > SANCTION_APPEAL_LIST ? SANCTION_APPEAL_LIST : limit;
    struct list_read *r = xcalloc(1, sizeof *r);
    *r = (struct list_read){row, done, ud};
    struct store_value b[] = {STORE_INT(account_id), STORE_INT(account_id), STORE_TEXT(state),
                              STORE_TEXT(state),     STORE_TEXT(state),     STORE_TEXT(state),
                              STORE_INT(limit)};
    if (store_query(sanction_store,
                    APPEAL_COLUMNS " WHERE (? = 0 OR a.account_id = ?)"
                                   " AND (? = 'all' OR (? = 'open' AND a.outcome IS NULL)"
                                   "  OR (? = 'decided' AND a.outcome IS NOT NULL)"
                                   "  OR a.outcome = ?)"
                                   " ORDER BY a.id DESC LIMIT ?",
                    b, 7, list_row, list_done, r) != STORE_OK) {
        free(r);
        return -1;
    }
    return 0;
}

/* ---- one job: filing or deciding ---- */

struct appeal_job {
    int64_t appeal_id, sanction_id, account_id, credit_event, offset_event;
    char *text, *note, *actor, *author, *kind;
    char *filer; /* the filer's account name, for the log */
    bool uphold, found, decided, lifted;
    sanction_appeal_cb cb;
    void *ud;
};

static void job_finish(struct appeal_job *j, int status, const char *sentence)
{
    struct sanction_appeal_result r = {
        .status = status,
        .sentence = sentence,
        .appeal_id = j->appeal_id,
        .sanction_id = j->sanction_id,
        .offset_event_id = j->offset_event,
        .upheld = j->uphold,
        .lifted = j->lifted,
    };
    j->cb(j->ud, &r);
    free(j->text);
    free(j->note);
    free(j->actor);
    free(j->author);
    free(j->kind);
    free(j->filer);
    free(j);
}

static void job_netlog(const char *kind, const char *actor, const struct appeal_job *j,
                       const char *outcome)
{
    json_t *o = json_pack("{s:I, s:I}", "appeal", (json_int_t)j->appeal_id, "sanction",
                          (json_int_t)j->sanction_id);
    if (j->kind)
        json_object_set_new(o, "kind", json_string(j->kind));
    if (j->text)
        json_object_set_new(o, "text", json_string(j->text));
    if (outcome)
        json_object_set_new(o, "outcome", json_string(outcome));
    if (j->note)
        json_object_set_new(o, "note", json_string(j->note));
    if (outcome && j->uphold)
        json_object_set_new(o, "lifted", json_boolean(j->lifted));
    if (j->offset_event)
        json_object_set_new(o, "offset_event", json_integer(j->offset_event));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    if (netlog_record(kind, actor, j->filer ? j->filer : "", 0, j->account_id, NULL, body) < 0)
        log_error("sanctions: appeal %lld not in the network log", (long long)j->appeal_id);
    free(body);
}

/* ---- filing ---- */

static void filed(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct appeal_job *j = ud;
    char s[240];
    if (status == STORE_ERR_CONSTRAINT) {
        snprintf(s, sizeof s, "Sanction %lld already has an open appeal; wait for its decision.",
                 (long long)j->sanction_id);
        job_finish(j, SANCTION_APPEAL_OPEN, s);
        return;
    }
    if (status != STORE_OK) {
        job_finish(j, SANCTION_APPEAL_STORE, "The appeal could not be stored; try again later.");
        return;
    }
    j->appeal_id = last_id;
    job_netlog("sanction.appeal", j->filer, j, NULL);
    snprintf(s, sizeof s,
             "Appeal %lld against sanction %lld is filed; a platform moderator will decide it and "
             "you will be told the outcome.",
             (long long)last_id, (long long)j->sanction_id);
    job_finish(j, SANCTION_APPEAL_OK, s);
}

/* Whether a may appeal s; otherwise a sentence in s_out (rule 1). */
static int may_file(const struct account *a, int64_t id, char *out, size_t len)
{
    const struct sanction *s = sanction_find(id);
    if (!s) {
        if (sanction_existed(id)) {
            snprintf(out, len,
                     "Sanction %lld is no longer active (lifted or expired): there is nothing to "
                     "appeal.",
                     (long long)id);
            return SANCTION_APPEAL_INACTIVE;
        }
        snprintf(out, len, "There is no sanction %lld; its notice from ChanServ gives its number.",
                 (long long)id);
        return SANCTION_APPEAL_NOT_FOUND;
    }
    if (s->kind == SANCTION_BLACKLIST_REVIEW || s->kind == SANCTION_CLOSED) {
        snprintf(out, len,
                 "Sanction %lld (%s) cannot be appealed here: write to the platform's moderators "
                 "quoting it.",
                 (long long)id, sanction_kind_name(s->kind));
        return SANCTION_APPEAL_INACTIVE;
    }
    if (sanction_kind_is_group(s->kind)) {
        const struct channel *ch = group_find_code(s->subject);
        if (!ch || ch->owner_id != a->id) {
            snprintf(out, len, "Only the owner of group %lld may appeal sanction %lld.",
                     (long long)s->subject, (long long)id);
            return SANCTION_APPEAL_NOT_YOURS;
        }
    } else if (s->subject != a->id) {
        snprintf(out, len, "Sanction %lld is not yours: only its subject may appeal it.",
                 (long long)id);
        return SANCTION_APPEAL_NOT_YOURS;
    }
    return SANCTION_APPEAL_OK;
}

void sanction_appeal_file(struct account *a, int64_t sanction_id, const char *text,
                          sanction_appeal_cb cb, void *ud)
{
    struct appeal_job *j = xcalloc(1, sizeof *j);
    j->sanction_id = sanction_id;
    j->account_id = a->id;
    j->filer = xstrdup(a->name);
    j->cb = cb;
    j->ud = ud;
    size_t len = text ? strlen(text) : 0;
    char s[300];
    if (len == 0 || len > SANCTION_APPEAL_TEXT) {
        snprintf(s, sizeof s,
                 "An appeal needs a text of 1 to %d bytes saying why the sanction is wrong.",
                 SANCTION_APPEAL_TEXT);
        job_finish(j, SANCTION_APPEAL_BAD, s);
        return;
    }
    int st = may_file(a, sanction_id, s, sizeof s);
    if (st != SANCTION_APPEAL_OK) {
        job_finish(j, st, s);
        return;
    }
    j->text = xstrdup(text);
    j->kind = xstrdup(sanction_kind_name(sanction_find(sanction_id)->kind));
    struct store_value b[] = {STORE_INT(sanction_id), STORE_INT(a->id), STORE_TEXT(j->text),
                              STORE_INT(qclock_now())};
    if (!sanction_store ||
        store_exec_write(sanction_store,
                         "INSERT INTO sanction_appeals (sanction_id, account_id, text, filed_at)"
                         " VALUES (?, ?, ?, ?)",
                         b, 4, filed, j) != STORE_OK)
        job_finish(j, SANCTION_APPEAL_STORE, "The appeal could not be stored; try again later.");
}

/* ---- deciding ---- */

static void decided(struct appeal_job *j)
{
    job_netlog("sanction.appeal.decided", j->actor, j, j->uphold ? "upheld" : "rejected");
    tell_outcome(j->appeal_id, j->sanction_id, j->account_id, j->uphold);
    char s[300];
    if (!j->uphold)
        snprintf(s, sizeof s, "Appeal %lld rejected: sanction %lld stands.",
                 (long long)j->appeal_id, (long long)j->sanction_id);
    else if (j->offset_event)
        snprintf(s, sizeof s,
                 "Appeal %lld upheld: sanction %lld is %s and its credit event %lld is offset by "
                 "event %lld.",
                 (long long)j->appeal_id, (long long)j->sanction_id,
                 j->lifted ? "lifted" : "already over", (long long)j->credit_event,
                 (long long)j->offset_event);
    else
        snprintf(s, sizeof s, "Appeal %lld upheld: sanction %lld is %s.", (long long)j->appeal_id,
                 (long long)j->sanction_id, j->lifted ? "lifted" : "already over");
    job_finish(j, SANCTION_APPEAL_OK, s);
}

static void offset_done(void *ud, int status, int64_t event_id, int score)
{
    struct appeal_job *j = ud;
    if (status < 0)
        log_error("sanctions: appeal %lld upheld but credit event %lld not offset (store)",
                  (long long)j->appeal_id, (long long)j->credit_event);
    if (status == 0)
        j->offset_event = event_id;
    decided(j);
}

static void claimed(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct appeal_job *j = ud;
    char s[200];
    if (status != STORE_OK) {
        job_finish(j, SANCTION_APPEAL_STORE, "The decision could not be stored; try again.");
        return;
    }
    if (changes != 1) {
        snprintf(s, sizeof s, "Appeal %lld was decided by someone else meanwhile.",
                 (long long)j->appeal_id);
        job_finish(j, SANCTION_APPEAL_DECIDED, s);
        return;
    }
    if (!j->uphold) {
        decided(j);
        return;
    }
    char why[400];
    j->lifted =
        sanction_find(j->sanction_id) &&
        sanction_lift_because(j->sanction_id, j->actor, "appeal upheld", why, sizeof why) == 0;
    if (j->credit_event > 0)
        credit_event_offset(j->credit_event, j->actor, "sanction appeal upheld", offset_done, j);
    else
        decided(j);
}

static int decide_row(void *ud, const struct store_value *c, size_t n)
{
    struct appeal_job *j = ud;
    if (n != APPEAL_NCOLUMNS)
        return 0;
    struct sanction_appeal ap;
    appeal_from_row(c, &ap);
    j->found = true;
    j->decided = ap.outcome != NULL;
    j->sanction_id = ap.sanction_id;
    j->account_id = ap.account_id;
    j->credit_event = store_cell_int(&c[13]);
    j->author = xstrdup(ap.sanction_author);
    j->kind = xstrdup(ap.kind);
    const struct account *a = account_find_id(ap.account_id);
    j->filer = xstrdup(a ? a->name : "");
    return 0;
}

static void decide_read(void *ud, int status, const char *err)
{
    struct appeal_job *j = ud;
    char s[300];
    if (status != STORE_OK || !sanction_store) {
        job_finish(j, SANCTION_APPEAL_STORE, "The appeals cannot be read now; try again.");
        return;
    }
    if (!j->found) {
        snprintf(s, sizeof s, "There is no sanction appeal %lld (sanctions appeals lists them).",
                 (long long)j->appeal_id);
        job_finish(j, SANCTION_APPEAL_NOT_FOUND, s);
        return;
    }
    if (j->decided) {
        snprintf(s, sizeof s, "Appeal %lld is decided already.", (long long)j->appeal_id);
        job_finish(j, SANCTION_APPEAL_DECIDED, s);
        return;
    }
    if (strcmp(j->author, j->actor) == 0) {
        snprintf(s, sizeof s,
                 "You (%.60s) imposed sanction %lld yourself, so another moderator must decide "
                 "appeal %lld against it.",
                 j->actor, (long long)j->sanction_id, (long long)j->appeal_id);
        job_finish(j, SANCTION_APPEAL_SAME_AUTHOR, s);
        return;
    }
    struct store_value b[] = {STORE_TEXT(j->uphold ? "upheld" : "rejected"), STORE_TEXT(j->actor),
                              STORE_INT(qclock_now()), j->note ? STORE_TEXT(j->note) : STORE_NULL(),
                              STORE_INT(j->appeal_id)};
    if (store_exec_write(sanction_store,
                         "UPDATE sanction_appeals SET outcome = ?, decided_by = ?, decided_at = ?,"
                         " note = ? WHERE id = ? AND outcome IS NULL",
                         b, 5, claimed, j) != STORE_OK)
        job_finish(j, SANCTION_APPEAL_STORE, "The decision could not be stored; try again.");
}

void sanction_appeal_decide(int64_t appeal_id, bool uphold, const char *note, const char *actor,
                            sanction_appeal_cb cb, void *ud)
{
    struct appeal_job *j = xcalloc(1, sizeof *j);
    j->appeal_id = appeal_id;
    j->uphold = uphold;
    j->cb = cb;
    j->ud = ud;
    j->actor = xstrdup(actor);
    if (note && strlen(note) > SANCTION_APPEAL_TEXT) {
        char s[120];
        snprintf(s, sizeof s, "The note is too long (%d bytes at most).", SANCTION_APPEAL_TEXT);
        job_finish(j, SANCTION_APPEAL_BAD, s);
        return;
    }
    j->note = note && *note ? xstrdup(note) : NULL;
    struct store_value b[] = {STORE_INT(appeal_id)};
    if (!sanction_store || store_query(sanction_store, APPEAL_COLUMNS " WHERE a.id = ?", b, 1,
                                       decide_row, decide_read, j) != STORE_OK)
        job_finish(j, SANCTION_APPEAL_STORE, "The appeals cannot be read now; try again.");
}
