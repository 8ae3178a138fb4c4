/*
 * web_internal.h - what the files of src/web share and nobody else may use.
 *
 *   http_conn.c  one HTTP connection: input, parser, timeouts, responses,
 *                the registry of connections by id;
 *   router.c     which handler answers a request, per listener kind;
 *   static.c     files under <web.root>/public and <web.root>/console;
 *   pages.c      the public pages of large groups (/g/<code>);
 *   api.c        the console's JSON API;
 *   ws_bridge.c  GET /irc: the upgrade, frames in, IRC lines out.
 *
 * A struct web_conn lives from the accept to on_close and hangs from
 * conn->face. Asynchronous work (a login, a control command) refers to it
 * by its connection id (web__conn_by_id), never by pointer: the browser
 * may leave first and the answer is then dropped.
 */
#ifndef QUN_WEB_INTERNAL_H
#define QUN_WEB_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#include "config/config.h"
#include "http/request.h"
#include "http/ws.h"
#include "net/conn.h"

#define WEB_FILE_MAX    (8u << 20)   /* largest static file served */
#define WEB_HOLD_MAX    (256u << 10) /* input kept while a request is in progress */
#define WEB_SWEEP_MS    500
#define WEB_HEAD_MAX    2048 /* response head buffer */
#define WEB_HEADERS_MAX 8    /* extra response header fields */

enum web_face { WEB_FACE_PUBLIC = 0, WEB_FACE_CONSOLE = 1 };

struct web_conn {
    struct conn *conn;
    uint64_t id; /* conn->id */
    enum web_face face;
    struct http_parser parser;
    bool parser_ready;
    /* input not yet consumed (while paused or while a request waits) */
    char *held;
    size_t held_len, held_cap;
    uint64_t deadline; /* uv_now() ms; 0: none */
    bool busy;         /* an asynchronous answer is pending */
    bool reading;      /* a request has started arriving (header_timeout runs) */
    bool close_after;  /* the response in progress ends the connection */
    bool head_only;    /* the request is HEAD */
    /* WebSocket (after GET /irc) */
    bool ws;
    enum ws_subproto subproto;
    struct ws_decoder dec;
    struct web_conn *prev, *next;
};

/* Extra header fields of one response (name/value pairs, borrowed). */
struct web_headers {
    const char *name[WEB_HEADERS_MAX];
    const char *value[WEB_HEADERS_MAX];
    size_t n;
};
void web__hdr(struct web_headers *h, const char *name, const char *value);

/* http_conn.c */
extern const struct qun_config *web__cfg;
extern const struct conn_ops *web__irc_ops;
struct web_conn *web__conn_by_id(uint64_t id);
/* Queues one whole response: the security headers, h's fields, the body
 * (not sent for HEAD). keep_alive false closes after it. */
void web__respond(struct web_conn *wc, int status, const char *ctype, const struct web_headers *h,
                  const void *body, size_t len);
void web__respond_json(struct web_conn *wc, int status, const char *json);
/* {"error":{"code":code,"message":message}} */
void web__respond_error(struct web_conn *wc, int status, const char *code, const char *message);
void web__respond_not_found(struct web_conn *wc);
void web__respond_method(struct web_conn *wc, const char *allow);
/* An asynchronous answer was sent: read the next request. */
void web__resume(struct web_conn *wc);
/* The connection became a WebSocket: it no longer counts against
 * web.max_connections (it is an IRC client now). */
void web__conn_became_ws(struct web_conn *wc);

/* router.c: handles one complete request. Returns true when the answer
 * comes later (the handler set wc->busy before starting the work). */
bool web__route(struct web_conn *wc, const struct http_request *r);

/* static.c: GET/HEAD of a file of the face's directory; rel is the path
 * below it, still percent-encoded ("index.html", "app.js"). */
void web__static(struct web_conn *wc, const struct http_request *r, const char *rel);

/* pages.c */
void web__group_page(struct web_conn *wc, const struct http_request *r, const char *code);

/* api.c: /api/...; returns true when the answer comes later. */
bool web__api(struct web_conn *wc, const struct http_request *r, const char *sub);

/* ws_bridge.c */
/* Answers GET /irc: on success the connection is a WebSocket and an IRC
 * client from then on. */
void web__ws_upgrade(struct web_conn *wc, const struct http_request *r);
/* WebSocket input; returns CONN_LINE_PAUSE when the IRC core paused the
 * client (*used: bytes consumed). */
enum conn_line_result web__ws_input(struct web_conn *wc, const char *data, size_t len,
                                    size_t *used);
void web__ws_close(struct web_conn *wc, const char *reason);

/* Escapes text for HTML element content and attribute values into a
 * growing buffer (pages.c). */
struct web_buf {
    char *p;
    size_t len, cap;
};
void web__buf_add(struct web_buf *b, const char *s, size_t n);
void web__buf_printf(struct web_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void web__buf_html(struct web_buf *b, const char *s);

#endif
