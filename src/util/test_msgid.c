/*
 * test_msgid.c - unit tests for util/msgid.c: counter ids sort in the
 * order they are made, start with the process's start time, stay within
 * their bound and are cut, not overrun, by a short buffer; log ids name
 * their seq and nothing else decodes as one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "util/msgid.h"

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

/* Log ids round-trip through msgid_seq over every width, sort by seq,
 * share the counter ids' prefix and fit MSGID_MAX. */
static void test_log_ids_name_their_seq(void **state)
{
    (void)state;
    char id[MSGID_MAX + 1], prev[MSGID_MAX + 1] = "", counter[MSGID_MAX + 1];
    msgid_new(counter, sizeof counter);
    int64_t seqs[] = {1, 2, 31, 32, 33, 1000, 1 << 20, 123456789012, INT64_MAX - 1, INT64_MAX};
    for (size_t i = 0; i < sizeof seqs / sizeof seqs[0]; i++) {
        size_t n = msgid_for_seq(seqs[i], id, sizeof id);
        assert_int_equal(n, strlen(id));
        assert_true(n <= MSGID_MAX);
        assert_int_equal(id[0], MSGID_MARK);
        assert_memory_equal(id + 1, counter, MSGID_PREFIX_LEN);
        assert_true(strcmp(id, "2") < 0); /* below every counter id */
        assert_int_equal(msgid_seq(id), seqs[i]);
        if (i > 0 && strcmp(prev, id) >= 0)
            fail_msg("seq %lld: \"%s\" does not sort after \"%s\"", (long long)seqs[i], id, prev);
        memcpy(prev, id, sizeof id);
    }
    for (int64_t seq = 1; seq < 70000; seq += 7) {
        msgid_for_seq(seq, id, sizeof id);
        assert_int_equal(msgid_seq(id), seq);
    }
}

/* Counter ids (of this and every earlier format) and damaged log ids are
 * not log ids: msgid_seq gives 0, so the lookup goes to the index. */
static void test_other_ids_are_not_log_ids(void **state)
{
    (void)state;
    char id[MSGID_MAX + 1];
    for (int i = 0; i < 2000; i++) {
        msgid_new(id, sizeof id);
        assert_int_equal(msgid_seq(id), 0);
        assert_null(strchr(id, MSGID_MARK));
    }
    msgid_for_seq(1000, id, sizeof id); /* "1...4zc": a count, then two digits */
    char bad[MSGID_MAX + 8];
    const char *cases[] = {
        "",
        "1",
        "1abcdefghijkl",
        "1abcdefghijkl3",              /* a count of one, no digit */
        "1abcdefghijkl32",             /* a leading zero */
        "1abcdefghijkl42",             /* the count says two digits */
        "1abcdefghijkl3A",             /* not in the alphabet */
        "1abcdefghijkl4b",             /* the count, one digit short */
        "m0123456789abcdef",           /* loggen's ids before log ids */
        "abcdefghijkl3b",              /* a counter id */
        "1abcdefghijklhczzzzzzzzzzzz", /* 13 digits over 63 bits */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (msgid_seq(cases[i]) != 0)
            fail_msg("\"%s\" decoded as seq %lld", cases[i], (long long)msgid_seq(cases[i]));
    snprintf(bad, sizeof bad, "%sx", id); /* one digit too many */
    assert_int_equal(msgid_seq(bad), 0);
    snprintf(bad, sizeof bad, "%s", id);
    bad[0] = '2';
    assert_int_equal(msgid_seq(bad), 0);
    assert_int_equal(msgid_seq(id), 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_ids_name_their_seq),
        cmocka_unit_test(test_other_ids_are_not_log_ids),
        cmocka_unit_test(test_ids_sort_as_made),
        cmocka_unit_test(test_prefix_is_start_time),
        cmocka_unit_test(test_short_buffer),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
