/*
 * phone.h - phone numbers for level-1 verification: normalise and validate.
 *
 * Owns the rule "which strings name a phone we will send a one-time code
 * to, and what is that phone's one canonical spelling". The canonical
 * spelling is E.164 ("+" then 8..15 digits, the first not 0): it is what
 * the SMS provider receives, what the vault encrypts and what the per-phone
 * rate limit and uniqueness hash are keyed on, so "+86 138-0013-8000",
 * "008613800138000" and "13800138000" must all become "+8613800138000".
 *
 * Accepted spellings (the rules, in order, live in phone_normalise):
 *   1. Separators are dropped anywhere: ASCII space and tab, '-', '.', '(',
 *      ')', and U+3000 (ideographic space). Full-width digits and '+'
 *      (U+FF10..U+FF19, U+FF0B) count as their ASCII forms.
 *   2. "+CC..." is taken as E.164.
 *   3. "00CC..." is the international prefix used in China and most of the
 *      world: "00" becomes "+".
 *   4. Without "+" or "00", the number is only accepted when it is a
 *      mainland mobile: 11 digits 1[3-9]XXXXXXXXX, or the same preceded by
 *      "86" (13 digits). Anything else must carry its country code, since
 *      national formats cannot be told apart.
 *   5. Country code 86 needs a mainland mobile after it (11 digits starting
 *      1[3-9]): fixed lines cannot receive an SMS code.
 *
 * Pure: no I/O, no allocation; safe on any bytes.
 */
#ifndef QUN_IDENTITY_PHONE_H
#define QUN_IDENTITY_PHONE_H

#include <stddef.h>

/* '+' plus at most 15 digits (ITU-T E.164 §6). */
#define PHONE_E164_MAX_DIGITS 15
#define PHONE_E164_MIN_DIGITS 8
#define PHONE_MAX             (1 + PHONE_E164_MAX_DIGITS)

/* Raw inputs longer than this are refused before looking at them. */
#define PHONE_RAW_MAX 64

enum phone_result {
    PHONE_OK,
    PHONE_EMPTY,         /* nothing but separators */
    PHONE_BAD_CHAR,      /* a character that is not a digit, '+' or separator */
    PHONE_NEED_COUNTRY,  /* no "+"/"00" and not a mainland mobile */
    PHONE_BAD_COUNTRY,   /* country code starts with 0 */
    PHONE_TOO_SHORT,     /* fewer than PHONE_E164_MIN_DIGITS digits */
    PHONE_TOO_LONG,      /* more than 15 digits, or a raw input over the cap */
    PHONE_NOT_CN_MOBILE, /* +86 but not 1[3-9] + 9 digits */
};

/*
 * Normalises a phone number as typed into E.164 in out (PHONE_MAX + 1
 * bytes, NUL-terminated; "" unless PHONE_OK) and validates it.
 */
enum phone_result phone_normalise(const char *in, size_t len, char out[PHONE_MAX + 1]);

/* Validates a string that should already be canonical E.164 (as read back
 * from storage). Never rewrites: "+86 138..." is PHONE_BAD_CHAR here. */
enum phone_result phone_validate_e164(const char *s, size_t len);

/* A sentence for the user (FAIL/NOTICE) and a stable token for machines. */
const char *phone_result_sentence(enum phone_result r);
const char *phone_result_code(enum phone_result r);

#endif
