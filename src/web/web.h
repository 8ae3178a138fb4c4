/*
 * web.h - the web face: HTTP/1.1 listeners in front of the IRC core and
 * the control commands.
 *
 * Two kinds of listener (config listen blocks with kind = "web" or
 * "console"), both on the daemon's loop and transport (net/conn.h, raw
 * bytes mode):
 *   - web (public): the chat page and its assets from <web.root>/public,
 *     IRC over WebSocket at GET /irc (handed to the same IRC core as TCP),
 *     and the public pages of large groups at /g/<code> and /g/<code>.json;
 *   - console: the operator console's pages from <web.root>/console and
 *     its JSON API (/api/login, /api/session, /api/logout, /api/ctl/<cmd>,
 *     /api/export), every action through session_call -> ctl_call.
 * docs/web.md is the reference (routes, headers, limits, the bridge).
 *
 * Threads: loop thread only.
 */
#ifndef QUN_WEB_WEB_H
#define QUN_WEB_WEB_H

#include <stddef.h>
#include <uv.h>

#include "config/config.h"
#include "net/conn.h"

struct tls_ctx;

/* Prepares the module (timers) and takes the IRC core's connection
 * operations for the WebSocket bridge. Call once, after transport_init. */
void web_init(uv_loop_t *loop, const struct qun_config *cfg, const struct conn_ops *irc_ops);
/* Opens one web or console listener. Returns 0 or a negative value with a
 * sentence in err. */
int web_listen(const struct config_listen *l, struct tls_ctx *tls, char *err, size_t errlen);
/* The configuration changed (reload): new limits apply to new requests. */
void web_reload(const struct qun_config *cfg);
/* At shutdown, once no client is left: closes the module's timer so the
 * loop can end. Connections are closed by the transport's shutdown. */
void web_stop(void);

#endif
