/*
 * fuzz_phone.c - libFuzzer target for identity/phone.c.
 *
 * The whole input is a phone number as typed. Checked on every input:
 *   - phone_normalise() returns one of enum phone_result, always leaves out
 *     NUL-terminated within PHONE_MAX + 1 bytes, and leaves it "" unless
 *     PHONE_OK;
 *   - when it says PHONE_OK the output is E.164 ('+', 8..15 digits, the
 *     first not 0) that phone_validate_e164() accepts, and normalising the
 *     output again gives PHONE_OK and the same output (canonical form is a
 *     fixed point);
 *   - phone_validate_e164() accepting the raw input means the input is
 *     already canonical: normalising it gives it back unchanged;
 *   - every result has a sentence and a code.
 *
 * CHECK aborts even when NDEBUG is defined, so the fuzzer always reports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "identity/phone.h"
#include "fuzz.h"

static void check_result(enum phone_result r)
{
    CHECK(r >= PHONE_OK && r <= PHONE_NOT_CN_MOBILE);
    const char *sentence = phone_result_sentence(r), *code = phone_result_code(r);
    CHECK(sentence && *sentence && code && *code);
}

static void check_e164(const char *s, size_t len)
{
    CHECK(len >= 1 + PHONE_E164_MIN_DIGITS && len <= PHONE_MAX);
    CHECK(s[0] == '+' && s[1] >= '1' && s[1] <= '9');
    for (size_t i = 1; i < len; i++)
        CHECK(s[i] >= '0' && s[i] <= '9');
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data;
    char out[PHONE_MAX + 1], again[PHONE_MAX + 1];
    memset(out, 0x5A, sizeof out);
    enum phone_result r = phone_normalise(in, size, out);
    check_result(r);
    CHECK(memchr(out, '\0', sizeof out) != NULL);
    enum phone_result v = phone_validate_e164(in, size);
    check_result(v);
    if (v == PHONE_OK) {
        CHECK(r == PHONE_OK && strlen(out) == size && memcmp(out, in, size) == 0);
        check_e164(in, size);
    }
    if (r != PHONE_OK) {
        CHECK(out[0] == '\0');
        return 0;
    }
    size_t len = strlen(out);
    check_e164(out, len);
    CHECK(phone_validate_e164(out, len) == PHONE_OK);
    memset(again, 0x5A, sizeof again);
    CHECK(phone_normalise(out, len, again) == PHONE_OK && strcmp(out, again) == 0);
    return 0;
}
