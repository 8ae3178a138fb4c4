/*
 * test_password.c - unit tests for auth/password.c.
 *
 * Hash then verify (match, wrong password, binary passwords with NUL),
 * the callbacks run on the thread that runs the loop, the loop keeps
 * serving a 1 ms timer while a default-cost hash runs on the pool, many
 * requests in flight at once, the length limits and argument errors that
 * are returned without a callback, malformed and argon2i hashes, and
 * password_needs_rehash. Most tests use password_params_min to stay fast;
 * the non-blocking test uses the production defaults on purpose.
 *
 * Every test runs its own loop and ends with uv_loop_close() == 0; ASan
 * (the test build) reports any request or secure buffer left behind.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>
#include <pthread.h>
#include <sodium.h>

#include "auth/password.h"

/* What a callback saw; one per request. */
struct seen {
    int calls;
    int result;
    char hash[PASSWORD_HASH_MAX];
    pthread_t thread;
    int timer_ticks; /* ticks of the test timer when the callback ran */
};

static int timer_ticks;

static void on_hash(int result, const char *hash, void *ud)
{
    struct seen *s = ud;
    s->calls++;
    s->result = result;
    s->thread = pthread_self();
    s->timer_ticks = timer_ticks;
    if (result == PASSWORD_OK) {
        assert_non_null(hash);
        assert_true(strlen(hash) < PASSWORD_HASH_MAX);
        strcpy(s->hash, hash);
    } else {
        assert_null(hash);
    }
}

static void on_verify(int result, void *ud)
{
    struct seen *s = ud;
    s->calls++;
    s->result = result;
    s->thread = pthread_self();
}

static void loop_finish(uv_loop_t *loop)
{
    assert_int_equal(uv_run(loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(uv_loop_close(loop), 0);
}

/* Hashes pw with the minimum cost on a fresh loop into s->hash. */
static void hash_min(const char *pw, size_t len, struct seen *s)
{
    uv_loop_t loop;
    assert_int_equal(uv_loop_init(&loop), 0);
    memset(s, 0, sizeof *s);
    assert_int_equal(password_hash_async_with(&loop, &password_params_min, pw, len, on_hash, s),
                     PASSWORD_OK);
    assert_int_equal(s->calls, 0); /* never synchronously */
    loop_finish(&loop);
    assert_int_equal(s->calls, 1);
    assert_int_equal(s->result, PASSWORD_OK);
}

/* Verifies pw against hash on a fresh loop; returns the callback's result. */
static int verify(const char *hash, const char *pw, size_t len)
{
    uv_loop_t loop;
    struct seen s = {0};
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(password_verify_async(&loop, hash, pw, len, on_verify, &s), PASSWORD_OK);
    assert_int_equal(s.calls, 0);
    loop_finish(&loop);
    assert_int_equal(s.calls, 1);
    assert_true(pthread_equal(s.thread, pthread_self()));
    return s.result;
}

static void test_hash_then_verify(void **state)
{
    (void)state;
    struct seen s;
    hash_min("pencil", 6, &s);
    assert_true(pthread_equal(s.thread, pthread_self()));
    assert_memory_equal(s.hash, "$argon2id$", 10);
    assert_int_equal(verify(s.hash, "pencil", 6), PASSWORD_OK);
    assert_int_equal(verify(s.hash, "pencil", 5), PASSWORD_ERR_MISMATCH);
    assert_int_equal(verify(s.hash, "Pencil", 6), PASSWORD_ERR_MISMATCH);
    assert_int_equal(verify(s.hash, "pencil!", 7), PASSWORD_ERR_MISMATCH);
    /* A fresh salt each time: the same password never gives the same string. */
    struct seen again;
    hash_min("pencil", 6, &again);
    assert_string_not_equal(s.hash, again.hash);
    assert_int_equal(verify(again.hash, "pencil", 6), PASSWORD_OK);
}

static void test_binary_and_chinese(void **state)
{
    (void)state;
    struct seen s;
    /* Bytes after a NUL count: the length, not strlen, is the password. */
    hash_min("ab\0cd", 5, &s);
    assert_int_equal(verify(s.hash, "ab\0cd", 5), PASSWORD_OK);
    assert_int_equal(verify(s.hash, "ab\0ce", 5), PASSWORD_ERR_MISMATCH);
    assert_int_equal(verify(s.hash, "ab", 2), PASSWORD_ERR_MISMATCH);
    const char *zh = "\xe5\xaf\x86\xe7\xa0\x81\xe6\xb5\x8b\xe8\xaf\x95"; /* 密码测试 */
    hash_min(zh, strlen(zh), &s);
    assert_int_equal(verify(s.hash, zh, strlen(zh)), PASSWORD_OK);
}

static void on_tick(uv_timer_t *t)
{
    (void)t;
    timer_ticks++;
}

/*
 * With the production cost (64 MiB, a noticeable fraction of a second
 * under sanitizers) the call must return at once and a 1 ms timer on the
 * same loop must keep firing while the hash runs: the loop thread is free. The hash callback closes
 * the timer so the loop can end.
 */
struct nonblock {
    struct seen s;
    uv_timer_t timer;
};

static void on_hash_close_timer(int result, const char *hash, void *ud)
{
    struct nonblock *nb = ud;
    on_hash(result, hash, &nb->s);
    uv_close((uv_handle_t *)&nb->timer, NULL);
}

static void test_loop_not_blocked(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct nonblock nb = {0};
    timer_ticks = 0;
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(uv_timer_init(&loop, &nb.timer), 0);
    assert_int_equal(uv_timer_start(&nb.timer, on_tick, 1, 1), 0);
    uint64_t t0 = uv_hrtime();
    assert_int_equal(password_hash_async(&loop, "correct horse", 13, on_hash_close_timer, &nb),
                     PASSWORD_OK);
    uint64_t t_call = uv_hrtime() - t0;
    loop_finish(&loop);
    uint64_t t_total = uv_hrtime() - t0;
    /* Queuing is far cheaper than the hash, and a repeating timer (which
     * libuv does not let catch up after a stall) ticked more than once. */
    assert_true(t_call * 4 < t_total);
    assert_true(nb.s.timer_ticks >= 2);
    assert_int_equal(nb.s.calls, 1);
    assert_int_equal(nb.s.result, PASSWORD_OK);
    assert_true(pthread_equal(nb.s.thread, pthread_self()));
    assert_int_equal(password_needs_rehash(nb.s.hash, NULL), 0);
    assert_int_equal(password_needs_rehash(nb.s.hash, &password_params_min), 1);
}

static void test_many_in_flight(void **state)
{
    (void)state;
    enum { N = 12 };
    uv_loop_t loop;
    struct seen s[N];
    char pw[N][8];
    memset(s, 0, sizeof s);
    assert_int_equal(uv_loop_init(&loop), 0);
    for (int i = 0; i < N; i++) {
        snprintf(pw[i], sizeof pw[i], "pw-%02d", i);
        assert_int_equal(password_hash_async_with(&loop, &password_params_min, pw[i], strlen(pw[i]),
                                                  on_hash, &s[i]),
                         PASSWORD_OK);
        /* The caller's buffer may be reused straight away. */
        sodium_memzero(pw[i], sizeof pw[i]);
    }
    loop_finish(&loop);
    for (int i = 0; i < N; i++) {
        char expect[8];
        snprintf(expect, sizeof expect, "pw-%02d", i);
        assert_int_equal(s[i].calls, 1);
        assert_int_equal(verify(s[i].hash, expect, strlen(expect)), PASSWORD_OK);
    }
}

static void test_length_limits(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct seen s = {0};
    char big[PASSWORD_LEN_MAX + 1];
    memset(big, 'x', sizeof big);
    assert_int_equal(uv_loop_init(&loop), 0);
    const struct password_params *min = &password_params_min;
    assert_int_equal(password_hash_async_with(&loop, min, "", 0, on_hash, &s), PASSWORD_ERR_EMPTY);
    assert_int_equal(password_hash_async_with(&loop, min, big, sizeof big, on_hash, &s),
                     PASSWORD_ERR_TOO_LONG);
    assert_int_equal(password_verify_async(&loop, "$argon2id$x", big, sizeof big, on_verify, &s),
                     PASSWORD_ERR_TOO_LONG);
    assert_int_equal(password_verify_async(&loop, "$argon2id$x", "", 0, on_verify, &s),
                     PASSWORD_ERR_EMPTY);
    /* Errors are returned, never called back. */
    loop_finish(&loop);
    assert_int_equal(s.calls, 0);
    /* Exactly the maximum is accepted, and a single byte. */
    hash_min(big, PASSWORD_LEN_MAX, &s);
    assert_int_equal(verify(s.hash, big, PASSWORD_LEN_MAX), PASSWORD_OK);
    assert_int_equal(verify(s.hash, big, PASSWORD_LEN_MAX - 1), PASSWORD_ERR_MISMATCH);
    hash_min("x", 1, &s);
    assert_int_equal(verify(s.hash, "x", 1), PASSWORD_OK);
}

static void test_bad_arguments(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct seen s = {0};
    struct password_params weak = {.opslimit = 0, .memlimit = password_params_min.memlimit};
    assert_int_equal(uv_loop_init(&loop), 0);
    assert_int_equal(password_hash_async(NULL, "pw", 2, on_hash, &s), PASSWORD_ERR_ARG);
    assert_int_equal(password_hash_async(&loop, "pw", 2, NULL, &s), PASSWORD_ERR_ARG);
    assert_int_equal(password_hash_async(&loop, NULL, 2, on_hash, &s), PASSWORD_ERR_ARG);
    assert_int_equal(password_hash_async_with(&loop, &weak, "pw", 2, on_hash, &s),
                     PASSWORD_ERR_ARG);
    assert_int_equal(password_verify_async(&loop, NULL, "pw", 2, on_verify, &s), PASSWORD_ERR_ARG);
    assert_int_equal(password_verify_async(&loop, "x", "pw", 2, NULL, &s), PASSWORD_ERR_ARG);
    loop_finish(&loop);
    assert_int_equal(s.calls, 0);
    assert_string_equal(password_result_name(PASSWORD_ERR_MISMATCH), "mismatch");
    assert_string_equal(password_result_name(PASSWORD_ERR_TOO_LONG), "password-too-long");
    assert_string_equal(password_result_name(12345), "unknown");
}

static void test_bad_hash(void **state)
{
    (void)state;
    uv_loop_t loop;
    struct seen s = {0}, good;
    char argon2i[crypto_pwhash_argon2i_STRBYTES];
    char junk[300];
    assert_int_equal(crypto_pwhash_argon2i_str(argon2i, "pw", 2, crypto_pwhash_argon2i_OPSLIMIT_MIN,
                                               crypto_pwhash_argon2i_MEMLIMIT_MIN),
                     0);
    hash_min("pw", 2, &good);
    memset(junk, 'a', sizeof junk - 1);
    junk[sizeof junk - 1] = '\0';
    memcpy(junk, good.hash, strlen(good.hash)); /* a valid prefix, then far too long */
    const char *bad[] = {"", "pw", "$argon2id$", "$argon2id$v=19$m=8,t=1,p=1$$", argon2i, junk};
    assert_int_equal(uv_loop_init(&loop), 0);
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(password_verify_async(&loop, bad[i], "pw", 2, on_verify, &s),
                         PASSWORD_ERR_BAD_HASH);
        assert_int_equal(password_needs_rehash(bad[i], NULL), PASSWORD_ERR_BAD_HASH);
    }
    /* A damaged digest still parses: it is a mismatch, not a bad hash. */
    size_t n = strlen(good.hash);
    good.hash[n - 2] = good.hash[n - 2] == 'A' ? 'B' : 'A';
    loop_finish(&loop);
    assert_int_equal(s.calls, 0);
    assert_int_equal(verify(good.hash, "pw", 2), PASSWORD_ERR_MISMATCH);
    assert_int_equal(password_needs_rehash(NULL, NULL), PASSWORD_ERR_BAD_HASH);
}

static void test_needs_rehash(void **state)
{
    (void)state;
    struct seen s;
    struct password_params more = password_params_min;
    more.opslimit++;
    hash_min("pencil", 6, &s);
    assert_int_equal(password_needs_rehash(s.hash, &password_params_min), 0);
    assert_int_equal(password_needs_rehash(s.hash, &more), 1);
    assert_int_equal(password_needs_rehash(s.hash, NULL), 1);
    assert_int_equal(password_needs_rehash(s.hash, &password_params_default), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_hash_then_verify), cmocka_unit_test(test_binary_and_chinese),
        cmocka_unit_test(test_loop_not_blocked), cmocka_unit_test(test_many_in_flight),
        cmocka_unit_test(test_length_limits),    cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_bad_hash),         cmocka_unit_test(test_needs_rehash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
