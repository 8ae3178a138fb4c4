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
#include <sys/timerfd.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef IP_BIND_ADDRESS_NO_PORT
#define IP_BIND_ADDRESS_NO_PORT 24
#endif

#define RBUF_SIZE (1 << 20)
#define MAX_EVENTS 1024
#define MAX_INFLIGHT 1024
#define PER_PROC_MAX 5000
#define TIMER_TAG UINT64_MAX

/* ---------- options ---------- */

static const char *opt_host = "127.0.0.1";
static int opt_port = 6667;
static int opt_pid = 0;
static int opt_clients = 1000;
static int opt_per_ip = 500;
static int opt_window = 1000;   /* connections registering at once, per process */
static int opt_setup_timeout = 120;
static int opt_channels = 1;
static int opt_members = 100;
static int opt_senders = 10;    /* per channel */
static double opt_full = 5.0;
static int opt_inflight = 16;
static double opt_rate = 0;     /* messages per second, latency phase */
static double opt_lat = 0;
static int opt_textlen = 64;
static const char *opt_label = "";
static int opt_server_cpu = -1; /* core the server is pinned to, for the contention figure */

/* ---------- utilities ---------- */

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

/* Server VmRSS in KiB, or -1. */
static long server_rss_kb(void)
{
	char path[64], line[256];
	long kb = -1;
	if (opt_pid <= 0)
		return -1;
	snprintf(path, sizeof path, "/proc/%d/status", opt_pid);
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, "VmRSS:", 6)) {
			kb = strtol(line + 6, NULL, 10);
			break;
		}
	fclose(f);
	return kb;
}

/* Busy time (all but idle and iowait) of core opt_server_cpu, in seconds.
   Minus the server's own CPU time, this is what other processes (and
   interrupt work) took from the server's core. */
static double core_busy(void)
{
	char want[16], line[512];
	double busy = -1;
	if (opt_server_cpu < 0)
		return -1;
	snprintf(want, sizeof want, "cpu%d ", opt_server_cpu);
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f)) {
		if (strncmp(line, want, strlen(want)))
			continue;
		unsigned long long v[10] = { 0 };
		sscanf(line + strlen(want), "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1],
		       &v[2], &v[3], &v[4], &v[5], &v[6], &v[7], &v[8], &v[9]);
		unsigned long long total = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
		busy = (double)total / (double)sysconf(_SC_CLK_TCK);
		break;
	}
	fclose(f);
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

struct conn {
	int fd;
	int idx;        /* global client number: nick is b<idx> */
	int chan;       /* channel number, -1 for none */
	int sender;     /* sender number, -1 if only a receiver */
	uint8_t state;
	uint8_t epout;  /* EPOLLOUT currently requested */
	uint32_t plen, pcap;
	char *partial;  /* incomplete line carried between reads */
	uint32_t olen, ocap;
	char *out;      /* bytes the kernel did not take yet */
};

struct sender {
	int conn;
	int chan;
	uint32_t need;  /* deliveries per message: members of the channel - 1 */
	uint32_t sent, acked;
	uint8_t dirty;
	uint32_t *ring; /* per in-flight message: deliveries seen */
};

static int epfd;
static struct conn *conns;
static int nconns;
static int conn_base;    /* global index of conns[0] */
static struct sender *senders;
static int nsenders;
static int *dirty_list;
static int ndirty;
static char *rbuf;

/* counters */
static long n_registered, n_failed, n_joined, n_dead, n_dead_after_setup;
static int pending;      /* connects / registrations under way */
static int next_conn;    /* next conns[] slot to open */
static int setup_done;
static long errors_shown;
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
	struct epoll_event ev = { .events = EPOLLIN | (want_out ? EPOLLOUT : 0),
				  .data.u64 = (uint64_t)(c - conns) };
	if (epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->epout = want_out;
}

static void conn_kill(struct conn *c, const char *why)
{
	if (c->state == C_DEAD || c->state == C_FREE)
		return;
	if (c->state == C_CONNECTING || c->state == C_REGISTERING) {
		n_failed++;
		pending--;
	} else {
		n_dead++;
		if (setup_done)
			n_dead_after_setup++;
	}
	if (errors_shown < 5) {
		errors_shown++;
		note("client b%d closed: %s", c->idx, why);
	}
	epoll_ctl(epfd, EPOLL_CTL_DEL, c->fd, NULL);
	close(c->fd);
	c->fd = -1;
	c->state = C_DEAD;
	c->olen = c->plen = 0;
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

static void conn_send(struct conn *c, const char *p, size_t n)
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
	struct sockaddr_in src = { .sin_family = AF_INET };
	int host = 2 + c->idx / opt_per_ip;
	if (host > 254)
		host = 254;
	src.sin_addr.s_addr = htonl((127u << 24) | (uint32_t)host);
	if (bind(fd, (struct sockaddr *)&src, sizeof src) < 0 && errors_shown++ < 5)
		note("bind 127.0.0.%d: %s", host, strerror(errno));
	struct sockaddr_in dst = { .sin_family = AF_INET, .sin_port = htons((uint16_t)opt_port) };
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
	struct epoll_event ev = { .events = EPOLLIN | EPOLLOUT, .data.u64 = (uint64_t)i };
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		die("epoll_ctl: %s", strerror(errno));
	char reg[128];
	int n = snprintf(reg, sizeof reg, "NICK b%d\r\nUSER u 0 * :r\r\n", c->idx);
	out_append(c, reg, (size_t)n);
	pending++;
}

static void open_more(void)
{
	while (next_conn < nconns && pending < opt_window)
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
	} else
		full_bad++;
}

static void on_line(struct conn *c, char *line, size_t len, uint64_t now)
{
	char *end = line + len;
	if (len && end[-1] == '\r')
		end--;
	char *p = line;
	if (p < end && *p == '@') { /* message tags: skip */
		char *sp = memchr(p, ' ', (size_t)(end - p));
		if (!sp)
			return;
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
			}
		} else if ((p[0] == '4' || p[0] == '5') && errors_shown < 5) {
			errors_shown++;
			note("b%d got: %.*s", c->idx, (int)(end - line), line);
		}
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
	for (;;) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl)
			break;
		on_line(c, p, (size_t)(nl - p), now);
		if (c->state == C_DEAD)
			return;
		p = nl + 1;
	}
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

static void alloc_conns(int n, int base)
{
	nconns = n;
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
		if (next_conn >= nconns && pending == 0) {
			if (!need_join || n_joined + n_dead >= n_registered)
				break;
		}
		(void)done;
		uint64_t now = now_us();
		if (now > deadline) {
			note("setup timed out: %ld registered, %ld joined, %d pending", n_registered,
			     n_joined, pending);
			break;
		}
		if (now - last_note > 5000000u) {
			last_note = now;
			note("setup: %ld/%d registered, %ld joined, %ld failed", n_registered, nconns,
			     n_joined, n_failed);
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
			int m = snprintf(msg, sizeof msg, "%ld %ld\n", n_registered - n_dead, n_failed + n_dead);
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
		char buf[64] = { 0 };
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
	       opt_label, n, reg, fail, procs, secs, secs > 0 ? (double)reg / secs : 0, rss0, rss1,
	       per, cpu1 - cpu0);
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
		printf("RESULT mode=full label=%s channels=%d members=%d senders=%d inflight=%d "
		       "joined=%ld setup_s=%.1f msgs=%" PRIu64 " expected=%" PRIu64 " delivered=%" PRIu64
		       " lost=%" PRId64 " secs=%.2f rate=%.0f cpu_s=%.2f per_cpu=%.0f disconnects=%ld "
		       "bad=%" PRIu64 " core_other_pct=%.0f\n",
		       opt_label, nch, m, spc, opt_inflight, joined_at_start, setup_s, sent, full_expected,
		       full_delivered, (int64_t)(full_expected - full_delivered), secs,
		       secs > 0 ? (double)full_delivered / secs : 0, cpu,
		       cpu > 0 ? (double)full_delivered / cpu : 0, n_dead - dead_at_start, full_bad,
		       other_pct(core0, core1, cpu, wall));
		fflush(stdout);
		wait_quiet(300, 3000);
	}

	/* ---- steady-rate latency phase ---- */
	if (opt_rate > 0 && opt_lat > 0) {
		long dead0 = n_dead;
		for (int s = 0; s < nsenders; s++)
			senders[s].sent = 0;
		timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
		struct itimerspec its = { .it_interval = { 0, 1000000 }, .it_value = { 0, 1000000 } };
		timerfd_settime(timer_fd, 0, &its, NULL);
		struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TIMER_TAG };
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
		       "cpu_pct=%.0f disconnects=%ld core_other_pct=%.0f\n",
		       opt_label, nch, m, spc, opt_rate, (double)lat_delivered / (secs > 0 ? secs : 1),
		       lat_sent, lat_expected, lat_delivered, (int64_t)(lat_expected - lat_delivered), p50,
		       p99, mx, cpu1 - cpu0, secs > 0 ? 100.0 * (cpu1 - cpu0) / secs : 0, n_dead - dead0,
		       other_pct(core0, core1, cpu1 - cpu0, secs));
		fflush(stdout);
	}
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
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
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
		pkt[3] = 0x83;                                     /* RA=1, RCODE=NXDOMAIN */
		memset(pkt + 6, 0, 6);                             /* no answer/authority/additional */
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

static void usage(void)
{
	fprintf(stderr,
		"usage: qbench idle|chan [options]\n"
		"  --host A --port P --pid SERVERPID --label TEXT\n"
		"  idle: --clients N [--per-ip N] [--window N]\n"
		"  chan: --channels C --members M --senders S [--full SECS --inflight K]\n"
		"        [--rate MSGS_PER_S --lat SECS] [--textlen N]\n"
		"  --setup-timeout SECS --server-cpu N (core of the server: report other load on it)\n"
		"  dns: --host ADDR --port PORT (answers every DNS query with NXDOMAIN)\n");
	exit(2);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	const char *mode = argv[1];
	static const struct option lo[] = {
		{ "host", 1, 0, 'h' },     { "port", 1, 0, 'p' },     { "pid", 1, 0, 'P' },
		{ "clients", 1, 0, 'n' },  { "per-ip", 1, 0, 'i' },   { "window", 1, 0, 'w' },
		{ "channels", 1, 0, 'c' }, { "members", 1, 0, 'm' },  { "senders", 1, 0, 's' },
		{ "full", 1, 0, 'f' },     { "inflight", 1, 0, 'k' }, { "rate", 1, 0, 'r' },
		{ "lat", 1, 0, 'l' },      { "textlen", 1, 0, 't' },  { "label", 1, 0, 'L' },
		{ "setup-timeout", 1, 0, 'T' }, { "server-cpu", 1, 0, 'C' }, { 0, 0, 0, 0 }
	};
	int o;
	optind = 2;
	while ((o = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (o) {
		case 'h': opt_host = optarg; break;
		case 'p': opt_port = atoi(optarg); break;
		case 'P': opt_pid = atoi(optarg); break;
		case 'n': opt_clients = atoi(optarg); break;
		case 'i': opt_per_ip = atoi(optarg); break;
		case 'w': opt_window = atoi(optarg); break;
		case 'c': opt_channels = atoi(optarg); break;
		case 'm': opt_members = atoi(optarg); break;
		case 's': opt_senders = atoi(optarg); break;
		case 'f': opt_full = atof(optarg); break;
		case 'k': opt_inflight = atoi(optarg); break;
		case 'r': opt_rate = atof(optarg); break;
		case 'l': opt_lat = atof(optarg); break;
		case 't': opt_textlen = atoi(optarg); break;
		case 'L': opt_label = optarg; break;
		case 'T': opt_setup_timeout = atoi(optarg); break;
		case 'C': opt_server_cpu = atoi(optarg); break;
		default: usage();
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
	if (!strcmp(mode, "idle"))
		return run_idle();
	if (!strcmp(mode, "chan"))
		return run_chan();
	usage();
	return 2;
}
