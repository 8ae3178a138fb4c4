/*
 * http_conn.c - one HTTP/1.1 connection on the loop: input, the request
 * parser, timeouts, responses, and the registry of connections by id.
 *
 * The transport delivers raw bytes (conn_ops.on_data). Bytes go to the
 * sans-IO parser (http/request.h); each complete request is routed
 * (router.c); pipelined bytes after it stay for the next request.
 *
 * States of a connection (the function performing each transition):
 *
 *   IDLE --first byte [web_feed]--> READING --complete [web_feed]--> ROUTED
 *   ROUTED --sync answer--> IDLE (keep-alive) or CLOSING
 *   ROUTED --async (login, ctl) [web__route]--> BUSY: paused, input held
 *   BUSY --answer [api.c] then web__resume--> IDLE or CLOSING
 *   ROUTED --GET /irc accepted [web__ws_upgrade]--> WEBSOCKET (ws_bridge.c)
 *   READING --parser error--> 4xx/5xx with Connection: close --> CLOSING
 *   IDLE  --web.idle_timeout--> closed;  READING --web.header_timeout-->
 *     408 and closed (slow-loris); BUSY and WEBSOCKET have no deadline here
 *     (the IRC core times WebSocket clients out like TCP ones).
 *
 * Invariants:
 *   1. Input held per connection is at most WEB_HOLD_MAX bytes: while a
 *      request waits the connection is paused, so the transport stops
 *      reading and at most one more read can arrive.
 *   2. Responses are queued whole, in request order (a paused connection
 *      reads no further request until its answer is out).
 *   3. At most web.max_connections HTTP connections; more are answered
 *      503 and closed. WebSocket connections count as IRC clients instead.
 *   4. One sweep timer (WEB_SWEEP_MS) checks deadlines; it runs only while
 *      a connection has one and never keeps the loop alive.
 *
 * Threads: loop thread only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http/response.h"
#include "net/conn.h"
#include "util/alloc.h"
#include "util/log.h"
#include "web/web.h"
#include "web/web_internal.h"

const struct qun_config *web__cfg;
const struct conn_ops *web__irc_ops;

static uv_loop_t *web_loop;
static uv_timer_t web_sweep;
static bool web_sweep_init, web_sweep_on;
static struct web_conn *web_conns; /* HTTP and WebSocket connections */
static size_t web_http_count;      /* of which not WebSocket */

/* ---- registry and deadlines ---------------------------------------------- */

struct web_conn *web__conn_by_id(uint64_t id)
{
    for (struct web_conn *wc = web_conns; wc; wc = wc->next)
        if (wc->id == id)
            return wc;
    return NULL;
}

static void web_on_sweep(uv_timer_t *t);

static void web_set_deadline(struct web_conn *wc, unsigned secs)
{
    wc->deadline = secs ? uv_now(web_loop) + (uint64_t)secs * 1000 : 0;
    if (secs && !web_sweep_on) {
        uv_timer_start(&web_sweep, web_on_sweep, WEB_SWEEP_MS, WEB_SWEEP_MS);
        web_sweep_on = true;
    }
}

static void web_on_sweep(uv_timer_t *t)
{
    uint64_t now = uv_now(t->loop);
    bool any = false;
    for (struct web_conn *wc = web_conns; wc; wc = wc->next) {
        if (!wc->deadline || wc->conn->closing)
            continue;
        if (now < wc->deadline) {
            any = true;
            continue;
        }
        wc->deadline = 0;
        if (wc->reading) {
            /* a request started and did not finish in time: slow-loris */
            wc->close_after = true;
            web__respond_error(wc, 408, "timeout", "the request took too long to arrive");
        }
        conn_close(wc->conn, "HTTP timeout");
    }
    if (!any) {
        uv_timer_stop(&web_sweep);
        web_sweep_on = false;
    }
}

/* ---- responses ----------------------------------------------------------- */

void web__hdr(struct web_headers *h, const char *name, const char *value)
{
    if (h->n < WEB_HEADERS_MAX) {
        h->name[h->n] = name;
        h->value[h->n] = value;
        h->n++;
    }
}

void web__respond(struct web_conn *wc, int status, const char *ctype, const struct web_headers *h,
                  const void *body, size_t len)
{
    char head[WEB_HEAD_MAX], date[HTTP_DATE_LEN + 1];
    struct http_resp w;
    bool keep = !wc->close_after && !wc->conn->closing;

    http_date_format((int64_t)time(NULL), date);
    http_resp_start(&w, head, sizeof head, status, date);
    if (ctype)
        http_resp_header(&w, "Content-Type", ctype);
    http_resp_header(&w, "Content-Security-Policy",
                     "default-src 'self'; img-src 'self' data:; object-src 'none'; "
                     "base-uri 'none'; form-action 'self'; frame-ancestors 'none'");
    http_resp_header(&w, "X-Content-Type-Options", "nosniff");
    http_resp_header(&w, "Referrer-Policy", "no-referrer");
    http_resp_header(&w, "X-Frame-Options", "DENY");
    bool cache = false;
    for (size_t i = 0; h && i < h->n; i++) {
        http_resp_header(&w, h->name[i], h->value[i]);
        cache |= strcmp(h->name[i], "Cache-Control") == 0;
    }
    if (!cache)
        http_resp_header(&w, "Cache-Control", "no-store");
    ssize_t n = http_resp_end(&w, len, keep);
    if (n < 0) {
        log_warn("web: a response head did not fit (status %d)", status);
        conn_close(wc->conn, "HTTP response error");
        return;
    }
    bool with_body = !wc->head_only && status >= 200 && status != 204 && status != 304;
    size_t total = (size_t)n + (with_body ? len : 0);
    char *tmp = xmalloc(total ? total : 1);
    memcpy(tmp, head, (size_t)n);
    if (with_body && len)
        memcpy(tmp + n, body, len);
    /* A response bigger than limits.sendq (a static file) is queued whole:
     * the cap becomes that response plus limits.sendq, never more, so a
     * client that pipelines requests for big files and does not read gets
     * "SendQ exceeded" instead of every response queued in memory. */
    if (total > web__cfg->sendq)
        conn_set_sendq_max(wc->conn, total + web__cfg->sendq);
    conn_send_copy(wc->conn, tmp, total);
    free(tmp);
    if (!keep)
        conn_close(wc->conn, "HTTP connection done");
}

void web__respond_json(struct web_conn *wc, int status, const char *json)
{
    web__respond(wc, status, "application/json", NULL, json, strlen(json));
}

void web__respond_error(struct web_conn *wc, int status, const char *code, const char *message)
{
    json_t *o = json_pack("{s:{s:s,s:s}}", "error", "code", code, "message", message);
    char *s = json_dumps(o, JSON_COMPACT);
    web__respond_json(wc, status, s ? s : "{}");
    free(s);
    json_decref(o);
}

void web__respond_not_found(struct web_conn *wc)
{
    static const char page[] = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
                               "<title>404 Not Found</title></head><body><h1>404 Not Found</h1>"
                               "<p>There is nothing at this address. 此地址没有内容。</p>"
                               "<p><a href=\"/\">Home / 首页</a></p></body></html>\n";
    web__respond(wc, 404, "text/html; charset=utf-8", NULL, page, sizeof page - 1);
}

void web__respond_method(struct web_conn *wc, const char *allow)
{
    struct web_headers h = {0};
    web__hdr(&h, "Allow", allow);
    static const char body[] = "405 Method Not Allowed\n";
    web__respond(wc, 405, "text/plain; charset=utf-8", &h, body, sizeof body - 1);
}

/* ---- input --------------------------------------------------------------- */

static void web_hold(struct web_conn *wc, const char *data, size_t len)
{
    if (len == 0)
        return;
    if (wc->held_len + len > wc->held_cap) {
        size_t cap = wc->held_cap ? wc->held_cap : 4096;
        while (cap < wc->held_len + len)
            cap *= 2;
        wc->held = xrealloc(wc->held, cap);
        wc->held_cap = cap;
    }
    memmove(wc->held + wc->held_len, data, len);
    wc->held_len += len;
}

static void web_parser_limits(struct http_limits *lim)
{
    const struct qun_config *cfg = web__cfg;
    lim->line_max = cfg->web_line_max;
    lim->header_count_max = (size_t)cfg->web_header_count;
    lim->header_bytes_max = cfg->web_header_bytes;
    lim->body_max = cfg->web_body_max;
}

/* Parses and answers requests from data; returns PAUSE when an answer
 * comes later or the connection became a WebSocket that paused. */
static enum conn_line_result web_feed(struct web_conn *wc, const char *data, size_t len,
                                      size_t *used)
{
    size_t off = 0;
    *used = 0;
    while (off < len && !wc->conn->closing) {
        if (wc->ws) {
            size_t n = 0;
            enum conn_line_result r = web__ws_input(wc, data + off, len - off, &n);
            off += n;
            *used = off;
            return r;
        }
        size_t n = 0;
        enum http_parse_result pr = http_parser_feed(&wc->parser, data + off, len - off, &n);
        off += n;
        *used = off;
        if (pr == HTTP_PARSE_MORE) {
            if (wc->parser.consumed > 0 && !wc->reading) {
                wc->reading = true;
                web_set_deadline(wc, (unsigned)web__cfg->web_header_timeout);
            }
            break;
        }
        if (pr == HTTP_PARSE_ERROR) {
            char buf[1024], date[HTTP_DATE_LEN + 1];
            http_date_format((int64_t)time(NULL), date);
            ssize_t m = http_resp_error(buf, sizeof buf, http_parser_status(&wc->parser), date);
            log_debug("web: bad request from %s: %s", wc->conn->ip, http_parser_error(&wc->parser));
            if (m > 0)
                conn_send_copy(wc->conn, buf, (size_t)m);
            conn_close(wc->conn, "HTTP request error");
            *used = len;
            return CONN_LINE_CONTINUE;
        }
        const struct http_request *r = http_parser_request(&wc->parser);
        wc->deadline = 0;
        wc->reading = false;
        wc->close_after = !r->keep_alive;
        wc->head_only = strcmp(r->method, "HEAD") == 0;
        web__route(wc, r);
        if (!wc->ws)
            http_parser_reset(&wc->parser);
        if (wc->busy) /* set by the handler; its answer resumes us */
            return CONN_LINE_PAUSE;
    }
    if (!wc->ws && !wc->busy && !wc->conn->closing && wc->parser.consumed == 0)
        web_set_deadline(wc, (unsigned)web__cfg->web_idle_timeout);
    return CONN_LINE_CONTINUE;
}

static enum conn_line_result web_on_data(struct conn *c, const char *data, size_t len)
{
    struct web_conn *wc = c->face;
    if (!wc || c->closing)
        return CONN_LINE_CONTINUE;
    if (data && wc->held_len > 0) {
        if (wc->held_len + len > WEB_HOLD_MAX) {
            conn_close(c, "HTTP input overflow");
            return CONN_LINE_CONTINUE;
        }
        web_hold(wc, data, len);
        data = NULL;
    }
    if (!data) {
        if (wc->busy)
            return CONN_LINE_PAUSE;
        /* process the held bytes; what stays is moved to the front */
        size_t used = 0;
        enum conn_line_result r = web_feed(wc, wc->held, wc->held_len, &used);
        if (wc->conn->closing || used >= wc->held_len) {
            wc->held_len = 0;
        } else {
            memmove(wc->held, wc->held + used, wc->held_len - used);
            wc->held_len -= used;
        }
        return r;
    }
    size_t used = 0;
    enum conn_line_result r = web_feed(wc, data, len, &used);
    if (!c->closing && used < len)
        web_hold(wc, data + used, len - used);
    return r;
}

void web__resume(struct web_conn *wc)
{
    wc->busy = false;
    if (wc->conn->closing)
        return;
    web_set_deadline(wc, (unsigned)web__cfg->web_idle_timeout);
    conn_resume(wc->conn);
}

/* ---- transport callbacks ------------------------------------------------- */

static int web_accept(struct conn *c, enum web_face face)
{
    if (web_http_count >= (size_t)web__cfg->web_max_connections) {
        static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n"
                                   "Connection: close\r\n\r\n";
        conn_send_copy(c, busy, sizeof busy - 1);
        conn_close(c, "Too many HTTP connections");
        return -1;
    }
    struct web_conn *wc = xcalloc(1, sizeof *wc);
    struct http_limits lim;
    wc->conn = c;
    wc->id = c->id;
    wc->face = face;
    web_parser_limits(&lim);
    http_parser_init(&wc->parser, &lim);
    wc->parser_ready = true;
    c->face = wc;
    wc->next = web_conns;
    if (web_conns)
        web_conns->prev = wc;
    web_conns = wc;
    web_http_count++;
    web_set_deadline(wc, (unsigned)web__cfg->web_idle_timeout);
    return 0;
}

static int web_on_accept_public(struct conn *c)
{
    return web_accept(c, WEB_FACE_PUBLIC);
}

static int web_on_accept_console(struct conn *c)
{
    return web_accept(c, WEB_FACE_CONSOLE);
}

static void web_on_close(struct conn *c, const char *reason)
{
    struct web_conn *wc = c->face;
    if (!wc)
        return;
    if (wc->ws)
        web__ws_close(wc, reason);
    else
        web_http_count--;
    if (wc->prev)
        wc->prev->next = wc->next;
    else
        web_conns = wc->next;
    if (wc->next)
        wc->next->prev = wc->prev;
    if (wc->parser_ready)
        http_parser_free(&wc->parser);
    free(wc->held);
    c->face = NULL;
    free(wc);
}

/* The transport never calls these in raw mode; present for completeness. */
static enum conn_line_result web_on_line(struct conn *c, char *line, size_t len)
{
    (void)c;
    (void)line;
    (void)len;
    return CONN_LINE_CONTINUE;
}

static void web_on_overlong(struct conn *c)
{
    (void)c;
}

static const struct conn_ops web_ops_public = {
    .on_accept = web_on_accept_public,
    .on_line = web_on_line,
    .on_overlong = web_on_overlong,
    .on_close = web_on_close,
    .on_data = web_on_data,
};

static const struct conn_ops web_ops_console = {
    .on_accept = web_on_accept_console,
    .on_line = web_on_line,
    .on_overlong = web_on_overlong,
    .on_close = web_on_close,
    .on_data = web_on_data,
};

void web__conn_became_ws(struct web_conn *wc)
{
    (void)wc;
    web_http_count--;
}

/* ---- module -------------------------------------------------------------- */

void web_init(uv_loop_t *loop, const struct qun_config *cfg, const struct conn_ops *irc_ops)
{
    web__cfg = cfg;
    web_loop = loop;
    web__irc_ops = irc_ops;
    uv_timer_init(loop, &web_sweep);
    uv_unref((uv_handle_t *)&web_sweep);
    web_sweep_init = true;
}

void web_reload(const struct qun_config *cfg)
{
    web__cfg = cfg;
}

int web_listen(const struct config_listen *l, struct tls_ctx *tls, char *err, size_t errlen)
{
    const struct conn_ops *ops = l->kind == LISTEN_CONSOLE ? &web_ops_console : &web_ops_public;
    int r = listener_open_ops(l->address, l->port, tls, ops, NULL, err, errlen);
    if (r == 0)
        log_info("web: %s listener on %s port %d%s",
                 l->kind == LISTEN_CONSOLE ? "console" : "public", l->address, l->port,
                 tls ? " (TLS)" : "");
    return r;
}

void web_stop(void)
{
    if (!web_sweep_init)
        return;
    web_sweep_init = false;
    web_sweep_on = false;
    uv_timer_stop(&web_sweep);
    uv_close((uv_handle_t *)&web_sweep, NULL);
}
