/*
 * test_loopwatch.c - the loop watch on a real libuv loop: a callback that
 * blocks counts as a stall, time the loop spends waiting in its poll does
 * not, and the watch neither keeps the loop alive nor leaves a handle.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/loopwatch.h"

#define STALL_MS 80

static int fired;
static uint64_t widgets, gadgets, untouched; /* counters the watch tracks */

/* Works (sleeps, which is not polling) for the timer's data in ms, and
 * makes as many widgets; the first blocking one also makes 3 gadgets. */
static void on_work(uv_timer_t *t)
{
    uintptr_t ms = (uintptr_t)t->data;
    usleep((useconds_t)ms * 1000);
    widgets += ms;
    if (ms > STALL_MS && !gadgets)
        gadgets = 3;
    fired++;
}

/* Sleeps for the timer's data in ms and counts nothing. */
static void on_sleep(uv_timer_t *t)
{
    usleep((useconds_t)(uintptr_t)t->data * 1000);
}

static void test_blocking_callbacks_count_waiting_does_not(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    widgets = 1000; /* what happened before the watch is not the first turn's */
    loopwatch_track("widgets", &widgets);
    loopwatch_track("gadgets", &gadgets);
    loopwatch_track("widgets again", &widgets); /* the same counter: ignored */
    loopwatch_track("untouched things", &untouched);
    assert_int_equal(loopwatch_start(&loop, STALL_MS), 0);
    assert_int_equal(loopwatch_start(&loop, STALL_MS), UV_EBUSY);

    /* five short callbacks, 150 ms of pure waiting, then two that block
     * past the threshold, 300 ms apart */
    uv_timer_t t[7];
    const unsigned due[7] = {10, 20, 30, 40, 50, 200, 500};
    const uintptr_t work[7] = {2, 2, 2, 2, 2, STALL_MS + 70, STALL_MS + 40};
    for (int i = 0; i < 7; i++) {
        uv_timer_init(&loop, &t[i]);
        t[i].data = (void *)work[i];
        uv_timer_start(&t[i], on_work, due[i], 0);
    }
    /* returns when the timers are done: the watch holds no reference */
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(fired, 7);

    struct loopwatch_stats st;
    loopwatch_get(&st);
    assert_int_equal(st.stalls, 2);
    assert_true(st.busy_max_us >= (STALL_MS + 70) * 1000);
    assert_true(st.busy_max_us < 2000 * 1000);
    assert_true(st.iterations >= 6);
    /* the longest turn ran the 150 ms callback alone: its widgets and the
     * gadgets, in the order tracked, and no counter that did not move */
    assert_string_equal(st.busiest_did, "150 widgets, 3 gadgets");

    for (int i = 0; i < 7; i++)
        uv_close((uv_handle_t *)&t[i], NULL);
    loopwatch_stop();
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

/* A turn that blocks without moving any tracked counter says so. */
static void test_untracked_work_is_named_as_such(void **state)
{
    (void)state;
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(loopwatch_start(&loop, STALL_MS), 0);
    uv_timer_t t;
    uv_timer_init(&loop, &t);
    t.data = (void *)(uintptr_t)(STALL_MS + 20);
    uv_timer_start(&t, on_sleep, 5, 0);
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    struct loopwatch_stats st;
    loopwatch_get(&st);
    assert_int_equal(st.stalls, 1);
    assert_string_equal(st.busiest_did, "nothing it counts");
    uv_close((uv_handle_t *)&t, NULL);
    loopwatch_stop();
    assert_int_equal(uv_run(&loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_blocking_callbacks_count_waiting_does_not),
        cmocka_unit_test(test_untracked_work_is_named_as_such),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
