/*
 * floor — the least a chat server can do for the benchmark's channel
 * scenarios, to measure what the kernel alone costs on this machine.
 *
 * It is not an IRC server. It answers just enough of what bench/qbench sends
 * (NICK/USER → 001, JOIN #c → 366, PING → PONG) and relays a channel PRIVMSG
 * to every other member: no parsing beyond the first word, no log, no
 * accounts. What a fan-out costs here is what the loopback TCP path and the
 * wake-ups of the receiving clients cost, which every server in the table
 * pays the same: at a steady load (one line per member and fan-out) its
 * latency shows the band every server lands in on this machine. At full speed
 * it is not a ceiling: a server that gathers more lines per recipient before
 * writing (qund's flush in slices) makes fewer, larger writes. bench/run.sh
 * runs it (server "floor", channel scenarios only) in coalesce mode.
 *
 *   floor PORT [coalesce]
 *
 * Without "coalesce", each delivery is one send(2), the moment the line is
 * read. With it, deliveries are appended to the recipient's buffer and each
 * recipient gets one send(2) after all sockets that epoll reported ready were
 * read (what a server that writes once per loop iteration does).
 * Single-threaded, epoll, level-triggered; a recipient whose socket is full
 * is disconnected (the benchmark's loads never fill one).
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_FD   65536
#define MAX_CHAN 4096
#define RBUF     8192
#define WBUF     65536

struct client {
    int chan, nick, dirty;
    size_t have, out;
    char buf[RBUF];
    char obuf[WBUF];
};

static int coalesce;
static int dirty[MAX_FD], ndirty;

static struct client *cl[MAX_FD];
static int *members[MAX_CHAN];
static int nmembers[MAX_CHAN], capmembers[MAX_CHAN];

static void drop(int ep, int fd)
{
    struct client *c = cl[fd];
    if (!c)
        return;
    if (c->chan >= 0) {
        int *m = members[c->chan];
        for (int i = 0; i < nmembers[c->chan]; i++)
            if (m[i] == fd) {
                m[i] = m[--nmembers[c->chan]];
                break;
            }
    }
    epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
    close(fd);
    free(c);
    cl[fd] = NULL;
}

static void put(int fd, const char *s, size_t n)
{
    struct client *c = cl[fd];
    if (coalesce && c) {
        if (c->out + n > WBUF) {
            shutdown(fd, SHUT_RDWR);
            return;
        }
        memcpy(c->obuf + c->out, s, n);
        c->out += n;
        if (!c->dirty) {
            c->dirty = 1;
            dirty[ndirty++] = fd;
        }
        return;
    }
    if (send(fd, s, n, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)n)
        shutdown(fd, SHUT_RDWR); /* the next read sees it and drops it */
}

static void on_line(int fd, char *p, size_t n)
{
    struct client *c = cl[fd];
    char out[1024];
    if (n > 5 && !memcmp(p, "NICK ", 5)) {
        c->nick = atoi(p + 6); /* "NICK bN" */
    } else if (n > 5 && !memcmp(p, "USER ", 5)) {
        int k = snprintf(out, sizeof out, ":f 001 b%d :hi\r\n", c->nick);
        put(fd, out, (size_t)k);
    } else if (n > 5 && !memcmp(p, "PING ", 5)) {
        int k = snprintf(out, sizeof out, "PONG %.*s\r\n", (int)(n - 5), p + 5);
        put(fd, out, (size_t)k);
    } else if (n > 7 && !memcmp(p, "JOIN #c", 7)) {
        int ch = atoi(p + 7);
        if (ch < 0 || ch >= MAX_CHAN || c->chan >= 0)
            return;
        if (nmembers[ch] == capmembers[ch]) {
            capmembers[ch] = capmembers[ch] ? 2 * capmembers[ch] : 8;
            members[ch] = realloc(members[ch], (size_t)capmembers[ch] * sizeof(int));
            if (!members[ch])
                abort();
        }
        members[ch][nmembers[ch]++] = fd;
        c->chan = ch;
        int k = snprintf(out, sizeof out, ":f 366 b%d #c%d :end\r\n", c->nick, ch);
        put(fd, out, (size_t)k);
    } else if (n > 10 && !memcmp(p, "PRIVMSG #c", 10) && c->chan >= 0) {
        int k = snprintf(out, sizeof out, ":b%d!u@h %.*s\r\n", c->nick, (int)n, p);
        if (k <= 0 || (size_t)k >= sizeof out)
            return;
        int ch = c->chan, *m = members[ch];
        for (int i = 0; i < nmembers[ch]; i++)
            if (m[i] != fd)
                put(m[i], out, (size_t)k);
    }
}

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3 || (argc == 3 && strcmp(argv[2], "coalesce"))) {
        fprintf(stderr, "usage: floor PORT [coalesce]\n");
        return 2;
    }
    coalesce = argc == 3;
    int ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 4096)) {
        perror("floor: listen");
        return 1;
    }
    int ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = ls}, evs[256];
    epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
    for (;;) {
        int n = epoll_wait(ep, evs, 256, -1);
        for (int i = 0; i < n; i++) {
            int fd = evs[i].data.fd;
            if (fd == ls) {
                int s;
                while ((s = accept4(ls, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                    if (s >= MAX_FD) {
                        close(s);
                        continue;
                    }
                    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                    cl[s] = calloc(1, sizeof *cl[s]);
                    if (!cl[s])
                        abort();
                    /* touched now, at registration: calloc may hand out
                     * fresh pages it knows are zero, and their first write
                     * (a page fault each) would land in the first fan-out */
                    memset(cl[s], 0, sizeof *cl[s]);
                    cl[s]->chan = -1;
                    ev.data.fd = s;
                    epoll_ctl(ep, EPOLL_CTL_ADD, s, &ev);
                }
                continue;
            }
            struct client *c = cl[fd];
            if (!c)
                continue;
            ssize_t r = recv(fd, c->buf + c->have, RBUF - c->have, 0);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN)
                    continue;
                drop(ep, fd);
                continue;
            }
            c->have += (size_t)r;
            char *p = c->buf, *end = c->buf + c->have, *nl;
            while ((nl = memchr(p, '\n', (size_t)(end - p)))) {
                size_t len = (size_t)(nl - p);
                if (len && p[len - 1] == '\r')
                    len--;
                on_line(fd, p, len);
                if (!cl[fd])
                    break;
                p = nl + 1;
            }
            if (!cl[fd])
                continue;
            c->have = (size_t)(end - p);
            if (c->have == RBUF)
                c->have = 0; /* an overlong line: forget it */
            memmove(c->buf, p, c->have);
        }
        for (int i = 0; i < ndirty; i++) { /* coalesce: one send per recipient */
            struct client *c = cl[dirty[i]];
            if (!c)
                continue;
            if (send(dirty[i], c->obuf, c->out, MSG_NOSIGNAL | MSG_DONTWAIT) != (ssize_t)c->out)
                shutdown(dirty[i], SHUT_RDWR);
            c->out = 0;
            c->dirty = 0;
        }
        ndirty = 0;
    }
}
