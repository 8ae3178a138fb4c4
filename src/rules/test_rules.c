/*
 * test_rules.c - unit tests for rules/patterns.c and rules/window.c: the
 * pattern file format (comments, blanks, spaces, CRLF), literal matching
 * through the fold (case, width, Han text), regex compilation with its
 * refusals reported as file:line, the bounds on patterns, and the bounded
 * time windows of flood, duplicate spam and deductions (expiry, eviction,
 * constant memory).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "rules/patterns.h"
#include "rules/window.h"
#include "util/strmap.h"

static int parse(const char *text, bool regex, size_t max, struct rules_patterns *p, char *err)
{
    return rules_patterns_parse(text, strlen(text), "list.txt", regex, max, 64, p, err, 256);
}

static long match(const struct rules_patterns *p, const char *text)
{
    char *folded = rules_fold(text, strlen(text));
    assert_non_null(folded);
    long r = rules_patterns_match(p, folded);
    free(folded);
    return r;
}

static void test_literal_format_and_fold(void **state)
{
    (void)state;
    struct rules_patterns p;
    char err[256] = "";
    assert_int_equal(parse("# comment\n\n   \n  违禁词语  \r\nBadWord\n\t# indented comment\n"
                           "ﬁsh",
                           false, 100, &p, err),
                     0);
    assert_int_equal(p.n, 3);
    assert_int_equal(p.line[0], 4);
    assert_int_equal(p.line[1], 5);
    assert_int_equal(p.line[2], 7);
    assert_int_equal(match(&p, "这里有违禁词语啊"), 0);
    assert_int_equal(match(&p, "a BADWORD here"), 1);
    assert_int_equal(match(&p, "a ＢＡＤｗｏｒｄ here"), 1); /* fullwidth folds (NFKC) */
    assert_int_equal(match(&p, "FISH and chips"), 2);        /* the ligature folds to "fi" */
    assert_int_equal(match(&p, "违禁 词语"), -1);
    assert_int_equal(match(&p, "bad word"), -1);
    rules_patterns_free(&p);
    assert_int_equal(p.n, 0);
}

static void test_regex_matches_folded_text(void **state)
{
    (void)state;
    struct rules_patterns p;
    char err[256] = "";
    assert_int_equal(
        parse("https?://[a-z0-9.]+\\.example\n^加我微信[0-9]{5,12}$\n", true, 10, &p, err), 0);
    assert_int_equal(p.n, 2);
    assert_int_equal(match(&p, "see HTTP://Shop.EXAMPLE/x"), 0);
    assert_int_equal(match(&p, "加我微信１２３４５６"), 1); /* fullwidth digits fold */
    assert_int_equal(match(&p, "加我微信 123"), -1);
    rules_patterns_free(&p);
}

static void test_regex_refusals_name_the_line(void **state)
{
    (void)state;
    struct rules_patterns p;
    char err[256];
    assert_int_equal(parse("ok\n# c\n(unclosed\n", true, 10, &p, err), -1);
    assert_non_null(strstr(err, "list.txt:3: "));
    assert_non_null(strstr(err, "does not compile"));
    assert_int_equal(p.n, 0);
    assert_int_equal(parse("(a)\\1\n", true, 10, &p, err), -1);
    assert_non_null(strstr(err, "list.txt:1: back-references"));
    assert_int_equal(parse("\n\na*\n", true, 10, &p, err), -1);
    assert_non_null(strstr(err, "list.txt:3: "));
    assert_non_null(strstr(err, "empty text"));
    assert_int_equal(parse("a{1,33}\n", true, 10, &p, err), -1);
    assert_non_null(strstr(err, "above 32"));
    assert_int_equal(parse("a{2}b{2}c{2}\n", true, 10, &p, err), -1);
    assert_non_null(strstr(err, "more than 2"));
    assert_int_equal(parse("x\na++\n", true, 10, &p, err), -1);
    assert_non_null(strstr(err, "list.txt:2: a repetition of a repetition"));
    assert_int_equal(parse("a*b*c*d*e*f*g*h*i*j*k*l*m*n*o*p*q*\n", true, 10, &p, err), -1);
    assert_non_null(strstr(err, "more than 16"));
    /* brackets and escapes are not operators */
    assert_int_equal(parse("x[*+?]+y\n\\*\\+z\n[[:digit:]]{3}x\n", true, 10, &p, err), 0);
    assert_int_equal(p.n, 3);
    rules_patterns_free(&p);
    /* an escaped brace is not an interval */
    assert_int_equal(parse("a\\{99\\}x\n", true, 10, &p, err), 0);
    rules_patterns_free(&p);
}

static void test_bounds(void **state)
{
    (void)state;
    struct rules_patterns p;
    char err[256];
    assert_int_equal(parse("a\nb\nc\n", false, 2, &p, err), -1);
    assert_non_null(strstr(err, "list.txt:3: more than 2 patterns"));
    char long_line[200];
    memset(long_line, 'x', 100);
    strcpy(long_line + 100, "\n");
    assert_int_equal(parse(long_line, false, 10, &p, err), -1);
    assert_non_null(strstr(err, "list.txt:1: the pattern is 100 bytes long"));
    assert_int_equal(parse("ok\n\xff\xfe\n", false, 10, &p, err), -1);
    assert_non_null(strstr(err, "list.txt:2: the line is not valid UTF-8"));
    /* a NUL inside a line is refused, not silently cut */
    assert_int_equal(rules_patterns_parse("a\0b\n", 4, "list.txt", false, 10, 64, &p, err, 256),
                     -1);
    assert_int_equal(parse("", false, 10, &p, err), 0);
    assert_int_equal(p.n, 0);
    rules_patterns_free(&p);
    assert_int_equal(rules_patterns_read("/nonexistent/x.txt", false, 10, 64, &p, err, 256), -1);
    assert_non_null(strstr(err, "/nonexistent/x.txt: cannot read"));
}

static void test_flood_window(void **state)
{
    (void)state;
    rules_windows_init();
    for (int i = 0; i < 3; i++)
        assert_false(rules_window_flood(7, 1000, 3, 10));
    assert_true(rules_window_flood(7, 1005, 3, 10));
    assert_false(rules_window_flood(8, 1005, 3, 10)); /* another account */
    assert_false(rules_window_flood(7, 1010, 3, 10)); /* the window ended */
    rules_windows_free();
}

static void test_spam_window(void **state)
{
    (void)state;
    uint64_t h = hash_bytes("buy now", 7), other = hash_bytes("hello", 5);
    assert_false(rules_window_spam(1, 101, h, 0, 3, 60));
    assert_false(rules_window_spam(1, 101, h, 1, 3, 60)); /* same group again */
    assert_false(rules_window_spam(1, 102, h, 2, 3, 60));
    assert_false(rules_window_spam(1, 103, other, 3, 3, 60));
    assert_false(rules_window_spam(2, 103, h, 3, 3, 60)); /* another account */
    assert_true(rules_window_spam(1, 103, h, 4, 3, 60));
    assert_true(rules_window_spam(1, 101, h, 5, 3, 60)); /* stays refused in the window */
    assert_false(rules_window_spam(1, 103, h, 61, 3, 60));
    rules_windows_free();
}

static void test_first_in_window(void **state)
{
    (void)state;
    assert_true(rules_window_first(5, 42, 100, 60));
    assert_false(rules_window_first(5, 42, 159, 60));
    assert_true(rules_window_first(5, 43, 159, 60));
    assert_true(rules_window_first(5, 42, 160, 60));
    rules_windows_free();
}

/* A million accounts and texts: the tables never grow, and a busy key
 * keeps its count while others come and go. */
static void test_memory_is_bounded(void **state)
{
    (void)state;
    rules_windows_init();
    size_t bytes = rules_windows_bytes();
    assert_true(bytes > 0 && bytes < 4u << 20);
    for (int64_t a = 1; a <= 1000000; a++) {
        rules_window_flood(a, 1000 + a / 1000, 5, 1);
        rules_window_spam(a, a % 50 + 1, (uint64_t)a * 2654435761u, 1000 + a / 1000, 3, 1);
    }
    assert_int_equal(rules_windows_bytes(), bytes);
    /* after the churn the tables still work */
    for (int i = 0; i < 5; i++)
        assert_false(rules_window_flood(-9, 5000, 5, 10));
    assert_true(rules_window_flood(-9, 5001, 5, 10));
    rules_windows_free();
}

int main(void)
{
    hash_seed_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_literal_format_and_fold),
        cmocka_unit_test(test_regex_matches_folded_text),
        cmocka_unit_test(test_regex_refusals_name_the_line),
        cmocka_unit_test(test_bounds),
        cmocka_unit_test(test_flood_window),
        cmocka_unit_test(test_spam_window),
        cmocka_unit_test(test_first_in_window),
        cmocka_unit_test(test_memory_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
