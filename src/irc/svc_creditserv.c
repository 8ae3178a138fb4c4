/*
 * svc_creditserv.c - the CreditServ service (SPEC §6): a user sees their
 * own credit score, level, privileges and ledger, and appeals their own
 * credit events. "/msg CreditServ <command>".
 *
 * Rules:
 *   1. Every command needs a login and is about the logged-in account
 *      only: no command takes another account's name, so nobody sees
 *      anyone else's credit (operators use qunctl credit show / ledger).
 *   2. The work is done by src/credit/ (credit_level, credit_ledger,
 *      credit_appeal_file, credit_appeals_list); this file only words it.
 *   3. Reads are asynchronous: the client is held (service_hold) and the
 *      answer lines are gathered, at most SVC_CR_LINES, then sent at once.
 *
 * Threads: loop only.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
#include "credit/credit.h"
#include "irc/client.h"
#include "irc/server.h"
#include "irc/service.h"
#include "util/alloc.h"
#include "util/clock.h"

#define SVC_CR_LINES          60
#define SVC_CR_LEDGER_DEFAULT 10
#define SVC_CR_LEDGER_MAX     50

#define cr_notice(c, ...) service_notice(&creditserv_service, (c), __VA_ARGS__)

static void cr_date(int64_t t, char *out, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    strftime(out, len, "%Y-%m-%d %H:%M UTC", gmtime_r(&tt, &tm));
}

/* ---- INFO ---- */

/* "may post in groups (10 messages per 10 s), own up to 3 groups of up to
 * 200 members, ..." for one level row. */
static void cr_privileges(const struct config_credit_level *lv, char *out, size_t len)
{
    char post[80], own[80];
    if (!lv->post)
        snprintf(post, sizeof post, "may not post in groups");
    else if (lv->rate > 0)
        snprintf(post, sizeof post, "may post in groups (%d messages per 10 s)", lv->rate);
    else
        snprintf(post, sizeof post, "may post in groups");
    if (lv->manage && lv->groups_owned > 0)
        snprintf(own, sizeof own, "own up to %d group%s of up to %d members", lv->groups_owned,
                 lv->groups_owned == 1 ? "" : "s", lv->members);
    else
        snprintf(own, sizeof own, "may not own groups");
    snprintf(out, len, "%s; %s; join up to %d groups; %s", post, own, lv->groups_joined,
             lv->manage ? "may manage groups" : "may not manage groups");
}

/* Rule 1: nobody names another account. */
static bool cr_only_own(struct client *c, int argc, const char *cmd)
{
    if (argc == 0)
        return true;
    cr_notice(c,
              "CreditServ shows only your own credit: %s takes no account name, and nobody else "
              "can see yours.",
              cmd);
    return false;
}

static void cr_info(struct client *c, int argc, char **argv)
{
    struct account *a = c->acct;
    if (!cr_only_own(c, argc, "INFO"))
        return;
    int score = credit_score(a);
    const struct config_credit_level *lv = credit_level_of_score(score);
    char priv[300];
    cr_privileges(lv, priv, sizeof priv);
    cr_notice(c, "Account %s: credit score %d, level %c. Level %c: %s.", a->name, score, lv->level,
              lv->level, priv);
    int step = credit_recovery_step(score);
    if (step <= 0) {
        cr_notice(c,
                  "Recovery adds nothing at %d or above (it stops at %d); /msg CreditServ "
                  "LEDGER shows your events.",
                  CREDIT_RECOVERY_CAP, CREDIT_RECOVERY_CAP);
        return;
    }
    int64_t next = credit_recovery_base(a) + CREDIT_RECOVERY_PERIOD;
    if (next < qclock_now())
        next = qclock_now();
    char when[40];
    cr_date(next, when, sizeof when);
    cr_notice(c,
              "Next recovery: +%d around %s if there is no violation before (recovery stops at "
              "%d); /msg CreditServ LEDGER shows your events.",
              step, when, CREDIT_RECOVERY_CAP);
}

/* ---- gathered answers ---- */

struct cr_answer {
    void *hold;
    char *lines[SVC_CR_LINES];
    size_t n;
    size_t rows;
};

static void cr_add(struct cr_answer *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void cr_add(struct cr_answer *r, const char *fmt, ...)
{
    if (r->n >= SVC_CR_LINES)
        return;
    char buf[460];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    r->lines[r->n++] = xstrdup(buf);
}

static void cr_send(struct cr_answer *r, const char *last)
{
    struct client *c = service_resume(r->hold);
    for (size_t i = 0; i < r->n; i++) {
        if (c)
            cr_notice(c, "%s", r->lines[i]);
        free(r->lines[i]);
    }
    if (c && last)
        cr_notice(c, "%s", last);
    free(r);
}

/* ---- LEDGER ---- */

static void cr_ledger_row(void *ud, const struct credit_event *e)
{
    struct cr_answer *r = ud;
    char when[40], offset[40] = "";
    cr_date(e->at, when, sizeof when);
    if (e->offset_by)
        snprintf(offset, sizeof offset, " (offset by #%" PRId64 ")", e->offset_by);
    cr_add(r, "#%" PRId64 " %+d %.60s evidence %.80s by %.60s %s%s", e->id, e->delta, e->reason,
           e->evidence ? e->evidence : "-", e->author, when, offset);
    r->rows++;
}

static void cr_ledger_done(void *ud, int status)
{
    struct cr_answer *r = ud;
    char last[200];
    if (status != 0)
        snprintf(last, sizeof last, "Your ledger cannot be read right now; try again later.");
    else if (r->rows == 0)
        snprintf(last, sizeof last, "Your ledger is empty: your score is the initial %d.",
                 server_config->credit_initial);
    else
        snprintf(last, sizeof last,
                 "End of ledger (%zu newest event%s shown). APPEAL <event id> <text> contests "
                 "one.",
                 r->rows, r->rows == 1 ? "" : "s");
    cr_send(r, last);
}

static void cr_ledger(struct client *c, int argc, char **argv)
{
    int count = SVC_CR_LEDGER_DEFAULT;
    if (argc > 0) {
        char *end;
        long n = strtol(argv[0], &end, 10);
        if (*end || n < 1 || n > SVC_CR_LEDGER_MAX || argc > 1) {
            cr_notice(c,
                      "LEDGER takes only a count from 1 to %d: CreditServ shows only your own "
                      "credit, and nobody else can see yours.",
                      SVC_CR_LEDGER_MAX);
            return;
        }
        count = (int)n;
    }
    struct cr_answer *r = xcalloc(1, sizeof *r);
    r->hold = service_hold(c);
    cr_add(r, "Credit ledger of %s (score %d), newest first:", c->acct->name,
           credit_score(c->acct));
    if (credit_ledger(c->acct->id, count, cr_ledger_row, cr_ledger_done, r) != 0)
        cr_send(r, "Your ledger cannot be read right now; try again later.");
}

/* ---- APPEAL ---- */

static void cr_appeal_answer(void *ud, const struct credit_appeal_result *res)
{
    struct client *c = service_resume(ud);
    if (c)
        cr_notice(c, "%s", res->sentence);
}

static void cr_appeal(struct client *c, int argc, char **argv)
{
    char *end;
    long long id = strtoll(argv[0], &end, 10);
    if (*end || id <= 0) {
        cr_notice(c, "Give the number of one of your credit events (LEDGER shows them), then "
                     "why it is wrong: APPEAL <event id> <text>.");
        return;
    }
    credit_appeal_file(c->acct, id, argv[1], cr_appeal_answer, service_hold(c));
}

/* ---- APPEALS ---- */

static void cr_appeals_row(void *ud, const struct credit_appeal *ap)
{
    struct cr_answer *r = ud;
    char filed[40], decided[40];
    cr_date(ap->filed_at, filed, sizeof filed);
    r->rows++;
    if (!ap->outcome) {
        cr_add(r, "Appeal %" PRId64 " on event #%" PRId64 " (%+d %.60s), filed %s: open.", ap->id,
               ap->event_id, ap->event_delta, ap->event_reason, filed);
        return;
    }
    cr_date(ap->decided_at, decided, sizeof decided);
    char offset[48] = "";
    if (ap->offset_event_id)
        snprintf(offset, sizeof offset, "; offset by event #%" PRId64, ap->offset_event_id);
    cr_add(r, "Appeal %" PRId64 " on event #%" PRId64 " (%+d %.60s), filed %s: %s on %s%s%s%.200s.",
           ap->id, ap->event_id, ap->event_delta, ap->event_reason, filed, ap->outcome, decided,
           offset, ap->note ? "; note: " : "", ap->note ? ap->note : "");
}

static void cr_appeals_done(void *ud, int status)
{
    struct cr_answer *r = ud;
    char last[160];
    if (status != 0)
        snprintf(last, sizeof last, "Your appeals cannot be read right now; try again later.");
    else if (r->rows == 0)
        snprintf(last, sizeof last,
                 "You have no appeals. APPEAL <event id> <text> contests a credit event.");
    else
        snprintf(last, sizeof last, "End of appeals (%zu shown, newest first).", r->rows);
    cr_send(r, last);
}

static void cr_appeals(struct client *c, int argc, char **argv)
{
    if (!cr_only_own(c, argc, "APPEALS"))
        return;
    struct cr_answer *r = xcalloc(1, sizeof *r);
    r->hold = service_hold(c);
    if (credit_appeals_list(c->acct->id, NULL, SVC_CR_LINES - 1, cr_appeals_row, cr_appeals_done,
                            r) != 0)
        cr_send(r, "Your appeals cannot be read right now; try again later.");
}

static const struct svc_cmd cr_commands[] = {
    {"INFO", 0, -1, true, cr_info, "INFO",
     "Shows your credit score, your level and every privilege of that level (posting and the "
     "message rate, groups you may own and their size, groups you may join, managing), and "
     "when recovery next adds points."},
    {"LEDGER", 0, -1, true, cr_ledger, "LEDGER [count]",
     "Lists your credit events, newest first (10 by default, at most 50): number, change, "
     "reason, evidence, author, date, and whether an upheld appeal offset it."},
    {"APPEAL", 2, 1, true, cr_appeal, "APPEAL <event id> <text>",
     "Contests one of your credit events: a moderator other than the event's author decides; "
     "if upheld, the event is offset. One open appeal per event."},
    {"APPEALS", 0, -1, true, cr_appeals, "APPEALS",
     "Lists your appeals and their outcome (open, upheld, rejected) with the moderator's note."},
};

const struct service creditserv_service = {
    .nick = "CreditServ",
    .about = "CreditServ shows your own credit (score, level, privileges, ledger) and takes "
             "your appeals.",
    .footer = "Only you see your credit: every command is about the account you are logged in "
              "to, and none names another account. Credit recovers by 10 points for each 30 "
              "days without a violation, up to 700.",
    .cmds = cr_commands,
    .ncmds = sizeof cr_commands / sizeof cr_commands[0],
    .wipe = false,
};
