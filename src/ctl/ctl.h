/*
 * ctl.h - the control socket: qunctl's way into the running daemon.
 *
 * A unix-domain stream socket (control.socket, mode 0660) on the loop. Each
 * connection is identified by its peer credentials (SO_PEERCRED), never by
 * anything the client says: uid 0 and the daemon's own user are
 * administrators, the unix user names in control.administrators /
 * moderators / auditors get those roles (a user may hold several). A peer
 * with no role gets one "forbidden" answer and is closed.
 *
 * Protocol: newline-delimited JSON, one request per line, at most
 * CTL_LINE_MAX bytes per line (a longer line gets an error and the
 * connection is closed):
 *   request  {"id":N,"cmd":"accounts.list","args":{...}}
 *   answer   {"id":N,"ok":true,"result":<json>}
 *            {"id":N,"ok":false,"error":{"code":"...","message":"..."}}
 * Error codes of the control layer itself: "bad-request", "unknown-command",
 * "forbidden", "line-too-long", "busy". Handlers choose their own codes.
 *
 * Handlers are registered by other modules (ctl_register, before or after
 * ctl_start). A handler gets the request and its args object (borrowed: ctl
 * releases it when the handler returns; json_incref it to keep it). It must
 * reply exactly once, now or later (after store callbacks): ctl_reply_ok or
 * ctl_reply_error, each of which frees the request. If the client has gone
 * meanwhile, the reply is dropped silently. Answers on one connection go out
 * in the order the replies are given (the id lets the client match them).
 *
 * Every request is logged at info as "control: <actor> <cmd>"; the args are
 * never logged (they may hold secrets or case references), and a handler's
 * error messages must not carry secrets either.
 *
 * Requests have a second origin, ctl_call (below): the web console calls
 * the same commands through it, so the console, its JSON API and qunctl
 * run one function per action.
 *
 * Threads: everything here runs on the loop thread, including replies.
 */
#ifndef QUN_CTL_CTL_H
#define QUN_CTL_CTL_H

#include <stddef.h>
#include <sys/types.h>
#include <jansson.h>
#include <uv.h>

#include "config/config.h"

#define CTL_LINE_MAX  65536 /* bytes per request line, without the newline */
#define CTL_ACTOR_MAX 80    /* bytes of an actor name, with its NUL */

enum ctl_role { CTL_ROLE_ADMINISTRATOR = 1, CTL_ROLE_MODERATOR = 2, CTL_ROLE_AUDITOR = 4 };

struct ctl_request; /* one request in flight; opaque */
struct account;

/* args: an object, maybe empty; borrowed for the duration of the call. */
typedef void (*ctl_handler)(struct ctl_request *req, json_t *args);

/* name like "accounts.list"; roles = mask of the roles allowed; help is one
 * line. Registering a name again replaces the entry. The registry outlives
 * ctl_stop (modules register once per process). */
void ctl_register(const char *name, unsigned roles, const char *help, ctl_handler fn);

/* Answer a request: result is stolen (NULL means JSON null); req is freed. */
void ctl_reply_ok(struct ctl_request *req, json_t *result);
/* Answer with an error: code like "not-found", message printf-style (one
 * sentence, no secrets); req is freed. */
void ctl_reply_error(struct ctl_request *req, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/*
 * The second origin of requests: a caller inside the daemon (the web
 * console's API) runs a registered command for an operator it has
 * authenticated itself. Same registry, same role check against roles (a
 * mask of enum ctl_role), same "control: <actor> <cmd>" info log, same
 * handler; ctl_request_actor() answers actor (e.g. "console:alice"), so
 * every record a handler writes names that operator.
 *
 * The answer goes to done exactly once, on the loop thread: at once
 * (inside ctl_call) when the handler answers at once, or later (after its
 * store callbacks). answer has the socket's shape without "id":
 *   {"ok":true,"result":<json>}  or
 *   {"ok":false,"error":{"code":"...","message":"..."}}
 * It is borrowed for the call (json_incref it to keep it). args is
 * borrowed (NULL means {}); actor is copied (1..CTL_ACTOR_MAX-1 bytes, one
 * line, else a "bad-request" answer). done is called even when the socket
 * is not running or has stopped: ud must stay valid until done runs (a
 * caller whose connection may go first should refer to it by an id).
 */
typedef void (*ctl_done_cb)(void *ud, json_t *answer);
void ctl_call(const char *cmd, json_t *args, unsigned roles, const char *actor, ctl_done_cb done,
              void *ud);

/* "unix:alice" (or "unix:#1234" for a uid without a name), or the actor
 * given to ctl_call ("console:alice"): for audit records. */
const char *ctl_request_actor(const struct ctl_request *req);
/* Mask of enum ctl_role the requester held when the request arrived. */
unsigned ctl_request_roles(const struct ctl_request *req);

/* Creates the socket at cfg->control_socket (removing a stale socket file
 * nobody answers on; refusing if a live daemon answers) and starts
 * accepting. Returns 0, or -1 with one sentence in err. */
int ctl_start(uv_loop_t *loop, const struct qun_config *cfg, char *err, size_t errlen);
/* Takes the new role lists (copied; cfg may be freed afterwards). They apply
 * to the next request of every connection. A changed socket path is
 * reported and takes effect after a restart. */
void ctl_reload(const struct qun_config *cfg);
/* Closes the listener and every connection and unlinks the socket file;
 * the loop can then end. Requests still in flight are answered into the
 * void. Safe to call when not started. */
void ctl_stop(void);

/* Registers the accounts.* and identity.* commands (ctl_accounts.c). */
void ctl_accounts_register(void);
/* groups.* and log.access (ctl_accounts.c). */
void ctl_groups_register(void);
/* credit.show, credit.adjust, credit.ledger, appeals.list, appeals.decide
 * (ctl_credit.c). */
void ctl_credit_register(void);

/* hold.add, hold.list, hold.release: legal holds on the network log
 * (ctl_netlog.c). */
void ctl_netlog_register(void);

/* sanctions.*, blacklist.* and emergency.* (ctl_sanction.c). */
void ctl_sanction_register(void);
/* reports.list, .show, .retry, .ack, .create: reports to the authority
 * (ctl_report.c). */
void ctl_report_register(void);
/* complaints.list, .show, .decide, .stats, .flagged (ctl_complaints.c). */
void ctl_complaints_register(void);
/* operators.create, .list, .disable, .passwd: console operator accounts
 * (ctl_operators.c; administrators only). */
void ctl_operators_register(void);
/* status, log.search, audit.list, log.export: the console's dashboard and
 * its reads of the network log (ctl_logquery.c). */
void ctl_logquery_register(void);

/* For the command files: the account named by the string args[key], or
 * NULL after replying "bad-request" (key missing or not a string) or
 * "not-found" (no such account). A handler whose key is optional checks
 * json_object_get(args, key) first (ctl_accounts.c). */
struct account *ctl_arg_account(struct ctl_request *req, json_t *args, const char *key);

/* An answer that is a JSON array filled row by row from a store read: the
 * row callback appends to arr, ctl_list_done (status 0, or -1 when the
 * read failed) replies and frees the list. When the read cannot even start,
 * ctl_list_unavailable replies and frees it instead. */
struct ctl_list {
    struct ctl_request *req;
    json_t *arr;
};
struct ctl_list *ctl_list_new(struct ctl_request *req);
void ctl_list_done(void *list, int status);
void ctl_list_unavailable(struct ctl_list *list);

/* Roles of a unix user under the current lists (0: none). */
unsigned ctl_roles_for_user(uid_t uid, const char *user);
/* Open connections (for tests and diagnostics). */
size_t ctl_connection_count(void);

/*
 * For tests and fuzzing: the sans-IO part of reading one request line
 * (line[0..len), without the newline). On success returns 0 with *root the
 * parsed document, *id its "id" member or NULL, *cmd its "cmd" string
 * (borrowed from *root) and *args its "args" object or a new empty one;
 * *root, *id and *args are new references for the caller to release. On
 * failure returns -1 with *why a fixed sentence for the "bad-request"
 * answer, *id the request's id when one could be read (a new reference, or
 * NULL) and *root, *cmd and *args NULL. Never logs; reads nothing else.
 */
int ctl__parse_request(const char *line, size_t len, json_t **id, const char **cmd, json_t **args,
                       json_t **root, const char **why);

/* Testing only: when >= 0, used instead of every peer's uid. */
extern long ctl__peer_uid_override;

#endif
