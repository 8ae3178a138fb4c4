/*
 * fuzz_casemap.c - libFuzzer target for proto/casemap.c.
 *
 * Checked on every input:
 *   - casemap_fold() accepts exactly the NUL-free well-formed UTF-8 inputs;
 *   - its output equals utf8proc_map() with the documented options (so the
 *     stack-buffer path and the ASCII fast path agree with the reference);
 *   - folding is idempotent: fold(fold(x)) == fold(x), or equal names would
 *     not stay equal once stored in folded form;
 *   - a valid nickname/channel name is well-formed UTF-8 within maxlen and
 *     its folded form is itself valid (validity is stable under folding).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

#include "proto/casemap.h"
#include "proto/utf8.h"
#include "fuzz.h"

/* NFKC can expand a code point up to 18 times; 4 bytes each at most. */
static char folded[20 * 4096 * 4];
static char twice[20 * 4096 * 4];

static void check_reference(const uint8_t *data, size_t size, int n)
{
    utf8proc_uint8_t *ref = NULL;
    utf8proc_ssize_t rn =
        utf8proc_map(data, (utf8proc_ssize_t)size, &ref,
                     UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD);
    assert(rn >= 0);
    assert(rn == n && memcmp(ref, folded, (size_t)n) == 0);
    free(ref);
}

static void check_names(const char *s, size_t size, int n)
{
    const size_t maxlen = 64;
    bool nick = casemap_nick_valid(s, size, maxlen);
    bool chan = casemap_channel_valid(s, size, maxlen);
    if (nick || chan) {
        assert(size <= maxlen && n > 0);
        assert(!(nick && chan)); /* '#' never starts a nick */
    }
    if (nick) {
        assert(!memchr(s, ' ', size) && !memchr(s, '@', size) && !memchr(s, '!', size));
        assert(casemap_nick_valid(folded, (size_t)n, 4096));
    }
    if (chan) {
        assert(s[0] == '#' && !memchr(s, ',', size) && !memchr(s, 7, size));
        assert(casemap_channel_valid(folded, (size_t)n, 4096));
    }
}

/*
 * Random bytes are rarely well-formed UTF-8 and almost never reach the
 * interesting code points, so inputs starting with 0xFF are read as a list
 * of 3-byte code point numbers instead (modulo U+110000, surrogates moved
 * out of the way) and encoded before testing.
 */
static size_t decode_codepoints(const uint8_t *data, size_t size, uint8_t *buf)
{
    size_t n = 0;
    for (size_t i = 1; i + 3 <= size; i += 3) {
        utf8proc_int32_t cp = (data[i] << 16 | data[i + 1] << 8 | data[i + 2]) % 0x110000;
        if (cp >= 0xD800 && cp <= 0xDFFF)
            cp -= 0x800;
        n += (size_t)utf8proc_encode_char(cp, buf + n);
    }
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static uint8_t encoded[4096 / 3 * 4 + 4];
    if (size > 4096)
        return 0;
    if (size > 0 && data[0] == 0xFF) {
        size = decode_codepoints(data, size, encoded);
        data = encoded;
    }
    const char *s = (const char *)data;
    int n = casemap_fold(s, size, folded, sizeof folded);
    bool clean = utf8_valid(s, size) && memchr(s, '\0', size) == NULL;
    assert(clean == (n >= 0));
    if (!clean) {
        assert(!casemap_nick_valid(s, size, 4096));
        assert(!casemap_channel_valid(s, size, 4096));
        return 0;
    }
    assert(utf8_valid(folded, (size_t)n) && folded[n] == '\0');
    check_reference(data, size, n);
    int n2 = casemap_fold(folded, (size_t)n, twice, sizeof twice);
    assert(n2 == n && memcmp(folded, twice, (size_t)n) == 0);
    check_names(s, size, n);
    return 0;
}
