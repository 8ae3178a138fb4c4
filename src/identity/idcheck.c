/*
 * idcheck.c - local format checks for identity document numbers.
 *
 * Every rule is in one of two places:
 *   - rules[] below: per document type, which characters may appear and
 *     which layouts are accepted (a tiny pattern language, see
 *     pattern_match); the passport of another country is the one type with
 *     a length range instead of layouts;
 *   - check_resident_id / check_foreign_pr_2023: the rules with arithmetic
 *     (region prefix, birth date, MOD 11-2).
 * Why each layout exists and where it comes from is in
 * docs/internals/identity-checks.md; keep the two in step.
 *
 * Checks run in a fixed order so the user hears about the first thing
 * wrong: length cap, characters, layout, then region, date, check character.
 */
#include "identity/idcheck.h"

#include <string.h>

/* China Standard Time, UTC+8, all year: birth dates on Chinese documents
 * are local dates, so a baby born at 07:00 in Beijing is not "future". */
#define CST_OFFSET_SECONDS (8 * 3600)

/* Character classes a type may use (checked before layouts). */
enum charset {
    CHARS_ALNUM,       /* A-Z 0-9 */
    CHARS_ALNUM_PAREN, /* A-Z 0-9 ( ) */
};

/*
 * Pattern language for layouts: '#' a digit, '@' a letter other than I and
 * O (which issuers skip as look-alikes of 1 and 0), '&' any letter A-Z, '*'
 * a letter or digit; every other character stands for itself.
 */
#define MAX_LAYOUTS 16

struct doc_rule {
    const char *name; /* configuration/protocol name */
    enum charset chars;
    const char *layouts[MAX_LAYOUTS]; /* NULL-terminated; none = special code */
};

static const struct doc_rule rules[IDDOC_COUNT] = {
    [IDDOC_CN_RESIDENT_ID] = {"cn-id", CHARS_ALNUM, {NULL}},
    [IDDOC_PASSPORT_CN] = {"passport-cn",
                           CHARS_ALNUM,
                           {"E########", "E@#######", "G########", "14#######", "15#######",
                            "DE#######", "SE#######", "PE#######", "S########", "P########",
                            "K########", "H########", "KJ#######", "MA#######", NULL}},
    [IDDOC_PASSPORT_OTHER] = {"passport", CHARS_ALNUM, {NULL}},
    [IDDOC_HKMO_PERMIT] = {"hkmo-permit",
                           CHARS_ALNUM,
                           {"C########", "C@#######", "W########", NULL}},
    [IDDOC_HKMO_HOME_RETURN] = {"hkmo-home-return",
                                CHARS_ALNUM,
                                {"H########", "M########", "H##########", "M##########", NULL}},
    [IDDOC_TW_COMPATRIOT] = {"tw-compatriot",
                             CHARS_ALNUM_PAREN,
                             {"########", "##########", "##########(*)", "########(##)", NULL}},
    [IDDOC_TW_PERMIT] = {"tw-permit", CHARS_ALNUM, {"L########", "T########", NULL}},
    [IDDOC_FOREIGN_PR] = {"foreign-pr", CHARS_ALNUM, {"&&&############", NULL}},
};

/* Another country's passport: ICAO 9303 allows up to 9 characters in the
 * MRZ field and overflows longer numbers; 5..20 alphanumerics with at
 * least one digit covers the issuers we looked at (docs/internals/
 * identity-checks.md) while refusing words typed by mistake. */
#define PASSPORT_OTHER_MIN 5
#define PASSPORT_OTHER_MAX 20

/* Province-level prefixes of GB/T 2260 that issue 18-character numbers:
 * the 31 mainland provinces, plus 81/82/83 used by the residence permits
 * for Hong Kong, Macao and Taiwan residents (same layout and check), whose
 * address code is always the whole 810000/820000/830000. */
static const uint8_t province_prefixes[] = {
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42,
    43, 44, 45, 46, 50, 51, 52, 53, 54, 61, 62, 63, 64, 65, 81, 82, 83,
};
#define PERMIT_PREFIX_MIN 81

#define BIRTH_YEAR_MIN 1900

/* ---- normalising ------------------------------------------------------ */

static bool is_ascii_space(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

/*
 * Maps one full-width or ideographic-space sequence at in[i] (3 bytes,
 * EF BC 81..EF BD 9E for U+FF01..U+FF5E, E3 80 80 for U+3000). Returns the
 * ASCII byte (' ' for U+3000), or 0 when in[i] starts neither.
 */
char idcheck_fold_wide(const unsigned char *in, size_t len, size_t i)
{
    if (i + 2 >= len)
        return 0;
    if (in[i] == 0xE3 && in[i + 1] == 0x80 && in[i + 2] == 0x80)
        return ' ';
    if (in[i] != 0xEF)
        return 0;
    if (in[i + 1] == 0xBC && in[i + 2] >= 0x81 && in[i + 2] <= 0xBF)
        return (char)(in[i + 2] - 0x60);
    if (in[i + 1] == 0xBD && in[i + 2] >= 0x80 && in[i + 2] <= 0x9E)
        return (char)(in[i + 2] - 0x20);
    return 0;
}

int idcheck_normalise(const char *in, size_t len, char *out, size_t cap)
{
    const unsigned char *u = (const unsigned char *)in;
    size_t n = 0;
    if (cap > 0)
        out[0] = '\0';
    if (len > IDCHECK_RAW_MAX || cap == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        char c = idcheck_fold_wide(u, len, i);
        if (c != 0)
            i += 2;
        else
            c = (char)u[i];
        if (is_ascii_space((unsigned char)c))
            continue;
        if (c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        if (n + 1 >= cap) {
            out[0] = '\0';
            return -1;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return (int)n;
}

/* ---- character classes and layouts ------------------------------------ */

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_upper(char c)
{
    return c >= 'A' && c <= 'Z';
}

static bool chars_allowed(enum charset set, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        bool paren = s[i] == '(' || s[i] == ')';
        if (!is_digit(s[i]) && !is_upper(s[i]) && !(paren && set == CHARS_ALNUM_PAREN))
            return false;
    }
    return true;
}

static bool pattern_char_match(char p, char c)
{
    switch (p) {
    case '#':
        return is_digit(c);
    case '@':
        return is_upper(c) && c != 'I' && c != 'O';
    case '&':
        return is_upper(c);
    case '*':
        return is_upper(c) || is_digit(c);
    default:
        return p == c;
    }
}

static bool pattern_match(const char *pattern, const char *s, size_t n)
{
    if (strlen(pattern) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!pattern_char_match(pattern[i], s[i]))
            return false;
    return true;
}

static bool layouts_match(const char *const *layouts, const char *s, size_t n)
{
    for (size_t i = 0; i < MAX_LAYOUTS && layouts[i] != NULL; i++)
        if (pattern_match(layouts[i], s, n))
            return true;
    return false;
}

/* ---- dates ------------------------------------------------------------ */

static bool is_leap(int y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static bool date_valid(int y, int m, int d)
{
    static const int days_in[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m < 1 || m > 12 || d < 1)
        return false;
    return d <= days_in[m - 1] + (m == 2 && is_leap(y));
}

/* Days since 1970-01-01 of a proleptic Gregorian date (y >= 1). Counts
 * years from March so the leap day is the last day of its "year". */
static int64_t days_from_civil(int y, int m, int d)
{
    int64_t yy = m <= 2 ? y - 1 : y;
    int64_t era = yy / 400; /* yy >= 0 here: years are 4 digits */
    int64_t yoe = yy - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Today's day number in China Standard Time; floor division so instants
 * before 1970 still land on the right day. */
static int64_t today_cst(int64_t now)
{
    if (now > INT64_MAX - CST_OFFSET_SECONDS) /* no overflow on absurd clocks */
        now = INT64_MAX - CST_OFFSET_SECONDS;
    int64_t t = now + CST_OFFSET_SECONDS;
    int64_t day = t / 86400;
    return (t % 86400 < 0) ? day - 1 : day;
}

static int digits_value(const char *s, size_t n)
{
    int v = 0;
    for (size_t i = 0; i < n; i++)
        v = v * 10 + (s[i] - '0');
    return v;
}

/* s: 8 ASCII digits YYYYMMDD. */
static enum idcheck_result check_birth_date(const char *s, int64_t now)
{
    int y = digits_value(s, 4), m = digits_value(s + 4, 2), d = digits_value(s + 6, 2);
    if (!date_valid(y, m, d))
        return IDCHECK_BAD_DATE;
    if (y < BIRTH_YEAR_MIN)
        return IDCHECK_DATE_TOO_OLD;
    if (days_from_civil(y, m, d) > today_cst(now))
        return IDCHECK_DATE_FUTURE;
    return IDCHECK_OK;
}

/* ---- check characters ------------------------------------------------- */

/* ISO 7064 MOD 11-2: weight of position i (0 = leftmost of 17) is
 * 2^(17-i) mod 11; the check value c makes sum + c*1 = 1 (mod 11). */
char idcheck_mod11_2(const char digits[17])
{
    static const int weights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
    int sum = 0;
    for (int i = 0; i < 17; i++) {
        if (!is_digit(digits[i]))
            return '\0';
        sum += (digits[i] - '0') * weights[i];
    }
    int c = (12 - sum % 11) % 11;
    return c == 10 ? 'X' : (char)('0' + c);
}

static bool seventeen_digits_and_check(const char *s, size_t n)
{
    if (n != 18)
        return false;
    for (size_t i = 0; i < 17; i++)
        if (!is_digit(s[i]))
            return false;
    return is_digit(s[17]) || s[17] == 'X';
}

static bool region_known(const char *s)
{
    int p = digits_value(s, 2);
    if (p >= PERMIT_PREFIX_MIN)
        return memcmp(s + 2, "0000", 4) == 0;
    for (size_t i = 0; i < sizeof province_prefixes; i++)
        if (province_prefixes[i] == p)
            return true;
    return false;
}

/* Resident ID, GB 11643-1999: RRRRRR YYYYMMDD SSS C. */
static enum idcheck_result check_resident_id(const char *s, size_t n, int64_t now)
{
    if (!seventeen_digits_and_check(s, n))
        return IDCHECK_BAD_FORMAT;
    if (!region_known(s))
        return IDCHECK_BAD_REGION;
    enum idcheck_result r = check_birth_date(s + 6, now);
    if (r != IDCHECK_OK)
        return r;
    return idcheck_mod11_2(s) == s[17] ? IDCHECK_OK : IDCHECK_BAD_CHECK;
}

/* 2023 permanent residence card: '9' then 16 digits, MOD 11-2 check like
 * the resident ID. Its inner fields are not checked (see the doc). */
static enum idcheck_result check_foreign_pr_2023(const char *s, size_t n)
{
    if (!seventeen_digits_and_check(s, n) || s[0] != '9')
        return IDCHECK_BAD_FORMAT;
    return idcheck_mod11_2(s) == s[17] ? IDCHECK_OK : IDCHECK_BAD_CHECK;
}

static enum idcheck_result check_passport_other(const char *s, size_t n)
{
    if (n < PASSPORT_OTHER_MIN || n > PASSPORT_OTHER_MAX)
        return IDCHECK_BAD_FORMAT;
    for (size_t i = 0; i < n; i++)
        if (is_digit(s[i]))
            return IDCHECK_OK;
    return IDCHECK_BAD_FORMAT;
}

/* ---- entry points ----------------------------------------------------- */

static enum idcheck_result check_canonical(enum iddoc_type type, const char *s, size_t n,
                                           int64_t now)
{
    const struct doc_rule *rule = &rules[type];
    if (!chars_allowed(rule->chars, s, n))
        return IDCHECK_BAD_CHAR;
    switch (type) {
    case IDDOC_CN_RESIDENT_ID:
        return check_resident_id(s, n, now);
    case IDDOC_PASSPORT_OTHER:
        return check_passport_other(s, n);
    case IDDOC_FOREIGN_PR:
        if (n == 18)
            return check_foreign_pr_2023(s, n);
        break;
    default:
        break;
    }
    return layouts_match(rule->layouts, s, n) ? IDCHECK_OK : IDCHECK_BAD_FORMAT;
}

enum idcheck_result idcheck_document(enum iddoc_type type, const char *in, size_t len, int64_t now,
                                     char out[IDCHECK_MAX + 1])
{
    out[0] = '\0';
    if ((unsigned)type >= IDDOC_COUNT)
        return IDCHECK_BAD_TYPE;
    int n = idcheck_normalise(in, len, out, IDCHECK_MAX + 1);
    if (n < 0)
        return IDCHECK_TOO_LONG;
    if (n == 0)
        return IDCHECK_EMPTY;
    return check_canonical(type, out, (size_t)n, now);
}

/* ---- names and sentences ---------------------------------------------- */

static const struct {
    const char *code, *sentence;
} results[] = {
    [IDCHECK_OK] = {"OK", "The document number is well-formed."},
    [IDCHECK_EMPTY] = {"EMPTY", "Please give a document number."},
    [IDCHECK_TOO_LONG] = {"TOO_LONG", "That document number is too long."},
    [IDCHECK_BAD_CHAR] = {"BAD_CHARACTER",
                          "The document number may only contain letters and digits."},
    [IDCHECK_BAD_FORMAT] = {"BAD_FORMAT",
                            "That is not the length or layout of a number of this document type."},
    [IDCHECK_BAD_REGION] = {"BAD_REGION",
                            "The first two digits are not a province-level region code."},
    [IDCHECK_BAD_DATE] = {"BAD_BIRTH_DATE", "Digits 7 to 14 are not a real date (YYYYMMDD)."},
    [IDCHECK_DATE_FUTURE] = {"FUTURE_BIRTH_DATE", "The birth date in the number is in the future."},
    [IDCHECK_DATE_TOO_OLD] = {"BAD_BIRTH_DATE", "The birth date in the number is before 1900."},
    [IDCHECK_BAD_CHECK] = {"BAD_CHECK_CHARACTER",
                           "The last character does not match the others; please check for a "
                           "typing mistake."},
    [IDCHECK_BAD_TYPE] = {"BAD_DOCUMENT_TYPE", "Unknown document type."},
};

const char *idcheck_result_sentence(enum idcheck_result r)
{
    if ((unsigned)r >= sizeof results / sizeof results[0])
        r = IDCHECK_BAD_TYPE;
    return results[r].sentence;
}

const char *idcheck_result_code(enum idcheck_result r)
{
    if ((unsigned)r >= sizeof results / sizeof results[0])
        r = IDCHECK_BAD_TYPE;
    return results[r].code;
}

const char *idcheck_type_name(enum iddoc_type type)
{
    return (unsigned)type < IDDOC_COUNT ? rules[type].name : "unknown";
}

bool idcheck_type_parse(const char *name, enum iddoc_type *type)
{
    for (int t = 0; t < IDDOC_COUNT; t++) {
        if (strcmp(rules[t].name, name) == 0) {
            *type = (enum iddoc_type)t;
            return true;
        }
    }
    return false;
}
