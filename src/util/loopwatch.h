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
 * One watch per process, on the loop thread only.
 */
#ifndef QUN_UTIL_LOOPWATCH_H
#define QUN_UTIL_LOOPWATCH_H

#include <stdint.h>
#include <uv.h>

#define LOOPWATCH_WARN_EVERY_S 10

struct loopwatch_stats {
    uint64_t busy_max_us; /* longest iteration's work since the start */
    uint64_t stalls;      /* iterations over the threshold */
    uint64_t iterations;
};

/* Starts watching `loop`; an iteration longer than stall_ms is a stall.
 * The watch does not keep the loop alive. Returns 0, or a libuv error. */
int loopwatch_start(uv_loop_t *loop, unsigned stall_ms);
void loopwatch_stop(void);
void loopwatch_get(struct loopwatch_stats *out);

#endif
