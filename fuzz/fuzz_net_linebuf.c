/*
 * fuzz_net_linebuf.c - differential fuzzing of the transport's line splitter.
 *
 * Input layout: byte 0 picks line_max (1..64), byte 1 seeds the chunk sizes
 * and the sink's stop decisions, the rest is the byte stream. The stream is
 * fed in pseudo-random chunks, the sink randomly says "stop" (as a paused
 * connection would) and the fuzzer resumes until nothing is held. The
 * events must equal those of a trivial whole-input reference splitter, and
 * the invariants of net/linebuf.h must hold after every call.
 */
#include <assert.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/linebuf.h"
#include "fuzz.h"

struct fz_events {
    char *text; /* LINE: bytes then '\n'; OVERLONG: "!\n" (lines never hold '\n') */
    size_t len, cap;
};

static void fz_put(struct fz_events *e, const char *s, size_t n)
{
    if (e->len + n + 2 > e->cap) {
        e->cap = (e->len + n + 2) * 2;
        e->text = realloc(e->text, e->cap);
        assert(e->text);
    }
    memcpy(e->text + e->len, s, n);
    e->len += n;
    e->text[e->len++] = '\n';
}

struct fz_sink {
    struct fz_events ev;
    uint32_t rng;
    size_t line_max;
};

static uint32_t fz_next(uint32_t *s)
{
    *s = *s * 1103515245u + 12345u;
    return *s >> 16;
}

static bool fz_sink_fn(void *ctx, enum linebuf_event ev, char *line, size_t len)
{
    struct fz_sink *s = ctx;
    if (ev == LINEBUF_OVERLONG) {
        assert(line == NULL && len == 0);
        fz_put(&s->ev, "!", 1);
    } else {
        assert(len >= 1 && len <= s->line_max);
        assert(line[len] == '\0');
        assert(memchr(line, '\n', len) == NULL);
        fz_put(&s->ev, line, len);
    }
    return fz_next(&s->rng) % 4 != 0;
}

static void fz_reference(const uint8_t *data, size_t len, size_t line_max, struct fz_events *out)
{
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        if (data[i] != '\n')
            continue;
        size_t n = i - start;
        if (n > 0 && data[start + n - 1] == '\r')
            n--;
        if (n > line_max)
            fz_put(out, "!", 1);
        else if (n > 0)
            fz_put(out, (const char *)data + start, n);
        start = i + 1;
    }
    if (len - start > line_max + 1)
        fz_put(out, "!", 1);
}

static void fz_check(const struct linebuf *lb, size_t line_max)
{
    assert((lb->buf == NULL) == (lb->len == 0));
    assert(!lb->discarding || lb->len == 0);
    if (!lb->held) {
        assert(lb->len <= line_max + 1);
        assert(lb->cap <= line_max + 2);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    size_t line_max = 1 + data[0] % 64;
    struct fz_sink sink = {.rng = data[1], .line_max = line_max};
    const uint8_t *in = data + 2;
    size_t len = size - 2;
    struct linebuf lb = {0};
    char *chunk = malloc(len + 1);

    for (size_t off = 0; off < len;) {
        size_t n = 1 + fz_next(&sink.rng) % 40;
        if (n > len - off)
            n = len - off;
        memcpy(chunk, in + off, n); /* a fresh buffer, as a socket read would be */
        linebuf_feed(&lb, chunk, n, line_max, fz_sink_fn, &sink);
        fz_check(&lb, line_max);
        while (lb.held) {
            linebuf_resume(&lb, line_max, fz_sink_fn, &sink);
            fz_check(&lb, line_max);
        }
        off += n;
    }
    /* A trailing partial that is already known to be overlong was reported;
     * one that might still become a valid line is not. */
    struct fz_events ref = {0};
    fz_reference(in, len, line_max, &ref);
    assert(ref.len == sink.ev.len);
    assert(ref.len == 0 || memcmp(ref.text, sink.ev.text, ref.len) == 0);
    linebuf_clear(&lb);
    free(chunk);
    free(ref.text);
    free(sink.ev.text);
    return 0;
}
