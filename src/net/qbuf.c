/*
 * qbuf.c - reference-counted immutable byte buffers (see qbuf.h).
 *
 * A qbuf is one allocation: the header and the bytes. The transport's send
 * queues hold references; the last unref frees it.
 *
 * Buffers of up to QBUF_SMALL bytes (every ordinary chat line) come from a
 * free list. A busy loop iteration renders hundreds of messages whose
 * buffers all stay alive until the flush point and are then released
 * together; that pattern overflows glibc's small per-thread caches and sends
 * every allocation through the slow path. The list is bounded
 * (QBUF_POOL_MAX buffers, about 1 MiB), so memory after a burst stays small.
 */
#include "net/qbuf.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#define QBUF_SMALL    512
#define QBUF_POOL_MAX 2048

static struct qbuf *qbuf_pool[QBUF_POOL_MAX];
static unsigned qbuf_pool_len;

struct qbuf *qbuf_new(const char *data, size_t len)
{
    assert(len <= UINT32_MAX);
    struct qbuf *b;
    if (len <= QBUF_SMALL)
        b = qbuf_pool_len ? qbuf_pool[--qbuf_pool_len] : xmalloc(sizeof(*b) + QBUF_SMALL);
    else
        b = xmalloc(sizeof(*b) + len);
    b->refs = 1;
    b->len = (uint32_t)len;
    if (len)
        memcpy(b->data, data, len);
    return b;
}

void qbuf_unref(struct qbuf *b)
{
    assert(b->refs > 0);
    if (--b->refs)
        return;
    if (b->len <= QBUF_SMALL && qbuf_pool_len < QBUF_POOL_MAX)
        qbuf_pool[qbuf_pool_len++] = b;
    else
        free(b);
}

void qbuf_pool_clear(void)
{
    while (qbuf_pool_len > 0)
        free(qbuf_pool[--qbuf_pool_len]);
}
