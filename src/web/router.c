/*
 * router.c - which handler answers a request, per listener kind.
 *
 * Public listener:  /  /static/<file>  /irc  /g/<code>  /g/<code>.json
 * Console listener: /  /static/<file>  /api/...
 * Anything else is the 404 page; a known path with a method it does not
 * take is 405 with Allow. The table of routes is docs/web.md.
 *
 * Threads: loop thread only.
 */
#include <string.h>

#include "web/web_internal.h"

static bool web_method_get(const struct http_request *r)
{
    return strcmp(r->method, "GET") == 0 || strcmp(r->method, "HEAD") == 0;
}

/* "/" and "/static/..." of either face. */
static bool web_route_files(struct web_conn *wc, const struct http_request *r)
{
    const char *p = r->path;
    const char *rel = NULL;
    if (strcmp(p, "/") == 0 || strcmp(p, "/index.html") == 0)
        rel = "index.html";
    else if (strncmp(p, "/static/", 8) == 0)
        rel = p + 8;
    if (!rel)
        return false;
    if (!web_method_get(r))
        web__respond_method(wc, "GET, HEAD");
    else
        web__static(wc, r, rel);
    return true;
}

bool web__route(struct web_conn *wc, const struct http_request *r)
{
    const char *p = r->path;

    if (web_route_files(wc, r))
        return false;
    if (wc->face == WEB_FACE_PUBLIC) {
        if (strcmp(p, "/irc") == 0) {
            web__ws_upgrade(wc, r);
            return false;
        }
        if (strncmp(p, "/g/", 3) == 0 && p[3]) {
            if (!web_method_get(r))
                web__respond_method(wc, "GET, HEAD");
            else
                web__group_page(wc, r, p + 3);
            return false;
        }
    } else if (strncmp(p, "/api/", 5) == 0) {
        return web__api(wc, r, p + 5);
    }
    if (!web_method_get(r))
        web__respond_method(wc, "GET, HEAD");
    else
        web__respond_not_found(wc);
    return false;
}
