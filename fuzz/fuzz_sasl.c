/*
 * fuzz_sasl.c - libFuzzer target for auth/sasl.c: AUTHENTICATE chunk
 * reassembly, the PLAIN parser and the server-side chunk encoder.
 *
 * Every input is used three ways:
 *   1. Split on '\n' into AUTHENTICATE parameters and fed through
 *      sasl_chunks_feed() until a terminal result. After every feed the
 *      invariants of sasl.h hold; NEED_MORE comes only after a chunk of
 *      exactly 400 bytes; a feed after a terminal result is ERR_STATE; on
 *      DONE the payload equals a reference decode of the chunks fed and is
 *      then given to sasl_plain_parse().
 *   2. Given to sasl_plain_parse() as a decoded payload directly (random
 *      bytes seldom form base64 that decodes to something PLAIN-shaped).
 *      An OK parse must rebuild the payload exactly; a failed one leaves
 *      the struct all zero.
 *   3. Round trip: encoded with sasl_encoder_init()/next() (refused only
 *      beyond SASL_PAYLOAD_MAX) and the chunks fed back, which must give
 *      NEED_MORE for every chunk but the last, then DONE with the input.
 *
 * CHECK aborts even when NDEBUG is defined, so the fuzzer always reports.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/sasl.h"
#include "fuzz.h"

static struct sasl_chunks st;
static struct sasl_encoder enc;
static struct sasl_plain plain;
static char concat[SASL_CHUNKS_MAX + 1];
static uint8_t ref[SASL_PAYLOAD_MAX + 1];

static bool all_zero(const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        if (b[i])
            return false;
    return true;
}

static void check_plain(const uint8_t *msg, size_t len)
{
    int rc = sasl_plain_parse(msg, len, &plain);
    CHECK(rc == SASL_OK || (rc < 0 && rc >= SASL_ERR_STATE));
    if (rc != SASL_OK) {
        CHECK(all_zero(&plain, sizeof plain));
        return;
    }
    size_t zl = strlen(plain.authzid), cl = strlen(plain.authcid);
    CHECK(cl >= 1 && cl <= SASL_PLAIN_NAME_MAX && zl <= SASL_PLAIN_NAME_MAX);
    CHECK(plain.passwd_len >= 1 && plain.passwd_len <= SASL_PLAIN_PASS_MAX);
    CHECK(strlen(plain.passwd) == plain.passwd_len);
    CHECK(zl == 0 || strcmp(plain.authzid, plain.authcid) == 0);
    CHECK(sasl_name_valid(plain.authcid, cl) && sasl_name_valid(plain.authzid, zl));
    /* The three fields, NUL-separated, are the payload again. */
    CHECK(len == zl + cl + plain.passwd_len + 2);
    CHECK(memcmp(msg, plain.authzid, zl) == 0 && msg[zl] == 0);
    CHECK(memcmp(msg + zl + 1, plain.authcid, cl) == 0 && msg[zl + 1 + cl] == 0);
    CHECK(memcmp(msg + zl + cl + 2, plain.passwd, plain.passwd_len) == 0);
    sasl_plain_clear(&plain);
    CHECK(all_zero(&plain, sizeof plain));
}

/* Result of one feed, checked against sasl.h; clen is bytes buffered so far. */
static void check_feed(int rc, const char *chunk, size_t len, size_t clen)
{
    CHECK(rc >= SASL_ERR_STATE && rc <= SASL_ABORTED && rc != SASL_OK && rc != SASL_ERR_FORMAT);
    CHECK(st.b64_len <= SASL_CHUNKS_MAX && st.out_len <= SASL_PAYLOAD_MAX);
    if (rc == SASL_NEED_MORE) {
        CHECK(len == SASL_CHUNK_LEN && st.state == SASL_CHUNKS_PARTIAL);
        return;
    }
    CHECK(st.state == SASL_CHUNKS_FINISHED);
    CHECK(rc != SASL_ABORTED || (len == 1 && chunk[0] == '*'));
    if (rc != SASL_DONE)
        return;
    CHECK(st.out[st.out_len] == 0);
    size_t n = 0;
    if (clen > 0)
        CHECK(sodium_base642bin(ref, sizeof ref, concat, clen, NULL, &n, NULL,
                                sodium_base64_VARIANT_ORIGINAL) == 0);
    CHECK(n == st.out_len && memcmp(ref, st.out, n) == 0);
}

static void feed_lines(const uint8_t *data, size_t size)
{
    sasl_chunks_reset(&st);
    const char *p = (const char *)data, *end = p + size;
    size_t clen = 0;
    for (;;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (!(len == 1 && (p[0] == '+' || p[0] == '*')) && clen + len <= SASL_CHUNKS_MAX) {
            memcpy(concat + clen, p, len);
            clen += len;
        }
        int rc = sasl_chunks_feed(&st, p, len);
        check_feed(rc, p, len, clen);
        if (rc != SASL_NEED_MORE) {
            CHECK(sasl_chunks_feed(&st, "+", 1) == SASL_ERR_STATE);
            if (rc == SASL_DONE)
                check_plain(st.out, st.out_len);
            break;
        }
        if (!nl)
            break;
        p = nl + 1;
    }
    sasl_chunks_reset(&st);
    CHECK(st.state == SASL_CHUNKS_EMPTY && st.b64_len == 0 && st.out_len == 0);
}

static void round_trip(const uint8_t *data, size_t size)
{
    int rc = sasl_encoder_init(&enc, data, size);
    if (size > SASL_PAYLOAD_MAX) {
        CHECK(rc == SASL_ERR_TOO_LONG);
        return;
    }
    CHECK(rc == SASL_OK);
    sasl_chunks_reset(&st);
    const char *chunk;
    size_t len;
    int last = SASL_NEED_MORE;
    while (sasl_encoder_next(&enc, &chunk, &len)) {
        CHECK(last == SASL_NEED_MORE);
        CHECK(len >= 1 && len <= SASL_CHUNK_LEN);
        last = sasl_chunks_feed(&st, chunk, len);
    }
    CHECK(last == SASL_DONE);
    CHECK(st.out_len == size && (size == 0 || memcmp(st.out, data, size) == 0));
    CHECK(!sasl_encoder_next(&enc, &chunk, &len));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        CHECK(sodium_init() >= 0);
        ready = true;
    }
    feed_lines(data, size);
    check_plain(data, size);
    round_trip(data, size);
    return 0;
}
