/*
 * blockcache.c - per-size LIFO lists of freed blocks (blockcache.h).
 *
 * Each block starts with a 16-byte header holding its size class (or
 * BC_BIG for one from plain malloc); the caller's pointer follows it, so
 * the alignment is malloc's. A kept block's header links it into its
 * class's list.
 */
#include "util/blockcache.h"

#include <stdint.h>

#include "util/alloc.h"

#if defined(__SANITIZE_ADDRESS__)
#define BC_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define BC_ASAN 1
#endif
#endif
#ifdef BC_ASAN
#include <sanitizer/asan_interface.h>
#define BC_POISON(p, n)   ASAN_POISON_MEMORY_REGION((p), (n))
#define BC_UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define BC_POISON(p, n)   ((void)(p), (void)(n))
#define BC_UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define BC_HEAD    16
#define BC_CLASSES 6
#define BC_BIG     0xff

static const size_t bc_size[BC_CLASSES] = {64, 128, 256, 512, 1024, 2048};

struct bc_free {
    struct bc_free *next;
};

static struct {
    struct bc_free *head[BC_CLASSES];
    size_t count[BC_CLASSES];
} bc;

static unsigned bc_class(size_t n)
{
    for (unsigned i = 0; i < BC_CLASSES; i++)
        if (n + BC_HEAD <= bc_size[i])
            return i;
    return BC_BIG;
}

void *blockcache_alloc(size_t n)
{
    unsigned k = bc_class(n);
    uint8_t *b;
    if (k != BC_BIG && bc.head[k]) {
        struct bc_free *f = bc.head[k];
        BC_UNPOISON(f, bc_size[k]);
        bc.head[k] = f->next;
        bc.count[k]--;
        b = (uint8_t *)f;
    } else {
        b = xmalloc(k == BC_BIG ? n + BC_HEAD : bc_size[k]);
    }
    b[0] = (uint8_t)k;
    return b + BC_HEAD;
}

void blockcache_free(void *p)
{
    if (!p)
        return;
    uint8_t *b = (uint8_t *)p - BC_HEAD;
    unsigned k = b[0];
    if (k >= BC_CLASSES || bc.count[k] >= BLOCKCACHE_KEEP_BYTES / bc_size[k]) {
        free(b);
        return;
    }
    struct bc_free *f = (struct bc_free *)b;
    f->next = bc.head[k];
    bc.head[k] = f;
    bc.count[k]++;
    /* not the link, in the header: LeakSanitizer reads no poisoned memory,
     * and would call every kept block but the first a leak */
    BC_POISON(b + sizeof *f, bc_size[k] - sizeof *f);
}

size_t blockcache_kept(void)
{
    size_t n = 0;
    for (unsigned k = 0; k < BC_CLASSES; k++)
        n += bc.count[k];
    return n;
}

void blockcache_trim(void)
{
    for (unsigned k = 0; k < BC_CLASSES; k++) {
        while (bc.head[k]) {
            struct bc_free *f = bc.head[k];
            BC_UNPOISON(f, bc_size[k]);
            bc.head[k] = f->next;
            free(f);
        }
        bc.count[k] = 0;
    }
}
