/*
 * phone.c - phone numbers for level-1 verification: normalise and validate.
 *
 * Two steps: strip_separators() reduces the input to an optional '+' and
 * digits (rule 1 of phone.h), then phone_normalise() decides the country
 * code (rules 2-4) and phone_validate_e164() applies the E.164 and +86
 * rules (rule 5) to the result. The stored form is always checked by the
 * same phone_validate_e164().
 */
#include "identity/phone.h"
#include "identity/idcheck.h"

#include <stdbool.h>
#include <string.h>

#define CN_PREFIX     "+86"
#define CN_MOBILE_LEN 11

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_separator(char c)
{
    return c == ' ' || c == '\t' || c == '-' || c == '.' || c == '(' || c == ')';
}

/* Full-width '+', digits and the ideographic space as one ASCII byte (see
 * idcheck_fold_wide); 0 for any other sequence. */
static char fold_wide(const unsigned char *in, size_t len, size_t i)
{
    char c = idcheck_fold_wide(in, len, i);
    return (c == '+' || c == ' ' || (c >= '0' && c <= '9')) ? c : 0;
}

/*
 * Copies the digits (and a '+' only as the first kept character) into buf
 * (cap bytes with the NUL). Returns the length, or -1 for a bad character
 * and -2 when it does not fit.
 */
static int strip_separators(const char *in, size_t len, char *buf, size_t cap)
{
    const unsigned char *u = (const unsigned char *)in;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        char c = fold_wide(u, len, i);
        if (c != 0)
            i += 2;
        else
            c = (char)u[i];
        if (is_separator(c))
            continue;
        if (!is_digit(c) && !(c == '+' && n == 0))
            return -1;
        if (n + 1 >= cap)
            return -2;
        buf[n++] = c;
    }
    buf[n] = '\0';
    return (int)n;
}

static bool is_cn_mobile(const char *s, size_t n)
{
    if (n != CN_MOBILE_LEN || s[0] != '1' || s[1] < '3' || s[1] > '9')
        return false;
    for (size_t i = 2; i < n; i++)
        if (!is_digit(s[i]))
            return false;
    return true;
}

/* Rules 2-4: digits (with optional leading '+') to "+digits" in out. */
static enum phone_result apply_country(const char *d, size_t n, char out[PHONE_MAX + 1])
{
    const char *rest = d;
    const char *prefix = "+";
    if (d[0] == '+') {
        rest = d + 1;
    } else if (n >= 2 && d[0] == '0' && d[1] == '0') {
        rest = d + 2;
    } else if (is_cn_mobile(d, n)) {
        prefix = CN_PREFIX;
    } else if (n == 2 + CN_MOBILE_LEN && d[0] == '8' && d[1] == '6' && is_cn_mobile(d + 2, n - 2)) {
        rest = d + 2;
        prefix = CN_PREFIX;
    } else {
        return PHONE_NEED_COUNTRY;
    }
    size_t plen = strlen(prefix), rlen = strlen(rest);
    if (plen + rlen > PHONE_MAX)
        return PHONE_TOO_LONG;
    memcpy(out, prefix, plen);
    memcpy(out + plen, rest, rlen + 1);
    return PHONE_OK;
}

enum phone_result phone_validate_e164(const char *s, size_t len)
{
    if (len == 0)
        return PHONE_EMPTY;
    if (s[0] != '+')
        return PHONE_NEED_COUNTRY;
    for (size_t i = 1; i < len; i++)
        if (!is_digit(s[i]))
            return PHONE_BAD_CHAR;
    size_t digits = len - 1;
    if (digits > PHONE_E164_MAX_DIGITS)
        return PHONE_TOO_LONG;
    if (digits < PHONE_E164_MIN_DIGITS)
        return PHONE_TOO_SHORT;
    if (s[1] == '0')
        return PHONE_BAD_COUNTRY;
    if (s[1] == '8' && s[2] == '6' && !is_cn_mobile(s + 3, digits - 2))
        return PHONE_NOT_CN_MOBILE;
    return PHONE_OK;
}

enum phone_result phone_normalise(const char *in, size_t len, char out[PHONE_MAX + 1])
{
    /* Room for the '+' and 15 digits, one more so "too long" is seen, and
     * a "00" international prefix. */
    char digits[PHONE_MAX + 4];
    out[0] = '\0';
    if (len > PHONE_RAW_MAX)
        return PHONE_TOO_LONG;
    int n = strip_separators(in, len, digits, sizeof digits);
    if (n == -1)
        return PHONE_BAD_CHAR;
    if (n == -2)
        return PHONE_TOO_LONG;
    if (n == 0)
        return PHONE_EMPTY;
    enum phone_result r = apply_country(digits, (size_t)n, out);
    if (r == PHONE_OK)
        r = phone_validate_e164(out, strlen(out));
    if (r != PHONE_OK)
        out[0] = '\0';
    return r;
}

static const struct {
    const char *code, *sentence;
} results[] = {
    [PHONE_OK] = {"OK", "The phone number is valid."},
    [PHONE_EMPTY] = {"EMPTY", "Please give a phone number."},
    [PHONE_BAD_CHAR] = {"BAD_CHARACTER",
                        "A phone number may only contain digits, a leading + and spaces or "
                        "dashes."},
    [PHONE_NEED_COUNTRY] = {"NEED_COUNTRY_CODE",
                            "Please write the number with its country code, like +44 20 7946 "
                            "0000."},
    [PHONE_BAD_COUNTRY] = {"BAD_COUNTRY_CODE", "A country code never starts with 0."},
    [PHONE_TOO_SHORT] = {"TOO_SHORT", "That phone number is too short."},
    [PHONE_TOO_LONG] = {"TOO_LONG", "That phone number is too long (at most 15 digits)."},
    [PHONE_NOT_CN_MOBILE] = {"NOT_MOBILE",
                             "A mainland China number must be a mobile number (11 digits "
                             "starting with 13 to 19)."},
};

const char *phone_result_sentence(enum phone_result r)
{
    if ((unsigned)r >= sizeof results / sizeof results[0])
        r = PHONE_BAD_CHAR;
    return results[r].sentence;
}

const char *phone_result_code(enum phone_result r)
{
    if ((unsigned)r >= sizeof results / sizeof results[0])
        r = PHONE_BAD_CHAR;
    return results[r].code;
}
