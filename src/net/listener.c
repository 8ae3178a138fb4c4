/*
 * listener.c - listening sockets and accept(2).
 *
 * Owns the list of listeners, the accept loop and the reaction to running
 * out of file descriptors.
 *
 * Why not uv_listen(): libuv's accept path cannot be paused from outside,
 * and on EMFILE it accepts and immediately closes pending connections (its
 * reserve-descriptor trick). We prefer to leave them in the kernel backlog
 * and retry shortly. A uv_poll_t on our own non-blocking socket gives that
 * control, and accept4() hands over the peer address without getpeername().
 *
 * Invariants:
 *   1. Every listener's poll is active if and only if !accept_paused.
 *   2. accept_retry (transport.c's timer) is active if and only if
 *      accept_paused.
 *   3. l->tls holds one reference (NULL for a plain listener).
 *   4. A listener accepts at most LISTENER_ACCEPT_BATCH connections per
 *      wakeup, so a connection storm cannot starve established clients; the
 *      poll is level-triggered and fires again on the next iteration.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include "net/conn.h"
#include "net/net_internal.h"
#include "util/alloc.h"
#include "util/log.h"

#define LISTENER_ACCEPT_BATCH  64
#define LISTENER_WARN_WINDOW_S 60 /* one "cannot accept" line per minute */

struct listener {
    uv_poll_t poll; /* poll.data == the listener */
    int fd;
    uint16_t port; /* actually bound */
    bool closing;
    struct tls_ctx *tls;        /* NULL for plain TCP */
    const struct conn_ops *ops; /* NULL: the transport's */
    struct listener *next;
};

static struct listener *listeners;

static void listener_on_readable(uv_poll_t *h, int status, int events);

static void listener_on_retry(uv_timer_t *t)
{
    (void)t;
    listener__resume_all();
}

void listener__pause_all(void)
{
    struct net_state *n = &net__state;
    if (n->accept_paused)
        return;
    n->accept_paused = true;
    for (struct listener *l = listeners; l; l = l->next)
        uv_poll_stop(&l->poll);
    uv_timer_start(&n->accept_retry, listener_on_retry, NET_ACCEPT_RETRY_MS, 0);
}

void listener__resume_all(void)
{
    struct net_state *n = &net__state;
    if (!n->accept_paused)
        return;
    n->accept_paused = false;
    uv_timer_stop(&n->accept_retry);
    for (struct listener *l = listeners; l; l = l->next)
        uv_poll_start(&l->poll, UV_READABLE, listener_on_readable);
}

/* Out of descriptors (or kernel memory): stop accepting for a moment instead
 * of spinning on a readable listener we cannot serve. */
static void listener_on_exhausted(int err)
{
    unsigned dropped;
    if (log_limit_pass(&net__state.emfile_warn, 1, LISTENER_WARN_WINDOW_S, &dropped))
        log_warn("net: cannot accept connections (%s) with %zu open; pausing accept for %d ms%s",
                 strerror(err), conn_count(), NET_ACCEPT_RETRY_MS, log_dropped_note(dropped));
    listener__pause_all();
}

static void listener_on_readable(uv_poll_t *h, int status, int events)
{
    struct listener *l = h->data;

    (void)events;
    if (status < 0) {
        log_warn("net: listener on port %u: %s", l->port, uv_strerror(status));
        return;
    }
    for (int i = 0; i < LISTENER_ACCEPT_BATCH && !l->closing; i++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof(ss);
        int fd = accept4(l->fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd >= 0) {
            conn__accept(fd, &ss, l->port, l->tls, l->ops);
            continue;
        }
        switch (errno) {
        case EINTR:
        case ECONNABORTED:
        case EPROTO:
            continue;
        case EMFILE:
        case ENFILE:
        case ENOBUFS:
        case ENOMEM:
            listener_on_exhausted(errno);
            return;
        case EAGAIN:
            return;
        default:
            log_warn("net: accept on port %u: %s", l->port, strerror(errno));
            return;
        }
    }
}

/* Creates, binds and listens; returns the descriptor or a negative uv
 * error with a sentence in err. */
static int listener_bind(const char *address, int port, uint16_t *bound, char *err, size_t errlen)
{
    struct sockaddr_storage ss;
    socklen_t sslen;
    int one = 1;
    bool v6 = strchr(address, ':') != NULL;

    memset(&ss, 0, sizeof(ss));
    if (port < 0 || port > 65535 ||
        (v6 ? uv_ip6_addr(address, port, (struct sockaddr_in6 *)&ss)
            : uv_ip4_addr(address, port, (struct sockaddr_in *)&ss)) != 0) {
        snprintf(err, errlen, "invalid listen address %s port %d", address, port);
        return UV_EINVAL;
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        goto fail;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    /* "::" must not also claim IPv4, or a separate "0.0.0.0" listener fails. */
    if (v6 && setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
        goto fail;
    sslen = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (bind(fd, (struct sockaddr *)&ss, sslen) < 0 || listen(fd, SOMAXCONN) < 0)
        goto fail;
    sslen = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sslen) < 0)
        goto fail;
    *bound =
        ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port : ((struct sockaddr_in *)&ss)->sin_port);
    return fd;
fail:;
    int e = errno;
    snprintf(err, errlen, "cannot listen on %s port %d: %s", address, port, strerror(e));
    if (fd >= 0)
        close(fd);
    return -e;
}

int listener_open_bound(const char *address, int port, struct tls_ctx *tls, int *bound_port,
                        char *err, size_t errlen)
{
    return listener_open_ops(address, port, tls, NULL, bound_port, err, errlen);
}

int listener_open_ops(const char *address, int port, struct tls_ctx *tls,
                      const struct conn_ops *ops, int *bound_port, char *err, size_t errlen)
{
    uint16_t bound = 0;
    int fd = listener_bind(address, port, &bound, err, errlen);
    if (fd < 0)
        return fd;

    struct listener *l = xcalloc(1, sizeof(*l));
    int r = uv_poll_init(net__state.loop, &l->poll, fd);
    if (r < 0) {
        snprintf(err, errlen, "cannot watch listener %s port %d: %s", address, port,
                 uv_strerror(r));
        close(fd);
        free(l);
        return r;
    }
    l->poll.data = l;
    l->fd = fd;
    l->port = bound;
    l->ops = ops;
    if (tls) {
        tls_ctx_ref(tls);
        l->tls = tls;
    }
    l->next = listeners;
    listeners = l;
    if (!net__state.accept_paused)
        uv_poll_start(&l->poll, UV_READABLE, listener_on_readable);
    if (bound_port)
        *bound_port = bound;
    log_info("net: listening on %s port %u%s", address, bound, tls ? " (TLS)" : "");
    return 0;
}

int listener_open(const char *address, int port, struct tls_ctx *tls, char *err, size_t errlen)
{
    return listener_open_bound(address, port, tls, NULL, err, errlen);
}

void listener_set_tls_all(struct tls_ctx *tls)
{
    for (struct listener *l = listeners; l; l = l->next) {
        if (!l->tls || l->tls == tls)
            continue;
        tls_ctx_ref(tls);
        tls_ctx_unref(l->tls);
        l->tls = tls;
    }
}

static void listener_on_closed(uv_handle_t *h)
{
    struct listener *l = h->data;
    close(l->fd);
    if (l->tls)
        tls_ctx_unref(l->tls);
    free(l);
}

void listener_close_all(void)
{
    struct listener *l = listeners;
    listeners = NULL;
    while (l) {
        struct listener *next = l->next;
        l->closing = true;
        uv_close((uv_handle_t *)&l->poll, listener_on_closed);
        l = next;
    }
    if (net__state.accept_paused) {
        net__state.accept_paused = false;
        uv_timer_stop(&net__state.accept_retry);
    }
}
