/*
 * qbuf.c - reference-counted immutable byte buffers (see qbuf.h).
 *
 * A qbuf is one allocation: the header and the bytes. The transport's send
 * queues hold references; the last unref frees it.
 *
 * Shared fan-out buffers (every chat line, made by qbuf_new_shared) come
 * from the loop's block cache (util/blockcache.h). A busy loop iteration
 * renders hundreds of messages whose buffers all stay alive until the flush
 * point and are then released together; that pattern overflows glibc's
 * small per-thread caches and sends every allocation through the slow path.
 * Private one-recipient buffers (numerics, the registration burst) are
 * allocated at their exact size: thousands of them can be alive at once
 * during a burst of registrations, and padding each to a size class would
 * leave the heap that much bigger afterwards.
 */
#include "net/qbuf.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/blockcache.h"

static struct qbuf *qbuf_fill(struct qbuf *b, const char *data, size_t len, bool shared)
{
    b->refs = 1;
    b->len = (uint32_t)len;
    b->shared = shared;
    if (len)
        memcpy(b->data, data, len);
    return b;
}

struct qbuf *qbuf_new(const char *data, size_t len)
{
    assert(len <= UINT32_MAX);
    return qbuf_fill(xmalloc(sizeof(struct qbuf) + len), data, len, false);
}

struct qbuf *qbuf_new_shared(const char *data, size_t len)
{
    assert(len <= UINT32_MAX);
    return qbuf_fill(blockcache_alloc(sizeof(struct qbuf) + len), data, len, true);
}

void qbuf_unref(struct qbuf *b)
{
    assert(b->refs > 0);
    if (--b->refs)
        return;
    if (b->shared)
        blockcache_free(b);
    else
        free(b);
}
