/*
 * test_response.c - unit tests for http/response.c.
 *
 * Byte-exact heads and whole responses, the Date format (RFC 9110's own
 * example instant), framing rules for 204/304 and Connection: close, and
 * the refusals: header injection, invalid names, overflow at every cap.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "http/response.h"

static void test_date(void **state)
{
    (void)state;
    char d[HTTP_DATE_LEN + 1];
    http_date_format(784111777, d);
    assert_string_equal(d, "Sun, 06 Nov 1994 08:49:37 GMT");
    http_date_format(0, d);
    assert_string_equal(d, "Thu, 01 Jan 1970 00:00:00 GMT");
    assert_int_equal(strlen(d), HTTP_DATE_LEN);
}

static void test_head_exact(void **state)
{
    (void)state;
    char buf[512];
    struct http_resp w;
    http_resp_start(&w, buf, sizeof buf, 200, "Sun, 06 Nov 1994 08:49:37 GMT");
    http_resp_header(&w, "Content-Type", "text/plain");
    ssize_t n = http_resp_end(&w, 5, true);
    assert_true(n > 0);
    assert_int_equal(http_resp_body(&w, "hello", 5), n + 5);
    const char *want = "HTTP/1.1 200 OK\r\n"
                       "Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
                       "Content-Type: text/plain\r\n"
                       "Content-Length: 5\r\n"
                       "\r\n"
                       "hello";
    assert_int_equal(w.len, strlen(want));
    assert_memory_equal(buf, want, strlen(want));

    http_resp_start(&w, buf, sizeof buf, 204, NULL);
    n = http_resp_end(&w, 0, false);
    assert_memory_equal(buf, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n", (size_t)n);
    http_resp_start(&w, buf, sizeof buf, 304, NULL);
    n = http_resp_end(&w, 99, true);
    assert_memory_equal(buf, "HTTP/1.1 304 Not Modified\r\n\r\n", (size_t)n);
    http_resp_start(&w, buf, sizeof buf, 599, NULL);
    n = http_resp_end(&w, 0, true);
    assert_memory_equal(buf, "HTTP/1.1 599 \r\nContent-Length: 0\r\n\r\n", (size_t)n);
}

static void test_refusals(void **state)
{
    (void)state;
    char buf[512];
    struct http_resp w;
    const char *bad_values[] = {"a\r\nSet-Cookie: x=1", "a\nb", "a\rb"};
    for (size_t i = 0; i < 3; i++) {
        http_resp_start(&w, buf, sizeof buf, 200, NULL);
        http_resp_header(&w, "X-A", bad_values[i]);
        assert_int_equal(http_resp_end(&w, 0, true), -1);
    }
    const char *bad_names[] = {"", "X A", "X:A", "X\r\nY"};
    for (size_t i = 0; i < 4; i++) {
        http_resp_start(&w, buf, sizeof buf, 200, NULL);
        http_resp_header(&w, bad_names[i], "v");
        assert_int_equal(http_resp_end(&w, 0, true), -1);
    }
    http_resp_start(&w, buf, sizeof buf, 42, NULL);
    assert_int_equal(http_resp_end(&w, 0, true), -1);
    /* out of order */
    http_resp_start(&w, buf, sizeof buf, 200, NULL);
    assert_int_equal(http_resp_body(&w, "x", 1), -1);
    http_resp_start(&w, buf, sizeof buf, 200, NULL);
    http_resp_end(&w, 0, true);
    http_resp_header(&w, "X", "y");
    assert_int_equal(http_resp_body(&w, "", 0), -1);
    /* overflow at every cap: never past cap, always -1 */
    const char *json = "{\"ok\":true}";
    ssize_t full = http_resp_json(buf, sizeof buf, 200, NULL, true, json, strlen(json));
    assert_true(full > 0);
    for (size_t cap = 0; cap < (size_t)full; cap++) {
        char small[512];
        memset(small, 'Z', sizeof small);
        assert_int_equal(http_resp_json(small, cap, 200, NULL, true, json, strlen(json)), -1);
        for (size_t k = cap; k < sizeof small; k++)
            assert_int_equal(small[k], 'Z');
    }
}

static void test_helpers(void **state)
{
    (void)state;
    char buf[512];
    const char *json = "{\"ok\":true}";
    ssize_t n = http_resp_json(buf, sizeof buf, 201, "Thu, 01 Jan 1970 00:00:00 GMT", false, json,
                               strlen(json));
    const char *want = "HTTP/1.1 201 Created\r\n"
                       "Date: Thu, 01 Jan 1970 00:00:00 GMT\r\n"
                       "Content-Type: application/json\r\n"
                       "X-Content-Type-Options: nosniff\r\n"
                       "Cache-Control: no-store\r\n"
                       "Content-Length: 11\r\n"
                       "Connection: close\r\n"
                       "\r\n"
                       "{\"ok\":true}";
    assert_int_equal(n, strlen(want));
    assert_memory_equal(buf, want, strlen(want));
    n = http_resp_html(buf, sizeof buf, 200, NULL, true, "<p>", 3);
    assert_true(n > 0);
    buf[n] = '\0';
    assert_non_null(strstr(buf, "Content-Type: text/html; charset=utf-8\r\n"));
    assert_non_null(strstr(buf, "\r\n\r\n<p>"));
    n = http_resp_error(buf, sizeof buf, 431, NULL);
    buf[n] = '\0';
    assert_string_equal(buf, "HTTP/1.1 431 Request Header Fields Too Large\r\n"
                             "Content-Type: text/plain; charset=utf-8\r\n"
                             "X-Content-Type-Options: nosniff\r\n"
                             "Cache-Control: no-store\r\n"
                             "Content-Length: 36\r\n"
                             "Connection: close\r\n"
                             "\r\n"
                             "431 Request Header Fields Too Large\n");
    assert_string_equal(http_reason(413), "Content Too Large");
    assert_string_equal(http_reason(414), "URI Too Long");
    assert_string_equal(http_reason(411), "Length Required");
    assert_string_equal(http_reason(501), "Not Implemented");
    assert_string_equal(http_reason(777), "");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_date),
        cmocka_unit_test(test_head_exact),
        cmocka_unit_test(test_refusals),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
