/*
 * ratelimit.h - sliding-window rate limits ("at most N events per window").
 *
 * Owns the rule that decides whether one more event (a code sent by SMS, a
 * login attempt) is allowed for one key: a phone, an account or an IP
 * address. The caller keeps one bucket per key (in a map, or in a row) and
 * passes the limit in with each call, so a configuration reload applies at
 * once and the same bucket type serves every limit.
 *
 * Exact, not approximate: the bucket remembers the times of the last
 * RATELIMIT_MAX_EVENTS allowed events, and an event is allowed when fewer
 * than `limit` of them fall inside (now - window, now]. So "5 per hour"
 * means no 60-minute span ever holds 6 codes, which is what the operator
 * reads in the configuration. (A token bucket of the same size would let
 * 9 through in an hour: a burst of 5, then one per 12 minutes.)
 *
 * Invariants:
 *   1. A refused event is not recorded: retrying while refused does not
 *      push the next allowed time further out.
 *   2. ratelimit_allow_all() records in every bucket or in none, so a
 *      request refused for its IP does not use up the phone's quota.
 *   3. A bucket never grows: its size is fixed; limits over
 *      RATELIMIT_MAX_EVENTS are treated as RATELIMIT_MAX_EVENTS.
 *   4. Times are Unix seconds from the caller (|t| and windows below
 *      2^62, so no sum or difference overflows); an event "in the future"
 *      (the clock stepped back) still counts as inside the window.
 *
 * Pure and not thread-safe: one bucket belongs to one thread at a time.
 */
#ifndef QUN_IDENTITY_RATELIMIT_H
#define QUN_IDENTITY_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RATELIMIT_MAX_EVENTS 32

struct ratelimit_rule {
    uint32_t limit;         /* events allowed per window; 0 allows none */
    int64_t window_seconds; /* > 0 */
};

/* Zero-initialise a bucket to start it empty. */
struct ratelimit_bucket {
    int64_t times[RATELIMIT_MAX_EVENTS]; /* ring of allowed event times */
    uint32_t next;                       /* slot the next event goes to */
    uint32_t count;                      /* events recorded, capped at the ring size */
};

/* Defaults for one-time codes (SPEC §4); the configuration may override. */
#define RATELIMIT_OTP_PHONE   ((struct ratelimit_rule){5, 3600})
#define RATELIMIT_OTP_ACCOUNT ((struct ratelimit_rule){10, 3600})
#define RATELIMIT_OTP_IP      ((struct ratelimit_rule){20, 3600})

/* Would one more event be allowed now? Changes nothing. */
bool ratelimit_check(const struct ratelimit_bucket *b, struct ratelimit_rule rule, int64_t now);

/* Records an event at now (whether or not it was allowed). */
void ratelimit_record(struct ratelimit_bucket *b, int64_t now);

/* Check, and record when allowed. Returns whether it was allowed. */
bool ratelimit_allow(struct ratelimit_bucket *b, struct ratelimit_rule rule, int64_t now);

/*
 * All-or-nothing over n buckets with their rules (for example phone,
 * account and IP). Returns -1 when allowed (recorded in every bucket),
 * else the index of the first bucket that refused (nothing recorded).
 */
int ratelimit_allow_all(struct ratelimit_bucket *const *buckets, const struct ratelimit_rule *rules,
                        size_t n, int64_t now);

/* Seconds until ratelimit_check would allow (0 if it does now); for a
 * "try again in N minutes" sentence. A zero limit answers the window. */
int64_t ratelimit_retry_after(const struct ratelimit_bucket *b, struct ratelimit_rule rule,
                              int64_t now);

#endif
