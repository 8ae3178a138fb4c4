/*
 * idcheck.h - local format checks for identity document numbers.
 *
 * Owns the rule "is this string a well-formed number for this kind of
 * document?" for level-2 identity verification (SPEC §4). It says nothing
 * about whether the document exists or belongs to the user: that truth
 * check is a provider's. A well-formed number is what the provider, the
 * vault and the keyed uniqueness hash receive, always in canonical form
 * (idcheck_normalise), so that " 11010519491231002x " and
 * "11010519491231002X" are the same identity.
 *
 * Pure: no I/O, no clock, no allocation, no global state; "today" comes in
 * as a Unix time `now`. Every input byte sequence is safe (fuzzed by
 * fuzz/fuzz_idcheck.c). The rules, each with its source, are written out in
 * docs/internals/identity-checks.md; the table of them lives in idcheck.c.
 *
 * Invariants:
 *   1. idcheck_document() returns IDCHECK_OK only for a canonical number:
 *      ASCII upper-case letters, digits and (Taiwan permits only) one pair
 *      of parentheses, 1..IDCHECK_MAX bytes, NUL-terminated in `out`.
 *   2. Normalising a canonical number gives it back unchanged.
 *   3. A result's sentence and code are static strings, never NULL.
 */
#ifndef QUN_IDENTITY_IDCHECK_H
#define QUN_IDENTITY_IDCHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Longest canonical number (a foreign passport, 20 characters). Longer
 * inputs are refused before any other rule runs. */
#define IDCHECK_MAX 20

/* Raw inputs longer than this are refused outright: even with every byte a
 * space to strip, nothing of a sane number could be in there. */
#define IDCHECK_RAW_MAX 256

enum iddoc_type {
    IDDOC_CN_RESIDENT_ID,   /* 居民身份证 (and HK/Macao/Taiwan residence permits) */
    IDDOC_PASSPORT_CN,      /* passport of the People's Republic of China */
    IDDOC_PASSPORT_OTHER,   /* any other country's passport */
    IDDOC_HKMO_PERMIT,      /* 往来港澳通行证, mainland residents to HK/Macao */
    IDDOC_HKMO_HOME_RETURN, /* 港澳居民来往内地通行证, HK/Macao residents */
    IDDOC_TW_COMPATRIOT,    /* 台湾居民来往大陆通行证, Taiwan residents */
    IDDOC_TW_PERMIT,        /* 大陆居民往来台湾通行证, mainland residents to Taiwan */
    IDDOC_FOREIGN_PR,       /* 外国人永久居留身份证 (2004/2017 and 2023 versions) */
    IDDOC_COUNT
};

enum idcheck_result {
    IDCHECK_OK,
    IDCHECK_EMPTY,        /* nothing left after normalising */
    IDCHECK_TOO_LONG,     /* over IDCHECK_MAX (or IDCHECK_RAW_MAX raw) */
    IDCHECK_BAD_CHAR,     /* a character no number of this type has */
    IDCHECK_BAD_FORMAT,   /* wrong length or layout for this type */
    IDCHECK_BAD_REGION,   /* resident ID: not a province-level code */
    IDCHECK_BAD_DATE,     /* resident ID: birth date is not a calendar date */
    IDCHECK_DATE_FUTURE,  /* resident ID: birth date after today (UTC+8) */
    IDCHECK_DATE_TOO_OLD, /* resident ID: birth date before 1900-01-01 */
    IDCHECK_BAD_CHECK,    /* MOD 11-2 check character does not match */
    IDCHECK_BAD_TYPE,     /* not an enum iddoc_type */
};

/*
 * Canonical form: drops ASCII whitespace and U+3000 (ideographic space)
 * anywhere, maps full-width ASCII (U+FF01..U+FF5E, as Chinese input methods
 * type it) to ASCII, upper-cases a-z. Other bytes are kept, so a later
 * check refuses them. Writes a NUL-terminated string to out (cap bytes
 * including the NUL). Returns its length, or -1 when it would not fit or
 * len exceeds IDCHECK_RAW_MAX (out is then "" if cap > 0).
 */
/* The ASCII byte for one full-width form (U+FF01..U+FF5E) or the
 * ideographic space (U+3000, as ' ') starting at in[i], or 0 when in[i]
 * starts neither. Shared with phone.c: Chinese keyboards type both. */
char idcheck_fold_wide(const unsigned char *in, size_t len, size_t i);

int idcheck_normalise(const char *in, size_t len, char *out, size_t cap);

/*
 * Checks a raw number as typed by the user: normalises it into out (at
 * least IDCHECK_MAX + 1 bytes), then applies the rules of `type`. `now` is
 * Unix time in seconds; it only decides which birth dates are "future".
 * On any result out holds what was checked (possibly truncated to "").
 */
enum idcheck_result idcheck_document(enum iddoc_type type, const char *in, size_t len, int64_t now,
                                     char out[IDCHECK_MAX + 1]);

/* The ISO 7064 MOD 11-2 check character ('0'..'9' or 'X') for 17 ASCII
 * digits; '\0' if one of them is not a digit. Shared by the resident ID
 * and the 2023 permanent residence card. */
char idcheck_mod11_2(const char digits[17]);

/* A sentence for the user saying what is wrong (for FAIL/NOTICE). */
const char *idcheck_result_sentence(enum idcheck_result r);

/* A stable upper-case token for machine use (FAIL context, logs). */
const char *idcheck_result_code(enum idcheck_result r);

/* The document type's configuration/protocol name ("cn-id", ...), and back.
 * idcheck_type_parse returns false for an unknown name. */
const char *idcheck_type_name(enum iddoc_type type);
bool idcheck_type_parse(const char *name, enum iddoc_type *type);

#endif
