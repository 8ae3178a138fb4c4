/*
 * ctl_report.c - control commands for reports to the authority
 * (qunctl reports list|show|retry|ack|create; report/report.h,
 * docs/reports.md).
 *
 *   reports.list    {"status": "pending"|"delivered"|"failed"|"acknowledged"}
 *   reports.show    {"id": N}      the row, the document, the attempts
 *   reports.retry   {"id": N}      failed -> pending, tried now
 *   reports.ack     {"id": N}      -> acknowledged (the authority confirmed)
 *   reports.create  {"account": NAME, "group": CODE, "reason", "measures",
 *                    "kind" (default "manual"), "severity", "evidence",
 *                    "seqs": "12,15" or [12, 15]}
 *
 * Roles: administrators and moderators do everything; auditors may list
 * and show. Retry, acknowledge and create are network-log events made by
 * the report module with the requester (unix:<user>) as actor.
 *
 * Threads: loop only.
 */
#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "ctl/ctl.h"
#include "irc/group.h"
#include "report/report.h"

#define REPORT_READ_ROLES  (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR)
#define REPORT_WRITE_ROLES (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR)

static void answered(void *ud, int rc, json_t *result, const char *err)
{
    struct ctl_request *req = ud;
    if (rc == REPORT_OK)
        ctl_reply_ok(req, result);
    else
        ctl_reply_error(req,
                        rc == REPORT_ERR_NOT_FOUND ? "not-found"
                        : rc == REPORT_ERR_STATE   ? "conflict"
                                                   : "store",
                        "%s", err ? err : "the request failed");
}

/* A submission that was refused before any callback. */
static void refused(struct ctl_request *req, int rc)
{
    if (rc == REPORT_ERR_STATE)
        ctl_reply_error(req, "bad-request",
                        "status must be pending, delivered, failed or acknowledged");
    else
        ctl_reply_error(req, "store", "reports are not available (the server is stopping)");
}

static bool arg_id(struct ctl_request *req, json_t *args, int64_t *id)
{
    json_t *v = json_object_get(args, "id");
    if (!json_is_integer(v) || json_integer_value(v) <= 0) {
        ctl_reply_error(req, "bad-request", "id must be a report number from `reports list`");
        return false;
    }
    *id = json_integer_value(v);
    return true;
}

static void h_list(struct ctl_request *req, json_t *args)
{
    json_t *s = json_object_get(args, "status");
    if (s && !json_is_string(s) && !json_is_null(s)) {
        refused(req, REPORT_ERR_STATE);
        return;
    }
    int rc = report_list(json_string_value(s), answered, req);
    if (rc != REPORT_OK)
        refused(req, rc);
}

static void h_show(struct ctl_request *req, json_t *args)
{
    int64_t id;
    int rc;
    if (arg_id(req, args, &id) && (rc = report_show(id, answered, req)) != REPORT_OK)
        refused(req, rc);
}

static void h_retry(struct ctl_request *req, json_t *args)
{
    int64_t id;
    int rc;
    if (arg_id(req, args, &id) &&
        (rc = report_retry(id, ctl_request_actor(req), answered, req)) != REPORT_OK)
        refused(req, rc);
}

static void h_ack(struct ctl_request *req, json_t *args)
{
    int64_t id;
    int rc;
    if (arg_id(req, args, &id) &&
        (rc = report_ack(id, ctl_request_actor(req), answered, req)) != REPORT_OK)
        refused(req, rc);
}

/* "12, 15,20" or [12, 15, 20] into seqs; false with a reply on error. */
static bool parse_seqs(struct ctl_request *req, json_t *v, int64_t *seqs, size_t *n)
{
    *n = 0;
    if (!v || json_is_null(v))
        return true;
    if (json_is_array(v)) {
        size_t i;
        json_t *e;
        json_array_foreach(v, i, e)
        {
            if (!json_is_integer(e) || *n == REPORT_SEQS_MAX)
                goto bad;
            seqs[(*n)++] = json_integer_value(e);
        }
        return true;
    }
    const char *p = json_string_value(v);
    if (!p)
        goto bad;
    while (*p) {
        char *end;
        errno = 0;
        long long x = strtoll(p, &end, 10);
        if (end == p || errno || *n == REPORT_SEQS_MAX)
            goto bad;
        seqs[(*n)++] = x;
        p = end + strspn(end, " ,");
    }
    return true;
bad:
    ctl_reply_error(req, "bad-request",
                    "seqs must be up to %d network-log sequence numbers, e.g. \"12,15\"",
                    REPORT_SEQS_MAX);
    return false;
}

static bool parse_group(struct ctl_request *req, json_t *v, int64_t *code)
{
    *code = 0;
    if (!v || json_is_null(v))
        return true;
    char *end = NULL;
    if (json_is_integer(v))
        *code = json_integer_value(v);
    else if (json_is_string(v))
        *code = strtoll(json_string_value(v), &end, 10);
    if (*code <= 0 || (end && *end)) {
        ctl_reply_error(req, "bad-request", "group must be a group code (a number)");
        return false;
    }
    if (!group_find_code(*code)) {
        ctl_reply_error(req, "not-found", "there is no group with code %" PRId64, *code);
        return false;
    }
    return true;
}

static void h_create(struct ctl_request *req, json_t *args)
{
    int64_t seqs[REPORT_SEQS_MAX];
    struct report_input in = {.seqs = seqs, .author = ctl_request_actor(req)};
    if (json_object_get(args, "account") && !(in.subject = ctl_arg_account(req, args, "account")))
        return;
    if (!parse_group(req, json_object_get(args, "group"), &in.group_code) ||
        !parse_seqs(req, json_object_get(args, "seqs"), seqs, &in.nseqs))
        return;
    in.kind = json_string_value(json_object_get(args, "kind"));
    if (!in.kind)
        in.kind = "manual";
    in.severity = json_string_value(json_object_get(args, "severity"));
    in.reason = json_string_value(json_object_get(args, "reason"));
    in.measures = json_string_value(json_object_get(args, "measures"));
    in.evidence = json_string_value(json_object_get(args, "evidence"));
    char err[256];
    int64_t id = report_create_ex(&in, err, sizeof err);
    if (id < 0)
        ctl_reply_error(req, "bad-request", "%s", err);
    else
        ctl_reply_ok(req, json_pack("{s:I, s:s}", "id", (json_int_t)id, "status", "pending"));
}

void ctl_report_register(void)
{
    ctl_register("reports.list", REPORT_READ_ROLES,
                 "list reports to the authority (optional status)", h_list);
    ctl_register("reports.show", REPORT_READ_ROLES,
                 "show one report: its document and delivery attempts", h_show);
    ctl_register("reports.retry", REPORT_WRITE_ROLES, "send a failed report again (recorded)",
                 h_retry);
    ctl_register("reports.ack", REPORT_WRITE_ROLES,
                 "mark a report acknowledged by the authority (recorded)", h_ack);
    ctl_register("reports.create", REPORT_WRITE_ROLES,
                 "report an account or a group to the authority by hand (recorded)", h_create);
}
