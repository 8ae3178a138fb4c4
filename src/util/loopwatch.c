/*
 * loopwatch.c - the length of each event-loop iteration; see loopwatch.h.
 */
#include "util/loopwatch.h"

#include <stdbool.h>
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

static void lw_on_prepare(uv_prepare_t *h)
{
    uint64_t now = uv_hrtime(), idle = uv_metrics_idle_time(h->loop);
    if (lw.last_ns) {
        uint64_t gap = now - lw.last_ns, slept = idle - lw.last_idle_ns;
        uint64_t busy = gap > slept ? gap - slept : 0;
        lw.st.iterations++;
        if (busy / 1000 > lw.st.busy_max_us)
            lw.st.busy_max_us = busy / 1000;
        if (busy > lw.stall_ns) {
            lw.st.stalls++;
            unsigned dropped;
            if (log_limit_pass(&lw.warn, 1, LOOPWATCH_WARN_EVERY_S, &dropped))
                log_warn("one turn of the event loop took %llu ms: every client waited that "
                         "long%s",
                         (unsigned long long)(busy / 1000000), log_dropped_note(dropped));
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
