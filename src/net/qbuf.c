/*
 * qbuf.c - reference-counted immutable byte buffers (see qbuf.h).
 *
 * A qbuf is one allocation: the header and the bytes. The transport's send
 * queues hold references; the last unref frees it. There is deliberately no
 * pool: glibc's per-thread caches already make the small sizes cheap, and a
 * pool would keep peak memory after a burst.
 */
#include "net/qbuf.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

struct qbuf *qbuf_new(const char *data, size_t len)
{
    assert(len <= UINT32_MAX);
    struct qbuf *b = xmalloc(sizeof(*b) + len);
    b->refs = 1;
    b->len = (uint32_t)len;
    if (len)
        memcpy(b->data, data, len);
    return b;
}

void qbuf_unref(struct qbuf *b)
{
    assert(b->refs > 0);
    if (--b->refs == 0)
        free(b);
}
