/*
 * fuzz_console_api.c - libFuzzer target for the console API's request
 * arguments (web/api_args.c): JSON bodies, login fields, command names
 * from the URL and the export query string, all from the network (an
 * operator's browser, or anyone who reaches the console listener).
 *
 * The input is used whole as a body (exactly sized, no NUL after it) and,
 * NUL-terminated, as a command name and as a query string. Checked:
 *   - a body gives an object exactly when it is empty or one JSON object
 *     without duplicate keys, and that object dumps and reloads equal;
 *   - login fields, when accepted, are the body's "name" and "password"
 *     strings, the length the string's own;
 *   - an accepted command name is 1..64 bytes of [a-z0-9._-];
 *   - export args hold only the five known keys, each value the decoded
 *     parameter exactly (http_form_get, checked independently); every
 *     parameter present is either in the args or the query is refused, so
 *     a filter is never dropped silently.
 */
#include <jansson.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/request.h"
#include "web/api_args.h"
#include "fuzz.h"

static void check_body(const char *body, size_t len)
{
    json_error_t e;
    json_t *ref = len ? json_loadb(body, len, JSON_REJECT_DUPLICATES, &e) : json_object();
    json_t *o = web_api_body_object(body, len);
    CHECK((o != NULL) == json_is_object(ref));
    if (o) {
        CHECK(json_equal(o, ref));
        char *text = json_dumps(o, JSON_COMPACT);
        CHECK(text != NULL);
        json_t *back = json_loads(text, JSON_REJECT_DUPLICATES, &e);
        CHECK(back && json_equal(back, o));
        json_decref(back);
        free(text);
        const char *name, *pw;
        size_t pwlen;
        bool ok = web_api_login_args(o, &name, &pw, &pwlen);
        json_t *n = json_object_get(o, "name"), *p = json_object_get(o, "password");
        CHECK(ok == (json_is_string(n) && json_is_string(p)));
        if (ok)
            CHECK(name == json_string_value(n) && pw == json_string_value(p) &&
                  pwlen == json_string_length(p));
    }
    json_decref(o);
    json_decref(ref);
}

static void check_cmd(const char *s)
{
    if (!web_api_cmd_name_ok(s))
        return;
    size_t n = strlen(s);
    CHECK(n >= 1 && n <= WEB_CMD_MAX);
    CHECK(strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n);
}

static void check_export(const char *q)
{
    static const char *const keys[] = {"group", "account", "from", "to", "case"};
    json_t *args = web_api_export_args(q);
    if (!args)
        return;
    size_t present = 0;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char v[512];
        ssize_t n = http_form_get(q, strlen(q), keys[i], v, sizeof v);
        CHECK(n != -2);
        json_t *a = json_object_get(args, keys[i]);
        if (n < 0) {
            CHECK(a == NULL);
            continue;
        }
        present++;
        CHECK(json_is_string(a));
        CHECK(json_string_length(a) == (size_t)n &&
              memcmp(json_string_value(a), v, (size_t)n) == 0);
    }
    CHECK(json_object_size(args) == present);
    json_decref(args);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *body = malloc(size ? size : 1);
    CHECK(body != NULL);
    memcpy(body, data, size);
    check_body(body, size);
    free(body);
    char *s = malloc(size + 1);
    CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    check_cmd(s);
    check_export(s);
    free(s);
    return 0;
}
