/*
 * loopwatch.c - the length of each event-loop iteration; see loopwatch.h.
 */
#include "util/loopwatch.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "util/log.h"

static struct {
    uv_loop_t *loop;
    uv_prepare_t prepare;
    bool active;
    uint64_t stall_ns;
    uint64_t last_ns, last_idle_ns; /* at the previous prepare, 0 = none yet */
    struct log_limit warn;          /* one warning per LOOPWATCH_WARN_EVERY_S */
    struct loopwatch_stats st;
} lw;

/* The tracked counters: kept apart from lw, which loopwatch_start clears. */
static struct {
    const char *what;
    const uint64_t *counter;
    uint64_t seen; /* its value at the previous prepare */
} tracked[LOOPWATCH_TRACK_MAX];
static size_t ntracked;

void loopwatch_track(const char *what, const uint64_t *counter)
{
    for (size_t i = 0; i < ntracked; i++)
        if (tracked[i].counter == counter)
            return;
    if (ntracked == LOOPWATCH_TRACK_MAX)
        return;
    tracked[ntracked].what = what;
    tracked[ntracked].counter = counter;
    tracked[ntracked].seen = *counter;
    ntracked++;
}

/* "412 registrations, 1024 reads" from this iteration's deltas, or
 * "nothing it counts" (a call that blocked, or work nobody tracks). */
static void lw_describe(const uint64_t *did, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t i = 0; i < ntracked && n < cap; i++) {
        if (!did[i])
            continue;
        int k =
            snprintf(out + n, cap - n, "%s%" PRIu64 " %s", n ? ", " : "", did[i], tracked[i].what);
        if (k < 0)
            break;
        n += (size_t)k;
    }
    if (!n)
        snprintf(out, cap, "nothing it counts");
}

static void lw_on_prepare(uv_prepare_t *h)
{
    uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(h->loop);
    uint64_t did[LOOPWATCH_TRACK_MAX];
    for (size_t i = 0; i < ntracked; i++) {
        uint64_t v = *tracked[i].counter;
        did[i] = v - tracked[i].seen;
        tracked[i].seen = v;
    }
    if (lw.last_ns) {
        uint64_t gap = now - lw.last_ns, slept = idle - lw.last_idle_ns;
        uint64_t busy = gap > slept ? gap - slept : 0;
        lw.st.iterations++;
        if (busy / 1000 > lw.st.busy_max_us) {
            lw.st.busy_max_us = busy / 1000;
            lw_describe(did, lw.st.busiest_did, sizeof lw.st.busiest_did);
        }
        if (busy > lw.stall_ns) {
            lw.st.stalls++;
            unsigned dropped;
            if (log_limit_pass(&lw.warn, 1, LOOPWATCH_WARN_EVERY_S, &dropped)) {
                char what[sizeof lw.st.busiest_did];
                lw_describe(did, what, sizeof what);
                log_warn("one turn of the event loop took %llu ms: every client waited that "
                         "long (in it: %s)%s",
                         (unsigned long long)(busy / 1000000), what, log_dropped_note(dropped));
            }
        }
    }
    lw.last_ns = now;
    lw.last_idle_ns = idle;
}

int loopwatch_start(uv_loop_t *loop, unsigned stall_ms)
{
    if (lw.active)
        return UV_EBUSY;
    memset(&lw, 0, sizeof lw);
    for (size_t i = 0; i < ntracked; i++)
        tracked[i].seen = *tracked[i].counter;
    int rc = uv_loop_configure(loop, UV_METRICS_IDLE_TIME);
    if (rc != 0)
        return rc;
    lw.loop = loop;
    lw.stall_ns = (uint64_t)stall_ms * 1000000ULL;
    uv_prepare_init(loop, &lw.prepare);
    uv_prepare_start(&lw.prepare, lw_on_prepare);
    uv_unref((uv_handle_t *)&lw.prepare);
    lw.active = true;
    return 0;
}

void loopwatch_stop(void)
{
    if (!lw.active)
        return;
    uv_prepare_stop(&lw.prepare);
    uv_close((uv_handle_t *)&lw.prepare, NULL);
    lw.active = false;
}

void loopwatch_get(struct loopwatch_stats *out)
{
    *out = lw.st;
}
