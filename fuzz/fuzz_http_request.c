/*
 * fuzz_http_request.c - libFuzzer target for http/request.c and the
 * helpers that take client bytes (percent, form, cookie, WebSocket
 * handshake, response header writer).
 *
 * The input is one connection's bytes. It is parsed as a pipeline (reset
 * after each request, go on with the rest) twice: fed whole, and fed in
 * pieces whose sizes come from the input itself. Checked on every run:
 *
 *   - both feeds give the same transcript (results, statuses, consumed
 *     counts, every field of every request): the chunking invariant;
 *   - an error status is one of the documented ones, and the error is
 *     sticky (a second feed consumes nothing);
 *   - a parsed request obeys the contract: method and field names are
 *     tokens, values hold no NUL/CR/LF and no edge whitespace, the path
 *     starts with '/' (or is "*"), body_len <= body_max, HTTP/1.1 has
 *     one Host;
 *   - the decoders never write past their buffers and give UTF-8 or -1;
 *   - a response head never carries a field value the writer refused.
 */
#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"
#include "http/response.h"
#include "http/ws.h"
#include "proto/utf8.h"
#include "fuzz.h"

static const struct http_limits lim = {
    .line_max = 256, .header_count_max = 8, .header_bytes_max = 512, .body_max = 300};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *s = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 1099511628211u;
    return h;
}

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv(h, s ? s : "(null)", s ? strlen(s) + 1 : 7);
}

static bool no_edge_ws(const char *v)
{
    size_t n = strlen(v);
    return n == 0 || (v[0] != ' ' && v[0] != '\t' && v[n - 1] != ' ' && v[n - 1] != '\t');
}

static void check_helpers(const struct http_request *r)
{
    char out[512], n[64], v[64];
    if (r->query) {
        ssize_t k = http_pct_decode(r->query, strlen(r->query), true, out, sizeof out);
        assert(k == -1 || (k >= 0 && (size_t)k <= sizeof out && utf8_valid(out, (size_t)k)));
        struct http_form_iter it;
        http_form_init(&it, r->query, strlen(r->query));
        int rc;
        while ((rc = http_form_next(&it, n, sizeof n, v, sizeof v)) != 0)
            if (rc == 1)
                assert(strlen(n) < sizeof n && strlen(v) < sizeof v);
    }
    if (r->body) {
        ssize_t k = http_form_get(r->body, r->body_len, "a", v, sizeof v);
        assert(k >= -2 && k < (ssize_t)sizeof v);
    }
    const char *cookie = http_request_header(r, "cookie");
    if (cookie) {
        ssize_t k = http_cookie_get(cookie, "sid", v, sizeof v);
        assert(k >= -2 && k < (ssize_t)sizeof v);
    }
    static const enum ws_subproto prefs[] = {WS_SUBPROTO_BINARY, WS_SUBPROTO_TEXT};
    struct ws_handshake hs;
    int st = ws_handshake_check(r, prefs, 2, true, &hs);
    assert(st == 0 || st == 400 || st == 405 || st == 426);
    if (st == 0) {
        assert(strlen(hs.accept) == WS_ACCEPT_LEN);
        assert(ws_handshake_response(&hs, out, sizeof out) > 0);
    }
    /* echo a client value into a response: refused or clean */
    struct http_resp w;
    http_resp_start(&w, out, sizeof out, 200, NULL);
    if (r->nheaders)
        http_resp_header(&w, r->headers[0].name, r->headers[0].value);
    ssize_t len = http_resp_end(&w, 0, r->keep_alive);
    if (len > 0) {
        assert((size_t)len <= sizeof out);
        assert(memcmp(out + len - 4, "\r\n\r\n", 4) == 0);
    }
}

static uint64_t check_request(const struct http_request *r, uint64_t h)
{
    assert(http_token_valid(r->method, strlen(r->method)));
    assert(r->path[0] == '/' || strcmp(r->path, "*") == 0);
    assert(r->body_len <= lim.body_max);
    assert((r->body == NULL) == (r->body_len == 0));
    assert(r->nheaders <= lim.header_count_max);
    if (r->version_minor == 1)
        assert(http_request_header_count(r, "host") == 1);
    h = fnv_str(h, r->method);
    h = fnv_str(h, r->target);
    h = fnv_str(h, r->path);
    h = fnv_str(h, r->query);
    h = fnv(h, &r->version_minor, sizeof r->version_minor);
    uint8_t flags = (uint8_t)(r->keep_alive | r->upgrade << 1 | r->expect_continue << 2);
    h = fnv(h, &flags, 1);
    for (size_t i = 0; i < r->nheaders; i++) {
        const char *nm = r->headers[i].name, *v = r->headers[i].value;
        assert(http_token_valid(nm, strlen(nm)));
        assert(!strpbrk(v, "\r\n") && no_edge_ws(v));
        h = fnv_str(h, nm);
        h = fnv_str(h, v);
    }
    h = fnv(h, r->body ? r->body : "", r->body_len);
    check_helpers(r);
    return h;
}

/* Parses data as a pipeline; chunk sizes come from `sizes` (cycled), or
 * the whole rest when nsizes == 0. Returns the transcript hash. */
static uint64_t pipeline(const uint8_t *data, size_t size, const uint8_t *sizes, size_t nsizes)
{
    struct http_parser p;
    uint64_t h = 14695981039346656037u;
    size_t off = 0, k = 0, start = 0;
    http_parser_init(&p, &lim);
    while (off < size) {
        size_t len = size - off;
        if (nsizes) {
            size_t want = (size_t)sizes[k++ % nsizes] % 16 + 1;
            len = want < len ? want : len;
        }
        size_t used;
        int rc = http_parser_feed(&p, (const char *)data + off, len, &used);
        assert(used <= len);
        if (rc == HTTP_PARSE_ERROR) {
            int st = http_parser_status(&p);
            assert(st == 400 || st == 411 || st == 413 || st == 414 || st == 417 || st == 431 ||
                   st == 501 || st == 505);
            assert(used == 0);
            assert(http_parser_feed(&p, (const char *)data + off, len, &used) == rc && !used);
            h = fnv(h, &st, sizeof st);
            h = fnv(h, &start, sizeof start); /* where the request began */
            break;
        }
        off += used;
        if (rc == HTTP_PARSE_DONE) {
            h = fnv(h, &off, sizeof off);
            h = check_request(http_parser_request(&p), h);
            http_parser_reset(&p);
            start = off;
        } else {
            assert(used == len);
        }
    }
    http_parser_free(&p);
    return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 8192)
        return 0;
    uint64_t whole = pipeline(data, size, NULL, 0);
    uint64_t parts = pipeline(data, size, data, size < 32 ? size : 32);
    assert(whole == parts);
    return 0;
}
