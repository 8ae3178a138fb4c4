/*
 * test_conn.c - the plain-TCP transport on real loopback sockets: line
 * splitting, pause/resume, coalesced sends, the flush in slices, SendQ,
 * graceful close, IPv6, the memory of idle connections, and a clean loop
 * close after every test.
 */
#include <malloc.h>
#include <signal.h>
#include <sys/resource.h>

#include "net/linebuf.h"
#include "net/net_internal.h" /* NET_FLUSH_SLICE */
#include "net/testnet.h"

static bool tn_has_3_lines(void)
{
    return tn.nlines >= 3;
}

static void test_lines_byte_at_a_time(void **state)
{
    (void)state;
    tn_setup_limits(512, 65536, "127.0.0.1", NULL);
    int fd = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    assert_int_equal(tn.accepts, 1);
    assert_string_equal(tn.conn->ip, "127.0.0.1");
    assert_int_equal(tn.conn->local_port, tn.port);
    assert_false(tn.conn->tls);
    assert_string_equal(tn.conn->certfp, "");

    const char *in = "NICK a\r\nUSER b\n\r\n\n\rPING :x\r\n";
    for (const char *p = in; *p; p++) {
        tn_write_all(fd, p, 1);
        tn_pump(2);
    }
    assert_true(tn_pump_until(tn_has_3_lines, 2000));
    assert_int_equal(tn.nlines, 3);
    assert_string_equal(tn.lines[0], "NICK a");
    assert_string_equal(tn.lines[1], "USER b");
    assert_string_equal(tn.lines[2], "\rPING :x"); /* only a trailing CR is stripped */
    close(fd);
    assert_true(tn_pump_until(tn_has_close, 2000));
    assert_string_equal(tn.close_reason, "Remote host closed the connection");
    tn_teardown();
}

static bool tn_has_4_lines(void)
{
    return tn.nlines >= 4;
}

static void test_lines_one_chunk_crlf_and_lf(void **state)
{
    (void)state;
    tn_setup_limits(512, 65536, "127.0.0.1", NULL);
    int fd = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    const char *in = "A\r\nB\nC\rD\r\n\r\n\nE";
    tn_write_all(fd, in, strlen(in));
    tn_pump(50);
    assert_int_equal(tn.nlines, 3);
    assert_string_equal(tn.lines[2], "C\rD");
    tn_write_all(fd, "\r\n", 2);
    assert_true(tn_pump_until(tn_has_4_lines, 2000));
    assert_string_equal(tn.lines[3], "E");
    close(fd);
    tn_pump_until(tn_has_close, 2000);
    tn_teardown();
}

static void test_overlong_then_more_lines(void **state)
{
    (void)state;
    tn_setup_limits(16, 65536, "127.0.0.1", NULL);
    int fd = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    char big[200];
    memset(big, 'x', sizeof(big));

    /* one chunk: ok, overlong, ok */
    char buf[512];
    int n = snprintf(buf, sizeof(buf), "ok1\n%.40s\nok2\n", big);
    tn_write_all(fd, buf, (size_t)n);
    tn_pump(50);
    assert_int_equal(tn.overlongs, 1);
    assert_int_equal(tn.nlines, 2);
    assert_string_equal(tn.lines[1], "ok2");

    /* byte at a time: the partial buffer must not grow past line_max */
    for (int i = 0; i < 100; i++) {
        tn_write_all(fd, "y", 1);
        tn_pump(1);
    }
    tn_write_all(fd, "\r\nok3\r\n", 7);
    tn_pump(50);
    assert_int_equal(tn.overlongs, 2);
    assert_int_equal(tn.nlines, 3);
    assert_string_equal(tn.lines[2], "ok3");

    /* the boundary: exactly line_max is fine (with or without CR), one more is not */
    n = snprintf(buf, sizeof(buf), "%.16s\r\n%.16s\n%.17s\n%.16s", big, big, big, big);
    tn_write_all(fd, buf, (size_t)n);
    tn_pump(30);
    tn_write_all(fd, "\r", 1); /* partial of line_max+1 bytes: still acceptable */
    tn_pump(30);
    tn_write_all(fd, "\n", 1);
    tn_pump(50);
    assert_int_equal(tn.nlines, 6);
    assert_int_equal(tn.overlongs, 3);
    assert_int_equal(strlen(tn.lines[3]), 16);
    assert_int_equal(strlen(tn.lines[5]), 16);
    close(fd);
    tn_pump_until(tn_has_close, 2000);
    tn_teardown();
}

static bool tn_has_6_lines(void)
{
    return tn.nlines >= 6;
}

static void test_pause_resume_order(void **state)
{
    (void)state;
    tn_setup_limits(512, 65536, "127.0.0.1", NULL);
    tn.pause_on = "stop";
    tn.resume_in_callback = true;
    int fd = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    const char *in = "a\nstop\nb\nc";
    tn_write_all(fd, in, strlen(in));
    tn_pump(50);
    assert_int_equal(tn.nlines, 2);
    assert_string_equal(tn.lines[1], "stop");
    /* more input while paused stays in the kernel / the held buffer */
    tn_write_all(fd, "\nstop\nd\n", 8);
    tn_pump(50);
    assert_int_equal(tn.nlines, 2);

    conn_resume(tn.conn);
    assert_int_equal(tn.nlines, 2); /* never delivered from inside conn_resume */
    tn_pump(50);
    assert_int_equal(tn.nlines, 5); /* b, c, stop (pauses again) */
    assert_string_equal(tn.lines[2], "b");
    assert_string_equal(tn.lines[3], "c");
    assert_string_equal(tn.lines[4], "stop");
    conn_resume(tn.conn);
    conn_resume(tn.conn); /* twice is harmless */
    assert_true(tn_pump_until(tn_has_6_lines, 2000));
    assert_string_equal(tn.lines[5], "d");
    tn_write_all(fd, "e\n", 2);
    tn_pump(50);
    assert_int_equal(tn.nlines, 7);
    assert_string_equal(tn.lines[6], "e");
    close(fd);
    tn_pump_until(tn_has_close, 2000);
    tn_teardown();
}

static void test_sends_coalesced(void **state)
{
    (void)state;
    tn_setup_limits(512, 1 << 20, "127.0.0.1", NULL);
    int fd = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    struct conn *c = tn.conn;

    struct transport_stats before, after;
    transport_stats_get(&before);
    /* NET_IOV_MAX + 100 lines of a few bytes, every 50th followed by a
     * shared buffer: more buffers than one sendmsg takes as iovecs, few
     * enough bytes for the socket to take them all at once */
    enum { LINES = NET_IOV_MAX + 100, SHARED = (LINES + 49) / 50 };
    char expect[16384];
    size_t elen = 0;
    struct qbuf *shared = qbuf_new("shared\r\n", 8);
    for (int i = 0; i < LINES; i++) {
        char line[32];
        int n = snprintf(line, sizeof(line), "%d\n", i % 10);
        tn.close_from_send = true;
        assert_int_equal(conn_send_copy(c, line, (size_t)n), 0);
        if (i % 50 == 0)
            assert_int_equal(conn_send(c, shared), 0);
        tn.close_from_send = false;
        memcpy(expect + elen, line, (size_t)n);
        elen += (size_t)n;
        if (i % 50 == 0) {
            memcpy(expect + elen, "shared\r\n", 8);
            elen += 8;
        }
    }
    assert_int_equal(shared->refs, 1 + SHARED); /* ours + the queued references */
    assert_int_equal(c->sendq_bytes, elen);
    tn_pump(20);
    transport_stats_get(&after);
    /* all LINES + SHARED buffers copied into one segment: one system call,
     * not one per buffer (nor one per NET_IOV_MAX of them) */
    assert_int_equal(after.writes - before.writes, 1);
    assert_int_equal(after.async_writes, before.async_writes);
    assert_int_equal(c->sendq_bytes, 0);
    assert_int_equal(shared->refs, 1);
    qbuf_unref(shared);

    char got[16384];
    size_t glen = 0;
    while (glen < elen) {
        ssize_t n = tn_read_some(fd, got + glen, sizeof(got) - glen);
        assert_true(n != 0);
        if (n > 0)
            glen += (size_t)n;
        else
            tn_pump(2);
    }
    assert_int_equal(glen, elen);
    assert_memory_equal(got, expect, elen);
    close(fd);
    tn_pump_until(tn_has_close, 2000);
    tn_teardown();
}

/* Lines copied together and large buffers sent by reference keep their
 * order, across more bytes than the gather buffer holds and than the socket
 * takes at once (the rest goes to a queued write by reference). */
static void test_sends_mixed_sizes(void **state)
{
    (void)state;
    tn_setup_limits(512, 1 << 20, "127.0.0.1", NULL);
    int fd = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    struct conn *c = tn.conn;

    enum { LINES = 6000, BIG = NET_GATHER_COPY_MAX + 952, EVERY = 250 };
    static char expect[LINES * 40 + (LINES / EVERY) * BIG];
    size_t elen = 0;
    struct qbuf *big = NULL;
    {
        static char bigtext[BIG];
        memset(bigtext, 'B', BIG - 2);
        memcpy(bigtext + BIG - 2, "\r\n", 2);
        big = qbuf_new(bigtext, BIG);
    }
    struct transport_stats before, after;
    transport_stats_get(&before);
    for (int i = 0; i < LINES; i++) {
        char line[48];
        int n = snprintf(line, sizeof(line), "line %05d %27s\r\n", i, "");
        assert_int_equal(n, 40);
        tn.close_from_send = true;
        assert_int_equal(conn_send_copy(c, line, (size_t)n), 0);
        memcpy(expect + elen, line, (size_t)n);
        elen += (size_t)n;
        if (i % EVERY == EVERY - 1) {
            assert_int_equal(conn_send(c, big), 0);
            memcpy(expect + elen, big->data, BIG);
            elen += BIG;
        }
        tn.close_from_send = false;
    }
    assert_true(elen > 4 * NET_GBUF_SIZE);
    assert_int_equal(c->sendq_bytes, elen);

    static char got[sizeof expect];
    size_t glen = 0;
    for (int spins = 0; glen < elen && spins < 5000; spins++) {
        tn_pump(2);
        ssize_t n = tn_read_some(fd, got + glen, sizeof(got) - glen);
        assert_true(n != 0);
        if (n > 0)
            glen += (size_t)n;
    }
    transport_stats_get(&after);
    assert_int_equal(glen, elen);
    assert_memory_equal(got, expect, elen);
    assert_int_equal(c->sendq_bytes, 0);
    assert_int_equal(big->refs, 1);
    /* at most a gather buffer a call, and not one call per line */
    assert_true(after.writes - before.writes >= elen / NET_GBUF_SIZE / 2);
    assert_true(after.writes - before.writes < LINES / 10);
    qbuf_unref(big);
    close(fd);
    tn_pump_until(tn_has_close, 2000);
    tn_teardown();
}

/* A flush longer than NET_FLUSH_SLICE connections writes one slice per loop
 * iteration; a connection that dies while it waits for its turn (the peer
 * resets it; it is two slices away, so its close callback runs before the
 * flush gets there) stays allocated until the flush reaches it (ASan
 * checks), and everyone else still gets the line. */
#define TN_SLICED (2 * NET_FLUSH_SLICE + 20)
static void test_flush_in_slices(void **state)
{
    (void)state;
    tn_setup_limits(512, 1 << 20, "127.0.0.1", NULL);
    int fds[TN_SLICED];
    struct conn *cs[TN_SLICED];
    for (int i = 0; i < TN_SLICED; i++) {
        tn.conn = NULL;
        fds[i] = tn_connect();
        assert_true(tn_pump_until(tn_has_conn, 2000));
        cs[i] = tn.conn;
    }
    struct qbuf *line = qbuf_new("fan-out\r\n", 9);
    for (int i = 0; i < TN_SLICED; i++)
        assert_int_equal(conn_send(cs[i], line), 0);
    qbuf_unref(line);

    struct transport_stats before, after;
    transport_stats_get(&before);
    uv_run(&tn.loop, UV_RUN_NOWAIT);
    transport_stats_get(&after);
    assert_int_equal(after.writes - before.writes, NET_FLUSH_SLICE);

    /* the last connection is not flushed yet: its peer resets it */
    int victim = TN_SLICED - 1;
    assert_true(cs[victim]->sendq_bytes > 0);
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    assert_int_equal(setsockopt(fds[victim], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
    close(fds[victim]);
    assert_true(tn_pump_until(tn_has_close, 2000));
    tn_pump(20);
    transport_stats_get(&after);
    assert_int_equal(after.writes - before.writes, TN_SLICED - 1);
    assert_int_equal(conn_count(), TN_SLICED - 1);

    for (int i = 0; i < victim; i++) {
        char got[16];
        size_t glen = 0;
        while (glen < 9) {
            ssize_t n = tn_read_some(fds[i], got + glen, sizeof(got) - glen);
            assert_true(n != 0);
            if (n > 0)
                glen += (size_t)n;
            else
                tn_pump(2);
        }
        assert_int_equal(glen, 9);
        assert_memory_equal(got, "fan-out\r\n", 9);
        close(fds[i]);
    }
    tn_teardown();
}

static void test_sendq_exceeded(void **state)
{
    (void)state;
    const size_t sendq_max = 64 * 1024;
    tn_setup_limits(512, sendq_max, "127.0.0.1", NULL);
    int fd = tn_connect();
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    assert_true(tn_pump_until(tn_has_conn, 2000));
    struct conn *c = tn.conn;

    char line[1024];
    memset(line, 'z', sizeof(line));
    line[1022] = '\r';
    line[1023] = '\n';
    int refused = 0;
    for (int round = 0; round < 20000 && tn.closes == 0; round++) {
        for (int i = 0; i < 16 && tn.closes == 0; i++) {
            tn.close_from_send = true;
            if (conn_send_copy(c, line, sizeof(line)) < 0)
                refused++;
            tn.close_from_send = false;
            if (tn.closes == 0)
                assert_true(c->sendq_bytes <= sendq_max); /* invariant 1 */
        }
        tn_pump(1);
    }
    assert_int_equal(tn.closes, 1);
    assert_true(refused >= 1);
    assert_string_equal(tn.close_reason, "SendQ exceeded");
    tn_pump(20);
    assert_int_equal(conn_count(), 0);
    close(fd);
    tn_teardown();
}

static void test_graceful_close_delivers_queue(void **state)
{
    (void)state;
    const size_t total = 1 << 20;
    tn_setup_limits(512, 2 * total, "127.0.0.1", NULL);
    int fd = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    struct conn *c = tn.conn;

    char *expect = malloc(total);
    for (size_t i = 0; i < total; i++)
        expect[i] = (char)('a' + (i * 7 + i / 1000) % 26);
    for (size_t off = 0; off < total; off += 1000) {
        size_t n = total - off < 1000 ? total - off : 1000;
        assert_int_equal(conn_send_copy(c, expect + off, n), 0);
    }
    tn.close_from_send = true;
    conn_close(c, "Bye now");
    conn_close(c, "Second reason is ignored");
    assert_int_equal(conn_send_copy(c, "late", 4), -1);
    tn.close_from_send = false;
    assert_int_equal(tn.closes, 0); /* on_close comes from the loop */

    char *got = malloc(total);
    size_t count;
    size_t glen = tn_read_until_eof(fd, got, total, &count, 5000);
    assert_int_equal(count, total);
    assert_int_equal(glen, total);
    assert_memory_equal(got, expect, total);
    assert_int_equal(tn.closes, 1);
    assert_string_equal(tn.close_reason, "Bye now");
    tn_pump(20);
    assert_int_equal(conn_count(), 0);
    free(got);
    free(expect);
    close(fd);
    tn_teardown();
}

static void test_reject_in_on_accept(void **state)
{
    (void)state;
    tn_setup_limits(512, 65536, "127.0.0.1", NULL);
    tn.accept_greeting = "ERROR :Server full\r\n";
    tn.reject = true;
    int fd = tn_connect();
    tn_write_all(fd, "NICK x\r\n", 8);
    char buf[256];
    size_t total;
    size_t n = tn_read_until_eof(fd, buf, sizeof(buf) - 1, &total, 3000);
    buf[n] = '\0';
    assert_string_equal(buf, "ERROR :Server full\r\n");
    assert_int_equal(tn.accepts, 1);
    assert_int_equal(tn.closes, 1);
    assert_int_equal(tn.nlines, 0); /* a closing connection delivers no lines */
    assert_string_equal(tn.close_reason, "Server full");
    close(fd);
    tn_teardown();
}

static void test_reset_peer_no_sigpipe(void **state)
{
    (void)state;
    tn_setup_limits(512, 1 << 22, "127.0.0.1", NULL);
    int fd = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    struct conn *c = tn.conn;
    struct linger lg = {.l_onoff = 1, .l_linger = 0};
    setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
    close(fd); /* RST */
    char blob[4096];
    memset(blob, 'q', sizeof(blob));
    /* write into the reset socket: EPIPE/ECONNRESET, not a signal */
    for (int i = 0; i < 64 && tn.closes == 0; i++) {
        conn_send_copy(c, blob, sizeof(blob));
        tn_pump(2);
    }
    assert_true(tn_pump_until(tn_has_close, 2000));
    assert_int_equal(tn.closes, 1);
    tn_teardown();
}

static void test_ipv6_listener(void **state)
{
    (void)state;
    tn_setup_limits(512, 65536, "::1", NULL);
    int fd = tn_connect_addr("::1", tn.port);
    assert_true(tn_pump_until(tn_has_conn, 2000));
    assert_string_equal(tn.conn->ip, "::1");
    assert_int_equal(tn.conn->peer.ss_family, AF_INET6);
    tn_write_all(fd, "hello v6\r\n", 10);
    tn_pump(50);
    assert_int_equal(tn.nlines, 1);
    assert_string_equal(tn.lines[0], "hello v6");
    conn_send_copy(tn.conn, "hi\r\n", 4);
    tn_pump(20);
    char buf[16];
    assert_int_equal(tn_read_some(fd, buf, sizeof(buf)), 4);
    close(fd);
    tn_pump_until(tn_has_close, 2000);
    tn_teardown();
}

static void test_listener_errors(void **state)
{
    (void)state;
    char err[256];
    tn_setup_limits(512, 65536, "127.0.0.1", NULL);
    assert_true(listener_open("not-an-address", 0, NULL, err, sizeof(err)) < 0);
    assert_non_null(strstr(err, "not-an-address"));
    int r = listener_open("127.0.0.1", tn.port, NULL, err, sizeof(err));
    assert_int_equal(r, UV_EADDRINUSE);
    assert_non_null(strstr(err, "in use"));
    tn_teardown();
}

/* Shutdown with connections in every state: queued output, a partial
 * line, paused with held input. The loop must still close clean. */
static void test_shutdown_with_busy_connections(void **state)
{
    (void)state;
    tn_setup_limits(512, 1 << 20, "127.0.0.1", NULL);
    tn.pause_on = "stop";
    int fds[3];
    struct conn *cs[3];
    for (int i = 0; i < 3; i++) {
        tn.conn = NULL;
        fds[i] = tn_connect();
        assert_true(tn_pump_until(tn_has_conn, 2000));
        cs[i] = tn.conn;
    }
    tn_write_all(fds[0], "partial line", 12);
    tn_write_all(fds[1], "stop\nheld\nbytes", 15);
    char blob[65536];
    memset(blob, 'b', sizeof(blob));
    for (int i = 0; i < 8; i++)
        conn_send_copy(cs[2], blob, sizeof(blob));
    tn_pump(30);
    conn_send_copy(cs[0], "goodbye\r\n", 9);
    assert_int_equal(conn_count(), 3);
    tn_teardown(); /* shutdown: no on_close */
    assert_int_equal(tn.closes, 0);
    char buf[64];
    ssize_t n = recv(fds[0], buf, sizeof(buf), 0);
    assert_int_equal(n, 9); /* the goodbye was flushed once before closing */
    for (int i = 0; i < 3; i++)
        close(fds[i]);
}

static long tn_rss_bytes(void)
{
    long pages = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    assert_non_null(f);
    assert_int_equal(fscanf(f, "%ld %ld", &pages, &resident), 2);
    fclose(f);
    return resident * sysconf(_SC_PAGESIZE);
}

static int tn_mem_target;
static bool tn_all_accepted(void)
{
    return tn.accepts >= tn_mem_target;
}

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TN_ASAN 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define TN_ASAN 1
#endif
#ifdef TN_ASAN
#define TN_ASAN_NOTE " (ASan build: redzones inflate this)"
#else
#define TN_ASAN_NOTE ""
#endif

static void test_idle_memory(void **state)
{
    (void)state;
    enum { N = 2000 };
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * N + 100) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    assert_true(rl.rlim_cur >= 2 * N + 100);

    tn_setup_limits(512, 65536, "127.0.0.1", NULL);
    /* Warm up: one connection with traffic, so the shared buffers and
     * libuv's first allocations are not counted per connection. */
    int warm = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    tn_write_all(warm, "warm\r\n", 6);
    conn_send_copy(tn.conn, "x\r\n", 3);
    tn_pump(30);
    tn.count_only = true;
    tn.accept_greeting = ":qun 001 x :Welcome\r\n";
    malloc_trim(0);
    long before = tn_rss_bytes();

    static int fds[N];
    tn_mem_target = 1 + N;
    for (int i = 0; i < N; i++) {
        fds[i] = tn_connect();
        /* the second half also exchanged a line each way */
        if (i >= N / 2)
            tn_write_all(fds[i], "PING x\r\n", 8);
        if (i % 64 == 63)
            tn_pump(1);
    }
    assert_true(tn_pump_until(tn_all_accepted, 10000));
    tn_pump(50);
    assert_int_equal(conn_count(), N + 1);
    long after = tn_rss_bytes();
    double per = (double)(after - before) / N;
    print_message("idle plain-TCP connections: %d, RSS delta %ld bytes, %.0f bytes/conn%s\n", N,
                  after - before, per, TN_ASAN_NOTE);
#ifndef TN_ASAN
    assert_true(per <= 1024);
#endif
    for (int i = 0; i < N; i++)
        close(fds[i]);
    close(warm);
    tn_pump(200);
    tn_teardown();
}

static bool tn_guard_fired;
static void tn_on_guard(uv_timer_t *t)
{
    (void)t;
    tn_guard_fired = true;
}

/* Runs the loop in blocking mode for ms; returns the number of iterations.
 * A loop that spins (a readable listener we do not serve, an idle handle
 * left running) makes thousands; a quiet one makes a handful. */
static int tn_count_iterations(int ms)
{
    uv_timer_t guard;
    uv_timer_init(&tn.loop, &guard);
    tn_guard_fired = false;
    uv_timer_start(&guard, tn_on_guard, (uint64_t)ms, 0);
    int iterations = 0;
    while (!tn_guard_fired) {
        uv_run(&tn.loop, UV_RUN_ONCE);
        iterations++;
    }
    uv_close((uv_handle_t *)&guard, NULL);
    uv_run(&tn.loop, UV_RUN_NOWAIT);
    return iterations;
}

static bool tn_none_left(void)
{
    return conn_count() == 0;
}

static void test_idle_loop_blocks(void **state)
{
    (void)state;
    tn_setup_limits(512, 65536, "127.0.0.1", NULL);
    int fd = tn_connect();
    assert_true(tn_pump_until(tn_has_conn, 2000));
    tn_write_all(fd, "hi\r\n", 4);
    conn_send_copy(tn.conn, "hello\r\n", 7);
    tn_pump(30);
    int it = tn_count_iterations(300);
    assert_true(it <= 3);
    close(fd);
    tn_pump_until(tn_has_close, 2000);
    tn_teardown();
}

/* Peers that all leave at once: every one gets its on_close ("Remote host
 * closed the connection"), but no turn of the loop tears down more than
 * NET_FLUSH_SLICE of them, so the clients that stay are not held for the
 * whole teardown. */
static int tn_mass_target;
static bool tn_mass_accepted(void)
{
    return tn.accepts >= tn_mass_target;
}

static void test_mass_disconnect_in_slices(void **state)
{
    (void)state;
    enum { N = 4 * NET_FLUSH_SLICE + 37 };
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_cur < 2 * N + 100) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    assert_true(rl.rlim_cur >= 2 * N + 100);
    tn_setup_limits(512, 65536, "127.0.0.1", NULL);
    tn.count_only = true;
    static int fds[N];
    tn_mass_target = N;
    for (int i = 0; i < N; i++) {
        fds[i] = tn_connect();
        if (i % 64 == 63)
            tn_pump(1);
    }
    assert_true(tn_pump_until(tn_mass_accepted, 10000));
    int stay = tn_connect(); /* one client that stays */
    tn_mass_target = N + 1;
    assert_true(tn_pump_until(tn_mass_accepted, 2000));
    for (int i = 0; i < N; i++)
        close(fds[i]);
    usleep(50000); /* every FIN is in the kernel before the loop looks */

    int turns = 0, most = 0;
    double end = tn_now() + 10;
    while (tn.closes < N && tn_now() < end) {
        int before = tn.closes;
        uv_run(&tn.loop, UV_RUN_ONCE);
        turns++;
        if (tn.closes - before > most)
            most = tn.closes - before;
    }
    assert_int_equal(tn.closes, N);
    assert_string_equal(tn.close_reason, "Remote host closed the connection");
    assert_true(most <= NET_FLUSH_SLICE);
    assert_true(turns >= N / NET_FLUSH_SLICE);
    assert_int_equal(conn_count(), 1);
    close(stay);
    assert_true(tn_pump_until(tn_none_left, 2000));
    tn_teardown();
}

static bool tn_has_6_accepts(void)
{
    return tn.accepts >= 6;
}

static void test_emfile_pauses_accept(void **state)
{
    (void)state;
    tn_setup_limits(512, 65536, "127.0.0.1", NULL);
    int fds[6];
    int maxfd = 0;
    for (int i = 0; i < 6; i++) {
        fds[i] = tn_connect();
        if (fds[i] > maxfd)
            maxfd = fds[i];
    }
    /* Room for about two more descriptors (lowest free numbers are used,
     * so the exact count depends on holes left by earlier tests). */
    struct rlimit old, rl;
    getrlimit(RLIMIT_NOFILE, &old);
    rl = old;
    rl.rlim_cur = (rlim_t)maxfd + 3;
    assert_int_equal(setrlimit(RLIMIT_NOFILE, &rl), 0);
    tn_pump(100);
    int accepted = tn.accepts;
    if (accepted < 1 || accepted >= 6) {
        setrlimit(RLIMIT_NOFILE, &old);
        fail_msg("accepted %d of 6 under the lowered limit", accepted);
    }
    /* Four connections wait in the backlog; the loop must not spin on them. */
    int it = tn_count_iterations(600);
    setrlimit(RLIMIT_NOFILE, &old);
    assert_true(it < 20);
    assert_int_equal(tn.accepts, accepted);
    /* Accepting resumes by itself after the pause. */
    assert_true(tn_pump_until(tn_has_6_accepts, 2000));
    assert_int_equal(conn_count(), 6);
    for (int i = 0; i < 6; i++)
        close(fds[i]);
    tn_pump(50);
    tn_teardown();
}

static void test_linger_gives_up(void **state)
{
    (void)state;
    tn_setup_limits(512, 8 << 20, "127.0.0.1", NULL);
    transport_set_timeouts(20000, 300);
    int fd = tn_connect();
    int small = 4096;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    assert_true(tn_pump_until(tn_has_conn, 2000));
    static char blob[4 << 20];
    memset(blob, 'l', sizeof(blob));
    conn_send_copy(tn.conn, blob, sizeof(blob));
    conn_close(tn.conn, "Slow reader");
    tn_pump(30);
    assert_int_equal(tn.closes, 1); /* on_close at once, flushing goes on */
    assert_int_equal(conn_count(), 1);
    double start = tn_now();
    assert_true(tn_pump_until(tn_none_left, 3000));
    double took = tn_now() - start;
    assert_true(took > 0.15 && took < 1.5);
    close(fd);
    tn_teardown();
}

/* The splitter on its own: every chunking of the same input gives the same
 * lines (a deterministic cousin of fuzz/fuzz_net_linebuf.c). */
struct ls_out {
    char text[4096];
    size_t len;
    int overlong;
};

static bool ls_sink(void *ctx, enum linebuf_event ev, char *line, size_t len)
{
    struct ls_out *o = ctx;
    if (ev == LINEBUF_OVERLONG) {
        o->overlong++;
        o->text[o->len++] = '!';
        return true;
    }
    assert_int_equal(line[len], '\0');
    memcpy(o->text + o->len, line, len);
    o->len += len;
    o->text[o->len++] = '|';
    return true;
}

static void test_linebuf_chunkings(void **state)
{
    (void)state;
    const char *in = "ab\r\ncdefghij\n\r\n\nklmnopqrstuvwxyz0123\r\nxy\r\r\n0123456789\r\nz";
    size_t len = strlen(in);
    struct ls_out ref = {0};
    struct linebuf lb = {0};
    char copy[256];
    memcpy(copy, in, len);
    linebuf_feed(&lb, copy, len, 10, ls_sink, &ref);
    assert_int_equal(lb.len, 1); /* "z" */
    linebuf_clear(&lb);
    assert_string_equal(ref.text, "ab|cdefghij|!xy\r|0123456789|");
    for (size_t step = 1; step <= len; step++) {
        struct ls_out o = {0};
        for (size_t off = 0; off < len; off += step) {
            size_t n = len - off < step ? len - off : step;
            memcpy(copy, in + off, n);
            linebuf_feed(&lb, copy, n, 10, ls_sink, &o);
            assert_true(lb.cap <= 12);
        }
        assert_int_equal(o.len, ref.len);
        assert_memory_equal(o.text, ref.text, ref.len);
        linebuf_clear(&lb);
        assert_null(lb.buf);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_linebuf_chunkings),
        cmocka_unit_test(test_lines_byte_at_a_time),
        cmocka_unit_test(test_lines_one_chunk_crlf_and_lf),
        cmocka_unit_test(test_overlong_then_more_lines),
        cmocka_unit_test(test_pause_resume_order),
        cmocka_unit_test(test_sends_coalesced),
        cmocka_unit_test(test_sends_mixed_sizes),
        cmocka_unit_test(test_flush_in_slices),
        cmocka_unit_test(test_sendq_exceeded),
        cmocka_unit_test(test_graceful_close_delivers_queue),
        cmocka_unit_test(test_reject_in_on_accept),
        cmocka_unit_test(test_reset_peer_no_sigpipe),
        cmocka_unit_test(test_ipv6_listener),
        cmocka_unit_test(test_listener_errors),
        cmocka_unit_test(test_shutdown_with_busy_connections),
        cmocka_unit_test(test_idle_loop_blocks),
        cmocka_unit_test(test_emfile_pauses_accept),
        cmocka_unit_test(test_linger_gives_up),
        cmocka_unit_test(test_mass_disconnect_in_slices),
        cmocka_unit_test(test_idle_memory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
