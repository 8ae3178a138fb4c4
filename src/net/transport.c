/*
 * transport.c - process-wide transport state and the end-of-iteration
 * flush point.
 *
 * Owns: the loop pointer, the callbacks and limits given by the layer above,
 * the shared buffers, the pending list, the deadline list, the list of all
 * connections, and transport_init/transport_shutdown.
 *
 * The flush point. Anything that wants a connection serviced "soon but not
 * now" - a conn_send(), a conn_close(), a conn_resume(), a write error -
 * calls net__pending_add(). The first addition starts a uv_check handle (run
 * right after the loop has polled for I/O) and a uv_idle handle (whose only
 * job is to make the next poll non-blocking, so that data queued from a timer
 * or a close callback is not stuck until the next I/O event). The check
 * callback services every pending connection (conn__service: deliver held
 * lines, flush, close) and stops both handles when the list is empty. An
 * idle server therefore has no active handle of ours except the listeners
 * and does not spin.
 *
 * Invariants:
 *   1. A connection is on the pending list at most once (its pending bit).
 *   2. Memory of a connection is freed in its uv_close callback, or, if it
 *      is on the pending list (or the batch being flushed) then, when the
 *      flush reaches it; so pointers there stay valid, and servicing skips
 *      connections marked dead.
 *   3. check and idle are active exactly while pending_len > 0 or the batch
 *      has connections left (outside the check callback itself).
 *   4. sweep is active exactly while dl_len > 0; a connection is in dl at
 *      most once (dl_idx).
 *   5. all[c->priv->all_idx] == c for every live (not dead) connection.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "net/conn.h"
#include "net/net_internal.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/loopwatch.h"

struct net_state net__state;
char net__rbuf[NET_RBUF_SIZE];
char net__obuf[NET_OBUF_SIZE];
char net__pbuf[NET_PBUF_SIZE];
char net__gbuf[NET_GBUF_SIZE];

#define DEFAULT_HANDSHAKE_MS 20000
#define DEFAULT_LINGER_MS    2000

/* Grows an array of elements of size `size` to hold at least one more. */
static void *net_grow(void *arr, uint32_t *cap, size_t size)
{
    uint32_t n = *cap ? *cap * 2 : 64;
    arr = xrealloc(arr, (size_t)n * size);
    *cap = n;
    return arr;
}

static void transport_on_idle(uv_idle_t *h)
{
    (void)h; /* exists only to make the poll phase non-blocking */
}

/* The flush point: service every pending connection, including those that
 * servicing itself adds (a delivered line may send to other connections),
 * NET_FLUSH_SLICE at a time: past that the rest waits for the next
 * iteration, whose poll (made non-blocking by the idle handle) reads what
 * arrived meanwhile first. So a message that comes in while a large group's
 * fan-out is being written is read, and goes to the log, at once instead of
 * after the whole fan-out; its lines to members the flush has not reached
 * yet join theirs in the same write. */
static void transport_on_check(uv_check_t *h)
{
    struct net_state *n = &net__state;
    uint32_t budget = NET_FLUSH_SLICE;

    while (!n->shutting_down) {
        if (n->batch_pos == n->batch_len) {
            if (n->pending_len == 0)
                break;
            struct conn **batch = n->batch;
            uint32_t cap = n->batch_cap;
            n->batch = n->pending;
            n->batch_cap = n->pending_cap;
            n->batch_len = n->pending_len;
            n->batch_pos = 0;
            n->pending = batch;
            n->pending_cap = cap;
            n->pending_len = 0;
        }
        if (budget-- == 0)
            return; /* the handles stay active: the rest next iteration */
        if (n->batch_pos + CONN_PREFETCH_AHEAD < n->batch_len)
            conn_prefetch(n->batch[n->batch_pos + CONN_PREFETCH_AHEAD]);
        conn__service(n->batch[n->batch_pos++]); /* clears its pending bit */
    }
    if (!n->shutting_down) {
        uv_check_stop(h);
        uv_idle_stop(&n->idle);
    }
}

/* Starts the flush handles if needed. Kept apart from net__pending_add so
 * that the callback pointer is set in one place. */
static void transport_arm(void)
{
    struct net_state *n = &net__state;
    if (n->pending_len > 0 && !uv_is_active((uv_handle_t *)&n->check)) {
        uv_check_start(&n->check, transport_on_check);
        uv_idle_start(&n->idle, transport_on_idle);
    }
}

void net__pending_add(struct conn *c)
{
    struct net_state *n = &net__state;
    struct conn_private *p = c->priv;

    if (p->pending || p->dead || n->shutting_down)
        return;
    if (n->pending_len == n->pending_cap)
        n->pending = net_grow(n->pending, &n->pending_cap, sizeof(*n->pending));
    n->pending[n->pending_len++] = c;
    p->pending = 1;
    transport_arm();
}

static void transport_on_sweep(uv_timer_t *h)
{
    struct net_state *n = &net__state;
    uint64_t now = uv_now(n->loop);

    /* Backwards, so that swap-removal only moves already visited entries. */
    for (uint32_t i = n->dl_len; i-- > 0;) {
        if (i < n->dl_len && n->dl[i].at <= now)
            conn__expire(n->dl[i].c); /* removes it from dl */
    }
    if (n->dl_len == 0)
        uv_timer_stop(h);
}

void net__deadline_add(struct conn *c, unsigned ms)
{
    struct net_state *n = &net__state;
    struct conn_private *p = c->priv;

    if (p->dl_idx != NET_NO_INDEX)
        net__deadline_remove(c);
    if (n->dl_len == n->dl_cap)
        n->dl = net_grow(n->dl, &n->dl_cap, sizeof(*n->dl));
    n->dl[n->dl_len].c = c;
    n->dl[n->dl_len].at = uv_now(n->loop) + ms;
    p->dl_idx = n->dl_len++;
    if (n->dl_len == 1 && !n->shutting_down)
        uv_timer_start(&n->sweep, transport_on_sweep, NET_SWEEP_MS, NET_SWEEP_MS);
}

void net__deadline_remove(struct conn *c)
{
    struct net_state *n = &net__state;
    struct conn_private *p = c->priv;
    uint32_t i = p->dl_idx;

    if (i == NET_NO_INDEX)
        return;
    n->dl[i] = n->dl[--n->dl_len];
    n->dl[i].c->priv->dl_idx = i;
    p->dl_idx = NET_NO_INDEX;
    if (n->dl_len == 0) {
        uv_timer_stop(&n->sweep);
        free(n->dl); /* bursts of handshakes should not leave a big array */
        n->dl = NULL;
        n->dl_cap = 0;
    }
}

void net__track(struct conn *c)
{
    struct net_state *n = &net__state;
    if (n->all_len == n->all_cap)
        n->all = net_grow(n->all, &n->all_cap, sizeof(*n->all));
    c->priv->all_idx = n->all_len;
    n->all[n->all_len++] = c;
    n->stat_accepted++;
}

void net__untrack(struct conn *c)
{
    struct net_state *n = &net__state;
    uint32_t i = c->priv->all_idx;

    n->all[i] = n->all[--n->all_len];
    n->all[i]->priv->all_idx = i;
    n->stat_closed++;
}

void transport_init(uv_loop_t *loop, const struct conn_ops *ops, const struct conn_limits *limits)
{
    struct net_state *n = &net__state;

    memset(n, 0, sizeof(*n));
    n->loop = loop;
    n->ops = *ops;
    n->limits = *limits;
    n->handshake_ms = DEFAULT_HANDSHAKE_MS;
    n->linger_ms = DEFAULT_LINGER_MS;
    n->next_id = 1;
    uv_check_init(loop, &n->check);
    uv_idle_init(loop, &n->idle);
    uv_timer_init(loop, &n->sweep);
    uv_timer_init(loop, &n->accept_retry);
    n->handles_open = 4;
    loopwatch_track("reads", &n->stat_reads);
    loopwatch_track("writes", &n->stat_writes);
    loopwatch_track("accepted connections", &n->stat_accepted);
    loopwatch_track("closed connections", &n->stat_closed);
    /* libuv writes with write(2)/writev(2), not send(MSG_NOSIGNAL): a peer
     * that reset the connection would otherwise kill the process. */
    signal(SIGPIPE, SIG_IGN);
}

void transport_set_limits(const struct conn_limits *limits)
{
    net__state.limits = *limits;
}

void transport_set_timeouts(unsigned handshake_ms, unsigned linger_ms)
{
    net__state.handshake_ms = handshake_ms;
    net__state.linger_ms = linger_ms;
}

size_t conn_count(void)
{
    return net__state.all_len;
}

void transport_stats_get(struct transport_stats *out)
{
    const struct net_state *n = &net__state;
    out->accepted = n->stat_accepted;
    out->closed = n->stat_closed;
    out->reads = n->stat_reads;
    out->writes = n->stat_writes;
    out->async_writes = n->stat_async_writes;
    out->bytes_in = n->stat_bytes_in;
    out->bytes_out = n->stat_bytes_out;
}

/* The last of our own handles is closed: now the arrays may go (the check
 * callback may have been iterating one of them when shutdown was called). */
static void transport_on_handle_closed(uv_handle_t *h)
{
    struct net_state *n = &net__state;
    if (--n->handles_open > 0)
        return;
    free(n->pending);
    free(n->batch);
    free(n->all);
    free(n->dl);
    n->pending = n->batch = n->all = NULL;
    n->dl = NULL;
    n->pending_len = n->batch_len = n->batch_pos = n->all_len = n->dl_len = 0;
    n->pending_cap = n->batch_cap = n->all_cap = n->dl_cap = 0;
    n->loop = NULL;
}

void transport_shutdown(void)
{
    struct net_state *n = &net__state;

    if (!n->loop || n->shutting_down)
        return;
    listener_close_all();
    n->shutting_down = true;
    while (n->all_len > 0)
        conn__shutdown_one(n->all[n->all_len - 1]); /* untracks it */
    /* connections closed earlier and still waiting for the flush to free
     * them (the close callbacks of the rest free them from now on) */
    for (uint32_t i = n->batch_pos; i < n->batch_len; i++)
        if (n->batch[i]->priv->unfreed)
            conn__service(n->batch[i]);
    for (uint32_t i = 0; i < n->pending_len; i++)
        if (n->pending[i]->priv->unfreed)
            conn__service(n->pending[i]);
    n->pending_len = n->batch_len = n->batch_pos = 0;
    uv_close((uv_handle_t *)&n->check, transport_on_handle_closed);
    uv_close((uv_handle_t *)&n->idle, transport_on_handle_closed);
    uv_close((uv_handle_t *)&n->sweep, transport_on_handle_closed);
    uv_close((uv_handle_t *)&n->accept_retry, transport_on_handle_closed);
}
