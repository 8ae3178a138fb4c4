/*
 * ctl_accounts.c - the control-socket commands for accounts and identity
 * (qunctl accounts ..., qunctl identity ...).
 *
 * A thin face: argument checking and JSON shaping only. The work is done by
 * the same domain functions IRC uses (account.h, verify.h), so a moderator's
 * decision here behaves exactly like one made anywhere else.
 *
 * Roles: listing and suspending accounts and working the identity queue
 * need a moderator or an administrator; revealing a real identity needs an
 * auditor and nothing else will do (SPEC §4).
 *
 * Asynchronous replies hold the struct ctl_request * until the store
 * answers; ctl drops a reply whose connection has gone.
 *
 * Also ctl_arg_account (ctl.h): the one way every command file turns an
 * account-name argument into an account, with the same two error answers.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "ctl/ctl.h"
#include "config/config.h"
#include "identity/verify.h"
#include "irc/channel.h"
#include "irc/group.h"
#include "netlog/netlog.h"
#include "irc/client.h"

#define MOD_ROLES (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR)

static json_t *account_json(const struct account *a, bool full)
{
    json_t *o =
        json_pack("{s:s, s:I, s:i, s:I, s:b}", "name", a->name, "id", (json_int_t)a->id, "level",
                  a->level, "created_at", (json_int_t)a->created_at, "suspended", a->suspended);
    if (!full)
        return o;
    json_object_set_new(o, "online_sessions", json_integer(a->online));
    json_object_set_new(o, "identity_pending", json_boolean(a->identity_pending));
    json_object_set_new(o, "convention_version", json_integer(a->convention_version));
    json_object_set_new(o, "certificates", json_integer((json_int_t)a->ncertfps));
    if (a->suspended && a->suspend_reason)
        json_object_set_new(o, "suspend_reason", json_string(a->suspend_reason));
    return o;
}

struct list_ud {
    json_t *arr;
    const char *pattern;
};

static void list_one(struct account *a, void *ud)
{
    struct list_ud *l = ud;
    if (!l->pattern || mask_match(l->pattern, a->name))
        json_array_append_new(l->arr, account_json(a, false));
}

static void h_accounts_list(struct ctl_request *req, json_t *args)
{
    struct list_ud l = {json_array(), NULL};
    json_t *p = json_object_get(args, "pattern");
    if (p && !json_is_string(p)) {
        json_decref(l.arr);
        ctl_reply_error(req, "bad-request", "pattern must be a string");
        return;
    }
    l.pattern = p ? json_string_value(p) : NULL;
    account_foreach(list_one, &l);
    ctl_reply_ok(req, l.arr);
}

struct account *ctl_arg_account(struct ctl_request *req, json_t *args, const char *key)
{
    const char *name = json_string_value(json_object_get(args, key));
    if (!name) {
        ctl_reply_error(req, "bad-request", "%s (an account name) is required", key);
        return NULL;
    }
    struct account *a = account_find(name);
    if (!a)
        ctl_reply_error(req, "not-found", "no account named %s", name);
    return a;
}

static void h_accounts_show(struct ctl_request *req, json_t *args)
{
    struct account *a = ctl_arg_account(req, args, "name");
    if (a)
        ctl_reply_ok(req, account_json(a, true));
}

static void suspended_done(void *ud, int status, struct account *a)
{
    struct ctl_request *req = ud;
    if (status != ACCOUNT_OK)
        ctl_reply_error(req, "store", "%s", account_status_sentence(status));
    else
        ctl_reply_ok(req, account_json(a, true));
}

static void set_suspended(struct ctl_request *req, json_t *args, bool on)
{
    struct account *a = ctl_arg_account(req, args, "name");
    if (!a)
        return;
    const char *reason = json_string_value(json_object_get(args, "reason"));
    if (on && (!reason || !*reason)) {
        ctl_reply_error(req, "bad-request", "a reason is required to suspend an account");
        return;
    }
    int rc = account_set_suspended(a, on, reason, ctl_request_actor(req), suspended_done, req);
    if (rc != ACCOUNT_OK)
        ctl_reply_error(req, "store", "%s", account_status_sentence(rc));
}

static void h_accounts_suspend(struct ctl_request *req, json_t *args)
{
    set_suspended(req, args, true);
}

static void h_accounts_unsuspend(struct ctl_request *req, json_t *args)
{
    set_suspended(req, args, false);
}

/* ---- identity ---- */

static void queue_row(void *ud, int64_t id, const char *account, const char *doc_type,
                      int64_t submitted_at)
{
    json_array_append_new(ud, json_pack("{s:I, s:s, s:s, s:I}", "request", (json_int_t)id,
                                        "account", account, "document_type", doc_type,
                                        "submitted_at", (json_int_t)submitted_at));
}

struct queue_ud {
    struct ctl_request *req;
    json_t *arr;
};

static void queue_row_cb(void *ud, int64_t id, const char *account, const char *doc_type,
                         int64_t submitted_at)
{
    queue_row(((struct queue_ud *)ud)->arr, id, account, doc_type, submitted_at);
}

static void queue_done(void *ud, bool ok)
{
    struct queue_ud *q = ud;
    if (ok)
        ctl_reply_ok(q->req, q->arr);
    else {
        json_decref(q->arr);
        ctl_reply_error(q->req, "store", "the queue could not be read");
    }
    free(q);
}

static void h_identity_queue(struct ctl_request *req, json_t *args)
{
    struct queue_ud *q = malloc(sizeof *q);
    if (!q) {
        ctl_reply_error(req, "internal", "out of memory");
        return;
    }
    q->req = req;
    q->arr = json_array();
    verify_queue_list(queue_row_cb, queue_done, q);
}

static void decided(void *ud, const struct verify_result *r)
{
    struct ctl_request *req = ud;
    if (r->outcome == VERIFY_DONE)
        ctl_reply_ok(req, json_pack("{s:s}", "result", r->sentence));
    else
        ctl_reply_error(req, "refused", "%s (%s)", r->sentence, r->code ? r->code : "");
}

static void decide(struct ctl_request *req, json_t *args, bool approve)
{
    json_t *id = json_object_get(args, "request");
    if (!json_is_integer(id) || json_integer_value(id) <= 0) {
        ctl_reply_error(req, "bad-request", "request must be a positive request number");
        return;
    }
    verify_identity_decide(json_integer_value(id), approve,
                           json_string_value(json_object_get(args, "reason")),
                           ctl_request_actor(req), decided, req);
}

static void h_identity_approve(struct ctl_request *req, json_t *args)
{
    decide(req, args, true);
}

static void h_identity_reject(struct ctl_request *req, json_t *args)
{
    decide(req, args, false);
}

static void revealed(void *ud, int status, const char *sentence, const struct verify_identity *id)
{
    struct ctl_request *req = ud;
    if (status != 0) {
        ctl_reply_error(req, "refused", "%s", sentence);
        return;
    }
    ctl_reply_ok(req, json_pack("{s:s, s:s, s:s, s:s, s:i}", "real_name", id->real_name,
                                "document_type", id->doc_type, "document_number", id->doc_number,
                                "phone", id->phone, "level", id->level));
}

static void h_identity_reveal(struct ctl_request *req, json_t *args)
{
    const char *name = json_string_value(json_object_get(args, "name"));
    const char *case_ref = json_string_value(json_object_get(args, "case"));
    if (!name || !case_ref || !*case_ref) {
        ctl_reply_error(req, "bad-request", "name and case (a case reference) are required");
        return;
    }
    verify_reveal(name, case_ref, ctl_request_actor(req), revealed, req);
}

void ctl_accounts_register(void)
{
    static bool done;
    if (done)
        return;
    done = true;
    ctl_register("accounts.list", MOD_ROLES, "list accounts (optional glob pattern)",
                 h_accounts_list);
    ctl_register("accounts.show", MOD_ROLES, "show one account", h_accounts_show);
    ctl_register("accounts.suspend", MOD_ROLES, "suspend an account with a reason",
                 h_accounts_suspend);
    ctl_register("accounts.unsuspend", MOD_ROLES, "lift a suspension", h_accounts_unsuspend);
    ctl_register("identity.queue", MOD_ROLES, "pending manual identity checks", h_identity_queue);
    ctl_register("identity.approve", MOD_ROLES, "approve a pending identity request",
                 h_identity_approve);
    ctl_register("identity.reject", MOD_ROLES, "reject a pending identity request with a reason",
                 h_identity_reject);
    ctl_groups_register();
    ctl_register("identity.reveal", CTL_ROLE_AUDITOR,
                 "reveal a real identity (auditors only; case reference required; audited)",
                 h_identity_reveal);
}

/* ---- groups (read-mostly views for operators) ---- */

static json_t *group_json(struct channel *ch, bool full)
{
    const struct account *owner = account_find_id(ch->owner_id);
    size_t members = group_member_count(ch);
    json_t *o = json_pack("{s:I, s:s, s:s, s:s, s:I, s:s}", "code", (json_int_t)ch->code, "name",
                          ch->name, "category", ch->category ? ch->category : "", "owner",
                          owner ? owner->name : "", "members", (json_int_t)members, "size",
                          group_size_name(group_size_class(members)));
    if (full) {
        json_object_set_new(o, "online", json_integer((json_int_t)ch->nmembers));
        json_object_set_new(o, "messages_7_days", json_integer(group_activity(ch)));
        json_object_set_new(o, "approval", json_boolean(group_needs_approval(ch)));
        json_object_set_new(o, "pending_requests", json_integer((json_int_t)ch->nreq));
        json_t *managers = json_array();
        for (size_t i = 0; i < ch->ngm; i++) {
            const struct account *m = account_find_id(ch->gm[i].account_id);
            if (m && ch->gm[i].role == ROLE_MANAGER)
                json_array_append_new(managers, json_string(m->name));
        }
        json_object_set_new(o, "managers", managers);
        /* the persistent members with their roles (accounts, never real
         * names); a group holds at most a few thousand */
        static const char *const roles[] = {"member", "voiced", "manager", "owner"};
        json_t *list = json_array();
        for (size_t i = 0; i < ch->ngm; i++) {
            const struct group_member *gm = &ch->gm[i];
            const struct account *m = account_find_id(gm->account_id);
            int r = gm->role >= ROLE_MEMBER && gm->role <= ROLE_OWNER ? gm->role : ROLE_MEMBER;
            json_array_append_new(list, json_pack("{s:s, s:s, s:I, s:I}", "account",
                                                  m ? m->name : "", "role", roles[r], "joined_at",
                                                  (json_int_t)gm->joined_at, "muted_until",
                                                  (json_int_t)gm->muted_until));
        }
        json_object_set_new(o, "member_list", list);
    }
    return o;
}

static void groups_one(struct channel *ch, void *ud)
{
    if (ch->code)
        json_array_append_new(ud, group_json(ch, false));
}

static void h_groups_list(struct ctl_request *req, json_t *args)
{
    json_t *arr = json_array();
    channel_foreach(groups_one, arr);
    ctl_reply_ok(req, arr);
}

static void h_groups_show(struct ctl_request *req, json_t *args)
{
    const char *g = json_string_value(json_object_get(args, "group"));
    struct channel *ch = NULL;
    if (g && g[0] == '#')
        ch = channel_find(g);
    else if (g)
        ch = group_find_code(strtoll(g, NULL, 10));
    if (!ch || !ch->code) {
        ctl_reply_error(req, "not-found", "no group %s", g ? g : "(none given)");
        return;
    }
    ctl_reply_ok(req, group_json(ch, true));
}

static void h_log_access(struct ctl_request *req, json_t *args);

void ctl_groups_register(void)
{
    ctl_register("log.access", CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR,
                 "record a direct read of the network log (qunctl verify, search, export)",
                 h_log_access);
    ctl_register("groups.list", MOD_ROLES, "list groups", h_groups_list);
    ctl_register("groups.show", MOD_ROLES, "show one group", h_groups_show);
}

/* ---- log access (qunctl verify, search, export read the file directly) ---- */

static void h_log_access(struct ctl_request *req, json_t *args)
{
    const char *what = json_string_value(json_object_get(args, "what"));
    if (!what || !*what) {
        ctl_reply_error(req, "bad-request", "what (verify, search, export...) is required");
        return;
    }
    char *body = json_dumps(args, JSON_COMPACT);
    int64_t seq = netlog_record("log.access", ctl_request_actor(req), what, 0, 0, NULL, body);
    free(body);
    if (seq < 0)
        ctl_reply_error(req, "log", "the network log cannot record the access right now");
    else
        ctl_reply_ok(req, json_pack("{s:I}", "seq", (json_int_t)seq));
}
