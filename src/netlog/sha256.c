/*
 * sha256.c - SHA-256 for the network log's hot path (see sha256.h).
 *
 * OpenSSL's SHA256_Init/Update/Final hash in a caller's SHA256_CTX with the
 * same code as the EVP interface (the CPU's SHA extensions where present)
 * but without its provider context: EVP_DigestInit_ex2 allocates a fresh
 * one and clears and frees the old one on every call, about 200 ns of a
 * 330 ns hash of a 200-byte record here, and the log hashes each event
 * about three times (its leaf, the chain, a Merkle node on average). They
 * are deprecated in OpenSSL 3 but kept through the 3.x series; this file is
 * their only user (verify.c hashes through event.c and merkle.c too).
 */
#define OPENSSL_SUPPRESS_DEPRECATED
#include "netlog/sha256.h"

#include <openssl/sha.h>

struct sha256_ctx {
    SHA256_CTX s;
};

/* One context per thread: a hash is begun and finished before the thread
 * starts another. */
static _Thread_local struct sha256_ctx sha256_tls;

struct sha256_ctx *sha256_begin(void)
{
    SHA256_Init(&sha256_tls.s);
    return &sha256_tls;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
    SHA256_Update(&c->s, data, len);
}

void sha256_finish(struct sha256_ctx *c, uint8_t out[32])
{
    SHA256_Final(out, &c->s);
}
