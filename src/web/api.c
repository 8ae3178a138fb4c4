/*
 * api.c - the operator console's JSON API (console listener only).
 *
 *   POST /api/login     {"name","password"} -> 200 {"operator","role","csrf"}
 *                       + Set-Cookie; 401 bad-login; 429 throttled
 *   GET  /api/session   -> 200 {"operator","role","csrf"} or 401
 *   POST /api/logout    (cookie + X-CSRF-Token) -> 200 {}
 *   POST /api/ctl/<cmd> (cookie + X-CSRF-Token; body: the args object)
 *                       -> 200 {"result":...} or {"error":{"code","message"}}
 *   GET  /api/export?group=&account=&from=&to=&case= (cookie) -> the tar
 *                       of the control command log.export
 *
 * This file holds no domain logic: a request becomes session_login,
 * session_find/session_logout or session_call (-> ctl_call, the same
 * handler, role check and records as qunctl). Bodies are parsed with
 * jansson (the parser already capped them at web.body_max) and must be
 * JSON objects. Every state-changing request (every POST but the login)
 * needs the session's CSRF token in X-CSRF-Token, compared in constant
 * time by session_csrf_ok; the cookie is HttpOnly and SameSite=Strict.
 *
 * Asynchronous answers (login: argon2id on the pool; ctl commands that
 * wait for the store) come back to a callback with the connection's id,
 * never its pointer; an answer for a connection that has gone is
 * dropped. wc->busy is set before the call, so an answer given at once
 * (inside the call) and a later one take the same path.
 *
 * Error codes -> HTTP: bad-request 400, forbidden 403, not-found and
 * unknown-command 404, refused 409, busy 503, anything else (store, log,
 * internal) 500.
 *
 * Threads: loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "console/session.h"
#include "util/alloc.h"
#include "util/log.h"
#include "web/api_args.h"
#include "web/web_internal.h"

/* ---- helpers ----------------------------------------------------------------- */

static uint64_t *web_ticket(struct web_conn *wc)
{
    uint64_t *id = xmalloc(sizeof *id);
    *id = wc->id;
    return id;
}

/* The connection a ticket names (freeing the ticket), or NULL if it went. */
static struct web_conn *web_ticket_take(void *ud)
{
    uint64_t id = *(uint64_t *)ud;
    free(ud);
    struct web_conn *wc = web__conn_by_id(id);
    return wc && !wc->conn->closing ? wc : NULL;
}

/* The request's session, or NULL after answering 401. token (optional)
 * receives the cookie's value. */
static const struct console_session *web_session(struct web_conn *wc, const struct http_request *r,
                                                 char *token)
{
    char tok[SESSION_TOKEN_HEX + 2];
    const char *cookie = http_request_header(r, "Cookie");
    int st = SESSION_ERR_NONE;
    const struct console_session *s = NULL;
    if (cookie && http_cookie_get(cookie, SESSION_COOKIE_NAME, tok, sizeof tok) > 0)
        s = session_find(tok, &st);
    if (!s) {
        web__respond_error(wc, 401, st == SESSION_ERR_EXPIRED ? "expired" : "no-session",
                           "log in first");
        return NULL;
    }
    if (token)
        snprintf(token, SESSION_TOKEN_HEX + 1, "%s", tok);
    return s;
}

static bool web_csrf(struct web_conn *wc, const struct http_request *r,
                     const struct console_session *s)
{
    const char *t = http_request_header(r, "X-CSRF-Token");
    if (t && session_csrf_ok(s, t))
        return true;
    web__respond_error(wc, 403, "csrf", "the X-CSRF-Token header is missing or wrong");
    return false;
}

/* The body as a JSON object ({} when empty); NULL after answering 400. */
static json_t *web_body_object(struct web_conn *wc, const struct http_request *r)
{
    json_t *o = web_api_body_object(r->body, r->body_len);
    if (!o)
        web__respond_error(wc, 400, "bad-request", "the body must be one JSON object");
    return o;
}

static void web_session_answer(struct web_conn *wc, const char *name, enum operator_role role,
                               const char *csrf, const struct web_headers *h)
{
    json_t *o = json_pack("{s:s,s:s,s:s}", "operator", name, "role", operator_role_name(role),
                          "csrf", csrf);
    char *s = json_dumps(o, JSON_COMPACT);
    web__respond(wc, 200, "application/json", h, s, strlen(s));
    free(s);
    json_decref(o);
}

/* ---- login, session, logout ---------------------------------------------------- */

static void web_login_done(void *ud, int status, const struct session_grant *g)
{
    struct web_conn *wc = web_ticket_take(ud);
    if (!wc)
        return;
    if (status == SESSION_OK && g) {
        char cookie[SESSION_COOKIE_MAX];
        if (session_cookie(g->token, wc->conn->tls, cookie, sizeof cookie) < 0) {
            web__respond_error(wc, 500, "internal", "the session cookie could not be made");
        } else {
            struct web_headers h = {0};
            web__hdr(&h, "Set-Cookie", cookie);
            web_session_answer(wc, g->session->name, g->session->role, g->csrf, &h);
        }
    } else if (status == SESSION_ERR_CREDENTIALS) {
        web__respond_error(wc, 401, "bad-login", "unknown operator or wrong password");
    } else if (status == SESSION_ERR_BUSY) {
        web__respond_error(wc, 503, "busy", session_status_sentence(status));
    } else {
        web__respond_error(wc, 500, "internal", session_status_sentence(status));
    }
    web__resume(wc);
}

static void web_api_login(struct web_conn *wc, const struct http_request *r)
{
    json_t *o = web_body_object(wc, r);
    if (!o)
        return;
    const char *name, *password;
    size_t password_len;
    if (!web_api_login_args(o, &name, &password, &password_len)) {
        json_decref(o);
        web__respond_error(wc, 400, "bad-request", "name and password (strings) are required");
        return;
    }
    int64_t retry = 0;
    uint64_t *ticket = web_ticket(wc);
    wc->busy = true;
    int st =
        session_login(name, password, password_len, wc->conn->ip, &retry, web_login_done, ticket);
    json_decref(o);
    if (st == SESSION_OK)
        return;
    free(ticket);
    wc->busy = false;
    if (st == SESSION_ERR_THROTTLED) {
        char ra[24];
        snprintf(ra, sizeof ra, "%lld", (long long)(retry > 0 ? retry : 1));
        struct web_headers h = {0};
        web__hdr(&h, "Retry-After", ra);
        const char *body = "{\"error\":{\"code\":\"throttled\",\"message\":\"too many failed "
                           "logins; try again later\"}}";
        web__respond(wc, 429, "application/json", &h, body, strlen(body));
    } else {
        web__respond_error(wc, 500, "internal", session_status_sentence(st));
    }
}

static void web_api_logout(struct web_conn *wc, const struct http_request *r)
{
    char token[SESSION_TOKEN_HEX + 1];
    const struct console_session *s = web_session(wc, r, token);
    if (!s || !web_csrf(wc, r, s))
        return;
    session_logout(token);
    char cookie[SESSION_COOKIE_MAX];
    struct web_headers h = {0};
    if (session_cookie_clear(wc->conn->tls, cookie, sizeof cookie) > 0)
        web__hdr(&h, "Set-Cookie", cookie);
    web__respond(wc, 200, "application/json", &h, "{}", 2);
}

/* ---- control commands ------------------------------------------------------------ */

static int web_error_status(const char *code)
{
    static const struct {
        const char *code;
        int status;
    } map[] = {{"bad-request", 400},     {"forbidden", 403}, {"not-found", 404},
               {"unknown-command", 404}, {"refused", 409},   {"busy", 503}};
    for (size_t i = 0; code && i < sizeof map / sizeof map[0]; i++)
        if (strcmp(code, map[i].code) == 0)
            return map[i].status;
    return 500;
}

static void web_ctl_done(void *ud, json_t *answer)
{
    struct web_conn *wc = web_ticket_take(ud);
    if (!wc)
        return;
    json_t *out;
    int status = 200;
    if (json_is_true(json_object_get(answer, "ok"))) {
        json_t *res = json_object_get(answer, "result");
        out = json_pack("{s:O}", "result", res ? res : json_null());
    } else {
        json_t *err = json_object_get(answer, "error");
        status = web_error_status(json_string_value(json_object_get(err, "code")));
        out = json_pack("{s:O}", "error", err ? err : json_object());
    }
    char *s = json_dumps(out, JSON_COMPACT | JSON_ENCODE_ANY);
    web__respond_json(wc, status, s ? s : "{}");
    free(s);
    json_decref(out);
    web__resume(wc);
}

static void web_api_ctl(struct web_conn *wc, const struct http_request *r, const char *cmd)
{
    const struct console_session *s = web_session(wc, r, NULL);
    if (!s || !web_csrf(wc, r, s))
        return;
    if (!web_api_cmd_name_ok(cmd)) {
        web__respond_error(wc, 404, "unknown-command", "no such command");
        return;
    }
    json_t *args = web_body_object(wc, r);
    if (!args)
        return;
    wc->busy = true;
    session_call(s, cmd, args, web_ctl_done, web_ticket(wc));
    json_decref(args);
}

/* ---- export --------------------------------------------------------------------- */

static void web_export_done(void *ud, json_t *answer)
{
    struct web_conn *wc = web_ticket_take(ud);
    if (!wc)
        return;
    json_t *res = json_object_get(answer, "result");
    const char *b64 = json_string_value(json_object_get(res, "archive"));
    if (!json_is_true(json_object_get(answer, "ok")) || !b64) {
        if (!json_is_true(json_object_get(answer, "ok"))) {
            web_ctl_done(web_ticket(wc), answer);
            return;
        }
        web__respond_error(wc, 500, "internal", "log.export answered without an archive");
        web__resume(wc);
        return;
    }
    size_t b64len = strlen(b64), cap = b64len / 4 * 3 + 3, len = 0;
    unsigned char *tar = xmalloc(cap);
    if (sodium_base642bin(tar, cap, b64, b64len, NULL, &len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0) {
        free(tar);
        web__respond_error(wc, 500, "internal", "log.export answered a malformed archive");
        web__resume(wc);
        return;
    }
    char disp[160], size[24];
    const char *sha = json_string_value(json_object_get(res, "sha256"));
    snprintf(disp, sizeof disp, "attachment; filename=\"qun-case-bundle.tar\"");
    snprintf(size, sizeof size, "%zu", len);
    struct web_headers h = {0};
    web__hdr(&h, "Content-Disposition", disp);
    if (sha && strlen(sha) == 64 && strspn(sha, "0123456789abcdef") == 64)
        web__hdr(&h, "X-Bundle-SHA256", sha);
    web__respond(wc, 200, "application/x-tar", &h, tar, len);
    free(tar);
    web__resume(wc);
}

static void web_api_export(struct web_conn *wc, const struct http_request *r)
{
    const struct console_session *s = web_session(wc, r, NULL);
    if (!s)
        return;
    json_t *args = web_api_export_args(r->query);
    if (!args) {
        web__respond_error(wc, 400, "bad-request", "a query parameter is malformed");
        return;
    }
    wc->busy = true;
    session_call(s, "log.export", args, web_export_done, web_ticket(wc));
    json_decref(args);
}

/* ---- routing --------------------------------------------------------------------- */

bool web__api(struct web_conn *wc, const struct http_request *r, const char *sub)
{
    bool post = strcmp(r->method, "POST") == 0;
    bool get = strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;

    if (strcmp(sub, "login") == 0) {
        if (!post)
            web__respond_method(wc, "POST");
        else
            web_api_login(wc, r);
    } else if (strcmp(sub, "session") == 0) {
        const struct console_session *s = get ? web_session(wc, r, NULL) : NULL;
        if (!get)
            web__respond_method(wc, "GET, HEAD");
        else if (s)
            web_session_answer(wc, s->name, s->role, s->csrf, NULL);
    } else if (strcmp(sub, "logout") == 0) {
        if (!post)
            web__respond_method(wc, "POST");
        else
            web_api_logout(wc, r);
    } else if (strncmp(sub, "ctl/", 4) == 0) {
        if (!post)
            web__respond_method(wc, "POST");
        else
            web_api_ctl(wc, r, sub + 4);
    } else if (strcmp(sub, "export") == 0) {
        if (!get)
            web__respond_method(wc, "GET, HEAD");
        else
            web_api_export(wc, r);
    } else {
        web__respond_error(wc, 404, "not-found", "no such API");
    }
    return wc->busy;
}
