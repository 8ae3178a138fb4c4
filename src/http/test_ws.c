/*
 * test_ws.c - unit tests for http/ws.c.
 *
 * The handshake against RFC 6455's example key and every refusal status;
 * subprotocol choice in client and server order. The decoder against the
 * RFC 6455 §5.7 example frames, fragmented messages with an interleaved
 * ping, UTF-8 split across fragments, every error with its close code, and
 * the caps. Every decoder case is run by events(), which feeds the bytes
 * whole and in 1, 2, 3 and 5 byte pieces and requires the same rendered
 * event list from each (the chunking invariant). Encoder output is checked
 * byte for byte and decoded back after masking.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "http/request.h"
#include "http/ws.h"

static const uint8_t mask_key[4] = {0x37, 0xfa, 0x21, 0x3d};

/* A client frame with explicit first byte (FIN, RSV, opcode). */
static size_t client_frame_raw(uint8_t *out, uint8_t b0, const void *payload, size_t len)
{
    size_t h = ws_frame_header(out, WS_OP_TEXT, len);
    out[0] = b0;
    out[1] |= 0x80;
    memcpy(out + h, mask_key, 4);
    const uint8_t *p = payload;
    for (size_t i = 0; i < len; i++)
        out[h + 4 + i] = p[i] ^ mask_key[i & 3];
    return h + 4 + len;
}

static size_t client_frame(uint8_t *out, bool fin, uint8_t op, const char *payload)
{
    return client_frame_raw(out, (uint8_t)((fin ? 0x80 : 0) | op), payload, strlen(payload));
}

/* Renders events as "TEXT(..) PING(..) CLOSE(code,..) ERR(code)". */
static void run(const uint8_t *in, size_t n, size_t chunk, size_t message_max, char *out,
                size_t cap)
{
    struct ws_decoder d;
    ws_decoder_init(&d, message_max);
    size_t off = 0, o = 0;
    out[0] = '\0';
    while (off < n) {
        size_t len = n - off < chunk ? n - off : chunk, used;
        struct ws_event ev;
        int rc = ws_decode(&d, in + off, len, &used, &ev);
        assert_true(used <= len);
        off += used;
        if (rc == WS_DECODE_ERROR) {
            o += (size_t)snprintf(out + o, cap - o, "ERR(%u)", ws_decoder_close_code(&d));
            break;
        }
        if (rc == WS_DECODE_MORE) {
            assert_int_equal(used, len);
            continue;
        }
        static const char *names[] = {"", "TEXT", "BINARY", "PING", "PONG", "CLOSE"};
        if (ev.type == WS_EV_CLOSE)
            o += (size_t)snprintf(out + o, cap - o, "CLOSE(%u,%.*s) ", ev.close_code, (int)ev.len,
                                  (const char *)ev.data);
        else
            o += (size_t)snprintf(out + o, cap - o, "%s(%.*s) ", names[ev.type], (int)ev.len,
                                  (const char *)ev.data);
        assert_true(o < cap);
    }
    ws_decoder_free(&d);
}

static char *events_max(const uint8_t *in, size_t n, size_t message_max)
{
    static char whole[8192];
    char part[8192];
    static const size_t chunks[] = {1, 2, 3, 5};
    run(in, n, n ? n : 1, message_max, whole, sizeof whole);
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        run(in, n, chunks[i], message_max, part, sizeof part);
        assert_string_equal(part, whole);
    }
    return whole;
}

static char *events(const uint8_t *in, size_t n)
{
    return events_max(in, n, 4096);
}

static void parse_request(struct http_parser *p, const char *s)
{
    size_t used;
    http_parser_init(p, NULL);
    assert_int_equal(http_parser_feed(p, s, strlen(s), &used), HTTP_PARSE_DONE);
}

static int check(const char *req, bool client_order, struct ws_handshake *hs)
{
    static const enum ws_subproto prefs[] = {WS_SUBPROTO_BINARY, WS_SUBPROTO_TEXT};
    struct http_parser p;
    parse_request(&p, req);
    int rc = ws_handshake_check(http_parser_request(&p), prefs, 2, client_order, hs);
    http_parser_free(&p);
    return rc;
}

#define UPGRADE_HEAD                                                                               \
    "GET /webirc HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\n"                   \
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"                       \
    "Origin: http://example.com\r\nSec-WebSocket-Version: 13\r\n"

static void test_handshake_rfc_example(void **state)
{
    (void)state;
    char acc[WS_ACCEPT_LEN + 1];
    ws_accept_compute("dGhlIHNhbXBsZSBub25jZQ==", 24, acc);
    assert_string_equal(acc, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

    struct ws_handshake hs;
    assert_int_equal(check(UPGRADE_HEAD "Sec-WebSocket-Protocol: text.ircv3.net, "
                                        "binary.ircv3.net\r\n\r\n",
                           true, &hs),
                     0);
    assert_string_equal(hs.accept, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
    assert_int_equal(hs.subproto, WS_SUBPROTO_TEXT); /* the client's first */
    char buf[512];
    ssize_t n = ws_handshake_response(&hs, buf, sizeof buf);
    assert_string_equal(buf, "HTTP/1.1 101 Switching Protocols\r\n"
                             "Upgrade: websocket\r\n"
                             "Connection: Upgrade\r\n"
                             "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"
                             "Sec-WebSocket-Protocol: text.ircv3.net\r\n"
                             "\r\n");
    assert_int_equal(n, strlen(buf));
    assert_int_equal(ws_handshake_response(&hs, buf, 50), -1);
}

static void test_handshake_subprotocols(void **state)
{
    (void)state;
    struct ws_handshake hs;
    /* server order: binary preferred over the client's text */
    assert_int_equal(check(UPGRADE_HEAD "Sec-WebSocket-Protocol: text.ircv3.net\r\n"
                                        "Sec-WebSocket-Protocol: chat, binary.ircv3.net\r\n\r\n",
                           false, &hs),
                     0);
    assert_int_equal(hs.subproto, WS_SUBPROTO_BINARY);
    assert_int_equal(check(UPGRADE_HEAD "Sec-WebSocket-Protocol: chat, binary.ircv3.net, "
                                        "text.ircv3.net\r\n\r\n",
                           true, &hs),
                     0);
    assert_int_equal(hs.subproto, WS_SUBPROTO_BINARY);
    /* none offered, none shared, wrong case: no Sec-WebSocket-Protocol */
    assert_int_equal(check(UPGRADE_HEAD "\r\n", true, &hs), 0);
    assert_int_equal(hs.subproto, WS_SUBPROTO_NONE);
    assert_int_equal(
        check(UPGRADE_HEAD "Sec-WebSocket-Protocol: chat, TEXT.IRCV3.NET\r\n\r\n", true, &hs), 0);
    assert_int_equal(hs.subproto, WS_SUBPROTO_NONE);
    char buf[256];
    ws_handshake_response(&hs, buf, sizeof buf);
    assert_null(strstr(buf, "Sec-WebSocket-Protocol"));
    assert_null(ws_subproto_name(WS_SUBPROTO_NONE));
}

static void test_handshake_refusals(void **state)
{
    (void)state;
    struct ws_handshake hs;
    const char *key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    char req[512];
#define REQ(method, ver, up, conn, k, v)                                                           \
    (snprintf(req, sizeof req, "%s / HTTP/1.%d\r\nHost: h\r\n%s%s%s%s%s\r\n", method, ver, up,     \
              conn, k, v, strcmp(method, "POST") == 0 ? "Content-Length: 0\r\n" : ""),             \
     req)
    const char *up = "Upgrade: websocket\r\n", *conn = "Connection: keep-alive, Upgrade\r\n";
    const char *v13 = "Sec-WebSocket-Version: 13\r\n";
    assert_int_equal(check(REQ("GET", 1, up, conn, key, v13), true, &hs), 0);
    assert_int_equal(check(REQ("POST", 1, up, conn, key, v13), true, &hs), 405);
    assert_int_equal(check(REQ("GET", 1, "", conn, key, v13), true, &hs), 426);
    assert_int_equal(check(REQ("GET", 1, "Upgrade: h2c\r\n", conn, key, v13), true, &hs), 426);
    assert_int_equal(check(REQ("GET", 1, up, "", key, v13), true, &hs), 400);
    assert_int_equal(check(REQ("GET", 1, up, "Connection: close\r\n", key, v13), true, &hs), 400);
    assert_int_equal(check(REQ("GET", 1, up, conn, key, ""), true, &hs), 426);
    assert_int_equal(check(REQ("GET", 1, up, conn, key, "Sec-WebSocket-Version: 8\r\n"), true, &hs),
                     426);
    assert_int_equal(check(REQ("GET", 1, up, conn, key,
                               "Sec-WebSocket-Version: 13\r\n"
                               "Sec-WebSocket-Version: 13\r\n"),
                           true, &hs),
                     426);
    assert_int_equal(check(REQ("GET", 1, up, conn, "", v13), true, &hs), 400);
    /* keys: 15 bytes, 17 bytes, bad alphabet, no padding, two keys */
    const char *bad_keys[] = {
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25j\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ=\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQZ=\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub2*jZQ==\r\n",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQZZ\r\n",
        ("Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
         "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"),
    };
    for (size_t i = 0; i < sizeof bad_keys / sizeof bad_keys[0]; i++)
        assert_int_equal(check(REQ("GET", 1, up, conn, bad_keys[i], v13), true, &hs), 400);
    /* HTTP/1.0 cannot upgrade */
    assert_int_equal(check(REQ("GET", 0, up, conn, key, v13), true, &hs), 400);
#undef REQ
}

static void test_rfc_examples(void **state)
{
    (void)state;
    /* RFC 6455 §5.7: a single-frame masked text message "Hello" */
    static const uint8_t hello[] = {0x81, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                    0x7f, 0x9f, 0x4d, 0x51, 0x58};
    assert_string_equal(events(hello, sizeof hello), "TEXT(Hello) ");
    /* ...and the masked pong with body "Hello" */
    static const uint8_t pong[] = {0x8a, 0x85, 0x37, 0xfa, 0x21, 0x3d,
                                   0x7f, 0x9f, 0x4d, 0x51, 0x58};
    assert_string_equal(events(pong, sizeof pong), "PONG(Hello) ");
    /* the unmasked examples are what a server sends: a client may not */
    static const uint8_t unmasked[] = {0x81, 0x05, 0x48, 0x65, 0x6c, 0x6c, 0x6f};
    assert_string_equal(events(unmasked, sizeof unmasked), "ERR(1002)");
    /* the encoder writes exactly those unmasked frames */
    uint8_t buf[64];
    assert_int_equal(ws_frame_encode(buf, sizeof buf, WS_OP_TEXT, "Hello", 5), 7);
    assert_memory_equal(buf, unmasked, 7);
    assert_int_equal(ws_frame_encode(buf, sizeof buf, WS_OP_PING, "Hello", 5), 7);
    assert_memory_equal(buf, "\x89\x05Hello", 7);
    /* 256 bytes and 64 KiB binary headers */
    assert_int_equal(ws_frame_header(buf, WS_OP_BINARY, 256), 4);
    assert_memory_equal(buf, "\x82\x7e\x01\x00", 4);
    assert_int_equal(ws_frame_header(buf, WS_OP_BINARY, 65536), 10);
    assert_memory_equal(buf, "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", 10);
    assert_int_equal(ws_frame_header(buf, WS_OP_BINARY, 125), 2);
    assert_int_equal(ws_frame_header(buf, WS_OP_BINARY, 126), 4);
    assert_int_equal(ws_frame_header(buf, WS_OP_BINARY, 65535), 4);
}

static void test_fragmentation_with_ping(void **state)
{
    (void)state;
    uint8_t in[512];
    size_t n = 0;
    /* "Hel" + ping + "lo" (RFC 6455 §5.4 example, masked), then a binary */
    n += client_frame(in + n, false, WS_OP_TEXT, "Hel");
    n += client_frame(in + n, true, WS_OP_PING, "p1");
    n += client_frame(in + n, false, WS_OP_CONT, "");
    n += client_frame(in + n, true, WS_OP_PONG, "");
    n += client_frame(in + n, true, WS_OP_CONT, "lo");
    n += client_frame(in + n, true, WS_OP_BINARY, "PRIVMSG #a :hi");
    n += client_frame(in + n, true, WS_OP_TEXT, "");
    assert_string_equal(events(in, n),
                        "PING(p1) PONG() TEXT(Hello) BINARY(PRIVMSG #a :hi) TEXT() ");
}

static void test_utf8_across_fragments(void **state)
{
    (void)state;
    uint8_t in[512];
    size_t n = 0;
    /* 小 (E5 B0 8F) split 1+2 over fragments, 😀 (F0 9F 98 80) split 3+1 */
    n += client_frame(in + n, false, WS_OP_TEXT, "a\xe5");
    n += client_frame(in + n, false, WS_OP_CONT, "\xb0\x8f\xf0\x9f\x98");
    n += client_frame(in + n, true, WS_OP_CONT, "\x80z");
    assert_string_equal(events(in, n), "TEXT(a\xe5\xb0\x8f\xf0\x9f\x98\x80z) ");
    /* binary messages are not checked */
    n = client_frame(in, true, WS_OP_BINARY, "\xff\xfe");
    assert_string_equal(events(in, n), "BINARY(\xff\xfe) ");
    /* a message that ends inside a sequence */
    n = client_frame(in, false, WS_OP_TEXT, "ok");
    n += client_frame(in + n, true, WS_OP_CONT, "\xe5\xb0");
    assert_string_equal(events(in, n), "ERR(1007)");
    /* an invalid byte fails at once, before the message ends */
    n = client_frame(in, false, WS_OP_TEXT, "ok\xc3\x28");
    assert_string_equal(events(in, n), "ERR(1007)");
    /* prefixes that no continuation can complete */
    const char *bad[] = {"\xe0\x80", "\xed\xa0", "\xf4\x90", "\xf5", "\xc0", "\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        n = client_frame(in, false, WS_OP_TEXT, bad[i]);
        assert_string_equal(events(in, n), "ERR(1007)");
    }
    /* valid prefixes wait for more */
    const char *good[] = {"\xe0\xa0", "\xed\x9f", "\xf4\x8f", "\xf0\x90\x80", "\xc2"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        n = client_frame(in, false, WS_OP_TEXT, good[i]);
        assert_string_equal(events(in, n), "");
    }
}

static void test_close_frames(void **state)
{
    (void)state;
    uint8_t in[256];
    size_t n;
    n = client_frame_raw(in, 0x88,
                         "\x03\xe8"
                         "bye",
                         5);
    n += client_frame(in + n, true, WS_OP_TEXT, "ignored after close");
    assert_string_equal(events(in, n), "CLOSE(1000,bye) ");
    n = client_frame_raw(in, 0x88, "", 0);
    assert_string_equal(events(in, n), "CLOSE(1005,) ");
    n = client_frame_raw(in, 0x88, "\x0f\xa0", 2); /* 4000: private use */
    assert_string_equal(events(in, n), "CLOSE(4000,) ");
    n = client_frame_raw(in, 0x88, "\x03", 1);
    assert_string_equal(events(in, n), "ERR(1002)");
    static const unsigned bad_codes[] = {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535};
    for (size_t i = 0; i < sizeof bad_codes / sizeof bad_codes[0]; i++) {
        uint8_t p[2] = {(uint8_t)(bad_codes[i] >> 8), (uint8_t)bad_codes[i]};
        n = client_frame_raw(in, 0x88, p, 2);
        assert_string_equal(events(in, n), "ERR(1002)");
        assert_false(ws_close_code_valid(bad_codes[i]));
    }
    n = client_frame_raw(in, 0x88, "\x03\xe8\xc3\x28", 4);
    assert_string_equal(events(in, n), "ERR(1007)");
    /* close in the middle of a fragmented message ends it all */
    n = client_frame(in, false, WS_OP_TEXT, "half");
    n += client_frame_raw(in + n, 0x88, "\x03\xe9", 2);
    assert_string_equal(events(in, n), "CLOSE(1001,) ");
}

static void test_protocol_errors(void **state)
{
    (void)state;
    uint8_t in[512];
    size_t n;
    /* RSV1, RSV2, RSV3 */
    for (int bit = 4; bit <= 6; bit++) {
        n = client_frame_raw(in, (uint8_t)(0x81 | 1 << bit), "x", 1);
        assert_string_equal(events(in, n), "ERR(1002)");
    }
    /* reserved opcodes */
    for (uint8_t op = 3; op <= 0xF; op++) {
        if (op >= 8 && op <= 0xA)
            continue;
        n = client_frame_raw(in, (uint8_t)(0x80 | op), "x", 1);
        assert_string_equal(events(in, n), "ERR(1002)");
    }
    /* fragmented control frames */
    n = client_frame_raw(in, 0x09, "x", 1);
    assert_string_equal(events(in, n), "ERR(1002)");
    n = client_frame_raw(in, 0x08, "", 0);
    assert_string_equal(events(in, n), "ERR(1002)");
    /* a control frame of 126 bytes (and 125 is fine) */
    char big[200];
    memset(big, 'p', sizeof big);
    n = client_frame_raw(in, 0x89, big, 126);
    assert_string_equal(events(in, n), "ERR(1002)");
    n = client_frame_raw(in, 0x89, big, 125);
    assert_int_equal(strlen(events(in, n)), strlen("PING() ") + 125);
    /* continuation without a message; a new message inside one */
    n = client_frame(in, true, WS_OP_CONT, "x");
    assert_string_equal(events(in, n), "ERR(1002)");
    n = client_frame(in, false, WS_OP_TEXT, "a");
    n += client_frame(in + n, true, WS_OP_BINARY, "b");
    assert_string_equal(events(in, n), "ERR(1002)");
    n = client_frame(in, true, WS_OP_TEXT, "a");
    n += client_frame(in + n, true, WS_OP_CONT, "b");
    assert_string_equal(events(in, n), "TEXT(a) ERR(1002)");
    /* non-minimal lengths, 2^63 */
    static const uint8_t len16_small[] = {0x81, 0xFE, 0x00, 0x05, 1, 2, 3, 4};
    assert_string_equal(events(len16_small, sizeof len16_small), "ERR(1002)");
    static const uint8_t len64_small[] = {0x82, 0xFF, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 1, 2, 3, 4};
    assert_string_equal(events(len64_small, sizeof len64_small), "ERR(1002)");
    static const uint8_t len64_top[] = {0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4};
    assert_string_equal(events(len64_top, sizeof len64_top), "ERR(1002)");
    /* unmasked with a valid rest */
    static const uint8_t unmasked_ping[] = {0x89, 0x00};
    assert_string_equal(events(unmasked_ping, sizeof unmasked_ping), "ERR(1002)");
}

static void test_message_cap(void **state)
{
    (void)state;
    static uint8_t in[70000 + 64];
    static char payload[70001];
    size_t n;
    memset(payload, 'a', 70000);
    /* exactly the cap passes; one more byte (in one frame or over
     * fragments) is 1009 */
    n = client_frame_raw(in, 0x82, payload, 16);
    assert_string_equal(events_max(in, n, 16), "BINARY(aaaaaaaaaaaaaaaa) ");
    n = client_frame_raw(in, 0x82, payload, 17);
    assert_string_equal(events_max(in, n, 16), "ERR(1009)");
    n = client_frame_raw(in, 0x02, payload, 10);
    n += client_frame_raw(in + n, 0x80, payload, 7);
    assert_string_equal(events_max(in, n, 16), "ERR(1009)");
    /* a huge declared length fails at the header, before any payload */
    static const uint8_t huge[] = {0x82, 0xFF, 0x7F, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF};
    struct ws_decoder d;
    struct ws_event ev;
    size_t used;
    ws_decoder_init(&d, 1 << 20);
    assert_int_equal(ws_decode(&d, huge, sizeof huge, &used, &ev), WS_DECODE_MORE);
    assert_int_equal(ws_decode(&d, mask_key, 4, &used, &ev), WS_DECODE_ERROR);
    assert_int_equal(ws_decoder_close_code(&d), 1009);
    assert_string_equal(ws_decoder_error(&d), "message over the limit");
    /* sticky */
    assert_int_equal(ws_decode(&d, mask_key, 4, &used, &ev), WS_DECODE_ERROR);
    assert_int_equal(used, 0);
    ws_decoder_free(&d);
    /* a 64-bit length frame (70000 bytes) decodes */
    n = client_frame_raw(in, 0x82, payload, 70000);
    assert_int_equal(in[1] & 0x7F, 127);
    ws_decoder_init(&d, 1 << 20);
    assert_int_equal(ws_decode(&d, in, n, &used, &ev), WS_DECODE_EVENT);
    assert_int_equal(used, n);
    assert_int_equal(ev.len, 70000);
    assert_memory_equal(ev.data, payload, 70000);
    ws_decoder_free(&d);
}

static void test_encoder_round_trip(void **state)
{
    (void)state;
    static uint8_t buf[70000 + 16], client[70000 + 16];
    static char payload[70000];
    const size_t sizes[] = {0, 1, 125, 126, 65535, 65536, 70000};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        for (size_t j = 0; j < sizes[i]; j++)
            payload[j] = (char)('a' + (i + j) % 26);
        size_t n = ws_frame_encode(buf, sizeof buf, WS_OP_TEXT, payload, sizes[i]);
        assert_int_equal(n, sizes[i] + (sizes[i] < 126 ? 2 : sizes[i] < 65536 ? 4 : 10));
        assert_int_equal(buf[0], 0x81);
        assert_int_equal(buf[1] & 0x80, 0); /* never masked */
        /* mask it as a client would, and decode */
        size_t h = n - sizes[i];
        memcpy(client, buf, h);
        client[1] |= 0x80;
        memcpy(client + h, mask_key, 4);
        for (size_t j = 0; j < sizes[i]; j++)
            client[h + 4 + j] = (uint8_t)payload[j] ^ mask_key[j & 3];
        struct ws_decoder d;
        struct ws_event ev;
        size_t used;
        ws_decoder_init(&d, sizeof payload);
        assert_int_equal(ws_decode(&d, client, n + 4, &used, &ev), WS_DECODE_EVENT);
        assert_int_equal(ev.type, WS_EV_TEXT);
        assert_int_equal(ev.len, sizes[i]);
        if (sizes[i])
            assert_memory_equal(ev.data, payload, sizes[i]);
        ws_decoder_free(&d);
    }
    /* no room, control too long */
    assert_int_equal(ws_frame_encode(buf, 6, WS_OP_TEXT, "Hello", 5), 0);
    assert_int_equal(ws_frame_encode(buf, 1, WS_OP_TEXT, "", 0), 0);
    assert_int_equal(ws_frame_encode(buf, sizeof buf, WS_OP_PONG, payload, 126), 0);
    /* close frames: code + reason, empty, reason cut on a UTF-8 boundary */
    assert_int_equal(ws_close_encode(buf, sizeof buf, 1000, "bye"), 7);
    assert_memory_equal(buf,
                        "\x88\x05\x03\xe8"
                        "bye",
                        7);
    assert_int_equal(ws_close_encode(buf, sizeof buf, 1005, "ignored"), 2);
    assert_memory_equal(buf, "\x88\x00", 2);
    char reason[200] = "";
    for (int k = 0; k < 41; k++)
        strcat(reason, "\xe5\xb0\x8f"); /* 123 bytes */
    strcat(reason, "\xe5\xb0\x8f");
    size_t n = ws_close_encode(buf, sizeof buf, 1008, reason);
    assert_int_equal(n, 2 + 2 + 123);
    assert_int_equal(buf[1], 125);
    assert_int_equal(ws_close_encode(buf, sizeof buf, 1009, NULL), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handshake_rfc_example),
        cmocka_unit_test(test_handshake_subprotocols),
        cmocka_unit_test(test_handshake_refusals),
        cmocka_unit_test(test_rfc_examples),
        cmocka_unit_test(test_fragmentation_with_ping),
        cmocka_unit_test(test_utf8_across_fragments),
        cmocka_unit_test(test_close_frames),
        cmocka_unit_test(test_protocol_errors),
        cmocka_unit_test(test_message_cap),
        cmocka_unit_test(test_encoder_round_trip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
