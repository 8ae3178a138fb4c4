/*
 * sanction_appeal.c - appeals against sanctions (SPEC §7: "Every sanction:
 * ... told to the subject with its reason and how to appeal"; moderators
 * "handle appeals"), the second kind of the appeals core beside credit
 * appeals (credit/appeal.c).
 *
 * An appeal is a row of sanction_appeals (store schema step 6): open
 * (outcome NULL) until a platform moderator decides it "upheld" or
 * "rejected". Listing, counting, filing and claim-then-decide are the
 * appeals core's (appeal/appeal_core.c, its rules 1-4); this file is the
 * sanction kind (sanction_appeal_kind): its table, words and hooks, and
 * the telling of outcomes. Rules:
 *   1. Filing: the sanction is active; a person sanction is appealed by its
 *      subject, a group sanction by its group's owner; a closure (which
 *      cannot be lifted) and a blacklist review (an internal queue entry)
 *      are not appealable here (may_file, run by sanction_file_check).
 *      One open appeal per sanction (a partial unique index); a text of
 *      1..SANCTION_APPEAL_TEXT bytes (both in the core).
 *   2. The decider is not the sanction's author (compared as actor
 *      strings, "unix:alice" against sanctions.author, which
 *      sanction_decide_row keeps for the core's check).
 *   3. Deciding first claims the row (UPDATE ... WHERE outcome IS NULL, in
 *      the core), so two moderators deciding at once produce one decision.
 *      Then, when upheld (sanction_upheld): the sanction is lifted by
 *      sanction_lift_because (the decider, "appeal upheld"), and its credit
 *      event, if it has one, is offset by credit_event_offset (the credit
 *      module's own path, which does nothing when the event is already
 *      offset).
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
#include "appeal/appeal_core.h"
#include "credit/credit.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/group.h"
#include "irc/service.h"
#include "sanction/sanction.h"
#include "sanction/sanction_int.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/log.h"

_Static_assert((int)SANCTION_APPEAL_OK == APPEAL_OK &&
                   (int)SANCTION_APPEAL_NOT_FOUND == APPEAL_NOT_FOUND &&
                   (int)SANCTION_APPEAL_OPEN == APPEAL_OPEN &&
                   (int)SANCTION_APPEAL_DECIDED == APPEAL_DECIDED &&
                   (int)SANCTION_APPEAL_SAME_AUTHOR == APPEAL_SAME_AUTHOR &&
                   (int)SANCTION_APPEAL_STORE == APPEAL_STORE &&
                   (int)SANCTION_APPEAL_BAD == APPEAL_BAD,
               "sanction appeal statuses are the core's");

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

/* ---- the sanction kind of appeal ---- */

#define SANCTION_APPEAL_SELECT                                                                     \
    "SELECT a.id, a.sanction_id" APPEAL_SQL_COLUMNS                                                \
    ", s.kind, s.subject_id, s.reason, s.author, s.credit_event"                                   \
    " FROM sanction_appeals a JOIN sanctions s ON s.id = a.sanction_id"

struct sanction_appeal_job {
    struct appeal_job base; /* first: the core's part */
    int64_t credit_event;   /* deciding: the sanction's credit event (0: none) */
    char *kind;             /* the sanction's kind name, for the log */
    char *filer;            /* the filer's account name, for the log */
    bool lifted;
    sanction_appeal_cb cb;
    void *ud;
};

static struct sanction_appeal_job *sanction_job(struct appeal_job *j)
{
    return (struct sanction_appeal_job *)j;
}

static struct store *appeal_store(void)
{
    return sanction_store;
}

static void appeal_from_row(const struct store_value *c, struct sanction_appeal *ap)
{
    *ap = (struct sanction_appeal){
        APPEAL_ROW_FIELDS(c, sanction_id),
        .kind = store_cell_text(&c[9]) ? store_cell_text(&c[9]) : "",
        .subject_id = c[10].i,
        .sanction_reason = store_cell_text(&c[11]) ? store_cell_text(&c[11]) : "",
        .sanction_author = store_cell_text(&c[12]) ? store_cell_text(&c[12]) : "system",
    };
}

static void sanction_deliver_row(const struct store_value *c, appeal_fn row, void *ud)
{
    struct sanction_appeal ap;
    appeal_from_row(c, &ap);
    ((sanction_appeal_row)row)(ud, &ap);
}

static void sanction_finish(struct appeal_job *base, int status, const char *sentence)
{
    struct sanction_appeal_job *j = sanction_job(base);
    struct sanction_appeal_result r = {
        .status = status,
        .sentence = sentence,
        .appeal_id = base->appeal_id,
        .sanction_id = base->subject_id,
        .offset_event_id = base->offset_event,
        .upheld = base->uphold,
        .lifted = j->lifted,
    };
    j->cb(j->ud, &r);
    free(j->kind);
    free(j->filer);
}

static void sanction_log_target(const struct appeal_job *base, const char **target,
                                int64_t *account_id)
{
    const struct sanction_appeal_job *j = (const struct sanction_appeal_job *)base;
    *target = j->filer ? j->filer : "";
    *account_id = base->account_id;
}

static void sanction_log_head(const struct appeal_job *base, json_t *o)
{
    const struct sanction_appeal_job *j = (const struct sanction_appeal_job *)base;
    if (j->kind)
        json_object_set_new(o, "kind", json_string(j->kind));
}

static void sanction_log_tail(const struct appeal_job *base, json_t *o, const char *outcome)
{
    const struct sanction_appeal_job *j = (const struct sanction_appeal_job *)base;
    if (outcome && base->uphold)
        json_object_set_new(o, "lifted", json_boolean(j->lifted));
}

/* ---- filing ---- */

/* Whether account_id may appeal sanction id; otherwise a sentence in out
 * (rule 1). */
static int may_file(int64_t account_id, int64_t id, char *out, size_t len)
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
        if (!ch || ch->owner_id != account_id) {
            snprintf(out, len, "Only the owner of group %lld may appeal sanction %lld.",
                     (long long)s->subject, (long long)id);
            return SANCTION_APPEAL_NOT_YOURS;
        }
    } else if (s->subject != account_id) {
        snprintf(out, len, "Sanction %lld is not yours: only its subject may appeal it.",
                 (long long)id);
        return SANCTION_APPEAL_NOT_YOURS;
    }
    return SANCTION_APPEAL_OK;
}

static void sanction_file_check(struct appeal_job *base)
{
    char s[300];
    int st = may_file(base->account_id, base->subject_id, s, sizeof s);
    if (st != SANCTION_APPEAL_OK) {
        appeal_finish(base, st, s);
        return;
    }
    sanction_job(base)->kind = xstrdup(sanction_kind_name(sanction_find(base->subject_id)->kind));
    appeal_file_store(base, "INSERT INTO sanction_appeals (sanction_id, account_id, text, filed_at)"
                            " VALUES (?, ?, ?, ?)");
}

/* ---- deciding ---- */

static void sanction_decide_row(struct appeal_job *base, const struct store_value *c)
{
    struct sanction_appeal_job *j = sanction_job(base);
    struct sanction_appeal ap;
    appeal_from_row(c, &ap);
    j->credit_event = store_cell_int(&c[13]);
    base->author = xstrdup(ap.sanction_author);
    j->kind = xstrdup(ap.kind);
    const struct account *a = account_find_id(ap.account_id);
    j->filer = xstrdup(a ? a->name : "");
}

/* The core's author check and claim (rules 2 and 3): no checks of its own. */
static void sanction_claim(struct appeal_job *base)
{
    appeal_claim(base, "UPDATE sanction_appeals" APPEAL_SQL_CLAIM_SET);
}

static void offset_done(void *ud, int status, int64_t event_id, int score)
{
    struct sanction_appeal_job *j = ud;
    if (status < 0)
        log_error("sanctions: appeal %lld upheld but credit event %lld not offset (store)",
                  (long long)j->base.appeal_id, (long long)j->credit_event);
    if (status == 0)
        j->base.offset_event = event_id;
    appeal_decided(&j->base);
}

/* The appeal is claimed as upheld (rule 3): lift, offset, then the core's
 * decided. */
static void sanction_upheld(struct appeal_job *base)
{
    struct sanction_appeal_job *j = sanction_job(base);
    char why[400];
    j->lifted =
        sanction_find(base->subject_id) &&
        sanction_lift_because(base->subject_id, base->actor, "appeal upheld", why, sizeof why) == 0;
    if (j->credit_event > 0)
        credit_event_offset(j->credit_event, base->actor, "sanction appeal upheld", offset_done, j);
    else
        appeal_decided(base);
}

/* The decision is logged: the filer is told (rule 5); the decider's sentence. */
static void sanction_decided(struct appeal_job *base, char *s, size_t len)
{
    struct sanction_appeal_job *j = sanction_job(base);
    tell_outcome(base->appeal_id, base->subject_id, base->account_id, base->uphold);
    if (!base->uphold)
        snprintf(s, len, "Appeal %lld rejected: sanction %lld stands.", (long long)base->appeal_id,
                 (long long)base->subject_id);
    else if (base->offset_event)
        snprintf(s, len,
                 "Appeal %lld upheld: sanction %lld is %s and its credit event %lld is offset by "
                 "event %lld.",
                 (long long)base->appeal_id, (long long)base->subject_id,
                 j->lifted ? "lifted" : "already over", (long long)j->credit_event,
                 (long long)base->offset_event);
    else
        snprintf(s, len, "Appeal %lld upheld: sanction %lld is %s.", (long long)base->appeal_id,
                 (long long)base->subject_id, j->lifted ? "lifted" : "already over");
}

static const struct appeal_kind sanction_appeal_kind = {
    .log_name = "sanctions",
    .store = appeal_store,
    .job_size = sizeof(struct sanction_appeal_job),
    .ncolumns = 14,
    .list_decided = true,
    .list_max = SANCTION_APPEAL_LIST,
    .text_max = SANCTION_APPEAL_TEXT,
    .subject = "sanction",
    .subject_cap = "Sanction",
    .decider = "a platform moderator",
    .authored = "imposed sanction",
    .appeal_name = "sanction appeal",
    .list_hint = "sanctions appeals lists them",
    .log_filed = "sanction.appeal",
    .log_decided = "sanction.appeal.decided",
    .log_target = sanction_log_target,
    .log_head = sanction_log_head,
    .log_tail = sanction_log_tail,
    .deliver_row = sanction_deliver_row,
    .file_check = sanction_file_check,
    .decide_row = sanction_decide_row,
    .claim = sanction_claim,
    .upheld = sanction_upheld,
    .decided = sanction_decided,
    .finish = sanction_finish,
};

/* ---- the public functions (sanction.h) ---- */

int sanction_appeals_open_count(void (*cb)(void *ud, int status, int64_t n), void *ud)
{
    return appeal_open_count(&sanction_appeal_kind,
                             "SELECT count(*) FROM sanction_appeals WHERE outcome IS NULL",
                             "open sanction appeals", cb, ud);
}

int sanction_appeals_list(int64_t account_id, const char *state, int limit, sanction_appeal_row row,
                          sanction_done_cb done, void *ud)
{
    return appeal_list(&sanction_appeal_kind, SANCTION_APPEAL_SELECT APPEAL_SQL_LIST_DECIDED_WHERE,
                       account_id, state, limit, (appeal_fn)row, done, ud);
}

static struct sanction_appeal_job *sanction_job_new(sanction_appeal_cb cb, void *ud)
{
    struct sanction_appeal_job *j = sanction_job(appeal_job_new(&sanction_appeal_kind));
    j->cb = cb;
    j->ud = ud;
    return j;
}

void sanction_appeal_file(struct account *a, int64_t sanction_id, const char *text,
                          sanction_appeal_cb cb, void *ud)
{
    struct sanction_appeal_job *j = sanction_job_new(cb, ud);
    j->base.subject_id = sanction_id;
    j->base.account_id = a->id;
    j->filer = xstrdup(a->name);
    appeal_file(&j->base, text);
}

void sanction_appeal_decide(int64_t appeal_id, bool uphold, const char *note, const char *actor,
                            sanction_appeal_cb cb, void *ud)
{
    appeal_decide(&sanction_job_new(cb, ud)->base, SANCTION_APPEAL_SELECT " WHERE a.id = ?",
                  appeal_id, uphold, note, actor);
}
