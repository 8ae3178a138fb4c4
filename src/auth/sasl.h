/*
 * sasl.h - SASL PLAIN parsing and IRCv3 AUTHENTICATE chunking (sans-IO).
 *
 * Two small pieces the IRC SASL commands stand on; neither touches a socket,
 * the store or the clock.
 *
 * 1. PLAIN (RFC 4616). The decoded payload is
 *        authzid NUL authcid NUL passwd
 *    sasl_plain_parse() splits it, enforces the byte limits below and checks
 *    that every field is well-formed UTF-8; the two names must not hold
 *    control characters. An empty authzid is allowed; a non-empty one must
 *    equal the authcid byte for byte (Qun does not let one account act as
 *    another). The password is copied into the caller's struct, which must be
 *    wiped with sasl_plain_clear() once it has been checked.
 *
 * 2. AUTHENTICATE chunking (IRCv3 sasl-3.1). A payload travels base64
 *    encoded in chunks of at most 400 bytes. A chunk shorter than 400 bytes
 *    ends the payload; a payload whose encoding is a multiple of 400 bytes
 *    (including the empty payload) is ended by a lone "+"; a lone "*" aborts
 *    the exchange. The receiving side is this state machine:
 *
 *                  chunk of exactly 400 bytes (total <= cap)
 *                      +-----+
 *                      v     |
 *        [EMPTY] --400--> [PARTIAL]
 *           |                |
 *           | "+" or <400    | "+" or <400
 *           v                v
 *        [FINISHED]  result SASL_DONE: payload decoded into st->out
 *           ^
 *           +-- from either state: "*" (SASL_ABORTED), a bad chunk, the
 *               8 KiB cap or bad base64 (negative result)
 *
 *    sasl_chunks_feed() performs every transition. FINISHED is terminal:
 *    the caller reads the payload (after SASL_DONE) and calls
 *    sasl_chunks_reset() before the next exchange; a feed in FINISHED
 *    returns SASL_ERR_STATE. "Need more" is a result, not an error. The
 *    sending side (server challenges) is the encoder sasl_encoder_init() /
 *    sasl_encoder_next(), which yields the chunks the lines
 *    "AUTHENTICATE <chunk>" carry, "+" included.
 *
 * Invariants:
 *   - st->b64_len <= SASL_CHUNKS_MAX at all times; st->out_len <=
 *     SASL_PAYLOAD_MAX; st->out[out_len] is NUL.
 *   - Nothing here logs; error values never carry the bytes that caused them
 *     (a PLAIN payload holds a password).
 */
#ifndef QUN_AUTH_SASL_H
#define QUN_AUTH_SASL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* IRCv3 chunk size, and the cap on one whole base64 payload (8 KiB). */
#define SASL_CHUNK_LEN   400
#define SASL_CHUNKS_MAX  8192
#define SASL_PAYLOAD_MAX (SASL_CHUNKS_MAX / 4 * 3)

/* PLAIN limits, in bytes. Account names are short; passwords may be long
 * passphrases, but not unbounded (they are hashed with argon2id). */
#define SASL_PLAIN_NAME_MAX 255
#define SASL_PLAIN_PASS_MAX 1024

/* Results of the SASL helpers. Negative values are errors. */
enum sasl_result {
    SASL_OK = 0,
    SASL_NEED_MORE = 1,     /* chunking: another AUTHENTICATE line is due */
    SASL_DONE = 2,          /* chunking: st->out holds the decoded payload */
    SASL_ABORTED = 3,       /* chunking: the client sent "*" */
    SASL_ERR_CHUNK = -1,    /* chunk empty, longer than 400 or not base64 chars */
    SASL_ERR_TOO_LONG = -2, /* payload over SASL_CHUNKS_MAX, or field over limit */
    SASL_ERR_BASE64 = -3,   /* the assembled payload is not valid base64 */
    SASL_ERR_FORMAT = -4,   /* PLAIN: not exactly three NUL-separated fields */
    SASL_ERR_EMPTY = -5,    /* PLAIN: empty authcid or password */
    SASL_ERR_UTF8 = -6,     /* PLAIN: ill-formed UTF-8 or control character */
    SASL_ERR_AUTHZID = -7,  /* PLAIN: authzid given and differs from authcid */
    SASL_ERR_STATE = -8,    /* chunking: fed after a terminal result */
};

/*
 * True when s[0..n) is well-formed UTF-8 without C0 controls, DEL or C1
 * controls: the rule for account names in PLAIN and SCRAM alike.
 */
bool sasl_name_valid(const char *s, size_t n);

/* A short fixed name for a result ("need-more", "too-long", ...), for logs. */
const char *sasl_result_name(int result);

struct sasl_plain {
    char authzid[SASL_PLAIN_NAME_MAX + 1]; /* "" when none was given */
    char authcid[SASL_PLAIN_NAME_MAX + 1];
    char passwd[SASL_PLAIN_PASS_MAX + 1]; /* secret: wipe with sasl_plain_clear() */
    size_t passwd_len;
};

/*
 * Parses a decoded PLAIN payload msg[0..len). Returns SASL_OK with out
 * filled (all three fields NUL-terminated), or a negative enum sasl_result;
 * on error out is wiped.
 */
int sasl_plain_parse(const uint8_t *msg, size_t len, struct sasl_plain *out);
/* Zeroes the whole struct, password included, in a way the compiler keeps. */
void sasl_plain_clear(struct sasl_plain *p);

enum sasl_chunks_state { SASL_CHUNKS_EMPTY, SASL_CHUNKS_PARTIAL, SASL_CHUNKS_FINISHED };

struct sasl_chunks {
    enum sasl_chunks_state state;
    size_t b64_len;
    char b64[SASL_CHUNKS_MAX];
    size_t out_len;                    /* valid after SASL_DONE */
    uint8_t out[SASL_PAYLOAD_MAX + 1]; /* decoded payload, NUL-terminated */
};

/* Makes st ready for a new payload and wipes what it held. */
void sasl_chunks_reset(struct sasl_chunks *st);
/*
 * Feeds the parameter of one AUTHENTICATE line (chunk[0..len), without the
 * command). Returns SASL_NEED_MORE, SASL_DONE (payload in st->out,
 * st->out_len), SASL_ABORTED, or a negative enum sasl_result. After anything
 * but SASL_NEED_MORE the state is FINISHED and further feeds return
 * SASL_ERR_STATE until sasl_chunks_reset().
 */
int sasl_chunks_feed(struct sasl_chunks *st, const char *chunk, size_t len);

/* Encoder for the server's side: iterate the chunks of one payload. */
struct sasl_encoder {
    char b64[SASL_CHUNKS_MAX + 1];
    size_t b64_len;
    size_t pos;
    bool done;
};

/*
 * Prepares enc to send data[0..len). Returns SASL_OK, or SASL_ERR_TOO_LONG
 * when the encoding would exceed SASL_CHUNKS_MAX.
 */
int sasl_encoder_init(struct sasl_encoder *enc, const uint8_t *data, size_t len);
/*
 * Gives the next chunk as (*chunk, *len) - at most 400 bytes, not
 * NUL-terminated; "+" for an empty payload and after a final chunk of
 * exactly 400 bytes - and returns true, or returns false when all chunks
 * have been given. *chunk points into enc or to a static string.
 */
bool sasl_encoder_next(struct sasl_encoder *enc, const char **chunk, size_t *len);

#endif
