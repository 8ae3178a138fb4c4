/*
 * ctl_credit.c - the control-socket commands for credit and appeals
 * (qunctl credit ..., qunctl appeals ...).
 *
 * A thin face over src/credit/: argument checking, JSON shaping, and
 * telling the account's user through CreditServ when a moderator or an
 * administrator changes their credit or decides their appeal.
 *
 * Roles: reading an account's credit and ledger and deciding appeals need
 * a moderator or an administrator; appending an arbitrary event
 * (credit.adjust) needs an administrator. The reason codes "recovery" and
 * "appeal-upheld" are the system's and cannot be given by hand. The
 * decider of an appeal is ctl_request_actor() ("unix:alice"), which must
 * differ from the author of the event appealed (credit/appeal.c).
 *
 * Asynchronous replies hold the struct ctl_request * until the store
 * answers; ctl drops a reply whose connection has gone.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "config/config.h"
#include "credit/credit.h"
#include "ctl/ctl.h"
#include "irc/server.h"
#include "irc/service.h"
#include "util/alloc.h"
#include "util/clock.h"

#define MOD_ROLES (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR)

static json_t *level_json(const struct config_credit_level *lv)
{
    char level[2] = {lv->level, '\0'};
    return json_pack("{s:s, s:i, s:b, s:i, s:i, s:i, s:i, s:b}", "level", level, "min_score",
                     lv->min_score, "post", lv->post, "messages_per_10s", lv->rate,
                     "groups_owned_max", lv->groups_owned, "members_per_group_max", lv->members,
                     "groups_joined_max", lv->groups_joined, "may_manage", lv->manage);
}

static json_t *credit_json(const struct account *a)
{
    const struct config_credit_level *lv = credit_level(a);
    json_t *o = level_json(lv);
    json_object_set_new(o, "name", json_string(a->name));
    json_object_set_new(o, "score", json_integer(credit_score(a)));
    json_object_set_new(o, "initial", json_integer(server_config->credit_initial));
    json_object_set_new(o, "ledger_sum", json_integer(a->credit_delta));
    json_object_set_new(o, "last_violation_at", json_integer(a->credit_violation_at));
    json_object_set_new(o, "last_recovery_at", json_integer(a->credit_recovery_at));
    json_object_set_new(o, "next_recovery_at",
                        json_integer(credit_recovery_base(a) + CREDIT_RECOVERY_PERIOD));
    return o;
}

static void h_credit_show(struct ctl_request *req, json_t *args)
{
    struct account *a = ctl_arg_account(req, args, "name");
    if (a)
        ctl_reply_ok(req, credit_json(a));
}

/* ---- credit.adjust ---- */

struct adjust_ud {
    struct ctl_request *req;
    struct account *a;
    int delta;
};

static void adjusted(void *ud, int status, int64_t id, int score)
{
    struct adjust_ud *u = ud;
    if (status != 0) {
        ctl_reply_error(u->req, "store", "the credit event could not be stored");
    } else {
        const struct config_credit_level *lv = credit_level(u->a);
        service_tell(&creditserv_service, u->a,
                     "Your credit changed by %+d (event %lld): score %d, level %c. /msg CreditServ "
                     "LEDGER shows it; /msg CreditServ APPEAL %lld <text> contests it.",
                     u->delta, (long long)id, score, lv->level, (long long)id);
        json_t *o = credit_json(u->a);
        json_object_set_new(o, "result", json_string("credit event recorded"));
        json_object_set_new(o, "event", json_integer(id));
        ctl_reply_ok(u->req, o);
    }
    account_unref(u->a);
    free(u);
}

static void h_credit_adjust(struct ctl_request *req, json_t *args)
{
    struct account *a = ctl_arg_account(req, args, "name");
    if (!a)
        return;
    json_t *d = json_object_get(args, "delta");
    const char *reason = json_string_value(json_object_get(args, "reason"));
    const char *evidence = json_string_value(json_object_get(args, "evidence"));
    if (!json_is_integer(d) || json_integer_value(d) < -1000 || json_integer_value(d) > 1000 ||
        !reason || !*reason || strlen(reason) > 200 || (evidence && strlen(evidence) > 200)) {
        ctl_reply_error(req, "bad-request",
                        "delta (-1000 to 1000) and a reason (at most 200 bytes) are required");
        return;
    }
    if (strcmp(reason, CREDIT_REASON_RECOVERY) == 0 || strcmp(reason, CREDIT_REASON_OFFSET) == 0) {
        ctl_reply_error(req, "bad-request",
                        "the reason codes recovery and appeal-upheld are the system's own");
        return;
    }
    struct adjust_ud *u = xcalloc(1, sizeof *u);
    u->req = req;
    u->a = a;
    u->delta = (int)json_integer_value(d);
    account_ref(a);
    char detail[300];
    snprintf(detail, sizeof detail, "%+d: %s", u->delta, reason);
    account_audit(ctl_request_actor(req), "credit.adjust", a->name, detail);
    if (credit_record(a, (int)json_integer_value(d), reason, evidence, ctl_request_actor(req), 0,
                      adjusted, u) != 0) {
        account_unref(a);
        free(u);
        ctl_reply_error(req, "store", "the store is not available");
    }
}

/* ---- credit.ledger ---- */

static void ledger_row(void *ud, const struct credit_event *e)
{
    struct ctl_list *l = ud;
    json_t *o = json_pack("{s:I, s:i, s:s, s:s, s:I}", "id", (json_int_t)e->id, "delta", e->delta,
                          "reason", e->reason, "author", e->author, "at", (json_int_t)e->at);
    json_object_set_new(o, "evidence", e->evidence ? json_string(e->evidence) : json_null());
    json_object_set_new(o, "offset_by", e->offset_by ? json_integer(e->offset_by) : json_null());
    json_array_append_new(l->arr, o);
}

static int arg_limit(json_t *args)
{
    json_t *n = json_object_get(args, "limit");
    return json_is_integer(n) ? (int)json_integer_value(n) : CREDIT_LIST_MAX;
}

static void h_credit_ledger(struct ctl_request *req, json_t *args)
{
    struct account *a = ctl_arg_account(req, args, "name");
    if (!a)
        return;
    struct ctl_list *l = ctl_list_new(req);
    if (credit_ledger(a->id, arg_limit(args), ledger_row, ctl_list_done, l) != 0)
        ctl_list_unavailable(l);
}

/* ---- appeals.list ---- */

static void appeal_row(void *ud, const struct credit_appeal *ap)
{
    struct ctl_list *l = ud;
    const struct account *a = account_find_id(ap->account_id);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:I, s:s, s:i, s:s, s:s}", "id", (json_int_t)ap->id,
                          "event", (json_int_t)ap->event_id, "account", a ? a->name : "", "text",
                          ap->text, "filed_at", (json_int_t)ap->filed_at, "state",
                          ap->outcome ? ap->outcome : "open", "event_delta", ap->event_delta,
                          "event_reason", ap->event_reason, "event_author", ap->event_author);
    if (ap->outcome) {
        json_object_set_new(o, "decided_by", json_string(ap->decided_by ? ap->decided_by : ""));
        json_object_set_new(o, "decided_at", json_integer(ap->decided_at));
        json_object_set_new(o, "note", ap->note ? json_string(ap->note) : json_null());
        json_object_set_new(o, "offset_event",
                            ap->offset_event_id ? json_integer(ap->offset_event_id) : json_null());
    }
    json_array_append_new(l->arr, o);
}

static void h_appeals_list(struct ctl_request *req, json_t *args)
{
    const char *state = json_string_value(json_object_get(args, "state"));
    if (!state)
        state = "open";
    if (strcmp(state, "open") != 0 && strcmp(state, "upheld") != 0 &&
        strcmp(state, "rejected") != 0 && strcmp(state, "all") != 0) {
        ctl_reply_error(req, "bad-request", "state must be open, upheld, rejected or all");
        return;
    }
    int64_t account_id = 0;
    if (json_object_get(args, "name")) {
        struct account *a = ctl_arg_account(req, args, "name");
        if (!a)
            return;
        account_id = a->id;
    }
    struct ctl_list *l = ctl_list_new(req);
    if (credit_appeals_list(account_id, state, arg_limit(args), appeal_row, ctl_list_done, l) != 0)
        ctl_list_unavailable(l);
}

/* ---- appeals.decide ---- */

static void appeal_decided(void *ud, const struct credit_appeal_result *r)
{
    struct ctl_request *req = ud;
    if (r->status != CREDIT_APPEAL_OK) {
        static const char *const codes[] = {"ok",      "not-found", "open",  "offset",
                                            "decided", "forbidden", "store", "bad-request"};
        int i = -r->status;
        ctl_reply_error(req, i >= 0 && i < 8 ? codes[i] : "refused", "%s", r->sentence);
        return;
    }
    if (r->account)
        service_tell(&creditserv_service, r->account,
                     r->upheld ? "Your appeal %lld against credit event %lld was upheld: the event "
                                 "is offset and your score is now %d. /msg CreditServ APPEALS "
                                 "shows it."
                               : "Your appeal %lld against credit event %lld was rejected; your "
                                 "score stays %d. /msg CreditServ APPEALS shows the note.",
                     (long long)r->appeal_id, (long long)r->event_id, r->score);
    json_t *o =
        json_pack("{s:s, s:I, s:s, s:i}", "result", r->sentence, "appeal", (json_int_t)r->appeal_id,
                  "outcome", r->upheld ? "upheld" : "rejected", "score", r->score);
    if (r->offset_event_id)
        json_object_set_new(o, "offset_event", json_integer(r->offset_event_id));
    ctl_reply_ok(req, o);
}

static void h_appeals_decide(struct ctl_request *req, json_t *args)
{
    json_t *id = json_object_get(args, "id");
    const char *decision = json_string_value(json_object_get(args, "decision"));
    const char *note = json_string_value(json_object_get(args, "note"));
    if (!json_is_integer(id) || json_integer_value(id) <= 0 || !decision ||
        (strcmp(decision, "uphold") != 0 && strcmp(decision, "reject") != 0)) {
        ctl_reply_error(req, "bad-request",
                        "id (an appeal number) and a decision (uphold or reject) are required");
        return;
    }
    if (!note || !*note) {
        ctl_reply_error(req, "bad-request", "a note is required: it is shown to the user");
        return;
    }
    credit_appeal_decide(json_integer_value(id), strcmp(decision, "uphold") == 0, note,
                         ctl_request_actor(req), appeal_decided, req);
}

void ctl_credit_register(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    ctl_register("credit.show", MOD_ROLES, "an account's credit score, level and privileges",
                 h_credit_show);
    ctl_register("credit.adjust", CTL_ROLE_ADMINISTRATOR,
                 "append a credit event (administrators; recorded)", h_credit_adjust);
    ctl_register("credit.ledger", MOD_ROLES, "an account's credit events, newest first",
                 h_credit_ledger);
    ctl_register("appeals.list", MOD_ROLES, "credit appeals (by state: open by default)",
                 h_appeals_list);
    ctl_register("appeals.decide", MOD_ROLES,
                 "uphold or reject a credit appeal (not by the event's author; recorded)",
                 h_appeals_decide);
}
