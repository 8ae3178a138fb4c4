/*
 * svc_chanserv_held.c - ChanServ HELD <#group>, RELEASE <id> and REJECT
 * <id>: the review of messages held by an automatic rule (rules art. 10;
 * rules/held.h has the rows and the decisions, docs/rules.md the rules).
 *
 * Rights: the group's owner and managers (ROLE_MANAGER or better), checked
 * when the row has been read (the id names the group). Every command is
 * asynchronous over the store: the client is held (service_hold) from the
 * command to its answer, exactly once resumed.
 *
 * Threads: loop only.
 */
#include "irc/svc_chanserv_held.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account/account.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/group.h"
#include "irc/service.h"
#include "proto/utf8.h"
#include "rules/held.h"
#include "util/alloc.h"

#define csh_notice(c, ...) service_notice(&chanserv_service, (c), __VA_ARGS__)

/* ch when c manages it, else NULL after telling c why. */
static struct channel *csh_managed(struct client *c, struct channel *ch, const char *what)
{
    if (group_role_of(ch, c) < ROLE_MANAGER) {
        csh_notice(c, "Only the owner and managers of %s can %s.", ch->name, what);
        return NULL;
    }
    return ch;
}

/* ---- HELD ---- */

static void csh_listed(void *ud, int status, const struct held_row *rows, size_t n)
{
    struct client *c = service_resume(ud);
    if (!c)
        return;
    if (status != 0) {
        csh_notice(c, "The held messages cannot be read right now; try again in a moment.");
        return;
    }
    if (n == 0) {
        csh_notice(c, "No message waits for review in this group.");
        return;
    }
    for (size_t i = 0; i < n; i++) {
        const struct held_row *r = &rows[i];
        char when[32], snip[304];
        time_t t = (time_t)r->held_at;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
        size_t len = strlen(r->text), cut = utf8_truncate(r->text, len, 300);
        memcpy(snip, r->text, cut);
        strcpy(snip + cut, cut < len ? "..." : "");
        csh_notice(c, "%lld  %s  %s (account %s)  rule %s: %s", (long long)r->id, when, r->sender,
                   r->account, r->rule, snip);
    }
    csh_notice(c,
               "%zu message%s shown%s. RELEASE <id> delivers one; REJECT <id> drops it and "
               "applies its rule.",
               n, n == 1 ? "" : "s",
               n == HELD_LIST_MAX ? " (the oldest; decide them to see more)" : "");
}

void cs_held(struct client *c, int argc, char **argv)
{
    (void)argc;
    struct channel *ch = channel_find(argv[0]);
    if (!ch || !ch->code) {
        csh_notice(c, "There is no group %.60s.", argv[0]);
        return;
    }
    if (!csh_managed(c, ch, "review held messages"))
        return;
    void *ud = service_hold(c);
    if (held_list(ch->code, csh_listed, ud) != 0) {
        service_resume(ud);
        csh_notice(c, "The held messages cannot be read right now; try again in a moment.");
    }
}

/* ---- RELEASE and REJECT ---- */

struct csh_job {
    void *ud; /* service_hold */
    bool release;
    long long id;
};

static void csh_decided(void *ud, int result)
{
    struct csh_job *j = ud;
    struct client *c = service_resume(j->ud);
    if (c) {
        if (result == 0)
            csh_notice(c,
                       j->release ? "Held message %lld released: it is delivered to the group."
                                  : "Held message %lld rejected: it is dropped and its rule "
                                    "applied to its author.",
                       j->id);
        else if (result == 1)
            csh_notice(c, "Held message %lld was decided by someone else a moment ago.", j->id);
        else
            csh_notice(c,
                       "Held message %lld could not be %s (the group or the log is not "
                       "available).",
                       j->id, j->release ? "released" : "rejected");
    }
    free(j);
}

static void csh_got(void *ud, int status, const struct held_row *row)
{
    struct csh_job *j = ud;
    struct client *c = service_resume(j->ud);
    if (!c) {
        free(j);
        return;
    }
    const char *verb = j->release ? "release" : "reject";
    struct channel *ch = row ? group_find_code(row->code) : NULL;
    if (status != 0 || !row || !ch) {
        csh_notice(c,
                   status != 0 ? "Held messages cannot be read right now; try again."
                               : "There is no held message %lld in a live group.",
                   j->id);
        free(j);
        return;
    }
    if (!csh_managed(c, ch, j->release ? "release held messages" : "reject held messages")) {
        free(j);
        return;
    }
    if (row->decision) {
        csh_notice(c, "Held message %lld was already %s.", j->id, row->decision);
        free(j);
        return;
    }
    j->ud = service_hold(c);
    if (held_decide(row, j->release, c->acct, csh_decided, j) != 0) {
        service_resume(j->ud);
        csh_notice(c, "Held message %lld cannot be %sed right now; try again.", j->id, verb);
        free(j);
    }
}

static void csh_decide(struct client *c, const char *arg, bool release)
{
    char *end;
    long long id = strtoll(arg, &end, 10);
    if (*end || id <= 0) {
        csh_notice(c, "Give the number of a held message, as HELD <#group> shows it.");
        return;
    }
    struct csh_job *j = xcalloc(1, sizeof *j);
    j->release = release;
    j->id = id;
    j->ud = service_hold(c);
    if (held_get(id, csh_got, j) != 0) {
        service_resume(j->ud);
        csh_notice(c, "Held messages cannot be read right now; try again.");
        free(j);
    }
}

void cs_release(struct client *c, int argc, char **argv)
{
    (void)argc;
    csh_decide(c, argv[0], true);
}

void cs_reject(struct client *c, int argc, char **argv)
{
    (void)argc;
    csh_decide(c, argv[0], false);
}
