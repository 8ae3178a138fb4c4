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

static void canon_text(struct canon *c, const char *s)
{
    canon_put(c, s ? s : "", s ? strlen(s) : 0);
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

void netlog_leaf_hash(const struct netlog_event *e, uint8_t out[NETLOG_HASH_BYTES])
{
    struct canon c;
    c.p = c.small;
    c.cap = sizeof c.small;
    c.small[0] = 0x00; /* RFC 6962 leaf prefix */
    c.len = 1;
    canon_int(&c, e->seq);
    canon_int(&c, e->at_ms);
    canon_text(&c, e->kind);
    canon_text(&c, e->actor);
    canon_text(&c, e->target);
    canon_int(&c, e->code);
    canon_int(&c, e->account_id);
    canon_text(&c, e->msgid);
    canon_text(&c, e->body);
    struct sha256_ctx *ctx = sha256_begin();
    sha256_update(ctx, c.p, c.len);
    sha256_finish(ctx, out);
    if (c.p != c.small)
        free(c.p);
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
