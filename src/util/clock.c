/*
 * clock.c - the moderation clock and its periodic jobs (see clock.h).
 */
#include "util/clock.h"

#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "util/log.h"

static int64_t qclock_offset;
static qclock_job qclock_jobs[QCLOCK_JOBS_MAX];
static size_t qclock_njobs;
static uv_timer_t qclock_timer;
static bool qclock_started;

int64_t qclock_now(void)
{
    return (int64_t)time(NULL) + qclock_offset;
}

void qclock_every(qclock_job fn)
{
    for (size_t i = 0; i < qclock_njobs; i++)
        if (qclock_jobs[i] == fn)
            return;
    if (qclock_njobs == QCLOCK_JOBS_MAX) {
        log_error("clock: more than %d periodic jobs", QCLOCK_JOBS_MAX);
        abort();
    }
    qclock_jobs[qclock_njobs++] = fn;
}

void qclock_run_jobs(void)
{
    int64_t now = qclock_now();
    for (size_t i = 0; i < qclock_njobs; i++)
        qclock_jobs[i](now);
}

static void qclock_tick(uv_timer_t *t)
{
    (void)t;
    qclock_run_jobs();
}

void qclock_start(uv_loop_t *loop)
{
    if (qclock_started)
        return;
    uv_timer_init(loop, &qclock_timer);
    uv_timer_start(&qclock_timer, qclock_tick, QCLOCK_TICK_S * 1000, QCLOCK_TICK_S * 1000);
    uv_unref((uv_handle_t *)&qclock_timer); /* never keeps the loop alive */
    qclock_started = true;
}

void qclock_stop(void)
{
    if (!qclock_started)
        return;
    uv_timer_stop(&qclock_timer);
    uv_close((uv_handle_t *)&qclock_timer, NULL);
    qclock_started = false;
}

int64_t qclock_advance(int64_t secs)
{
#ifdef QUN_TEST_HOOKS
    if (secs > 0)
        qclock_offset += secs;
    qclock_run_jobs();
#else
    (void)secs;
#endif
    return qclock_now();
}
