/*
 * fuzz_idcheck.c - libFuzzer target for identity/idcheck.c, phone.c and
 * otp.c (the checkers that see what users type).
 *
 * Input: byte 0 picks `now` from a table (including the extremes of
 * int64_t); the rest is the number as typed, given to every document type,
 * to the phone normaliser and as a one-time-code attempt.
 *
 * Checked on every input, beyond "no crash, no out-of-bounds read":
 *   - an OK document number is canonical (A-Z, 0-9, and parentheses only
 *     for the Taiwan permit; 1..IDCHECK_MAX bytes), normalising it gives it
 *     back, and checking it again gives OK (the stored form re-validates);
 *   - an OK resident ID or 2023 residence card ends in its MOD 11-2
 *     character;
 *   - an OK phone is E.164 that phone_validate_e164 accepts and that
 *     normalises to itself;
 *   - an attempt succeeds exactly when, without spaces and tabs, it is the
 *     issued code; a wrong one spends exactly one try.
 */
#include <assert.h>
#include <sodium.h>
#include <stdint.h>
#include <string.h>

#include "identity/idcheck.h"
#include "identity/otp.h"
#include "identity/phone.h"
#include "fuzz.h"

static const int64_t instants[] = {
    INT64_C(1795996800), /* 2026-11-30 */
    INT64_C(1709222399), /* a second before 2024-03-01 in Beijing */
    0,
    -INT64_C(2208988800), /* 1900-01-01 UTC */
    INT64_MAX,
    INT64_MIN,
};

static void check_document(enum iddoc_type t, const char *s, size_t n, int64_t now)
{
    char out[IDCHECK_MAX + 1], again[IDCHECK_MAX + 1];
    if (idcheck_document(t, s, n, now, out) != IDCHECK_OK)
        return;
    size_t len = strlen(out);
    assert(len >= 1 && len <= IDCHECK_MAX);
    for (size_t i = 0; i < len; i++) {
        char c = out[i];
        bool paren = (c == '(' || c == ')') && t == IDDOC_TW_COMPATRIOT;
        assert((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || paren);
    }
    assert(idcheck_normalise(out, len, again, sizeof again) == (int)len);
    assert(strcmp(out, again) == 0);
    assert(idcheck_document(t, out, len, now, again) == IDCHECK_OK);
    if (len == 18 && (t == IDDOC_CN_RESIDENT_ID || t == IDDOC_FOREIGN_PR))
        assert(idcheck_mod11_2(out) == out[17]);
}

static void check_phone(const char *s, size_t n)
{
    char out[PHONE_MAX + 1], again[PHONE_MAX + 1];
    if (phone_normalise(s, n, out) != PHONE_OK)
        return;
    size_t len = strlen(out);
    assert(out[0] == '+' && len >= 1 + PHONE_E164_MIN_DIGITS && len <= PHONE_MAX);
    assert(phone_validate_e164(out, len) == PHONE_OK);
    assert(phone_normalise(out, len, again) == PHONE_OK && strcmp(out, again) == 0);
}

/* The attempt with spaces and tabs dropped equals the code? */
static bool attempt_is(const char *s, size_t n, const char *code)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == ' ' || s[i] == '\t')
            continue;
        if (k == OTP_DIGITS || s[i] != code[k])
            return false;
        k++;
    }
    return k == OTP_DIGITS;
}

static void check_otp(const char *s, size_t n)
{
    static const uint8_t key[OTP_KEY_BYTES] = {1, 2, 3};
    static const uint8_t rng[OTP_RNG_BYTES] = {0, 0, 0, 0, 0, 1, 0xE2, 0x40}; /* 123456 */
    char code[OTP_DIGITS + 1];
    struct otp_record rec;
    otp_issue(key, "s", 1, rng, 1000, code, &rec);
    assert(strcmp(code, "123456") == 0);
    enum otp_result r = otp_check(&rec, key, "s", 1, s, n, 1000);
    assert((r == OTP_OK) == attempt_is(s, n, code));
    assert(r == OTP_OK || (r == OTP_WRONG && rec.tries_left == OTP_MAX_TRIES - 1));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bool ready;
    if (!ready) {
        assert(sodium_init() >= 0);
        ready = true;
    }
    if (size == 0)
        return 0;
    int64_t now = instants[data[0] % (sizeof instants / sizeof instants[0])];
    const char *s = (const char *)data + 1;
    size_t n = size - 1;
    for (int t = 0; t < IDDOC_COUNT; t++)
        check_document((enum iddoc_type)t, s, n, now);
    check_phone(s, n);
    check_otp(s, n);
    return 0;
}
