/*
 * conn.c - one client connection: accept, read path, send queue, close.
 *
 * Owns the per-connection half of the transport (struct conn_private): the
 * uv_tcp_t, the line splitter state, the ring of queued qbufs and the
 * close state machine. The process-wide half (pending list, deadlines) is
 * transport.c; TLS record processing is tls.c.
 *
 * Lifecycle (the function performing each transition in brackets):
 *
 *   accepted socket [conn__accept]
 *      | plain                         | TLS listener
 *      v                               v
 *   OPEN <---- handshake done ----- HANDSHAKE --- failure, EOF, deadline --+
 *    |   [conn_tls_input: certfp,      (no on_accept, no on_close)         |
 *    |    conn_notify_accept]                                               |
 *    |-- conn_close() [conn_close]: mark, no callback --> CLOSING           ^
 *    |-- SendQ overflow, write error [conn_abort] ------> CLOSING+abort     |
 *    |-- read EOF/error [conn_peer_gone]: stop reading -> CLOSING+abort     |
 *                                                           |               |
 *   CLOSING at the flush point [conn_close_step]: on_close; then            |
 *      abort, or queue fully written --------------------------------------+
 *      otherwise -> LINGERING (flushing in the background, reads discarded)
 *   LINGERING: queue written [conn_on_write] or deadline [conn__expire] ---+
 *   DEAD: uv_close called [conn_destroy]; memory freed in conn_on_closed.
 *
 * Invariants (besides those of conn.h):
 *   1. sendq_bytes == sum over the ring of (len - offset); the ring array is
 *      freed whenever it empties.
 *   2. At most one uv_write is in flight (writing); while it is, nothing else
 *      is written, so bytes leave in queue order.
 *   3. on_close is called at most once (notified) and only for accepted
 *      connections; never from conn_send/conn_close/conn_resume.
 *   4. A connection delivers lines only while OPEN and not paused; while
 *      closing, input is read and discarded so the peer's late data does not
 *      sit in the kernel and turn our final FIN into a RST.
 *   5. For TLS, plaintext is encrypted only when no ciphertext is waiting,
 *      at most NET_PBUF_SIZE at a time: ciphertext beyond the send queue is
 *      bounded by one batch.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "net/conn.h"
#include "net/net_internal.h"
#include "util/alloc.h"
#include "util/blockcache.h"
#include "util/log.h"

/* A uv_write in flight. For TLS it owns a copy of the ciphertext the kernel
 * refused; for plain TCP the bytes stay in the queued qbufs. */
struct conn_wreq {
    uv_write_t req;
    size_t bytes; /* queue bytes this write covers (plain) */
    char data[];  /* ciphertext (TLS) */
};

static void conn_flush(struct conn *c, bool may_queue);
static void conn_tls_read_plain(struct conn *c);

/* ---- small helpers ------------------------------------------------------ */

static void conn_read_start(struct conn *c);

static void conn_read_stop(struct conn *c)
{
    struct conn_private *p = c->priv;
    if (p->reading) {
        uv_read_stop((uv_stream_t *)&p->tcp);
        p->reading = 0;
    }
}

static void conn_mark_closing(struct conn *c, const char *reason)
{
    if (!c->closing) {
        c->closing = true;
        c->priv->reason = xstrdup(reason);
    }
}

/* The connection must close without flushing (SendQ exceeded, write error).
 * on_close follows at the flush point. */
static void conn_abort(struct conn *c, const char *reason)
{
    struct conn_private *p = c->priv;
    if (p->dead)
        return;
    conn_mark_closing(c, reason);
    p->abort = 1;
    net__pending_add(c);
}

/* The peer closed or the read failed: no more input, and no flush (there
 * is nobody to read it). on_close follows at the flush point like an abort,
 * NET_FLUSH_SLICE connections an iteration, so thousands of peers leaving
 * at once (a network blip, a proxy restarting) do not hold every other
 * client for the whole teardown in one turn of the loop. */
static void conn_peer_gone(struct conn *c, const char *reason)
{
    conn_read_stop(c);
    conn_abort(c, reason);
}

static const char *conn_error_text(const char *what, int err)
{
    static char buf[96]; /* only read during the on_close call it feeds */
    if (err == UV_EOF)
        return "Remote host closed the connection";
    if (err == UV_ECONNRESET)
        return "Connection reset by peer";
    if (err == UV_ETIMEDOUT)
        return "Connection timed out";
    snprintf(buf, sizeof(buf), "%s error: %s", what, uv_strerror(err));
    return buf;
}

/* ---- teardown ----------------------------------------------------------- */

/* Rings come and go with every flush of a connection that receives some
 * messages per loop iteration (the common case with many small groups; a
 * member of a busy one gets 8 or 16 at a time), so they come from the
 * loop's block cache (util/blockcache.h): freed ones are reused instead of
 * a malloc and free round trip per flush, and what is kept is bounded. */
#define RING_MIN 4

static void conn_queue_release(struct conn_private *p)
{
    for (uint32_t i = 0; i < p->q_len; i++)
        qbuf_unref(p->q[(p->q_head + i) & (p->q_cap - 1)]);
    blockcache_free(p->q);
    p->q = NULL;
    p->q_len = p->q_cap = p->q_head = p->q_off = 0;
}

_Static_assert(offsetof(struct conn_block, priv) == sizeof(struct conn),
               "conn_prefetch (conn.h) expects the private part right after the public one");

static void conn_free(struct conn_block *blk)
{
    struct conn_private *p = &blk->priv;

    conn_queue_release(p);
    linebuf_clear(&p->in);
    if (p->tls)
        tls__session_free(p->tls);
    free(p->reason);
    free(blk);
}

/* A connection still on the pending list (the flush works through a long
 * list a slice per loop iteration) stays allocated until the flush reaches
 * it: conn__service frees it there. */
static void conn_on_closed(uv_handle_t *h)
{
    struct conn_block *blk =
        (struct conn_block *)((char *)h - offsetof(struct conn_block, priv.tcp));

    if (blk->priv.pending && !net__state.shutting_down)
        blk->priv.unfreed = 1;
    else
        conn_free(blk);
}

/* Before a graceful close: read away what the peer sent meanwhile (unread
 * input makes close(2) send RST and discard our unsent data), then FIN. */
static void conn_drain_and_fin(struct conn *c)
{
    uv_os_fd_t fd;
    char scratch[4096];

    if (uv_fileno((uv_handle_t *)&c->priv->tcp, &fd) != 0)
        return;
    for (int i = 0; i < 16; i++) {
        ssize_t n = recv(fd, scratch, sizeof(scratch), MSG_DONTWAIT);
        if (n <= 0)
            break;
    }
    shutdown(fd, SHUT_WR);
}

static void conn_destroy(struct conn *c, bool graceful)
{
    struct conn_private *p = c->priv;

    if (p->dead)
        return;
    p->dead = 1;
    c->closing = true;
    net__deadline_remove(c);
    p->fd = -1; /* closed below with the handle; its number may come back */
    net__untrack(c);
    if (graceful)
        conn_drain_and_fin(c);
    uv_close((uv_handle_t *)&p->tcp, conn_on_closed);
}

static bool conn_drained(const struct conn *c)
{
    return c->priv->q_len == 0 && !c->priv->writing;
}

/* CLOSING at the flush point: on_close, then close now or linger. */
static void conn_close_step(struct conn *c)
{
    struct conn_private *p = c->priv;

    if (!p->notified) {
        p->notified = 1;
        if (p->accepted)
            p->ops->on_close(c, p->reason ? p->reason : "Closed");
        if (p->dead)
            return; /* on_close shut the transport down */
    }
    if (!p->abort)
        conn_flush(c, true);
    if (p->dead)
        return;
    if (p->abort || conn_drained(c)) {
        conn_destroy(c, !p->abort);
        return;
    }
    if (!p->lingering) {
        p->lingering = 1;
        net__deadline_add(c, net__state.linger_ms);
        conn_read_start(c); /* discard input, notice a vanished peer */
    }
}

/* Refused and timed-out handshakes are caused by the peer, as often as it
 * likes: at most 20 lines per 10 s of each, with a count of those held back. */
#define TLS_LOG_MAX    20
#define TLS_LOG_WINDOW 10
static struct log_limit tls_timeout_limit, tls_fail_limit;

void conn__expire(struct conn *c)
{
    struct conn_private *p = c->priv;
    unsigned dropped;
    if (!p->lingering && !p->accepted &&
        log_limit_pass(&tls_timeout_limit, TLS_LOG_MAX, TLS_LOG_WINDOW, &dropped))
        log_info("net: TLS handshake from %s timed out%s", c->ip, log_dropped_note(dropped));
    net__deadline_remove(c);
    conn_destroy(c, false);
}

void conn__shutdown_one(struct conn *c)
{
    struct conn_private *p = c->priv;

    p->notified = 1; /* shutdown never calls on_close */
    if (p->dead)
        return;
    conn_flush(c, false); /* one non-blocking attempt at the goodbye */
    conn_destroy(c, !p->abort && !p->dead);
}

/* ---- send queue --------------------------------------------------------- */

static void conn_queue_push(struct conn_private *p, struct qbuf *b)
{
    if (p->q_len == p->q_cap) {
        uint32_t cap = p->q_cap ? p->q_cap * 2 : RING_MIN;
        struct qbuf **q = blockcache_alloc(cap * sizeof *q);
        for (uint32_t i = 0; i < p->q_len; i++)
            q[i] = p->q[(p->q_head + i) & (p->q_cap - 1)];
        blockcache_free(p->q);
        p->q = q;
        p->q_cap = cap;
        p->q_head = 0;
    }
    p->q[(p->q_head + p->q_len) & (p->q_cap - 1)] = b;
    p->q_len++;
}

/* n bytes from the front of the queue were accepted by the kernel (plain)
 * or by SSL_write (TLS). */
static void conn_consume(struct conn *c, size_t n)
{
    struct conn_private *p = c->priv;

    c->sendq_bytes -= n;
    while (n > 0) {
        struct qbuf *b = p->q[p->q_head];
        size_t left = b->len - p->q_off;
        if (n < left) {
            p->q_off += (uint32_t)n;
            break;
        }
        n -= left;
        qbuf_unref(b);
        p->q_head = (p->q_head + 1) & (p->q_cap - 1);
        p->q_len--;
        p->q_off = 0;
    }
    if (p->q_len == 0)
        conn_queue_release(p);
}

/* The queue from its first unwritten byte as iov[0..n) (at most max), by
 * reference: what a uv_write may hold until it completes. */
static unsigned conn_gather(const struct conn_private *p, uv_buf_t *iov, unsigned max,
                            size_t *bytes)
{
    unsigned n = 0;
    size_t total = 0;

    for (uint32_t i = 0; i < p->q_len && n < max; i++) {
        struct qbuf *b = p->q[(p->q_head + i) & (p->q_cap - 1)];
        size_t off = i == 0 ? p->q_off : 0;
        iov[n++] = uv_buf_init(b->data + off, (unsigned)(b->len - off));
        total += b->len - off;
    }
    *bytes = total;
    return n;
}

/* The same for a send that returns before anything else runs: runs of
 * small buffers (up to NET_GATHER_COPY_MAX bytes) are copied one after the
 * other into net__gbuf and go as one iovec, larger ones by reference. The
 * kernel's cost per iovec is far above a copy of a chat line: a member of
 * a busy group is queued hundreds of lines an iteration, and as separate
 * iovecs they took most of the server's time at 1 x 100 (docs/internals/
 * transport.md). Stops when net__gbuf is full; the caller sends again. A
 * lone buffer has nothing to be joined with and goes by reference. */
static unsigned conn_gather_copy(const struct conn_private *p, uv_buf_t *iov, unsigned max,
                                 size_t *bytes)
{
    if (p->q_len == 1)
        return conn_gather(p, iov, max, bytes);
    unsigned n = 0;
    size_t total = 0, used = 0;
    bool run = false; /* iov[n - 1] is the run being copied */

    for (uint32_t i = 0; i < p->q_len && n < max; i++) {
        struct qbuf *b = p->q[(p->q_head + i) & (p->q_cap - 1)];
        size_t off = i == 0 ? p->q_off : 0, len = b->len - off;
        if (len > NET_GATHER_COPY_MAX) {
            iov[n++] = uv_buf_init(b->data + off, (unsigned)len);
            run = false;
        } else {
            if (used + len > NET_GBUF_SIZE)
                break;
            memcpy(net__gbuf + used, b->data + off, len);
            if (run)
                iov[n - 1].len += len;
            else
                iov[n++] = uv_buf_init(net__gbuf + used, (unsigned)len);
            run = true;
            used += len;
        }
        total += len;
    }
    *bytes = total;
    return n;
}

int conn_send(struct conn *c, struct qbuf *b)
{
    if (c->framer && !c->closing && !c->priv->dead) {
        struct qbuf *f = c->framer->frame(b);
        if (!f)
            return 0;
        int r = conn_send_framed(c, f);
        qbuf_unref(f);
        return r;
    }
    return conn_send_framed(c, b);
}

void conn_set_sendq_max(struct conn *c, size_t max)
{
    c->priv->sendq_max = max;
}

const struct conn_ops *conn_get_ops(const struct conn *c)
{
    return c->priv->ops;
}

int conn_send_framed(struct conn *c, struct qbuf *b)
{
    struct conn_private *p = c->priv;

    if (c->closing || p->dead)
        return -1;
    if (b->len == 0)
        return 0;
    size_t cap = p->sendq_max ? p->sendq_max : net__state.limits.sendq_max;
    if (c->sendq_bytes + b->len > cap) {
        conn_abort(c, "SendQ exceeded");
        return -1;
    }
    conn_queue_push(p, qbuf_ref(b));
    c->sendq_bytes += b->len;
    net__pending_add(c);
    return 0;
}

int conn_send_copy(struct conn *c, const char *data, size_t len)
{
    if (c->closing || c->priv->dead)
        return -1;
    struct qbuf *b = qbuf_new(data, len);
    int r = conn_send(c, b);
    qbuf_unref(b);
    return r;
}

/* ---- write path --------------------------------------------------------- */

static void conn_on_write(uv_write_t *req, int status)
{
    struct conn_wreq *w = (struct conn_wreq *)req;
    struct conn *c = req->handle->data;
    struct conn_private *p = c->priv;
    size_t bytes = w->bytes;

    free(w);
    p->writing = 0;
    if (p->dead)
        return; /* UV_ECANCELED from uv_close; memory goes in conn_on_closed */
    if (status < 0) {
        conn_abort(c, conn_error_text("Write", status));
        return;
    }
    net__state.stat_bytes_out += bytes;
    if (!p->tls)
        conn_consume(c, bytes);
    if (p->abort)
        return; /* the flush point closes it */
    conn_flush(c, true);
    if (p->lingering && !p->dead && !p->abort && conn_drained(c))
        conn_destroy(c, true);
}

static void conn_start_write(struct conn *c, struct conn_wreq *w, const uv_buf_t *iov, unsigned n)
{
    struct conn_private *p = c->priv;
    int r = uv_write(&w->req, (uv_stream_t *)&p->tcp, iov, n, conn_on_write);
    if (r < 0) {
        free(w);
        conn_abort(c, conn_error_text("Write", r));
        return;
    }
    p->writing = 1;
    net__state.stat_async_writes++;
}

/* One non-blocking send of iov[0..n) with its accounting. Returns the bytes
 * the kernel took (0 when it pushed back), or -1 after aborting the
 * connection on a write error. On the socket itself: send(2) and
 * sendmsg(2) skip the file-position lock and VFS layer that write(2) and
 * writev(2) (uv_try_write) take, which at a low message rate, one line per
 * recipient per write, is a good part of each delivery. The caller only
 * writes when no uv_write is pending (invariant: p->writing), so bytes never
 * overtake a queued uv_write. uv_buf_t is struct iovec on Unix. */
static ssize_t conn_try_write(struct conn *c, const uv_buf_t *iov, unsigned n)
{
    int fd = c->priv->fd;
    if (fd < 0) {
        conn_abort(c, "Write error: no socket");
        return -1;
    }
    ssize_t r;
    do {
        if (n == 1) {
            r = send(fd, iov[0].base, iov[0].len, MSG_DONTWAIT | MSG_NOSIGNAL);
        } else {
            struct msghdr m = {.msg_iov = (struct iovec *)(void *)iov, .msg_iovlen = n};
            r = sendmsg(fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
        }
    } while (r < 0 && errno == EINTR);
    net__state.stat_writes++;
    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
        return 0;
    if (r < 0) {
        conn_abort(c, conn_error_text("Write", -errno));
        return -1;
    }
    net__state.stat_bytes_out += (size_t)r;
    return r;
}

/* Plain TCP: conn_try_write of the gathered queue (conn_gather_copy) until
 * it is empty or the kernel pushes back; the rest goes to one uv_write by
 * reference (if may_queue). */
static void conn_flush_plain(struct conn *c, bool may_queue)
{
    struct conn_private *p = c->priv;
    uv_buf_t iov[NET_IOV_MAX];
    size_t bytes;

    while (p->q_len > 0 && !p->writing) {
        unsigned n = conn_gather_copy(p, iov, NET_IOV_MAX, &bytes);
        ssize_t r = conn_try_write(c, iov, n);
        if (r < 0)
            return;
        conn_consume(c, (size_t)r);
        if ((size_t)r == bytes)
            continue;
        if (!may_queue)
            return;
        n = conn_gather(p, iov, NET_IOV_MAX, &bytes);
        struct conn_wreq *w = xmalloc(sizeof(*w));
        w->bytes = bytes;
        conn_start_write(c, w, iov, n);
        return;
    }
}

/* TLS: encrypts up to one record of queued plaintext (invariant 5). */
static bool conn_tls_encrypt(struct conn *c)
{
    struct conn_private *p = c->priv;
    size_t n = 0;

    for (uint32_t i = 0; i < p->q_len && n < NET_PBUF_SIZE; i++) {
        struct qbuf *b = p->q[(p->q_head + i) & (p->q_cap - 1)];
        size_t off = i == 0 ? p->q_off : 0;
        size_t take = b->len - off;
        if (take > NET_PBUF_SIZE - n)
            take = NET_PBUF_SIZE - n;
        memcpy(net__pbuf + n, b->data + off, take);
        n += take;
    }
    conn_consume(c, n);
    return tls__session_write(p->tls, net__pbuf, n) == TLS_OK;
}

/* TLS: writes pending ciphertext, encrypting queued plaintext batch by batch;
 * on a graceful close the close_notify follows the last batch. */
static void conn_flush_tls(struct conn *c, bool may_queue)
{
    struct conn_private *p = c->priv;

    while (!p->writing && !p->dead) {
        size_t n = tls__session_output(p->tls, net__obuf, NET_OBUF_SIZE);
        if (n == 0) {
            if (p->q_len > 0 && tls__session_is_open(p->tls)) {
                if (!conn_tls_encrypt(c)) {
                    conn_abort(c, "TLS error");
                    return;
                }
                continue;
            }
            if (c->closing && !p->abort && p->q_len == 0 && tls__session_close_notify(p->tls))
                continue;
            return;
        }
        uv_buf_t buf = uv_buf_init(net__obuf, (unsigned)n);
        ssize_t r = conn_try_write(c, &buf, 1);
        if (r < 0)
            return;
        if ((size_t)r == n)
            continue;
        if (!may_queue)
            return;
        struct conn_wreq *w = xmalloc(sizeof(*w) + n - (size_t)r);
        w->bytes = n - (size_t)r;
        memcpy(w->data, net__obuf + r, w->bytes);
        buf = uv_buf_init(w->data, (unsigned)w->bytes);
        conn_start_write(c, w, &buf, 1);
        return;
    }
}

static void conn_flush(struct conn *c, bool may_queue)
{
    if (c->priv->dead)
        return;
    if (c->priv->tls)
        conn_flush_tls(c, may_queue);
    else
        conn_flush_plain(c, may_queue);
}

/* ---- read path ---------------------------------------------------------- */

/* Receives the lines the splitter finds; returns false to stop delivery. */
static bool conn_on_line_event(void *ctx, enum linebuf_event ev, char *line, size_t len)
{
    struct conn *c = ctx;
    struct conn_private *p = c->priv;

    if (c->closing || p->dead)
        return false;
    if (ev == LINEBUF_OVERLONG)
        p->ops->on_overlong(c);
    else if (p->ops->on_line(c, line, len) == CONN_LINE_PAUSE)
        p->paused = 1;
    return !(p->paused || c->closing || p->dead);
}

static bool conn_can_deliver(const struct conn *c)
{
    const struct conn_private *p = c->priv;
    return !(p->paused || c->closing || p->dead);
}

/* Input for the layer above: raw bytes (on_data) or split into lines. */
static void conn_deliver(struct conn *c, char *data, size_t len)
{
    struct conn_private *p = c->priv;
    if (p->ops->on_data) {
        if (p->ops->on_data(c, data, len) == CONN_LINE_PAUSE && !p->dead)
            p->paused = 1;
        return;
    }
    linebuf_feed(&p->in, data, len, net__state.limits.line_max, conn_on_line_event, c);
}

static void conn_on_alloc(uv_handle_t *h, size_t hint, uv_buf_t *buf)
{
    (void)h;
    (void)hint;
    /* Every read lands in the one shared buffer; the read callback consumes
     * it completely before returning (invariant 3 of conn.h). */
    *buf = uv_buf_init(net__rbuf, NET_RBUF_SIZE);
}

/* Calls on_accept; a refusal without a conn_close() still closes. */
static void conn_notify_accept(struct conn *c)
{
    c->priv->accepted = 1;
    if (c->priv->ops->on_accept(c) < 0 && !c->closing)
        conn_close(c, "Connection refused");
}

/* TLS: ciphertext in; handshake until done, then plaintext lines. */
static void conn_tls_input(struct conn *c, const char *data, size_t len)
{
    struct conn_private *p = c->priv;

    tls__session_input(p->tls, data, len);
    if (!p->accepted) {
        enum tls_result r = tls__session_handshake(p->tls);
        if (r == TLS_FAIL) {
            /* one line per refused handshake (garbage, plaintext, a
             * protocol we do not speak), within TLS_LOG_MAX per window;
             * the debug line above has the op */
            unsigned dropped;
            if (log_limit_pass(&tls_fail_limit, TLS_LOG_MAX, TLS_LOG_WINDOW, &dropped))
                log_info("net: TLS handshake from %s failed: %s%s", c->ip,
                         tls__session_error(p->tls), log_dropped_note(dropped));
            conn_flush(c, false); /* the alert, if the kernel takes it */
            conn_destroy(c, false);
            return;
        }
        net__pending_add(c); /* our handshake messages */
        if (r == TLS_AGAIN)
            return;
        tls__session_certfp(p->tls, c->certfp);
        net__deadline_remove(c);
        conn_notify_accept(c);
    }
    conn_tls_read_plain(c);
}

static void conn_tls_read_plain(struct conn *c)
{
    struct conn_private *p = c->priv;

    while (conn_can_deliver(c)) {
        long n = tls__session_read(p->tls, net__rbuf, NET_RBUF_SIZE);
        if (n == TLS_AGAIN)
            break;
        if (n < 0) {
            conn_peer_gone(c, n == TLS_EOF ? "Remote host closed the connection" : "TLS error");
            return;
        }
        conn_deliver(c, net__rbuf, (size_t)n);
    }
    net__pending_add(c); /* SSL_read may have produced output (tickets, alerts) */
}

static void conn_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    struct conn *c = s->data;
    struct conn_private *p = c->priv;

    if (nread == 0)
        return;
    if (nread < 0) {
        conn_peer_gone(c, conn_error_text("Read", (int)nread));
        return;
    }
    net__state.stat_reads++;
    net__state.stat_bytes_in += (size_t)nread;
    if (c->closing)
        return; /* invariant 4: discard */
    if (p->tls)
        conn_tls_input(c, buf->base, (size_t)nread);
    else
        conn_deliver(c, buf->base, (size_t)nread);
    if (p->paused && !p->dead)
        conn_read_stop(c);
}

static void conn_read_start(struct conn *c)
{
    struct conn_private *p = c->priv;
    if (!p->reading && !p->dead &&
        uv_read_start((uv_stream_t *)&p->tcp, conn_on_alloc, conn_on_read) == 0)
        p->reading = 1;
}

/* After conn_resume: held lines first, then what TLS still buffers, then
 * the socket again - in that order, so lines stay in order. */
static void conn_deliver_held(struct conn *c)
{
    struct conn_private *p = c->priv;

    if (c->closing || p->dead)
        return;
    if (p->ops->on_data) {
        if (p->ops->on_data(c, NULL, 0) == CONN_LINE_PAUSE && !p->dead)
            p->paused = 1;
    } else {
        linebuf_resume(&p->in, net__state.limits.line_max, conn_on_line_event, c);
    }
    if (p->tls && conn_can_deliver(c))
        conn_tls_read_plain(c);
    if (conn_can_deliver(c))
        conn_read_start(c);
}

/* ---- entry points ------------------------------------------------------- */

void conn__service(struct conn *c)
{
    struct conn_private *p = c->priv;

    p->pending = 0;
    if (p->unfreed) {
        conn_free((struct conn_block *)((char *)p - offsetof(struct conn_block, priv)));
        return;
    }
    if (p->dead)
        return;
    if (p->resume) {
        p->resume = 0;
        conn_deliver_held(c);
        if (p->dead)
            return;
    }
    if (c->closing)
        conn_close_step(c);
    else
        conn_flush(c, true);
}

void conn_close(struct conn *c, const char *reason)
{
    if (c->closing || c->priv->dead)
        return;
    conn_mark_closing(c, reason);
    net__pending_add(c);
}

void conn_resume(struct conn *c)
{
    struct conn_private *p = c->priv;

    if (p->dead || !p->paused)
        return;
    p->paused = 0;
    p->resume = 1;
    net__pending_add(c); /* delivered from the flush point, not from here */
}

void conn_foreach(void (*fn)(struct conn *c, void *ud), void *ud)
{
    struct net_state *n = &net__state;
    /* By index: fn cannot remove entries (closing is deferred), but it may
     * in theory shut the transport down, which empties the array. */
    for (uint32_t i = 0; i < n->all_len; i++) {
        struct conn *c = n->all[i];
        if (c->priv->accepted && !c->priv->notified && !c->priv->dead)
            fn(c, ud);
    }
}

void conn_close_unaccepted(const char *reason)
{
    struct net_state *n = &net__state;
    for (uint32_t i = 0; i < n->all_len; i++) {
        struct conn *c = n->all[i];
        if (!c->priv->accepted && !c->priv->dead)
            conn_close(c, reason);
    }
}

static void conn_fill_address(struct conn *c, const struct sockaddr_storage *peer)
{
    c->peer = *peer;
    if (peer->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)peer;
        inet_ntop(AF_INET6, &a->sin6_addr, c->ip, sizeof(c->ip));
        c->port = ntohs(a->sin6_port);
    } else {
        const struct sockaddr_in *a = (const struct sockaddr_in *)peer;
        inet_ntop(AF_INET, &a->sin_addr, c->ip, sizeof(c->ip));
        c->port = ntohs(a->sin_port);
    }
}

void conn__accept(int fd, const struct sockaddr_storage *peer, uint16_t local_port,
                  struct tls_ctx *tls, const struct conn_ops *ops)
{
    struct net_state *n = &net__state;
    struct conn_block *blk = xcalloc(1, sizeof(*blk));
    struct conn *c = &blk->pub;
    struct conn_private *p = &blk->priv;

    c->priv = p;
    p->fd = -1;
    p->ops = ops ? ops : &n->ops;
    p->dl_idx = NET_NO_INDEX;
    uv_tcp_init(n->loop, &p->tcp);
    p->tcp.data = c;
    if (uv_tcp_open(&p->tcp, fd) != 0) {
        close(fd);
        p->dead = 1;
        uv_close((uv_handle_t *)&p->tcp, conn_on_closed);
        return;
    }
    p->fd = fd;
    uv_tcp_nodelay(&p->tcp, 1);
    c->id = n->next_id++;
    conn_fill_address(c, peer);
    c->local_port = local_port;
    net__track(c);
    if (tls) {
        c->tls = true;
        p->tls = tls__session_new(tls);
        net__deadline_add(c, n->handshake_ms);
    } else {
        conn_notify_accept(c);
    }
    /* Also when on_accept refused: input is then read and discarded. */
    conn_read_start(c);
}

bool conn_tls_info(const struct conn *c, const char **version, const char **cipher)
{
    *version = *cipher = NULL;
    if (!c->tls || !c->priv || !c->priv->tls)
        return false;
    tls__session_describe(c->priv->tls, version, cipher);
    return *version != NULL;
}
