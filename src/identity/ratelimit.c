/*
 * ratelimit.c - sliding-window rate limits.
 *
 * The one rule: with L = min(limit, RATELIMIT_MAX_EVENTS), an event is
 * allowed when fewer than L events were recorded, or when the L-th most
 * recent one is at or before now - window (so it has left the window).
 * Only that one ring slot is ever looked at: O(1) per call.
 */
#include "identity/ratelimit.h"

static uint32_t effective_limit(struct ratelimit_rule rule)
{
    return rule.limit < RATELIMIT_MAX_EVENTS ? rule.limit : RATELIMIT_MAX_EVENTS;
}

/* Time of the k-th most recent recorded event, k in 1..count. */
static int64_t nth_recent(const struct ratelimit_bucket *b, uint32_t k)
{
    return b->times[(b->next + RATELIMIT_MAX_EVENTS - k) % RATELIMIT_MAX_EVENTS];
}

bool ratelimit_check(const struct ratelimit_bucket *b, struct ratelimit_rule rule, int64_t now)
{
    uint32_t limit = effective_limit(rule);
    if (limit == 0)
        return false;
    if (b->count < limit)
        return true;
    return nth_recent(b, limit) <= now - rule.window_seconds;
}

void ratelimit_record(struct ratelimit_bucket *b, int64_t now)
{
    b->times[b->next % RATELIMIT_MAX_EVENTS] = now;
    b->next = (b->next + 1) % RATELIMIT_MAX_EVENTS;
    if (b->count < RATELIMIT_MAX_EVENTS)
        b->count++;
}

bool ratelimit_allow(struct ratelimit_bucket *b, struct ratelimit_rule rule, int64_t now)
{
    if (!ratelimit_check(b, rule, now))
        return false;
    ratelimit_record(b, now);
    return true;
}

int ratelimit_allow_all(struct ratelimit_bucket *const *buckets, const struct ratelimit_rule *rules,
                        size_t n, int64_t now)
{
    for (size_t i = 0; i < n; i++)
        if (!ratelimit_check(buckets[i], rules[i], now))
            return (int)i;
    for (size_t i = 0; i < n; i++)
        ratelimit_record(buckets[i], now);
    return -1;
}

int64_t ratelimit_retry_after(const struct ratelimit_bucket *b, struct ratelimit_rule rule,
                              int64_t now)
{
    uint32_t limit = effective_limit(rule);
    if (limit == 0)
        return rule.window_seconds;
    if (ratelimit_check(b, rule, now))
        return 0;
    return nth_recent(b, limit) + rule.window_seconds - now;
}
