/*
 * ctl_operators.c - the control commands for console operator accounts:
 * operators.create, operators.list, operators.disable, operators.passwd.
 *
 * A thin face over console/operator.h: argument checking and JSON shaping.
 * Administrators only, whether the request comes from qunctl (the unix
 * socket) or from the console (ctl_call). The password travels in the
 * request's args ("password"), which ctl never logs; qunctl reads it from
 * the terminal or stdin, never from its command line. Answers and the
 * network-log records carry no password and no hash.
 *
 * Asynchronous replies hold the struct ctl_request * until the hash and
 * the store write are done.
 *
 * Threads: loop thread only.
 */
#include <jansson.h>
#include <string.h>

#include "console/operator.h"
#include "ctl/ctl.h"

static json_t *operator_json(const struct operator* op)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:b}", "name", op->name, "role",
                          operator_role_name(op->role), "created_at", (json_int_t)op->created_at,
                          "created_by", op->created_by ? op->created_by : "?", "disabled",
                          op->disabled_at != 0);
    if (op->disabled_at)
        json_object_set_new(o, "disabled_at", json_integer(op->disabled_at));
    return o;
}

static const char *status_code(int status)
{
    switch (status) {
    case OPERATOR_ERR_EXISTS:
        return "exists";
    case OPERATOR_ERR_NOT_FOUND:
        return "not-found";
    case OPERATOR_ERR_BAD_NAME:
    case OPERATOR_ERR_BAD_ROLE:
    case OPERATOR_ERR_WEAK_PASSWORD:
        return "bad-request";
    case OPERATOR_ERR_DISABLED:
        return "disabled";
    case OPERATOR_ERR_BUSY:
        return "busy";
    case OPERATOR_ERR_LIMIT:
        return "limit";
    default:
        return "internal";
    }
}

static void reply_status(struct ctl_request *req, int status)
{
    ctl_reply_error(req, status_code(status), "%s", operator_status_sentence(status));
}

static void changed(void *ud, int status, const struct operator* op)
{
    struct ctl_request *req = ud;
    if (status != OPERATOR_OK || !op)
        reply_status(req, status);
    else
        ctl_reply_ok(req, operator_json(op));
}

/* args.password as bytes, or NULL after an error reply. */
static const char *arg_password(struct ctl_request *req, json_t *args, size_t *len)
{
    json_t *p = json_object_get(args, "password");
    if (!json_is_string(p)) {
        ctl_reply_error(req, "bad-request",
                        "password is required (qunctl reads it from the terminal or stdin)");
        return NULL;
    }
    *len = json_string_length(p);
    return json_string_value(p);
}

static const char *arg_name(struct ctl_request *req, json_t *args)
{
    const char *name = json_string_value(json_object_get(args, "name"));
    if (!name)
        ctl_reply_error(req, "bad-request", "name (an operator name) is required");
    return name;
}

static void h_create(struct ctl_request *req, json_t *args)
{
    const char *name = arg_name(req, args);
    if (!name)
        return;
    const char *role_name = json_string_value(json_object_get(args, "role"));
    enum operator_role role = operator_role_parse(role_name);
    if (!role) {
        reply_status(req, OPERATOR_ERR_BAD_ROLE);
        return;
    }
    size_t len;
    const char *pw = arg_password(req, args, &len);
    if (!pw)
        return;
    int rc = operator_create(name, role, pw, len, ctl_request_actor(req), changed, req);
    if (rc != OPERATOR_OK)
        reply_status(req, rc);
}

static void h_passwd(struct ctl_request *req, json_t *args)
{
    const char *name = arg_name(req, args);
    size_t len;
    const char *pw = name ? arg_password(req, args, &len) : NULL;
    if (!pw)
        return;
    int rc = operator_set_password(name, pw, len, ctl_request_actor(req), changed, req);
    if (rc != OPERATOR_OK)
        reply_status(req, rc);
}

static void h_disable(struct ctl_request *req, json_t *args)
{
    const char *name = arg_name(req, args);
    if (!name)
        return;
    int rc = operator_disable(name, ctl_request_actor(req), changed, req);
    if (rc != OPERATOR_OK)
        reply_status(req, rc);
}

static void list_one(const struct operator* op, void *ud)
{
    if (op->id > 0) /* not a reservation in progress */
        json_array_append_new(ud, operator_json(op));
}

static void h_list(struct ctl_request *req, json_t *args)
{
    (void)args;
    json_t *arr = json_array();
    operator_foreach(list_one, arr);
    ctl_reply_ok(req, arr);
}

void ctl_operators_register(void)
{
    ctl_register("operators.create", CTL_ROLE_ADMINISTRATOR,
                 "create a console operator: name, role, password (recorded)", h_create);
    ctl_register("operators.list", CTL_ROLE_ADMINISTRATOR,
                 "list console operators with role and state", h_list);
    ctl_register("operators.disable", CTL_ROLE_ADMINISTRATOR,
                 "disable a console operator and end its sessions (recorded)", h_disable);
    ctl_register("operators.passwd", CTL_ROLE_ADMINISTRATOR,
                 "set a console operator's password and end its sessions (recorded)", h_passwd);
}
