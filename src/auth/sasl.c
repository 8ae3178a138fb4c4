/*
 * sasl.c - SASL PLAIN parsing and the AUTHENTICATE chunk state machine.
 *
 * Owns: the byte-level rules of RFC 4616 PLAIN as Qun applies them, and the
 * reassembly/splitting of IRCv3 AUTHENTICATE payloads. The state diagram and
 * invariants are in sasl.h. Base64 is libsodium's strict decoder (original
 * alphabet, padding required), so "Zm9v" and "Zm9v\n" are not the same.
 *
 * Secrets: a PLAIN payload contains a password. It is copied once, into the
 * caller's struct sasl_plain, and every temporary that held it is wiped with
 * sodium_memzero(); sasl_chunks_reset() wipes the reassembly buffers too.
 */
#include "auth/sasl.h"

#include <sodium.h>
#include <string.h>

#include "proto/utf8.h"

const char *sasl_result_name(int result)
{
    switch (result) {
    case SASL_OK:
        return "ok";
    case SASL_NEED_MORE:
        return "need-more";
    case SASL_DONE:
        return "done";
    case SASL_ABORTED:
        return "aborted";
    case SASL_ERR_CHUNK:
        return "bad-chunk";
    case SASL_ERR_TOO_LONG:
        return "too-long";
    case SASL_ERR_BASE64:
        return "bad-base64";
    case SASL_ERR_FORMAT:
        return "bad-format";
    case SASL_ERR_EMPTY:
        return "empty-field";
    case SASL_ERR_UTF8:
        return "bad-utf8";
    case SASL_ERR_AUTHZID:
        return "authzid-mismatch";
    case SASL_ERR_STATE:
        return "bad-state";
    default:
        return "unknown";
    }
}

/*
 * True when s[0..n) is well-formed UTF-8 without C0 controls, DEL or C1
 * controls (U+0080..U+009F, encoded C2 80..C2 9F). Names end up in logs,
 * numerics and the console; a control character there is never legitimate.
 */
bool sasl_name_valid(const char *s, size_t n)
{
    if (!utf8_valid(s, n))
        return false;
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < 0x20 || p[i] == 0x7F)
            return false;
        if (p[i] == 0xC2 && i + 1 < n && p[i + 1] <= 0x9F)
            return false;
    }
    return true;
}

void sasl_plain_clear(struct sasl_plain *p)
{
    sodium_memzero(p, sizeof *p);
}

/* Checks one name field and copies it NUL-terminated into dst. */
static int sasl_plain_copy_name(char *dst, const uint8_t *src, size_t n)
{
    if (n > SASL_PLAIN_NAME_MAX)
        return SASL_ERR_TOO_LONG;
    if (!sasl_name_valid((const char *)src, n))
        return SASL_ERR_UTF8;
    memcpy(dst, src, n);
    dst[n] = '\0';
    return SASL_OK;
}

static int sasl_plain_split(const uint8_t *msg, size_t len, struct sasl_plain *out)
{
    const uint8_t *nul1 = memchr(msg, '\0', len);
    if (nul1 == NULL)
        return SASL_ERR_FORMAT;
    size_t zlen = (size_t)(nul1 - msg);
    const uint8_t *cid = nul1 + 1;
    const uint8_t *nul2 = memchr(cid, '\0', len - zlen - 1);
    if (nul2 == NULL)
        return SASL_ERR_FORMAT;
    size_t clen = (size_t)(nul2 - cid);
    const uint8_t *pw = nul2 + 1;
    size_t plen = len - zlen - clen - 2;
    if (memchr(pw, '\0', plen) != NULL)
        return SASL_ERR_FORMAT; /* a fourth field */
    if (clen == 0 || plen == 0)
        return SASL_ERR_EMPTY;
    if (plen > SASL_PLAIN_PASS_MAX)
        return SASL_ERR_TOO_LONG;
    int rc = sasl_plain_copy_name(out->authzid, msg, zlen);
    if (rc == SASL_OK)
        rc = sasl_plain_copy_name(out->authcid, cid, clen);
    if (rc != SASL_OK)
        return rc;
    /* RFC 4616: passwd is any UTF-8 but NUL (already excluded above). */
    if (!utf8_valid((const char *)pw, plen))
        return SASL_ERR_UTF8;
    if (zlen != 0 && (zlen != clen || memcmp(msg, cid, clen) != 0))
        return SASL_ERR_AUTHZID;
    memcpy(out->passwd, pw, plen);
    out->passwd[plen] = '\0';
    out->passwd_len = plen;
    return SASL_OK;
}

int sasl_plain_parse(const uint8_t *msg, size_t len, struct sasl_plain *out)
{
    sasl_plain_clear(out);
    int rc = msg == NULL ? SASL_ERR_FORMAT : sasl_plain_split(msg, len, out);
    if (rc != SASL_OK)
        sasl_plain_clear(out);
    return rc;
}

void sasl_chunks_reset(struct sasl_chunks *st)
{
    sodium_memzero(st, sizeof *st);
    st->state = SASL_CHUNKS_EMPTY;
}

/* Only the characters of the original base64 alphabet may be buffered; a
 * chunk with anything else fails at once instead of at the end. */
static bool sasl_b64_chars(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                  c == '+' || c == '/' || c == '=';
        if (!ok)
            return false;
    }
    return true;
}

/* Decodes the assembled base64 into st->out. The empty payload is valid. */
static int sasl_chunks_decode(struct sasl_chunks *st)
{
    size_t n = 0;
    if (st->b64_len > 0 && sodium_base642bin(st->out, SASL_PAYLOAD_MAX, st->b64, st->b64_len, NULL,
                                             &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
        return SASL_ERR_BASE64;
    st->out_len = n;
    st->out[n] = 0;
    sodium_memzero(st->b64, st->b64_len);
    return SASL_DONE;
}

static int sasl_chunks_step(struct sasl_chunks *st, const char *chunk, size_t len)
{
    if (len == 1 && chunk[0] == '*')
        return SASL_ABORTED;
    if (len == 1 && chunk[0] == '+')
        return sasl_chunks_decode(st);
    if (len == 0 || len > SASL_CHUNK_LEN || !sasl_b64_chars(chunk, len))
        return SASL_ERR_CHUNK;
    if (len > SASL_CHUNKS_MAX - st->b64_len)
        return SASL_ERR_TOO_LONG;
    memcpy(st->b64 + st->b64_len, chunk, len);
    st->b64_len += len;
    if (len == SASL_CHUNK_LEN) {
        st->state = SASL_CHUNKS_PARTIAL;
        return SASL_NEED_MORE;
    }
    return sasl_chunks_decode(st);
}

int sasl_chunks_feed(struct sasl_chunks *st, const char *chunk, size_t len)
{
    if (st->state == SASL_CHUNKS_FINISHED)
        return SASL_ERR_STATE;
    int rc = sasl_chunks_step(st, chunk, len);
    if (rc != SASL_NEED_MORE) {
        st->state = SASL_CHUNKS_FINISHED;
        if (rc != SASL_DONE) {
            sodium_memzero(st->b64, sizeof st->b64);
            st->b64_len = 0;
        }
    }
    return rc;
}

int sasl_encoder_init(struct sasl_encoder *enc, const uint8_t *data, size_t len)
{
    memset(enc, 0, sizeof *enc);
    if (len > SASL_PAYLOAD_MAX)
        return SASL_ERR_TOO_LONG;
    size_t need = sodium_base64_encoded_len(len, sodium_base64_VARIANT_ORIGINAL);
    if (need > sizeof enc->b64)
        return SASL_ERR_TOO_LONG;
    sodium_bin2base64(enc->b64, sizeof enc->b64, data, len, sodium_base64_VARIANT_ORIGINAL);
    enc->b64_len = need - 1; /* the size includes the NUL */
    return SASL_OK;
}

bool sasl_encoder_next(struct sasl_encoder *enc, const char **chunk, size_t *len)
{
    if (enc->done)
        return false;
    size_t left = enc->b64_len - enc->pos;
    if (left == 0) {
        /* Empty payload, or the previous chunk was exactly 400 bytes. */
        *chunk = "+";
        *len = 1;
        enc->done = true;
        return true;
    }
    size_t n = left < SASL_CHUNK_LEN ? left : SASL_CHUNK_LEN;
    *chunk = enc->b64 + enc->pos;
    *len = n;
    enc->pos += n;
    if (n < SASL_CHUNK_LEN)
        enc->done = true;
    return true;
}
