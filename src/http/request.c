/*
 * request.c - restartable HTTP/1.1 request parser (sans-IO).
 *
 * Contract in request.h. The parser is a byte-at-a-time state machine over
 * these states (docs/internals/http.md draws the same diagram):
 *
 *   START --CR--> START_LF --LF--> START        (empty lines, at most 8)
 *   START --tchar--> METHOD --SP--> TARGET --SP--> VERSION --CR--> LINE_LF
 *   LINE_LF --LF--> HDR_START                  (line_done: path, query)
 *   HDR_START --tchar--> HDR_NAME --':'--> HDR_OWS --vchar--> HDR_VALUE
 *   HDR_OWS/HDR_VALUE --CR--> HDR_LF --LF--> HDR_START   (header_done)
 *   HDR_START --CR--> END_LF --LF--> (head_done) BODY or DONE
 *   BODY --Content-Length bytes--> DONE
 *   any --bad byte or limit--> ERROR (sticky until http_parser_reset)
 *
 * Each transition that completes a piece is one function: line_done()
 * splits the target, header_done() stores a field, head_done() applies the
 * framing rules (Host, Transfer-Encoding, Content-Length, Expect,
 * Connection). Everything is copied into one head buffer sized from the
 * limits at init, so pointers handed out never move.
 *
 * Threads: none; one parser per connection.
 */
#include "http/request.h"

#include <assert.h>
#include <string.h>

#include "proto/utf8.h"
#include "util/alloc.h"

const struct http_limits http_limits_default = {
    .line_max = 8192,
    .header_count_max = 64,
    .header_bytes_max = 16384,
    .body_max = 65536,
};

enum {
    S_START,
    S_START_LF,
    S_METHOD,
    S_TARGET,
    S_VERSION,
    S_LINE_LF,
    S_HDR_START,
    S_HDR_NAME,
    S_HDR_OWS,
    S_HDR_VALUE,
    S_HDR_LF,
    S_END_LF,
    S_BODY,
    S_DONE,
    S_ERROR,
};

/* Empty lines tolerated before a request line (RFC 9112 §2.2 asks for at
 * least one; a few cover clients that add CRLF after a POST body). */
#define EMPTY_LINES_MAX 8

/* RFC 9110 tchar. */
static bool is_tchar(unsigned char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* field-vchar: VCHAR or obs-text. */
static bool is_vchar(unsigned char c)
{
    return (c > 0x20 && c < 0x7f) || c >= 0x80;
}

static unsigned char lower(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c + 32) : c;
}

bool http_token_valid(const char *s, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_tchar((unsigned char)s[i]))
            return false;
    return true;
}

bool http_token_eq(const char *s, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (m != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower((unsigned char)s[i]) != lower((unsigned char)lit[i]))
            return false;
    return true;
}

static bool name_eq(const char *a, const char *b)
{
    return http_token_eq(a, strlen(a), b);
}

void http_parser_init(struct http_parser *p, const struct http_limits *lim)
{
    memset(p, 0, sizeof *p);
    p->lim = lim ? *lim : http_limits_default;
    assert(p->lim.line_max >= 16 && p->lim.header_count_max > 0);
    p->head_cap = 2 * p->lim.line_max + p->lim.header_bytes_max + 4;
    p->head = xmalloc(p->head_cap);
    p->hdr = xcalloc(p->lim.header_count_max, sizeof *p->hdr);
    http_parser_reset(p);
}

void http_parser_free(struct http_parser *p)
{
    free(p->head);
    free(p->hdr);
    free(p->body);
    memset(p, 0, sizeof *p);
}

void http_parser_reset(struct http_parser *p)
{
    free(p->body);
    p->body = NULL;
    p->body_len = 0;
    p->state = S_START;
    p->status = 0;
    p->error = NULL;
    p->head_len = 0;
    p->line_len = 0;
    p->header_bytes = 0;
    p->empty_lines = 0;
    p->version_len = 0;
    p->value_end = 0;
    p->off_method = p->off_target = p->off_path = p->off_query = 0;
    p->off_name = p->off_value = 0;
    p->has_query = false;
    p->nhdr = 0;
    p->content_length = -1;
    p->consumed = 0;
    memset(&p->req, 0, sizeof p->req);
}

static enum http_parse_result fail(struct http_parser *p, int status, const char *why)
{
    p->state = S_ERROR;
    p->status = status;
    p->error = why;
    return HTTP_PARSE_ERROR;
}

static void put(struct http_parser *p, char c)
{
    assert(p->head_len < p->head_cap);
    p->head[p->head_len++] = c;
}

static void put_str(struct http_parser *p, const char *s, size_t n)
{
    assert(p->head_len + n <= p->head_cap);
    memcpy(p->head + p->head_len, s, n);
    p->head_len += n;
}

/* Splits the target into path and query; checks its form. */
static enum http_parse_result line_done(struct http_parser *p)
{
    const char *v = p->version;
    if (p->version_len != 8 || memcmp(v, "HTTP/", 5) != 0 || v[6] != '.' || v[5] < '0' ||
        v[5] > '9' || v[7] < '0' || v[7] > '9')
        return fail(p, 400, "malformed HTTP version");
    if (v[5] != '1')
        return fail(p, 505, "HTTP major version other than 1");
    p->req.version_minor = v[7] >= '1' ? 1 : 0;

    const char *t = p->head + p->off_target;
    size_t tlen = strlen(t);
    const char *path = t;
    size_t plen;
    if (t[0] == '/') {
        /* origin-form */
    } else if (tlen == 1 && t[0] == '*') {
        if (strcmp(p->head + p->off_method, "OPTIONS") != 0)
            return fail(p, 400, "asterisk target outside OPTIONS");
    } else if (tlen > 7 &&
               (http_token_eq(t, 7, "http://") || (tlen > 8 && http_token_eq(t, 8, "https://")))) {
        /* absolute-form: the path starts at the first '/' after the scheme */
        const char *auth = strstr(t, "//") + 2;
        path = auth + strcspn(auth, "/?");
        if (path == auth)
            return fail(p, 400, "absolute target without authority");
    } else {
        return fail(p, 400, "request target is not origin, absolute or asterisk form");
    }
    if (strchr(t, '#'))
        return fail(p, 400, "fragment in request target");
    const char *q = strchr(path, '?');
    plen = q ? (size_t)(q - path) : strlen(path);
    p->off_path = p->head_len;
    if (plen == 0)
        put(p, '/');
    else
        put_str(p, path, plen);
    put(p, '\0');
    if (q) {
        p->has_query = true;
        p->off_query = p->head_len;
        put_str(p, q + 1, strlen(q + 1));
        put(p, '\0');
    }
    return HTTP_PARSE_MORE;
}

static void header_done(struct http_parser *p)
{
    p->head_len = p->value_end;
    put(p, '\0');
    p->hdr[p->nhdr].name = p->head + p->off_name;
    p->hdr[p->nhdr].value = p->head + p->off_value;
    p->nhdr++;
}

static bool all_digits(const char *s)
{
    if (*s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* Content-Length: every field 1*DIGIT, all equal. Sets content_length or
 * fails; a value beyond int64 or body_max is 413. */
static enum http_parse_result check_length(struct http_parser *p)
{
    for (size_t i = 0; i < p->nhdr; i++) {
        if (!name_eq(p->hdr[i].name, "content-length"))
            continue;
        const char *v = p->hdr[i].value;
        if (!all_digits(v))
            return fail(p, 400, "Content-Length is not a decimal number");
        while (*v == '0' && v[1] != '\0')
            v++;
        int64_t n = 0;
        if (strlen(v) > 18)
            n = INT64_MAX;
        else
            for (; *v; v++)
                n = n * 10 + (*v - '0');
        if (p->content_length >= 0 && p->content_length != n)
            return fail(p, 400, "conflicting Content-Length fields");
        p->content_length = n;
    }
    return HTTP_PARSE_MORE;
}

static bool method_needs_length(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
}

/* The framing rules, once the empty line after the headers arrived. */
static enum http_parse_result head_done(struct http_parser *p)
{
    struct http_request *r = &p->req;
    r->method = p->head + p->off_method;
    r->target = p->head + p->off_target;
    r->path = p->head + p->off_path;
    r->query = p->has_query ? p->head + p->off_query : NULL;
    r->headers = p->hdr;
    r->nheaders = p->nhdr;

    size_t hosts = http_request_header_count(r, "host");
    if (hosts > 1 || (hosts == 0 && r->version_minor >= 1))
        return fail(p, 400, "HTTP/1.1 request without exactly one Host");
    size_t te = http_request_header_count(r, "transfer-encoding");
    size_t cl = http_request_header_count(r, "content-length");
    if (te > 0 && cl > 0)
        return fail(p, 400, "both Transfer-Encoding and Content-Length");
    if (te > 0) {
        const char *v = http_request_header(r, "transfer-encoding");
        if (te == 1 && http_token_eq(v, strlen(v), "chunked"))
            return fail(p, 411, "chunked request body (send Content-Length)");
        return fail(p, 501, "unsupported Transfer-Encoding");
    }
    if (check_length(p) < 0)
        return HTTP_PARSE_ERROR;
    if (p->content_length < 0 && method_needs_length(r->method))
        return fail(p, 411, "body method without Content-Length");
    if (p->content_length > 0 && (uint64_t)p->content_length > p->lim.body_max)
        return fail(p, 413, "body over the limit");
    size_t expects = http_request_header_count(r, "expect");
    if (expects > 0) {
        const char *v = http_request_header(r, "expect");
        if (expects > 1 || !http_token_eq(v, strlen(v), "100-continue"))
            return fail(p, 417, "unsupported Expect");
        r->expect_continue = r->version_minor >= 1;
    }
    if (r->version_minor >= 1)
        r->keep_alive = !http_request_has_token(r, "connection", "close");
    else
        r->keep_alive = http_request_has_token(r, "connection", "keep-alive");
    r->upgrade = http_request_has_token(r, "connection", "upgrade");
    if (p->content_length > 0) {
        p->body = xmalloc((size_t)p->content_length);
        p->state = S_BODY;
    } else {
        p->state = S_DONE;
    }
    return HTTP_PARSE_MORE;
}

/* One byte of the request line or header section. */
static enum http_parse_result step(struct http_parser *p, unsigned char c)
{
    if (p->state >= S_METHOD && p->state <= S_VERSION && c != '\r') {
        if (++p->line_len > p->lim.line_max)
            return fail(p, 414, "request line over the limit");
    } else if (p->state >= S_HDR_START && p->state <= S_END_LF) {
        if (++p->header_bytes > p->lim.header_bytes_max)
            return fail(p, 431, "header section over the limit");
    }
    switch (p->state) {
    case S_START:
        if (c == '\r') {
            p->state = S_START_LF;
            return HTTP_PARSE_MORE;
        }
        if (!is_tchar(c))
            return fail(p, 400, c == '\n' ? "bare LF" : "bad byte in method");
        p->state = S_METHOD;
        p->line_len = 1;
        p->off_method = 0;
        put(p, (char)c);
        return HTTP_PARSE_MORE;
    case S_START_LF:
        if (c != '\n')
            return fail(p, 400, "bare CR");
        if (++p->empty_lines > EMPTY_LINES_MAX)
            return fail(p, 400, "too many empty lines before the request");
        p->state = S_START;
        return HTTP_PARSE_MORE;
    case S_METHOD:
        if (c == ' ') {
            put(p, '\0');
            p->off_target = p->head_len;
            p->state = S_TARGET;
        } else if (is_tchar(c)) {
            put(p, (char)c);
        } else {
            return fail(p, 400, "bad byte in method");
        }
        return HTTP_PARSE_MORE;
    case S_TARGET:
        if (c == ' ') {
            if (p->head_len == p->off_target)
                return fail(p, 400, "empty request target");
            put(p, '\0');
            p->state = S_VERSION;
        } else if (c > 0x20 && c < 0x7f) {
            put(p, (char)c);
        } else {
            return fail(p, 400, "bad byte in request target");
        }
        return HTTP_PARSE_MORE;
    case S_VERSION:
        if (c == '\r') {
            p->state = S_LINE_LF;
        } else if (p->version_len < sizeof p->version) {
            p->version[p->version_len++] = (char)c;
        } else {
            return fail(p, 400, "malformed HTTP version");
        }
        return HTTP_PARSE_MORE;
    case S_LINE_LF:
        if (c != '\n')
            return fail(p, 400, "bare CR");
        p->state = S_HDR_START;
        return line_done(p);
    case S_HDR_START:
        if (c == '\r') {
            p->state = S_END_LF;
        } else if (c == ' ' || c == '\t') {
            return fail(p, 400, p->nhdr ? "obs-fold" : "whitespace before the first header");
        } else if (is_tchar(c)) {
            if (p->nhdr == p->lim.header_count_max)
                return fail(p, 431, "too many header fields");
            p->off_name = p->head_len;
            put(p, (char)c);
            p->state = S_HDR_NAME;
        } else {
            return fail(p, 400, c == '\n' ? "bare LF" : "bad byte in field name");
        }
        return HTTP_PARSE_MORE;
    case S_HDR_NAME:
        if (c == ':') {
            put(p, '\0');
            p->off_value = p->value_end = p->head_len;
            p->state = S_HDR_OWS;
        } else if (is_tchar(c)) {
            put(p, (char)c);
        } else {
            return fail(p, 400,
                        (c == ' ' || c == '\t') ? "whitespace before colon" : "bad field name");
        }
        return HTTP_PARSE_MORE;
    case S_HDR_OWS:
    case S_HDR_VALUE:
        if (c == '\r') {
            p->state = S_HDR_LF;
        } else if (c == ' ' || c == '\t') {
            if (p->state == S_HDR_VALUE)
                put(p, (char)c);
        } else if (is_vchar(c)) {
            put(p, (char)c);
            p->value_end = p->head_len;
            p->state = S_HDR_VALUE;
        } else {
            return fail(p, 400, c == '\n' ? "bare LF" : "control byte in field value");
        }
        return HTTP_PARSE_MORE;
    case S_HDR_LF:
        if (c != '\n')
            return fail(p, 400, "bare CR");
        header_done(p);
        p->state = S_HDR_START;
        return HTTP_PARSE_MORE;
    case S_END_LF:
        if (c != '\n')
            return fail(p, 400, "bare CR");
        return head_done(p);
    default:
        assert(0);
        return fail(p, 400, "parser state");
    }
}

enum http_parse_result http_parser_feed(struct http_parser *p, const char *data, size_t len,
                                        size_t *consumed)
{
    size_t i = 0;
    *consumed = 0;
    if (p->state == S_ERROR)
        return HTTP_PARSE_ERROR;
    while (i < len && p->state != S_DONE) {
        if (p->state == S_BODY) {
            size_t want = (size_t)p->content_length - p->body_len;
            size_t n = len - i < want ? len - i : want;
            memcpy(p->body + p->body_len, data + i, n);
            p->body_len += n;
            i += n;
            if (p->body_len == (size_t)p->content_length)
                p->state = S_DONE;
            continue;
        }
        if (step(p, (unsigned char)data[i]) < 0)
            return HTTP_PARSE_ERROR;
        i++;
    }
    *consumed = i;
    p->consumed += i;
    if (p->state != S_DONE)
        return HTTP_PARSE_MORE;
    p->req.body = p->body;
    p->req.body_len = p->body_len;
    return HTTP_PARSE_DONE;
}

const struct http_request *http_parser_request(const struct http_parser *p)
{
    return p->state == S_DONE ? &p->req : NULL;
}

int http_parser_status(const struct http_parser *p)
{
    return p->status;
}

const char *http_parser_error(const struct http_parser *p)
{
    return p->error ? p->error : "no error";
}

bool http_parser_wants_continue(const struct http_parser *p)
{
    return p->state == S_BODY && p->req.expect_continue && p->body_len == 0;
}

const char *http_request_header(const struct http_request *r, const char *name)
{
    for (size_t i = 0; i < r->nheaders; i++)
        if (name_eq(r->headers[i].name, name))
            return r->headers[i].value;
    return NULL;
}

size_t http_request_header_count(const struct http_request *r, const char *name)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nheaders; i++)
        n += name_eq(r->headers[i].name, name);
    return n;
}

bool http_request_each_token(const struct http_request *r, const char *name,
                             bool (*fn)(const char *tok, size_t len, void *arg), void *arg)
{
    for (size_t i = 0; i < r->nheaders; i++) {
        if (!name_eq(r->headers[i].name, name))
            continue;
        const char *s = r->headers[i].value;
        while (*s) {
            s += strspn(s, " \t,");
            size_t n = strcspn(s, ",");
            size_t m = n;
            while (m > 0 && (s[m - 1] == ' ' || s[m - 1] == '\t'))
                m--;
            if (m > 0 && fn(s, m, arg))
                return true;
            s += n;
        }
    }
    return false;
}

static bool token_match(const char *tok, size_t len, void *arg)
{
    return http_token_eq(tok, len, arg);
}

bool http_request_has_token(const struct http_request *r, const char *name, const char *token)
{
    return http_request_each_token(r, name, token_match, (void *)token);
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

ssize_t http_pct_decode(const char *s, size_t n, bool form, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '%') {
            if (n - i < 3)
                return -1;
            int hi = hexval((unsigned char)s[i + 1]), lo = hexval((unsigned char)s[i + 2]);
            if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
                return -1;
            c = (unsigned char)(hi * 16 + lo);
            i += 2;
        } else if (c == '+' && form) {
            c = ' ';
        } else if (c == '\0') {
            return -1;
        }
        if (o == cap)
            return -1;
        out[o++] = (char)c;
    }
    if (!utf8_valid(out, o))
        return -1;
    return (ssize_t)o;
}

void http_form_init(struct http_form_iter *it, const char *s, size_t n)
{
    it->p = s;
    it->end = s + n;
}

int http_form_next(struct http_form_iter *it, char *name, size_t ncap, char *value, size_t vcap)
{
    while (it->p < it->end) {
        const char *amp = memchr(it->p, '&', (size_t)(it->end - it->p));
        const char *pe = amp ? amp : it->end;
        const char *pair = it->p;
        it->p = amp ? amp + 1 : it->end;
        if (pe == pair)
            continue;
        const char *eq = memchr(pair, '=', (size_t)(pe - pair));
        const char *ne = eq ? eq : pe;
        if (ncap == 0 || vcap == 0)
            return -1;
        ssize_t nl = http_pct_decode(pair, (size_t)(ne - pair), true, name, ncap - 1);
        ssize_t vl = 0;
        if (eq)
            vl = http_pct_decode(eq + 1, (size_t)(pe - eq - 1), true, value, vcap - 1);
        if (nl < 0 || vl < 0)
            return -1;
        name[nl] = '\0';
        value[vl] = '\0';
        return 1;
    }
    return 0;
}

ssize_t http_form_get(const char *s, size_t n, const char *name, char *out, size_t cap)
{
    size_t want = strlen(name);
    struct http_form_iter it;
    http_form_init(&it, s, n);
    while (it.p < it.end) {
        const char *amp = memchr(it.p, '&', (size_t)(it.end - it.p));
        const char *pe = amp ? amp : it.end;
        const char *pair = it.p;
        it.p = amp ? amp + 1 : it.end;
        const char *eq = memchr(pair, '=', (size_t)(pe - pair));
        const char *ne = eq ? eq : pe;
        /* names are compared decoded, in a buffer as long as the name */
        char nbuf[256];
        ssize_t nl = http_pct_decode(pair, (size_t)(ne - pair), true, nbuf, sizeof nbuf);
        if (nl < 0 || (size_t)nl != want || memcmp(nbuf, name, want) != 0)
            continue;
        if (cap == 0)
            return -2;
        ssize_t vl = eq ? http_pct_decode(eq + 1, (size_t)(pe - eq - 1), true, out, cap - 1) : 0;
        if (vl < 0)
            return -2;
        out[vl] = '\0';
        return vl;
    }
    return -1;
}

void http_cookie_init(struct http_cookie_iter *it, const char *header)
{
    it->p = header ? header : "";
    it->end = it->p + strlen(it->p);
}

bool http_cookie_next(struct http_cookie_iter *it, const char **name, size_t *nlen,
                      const char **value, size_t *vlen)
{
    while (it->p < it->end) {
        const char *semi = memchr(it->p, ';', (size_t)(it->end - it->p));
        const char *pe = semi ? semi : it->end;
        const char *s = it->p;
        it->p = semi ? semi + 1 : it->end;
        while (s < pe && (*s == ' ' || *s == '\t'))
            s++;
        const char *eq = memchr(s, '=', (size_t)(pe - s));
        if (!eq)
            continue;
        const char *ne = eq;
        while (ne > s && (ne[-1] == ' ' || ne[-1] == '\t'))
            ne--;
        if (ne == s)
            continue;
        const char *v = eq + 1, *ve = pe;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        if (ve - v >= 2 && v[0] == '"' && ve[-1] == '"') {
            v++;
            ve--;
        }
        *name = s;
        *nlen = (size_t)(ne - s);
        *value = v;
        *vlen = (size_t)(ve - v);
        return true;
    }
    return false;
}

ssize_t http_cookie_get(const char *header, const char *name, char *out, size_t cap)
{
    struct http_cookie_iter it;
    const char *n, *v;
    size_t nl, vl;
    size_t want = strlen(name);
    http_cookie_init(&it, header);
    while (http_cookie_next(&it, &n, &nl, &v, &vl)) {
        if (nl != want || memcmp(n, name, nl) != 0)
            continue;
        if (vl >= cap)
            return -2;
        memcpy(out, v, vl);
        out[vl] = '\0';
        return (ssize_t)vl;
    }
    return -1;
}
