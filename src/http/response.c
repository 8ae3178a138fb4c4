/*
 * response.c - HTTP/1.1 response head writer (sans-IO).
 *
 * Contract in response.h. The writer appends with one bounded helper,
 * emit(), so no call can write past cap; the first failure is sticky.
 * Reason phrases follow RFC 9110 §15 (413 is "Content Too Large", 422
 * "Unprocessable Content").
 *
 * Threads: none.
 */
#include "http/response.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http/request.h"

static const struct {
    int status;
    const char *reason;
} reasons[] = {
    {100, "Continue"},
    {101, "Switching Protocols"},
    {200, "OK"},
    {201, "Created"},
    {202, "Accepted"},
    {204, "No Content"},
    {301, "Moved Permanently"},
    {302, "Found"},
    {303, "See Other"},
    {304, "Not Modified"},
    {307, "Temporary Redirect"},
    {308, "Permanent Redirect"},
    {400, "Bad Request"},
    {401, "Unauthorized"},
    {403, "Forbidden"},
    {404, "Not Found"},
    {405, "Method Not Allowed"},
    {406, "Not Acceptable"},
    {408, "Request Timeout"},
    {409, "Conflict"},
    {410, "Gone"},
    {411, "Length Required"},
    {412, "Precondition Failed"},
    {413, "Content Too Large"},
    {414, "URI Too Long"},
    {415, "Unsupported Media Type"},
    {417, "Expectation Failed"},
    {422, "Unprocessable Content"},
    {426, "Upgrade Required"},
    {429, "Too Many Requests"},
    {431, "Request Header Fields Too Large"},
    {500, "Internal Server Error"},
    {501, "Not Implemented"},
    {502, "Bad Gateway"},
    {503, "Service Unavailable"},
    {504, "Gateway Timeout"},
    {505, "HTTP Version Not Supported"},
};

const char *http_reason(int status)
{
    for (size_t i = 0; i < sizeof reasons / sizeof reasons[0]; i++)
        if (reasons[i].status == status)
            return reasons[i].reason;
    return "";
}

void http_date_format(int64_t unix_secs, char *out)
{
    static const char days[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
    static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                       "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    time_t t = (time_t)unix_secs;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || tm.tm_year + 1900 > 9999 || tm.tm_year + 1900 < 0) {
        t = 0;
        gmtime_r(&t, &tm);
    }
    snprintf(out, HTTP_DATE_LEN + 1, "%s, %02d %s %04d %02d:%02d:%02d GMT", days[tm.tm_wday],
             tm.tm_mday, months[tm.tm_mon], tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

static void emit(struct http_resp *w, const char *s, size_t n)
{
    if (w->failed)
        return;
    if (w->cap - w->len < n) {
        w->failed = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void emit_str(struct http_resp *w, const char *s)
{
    emit(w, s, strlen(s));
}

void http_resp_start(struct http_resp *w, char *buf, size_t cap, int status, const char *date)
{
    char line[64];
    memset(w, 0, sizeof *w);
    w->buf = buf;
    w->cap = cap;
    w->status = status;
    if (status < 100 || status > 999) {
        w->failed = true;
        return;
    }
    int n = snprintf(line, sizeof line, "HTTP/1.1 %d %s\r\n", status, http_reason(status));
    emit(w, line, (size_t)n);
    if (date)
        http_resp_header(w, "Date", date);
}

void http_resp_header(struct http_resp *w, const char *name, const char *value)
{
    if (w->ended || !http_token_valid(name, strlen(name)) || strpbrk(value, "\r\n")) {
        w->failed = true;
        return;
    }
    emit_str(w, name);
    emit(w, ": ", 2);
    emit_str(w, value);
    emit(w, "\r\n", 2);
}

static bool status_has_body(int status)
{
    return status >= 200 && status != 204 && status != 304;
}

ssize_t http_resp_end(struct http_resp *w, size_t content_length, bool keep_alive)
{
    char num[32];
    if (w->ended)
        w->failed = true;
    if (status_has_body(w->status)) {
        snprintf(num, sizeof num, "%zu", content_length);
        http_resp_header(w, "Content-Length", num);
    }
    if (!keep_alive)
        http_resp_header(w, "Connection", "close");
    emit(w, "\r\n", 2);
    w->ended = true;
    return w->failed ? -1 : (ssize_t)w->len;
}

ssize_t http_resp_body(struct http_resp *w, const void *body, size_t len)
{
    if (!w->ended)
        w->failed = true;
    emit(w, body, len);
    return w->failed ? -1 : (ssize_t)w->len;
}

static ssize_t whole(char *buf, size_t cap, int status, const char *date, bool keep_alive,
                     const char *type, const char *body, size_t len)
{
    struct http_resp w;
    http_resp_start(&w, buf, cap, status, date);
    http_resp_header(&w, "Content-Type", type);
    http_resp_header(&w, "X-Content-Type-Options", "nosniff");
    http_resp_header(&w, "Cache-Control", "no-store");
    if (http_resp_end(&w, status_has_body(status) ? len : 0, keep_alive) < 0)
        return -1;
    return status_has_body(status) ? http_resp_body(&w, body, len) : (ssize_t)w.len;
}

ssize_t http_resp_json(char *buf, size_t cap, int status, const char *date, bool keep_alive,
                       const char *json, size_t len)
{
    return whole(buf, cap, status, date, keep_alive, "application/json", json, len);
}

ssize_t http_resp_html(char *buf, size_t cap, int status, const char *date, bool keep_alive,
                       const char *html, size_t len)
{
    return whole(buf, cap, status, date, keep_alive, "text/html; charset=utf-8", html, len);
}

ssize_t http_resp_error(char *buf, size_t cap, int status, const char *date)
{
    char text[80];
    int n = snprintf(text, sizeof text, "%d %s\n", status, http_reason(status));
    return whole(buf, cap, status, date, false, "text/plain; charset=utf-8", text, (size_t)n);
}
