/*
 * ws_bridge.c - IRC over WebSocket (ircv3.net/specs/extensions/websocket):
 * GET /irc upgrades an HTTP connection, which from then on is an IRC
 * client of the same core as TCP.
 *
 * Inbound: the RFC 6455 decoder (http/ws.h) yields whole messages; each
 * text or binary message is one IRC line (one trailing CR LF or LF
 * removed) handed to the IRC core's own conn_ops.on_line, with the TCP
 * limit: a line longer than the transport's line_max gets the IRC core's
 * on_overlong answer (ERR_INPUTTOOLONG), exactly as over TCP; a message
 * over web.ws_message_max is a 1009 close. When on_line pauses the client
 * (flood penalty, a command waiting for the store) decoding stops and the
 * rest of the input is held by http_conn.c until the core's conn_resume().
 * Ping -> pong with the same data; close -> close echoing the code;
 * decoder errors -> close with the decoder's code (1002, 1007, 1009).
 *
 * Outbound: the connection gets a framer (conn->framer), so every buffer
 * the IRC core queues with conn_send() becomes one frame per line: text
 * frames for text.ircv3.net (and no subprotocol), binary frames for
 * binary.ircv3.net. irc/send.c asks the framer once per capability set
 * and framing kind of a fan-out and shares that framed buffer between all
 * WebSocket recipients (conn_send_framed). Control frames (pong, close)
 * bypass the framer.
 *
 * The subprotocol is chosen in the client's order (the IRCv3 spec). The
 * client's address is the socket peer's (conn->ip): limits, sessions and
 * the network log see the same address as for TCP; no forwarded-for
 * header is trusted.
 *
 * Threads: loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/response.h"
#include "net/qbuf.h"
#include "proto/message.h"
#include "util/alloc.h"
#include "util/log.h"
#include "web/web_internal.h"

#define WEB_IRC_LINE_MAX (IRC_TAGS_MAX + IRC_BODY_MAX + 1) /* as server.c's line_max */

/* ---- framing (outbound) ------------------------------------------------- */

static struct qbuf *web_frame_lines(const struct qbuf *plain, enum ws_opcode op)
{
    const char *p = plain->data, *end = plain->data + plain->len;
    size_t total = 0;
    /* first pass: the size of every frame */
    for (const char *s = p; s < end;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - s);
        if (n && s[n - 1] == '\r')
            n--;
        if (n) {
            uint8_t hdr[WS_HEADER_MAX];
            total += ws_frame_header(hdr, op, n) + n;
        }
        s = nl ? nl + 1 : end;
    }
    if (total == 0)
        return NULL;
    char *buf = xmalloc(total);
    size_t off = 0;
    for (const char *s = p; s < end;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        size_t n = (size_t)(e - s);
        if (n && s[n - 1] == '\r')
            n--;
        if (n) {
            size_t h = ws_frame_header((uint8_t *)buf + off, op, n);
            memcpy(buf + off + h, s, n);
            off += h + n;
        }
        s = nl ? nl + 1 : end;
    }
    struct qbuf *b = qbuf_new_shared(buf, total);
    free(buf);
    return b;
}

static struct qbuf *web_frame_text(const struct qbuf *plain)
{
    return web_frame_lines(plain, WS_OP_TEXT);
}

static struct qbuf *web_frame_binary(const struct qbuf *plain)
{
    return web_frame_lines(plain, WS_OP_BINARY);
}

static const struct conn_framer web_framer_text = {.kind = 1, .frame = web_frame_text};
static const struct conn_framer web_framer_binary = {.kind = 2, .frame = web_frame_binary};

static void web_send_control(struct web_conn *wc, enum ws_opcode op, const void *data, size_t len)
{
    uint8_t buf[WS_HEADER_MAX + WS_CONTROL_MAX];
    size_t n = ws_frame_encode(buf, sizeof buf, op, data, len);
    if (n) {
        struct qbuf *b = qbuf_new((const char *)buf, n);
        conn_send_framed(wc->conn, b);
        qbuf_unref(b);
    }
}

static void web_send_close(struct web_conn *wc, uint16_t code, const char *reason)
{
    uint8_t buf[WS_HEADER_MAX + WS_CONTROL_MAX];
    size_t n = ws_close_encode(buf, sizeof buf, code, reason);
    if (n) {
        struct qbuf *b = qbuf_new((const char *)buf, n);
        conn_send_framed(wc->conn, b);
        qbuf_unref(b);
    }
}

/* ---- the upgrade ------------------------------------------------------------ */

void web__ws_upgrade(struct web_conn *wc, const struct http_request *r)
{
    static const enum ws_subproto supported[] = {WS_SUBPROTO_TEXT, WS_SUBPROTO_BINARY};
    struct ws_handshake hs;
    int st = ws_handshake_check(r, supported, 2, true, &hs);
    if (st == 405) {
        web__respond_method(wc, "GET");
        return;
    }
    if (st != 0) {
        struct web_headers h = {0};
        if (st == 426) {
            web__hdr(&h, "Upgrade", "websocket");
            web__hdr(&h, "Sec-WebSocket-Version", "13");
        }
        char body[64];
        int n = snprintf(body, sizeof body, "%d %s\n", st, http_reason(st));
        web__respond(wc, st, "text/plain; charset=utf-8", &h, body, (size_t)n);
        return;
    }
    char buf[512];
    ssize_t n = ws_handshake_response(&hs, buf, sizeof buf);
    if (n < 0) {
        conn_close(wc->conn, "WebSocket handshake error");
        return;
    }
    conn_send_copy(wc->conn, buf, (size_t)n);
    /* an IRC client gets limits.sendq, whatever HTTP responses this
     * connection carried before (web__respond raises the cap for those) */
    conn_set_sendq_max(wc->conn, 0);
    wc->ws = true;
    wc->subproto = hs.subproto;
    wc->deadline = 0;
    ws_decoder_init(&wc->dec, web__cfg->web_ws_message_max);
    http_parser_free(&wc->parser);
    wc->parser_ready = false;
    web__conn_became_ws(wc);
    wc->conn->framer = hs.subproto == WS_SUBPROTO_BINARY ? &web_framer_binary : &web_framer_text;
    /* From here the IRC core owns conn->owner; a refusal (server full, too
     * many connections from the address) has queued its ERROR line and
     * closed. */
    web__irc_ops->on_accept(wc->conn);
}

/* ---- input ------------------------------------------------------------------ */

static enum conn_line_result web_ws_line(struct web_conn *wc, const uint8_t *data, size_t len)
{
    static char line[WEB_IRC_LINE_MAX + 1];
    if (len && data[len - 1] == '\n')
        len--;
    if (len && data[len - 1] == '\r')
        len--;
    if (len > WEB_IRC_LINE_MAX) {
        web__irc_ops->on_overlong(wc->conn);
        return CONN_LINE_CONTINUE;
    }
    memcpy(line, data, len);
    line[len] = '\0';
    return web__irc_ops->on_line(wc->conn, line, len);
}

enum conn_line_result web__ws_input(struct web_conn *wc, const char *data, size_t len, size_t *used)
{
    size_t off = 0;
    while (off < len && !wc->conn->closing) {
        struct ws_event ev;
        size_t n = 0;
        enum ws_decode_result r =
            ws_decode(&wc->dec, (const uint8_t *)data + off, len - off, &n, &ev);
        off += n;
        if (r == WS_DECODE_MORE)
            break;
        if (r == WS_DECODE_ERROR) {
            uint16_t code = ws_decoder_close_code(&wc->dec);
            log_debug("web: WebSocket error from %s: %s", wc->conn->ip, ws_decoder_error(&wc->dec));
            web_send_close(wc, code, ws_decoder_error(&wc->dec));
            conn_close(wc->conn, "WebSocket protocol error");
            off = len;
            break;
        }
        switch (ev.type) {
        case WS_EV_TEXT:
        case WS_EV_BINARY:
            if (web_ws_line(wc, ev.data, ev.len) == CONN_LINE_PAUSE) {
                *used = off;
                return CONN_LINE_PAUSE;
            }
            break;
        case WS_EV_PING:
            web_send_control(wc, WS_OP_PONG, ev.data, ev.len);
            break;
        case WS_EV_PONG:
            break;
        case WS_EV_CLOSE:
            web_send_close(
                wc, ev.close_code == WS_CLOSE_NO_STATUS ? WS_CLOSE_NORMAL : ev.close_code, NULL);
            conn_close(wc->conn, "Client closed the WebSocket");
            off = len;
            break;
        }
    }
    *used = off;
    return CONN_LINE_CONTINUE;
}

void web__ws_close(struct web_conn *wc, const char *reason)
{
    web__irc_ops->on_close(wc->conn, reason);
    ws_decoder_free(&wc->dec);
    wc->conn->framer = NULL;
}
