/*
 * otp.c - one-time codes for phone confirmation (identity level 1).
 *
 * The state diagram and invariants are in otp.h; otp_check() is the only
 * function that moves a record between states.
 */
#include "identity/otp.h"

#include <assert.h>
#include <sodium.h>
#include <string.h>

_Static_assert(OTP_HASH_BYTES == crypto_generichash_BYTES, "hash size");
_Static_assert(OTP_KEY_BYTES == crypto_generichash_KEYBYTES, "key size");

/* Versioned so a future change of what is hashed cannot make an old record
 * accept a code by accident. */
static const char otp_domain[] = "qun-otp-v1";

#define OTP_MODULUS 1000000u /* 10^OTP_DIGITS */

/*
 * Hash of (domain, subject length, subject, code). The length is included
 * so subject "ab"+code "1..." and subject "ab1"+code "..." cannot collide.
 */
static void otp_hash(const uint8_t key[OTP_KEY_BYTES], const void *subject, size_t subject_len,
                     const char code[OTP_DIGITS], uint8_t out[OTP_HASH_BYTES])
{
    crypto_generichash_state st;
    uint8_t lenbuf[2] = {(uint8_t)(subject_len >> 8), (uint8_t)subject_len};
    crypto_generichash_init(&st, key, OTP_KEY_BYTES, OTP_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)otp_domain, sizeof otp_domain);
    crypto_generichash_update(&st, lenbuf, sizeof lenbuf);
    crypto_generichash_update(&st, subject, subject_len);
    crypto_generichash_update(&st, (const uint8_t *)code, OTP_DIGITS);
    crypto_generichash_final(&st, out, OTP_HASH_BYTES);
    sodium_memzero(&st, sizeof st);
}

/* 64 random bits reduced mod 10^6: the bias is below 10^6 / 2^64, far
 * under anything an attacker with 5 tries could notice. */
static void code_from_rng(const uint8_t rng[OTP_RNG_BYTES], char code[OTP_DIGITS + 1])
{
    uint64_t v = 0;
    for (int i = 0; i < OTP_RNG_BYTES; i++)
        v = v << 8 | rng[i];
    uint32_t n = (uint32_t)(v % OTP_MODULUS);
    for (int i = OTP_DIGITS - 1; i >= 0; i--) {
        code[i] = (char)('0' + n % 10);
        n /= 10;
    }
    code[OTP_DIGITS] = '\0';
}

enum otp_result otp_issue(const uint8_t key[OTP_KEY_BYTES], const void *subject, size_t subject_len,
                          const uint8_t rng[OTP_RNG_BYTES], int64_t now, char code[OTP_DIGITS + 1],
                          struct otp_record *rec)
{
    if (subject_len > OTP_SUBJECT_MAX)
        return OTP_INVALID;
    memset(rec, 0, sizeof *rec);
    code_from_rng(rng, code);
    otp_hash(key, subject, subject_len, code, rec->hash);
    rec->created_at = now;
    rec->expires_at = now + OTP_TTL_SECONDS;
    rec->tries_left = OTP_MAX_TRIES;
    rec->used = false;
    return OTP_OK;
}

/* The attempt without spaces, if that is exactly OTP_DIGITS digits. */
static bool attempt_digits(const char *attempt, size_t len, char out[OTP_DIGITS])
{
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = attempt[i];
        if (c == ' ' || c == '\t')
            continue;
        if (c < '0' || c > '9' || n == OTP_DIGITS)
            return false;
        out[n++] = c;
    }
    return n == OTP_DIGITS;
}

/* The state of a record before an attempt (otp.h, invariant 3). */
static enum otp_result record_state(const struct otp_record *rec, int64_t now)
{
    if (rec->used)
        return OTP_USED;
    if (rec->tries_left <= 0)
        return OTP_LOCKED;
    if (now >= rec->expires_at)
        return OTP_EXPIRED;
    return OTP_OK;
}

enum otp_result otp_check(struct otp_record *rec, const uint8_t key[OTP_KEY_BYTES],
                          const void *subject, size_t subject_len, const char *attempt,
                          size_t attempt_len, int64_t now)
{
    if (subject_len > OTP_SUBJECT_MAX)
        return OTP_INVALID;
    enum otp_result state = record_state(rec, now);
    if (state != OTP_OK)
        return state;
    char digits[OTP_DIGITS];
    uint8_t h[OTP_HASH_BYTES];
    bool right = false;
    if (attempt_digits(attempt, attempt_len, digits)) {
        otp_hash(key, subject, subject_len, digits, h);
        right = sodium_memcmp(h, rec->hash, OTP_HASH_BYTES) == 0;
    }
    if (right) {
        rec->used = true;
        sodium_memzero(rec->hash, sizeof rec->hash);
        return OTP_OK;
    }
    rec->tries_left--;
    assert(rec->tries_left >= 0);
    return rec->tries_left == 0 ? OTP_LOCKED : OTP_WRONG;
}

static const struct {
    const char *code, *sentence;
} results[] = {
    [OTP_OK] = {"OK", "Your phone number is confirmed."},
    [OTP_WRONG] = {"WRONG_CODE", "That code is not right; please try again."},
    [OTP_EXPIRED] = {"CODE_EXPIRED",
                     "That code has expired (codes are valid for 10 minutes); please ask for a "
                     "new one."},
    [OTP_LOCKED] = {"TOO_MANY_TRIES", "Too many wrong codes; please ask for a new one."},
    [OTP_USED] = {"CODE_USED", "That code has already been used."},
    [OTP_INVALID] = {"INVALID", "Internal error checking the code."},
};

const char *otp_result_sentence(enum otp_result r)
{
    if ((unsigned)r >= sizeof results / sizeof results[0])
        r = OTP_INVALID;
    return results[r].sentence;
}

const char *otp_result_code(enum otp_result r)
{
    if ((unsigned)r >= sizeof results / sizeof results[0])
        r = OTP_INVALID;
    return results[r].code;
}
