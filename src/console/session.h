/*
 * session.h - console sessions: password login, throttling, session
 * tokens, CSRF tokens, expiry, logout, and the bridge to ctl_call.
 *
 * No HTTP here: the console listener (another module) parses requests,
 * finds the cookie and the CSRF header and calls these functions; they
 * would serve any transport.
 *
 * A session is named by a 256-bit random token, sent to the browser once
 * (in the Set-Cookie value of session_cookie) and kept here only as its
 * BLAKE2b-256 hash: a memory dump does not hold usable tokens. Sessions
 * are kept in memory only, not in the store: a restart logs every
 * operator out, which is acceptable for a console (sessions last hours)
 * and means no token hash ever reaches the disk or a backup.
 *
 * Life of a session:
 *
 *   session_login() --argon2id on the pool (operator_verify)--> [OPEN]
 *      | throttled / bad credentials: no session, a "console.login" event
 *   [OPEN] --session_find() within idle and lifetime--> [OPEN] (last_seen)
 *   [OPEN] --idle, lifetime, operator disabled or new password,
 *            session_logout()--> gone, a "console.logout" event
 *
 * Invariants:
 *   1. At most console.max_sessions sessions, and at most
 *      SESSION_PER_OPERATOR per operator (the oldest of that operator ends
 *      when a new one opens).
 *   2. A session is valid only while now < last_seen + idle and
 *      now < created + lifetime, and while its operator is enabled with
 *      the generation it had at login; session_find ends it otherwise.
 *   3. Failed logins are counted per name (as typed) and per client
 *      address; over console.login_failures within console.login_window
 *      in either, a login is refused before any password check. A refused
 *      attempt is not counted (identity/ratelimit.h). A success clears
 *      the name's count. Both maps are bounded (SESSION_THROTTLE_MAX keys,
 *      then forgotten wholesale).
 *   4. Tokens and CSRF tokens are compared in constant time; neither, nor
 *      a password, is ever logged or written to the network log.
 *
 * Times are qclock_now() (util/clock.h), or session__now in unit tests.
 *
 * Threads: loop thread only; callbacks run on the loop thread.
 */
#ifndef QUN_CONSOLE_SESSION_H
#define QUN_CONSOLE_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "console/operator.h"
#include "ctl/ctl.h"

struct qun_config;

#define SESSION_TOKEN_HEX    64 /* 32 random bytes as lower-case hex */
#define SESSION_PER_OPERATOR 16
#define SESSION_THROTTLE_MAX 10000
#define SESSION_COOKIE_NAME  "qun_console"
#define SESSION_COOKIE_MAX   160 /* bytes of a Set-Cookie value, NUL included */

enum session_status {
    SESSION_OK = 0,
    SESSION_ERR_CREDENTIALS = -1, /* unknown operator, disabled, or wrong password */
    SESSION_ERR_THROTTLED = -2,   /* too many failures for this name or address */
    SESSION_ERR_BUSY = -3,        /* console.max_sessions reached */
    SESSION_ERR_INTERNAL = -4,    /* hashing failed */
    SESSION_ERR_NONE = -5,        /* no such session (or it ended) */
    SESSION_ERR_EXPIRED = -6,     /* idle or lifetime passed (now ended) */
};

struct console_session {
    uint8_t key[32]; /* BLAKE2b-256 of the token: the only trace of it */
    char csrf[SESSION_TOKEN_HEX + 1];
    char name[OPERATOR_NAME_MAX + 1];
    enum operator_role role;
    uint64_t generation; /* the operator's at login */
    int64_t created_at, last_seen;
    char ip[64];
    struct console_session *prev, *next;
};

/* What a successful login hands to the listener: the token (for the
 * cookie; not kept here) and the session's CSRF token (for pages). */
struct session_grant {
    char token[SESSION_TOKEN_HEX + 1];
    char csrf[SESSION_TOKEN_HEX + 1];
    const struct console_session *session;
};

/* Takes the limits (idle, lifetime, failures, window, max sessions);
 * call at start and on reload. Without it the documented defaults apply. */
void session_configure(const struct qun_config *cfg);
/* Ends every session without events (shutdown) and forgets the counts. */
void session_free_all(void);
size_t session_count(void);
const char *session_status_sentence(int status);

/*
 * Login with name and pw[0..len) from address ip (for throttling and the
 * record). Returns SESSION_OK when queued (cb follows once, on the loop)
 * or THROTTLED (with *retry_after seconds, if not NULL) / INTERNAL at
 * once. cb gets SESSION_OK and a grant (valid during the call), or
 * CREDENTIALS, BUSY, INTERNAL and NULL. ud must stay valid until cb runs.
 * Every outcome is a "console.login" network-log event.
 */
typedef void (*session_login_cb)(void *ud, int status, const struct session_grant *grant);
int session_login(const char *name, const char *pw, size_t len, const char *ip,
                  int64_t *retry_after, session_login_cb cb, void *ud);

/* The session named by token (the cookie's value), after checking
 * invariant 2; marks it used now. NULL with *status NONE or EXPIRED (the
 * session then ended, with a "console.logout" event). */
const struct console_session *session_find(const char *token, int *status);
/* Constant-time comparison of a presented CSRF token with the session's. */
bool session_csrf_ok(const struct console_session *s, const char *presented);
/* Ends the session named by token ("console.logout", reason "logout").
 * Returns SESSION_OK or SESSION_ERR_NONE. */
int session_logout(const char *token);

/* The session as a principal for ctl_call: the role mask
 * (administrator -> CTL_ROLE_ADMINISTRATOR, ...) and actor
 * "console:<name>" (cap >= CTL_ACTOR_MAX). */
unsigned session_roles(const struct console_session *s);
void session_actor(const struct console_session *s, char *actor, size_t cap);
/* ctl_call(cmd, args, session_roles(s), session_actor(s), done, ud). */
void session_call(const struct console_session *s, const char *cmd, json_t *args, ctl_done_cb done,
                  void *ud);

/* The Set-Cookie value carrying token: "qun_console=<token>; Path=/;
 * HttpOnly; SameSite=Strict" plus "; Secure" when the listener is TLS.
 * No Max-Age: the cookie dies with the browser; the server enforces the
 * lifetime. session_cookie_clear gives the value that deletes it.
 * Return the length, or -1 if cap is too small or token malformed. */
int session_cookie(const char *token, bool tls, char *out, size_t cap);
int session_cookie_clear(bool tls, char *out, size_t cap);

/* Throttling (invariant 3), exposed for tests and for a listener that
 * wants to refuse before reading a body. */
bool session_login_allowed(const char *name, const char *ip, int64_t *retry_after);

/* Unit tests only: the clock (NULL: qclock_now). */
extern int64_t (*session__now)(void);

#endif
