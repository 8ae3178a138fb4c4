/*
 * clock.h - the moderation clock: wall time that tests can move forward,
 * and the periodic jobs that run on it.
 *
 * Deadlines of complaints (24 h, 72 h), timed sanctions (72 h warnings,
 * 7-day suspensions), credit recovery (+10 per 30 days) and the report
 * outbox's retries are all days long. Their modules read the time through
 * qclock_now() and do their periodic work in a job registered with
 * qclock_every(), so a test moves time with `qunctl test clock-advance`
 * (test builds only) instead of sleeping. The network log keeps real time:
 * moving the clock never rewrites when an event happened.
 *
 * Jobs run every QCLOCK_TICK_S seconds on the loop and once, in
 * registration order, right after every advance.
 *
 * Threads: loop thread only.
 */
#ifndef QUN_UTIL_CLOCK_H
#define QUN_UTIL_CLOCK_H

#include <stdint.h>
#include <uv.h>

#define QCLOCK_TICK_S   5
#define QCLOCK_JOBS_MAX 16

/* Seconds since the epoch, plus whatever tests advanced. */
int64_t qclock_now(void);

typedef void (*qclock_job)(int64_t now);
/* Registers fn (once per process; more than QCLOCK_JOBS_MAX aborts). */
void qclock_every(qclock_job fn);

void qclock_start(uv_loop_t *loop);
void qclock_stop(void);
/* Runs every job now (after a start-up load, or a decision that may make
 * a deadline due). */
void qclock_run_jobs(void);

/* Test builds only (QUN_TEST_HOOKS): moves the clock forward by secs and
 * runs the jobs. Returns the new time. */
int64_t qclock_advance(int64_t secs);

#endif
