/*
 * test_msgid.c - unit tests for msgid_new (irc/send.c): ids sort in the
 * order they are made (the log's msgid index then grows at its end), start
 * with the process's start time, stay within their bound and are cut, not
 * overrun, by a short buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "irc/send.h"

static const char digit[] = "234567abcdefghijklmnopqrstuvwxyz";

/* 40,000 ids cross the counter's widths of 1, 2, 3 and 4 digits. */
static void test_ids_sort_as_made(void **state)
{
    (void)state;
    char prev[32] = "", id[32];
    size_t maxlen = 0;
    for (int i = 0; i < 40000; i++) {
        size_t n = msgid_new(id, sizeof id);
        assert_int_equal(n, strlen(id));
        assert_true(n >= 14 && n <= 26);
        assert_int_equal(strspn(id, digit), n);
        if (i > 0 && strcmp(prev, id) >= 0)
            fail_msg("id %d: \"%s\" does not sort after \"%s\"", i, id, prev);
        if (i > 0)
            assert_memory_equal(prev, id, 12); /* one process, one prefix */
        memcpy(prev, id, sizeof id);
        maxlen = n > maxlen ? n : maxlen;
    }
    assert_int_equal(maxlen, 12 + 1 + 4); /* the width grew with the counter */
}

/* The first seven characters are the start time in seconds, so ids of a
 * later start sort after every id of an earlier one. */
static void test_prefix_is_start_time(void **state)
{
    (void)state;
    char id[32];
    msgid_new(id, sizeof id);
    uint64_t t = 0;
    for (int i = 0; i < 7; i++)
        t = t << 5 | (uint64_t)(strchr(digit, id[i]) - digit);
    uint64_t now = (uint64_t)time(NULL);
    assert_true(t <= now && now - t < 600);
}

static void test_short_buffer(void **state)
{
    (void)state;
    char id[8];
    memset(id, 'X', sizeof id);
    assert_int_equal(msgid_new(id, 5), 4);
    assert_int_equal(id[4], '\0');
    assert_int_equal(id[5], 'X');
    assert_int_equal(msgid_new(id, 1), 0);
    assert_int_equal(id[0], '\0');
    assert_int_equal(msgid_new(id, 0), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ids_sort_as_made),
        cmocka_unit_test(test_prefix_is_start_time),
        cmocka_unit_test(test_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
