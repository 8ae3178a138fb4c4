/*
 * ws.h - WebSocket (RFC 6455) handshake, frame decoder and encoder (sans-IO).
 *
 * Owns the server side of RFC 6455: checking an upgrade request and
 * computing its 101 answer, decoding the frames a client sends into whole
 * messages and control events, and encoding the frames a server sends.
 * No sockets, no clock: the transport feeds bytes and writes bytes.
 *
 * Decoder contract (struct ws_decoder, ws_decode):
 *   1. Restartable: bytes in any chunking give the same events.
 *   2. It returns one event at a time: a complete data message (all its
 *      fragments joined), a ping, a pong or a close. Control frames may
 *      arrive between the fragments of a data message (RFC 6455 §5.4);
 *      they come out at once, the message keeps accumulating.
 *   3. Event data point into the decoder and are valid until the next
 *      ws_decode() call.
 *   4. Any protocol violation is an error with the close code to send
 *      (ws_decoder_close_code()): 1002 protocol error (unmasked frame,
 *      RSV bits, unknown opcode, fragmented or long control frame,
 *      continuation out of place, non-minimal or 2^63+ length, bad close
 *      payload or code), 1007 invalid UTF-8 in a text message or a close
 *      reason (checked as bytes arrive, so across fragments and chunk
 *      splits), 1009 a message over message_max. The error is sticky.
 *   5. After a close event the decoder is finished: later bytes are
 *      consumed and ignored (RFC 6455 §5.5.1: nothing follows a close).
 *   6. Memory: the struct plus one message buffer that grows by doubling
 *      up to message_max and is kept for the next message.
 *
 * IRC over WebSocket (ircv3.net/specs/extensions/websocket): one data
 * message is one IRC line, without CR LF. The transport hands each
 * WS_EV_TEXT / WS_EV_BINARY message to the same line handler as TCP
 * (after removing at most one trailing "\r\n" or "\n" for lenient
 * clients); a message holding CR or LF elsewhere is not one line and the
 * IRC parser refuses it. Answers: WS_EV_PING -> a pong with the same data;
 * WS_EV_CLOSE -> a close frame echoing the code (1000 when none), then
 * close the TCP connection; an error -> a close frame with
 * ws_decoder_close_code(), then close.
 *
 * Threads: none; a decoder belongs to one connection.
 */
#ifndef QUN_HTTP_WS_H
#define QUN_HTTP_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "http/request.h"

enum ws_opcode {
    WS_OP_CONT = 0x0,
    WS_OP_TEXT = 0x1,
    WS_OP_BINARY = 0x2,
    WS_OP_CLOSE = 0x8,
    WS_OP_PING = 0x9,
    WS_OP_PONG = 0xA,
};

enum ws_close_code {
    WS_CLOSE_NORMAL = 1000,
    WS_CLOSE_GOING_AWAY = 1001,
    WS_CLOSE_PROTOCOL = 1002,
    WS_CLOSE_UNSUPPORTED = 1003,
    WS_CLOSE_NO_STATUS = 1005, /* never on the wire: close without a code */
    WS_CLOSE_BAD_DATA = 1007,
    WS_CLOSE_POLICY = 1008,
    WS_CLOSE_TOO_BIG = 1009,
    WS_CLOSE_INTERNAL = 1011,
};

/* ---- handshake ---- */

enum ws_subproto {
    WS_SUBPROTO_NONE = 0,
    WS_SUBPROTO_TEXT,   /* "text.ircv3.net" */
    WS_SUBPROTO_BINARY, /* "binary.ircv3.net" */
};

/* "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=": 28 characters. */
#define WS_ACCEPT_LEN 28

struct ws_handshake {
    char accept[WS_ACCEPT_LEN + 1];
    enum ws_subproto subproto;
};

/* Subprotocol name, or NULL for WS_SUBPROTO_NONE. */
const char *ws_subproto_name(enum ws_subproto p);

/* Sec-WebSocket-Accept for a key: base64(SHA-1(key + RFC 6455 GUID)). */
void ws_accept_compute(const char *key, size_t len, char out[WS_ACCEPT_LEN + 1]);

/*
 * Checks an upgrade request (RFC 6455 §4.2.1) and picks a subprotocol
 * among `supported` (n entries). With client_order the first protocol the
 * client lists that is supported wins (what the IRCv3 spec asks); else the
 * first of `supported` the client offers (the server's order). When none
 * is shared the result is WS_SUBPROTO_NONE and the handshake still
 * succeeds (the IRCv3 spec allows it; the transport then treats messages
 * as text).
 *
 * Returns 0, or the status to answer: 405 (not GET; send Allow: GET), 426
 * (no "Upgrade: websocket", or Sec-WebSocket-Version not 13; send
 * Sec-WebSocket-Version: 13), 400 (HTTP/1.0, Connection without
 * "upgrade", missing or malformed Sec-WebSocket-Key, repeated key or
 * version fields). Origin is the caller's policy, not checked here.
 */
int ws_handshake_check(const struct http_request *r, const enum ws_subproto *supported, size_t n,
                       bool client_order, struct ws_handshake *out);

/* The 101 answer for a checked handshake. Returns its length or -1. */
ssize_t ws_handshake_response(const struct ws_handshake *hs, char *buf, size_t cap);

/* ---- decoder ---- */

enum ws_event_type {
    WS_EV_TEXT = 1,
    WS_EV_BINARY,
    WS_EV_PING,
    WS_EV_PONG,
    WS_EV_CLOSE,
};

struct ws_event {
    enum ws_event_type type;
    const uint8_t *data; /* message, ping/pong payload, or close reason */
    size_t len;
    uint16_t close_code; /* WS_EV_CLOSE: the code, 1005 when none */
};

enum ws_decode_result {
    WS_DECODE_ERROR = -1, /* see ws_decoder_close_code() */
    WS_DECODE_MORE = 0,   /* all input consumed, no event */
    WS_DECODE_EVENT = 1,  /* *ev filled; call again with the rest */
};

#define WS_CONTROL_MAX 125

struct ws_decoder {
    size_t message_max;
    int state; /* enum in ws.c */
    uint16_t close_code;
    const char *error;
    uint8_t hdr[14]; /* header bytes gathered so far */
    size_t hdr_len;
    size_t hdr_need;
    bool fin;
    uint8_t opcode;
    uint8_t mask[4];
    uint64_t payload_len;
    uint64_t payload_pos;
    /* data message in progress */
    bool in_message;
    uint8_t msg_opcode;
    uint8_t *msg;
    size_t msg_len, msg_cap;
    size_t utf8_checked; /* msg[0..utf8_checked) holds whole sequences */
    /* control frame in progress */
    uint8_t ctl[WS_CONTROL_MAX];
    size_t ctl_len;
};

/* message_max caps one data message (all fragments); above: 1009. */
void ws_decoder_init(struct ws_decoder *d, size_t message_max);
void ws_decoder_free(struct ws_decoder *d);
/*
 * Decodes from data[0..len). *consumed gets the bytes taken (the caller
 * calls again with the rest after an EVENT). On ERROR nothing more is
 * taken and the connection must be failed with the close code.
 */
enum ws_decode_result ws_decode(struct ws_decoder *d, const uint8_t *data, size_t len,
                                size_t *consumed, struct ws_event *ev);
uint16_t ws_decoder_close_code(const struct ws_decoder *d);
/* Static English reason for the error, for logs. */
const char *ws_decoder_error(const struct ws_decoder *d);

/* True for a code a peer may send in a close frame (RFC 6455 §7.4). */
bool ws_close_code_valid(unsigned code);

/* ---- encoder (server frames: FIN set, never masked) ---- */

/* Longest frame header: 2 + 8 bytes. */
#define WS_HEADER_MAX 10

/* Writes the header of an unfragmented frame of len payload bytes into
 * out; returns its length (2, 4 or 10). */
size_t ws_frame_header(uint8_t out[WS_HEADER_MAX], enum ws_opcode op, uint64_t len);
/*
 * Writes a whole frame (header then payload) into buf. Returns its
 * length, or 0 when cap is too small or a control frame's payload is over
 * 125 bytes. One encoded frame can be shared by every recipient.
 */
size_t ws_frame_encode(uint8_t *buf, size_t cap, enum ws_opcode op, const void *payload,
                       size_t len);
/* A close frame with code and reason (reason cut on a UTF-8 boundary to
 * 123 bytes); code 1005 writes an empty close. Returns as above. */
size_t ws_close_encode(uint8_t *buf, size_t cap, uint16_t code, const char *reason);

#endif
