/*
 * strmap.c - linear-probing string map (see strmap.h for the invariants).
 */
#include "util/strmap.h"

#include <stdbool.h>
#include <string.h>
#include <sys/random.h>

#include "util/alloc.h"

#define SLOT_TOMB 1u

static uint64_t hash_seed = 0x9e3779b97f4a7c15ull;

void hash_seed_init(void)
{
    uint64_t s;
    if (getrandom(&s, sizeof s, 0) == (ssize_t)sizeof s)
        hash_seed ^= s;
}

static inline uint64_t hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    h ^= h >> 33;
    return h;
}

uint64_t hash_bytes(const void *data, size_t len)
{
    const unsigned char *p = data;
    uint64_t h = hash_seed ^ (len * 0x100000001b3ull);
    while (len >= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = hash_mix(h ^ w) + 0x9e3779b97f4a7c15ull;
        p += 8;
        len -= 8;
    }
    uint64_t w = 0;
    memcpy(&w, p, len);
    h = hash_mix(h ^ w ^ ((uint64_t)len << 56));
    /* 0 and 1 mark empty and tombstone slots */
    return h < 2 ? h + 2 : h;
}

uint64_t hash_ptr(const void *p)
{
    uint64_t h = hash_mix((uint64_t)(uintptr_t)p ^ hash_seed);
    return h < 2 ? h + 2 : h;
}

void strmap_init(struct strmap *m)
{
    memset(m, 0, sizeof *m);
}

void strmap_free(struct strmap *m)
{
    free(m->slots);
    memset(m, 0, sizeof *m);
}

static struct strmap_slot *strmap_find(const struct strmap *m, const char *key, uint64_t h)
{
    if (m->cap == 0)
        return NULL;
    size_t mask = m->cap - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        struct strmap_slot *s = &m->slots[i];
        if (!s->key && s->hash != SLOT_TOMB)
            return NULL;
        if (s->key && s->hash == h && strcmp(s->key, key) == 0)
            return s;
    }
}

static void strmap_grow(struct strmap *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    if (m->count * 2 < m->cap)
        ncap = m->cap; /* mostly tombstones: rehash in place size */
    struct strmap_slot *old = m->slots;
    size_t ocap = m->cap;
    m->slots = xcalloc(ncap, sizeof *m->slots);
    m->cap = ncap;
    m->tombs = 0;
    size_t mask = ncap - 1;
    for (size_t i = 0; i < ocap; i++) {
        if (!old[i].key)
            continue;
        size_t j = old[i].hash & mask;
        while (m->slots[j].key)
            j = (j + 1) & mask;
        m->slots[j] = old[i];
    }
    free(old);
}

void *strmap_get(const struct strmap *m, const char *key)
{
    struct strmap_slot *s = strmap_find(m, key, hash_bytes(key, strlen(key)));
    return s ? s->value : NULL;
}

void *strmap_put(struct strmap *m, const char *key, void *value)
{
    uint64_t h = hash_bytes(key, strlen(key));
    struct strmap_slot *s = strmap_find(m, key, h);
    if (s) {
        void *old = s->value;
        s->key = key;
        s->value = value;
        return old;
    }
    if ((m->count + m->tombs + 1) * 4 >= m->cap * 3)
        strmap_grow(m);
    size_t mask = m->cap - 1;
    size_t i = h & mask;
    while (m->slots[i].key)
        i = (i + 1) & mask;
    if (m->slots[i].hash == SLOT_TOMB)
        m->tombs--;
    m->slots[i] = (struct strmap_slot){key, value, h};
    m->count++;
    return NULL;
}

void *strmap_del(struct strmap *m, const char *key)
{
    struct strmap_slot *s = strmap_find(m, key, hash_bytes(key, strlen(key)));
    if (!s)
        return NULL;
    void *old = s->value;
    s->key = NULL;
    s->value = NULL;
    s->hash = SLOT_TOMB;
    m->count--;
    m->tombs++;
    return old;
}
