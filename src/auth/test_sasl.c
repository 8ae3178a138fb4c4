/*
 * test_sasl.c - unit tests for auth/sasl.c.
 *
 * PLAIN: the three-field split, every limit and the authzid rule. Chunking:
 * the IRCv3 boundaries (empty payload "+", a final chunk of exactly 400
 * bytes, 800 bytes), the 8 KiB cap, "*", bad chunks, feeding after the end,
 * and a round trip encoder -> feed for sizes around every boundary.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "auth/sasl.h"

static int plain(const char *msg, size_t len, struct sasl_plain *p)
{
    return sasl_plain_parse((const uint8_t *)msg, len, p);
}

#define PLAIN(lit, p) plain(lit, sizeof(lit) - 1, p)

static void test_plain_valid(void **state)
{
    (void)state;
    struct sasl_plain p;
    assert_int_equal(PLAIN("\0user\0pencil", &p), SASL_OK);
    assert_string_equal(p.authzid, "");
    assert_string_equal(p.authcid, "user");
    assert_string_equal(p.passwd, "pencil");
    assert_int_equal(p.passwd_len, 6);
    assert_int_equal(PLAIN("user\0user\0pw", &p), SASL_OK);
    assert_string_equal(p.authzid, "user");
    /* Chinese name; a password with spaces and non-ASCII characters. */
    assert_int_equal(PLAIN("\0\xe5\xb0\x8f\xe6\x98\x8e\0p w \xc3\xa9", &p), SASL_OK);
    assert_string_equal(p.authcid, "\xe5\xb0\x8f\xe6\x98\x8e");
    assert_string_equal(p.passwd, "p w \xc3\xa9");
    sasl_plain_clear(&p);
    assert_int_equal(p.passwd_len, 0);
    assert_int_equal(p.passwd[0], 0);
}

static void test_plain_format(void **state)
{
    (void)state;
    struct sasl_plain p;
    assert_int_equal(plain("", 0, &p), SASL_ERR_FORMAT);
    assert_int_equal(sasl_plain_parse(NULL, 0, &p), SASL_ERR_FORMAT);
    assert_int_equal(PLAIN("userpass", &p), SASL_ERR_FORMAT);
    assert_int_equal(PLAIN("user\0pass", &p), SASL_ERR_FORMAT);
    assert_int_equal(PLAIN("\0user\0pass\0", &p), SASL_ERR_FORMAT);
    assert_int_equal(PLAIN("\0user\0pa\0ss", &p), SASL_ERR_FORMAT);
    assert_int_equal(PLAIN("\0\0pass", &p), SASL_ERR_EMPTY);
    assert_int_equal(PLAIN("\0user\0", &p), SASL_ERR_EMPTY);
    assert_int_equal(PLAIN("\0\0", &p), SASL_ERR_EMPTY);
    /* On error nothing of the password is left behind. */
    assert_int_equal(PLAIN("other\0user\0secret", &p), SASL_ERR_AUTHZID);
    assert_int_equal(p.passwd_len, 0);
    assert_int_equal(p.passwd[0], 0);
    assert_int_equal(PLAIN("use\0user\0pw", &p), SASL_ERR_AUTHZID);
    assert_int_equal(PLAIN("User\0user\0pw", &p), SASL_ERR_AUTHZID);
}

static void test_plain_limits_and_utf8(void **state)
{
    (void)state;
    struct sasl_plain p;
    char buf[2 + SASL_PLAIN_NAME_MAX + 2 + SASL_PLAIN_PASS_MAX + 2];
    /* Name of exactly the limit, then one byte more. */
    buf[0] = '\0';
    memset(buf + 1, 'a', SASL_PLAIN_NAME_MAX);
    memcpy(buf + 1 + SASL_PLAIN_NAME_MAX, "\0pw", 3);
    assert_int_equal(plain(buf, SASL_PLAIN_NAME_MAX + 4, &p), SASL_OK);
    memset(buf + 1, 'a', SASL_PLAIN_NAME_MAX + 1);
    memcpy(buf + 2 + SASL_PLAIN_NAME_MAX, "\0pw", 3);
    assert_int_equal(plain(buf, SASL_PLAIN_NAME_MAX + 5, &p), SASL_ERR_TOO_LONG);
    /* Password of exactly the limit, then one byte more. */
    memcpy(buf, "\0u\0", 3);
    memset(buf + 3, 'p', SASL_PLAIN_PASS_MAX + 1);
    assert_int_equal(plain(buf, 3 + SASL_PLAIN_PASS_MAX, &p), SASL_OK);
    assert_int_equal(p.passwd_len, SASL_PLAIN_PASS_MAX);
    assert_int_equal(plain(buf, 4 + SASL_PLAIN_PASS_MAX, &p), SASL_ERR_TOO_LONG);
    /* Ill-formed UTF-8 anywhere; control characters in names. */
    assert_int_equal(PLAIN("\0us\xffr\0pw", &p), SASL_ERR_UTF8);
    assert_int_equal(PLAIN("\0user\0p\xc3", &p), SASL_ERR_UTF8);
    assert_int_equal(PLAIN("\xc0\x80\0user\0pw", &p), SASL_ERR_UTF8);
    assert_int_equal(PLAIN("\0us\ter\0pw", &p), SASL_ERR_UTF8);
    assert_int_equal(PLAIN("\0us\x7f\0pw", &p), SASL_ERR_UTF8);
    assert_int_equal(PLAIN("\0us\xc2\x85\0pw", &p), SASL_ERR_UTF8); /* NEL, C1 */
    assert_int_equal(PLAIN("\0us\xc2\xa0\0pw", &p), SASL_OK);       /* NBSP is not C1 */
    /* A password may hold a tab (RFC 4616 allows any UTF-8 but NUL). */
    assert_int_equal(PLAIN("\0user\0p\tw", &p), SASL_OK);
}

static int feed(struct sasl_chunks *st, const char *s)
{
    return sasl_chunks_feed(st, s, strlen(s));
}

static struct sasl_chunks st; /* 14 KiB: keep it off the stack */

static void test_chunks_small(void **state)
{
    (void)state;
    sasl_chunks_reset(&st);
    assert_int_equal(feed(&st, "+"), SASL_DONE);
    assert_int_equal(st.out_len, 0);
    assert_int_equal(feed(&st, "+"), SASL_ERR_STATE);
    sasl_chunks_reset(&st);
    assert_int_equal(feed(&st, "Zm9v"), SASL_DONE);
    assert_int_equal(st.out_len, 3);
    assert_memory_equal(st.out, "foo", 4); /* NUL-terminated */
    sasl_chunks_reset(&st);
    assert_int_equal(feed(&st, "AHVzZXIAcGVuY2ls"), SASL_DONE);
    struct sasl_plain p;
    assert_int_equal(sasl_plain_parse(st.out, st.out_len, &p), SASL_OK);
    assert_string_equal(p.authcid, "user");
    sasl_plain_clear(&p);
    sasl_chunks_reset(&st);
    assert_int_equal(feed(&st, "*"), SASL_ABORTED);
    assert_int_equal(feed(&st, "Zm9v"), SASL_ERR_STATE);
}

static void test_chunks_bad(void **state)
{
    (void)state;
    const char *bad[] = {"", "Zm9", "Zm9v!", "Zm 9v", "Zm9v\n", "=Zm9", "Zg", "Zg=", "-_8="};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sasl_chunks_reset(&st);
        int rc = feed(&st, bad[i]);
        assert_true(rc == SASL_ERR_CHUNK || rc == SASL_ERR_BASE64);
        assert_int_equal(st.b64_len, 0);
    }
    char big[SASL_CHUNK_LEN + 2];
    memset(big, 'A', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    sasl_chunks_reset(&st);
    assert_int_equal(feed(&st, big), SASL_ERR_CHUNK); /* 401 bytes */
}

static void test_chunks_exact_400_and_800(void **state)
{
    (void)state;
    char c400[SASL_CHUNK_LEN + 1];
    memset(c400, 'A', SASL_CHUNK_LEN); /* 400 x 'A' = 300 zero bytes */
    c400[SASL_CHUNK_LEN] = '\0';
    sasl_chunks_reset(&st);
    assert_int_equal(feed(&st, c400), SASL_NEED_MORE);
    assert_int_equal(st.state, SASL_CHUNKS_PARTIAL);
    assert_int_equal(feed(&st, "+"), SASL_DONE);
    assert_int_equal(st.out_len, 300);
    sasl_chunks_reset(&st);
    assert_int_equal(feed(&st, c400), SASL_NEED_MORE);
    assert_int_equal(feed(&st, c400), SASL_NEED_MORE);
    assert_int_equal(feed(&st, "+"), SASL_DONE);
    assert_int_equal(st.out_len, 600);
    /* 400 then a short chunk: the short one ends the payload. */
    sasl_chunks_reset(&st);
    assert_int_equal(feed(&st, c400), SASL_NEED_MORE);
    assert_int_equal(feed(&st, "Zm9v"), SASL_DONE);
    assert_int_equal(st.out_len, 303);
    assert_memory_equal(st.out + 300, "foo", 3);
    /* "*" after a partial payload aborts and forgets it. */
    sasl_chunks_reset(&st);
    assert_int_equal(feed(&st, c400), SASL_NEED_MORE);
    assert_int_equal(feed(&st, "*"), SASL_ABORTED);
    assert_int_equal(st.b64_len, 0);
}

static void test_chunks_oversized(void **state)
{
    (void)state;
    char c400[SASL_CHUNK_LEN + 1];
    memset(c400, 'A', SASL_CHUNK_LEN);
    c400[SASL_CHUNK_LEN] = '\0';
    sasl_chunks_reset(&st);
    int rc = SASL_NEED_MORE;
    size_t n = 0;
    while (rc == SASL_NEED_MORE && n < 100) {
        rc = feed(&st, c400);
        n++;
    }
    assert_int_equal(rc, SASL_ERR_TOO_LONG);
    assert_int_equal(n, SASL_CHUNKS_MAX / SASL_CHUNK_LEN + 1); /* 21st chunk */
    assert_int_equal(st.b64_len, 0);
    assert_int_equal(feed(&st, "+"), SASL_ERR_STATE);
    /* Exactly at the cap is still fine: 20 x 400 + 192 = 8192. */
    sasl_chunks_reset(&st);
    for (int i = 0; i < 20; i++)
        assert_int_equal(feed(&st, c400), SASL_NEED_MORE);
    c400[192] = '\0';
    assert_int_equal(feed(&st, c400), SASL_DONE);
    assert_int_equal(st.out_len, SASL_PAYLOAD_MAX);
}

/* Encodes a payload of n bytes, checks every chunk's shape, feeds it back. */
static void roundtrip(size_t n)
{
    static uint8_t data[SASL_PAYLOAD_MAX];
    static struct sasl_encoder enc;
    for (size_t i = 0; i < n; i++)
        data[i] = (uint8_t)(i * 7 + n);
    assert_int_equal(sasl_encoder_init(&enc, data, n), SASL_OK);
    sasl_chunks_reset(&st);
    const char *chunk;
    size_t len, count = 0, b64 = (n + 2) / 3 * 4;
    int rc = SASL_NEED_MORE;
    while (sasl_encoder_next(&enc, &chunk, &len)) {
        assert_int_equal(rc, SASL_NEED_MORE);
        assert_true(len >= 1 && len <= SASL_CHUNK_LEN);
        rc = sasl_chunks_feed(&st, chunk, len);
        count++;
    }
    assert_int_equal(rc, SASL_DONE);
    assert_int_equal(count, b64 / SASL_CHUNK_LEN + 1);
    if (b64 % SASL_CHUNK_LEN == 0) /* ended by "+" */
        assert_memory_equal(chunk, "+", 1);
    assert_int_equal(st.out_len, n);
    assert_memory_equal(st.out, data, n);
    assert_false(sasl_encoder_next(&enc, &chunk, &len));
}

static void test_encoder_roundtrip(void **state)
{
    (void)state;
    size_t sizes[] = {0, 1, 2, 3, 299, 300, 301, 599, 600, 601, 1000, SASL_PAYLOAD_MAX};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++)
        roundtrip(sizes[i]);
    static struct sasl_encoder enc;
    static uint8_t big[SASL_PAYLOAD_MAX + 1];
    assert_int_equal(sasl_encoder_init(&enc, big, sizeof big), SASL_ERR_TOO_LONG);
    /* The empty payload is the single chunk "+". */
    const char *chunk;
    size_t len;
    assert_int_equal(sasl_encoder_init(&enc, NULL, 0), SASL_OK);
    assert_true(sasl_encoder_next(&enc, &chunk, &len));
    assert_int_equal(len, 1);
    assert_memory_equal(chunk, "+", 1);
    assert_false(sasl_encoder_next(&enc, &chunk, &len));
}

static void test_result_names(void **state)
{
    (void)state;
    for (int r = SASL_ERR_STATE; r <= SASL_ABORTED; r++)
        assert_string_not_equal(sasl_result_name(r), "unknown");
    assert_string_equal(sasl_result_name(99), "unknown");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_valid),
        cmocka_unit_test(test_plain_format),
        cmocka_unit_test(test_plain_limits_and_utf8),
        cmocka_unit_test(test_chunks_small),
        cmocka_unit_test(test_chunks_bad),
        cmocka_unit_test(test_chunks_exact_400_and_800),
        cmocka_unit_test(test_chunks_oversized),
        cmocka_unit_test(test_encoder_roundtrip),
        cmocka_unit_test(test_result_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
