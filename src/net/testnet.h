/*
 * testnet.h - helpers shared by the transport's unit tests (test_conn.c,
 * test_tls.c); included by test files only, never by the library.
 *
 * The tests drive the server loop and the client side from one thread: the
 * client uses plain blocking-or-nonblocking sockets (the kernel completes a
 * TCP connect from the listen backlog without the server's help) and the
 * test pumps the loop with UV_RUN_NOWAIT until the condition it waits for
 * holds. Recorded callbacks land in struct tn_state.
 *
 * Every test ends with tn_teardown(): transport_shutdown(), then uv_run()
 * must return by itself and uv_loop_close() must return 0 - nothing of ours
 * may be left on the loop.
 */
#ifndef QUN_NET_TESTNET_H
#define QUN_NET_TESTNET_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <uv.h>

#include "net/conn.h"

#define TN_MAX_LINES 256
#define TN_LINE_MAX  600

struct tn_state {
    uv_loop_t loop;
    int port;
    struct conn *conn; /* last accepted */
    int accepts;
    int closes;
    int overlongs;
    int nlines;
    char lines[TN_MAX_LINES][TN_LINE_MAX];
    char close_reason[128];
    char certfp[65];
    bool close_from_send;        /* set while inside conn_send/conn_close (must stay false) */
    const char *pause_on;        /* on_line returns PAUSE for this line */
    bool resume_in_callback;     /* call conn_resume from inside on_line (must not recurse) */
    const char *accept_greeting; /* sent by on_accept */
    bool reject;                 /* on_accept: greet, conn_close, return -1 */
    int in_on_line;
    bool count_only; /* on_line only counts (many connections) */
};

static struct tn_state tn;

static int tn_on_accept(struct conn *c)
{
    tn.conn = c;
    tn.accepts++;
    memcpy(tn.certfp, c->certfp, sizeof(tn.certfp));
    if (tn.accept_greeting)
        conn_send_copy(c, tn.accept_greeting, strlen(tn.accept_greeting));
    if (tn.reject) {
        conn_close(c, "Server full");
        return -1;
    }
    return 0;
}

static enum conn_line_result tn_on_line(struct conn *c, char *line, size_t len)
{
    assert_int_equal(tn.in_on_line, 0); /* never re-entrant */
    if (tn.count_only) {
        tn.nlines++;
        return CONN_LINE_CONTINUE;
    }
    assert_int_equal(strlen(line), len);
    assert_true(len < TN_LINE_MAX);
    assert_true(tn.nlines < TN_MAX_LINES);
    tn.in_on_line++;
    memcpy(tn.lines[tn.nlines++], line, len + 1);
    enum conn_line_result r = CONN_LINE_CONTINUE;
    if (tn.pause_on && strcmp(line, tn.pause_on) == 0) {
        r = CONN_LINE_PAUSE;
        if (tn.resume_in_callback)
            conn_resume(c); /* not paused yet: must be a no-op */
    }
    tn.in_on_line--;
    return r;
}

static void tn_on_overlong(struct conn *c)
{
    (void)c;
    tn.overlongs++;
}

static void tn_on_close(struct conn *c, const char *reason)
{
    assert_false(tn.close_from_send);
    tn.closes++;
    snprintf(tn.close_reason, sizeof(tn.close_reason), "%s", reason);
    if (tn.conn == c)
        tn.conn = NULL;
}

static const struct conn_ops tn_ops = {
    .on_accept = tn_on_accept,
    .on_line = tn_on_line,
    .on_overlong = tn_on_overlong,
    .on_close = tn_on_close,
};

static double tn_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Runs the loop without blocking until cond() holds or ms elapse. */
static bool tn_pump_until(bool (*cond)(void), int ms)
{
    double end = tn_now() + ms / 1000.0;
    for (;;) {
        uv_run(&tn.loop, UV_RUN_NOWAIT);
        if (cond && cond())
            return true;
        if (tn_now() > end)
            return cond == NULL;
        usleep(200);
    }
}

static void tn_pump(int ms)
{
    tn_pump_until(NULL, ms);
}

static bool tn_has_conn(void)
{
    return tn.conn != NULL;
}

static bool tn_has_close(void)
{
    return tn.closes > 0;
}

static void tn_setup_limits(size_t line_max, size_t sendq_max, const char *addr,
                            struct tls_ctx *tls)
{
    char err[256];
    memset(&tn, 0, sizeof(tn));
    assert_int_equal(uv_loop_init(&tn.loop), 0);
    struct conn_limits lim = {.line_max = line_max, .sendq_max = sendq_max};
    transport_init(&tn.loop, &tn_ops, &lim);
    int r = listener_open_bound(addr, 0, tls, &tn.port, err, sizeof(err));
    if (r != 0)
        fail_msg("listener_open: %s", err);
    assert_true(tn.port > 0);
}

static void tn_teardown(void)
{
    transport_shutdown();
    /* Must return by itself: nothing of the transport keeps the loop alive. */
    assert_int_equal(uv_run(&tn.loop, UV_RUN_DEFAULT), 0);
    assert_int_equal(conn_count(), 0);
    assert_int_equal(uv_loop_close(&tn.loop), 0);
}

/* A client socket connected to the test listener (blocking connect). */
static int tn_connect_addr(const char *addr, int port)
{
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    bool v6 = strchr(addr, ':') != NULL;
    if (v6)
        assert_int_equal(uv_ip6_addr(addr, port, (struct sockaddr_in6 *)&ss), 0);
    else
        assert_int_equal(uv_ip4_addr(addr, port, (struct sockaddr_in *)&ss), 0);
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    socklen_t len = v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
    if (connect(fd, (struct sockaddr *)&ss, len) != 0)
        fail_msg("connect: %s", strerror(errno));
    return fd;
}

static int tn_connect(void)
{
    return tn_connect_addr("127.0.0.1", tn.port);
}

static void tn_write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        assert_true(n > 0);
        data += n;
        len -= (size_t)n;
    }
}

/* Reads what is available without blocking: >0 bytes, 0 EOF, -1 nothing. */
static ssize_t tn_read_some(int fd, char *buf, size_t cap)
{
    ssize_t n = recv(fd, buf, cap, MSG_DONTWAIT);
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
        return -1;
    if (n < 0)
        return 0; /* reset counts as end */
    return n;
}

/* Pumps the loop and reads until EOF (or ms elapse); returns bytes read into
 * buf (up to cap; the rest is counted in *total but dropped). */
static size_t tn_read_until_eof(int fd, char *buf, size_t cap, size_t *total, int ms)
{
    size_t got = 0;
    char scratch[65536];
    double end = tn_now() + ms / 1000.0;
    *total = 0;
    for (;;) {
        uv_run(&tn.loop, UV_RUN_NOWAIT);
        ssize_t n = tn_read_some(fd, scratch, sizeof(scratch));
        if (n == 0)
            return got;
        if (n > 0) {
            size_t take = (size_t)n;
            if (got + take > cap)
                take = cap - got;
            memcpy(buf + got, scratch, take);
            got += take;
            *total += (size_t)n;
            continue;
        }
        if (tn_now() > end)
            fail_msg("no EOF within %d ms (%zu bytes read)", ms, *total);
        usleep(200);
    }
}

#endif
