/*
 * ctl_sanction.c - the control-socket commands for sanctions, the
 * blacklist and the emergency switch (qunctl sanctions ..., blacklist ...,
 * emergency ...).
 *
 * A thin face: argument checking and JSON shaping only; every decision is
 * taken by the sanction module (sanction.h), so a moderator's action here
 * behaves exactly like one taken anywhere else (network-log event, notice
 * to the subject, report where due). The author recorded is the unix user
 * of the peer ("unix:<user>").
 *
 * Roles: moderators and administrators act; auditors may also read the
 * lists.
 *
 * Appeals against sanctions (sanctions.appeals, sanctions.appeal.decide)
 * read and write the store: their reply comes later, holding the struct
 * ctl_request * (ctl drops a reply whose connection has gone). The decider
 * is ctl_request_actor(), which must differ from the sanction's author.
 *
 * Threads: loop thread only; every other reply is given before returning.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "credit/credit.h"
#include "ctl/ctl.h"
#include "irc/channel.h"
#include "irc/group.h"
#include "sanction/sanction.h"
#include "util/alloc.h"

#define MOD_ROLES  (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR)
#define READ_ROLES (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR)
#define TEXT_MAX   400 /* bytes of a reason or rule */

/* The group code named by args.group ("#name" of a live group, or a code,
 * live or not); 0 after replying with an error. */
static int64_t arg_group(struct ctl_request *req, json_t *args, bool live)
{
    const char *g = json_string_value(json_object_get(args, "group"));
    int64_t code = 0;
    if (g && g[0] == '#') {
        const struct channel *ch = channel_find(g);
        code = ch ? ch->code : 0;
    } else if (g && g[0] && strspn(g, "0123456789") == strlen(g) && strlen(g) < 19) {
        code = strtoll(g, NULL, 10);
    }
    if (code <= 0 || (live && !group_find_code(code))) {
        ctl_reply_error(req, "not-found", "no live group %s (give #name or its code)",
                        g ? g : "(none given)");
        return 0;
    }
    return code;
}

/* A required one-line text argument, or NULL after replying. */
static const char *arg_text(struct ctl_request *req, json_t *args, const char *key)
{
    const char *t = json_string_value(json_object_get(args, key));
    if (!t || !*t || strlen(t) > TEXT_MAX || strpbrk(t, "\r\n")) {
        ctl_reply_error(req, "bad-request", "%s (one line, 1 to %d bytes) is required", key,
                        TEXT_MAX);
        return NULL;
    }
    return t;
}

static json_t *sanction_json(const struct sanction *s)
{
    bool group = sanction_kind_is_group(s->kind);
    json_t *o = json_pack("{s:I, s:s, s:s, s:I, s:s, s:s, s:I}", "id", (json_int_t)s->id, "kind",
                          sanction_kind_name(s->kind), "subject_kind", group ? "group" : "account",
                          "subject_id", (json_int_t)s->subject, "reason", s->reason, "author",
                          s->author, "started_at", (json_int_t)s->started_at);
    json_object_set_new(o, "ends_at", s->ends_at ? json_integer(s->ends_at) : json_null());
    if (s->evidence)
        json_object_set_new(o, "evidence", json_string(s->evidence));
    if (s->credit_event)
        json_object_set_new(o, "credit_event", json_integer(s->credit_event));
    if (group) {
        const struct channel *ch = group_find_code(s->subject);
        if (ch)
            json_object_set_new(o, "subject", json_string(ch->name));
    } else {
        const struct account *a = account_find_id(s->subject);
        if (a)
            json_object_set_new(o, "subject", json_string(a->name));
    }
    return o;
}

/* ---- sanctions ---- */

struct list_ud {
    json_t *arr;
    int64_t group;   /* only this group's, when > 0 */
    int64_t account; /* only this account's, when > 0 */
};

static void list_one(const struct sanction *s, void *ud)
{
    struct list_ud *l = ud;
    bool group = sanction_kind_is_group(s->kind);
    if ((l->group > 0 && !(group && s->subject == l->group)) ||
        (l->account > 0 && !(!group && s->subject == l->account)))
        return;
    json_array_append_new(l->arr, sanction_json(s));
}

static void h_sanctions_list(struct ctl_request *req, json_t *args)
{
    struct list_ud l = {json_array(), 0, 0};
    if (json_object_get(args, "account")) {
        struct account *a = ctl_arg_account(req, args, "account");
        if (!a) {
            json_decref(l.arr);
            return;
        }
        l.account = a->id;
    }
    sanction_foreach(list_one, &l);
    ctl_reply_ok(req, l.arr);
}

static json_t *group_state_json(int64_t code)
{
    struct list_ud l = {json_array(), code, 0};
    sanction_foreach(list_one, &l);
    const struct channel *ch = group_find_code(code);
    json_t *o = json_pack("{s:I, s:s, s:i, s:b, s:o}", "code", (json_int_t)code, "state",
                          group_state_name(sanction_group_state(code)), "violations",
                          sanction_group_violations(code), "blacklisted", blacklist_has_group(code),
                          "sanctions", l.arr);
    if (ch)
        json_object_set_new(o, "name", json_string(ch->name));
    return o;
}

static void h_sanctions_state(struct ctl_request *req, json_t *args)
{
    int64_t code = arg_group(req, args, false);
    if (code)
        ctl_reply_ok(req, group_state_json(code));
}

/* An operator's decision about a violation in a group: the same path as an
 * upheld complaint (sanction_apply). */
static void h_sanctions_violation(struct ctl_request *req, json_t *args)
{
    int64_t code = arg_group(req, args, true);
    if (!code)
        return;
    const char *sev = json_string_value(json_object_get(args, "severity"));
    int severity = sev ? credit_severity_parse(sev) : -1;
    if (severity < 0 || severity == CREDIT_NEGLIGENCE || severity == CREDIT_MALICIOUS) {
        ctl_reply_error(req, "bad-request",
                        "severity must be one of minor, general, serious, severe");
        return;
    }
    const char *rule = arg_text(req, args, "rule");
    if (!rule)
        return;
    struct account *subject = NULL;
    if (json_object_get(args, "account") && !(subject = ctl_arg_account(req, args, "account")))
        return;
    char evidence[80];
    snprintf(evidence, sizeof evidence, "operator:%s", ctl_request_actor(req));
    struct sanction_decision d = {.subject = subject,
                                  .group_code = code,
                                  .group_violation = true,
                                  .severity = (enum credit_severity)severity,
                                  .rule = rule,
                                  .evidence = evidence,
                                  .author = ctl_request_actor(req)};
    sanction_apply(&d);
    ctl_reply_ok(req, group_state_json(code));
}

static void h_sanctions_person(struct ctl_request *req, json_t *args)
{
    struct account *a = ctl_arg_account(req, args, "name");
    if (!a)
        return;
    const char *k = json_string_value(json_object_get(args, "kind"));
    int kind = k ? sanction_kind_parse(k) : -1;
    if (kind < 0 || sanction_kind_is_group(kind) || kind == SANCTION_BLACKLIST_REVIEW) {
        ctl_reply_error(req, "bad-request",
                        "kind must be one of manage-suspended, manage-revoked, create-revoked, "
                        "post-suspended");
        return;
    }
    const char *reason = arg_text(req, args, "reason");
    if (!reason)
        return;
    json_t *d = json_object_get(args, "days");
    if (d && (!json_is_integer(d) || json_integer_value(d) < 1 || json_integer_value(d) > 3650)) {
        ctl_reply_error(req, "bad-request", "days must be 1 to 3650");
        return;
    }
    char why[400];
    int64_t id =
        sanction_person(a, (enum sanction_kind)kind, d ? (int64_t)json_integer_value(d) * 86400 : 0,
                        reason, NULL, ctl_request_actor(req), why, sizeof why);
    if (id < 0)
        ctl_reply_error(req, "refused", "%s", why);
    else
        ctl_reply_ok(req, sanction_json(sanction_find(id)));
}

static void h_sanctions_close(struct ctl_request *req, json_t *args)
{
    int64_t code = arg_group(req, args, true);
    if (!code)
        return;
    const char *reason = arg_text(req, args, "reason");
    if (!reason)
        return;
    char why[400];
    int64_t id = sanction_group_close(code, reason, ctl_request_actor(req), why, sizeof why);
    if (id < 0)
        ctl_reply_error(req, "refused", "%s", why);
    else
        ctl_reply_ok(req, group_state_json(code));
}

static void h_sanctions_lift(struct ctl_request *req, json_t *args)
{
    json_t *id = json_object_get(args, "id");
    if (!json_is_integer(id) || json_integer_value(id) <= 0) {
        ctl_reply_error(req, "bad-request", "id must be a positive sanction number");
        return;
    }
    char why[400];
    if (sanction_lift(json_integer_value(id), ctl_request_actor(req), why, sizeof why) < 0)
        ctl_reply_error(req, "refused", "%s", why);
    else
        ctl_reply_ok(req, json_pack("{s:s}", "result", "lifted"));
}

/* ---- appeals against sanctions ---- */

static void appeal_row(void *ud, const struct sanction_appeal *ap)
{
    struct ctl_list *l = ud;
    const struct account *a = account_find_id(ap->account_id);
    json_t *o = json_pack("{s:I, s:I, s:s, s:s, s:I, s:s, s:s, s:I, s:s, s:s}", "id",
                          (json_int_t)ap->id, "sanction", (json_int_t)ap->sanction_id, "account",
                          a ? a->name : "", "text", ap->text, "filed_at", (json_int_t)ap->filed_at,
                          "state", ap->outcome ? ap->outcome : "open", "kind", ap->kind,
                          "subject_id", (json_int_t)ap->subject_id, "sanction_reason",
                          ap->sanction_reason, "sanction_author", ap->sanction_author);
    if (ap->outcome) {
        json_object_set_new(o, "decided_by", json_string(ap->decided_by ? ap->decided_by : ""));
        json_object_set_new(o, "decided_at", json_integer(ap->decided_at));
        json_object_set_new(o, "note", ap->note ? json_string(ap->note) : json_null());
    }
    json_array_append_new(l->arr, o);
}

static void h_sanctions_appeals(struct ctl_request *req, json_t *args)
{
    const char *state = json_string_value(json_object_get(args, "state"));
    if (!state)
        state = "open";
    if (strcmp(state, "open") != 0 && strcmp(state, "decided") != 0 &&
        strcmp(state, "upheld") != 0 && strcmp(state, "rejected") != 0 &&
        strcmp(state, "all") != 0) {
        ctl_reply_error(req, "bad-request", "state must be open, decided, upheld, rejected or all");
        return;
    }
    int64_t account_id = 0;
    if (json_object_get(args, "account")) {
        struct account *a = ctl_arg_account(req, args, "account");
        if (!a)
            return;
        account_id = a->id;
    }
    json_t *n = json_object_get(args, "limit");
    struct ctl_list *l = ctl_list_new(req);
    if (sanction_appeals_list(account_id, state,
                              json_is_integer(n) ? (int)json_integer_value(n)
                                                 : SANCTION_APPEAL_LIST,
                              appeal_row, ctl_list_done, l) != 0)
        ctl_list_unavailable(l);
}

static void appeal_decided(void *ud, const struct sanction_appeal_result *r)
{
    struct ctl_request *req = ud;
    if (r->status != SANCTION_APPEAL_OK) {
        static const char *const codes[] = {"ok",       "not-found",   "open",
                                            "inactive", "decided",     "forbidden",
                                            "store",    "bad-request", "forbidden"};
        int i = -r->status;
        ctl_reply_error(req, i >= 0 && i < 9 ? codes[i] : "refused", "%s", r->sentence);
        return;
    }
    json_t *o = json_pack("{s:s, s:I, s:I, s:s, s:b}", "result", r->sentence, "appeal",
                          (json_int_t)r->appeal_id, "sanction", (json_int_t)r->sanction_id,
                          "outcome", r->upheld ? "upheld" : "rejected", "lifted", r->lifted);
    if (r->offset_event_id)
        json_object_set_new(o, "offset_event", json_integer(r->offset_event_id));
    ctl_reply_ok(req, o);
}

static void h_sanctions_appeal_decide(struct ctl_request *req, json_t *args)
{
    json_t *id = json_object_get(args, "id");
    const char *decision = json_string_value(json_object_get(args, "decision"));
    const char *note = json_string_value(json_object_get(args, "note"));
    if (!json_is_integer(id) || json_integer_value(id) <= 0 || !decision ||
        (strcmp(decision, "upheld") != 0 && strcmp(decision, "rejected") != 0)) {
        ctl_reply_error(req, "bad-request",
                        "id (a sanction appeal number) and a decision (upheld or rejected) are "
                        "required");
        return;
    }
    if (note && (strlen(note) > TEXT_MAX || strpbrk(note, "\r\n"))) {
        ctl_reply_error(req, "bad-request", "note is one line of at most %d bytes", TEXT_MAX);
        return;
    }
    sanction_appeal_decide(json_integer_value(id), strcmp(decision, "upheld") == 0, note,
                           ctl_request_actor(req), appeal_decided, req);
}

/* ---- blacklist ---- */

static json_t *entry_json(const struct blacklist_entry *e)
{
    /* the identity hash stays inside the daemon: the entry names it */
    return json_pack("{s:I, s:s, s:s, s:s, s:s, s:I}", "id", (json_int_t)e->id, "kind",
                     e->group ? "group" : "identity", "label", e->label, "reason", e->reason,
                     "author", e->author, "added_at", (json_int_t)e->added_at);
}

static void bl_one(const struct blacklist_entry *e, void *ud)
{
    json_array_append_new(ud, entry_json(e));
}

static void h_blacklist_list(struct ctl_request *req, json_t *args)
{
    json_t *arr = json_array();
    blacklist_foreach(bl_one, arr);
    ctl_reply_ok(req, arr);
}

static void h_blacklist_add(struct ctl_request *req, json_t *args)
{
    const char *kind = json_string_value(json_object_get(args, "kind"));
    const char *value = json_string_value(json_object_get(args, "value"));
    if (!kind || !value || (strcmp(kind, "identity") != 0 && strcmp(kind, "group") != 0)) {
        ctl_reply_error(req, "bad-request",
                        "give identity <account> or group <code> (kind and value)");
        return;
    }
    const char *reason = arg_text(req, args, "reason");
    if (!reason)
        return;
    char why[400];
    int64_t id;
    if (strcmp(kind, "identity") == 0) {
        struct account *a = ctl_arg_account(req, args, "value");
        if (!a)
            return;
        id = blacklist_add_identity(a, reason, ctl_request_actor(req), why, sizeof why);
    } else {
        json_t *g = json_pack("{s:s}", "group", value);
        int64_t code = arg_group(req, g, false);
        json_decref(g);
        if (!code)
            return;
        id = blacklist_add_group(code, reason, ctl_request_actor(req), why, sizeof why);
    }
    if (id < 0)
        ctl_reply_error(req, "refused", "%s", why);
    else
        ctl_reply_ok(req, json_pack("{s:I}", "id", (json_int_t)id));
}

static void h_blacklist_remove(struct ctl_request *req, json_t *args)
{
    json_t *id = json_object_get(args, "id");
    if (!json_is_integer(id) || json_integer_value(id) <= 0) {
        ctl_reply_error(req, "bad-request", "id must be a positive entry number");
        return;
    }
    char why[400];
    if (blacklist_remove(json_integer_value(id), ctl_request_actor(req), why, sizeof why) < 0)
        ctl_reply_error(req, "refused", "%s", why);
    else
        ctl_reply_ok(req, json_pack("{s:s}", "result", "removed"));
}

/* ---- emergency ---- */

static void em_one(const struct emergency_entry *e, void *ud)
{
    json_array_append_new(ud,
                          json_pack("{s:I, s:s, s:s, s:s, s:I}", "id", (json_int_t)e->id, "scope",
                                    e->category ? e->category : "all", "message", e->message,
                                    "set_by", e->set_by, "set_at", (json_int_t)e->set_at));
}

static void h_emergency_status(struct ctl_request *req, json_t *args)
{
    json_t *arr = json_array();
    emergency_foreach(em_one, arr);
    ctl_reply_ok(req, arr);
}

static void h_emergency_on(struct ctl_request *req, json_t *args)
{
    const char *message = arg_text(req, args, "message");
    if (!message)
        return;
    char why[400];
    int64_t id = emergency_on(json_string_value(json_object_get(args, "category")), message,
                              ctl_request_actor(req), why, sizeof why);
    if (id < 0)
        ctl_reply_error(req, "refused", "%s", why);
    else
        ctl_reply_ok(req, json_pack("{s:I}", "id", (json_int_t)id));
}

static void h_emergency_off(struct ctl_request *req, json_t *args)
{
    char why[400];
    if (emergency_off(json_string_value(json_object_get(args, "category")), ctl_request_actor(req),
                      why, sizeof why) < 0)
        ctl_reply_error(req, "refused", "%s", why);
    else
        ctl_reply_ok(req, json_pack("{s:s}", "result", "off"));
}

void ctl_sanction_register(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    ctl_register("sanctions.list", READ_ROLES, "active sanctions (optionally of one account)",
                 h_sanctions_list);
    ctl_register("sanctions.state", READ_ROLES,
                 "a group's state, violations in the window and active sanctions",
                 h_sanctions_state);
    ctl_register("sanctions.violation", MOD_ROLES,
                 "decide a violation in a group (credit deduction, escalation, report)",
                 h_sanctions_violation);
    ctl_register("sanctions.person", MOD_ROLES,
                 "impose a person sanction (manage-suspended, manage-revoked, create-revoked, "
                 "post-suspended)",
                 h_sanctions_person);
    ctl_register("sanctions.close", MOD_ROLES, "close a group (members removed, code kept)",
                 h_sanctions_close);
    ctl_register("sanctions.lift", MOD_ROLES, "lift an active sanction by id", h_sanctions_lift);
    ctl_register("sanctions.appeals", MOD_ROLES,
                 "appeals against sanctions (by state: open by default)", h_sanctions_appeals);
    ctl_register("sanctions.appeal.decide", MOD_ROLES,
                 "uphold (lifts the sanction) or reject an appeal against a sanction (not by its "
                 "author; recorded)",
                 h_sanctions_appeal_decide);
    ctl_register("blacklist.list", READ_ROLES, "active blacklist entries", h_blacklist_list);
    ctl_register("blacklist.add", MOD_ROLES, "blacklist an account's identity or a group",
                 h_blacklist_add);
    ctl_register("blacklist.remove", MOD_ROLES, "remove a blacklist entry by id",
                 h_blacklist_remove);
    ctl_register("emergency.status", READ_ROLES, "emergency switches that are on",
                 h_emergency_status);
    ctl_register("emergency.on", MOD_ROLES,
                 "suspend posting platform-wide or for one category, with a message to users",
                 h_emergency_on);
    ctl_register("emergency.off", MOD_ROLES, "end an emergency suspension of posting",
                 h_emergency_off);
}
