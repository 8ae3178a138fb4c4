/*
 * scram.c - SCRAM-SHA-256 server side and credential derivation.
 *
 * Owns: the parsing of client-first and client-final messages, the
 * server-first and server-final messages, and the key arithmetic of
 * RFC 5802 section 3 with SHA-256 (RFC 7677):
 *
 *   SaltedPassword  = PBKDF2-HMAC-SHA-256(password, salt, i)
 *   ClientKey       = HMAC(SaltedPassword, "Client Key")
 *   StoredKey       = SHA-256(ClientKey)
 *   ServerKey       = HMAC(SaltedPassword, "Server Key")
 *   AuthMessage     = client-first-bare "," server-first "," client-final-without-proof
 *   ClientSignature = HMAC(StoredKey, AuthMessage)
 *   ClientProof     = ClientKey XOR ClientSignature
 *   ServerSignature = HMAC(ServerKey, AuthMessage)
 *
 * The server recovers ClientKey = ClientProof XOR ClientSignature and
 * accepts when SHA-256(ClientKey) equals StoredKey. The state diagram and
 * the invariants (secrets wiped, constant-time comparison, caps) are in
 * scram.h; each transition is one public function below.
 *
 * Message grammar accepted (RFC 5802 section 7, simplified where noted):
 *   client-first = ("n" / "y") "," ["a=" saslname] "," bare
 *   bare         = "n=" saslname ",r=" c-nonce *("," ALPHA "=" 1*value)
 *   client-final = "c=" base64 ",r=" nonce *("," ALPHA "=" 1*value) ",p=" base64
 * saslname escapes ',' as "=2C" and '=' as "=3D"; any other '=' is an error.
 * At most SCRAM_ATTR_MAX attributes per message.
 */
#include "auth/scram.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "auth/sasl.h"
#include "proto/utf8.h"

#define SCRAM_ATTR_MAX 16

struct span {
    const char *p;
    size_t n;
};

const char *scram_error_wire(int err)
{
    switch (err) {
    case SCRAM_ERR_ENCODING:
    case SCRAM_ERR_TOO_LONG:
        return "invalid-encoding";
    case SCRAM_ERR_EXTENSIONS:
        return "extensions-not-supported";
    case SCRAM_ERR_PROOF:
    case SCRAM_ERR_UNKNOWN_USER: /* indistinguishable from a wrong password */
        return "invalid-proof";
    case SCRAM_ERR_CB_MISMATCH:
        return "channel-bindings-dont-match";
    case SCRAM_ERR_CB_UNSUPPORTED:
        return "channel-binding-not-supported";
    case SCRAM_ERR_USERNAME:
        return "invalid-username-encoding";
    default:
        return "other-error";
    }
}

const char *scram_error_name(int err)
{
    switch (err) {
    case SCRAM_OK:
        return "ok";
    case SCRAM_ERR_UNKNOWN_USER:
        return "unknown-user";
    case SCRAM_ERR_AUTHZID:
        return "authzid-mismatch";
    case SCRAM_ERR_NONCE:
        return "nonce-mismatch";
    case SCRAM_ERR_TOO_LONG:
        return "message-too-long";
    case SCRAM_ERR_STATE:
        return "bad-state";
    case SCRAM_ERR_PARAM:
        return "bad-parameter";
    case SCRAM_ERR_SERVER:
        return "server-not-verified";
    default:
        return scram_error_wire(err);
    }
}

/* ---- shared helpers ---------------------------------------------------- */

bool scram__printable(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x21 || c > 0x7E || c == ',')
            return false;
    }
    return true;
}

int scram__escape_name(const char *name, char *out, size_t cap, size_t *len)
{
    size_t n = 0;
    for (const char *p = name; *p; p++) {
        const char *rep = *p == ',' ? "=2C" : *p == '=' ? "=3D" : NULL;
        size_t k = rep ? 3 : 1;
        if (n + k >= cap)
            return SCRAM_ERR_TOO_LONG;
        memcpy(out + n, rep ? rep : p, k);
        n += k;
    }
    out[n] = '\0';
    *len = n;
    return SCRAM_OK;
}

static void scram_hmac(const uint8_t *key, size_t key_len, const void *data, size_t n,
                       uint8_t out[SCRAM_KEY_LEN])
{
    unsigned int olen = SCRAM_KEY_LEN;
    if (HMAC(EVP_sha256(), key, (int)key_len, data, n, out, &olen) == NULL)
        abort(); /* only fails on allocation failure: fatal, as in util/alloc */
}

void scram__auth_signature(const uint8_t key[SCRAM_KEY_LEN], const char *bare, size_t bare_len,
                           const char *sfirst, size_t sfirst_len, const char *cfinal,
                           size_t cfinal_len, uint8_t sig[SCRAM_KEY_LEN])
{
    /* AuthMessage is public (it is all on the wire), so no wiping needed. */
    char msg[SCRAM_MSG_MAX + 1 + SCRAM_OUT_MAX + 1 + SCRAM_MSG_MAX];
    if (bare_len > SCRAM_MSG_MAX || sfirst_len > SCRAM_OUT_MAX || cfinal_len > SCRAM_MSG_MAX)
        abort(); /* callers cap every message first */
    size_t n = 0;
    memcpy(msg + n, bare, bare_len);
    n += bare_len;
    msg[n++] = ',';
    memcpy(msg + n, sfirst, sfirst_len);
    n += sfirst_len;
    msg[n++] = ',';
    memcpy(msg + n, cfinal, cfinal_len);
    n += cfinal_len;
    scram_hmac(key, SCRAM_KEY_LEN, msg, n, sig);
}

/* ---- credentials ------------------------------------------------------- */

int scram__password_keys(const char *password, size_t password_len, const uint8_t *salt,
                         size_t salt_len, uint32_t iterations, uint8_t client_key[SCRAM_KEY_LEN],
                         uint8_t server_key[SCRAM_KEY_LEN])
{
    if (salt_len == 0 || salt_len > SCRAM_SALT_MAX || iterations < SCRAM_ITER_MIN ||
        iterations > SCRAM_ITER_MAX || password_len > INT32_MAX)
        return SCRAM_ERR_PARAM;
    uint8_t salted[SCRAM_KEY_LEN];
    if (PKCS5_PBKDF2_HMAC(password_len ? password : "", (int)password_len, salt, (int)salt_len,
                          (int)iterations, EVP_sha256(), SCRAM_KEY_LEN, salted) != 1)
        abort(); /* allocation failure inside OpenSSL */
    scram_hmac(salted, sizeof salted, "Client Key", 10, client_key);
    scram_hmac(salted, sizeof salted, "Server Key", 10, server_key);
    sodium_memzero(salted, sizeof salted);
    return SCRAM_OK;
}

int scram_credentials_derive(const char *password, size_t password_len, const uint8_t *salt,
                             size_t salt_len, uint32_t iterations, struct scram_credentials *out)
{
    uint8_t client_key[SCRAM_KEY_LEN];
    memset(out, 0, sizeof *out);
    int rc = scram__password_keys(password, password_len, salt, salt_len, iterations, client_key,
                                  out->server_key);
    if (rc != SCRAM_OK)
        return rc;
    SHA256(client_key, sizeof client_key, out->stored_key);
    sodium_memzero(client_key, sizeof client_key);
    memcpy(out->salt, salt, salt_len);
    out->salt_len = salt_len;
    out->iterations = iterations;
    return SCRAM_OK;
}

int scram_credentials_new(const char *password, size_t password_len, uint32_t iterations,
                          struct scram_credentials *out)
{
    uint8_t salt[SCRAM_SALT_LEN];
    if (sodium_init() < 0)
        abort();
    randombytes_buf(salt, sizeof salt);
    return scram_credentials_derive(password, password_len, salt, sizeof salt, iterations, out);
}

/* ---- parsing ----------------------------------------------------------- */

/*
 * Splits msg on ',' into at most max parts. Returns the number of parts, or
 * 0 when there are more than max (the caller treats that as malformed).
 */
static size_t scram_split(const char *msg, size_t len, struct span *parts, size_t max)
{
    size_t count = 0, start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && msg[i] != ',')
            continue;
        if (count == max)
            return 0;
        parts[count].p = msg + start;
        parts[count].n = i - start;
        count++;
        start = i + 1;
    }
    return count;
}

/* True when a is "<name>=<value>"; *val is then the value (maybe empty). */
static bool scram_attr(struct span a, char name, struct span *val)
{
    if (a.n < 2 || a.p[0] != name || a.p[1] != '=')
        return false;
    val->p = a.p + 2;
    val->n = a.n - 2;
    return true;
}

/* An optional extension: ALPHA "=" 1*value-char. Unknown ones are ignored. */
static bool scram_extension_valid(struct span a)
{
    char c = a.n ? a.p[0] : 0;
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
    return alpha && a.n >= 3 && a.p[1] == '=' && memchr(a.p + 2, '=', a.n - 2) == NULL;
}

/*
 * Decodes a saslname (=2C -> ',', =3D -> '=') into out (SCRAM_NAME_MAX + 1
 * bytes) and applies the name rule shared with PLAIN. This is the
 * "SASLprep-lite" of Qun: full SASLprep (RFC 4013) would map and forbid far
 * more; names are normalised later by the account layer's casemapping.
 */
static int scram_name_decode(struct span v, char *out)
{
    size_t n = 0;
    for (size_t i = 0; i < v.n; i++) {
        char c = v.p[i];
        if (c == '=') {
            if (v.n - i < 3)
                return SCRAM_ERR_USERNAME;
            if (v.p[i + 1] == '2' && v.p[i + 2] == 'C')
                c = ',';
            else if (v.p[i + 1] == '3' && v.p[i + 2] == 'D')
                c = '=';
            else
                return SCRAM_ERR_USERNAME;
            i += 2;
        }
        if (n == SCRAM_NAME_MAX)
            return SCRAM_ERR_USERNAME;
        out[n++] = c;
    }
    out[n] = '\0';
    if (n == 0 || !sasl_name_valid(out, n))
        return SCRAM_ERR_USERNAME;
    return SCRAM_OK;
}

/* Common checks on any client message: size, no NUL, well-formed UTF-8. */
static int scram_message_check(const char *msg, size_t len)
{
    if (msg == NULL || len == 0)
        return SCRAM_ERR_ENCODING;
    if (len > SCRAM_MSG_MAX)
        return SCRAM_ERR_TOO_LONG;
    if (memchr(msg, '\0', len) != NULL || !utf8_valid(msg, len))
        return SCRAM_ERR_ENCODING;
    return SCRAM_OK;
}

/* ---- server ------------------------------------------------------------ */

void scram_server_init(struct scram_server *s)
{
    sodium_memzero(s, sizeof *s);
    s->state = SCRAM_SERVER_INIT;
}

void scram_server_clear(struct scram_server *s)
{
    sodium_memzero(s, sizeof *s);
}

static void scram_server_set_output(struct scram_server *s, const char *data, size_t n)
{
    memcpy(s->out, data, n);
    s->out_len = n;
}

static int scram_server_fail(struct scram_server *s, int err)
{
    char e[64];
    if (s->state == SCRAM_SERVER_FAILED)
        return err; /* keep the first error and its output */
    int n = snprintf(e, sizeof e, "e=%s", scram_error_wire(err));
    sodium_memzero(&s->cred, sizeof s->cred);
    s->state = SCRAM_SERVER_FAILED;
    s->error = err;
    scram_server_set_output(s, e, (size_t)n);
    return err;
}

/* gs2-header: the channel-binding flag f[0] and the authzid field f[1]. */
static int scram_parse_gs2(struct scram_server *s, struct span flag, struct span az)
{
    struct span v;
    if (flag.n != 1 || (flag.p[0] != 'n' && flag.p[0] != 'y'))
        return SCRAM_ERR_ENCODING;
    if (az.n == 0)
        return SCRAM_OK;
    if (!scram_attr(az, 'a', &v))
        return SCRAM_ERR_ENCODING;
    return scram_name_decode(v, s->authzid);
}

/* client-first-message-bare: f[0] n=, f[1] r=, then extensions. */
static int scram_parse_bare(struct scram_server *s, const struct span *f, size_t nf)
{
    struct span v;
    if (nf >= 1 && scram_attr(f[0], 'm', &v))
        return SCRAM_ERR_EXTENSIONS;
    if (nf < 2 || !scram_attr(f[0], 'n', &v))
        return SCRAM_ERR_ENCODING;
    int rc = scram_name_decode(v, s->username);
    if (rc != SCRAM_OK)
        return rc;
    if (!scram_attr(f[1], 'r', &v) || v.n == 0 || v.n > SCRAM_NONCE_MAX ||
        !scram__printable(v.p, v.n))
        return SCRAM_ERR_ENCODING;
    s->cnonce_len = v.n;
    for (size_t i = 2; i < nf; i++)
        if (!scram_extension_valid(f[i]))
            return SCRAM_ERR_ENCODING;
    return SCRAM_OK;
}

static int scram_server_parse_first(struct scram_server *s, const char *msg, size_t len)
{
    struct span f[SCRAM_ATTR_MAX];
    int rc = scram_message_check(msg, len);
    if (rc != SCRAM_OK)
        return rc;
    /* Channel binding is refused with its own error, before anything else
     * is judged: the client must learn why, not just that it failed. */
    if (len >= 2 && msg[0] == 'p' && msg[1] == '=')
        return SCRAM_ERR_CB_UNSUPPORTED;
    size_t nf = scram_split(msg, len, f, SCRAM_ATTR_MAX);
    if (nf < 3)
        return SCRAM_ERR_ENCODING;
    rc = scram_parse_gs2(s, f[0], f[1]);
    if (rc == SCRAM_OK)
        rc = scram_parse_bare(s, f + 2, nf - 2);
    if (rc != SCRAM_OK)
        return rc;
    /* Qun lets no account act for another: authzid is empty or the user. */
    if (s->authzid[0] != '\0' && strcmp(s->authzid, s->username) != 0)
        return SCRAM_ERR_AUTHZID;
    memcpy(s->msg1, msg, len);
    s->msg1[len] = '\0';
    s->msg1_len = len;
    s->gs2_len = (size_t)(f[2].p - msg);
    s->cnonce_off = (size_t)(f[3].p + 2 - msg); /* f[3] is "r=..." */
    return SCRAM_OK;
}

int scram_server_recv_first(struct scram_server *s, const char *msg, size_t len)
{
    if (s->state != SCRAM_SERVER_INIT)
        return scram_server_fail(s, SCRAM_ERR_STATE);
    int rc = scram_server_parse_first(s, msg, len);
    if (rc != SCRAM_OK)
        return scram_server_fail(s, rc);
    s->state = SCRAM_SERVER_LOOKUP;
    return SCRAM_OK;
}

const char *scram_server_username(const struct scram_server *s)
{
    return s->username;
}

const char *scram_server_output(const struct scram_server *s, size_t *len)
{
    *len = s->out_len;
    return s->out;
}

/*
 * Credentials for an unknown user: a salt that depends only on the username
 * and the server's mock key (stable across attempts, so a prober sees the
 * same salt twice, as for a real account), the default iteration count, and
 * random keys. The exchange then fails exactly like a wrong password.
 */
static void scram_mock_credentials(struct scram_server *s, const uint8_t *mock_key)
{
    struct scram_credentials *c = &s->cred;
    uint8_t digest[SCRAM_KEY_LEN];
    if (sodium_init() < 0)
        abort();
    if (mock_key != NULL) {
        scram_hmac(mock_key, SCRAM_KEY_LEN, s->username, strlen(s->username), digest);
        memcpy(c->salt, digest, SCRAM_SALT_LEN);
    } else {
        randombytes_buf(c->salt, SCRAM_SALT_LEN);
    }
    c->salt_len = SCRAM_SALT_LEN;
    c->iterations = SCRAM_ITER_DEFAULT;
    randombytes_buf(c->stored_key, sizeof c->stored_key);
    randombytes_buf(c->server_key, sizeof c->server_key);
    s->unknown_user = true;
}

/* Copies the given nonce (checked) or makes a random one, into buf. */
int scram__nonce(const char *given, char *buf, size_t cap, size_t *len)
{
    if (given != NULL) {
        size_t n = strlen(given);
        if (n == 0 || n > SCRAM_NONCE_MAX || n >= cap || !scram__printable(given, n))
            return SCRAM_ERR_PARAM;
        memcpy(buf, given, n + 1);
        *len = n;
        return SCRAM_OK;
    }
    uint8_t raw[SCRAM_SNONCE_BYTES];
    if (sodium_init() < 0)
        abort();
    randombytes_buf(raw, sizeof raw);
    /* Original base64 of 18 bytes: 24 characters, no '=' and no ','. */
    sodium_bin2base64(buf, cap, raw, sizeof raw, sodium_base64_VARIANT_ORIGINAL);
    *len = strlen(buf);
    return SCRAM_OK;
}

static int scram_server_build_first(struct scram_server *s, const char *server_nonce)
{
    const struct scram_credentials *c = &s->cred;
    char snonce[SCRAM_NONCE_MAX + 1], salt64[SCRAM_SALT_MAX * 2];
    size_t snonce_len;
    int rc = scram__nonce(server_nonce, snonce, sizeof snonce, &snonce_len);
    if (rc != SCRAM_OK)
        return rc;
    sodium_bin2base64(salt64, sizeof salt64, c->salt, c->salt_len, sodium_base64_VARIANT_ORIGINAL);
    const char *cnonce = s->msg1 + s->cnonce_off;
    int n = snprintf(s->server_first, sizeof s->server_first, "r=%.*s%s,s=%s,i=%u",
                     (int)s->cnonce_len, cnonce, snonce, salt64, (unsigned)c->iterations);
    if (n < 0 || (size_t)n >= sizeof s->server_first)
        return SCRAM_ERR_PARAM; /* cannot happen with the caps above */
    s->server_first_len = (size_t)n;
    s->nonce_len = s->cnonce_len + snonce_len;
    scram_server_set_output(s, s->server_first, s->server_first_len);
    return SCRAM_OK;
}

int scram_server_start(struct scram_server *s, const struct scram_lookup *lookup,
                       const char *server_nonce)
{
    if (s->state != SCRAM_SERVER_LOOKUP)
        return scram_server_fail(s, SCRAM_ERR_STATE);
    const struct scram_credentials *c = lookup ? lookup->cred : NULL;
    if (c != NULL) {
        if (c->salt_len == 0 || c->salt_len > SCRAM_SALT_MAX || c->iterations < SCRAM_ITER_MIN ||
            c->iterations > SCRAM_ITER_MAX)
            return scram_server_fail(s, SCRAM_ERR_PARAM);
        s->cred = *c;
    } else {
        scram_mock_credentials(s, lookup ? lookup->mock_key : NULL);
    }
    int rc = scram_server_build_first(s, server_nonce);
    if (rc != SCRAM_OK)
        return scram_server_fail(s, rc);
    s->state = SCRAM_SERVER_CHALLENGED;
    return SCRAM_OK;
}

/* Strict base64 (original alphabet, padding required) into out[0..cap). */
static bool scram_b64_decode(struct span v, uint8_t *out, size_t cap, size_t *len)
{
    *len = 0;
    if (v.n == 0)
        return true;
    return sodium_base642bin(out, cap, v.p, v.n, NULL, len, NULL, sodium_base64_VARIANT_ORIGINAL) ==
           0;
}

/* Checks c= (the gs2 header, re-sent in base64) and r= (the whole nonce). */
static int scram_check_binding(const struct scram_server *s, struct span c, struct span r)
{
    uint8_t cb[SCRAM_MSG_MAX];
    size_t cb_len;
    if (!scram_b64_decode(c, cb, sizeof cb, &cb_len))
        return SCRAM_ERR_ENCODING;
    if (cb_len != s->gs2_len || memcmp(cb, s->msg1, cb_len) != 0)
        return SCRAM_ERR_CB_MISMATCH;
    if (r.n != s->nonce_len || memcmp(r.p, s->server_first + 2, r.n) != 0)
        return SCRAM_ERR_NONCE;
    return SCRAM_OK;
}

/* Verifies the proof over AuthMessage; on success writes "v=..." to out. */
static int scram_verify_proof(struct scram_server *s, const uint8_t proof[SCRAM_KEY_LEN],
                              const char *without_proof, size_t wp_len)
{
    uint8_t sig[SCRAM_KEY_LEN], key[SCRAM_KEY_LEN], stored[SCRAM_KEY_LEN];
    const char *bare = s->msg1 + s->gs2_len;
    size_t bare_len = s->msg1_len - s->gs2_len;
    scram__auth_signature(s->cred.stored_key, bare, bare_len, s->server_first, s->server_first_len,
                          without_proof, wp_len, sig);
    for (size_t i = 0; i < SCRAM_KEY_LEN; i++)
        key[i] = proof[i] ^ sig[i];
    SHA256(key, sizeof key, stored);
    bool ok = CRYPTO_memcmp(stored, s->cred.stored_key, SCRAM_KEY_LEN) == 0 && !s->unknown_user;
    sodium_memzero(key, sizeof key);
    if (!ok)
        return s->unknown_user ? SCRAM_ERR_UNKNOWN_USER : SCRAM_ERR_PROOF;
    scram__auth_signature(s->cred.server_key, bare, bare_len, s->server_first, s->server_first_len,
                          without_proof, wp_len, sig);
    memcpy(s->out, "v=", 2);
    sodium_bin2base64(s->out + 2, sizeof s->out - 2, sig, sizeof sig,
                      sodium_base64_VARIANT_ORIGINAL);
    s->out_len = strlen(s->out);
    return SCRAM_OK;
}

static int scram_server_parse_final(struct scram_server *s, const char *msg, size_t len)
{
    struct span f[SCRAM_ATTR_MAX], c, r, p;
    int rc = scram_message_check(msg, len);
    if (rc != SCRAM_OK)
        return rc;
    size_t nf = scram_split(msg, len, f, SCRAM_ATTR_MAX);
    if (nf < 3 || !scram_attr(f[0], 'c', &c) || !scram_attr(f[1], 'r', &r) ||
        !scram_attr(f[nf - 1], 'p', &p))
        return SCRAM_ERR_ENCODING;
    for (size_t i = 2; i + 1 < nf; i++)
        if (!scram_extension_valid(f[i]))
            return SCRAM_ERR_ENCODING;
    rc = scram_check_binding(s, c, r);
    if (rc != SCRAM_OK)
        return rc;
    uint8_t proof[SCRAM_MSG_MAX];
    size_t proof_len;
    if (!scram_b64_decode(p, proof, sizeof proof, &proof_len) || proof_len != SCRAM_KEY_LEN)
        return SCRAM_ERR_ENCODING;
    /* client-final-message-without-proof ends before ",p=". */
    size_t wp_len = (size_t)(f[nf - 1].p - 1 - msg);
    rc = scram_verify_proof(s, proof, msg, wp_len);
    sodium_memzero(proof, sizeof proof);
    return rc;
}

int scram_server_recv_final(struct scram_server *s, const char *msg, size_t len)
{
    if (s->state != SCRAM_SERVER_CHALLENGED)
        return scram_server_fail(s, SCRAM_ERR_STATE);
    int rc = scram_server_parse_final(s, msg, len);
    if (rc != SCRAM_OK)
        return scram_server_fail(s, rc);
    sodium_memzero(&s->cred, sizeof s->cred);
    s->state = SCRAM_SERVER_SUCCEEDED;
    return SCRAM_OK;
}
