/*
 * linebuf.c - restartable line splitter (see linebuf.h for the rules and
 * invariants).
 *
 * Performance notes: complete lines are never copied (memchr + in-place
 * NUL), so a read of many short lines costs one pass over the bytes. Only
 * the tail of a read that ends mid-line is copied; its buffer starts small
 * and doubles up to line_max+2, so a client that sent "PIN" without a line
 * end costs 64 bytes, not line_max.
 */
#include "net/linebuf.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

#define LINEBUF_MIN_CAP 64

static void linebuf_release(struct linebuf *lb)
{
    free(lb->buf);
    lb->buf = NULL;
    lb->len = 0;
    lb->cap = 0;
}

/* Appends n bytes to the partial line; the caller has checked that the
 * result fits in line_max+1, so the capacity stays <= line_max+2. */
static void linebuf_append(struct linebuf *lb, const char *data, size_t n, size_t line_max)
{
    size_t want = (size_t)lb->len + n + 1; /* +1: room for the NUL on delivery */
    if (want > lb->cap) {
        size_t cap = lb->cap ? (size_t)lb->cap * 2 : LINEBUF_MIN_CAP;
        if (cap > line_max + 2)
            cap = line_max + 2;
        if (cap < want)
            cap = want;
        lb->buf = xrealloc(lb->buf, cap);
        lb->cap = (uint32_t)cap;
    }
    memcpy(lb->buf + lb->len, data, n);
    lb->len += (uint32_t)n;
}

/* Hands one line (without its '\n') to the sink, applying the line rules.
 * Returns the sink's verdict; dropped empty lines count as "go on". */
static bool linebuf_emit(char *line, size_t n, size_t line_max, linebuf_sink_fn sink, void *ctx)
{
    if (n > 0 && line[n - 1] == '\r')
        n--;
    if (n > line_max)
        return sink(ctx, LINEBUF_OVERLONG, NULL, 0);
    if (n == 0)
        return true;
    line[n] = '\0';
    return sink(ctx, LINEBUF_LINE, line, n);
}

/* Keeps the undelivered rest of a chunk after the sink said stop. */
static void linebuf_hold(struct linebuf *lb, const char *data, size_t n)
{
    if (n == 0)
        return; /* e.g. stopped on an overlong tail: nothing left */
    assert(lb->len == 0 && !lb->discarding);
    lb->buf = xmalloc(n + 1);
    memcpy(lb->buf, data, n);
    lb->len = (uint32_t)n;
    lb->cap = (uint32_t)(n + 1);
    lb->held = true;
}

/* Continues a line started in an earlier chunk (or the discarding of an
 * overlong one). Returns how many bytes of data were used; *go_on receives
 * the sink's verdict if it was called. */
static size_t linebuf_feed_partial(struct linebuf *lb, char *data, size_t len, size_t line_max,
                                   linebuf_sink_fn sink, void *ctx, bool *go_on)
{
    char *lf = memchr(data, '\n', len);
    size_t n = lf ? (size_t)(lf - data) : len;
    size_t used = lf ? n + 1 : len;

    *go_on = true;
    if (lb->discarding) {
        if (lf)
            lb->discarding = false;
        return used;
    }
    if ((size_t)lb->len + n > line_max + 1) {
        linebuf_release(lb);
        lb->discarding = (lf == NULL);
        *go_on = sink(ctx, LINEBUF_OVERLONG, NULL, 0);
        return used;
    }
    linebuf_append(lb, data, n, line_max);
    if (!lf)
        return used;
    /* Detach the buffer first: the line is delivered from it, and the rest
     * of this chunk may start a new partial. */
    char *line = lb->buf;
    size_t line_len = lb->len;
    lb->buf = NULL;
    lb->len = 0;
    lb->cap = 0;
    *go_on = linebuf_emit(line, line_len, line_max, sink, ctx);
    free(line);
    return used;
}

/* Stores the line-end-less tail of a chunk, or starts discarding it when it
 * is already too long to ever be accepted. */
static void linebuf_keep_tail(struct linebuf *lb, const char *data, size_t n, size_t line_max,
                              linebuf_sink_fn sink, void *ctx)
{
    assert(lb->len == 0 && !lb->discarding);
    if (n > line_max + 1) {
        lb->discarding = true;
        (void)sink(ctx, LINEBUF_OVERLONG, NULL, 0); /* nothing left to stop */
        return;
    }
    linebuf_append(lb, data, n, line_max);
}

void linebuf_feed(struct linebuf *lb, char *data, size_t len, size_t line_max, linebuf_sink_fn sink,
                  void *ctx)
{
    size_t pos = 0;

    assert(!lb->held);
    if (lb->len > 0 || lb->discarding) {
        bool go_on;
        pos = linebuf_feed_partial(lb, data, len, line_max, sink, ctx, &go_on);
        if (!go_on) {
            linebuf_hold(lb, data + pos, len - pos);
            return;
        }
        if (lb->len > 0 || lb->discarding)
            return; /* the whole chunk continued the partial */
    }
    while (pos < len) {
        char *start = data + pos;
        char *lf = memchr(start, '\n', len - pos);
        if (!lf)
            break;
        pos = (size_t)(lf - data) + 1;
        if (!linebuf_emit(start, (size_t)(lf - start), line_max, sink, ctx)) {
            linebuf_hold(lb, data + pos, len - pos);
            return;
        }
    }
    if (pos < len)
        linebuf_keep_tail(lb, data + pos, len - pos, line_max, sink, ctx);
}

void linebuf_resume(struct linebuf *lb, size_t line_max, linebuf_sink_fn sink, void *ctx)
{
    if (!lb->held)
        return;
    char *buf = lb->buf;
    size_t len = lb->len;
    lb->buf = NULL;
    lb->len = 0;
    lb->cap = 0;
    lb->held = false;
    linebuf_feed(lb, buf, len, line_max, sink, ctx);
    free(buf);
}

void linebuf_clear(struct linebuf *lb)
{
    linebuf_release(lb);
    lb->held = false;
    lb->discarding = false;
}
