/*
 * wheel.h - a hashed timing wheel for per-client deadlines.
 *
 * Ping checks, registration timeouts and flood-penalty resumes are deadlines
 * attached to clients. Giving each client its own libuv timer would cost
 * memory per idle client and a heap operation per reschedule; scanning all
 * clients every tick would cost time proportional to the population. The
 * wheel costs three words per client and visits only the slot whose time
 * has come.
 *
 * Invariants:
 *   1. An armed node is on exactly one slot list: slot (expires / tick) mod
 *      WHEEL_SLOTS. A node whose expiry is more than one revolution away is
 *      simply skipped when its slot is visited early.
 *   2. wheel_advance() fires nodes with expires <= now, each at most once per
 *      arming; a callback may re-arm or disarm any node, including its own.
 */
#ifndef QUN_UTIL_WHEEL_H
#define QUN_UTIL_WHEEL_H

#include <stdbool.h>
#include <stdint.h>

#define WHEEL_SLOTS   4096
#define WHEEL_TICK_MS 100

struct wheel_node {
    struct wheel_node *prev, *next;
    uint64_t expires; /* ms on the loop clock; 0 when not armed */
};

struct wheel;
typedef void (*wheel_fire_fn)(struct wheel_node *node, void *ud);

struct wheel {
    struct wheel_node slots[WHEEL_SLOTS]; /* list heads */
    uint64_t cursor;                      /* last tick processed */
    wheel_fire_fn fire;
    void *ud;
    uint64_t armed;
};

void wheel_init(struct wheel *w, uint64_t now_ms, wheel_fire_fn fire, void *ud);
void wheel_arm(struct wheel *w, struct wheel_node *n, uint64_t expires_ms);
void wheel_disarm(struct wheel *w, struct wheel_node *n);
static inline bool wheel_armed(const struct wheel_node *n)
{
    return n->expires != 0;
}
/* Fires everything due up to now_ms. */
void wheel_advance(struct wheel *w, uint64_t now_ms);

#endif
