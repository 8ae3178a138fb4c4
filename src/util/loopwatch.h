/*
 * loopwatch.h - notices when the event loop works too long between two
 * polls for I/O. Every client waits while it does: a slow callback, a call
 * that blocks, or the processor taken by another thread or process (or, in
 * a virtual machine, by the host).
 *
 * Measured at each prepare phase, just before the loop polls: the time
 * since the previous one minus what the loop spent blocked in the poll
 * itself (libuv's idle-time metric) is the work of one iteration. An
 * iteration longer than the threshold counts as a stall and is a warning in
 * the log, at most one per LOOPWATCH_WARN_EVERY_S seconds (log_limit_pass);
 * the longest iteration and the number of stalls are kept for `qunctl status`.
 *
 * What a long iteration did: the layers name their own counters of work on
 * the loop (reads, accepted connections, commands, registrations, messages
 * the log released; loopwatch_track), and the watch reports how much of each
 * the iteration did, in the warning and for the longest one in the stats.
 * Reading a dozen counters once per iteration costs nothing on the paths
 * that count.
 *
 * One watch per process, on the loop thread only.
 */
#ifndef QUN_UTIL_LOOPWATCH_H
#define QUN_UTIL_LOOPWATCH_H

#include <stdint.h>
#include <uv.h>

#define LOOPWATCH_WARN_EVERY_S 10
#define LOOPWATCH_TRACK_MAX    12

struct loopwatch_stats {
    uint64_t busy_max_us; /* longest iteration's work since the start */
    uint64_t stalls;      /* iterations over the threshold */
    uint64_t iterations;
    char busiest_did[192]; /* what the longest iteration did, e.g. "412 registrations,
                            * 1024 reads" ("" before the first) */
};

/* Tracks *counter, a count of some work done on the loop (monotonic,
 * written on the loop thread only), under the plural noun `what` (a string
 * that outlives the watch). The same counter twice is tracked once; past
 * LOOPWATCH_TRACK_MAX counters the rest are ignored. Tracking may start
 * before or after loopwatch_start and survives loopwatch_stop. */
void loopwatch_track(const char *what, const uint64_t *counter);

/* Starts watching `loop`; an iteration longer than stall_ms is a stall.
 * The watch does not keep the loop alive. Returns 0, or a libuv error. */
int loopwatch_start(uv_loop_t *loop, unsigned stall_ms);
void loopwatch_stop(void);
void loopwatch_get(struct loopwatch_stats *out);

#endif
