/*
 * idmap.c - linear-probing id map (see idmap.h for the invariants).
 */
#include "util/idmap.h"

#include <stdlib.h>

#include "util/alloc.h"

static inline size_t idmap_home(const struct idmap *m, uint64_t id)
{
    id ^= id >> 33;
    id *= 0xff51afd7ed558ccdull;
    id ^= id >> 33;
    return (size_t)id & (m->cap - 1);
}

void idmap_free(struct idmap *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->count = 0;
}

void *idmap_get(const struct idmap *m, uint64_t id)
{
    if (!m->cap || !id)
        return NULL;
    for (size_t i = idmap_home(m, id);; i = (i + 1) & (m->cap - 1)) {
        if (m->slots[i].id == id)
            return m->slots[i].value;
        if (!m->slots[i].id)
            return NULL;
    }
}

static void idmap_grow(struct idmap *m)
{
    struct idmap old = *m;
    m->cap = old.cap ? old.cap * 2 : 64;
    m->slots = xcalloc(m->cap, sizeof *m->slots);
    m->count = 0;
    for (size_t i = 0; i < old.cap; i++)
        if (old.slots[i].id)
            idmap_put(m, old.slots[i].id, old.slots[i].value);
    free(old.slots);
}

void *idmap_put(struct idmap *m, uint64_t id, void *value)
{
    if ((m->count + 1) * 4 > m->cap * 3)
        idmap_grow(m);
    size_t i = idmap_home(m, id);
    while (m->slots[i].id && m->slots[i].id != id)
        i = (i + 1) & (m->cap - 1);
    void *prev = m->slots[i].id ? m->slots[i].value : NULL;
    if (!m->slots[i].id)
        m->count++;
    m->slots[i] = (struct idmap_slot){id, value};
    return prev;
}

void *idmap_del(struct idmap *m, uint64_t id)
{
    if (!m->cap || !id)
        return NULL;
    size_t mask = m->cap - 1, i = idmap_home(m, id);
    while (m->slots[i].id != id) {
        if (!m->slots[i].id)
            return NULL;
        i = (i + 1) & mask;
    }
    void *value = m->slots[i].value;
    m->count--;
    /* backward shift: move each later entry of the run into the hole when
     * its home does not lie cyclically in (hole, its slot] */
    size_t hole = i;
    for (size_t j = (i + 1) & mask; m->slots[j].id; j = (j + 1) & mask) {
        size_t home = idmap_home(m, m->slots[j].id);
        if (((j - home) & mask) >= ((j - hole) & mask)) {
            m->slots[hole] = m->slots[j];
            hole = j;
        }
    }
    m->slots[hole] = (struct idmap_slot){0, NULL};
    return value;
}
