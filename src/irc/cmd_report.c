/*
 * cmd_report.c - REPORT <target> <category> :<text> (SPEC §8, rules
 * art. 12), and report_submit(), the one function both routes of filing a
 * complaint share: this command and "/msg ReportServ REPORT ..."
 * (svc_reportserv.c). They differ only in how the answer is worded:
 * standard replies here (NOTE REPORT FILED <id>, FAIL REPORT <CODE>; a
 * NOTICE too for clients without standard-replies), ReportServ NOTICEs
 * there.
 *
 * The target names what is reported:
 *   #name            a group (by its channel name)
 *   12345            a group (by its code)
 *   msgid=<id>       a message (the msgid tag of a group message)
 *   <nick|account>   a user: an online nick's account, else an account
 *   anything else    a message, looked up by msgid in the network log
 * The checks themselves (category, text, rate, membership) are the
 * complaint module's (complaint/complaint.h).
 *
 * The client is held (service_hold) while a message is looked up and the
 * complaint is stored, so the id is the next thing it sees.
 *
 * Threads: loop only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "complaint/complaint.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/group.h"
#include "irc/send.h"
#include "irc/service.h"
#include "irc/services.h"
#include "proto/message.h"
#include "util/alloc.h"

struct report_ctx {
    void *hold;
    enum report_via via;
};

static void report_fail(struct client *c, enum report_via via, const char *code, const char *why)
{
    if (via == REPORT_VIA_SERVICE)
        service_notice(&reportserv_service, c, "%s", why);
    else
        send_fail(c, "FAIL", "REPORT", code, NULL, why);
}

static void report_filed(void *ud, int64_t id, int err, const char *why)
{
    struct report_ctx *r = ud;
    struct client *c = service_resume(r->hold);
    if (c && id > 0) {
        char text[300], ctx[32];
        snprintf(text, sizeof text,
                 "Complaint %" PRId64 " filed. You will be told the outcome; /msg ReportServ "
                 "STATUS %" PRId64 " shows where it is.",
                 id, id);
        snprintf(ctx, sizeof ctx, "%" PRId64, id);
        if (r->via == REPORT_VIA_SERVICE)
            service_notice(&reportserv_service, c, "%s", text);
        else
            send_fail(c, "NOTE", "REPORT", "FILED", ctx, text);
    } else if (c) {
        report_fail(c, r->via, complaint_error_code(err), why);
    }
    free(r);
}

static bool report_digits(const char *s)
{
    return *s && strspn(s, "0123456789") == strlen(s) && strlen(s) < 19;
}

void report_submit(struct client *c, enum report_via via, const char *target, const char *category,
                   const char *text)
{
    if (!c->acct) {
        report_fail(c, via, "ACCOUNT_REQUIRED",
                    "Log in first (/msg NickServ IDENTIFY, or SASL) to file a complaint.");
        return;
    }
    struct complaint_filing f = {
        .reporter = c->acct, .category = category, .text = text, .target = target};
    struct channel *ch = NULL;
    if (target[0] == '#' || target[0] == '&' || report_digits(target)) {
        ch = target[0] == '#' || target[0] == '&' ? channel_find(target)
                                                  : group_find_code(strtoll(target, NULL, 10));
        if (!ch || !ch->code) {
            char why[200];
            snprintf(why, sizeof why, "There is no group %.60s: give a group's #name or its code.",
                     target);
            report_fail(c, via, "UNKNOWN_TARGET", why);
            return;
        }
        f.kind = COMPLAINT_GROUP;
        f.group_code = ch->code;
        f.target = ch->name;
    } else if (strncmp(target, "msgid=", 6) == 0) {
        f.kind = COMPLAINT_MESSAGE;
        f.target = target + 6;
    } else {
        struct client *t = client_find(target);
        struct account *a = t && t->acct ? t->acct : account_find(target);
        if (t && !a) {
            report_fail(c, via, "UNKNOWN_TARGET",
                        "That nick is not logged in to an account; report one of their messages "
                        "by msgid instead.");
            return;
        }
        f.kind = a ? COMPLAINT_USER : COMPLAINT_MESSAGE;
        f.subject = a;
        if (a)
            f.target = a->name;
    }
    struct report_ctx *r = xcalloc(1, sizeof *r);
    r->via = via;
    r->hold = service_hold(c);
    complaint_file(&f, report_filed, r);
}

void cmd_report(struct client *c, struct irc_msg *m)
{
    if (m->nparams < 3 || !*m->params[2]) {
        send_fail(c, "FAIL", "REPORT", "NEED_MORE_PARAMS", NULL,
                  "Usage: REPORT <msgid|nick|#group> <category> :<what is wrong>");
        return;
    }
    report_submit(c, REPORT_VIA_COMMAND, m->params[0], m->params[1], m->params[2]);
}
