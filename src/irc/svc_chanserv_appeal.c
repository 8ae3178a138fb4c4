/*
 * svc_chanserv_appeal.c - ChanServ APPEAL <sanction id> <text> and
 * APPEALS: the IRC face of appeals against sanctions (the rules are in
 * sanction/sanction_appeal.c; this file only asks and answers).
 *
 * ChanServ is the voice that tells sanctions, so it also takes their
 * appeals. Both commands need a login and are asynchronous over the store:
 * the client is held (service_hold) from the command to its answer,
 * exactly once resumed.
 *
 * Threads: loop only.
 */
#include "irc/svc_chanserv_appeal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account/account.h"
#include "irc/client.h"
#include "irc/service.h"
#include "sanction/sanction.h"
#include "util/alloc.h"

#define csa_notice(c, ...) service_notice(&chanserv_service, (c), __VA_ARGS__)
#define CSA_LINES          20 /* appeals shown by APPEALS */

/* ---- APPEAL ---- */

static void csa_filed(void *ud, const struct sanction_appeal_result *r)
{
    struct client *c = service_resume(ud);
    if (c)
        csa_notice(c, "%s", r->sentence);
}

void cs_appeal(struct client *c, int argc, char **argv)
{
    (void)argc;
    char *end;
    long long id = strtoll(argv[0], &end, 10);
    if (*end || id <= 0) {
        csa_notice(c, "Give the number of the sanction (its notice from ChanServ shows it), then "
                      "why it is wrong: APPEAL <sanction id> <text>.");
        return;
    }
    sanction_appeal_file(c->acct, id, argv[1], csa_filed, service_hold(c));
}

/* ---- APPEALS ---- */

struct csa_list {
    void *hold;
    char *lines[CSA_LINES];
    size_t n;
};

static void csa_date(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
}

static void csa_row(void *ud, const struct sanction_appeal *ap)
{
    struct csa_list *l = ud;
    if (l->n >= CSA_LINES)
        return;
    char filed[40], decided[40], line[480];
    csa_date(ap->filed_at, filed, sizeof filed);
    if (!ap->outcome) {
        snprintf(line, sizeof line, "Appeal %lld on sanction %lld (%.40s), filed %s: open.",
                 (long long)ap->id, (long long)ap->sanction_id, ap->kind, filed);
    } else {
        csa_date(ap->decided_at, decided, sizeof decided);
        snprintf(line, sizeof line,
                 "Appeal %lld on sanction %lld (%.40s), filed %s: %s on %s%s%.200s.",
                 (long long)ap->id, (long long)ap->sanction_id, ap->kind, filed, ap->outcome,
                 decided, ap->note ? "; note: " : "", ap->note ? ap->note : "");
    }
    l->lines[l->n++] = xstrdup(line);
}

static void csa_listed(void *ud, int status)
{
    struct csa_list *l = ud;
    struct client *c = service_resume(l->hold);
    if (c) {
        if (status != 0)
            csa_notice(c, "Your appeals cannot be read right now; try again later.");
        else if (l->n == 0)
            csa_notice(c, "You have no sanction appeals. APPEAL <sanction id> <text> contests "
                          "one of your sanctions.");
        for (size_t i = 0; status == 0 && i < l->n; i++)
            csa_notice(c, "%s", l->lines[i]);
        if (status == 0 && l->n)
            csa_notice(c, "End of sanction appeals (%zu shown, newest first).", l->n);
    }
    for (size_t i = 0; i < l->n; i++)
        free(l->lines[i]);
    free(l);
}

void cs_appeals(struct client *c, int argc, char **argv)
{
    (void)argv;
    if (argc > 0) {
        csa_notice(c, "APPEALS takes no argument: it lists your own sanction appeals.");
        return;
    }
    struct csa_list *l = xcalloc(1, sizeof *l);
    l->hold = service_hold(c);
    if (sanction_appeals_list(c->acct->id, NULL, CSA_LINES, csa_row, csa_listed, l) != 0)
        csa_listed(l, -1);
}
