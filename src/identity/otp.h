/*
 * otp.h - one-time codes for phone confirmation (identity level 1).
 *
 * Owns the life of one code as plain data: issuing it, checking attempts,
 * expiry and the try limit (SPEC §4: 6 digits, valid 10 minutes, 5 tries).
 * Sans-IO: the caller supplies random bytes, the time and the secret key,
 * and stores the record wherever it likes (the record holds no pointers).
 *
 * The code itself is never stored: the record keeps a keyed BLAKE2b hash
 * (libsodium crypto_generichash) of a domain tag, the subject and the code.
 * The key matters: with only 10^6 codes, an unkeyed hash in a leaked
 * database would give every live code away in a millisecond. The subject
 * (for example the account id and the phone) binds the code to what it
 * confirms, so a record copied onto another row confirms nothing.
 *
 * States of a record (otp_check performs every transition):
 *
 *              otp_issue
 *                  |
 *                  v      wrong attempt, tries_left > 0 after it
 *   +-------> [ ACTIVE ] -------------------------------+
 *   |              |  \                                 |
 *   +--------------+   \ right attempt                  |
 *       now >= expires_at \                             |
 *              |           v                            |
 *              v        [ USED ]      5th wrong attempt v
 *         [ EXPIRED ]                                [ LOCKED ]
 *
 * Invariants:
 *   1. expires_at == created_at + OTP_TTL_SECONDS; a code is accepted at
 *      now < expires_at only ("valid 10 minutes": at exactly +600 s it is
 *      expired).
 *   2. tries_left starts at OTP_MAX_TRIES and only decreases, by one per
 *      wrong attempt while ACTIVE; at 0 the record is LOCKED for good.
 *   3. An attempt on a record that is not ACTIVE changes nothing and can
 *      never succeed; EXPIRED is reported before a try is spent.
 *   4. Comparison of hashes is constant-time (sodium_memcmp).
 *   5. A USED record keeps no hash (wiped with sodium_memzero).
 *   6. Times are Unix seconds below 2^62 (no overflow adding the TTL).
 */
#ifndef QUN_IDENTITY_OTP_H
#define QUN_IDENTITY_OTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OTP_DIGITS      6
#define OTP_TTL_SECONDS 600
#define OTP_MAX_TRIES   5
#define OTP_HASH_BYTES  32 /* crypto_generichash_BYTES */
#define OTP_KEY_BYTES   32 /* crypto_generichash_KEYBYTES */
#define OTP_RNG_BYTES   8  /* random bytes otp_issue consumes */
#define OTP_SUBJECT_MAX 256

struct otp_record {
    uint8_t hash[OTP_HASH_BYTES];
    int64_t created_at; /* Unix seconds */
    int64_t expires_at;
    int32_t tries_left;
    bool used;
};

enum otp_result {
    OTP_OK,      /* right code; the record is now USED */
    OTP_WRONG,   /* wrong code; record->tries_left says how many remain */
    OTP_EXPIRED, /* too late; ask for a new code */
    OTP_LOCKED,  /* out of tries (this attempt may have been the last) */
    OTP_USED,    /* this code was already accepted once */
    OTP_INVALID, /* subject longer than OTP_SUBJECT_MAX: caller's mistake */
};

/*
 * Makes a new code from `rng` (OTP_RNG_BYTES from randombytes_buf or any
 * CSPRNG) into code (6 digits + NUL) and fills *rec. The code goes to the
 * SMS provider and is then forgotten. Returns OTP_OK, or OTP_INVALID for an
 * over-long subject.
 */
enum otp_result otp_issue(const uint8_t key[OTP_KEY_BYTES], const void *subject, size_t subject_len,
                          const uint8_t rng[OTP_RNG_BYTES], int64_t now, char code[OTP_DIGITS + 1],
                          struct otp_record *rec);

/*
 * Checks an attempt as typed (spaces are ignored, so "123 456" counts; any
 * other shape is simply a wrong code and spends a try). Updates *rec; the
 * caller stores it back before answering the user.
 */
enum otp_result otp_check(struct otp_record *rec, const uint8_t key[OTP_KEY_BYTES],
                          const void *subject, size_t subject_len, const char *attempt,
                          size_t attempt_len, int64_t now);

/* A sentence for the user and a stable token for machines. */
const char *otp_result_sentence(enum otp_result r);
const char *otp_result_code(enum otp_result r);

#endif
