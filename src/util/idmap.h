/*
 * idmap.h - open-addressing hash map from nonzero 64-bit ids to pointers:
 * the registry of live clients by connection id (client_by_id), looked up
 * once or twice for every message a client sends.
 *
 * Ids are not chosen by remote users (the server numbers its connections),
 * so a fixed mixing function suffices.
 *
 * Invariants:
 *   1. cap is 0 or a power of two; count < cap * 3/4.
 *   2. A slot is empty (id 0) or used. Deletion shifts the following run
 *      back, so there are no tombstones and a lookup stops at the first
 *      empty slot.
 */
#ifndef QUN_UTIL_IDMAP_H
#define QUN_UTIL_IDMAP_H

#include <stddef.h>
#include <stdint.h>

struct idmap_slot {
    uint64_t id;
    void *value;
};

struct idmap {
    struct idmap_slot *slots;
    size_t cap;
    size_t count;
};

void idmap_free(struct idmap *m);
void *idmap_get(const struct idmap *m, uint64_t id);
/* Inserts or replaces (id must not be 0); returns the previous value or NULL. */
void *idmap_put(struct idmap *m, uint64_t id, void *value);
/* Removes; returns the removed value or NULL. */
void *idmap_del(struct idmap *m, uint64_t id);

#endif
