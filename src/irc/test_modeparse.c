/*
 * test_modeparse.c - unit tests for irc/modeparse.c.
 *
 * Covers the mode string grammar (direction, parameter assignment per mode
 * class, list queries, missing parameters, unknown letters, the MODES= and
 * total-change limits), list-mode mask normal form including the account
 * and mute extbans, key syntax and +l parsing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irc/modeparse.h"

static void parse(const char *modes, const char *const *args, size_t nargs,
                  struct modeparse_result *r)
{
    modeparse_channel(modes, args, nargs, r);
}

static void assert_change(const struct modeparse_change *c, bool add, char mode, const char *arg)
{
    assert_int_equal(c->add, add);
    assert_int_equal(c->mode, mode);
    if (arg)
        assert_string_equal(c->arg, arg);
    else
        assert_null(c->arg);
}

static void test_flags_and_direction(void **state)
{
    (void)state;
    struct modeparse_result r;
    parse("nt-s+i", NULL, 0, &r); /* no leading sign: '+' */
    assert_int_equal(r.nchanges, 4);
    assert_change(&r.changes[0], true, 'n', NULL);
    assert_change(&r.changes[1], true, 't', NULL);
    assert_change(&r.changes[2], false, 's', NULL);
    assert_change(&r.changes[3], true, 'i', NULL);
    assert_int_equal(r.changes[0].kind, MODEPARSE_FLAG);
    assert_string_equal(r.unknown, "");
    assert_string_equal(r.list_queries, "");
    assert_int_equal(r.missing_param, 0);
    assert_int_equal(r.dropped, 0);
}

static void test_params_by_class(void **state)
{
    (void)state;
    struct modeparse_result r;
    const char *args[] = {"alice", "secret", "10", "bob", "*!*@x"};
    parse("+okl-v+b", args, 5, &r);
    assert_int_equal(r.nchanges, 5);
    assert_change(&r.changes[0], true, 'o', "alice");
    assert_change(&r.changes[1], true, 'k', "secret");
    assert_change(&r.changes[2], true, 'l', "10");
    assert_change(&r.changes[3], false, 'v', "bob");
    assert_change(&r.changes[4], true, 'b', "*!*@x");
    assert_int_equal(r.changes[2].kind, MODEPARSE_LIMIT);
    assert_int_equal(r.changes[3].kind, MODEPARSE_PREFIX);

    /* -l takes no parameter, so "bob" goes to -o */
    const char *args2[] = {"bob"};
    parse("-lo", args2, 1, &r);
    assert_int_equal(r.nchanges, 2);
    assert_change(&r.changes[0], false, 'l', NULL);
    assert_change(&r.changes[1], false, 'o', "bob");
}

static void test_key_removal_without_param(void **state)
{
    (void)state;
    struct modeparse_result r;
    parse("-k", NULL, 0, &r);
    assert_int_equal(r.nchanges, 1);
    assert_change(&r.changes[0], false, 'k', NULL);
    assert_int_equal(r.missing_param, 0);

    const char *args[] = {"*"};
    parse("-k", args, 1, &r);
    assert_change(&r.changes[0], false, 'k', "*");
}

static void test_list_query_and_missing(void **state)
{
    (void)state;
    struct modeparse_result r;
    parse("b", NULL, 0, &r);
    assert_int_equal(r.nchanges, 0);
    assert_string_equal(r.list_queries, "b");

    parse("+b", NULL, 0, &r);
    assert_string_equal(r.list_queries, "b");

    /* several lists at once, each named once, in order */
    parse("eIbe", NULL, 0, &r);
    assert_int_equal(r.nchanges, 0);
    assert_string_equal(r.list_queries, "eIb");

    parse("+ok", NULL, 0, &r);
    assert_int_equal(r.nchanges, 0);
    assert_int_equal(r.missing_param, 'o');

    /* +l without a value, then a flag that still applies */
    parse("+lm", NULL, 0, &r);
    assert_int_equal(r.missing_param, 'l');
    assert_int_equal(r.nchanges, 1);
    assert_change(&r.changes[0], true, 'm', NULL);
}

static void test_exception_lists(void **state)
{
    (void)state;
    struct modeparse_result r;
    const char *args[] = {"*!*@good", "friend", "spam!*@*"};
    parse("+eI-b", args, 3, &r);
    assert_int_equal(r.nchanges, 3);
    assert_change(&r.changes[0], true, 'e', "*!*@good");
    assert_change(&r.changes[1], true, 'I', "friend");
    assert_change(&r.changes[2], false, 'b', "spam!*@*");
    for (size_t i = 0; i < 3; i++)
        assert_int_equal(r.changes[i].kind, MODEPARSE_LIST);

    /* a list letter past the last parameter is a query, not a change */
    parse("+eI", args, 1, &r);
    assert_int_equal(r.nchanges, 1);
    assert_change(&r.changes[0], true, 'e', "*!*@good");
    assert_string_equal(r.list_queries, "I");
    assert_int_equal(r.missing_param, 0);
}

static void test_unknown_letters(void **state)
{
    (void)state;
    struct modeparse_result r;
    parse("+xnyx", NULL, 0, &r);
    assert_string_equal(r.unknown, "xy"); /* each letter once */
    assert_int_equal(r.nchanges, 1);
    assert_change(&r.changes[0], true, 'n', NULL);
}

static void test_param_limit(void **state)
{
    (void)state;
    struct modeparse_result r;
    const char *args[] = {"a", "b", "c", "d", "e", "f", "g", "h"};
    parse("+oooooooon", args, 8, &r);
    assert_int_equal(r.nchanges, MODEPARSE_MAX_PARAM + 1);
    assert_change(&r.changes[MODEPARSE_MAX_PARAM - 1], true, 'o', "f");
    assert_change(&r.changes[MODEPARSE_MAX_PARAM], true, 'n', NULL); /* flags still count */
    assert_int_equal(r.dropped, 8 - MODEPARSE_MAX_PARAM);
}

static void test_total_limit(void **state)
{
    (void)state;
    struct modeparse_result r;
    char many[MODEPARSE_MAX_CHANGES * 2 + 2];
    memset(many, 'i', sizeof many - 1);
    many[sizeof many - 1] = '\0';
    parse(many, NULL, 0, &r);
    assert_int_equal(r.nchanges, MODEPARSE_MAX_CHANGES);
    assert_int_equal(r.dropped, sizeof many - 1 - MODEPARSE_MAX_CHANGES);
}

static void assert_mask(const char *in, const char *want)
{
    char out[256];
    assert_true(modeparse_ban_mask(in, out, sizeof out));
    assert_string_equal(out, want);
}

static void assert_bad_mask(const char *in)
{
    char out[256];
    assert_false(modeparse_ban_mask(in, out, sizeof out));
}

static void test_ban_mask_normalisation(void **state)
{
    (void)state;
    assert_mask("foo", "foo!*@*");
    assert_mask("foo!bar", "foo!bar@*");
    assert_mask("bar@host", "*!bar@host");
    assert_mask("@host", "*!*@host");
    assert_mask("foo!", "foo!*@*");
    assert_mask("foo!bar@baz", "foo!bar@baz");
    assert_mask("*!*@*", "*!*@*");
    assert_mask("host.example", "*!*@host.example");
    assert_mask("2001:db8::1", "*!*@2001:db8::1");
    assert_mask("小明", "小明!*@*");
}

static void test_extbans(void **state)
{
    (void)state;
    /* account: kept as typed; the "$a:" spelling becomes "a:" */
    assert_mask("a:alice", "a:alice");
    assert_mask("a:*", "a:*");
    assert_mask("$a:alice", "a:alice");
    /* mute: the inner hostmask is normalised, or an account extban */
    assert_mask("m:bar", "m:bar!*@*");
    assert_mask("m:bar!*@*", "m:bar!*@*");
    assert_mask("m:*!*evan@*", "m:*!*evan@*");
    assert_mask("m:host.example", "m:*!*@host.example");
    assert_mask("m:a:alice", "m:a:alice");
    /* a hex digit then ':' may be an IPv6 address (but "a:" is the extban) */
    assert_mask("fe80::1", "*!*@fe80::1");
    assert_mask("b:1::2", "*!*@b:1::2");
}

static void test_ban_mask_refusals(void **state)
{
    (void)state;
    assert_bad_mask("");
    assert_bad_mask(":foo");
    assert_bad_mask("a b");
    assert_bad_mask("a,b");
    assert_bad_mask("a\x01");
    assert_bad_mask("$a:");
    assert_bad_mask("$x:foo");
    assert_bad_mask("$a");
    assert_bad_mask("a:");
    assert_bad_mask("m:");
    assert_bad_mask("m:m:foo"); /* mutes do not nest */
    assert_bad_mask("m:q:foo");
    assert_bad_mask("m:$a:foo"); /* the old spelling only stands alone */
    assert_bad_mask("q:foo");    /* no such extban type, and not IPv6 */
    assert_bad_mask("z:1::2");
    char longmask[MODEPARSE_MASK_MAX + 10];
    memset(longmask, 'n', sizeof longmask - 1);
    longmask[sizeof longmask - 1] = '\0';
    assert_bad_mask(longmask);
    /* fits before normalisation, not after the "!*@*" is added */
    longmask[MODEPARSE_MASK_MAX - 2] = '\0';
    assert_bad_mask(longmask);
    char out[8];
    assert_false(modeparse_ban_mask("abcdef", out, sizeof out)); /* cap */
}

static void test_key_validity(void **state)
{
    (void)state;
    assert_true(modeparse_key_valid("secret"));
    assert_true(modeparse_key_valid("密码"));
    assert_false(modeparse_key_valid(""));
    assert_false(modeparse_key_valid("a b"));
    assert_false(modeparse_key_valid("a,b"));
    assert_false(modeparse_key_valid(":ab"));
    assert_false(modeparse_key_valid("a\tb"));
    char k[MODEPARSE_KEY_MAX + 2];
    memset(k, 'k', sizeof k - 1);
    k[sizeof k - 1] = '\0';
    assert_false(modeparse_key_valid(k));
    k[MODEPARSE_KEY_MAX] = '\0';
    assert_true(modeparse_key_valid(k));
}

static void test_limit_parse(void **state)
{
    (void)state;
    int v = -1;
    assert_true(modeparse_limit("10", &v));
    assert_int_equal(v, 10);
    assert_true(modeparse_limit("007", &v));
    assert_int_equal(v, 7);
    assert_false(modeparse_limit("0", &v));
    assert_false(modeparse_limit("", &v));
    assert_false(modeparse_limit("-5", &v));
    assert_false(modeparse_limit("+5", &v));
    assert_false(modeparse_limit("5x", &v));
    assert_false(modeparse_limit("99999999999999999999", &v));
    assert_int_equal(v, 7); /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flags_and_direction),
        cmocka_unit_test(test_params_by_class),
        cmocka_unit_test(test_key_removal_without_param),
        cmocka_unit_test(test_list_query_and_missing),
        cmocka_unit_test(test_exception_lists),
        cmocka_unit_test(test_unknown_letters),
        cmocka_unit_test(test_param_limit),
        cmocka_unit_test(test_total_limit),
        cmocka_unit_test(test_ban_mask_normalisation),
        cmocka_unit_test(test_ban_mask_refusals),
        cmocka_unit_test(test_extbans),
        cmocka_unit_test(test_key_validity),
        cmocka_unit_test(test_limit_parse),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
