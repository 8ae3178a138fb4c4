/*
 * test_phone.c - unit tests for identity/phone.c.
 *
 * Numbers are from ranges set aside for drama/examples where one exists
 * (UK 07700 900xxx, US 555-01xx); mainland examples are shaped like real
 * mobiles but are not anyone's in particular.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "identity/phone.h"

static char out[PHONE_MAX + 1];

static enum phone_result norm(const char *s)
{
    return phone_normalise(s, strlen(s), out);
}

static void normalises_to(const char *in, const char *want)
{
    assert_int_equal(norm(in), PHONE_OK);
    assert_string_equal(out, want);
    assert_int_equal(phone_validate_e164(out, strlen(out)), PHONE_OK);
}

static void test_spellings_of_one_number(void **state)
{
    (void)state;
    normalises_to("+8613800138000", "+8613800138000");
    normalises_to("+86 138 0013 8000", "+8613800138000");
    normalises_to("+86-138-0013-8000", "+8613800138000");
    normalises_to("008613800138000", "+8613800138000");
    normalises_to("13800138000", "+8613800138000");
    normalises_to("8613800138000", "+8613800138000");
    normalises_to(" 138 0013 8000 ", "+8613800138000");
    /* Full-width digits and plus, ideographic space. */
    normalises_to("\xef\xbc\x8b\xef\xbc\x98\xef\xbc\x96\xe3\x80\x80"
                  "13800138000",
                  "+8613800138000");
}

static void test_other_countries(void **state)
{
    (void)state;
    normalises_to("+44 7700 900123", "+447700900123");
    normalises_to("+1 (202) 555-0143", "+12025550143");
    normalises_to("001 202 555 0143", "+12025550143");
    normalises_to("+852 5123 4567", "+85251234567");
    normalises_to("+886 912 345 678", "+886912345678");
    normalises_to("+49.30.901820", "+4930901820");
    /* 15 digits is the E.164 maximum; 8 the minimum we accept. */
    normalises_to("+123456789012345", "+123456789012345");
    normalises_to("+12345678", "+12345678");
}

static void test_refusals(void **state)
{
    (void)state;
    assert_int_equal(norm(""), PHONE_EMPTY);
    assert_int_equal(norm(" - "), PHONE_EMPTY);
    assert_int_equal(norm("+1234567"), PHONE_TOO_SHORT);
    assert_int_equal(norm("+1234567890123456"), PHONE_TOO_LONG);
    assert_int_equal(norm("001234567890123456"), PHONE_TOO_LONG);
    assert_int_equal(norm("+12345678901234567890123"), PHONE_TOO_LONG);
    assert_int_equal(norm("+0123456789"), PHONE_BAD_COUNTRY);
    assert_int_equal(norm("000123456789"), PHONE_BAD_COUNTRY);
    assert_int_equal(norm("2025550143"), PHONE_NEED_COUNTRY);
    assert_int_equal(norm("07700900123"), PHONE_NEED_COUNTRY);
    assert_int_equal(norm("12800138000"), PHONE_NEED_COUNTRY); /* 12x is no mobile */
    assert_int_equal(norm("+44 7700 9OO123"), PHONE_BAD_CHAR);
    assert_int_equal(norm("++447700900123"), PHONE_BAD_CHAR);
    assert_int_equal(norm("44+7700900123"), PHONE_BAD_CHAR);
    assert_int_equal(norm("+447700900123\n"), PHONE_BAD_CHAR);
    assert_string_equal(out, "");
    char big[PHONE_RAW_MAX + 1];
    memset(big, ' ', sizeof big);
    assert_int_equal(phone_normalise(big, sizeof big, out), PHONE_TOO_LONG);
}

static void test_cn_mobile_only(void **state)
{
    (void)state;
    /* Fixed lines (Beijing 010) cannot take an SMS code. */
    assert_int_equal(norm("+86 10 6552 9988"), PHONE_NOT_CN_MOBILE);
    assert_int_equal(norm("+86 12800138000"), PHONE_NOT_CN_MOBILE);
    assert_int_equal(norm("+86 1380013800"), PHONE_NOT_CN_MOBILE);
    assert_int_equal(norm("+86 138001380001"), PHONE_NOT_CN_MOBILE);
    static const char *prefixes = "3456789";
    char num[16];
    for (const char *p = prefixes; *p; p++) {
        memcpy(num, "+861X800138000", 15);
        num[4] = *p;
        assert_int_equal(norm(num), PHONE_OK);
    }
}

static void test_validate_stored(void **state)
{
    (void)state;
    assert_int_equal(phone_validate_e164("+8613800138000", 14), PHONE_OK);
    assert_int_equal(phone_validate_e164("8613800138000", 13), PHONE_NEED_COUNTRY);
    assert_int_equal(phone_validate_e164("+86 13800138000", 15), PHONE_BAD_CHAR);
    assert_int_equal(phone_validate_e164("", 0), PHONE_EMPTY);
    assert_int_equal(phone_validate_e164("+", 1), PHONE_TOO_SHORT);
    assert_string_equal(phone_result_code(PHONE_NOT_CN_MOBILE), "NOT_MOBILE");
    for (int r = PHONE_OK; r <= PHONE_NOT_CN_MOBILE + 1; r++) {
        assert_non_null(phone_result_sentence((enum phone_result)r));
        assert_non_null(phone_result_code((enum phone_result)r));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spellings_of_one_number),
        cmocka_unit_test(test_other_countries),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_cn_mobile_only),
        cmocka_unit_test(test_validate_stored),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
