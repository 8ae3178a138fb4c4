/*
 * api_args.h - the console API's request arguments (sans-IO): what
 * web/api.c reads from a request before it calls the session layer. A
 * body, a login, a command name in the URL, an export query become
 * validated values here, or a refusal; api.c turns refusals into 400/404
 * answers. Fuzzed by fuzz/fuzz_console_api.c.
 */
#ifndef QUN_WEB_API_ARGS_H
#define QUN_WEB_API_ARGS_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

#define WEB_CMD_MAX 64 /* bytes of a command name in /api/ctl/<cmd> */

/* The body as one JSON object ({} when empty; duplicate keys refused), or
 * NULL when it is anything else. The caller owns the reference. */
json_t *web_api_body_object(const char *body, size_t len);
/* POST /api/login: "name" and "password" must be strings. The pointers
 * stay valid while o lives. false when either is missing or not one. */
bool web_api_login_args(json_t *o, const char **name, const char **password, size_t *password_len);
/* A command name: 1..WEB_CMD_MAX of [a-z0-9._-]. */
bool web_api_cmd_name_ok(const char *cmd);
/* GET /api/export's query string (NULL: none) to log.export's args: the
 * decoded group, account, from, to and case parameters present, as
 * strings. NULL when one is malformed (bad escapes, too long). */
json_t *web_api_export_args(const char *query);

#endif
