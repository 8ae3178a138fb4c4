/*
 * qbench — load generator for the Qun benchmark (bench/run.sh drives it).
 *
 * Modes:
 *   qbench idle --port P --pid SERVERPID --clients N
 *       Connects and registers N clients (forking one process per ~5,000
 *       clients, each client bound to a source address 127.0.0.2.. so that no
 *       address carries more than --per-ip clients), then reads the server's
 *       VmRSS and reports the growth per client.
 *
 *   qbench dns --host 127.0.0.77 --port 53
 *       A stub resolver answering NXDOMAIN at once (see run_dns).
 *
 *   qbench fsync --dir DIR [--count N]
 *       The durable-write floor of DIR's file system: N times (default 2000)
 *       append 4 KiB to a scratch file and fdatasync() it; reports the
 *       p50/p99/max time of one append + fdatasync (see run_fsync).
 *
 *   qbench chan --port P --pid SERVERPID --channels C --members M --senders S
 *               [--full SECS --inflight K] [--rate MSGS_PER_S --lat SECS]
 *       C channels of M members each, S of the members of every channel send.
 *       Full-speed phase: each sender keeps at most K messages in flight, a
 *       message leaving the window only once every other member of its
 *       channel has received it (so the server's send queues stay bounded and
 *       a stalled or disconnected receiver shows up as lost messages, never as
 *       throughput).  Latency phase: messages are sent at a fixed total rate,
 *       round robin over the senders; each text carries the CLOCK_MONOTONIC
 *       send time and the receiver (the same process) records now - ts.
 *
 *   qbench soak --port P --ws-port W --pid SERVERPID --secs S --interval I
 *               --csv FILE [--qunctl PATH --ctl-socket SOCK] [load mix options]
 *       A steady mixed load for a long time (bench/soak.sh, `make soak`):
 *       idle clients, big and small groups with steady chat (some members
 *       over WebSocket), a churn of short connections, CHATHISTORY requests
 *       and qunctl calls; one CSV row per interval (see run_soak).
 *
 * Every figure is printed as one "RESULT key=value ..." line on stdout;
 * progress and warnings go to stderr.
 *
 * Message text format: "<phase> <ts_us> <sender> <seq> <padding>", where
 * phase is F (full speed) or L (latency).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define RBUF_SIZE    (1 << 20)
#define MAX_EVENTS   1024
#define MAX_INFLIGHT 1024
#define PER_PROC_MAX 5000
#define TIMER_TAG    UINT64_MAX

/* ---------- options ---------- */

static const char *opt_host = "127.0.0.1";
static int opt_port = 6667;
static int opt_pid = 0;
static int opt_clients = 1000;
static int opt_per_ip = 500;
static int opt_window = 1000; /* connections registering at once, per process */
static int opt_setup_timeout = 120;
static int opt_channels = 1;
static int opt_members = 100;
static int opt_senders = 10; /* per channel */
static double opt_full = 5.0;
static int opt_inflight = 16;
static double opt_rate = 0; /* messages per second, latency phase */
static double opt_lat = 0;
static int opt_textlen = 64;
static const char *opt_label = "";
static int opt_server_cpu = -1; /* core the server is pinned to, for the contention figure */
static int opt_ws_port = 0;     /* soak: the web listener (IRC over WebSocket at /irc) */

/* ---------- utilities ---------- */

static void usage(void);

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "qbench: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
    exit(2);
}

static void note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "qbench[%d]: ", (int)getpid());
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, "\n");
    va_end(ap);
}

/* Server CPU time (utime + stime, all threads) in seconds, or -1. */
static double server_cpu(void)
{
    char path[64], buf[4096];
    if (opt_pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/stat", opt_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    char *p = strrchr(buf, ')'); /* comm may contain spaces */
    if (!p)
        return -1;
    p += 2;
    /* p now at field 3 (state); utime is field 14, stime 15 */
    unsigned long long ut = 0, st = 0;
    int field = 3;
    char *save = NULL;
    for (char *tok = strtok_r(p, " ", &save); tok; tok = strtok_r(NULL, " ", &save), field++) {
        if (field == 14)
            ut = strtoull(tok, NULL, 10);
        else if (field == 15) {
            st = strtoull(tok, NULL, 10);
            break;
        }
    }
    return (double)(ut + st) / (double)sysconf(_SC_CLK_TCK);
}

/* A field of the server's /proc/PID/status in KiB ("VmRSS:"), or -1. */
static long server_status_kb(const char *key)
{
    char path[64], line[256];
    long kb = -1;
    size_t kl = strlen(key);
    if (opt_pid <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%d/status", opt_pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl)) {
            kb = strtol(line + kl, NULL, 10);
            break;
        }
    fclose(f);
    return kb;
}

/* Server VmRSS in KiB, or -1. */
static long server_rss_kb(void)
{
    return server_status_kb("VmRSS:");
}

/* Of core opt_server_cpu, in seconds (-1 if unknown): its busy time (all
   but idle and iowait) and its steal time (taken by the host of a virtual
   machine, in which nothing on the core ran). Busy minus the server's own
   CPU time is what other processes (and interrupt work) took from the
   server's core. */
static void core_times(double *busy, double *steal)
{
    char want[16], line[512];
    *busy = *steal = -1;
    if (opt_server_cpu < 0)
        return;
    snprintf(want, sizeof want, "cpu%d ", opt_server_cpu);
    FILE *f = fopen("/proc/stat", "r");
    if (!f)
        return;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, want, strlen(want)))
            continue;
        unsigned long long v[10] = {0};
        sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
               &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
        unsigned long long total = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
        *busy = (double)total / (double)sysconf(_SC_CLK_TCK);
        *steal = (double)v[7] / (double)sysconf(_SC_CLK_TCK);
        break;
    }
    fclose(f);
}

static double core_busy(void)
{
    double busy, steal;
    core_times(&busy, &steal);
    return busy;
}

/* Percentage of wall time [b0,b1] x secs that the server core spent on
   anything but the server. */
static double other_pct(double b0, double b1, double cpu, double secs)
{
    if (b0 < 0 || b1 < 0 || secs <= 0)
        return -1;
    double o = (b1 - b0 - cpu) / secs * 100.0;
    return o < 0 ? 0 : o;
}

/* ---------- connections ---------- */

enum { C_FREE, C_CONNECTING, C_REGISTERING, C_REGISTERED, C_JOINED, C_DEAD };
enum { K_STEADY, K_CHURN };

struct conn {
    int fd;
    int idx;    /* global client number: nick is b<idx> */
    int chan;   /* channel number, -1 for none */
    int sender; /* sender number, -1 if only a receiver */
    uint8_t state;
    uint8_t epout;    /* EPOLLOUT currently requested */
    uint8_t kind;     /* K_STEADY or K_CHURN (soak) */
    uint8_t ws;       /* speaks IRC over WebSocket (soak) */
    uint8_t ws_hs;    /* WebSocket: waiting for the 101 answer */
    uint8_t batch;    /* requests CAP batch at registration (soak: CHATHISTORY) */
    uint8_t quitting; /* soak churn: QUIT sent, a close is expected */
    uint64_t t_open;  /* soak: when the connection was opened (us) */
    uint64_t hist_t0; /* soak: when its CHATHISTORY request left (us), 0 if none */
    uint32_t plen, pcap;
    char *partial; /* incomplete line carried between reads */
    uint32_t olen, ocap;
    char *out; /* bytes the kernel did not take yet */
};

struct sender {
    int conn;
    int chan;
    uint32_t need; /* deliveries per message: members of the channel - 1 */
    uint32_t sent, acked;
    uint8_t dirty;
    uint32_t *ring; /* per in-flight message: deliveries seen */
};

static int epfd;
static struct conn *conns;
static int nconns;
static int open_top;  /* open_more() opens conns[next_conn .. open_top) */
static int conn_base; /* global index of conns[0] */
static struct sender *senders;
static int nsenders;
static int *dirty_list;
static int ndirty;
static char *rbuf;

/* counters */
static long n_registered, n_failed, n_joined, n_dead, n_dead_after_setup;
static int pending;   /* connects / registrations under way */
static int next_conn; /* next conns[] slot to open */
static int setup_done;
static long errors_shown;
static long errors_max = 5;
/* soak: members present per channel, churn outcomes, error replies seen */
static int *chan_count;
static long churn_ok, churn_fail, n_errnum, n_fail_lines;
static uint64_t bytes_in;
static uint64_t last_rx_us;

/* phase accounting */
enum { PH_SETUP, PH_FULL, PH_DRAIN, PH_LAT, PH_LATDRAIN };
static int phase = PH_SETUP;
static int full_sending;
static uint64_t full_delivered, full_expected, full_last_us, full_bad;
static uint64_t lat_delivered, lat_expected;
static uint32_t *lat_samples;
static size_t lat_n, lat_cap;

static void ep_mod(struct conn *c, int want_out)
{
    if (c->epout == want_out)
        return;
    struct epoll_event ev = {.events = EPOLLIN | (want_out ? EPOLLOUT : 0),
                             .data.u64 = (uint64_t)(c - conns)};
    if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
        c->epout = want_out;
}

static void conn_kill(struct conn *c, const char *why)
{
    if (c->state == C_DEAD || c->state == C_FREE)
        return;
    int was_pending = c->state == C_CONNECTING || c->state == C_REGISTERING;
    int expected = c->kind == K_CHURN && c->quitting;
    if (was_pending)
        pending--;
    if (c->kind == K_CHURN) {
        if (expected)
            churn_ok++;
        else
            churn_fail++;
    } else if (was_pending) {
        n_failed++;
    } else {
        n_dead++;
        if (setup_done)
            n_dead_after_setup++;
        if (c->state == C_JOINED && c->chan >= 0 && chan_count)
            chan_count[c->chan]--;
    }
    if (!expected && errors_shown < errors_max) {
        errors_shown++;
        note("client b%d closed: %s", c->idx, why);
    }
    epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    /* a churn slot is opened again by the next cycle */
    c->state = c->kind == K_CHURN ? C_FREE : C_DEAD;
    c->olen = c->plen = 0;
    c->quitting = c->ws_hs = 0;
    c->hist_t0 = 0;
}

static void out_append(struct conn *c, const char *p, size_t n)
{
    if (c->olen + n > c->ocap) {
        uint32_t cap = c->ocap ? c->ocap : 512;
        while (cap < c->olen + n)
            cap *= 2;
        c->out = realloc(c->out, cap);
        if (!c->out)
            die("out of memory");
        c->ocap = cap;
    }
    memcpy(c->out + c->olen, p, n);
    c->olen += n;
}

static void conn_flush(struct conn *c)
{
    while (c->olen) {
        ssize_t w = send(c->fd, c->out, c->olen, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN)
                break;
            conn_kill(c, strerror(errno));
            return;
        }
        memmove(c->out, c->out + w, c->olen - (size_t)w);
        c->olen -= (uint32_t)w;
    }
    ep_mod(c, c->olen > 0);
}

static void conn_send_raw(struct conn *c, const char *p, size_t n)
{
    if (c->state == C_DEAD || c->state == C_FREE)
        return;
    if (c->olen == 0 && c->state != C_CONNECTING) {
        for (;;) {
            ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);
            if (w < 0) {
                if (errno == EINTR)
                    continue;
                if (errno == EAGAIN)
                    break;
                conn_kill(c, strerror(errno));
                return;
            }
            p += w;
            n -= (size_t)w;
            if (!n)
                return;
        }
    }
    out_append(c, p, n);
    ep_mod(c, 1);
}

/* Sends IRC lines; over WebSocket each line becomes one masked text frame
   (mask key 0: valid, and the payload stays as it is). */
static void conn_send(struct conn *c, const char *p, size_t n)
{
    if (!c->ws) {
        conn_send_raw(c, p, n);
        return;
    }
    char fr[4096];
    size_t fl = 0;
    const char *end = p + n;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        size_t len = (size_t)(le - p);
        if (len && p[len - 1] == '\r')
            len--;
        if (fl + len + 8 > sizeof fr) {
            conn_send_raw(c, fr, fl);
            fl = 0;
        }
        if (len + 8 > sizeof fr)
            die("line too long for a WebSocket frame");
        fr[fl++] = (char)0x81; /* FIN, text */
        if (len < 126) {
            fr[fl++] = (char)(0x80 | len);
        } else {
            fr[fl++] = (char)(0x80 | 126);
            fr[fl++] = (char)(len >> 8);
            fr[fl++] = (char)(len & 0xff);
        }
        memset(fr + fl, 0, 4); /* mask key */
        fl += 4;
        memcpy(fr + fl, p, len);
        fl += len;
        p = nl ? nl + 1 : end;
    }
    if (fl)
        conn_send_raw(c, fr, fl);
}

/* The registration a client sends (after the WebSocket upgrade, if any). */
static int reg_text(const struct conn *c, char *buf, size_t cap)
{
    if (c->batch)
        return snprintf(buf, cap, "CAP REQ :batch\r\nNICK b%d\r\nUSER u 0 * :r\r\nCAP END\r\n",
                        c->idx);
    return snprintf(buf, cap, "NICK b%d\r\nUSER u 0 * :r\r\n", c->idx);
}

/* Opens connection slot i (non-blocking), queueing NICK/USER. */
static void conn_open(int i)
{
    struct conn *c = &conns[i];
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        c->state = C_DEAD;
        n_failed++;
        if (errors_shown++ < 5)
            note("socket: %s", strerror(errno));
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
    struct sockaddr_in src = {.sin_family = AF_INET};
    int host = 2 + c->idx / opt_per_ip;
    if (host > 254)
        host = 254;
    src.sin_addr.s_addr = htonl((127u << 24) | (uint32_t)host);
    if (c->kind == K_CHURN) {
        /* soak churn: a source address of its own per cycle (127.200.x.y, from
           a per-run offset), so that a new connection never reuses the
           4-tuple of one the server closed less than a minute ago: a SYN
           that meets the server's TIME_WAIT can be refused (PAWS) and then
           waits for SYN retransmissions */
        static uint32_t churn_base;
        if (!churn_base)
            churn_base = 1 + (uint32_t)(getpid() * 7919u) % 64000u;
        uint32_t u = (churn_base + (uint32_t)c->idx) % 64000u;
        src.sin_addr.s_addr =
            htonl((127u << 24) | (200u << 16) | ((u / 250u) << 8) | (1u + u % 250u));
    }
    if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 && errors_shown++ < 5)
        note("bind 127.0.0.%d: %s", host, strerror(errno));
    int dport = c->ws ? opt_ws_port : opt_port;
    struct sockaddr_in dst = {.sin_family = AF_INET, .sin_port = htons((uint16_t)dport)};
    inet_pton(AF_INET, opt_host, &dst.sin_addr);
    if (connect(fd, (struct sockaddr *)&dst, sizeof dst) < 0 && errno != EINPROGRESS) {
        if (errors_shown++ < 5)
            note("connect: %s", strerror(errno));
        close(fd);
        c->state = C_DEAD;
        n_failed++;
        return;
    }
    c->fd = fd;
    c->state = C_CONNECTING;
    c->epout = 1;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)i};
    if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        die("epoll_ctl: %s", strerror(errno));
    char reg[256];
    int n;
    if (c->ws) {
        c->ws_hs = 1;
        n = snprintf(reg, sizeof reg,
                     "GET /irc HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: text.ircv3.net\r\n\r\n",
                     opt_host, opt_ws_port);
    } else {
        n = reg_text(c, reg, sizeof reg);
    }
    out_append(c, reg, (size_t)n);
    c->t_open = now_us();
    pending++;
}

static void open_more(void)
{
    while (next_conn < open_top && pending < opt_window)
        conn_open(next_conn++);
}

/* ---------- sending channel messages ---------- */

static int fmt_msg(char *buf, size_t cap, int chan, char ph, uint64_t ts, int s, uint32_t q)
{
    int n = snprintf(buf, cap, "PRIVMSG #c%d :%c %" PRIu64 " %d %u ", chan, ph, ts, s, q);
    int textstart = (int)(strchr(buf, ':') - buf) + 1;
    while (n - textstart < opt_textlen && (size_t)n < cap - 3)
        buf[n++] = 'x';
    buf[n++] = '\r';
    buf[n++] = '\n';
    return n;
}

/* Full speed: top up the sender's window to --inflight messages. */
static void sender_fill(int s)
{
    struct sender *sd = &senders[s];
    struct conn *c = &conns[sd->conn];
    if (!full_sending || c->state != C_JOINED)
        return;
    char buf[64 * 1024];
    size_t len = 0;
    uint64_t ts = now_us();
    while (sd->sent - sd->acked < (uint32_t)opt_inflight && len + 256 < sizeof buf) {
        len += (size_t)fmt_msg(buf + len, sizeof buf - len, sd->chan, 'F', ts, s, sd->sent);
        sd->sent++;
        full_expected += sd->need;
    }
    if (len)
        conn_send(c, buf, len);
}

static void sender_advance(int s)
{
    struct sender *sd = &senders[s];
    uint32_t k = (uint32_t)opt_inflight;
    while (sd->acked < sd->sent && sd->ring[sd->acked % k] >= sd->need) {
        sd->ring[sd->acked % k] = 0;
        sd->acked++;
    }
    if (!sd->dirty && full_sending) {
        sd->dirty = 1;
        dirty_list[ndirty++] = s;
    }
}

static void flush_dirty(void)
{
    for (int i = 0; i < ndirty; i++) {
        senders[dirty_list[i]].dirty = 0;
        sender_fill(dirty_list[i]);
    }
    ndirty = 0;
}

static void lat_push(uint32_t v)
{
    if (lat_n == lat_cap) {
        lat_cap = lat_cap ? lat_cap * 2 : 1 << 16;
        lat_samples = realloc(lat_samples, lat_cap * sizeof *lat_samples);
        if (!lat_samples)
            die("out of memory");
    }
    lat_samples[lat_n++] = v;
}

/* ---------- parsing what the server sends ---------- */

static inline uint64_t parse_u64(const char **pp, const char *end)
{
    const char *p = *pp;
    uint64_t v = 0;
    while (p < end && *p >= '0' && *p <= '9')
        v = v * 10 + (uint64_t)(*p++ - '0');
    if (p < end && *p == ' ')
        p++;
    *pp = p;
    return v;
}

/* soak figures, see run_soak */
static uint64_t soak_delivered, hist_lines, hist_done;
static uint32_t *hist_samples;
static size_t hist_n, hist_cap;
static void churn_joined(struct conn *c);

static void on_privmsg(const char *text, const char *end, uint64_t now)
{
    if (end - text < 4 || text[1] != ' ') {
        full_bad++;
        return;
    }
    char ph = text[0];
    const char *p = text + 2;
    uint64_t ts = parse_u64(&p, end);
    uint64_t s = parse_u64(&p, end);
    uint64_t q = parse_u64(&p, end);
    if (s >= (uint64_t)nsenders) {
        full_bad++;
        return;
    }
    if (ph == 'F') {
        full_delivered++;
        full_last_us = now;
        struct sender *sd = &senders[s];
        uint32_t k = (uint32_t)opt_inflight;
        if (q >= sd->acked && q < sd->sent && q < (uint64_t)sd->acked + k) {
            if (++sd->ring[q % k] >= sd->need && q == sd->acked)
                sender_advance((int)s);
        }
    } else if (ph == 'L') {
        lat_delivered++;
        lat_push(now > ts ? (uint32_t)(now - ts) : 0);
    } else if (ph == 'S') {
        soak_delivered++;
        lat_push(now > ts ? (uint32_t)(now - ts) : 0);
    } else
        full_bad++;
}

/* An error numeric or FAIL line, shown for the first errors_max of them. */
static void note_error_line(const struct conn *c, const char *line, const char *end)
{
    if (errors_shown < errors_max) {
        errors_shown++;
        note("b%d got: %.*s", c->idx, (int)(end - line), line);
    }
}

static void on_line(struct conn *c, char *line, size_t len, uint64_t now)
{
    char *end = line + len;
    if (len && end[-1] == '\r')
        end--;
    char *p = line;
    int hist = 0;               /* a line of a CHATHISTORY batch (only those carry tags here) */
    if (p < end && *p == '@') { /* message tags: skip */
        char *sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp)
            return;
        hist = memmem(p, (size_t)(sp - p), "batch=", 6) != NULL;
        p = sp + 1;
    }
    if (p < end && *p == ':') {
        char *sp = memchr(p, ' ', (size_t)(end - p));
        if (!sp)
            return;
        p = sp + 1;
    }
    size_t rest = (size_t)(end - p);
    if (rest >= 8 && !memcmp(p, "PRIVMSG ", 8)) {
        if (hist || c->kind == K_CHURN) {
            hist_lines += hist;
            return;
        }
        char *t = memchr(p + 8, ' ', rest - 8);
        if (t && t + 1 < end && t[1] == ':')
            on_privmsg(t + 2, end, now);
        return;
    }
    if (rest >= 4 && p[0] >= '0' && p[0] <= '9' && p[3] == ' ') {
        if (!memcmp(p, "001", 3)) {
            if (c->state == C_REGISTERING || c->state == C_CONNECTING) {
                c->state = C_REGISTERED;
                pending--;
                n_registered++;
                if (c->chan >= 0) {
                    char j[32];
                    int n = snprintf(j, sizeof j, "JOIN #c%d\r\n", c->chan);
                    conn_send(c, j, (size_t)n);
                }
            }
        } else if (!memcmp(p, "366", 3)) {
            if (c->state == C_REGISTERED) {
                c->state = C_JOINED;
                n_joined++;
                if (c->kind == K_CHURN)
                    churn_joined(c);
            }
        } else if (p[0] == '4' || p[0] == '5') {
            n_errnum++;
            note_error_line(c, line, end);
        }
        return;
    }
    if (rest >= 7 && !memcmp(p, "BATCH -", 7)) {
        if (c->hist_t0) {
            if (hist_n == hist_cap) {
                hist_cap = hist_cap ? hist_cap * 2 : 1024;
                hist_samples = realloc(hist_samples, hist_cap * sizeof *hist_samples);
                if (!hist_samples)
                    die("out of memory");
            }
            hist_samples[hist_n++] = now > c->hist_t0 ? (uint32_t)(now - c->hist_t0) : 0;
            hist_done++;
            c->hist_t0 = 0;
        }
        if (c->kind == K_CHURN && !c->quitting) {
            c->quitting = 1;
            conn_send(c, "QUIT :soak\r\n", 12);
        }
        return;
    }
    if (rest >= 5 && !memcmp(p, "FAIL ", 5)) {
        n_fail_lines++;
        note_error_line(c, line, end);
        return;
    }
    if (rest >= 5 && !memcmp(p, "PING ", 5)) {
        char pong[600];
        size_t n = rest - 5 > 500 ? 500 : rest - 5;
        memcpy(pong, "PONG ", 5);
        memcpy(pong + 5, p + 5, n);
        memcpy(pong + 5 + n, "\r\n", 2);
        conn_send(c, pong, n + 7);
        return;
    }
    if (rest >= 6 && !memcmp(p, "ERROR ", 6)) {
        char why[200];
        snprintf(why, sizeof why, "%.*s", (int)rest, p);
        conn_kill(c, why);
    }
}

static void conn_read(struct conn *c)
{
    size_t have = c->plen;
    if (have)
        memcpy(rbuf, c->partial, have);
    ssize_t r = recv(c->fd, rbuf + have, RBUF_SIZE - have, 0);
    if (r < 0) {
        if (errno == EAGAIN || errno == EINTR)
            return;
        conn_kill(c, strerror(errno));
        return;
    }
    if (r == 0) {
        conn_kill(c, "connection closed by server");
        return;
    }
    uint64_t now = now_us();
    bytes_in += (uint64_t)r;
    last_rx_us = now;
    size_t total = have + (size_t)r;
    char *p = rbuf, *end = rbuf + total;
    if (c->ws) {
        if (c->ws_hs) { /* the HTTP answer to the upgrade */
            char *eoh = memmem(p, total, "\r\n\r\n", 4);
            if (!eoh) {
                if (total > 8192) {
                    conn_kill(c, "WebSocket handshake answer too long");
                    return;
                }
                goto keep;
            }
            if (total < 12 || memcmp(p + 9, "101", 3)) {
                conn_kill(c, "WebSocket upgrade refused");
                return;
            }
            c->ws_hs = 0;
            p = eoh + 4;
            char reg[256];
            int n = reg_text(c, reg, sizeof reg);
            conn_send(c, reg, (size_t)n);
        }
        /* server frames: unmasked, unfragmented, one IRC line each */
        while (end - p >= 2) {
            unsigned op = (unsigned char)p[0] & 0x0f;
            uint64_t len = (unsigned char)p[1] & 0x7f;
            size_t hl = 2;
            if (len == 126) {
                if (end - p < 4)
                    break;
                len = ((uint64_t)(unsigned char)p[2] << 8) | (unsigned char)p[3];
                hl = 4;
            } else if (len == 127) {
                if (end - p < 10)
                    break;
                len = 0;
                for (int k = 2; k < 10; k++)
                    len = (len << 8) | (unsigned char)p[k];
                hl = 10;
            }
            if ((uint64_t)(end - p) < hl + len)
                break;
            char *pl = p + hl;
            p += hl + len;
            if (op == 1 || op == 2) {
                on_line(c, pl, (size_t)len, now);
                if (c->state == C_DEAD || c->state == C_FREE)
                    return;
            } else if (op == 8) {
                conn_kill(c, "WebSocket close from the server");
                return;
            }
        }
        goto keep;
    }
    for (;;) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            break;
        on_line(c, p, (size_t)(nl - p), now);
        if (c->state == C_DEAD || c->state == C_FREE)
            return;
        p = nl + 1;
    }
keep:;
    size_t left = (size_t)(end - p);
    if (left > 65536)
        left = 0; /* absurd line: drop it */
    if (left > c->pcap) {
        c->partial = realloc(c->partial, left < 1024 ? 1024 : left);
        if (!c->partial)
            die("out of memory");
        c->pcap = left < 1024 ? 1024 : (uint32_t)left;
    }
    if (left)
        memcpy(c->partial, p, left);
    c->plen = (uint32_t)left;
}

static volatile sig_atomic_t got_stop;
static int timer_fd = -1;
static void (*on_timer)(void);
#define CHILD_TAG (UINT64_MAX - 16) /* + child slot */
static void child_readable(int k);

/* One round of the event loop: at most timeout_ms of waiting. */
static void loop_once(int timeout_ms)
{
    static struct epoll_event evs[MAX_EVENTS];
    int n = epoll_wait(epfd, evs, MAX_EVENTS, timeout_ms);
    if (n < 0) {
        if (errno == EINTR)
            return;
        die("epoll_wait: %s", strerror(errno));
    }
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == TIMER_TAG) {
            uint64_t exp;
            if (read(timer_fd, &exp, sizeof exp) > 0 && on_timer)
                on_timer();
            continue;
        }
        if (evs[i].data.u64 >= CHILD_TAG) {
            child_readable((int)(evs[i].data.u64 - CHILD_TAG));
            continue;
        }
        struct conn *c = &conns[evs[i].data.u64];
        if (c->state == C_DEAD || c->state == C_FREE)
            continue;
        uint32_t e = evs[i].events;
        if (c->state == C_CONNECTING && (e & (EPOLLOUT | EPOLLERR | EPOLLHUP))) {
            int err = 0;
            socklen_t el = sizeof err;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &el);
            if (err) {
                conn_kill(c, strerror(err));
                continue;
            }
            c->state = C_REGISTERING;
        }
        if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
            conn_read(c);
        if (c->state != C_DEAD && (e & EPOLLOUT))
            conn_flush(c);
    }
    if (ndirty)
        flush_dirty();
    if (!setup_done)
        open_more();
}

/* Runs the loop until nothing has been received for quiet_ms (or max_ms). */
static void wait_quiet(int quiet_ms, int max_ms)
{
    uint64_t start = now_us();
    last_rx_us = start;
    while (!got_stop) {
        loop_once(20);
        uint64_t now = now_us();
        if (now - last_rx_us >= (uint64_t)quiet_ms * 1000u)
            break;
        if (now - start >= (uint64_t)max_ms * 1000u)
            break;
    }
}

/* Waits until the server's CPU rests (under 2 ms in a 200 ms window), at
 * most max_ms, and returns the CPU seconds it used meanwhile: the work a
 * server put off past a full-speed phase (a log applied or copied later)
 * belongs to that phase, or a server that defers looks cheaper than one
 * that does not. The generator keeps reading (nothing is sent). */
static double server_settle(int max_ms)
{
    double first = server_cpu(), last = first;
    if (first < 0)
        return 0;
    uint64_t start = now_us(), window = start;
    while (!got_stop && now_us() - start < (uint64_t)max_ms * 1000u) {
        loop_once(20);
        if (now_us() - window < 200000u)
            continue;
        double c = server_cpu();
        window = now_us();
        if (c - last < 0.002)
            break;
        last = c;
    }
    double end = server_cpu();
    return end > first ? end - first : 0;
}

static void alloc_conns(int n, int base)
{
    nconns = n;
    open_top = n;
    conn_base = base;
    conns = calloc((size_t)n, sizeof *conns);
    rbuf = malloc(RBUF_SIZE);
    if (!conns || !rbuf)
        die("out of memory");
    for (int i = 0; i < n; i++) {
        conns[i].fd = -1;
        conns[i].idx = base + i;
        conns[i].chan = -1;
        conns[i].sender = -1;
    }
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        die("epoll_create1: %s", strerror(errno));
}

/* Connects and registers every slot (and joins when chan >= 0); returns seconds taken. */
static double setup_clients(int need_join)
{
    uint64_t t0 = now_us();
    uint64_t deadline = t0 + (uint64_t)opt_setup_timeout * 1000000u;
    uint64_t last_note = t0;
    open_more();
    while (!got_stop) {
        long done = n_registered + n_failed;
        if (next_conn >= open_top && pending == 0) {
            if (!need_join || n_joined + n_dead >= n_registered)
                break;
        }
        (void)done;
        uint64_t now = now_us();
        if (now > deadline) {
            note("setup timed out: %ld registered, %ld joined, %d pending", n_registered, n_joined,
                 pending);
            break;
        }
        if (now - last_note > 5000000u) {
            last_note = now;
            note("setup: %ld/%d registered, %ld joined, %ld failed", n_registered, nconns, n_joined,
                 n_failed);
        }
        loop_once(50);
    }
    /* anything still connecting or registering counts as failed */
    for (int i = 0; i < nconns; i++)
        if (conns[i].state == C_CONNECTING || conns[i].state == C_REGISTERING)
            conn_kill(&conns[i], "setup timeout");
    return (double)(now_us() - t0) / 1e6;
}

/* ---------- idle mode ---------- */

static void on_term(int sig)
{
    (void)sig;
    got_stop = 1;
}

static int run_idle(void)
{
    int n = opt_clients;
    int procs = (n + PER_PROC_MAX - 1) / PER_PROC_MAX;
    if (procs < 1)
        procs = 1;
    long rss0 = server_rss_kb();
    double cpu0 = server_cpu();
    uint64_t t0 = now_us();
    pid_t pids[64];
    int rfd[64];
    if (procs > 64)
        die("too many clients");
    for (int k = 0; k < procs; k++) {
        int base = (int)((long)n * k / procs), top = (int)((long)n * (k + 1) / procs);
        int pfd[2];
        if (pipe(pfd) < 0)
            die("pipe: %s", strerror(errno));
        pid_t pid = fork();
        if (pid < 0)
            die("fork: %s", strerror(errno));
        if (pid == 0) {
            close(pfd[0]);
            signal(SIGTERM, on_term);
            alloc_conns(top - base, base);
            setup_clients(0);
            setup_done = 1;
            char msg[64];
            int m =
                snprintf(msg, sizeof msg, "%ld %ld\n", n_registered - n_dead, n_failed + n_dead);
            if (write(pfd[1], msg, (size_t)m) < 0)
                _exit(3);
            /* hold the clients, answering PINGs, until the parent is done */
            while (!got_stop)
                loop_once(200);
            _exit(0);
        }
        close(pfd[1]);
        pids[k] = pid;
        rfd[k] = pfd[0];
    }
    long reg = 0, fail = 0;
    for (int k = 0; k < procs; k++) {
        char buf[64] = {0};
        ssize_t r = read(rfd[k], buf, sizeof buf - 1);
        long a = 0, b = 0;
        if (r > 0)
            sscanf(buf, "%ld %ld", &a, &b);
        else
            note("worker %d reported nothing", k);
        reg += a;
        fail += b;
        close(rfd[k]);
    }
    double secs = (double)(now_us() - t0) / 1e6;
    double cpu1 = server_cpu();
    usleep(1000 * 1000); /* let the server settle: lazily freed buffers, timers */
    long rss1 = server_rss_kb();
    for (int k = 0; k < procs; k++)
        kill(pids[k], SIGTERM);
    for (int k = 0; k < procs; k++)
        waitpid(pids[k], NULL, 0);
    double per = reg > 0 ? (double)(rss1 - rss0) * 1024.0 / (double)reg : 0;
    printf("RESULT mode=idle label=%s clients=%d registered=%ld failed=%ld procs=%d secs=%.2f "
           "reg_per_s=%.0f rss_before_kb=%ld rss_after_kb=%ld bytes_per_client=%.0f "
           "cpu_s=%.2f\n",
           opt_label, n, reg, fail, procs, secs, secs > 0 ? (double)reg / secs : 0, rss0, rss1, per,
           cpu1 - cpu0);
    fflush(stdout);
    return 0;
}

/* ---------- channel mode ---------- */

static uint64_t lat_t0, lat_total_msgs, lat_sent;

static void lat_tick(void)
{
    if (phase != PH_LAT)
        return;
    uint64_t now = now_us();
    uint64_t due = (uint64_t)((double)(now - lat_t0) * opt_rate / 1e6);
    if (due > lat_total_msgs)
        due = lat_total_msgs;
    char buf[512];
    while (lat_sent < due) {
        int s = (int)(lat_sent % (uint64_t)nsenders);
        struct sender *sd = &senders[s];
        struct conn *c = &conns[sd->conn];
        lat_sent++;
        if (c->state != C_JOINED)
            continue;
        int n = fmt_msg(buf, sizeof buf, sd->chan, 'L', now_us(), s, sd->sent++);
        lat_expected += sd->need;
        conn_send(c, buf, (size_t)n);
    }
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

static int run_chan(void)
{
    int nch = opt_channels, m = opt_members, spc = opt_senders;
    if (spc > m)
        die("more senders than members");
    if (opt_inflight < 1 || opt_inflight > MAX_INFLIGHT)
        die("--inflight must be 1..%d", MAX_INFLIGHT);
    long total = (long)nch * m;
    if (total > 19000)
        die("chan mode holds at most 19,000 clients in one process");
    alloc_conns((int)total, 0);
    nsenders = nch * spc;
    senders = calloc((size_t)nsenders, sizeof *senders);
    dirty_list = calloc((size_t)nsenders, sizeof *dirty_list);
    uint32_t *rings = calloc((size_t)nsenders * (size_t)opt_inflight, sizeof *rings);
    if (!senders || !dirty_list || !rings)
        die("out of memory");
    /* client i: channel i % nch (members of one channel spread over the run);
       the first spc clients of each channel send */
    int *count = calloc((size_t)nch, sizeof *count);
    for (int i = 0; i < total; i++) {
        int ch = i % nch;
        conns[i].chan = ch;
        if (count[ch] < spc) {
            int s = ch * spc + count[ch];
            conns[i].sender = s;
            senders[s].conn = i;
            senders[s].chan = ch;
            senders[s].ring = rings + (size_t)s * (size_t)opt_inflight;
        }
        count[ch]++;
    }
    double setup_s = setup_clients(1);
    setup_done = 1;
    wait_quiet(300, 15000);
    /* members actually present per channel */
    memset(count, 0, (size_t)nch * sizeof *count);
    for (int i = 0; i < total; i++)
        if (conns[i].state == C_JOINED)
            count[conns[i].chan]++;
    for (int s = 0; s < nsenders; s++)
        senders[s].need = count[senders[s].chan] > 0 ? (uint32_t)count[senders[s].chan] - 1 : 0;
    note("setup: %ld joined of %ld in %.1f s", n_joined, total, setup_s);
    long joined_at_start = n_joined;
    long dead_at_start = n_dead;

    /* ---- full-speed phase ---- */
    if (opt_full > 0) {
        phase = PH_FULL;
        full_sending = 1;
        double cpu0 = server_cpu(), core0 = core_busy();
        uint64_t t0 = now_us();
        full_last_us = t0;
        for (int s = 0; s < nsenders; s++)
            sender_fill(s);
        uint64_t stop_at = t0 + (uint64_t)(opt_full * 1e6);
        while (!got_stop && now_us() < stop_at)
            loop_once(10);
        full_sending = 0;
        phase = PH_DRAIN;
        uint64_t drain_end = now_us() + 5000000u;
        while (!got_stop && full_delivered < full_expected && now_us() < drain_end)
            loop_once(10);
        double cpu1 = server_cpu(), core1 = core_busy();
        double wall = (double)(now_us() - t0) / 1e6;
        double secs = (double)(full_last_us - t0) / 1e6;
        uint64_t sent = 0;
        for (int s = 0; s < nsenders; s++)
            sent += senders[s].sent;
        double cpu = cpu1 - cpu0;
        double settle = server_settle(5000);
        cpu += settle;
        printf("RESULT mode=full label=%s channels=%d members=%d senders=%d inflight=%d "
               "joined=%ld setup_s=%.1f msgs=%" PRIu64 " expected=%" PRIu64 " delivered=%" PRIu64
               " lost=%" PRId64 " secs=%.2f rate=%.0f cpu_s=%.2f settle_cpu_s=%.3f per_cpu=%.0f "
               "disconnects=%ld bad=%" PRIu64 " core_other_pct=%.0f\n",
               opt_label, nch, m, spc, opt_inflight, joined_at_start, setup_s, sent, full_expected,
               full_delivered, (int64_t)(full_expected - full_delivered), secs,
               secs > 0 ? (double)full_delivered / secs : 0, cpu, settle,
               cpu > 0 ? (double)full_delivered / cpu : 0, n_dead - dead_at_start, full_bad,
               other_pct(core0, core1, cpu - settle, wall));
        fflush(stdout);
        wait_quiet(300, 3000);
    }

    /* ---- steady-rate latency phase ---- */
    if (opt_rate > 0 && opt_lat > 0) {
        long dead0 = n_dead;
        for (int s = 0; s < nsenders; s++)
            senders[s].sent = 0;
        timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
        struct itimerspec its = {.it_interval = {0, 1000000}, .it_value = {0, 1000000}};
        timerfd_settime(timer_fd, 0, &its, NULL);
        struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
        epoll_ctl(epfd, EPOLL_CTL_ADD, timer_fd, &ev);
        on_timer = lat_tick;
        lat_total_msgs = (uint64_t)(opt_rate * opt_lat);
        double cpu0 = server_cpu(), core0 = core_busy();
        phase = PH_LAT;
        lat_t0 = now_us();
        while (!got_stop && lat_sent < lat_total_msgs)
            loop_once(100);
        phase = PH_LATDRAIN;
        uint64_t drain_end = now_us() + 3000000u;
        while (!got_stop && lat_delivered < lat_expected && now_us() < drain_end)
            loop_once(10);
        double cpu1 = server_cpu(), core1 = core_busy();
        double secs = (double)(now_us() - lat_t0) / 1e6;
        /* what the server put off past the phase (a log applied later)
         * belongs to it, as in the full-speed phases */
        double settle = server_settle(5000);
        qsort(lat_samples, lat_n, sizeof *lat_samples, cmp_u32);
        double p50 = 0, p99 = 0, mx = 0;
        if (lat_n) {
            p50 = lat_samples[lat_n / 2] / 1000.0;
            p99 = lat_samples[(lat_n * 99) / 100] / 1000.0;
            mx = lat_samples[lat_n - 1] / 1000.0;
        }
        printf("RESULT mode=lat label=%s channels=%d members=%d senders=%d rate=%.0f "
               "delivery_rate=%.0f msgs=%" PRIu64 " expected=%" PRIu64 " delivered=%" PRIu64
               " lost=%" PRId64 " p50_ms=%.3f p99_ms=%.3f max_ms=%.3f cpu_s=%.2f "
               "settle_cpu_s=%.3f cpu_pct=%.0f disconnects=%ld core_other_pct=%.0f\n",
               opt_label, nch, m, spc, opt_rate, (double)lat_delivered / (secs > 0 ? secs : 1),
               lat_sent, lat_expected, lat_delivered, (int64_t)(lat_expected - lat_delivered), p50,
               p99, mx, cpu1 - cpu0 + settle, settle,
               secs > 0 ? 100.0 * (cpu1 - cpu0 + settle) / secs : 0, n_dead - dead0,
               other_pct(core0, core1, cpu1 - cpu0, secs));
        fflush(stdout);
    }
    return 0;
}

/* ---------- soak mode ---------- */

/*
 * qbench soak: a steady mixed load for a long time, one row of figures per
 * interval (bench/soak.sh drives it; bench/README.md describes the mix).
 * Everything runs in this one process and one epoll loop:
 *   - idle clients that only answer PINGs;
 *   - big groups (channels #c0..) whose first members send at a fixed total
 *     rate, the last --ws members of each speaking IRC over WebSocket;
 *   - small groups whose first member sends at a fixed rate;
 *   - churn: every cycle a new client connects, registers, joins one of a few
 *     churn channels, sends a message, asks CHATHISTORY LATEST, and QUITs when
 *     the batch ends;
 *   - CHATHISTORY LATEST requests from the members of the steady groups;
 *   - qunctl status every interval (the log's sequence numbers) and qunctl log
 *     search every few intervals, as child processes read through the loop.
 * Steady texts are "S <send-us> <sender> <seq> xxx..."; every delivery adds a
 * latency sample (receive - send, same process), and the per-interval
 * deliveries are checked against what the members present should get.
 */

static int opt_idle = 2000, opt_big = 2, opt_big_members = 500, opt_big_senders = 5;
static double opt_big_rate = 4; /* messages/s per big group */
static int opt_small = 300, opt_small_members = 5;
static double opt_small_rate = 0.2; /* messages/s per small group */
static double opt_churn = 5;        /* churn cycles started per second */
static double opt_hist = 2;         /* CHATHISTORY requests/s from the steady members */
static int opt_ws = 50;             /* WebSocket members per big group */
static double opt_secs = 1800, opt_interval = 10;
static const char *opt_csv = "soak.csv", *opt_qunctl = NULL, *opt_ctl_socket = NULL;
static int opt_search_every = 3;      /* intervals between two qunctl log searches */
static const char *opt_log_db = NULL; /* the network log's file, for its size */

#define CHURN_SLOTS  256
#define CHURN_CHANS  10
#define CHURN_IDX    1000000
#define HIST_RES_US  10 /* overall latency histogram: 10 us buckets up to 2 s */
#define HIST_BUCKETS 200000

enum { CH_STATUS = 1, CH_SEARCH };
struct child {
    pid_t pid;
    int fd, kind;
    size_t len;
    char buf[16384];
};
static struct child children[8];
static long ctl_ok, ctl_fail, ctl_search_ok;
static long st_last = -1, st_durable = -1, st_online = -1;
static long st_loop_busy_max_us = -1, st_loop_stalls = -1; /* qund's loopwatch */

static int soak_idle_top, soak_steady, soak_nbig_senders, soak_churn_chan0;
static uint64_t soak_t0, soak_expected, soak_sent, soak_skipped;
static uint64_t big_n, small_n, churn_n, hist_n_req, hist_busy;
static int soak_sending;
static uint64_t *lat_hist; /* overall latency histogram */
static uint64_t lat_over, lat_all_max;
static FILE *csv;

/* the row of an interval waits for the status answer asked at its end */
struct row {
    int valid;
    double t, secs;
    uint64_t sent, expected, delivered, nlat, hist_n;
    double p50, p99, max, hist_p99, cpu_pct, load1, steal_ms;
    long conns, rss_kb, churn_ok, churn_fail, dead, errors;
    long rss_anon_kb, rss_file_kb, log_kb;
};
static struct row pending_row;

/* Size of the network log on disk (the file and its WAL), KiB, or -1. */
static long log_size_kb(void)
{
    if (!opt_log_db)
        return -1;
    struct stat st;
    char wal[4096];
    long kb = stat(opt_log_db, &st) == 0 ? (long)(st.st_size / 1024) : -1;
    snprintf(wal, sizeof wal, "%s-wal", opt_log_db);
    if (kb >= 0 && stat(wal, &st) == 0)
        kb += (long)(st.st_size / 1024);
    return kb;
}

static long json_num(const char *js, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":", key);
    const char *p = strstr(js, k);
    if (!p)
        return -1;
    p += strlen(k);
    while (*p == ' ')
        p++;
    return strtol(p, NULL, 10);
}

static void emit_row(void)
{
    struct row *r = &pending_row;
    if (!r->valid)
        return;
    r->valid = 0;
    double s = r->secs > 0 ? r->secs : 1;
    fprintf(csv,
            "%.1f,%.1f,%.1f,%.1f,%.3f,%.3f,%.3f,%" PRIu64
            ",%ld,%ld,%ld,%.1f,%ld,%ld,%.2f,%.3f,%ld,%ld,%ld,%ld,%ld,%.2f,%ld,%ld,%ld,%.0f,%ld,%ld\n",
            r->t, (double)r->sent / s, (double)r->delivered / s, (double)r->expected / s, r->p50,
            r->p99, r->max, r->nlat, r->conns, st_online, r->rss_kb, r->cpu_pct, st_last,
            st_durable, (double)r->hist_n / s, r->hist_p99, r->churn_ok, r->churn_fail, r->dead,
            r->errors, ctl_fail, r->load1, r->rss_anon_kb, r->rss_file_kb, r->log_kb, r->steal_ms,
            st_loop_busy_max_us, st_loop_stalls);
    fflush(csv);
    note("t=%4.0fs sent/s=%.0f delivered/s=%.0f p50=%.2fms p99=%.2fms max=%.1fms conns=%ld "
         "rss=%ldKiB cpu=%.0f%% "
         "log=%ld/%ld hist/s=%.1f churn=%ld fail=%ld dead=%ld err=%ld",
         r->t, (double)r->sent / s, (double)r->delivered / s, r->p50, r->p99, r->max, r->conns,
         r->rss_kb, r->cpu_pct, st_last, st_durable, (double)r->hist_n / s, r->churn_ok,
         r->churn_fail, r->dead, r->errors);
}

static void spawn_ctl(int kind, char *const argv[])
{
    int k;
    for (k = 0; k < 8 && children[k].pid; k++)
        ;
    if (k == 8) {
        ctl_fail++;
        note("qunctl: too many calls under way");
        return;
    }
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC) < 0)
        die("pipe: %s", strerror(errno));
    pid_t pid = fork();
    if (pid < 0)
        die("fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(pfd[1], 1);
        execv(argv[0], argv);
        _exit(127);
    }
    close(pfd[1]);
    fcntl(pfd[0], F_SETFL, O_NONBLOCK);
    children[k] = (struct child){.pid = pid, .fd = pfd[0], .kind = kind};
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = CHILD_TAG + (uint64_t)k};
    epoll_ctl(epfd, EPOLL_CTL_ADD, pfd[0], &ev);
}

static void child_readable(int k)
{
    struct child *ch = &children[k];
    for (;;) {
        char tmp[4096];
        ssize_t r = read(ch->fd, tmp, sizeof tmp);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (r > 0) {
            size_t room = sizeof ch->buf - 1 - ch->len;
            size_t n = (size_t)r < room ? (size_t)r : room;
            memcpy(ch->buf + ch->len, tmp, n);
            ch->len += n;
            continue;
        }
        break; /* EOF or error */
    }
    ch->buf[ch->len] = 0;
    close(ch->fd); /* also leaves the epoll set */
    int st = 0;
    waitpid(ch->pid, &st, 0);
    int ok = WIFEXITED(st) && WEXITSTATUS(st) == 0;
    if (ok)
        ctl_ok++;
    else {
        ctl_fail++;
        note("qunctl (%s) failed: status %d", ch->kind == CH_STATUS ? "status" : "log search", st);
    }
    if (ch->kind == CH_STATUS) {
        if (ok) {
            st_last = json_num(ch->buf, "last_seq");
            st_durable = json_num(ch->buf, "durable_seq");
            st_online = json_num(ch->buf, "online");
            st_loop_busy_max_us = json_num(ch->buf, "busy_max_us");
            st_loop_stalls = json_num(ch->buf, "stalls");
        }
        emit_row();
    } else if (ok) {
        ctl_search_ok++;
    }
    ch->pid = 0;
    ch->len = 0;
}

static void ctl_status(void)
{
    if (!opt_qunctl) {
        emit_row();
        return;
    }
    char *argv[] = {(char *)opt_qunctl, "-s", (char *)opt_ctl_socket, "--json", "status", NULL};
    spawn_ctl(CH_STATUS, argv);
}

static void ctl_search(void)
{
    if (!opt_qunctl)
        return;
    char *argv[] = {(char *)opt_qunctl,
                    "-s",
                    (char *)opt_ctl_socket,
                    "--json",
                    "log",
                    "search",
                    "--kind",
                    "msg",
                    "--limit",
                    "20",
                    NULL};
    spawn_ctl(CH_SEARCH, argv);
}

static void soak_send(int s, uint64_t now)
{
    struct sender *sd = &senders[s];
    struct conn *c = &conns[sd->conn];
    if (c->state != C_JOINED) {
        soak_skipped++;
        return;
    }
    char buf[512];
    int n = fmt_msg(buf, sizeof buf, sd->chan, 'S', now, s, sd->sent++);
    int present = chan_count[sd->chan];
    soak_expected += present > 0 ? (uint64_t)present - 1 : 0;
    soak_sent++;
    conn_send(c, buf, (size_t)n);
}

static void churn_start(void)
{
    static int next;
    for (int tries = 0; tries < CHURN_SLOTS; tries++) {
        struct conn *c = &conns[soak_steady + next];
        next = (next + 1) % CHURN_SLOTS;
        if (c->state != C_FREE)
            continue;
        c->idx = CHURN_IDX + (int)churn_n;
        c->chan = soak_churn_chan0 + (int)(churn_n % CHURN_CHANS);
        churn_n++;
        conn_open((int)(c - conns));
        return;
    }
    churn_fail++;
    note("churn: every slot busy");
}

static void churn_joined(struct conn *c)
{
    char buf[512];
    int n = fmt_msg(buf, sizeof buf, c->chan, 'C', now_us(), 0, 0);
    n += snprintf(buf + n, sizeof buf - (size_t)n, "CHATHISTORY LATEST #c%d * 20\r\n", c->chan);
    c->hist_t0 = now_us();
    conn_send(c, buf, (size_t)n);
}

static void hist_request(void)
{
    static int next;
    int members = soak_steady - soak_idle_top;
    for (int tries = 0; tries < 16; tries++) {
        struct conn *c = &conns[soak_idle_top + next];
        next = (next + 1) % members;
        if (c->state != C_JOINED || c->hist_t0)
            continue;
        char buf[64];
        int n = snprintf(buf, sizeof buf, "CHATHISTORY LATEST #c%d * 50\r\n", c->chan);
        c->hist_t0 = now_us();
        hist_n_req++;
        conn_send(c, buf, (size_t)n);
        return;
    }
    hist_busy++;
}

static double pct(uint32_t *v, size_t n, int p)
{
    return n ? v[(n * (size_t)p) / 100 < n ? (n * (size_t)p) / 100 : n - 1] / 1000.0 : 0;
}

/* interval bookkeeping */
static uint64_t iv_t0, iv_sent, iv_exp, iv_deliv, iv_hist;
static long iv_churn_ok;
static double iv_cpu, iv_steal;
static int iv_count;

static void interval_end(uint64_t now)
{
    emit_row(); /* a row whose status never came */
    qsort(lat_samples, lat_n, sizeof *lat_samples, cmp_u32);
    for (size_t i = 0; i < lat_n; i++) {
        uint32_t b = lat_samples[i] / HIST_RES_US;
        if (b < HIST_BUCKETS)
            lat_hist[b]++;
        else
            lat_over++;
    }
    if (lat_n && lat_samples[lat_n - 1] > lat_all_max)
        lat_all_max = lat_samples[lat_n - 1];
    qsort(hist_samples, hist_n, sizeof *hist_samples, cmp_u32);
    double cpu = server_cpu();
    long conns_n = 0;
    for (int i = 0; i < nconns; i++)
        if (conns[i].state != C_FREE && conns[i].state != C_DEAD)
            conns_n++;
    struct row *r = &pending_row;
    *r = (struct row){.valid = 1,
                      .t = (double)(now - soak_t0) / 1e6,
                      .secs = (double)(now - iv_t0) / 1e6,
                      .sent = soak_sent - iv_sent,
                      .expected = soak_expected - iv_exp,
                      .delivered = soak_delivered - iv_deliv,
                      .nlat = lat_n,
                      .hist_n = hist_done - iv_hist,
                      .p50 = pct(lat_samples, lat_n, 50),
                      .p99 = pct(lat_samples, lat_n, 99),
                      .max = lat_n ? lat_samples[lat_n - 1] / 1000.0 : 0,
                      .hist_p99 = pct(hist_samples, hist_n, 99),
                      .conns = conns_n,
                      .rss_kb = server_rss_kb(),
                      .rss_anon_kb = server_status_kb("RssAnon:"),
                      .rss_file_kb = server_status_kb("RssFile:"),
                      .log_kb = log_size_kb(),
                      .churn_ok = churn_ok - iv_churn_ok,
                      .churn_fail = churn_fail,
                      .dead = n_dead,
                      .errors = n_errnum + n_fail_lines + n_failed};
    r->cpu_pct = r->secs > 0 ? 100.0 * (cpu - iv_cpu) / r->secs : 0;
    double busy_now, steal_now;
    core_times(&busy_now, &steal_now);
    r->steal_ms = steal_now >= 0 && iv_steal >= 0 ? 1000.0 * (steal_now - iv_steal) : -1;
    iv_steal = steal_now;
    FILE *la = fopen("/proc/loadavg", "r");
    if (!la || fscanf(la, "%lf", &r->load1) != 1)
        r->load1 = -1;
    if (la)
        fclose(la);
    lat_n = 0;
    hist_n = 0;
    iv_t0 = now;
    iv_sent = soak_sent;
    iv_exp = soak_expected;
    iv_deliv = soak_delivered;
    iv_hist = hist_done;
    iv_churn_ok = churn_ok;
    iv_cpu = cpu;
    ctl_status();
    if (++iv_count % opt_search_every == 0)
        ctl_search();
}

static uint64_t next_interval;

static void soak_tick(void)
{
    uint64_t now = now_us();
    double el = (double)(now - soak_t0) / 1e6;
    if (soak_sending) {
        uint64_t due = (uint64_t)(el * opt_big_rate * opt_big);
        while (soak_nbig_senders && big_n < due)
            soak_send((int)(big_n++ % (uint64_t)soak_nbig_senders), now);
        due = (uint64_t)(el * opt_small_rate * opt_small);
        while (opt_small && small_n < due)
            soak_send(soak_nbig_senders + (int)(small_n++ % (uint64_t)opt_small), now);
        due = (uint64_t)(el * opt_churn);
        while (churn_n < due)
            churn_start();
        due = (uint64_t)(el * opt_hist);
        while (hist_n_req + hist_busy < due)
            hist_request();
    }
    static uint64_t last_sweep;
    if (now - last_sweep > 1000000u) { /* a churn cycle may take at most 30 s */
        last_sweep = now;
        for (int i = soak_steady; i < nconns; i++)
            /* t_open may be later than now: opened by this very tick */
            if (conns[i].state != C_FREE && now > conns[i].t_open + 30000000u) {
                static const char *const st[] = {"free",       "connecting", "registering",
                                                 "registered", "joined",     "dead"};
                char why[160];
                snprintf(why, sizeof why, "churn cycle took over 30 s (%s, %s)", st[conns[i].state],
                         conns[i].quitting  ? "QUIT sent"
                         : conns[i].hist_t0 ? "waiting for CHATHISTORY"
                                            : "no CHATHISTORY asked");
                conn_kill(&conns[i], why);
            }
    }
    if (now >= next_interval) {
        interval_end(now);
        next_interval += (uint64_t)(opt_interval * 1e6);
    }
}

static double hist_pct(double p, uint64_t total)
{
    uint64_t want = (uint64_t)((double)total * p), acc = 0;
    for (int b = 0; b < HIST_BUCKETS; b++) {
        acc += lat_hist[b];
        if (acc > want)
            return (double)(b + 1) * HIST_RES_US / 1000.0;
    }
    return (double)lat_all_max / 1000.0;
}

static int run_soak(void)
{
    if (opt_big_senders > opt_big_members || opt_ws > opt_big_members - opt_big_senders)
        die("--big-senders + --ws must fit in --big-members");
    if (opt_ws > 0 && opt_ws_port <= 0)
        die("--ws needs --ws-port");
    if (opt_search_every < 1 || opt_interval <= 0)
        usage();
    signal(SIGTERM, on_term);
    errors_max = 50;
    soak_idle_top = opt_idle;
    int nbig = opt_big * opt_big_members, nsmall = opt_small * opt_small_members;
    soak_steady = opt_idle + nbig + nsmall;
    if (soak_steady + CHURN_SLOTS > 19000)
        die("soak holds at most 19,000 clients in one process");
    alloc_conns(soak_steady + CHURN_SLOTS, 0);
    open_top = soak_steady;
    int nchan = opt_big + opt_small + CHURN_CHANS;
    soak_churn_chan0 = opt_big + opt_small;
    chan_count = calloc((size_t)nchan, sizeof *chan_count);
    soak_nbig_senders = opt_big * opt_big_senders;
    nsenders = soak_nbig_senders + opt_small;
    senders = calloc((size_t)nsenders + 1, sizeof *senders);
    lat_hist = calloc(HIST_BUCKETS, sizeof *lat_hist);
    csv = fopen(opt_csv, "w");
    if (!chan_count || !senders || !lat_hist)
        die("out of memory");
    if (!csv)
        die("%s: %s", opt_csv, strerror(errno));
    for (int i = opt_idle; i < soak_steady; i++) {
        struct conn *c = &conns[i];
        c->batch = 1;
        int j = i - opt_idle;
        if (j < nbig) {
            int g = j / opt_big_members, pos = j % opt_big_members;
            c->chan = g;
            c->ws = pos >= opt_big_members - opt_ws;
            if (pos < opt_big_senders) {
                int s = g * opt_big_senders + pos;
                c->sender = s;
                senders[s] = (struct sender){.conn = i, .chan = g};
            }
        } else {
            j -= nbig;
            int g = j / opt_small_members;
            c->chan = opt_big + g;
            if (j % opt_small_members == 0) {
                int s = soak_nbig_senders + g;
                c->sender = s;
                senders[s] = (struct sender){.conn = i, .chan = c->chan};
            }
        }
    }
    for (int i = soak_steady; i < nconns; i++) {
        conns[i].kind = K_CHURN;
        conns[i].batch = 1;
        conns[i].state = C_FREE;
    }
    long rss0 = server_rss_kb();
    double setup_s = setup_clients(0);
    /* joins still under way */
    uint64_t jd = now_us() + 15000000u;
    for (;;) {
        int waiting = 0;
        for (int i = opt_idle; i < soak_steady; i++)
            waiting += conns[i].state == C_REGISTERED;
        if (!waiting || now_us() > jd || got_stop)
            break;
        loop_once(50);
    }
    setup_done = 1;
    wait_quiet(300, 5000);
    for (int i = 0; i < soak_steady; i++)
        if (conns[i].state == C_JOINED)
            chan_count[conns[i].chan]++;
    long steady_up = 0, ws_up = 0;
    for (int i = 0; i < soak_steady; i++)
        if (conns[i].state == C_REGISTERED || conns[i].state == C_JOINED) {
            steady_up++;
            ws_up += conns[i].ws;
        }
    long rss_setup = server_rss_kb();
    note("setup: %ld of %d steady clients up (%ld over WebSocket) in %.1f s; server RSS %ld -> %ld "
         "KiB",
         steady_up, soak_steady, ws_up, setup_s, rss0, rss_setup);
    fprintf(csv, "t_s,sent_per_s,delivered_per_s,expected_per_s,lat_p50_ms,lat_p99_ms,lat_max_ms,"
                 "lat_samples,connections,server_clients,rss_kb,cpu_pct,netlog_last_seq,"
                 "netlog_durable_seq,hist_per_s,hist_p99_ms,churn_cycles,churn_fail_total,"
                 "disconnects_total,errors_total,ctl_fail_total,loadavg1,rss_anon_kb,"
                 "rss_file_kb,netlog_kb,steal_ms,loop_busy_max_us,loop_stalls\n");

    timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec its = {.it_interval = {0, 10000000}, .it_value = {0, 10000000}};
    timerfd_settime(timer_fd, 0, &its, NULL);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = TIMER_TAG};
    epoll_ctl(epfd, EPOLL_CTL_ADD, timer_fd, &ev);
    on_timer = soak_tick;
    double cpu0 = server_cpu();
    soak_t0 = iv_t0 = now_us();
    iv_cpu = cpu0;
    double busy0;
    core_times(&busy0, &iv_steal);
    next_interval = soak_t0 + (uint64_t)(opt_interval * 1e6);
    soak_sending = 1;
    uint64_t stop_at = soak_t0 + (uint64_t)(opt_secs * 1e6);
    while (!got_stop && now_us() < stop_at)
        loop_once(100);
    soak_sending = 0;
    uint64_t t_send_end = now_us();
    /* drain: deliveries in flight, churn cycles under way, qunctl calls */
    uint64_t drain_end = now_us() + 10000000u;
    for (;;) {
        int busy = soak_delivered < soak_expected;
        for (int i = soak_steady; i < nconns; i++)
            busy |= conns[i].state != C_FREE;
        for (int k = 0; k < 8; k++)
            busy |= children[k].pid != 0;
        if (!busy || now_us() > drain_end)
            break;
        loop_once(20);
    }
    interval_end(now_us());
    for (uint64_t w = now_us() + 5000000u; now_us() < w;) {
        int busy = 0;
        for (int k = 0; k < 8; k++)
            busy |= children[k].pid != 0;
        if (!busy)
            break;
        loop_once(20);
    }
    emit_row();
    double cpu1 = server_cpu();
    uint64_t total = 0;
    for (int b = 0; b < HIST_BUCKETS; b++)
        total += lat_hist[b];
    total += lat_over;
    double secs = (double)(t_send_end - soak_t0) / 1e6;
    printf(
        "RESULT mode=soak secs=%.0f steady=%ld idle=%d big=%dx%d small=%dx%d ws=%ld setup_s=%.1f "
        "sent=%" PRIu64 " skipped=%" PRIu64 " expected=%" PRIu64 " delivered=%" PRIu64
        " lost=%" PRId64 " p50_ms=%.2f p99_ms=%.2f p999_ms=%.2f max_ms=%.2f hist_requests=%" PRIu64
        " hist_answered=%" PRIu64 " hist_lines=%" PRIu64 " churn_started=%" PRIu64
        " churn_ok=%ld churn_fail=%ld disconnects=%ld reg_failed=%ld err_numerics=%ld "
        "fail_lines=%ld "
        "ctl_ok=%ld ctl_fail=%ld searches_ok=%ld cpu_s=%.1f rss_before_kb=%ld rss_setup_kb=%ld "
        "rss_end_kb=%ld netlog_last=%ld netlog_durable=%ld\n",
        secs, steady_up, opt_idle, opt_big, opt_big_members, opt_small, opt_small_members, ws_up,
        setup_s, soak_sent, soak_skipped, soak_expected, soak_delivered,
        (int64_t)(soak_expected - soak_delivered), hist_pct(0.50, total), hist_pct(0.99, total),
        hist_pct(0.999, total), (double)lat_all_max / 1000.0, hist_n_req, hist_done, hist_lines,
        churn_n, churn_ok, churn_fail, n_dead, n_failed, n_errnum, n_fail_lines, ctl_ok, ctl_fail,
        ctl_search_ok, cpu1 - cpu0, rss0, rss_setup, server_rss_kb(), st_last, st_durable);
    fflush(stdout);
    fclose(csv);
    return 0;
}

/* ---------- dns mode ---------- */

/* A resolver that answers every query at once with NXDOMAIN, for servers that
   always look up client addresses (ircd-hybrid): the lookup then costs what it
   costs on a machine with a working local resolver, instead of depending on
   this machine's upstream DNS, which rate-limits bursts of queries. */
static int run_dns(const char *addr, int port)
{
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
        die("bad address %s", addr);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0)
        die("bind %s:%d: %s", addr, port, strerror(errno));
    /* SIGTERM keeps its default action: the loop blocks in recvfrom */
    unsigned char pkt[1500];
    while (!got_stop) {
        struct sockaddr_in from;
        socklen_t fl = sizeof from;
        ssize_t n = recvfrom(fd, pkt, sizeof pkt, 0, (struct sockaddr *)&from, &fl);
        if (n < 12)
            continue;
        pkt[2] = (unsigned char)(0x80 | (pkt[2] & 0x79)); /* QR=1, keep opcode and RD */
        pkt[3] = 0x83;                                    /* RA=1, RCODE=NXDOMAIN */
        memset(pkt + 6, 0, 6);                            /* no answer/authority/additional */
        /* echo header + question only */
        size_t len = 12;
        int qd = (pkt[4] << 8) | pkt[5];
        for (int q = 0; q < qd && len < (size_t)n; q++) {
            while (len < (size_t)n && pkt[len])
                len += pkt[len] + 1u;
            len += 5; /* root label, QTYPE, QCLASS */
        }
        if (len > (size_t)n)
            len = (size_t)n;
        sendto(fd, pkt, len, 0, (struct sockaddr *)&from, fl);
    }
    return 0;
}

/* ---------- fsync mode ---------- */

/* What one durable append costs on this disk: no strict-mode delivery can be
   faster, since a message is delivered only after the batch holding it has
   been written and fdatasync()ed.  Each round appends 4 KiB (so the file size,
   and with it some metadata, changes every time, as in a growing log) and
   times write() + fdatasync() together.  The scratch file is removed. */
static int run_fsync(const char *dir, int count)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/qbench-fsync.XXXXXX", dir) >= (int)sizeof path)
        die("fsync: --dir too long");
    int fd = mkstemp(path);
    if (fd < 0)
        die("fsync: cannot create a file in %s: %s", dir, strerror(errno));
    unlink(path); /* the file lives on until closed; nothing is left behind */
    static char block[4096];
    memset(block, 'q', sizeof block);
    uint32_t *us = calloc((size_t)count, sizeof *us);
    if (!us)
        die("fsync: out of memory");
    for (int i = 0; i < count; i++) {
        uint64_t t0 = now_us();
        size_t off = 0;
        while (off < sizeof block) {
            ssize_t n = write(fd, block + off, sizeof block - off);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                die("fsync: write: %s", n < 0 ? strerror(errno) : "short write");
            off += (size_t)n;
        }
        if (fdatasync(fd) < 0)
            die("fsync: fdatasync: %s", strerror(errno));
        uint64_t d = now_us() - t0;
        us[i] = d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    }
    close(fd);
    qsort(us, (size_t)count, sizeof *us, cmp_u32);
    printf("RESULT mode=fsync count=%d p50_us=%" PRIu32 " p99_us=%" PRIu32 " max_us=%" PRIu32 "\n",
           count, us[count / 2], us[((size_t)count * 99) / 100], us[count - 1]);
    fflush(stdout);
    free(us);
    return 0;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: qbench idle|chan|soak|dns|fsync [options]\n"
            "  --host A --port P --pid SERVERPID --label TEXT\n"
            "  idle: --clients N [--per-ip N] [--window N]\n"
            "  chan: --channels C --members M --senders S [--full SECS --inflight K]\n"
            "        [--rate MSGS_PER_S --lat SECS] [--textlen N]\n"
            "  --setup-timeout SECS --server-cpu N (core of the server: report other load on it)\n"
            "  dns: --host ADDR --port PORT (answers every DNS query with NXDOMAIN)\n"
            "  fsync: --dir DIR [--count N] (4 KiB append + fdatasync, N times; default 2000)\n"
            "  soak: --secs S --interval S --csv FILE [--qunctl PATH --ctl-socket PATH]\n"
            "        [--idle N] [--big G --big-members M --big-senders S --big-rate MSGS_PER_S]\n"
            "        [--small G --small-members M --small-rate MSGS_PER_S] [--churn PER_S]\n"
            "        [--hist PER_S] [--ws N --ws-port P] [--search-every INTERVALS]\n"
            "        [--log-db PATH (the network log: its size goes into the rows)]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        usage();
    const char *mode = argv[1];
    static const struct option lo[] = {{"host", 1, 0, 'h'},
                                       {"port", 1, 0, 'p'},
                                       {"pid", 1, 0, 'P'},
                                       {"clients", 1, 0, 'n'},
                                       {"per-ip", 1, 0, 'i'},
                                       {"window", 1, 0, 'w'},
                                       {"channels", 1, 0, 'c'},
                                       {"members", 1, 0, 'm'},
                                       {"senders", 1, 0, 's'},
                                       {"full", 1, 0, 'f'},
                                       {"inflight", 1, 0, 'k'},
                                       {"rate", 1, 0, 'r'},
                                       {"lat", 1, 0, 'l'},
                                       {"textlen", 1, 0, 't'},
                                       {"label", 1, 0, 'L'},
                                       {"setup-timeout", 1, 0, 'T'},
                                       {"server-cpu", 1, 0, 'C'},
                                       {"ws-port", 1, 0, 1000},
                                       {"idle", 1, 0, 1001},
                                       {"big", 1, 0, 1002},
                                       {"big-members", 1, 0, 1003},
                                       {"big-senders", 1, 0, 1004},
                                       {"big-rate", 1, 0, 1005},
                                       {"small", 1, 0, 1006},
                                       {"small-members", 1, 0, 1007},
                                       {"small-rate", 1, 0, 1008},
                                       {"churn", 1, 0, 1009},
                                       {"hist", 1, 0, 1010},
                                       {"ws", 1, 0, 1011},
                                       {"secs", 1, 0, 1012},
                                       {"interval", 1, 0, 1013},
                                       {"csv", 1, 0, 1014},
                                       {"qunctl", 1, 0, 1015},
                                       {"ctl-socket", 1, 0, 1016},
                                       {"search-every", 1, 0, 1017},
                                       {"log-db", 1, 0, 1018},
                                       {"dir", 1, 0, 1019},
                                       {"count", 1, 0, 1020},
                                       {0, 0, 0, 0}};
    const char *fsync_dir = NULL;
    int fsync_count = 2000;
    int o;
    optind = 2;
    while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (o) {
        case 'h':
            opt_host = optarg;
            break;
        case 'p':
            opt_port = atoi(optarg);
            break;
        case 'P':
            opt_pid = atoi(optarg);
            break;
        case 'n':
            opt_clients = atoi(optarg);
            break;
        case 'i':
            opt_per_ip = atoi(optarg);
            break;
        case 'w':
            opt_window = atoi(optarg);
            break;
        case 'c':
            opt_channels = atoi(optarg);
            break;
        case 'm':
            opt_members = atoi(optarg);
            break;
        case 's':
            opt_senders = atoi(optarg);
            break;
        case 'f':
            opt_full = atof(optarg);
            break;
        case 'k':
            opt_inflight = atoi(optarg);
            break;
        case 'r':
            opt_rate = atof(optarg);
            break;
        case 'l':
            opt_lat = atof(optarg);
            break;
        case 't':
            opt_textlen = atoi(optarg);
            break;
        case 'L':
            opt_label = optarg;
            break;
        case 'T':
            opt_setup_timeout = atoi(optarg);
            break;
        case 'C':
            opt_server_cpu = atoi(optarg);
            break;
        case 1000:
            opt_ws_port = atoi(optarg);
            break;
        case 1001:
            opt_idle = atoi(optarg);
            break;
        case 1002:
            opt_big = atoi(optarg);
            break;
        case 1003:
            opt_big_members = atoi(optarg);
            break;
        case 1004:
            opt_big_senders = atoi(optarg);
            break;
        case 1005:
            opt_big_rate = atof(optarg);
            break;
        case 1006:
            opt_small = atoi(optarg);
            break;
        case 1007:
            opt_small_members = atoi(optarg);
            break;
        case 1008:
            opt_small_rate = atof(optarg);
            break;
        case 1009:
            opt_churn = atof(optarg);
            break;
        case 1010:
            opt_hist = atof(optarg);
            break;
        case 1011:
            opt_ws = atoi(optarg);
            break;
        case 1012:
            opt_secs = atof(optarg);
            break;
        case 1013:
            opt_interval = atof(optarg);
            break;
        case 1014:
            opt_csv = optarg;
            break;
        case 1015:
            opt_qunctl = optarg;
            break;
        case 1016:
            opt_ctl_socket = optarg;
            break;
        case 1017:
            opt_search_every = atoi(optarg);
            break;
        case 1018:
            opt_log_db = optarg;
            break;
        case 1019:
            fsync_dir = optarg;
            break;
        case 1020:
            fsync_count = atoi(optarg);
            break;
        default:
            usage();
        }
    }
    if (opt_per_ip < 1 || opt_window < 1)
        usage();
    signal(SIGPIPE, SIG_IGN);
    signal(SIGINT, on_term);
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    if (!strcmp(mode, "dns"))
        return run_dns(opt_host, opt_port);
    if (!strcmp(mode, "fsync")) {
        if (!fsync_dir || fsync_count < 1)
            usage();
        return run_fsync(fsync_dir, fsync_count);
    }
    if (!strcmp(mode, "idle"))
        return run_idle();
    if (!strcmp(mode, "chan"))
        return run_chan();
    if (!strcmp(mode, "soak"))
        return run_soak();
    usage();
    return 2;
}
