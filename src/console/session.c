/*
 * session.c - console sessions: a list of open sessions (at most
 * console.max_sessions), two bounded maps of failed logins, token and
 * CSRF generation, expiry, and the network-log events of logins and
 * logouts. The contract and the invariants are in session.h.
 *
 * Lookup is a linear scan comparing 32-byte token hashes with
 * sodium_memcmp: constant time per entry, and a thousand entries cost
 * microseconds. Nothing here blocks; the password check runs on the pool
 * (operator_verify).
 *
 * Threads: loop thread only.
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "console/session.h"
#include "identity/ratelimit.h"
#include "netlog/netlog.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strmap.h"

int64_t (*session__now)(void);

static int64_t sess_idle = 30 * 60;
static int64_t sess_lifetime = 12 * 3600;
static struct ratelimit_rule sess_fail_rule = {5, 900};
static size_t sess_max = 1000;

static struct console_session *sess_list; /* newest first */
static size_t sess_n;

struct fail_entry {
    char *key;
    struct ratelimit_bucket b;
};
static struct strmap sess_fail_name, sess_fail_ip;
static bool sess_maps_ready;

static int64_t sess_now(void)
{
    return session__now ? session__now() : qclock_now();
}

void session_configure(const struct qun_config *cfg)
{
    sess_idle = (int64_t)cfg->console_session_idle_minutes * 60;
    sess_lifetime = (int64_t)cfg->console_session_lifetime_hours * 3600;
    sess_fail_rule.limit = (uint32_t)cfg->console_login_failures;
    sess_fail_rule.window_seconds = cfg->console_login_window;
    sess_max = (size_t)cfg->console_max_sessions;
}

size_t session_count(void)
{
    return sess_n;
}

const char *session_status_sentence(int status)
{
    switch (status) {
    case SESSION_OK:
        return "logged in";
    case SESSION_ERR_CREDENTIALS:
        return "unknown operator or wrong password";
    case SESSION_ERR_THROTTLED:
        return "too many failed logins; try again later";
    case SESSION_ERR_BUSY:
        return "too many console sessions are open; try again later";
    case SESSION_ERR_INTERNAL:
        return "the password could not be checked; see the server log";
    case SESSION_ERR_NONE:
        return "not logged in";
    case SESSION_ERR_EXPIRED:
        return "the session has expired; log in again";
    }
    return "unknown error";
}

/* ---------------------------------------------------------------- records */

/* "console:<name>" for a name that could be an operator's, else
 * "console:?" (a typed name that is not one is not copied into the log). */
static void actor_for(const char *name, char *out, size_t cap)
{
    bool valid = operator_name_check(name) == OPERATOR_OK;
    snprintf(out, cap, "console:%s", valid ? name : "?");
}

static void record(const char *kind, const char *name, const char *ip, const char *result,
                   const char *role)
{
    char actor[CTL_ACTOR_MAX];
    actor_for(name, actor, sizeof actor);
    json_t *body = json_pack("{s:s, s:s}", "result", result, "ip", ip ? ip : "");
    if (!body) /* an address that is not UTF-8 */
        body = json_pack("{s:s}", "result", result);
    if (role)
        json_object_set_new(body, "role", json_string(role));
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    bool valid = operator_name_check(name) == OPERATOR_OK;
    if (netlog_record(kind, actor, valid ? name : NULL, 0, 0, NULL, text) < 0)
        log_warn("console: the network log did not take a %s record", kind);
    free(text);
}

/* ---------------------------------------------------------------- throttling */

static void maps_ready(void)
{
    if (sess_maps_ready)
        return;
    strmap_init(&sess_fail_name);
    strmap_init(&sess_fail_ip);
    sess_maps_ready = true;
}

static void fail_map_clear(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) {
            struct fail_entry *e = m->slots[i].value;
            free(e->key);
            free(e);
        }
    strmap_free(m);
    strmap_init(m);
}

static struct ratelimit_bucket *fail_bucket(struct strmap *m, const char *key, bool create)
{
    maps_ready();
    char k[65];
    snprintf(k, sizeof k, "%s", key ? key : ""); /* bounded keys */
    struct fail_entry *e = strmap_get(m, k);
    if (e || !create)
        return e ? &e->b : NULL;
    if (m->count >= SESSION_THROTTLE_MAX)
        fail_map_clear(m); /* invariant 3: bounded; forget old failures wholesale */
    e = xcalloc(1, sizeof *e);
    e->key = xstrdup(k);
    strmap_put(m, e->key, e);
    return &e->b;
}

bool session_login_allowed(const char *name, const char *ip, int64_t *retry_after)
{
    int64_t now = sess_now(), wait = 0;
    struct ratelimit_bucket *b[2] = {fail_bucket(&sess_fail_name, name, false),
                                     ip ? fail_bucket(&sess_fail_ip, ip, false) : NULL};
    for (int i = 0; i < 2; i++)
        if (b[i] && !ratelimit_check(b[i], sess_fail_rule, now)) {
            int64_t w = ratelimit_retry_after(b[i], sess_fail_rule, now);
            wait = w > wait ? w : wait;
        }
    if (retry_after)
        *retry_after = wait;
    return wait == 0;
}

static void login_failed(const char *name, const char *ip)
{
    int64_t now = sess_now();
    ratelimit_record(fail_bucket(&sess_fail_name, name, true), now);
    if (ip)
        ratelimit_record(fail_bucket(&sess_fail_ip, ip, true), now);
}

static void login_succeeded(const char *name)
{
    maps_ready();
    char k[65];
    snprintf(k, sizeof k, "%s", name);
    struct fail_entry *e = strmap_del(&sess_fail_name, k);
    if (e) {
        free(e->key);
        free(e);
    }
}

/* ---------------------------------------------------------------- the list */

static void token_key(const char *token, uint8_t key[32])
{
    crypto_generichash(key, 32, (const unsigned char *)token, SESSION_TOKEN_HEX, NULL, 0);
}

static bool token_wellformed(const char *token)
{
    if (!token || strnlen(token, SESSION_TOKEN_HEX + 1) != SESSION_TOKEN_HEX)
        return false;
    for (size_t i = 0; i < SESSION_TOKEN_HEX; i++)
        if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
            return false;
    return true;
}

static void sess_unlink(struct console_session *s)
{
    if (s->prev)
        s->prev->next = s->next;
    else
        sess_list = s->next;
    if (s->next)
        s->next->prev = s->prev;
    sess_n--;
}

/* Ends s; reason NULL: silently (shutdown). */
static void sess_end(struct console_session *s, const char *reason)
{
    sess_unlink(s);
    if (reason)
        record("console.logout", s->name, s->ip, reason, operator_role_name(s->role));
    sodium_memzero(s, sizeof *s);
    free(s);
}

/* Why s is no longer valid at now, or NULL (invariant 2). */
static const char *sess_invalid(const struct console_session *s, int64_t now)
{
    if (now >= s->created_at + sess_lifetime)
        return "lifetime";
    if (now >= s->last_seen + sess_idle)
        return "idle";
    const struct operator* op = operator_find(s->name);
    if (!op || op->disabled_at)
        return "operator-disabled";
    if (op->generation != s->generation)
        return "password-changed";
    return NULL;
}

static void sess_purge(int64_t now)
{
    struct console_session *s = sess_list;
    while (s) {
        struct console_session *next = s->next;
        const char *why = sess_invalid(s, now);
        if (why)
            sess_end(s, why);
        s = next;
    }
}

static void random_hex(char out[SESSION_TOKEN_HEX + 1])
{
    uint8_t raw[SESSION_TOKEN_HEX / 2];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, SESSION_TOKEN_HEX + 1, raw, sizeof raw);
    sodium_memzero(raw, sizeof raw);
}

/* Opens a session for op (invariant 1); fills g. Returns SESSION_OK or BUSY. */
static int sess_open(const struct operator* op, const char *ip, struct session_grant *g)
{
    int64_t now = sess_now();
    if (sess_n >= sess_max)
        sess_purge(now);
    if (sess_n >= sess_max)
        return SESSION_ERR_BUSY;
    size_t mine = 0;
    struct console_session *oldest = NULL;
    for (struct console_session *s = sess_list; s; s = s->next)
        if (strcmp(s->name, op->name) == 0) {
            mine++;
            oldest = s; /* the list is newest first */
        }
    if (mine >= SESSION_PER_OPERATOR && oldest)
        sess_end(oldest, "replaced");
    struct console_session *s = xcalloc(1, sizeof *s);
    random_hex(g->token);
    token_key(g->token, s->key);
    random_hex(s->csrf);
    memcpy(g->csrf, s->csrf, sizeof g->csrf);
    snprintf(s->name, sizeof s->name, "%s", op->name);
    s->role = op->role;
    s->generation = op->generation;
    s->created_at = s->last_seen = now;
    snprintf(s->ip, sizeof s->ip, "%s", ip ? ip : "");
    s->next = sess_list;
    if (sess_list)
        sess_list->prev = s;
    sess_list = s;
    sess_n++;
    g->session = s;
    return SESSION_OK;
}

void session_free_all(void)
{
    while (sess_list)
        sess_end(sess_list, NULL);
    if (sess_maps_ready) {
        fail_map_clear(&sess_fail_name);
        fail_map_clear(&sess_fail_ip);
        strmap_free(&sess_fail_name);
        strmap_free(&sess_fail_ip);
        sess_maps_ready = false;
    }
}

/* ---------------------------------------------------------------- login */

struct login_job {
    char name[OPERATOR_NAME_MAX + 1 + 32]; /* as typed, bounded (throttle key) */
    char ip[64];
    session_login_cb cb;
    void *ud;
};

static void login_checked(void *ud, int status, const struct operator* op)
{
    struct login_job *j = ud;
    struct session_grant g;
    memset(&g, 0, sizeof g);
    int st = SESSION_ERR_INTERNAL;
    if (status == OPERATOR_OK && op)
        st = sess_open(op, j->ip, &g);
    else if (status == OPERATOR_ERR_CREDENTIALS)
        st = SESSION_ERR_CREDENTIALS;
    if (st == SESSION_ERR_CREDENTIALS)
        login_failed(j->name, j->ip);
    else if (st == SESSION_OK)
        login_succeeded(j->name);
    record("console.login", j->name, j->ip,
           st == SESSION_OK                ? "ok"
           : st == SESSION_ERR_CREDENTIALS ? "bad-credentials"
           : st == SESSION_ERR_BUSY        ? "busy"
                                           : "error",
           st == SESSION_OK ? operator_role_name(op->role) : NULL);
    j->cb(j->ud, st, st == SESSION_OK ? &g : NULL);
    sodium_memzero(&g, sizeof g);
    free(j);
}

int session_login(const char *name, const char *pw, size_t len, const char *ip,
                  int64_t *retry_after, session_login_cb cb, void *ud)
{
    if (!name)
        name = "";
    if (!session_login_allowed(name, ip, retry_after)) {
        record("console.login", name, ip, "throttled", NULL);
        return SESSION_ERR_THROTTLED;
    }
    struct login_job *j = xcalloc(1, sizeof *j);
    snprintf(j->name, sizeof j->name, "%s", name);
    snprintf(j->ip, sizeof j->ip, "%s", ip ? ip : "");
    j->cb = cb;
    j->ud = ud;
    if (operator_verify(name, pw, len, login_checked, j) != OPERATOR_OK) {
        free(j);
        return SESSION_ERR_INTERNAL;
    }
    return SESSION_OK;
}

/* ---------------------------------------------------------------- use */

static struct console_session *sess_lookup(const char *token)
{
    if (!token_wellformed(token))
        return NULL;
    uint8_t key[32];
    token_key(token, key);
    struct console_session *found = NULL;
    for (struct console_session *s = sess_list; s; s = s->next)
        if (sodium_memcmp(s->key, key, sizeof key) == 0)
            found = s;
    return found;
}

const struct console_session *session_find(const char *token, int *status)
{
    struct console_session *s = sess_lookup(token);
    int64_t now = sess_now();
    if (!s) {
        *status = SESSION_ERR_NONE;
        return NULL;
    }
    const char *why = sess_invalid(s, now);
    if (why) {
        sess_end(s, why);
        *status = SESSION_ERR_EXPIRED;
        return NULL;
    }
    s->last_seen = now;
    *status = SESSION_OK;
    return s;
}

bool session_csrf_ok(const struct console_session *s, const char *presented)
{
    if (!s || !presented || strnlen(presented, SESSION_TOKEN_HEX + 1) != SESSION_TOKEN_HEX)
        return false;
    return sodium_memcmp(s->csrf, presented, SESSION_TOKEN_HEX) == 0;
}

int session_logout(const char *token)
{
    struct console_session *s = sess_lookup(token);
    if (!s)
        return SESSION_ERR_NONE;
    sess_end(s, "logout");
    return SESSION_OK;
}

unsigned session_roles(const struct console_session *s)
{
    switch (s->role) {
    case OPERATOR_ADMINISTRATOR:
        return CTL_ROLE_ADMINISTRATOR;
    case OPERATOR_MODERATOR:
        return CTL_ROLE_MODERATOR;
    case OPERATOR_AUDITOR:
        return CTL_ROLE_AUDITOR;
    }
    return 0;
}

void session_actor(const struct console_session *s, char *actor, size_t cap)
{
    snprintf(actor, cap, "console:%s", s->name);
}

void session_call(const struct console_session *s, const char *cmd, json_t *args, ctl_done_cb done,
                  void *ud)
{
    char actor[CTL_ACTOR_MAX];
    session_actor(s, actor, sizeof actor);
    ctl_call(cmd, args, session_roles(s), actor, done, ud);
}

/* ---------------------------------------------------------------- cookies */

int session_cookie(const char *token, bool tls, char *out, size_t cap)
{
    if (!token_wellformed(token))
        return -1;
    int n = snprintf(out, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict%s", SESSION_COOKIE_NAME,
                     token, tls ? "; Secure" : "");
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int session_cookie_clear(bool tls, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0%s",
                     SESSION_COOKIE_NAME, tls ? "; Secure" : "");
    return n < 0 || (size_t)n >= cap ? -1 : n;
}
