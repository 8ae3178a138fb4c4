/*
 * window.c - fixed-size tables for the rules' time windows (window.h).
 */
#include "rules/window.h"

#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"
#include "util/strmap.h"

struct slot_head {
    uint64_t key; /* 0: free */
    int64_t at;   /* when the slot's window started */
};

struct flood_slot {
    struct slot_head h;
    int32_t count;
};

struct spam_slot {
    struct slot_head h;
    uint8_t n;
    int64_t codes[RULES_SPAM_CODES];
};

struct sanct_slot {
    struct slot_head h;
};

static struct flood_slot *flood_tab; /* NULL until rules_windows_init */
static struct spam_slot *spam_tab;
static struct sanct_slot *sanct_tab;

static uint64_t rules_key(int64_t account, uint64_t extra)
{
    uint64_t k[2] = {(uint64_t)account, extra};
    uint64_t h = hash_bytes(k, sizeof k);
    return h ? h : 1;
}

/* The slot of key in a table of n slots of size bytes (n a power of two):
 * its own while its window (ttl seconds from h.at) runs, else a fresh one
 * (key set, the rest zero, at = now). */
static void *rules_slot(void *tab, size_t n, size_t size, uint64_t key, int64_t now, int64_t ttl,
                        bool *fresh)
{
    *fresh = false;
    char *base = tab;
    struct slot_head *victim = NULL;
    bool victim_free = false;
    /* look at every probed slot: the key's own may sit after a free one */
    for (size_t i = 0; i < RULES_PROBE; i++) {
        struct slot_head *h = (struct slot_head *)(base + ((key + i) & (n - 1)) * size);
        if (h->key == key && now - h->at < ttl)
            return h;
        if (victim_free)
            continue;
        if (h->key == 0 || now - h->at >= ttl) {
            victim = h;
            victim_free = true;
        } else if (!victim || h->at < victim->at) {
            victim = h;
        }
    }
    memset(victim, 0, size);
    *fresh = true;
    victim->key = key;
    victim->at = now;
    return victim;
}

void rules_windows_init(void)
{
    if (flood_tab)
        return;
    flood_tab = xcalloc(RULES_FLOOD_SLOTS, sizeof *flood_tab);
    spam_tab = xcalloc(RULES_SPAM_SLOTS, sizeof *spam_tab);
    sanct_tab = xcalloc(RULES_SANCT_SLOTS, sizeof *sanct_tab);
}

void rules_windows_free(void)
{
    free(flood_tab);
    free(spam_tab);
    free(sanct_tab);
    flood_tab = NULL;
    spam_tab = NULL;
    sanct_tab = NULL;
}

size_t rules_windows_bytes(void)
{
    return RULES_FLOOD_SLOTS * sizeof *flood_tab + RULES_SPAM_SLOTS * sizeof *spam_tab +
           RULES_SANCT_SLOTS * sizeof *sanct_tab;
}

bool rules_window_flood(int64_t account, int64_t now, int messages, int window)
{
    bool fresh;
    rules_windows_init();
    struct flood_slot *s = rules_slot(flood_tab, RULES_FLOOD_SLOTS, sizeof *s,
                                      rules_key(account, 0x666c6f6f64), now, window, &fresh);
    if (s->count < INT32_MAX)
        s->count++;
    return s->count > messages;
}

bool rules_window_spam(int64_t account, int64_t code, uint64_t text_hash, int64_t now, int groups,
                       int window)
{
    bool fresh, seen = false;
    rules_windows_init();
    struct spam_slot *s = rules_slot(spam_tab, RULES_SPAM_SLOTS, sizeof *s,
                                     rules_key(account, text_hash), now, window, &fresh);
    for (size_t i = 0; i < s->n; i++)
        seen |= s->codes[i] == code;
    if (!seen && s->n < RULES_SPAM_CODES)
        s->codes[s->n++] = code;
    return s->n >= groups;
}

bool rules_window_first(int64_t account, uint64_t rule_hash, int64_t now, int window)
{
    bool fresh;
    rules_windows_init();
    rules_slot(sanct_tab, RULES_SANCT_SLOTS, sizeof(struct sanct_slot),
               rules_key(account, rule_hash), now, window, &fresh);
    return fresh;
}
