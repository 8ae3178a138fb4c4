/*
 * response.h - HTTP/1.1 response head writer (sans-IO).
 *
 * Owns the wire form of a response head: status line, header fields,
 * framing (Content-Length, Connection: close) and the standard reason
 * phrases, written into a caller-owned buffer. The caller supplies the
 * Date (http_date_format() renders a Unix time it read from its own
 * clock), so this module reads no clock.
 *
 * Contract (struct http_resp):
 *   - Calls come in order: http_resp_start, any http_resp_header,
 *     http_resp_end, optionally http_resp_body. Nothing is ever written
 *     past cap; on overflow or an invalid field the writer remembers the
 *     first error and http_resp_end / http_resp_body return -1, and the
 *     buffer holds nothing usable.
 *   - A field name must be an RFC 9110 token and a value must hold no
 *     CR, LF or NUL (response splitting defence): otherwise -1.
 *   - http_resp_end writes Content-Length (unless the status forbids a
 *     body: 1xx, 204, 304) and "Connection: close" when !keep_alive.
 *
 * Threads: none; pure functions over caller memory.
 */
#ifndef QUN_HTTP_RESPONSE_H
#define QUN_HTTP_RESPONSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* "Sun, 06 Nov 1994 08:49:37 GMT": 29 bytes. */
#define HTTP_DATE_LEN 29

struct http_resp {
    char *buf;
    size_t cap;
    size_t len;
    int status;
    bool failed;
    bool ended;
};

/* Reason phrase for a status ("Not Found"), "" for an unknown one. */
const char *http_reason(int status);
/* IMF-fixdate of a Unix time into out[HTTP_DATE_LEN + 1]. */
void http_date_format(int64_t unix_secs, char *out);

/* Status line; date (IMF-fixdate) written as Date when non-NULL. */
void http_resp_start(struct http_resp *w, char *buf, size_t cap, int status, const char *date);
void http_resp_header(struct http_resp *w, const char *name, const char *value);
/* Ends the head. Returns its length, or -1. */
ssize_t http_resp_end(struct http_resp *w, size_t content_length, bool keep_alive);
/* Appends body bytes after the head. Returns the total length, or -1. */
ssize_t http_resp_body(struct http_resp *w, const void *body, size_t len);

/*
 * Whole responses for the common cases: head and body into buf. Both add
 * "X-Content-Type-Options: nosniff" and "Cache-Control: no-store"; JSON
 * gets "application/json", HTML "text/html; charset=utf-8". Returns the
 * total length, or -1 when it does not fit.
 */
ssize_t http_resp_json(char *buf, size_t cap, int status, const char *date, bool keep_alive,
                       const char *json, size_t len);
ssize_t http_resp_html(char *buf, size_t cap, int status, const char *date, bool keep_alive,
                       const char *html, size_t len);
/* An error answer for http_parser_status(): a one-line text/plain body
 * ("413 Content Too Large\n") and Connection: close. */
ssize_t http_resp_error(char *buf, size_t cap, int status, const char *date);

#endif
