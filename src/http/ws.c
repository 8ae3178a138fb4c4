/*
 * ws.c - WebSocket (RFC 6455) handshake, frame decoder and encoder (sans-IO).
 *
 * Contract in ws.h. The decoder's states:
 *
 *   HEADER --2 bytes--> (check_first: RSV, opcode, MASK, control rules)
 *   HEADER --2/4/10 + 4 mask bytes--> (header_done: length, placement)
 *   header_done --len 0--> frame_done       header_done --len>0--> PAYLOAD
 *   PAYLOAD --payload_len bytes unmasked into msg or ctl--> frame_done
 *   frame_done: control -> event; data with FIN -> message event; else
 *               HEADER (more fragments)
 *   close event -> CLOSED (bytes ignored); any violation -> ERROR (sticky)
 *
 * Invariants:
 *   1. in_message is true exactly between a non-FIN text/binary frame and
 *      the FIN continuation that ends it; msg holds the unmasked bytes of
 *      its fragments so far, msg_len <= message_max.
 *   2. For a text message, msg[0..utf8_checked) is well-formed UTF-8 and
 *      msg[utf8_checked..msg_len) is at most 3 bytes that can still begin a
 *      well-formed sequence; the message is complete only when they are
 *      none (so a sequence split across fragments is accepted, a broken
 *      one fails as soon as its byte arrives).
 *   3. An event's data stay put until the next ws_decode() call, which
 *      first forgets the delivered message (deliver_pending).
 *
 * Threads: none.
 */
#include "http/ws.h"

#include <assert.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <string.h>

#include "proto/utf8.h"
#include "util/alloc.h"

static const char ws_guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";

enum { D_HEADER, D_PAYLOAD, D_CLOSED, D_ERROR, D_DELIVERED };

/* ---- handshake ---- */

const char *ws_subproto_name(enum ws_subproto p)
{
    switch (p) {
    case WS_SUBPROTO_TEXT:
        return "text.ircv3.net";
    case WS_SUBPROTO_BINARY:
        return "binary.ircv3.net";
    default:
        return NULL;
    }
}

void ws_accept_compute(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, EVP_sha1(), NULL) || !EVP_DigestUpdate(ctx, key, len) ||
        !EVP_DigestUpdate(ctx, ws_guid, sizeof ws_guid - 1) ||
        !EVP_DigestFinal_ex(ctx, md, &mdlen) || mdlen != 20) {
        fprintf(stderr, "ws: SHA-1 unavailable\n");
        abort();
    }
    EVP_MD_CTX_free(ctx);
    EVP_EncodeBlock((unsigned char *)out, md, 20);
    out[WS_ACCEPT_LEN] = '\0';
}

static bool is_b64(char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
           c == '/';
}

/* base64 of 16 bytes: 22 alphabet characters and "==". */
static bool key_valid(const char *k)
{
    if (strlen(k) != 24 || k[22] != '=' || k[23] != '=')
        return false;
    for (int i = 0; i < 22; i++)
        if (!is_b64(k[i]))
            return false;
    return true;
}

struct pick {
    const enum ws_subproto *supported;
    size_t n;
    bool client_order;
    enum ws_subproto chosen;
    size_t rank; /* server-order rank of chosen */
};

static bool pick_token(const char *tok, size_t len, void *arg)
{
    struct pick *pk = arg;
    for (size_t i = 0; i < pk->n; i++) {
        const char *name = ws_subproto_name(pk->supported[i]);
        /* subprotocol names are compared exactly (RFC 6455 §4.1) */
        if (!name || strlen(name) != len || memcmp(name, tok, len) != 0)
            continue;
        if (pk->client_order) {
            pk->chosen = pk->supported[i];
            return true;
        }
        if (pk->chosen == WS_SUBPROTO_NONE || i < pk->rank) {
            pk->chosen = pk->supported[i];
            pk->rank = i;
        }
    }
    return false;
}

int ws_handshake_check(const struct http_request *r, const enum ws_subproto *supported, size_t n,
                       bool client_order, struct ws_handshake *out)
{
    memset(out, 0, sizeof *out);
    if (strcmp(r->method, "GET") != 0)
        return 405;
    if (!http_request_has_token(r, "upgrade", "websocket"))
        return 426;
    if (r->version_minor < 1 || !http_request_has_token(r, "connection", "upgrade"))
        return 400;
    if (http_request_header_count(r, "sec-websocket-version") != 1 ||
        strcmp(http_request_header(r, "sec-websocket-version"), "13") != 0)
        return 426;
    if (http_request_header_count(r, "sec-websocket-key") != 1)
        return 400;
    const char *key = http_request_header(r, "sec-websocket-key");
    if (!key_valid(key))
        return 400;
    ws_accept_compute(key, strlen(key), out->accept);
    struct pick pk = {.supported = supported, .n = n, .client_order = client_order};
    http_request_each_token(r, "sec-websocket-protocol", pick_token, &pk);
    out->subproto = pk.chosen;
    return 0;
}

ssize_t ws_handshake_response(const struct ws_handshake *hs, char *buf, size_t cap)
{
    const char *proto = ws_subproto_name(hs->subproto);
    int n = snprintf(buf, cap,
                     "HTTP/1.1 101 Switching Protocols\r\n"
                     "Upgrade: websocket\r\n"
                     "Connection: Upgrade\r\n"
                     "Sec-WebSocket-Accept: %s\r\n"
                     "%s%s%s"
                     "\r\n",
                     hs->accept, proto ? "Sec-WebSocket-Protocol: " : "", proto ? proto : "",
                     proto ? "\r\n" : "");
    if (n < 0 || (size_t)n >= cap)
        return -1;
    return n;
}

/* ---- decoder ---- */

void ws_decoder_init(struct ws_decoder *d, size_t message_max)
{
    assert(message_max > 0);
    memset(d, 0, sizeof *d);
    d->message_max = message_max;
    d->state = D_HEADER;
}

void ws_decoder_free(struct ws_decoder *d)
{
    free(d->msg);
    memset(d, 0, sizeof *d);
}

uint16_t ws_decoder_close_code(const struct ws_decoder *d)
{
    return d->close_code;
}

const char *ws_decoder_error(const struct ws_decoder *d)
{
    return d->error ? d->error : "no error";
}

bool ws_close_code_valid(unsigned code)
{
    if (code >= 3000 && code <= 4999)
        return true;
    /* 1004-1006 and 1015 are reserved and never sent; 1012-1014 are
     * registered with IANA after RFC 6455. */
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014);
}

static enum ws_decode_result fail(struct ws_decoder *d, uint16_t code, const char *why)
{
    d->state = D_ERROR;
    d->close_code = code;
    d->error = why;
    return WS_DECODE_ERROR;
}

static bool is_control(uint8_t op)
{
    return op & 0x8;
}

/* Rules that the first two header bytes decide alone. */
static enum ws_decode_result check_first(struct ws_decoder *d)
{
    uint8_t b0 = d->hdr[0], b1 = d->hdr[1];
    d->fin = b0 & 0x80;
    d->opcode = b0 & 0x0F;
    if (b0 & 0x70)
        return fail(d, WS_CLOSE_PROTOCOL, "RSV bit set without an extension");
    if (!(b1 & 0x80))
        return fail(d, WS_CLOSE_PROTOCOL, "unmasked client frame");
    switch (d->opcode) {
    case WS_OP_CONT:
        if (!d->in_message)
            return fail(d, WS_CLOSE_PROTOCOL, "continuation without a message");
        break;
    case WS_OP_TEXT:
    case WS_OP_BINARY:
        if (d->in_message)
            return fail(d, WS_CLOSE_PROTOCOL, "new message inside a fragmented one");
        break;
    case WS_OP_CLOSE:
    case WS_OP_PING:
    case WS_OP_PONG:
        if (!d->fin)
            return fail(d, WS_CLOSE_PROTOCOL, "fragmented control frame");
        if ((b1 & 0x7F) > WS_CONTROL_MAX)
            return fail(d, WS_CLOSE_PROTOCOL, "control frame over 125 bytes");
        break;
    default:
        return fail(d, WS_CLOSE_PROTOCOL, "reserved opcode");
    }
    size_t len7 = b1 & 0x7F;
    d->hdr_need = 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + 4;
    return WS_DECODE_MORE;
}

static void msg_reserve(struct ws_decoder *d, size_t need)
{
    if (need <= d->msg_cap)
        return;
    size_t cap = d->msg_cap ? d->msg_cap : 256;
    while (cap < need)
        cap *= 2;
    if (cap > d->message_max)
        cap = d->message_max;
    d->msg = xrealloc(d->msg, cap);
    d->msg_cap = cap;
}

/* Length, mask and where the payload goes. */
static enum ws_decode_result header_done(struct ws_decoder *d)
{
    size_t len7 = d->hdr[1] & 0x7F, at = 2;
    uint64_t len = len7;
    if (len7 == 126) {
        len = (uint64_t)d->hdr[2] << 8 | d->hdr[3];
        at = 4;
        if (len < 126)
            return fail(d, WS_CLOSE_PROTOCOL, "non-minimal 16-bit length");
    } else if (len7 == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | d->hdr[2 + i];
        at = 10;
        if (len >> 63)
            return fail(d, WS_CLOSE_PROTOCOL, "64-bit length with the top bit set");
        if (len <= 0xFFFF)
            return fail(d, WS_CLOSE_PROTOCOL, "non-minimal 64-bit length");
    }
    memcpy(d->mask, d->hdr + at, 4);
    d->payload_len = len;
    d->payload_pos = 0;
    if (!is_control(d->opcode)) {
        if (len > d->message_max - d->msg_len)
            return fail(d, WS_CLOSE_TOO_BIG, "message over the limit");
        if (d->opcode != WS_OP_CONT) {
            d->in_message = true;
            d->msg_opcode = d->opcode;
            d->msg_len = 0;
            d->utf8_checked = 0;
        }
        msg_reserve(d, d->msg_len + (size_t)len);
    } else {
        d->ctl_len = 0;
    }
    d->state = D_PAYLOAD;
    return WS_DECODE_MORE;
}

/* True when s[0..n), n < 4, can still begin a well-formed sequence: some
 * completion of it passes utf8_seq_len (0x80, 0x90 or 0xA0 as second byte
 * satisfies every lead byte's bounds, 0x80 after that). */
static bool utf8_prefix_ok(const uint8_t *s, size_t n)
{
    static const uint8_t second[3] = {0x80, 0x90, 0xA0};
    for (int k = 0; k < 3; k++) {
        uint8_t b[4] = {0x80, second[k], 0x80, 0x80};
        memcpy(b, s, n);
        size_t want = utf8_seq_len(b, 4);
        if (want > n)
            return true;
    }
    return false;
}

/* Advances utf8_checked over the new bytes of a text message. */
static bool utf8_advance(struct ws_decoder *d)
{
    while (d->utf8_checked < d->msg_len) {
        size_t left = d->msg_len - d->utf8_checked;
        size_t n = utf8_seq_len(d->msg + d->utf8_checked, left);
        if (n == 0)
            return left < 4 && utf8_prefix_ok(d->msg + d->utf8_checked, left);
        d->utf8_checked += n;
    }
    return true;
}

static enum ws_decode_result frame_done(struct ws_decoder *d, struct ws_event *ev)
{
    d->state = D_HEADER;
    d->hdr_len = 0;
    if (d->opcode == WS_OP_CLOSE) {
        ev->type = WS_EV_CLOSE;
        ev->close_code = WS_CLOSE_NO_STATUS;
        ev->data = d->ctl;
        ev->len = 0;
        if (d->ctl_len == 1)
            return fail(d, WS_CLOSE_PROTOCOL, "close payload of one byte");
        if (d->ctl_len >= 2) {
            unsigned code = (unsigned)d->ctl[0] << 8 | d->ctl[1];
            if (!ws_close_code_valid(code))
                return fail(d, WS_CLOSE_PROTOCOL, "invalid close code");
            if (!utf8_valid((const char *)d->ctl + 2, d->ctl_len - 2))
                return fail(d, WS_CLOSE_BAD_DATA, "close reason not UTF-8");
            ev->close_code = (uint16_t)code;
            ev->data = d->ctl + 2;
            ev->len = d->ctl_len - 2;
        }
        d->state = D_CLOSED;
        return WS_DECODE_EVENT;
    }
    if (is_control(d->opcode)) {
        ev->type = d->opcode == WS_OP_PING ? WS_EV_PING : WS_EV_PONG;
        ev->data = d->ctl;
        ev->len = d->ctl_len;
        ev->close_code = 0;
        return WS_DECODE_EVENT;
    }
    if (!d->fin)
        return WS_DECODE_MORE;
    if (d->msg_opcode == WS_OP_TEXT && d->utf8_checked != d->msg_len)
        return fail(d, WS_CLOSE_BAD_DATA, "text message ends inside a UTF-8 sequence");
    ev->type = d->msg_opcode == WS_OP_TEXT ? WS_EV_TEXT : WS_EV_BINARY;
    ev->data = d->msg;
    ev->len = d->msg_len;
    ev->close_code = 0;
    d->in_message = false;
    d->state = D_DELIVERED;
    return WS_DECODE_EVENT;
}

/* Copies and unmasks payload bytes; returns how many were taken. */
static size_t take_payload(struct ws_decoder *d, const uint8_t *data, size_t len)
{
    uint64_t left = d->payload_len - d->payload_pos;
    size_t n = left < len ? (size_t)left : len;
    if (n == 0)
        return 0;
    uint8_t *dst = is_control(d->opcode) ? d->ctl + d->ctl_len : d->msg + d->msg_len;
    for (size_t i = 0; i < n; i++)
        dst[i] = data[i] ^ d->mask[(d->payload_pos + i) & 3];
    d->payload_pos += n;
    if (is_control(d->opcode))
        d->ctl_len += n;
    else
        d->msg_len += n;
    return n;
}

enum ws_decode_result ws_decode(struct ws_decoder *d, const uint8_t *data, size_t len,
                                size_t *consumed, struct ws_event *ev)
{
    size_t i = 0;
    *consumed = 0;
    if (d->state == D_ERROR)
        return WS_DECODE_ERROR;
    if (d->state == D_CLOSED) {
        *consumed = len;
        return WS_DECODE_MORE;
    }
    if (d->state == D_DELIVERED) {
        d->msg_len = 0;
        d->utf8_checked = 0;
        d->state = D_HEADER;
    }
    while (i < len || (d->state == D_PAYLOAD && d->payload_pos == d->payload_len)) {
        enum ws_decode_result r = WS_DECODE_MORE;
        if (d->state == D_HEADER) {
            d->hdr[d->hdr_len++] = data[i++];
            if (d->hdr_len == 2)
                r = check_first(d);
            else if (d->hdr_len > 2 && d->hdr_len == d->hdr_need)
                r = header_done(d);
        } else {
            i += take_payload(d, data + i, len - i);
            if (!is_control(d->opcode) && d->msg_opcode == WS_OP_TEXT && !utf8_advance(d))
                r = fail(d, WS_CLOSE_BAD_DATA, "invalid UTF-8 in a text message");
            else if (d->payload_pos == d->payload_len)
                r = frame_done(d, ev);
        }
        if (r == WS_DECODE_ERROR)
            return r;
        if (r == WS_DECODE_EVENT) {
            *consumed = i;
            return r;
        }
    }
    *consumed = i;
    return WS_DECODE_MORE;
}

/* ---- encoder ---- */

size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], enum ws_opcode op, uint64_t len)
{
    out[0] = (uint8_t)(0x80 | op);
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xFFFF) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

size_t ws_frame_encode(uint8_t *buf, size_t cap, enum ws_opcode op, const void *payload, size_t len)
{
    uint8_t hdr[WS_HEADER_MAX];
    if (is_control((uint8_t)op) && len > WS_CONTROL_MAX)
        return 0;
    size_t h = ws_frame_header(hdr, op, len);
    if (cap < h || cap - h < len)
        return 0;
    memcpy(buf, hdr, h);
    if (len)
        memcpy(buf + h, payload, len);
    return h + len;
}

size_t ws_close_encode(uint8_t *buf, size_t cap, uint16_t code, const char *reason)
{
    uint8_t p[WS_CONTROL_MAX];
    size_t n = 0;
    if (code != WS_CLOSE_NO_STATUS) {
        p[0] = (uint8_t)(code >> 8);
        p[1] = (uint8_t)code;
        size_t rl = reason ? strlen(reason) : 0;
        rl = utf8_truncate(reason ? reason : "", rl, WS_CONTROL_MAX - 2);
        if (rl)
            memcpy(p + 2, reason, rl);
        n = 2 + rl;
    }
    return ws_frame_encode(buf, cap, WS_OP_CLOSE, p, n);
}
