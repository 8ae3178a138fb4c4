/*
 * test_canon.c - the canonical bytes reports are signed over (canon.h):
 * sorted keys at every depth, no whitespace, only the required escapes
 * (lower-case \u00xx), UTF-8 and '/' literal, integers plain; reals and
 * over-deep nesting refused.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "report/canon.h"

static void expect(const char *in, const char *want)
{
    json_error_t jerr;
    json_t *v = json_loads(in, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    assert_non_null(v);
    char *got = canon_json(v);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
    json_decref(v);
}

static void test_canon_forms(void **state)
{
    (void)state;
    expect("{ \"b\": 1, \"a\": {\"z\": [3, 2, {\"y\": null, \"x\": true}], \"c\": false} }",
           "{\"a\":{\"c\":false,\"z\":[3,2,{\"x\":true,\"y\":null}]},\"b\":1}");
    expect("\"tab\\t nl\\n q\\\" bs\\\\ bel\\u0007 del\\u007f slash/ \\u4f60\\u597d\"",
           "\"tab\\t nl\\n q\\\" bs\\\\ bel\\u0007 del\x7f slash/ \xe4\xbd\xa0\xe5\xa5\xbd\"");
    expect("\"nul\\u0000x\\u001f\"", "\"nul\\u0000x\\u001f\"");
    expect("[-9223372036854775807, 0, 42]", "[-9223372036854775807,0,42]");
    expect("{}", "{}");
    expect("[]", "[]");
}

static void test_canon_refuses(void **state)
{
    (void)state;
    json_t *v = json_pack("{s:f}", "x", 1.5);
    assert_null(canon_json(v));
    json_decref(v);
    json_t *deep = json_array(), *cur = deep;
    for (int i = 0; i < CANON_DEPTH_MAX + 2; i++) {
        json_t *next = json_array();
        json_array_append_new(cur, next);
        cur = next;
    }
    assert_null(canon_json(deep));
    json_decref(deep);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_canon_forms),
        cmocka_unit_test(test_canon_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
