/*
 * test_request.c - unit tests for http/request.c.
 *
 * Every case is run through run_all(), which feeds the input whole, one
 * byte at a time and in 2, 3 and 7 byte pieces, and asserts that all
 * splits give the same result, status, consumed count and request (the
 * chunking invariant of request.h). Covered: every limit at and one past
 * its value, every error status, pipelining, keep-alive rules, the
 * request smuggling cases, and the percent/form/cookie helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "http/request.h"

struct outcome {
    int rc;
    int status;
    size_t consumed;
    char dump[4096]; /* the parsed request, rendered for comparison */
};

static void dump_request(const struct http_request *r, char *out, size_t cap)
{
    int n = snprintf(out, cap, "%s|%s|%s|%s|1.%d|ka=%d up=%d ec=%d|", r->method, r->target, r->path,
                     r->query ? r->query : "(null)", r->version_minor, r->keep_alive, r->upgrade,
                     r->expect_continue);
    for (size_t i = 0; i < r->nheaders && n > 0 && (size_t)n < cap; i++)
        n += snprintf(out + n, cap - (size_t)n, "[%s=%s]", r->headers[i].name, r->headers[i].value);
    if (n > 0 && (size_t)n < cap)
        snprintf(out + n, cap - (size_t)n, "|%.*s", (int)r->body_len, r->body ? r->body : "");
}

static void run(const struct http_limits *lim, const char *s, size_t n, size_t chunk,
                struct outcome *o)
{
    struct http_parser p;
    http_parser_init(&p, lim);
    memset(o, 0, sizeof *o);
    size_t off = 0;
    o->rc = HTTP_PARSE_MORE;
    while (off < n && o->rc == HTTP_PARSE_MORE) {
        size_t len = n - off < chunk ? n - off : chunk;
        size_t used = 0;
        o->rc = http_parser_feed(&p, s + off, len, &used);
        assert_true(used <= len);
        if (o->rc == HTTP_PARSE_MORE)
            assert_int_equal(used, len);
        off += used;
    }
    o->consumed = off;
    o->status = http_parser_status(&p);
    if (o->rc == HTTP_PARSE_DONE)
        dump_request(http_parser_request(&p), o->dump, sizeof o->dump);
    http_parser_free(&p);
}

/* Runs every split and checks they agree; returns the whole-input one. */
static struct outcome run_all(const struct http_limits *lim, const char *s, size_t n)
{
    static const size_t chunks[] = {1, 2, 3, 7};
    struct outcome whole, part;
    run(lim, s, n, n ? n : 1, &whole);
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        run(lim, s, n, chunks[i], &part);
        assert_int_equal(part.rc, whole.rc);
        assert_int_equal(part.status, whole.status);
        if (whole.rc != HTTP_PARSE_ERROR)
            assert_int_equal(part.consumed, whole.consumed);
        assert_string_equal(part.dump, whole.dump);
    }
    return whole;
}

static struct outcome parse(const char *s)
{
    return run_all(NULL, s, strlen(s));
}

static int status_of(const char *s)
{
    struct outcome o = parse(s);
    if (o.rc != HTTP_PARSE_ERROR)
        return 0;
    return o.status;
}

static void test_simple_get(void **state)
{
    (void)state;
    const char *req = "GET /chat/room%20a?x=1&y=2 HTTP/1.1\r\n"
                      "Host: example.org\r\n"
                      "User-Agent:   curl/8 \t \r\n"
                      "Accept:\r\n"
                      "\r\n";
    struct outcome o = parse(req);
    assert_int_equal(o.rc, HTTP_PARSE_DONE);
    assert_int_equal(o.consumed, strlen(req));
    assert_string_equal(o.dump, "GET|/chat/room%20a?x=1&y=2|/chat/room%20a|x=1&y=2|1.1|ka=1 up=0 "
                                "ec=0|[Host=example.org][User-Agent=curl/8][Accept=]|");

    struct http_parser p;
    size_t used;
    http_parser_init(&p, NULL);
    assert_int_equal(http_parser_feed(&p, req, strlen(req), &used), HTTP_PARSE_DONE);
    const struct http_request *r = http_parser_request(&p);
    assert_non_null(r);
    assert_string_equal(http_request_header(r, "HOST"), "example.org");
    assert_string_equal(http_request_header(r, "user-agent"), "curl/8");
    assert_null(http_request_header(r, "cookie"));
    assert_null(r->body);
    http_parser_free(&p);
}

static void test_post_body_and_incomplete(void **state)
{
    (void)state;
    const char *req = "POST /api/login HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n"
                      "Content-Type: application/x-www-form-urlencoded\r\n\r\nuser=a&pw=b";
    struct outcome o = parse(req);
    assert_int_equal(o.rc, HTTP_PARSE_DONE);
    assert_true(strstr(o.dump, "|user=a&pw=b") != NULL);
    /* Every proper prefix is incomplete, never an error. */
    for (size_t n = 0; n < strlen(req); n++) {
        struct outcome q = run_all(NULL, req, n);
        assert_int_equal(q.rc, HTTP_PARSE_MORE);
    }
    /* Content-Length: 0 and identical repeated lengths are fine. */
    assert_int_equal(parse("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n").rc,
                     HTTP_PARSE_DONE);
    o = parse("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\ncontent-length: 002\r\n\r\nok");
    assert_int_equal(o.rc, HTTP_PARSE_DONE);
    assert_true(strstr(o.dump, "|ok") != NULL);
}

static void test_pipelining(void **state)
{
    (void)state;
    const char *a = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n";
    const char *b = "POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
    const char *c = "GET /3 HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n";
    char all[512];
    snprintf(all, sizeof all, "%s%s%s", a, b, c);
    size_t lens[3] = {strlen(a), strlen(b), strlen(c)};
    const char *paths[3] = {"/1", "/2", "/3"};
    /* Whole, and one byte at a time: the same three requests. */
    for (int mode = 0; mode < 2; mode++) {
        struct http_parser p;
        http_parser_init(&p, NULL);
        size_t off = 0, total = strlen(all);
        int seen = 0;
        while (off < total) {
            size_t len = mode ? 1 : total - off, used;
            int rc = http_parser_feed(&p, all + off, len, &used);
            off += used;
            assert_int_not_equal(rc, HTTP_PARSE_ERROR);
            if (rc == HTTP_PARSE_DONE) {
                const struct http_request *r = http_parser_request(&p);
                assert_string_equal(r->path, paths[seen]);
                assert_int_equal(p.consumed, lens[seen]);
                assert_int_equal(r->keep_alive, seen != 2);
                if (seen == 1)
                    assert_memory_equal(r->body, "abc", 3);
                seen++;
                http_parser_reset(&p);
            }
        }
        assert_int_equal(seen, 3);
        http_parser_free(&p);
    }
    /* Leading empty lines (after a previous body) are skipped, up to 8. */
    assert_int_equal(parse("\r\n\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n").rc, HTTP_PARSE_DONE);
    char many[256] = "";
    for (int i = 0; i < 9; i++)
        strcat(many, "\r\n");
    strcat(many, "GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_int_equal(status_of(many), 400);
}

static void test_keep_alive(void **state)
{
    (void)state;
    struct {
        const char *req;
        const char *expect;
    } cases[] = {
        {"GET / HTTP/1.1\r\nHost: h\r\n\r\n", "ka=1 up=0"},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n", "ka=0 up=0"},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: Keep-Alive, CLOSE\r\n\r\n", "ka=0 up=0"},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n",
         "ka=0 up=0"},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n", "ka=1 up=0"},
        {"GET / HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, Upgrade\r\n\r\n", "ka=1 up=1"},
        {"GET / HTTP/1.0\r\n\r\n", "ka=0 up=0"},
        {"GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", "ka=1 up=0"},
        {"GET / HTTP/1.0\r\nHost: h\r\nConnection: close\r\n\r\n", "ka=0 up=0"},
        {"GET / HTTP/1.2\r\nHost: h\r\n\r\n", "ka=1 up=0"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct outcome o = parse(cases[i].req);
        assert_int_equal(o.rc, HTTP_PARSE_DONE);
        if (!strstr(o.dump, cases[i].expect))
            fail_msg("case %zu: %s lacks %s", i, o.dump, cases[i].expect);
    }
}

static void test_target_forms(void **state)
{
    (void)state;
    struct outcome o = parse("GET http://Example.org/a/b?q HTTP/1.1\r\nHost: example.org\r\n\r\n");
    assert_int_equal(o.rc, HTTP_PARSE_DONE);
    assert_true(strstr(o.dump, "|/a/b|q|") != NULL);
    o = parse("GET https://example.org HTTP/1.1\r\nHost: example.org\r\n\r\n");
    assert_true(strstr(o.dump, "|/|(null)|") != NULL);
    o = parse("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_true(strstr(o.dump, "|*|*|(null)|") != NULL);
    o = parse("GET /? HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_true(strstr(o.dump, "|/||") != NULL);
    assert_int_equal(status_of("GET * HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("GET a/b HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("GET /a\x7f HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("GET /\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
}

static void test_request_line_errors(void **state)
{
    (void)state;
    assert_int_equal(status_of("GET / HTTP/1.1\nHost: h\r\n\r\n"), 400);     /* bare LF */
    assert_int_equal(status_of("GET / HTTP/1.1\rHost: h\r\n\r\n"), 400);     /* bare CR */
    assert_int_equal(status_of("\nGET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400); /* bare LF */
    assert_int_equal(status_of("GET  / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);  /* empty target */
    assert_int_equal(status_of("GET / HTTP/1.1 \r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("GET /\r\n\r\n"), 400); /* HTTP/0.9 */
    assert_int_equal(status_of("GET / http/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.x\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/11\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("G(T / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of(" GET / HTTP/1.1\r\nHost: h\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/2.0\r\nHost: h\r\n\r\n"), 505);
    assert_int_equal(status_of("GET / HTTP/0.9\r\nHost: h\r\n\r\n"), 505);
}

static void test_header_errors_and_smuggling(void **state)
{
    (void)state;
    /* obs-fold, and whitespace where a field name should start */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\n Host: h\r\n\r\n"), 400);
    /* whitespace before the colon */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost : h\r\n\r\n"), 400);
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length\t: 1\r\n\r\nx"), 400);
    /* NUL, bare CR, bare LF and other controls in a value */
    assert_int_equal(run_all(NULL, "GET / HTTP/1.1\r\nHost: h\0x\r\n\r\n", 31).status, 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\rx\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\nX: y\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\x01\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\x7f\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\n\n"), 400);
    /* invalid names */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\n: v\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nX(y): v\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: v\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n"), 400);
    /* Host: missing or repeated */
    assert_int_equal(status_of("GET / HTTP/1.1\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"), 400);
    assert_int_equal(status_of("GET / HTTP/1.0\r\nHost: a\r\nHost: a\r\n\r\n"), 400);
    /* Content-Length: conflicting, signed, listed, hex, empty */
    const char *bad_cl[] = {"1\r\nContent-Length: 2", "+1", "-1", "1, 1", "0x1", "1 1", ""};
    for (size_t i = 0; i < sizeof bad_cl / sizeof bad_cl[0]; i++) {
        char req[256];
        snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %s\r\n\r\nxx",
                 bad_cl[i]);
        if (status_of(req) != 400)
            fail_msg("Content-Length '%s' accepted", bad_cl[i]);
    }
    /* Transfer-Encoding with Content-Length; chunked alone; other codings */
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
                     400);
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"),
        411);
    assert_int_equal(
        status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n0\r\n\r\n"),
        411);
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, "
                               "chunked\r\n\r\n"),
                     501);
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n"),
                     501);
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: xchunked\r\n\r\n"),
                     501);
    /* body methods need a length */
    assert_int_equal(status_of("POST / HTTP/1.1\r\nHost: h\r\n\r\n"), 411);
    assert_int_equal(status_of("PUT / HTTP/1.1\r\nHost: h\r\n\r\n"), 411);
    assert_int_equal(status_of("PATCH / HTTP/1.1\r\nHost: h\r\n\r\n"), 411);
    assert_int_equal(parse("DELETE /x HTTP/1.1\r\nHost: h\r\n\r\n").rc, HTTP_PARSE_DONE);
    /* Expect */
    assert_int_equal(status_of("GET / HTTP/1.1\r\nHost: h\r\nExpect: 200-ok\r\n\r\n"), 417);
}

static void test_error_is_sticky(void **state)
{
    (void)state;
    struct http_parser p;
    size_t used = 99;
    http_parser_init(&p, NULL);
    assert_int_equal(http_parser_feed(&p, "GET / HTTP/1.1\r\nHost : h\r\n", 26, &used),
                     HTTP_PARSE_ERROR);
    assert_int_equal(used, 0);
    assert_int_equal(http_parser_status(&p), 400);
    assert_string_equal(http_parser_error(&p), "whitespace before colon");
    assert_null(http_parser_request(&p));
    assert_int_equal(http_parser_feed(&p, "\r\n", 2, &used), HTTP_PARSE_ERROR);
    assert_int_equal(used, 0);
    http_parser_reset(&p);
    assert_int_equal(http_parser_feed(&p, "GET / HTTP/1.1\r\nHost: h\r\n\r\n", 27, &used),
                     HTTP_PARSE_DONE);
    http_parser_free(&p);
}

static void test_limits(void **state)
{
    (void)state;
    const struct http_limits lim = {
        .line_max = 32, .header_count_max = 3, .header_bytes_max = 40, .body_max = 5};
    char req[512];
    /* request line: exactly 32 bytes passes, 33 is 414 */
    snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nHost: h\r\n\r\n", "aaaaaaaaaaaaaaaaaa");
    assert_int_equal(strchr(req, '\r') - req, 32);
    assert_int_equal(run_all(&lim, req, strlen(req)).rc, HTTP_PARSE_DONE);
    snprintf(req, sizeof req, "GET /%s HTTP/1.1\r\nHost: h\r\n\r\n", "aaaaaaaaaaaaaaaaaaa");
    struct outcome o = run_all(&lim, req, strlen(req));
    assert_int_equal(o.rc, HTTP_PARSE_ERROR);
    assert_int_equal(o.status, 414);
    /* a long method counts against the line too */
    snprintf(req, sizeof req, "%s / HTTP/1.1\r\n", "GETGETGETGETGETGETGETGETGETGET");
    assert_int_equal(run_all(&lim, req, strlen(req)).status, 414);

    /* header count: 3 passes, 4 is 431 */
    snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n");
    assert_int_equal(run_all(&lim, req, strlen(req)).rc, HTTP_PARSE_DONE);
    snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n");
    o = run_all(&lim, req, strlen(req));
    assert_int_equal(o.status, 431);

    /* header bytes: 40 including the final CRLF passes, 41 is 431 */
    snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: h\r\nA: %s\r\n\r\n",
             "123456789012345678901234"); /* 9 + 29 + 2 */
    size_t hb = strlen(req) - strlen("GET / HTTP/1.1\r\n");
    assert_int_equal(hb, 40);
    assert_int_equal(run_all(&lim, req, strlen(req)).rc, HTTP_PARSE_DONE);
    snprintf(req, sizeof req, "GET / HTTP/1.1\r\nHost: h\r\nA: %s\r\n\r\n",
             "1234567890123456789012345");
    assert_int_equal(run_all(&lim, req, strlen(req)).status, 431);

    /* body: 5 passes, 6 is 413, a huge number is 413 too */
    snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\n12345");
    assert_int_equal(run_all(&lim, req, strlen(req)).rc, HTTP_PARSE_DONE);
    snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n\r\n123456");
    assert_int_equal(run_all(&lim, req, strlen(req)).status, 413);
    snprintf(req, sizeof req, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %s\r\n\r\n",
             "99999999999999999999999999");
    assert_int_equal(run_all(NULL, req, strlen(req)).status, 413);
    /* the defaults */
    assert_int_equal(http_limits_default.line_max, 8192);
    assert_int_equal(http_limits_default.header_count_max, 64);
}

static void test_expect_continue(void **state)
{
    (void)state;
    struct http_parser p;
    size_t used;
    const char *head = "POST /u HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n"
                       "Content-Length: 2\r\n\r\n";
    http_parser_init(&p, NULL);
    assert_false(http_parser_wants_continue(&p));
    assert_int_equal(http_parser_feed(&p, head, strlen(head), &used), HTTP_PARSE_MORE);
    assert_true(http_parser_wants_continue(&p));
    assert_int_equal(http_parser_feed(&p, "o", 1, &used), HTTP_PARSE_MORE);
    assert_false(http_parser_wants_continue(&p));
    assert_int_equal(http_parser_feed(&p, "k", 1, &used), HTTP_PARSE_DONE);
    assert_true(http_parser_request(&p)->expect_continue);
    http_parser_free(&p);
}

static void test_tokens(void **state)
{
    (void)state;
    struct http_parser p;
    size_t used;
    const char *req = "GET / HTTP/1.1\r\nHost: h\r\nUpgrade: h2c, WebSocket\r\n"
                      "X-List: a ,, b\t,c\r\nx-list: d\r\n\r\n";
    http_parser_init(&p, NULL);
    assert_int_equal(http_parser_feed(&p, req, strlen(req), &used), HTTP_PARSE_DONE);
    const struct http_request *r = http_parser_request(&p);
    assert_true(http_request_has_token(r, "upgrade", "websocket"));
    assert_false(http_request_has_token(r, "upgrade", "web"));
    assert_true(http_request_has_token(r, "x-list", "b"));
    assert_true(http_request_has_token(r, "X-LIST", "d"));
    assert_false(http_request_has_token(r, "x-list", ""));
    assert_int_equal(http_request_header_count(r, "x-list"), 2);
    assert_true(http_token_valid("Content-Type", 12));
    assert_false(http_token_valid("a b", 3));
    assert_false(http_token_valid("", 0));
    http_parser_free(&p);
}

static void test_pct_decode(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(http_pct_decode("a%20b+c", 7, false, out, sizeof out), 7 - 2);
    assert_memory_equal(out, "a b+c", 5);
    assert_int_equal(http_pct_decode("a%20b+c", 7, true, out, sizeof out), 5);
    assert_memory_equal(out, "a b c", 5);
    assert_int_equal(http_pct_decode("%E5%B0%8F%e6%98%8e", 18, false, out, sizeof out), 6);
    assert_memory_equal(out, "\xe5\xb0\x8f\xe6\x98\x8e", 6);
    assert_int_equal(http_pct_decode("", 0, false, out, sizeof out), 0);
    assert_int_equal(http_pct_decode("%00", 3, false, out, sizeof out), -1);
    assert_int_equal(http_pct_decode("a%0", 3, false, out, sizeof out), -1);
    assert_int_equal(http_pct_decode("a%", 2, false, out, sizeof out), -1);
    assert_int_equal(http_pct_decode("%zz", 3, false, out, sizeof out), -1);
    assert_int_equal(http_pct_decode("%C3%28", 6, false, out, sizeof out), -1);
    assert_int_equal(http_pct_decode("%C0%AF", 6, false, out, sizeof out), -1); /* overlong */
    assert_int_equal(http_pct_decode("%ED%A0%80", 9, false, out, sizeof out), -1);
    assert_int_equal(http_pct_decode("\xff", 1, false, out, sizeof out), -1);
    assert_int_equal(http_pct_decode("a\0b", 3, false, out, sizeof out), -1);
    assert_int_equal(http_pct_decode("abcd", 4, false, out, 3), -1); /* does not fit */
    assert_int_equal(http_pct_decode("%0a%0D", 6, false, out, sizeof out), 2);
}

static void test_form(void **state)
{
    (void)state;
    const char *q = "a=1&&b=x+y%21&c&=v&d=%00&e=%E4%BD%A0";
    struct http_form_iter it;
    char n[32], v[32];
    http_form_init(&it, q, strlen(q));
    assert_int_equal(http_form_next(&it, n, sizeof n, v, sizeof v), 1);
    assert_string_equal(n, "a");
    assert_string_equal(v, "1");
    assert_int_equal(http_form_next(&it, n, sizeof n, v, sizeof v), 1);
    assert_string_equal(n, "b");
    assert_string_equal(v, "x y!");
    assert_int_equal(http_form_next(&it, n, sizeof n, v, sizeof v), 1);
    assert_string_equal(n, "c");
    assert_string_equal(v, "");
    assert_int_equal(http_form_next(&it, n, sizeof n, v, sizeof v), 1);
    assert_string_equal(n, "");
    assert_string_equal(v, "v");
    assert_int_equal(http_form_next(&it, n, sizeof n, v, sizeof v), -1); /* d=%00 */
    assert_int_equal(http_form_next(&it, n, sizeof n, v, sizeof v), 1);
    assert_string_equal(v, "\xe4\xbd\xa0");
    assert_int_equal(http_form_next(&it, n, sizeof n, v, sizeof v), 0);

    assert_int_equal(http_form_get(q, strlen(q), "b", v, sizeof v), 4);
    assert_string_equal(v, "x y!");
    assert_int_equal(http_form_get(q, strlen(q), "c", v, sizeof v), 0);
    assert_int_equal(http_form_get(q, strlen(q), "zz", v, sizeof v), -1);
    assert_int_equal(http_form_get(q, strlen(q), "d", v, sizeof v), -2);
    assert_int_equal(http_form_get(q, strlen(q), "b", v, 4), -2); /* 4 bytes + NUL */
    assert_int_equal(http_form_get("x%3D=1", 6, "x=", v, sizeof v), 1);
    /* too small name buffer */
    http_form_init(&it, "long=1", 6);
    assert_int_equal(http_form_next(&it, n, 3, v, sizeof v), -1);
    assert_int_equal(http_form_next(&it, n, 3, v, sizeof v), 0);
}

static void test_cookie(void **state)
{
    (void)state;
    const char *h = "sid=abc123; theme=\"dark\";noeq; =x; lang = zh ;empty=";
    char out[16];
    assert_int_equal(http_cookie_get(h, "sid", out, sizeof out), 6);
    assert_string_equal(out, "abc123");
    assert_int_equal(http_cookie_get(h, "theme", out, sizeof out), 4);
    assert_string_equal(out, "dark");
    assert_int_equal(http_cookie_get(h, "lang", out, sizeof out), 2);
    assert_string_equal(out, "zh");
    assert_int_equal(http_cookie_get(h, "empty", out, sizeof out), 0);
    assert_int_equal(http_cookie_get(h, "noeq", out, sizeof out), -1);
    assert_int_equal(http_cookie_get(h, "SID", out, sizeof out), -1); /* case-sensitive */
    assert_int_equal(http_cookie_get(h, "sid", out, 6), -2);
    assert_int_equal(http_cookie_get(NULL, "sid", out, sizeof out), -1);
    struct http_cookie_iter it;
    const char *n, *v;
    size_t nl, vl;
    int count = 0;
    http_cookie_init(&it, h);
    while (http_cookie_next(&it, &n, &nl, &v, &vl))
        count++;
    assert_int_equal(count, 4);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_simple_get),
        cmocka_unit_test(test_post_body_and_incomplete),
        cmocka_unit_test(test_pipelining),
        cmocka_unit_test(test_keep_alive),
        cmocka_unit_test(test_target_forms),
        cmocka_unit_test(test_request_line_errors),
        cmocka_unit_test(test_header_errors_and_smuggling),
        cmocka_unit_test(test_error_is_sticky),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_expect_continue),
        cmocka_unit_test(test_tokens),
        cmocka_unit_test(test_pct_decode),
        cmocka_unit_test(test_form),
        cmocka_unit_test(test_cookie),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
