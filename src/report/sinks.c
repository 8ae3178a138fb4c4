/*
 * sinks.c - the two ways a report leaves the server, as blocking functions
 * for the libuv thread pool (outbox.c runs them; report_internal.h).
 *
 * Spool: <dir>/<id>.json appears whole or not at all. The text goes to
 * <dir>/.<id>.json.tmp (O_EXCL after removing a leftover), is fsync'ed,
 * renamed over the final name and the directory is fsync'ed, so a crash
 * leaves either the old state or the complete file. Writing the same
 * report again (a retry after a failed HTTP sink) replaces it with
 * identical bytes.
 *
 * HTTP: one POST with libcurl, Content-Type application/json and the
 * report's Idempotency-Key, bounded by the timeout; the reply body is read
 * up to SINK_REPLY_MAX bytes. 2xx is delivered (and acknowledged when the
 * body is {"acknowledged": true}); 408, 429, 5xx and network errors are
 * worth another attempt; any other status is permanent. Redirects are not
 * followed. report_g.cancel (set at shutdown) aborts a transfer.
 *
 * Threads: pool; each call touches only its arguments and report_g.cancel.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report/report_internal.h"
#include "util/log.h"

#define SINK_REPLY_MAX 65536

static int write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}

void sinks_spool(const char *dir, int64_t id, const char *text, struct sink_result *out)
{
    char tmp[4200], final[4200];
    memset(out, 0, sizeof *out);
    snprintf(tmp, sizeof tmp, "%s/.%" PRId64 ".json.tmp", dir, id);
    snprintf(final, sizeof final, "%s/%" PRId64 ".json", dir, id);
    if (sinks_mkdirs(dir) != 0) {
        snprintf(out->err, sizeof out->err, "cannot create the spool directory %s: %s", dir,
                 strerror(errno));
        return;
    }
    unlink(tmp);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(out->err, sizeof out->err, "cannot create %s: %s", tmp, strerror(errno));
        return;
    }
    int rc = write_all(fd, text, strlen(text));
    if (rc == 0)
        rc = fsync(fd);
    int saved = errno;
    if (close(fd) != 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp, final) != 0) {
        rc = -1;
        saved = errno;
    }
    if (rc != 0) {
        unlink(tmp);
        snprintf(out->err, sizeof out->err, "cannot write %s: %s", final, strerror(saved));
        return;
    }
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) { /* the rename itself must survive a crash */
        fsync(dfd);
        close(dfd);
    }
    out->ok = true;
}

int sinks_mkdirs(const char *dir)
{
    char path[4200];
    struct stat st;
    if (snprintf(path, sizeof path, "%s", dir) >= (int)sizeof path) {
        errno = ENAMETOOLONG;
        return -1;
    }
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (stat(path, &st) != 0 && mkdir(path, 0700) != 0 && errno != EEXIST)
            return -1;
        *p = '/';
    }
    if (mkdir(path, 0700) != 0 && errno != EEXIST)
        return -1;
    if (stat(path, &st) != 0)
        return -1;
    if (!S_ISDIR(st.st_mode)) {
        errno = ENOTDIR;
        return -1;
    }
    return 0;
}

/* ---- HTTP ---- */

static uv_once_t curl_once = UV_ONCE_INIT;

static void curl_init_once(void)
{
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != 0)
        log_error("libcurl initialisation failed; reports cannot be posted");
}

struct reply {
    char buf[SINK_REPLY_MAX + 1];
    size_t len;
};

static size_t reply_write(char *data, size_t size, size_t nmemb, void *ud)
{
    struct reply *r = ud;
    size_t n = size * nmemb;
    if (r->len + n > SINK_REPLY_MAX)
        n = SINK_REPLY_MAX - r->len; /* the rest is ignored, not an error */
    memcpy(r->buf + r->len, data, n);
    r->len += n;
    r->buf[r->len] = '\0';
    return size * nmemb;
}

static int http_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)ud, (void)dt, (void)dn, (void)ut, (void)un;
    return atomic_load(&report_g.cancel) ? 1 : 0;
}

static bool reply_acknowledged(const struct reply *r)
{
    json_error_t jerr;
    json_t *o = json_loadb(r->buf, r->len, 0, &jerr);
    bool ack = json_is_object(o) && json_is_true(json_object_get(o, "acknowledged"));
    json_decref(o);
    return ack;
}

static void http_outcome(CURL *c, CURLcode rc, const struct reply *reply, long timeout_ms,
                         struct sink_result *out)
{
    if (rc != CURLE_OK) {
        if (rc == CURLE_OPERATION_TIMEDOUT)
            snprintf(out->err, sizeof out->err, "no answer within %ld s", timeout_ms / 1000);
        else
            snprintf(out->err, sizeof out->err, "receiver unreachable: %s", curl_easy_strerror(rc));
        return;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
    if (out->status >= 200 && out->status < 300) {
        out->ok = true;
        out->acknowledged = reply_acknowledged(reply);
        return;
    }
    out->permanent =
        out->status >= 400 && out->status < 500 && out->status != 408 && out->status != 429;
    snprintf(out->err, sizeof out->err, "receiver answered HTTP %ld%s", out->status,
             out->permanent ? " (the report is refused; retrying will not help)" : "");
}

void sinks_http(const char *url, long timeout_ms, const char *idem, const char *text,
                struct sink_result *out)
{
    memset(out, 0, sizeof *out);
    uv_once(&curl_once, curl_init_once);
    char hdr[96];
    snprintf(hdr, sizeof hdr, "Idempotency-Key: %s", idem);
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    hdrs = hdrs ? curl_slist_append(hdrs, "Accept: application/json") : NULL;
    hdrs = hdrs ? curl_slist_append(hdrs, hdr) : NULL;
    struct reply *reply = calloc(1, sizeof *reply);
    CURL *c = hdrs && reply ? curl_easy_init() : NULL;
    if (!c) {
        snprintf(out->err, sizeof out->err, "cannot start an HTTP request");
    } else {
        curl_easy_setopt(c, CURLOPT_URL, url);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
        curl_easy_setopt(c, CURLOPT_USERAGENT, "qund-reports");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, text);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(text));
        curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
        curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, reply_write);
        curl_easy_setopt(c, CURLOPT_WRITEDATA, reply);
        curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
        curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, http_progress);
        CURLcode rc = curl_easy_perform(c);
        http_outcome(c, rc, reply, timeout_ms, out);
        curl_easy_cleanup(c);
    }
    curl_slist_free_all(hdrs);
    free(reply);
}
