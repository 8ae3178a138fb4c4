/*
 * request.h - restartable HTTP/1.1 request parser (sans-IO).
 *
 * Owns the wire syntax of one HTTP/1.1 request as a server receives it
 * (RFC 9110, RFC 9112): request line, header section, a Content-Length
 * body. It takes bytes in any chunking and yields a parsed request or the
 * 4xx/5xx status to answer. No sockets, no clock, no globals: the caller
 * reads, feeds, answers and writes. docs/internals/http.md has the state
 * diagram and the error table.
 *
 * Invariants:
 *   1. Feeding the same bytes in any split (one byte at a time included)
 *      gives the same result, the same `consumed` total and the same
 *      request: the parser keeps all its state between calls.
 *   2. Memory is bounded by the limits given at init: one head buffer of
 *      2 * line_max + header_bytes_max + 4 bytes and one header array of
 *      header_count_max entries, allocated at init; the body buffer is
 *      allocated once the head is complete, exactly Content-Length bytes
 *      (<= body_max).
 *   3. The parser stops at the end of a request: bytes after it are not
 *      consumed and belong to the next request (pipelining). The caller
 *      handles the request, calls http_parser_reset() and feeds the rest.
 *   4. After an error the parser stays in the error state (every further
 *      feed returns the same error, consumes nothing); the caller answers
 *      with http_parser_status() and closes the connection, because the
 *      framing of whatever follows is unknown.
 *
 * Strictness (request smuggling defences): lines end in CRLF (a bare CR
 * or LF is 400), obs-fold is 400, whitespace between a field name and its
 * colon is 400, NUL/CR/LF or other controls in a value are 400, field
 * names are RFC 9110 tokens, Content-Length is 1*DIGIT and repeated copies
 * must agree, Transfer-Encoding together with Content-Length is 400, and
 * HTTP/1.1 needs exactly one Host.
 *
 * Bodies: only Content-Length framing is implemented. Transfer-Encoding
 * "chunked" alone is refused with 411 Length Required (the client can
 * resend with a length); any other transfer coding with 501. POST, PUT and
 * PATCH without Content-Length are refused with 411; other methods
 * without one have an empty body (RFC 9112 §6.3).
 *
 * Threads: none of its own; a parser belongs to one connection.
 */
#ifndef QUN_HTTP_REQUEST_H
#define QUN_HTTP_REQUEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Limits, per listener. Every one of them gives a distinct answer. */
struct http_limits {
    size_t line_max;         /* request line without CRLF; over: 414 */
    size_t header_count_max; /* header fields; over: 431 */
    size_t header_bytes_max; /* header section bytes incl. CRLFs; over: 431 */
    size_t body_max;         /* Content-Length; over: 413 */
};

/* 8 KiB line, 64 headers, 16 KiB of headers, 64 KiB body. */
extern const struct http_limits http_limits_default;

/* Results of http_parser_feed(). */
enum http_parse_result {
    HTTP_PARSE_ERROR = -1, /* see http_parser_status() */
    HTTP_PARSE_MORE = 0,   /* all input consumed, request incomplete */
    HTTP_PARSE_DONE = 1,   /* one request complete, see http_parser_request() */
};

struct http_header {
    const char *name;  /* as sent (case kept), NUL-terminated */
    const char *value; /* leading/trailing SP/HTAB removed, NUL-terminated */
};

/* A parsed request. Every pointer points into the parser's buffers and is
 * valid until http_parser_reset() or http_parser_free(). */
struct http_request {
    const char *method; /* token, case-sensitive: "GET", "POST", ... */
    const char *target; /* request-target as sent */
    const char *path;   /* origin-form path ("/a/b%20c"), still encoded;
                           "*" for OPTIONS *; the path of an absolute-form */
    const char *query;  /* after '?', still encoded; NULL when no '?' */
    int version_minor;  /* 0: HTTP/1.0, 1: HTTP/1.1 (and 1.x, x > 1) */
    struct http_header *headers;
    size_t nheaders;
    const char *body; /* NULL when body_len == 0 */
    size_t body_len;
    bool keep_alive;      /* the connection may carry another request */
    bool upgrade;         /* Connection lists "upgrade" */
    bool expect_continue; /* "Expect: 100-continue" was sent */
};

struct http_parser {
    struct http_limits lim;
    int state;  /* enum in request.c */
    int status; /* 0, or the error status once in the error state */
    const char *error;
    char *head; /* method, target, path, query, then name/value pairs */
    size_t head_cap;
    size_t head_len;
    size_t line_len;     /* bytes of the request line seen */
    size_t header_bytes; /* bytes of the header section seen */
    size_t empty_lines;  /* CRLFs before the request line */
    char version[8];     /* "HTTP/1.1" as it arrives */
    size_t version_len;
    size_t value_end; /* head_len after the last non-blank value byte */
    size_t off_method, off_target, off_path, off_query, off_name, off_value;
    bool has_query;
    struct http_header *hdr; /* offsets are kept as pointers into head */
    size_t nhdr;
    int64_t content_length; /* -1 when absent */
    char *body;
    size_t body_len;
    size_t consumed; /* bytes of the current request taken so far */
    struct http_request req;
};

/* Allocates the head buffer and header array (aborts on OOM). */
void http_parser_init(struct http_parser *p, const struct http_limits *lim);
void http_parser_free(struct http_parser *p);
/* Forgets the current request (after DONE) to parse the next one. Keeps
 * the head buffer; frees the body. Also leaves the error state. */
void http_parser_reset(struct http_parser *p);

/*
 * Feeds len bytes. *consumed gets how many were taken: all of them on
 * MORE; up to and including the last byte of the request on DONE (the
 * rest belongs to the next request); none on ERROR.
 */
enum http_parse_result http_parser_feed(struct http_parser *p, const char *data, size_t len,
                                        size_t *consumed);

/* The request after DONE; NULL otherwise. */
const struct http_request *http_parser_request(const struct http_parser *p);
/* Status to answer after ERROR: 400, 411, 413, 414, 417, 431, 501, 505. */
int http_parser_status(const struct http_parser *p);
/* Static English reason for the error, for logs ("bare LF", ...). */
const char *http_parser_error(const struct http_parser *p);
/* True once the head is complete and the body is still arriving, and the
 * client asked for "100-continue": the caller may send a 100 Continue. */
bool http_parser_wants_continue(const struct http_parser *p);

/* First value of header `name` (ASCII case-insensitive), or NULL. */
const char *http_request_header(const struct http_request *r, const char *name);
/* Number of fields called `name`. */
size_t http_request_header_count(const struct http_request *r, const char *name);
/* True when some field `name` holds `token` in its comma-separated list,
 * compared ASCII case-insensitively ("Connection: keep-alive, Upgrade"). */
bool http_request_has_token(const struct http_request *r, const char *name, const char *token);
/* Calls fn on every token of every field `name`, in order; stops early and
 * returns true when fn returns true. */
bool http_request_each_token(const struct http_request *r, const char *name,
                             bool (*fn)(const char *tok, size_t len, void *arg), void *arg);

/* True when s[0..n) is an RFC 9110 token (non-empty). */
bool http_token_valid(const char *s, size_t n);
/* ASCII case-insensitive comparison of s[0..n) with NUL-terminated lit. */
bool http_token_eq(const char *s, size_t n, const char *lit);

/*
 * Percent-decoding (RFC 3986) of s[0..n) into out (at most cap bytes, no
 * NUL written). With `form`, '+' decodes to a space
 * (application/x-www-form-urlencoded). Refuses a '%' without two hex
 * digits, "%00", and a result that is not well-formed UTF-8. Returns the
 * decoded length, or -1.
 */
ssize_t http_pct_decode(const char *s, size_t n, bool form, char *out, size_t cap);

/*
 * Iterator over a query string or an application/x-www-form-urlencoded
 * body: "a=1&b=x+y&c" gives (a,1) (b,"x y") (c,""). Empty pairs are
 * skipped. Names and values are decoded into the caller's buffers and
 * NUL-terminated.
 */
struct http_form_iter {
    const char *p, *end;
};
void http_form_init(struct http_form_iter *it, const char *s, size_t n);
/* 1: a pair; 0: end; -1: a pair that fails http_pct_decode or does not
 * fit (the iterator moves past it, so the caller may go on or stop). */
int http_form_next(struct http_form_iter *it, char *name, size_t ncap, char *value, size_t vcap);
/* Decoded value of the first pair called `name`: its length, -1 when
 * absent, -2 when present but undecodable or too long for out (cap
 * includes the NUL). */
ssize_t http_form_get(const char *s, size_t n, const char *name, char *out, size_t cap);

/*
 * Cookie header (RFC 6265 §4.2): "a=1; b=2". Names and values are
 * returned as spans into the header, not decoded; a value in DQUOTEs
 * loses them. Pairs without '=' or with an empty name are skipped.
 */
struct http_cookie_iter {
    const char *p, *end;
};
void http_cookie_init(struct http_cookie_iter *it, const char *header);
bool http_cookie_next(struct http_cookie_iter *it, const char **name, size_t *nlen,
                      const char **value, size_t *vlen);
/* Value of the first cookie `name` into out (NUL-terminated): its length,
 * -1 when absent, -2 when it does not fit in cap. */
ssize_t http_cookie_get(const char *header, const char *name, char *out, size_t cap);

#endif
