/*
 * svc_reportserv.c - the ReportServ service: complaints from IRC (SPEC §8,
 * rules art. 12), reached by "/msg ReportServ <command>".
 *
 * For everybody logged in: REPORT (the same function as the REPORT
 * command, cmd_report.c), CATEGORIES, MINE and STATUS (one's own
 * complaints and their outcomes). For a group's owner and managers, the
 * group stage of the complaints about their group or its messages: QUEUE,
 * SHOW, DISMISS, MALICIOUS, UPHOLD, ESCALATE. The checks (who may decide
 * what, at which stage) are the complaint module's; this file only words
 * the answers.
 *
 * ReportServ is also how the complaint module tells people things
 * (complaint_tell_hook): the reporter every outcome, the managers a new
 * complaint. Managers never see who filed a complaint.
 *
 * Decisions and listings wait for the store: the client is held
 * (service_hold) until the answer. Threads: loop only.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account/account.h"
#include "complaint/complaint.h"
#include "config/config.h"
#include "credit/credit.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/group.h"
#include "irc/server.h"
#include "irc/service.h"
#include "irc/services.h"
#include "proto/message.h"
#include "util/alloc.h"
#include "util/clock.h"

#define RS_QUEUE_MAX 20 /* complaints shown by QUEUE */
#define RS_MINE_MAX  10 /* complaints shown by MINE */

#define rs_notice(c, ...) service_notice(&reportserv_service, (c), __VA_ARGS__)

extern struct qun_config *server_config;

static void rs_tell(const struct account *a, const char *text)
{
    service_tell(&reportserv_service, a, "%s", text);
}

void reportserv_attach(void)
{
    complaint_tell_hook = rs_tell;
}

/* A complaint id argument, or 0 after telling c. */
static int64_t rs_id(struct client *c, const char *arg)
{
    char *end;
    long long v = strtoll(arg, &end, 10);
    if (*end || v <= 0) {
        rs_notice(c, "%.40s is not a complaint number.", arg);
        return 0;
    }
    return v;
}

static const char *rs_when(int64_t t, char *buf, size_t len)
{
    time_t tt = (time_t)t;
    struct tm tm;
    gmtime_r(&tt, &tm);
    strftime(buf, len, "%Y-%m-%d %H:%M UTC", &tm);
    return buf;
}

/* ---- REPORT, CATEGORIES ---- */

static void rs_report(struct client *c, int argc, char **argv)
{
    report_submit(c, REPORT_VIA_SERVICE, argv[0], argv[1], argv[2]);
}

static void rs_categories(struct client *c, int argc, char **argv)
{
    char line[400];
    size_t n = (size_t)snprintf(line, sizeof line, "Categories:");
    for (char **p = server_config->complaint_categories; p && *p && n < sizeof line; p++)
        n += (size_t)snprintf(line + n, sizeof line - n, " %s", *p);
    rs_notice(c, "%s", line);
}

/* ---- MINE, STATUS (from the store) ---- */

struct rs_list {
    void *hold;
    bool one;
};

static void rs_show_row(struct client *c, json_t *o, bool full)
{
    const char *state = json_string_value(json_object_get(o, "state"));
    const char *stage = json_string_value(json_object_get(o, "stage"));
    char when[40];
    rs_notice(c, "#%" JSON_INTEGER_FORMAT " %s %s (%s): %s%s%s, filed %s",
              json_integer_value(json_object_get(o, "id")),
              json_string_value(json_object_get(o, "kind")),
              json_string_value(json_object_get(o, "target")),
              json_string_value(json_object_get(o, "category")), state,
              strcmp(state, "open") == 0 ? " with the " : "",
              strcmp(state, "open") == 0
                  ? (strcmp(stage, "group") == 0 ? "group's managers" : "platform moderators")
                  : "",
              rs_when(json_integer_value(json_object_get(o, "filed_at")), when, sizeof when));
    if (!full)
        return;
    rs_notice(c, "  Your text: %s", json_string_value(json_object_get(o, "text")));
    const char *rule = json_string_value(json_object_get(o, "rule"));
    const char *note = json_string_value(json_object_get(o, "note"));
    if (rule)
        rs_notice(c, "  Rule: %s (%s)", rule, json_string_value(json_object_get(o, "severity")));
    if (note)
        rs_notice(c, "  Note: %s", note);
    if (json_object_get(o, "decided_at"))
        rs_notice(c, "  Decided %s.",
                  rs_when(json_integer_value(json_object_get(o, "decided_at")), when, sizeof when));
}

static void rs_listed(void *ud, int status, json_t *result)
{
    struct rs_list *l = ud;
    struct client *c = service_resume(l->hold);
    if (c && status < 0) {
        rs_notice(c, "Your complaints cannot be read right now; try again later.");
    } else if (c && json_array_size(result) == 0) {
        rs_notice(c, l->one ? "You have no complaint with that number."
                            : "You have not filed any complaint.");
    } else if (c) {
        size_t i;
        json_t *o;
        json_array_foreach(result, i, o) rs_show_row(c, o, l->one);
    }
    json_decref(result);
    free(l);
}

static void rs_list(struct client *c, int64_t id)
{
    struct complaint_filter f = {.id = id, .reporter_id = c->acct->id, .limit = RS_MINE_MAX};
    struct rs_list *l = xcalloc(1, sizeof *l);
    l->one = id != 0;
    l->hold = service_hold(c);
    if (complaint_list(&f, rs_listed, l) < 0) {
        service_resume(l->hold);
        free(l);
        rs_notice(c, "Your complaints cannot be read right now; try again later.");
    }
}

static void rs_mine(struct client *c, int argc, char **argv)
{
    rs_list(c, 0);
}

static void rs_status(struct client *c, int argc, char **argv)
{
    int64_t id = rs_id(c, argv[0]);
    if (id)
        rs_list(c, id);
}

/* ---- the group stage: QUEUE, SHOW ---- */

static const char *rs_subject(const struct complaint *k)
{
    const struct account *a = k->subject_id ? account_find_id(k->subject_id) : NULL;
    return a ? a->name : k->kind == COMPLAINT_GROUP ? "the group" : "(no account)";
}

static void rs_queue(struct client *c, int argc, char **argv)
{
    struct channel *ch =
        argv[0][0] == '#' ? channel_find(argv[0]) : group_find_code(strtoll(argv[0], NULL, 10));
    if (!ch || !ch->code) {
        rs_notice(c, "There is no group %.60s: give a group's #name or its code.", argv[0]);
        return;
    }
    const struct group_member *m = group_member_find(ch, c->acct->id);
    if (!m || m->role < ROLE_MANAGER) {
        rs_notice(c, "Only the owner and managers of %s see its complaints.", ch->name);
        return;
    }
    const struct complaint *q[RS_QUEUE_MAX];
    size_t n = complaint_group_queue(ch->code, q, RS_QUEUE_MAX), shown = 0;
    char when[40];
    for (size_t i = 0; i < n; i++) {
        if (q[i]->subject_id == c->acct->id)
            continue; /* about the requester: not theirs to decide */
        rs_notice(c, "#%" PRId64 " %s %s by %s (%s), due %s", q[i]->id,
                  complaint_kind_name(q[i]->kind), q[i]->target, rs_subject(q[i]), q[i]->category,
                  rs_when(q[i]->deadline, when, sizeof when));
        shown++;
    }
    rs_notice(c, "%zu open complaint%s for %s at the group stage%s.", shown, shown == 1 ? "" : "s",
              ch->name, n == RS_QUEUE_MAX ? " (the oldest shown)" : "");
}

static void rs_show(struct client *c, int argc, char **argv)
{
    int64_t id = rs_id(c, argv[0]);
    if (!id)
        return;
    const struct complaint *k = complaint_find_open(id);
    struct channel *ch = k && k->group_code ? group_find_code(k->group_code) : NULL;
    const struct group_member *m = ch ? group_member_find(ch, c->acct->id) : NULL;
    if (k && k->reporter_id == c->acct->id) {
        rs_list(c, id);
        return;
    }
    if (!k || k->stage != COMPLAINT_STAGE_GROUP || !m || m->role < ROLE_MANAGER) {
        rs_notice(c,
                  "There is no open complaint %" PRId64 " for a group you manage (STATUS shows "
                  "your own complaints).",
                  id);
        return;
    }
    if (k->subject_id == c->acct->id) {
        rs_notice(c,
                  "Complaint %" PRId64 " is about you, so another manager, the owner or the "
                  "platform decides it.",
                  id);
        return;
    }
    char when[40];
    rs_notice(c, "Complaint %" PRId64 ": %s %s in %s, category %s, due %s.", k->id,
              complaint_kind_name(k->kind), k->target, ch->name, k->category,
              rs_when(k->deadline, when, sizeof when));
    rs_notice(c, "About: %s", rs_subject(k));
    rs_notice(c, "Text: %s", k->text);
    rs_notice(c,
              "Decide: DISMISS %" PRId64 " [note] | MALICIOUS %" PRId64 " [note] | UPHOLD %" PRId64
              " <minor|general|serious|severe> <rule> | "
              "ESCALATE %" PRId64 " [note]",
              k->id, k->id, k->id, k->id);
}

/* ---- decisions ---- */

struct rs_decide {
    void *hold;
    int64_t id;
    enum complaint_decision d;
};

static void rs_decided(void *ud, int status)
{
    struct rs_decide *r = ud;
    struct client *c = service_resume(r->hold);
    static const char *const done[] = {"dismissed", "dismissed as malicious", "upheld",
                                       "passed to the platform moderators"};
    if (c && status == 0)
        rs_notice(c, "Complaint %" PRId64 " %s; the reporter is told.", r->id, done[r->d]);
    else if (c)
        rs_notice(c, "Complaint %" PRId64 " could not be decided right now; try again.", r->id);
    free(r);
}

static void rs_decide(struct client *c, enum complaint_decision d, const char *idarg,
                      const char *sev, const char *rule, const char *note)
{
    int64_t id = rs_id(c, idarg);
    if (!id)
        return;
    char author[ACCOUNT_NAME_MAX + 16], why[300];
    snprintf(author, sizeof author, "account:%s", c->acct->name);
    struct complaint_verdict v = {.decision = d,
                                  .severity = CREDIT_GENERAL,
                                  .rule = rule,
                                  .note = note,
                                  .author = author,
                                  .actor = c->acct};
    if (sev) {
        int s = credit_severity_parse(sev);
        if (s < 0 || s > CREDIT_SEVERE) {
            rs_notice(c, "Unknown severity %.30s: use minor, general, serious or severe.", sev);
            return;
        }
        v.severity = (enum credit_severity)s;
    }
    struct rs_decide *r = xcalloc(1, sizeof *r);
    r->id = id;
    r->d = d;
    r->hold = service_hold(c);
    if (complaint_decide(id, &v, why, sizeof why, rs_decided, r) != 0) {
        service_resume(r->hold);
        free(r);
        rs_notice(c, "%s", why);
    }
}

static void rs_dismiss(struct client *c, int argc, char **argv)
{
    rs_decide(c, COMPLAINT_DISMISS, argv[0], NULL, NULL, argc > 1 ? argv[1] : NULL);
}

static void rs_malicious(struct client *c, int argc, char **argv)
{
    rs_decide(c, COMPLAINT_MALICIOUS, argv[0], NULL, NULL, argc > 1 ? argv[1] : NULL);
}

static void rs_uphold(struct client *c, int argc, char **argv)
{
    rs_decide(c, COMPLAINT_UPHOLD, argv[0], argv[1], argv[2], NULL);
}

static void rs_escalate(struct client *c, int argc, char **argv)
{
    rs_decide(c, COMPLAINT_ESCALATE, argv[0], NULL, NULL, argc > 1 ? argv[1] : NULL);
}

static const struct svc_cmd rs_commands[] = {
    {"REPORT", 3, 2, true, rs_report, "REPORT <msgid|nick|#group> <category> <text>",
     "Files a complaint about a message (its msgid), a user or a group. You get its number at "
     "once and the outcome later. CATEGORIES lists the categories."},
    {"CATEGORIES", 0, -1, false, rs_categories, "CATEGORIES",
     "Lists the complaint categories (illegal, fraud, spam...)."},
    {"MINE", 0, -1, true, rs_mine, "MINE", "Lists your latest complaints and their outcomes."},
    {"STATUS", 1, -1, true, rs_status, "STATUS <number>",
     "Shows one of your complaints: where it is, or how it was decided."},
    {"QUEUE", 1, -1, true, rs_queue, "QUEUE <#group>",
     "Owners and managers: the group's open complaints (24 hours to decide each)."},
    {"SHOW", 1, -1, true, rs_show, "SHOW <number>",
     "Owners and managers: one complaint about your group, with its text."},
    {"DISMISS", 1, 1, true, rs_dismiss, "DISMISS <number> [note]",
     "Owners and managers: the complaint is unfounded."},
    {"MALICIOUS", 1, 1, true, rs_malicious, "MALICIOUS <number> [note]",
     "Owners and managers: the complaint was made in bad faith; it costs its author 20 credit."},
    {"UPHOLD", 3, 2, true, rs_uphold, "UPHOLD <number> <minor|general|serious|severe> <rule>",
     "Owners and managers: the complaint is right. The author of the message or the user "
     "reported gets the sanction of that severity; the group gets a violation."},
    {"ESCALATE", 1, 1, true, rs_escalate, "ESCALATE <number> [note]",
     "Owners and managers: hand the complaint to the platform moderators (72 hours)."},
};

const struct service reportserv_service = {
    .nick = "ReportServ",
    .about = "ReportServ takes complaints about messages, users and groups.",
    .footer = "Report with REPORT (or the REPORT command); HELP <command> explains one.",
    .cmds = rs_commands,
    .ncmds = sizeof rs_commands / sizeof rs_commands[0],
    .wipe = false,
};
