/*
 * pages.c - the public information page of a large group (art. 8 ¶2):
 * GET /g/<code> (HTML, rendered here) and GET /g/<code>.json.
 *
 * Only groups with at least WEB_PUBLIC_MEMBERS members have a page; any
 * other code, a transient channel or a malformed code is the 404 page (a
 * JSON 404 for .json), so the page does not reveal whether a small group
 * exists. Shown: the code, name, category, member count, owner and
 * managers by their account names (the nickname they registered), never
 * a real name or anything from the identity vault. Every field is
 * HTML-escaped (web__buf_html), and the page loads no script.
 *
 * Threads: loop thread only.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "irc/channel.h"
#include "irc/group.h"
#include "util/alloc.h"
#include "web/web_internal.h"

#define WEB_PUBLIC_MEMBERS 100

/* ---- a growing buffer with HTML escaping ---------------------------------- */

void web__buf_add(struct web_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

void web__buf_printf(struct web_buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        web__buf_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void web__buf_html(struct web_buf *b, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&':
            web__buf_add(b, "&amp;", 5);
            break;
        case '<':
            web__buf_add(b, "&lt;", 4);
            break;
        case '>':
            web__buf_add(b, "&gt;", 4);
            break;
        case '"':
            web__buf_add(b, "&quot;", 6);
            break;
        case '\'':
            web__buf_add(b, "&#39;", 5);
            break;
        default:
            web__buf_add(b, s, 1);
        }
    }
}

/* ---- the page -------------------------------------------------------------- */

static struct channel *web_public_group(const char *code, size_t len)
{
    if (len == 0 || len > 18)
        return NULL;
    int64_t v = 0;
    for (size_t i = 0; i < len; i++) {
        if (code[i] < '0' || code[i] > '9')
            return NULL;
        v = v * 10 + (code[i] - '0');
    }
    struct channel *ch = group_find_code(v);
    if (!ch || !ch->code || group_member_count(ch) < WEB_PUBLIC_MEMBERS)
        return NULL;
    return ch;
}

static json_t *web_group_json(struct channel *ch)
{
    const struct account *owner = account_find_id(ch->owner_id);
    json_t *managers = json_array();
    for (size_t i = 0; i < ch->ngm; i++) {
        const struct account *m = account_find_id(ch->gm[i].account_id);
        if (m && ch->gm[i].role == ROLE_MANAGER)
            json_array_append_new(managers, json_string(m->name));
    }
    return json_pack("{s:I,s:s,s:s,s:I,s:s,s:o}", "code", (json_int_t)ch->code, "name", ch->name,
                     "category", ch->category ? ch->category : "", "members",
                     (json_int_t)group_member_count(ch), "owner", owner ? owner->name : "",
                     "managers", managers);
}

static void web_group_html(struct web_buf *b, json_t *g)
{
    const char *name = json_string_value(json_object_get(g, "name"));
    web__buf_printf(b, "<!DOCTYPE html>\n<html lang=\"zh-CN\"><head><meta charset=\"utf-8\">"
                       "<meta name=\"viewport\" content=\"width=device-width\"><title>");
    web__buf_html(b, name);
    web__buf_printf(b, "</title></head><body><main><h1>");
    web__buf_html(b, name);
    web__buf_printf(b, "</h1><dl>");
    web__buf_printf(b, "<dt>群号 Code</dt><dd>%lld</dd>",
                    (long long)json_integer_value(json_object_get(g, "code")));
    web__buf_printf(b, "<dt>类别 Category</dt><dd>");
    web__buf_html(b, json_string_value(json_object_get(g, "category")));
    web__buf_printf(b, "</dd><dt>成员 Members</dt><dd>%lld</dd>",
                    (long long)json_integer_value(json_object_get(g, "members")));
    web__buf_printf(b, "<dt>群主 Owner</dt><dd>");
    web__buf_html(b, json_string_value(json_object_get(g, "owner")));
    web__buf_printf(b, "</dd><dt>管理员 Managers</dt><dd>");
    json_t *m = json_object_get(g, "managers");
    size_t i;
    json_t *v;
    json_array_foreach(m, i, v)
    {
        if (i)
            web__buf_add(b, ", ", 2);
        web__buf_html(b, json_string_value(v));
    }
    if (json_array_size(m) == 0)
        web__buf_add(b, "-", 1);
    web__buf_printf(b, "</dd></dl></main></body></html>\n");
}

void web__group_page(struct web_conn *wc, const struct http_request *r, const char *code)
{
    (void)r;
    size_t len = strlen(code);
    bool json = len > 5 && strcmp(code + len - 5, ".json") == 0;
    struct channel *ch = web_public_group(code, json ? len - 5 : len);
    if (!ch) {
        if (json)
            web__respond_error(wc, 404, "not-found", "no public group with this code");
        else
            web__respond_not_found(wc);
        return;
    }
    json_t *g = web_group_json(ch);
    if (json) {
        char *s = json_dumps(g, JSON_COMPACT);
        web__respond_json(wc, 200, s ? s : "{}");
        free(s);
    } else {
        struct web_buf b = {0};
        web_group_html(&b, g);
        web__respond(wc, 200, "text/html; charset=utf-8", NULL, b.p, b.len);
        free(b.p);
    }
    json_decref(g);
}
