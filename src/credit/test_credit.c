/*
 * test_credit.c - unit tests for the pure parts of credit/credit.c: the
 * level lookup over a level table, the message-rate bucket (messages per
 * 10 s), the recovery step and its cap, the start of a recovery period,
 * the severities, and the posting gate's sentences. The ledger, appeals
 * and recovery job run against the real daemon in
 * tests/integration/test_credit.py.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "account/account.h"
#include "config/config.h"
#include "credit/credit.h"

extern struct qun_config *server_config;

static struct config_credit_level levels[] = {
    {'A', 800, true, 20, 2000, 1000, true, 30}, {'B', 650, true, 10, 500, 500, true, 20},
    {'C', 500, true, 3, 200, 200, true, 10},    {'D', 350, true, 0, 0, 50, false, 5},
    {'E', 0, false, 0, 0, 20, false, 0},
};
static struct qun_config cfg;

static int setup(void **state)
{
    cfg.credit_levels = levels;
    cfg.ncredit_levels = 5;
    cfg.credit_initial = 600;
    server_config = &cfg;
    return 0;
}

static void test_levels_by_score(void **state)
{
    assert_int_equal(credit_level_of_score(1000)->level, 'A');
    assert_int_equal(credit_level_of_score(800)->level, 'A');
    assert_int_equal(credit_level_of_score(799)->level, 'B');
    assert_int_equal(credit_level_of_score(650)->level, 'B');
    assert_int_equal(credit_level_of_score(500)->level, 'C');
    assert_int_equal(credit_level_of_score(350)->level, 'D');
    assert_int_equal(credit_level_of_score(349)->level, 'E');
    assert_int_equal(credit_level_of_score(0)->level, 'E');
    struct account a = {.credit_delta = -1000};
    assert_int_equal(credit_score(&a), 0); /* clamped */
    a.credit_delta = 900;
    assert_int_equal(credit_score(&a), 1000);
    assert_int_equal(credit_score(NULL), 600);
    assert_int_equal(credit_level(NULL)->level, 'C');
}

static void test_rate_bucket(void **state)
{
    int tokens = 0;
    uint64_t at = 0;
    /* a full bucket of 5 at first, then refused */
    for (int i = 0; i < 5; i++)
        assert_true(credit_rate_take(&tokens, &at, 5, 1000));
    assert_false(credit_rate_take(&tokens, &at, 5, 1000));
    /* 5 per 10 s: one message back every 2 s */
    assert_false(credit_rate_take(&tokens, &at, 5, 2999));
    assert_true(credit_rate_take(&tokens, &at, 5, 3000));
    assert_false(credit_rate_take(&tokens, &at, 5, 3000));
    /* a long pause refills to the cap, not beyond */
    for (int i = 0; i < 5; i++)
        assert_true(credit_rate_take(&tokens, &at, 5, 600000));
    assert_false(credit_rate_take(&tokens, &at, 5, 600000));
    /* no limit */
    assert_true(credit_rate_take(&tokens, &at, 0, 600000));
    /* a clock that went back gives a full bucket rather than a stuck one */
    assert_true(credit_rate_take(&tokens, &at, 5, 10));
}

static void test_recovery_step_and_cap(void **state)
{
    assert_int_equal(credit_recovery_step(0), 10);
    assert_int_equal(credit_recovery_step(600), 10);
    assert_int_equal(credit_recovery_step(690), 10);
    assert_int_equal(credit_recovery_step(695), 5); /* a partial step up to 700 */
    assert_int_equal(credit_recovery_step(700), 0);
    assert_int_equal(credit_recovery_step(900), 0);
}

static void test_recovery_base(void **state)
{
    struct account a = {.created_at = 1000};
    assert_int_equal(credit_recovery_base(&a), 1000);
    a.credit_violation_at = 5000;
    assert_int_equal(credit_recovery_base(&a), 5000);
    a.credit_recovery_at = 4000;
    assert_int_equal(credit_recovery_base(&a), 5000);
    a.credit_recovery_at = 9000;
    assert_int_equal(credit_recovery_base(&a), 9000);
}

static void test_severities(void **state)
{
    assert_int_equal(credit_severity_delta(CREDIT_MINOR), -10);
    assert_int_equal(credit_severity_delta(CREDIT_GENERAL), -30);
    assert_int_equal(credit_severity_delta(CREDIT_SERIOUS), -100);
    assert_int_equal(credit_severity_delta(CREDIT_SEVERE), -300);
    assert_int_equal(credit_severity_delta(CREDIT_NEGLIGENCE), -20);
    assert_int_equal(credit_severity_delta(CREDIT_MALICIOUS), -20);
    assert_int_equal(credit_severity_parse("Serious"), CREDIT_SERIOUS);
    assert_int_equal(credit_severity_parse("nope"), -1);
    assert_string_equal(credit_severity_name(CREDIT_SEVERE), "severe");
}

static void test_posting_gate(void **state)
{
    char why[400];
    struct account a = {.credit_delta = -300}; /* 300: level E */
    assert_int_equal(credit_may_post(&a, why, sizeof why), CREDIT_POST_LEVEL);
    assert_non_null(strstr(why, "Credit level E (score 300) does not allow posting in groups"));
    assert_non_null(strstr(why, "recovers by 10 points"));
    a.credit_delta = -200; /* 400: level D, 5 per 10 s */
    for (int i = 0; i < 5; i++)
        assert_int_equal(credit_may_post(&a, why, sizeof why), CREDIT_POST_OK);
    assert_int_equal(credit_may_post(&a, why, sizeof why), CREDIT_POST_RATE);
    assert_non_null(strstr(why, "Credit level D allows 5 messages per 10 seconds"));
    assert_int_equal(credit_may_post(NULL, why, sizeof why), CREDIT_POST_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels_by_score),
        cmocka_unit_test(test_rate_bucket),
        cmocka_unit_test(test_recovery_step_and_cap),
        cmocka_unit_test(test_recovery_base),
        cmocka_unit_test(test_severities),
        cmocka_unit_test(test_posting_gate),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
