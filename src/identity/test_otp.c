/*
 * test_otp.c - unit tests for identity/otp.c: issuing, the state diagram
 * of otp.h (expiry at exactly 10 minutes, 5 wrong tries lock, success
 * consumes the record), and the one-time-code rate limits built from
 * identity/ratelimit.c (per phone, per account, per IP).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "identity/otp.h"
#include "identity/ratelimit.h"

#define T0 INT64_C(1795996800)

static const uint8_t key[OTP_KEY_BYTES] = "0123456789abcdef0123456789abcdef";
static const char subject[] = "account:42 phone:+8613800138000";
static char code[OTP_DIGITS + 1];
static struct otp_record rec;

static void issue(const uint8_t rng[OTP_RNG_BYTES])
{
    assert_int_equal(otp_issue(key, subject, strlen(subject), rng, T0, code, &rec), OTP_OK);
}

static enum otp_result try_at(const char *attempt, int64_t now)
{
    return otp_check(&rec, key, subject, strlen(subject), attempt, strlen(attempt), now);
}

/* Some 6-digit string that is not the issued code. */
static const char *wrong_code(void)
{
    return strcmp(code, "000000") == 0 ? "000001" : "000000";
}

static void test_issue_makes_code_and_record(void **state)
{
    (void)state;
    static const uint8_t zero[OTP_RNG_BYTES] = {0};
    issue(zero);
    assert_string_equal(code, "000000");
    /* 2^64 - 1 mod 10^6 = 551615 */
    static const uint8_t ones[OTP_RNG_BYTES] = {255, 255, 255, 255, 255, 255, 255, 255};
    issue(ones);
    assert_string_equal(code, "551615");
    assert_int_equal(rec.created_at, T0);
    assert_int_equal(rec.expires_at, T0 + 600);
    assert_int_equal(rec.tries_left, 5);
    assert_false(rec.used);
    /* The record holds no trace of the code's digits in clear. */
    assert_null(memmem(&rec, sizeof rec, "551615", 6));
    /* Codes from real random bytes are always 6 digits. */
    for (int i = 0; i < 200; i++) {
        uint8_t rng[OTP_RNG_BYTES];
        randombytes_buf(rng, sizeof rng);
        issue(rng);
        assert_int_equal(strlen(code), 6);
        assert_int_equal(strspn(code, "0123456789"), 6);
    }
}

static void test_right_code_consumes(void **state)
{
    (void)state;
    static const uint8_t rng[OTP_RNG_BYTES] = {1, 2, 3, 4, 5, 6, 7, 8};
    issue(rng);
    assert_int_equal(try_at(code, T0 + 1), OTP_OK);
    assert_true(rec.used);
    static const uint8_t zero_hash[OTP_HASH_BYTES] = {0};
    assert_memory_equal(rec.hash, zero_hash, OTP_HASH_BYTES);
    /* A second use of the same code is refused. */
    assert_int_equal(try_at(code, T0 + 2), OTP_USED);
    assert_int_equal(try_at(wrong_code(), T0 + 2), OTP_USED);
}

static void test_spaces_in_attempt(void **state)
{
    (void)state;
    static const uint8_t rng[OTP_RNG_BYTES] = {9, 9, 9, 9, 9, 9, 9, 9};
    issue(rng);
    char spaced[9] = {code[0], code[1], code[2], ' ', code[3], code[4], code[5], ' ', 0};
    assert_int_equal(try_at(spaced, T0), OTP_OK);
}

static void test_expiry_at_exactly_ten_minutes(void **state)
{
    (void)state;
    static const uint8_t rng[OTP_RNG_BYTES] = {7};
    issue(rng);
    assert_int_equal(try_at(code, T0 + 600), OTP_EXPIRED);
    assert_int_equal(rec.tries_left, 5); /* expiry spends no try */
    issue(rng);
    assert_int_equal(try_at(code, T0 + 599), OTP_OK);
    issue(rng);
    assert_int_equal(try_at(wrong_code(), T0 + 599), OTP_WRONG);
    assert_int_equal(try_at(code, T0 + 601), OTP_EXPIRED);
}

static void test_five_wrong_tries_lock(void **state)
{
    (void)state;
    static const uint8_t rng[OTP_RNG_BYTES] = {3, 1, 4, 1, 5, 9, 2, 6};
    issue(rng);
    for (int left = 4; left >= 1; left--) {
        assert_int_equal(try_at(wrong_code(), T0 + 10), OTP_WRONG);
        assert_int_equal(rec.tries_left, left);
    }
    assert_int_equal(try_at(wrong_code(), T0 + 10), OTP_LOCKED);
    assert_int_equal(rec.tries_left, 0);
    /* Locked for good: even the right code fails, and nothing changes. */
    assert_int_equal(try_at(code, T0 + 11), OTP_LOCKED);
    assert_int_equal(rec.tries_left, 0);
    assert_int_equal(try_at(code, T0 + 700), OTP_LOCKED);
}

static void test_malformed_attempts_spend_tries(void **state)
{
    (void)state;
    static const uint8_t rng[OTP_RNG_BYTES] = {2, 7, 1, 8, 2, 8, 1, 8};
    issue(rng);
    char longer[8];
    memcpy(longer, code, 6);
    memcpy(longer + 6, "0", 2);
    assert_int_equal(try_at("", T0), OTP_WRONG);
    assert_int_equal(try_at(longer, T0), OTP_WRONG);
    assert_int_equal(try_at("12345a", T0), OTP_WRONG);
    assert_int_equal(otp_check(&rec, key, subject, strlen(subject), code, 5, T0), OTP_WRONG);
    assert_int_equal(rec.tries_left, 1);
    assert_int_equal(try_at(code, T0), OTP_OK);
}

static void test_bound_to_key_and_subject(void **state)
{
    (void)state;
    static const uint8_t rng[OTP_RNG_BYTES] = {4, 4, 4};
    issue(rng);
    static const char other[] = "account:43 phone:+8613800138000";
    assert_int_equal(otp_check(&rec, key, other, strlen(other), code, 6, T0), OTP_WRONG);
    uint8_t key2[OTP_KEY_BYTES];
    memcpy(key2, key, sizeof key2);
    key2[0] ^= 1;
    assert_int_equal(otp_check(&rec, key2, subject, strlen(subject), code, 6, T0), OTP_WRONG);
    assert_int_equal(try_at(code, T0), OTP_OK);
    char huge[OTP_SUBJECT_MAX + 1] = {0};
    assert_int_equal(otp_issue(key, huge, sizeof huge, rng, T0, code, &rec), OTP_INVALID);
    assert_string_equal(otp_result_code(OTP_LOCKED), "TOO_MANY_TRIES");
    assert_non_null(otp_result_sentence((enum otp_result)99));
}

/* ---- rate limits ------------------------------------------------------ */

static void test_ratelimit_window(void **state)
{
    (void)state;
    struct ratelimit_bucket b = {0};
    struct ratelimit_rule phone = RATELIMIT_OTP_PHONE;
    for (int i = 0; i < 5; i++)
        assert_true(ratelimit_allow(&b, phone, T0 + i * 60));
    assert_false(ratelimit_allow(&b, phone, T0 + 300));
    /* The first event leaves the window at exactly T0 + 3600. */
    assert_int_equal(ratelimit_retry_after(&b, phone, T0 + 300), 3300);
    assert_false(ratelimit_allow(&b, phone, T0 + 3599));
    assert_int_equal(ratelimit_retry_after(&b, phone, T0 + 3599), 1);
    assert_true(ratelimit_allow(&b, phone, T0 + 3600));
    assert_false(ratelimit_allow(&b, phone, T0 + 3600));
    assert_true(ratelimit_allow(&b, phone, T0 + 3660));
    assert_int_equal(ratelimit_retry_after(&b, phone, T0 + 3660), 60);
}

static void test_ratelimit_never_more_than_limit_per_window(void **state)
{
    (void)state;
    /* Hammer once a minute for a day: no 60-minute span holds more than
     * 10 allowed events, and the bucket keeps up (10 per hour pass). */
    struct ratelimit_bucket b = {0};
    struct ratelimit_rule account = RATELIMIT_OTP_ACCOUNT;
    int64_t allowed[24 * 60];
    int n = 0;
    for (int m = 0; m < 24 * 60; m++)
        if (ratelimit_allow(&b, account, T0 + m * 60))
            allowed[n++] = T0 + m * 60;
    assert_int_equal(n, 24 * 10);
    for (int i = 10; i < n; i++)
        assert_true(allowed[i] - allowed[i - 10] >= 3600);
}

static void test_ratelimit_refusals_not_recorded(void **state)
{
    (void)state;
    struct ratelimit_bucket b = {0};
    struct ratelimit_rule r = {2, 100};
    assert_true(ratelimit_allow(&b, r, 0));
    assert_true(ratelimit_allow(&b, r, 10));
    for (int t = 11; t < 100; t++)
        assert_false(ratelimit_allow(&b, r, t));
    assert_true(ratelimit_allow(&b, r, 100));
}

static void test_ratelimit_all_or_nothing(void **state)
{
    (void)state;
    struct ratelimit_bucket phone_a = {0}, phone_b = {0}, account = {0}, ip = {0};
    struct ratelimit_rule rules[3] = {RATELIMIT_OTP_PHONE, RATELIMIT_OTP_ACCOUNT, RATELIMIT_OTP_IP};
    struct ratelimit_bucket *const via_a[3] = {&phone_a, &account, &ip};
    struct ratelimit_bucket *const via_b[3] = {&phone_b, &account, &ip};
    /* One account tries phone A 5 times: the phone limit stops the 6th. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(ratelimit_allow_all(via_a, rules, 3, T0 + i), -1);
    assert_int_equal(ratelimit_allow_all(via_a, rules, 3, T0 + 5), 0);
    /* Phone B takes 5 more; then the account's 10 per hour stop phone C. */
    for (int i = 0; i < 5; i++)
        assert_int_equal(ratelimit_allow_all(via_b, rules, 3, T0 + 10 + i), -1);
    struct ratelimit_bucket phone_c = {0};
    struct ratelimit_bucket *const via_c[3] = {&phone_c, &account, &ip};
    assert_int_equal(ratelimit_allow_all(via_c, rules, 3, T0 + 20), 1);
    /* Refusals recorded nothing anywhere: the IP has used 10 of its 20. */
    assert_int_equal(phone_a.count, 5);
    assert_int_equal(phone_c.count, 0);
    assert_int_equal(ip.count, 10);
    /* Other accounts from the same IP share its 20 per hour. */
    for (int acct = 0; acct < 2; acct++) {
        struct ratelimit_bucket p = {0}, a = {0};
        struct ratelimit_bucket *const via[3] = {&p, &a, &ip};
        for (int i = 0; i < 5; i++)
            assert_int_equal(ratelimit_allow_all(via, rules, 3, T0 + 30), -1);
    }
    struct ratelimit_bucket p = {0}, a = {0};
    struct ratelimit_bucket *const via[3] = {&p, &a, &ip};
    assert_int_equal(ratelimit_allow_all(via, rules, 3, T0 + 40), 2);
    assert_int_equal(p.count, 0);
    assert_int_equal(a.count, 0);
}

static void test_ratelimit_edges(void **state)
{
    (void)state;
    struct ratelimit_bucket b = {0};
    struct ratelimit_rule none = {0, 60};
    assert_false(ratelimit_allow(&b, none, T0));
    assert_int_equal(ratelimit_retry_after(&b, none, T0), 60);
    /* Limits over the ring size act as the ring size. */
    struct ratelimit_rule huge = {1000, 60};
    for (int i = 0; i < RATELIMIT_MAX_EVENTS; i++)
        assert_true(ratelimit_allow(&b, huge, T0));
    assert_false(ratelimit_allow(&b, huge, T0));
    assert_true(ratelimit_allow(&b, huge, T0 + 60));
    /* The clock stepping back keeps past events inside the window. */
    struct ratelimit_bucket c = {0};
    struct ratelimit_rule one = {1, 60};
    assert_true(ratelimit_allow(&c, one, T0));
    assert_false(ratelimit_allow(&c, one, T0 - 1000));
    /* A limit lowered by a reload applies at once. */
    struct ratelimit_bucket d = {0};
    struct ratelimit_rule five = {5, 3600}, two = {2, 3600};
    for (int i = 0; i < 3; i++)
        assert_true(ratelimit_allow(&d, five, T0 + i));
    assert_false(ratelimit_allow(&d, two, T0 + 3));
    assert_int_equal(ratelimit_retry_after(&d, two, T0 + 3), 3600 - 2);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_issue_makes_code_and_record),
        cmocka_unit_test(test_right_code_consumes),
        cmocka_unit_test(test_spaces_in_attempt),
        cmocka_unit_test(test_expiry_at_exactly_ten_minutes),
        cmocka_unit_test(test_five_wrong_tries_lock),
        cmocka_unit_test(test_malformed_attempts_spend_tries),
        cmocka_unit_test(test_bound_to_key_and_subject),
        cmocka_unit_test(test_ratelimit_window),
        cmocka_unit_test(test_ratelimit_never_more_than_limit_per_window),
        cmocka_unit_test(test_ratelimit_refusals_not_recorded),
        cmocka_unit_test(test_ratelimit_all_or_nothing),
        cmocka_unit_test(test_ratelimit_edges),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
