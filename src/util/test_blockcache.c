/*
 * test_blockcache.c - the block cache: a freed block comes back for the
 * next request of its size class, the classes are kept apart, large
 * requests bypass the cache, at most BLOCKCACHE_KEEP_BYTES per class are
 * kept, every block is usable to its requested size and aligned, and a
 * kept block is poisoned under AddressSanitizer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "util/blockcache.h"

#if defined(__SANITIZE_ADDRESS__)
#define T_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define T_ASAN 1
#endif
#endif
#ifdef T_ASAN
#include <sanitizer/asan_interface.h>
#endif

static int teardown(void **state)
{
    (void)state;
    blockcache_trim();
    return 0;
}

static void test_reuse_within_class(void **state)
{
    (void)state;
    char *a = blockcache_alloc(300);
    memset(a, 'a', 300);
    blockcache_free(a);
    assert_int_equal(blockcache_kept(), 1);
    /* 400 bytes are in the same class (512 with the header) */
    char *b = blockcache_alloc(400);
    assert_ptr_equal(a, b);
    assert_int_equal(blockcache_kept(), 0);
    memset(b, 'b', 400);
    /* a smaller class does not take it back */
    blockcache_free(b);
    char *c = blockcache_alloc(100);
    assert_ptr_not_equal(c, b);
    assert_int_equal(blockcache_kept(), 1);
    blockcache_free(c);
    assert_int_equal(blockcache_kept(), 2);
    blockcache_free(NULL);
    assert_int_equal(blockcache_kept(), 2);
}

static void test_large_bypasses(void **state)
{
    (void)state;
    char *big = blockcache_alloc(100000);
    memset(big, 'x', 100000);
    blockcache_free(big);
    assert_int_equal(blockcache_kept(), 0);
    /* the largest class ends at 2048 bytes with the 16-byte header */
    char *edge = blockcache_alloc(2032);
    memset(edge, 'e', 2032);
    blockcache_free(edge);
    assert_int_equal(blockcache_kept(), 1);
    char *over = blockcache_alloc(2033);
    memset(over, 'o', 2033);
    blockcache_free(over);
    assert_int_equal(blockcache_kept(), 1);
}

static void test_alignment_and_lifo(void **state)
{
    (void)state;
    enum { N = 64 };
    void *p[N];
    for (int i = 0; i < N; i++) {
        p[i] = blockcache_alloc((size_t)(1 + i * 31));
        assert_int_equal((uintptr_t)p[i] % _Alignof(max_align_t), 0);
        memset(p[i], i, (size_t)(1 + i * 31));
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++)
            assert_ptr_not_equal(p[i], p[j]);
    for (int i = 0; i < N; i++)
        blockcache_free(p[i]);
    assert_int_equal(blockcache_kept(), N);
    /* the last block freed of the 256-byte class comes back first */
    void *last256 = NULL;
    for (int i = 0; i < N; i++)
        if (1 + i * 31 + 16 > 128 && 1 + i * 31 + 16 <= 256)
            last256 = p[i];
    void *again = blockcache_alloc(200);
    assert_ptr_equal(again, last256);
    blockcache_free(again);
}

static void test_keep_is_bounded(void **state)
{
    (void)state;
    size_t max = BLOCKCACHE_KEEP_BYTES / 256;
    size_t n = max + 100;
    void **p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = blockcache_alloc(200); /* the 256-byte class */
    for (size_t i = 0; i < n; i++)
        blockcache_free(p[i]);
    assert_int_equal(blockcache_kept(), max);
    blockcache_trim();
    assert_int_equal(blockcache_kept(), 0);
    free(p);
}

static void test_kept_block_is_poisoned(void **state)
{
    (void)state;
    char *a = blockcache_alloc(200);
    memset(a, 1, 200);
#ifdef T_ASAN
    assert_false(__asan_address_is_poisoned(a + 199));
    blockcache_free(a);
    assert_true(__asan_address_is_poisoned(a));
    assert_true(__asan_address_is_poisoned(a + 199));
    char *b = blockcache_alloc(200);
    assert_ptr_equal(a, b);
    assert_false(__asan_address_is_poisoned(b + 199));
    blockcache_free(b);
#else
    blockcache_free(a);
    assert_int_equal(blockcache_kept(), 1);
#endif
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_reuse_within_class, teardown),
        cmocka_unit_test_teardown(test_large_bypasses, teardown),
        cmocka_unit_test_teardown(test_alignment_and_lifo, teardown),
        cmocka_unit_test_teardown(test_keep_is_bounded, teardown),
        cmocka_unit_test_teardown(test_kept_block_is_poisoned, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
