/*
 * conn.h - one client connection: bytes in, lines up, shared buffers out.
 *
 * The transport knows nothing of IRC. It accepts sockets on the listeners,
 * runs TLS (OpenSSL over memory BIOs) when the listener says so, splits the
 * incoming byte stream into lines and hands each line to the layer above
 * through struct conn_ops. Outgoing data is a queue of references to shared
 * qbufs.
 *
 * Write path ("write now, queue only if the socket pushes back"): conn_send()
 * appends to the connection's queue and puts the connection on a pending list
 * (once). At the end of the loop iteration (a uv_check handle) every pending
 * connection is flushed with one vectored uv_try_write(); only what the
 * kernel refuses stays queued and is written by a uv_write() whose callback
 * continues the flush. Several messages to one client in one iteration thus
 * cost one system call. Nothing scans all connections periodically.
 *
 * Invariants:
 *   1. sendq_bytes is the number of queued bytes not yet accepted by the
 *      kernel (for TLS: plaintext bytes not yet encrypted+written). When a
 *      conn_send() would take it past limits.sendq_max the connection is
 *      marked for closing with reason "SendQ exceeded"; the queue never grows
 *      past the cap.
 *   2. An incoming line longer than limits.line_max bytes (without CRLF) is
 *      refused: ops->on_overlong is called (the layer above answers with an
 *      error numeric) and the bytes up to the next LF are discarded; the
 *      per-connection buffer never grows past line_max.
 *   3. Idle connections hold no read buffer: reads land in one shared buffer
 *      and only an incomplete trailing line is copied to a per-connection
 *      buffer.
 *   4. ops->on_close is called exactly once per accepted connection, from
 *      the loop (a read callback or the end-of-iteration handle), never from
 *      inside conn_send() or conn_close(). After on_close returns the layer
 *      above must drop every pointer to the conn; its memory is released
 *      after libuv has closed the handle.
 *   5. Lines are delivered in order. While ops->on_line returns
 *      CONN_LINE_PAUSE the connection delivers no more lines and stops
 *      reading until conn_resume() (used for flood penalties); unconsumed
 *      bytes stay buffered (bounded by one read plus line_max).
 *
 * Threads: everything here runs on the loop thread.
 */
#ifndef QUN_NET_CONN_H
#define QUN_NET_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <uv.h>

#include "net/qbuf.h"

struct conn;
struct tls_ctx;

enum conn_line_result { CONN_LINE_CONTINUE = 0, CONN_LINE_PAUSE = 1 };

struct conn_ops {
    /* A new connection was accepted (after the TLS handshake for TLS
     * listeners). Return 0 to keep it, or a negative value after having
     * queued an explanation and called conn_close(). */
    int (*on_accept)(struct conn *c);
    /* One line, CR/LF stripped, NUL-terminated, writable in place. */
    enum conn_line_result (*on_line)(struct conn *c, char *line, size_t len);
    /* A line exceeded limits.line_max and was discarded. */
    void (*on_overlong)(struct conn *c);
    /* The connection is gone (see invariant 4). reason is human-readable,
     * e.g. "Connection reset by peer", "SendQ exceeded", "Client quit". */
    void (*on_close)(struct conn *c, const char *reason);
    /* Addition, raw-bytes mode (the web face: HTTP, WebSocket): when set,
     * on_line and on_overlong are never called and every chunk read (TLS:
     * decrypted) goes here as it arrives; the layer above keeps what it
     * does not consume, bounded by its own limits. CONN_LINE_PAUSE stops
     * reading until conn_resume(), after which on_data(c, NULL, 0) is
     * called from the flush point to process what was held. */
    enum conn_line_result (*on_data)(struct conn *c, const char *data, size_t len);
};

/* Addition: framing of outgoing data (the WebSocket bridge wraps every
 * line the IRC layer sends in one frame). kind names the framing: two
 * connections with the same kind frame a buffer into identical bytes, so
 * a framed buffer may be shared between them (irc/send.c does). */
#define CONN_FRAME_KINDS 3 /* kinds are 1 .. CONN_FRAME_KINDS - 1 */
struct conn_framer {
    unsigned kind;
    /* A new buffer (one reference) holding plain framed, or NULL when
     * plain holds nothing to send. */
    struct qbuf *(*frame)(const struct qbuf *plain);
};

struct conn_limits {
    size_t line_max;  /* longest accepted line without CRLF, tags included */
    size_t sendq_max; /* bytes queued before the client is dropped */
};

struct conn {
    uint64_t id; /* unique for the process lifetime, never reused */
    void *owner; /* the layer above's object (a client) */
    struct sockaddr_storage peer;
    char ip[46];         /* textual peer address */
    uint16_t port;       /* peer port */
    uint16_t local_port; /* listener port */
    char certfp[65];     /* SHA-256 hex of the TLS client certificate, or "" */
    /* from here on: touched for every line sent (with the private part's
     * first cache line, which follows in memory) */
    bool tls;
    bool closing; /* conn_close() was called or an error occurred */
    size_t sendq_bytes;
    /* Addition: the face in front of the IRC layer (src/web/: HTTP and
     * WebSocket state) owns this; NULL on IRC connections. */
    void *face;
    /* Addition: when set, conn_send() frames every buffer through it (see
     * struct conn_framer); conn_send_framed() queues one already framed. */
    const struct conn_framer *framer;
    struct conn_private *priv; /* transport internals */
};

/* Asks for the cache lines that sending to c and flushing it touch: the
 * public part's hot tail (from tls on) and the private part's first line,
 * which follows the public part in the same allocation (net_internal.h's
 * struct conn_block). A fan-out calls it a few recipients ahead: every
 * connection it reaches is cold, and waiting for each miss in turn was a
 * visible share of the loop's time. Only a hint: no effect on behaviour. */
#define CONN_PREFETCH_AHEAD 4 /* connections ahead of the one being worked on */
static inline void conn_prefetch(const struct conn *c)
{
    __builtin_prefetch(&c->tls);
    __builtin_prefetch((const char *)(c + 1));
    __builtin_prefetch((const char *)(c + 1) + 63);
}

/* TLS protocol version and cipher of an open TLS connection (static
 * strings, for session records); false on plain connections. */
bool conn_tls_info(const struct conn *c, const char **version, const char **cipher);

/* Process-wide transport state. Call once with the loop; ops and limits are
 * copied (limits may be changed later by transport_set_limits on reload). */
void transport_init(uv_loop_t *loop, const struct conn_ops *ops, const struct conn_limits *limits);
void transport_set_limits(const struct conn_limits *limits);
/* Stops every listener and closes every connection without calling
 * on_close (used at shutdown after the layer above has said goodbye). */
void transport_shutdown(void);
/* Addition: TLS handshake deadline (a connection that has not finished its
 * handshake by then is dropped without on_accept; default 20 s) and the
 * grace a gracefully closing connection gets to flush (default 2 s). */
void transport_set_timeouts(unsigned handshake_ms, unsigned linger_ms);

/* Addition: counters since transport_init, for tests and benchmarks. */
struct transport_stats {
    uint64_t accepted;     /* connections accepted (TLS: before the handshake) */
    uint64_t closed;       /* connections closed */
    uint64_t reads;        /* read callbacks with data */
    uint64_t writes;       /* write system calls tried (uv_try_write) */
    uint64_t async_writes; /* uv_write fallbacks after the kernel pushed back */
    uint64_t bytes_in;     /* bytes read from sockets (TLS: ciphertext) */
    uint64_t bytes_out;    /* bytes the kernel accepted (TLS: ciphertext) */
};
void transport_stats_get(struct transport_stats *out);

/* Listeners. tls may be NULL for plain TCP. Returns 0 or a negative uv error.
 * The tls context is referenced per connection; replacing it (reload) only
 * affects new connections. */
int listener_open(const char *address, int port, struct tls_ctx *tls, char *err, size_t errlen);
/* Addition: as listener_open, and *bound_port receives the port actually
 * bound (useful with port 0). address is a numeric IPv4 or IPv6 address
 * ("0.0.0.0", "::", "::1"); IPv6 listeners are IPV6_V6ONLY. */
int listener_open_bound(const char *address, int port, struct tls_ctx *tls, int *bound_port,
                        char *err, size_t errlen);
/* Addition: as listener_open_bound, and the connections it accepts use ops
 * instead of transport_init's (NULL: those). ops must outlive the
 * listener. */
int listener_open_ops(const char *address, int port, struct tls_ctx *tls,
                      const struct conn_ops *ops, int *bound_port, char *err, size_t errlen);
void listener_set_tls_all(struct tls_ctx *tls);
void listener_close_all(void);

/* Queues a reference to b (the caller keeps its own reference). Returns 0, or
 * -1 when the connection is closing or the send queue overflowed (then it is
 * scheduled to close with "SendQ exceeded"). */
int conn_send(struct conn *c, struct qbuf *b);
/* Addition: queues b as it is, bypassing c->framer (b was framed by a
 * framer of the same kind). Same results as conn_send. */
int conn_send_framed(struct conn *c, struct qbuf *b);
/* Addition: this connection's send queue cap (0: limits.sendq_max), e.g.
 * for an HTTP download larger than an IRC client may queue. */
void conn_set_sendq_max(struct conn *c, size_t max);
/* Addition: the operations this connection was accepted with. */
const struct conn_ops *conn_get_ops(const struct conn *c);
/* Convenience: copies bytes into a new qbuf and sends it. */
int conn_send_copy(struct conn *c, const char *data, size_t len);
/* Flushes what is queued (best effort, bounded time), then closes. reason is
 * what on_close will receive. Safe to call more than once. */
void conn_close(struct conn *c, const char *reason);
/* Restarts line delivery after CONN_LINE_PAUSE. */
void conn_resume(struct conn *c);
/* Number of open connections (including TLS handshakes in progress and
 * closed connections still flushing their last bytes). */
size_t conn_count(void);
/* Addition: calls fn for every accepted connection whose on_close has not
 * been called yet (e.g. to say goodbye at shutdown). fn may conn_send() and
 * conn_close(); those never remove a connection synchronously. */
void conn_foreach(void (*fn)(struct conn *c, void *ud), void *ud);
/* Closes the connections never handed up (TLS handshakes in progress), e.g.
 * at shutdown; they get no on_close. */
void conn_close_unaccepted(const char *reason);

/* TLS contexts (net/tls.c). Load certificate chain + key; on error returns
 * NULL and writes a sentence to err (never key material). */
struct tls_ctx *tls_ctx_load(const char *cert_file, const char *key_file, char *err, size_t errlen);
void tls_ctx_ref(struct tls_ctx *t);
void tls_ctx_unref(struct tls_ctx *t);

#endif
