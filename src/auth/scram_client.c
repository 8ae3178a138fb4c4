/*
 * scram_client.c - SCRAM-SHA-256 client side (for tests and tools).
 *
 * Owns: building client-first and client-final messages and checking the
 * server's signature. Qun's daemon never runs this; the unit tests and the
 * fuzzer use it to drive the server machine of scram.c end to end, and the
 * RFC 7677 vector is checked against it as well, so client and server are
 * each held to the RFC rather than only to each other.
 *
 * States: INIT --scram_client_start()--> SENT_FIRST
 *         --scram_client_recv_first()--> SENT_FINAL
 *         --scram_client_recv_final()--> SUCCEEDED; any error -> FAILED.
 * Invariant: the password is wiped as soon as the keys are derived (in
 * scram_client_recv_first()), and on every failure.
 */
#include "auth/scram.h"

#include <openssl/sha.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void scram_client_clear(struct scram_client *c)
{
    sodium_memzero(c, sizeof *c);
}

static int scram_client_fail(struct scram_client *c, int err)
{
    sodium_memzero(c->password, sizeof c->password);
    c->password_len = 0;
    c->state = SCRAM_CLIENT_FAILED;
    c->error = err;
    c->out_len = 0;
    return err;
}

static int scram_client_build_first(struct scram_client *c, const char *username,
                                    const char *authzid, const char *client_nonce)
{
    char user[SCRAM_NAME_MAX * 3 + 1], az[SCRAM_NAME_MAX * 3 + 1], nonce[SCRAM_NONCE_MAX + 1];
    size_t ulen, alen = 0, nlen;
    if (strlen(username) > SCRAM_NAME_MAX || (authzid && strlen(authzid) > SCRAM_NAME_MAX))
        return SCRAM_ERR_PARAM;
    int rc = scram__escape_name(username, user, sizeof user, &ulen);
    if (rc == SCRAM_OK && authzid != NULL)
        rc = scram__escape_name(authzid, az, sizeof az, &alen);
    if (rc == SCRAM_OK)
        rc = scram__nonce(client_nonce, nonce, sizeof nonce, &nlen);
    if (rc != SCRAM_OK)
        return rc;
    int g = snprintf(c->gs2, sizeof c->gs2, "n,%s%s,", authzid ? "a=" : "", authzid ? az : "");
    int b = snprintf(c->bare, sizeof c->bare, "n=%s,r=%s", user, nonce);
    if (g < 0 || b < 0 || (size_t)g + (size_t)b > SCRAM_MSG_MAX)
        return SCRAM_ERR_TOO_LONG;
    c->gs2_len = (size_t)g;
    c->bare_len = (size_t)b;
    c->cnonce_len = nlen;
    memcpy(c->out, c->gs2, c->gs2_len);
    memcpy(c->out + c->gs2_len, c->bare, c->bare_len);
    c->out_len = c->gs2_len + c->bare_len;
    c->out[c->out_len] = '\0';
    return SCRAM_OK;
}

int scram_client_start(struct scram_client *c, const char *username, const char *authzid,
                       const char *password, size_t password_len, const char *client_nonce)
{
    scram_client_clear(c);
    if (password_len > SCRAM_MSG_MAX)
        return scram_client_fail(c, SCRAM_ERR_PARAM);
    memcpy(c->password, password, password_len);
    c->password_len = password_len;
    int rc = scram_client_build_first(c, username, authzid, client_nonce);
    if (rc != SCRAM_OK)
        return scram_client_fail(c, rc);
    c->state = SCRAM_CLIENT_SENT_FIRST;
    return SCRAM_OK;
}

/* The parsed server-first-message. */
struct server_first {
    const char *nonce;
    size_t nonce_len;
    uint8_t salt[SCRAM_SALT_MAX];
    size_t salt_len;
    uint32_t iterations;
};

/* Parses "r=<nonce>,s=<salt>,i=<n>" from a NUL-terminated copy. */
static int scram_client_parse_first(const struct scram_client *c, const char *m,
                                    struct server_first *sf)
{
    const char *s = strstr(m, ",s="), *i = s ? strstr(s + 3, ",i=") : NULL;
    if (strncmp(m, "m=", 2) == 0)
        return SCRAM_ERR_EXTENSIONS;
    if (strncmp(m, "r=", 2) != 0 || s == NULL || i == NULL)
        return SCRAM_ERR_ENCODING;
    sf->nonce = m + 2;
    sf->nonce_len = (size_t)(s - sf->nonce);
    const char *cnonce = c->bare + c->bare_len - c->cnonce_len;
    if (sf->nonce_len <= c->cnonce_len || memcmp(sf->nonce, cnonce, c->cnonce_len) != 0 ||
        !scram__printable(sf->nonce, sf->nonce_len))
        return SCRAM_ERR_NONCE;
    if (sodium_base642bin(sf->salt, sizeof sf->salt, s + 3, (size_t)(i - s - 3), NULL,
                          &sf->salt_len, NULL, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        sf->salt_len == 0)
        return SCRAM_ERR_ENCODING;
    char *end;
    unsigned long it = strtoul(i + 3, &end, 10);
    if (end == i + 3 || (*end != '\0' && *end != ',') || i[3] < '1' || i[3] > '9' ||
        it < SCRAM_ITER_MIN || it > SCRAM_ITER_MAX)
        return SCRAM_ERR_PARAM;
    sf->iterations = (uint32_t)it;
    return SCRAM_OK;
}

/* Builds "c=...,r=...,p=..." given the keys; remembers ServerSignature. */
static int scram_client_build_final(struct scram_client *c, const char *sfirst, size_t sf_len,
                                    const struct server_first *sf,
                                    const uint8_t client_key[SCRAM_KEY_LEN],
                                    const uint8_t server_key[SCRAM_KEY_LEN])
{
    char cb[SCRAM_MSG_MAX * 4 / 3 + 8];
    uint8_t stored[SCRAM_KEY_LEN], sig[SCRAM_KEY_LEN], proof[SCRAM_KEY_LEN];
    sodium_bin2base64(cb, sizeof cb, (const unsigned char *)c->gs2, c->gs2_len,
                      sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(c->out, sizeof c->out, "c=%s,r=%.*s", cb, (int)sf->nonce_len, sf->nonce);
    /* Room for ",p=" and 44 characters of proof must remain. */
    if (n < 0 || (size_t)n + 64 > SCRAM_MSG_MAX)
        return SCRAM_ERR_TOO_LONG;
    size_t wp_len = (size_t)n;
    SHA256(client_key, SCRAM_KEY_LEN, stored);
    scram__auth_signature(stored, c->bare, c->bare_len, sfirst, sf_len, c->out, wp_len, sig);
    for (size_t k = 0; k < SCRAM_KEY_LEN; k++)
        proof[k] = client_key[k] ^ sig[k];
    scram__auth_signature(server_key, c->bare, c->bare_len, sfirst, sf_len, c->out, wp_len,
                          c->server_signature);
    memcpy(c->out + wp_len, ",p=", 3);
    sodium_bin2base64(c->out + wp_len + 3, sizeof c->out - wp_len - 3, proof, sizeof proof,
                      sodium_base64_VARIANT_ORIGINAL);
    c->out_len = strlen(c->out);
    sodium_memzero(proof, sizeof proof);
    sodium_memzero(sig, sizeof sig);
    return SCRAM_OK;
}

/* Bounds and NUL checks shared by both server messages; copies into m. */
static int scram_client_copy(const char *msg, size_t len, char m[SCRAM_OUT_MAX])
{
    if (msg == NULL || len == 0 || len >= SCRAM_OUT_MAX || memchr(msg, '\0', len) != NULL)
        return SCRAM_ERR_ENCODING;
    memcpy(m, msg, len);
    m[len] = '\0';
    if (strncmp(m, "e=", 2) == 0)
        return SCRAM_ERR_SERVER;
    return SCRAM_OK;
}

int scram_client_recv_first(struct scram_client *c, const char *msg, size_t len)
{
    char m[SCRAM_OUT_MAX];
    struct server_first sf;
    uint8_t client_key[SCRAM_KEY_LEN], server_key[SCRAM_KEY_LEN];
    if (c->state != SCRAM_CLIENT_SENT_FIRST)
        return scram_client_fail(c, SCRAM_ERR_STATE);
    int rc = scram_client_copy(msg, len, m);
    if (rc == SCRAM_OK)
        rc = scram_client_parse_first(c, m, &sf);
    if (rc == SCRAM_OK)
        rc = scram__password_keys(c->password, c->password_len, sf.salt, sf.salt_len, sf.iterations,
                                  client_key, server_key);
    if (rc != SCRAM_OK)
        return scram_client_fail(c, rc);
    sodium_memzero(c->password, sizeof c->password);
    c->password_len = 0;
    rc = scram_client_build_final(c, m, len, &sf, client_key, server_key);
    sodium_memzero(client_key, sizeof client_key);
    sodium_memzero(server_key, sizeof server_key);
    if (rc != SCRAM_OK)
        return scram_client_fail(c, rc);
    c->state = SCRAM_CLIENT_SENT_FINAL;
    return SCRAM_OK;
}

int scram_client_recv_final(struct scram_client *c, const char *msg, size_t len)
{
    char m[SCRAM_OUT_MAX];
    uint8_t sig[SCRAM_KEY_LEN];
    size_t sig_len = 0;
    if (c->state != SCRAM_CLIENT_SENT_FINAL)
        return scram_client_fail(c, SCRAM_ERR_STATE);
    int rc = scram_client_copy(msg, len, m);
    if (rc != SCRAM_OK)
        return scram_client_fail(c, rc);
    if (strncmp(m, "v=", 2) != 0 ||
        sodium_base642bin(sig, sizeof sig, m + 2, len - 2, NULL, &sig_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        sig_len != SCRAM_KEY_LEN)
        return scram_client_fail(c, SCRAM_ERR_ENCODING);
    if (sodium_memcmp(sig, c->server_signature, SCRAM_KEY_LEN) != 0)
        return scram_client_fail(c, SCRAM_ERR_SERVER);
    c->state = SCRAM_CLIENT_SUCCEEDED;
    c->out_len = 0;
    return SCRAM_OK;
}
