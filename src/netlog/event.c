/*
 * event.c - canonical bytes and hashes of network-log events (event.h).
 */
#include "netlog/event.h"

#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

static void put_field(crypto_hash_sha256_state *ctx, const void *p, size_t len)
{
    uint8_t be[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8), (uint8_t)len};
    crypto_hash_sha256_update(ctx, be, 4);
    if (len)
        crypto_hash_sha256_update(ctx, p, len);
}

static void put_text(crypto_hash_sha256_state *ctx, const char *s)
{
    put_field(ctx, s ? s : "", s ? strlen(s) : 0);
}

static void put_int(crypto_hash_sha256_state *ctx, int64_t v)
{
    char buf[24];
    int n = snprintf(buf, sizeof buf, "%" PRId64, v);
    put_field(ctx, buf, (size_t)n);
}

void netlog_leaf_hash(const struct netlog_event *e, uint8_t out[NETLOG_HASH_BYTES])
{
    crypto_hash_sha256_state ctx;
    static const uint8_t leaf_prefix = 0x00;
    crypto_hash_sha256_init(&ctx);
    crypto_hash_sha256_update(&ctx, &leaf_prefix, 1);
    put_int(&ctx, e->seq);
    put_int(&ctx, e->at_ms);
    put_text(&ctx, e->kind);
    put_text(&ctx, e->actor);
    put_text(&ctx, e->target);
    put_int(&ctx, e->code);
    put_int(&ctx, e->account_id);
    put_text(&ctx, e->msgid);
    put_text(&ctx, e->body);
    crypto_hash_sha256_final(&ctx, out);
}

void netlog_chain_next(const uint8_t prev[NETLOG_HASH_BYTES], const uint8_t leaf[NETLOG_HASH_BYTES],
                       uint8_t out[NETLOG_HASH_BYTES])
{
    crypto_hash_sha256_state ctx;
    crypto_hash_sha256_init(&ctx);
    crypto_hash_sha256_update(&ctx, prev, NETLOG_HASH_BYTES);
    crypto_hash_sha256_update(&ctx, leaf, NETLOG_HASH_BYTES);
    crypto_hash_sha256_final(&ctx, out);
}
