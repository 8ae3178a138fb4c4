/*
 * api_args.c - the console API's request arguments (api_args.h). Pure
 * functions over the request's bytes; no connection, no session.
 */
#include "web/api_args.h"

#include <string.h>

#include "http/request.h"

json_t *web_api_body_object(const char *body, size_t len)
{
    if (len == 0)
        return json_object();
    json_error_t e;
    json_t *o = json_loadb(body, len, JSON_REJECT_DUPLICATES, &e);
    if (!json_is_object(o)) {
        json_decref(o);
        return NULL;
    }
    return o;
}

bool web_api_login_args(json_t *o, const char **name, const char **password, size_t *password_len)
{
    json_t *n = json_object_get(o, "name"), *pw = json_object_get(o, "password");
    if (!json_is_string(n) || !json_is_string(pw))
        return false;
    *name = json_string_value(n);
    *password = json_string_value(pw);
    *password_len = json_string_length(pw);
    return true;
}

bool web_api_cmd_name_ok(const char *cmd)
{
    size_t n = strlen(cmd);
    if (n == 0 || n > WEB_CMD_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = cmd[i];
        if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '.' || ch == '_' ||
              ch == '-'))
            return false;
    }
    return true;
}

json_t *web_api_export_args(const char *query)
{
    static const char *const keys[] = {"group", "account", "from", "to", "case", NULL};
    json_t *args = json_object();
    for (const char *const *k = keys; *k; k++) {
        char v[512];
        ssize_t n = query ? http_form_get(query, strlen(query), *k, v, sizeof v) : -1;
        if (n == -2) {
            json_decref(args);
            return NULL;
        }
        if (n >= 0)
            json_object_set_new(args, *k, json_string(v));
    }
    return args;
}
