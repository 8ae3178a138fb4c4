/*
 * test_idmap.c - the id map against a plain array: random puts, gets and
 * deletes (backward-shift deletion must keep every other entry findable),
 * growth, replacement, and ids absent or zero.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "util/idmap.h"

#define IDS 5000

static void test_against_array(void **state)
{
    (void)state;
    static int present[IDS];
    static int values[IDS];
    struct idmap m = {0};
    unsigned seed = 12345;
    size_t live = 0;
    for (int step = 0; step < 200000; step++) {
        seed = seed * 1103515245u + 12345u;
        uint64_t id = 1 + (seed >> 8) % IDS;
        int op = (int)((seed >> 4) % 3);
        if (op == 0) {
            void *prev = idmap_put(&m, id, &values[id - 1]);
            assert_ptr_equal(prev, present[id - 1] ? &values[id - 1] : NULL);
            live += !present[id - 1];
            present[id - 1] = 1;
        } else if (op == 1) {
            void *gone = idmap_del(&m, id);
            assert_ptr_equal(gone, present[id - 1] ? &values[id - 1] : NULL);
            live -= present[id - 1] ? 1 : 0;
            present[id - 1] = 0;
        } else {
            assert_ptr_equal(idmap_get(&m, id), present[id - 1] ? &values[id - 1] : NULL);
        }
        assert_int_equal(m.count, live);
    }
    for (uint64_t id = 1; id <= IDS; id++)
        assert_ptr_equal(idmap_get(&m, id), present[id - 1] ? &values[id - 1] : NULL);
    assert_null(idmap_get(&m, 0));
    assert_null(idmap_get(&m, IDS + 1));
    assert_null(idmap_del(&m, 0));
    idmap_free(&m);
    assert_null(idmap_get(&m, 1));
}

/* Sequential ids, as connections get them: growth keeps them all, and
 * deleting every other one leaves the rest. */
static void test_sequential(void **state)
{
    (void)state;
    struct idmap m = {0};
    static char objs[100000];
    for (uint64_t id = 1; id <= 100000; id++)
        assert_null(idmap_put(&m, id, &objs[id - 1]));
    assert_int_equal(m.count, 100000);
    assert_true(m.count * 4 <= m.cap * 3);
    for (uint64_t id = 2; id <= 100000; id += 2)
        assert_ptr_equal(idmap_del(&m, id), &objs[id - 1]);
    for (uint64_t id = 1; id <= 100000; id++)
        assert_ptr_equal(idmap_get(&m, id), id % 2 ? &objs[id - 1] : NULL);
    idmap_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_array),
        cmocka_unit_test(test_sequential),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
