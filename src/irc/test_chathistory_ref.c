/*
 * test_chathistory_ref.c - unit tests for irc/chathistory_ref.c.
 *
 * Covers the server-time grammar (fractions, the calendar, refusals of
 * what sscanf used to let through: signs, spaces, 2024-02-31, second 60),
 * the three reference kinds and where each is allowed, and the limit.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irc/chathistory_ref.h"

static void test_time_valid(void **state)
{
    (void)state;
    assert_int_equal(chathistory_parse_time("1970-01-01T00:00:00Z"), 0);
    assert_int_equal(chathistory_parse_time("1970-01-01T00:00:01.5Z"), 1500);
    assert_int_equal(chathistory_parse_time("1970-01-01T00:00:01.123456Z"), 1123);
    assert_int_equal(chathistory_parse_time("2024-02-29T12:00:00.000Z"), 1709208000000LL);
    assert_int_equal(chathistory_parse_time("2000-02-29T00:00:00Z"), 951782400000LL);
}

/* Regressions (fuzz_chathistory_ref): the sscanf parser accepted signs and
 * spaces inside fields and let timegm normalise impossible dates, so a
 * reference could name another instant than its text. */
static void test_time_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "",
        "2024-02-31T00:00:00Z", /* was 2 March */
        "2023-02-29T00:00:00Z", /* not a leap year */
        "1900-02-29T00:00:00Z",
        "2024-04-31T00:00:00Z",
        "2024-01-01T-1:00:00Z", /* was 23:00 the day before */
        "2024-01-01T00:00:-1Z",
        "2024-+1-01T00:00:00Z",
        "2024- 1-01T00:00:00Z",
        " 2024-01-01T00:00:00Z",
        "2024-01-01T00:00:60Z", /* a leap second the server never writes */
        "2024-01-01T24:00:00Z",
        "2024-13-01T00:00:00Z",
        "2024-00-01T00:00:00Z",
        "2024-01-00T00:00:00Z",
        "1969-12-31T23:59:59Z",
        "2024-01-01T00:00:00",
        "2024-01-01T00:00:00.Z",
        "2024-01-01T00:00:00ZZ",
        "2024-01-01 00:00:00Z",
        "2024-01-01T00:00:00+08:00",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(chathistory_parse_time(bad[i]), -1);
}

static void test_refs(void **state)
{
    (void)state;
    struct chathistory_ref r;
    assert_true(chathistory_parse_ref("*", true, true, &r));
    assert_int_equal(r.type, CHATHISTORY_REF_STAR);
    assert_false(chathistory_parse_ref("*", false, true, &r));
    assert_true(chathistory_parse_ref("TimeStamp=1970-01-01T00:00:02Z", false, false, &r));
    assert_int_equal(r.type, CHATHISTORY_REF_TIME);
    assert_int_equal(r.at, 2000);
    assert_false(chathistory_parse_ref("timestamp=2024-02-30T00:00:00Z", false, true, &r));
    assert_true(chathistory_parse_ref("msgid=abc", false, true, &r));
    assert_int_equal(r.type, CHATHISTORY_REF_MSGID);
    assert_string_equal(r.msgid, "abc");
    assert_false(chathistory_parse_ref("msgid=abc", true, false, &r));
    assert_false(chathistory_parse_ref("msgid=", true, true, &r));
    char id[80] = "msgid=";
    memset(id + 6, 'x', CHATHISTORY_MSGID_MAX);
    assert_true(chathistory_parse_ref(id, false, true, &r));
    id[6 + CHATHISTORY_MSGID_MAX] = 'x';
    assert_false(chathistory_parse_ref(id, false, true, &r));
    assert_false(chathistory_parse_ref("id=abc", true, true, &r));
}

static void test_limit(void **state)
{
    (void)state;
    assert_int_equal(chathistory_parse_limit("5", 1000), 5);
    assert_int_equal(chathistory_parse_limit("5000", 1000), 1000);
    assert_int_equal(chathistory_parse_limit("99999999999999999999999", 1000), 1000);
    assert_int_equal(chathistory_parse_limit("0", 1000), -1);
    assert_int_equal(chathistory_parse_limit("", 1000), -1);
    assert_int_equal(chathistory_parse_limit("+5", 1000), -1);
    assert_int_equal(chathistory_parse_limit(" 5", 1000), -1);
    assert_int_equal(chathistory_parse_limit("-5", 1000), -1);
    assert_int_equal(chathistory_parse_limit("5x", 1000), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_time_valid),
        cmocka_unit_test(test_time_refused),
        cmocka_unit_test(test_refs),
        cmocka_unit_test(test_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
