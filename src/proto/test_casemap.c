/*
 * test_casemap.c - unit tests for proto/casemap.c.
 *
 * Expected folds are written as explicit UTF-8 bytes so a reader can check
 * them against CaseFolding.txt and the NFKC tables without trusting an
 * editor's rendering.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/casemap.h"

static char out[512];

/* Folds s and checks the exact bytes. */
static void fold_is(const char *s, const char *want)
{
    int n = casemap_fold(s, strlen(s), out, sizeof out);
    assert_int_equal(n, (int)strlen(want));
    assert_string_equal(out, want);
}

static bool nick(const char *s)
{
    return casemap_nick_valid(s, strlen(s), 30);
}

static bool chan(const char *s)
{
    return casemap_channel_valid(s, strlen(s), 50);
}

static void test_fold_ascii(void **state)
{
    (void)state;
    fold_is("Alice", "alice");
    fold_is("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz");
    /* Only A-Z change: RFC 1459's []\~ <-> {}|^ pairs are not equal. */
    fold_is("Nick[m]\\~^{}|_-`", "nick[m]\\~^{}|_-`");
    fold_is("#Qun-Dev", "#qun-dev");
    fold_is("", "");
    /* The Unicode path agrees with the ASCII fast path: an ASCII name
     * with one non-ASCII char appended folds the ASCII part alike. */
    fold_is("ABC\xc3\xa9", "abc\xc3\xa9");
}

static void test_fold_compat(void **state)
{
    (void)state;
    /* Ｆｕｌｌｗｉｄｔｈ (U+FF26 U+FF55 ...) -> fullwidth */
    fold_is("\xef\xbc\xa6\xef\xbd\x95\xef\xbd\x8c\xef\xbd\x8c\xef\xbd\x97"
            "\xef\xbd\x89\xef\xbd\x84\xef\xbd\x94\xef\xbd\x88",
            "fullwidth");
    fold_is("\xef\xac\x81", "fi");       /* U+FB01 ﬁ ligature */
    fold_is("\xe2\x91\xa0", "1");        /* U+2460 ① */
    fold_is("\xe2\x84\xaa", "k");        /* U+212A KELVIN SIGN */
    fold_is("\xe2\x84\xab", "\xc3\xa5"); /* U+212B ANGSTROM -> å */
}

static void test_fold_case(void **state)
{
    (void)state;
    /* German sharp s: full folding, ß -> ss. */
    fold_is("Stra\xc3\x9f"
            "e",
            "strasse");
    fold_is("STRASSE", "strasse");
    /* Greek: ΣΊΣΥΦΟΣ and σίσυφος (final sigma) both -> σίσυφοσ. */
    const char *greek = "\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x83";
    fold_is("\xce\xa3\xce\x8a\xce\xa3\xce\xa5\xce\xa6\xce\x9f\xce\xa3", greek);
    fold_is("\xcf\x83\xce\xaf\xcf\x83\xcf\x85\xcf\x86\xce\xbf\xcf\x82", greek);
    /* ᾳ (U+1FB3) -> αι under full folding. */
    fold_is("\xe1\xbe\xb3", "\xce\xb1\xce\xb9");
    /* Cyrillic: Саша -> саша */
    fold_is("\xd0\xa1\xd0\xb0\xd1\x88\xd0\xb0", "\xd1\x81\xd0\xb0\xd1\x88\xd0\xb0");
}

static void test_fold_canonical_and_han(void **state)
{
    (void)state;
    /* é precomposed and e + U+0301 fold to the same precomposed form. */
    fold_is("\xc3\xa9", "\xc3\xa9");
    fold_is("e\xcc\x81", "\xc3\xa9");
    fold_is("E\xcc\x81", "\xc3\xa9");
    /* Han is untouched: 小明, 龍 (no Traditional -> Simplified). */
    fold_is("\xe5\xb0\x8f\xe6\x98\x8e", "\xe5\xb0\x8f\xe6\x98\x8e");
    fold_is("\xe9\xbe\x8d", "\xe9\xbe\x8d");
    fold_is("#\xe6\xb5\x8b\xe8\xaf\x95", "#\xe6\xb5\x8b\xe8\xaf\x95");
    /* Fullwidth Latin inside a Chinese name still folds. */
    fold_is("\xe5\xb0\x8f\xe6\x98\x8e\xef\xbc\xa1", "\xe5\xb0\x8f\xe6\x98\x8e"
                                                    "a");
}

static void test_fold_errors(void **state)
{
    (void)state;
    char small[4];
    assert_int_equal(casemap_fold("\xff", 1, out, sizeof out), CASEMAP_ERR_INVALID);
    assert_int_equal(casemap_fold("a\xed\xa0\x80", 4, out, sizeof out), CASEMAP_ERR_INVALID);
    assert_int_equal(casemap_fold("a\0b", 3, out, sizeof out), CASEMAP_ERR_INVALID);
    assert_int_equal(casemap_fold("abcd", 4, small, sizeof small), CASEMAP_ERR_NOSPACE);
    assert_int_equal(casemap_fold("abc", 3, small, sizeof small), 3);
    /* ß grows to ss: 3 bytes + NUL do not fit in 3. */
    assert_int_equal(casemap_fold("\xc3\x9f"
                                  "a",
                                  3, small, 3),
                     CASEMAP_ERR_NOSPACE);
    /* U+FDFA expands to 18 code points (33 bytes). */
    assert_int_equal(casemap_fold("\xef\xb7\xba", 3, out, sizeof out), 33);
}

/* More than CASEMAP_FOLD_STACK code points takes the heap path. */
static void test_fold_long(void **state)
{
    (void)state;
    char in[3 * 300 + 1], want[3 * 300 + 1];
    for (int i = 0; i < 300; i++) {
        memcpy(in + 3 * i, "\xef\xbc\xa1", 3); /* Ａ */
        want[i] = 'a';
    }
    want[300] = '\0';
    int n = casemap_fold(in, 900, out, sizeof out);
    assert_int_equal(n, 300);
    assert_string_equal(out, want);
}

/* Four-byte characters that fold to themselves fill the code point buffer
 * completely when re-encoded; utf8proc then appends a NUL, which must land
 * inside the buffer (this once overran it by one byte). */
static void test_fold_four_byte_full(void **state)
{
    (void)state;
    static char in[4 * 400 + 1], big[4 * 400 + 1];
    const size_t counts[] = {255, 256, 257, 400};
    for (size_t c = 0; c < sizeof counts / sizeof *counts; c++) {
        size_t k = counts[c];
        for (size_t i = 0; i < k; i++)
            memcpy(in + 4 * i, "\xf0\xa0\x80\x80", 4); /* U+20000 */
        int n = casemap_fold(in, 4 * k, big, sizeof big);
        assert_int_equal(n, (int)(4 * k));
        assert_memory_equal(big, in, 4 * k);
        assert_int_equal(big[4 * k], '\0');
    }
}

static void test_nick_valid(void **state)
{
    (void)state;
    assert_true(nick("alice"));
    assert_true(nick("Alice_[m]"));
    assert_true(nick("a1-"));
    assert_true(nick("\xe5\xb0\x8f\xe6\x98\x8e")); /* 小明 */
    assert_true(nick("\xe5\xb0\x8f\xe6\x98\x8e"
                     "2024"));
    assert_true(nick("\xd0\xa1\xd0\xb0\xd1\x88\xd0\xb0")); /* Саша */
    assert_true(nick("Stra\xc3\x9f"
                     "e"));
    assert_true(nick("e\xcc\x81")); /* mark not first: ok */
    assert_true(nick("a"));

    assert_false(nick(""));
    assert_false(casemap_nick_valid("abcdef", 6, 5)); /* maxlen */
    assert_true(casemap_nick_valid("abcde", 5, 5));
    /* 小明明 is 9 bytes: maxlen counts bytes. */
    assert_false(casemap_nick_valid("\xe5\xb0\x8f\xe6\x98\x8e\xe6\x98\x8e", 9, 8));
    const char *bad[] = {
        "a b",
        "a,b",
        "a*",
        "a?",
        "a!b",
        "a@b",
        "a:b",
        "a.b",
        "1abc",
        "-abc",
        "#abc",
        "&abc",
        ":abc",
        "$abc",
        "~abc",
        "@abc",
        "+abc",
        "%abc",
        "a\x01",
        "a\x7f",
        "a\t",
        "\xcc\x81"
        "a", /* combining mark first */
        "a\xe2\x80\x8b"
        "b", /* U+200B ZERO WIDTH SPACE (Cf) */
        "a\xe2\x80\x8d"
        "b", /* U+200D ZWJ (Cf) */
        "a\xe2\x80\xae"
        "b", /* U+202E RLO (Cf) */
        "a\xc2\xa0"
        "b",                                    /* U+00A0 NBSP (Zs) */
        "\xe5\xb0\x8f\xe3\x80\x80\xe6\x98\x8e", /* 小 U+3000 明 */
        "a\xe2\x80\xa8",                        /* U+2028 (Zl) */
        "a\xc2\x85",                            /* U+0085 NEL (Cc) */
        "a\xee\x80\x80",                        /* U+E000 private use */
        "a\xf3\xb0\x80\x80",                    /* U+F0000 private use */
        "a\xcd\xb8",                            /* U+0378 unassigned */
        "ab\xef\xbc\xa0"
        "cd", /* ＠ folds to @ */
        "\xef\xbc\x91"
        "abc", /* １ folds to 1 */
        "\xe2\x91\xa0"
        "abc",       /* ① folds to 1 */
        "x\xc2\xa8", /* ¨ folds to " ̈" */
        "a\xef\xbc\x8c"
        "b",     /* ， folds to , */
        "a\xff", /* ill-formed */
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (nick(bad[i]))
            fail_msg("nick %zu should be invalid", i);
    }
    assert_false(casemap_nick_valid("a\0b", 3, 30));
}

static void test_channel_valid(void **state)
{
    (void)state;
    assert_true(chan("#qun"));
    assert_true(chan("#Qun-Dev_2"));
    assert_true(chan("#\xe6\xb5\x8b\xe8\xaf\x95")); /* #测试 */
    assert_true(chan("##"));
    assert_true(chan("#a.b!c*?@")); /* nick-only restrictions */
    assert_true(chan("#1"));

    assert_false(chan("#"));
    assert_false(chan(""));
    assert_false(chan("qun"));
    assert_false(chan("&qun"));
    assert_false(chan("\xe6\xb5\x8b"));
    assert_false(casemap_channel_valid("#abcde", 6, 5));
    assert_true(casemap_channel_valid("#abcd", 5, 5));
    const char *bad[] = {
        "#a b",
        "#a,b",
        "#a:b",
        "#a\x07",
        "#a\x01",
        "#a\x7f",
        "#\xcc\x81",      /* mark right after '#' */
        "#a\xe2\x80\x8b", /* ZWSP */
        "#a\xe3\x80\x80"
        "b", /* U+3000 ideographic space */
        "#a\xef\xbc\x8c"
        "b", /* ， folds to , */
        "#a\xef\xbc\x9a"
        "b", /* ： folds to : */
        "#\xff",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        if (chan(bad[i]))
            fail_msg("channel %zu should be invalid", i);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold_ascii),          cmocka_unit_test(test_fold_compat),
        cmocka_unit_test(test_fold_case),           cmocka_unit_test(test_fold_canonical_and_han),
        cmocka_unit_test(test_fold_errors),         cmocka_unit_test(test_fold_long),
        cmocka_unit_test(test_fold_four_byte_full), cmocka_unit_test(test_nick_valid),
        cmocka_unit_test(test_channel_valid),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
