/*
 * test_idcheck.c - unit tests for identity/idcheck.c.
 *
 * Check characters are computed here with the iterative form of ISO 7064
 * MOD 11-2 (p = (p + digit) * 2 mod 11 over the 17 digits; check =
 * (12 - p) mod 11), which is independent of the weight table in idcheck.c.
 * The fixed vectors were computed the same way by hand/script, and
 * 11010519491231002X is the worked example printed in GB 11643-1999.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "identity/idcheck.h"

/* 2026-11-30 00:00:00 UTC */
#define NOW INT64_C(1795996800)

static char out[IDCHECK_MAX + 1];

static enum idcheck_result check(enum iddoc_type t, const char *s)
{
    return idcheck_document(t, s, strlen(s), NOW, out);
}

static enum idcheck_result check_at(enum iddoc_type t, const char *s, int64_t now)
{
    return idcheck_document(t, s, strlen(s), now, out);
}

/* Appends the check character to 17 digits (iterative ISO 7064). */
static void with_check(const char *body, char id[19])
{
    int p = 0;
    for (int i = 0; i < 17; i++)
        p = ((p + (body[i] - '0')) * 2) % 11;
    int c = (12 - p) % 11;
    memcpy(id, body, 17);
    id[17] = c == 10 ? 'X' : (char)('0' + c);
    id[18] = '\0';
}

static enum idcheck_result resident(const char *body17, int64_t now)
{
    char id[19];
    with_check(body17, id);
    return check_at(IDDOC_CN_RESIDENT_ID, id, now);
}

static void test_mod11_2_vectors(void **state)
{
    (void)state;
    assert_int_equal(idcheck_mod11_2("11010519491231002"), 'X');
    assert_int_equal(idcheck_mod11_2("44030419900101001"), '1');
    assert_int_equal(idcheck_mod11_2("32010219800101123"), '8');
    assert_int_equal(idcheck_mod11_2("31011519850615321"), '5');
    assert_int_equal(idcheck_mod11_2("1101051949123100A"), '\0');
    /* Every body agrees with the independent iterative form. */
    char body[18], id[19];
    for (int k = 0; k < 1000; k++) {
        snprintf(body, sizeof body, "3201021980%07d", k * 7919 % 10000000);
        with_check(body, id);
        assert_int_equal(idcheck_mod11_2(body), id[17]);
    }
}

static void test_resident_valid(void **state)
{
    (void)state;
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "11010519491231002X"), IDCHECK_OK);
    assert_string_equal(out, "11010519491231002X");
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "440304199001010011"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "320102198001011238"), IDCHECK_OK);
    /* Lower-case x, spaces, full-width digits and an ideographic space. */
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, " 110105 19491231 002x "), IDCHECK_OK);
    assert_string_equal(out, "11010519491231002X");
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "\xef\xbc\x91\xef\xbc\x91"
                                                 "0105\xe3\x80\x80"
                                                 "19491231002\xef\xbd\x98"),
                     IDCHECK_OK);
    assert_string_equal(out, "11010519491231002X");
    /* Residence permits of HK (81), Macao (82), Taiwan (83) residents. */
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "810000198001010014"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "830000199001010039"), IDCHECK_OK);
}

static void test_resident_check_char(void **state)
{
    (void)state;
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "110105194912310020"), IDCHECK_BAD_CHECK);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "440304199001010012"), IDCHECK_BAD_CHECK);
    /* X where a digit belongs, and a transposition. */
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "44030419900101001X"), IDCHECK_BAD_CHECK);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "320102198001012138"), IDCHECK_BAD_CHECK);
    /* Every other last character for one body is refused. */
    const char *alts = "0123456789X";
    char id[19] = "32010219800101123?";
    for (const char *a = alts; *a; a++) {
        id[17] = *a;
        assert_int_equal(check(IDDOC_CN_RESIDENT_ID, id),
                         *a == '8' ? IDCHECK_OK : IDCHECK_BAD_CHECK);
    }
}

static void test_resident_format(void **state)
{
    (void)state;
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, ""), IDCHECK_EMPTY);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "   "), IDCHECK_EMPTY);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "11010519491231002"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "11010519491231002XX"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "X10105194912310020"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "11010519491231002-"), IDCHECK_BAD_CHAR);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "1101051949123100\xe4\xb8\x80"), IDCHECK_BAD_CHAR);
    /* Old 15-digit numbers are no longer valid cards. */
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "110105491231002"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "123456789012345678901"), IDCHECK_TOO_LONG);
}

static void test_resident_region(void **state)
{
    (void)state;
    static const char *bad[] = {"00", "10", "16", "20", "24", "30", "38", "40", "47", "49",
                                "55", "60", "66", "71", "80", "84", "90", "91", "99"};
    static const char *good[] = {"11", "15", "21", "23", "31", "37",
                                 "41", "46", "50", "54", "61", "65"};
    char body[18];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(body, sizeof body, "%s010519800101001", bad[i]);
        assert_int_equal(resident(body, NOW), IDCHECK_BAD_REGION);
    }
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        snprintf(body, sizeof body, "%s010519800101001", good[i]);
        assert_int_equal(resident(body, NOW), IDCHECK_OK);
    }
    /* Residence permits: the whole address code is 810000/820000/830000. */
    assert_int_equal(resident("82000019800101001", NOW), IDCHECK_OK);
    assert_int_equal(resident("81010019800101001", NOW), IDCHECK_BAD_REGION);
    assert_int_equal(resident("83000119800101001", NOW), IDCHECK_BAD_REGION);
}

static void test_resident_dates(void **state)
{
    (void)state;
    /* 29 February: leap years 2000 (div by 400) and 2004; not 1900 (div
     * by 100) or 2023. */
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "110101200002290018"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "110101200402290025"), IDCHECK_OK);
    assert_int_equal(resident("11010119000229001", NOW), IDCHECK_BAD_DATE);
    assert_int_equal(resident("11010120230229001", NOW), IDCHECK_BAD_DATE);
    assert_int_equal(resident("11010120240229001", NOW), IDCHECK_OK);
    assert_int_equal(resident("11010120230230001", NOW), IDCHECK_BAD_DATE);
    assert_int_equal(resident("11010119800431001", NOW), IDCHECK_BAD_DATE);
    assert_int_equal(resident("11010119801301001", NOW), IDCHECK_BAD_DATE);
    assert_int_equal(resident("11010119800001001", NOW), IDCHECK_BAD_DATE);
    assert_int_equal(resident("11010119800100001", NOW), IDCHECK_BAD_DATE);
    assert_int_equal(resident("11010119801231001", NOW), IDCHECK_OK);
    /* Range: 1900-01-01 is the first accepted day. */
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "11010519000101001X"), IDCHECK_OK);
    assert_int_equal(resident("11010518991231001", NOW), IDCHECK_DATE_TOO_OLD);
    assert_int_equal(resident("11010500000101001", NOW), IDCHECK_DATE_TOO_OLD);
}

static void test_resident_future(void **state)
{
    (void)state;
    /* NOW is 2026-11-30 08:00 in Beijing. */
    assert_int_equal(resident("11010120261130001", NOW), IDCHECK_OK);
    assert_int_equal(resident("11010120261201001", NOW), IDCHECK_DATE_FUTURE);
    assert_int_equal(resident("11010120270101001", NOW), IDCHECK_DATE_FUTURE);
    assert_int_equal(resident("11010199991231001", NOW), IDCHECK_DATE_FUTURE);
    /* The day turns at midnight UTC+8: 2024-03-01 00:00 CST is
     * 2024-02-29 16:00 UTC. */
    assert_int_equal(resident("11010120240301001", INT64_C(1709222400)), IDCHECK_OK);
    assert_int_equal(resident("11010120240301001", INT64_C(1709222399)), IDCHECK_DATE_FUTURE);
    /* Before the epoch: 1970-01-01 00:00 CST. */
    assert_int_equal(resident("11010119700101001", INT64_C(-28800)), IDCHECK_OK);
    assert_int_equal(resident("11010119700101001", INT64_C(-28801)), IDCHECK_DATE_FUTURE);
}

static void test_passport_cn(void **state)
{
    (void)state;
    static const char *ok[] = {"E12345678", "EA1234567", "EZ0000001",   "G12345678",
                               "141234567", "151234567", "DE1234567",   "SE1234567",
                               "PE1234567", "S12345678", "K12345678",   "H12345678",
                               "KJ1234567", "MA1234567", "e 1234 5678", "ef1260892"};
    static const char *bad[] = {"E1234567",  "E123456789", "EI1234567", "EO1234567",
                                "A12345678", "161234567",  "EAB123456", "12345678",
                                "E1234567X", "DE12345678", "MA12345678"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        assert_int_equal(check(IDDOC_PASSPORT_CN, ok[i]), IDCHECK_OK);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        assert_int_equal(check(IDDOC_PASSPORT_CN, bad[i]), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_PASSPORT_CN, "E1234567."), IDCHECK_BAD_CHAR);
}

static void test_passport_other(void **state)
{
    (void)state;
    assert_int_equal(check(IDDOC_PASSPORT_OTHER, "C01X00T47"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_PASSPORT_OTHER, "123456789"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_PASSPORT_OTHER, "a1234"), IDCHECK_OK);
    assert_string_equal(out, "A1234");
    assert_int_equal(check(IDDOC_PASSPORT_OTHER, "12345678901234567890"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_PASSPORT_OTHER, "A123"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_PASSPORT_OTHER, "PASSPORT"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_PASSPORT_OTHER, "123456789012345678901"), IDCHECK_TOO_LONG);
    assert_int_equal(check(IDDOC_PASSPORT_OTHER, "AB-123456"), IDCHECK_BAD_CHAR);
    assert_int_equal(check(IDDOC_PASSPORT_OTHER, "AB<123456"), IDCHECK_BAD_CHAR);
}

static void test_hkmo(void **state)
{
    (void)state;
    assert_int_equal(check(IDDOC_HKMO_PERMIT, "C12345678"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_HKMO_PERMIT, "CA0000001"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_HKMO_PERMIT, "W12345678"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_HKMO_PERMIT, "CI0000001"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_HKMO_PERMIT, "C1234567"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_HKMO_PERMIT, "WA1234567"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_HKMO_PERMIT, "E12345678"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_HKMO_HOME_RETURN, "H12345678"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_HKMO_HOME_RETURN, "M1234567801"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_HKMO_HOME_RETURN, "h 1234 5678"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_HKMO_HOME_RETURN, "H123456789"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_HKMO_HOME_RETURN, "C12345678"), IDCHECK_BAD_FORMAT);
}

static void test_taiwan(void **state)
{
    (void)state;
    assert_int_equal(check(IDDOC_TW_COMPATRIOT, "12345678"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_TW_COMPATRIOT, "1234567801"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_TW_COMPATRIOT, "1234567801(B)"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_TW_COMPATRIOT, "12345678(01)"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_TW_COMPATRIOT, "1234567801\xef\xbc\x88"
                                                "b\xef\xbc\x89"),
                     IDCHECK_OK);
    assert_string_equal(out, "1234567801(B)");
    assert_int_equal(check(IDDOC_TW_COMPATRIOT, "1234567"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_TW_COMPATRIOT, "123456789"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_TW_COMPATRIOT, "12345678()"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_TW_COMPATRIOT, "F290299977"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_TW_PERMIT, "L12345678"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_TW_PERMIT, "T12345678"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_TW_PERMIT, "L1234567"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_TW_PERMIT, "12345678"), IDCHECK_BAD_FORMAT);
    /* Parentheses belong to the Taiwan compatriot permit only. */
    assert_int_equal(check(IDDOC_TW_PERMIT, "L1234567(8)"), IDCHECK_BAD_CHAR);
}

static void test_foreign_pr(void **state)
{
    (void)state;
    assert_int_equal(check(IDDOC_FOREIGN_PR, "USA110080101001"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_FOREIGN_PR, "gbr 3100 9012 3101"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_FOREIGN_PR, "US1100801010010"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_FOREIGN_PR, "USA11008010100"), IDCHECK_BAD_FORMAT);
    /* 2023 version: '9' + 16 digits + MOD 11-2. */
    assert_int_equal(check(IDDOC_FOREIGN_PR, "912345202301010028"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_FOREIGN_PR, "901100000200000013"), IDCHECK_OK);
    assert_int_equal(check(IDDOC_FOREIGN_PR, "912345202301010020"), IDCHECK_BAD_CHECK);
    /* A resident ID is not a permanent residence card, and vice versa. */
    assert_int_equal(check(IDDOC_FOREIGN_PR, "11010519491231002X"), IDCHECK_BAD_FORMAT);
    assert_int_equal(check(IDDOC_CN_RESIDENT_ID, "912345202301010028"), IDCHECK_BAD_REGION);
}

static void test_normalise(void **state)
{
    (void)state;
    char buf[8];
    assert_int_equal(idcheck_normalise(" a b\tc\r\n", 8, buf, sizeof buf), 3);
    assert_string_equal(buf, "ABC");
    assert_int_equal(idcheck_normalise("abcdefgh", 8, buf, sizeof buf), -1);
    assert_string_equal(buf, "");
    assert_int_equal(idcheck_normalise("abcdefg", 7, buf, sizeof buf), 7);
    /* A truncated full-width sequence is kept as bytes, not read past. */
    assert_int_equal(idcheck_normalise("\xef\xbc", 2, buf, sizeof buf), 2);
    /* Idempotent on canonical numbers. */
    assert_int_equal(idcheck_normalise("E12345", 6, buf, sizeof buf), 6);
    assert_string_equal(buf, "E12345");
    char big[IDCHECK_RAW_MAX + 1];
    memset(big, ' ', sizeof big);
    assert_int_equal(idcheck_normalise(big, sizeof big, buf, sizeof buf), -1);
    assert_int_equal(idcheck_normalise(big, IDCHECK_RAW_MAX, buf, sizeof buf), 0);
}

static void test_names_and_sentences(void **state)
{
    (void)state;
    enum iddoc_type t;
    for (int i = 0; i < IDDOC_COUNT; i++) {
        assert_true(idcheck_type_parse(idcheck_type_name((enum iddoc_type)i), &t));
        assert_int_equal(t, i);
    }
    assert_false(idcheck_type_parse("driving-licence", &t));
    assert_string_equal(idcheck_type_name(IDDOC_COUNT), "unknown");
    for (int r = IDCHECK_OK; r <= IDCHECK_BAD_TYPE + 1; r++) {
        assert_non_null(idcheck_result_sentence((enum idcheck_result)r));
        assert_non_null(idcheck_result_code((enum idcheck_result)r));
    }
    assert_string_equal(idcheck_result_code(IDCHECK_BAD_CHECK), "BAD_CHECK_CHARACTER");
    assert_int_equal(idcheck_document(IDDOC_COUNT, "x", 1, NOW, out), IDCHECK_BAD_TYPE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mod11_2_vectors),
        cmocka_unit_test(test_resident_valid),
        cmocka_unit_test(test_resident_check_char),
        cmocka_unit_test(test_resident_format),
        cmocka_unit_test(test_resident_region),
        cmocka_unit_test(test_resident_dates),
        cmocka_unit_test(test_resident_future),
        cmocka_unit_test(test_passport_cn),
        cmocka_unit_test(test_passport_other),
        cmocka_unit_test(test_hkmo),
        cmocka_unit_test(test_taiwan),
        cmocka_unit_test(test_foreign_pr),
        cmocka_unit_test(test_normalise),
        cmocka_unit_test(test_names_and_sentences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
