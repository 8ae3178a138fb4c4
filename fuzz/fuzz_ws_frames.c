/*
 * fuzz_ws_frames.c - libFuzzer target for the WebSocket framer (http/ws.c).
 *
 * The input is the byte stream a client sends after the handshake. It is
 * decoded twice, whole and in pieces whose sizes come from the input, with
 * a 512-byte message cap. Checked on every run:
 *
 *   - both decodes give the same transcript (events, data, final error or
 *     close code): the chunking invariant;
 *   - a text message is well-formed UTF-8, a data message is at most the
 *     cap, a control payload at most 125 bytes, a close code is one a peer
 *     may send (or 1005), an error code is 1002, 1007 or 1009, errors are
 *     sticky and nothing is decoded after a close;
 *   - each message, encoded by the server encoder, masked as a client
 *     would and decoded again, comes back identical.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "http/ws.h"
#include "proto/utf8.h"
#include "fuzz.h"

#define CAP 512

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211u;
    return h;
}

static void round_trip(const struct ws_event *ev)
{
    static uint8_t frame[CAP + 16], masked[CAP + 16];
    enum ws_opcode op = ev->type == WS_EV_TEXT     ? WS_OP_TEXT
                        : ev->type == WS_EV_BINARY ? WS_OP_BINARY
                        : ev->type == WS_EV_PING   ? WS_OP_PING
                                                   : WS_OP_PONG;
    size_t n = ws_frame_encode(frame, sizeof frame, op, ev->data, ev->len);
    assert(n == ev->len + (ev->len < 126 ? 2 : 4));
    size_t h = n - ev->len;
    static const uint8_t mask[4] = {1, 0x80, 0x7f, 0xff};
    memcpy(masked, frame, h);
    masked[1] |= 0x80;
    memcpy(masked + h, mask, 4);
    for (size_t i = 0; i < ev->len; i++)
        masked[h + 4 + i] = ev->data[i] ^ mask[i & 3];
    struct ws_decoder d;
    struct ws_event back;
    size_t used;
    ws_decoder_init(&d, CAP);
    assert(ws_decode(&d, masked, n + 4, &used, &back) == WS_DECODE_EVENT);
    assert(used == n + 4 && back.type == ev->type && back.len == ev->len);
    assert(ev->len == 0 || memcmp(back.data, ev->data, ev->len) == 0);
    ws_decoder_free(&d);
}

static uint64_t decode(const uint8_t *data, size_t size, const uint8_t *sizes, size_t nsizes,
                       bool trip)
{
    struct ws_decoder d;
    uint64_t h = 14695981039346656037u;
    size_t off = 0, k = 0;
    bool closed = false;
    ws_decoder_init(&d, CAP);
    while (off < size) {
        size_t len = size - off;
        if (nsizes) {
            size_t want = (size_t)sizes[k++ % nsizes] % 24 + 1;
            len = want < len ? want : len;
        }
        struct ws_event ev;
        size_t used;
        int rc = ws_decode(&d, data + off, len, &used, &ev);
        assert(used <= len);
        if (rc == WS_DECODE_ERROR) {
            uint16_t code = ws_decoder_close_code(&d);
            assert(code == 1002 || code == 1007 || code == 1009);
            assert(!closed);
            assert(ws_decode(&d, data + off, len, &used, &ev) == WS_DECODE_ERROR && used == 0);
            h = fnv(h, &code, sizeof code);
            break;
        }
        off += used;
        if (rc == WS_DECODE_MORE) {
            assert(used == len);
            continue;
        }
        assert(!closed);
        h = fnv(h, &ev.type, sizeof ev.type);
        h = fnv(h, ev.data, ev.len);
        switch (ev.type) {
        case WS_EV_TEXT:
            assert(utf8_valid((const char *)ev.data, ev.len));
            /* fall through */
        case WS_EV_BINARY:
            assert(ev.len <= CAP);
            break;
        case WS_EV_PING:
        case WS_EV_PONG:
            assert(ev.len <= WS_CONTROL_MAX);
            break;
        case WS_EV_CLOSE:
            assert(ev.len <= WS_CONTROL_MAX - 2);
            assert(ev.close_code == 1005 || ws_close_code_valid(ev.close_code));
            assert(utf8_valid((const char *)ev.data, ev.len));
            h = fnv(h, &ev.close_code, sizeof ev.close_code);
            closed = true;
            break;
        }
        if (trip && ev.type != WS_EV_CLOSE)
            round_trip(&ev);
    }
    ws_decoder_free(&d);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 16384)
        return 0;
    uint64_t whole = decode(data, size, NULL, 0, true);
    uint64_t parts = decode(data, size, data, size < 32 ? size : 32, false);
    assert(whole == parts);
    return 0;
}
