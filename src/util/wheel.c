/*
 * wheel.c - hashed timing wheel (see wheel.h).
 */
#include "util/wheel.h"

#include <stddef.h>

static void wheel_list_init(struct wheel_node *head)
{
    head->prev = head->next = head;
    head->expires = 0;
}

void wheel_init(struct wheel *w, uint64_t now_ms, wheel_fire_fn fire, void *ud)
{
    for (size_t i = 0; i < WHEEL_SLOTS; i++)
        wheel_list_init(&w->slots[i]);
    w->cursor = now_ms / WHEEL_TICK_MS;
    w->fire = fire;
    w->ud = ud;
    w->armed = 0;
}

void wheel_disarm(struct wheel *w, struct wheel_node *n)
{
    if (!n->expires)
        return;
    n->prev->next = n->next;
    n->next->prev = n->prev;
    n->prev = n->next = NULL;
    n->expires = 0;
    w->armed--;
}

void wheel_arm(struct wheel *w, struct wheel_node *n, uint64_t expires_ms)
{
    wheel_disarm(w, n);
    if (expires_ms == 0)
        expires_ms = 1;
    uint64_t tick = expires_ms / WHEEL_TICK_MS;
    if (tick <= w->cursor)
        tick = w->cursor + 1; /* never into a slot already processed */
    struct wheel_node *head = &w->slots[tick % WHEEL_SLOTS];
    n->expires = expires_ms;
    n->next = head;
    n->prev = head->prev;
    head->prev->next = n;
    head->prev = n;
    w->armed++;
}

static void wheel_run_slot(struct wheel *w, struct wheel_node *head, uint64_t now_ms)
{
    /* Detach the slot's list first: callbacks may re-arm nodes into this
     * very slot (one revolution later) and must not be visited again now. */
    struct wheel_node pending;
    if (head->next == head)
        return;
    pending.next = head->next;
    pending.prev = head->prev;
    pending.next->prev = &pending;
    pending.prev->next = &pending;
    wheel_list_init(head);
    while (pending.next != &pending) {
        struct wheel_node *n = pending.next;
        n->prev->next = n->next;
        n->next->prev = n->prev;
        if (n->expires > now_ms) {
            /* not due this revolution: put it back */
            uint64_t e = n->expires;
            n->expires = 0;
            w->armed--;
            wheel_arm(w, n, e);
            continue;
        }
        n->prev = n->next = NULL;
        n->expires = 0;
        w->armed--;
        w->fire(n, w->ud);
    }
}

void wheel_advance(struct wheel *w, uint64_t now_ms)
{
    uint64_t target = now_ms / WHEEL_TICK_MS;
    if (target - w->cursor > WHEEL_SLOTS)
        w->cursor = target - WHEEL_SLOTS; /* a long stall: one full sweep */
    while (w->cursor < target) {
        w->cursor++;
        wheel_run_slot(w, &w->slots[w->cursor % WHEEL_SLOTS], now_ms);
    }
}
