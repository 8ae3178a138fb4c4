/*
 * strmap.h - open-addressing hash map from NUL-terminated string keys to
 * pointers, used for nickname, channel and account lookups.
 *
 * Keys are not copied: the caller guarantees a key outlives its entry
 * (typically the key is a field of the stored object). Hashes are seeded
 * from a random value at start-up so that remote users cannot choose names
 * that all collide.
 *
 * Invariants:
 *   1. cap is 0 or a power of two; count + tombs < cap * 3/4.
 *   2. A slot is empty (key NULL, hash 0), a tombstone (key NULL, hash 1) or
 *      used (key non-NULL).
 */
#ifndef QUN_UTIL_STRMAP_H
#define QUN_UTIL_STRMAP_H

#include <stddef.h>
#include <stdint.h>

struct strmap_slot {
    const char *key;
    void *value;
    uint64_t hash;
};

struct strmap {
    struct strmap_slot *slots;
    size_t cap;
    size_t count;
    size_t tombs;
};

void strmap_init(struct strmap *m);
void strmap_free(struct strmap *m);
void *strmap_get(const struct strmap *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *value);
/* Removes; returns the removed value or NULL. */
void *strmap_del(struct strmap *m, const char *key);

/* Iteration: for (size_t i = 0; i < m->cap; i++) if (m->slots[i].key) ...
 * Do not insert while iterating; deleting the current entry is allowed. */

/* Seeded hash of a byte string; exposed for other tables. */
uint64_t hash_bytes(const void *data, size_t len);
uint64_t hash_ptr(const void *p);
void hash_seed_init(void);

#endif
