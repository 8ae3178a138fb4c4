/*
 * utf8.c - strict UTF-8 validation and truncation.
 *
 * Owns: the decoder that every UTF-8 check in Qun reduces to.
 *
 * Every line a client sends passes through utf8_valid_text() before the
 * parser looks at its structure, so that function is written for speed: it
 * examines eight bytes at a time while they are plain ASCII (almost all IRC
 * traffic except message text) and falls back to the byte-wise decoder only
 * for multi-byte sequences.
 *
 * Invariants:
 *   - utf8_seq_len() accepts exactly the well-formed sequences of RFC 3629
 *     table 3-7 (Unicode 15, section 3.9); everything else returns 0.
 *   - No function reads s[n] or beyond.
 */
#include "proto/utf8.h"

#include <stdint.h>
#include <string.h>

#define ONES  UINT64_C(0x0101010101010101)
#define HIGHS UINT64_C(0x8080808080808080)

/*
 * Nonzero when some byte of w is >= 0x80 (not ASCII) or, with text set, is
 * below 0x0E (which covers NUL, LF and CR). The "byte below n" test is the
 * classic (w - n*ONES) & ~w & HIGHS; it has no false negatives, and its
 * false positives (other C0 controls such as mIRC's bold/colour codes) only
 * send that word to the exact byte loop.
 */
static inline uint64_t word_suspect(uint64_t w, bool text)
{
    uint64_t bad = w & HIGHS;
    if (text)
        bad |= (w - ONES * 0x0E) & ~w & HIGHS;
    return bad;
}

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    /* Second-byte bounds per lead byte; they encode the overlong, surrogate
     * and >U+10FFFF exclusions without decoding the code point. */
    unsigned char lo = 0x80, hi = 0xBF;
    size_t len;
    if (c >= 0xC2 && c <= 0xDF) {
        len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        len = 3;
        if (c == 0xE0)
            lo = 0xA0; /* overlong below U+0800 */
        else if (c == 0xED)
            hi = 0x9F; /* surrogates U+D800..U+DFFF */
    } else if (c >= 0xF0 && c <= 0xF4) {
        len = 4;
        if (c == 0xF0)
            lo = 0x90; /* overlong below U+10000 */
        else if (c == 0xF4)
            hi = 0x8F; /* above U+10FFFF */
    } else {
        return 0; /* 80..C1 and F5..FF never lead */
    }
    if (n < len || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return len;
}

/*
 * Shared loop of the two validators. With text set, NUL, CR and LF are
 * rejected as well. Clean runs are consumed sixteen, then eight bytes at a
 * time; any word with a suspect byte is handled by the exact byte loop.
 */
static bool utf8_scan(const unsigned char *p, size_t n, bool text)
{
    size_t i = 0;
    while (i < n) {
        uint64_t w1, w2;
        if (n - i >= 16) {
            memcpy(&w1, p + i, 8);
            memcpy(&w2, p + i + 8, 8);
            /* Not word_suspect(w1 | w2): OR-ing bytes hides the
             * small ones ("below 0x0E" is not preserved by OR). */
            if (!(word_suspect(w1, text) | word_suspect(w2, text))) {
                i += 16;
                continue;
            }
        }
        if (n - i >= 8) {
            memcpy(&w1, p + i, 8);
            if (!word_suspect(w1, text)) {
                i += 8;
                continue;
            }
        }
        unsigned char c = p[i];
        if (c < 0x80) {
            if (text && (c == 0 || c == '\r' || c == '\n'))
                return false;
            i++;
            continue;
        }
        size_t len = utf8_seq_len(p + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}

bool utf8_valid(const char *s, size_t n)
{
    return utf8_scan((const unsigned char *)s, n, false);
}

bool utf8_valid_text(const char *s, size_t n)
{
    return utf8_scan((const unsigned char *)s, n, true);
}

size_t utf8_truncate(const char *s, size_t n, size_t max)
{
    if (n <= max)
        return n;
    /* s[max] is the first byte cut off. If it is a continuation byte the
     * cut falls inside a sequence: back up to that sequence's lead byte
     * (at most three steps, so ill-formed input cannot make this loop). */
    size_t k = max;
    for (int steps = 0; k > 0 && steps < 3; steps++) {
        if (((unsigned char)s[k] & 0xC0) != 0x80)
            break;
        k--;
    }
    /* k now indexes a lead byte (or three continuation bytes were seen,
     * which well-formed input never has; then cutting at k is as good as
     * any other point). */
    if (((unsigned char)s[k] & 0xC0) == 0x80)
        return max;
    return k;
}
