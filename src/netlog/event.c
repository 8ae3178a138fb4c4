/*
 * event.c - canonical bytes and hashes of network-log events (event.h).
 */
#include "netlog/event.h"

#include <inttypes.h>
#include "netlog/sha256.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The canonical bytes are built in one buffer and hashed with one call:
 * per-field digest calls cost more than the copying. */
struct canon {
    uint8_t *p;
    size_t len, cap;
    uint8_t small[1024];
};

static void canon_put(struct canon *c, const void *data, size_t len)
{
    if (c->len + 4 + len > c->cap) {
        size_t cap = (c->len + 4 + len) * 2;
        uint8_t *p = malloc(cap);
        if (!p)
            abort();
        memcpy(p, c->p, c->len);
        if (c->p != c->small)
            free(c->p);
        c->p = p;
        c->cap = cap;
    }
    uint8_t *d = c->p + c->len;
    d[0] = (uint8_t)(len >> 24);
    d[1] = (uint8_t)(len >> 16);
    d[2] = (uint8_t)(len >> 8);
    d[3] = (uint8_t)len;
    if (len)
        memcpy(d + 4, data, len);
    c->len += 4 + len;
}

/* Decimal text of v (what "%" PRId64 gives), without printf's cost. */
static void canon_int(struct canon *c, int64_t v)
{
    char buf[24];
    char *p = buf + sizeof buf;
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    canon_put(c, p, (size_t)(buf + sizeof buf - p));
}

void netlog_leaf_hash_lens(const struct netlog_event *e, const uint32_t lens[NETLOG_TEXTS],
                           uint8_t out[NETLOG_HASH_BYTES])
{
    struct canon c;
    c.p = c.small;
    c.cap = sizeof c.small;
    c.small[0] = 0x00; /* RFC 6962 leaf prefix */
    c.len = 1;
    canon_int(&c, e->seq);
    canon_int(&c, e->at_ms);
    canon_put(&c, e->kind ? e->kind : "", lens[0]);
    canon_put(&c, e->actor ? e->actor : "", lens[1]);
    canon_put(&c, e->target ? e->target : "", lens[2]);
    canon_int(&c, e->code);
    canon_int(&c, e->account_id);
    canon_put(&c, e->msgid ? e->msgid : "", lens[3]);
    canon_put(&c, e->body ? e->body : "", lens[4]);
    struct sha256_ctx *ctx = sha256_begin();
    sha256_update(ctx, c.p, c.len);
    sha256_finish(ctx, out);
    if (c.p != c.small)
        free(c.p);
}

size_t netlog_text_bytes(const struct netlog_event *e, const uint32_t lens[NETLOG_TEXTS])
{
    const char *t[NETLOG_TEXTS] = {e->kind, e->actor, e->target, e->msgid, e->body};
    size_t bytes = 0;
    for (int i = 0; i < NETLOG_TEXTS; i++)
        bytes += t[i] ? lens[i] + 1 : 0;
    return bytes;
}

size_t netlog_text_lens(const struct netlog_event *e, uint32_t lens[NETLOG_TEXTS])
{
    const char *t[NETLOG_TEXTS] = {e->kind, e->actor, e->target, e->msgid, e->body};
    for (int i = 0; i < NETLOG_TEXTS; i++)
        lens[i] = t[i] ? (uint32_t)strlen(t[i]) : 0;
    return netlog_text_bytes(e, lens);
}

void netlog_leaf_hash(const struct netlog_event *e, uint8_t out[NETLOG_HASH_BYTES])
{
    uint32_t lens[NETLOG_TEXTS];
    netlog_text_lens(e, lens);
    netlog_leaf_hash_lens(e, lens, out);
}

void netlog_chain_next(const uint8_t prev[NETLOG_HASH_BYTES], const uint8_t leaf[NETLOG_HASH_BYTES],
                       uint8_t out[NETLOG_HASH_BYTES])
{
    uint8_t buf[2 * NETLOG_HASH_BYTES];
    memcpy(buf, prev, NETLOG_HASH_BYTES);
    memcpy(buf + NETLOG_HASH_BYTES, leaf, NETLOG_HASH_BYTES);
    struct sha256_ctx *ctx = sha256_begin();
    sha256_update(ctx, buf, sizeof buf);
    sha256_finish(ctx, out);
}
