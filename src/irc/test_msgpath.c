/*
 * test_msgpath.c - unit tests for the pure part of irc/msgpath.c: parsing
 * a STATUSMSG target ("@#chan") into its member-prefix filter and the
 * channel name.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irc/channel.h"
#include "irc/msgpath.h"

static void test_no_prefix(void **state)
{
    (void)state;
    uint8_t mask = 0xff;
    const char *t = "#chan";
    assert_ptr_equal(msgpath_status_parse(t, &mask), t);
    assert_int_equal(mask, 0);
    t = "nick";
    assert_ptr_equal(msgpath_status_parse(t, &mask), t);
    assert_int_equal(mask, 0);
    assert_string_equal(msgpath_status_parse("", &mask), "");
    assert_int_equal(mask, 0);
}

/* Each prefix reaches its own rank and every higher one. */
static void test_single_prefix(void **state)
{
    (void)state;
    uint8_t mask;
    assert_string_equal(msgpath_status_parse("~#c", &mask), "#c");
    assert_int_equal(mask, MEMBER_OWNER);
    assert_string_equal(msgpath_status_parse("@#c", &mask), "#c");
    assert_int_equal(mask, MEMBER_OWNER | MEMBER_OP);
    assert_string_equal(msgpath_status_parse("+#c", &mask), "#c");
    assert_int_equal(mask, MEMBER_OWNER | MEMBER_OP | MEMBER_VOICE);
}

/* Several prefixes reach the union, i.e. the lowest rank given. */
static void test_several_prefixes(void **state)
{
    (void)state;
    uint8_t mask;
    assert_string_equal(msgpath_status_parse("@+#c", &mask), "#c");
    assert_int_equal(mask, MEMBER_OWNER | MEMBER_OP | MEMBER_VOICE);
    assert_string_equal(msgpath_status_parse("~@#c", &mask), "#c");
    assert_int_equal(mask, MEMBER_OWNER | MEMBER_OP);
}

/* A prefix without a channel after it leaves the rest to the caller
 * (which then treats it as a nick and finds none). */
static void test_prefix_only_or_nick(void **state)
{
    (void)state;
    uint8_t mask;
    assert_string_equal(msgpath_status_parse("@", &mask), "");
    assert_int_equal(mask, MEMBER_OWNER | MEMBER_OP);
    assert_string_equal(msgpath_status_parse("@nick", &mask), "nick");
    assert_string_equal(msgpath_status_parse("#@c", &mask), "#@c");
    assert_int_equal(mask, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_prefix),
        cmocka_unit_test(test_single_prefix),
        cmocka_unit_test(test_several_prefixes),
        cmocka_unit_test(test_prefix_only_or_nick),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
