/*
 * canon.c - RFC 8785 canonical JSON for reports (canon.h has the rules).
 *
 * A growing buffer and a recursive walk; object keys are collected and
 * sorted with strcmp (UTF-8 byte order). No I/O, no global state.
 */
#include "report/canon.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

struct buf {
    char *p;
    size_t len, cap;
};

static void put(struct buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->len + n + 1 > cap)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put_string(struct buf *b, const char *s, size_t n)
{
    put(b, "\"", 1);
    size_t run = 0; /* bytes copied literally, flushed before an escape */
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char hex[8];
        switch (c) {
        case '"':
            esc = "\\\"";
            break;
        case '\\':
            esc = "\\\\";
            break;
        case '\b':
            esc = "\\b";
            break;
        case '\t':
            esc = "\\t";
            break;
        case '\n':
            esc = "\\n";
            break;
        case '\f':
            esc = "\\f";
            break;
        case '\r':
            esc = "\\r";
            break;
        default:
            if (c < 0x20) {
                snprintf(hex, sizeof hex, "\\u%04x", c);
                esc = hex;
            }
        }
        if (!esc) {
            run++;
            continue;
        }
        put(b, s + i - run, run);
        run = 0;
        put(b, esc, strlen(esc));
    }
    put(b, s + n - run, run);
    put(b, "\"", 1);
}

static int cmp_keys(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool put_value(struct buf *b, const json_t *v, int depth);

static bool put_object(struct buf *b, const json_t *v, int depth)
{
    size_t n = json_object_size(v), i = 0;
    const char **keys = xcalloc(n ? n : 1, sizeof *keys);
    const char *k;
    json_t *m;
    json_object_foreach((json_t *)v, k, m) keys[i++] = k;
    qsort(keys, n, sizeof *keys, cmp_keys);
    bool ok = true;
    put(b, "{", 1);
    for (i = 0; i < n && ok; i++) {
        if (i)
            put(b, ",", 1);
        put_string(b, keys[i], strlen(keys[i]));
        put(b, ":", 1);
        ok = put_value(b, json_object_get(v, keys[i]), depth + 1);
    }
    put(b, "}", 1);
    free(keys);
    return ok;
}

static bool put_value(struct buf *b, const json_t *v, int depth)
{
    char num[32];
    if (depth > CANON_DEPTH_MAX)
        return false;
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return put_object(b, v, depth);
    case JSON_ARRAY: {
        bool ok = true;
        put(b, "[", 1);
        for (size_t i = 0; i < json_array_size(v) && ok; i++) {
            if (i)
                put(b, ",", 1);
            ok = put_value(b, json_array_get(v, i), depth + 1);
        }
        put(b, "]", 1);
        return ok;
    }
    case JSON_STRING:
        put_string(b, json_string_value(v), json_string_length(v));
        return true;
    case JSON_INTEGER:
        snprintf(num, sizeof num, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
        put(b, num, strlen(num));
        return true;
    case JSON_TRUE:
        put(b, "true", 4);
        return true;
    case JSON_FALSE:
        put(b, "false", 5);
        return true;
    case JSON_NULL:
        put(b, "null", 4);
        return true;
    default: /* JSON_REAL */
        return false;
    }
}

char *canon_json(const json_t *v)
{
    struct buf b = {0};
    if (!v || !put_value(&b, v, 0)) {
        free(b.p);
        return NULL;
    }
    return b.p;
}
