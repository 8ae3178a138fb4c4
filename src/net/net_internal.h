/*
 * net_internal.h - what the files of src/net share and nobody else may use.
 *
 * The transport is split by responsibility:
 *   transport.c  process-wide state, the end-of-iteration flush point
 *                (pending list + uv_check), deadlines, shutdown;
 *   conn.c       one connection: accept, read path, send queue, close;
 *   listener.c   listening sockets, accept(2), pausing on EMFILE;
 *   tls.c        OpenSSL contexts and per-connection TLS sessions;
 *   linebuf.c    the sans-IO line splitter.
 * Names with a double underscore (conn__accept, net__pending_add) cross file
 * boundaries inside the module only.
 *
 * Memory of one connection: a single allocation holding struct conn (public)
 * followed by struct conn_private, whose first member is the uv_tcp_t. Per
 * idle plain connection nothing else is allocated: no read buffer, no send
 * queue, no timer.
 */
#ifndef QUN_NET_INTERNAL_H
#define QUN_NET_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

#include "net/conn.h"
#include "net/linebuf.h"
#include "util/log.h"

#define NET_RBUF_SIZE       65536 /* shared read buffer (also TLS plaintext out of SSL_read) */
#define NET_OBUF_SIZE       32768 /* shared TLS ciphertext staging for writes */
#define NET_FLUSH_SLICE     128   /* connections the flush writes before polling again */
#define NET_PBUF_SIZE       16384 /* shared TLS plaintext batch: one full TLS record */
#define NET_IOV_MAX         1024  /* iovecs per sendmsg (UIO_MAXIOV) */
#define NET_GBUF_SIZE       65536 /* shared gather buffer: small queued lines copied together */
#define NET_GATHER_COPY_MAX 2048  /* queued buffers up to this size are copied into it */
#define NET_SWEEP_MS        250   /* deadline sweep period while deadlines exist */
#define NET_ACCEPT_RETRY_MS 250   /* accept pause after EMFILE/ENFILE */

struct tls_session;

/* Laid out hot first: what a send and the flush touch for every recipient
 * (the queue, the flags, the socket) sits in the first cache line, right
 * after the public struct's own hot tail (conn.h), so a fan-out to
 * thousands of cold connections misses as few lines as it can. */
struct conn_private {
    struct qbuf **q;            /* ring of queued buffers, power-of-two cap; NULL when empty */
    uint32_t q_head;            /* index of the oldest buffer */
    uint32_t q_len;             /* buffers queued */
    uint32_t q_cap;             /* ring capacity */
    uint32_t q_off;             /* bytes of the oldest buffer already written */
    int fd;                     /* the socket (tcp's), for the plain writes */
    unsigned pending : 1;       /* on the pending list */
    unsigned resume : 1;        /* conn_resume() called; held lines to deliver */
    unsigned paused : 1;        /* on_line returned CONN_LINE_PAUSE */
    unsigned reading : 1;       /* uv_read_start is in effect */
    unsigned writing : 1;       /* a uv_write is in flight */
    unsigned accepted : 1;      /* on_accept was called */
    unsigned notified : 1;      /* on_close was called (or must never be) */
    unsigned abort : 1;         /* close without flushing (SendQ, errors) */
    unsigned lingering : 1;     /* notified, still flushing before the close */
    unsigned dead : 1;          /* uv_close called; memory goes in the close callback */
    unsigned unfreed : 1;       /* closed while on the pending list: the flush frees it */
    struct tls_session *tls;    /* NULL on plain connections */
    size_t sendq_max;           /* 0: net__state.limits.sendq_max */
    const struct conn_ops *ops; /* the listener's, or &net__state.ops */
    uv_tcp_t tcp;               /* tcp.data == the struct conn */
    struct linebuf in;          /* partial input line / held bytes while paused */
    char *reason;               /* close reason, owned; NULL until closing */
    uint32_t all_idx;           /* index in net__state.all */
    uint32_t dl_idx;            /* index in net__state.dl, or NET_NO_INDEX */
};

struct conn_block {
    struct conn pub;
    struct conn_private priv;
};

#define NET_NO_INDEX UINT32_MAX

/* A connection that must be dealt with by a certain time: a TLS handshake
 * that has to finish or a closing connection still flushing. */
struct net_deadline {
    struct conn *c;
    uint64_t at; /* uv_now() milliseconds */
};

struct transport_stats;

struct net_state {
    uv_loop_t *loop;
    struct conn_ops ops;
    struct conn_limits limits;
    unsigned handshake_ms;
    unsigned linger_ms;
    uint64_t next_id;
    bool shutting_down;
    /* The pending list: connections to service at the end of the iteration.
     * Double-buffered so that servicing may add to it: the flush takes the
     * list whole as `batch` and works through it, NET_FLUSH_SLICE at a time
     * (batch_pos of batch_len done). */
    struct conn **pending, **batch;
    uint32_t pending_len, pending_cap, batch_cap, batch_len, batch_pos;
    /* Every live connection (for shutdown and conn_count). */
    struct conn **all;
    uint32_t all_len, all_cap;
    /* Deadlines (unordered; swept every NET_SWEEP_MS while non-empty). */
    struct net_deadline *dl;
    uint32_t dl_len, dl_cap;
    uv_check_t check;        /* the flush point; active only while pending */
    uv_idle_t idle;          /* keeps poll from blocking while pending */
    uv_timer_t sweep;        /* deadline sweep; active only while deadlines exist */
    uv_timer_t accept_retry; /* resumes accepting after EMFILE */
    int handles_open;        /* of the four above, for the shutdown */
    bool accept_paused;
    struct log_limit emfile_warn; /* the "cannot accept" warning: one a minute */
    uint64_t stat_accepted, stat_closed, stat_reads, stat_writes, stat_async_writes;
    uint64_t stat_bytes_in, stat_bytes_out;
};

extern struct net_state net__state;
extern char net__rbuf[NET_RBUF_SIZE];
extern char net__obuf[NET_OBUF_SIZE];
extern char net__pbuf[NET_PBUF_SIZE];
extern char net__gbuf[NET_GBUF_SIZE];

/* transport.c */
void net__pending_add(struct conn *c);
void net__deadline_add(struct conn *c, unsigned ms);
void net__deadline_remove(struct conn *c);
void net__track(struct conn *c);
void net__untrack(struct conn *c);

/* conn.c */
void conn__accept(int fd, const struct sockaddr_storage *peer, uint16_t local_port,
                  struct tls_ctx *tls, const struct conn_ops *ops);
void conn__service(struct conn *c);
void conn__expire(struct conn *c);
void conn__shutdown_one(struct conn *c);

/* listener.c */
void listener__pause_all(void);
void listener__resume_all(void);

/* tls.c: one TLS server session over memory BIOs (state diagram in tls.c). */
enum tls_result { TLS_OK = 0, TLS_AGAIN = -1, TLS_EOF = -2, TLS_FAIL = -3 };
struct tls_session *tls__session_new(struct tls_ctx *t);
void tls__session_free(struct tls_session *s);
/* The negotiated protocol and cipher names (static strings). */
void tls__session_describe(const struct tls_session *s, const char **version, const char **cipher);
void tls__session_input(struct tls_session *s, const char *data, size_t len);
enum tls_result tls__session_handshake(struct tls_session *s);
bool tls__session_is_open(const struct tls_session *s);
/* Why the session FAILED (OpenSSL's reason string), for the log. */
const char *tls__session_error(const struct tls_session *s);
/* > 0: plaintext bytes; otherwise a tls_result (TLS_AGAIN: need input). */
long tls__session_read(struct tls_session *s, char *buf, size_t cap);
enum tls_result tls__session_write(struct tls_session *s, const char *data, size_t len);
size_t tls__session_output(struct tls_session *s, char *buf, size_t cap);
bool tls__session_close_notify(struct tls_session *s);
void tls__session_certfp(struct tls_session *s, char out[65]);

#endif
