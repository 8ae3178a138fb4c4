/*
 * qbuf.c - reference-counted immutable byte buffers (see qbuf.h).
 *
 * A qbuf is one allocation: the header and the bytes. The transport's send
 * queues hold references; the last unref frees it.
 *
 * Shared fan-out buffers of up to QBUF_SMALL bytes (every ordinary chat
 * line, made by qbuf_new_shared) come from a free list. A busy loop
 * iteration renders hundreds of messages whose buffers all stay alive until
 * the flush point and are then released together; that pattern overflows
 * glibc's small per-thread caches and sends every allocation through the
 * slow path. The list is bounded (QBUF_POOL_MAX buffers, about 4.5 MiB; a loop iteration over
 * thousands of small groups renders thousands).
 * Private one-recipient buffers (numerics, the registration burst) are
 * allocated at their exact size: thousands of them can be alive at once
 * during a burst of registrations, and padding each to QBUF_SMALL would
 * leave the heap that much bigger afterwards.
 */
#include "net/qbuf.h"

#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#define QBUF_SMALL    512
#define QBUF_POOL_MAX 8192

static struct qbuf *qbuf_pool[QBUF_POOL_MAX];
static unsigned qbuf_pool_len;

static struct qbuf *qbuf_fill(struct qbuf *b, const char *data, size_t len, bool pooled)
{
    b->refs = 1;
    b->len = (uint32_t)len;
    b->pooled = pooled;
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
    if (len > QBUF_SMALL)
        return qbuf_new(data, len);
    struct qbuf *b =
        qbuf_pool_len ? qbuf_pool[--qbuf_pool_len] : xmalloc(sizeof(struct qbuf) + QBUF_SMALL);
    return qbuf_fill(b, data, len, true);
}

void qbuf_unref(struct qbuf *b)
{
    assert(b->refs > 0);
    if (--b->refs)
        return;
    if (b->pooled && qbuf_pool_len < QBUF_POOL_MAX)
        qbuf_pool[qbuf_pool_len++] = b;
    else
        free(b);
}

void qbuf_pool_clear(void)
{
    while (qbuf_pool_len > 0)
        free(qbuf_pool[--qbuf_pool_len]);
}
