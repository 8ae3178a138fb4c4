/*
 * test_log.c - the limit on lines a remote peer can cause at will:
 * log_limit_pass lets `max` lines through per window and counts the rest,
 * and log_dropped_note says that count in the next line that passes, and
 * nothing when there is none.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>
#include <time.h>

#include "util/log.h"

static void test_limit_counts_held_back(void **state)
{
    (void)state;
    struct log_limit l = {0};
    unsigned dropped = 99;
    assert_int_equal(log_limit_pass(&l, 2, 3600, &dropped), 1);
    assert_int_equal(dropped, 0);
    assert_int_equal(log_limit_pass(&l, 2, 3600, &dropped), 1);
    for (int i = 0; i < 5; i++)
        assert_int_equal(log_limit_pass(&l, 2, 3600, &dropped), 0);
    /* the window is over (as if it had started an hour ago): the next line
     * passes and carries the five held back */
    l.window_start -= 3600;
    assert_int_equal(log_limit_pass(&l, 2, 3600, &dropped), 1);
    assert_int_equal(dropped, 5);
    assert_int_equal(log_limit_pass(&l, 2, 3600, &dropped), 1);
    assert_int_equal(dropped, 0);
}

static void test_dropped_note(void **state)
{
    (void)state;
    assert_string_equal(log_dropped_note(0), "");
    assert_string_equal(log_dropped_note(7), " (7 more like it held back)");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_limit_counts_held_back),
        cmocka_unit_test(test_dropped_note),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
