/*
 * qbuf.h - reference-counted immutable byte buffers for fan-out.
 *
 * A group message is rendered once per distinct capability set into a qbuf;
 * every recipient's send queue holds a reference to the same qbuf, so a
 * message to 1,000 members costs one rendering and 1,000 reference bumps,
 * not 1,000 copies.
 *
 * Invariants:
 *   1. A qbuf is never modified after qbuf_new() returns.
 *   2. refs counts holders; the buffer is freed when it drops to zero.
 *   3. Single-threaded: only the loop thread touches refs.
 */
#ifndef QUN_NET_QBUF_H
#define QUN_NET_QBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct qbuf {
    uint32_t refs;
    uint32_t len;
    bool shared; /* from qbuf_new_shared: a block of util/blockcache */
    char data[];
};

/* Copies len bytes into a new buffer holding one reference. */
struct qbuf *qbuf_new(const char *data, size_t len);
/* The same for a buffer that fan-out will share among many recipients:
 * small ones are recycled through the loop's block cache (see qbuf.c). */
struct qbuf *qbuf_new_shared(const char *data, size_t len);
static inline struct qbuf *qbuf_ref(struct qbuf *b)
{
    b->refs++;
    return b;
}
void qbuf_unref(struct qbuf *b);

#endif
