/*
 * test_utf8.c - unit tests for proto/utf8.c.
 *
 * Covers the RFC 3629 boundaries one by one (each lead byte's legal second
 * byte range), the word-at-a-time fast path (inputs longer than eight bytes
 * with the offending byte at every offset), and truncation at every cut
 * point of mixed-width text.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "proto/utf8.h"

static bool valid(const char *s)
{
    return utf8_valid(s, strlen(s));
}

static void test_valid_ascii_and_multibyte(void **state)
{
    (void)state;
    assert_true(utf8_valid("", 0));
    assert_true(valid("hello"));
    assert_true(valid("caf\xc3\xa9"));              /* é */
    assert_true(valid("\xe5\xb0\x8f\xe6\x98\x8e")); /* 小明 */
    assert_true(valid("\xf0\x9f\x98\x80"));         /* U+1F600 */
    assert_true(valid("\xef\xbf\xbf"));             /* U+FFFF nonchar */
    assert_true(valid("\xf4\x8f\xbf\xbf"));         /* U+10FFFF */
    assert_true(valid("\xed\x9f\xbf"));             /* U+D7FF */
    assert_true(valid("\xee\x80\x80"));             /* U+E000 */
    assert_true(utf8_valid("a\0b", 3));             /* NUL is UTF-8 */
}

static void test_invalid_sequences(void **state)
{
    (void)state;
    assert_false(valid("\x80")); /* lone continuation */
    assert_false(valid("\xbf"));
    assert_false(valid("\xc0\x80"));         /* overlong NUL */
    assert_false(valid("\xc1\xbf"));         /* overlong */
    assert_false(valid("\xe0\x9f\xbf"));     /* overlong 3-byte */
    assert_false(valid("\xf0\x8f\xbf\xbf")); /* overlong 4-byte */
    assert_false(valid("\xed\xa0\x80"));     /* U+D800 */
    assert_false(valid("\xed\xbf\xbf"));     /* U+DFFF */
    assert_false(valid("\xf4\x90\x80\x80")); /* U+110000 */
    assert_false(valid("\xf5\x80\x80\x80"));
    assert_false(valid("\xff"));
    assert_false(valid("\xfe"));
    assert_false(valid("\xc3"));         /* truncated */
    assert_false(valid("\xe5\xb0"));     /* truncated */
    assert_false(valid("\xf0\x9f\x98")); /* truncated */
    assert_false(valid("\xc3\x28"));     /* bad continuation */
    assert_false(valid("\xe5\x28\x8f"));
    /* A truncated sequence must not be completed by bytes past n. */
    assert_false(utf8_valid("\xc3\xa9", 1));
}

/* The offending byte at every offset of a 40-byte ASCII run, so that both
 * the 8-byte fast path and the byte tail see it. */
static void test_fast_path_positions(void **state)
{
    (void)state;
    char buf[41];
    const unsigned char bad[] = {0x80, 0xff, 0xc0};
    for (size_t b = 0; b < sizeof bad; b++) {
        for (size_t i = 0; i < 40; i++) {
            memset(buf, 'a', 40);
            buf[40] = '\0';
            buf[i] = (char)bad[b];
            assert_false(utf8_valid(buf, 40));
            assert_false(utf8_valid_text(buf, 40));
        }
    }
    const char ctl[] = {'\0', '\r', '\n'};
    for (size_t b = 0; b < sizeof ctl; b++) {
        for (size_t i = 0; i < 40; i++) {
            memset(buf, 'a', 40);
            buf[i] = ctl[b];
            assert_true(utf8_valid(buf, 40));
            assert_false(utf8_valid_text(buf, 40));
        }
    }
    /* Same with '@' (0x40) around: a control byte must not be hidden by
     * combining it with the byte eight positions away ('\n' | '@' = 'J'). */
    for (size_t b = 0; b < sizeof ctl; b++) {
        for (size_t i = 0; i < 40; i++) {
            memset(buf, '@', 40);
            buf[i] = ctl[b];
            assert_false(utf8_valid_text(buf, 40));
        }
    }
    memset(buf, 'a', 40);
    assert_true(utf8_valid_text(buf, 40));
    /* Bytes next to the controls must not trip the word test. */
    memset(buf, 0x0b, 40); /* VT: allowed */
    assert_true(utf8_valid_text(buf, 40));
    memset(buf, 0x0c, 40);
    assert_true(utf8_valid_text(buf, 40));
    memset(buf, 0x0e, 40);
    assert_true(utf8_valid_text(buf, 40));
    memset(buf, 0x01, 40);
    assert_true(utf8_valid_text(buf, 40));
}

static void test_valid_text_multibyte(void **state)
{
    (void)state;
    const char *s = "\xe4\xbd\xa0\xe5\xa5\xbd, world \xe4\xb8\x96\xe7\x95\x8c";
    assert_true(utf8_valid_text(s, strlen(s)));
    assert_false(utf8_valid_text("\xe4\xbd\xa0\r", 4));
}

static void test_seq_len(void **state)
{
    (void)state;
    const unsigned char *u = (const unsigned char *)"\xe5\xb0\x8f";
    assert_int_equal(utf8_seq_len(u, 3), 3);
    assert_int_equal(utf8_seq_len(u, 2), 0);
    assert_int_equal(utf8_seq_len(u, 0), 0);
    assert_int_equal(utf8_seq_len((const unsigned char *)"A", 1), 1);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
    assert_int_equal(utf8_seq_len((const unsigned char *)"\xa9", 1), 0);
}

static void test_truncate(void **state)
{
    (void)state;
    /* "a" (1) "é" (2) "小" (3) "😀" (4) = 10 bytes, boundaries 0 1 3 6 10 */
    const char *s = "a\xc3\xa9\xe5\xb0\x8f\xf0\x9f\x98\x80";
    const size_t want[] = {0, 1, 1, 3, 3, 3, 6, 6, 6, 6, 10};
    for (size_t max = 0; max <= 10; max++)
        assert_int_equal(utf8_truncate(s, 10, max), want[max]);
    assert_int_equal(utf8_truncate(s, 10, 50), 10);
    assert_int_equal(utf8_truncate("abc", 3, 2), 2);
    /* Ill-formed input: a run of continuation bytes cannot loop. */
    assert_int_equal(utf8_truncate("\x80\x80\x80\x80\x80", 5, 4), 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_valid_ascii_and_multibyte),
        cmocka_unit_test(test_invalid_sequences),
        cmocka_unit_test(test_fast_path_positions),
        cmocka_unit_test(test_valid_text_multibyte),
        cmocka_unit_test(test_seq_len),
        cmocka_unit_test(test_truncate),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
