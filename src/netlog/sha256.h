/*
 * sha256.h - SHA-256 for the network log's hot path.
 *
 * OpenSSL's implementation uses the CPU's SHA extensions where present
 * (several times libsodium's portable code), which matters at hundreds of
 * thousands of leaf and node hashes per second. A context per thread, in
 * thread-local storage, with nothing allocated per hash (sha256.c). The
 * hash is the standard SHA-256: any implementation gives the same bytes.
 */
#ifndef QUN_NETLOG_SHA256_H
#define QUN_NETLOG_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256_ctx;

/* The calling thread's context, started fresh. */
struct sha256_ctx *sha256_begin(void);
void sha256_update(struct sha256_ctx *c, const void *data, size_t len);
void sha256_finish(struct sha256_ctx *c, uint8_t out[32]);

#endif
