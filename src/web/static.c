/*
 * static.c - files under <web.root>/public and <web.root>/console.
 *
 * A request path below /static/ (or "/" for index.html) is percent-decoded
 * (http_pct_decode refuses %00 and bad UTF-8), split on '/', and refused
 * (404) when a segment is empty, starts with '.' (so "." and ".." and
 * hidden files) or holds a backslash. The file's real path (symlinks
 * resolved) must still lie inside the face's directory's real path, so a
 * symlink pointing out of the root is refused too. Only regular files of
 * at most WEB_FILE_MAX bytes are served.
 *
 * Caching: a strong ETag (size and modification time in nanoseconds) and
 * Last-Modified; If-None-Match (or else If-Modified-Since, compared as the
 * exact date we sent) gives 304. Cache-Control: no-cache, so browsers
 * revalidate and a new deployment shows at once.
 *
 * Reads are synchronous on the loop: the files are small local assets (a
 * few KiB each); a deployment with large assets should put a cache in
 * front (docs/web.md).
 *
 * Threads: loop thread only.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "http/response.h"
#include "util/alloc.h"
#include "web/web_internal.h"

static const struct {
    const char *ext;
    const char *type;
} web_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".json", "application/json"},
    {".webmanifest", "application/manifest+json"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".jpg", "image/jpeg"},
    {".ico", "image/x-icon"},
    {".woff2", "font/woff2"},
    {".txt", "text/plain; charset=utf-8"},
    {".map", "application/json"},
};

static const char *web_content_type(const char *path)
{
    const char *dot = strrchr(path, '.');
    if (dot && !strchr(dot, '/'))
        for (size_t i = 0; i < sizeof web_types / sizeof web_types[0]; i++)
            if (strcmp(dot, web_types[i].ext) == 0)
                return web_types[i].type;
    return "application/octet-stream";
}

/* Decodes and checks rel; returns false for a path that must not be
 * served. out gets the decoded relative path. */
static bool web_path_ok(const char *rel, char *out, size_t cap)
{
    ssize_t n = http_pct_decode(rel, strlen(rel), false, out, cap - 1);
    if (n <= 0)
        return false;
    out[n] = '\0';
    if (strlen(out) != (size_t)n || strchr(out, '\\'))
        return false;
    const char *seg = out;
    for (;;) {
        const char *slash = strchr(seg, '/');
        size_t len = slash ? (size_t)(slash - seg) : strlen(seg);
        if (len == 0 || seg[0] == '.')
            return false;
        if (!slash)
            return true;
        seg = slash + 1;
    }
}

/* Reads a regular file of at most WEB_FILE_MAX bytes; NULL otherwise. */
static char *web_read_file(const char *path, struct stat *st)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    if (fstat(fd, st) < 0 || !S_ISREG(st->st_mode) || st->st_size > (off_t)WEB_FILE_MAX) {
        close(fd);
        return NULL;
    }
    size_t size = (size_t)st->st_size, got = 0;
    char *data = xmalloc(size ? size : 1);
    while (got < size) {
        ssize_t r = read(fd, data + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (got != size) {
        free(data);
        return NULL;
    }
    return data;
}

void web__static(struct web_conn *wc, const struct http_request *r, const char *rel)
{
    char decoded[1024], path[PATH_MAX + 1100], dir[PATH_MAX], base[PATH_MAX], real[PATH_MAX];
    const char *face = wc->face == WEB_FACE_CONSOLE ? "console" : "public";

    if (!web_path_ok(rel, decoded, sizeof decoded)) {
        web__respond_not_found(wc);
        return;
    }
    snprintf(dir, sizeof dir, "%s/%s", web__cfg->web_root, face);
    if (!realpath(dir, base)) {
        web__respond_not_found(wc);
        return;
    }
    snprintf(path, sizeof path, "%s/%s", base, decoded);
    size_t blen = strlen(base);
    if (!realpath(path, real) || strncmp(real, base, blen) != 0 || real[blen] != '/') {
        web__respond_not_found(wc);
        return;
    }
    struct stat st;
    char *data = web_read_file(real, &st);
    if (!data) {
        web__respond_not_found(wc);
        return;
    }
    char etag[64], lastmod[HTTP_DATE_LEN + 1];
    snprintf(etag, sizeof etag, "\"%llx-%llx%09lx\"", (unsigned long long)st.st_size,
             (unsigned long long)st.st_mtim.tv_sec, (unsigned long)st.st_mtim.tv_nsec);
    http_date_format((int64_t)st.st_mtim.tv_sec, lastmod);
    struct web_headers h = {0};
    web__hdr(&h, "ETag", etag);
    web__hdr(&h, "Last-Modified", lastmod);
    web__hdr(&h, "Cache-Control", "no-cache");
    const char *inm = http_request_header(r, "If-None-Match");
    const char *ims = http_request_header(r, "If-Modified-Since");
    bool fresh = inm ? (strstr(inm, etag) != NULL || strcmp(inm, "*") == 0)
                     : (ims && strcmp(ims, lastmod) == 0);
    if (fresh)
        web__respond(wc, 304, NULL, &h, NULL, 0);
    else
        web__respond(wc, 200, web_content_type(real), &h, data, (size_t)st.st_size);
    free(data);
}
