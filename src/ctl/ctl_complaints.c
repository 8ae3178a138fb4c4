/*
 * ctl_complaints.c - control commands for complaints (qunctl complaints
 * ...; SPEC §8, docs/complaints.md): the platform stage.
 *
 *   complaints.list     {"state", "stage", "group", "reporter", "limit"}
 *   complaints.show     {"id"}
 *   complaints.decide   {"id", "decision": dismiss|malicious|uphold|escalate,
 *                        "severity", "rule", "note"}
 *   complaints.stats    {"since", "until"}  (moderation-clock seconds)
 *   complaints.flagged  {}
 *
 * Roles: moderators and administrators decide; auditors may also read.
 * The decision's author is the requester's unix identity
 * (ctl_request_actor); the complaint module records it in the network log.
 *
 * Threads: loop only; replies after the store's callbacks.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "complaint/complaint.h"
#include "credit/credit.h"
#include "ctl/ctl.h"
#include "irc/channel.h"
#include "irc/group.h"

#define CP_READ_ROLES   (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR)
#define CP_DECIDE_ROLES (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR)

static const char *cc_code(int err)
{
    switch (err) {
    case COMPLAINT_ERR_NOT_FOUND:
        return "not-found";
    case COMPLAINT_ERR_STAGE:
        return "wrong-stage";
    case COMPLAINT_ERR_FORBIDDEN:
        return "forbidden";
    case COMPLAINT_ERR_ARG:
        return "bad-request";
    default:
        return "store";
    }
}

/* An integer member given as a number or a decimal string; def when absent. */
static int cc_int(json_t *args, const char *key, json_int_t def, json_int_t *out)
{
    json_t *v = json_object_get(args, key);
    if (!v) {
        *out = def;
        return 0;
    }
    if (json_is_integer(v)) {
        *out = json_integer_value(v);
        return 0;
    }
    const char *s = json_string_value(v);
    char *end;
    if (!s || !*s)
        return -1;
    *out = strtoll(s, &end, 10);
    return *end ? -1 : 0;
}

static void cc_listed(void *ud, int status, json_t *result)
{
    struct ctl_request *req = ud;
    if (status < 0)
        ctl_reply_error(req, "store", "the complaints could not be read");
    else
        ctl_reply_ok(req, result);
}

static void cc_shown(void *ud, int status, json_t *result)
{
    struct ctl_request *req = ud;
    if (status < 0)
        ctl_reply_error(req, "store", "the complaint could not be read");
    else if (json_array_size(result) == 0)
        ctl_reply_error(req, "not-found", "there is no such complaint");
    else
        ctl_reply_ok(req, json_incref(json_array_get(result, 0)));
    json_decref(result);
}

static void h_list(struct ctl_request *req, json_t *args)
{
    struct complaint_filter f = {0};
    json_int_t code = 0, limit = 0;
    f.state = json_string_value(json_object_get(args, "state"));
    f.stage = json_string_value(json_object_get(args, "stage"));
    const char *group = json_string_value(json_object_get(args, "group"));
    const char *reporter = json_string_value(json_object_get(args, "reporter"));
    if (cc_int(args, "limit", 0, &limit) < 0) {
        ctl_reply_error(req, "bad-request", "limit must be a number");
        return;
    }
    f.limit = (int)(limit > 0 && limit < COMPLAINT_LIST_MAX ? limit : COMPLAINT_LIST_MAX);
    if (group) {
        struct channel *ch =
            group[0] == '#' ? channel_find(group) : group_find_code(strtoll(group, NULL, 10));
        code = ch && ch->code ? ch->code : strtoll(group, NULL, 10);
        if (code <= 0) {
            ctl_reply_error(req, "not-found", "no group %s", group);
            return;
        }
        f.group_code = code;
    }
    if (reporter) {
        const struct account *a = ctl_arg_account(req, args, "reporter");
        if (!a)
            return;
        f.reporter_id = a->id;
    }
    if (complaint_list(&f, cc_listed, req) < 0)
        ctl_reply_error(req, "store", "the store is not available");
}

static void h_show(struct ctl_request *req, json_t *args)
{
    json_int_t id = 0;
    if (cc_int(args, "id", 0, &id) < 0 || id <= 0) {
        ctl_reply_error(req, "bad-request", "id (a complaint number) is required");
        return;
    }
    struct complaint_filter f = {.id = id, .limit = 1};
    if (complaint_list(&f, cc_shown, req) < 0)
        ctl_reply_error(req, "store", "the store is not available");
}

struct cc_decide {
    struct ctl_request *req;
    json_int_t id;
    int decision;
};

static void cc_decided(void *ud, int status)
{
    struct cc_decide *d = ud;
    static const char *const states[] = {"dismissed", "malicious", "upheld", "escalated"};
    if (status < 0)
        ctl_reply_error(d->req, "store", "complaint %lld: the decision could not be stored",
                        (long long)d->id);
    else
        ctl_reply_ok(d->req, json_pack("{s:I, s:s}", "id", d->id, "state", states[d->decision]));
    free(d);
}

static void h_decide(struct ctl_request *req, json_t *args)
{
    json_int_t id = 0;
    const char *decision = json_string_value(json_object_get(args, "decision"));
    const char *sev = json_string_value(json_object_get(args, "severity"));
    int d = decision ? complaint_decision_parse(decision) : -1;
    if (cc_int(args, "id", 0, &id) < 0 || id <= 0 || d < 0) {
        ctl_reply_error(req, "bad-request",
                        "give a complaint id and a decision: dismiss, malicious, uphold or "
                        "escalate");
        return;
    }
    int s = sev ? credit_severity_parse(sev) : (d == COMPLAINT_UPHOLD ? -1 : CREDIT_GENERAL);
    if (s < 0 || s > CREDIT_SEVERE) {
        ctl_reply_error(req, "bad-request",
                        "uphold needs --severity minor, general, serious or severe");
        return;
    }
    struct complaint_verdict v = {.decision = (enum complaint_decision)d,
                                  .severity = (enum credit_severity)s,
                                  .rule = json_string_value(json_object_get(args, "rule")),
                                  .note = json_string_value(json_object_get(args, "note")),
                                  .author = ctl_request_actor(req),
                                  .platform = true};
    struct cc_decide *cd = calloc(1, sizeof *cd);
    if (!cd) {
        ctl_reply_error(req, "internal", "out of memory");
        return;
    }
    cd->req = req;
    cd->id = id;
    cd->decision = d;
    char why[300];
    int rc = complaint_decide(id, &v, why, sizeof why, cc_decided, cd);
    if (rc != 0) {
        free(cd);
        ctl_reply_error(req, cc_code(rc), "%s", why);
    }
}

static void h_stats(struct ctl_request *req, json_t *args)
{
    json_int_t since = 0, until = 0;
    if (cc_int(args, "since", 0, &since) < 0 || cc_int(args, "until", 0, &until) < 0 || since < 0 ||
        until < 0) {
        ctl_reply_error(req, "bad-request", "since and until are times in seconds since 1970");
        return;
    }
    if (complaint_stats(since, until, cc_listed, req) < 0)
        ctl_reply_error(req, "store", "the store is not available");
}

static void h_flagged(struct ctl_request *req, json_t *args)
{
    if (complaint_flagged(cc_listed, req) < 0)
        ctl_reply_error(req, "store", "the store is not available");
}

void ctl_complaints_register(void)
{
    ctl_register("complaints.list", CP_READ_ROLES,
                 "list complaints (filters: state, stage, group, reporter)", h_list);
    ctl_register("complaints.show", CP_READ_ROLES, "show one complaint", h_show);
    ctl_register("complaints.decide", CP_DECIDE_ROLES,
                 "decide a complaint at the platform stage (recorded)", h_decide);
    ctl_register("complaints.stats", CP_READ_ROLES,
                 "complaint counts, overdue counts and handling times", h_stats);
    ctl_register("complaints.flagged", CP_READ_ROLES,
                 "reporters with repeated complaints dismissed as malicious", h_flagged);
}
