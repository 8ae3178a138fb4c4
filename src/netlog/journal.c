/*
 * journal.c - encoding, decoding and the file of the network log's commit
 * records (format in journal.h).
 */
#include "netlog/journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/alloc.h"

#define JOURNAL_MAGIC 0x31524a51u /* "QJR1" read as little-endian bytes */
#define REC_MAX       (64u << 20) /* no single record is larger */

/* ---- CRC-32C (Castagnoli) ---- */

/* The SSE 4.2 instruction where the processor has it (every x86-64 server
 * of the last decade), else a bytewise table. */
static uint32_t crc_table[256];
static bool crc_use_hw;

/* Before main: both are read by the writer and the applier threads. */
__attribute__((constructor)) static void crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t v = i;
        for (int k = 0; k < 8; k++)
            v = v & 1 ? (v >> 1) ^ 0x82f63b78u : v >> 1;
        crc_table[i] = v;
    }
#if defined(__x86_64__)
    crc_use_hw = __builtin_cpu_supports("sse4.2");
#endif
}

static uint32_t crc_soft(uint32_t c, const uint8_t *p, size_t n)
{
    while (n--)
        c = crc_table[(c ^ *p++) & 0xff] ^ (c >> 8);
    return c;
}

#if defined(__x86_64__)
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t c, const uint8_t *p, size_t n)
{
    uint64_t c64 = c;
    while (n >= 8) {
        uint64_t v;
        memcpy(&v, p, 8);
        c64 = __builtin_ia32_crc32di(c64, v);
        p += 8;
        n -= 8;
    }
    c = (uint32_t)c64;
    while (n--)
        c = __builtin_ia32_crc32qi(c, *p++);
    return c;
}
#endif

uint32_t journal_crc32c(const uint8_t *p, size_t n)
{
#if defined(__x86_64__)
    if (crc_use_hw)
        return crc_hw(0xffffffffu, p, n) ^ 0xffffffffu;
#endif
    return crc_soft(0xffffffffu, p, n) ^ 0xffffffffu;
}

/* ---- encoding ---- */

void journal_buf_reserve(struct journal_buf *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = xrealloc(b->p, cap);
        b->cap = cap;
    }
}

static uint8_t *buf_grow(struct journal_buf *b, size_t n)
{
    journal_buf_reserve(b, n);
    uint8_t *out = b->p + b->len;
    b->len += n;
    return out;
}

static void put_u32(struct journal_buf *b, uint32_t v)
{
    uint8_t *p = buf_grow(b, 4);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(struct journal_buf *b, uint64_t v)
{
    uint8_t *p = buf_grow(b, 8);
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_bytes(struct journal_buf *b, const void *s, size_t n)
{
    if (n)
        memcpy(buf_grow(b, n), s, n);
}

/* s with its NUL, after its length with the NUL (0: NULL); len = strlen(s) */
static void put_str_len(struct journal_buf *b, const char *s, size_t len)
{
    size_t n = s ? len + 1 : 0;
    put_u32(b, (uint32_t)n);
    put_bytes(b, s, n);
}

static void put_str(struct journal_buf *b, const char *s)
{
    put_str_len(b, s, s ? strlen(s) : 0);
}

static size_t rec_begin(struct journal_buf *b, char type)
{
    size_t at = b->len;
    put_u32(b, JOURNAL_MAGIC);
    put_u32(b, 0);
    put_u32(b, 0);
    put_bytes(b, &type, 1);
    return at;
}

static void rec_end(struct journal_buf *b, size_t at)
{
    uint32_t len = (uint32_t)(b->len - at - JOURNAL_HEAD_BYTES);
    uint32_t crc = journal_crc32c(b->p + at + JOURNAL_HEAD_BYTES, len);
    for (int i = 0; i < 4; i++) {
        b->p[at + 4 + i] = (uint8_t)(len >> (8 * i));
        b->p[at + 8 + i] = (uint8_t)(crc >> (8 * i));
    }
}

size_t journal_event_bytes(const struct netlog_event *e)
{
    const char *s[] = {e->kind, e->actor, e->target, e->msgid, e->body};
    size_t n = JOURNAL_EVENT_FIXED;
    for (size_t i = 0; i < 5; i++)
        n += s[i] ? strlen(s[i]) + 1 : 0;
    return n;
}

void journal_put_event_lens(struct journal_buf *b, const struct netlog_event *e,
                            const uint32_t lens[NETLOG_TEXTS],
                            const uint8_t leaf[NETLOG_HASH_BYTES],
                            const uint8_t chain[NETLOG_HASH_BYTES])
{
    size_t at = rec_begin(b, 'E');
    put_u64(b, (uint64_t)e->seq);
    put_u64(b, (uint64_t)e->at_ms);
    put_u64(b, (uint64_t)e->code);
    put_u64(b, (uint64_t)e->account_id);
    put_bytes(b, leaf, NETLOG_HASH_BYTES);
    put_bytes(b, chain, NETLOG_HASH_BYTES);
    put_str_len(b, e->kind, lens[0]);
    put_str_len(b, e->actor, lens[1]);
    put_str_len(b, e->target, lens[2]);
    put_str_len(b, e->msgid, lens[3]);
    put_str_len(b, e->body, lens[4]);
    rec_end(b, at);
    b->last_seq = e->seq;
    b->events++;
}

void journal_put_event(struct journal_buf *b, const struct netlog_event *e,
                       const uint8_t leaf[NETLOG_HASH_BYTES],
                       const uint8_t chain[NETLOG_HASH_BYTES])
{
    uint32_t lens[NETLOG_TEXTS];
    netlog_text_lens(e, lens);
    journal_put_event_lens(b, e, lens, leaf, chain);
}

void journal_put_checkpoint(struct journal_buf *b, uint64_t size, int64_t at_ms,
                            const uint8_t root[NETLOG_HASH_BYTES], const char *note,
                            const uint8_t *acc, size_t acc_len)
{
    size_t at = rec_begin(b, 'C');
    put_u64(b, size);
    put_u64(b, (uint64_t)at_ms);
    put_bytes(b, root, NETLOG_HASH_BYTES);
    put_str(b, note);
    put_u32(b, (uint32_t)acc_len);
    put_bytes(b, acc, acc_len);
    rec_end(b, at);
}

void journal_buf_free(struct journal_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- decoding ---- */

struct cursor {
    const uint8_t *p;
    size_t left;
    bool bad;
};

static uint64_t get_u64(struct cursor *c)
{
    if (c->left < 8) {
        c->bad = true;
        return 0;
    }
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)c->p[i] << (8 * i);
    c->p += 8;
    c->left -= 8;
    return v;
}

static uint32_t get_u32(struct cursor *c)
{
    if (c->left < 4) {
        c->bad = true;
        return 0;
    }
    uint32_t v = (uint32_t)c->p[0] | (uint32_t)c->p[1] << 8 | (uint32_t)c->p[2] << 16 |
                 (uint32_t)c->p[3] << 24;
    c->p += 4;
    c->left -= 4;
    return v;
}

static const uint8_t *get_bytes(struct cursor *c, size_t n)
{
    if (c->left < n) {
        c->bad = true;
        return NULL;
    }
    const uint8_t *out = c->p;
    c->p += n;
    c->left -= n;
    return out;
}

/* A string as put_str wrote it: NULL when absent, and then also when its
 * only NUL is not its last byte (c->bad set). */
static const char *get_str(struct cursor *c, uint32_t *len)
{
    uint32_t n = get_u32(c);
    *len = 0;
    if (n == 0)
        return NULL;
    const uint8_t *s = get_bytes(c, n);
    if (!s || memchr(s, '\0', n) != s + n - 1) {
        c->bad = true;
        return NULL;
    }
    *len = n - 1;
    return (const char *)s;
}

size_t journal_decode(const uint8_t *p, size_t avail, struct journal_rec *r, bool check_crc)
{
    if (avail < JOURNAL_HEAD_BYTES + 1)
        return 0;
    struct cursor h = {p, avail, false};
    uint32_t magic = get_u32(&h), len = get_u32(&h), crc = get_u32(&h);
    if (magic != JOURNAL_MAGIC || len == 0 || len > REC_MAX || len > avail - JOURNAL_HEAD_BYTES ||
        (check_crc && journal_crc32c(p + JOURNAL_HEAD_BYTES, len) != crc))
        return 0;
    struct cursor c = {p + JOURNAL_HEAD_BYTES, len, false};
    memset(r, 0, sizeof *r);
    r->type = (char)*get_bytes(&c, 1);
    if (r->type == 'E') {
        r->ev.seq = (int64_t)get_u64(&c);
        r->ev.at_ms = (int64_t)get_u64(&c);
        r->ev.code = (int64_t)get_u64(&c);
        r->ev.account_id = (int64_t)get_u64(&c);
        r->leaf = get_bytes(&c, NETLOG_HASH_BYTES);
        r->chain = get_bytes(&c, NETLOG_HASH_BYTES);
        r->ev.kind = get_str(&c, &r->kind_len);
        r->ev.actor = get_str(&c, &r->actor_len);
        r->ev.target = get_str(&c, &r->target_len);
        r->ev.msgid = get_str(&c, &r->msgid_len);
        r->ev.body = get_str(&c, &r->body_len);
        if (!r->ev.kind)
            c.bad = true;
    } else if (r->type == 'C') {
        r->size = get_u64(&c);
        r->at_ms = (int64_t)get_u64(&c);
        r->root = get_bytes(&c, NETLOG_HASH_BYTES);
        r->note = get_str(&c, &r->note_len);
        r->acc_len = get_u32(&c);
        r->acc = get_bytes(&c, r->acc_len);
        if (!r->note)
            c.bad = true;
    } else {
        c.bad = true;
    }
    if (c.bad || c.left != 0)
        return 0;
    return JOURNAL_HEAD_BYTES + len;
}

size_t journal_valid_prefix(const uint8_t *buf, size_t len)
{
    size_t off = 0;
    int64_t prev = -1; /* seq of the last event, -1 before the first record */
    struct journal_rec r;
    for (;;) {
        size_t n = journal_decode(buf + off, len - off, &r, true);
        if (n == 0)
            break;
        if (r.type == 'E') {
            if (prev >= 0 && r.ev.seq != prev + 1)
                break;
            prev = r.ev.seq;
        } else {
            if (prev >= 0 && (int64_t)r.size != prev)
                break;
            prev = (int64_t)r.size;
        }
        off += n;
    }
    return off;
}

/* The key that orders runs: the seq of the first event a run holds or
 * covers (a checkpoint of size n comes before event n + 1). */
static int64_t run_key(const uint8_t *p, size_t len)
{
    struct journal_rec r;
    if (journal_decode(p, len, &r, true) == 0)
        return INT64_MAX;
    return r.type == 'E' ? r.ev.seq : (int64_t)r.size + 1;
}

void journal_iter_init(struct journal_iter *it, const uint8_t *buf, size_t len, size_t mid)
{
    memset(it, 0, sizeof *it);
    it->buf = buf;
    if (mid > len)
        mid = len;
    size_t off[2] = {0, mid}, n[2];
    int64_t key[2];
    for (int i = 0; i < 2; i++) {
        n[i] = i == 1 && mid == 0 ? 0 : journal_valid_prefix(buf + off[i], len - off[i]);
        key[i] = n[i] ? run_key(buf + off[i], n[i]) : INT64_MAX;
    }
    int first = key[1] < key[0] ? 1 : 0;
    for (int k = 0; k < 2; k++) {
        int i = k == 0 ? first : 1 - first;
        if (n[i] == 0)
            continue;
        it->run_off[it->runs] = off[i];
        it->run_len[it->runs] = n[i];
        it->runs++;
    }
}

bool journal_iter_next(struct journal_iter *it, struct journal_rec *r)
{
    while (it->run < it->runs) {
        size_t left = it->run_len[it->run] - it->at;
        if (left > 0) {
            size_t k = journal_decode(it->buf + it->run_off[it->run] + it->at, left, r, true);
            if (k > 0) {
                it->at += k;
                return true;
            }
        }
        it->run++;
        it->at = 0;
    }
    return false;
}

/* ---- the file ---- */

int journal_open(struct journal *j, const char *path, uint64_t cap, char *err, size_t errlen)
{
    memset(j, 0, sizeof *j);
    j->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (j->fd < 0) {
        snprintf(err, errlen, "netlog: cannot open the journal %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(j->fd, &st) == 0)
        j->found = (uint64_t)st.st_size;
    if (j->found >= cap) {
        j->cap = (uint64_t)st.st_size;
        return 0;
    }
    /* reserve the blocks now: a commit then never allocates, so its
     * fdatasync has no file-system metadata to write, and a full disk is
     * noticed here rather than in the middle of a batch */
    int rc = posix_fallocate(j->fd, 0, (off_t)cap);
    if (rc != 0 && ftruncate(j->fd, (off_t)cap) != 0) {
        snprintf(err, errlen, "netlog: cannot reserve %llu bytes for the journal %s: %s",
                 (unsigned long long)cap, path, strerror(rc));
        close(j->fd);
        j->fd = -1;
        return -1;
    }
    if (fsync(j->fd) != 0) {
        snprintf(err, errlen, "netlog: cannot sync the journal %s: %s", path, strerror(errno));
        close(j->fd);
        j->fd = -1;
        return -1;
    }
    j->cap = cap;
    return 0;
}

int journal_shrink(struct journal *j, uint64_t cap, char *err, size_t errlen)
{
    if (j->cap <= cap)
        return 0;
    if (ftruncate(j->fd, (off_t)cap) != 0 || fsync(j->fd) != 0) {
        snprintf(err, errlen, "netlog: cannot shrink the journal to %llu bytes: %s",
                 (unsigned long long)cap, strerror(errno));
        return -1;
    }
    j->cap = cap;
    if (j->off > cap)
        j->off = 0;
    return 0;
}

/* Reads up to size bytes of fd from offset 0 into a malloc'ed buffer
 * (fewer when the file ends first). */
static int read_whole(int fd, size_t size, const char *prefix, uint8_t **buf, size_t *len,
                      char *err, size_t errlen)
{
    uint8_t *b = xmalloc(size ? size : 1);
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, b + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            snprintf(err, errlen, "%scannot read the journal: %s", prefix, strerror(errno));
            free(b);
            return -1;
        }
        if (n == 0)
            break;
        got += (size_t)n;
    }
    *buf = b;
    *len = got;
    return 0;
}

int journal_load(const char *path, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    *buf = NULL;
    *len = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT)
        return 1;
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot read the journal: %s", strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int rc = -1;
    if ((uint64_t)st.st_size > JOURNAL_FILE_MAX)
        snprintf(err, errlen, "the journal is larger (%lld bytes) than qund ever makes one",
                 (long long)st.st_size);
    else
        rc = read_whole(fd, (size_t)st.st_size, "", buf, len, err, errlen);
    close(fd);
    return rc;
}

void journal_close(struct journal *j)
{
    if (j->fd >= 0)
        close(j->fd);
    j->fd = -1;
}

int journal_read_all(struct journal *j, uint8_t **buf, size_t *len, char *err, size_t errlen)
{
    return read_whole(j->fd, (size_t)j->cap, "netlog: ", buf, len, err, errlen);
}

int journal_append(struct journal *j, const void *p, size_t len)
{
    if (j->off + len > j->cap) {
        errno = ENOSPC;
        return -1;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t n = pwrite(j->fd, (const uint8_t *)p + done, len - done, (off_t)(j->off + done));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                errno = EIO;
            return -1;
        }
        done += (size_t)n;
    }
    if (fdatasync(j->fd) != 0)
        return -1;
    j->off += len;
    return 0;
}

void journal_seek(struct journal *j, uint64_t off)
{
    j->off = off;
}
