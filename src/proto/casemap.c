/*
 * casemap.c - name folding and name validity (rules in casemap.h).
 *
 * Owns: the single definition of name equality and the name syntax checks.
 *
 * Folding is on the path of every message addressed to a nick or channel,
 * so pure-ASCII names skip utf8proc entirely; the Unicode path decomposes
 * into a stack buffer and re-encodes in place, which is what utf8proc_map()
 * does internally, minus its malloc.
 *
 * Invariant: for ASCII input the fast path and the utf8proc path give the
 * same bytes (checked by fuzz/fuzz_casemap.c); otherwise two spellings of a
 * name could land in different map slots.
 */
#include "proto/casemap.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "proto/utf8.h"
#include "util/alloc.h"

#define FOLD_OPTIONS                                                                               \
    ((utf8proc_option_t)(UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD))

/* Bytes of folded name the validity checks will look at; a name whose fold
 * is longer is absurd (NFKC expands at most 18x) and refused. */
#define VALID_FOLD_MAX 1024

static int fold_ascii(const char *in, size_t len, char *out, size_t cap)
{
    if (len + 1 > cap)
        return CASEMAP_ERR_NOSPACE;
    for (size_t i = 0; i < len; i++) {
        char c = in[i];
        out[i] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
    }
    out[len] = '\0';
    return (int)len;
}

static bool is_ascii(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] >= 0x80)
            return false;
    return true;
}

/*
 * Decompose (NFKD + case fold), compose, encode: utf8proc_map() without
 * the allocation for short names.
 *
 * Both buffers hold one code point more than utf8proc_decompose() may
 * fill: utf8proc_reencode() writes the UTF-8 over the code point array and
 * then a NUL after it, which for n four-byte characters is byte 4n, one
 * past an n-element array. (utf8proc_map() allocates n + 1 for the same
 * reason; the fuzzer found this as heap corruption when it was missing.)
 */
static int fold_unicode(const char *in, size_t len, char *out, size_t cap)
{
    utf8proc_int32_t stack[CASEMAP_FOLD_STACK + 1];
    utf8proc_int32_t *buf = stack;
    const utf8proc_uint8_t *src = (const utf8proc_uint8_t *)in;
    utf8proc_ssize_t n =
        utf8proc_decompose(src, (utf8proc_ssize_t)len, buf, CASEMAP_FOLD_STACK, FOLD_OPTIONS);
    if (n > CASEMAP_FOLD_STACK) {
        buf = xmalloc(((size_t)n + 1) * sizeof *buf);
        n = utf8proc_decompose(src, (utf8proc_ssize_t)len, buf, n, FOLD_OPTIONS);
    }
    int rc = CASEMAP_ERR_INVALID;
    if (n >= 0) {
        /* Re-encoding writes UTF-8 over the code point array; it
         * fits, since no code point needs more than 4 bytes (plus the
         * NUL, see above). */
        utf8proc_ssize_t m = utf8proc_reencode(buf, n, FOLD_OPTIONS);
        if (m >= 0 && (size_t)m + 1 > cap) {
            rc = CASEMAP_ERR_NOSPACE;
        } else if (m >= 0) {
            memcpy(out, buf, (size_t)m);
            out[m] = '\0';
            rc = (int)m;
        }
    }
    if (buf != stack)
        free(buf);
    return rc;
}

int casemap_fold(const char *in, size_t len, char *out, size_t cap)
{
    /* NUL is well-formed UTF-8 but never part of a name; refusing it here
     * keeps folded names usable as C strings. */
    if (memchr(in, '\0', len) != NULL)
        return CASEMAP_ERR_INVALID;
    if (is_ascii(in, len))
        return fold_ascii(in, len, out, cap);
    if (!utf8_valid(in, len))
        return CASEMAP_ERR_INVALID;
    return fold_unicode(in, len, out, cap);
}

/* ------------------------------------------------------------------ */
/* Validity                                                            */
/* ------------------------------------------------------------------ */

/* What a name kind forbids, as ASCII character sets. */
struct name_rules {
    const char *ascii_never; /* forbidden anywhere */
    const char *ascii_first; /* forbidden as the first character */
    size_t prefix;           /* bytes of fixed prefix ('#' for channels) */
};

static const struct name_rules nick_rules = {
    .ascii_never = " ,*?!@:.",
    .ascii_first = "0123456789-$:#&~@%+",
    .prefix = 0,
};

static const struct name_rules channel_rules = {
    .ascii_never = " ,:",
    .ascii_first = "",
    .prefix = 1,
};

static bool category_forbidden(utf8proc_category_t cat)
{
    switch (cat) {
    case UTF8PROC_CATEGORY_CC:
    case UTF8PROC_CATEGORY_CF:
    case UTF8PROC_CATEGORY_CS:
    case UTF8PROC_CATEGORY_CO:
    case UTF8PROC_CATEGORY_CN:
    case UTF8PROC_CATEGORY_ZS:
    case UTF8PROC_CATEGORY_ZL:
    case UTF8PROC_CATEGORY_ZP:
        return true;
    default:
        return false;
    }
}

static bool category_is_mark(utf8proc_category_t cat)
{
    return cat == UTF8PROC_CATEGORY_MN || cat == UTF8PROC_CATEGORY_MC ||
           cat == UTF8PROC_CATEGORY_ME;
}

/* Checks every character of s[0..n) (the prefix, if any, already checked
 * by the caller). s must be well-formed UTF-8. */
static bool name_chars_ok(const char *s, size_t n, const struct name_rules *r)
{
    const utf8proc_uint8_t *u = (const utf8proc_uint8_t *)s;
    for (size_t i = r->prefix; i < n;) {
        bool first = i == r->prefix;
        if (u[i] < 0x80) {
            char c = (char)u[i];
            if (c < 0x20 || c == 0x7F || strchr(r->ascii_never, c) ||
                (first && strchr(r->ascii_first, c)))
                return false;
            i++;
            continue;
        }
        utf8proc_int32_t cp;
        utf8proc_ssize_t len = utf8proc_iterate(u + i, (utf8proc_ssize_t)(n - i), &cp);
        if (len <= 0)
            return false;
        utf8proc_category_t cat = utf8proc_category(cp);
        if (category_forbidden(cat) || (first && category_is_mark(cat)))
            return false;
        i += (size_t)len;
    }
    return true;
}

/* The shared shape of both validity checks: raw form, then folded form. */
static bool name_valid(const char *s, size_t len, size_t minlen, size_t maxlen,
                       const struct name_rules *r)
{
    if (len < minlen || len > maxlen || !utf8_valid(s, len))
        return false;
    if (memchr(s, '\0', len) != NULL || !name_chars_ok(s, len, r))
        return false;
    if (is_ascii(s, len))
        return true; /* ASCII folds to ASCII with the same classes */
    char folded[VALID_FOLD_MAX];
    int n = casemap_fold(s, len, folded, sizeof folded);
    return n > 0 && name_chars_ok(folded, (size_t)n, r);
}

bool casemap_nick_valid(const char *nick, size_t len, size_t maxlen)
{
    return name_valid(nick, len, 1, maxlen, &nick_rules);
}

bool casemap_channel_valid(const char *name, size_t len, size_t maxlen)
{
    if (len < 1 || name[0] != '#')
        return false;
    /* The fold keeps a leading '#' (ASCII), so the folded check can skip
     * the prefix the same way. */
    return name_valid(name, len, 2, maxlen, &channel_rules);
}
