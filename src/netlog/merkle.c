/*
 * merkle.c - RFC 6962 tree hashes, the incremental accumulator and
 * inclusion proofs (see merkle.h).
 */
#include "netlog/merkle.h"

#include <sodium.h>

#include "netlog/sha256.h"
#include <string.h>

void merkle_node_hash(const uint8_t left[NETLOG_HASH_BYTES], const uint8_t right[NETLOG_HASH_BYTES],
                      uint8_t out[NETLOG_HASH_BYTES])
{
    uint8_t buf[1 + 2 * NETLOG_HASH_BYTES];
    buf[0] = 0x01; /* RFC 6962 node prefix */
    memcpy(buf + 1, left, NETLOG_HASH_BYTES);
    memcpy(buf + 1 + NETLOG_HASH_BYTES, right, NETLOG_HASH_BYTES);
    struct sha256_ctx *ctx = sha256_begin();
    sha256_update(ctx, buf, sizeof buf);
    sha256_finish(ctx, out);
}

void merkle_acc_init(struct merkle_acc *a)
{
    memset(a, 0, sizeof *a);
}

void merkle_acc_add(struct merkle_acc *a, const uint8_t leaf[NETLOG_HASH_BYTES])
{
    uint8_t cur[NETLOG_HASH_BYTES];
    uint64_t cur_size = 1;
    memcpy(cur, leaf, NETLOG_HASH_BYTES);
    /* merge equal-sized perfect subtrees, like carrying in binary addition */
    while (a->depth > 0 && a->stack_sizes[a->depth - 1] == cur_size) {
        uint8_t merged[NETLOG_HASH_BYTES];
        merkle_node_hash(a->stack[a->depth - 1], cur, merged);
        memcpy(cur, merged, NETLOG_HASH_BYTES);
        cur_size *= 2;
        a->depth--;
    }
    memcpy(a->stack[a->depth], cur, NETLOG_HASH_BYTES);
    a->stack_sizes[a->depth] = cur_size;
    a->depth++;
    a->size++;
}

void merkle_acc_root(const struct merkle_acc *a, uint8_t out[NETLOG_HASH_BYTES])
{
    if (a->depth == 0) {
        crypto_hash_sha256(out, (const unsigned char *)"", 0);
        return;
    }
    /* RFC 6962 splits at the largest power of two: fold from the right */
    uint8_t acc[NETLOG_HASH_BYTES];
    memcpy(acc, a->stack[a->depth - 1], NETLOG_HASH_BYTES);
    for (int i = a->depth - 2; i >= 0; i--) {
        uint8_t h[NETLOG_HASH_BYTES];
        merkle_node_hash(a->stack[i], acc, h);
        memcpy(acc, h, NETLOG_HASH_BYTES);
    }
    memcpy(out, acc, NETLOG_HASH_BYTES);
}

static size_t split_point(size_t n)
{
    size_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

void merkle_root(const uint8_t (*leaves)[NETLOG_HASH_BYTES], size_t n,
                 uint8_t out[NETLOG_HASH_BYTES])
{
    if (n == 0) {
        crypto_hash_sha256(out, (const unsigned char *)"", 0);
        return;
    }
    if (n == 1) {
        memcpy(out, leaves[0], NETLOG_HASH_BYTES);
        return;
    }
    size_t k = split_point(n);
    uint8_t l[NETLOG_HASH_BYTES], r[NETLOG_HASH_BYTES];
    merkle_root(leaves, k, l);
    merkle_root(leaves + k, n - k, r);
    merkle_node_hash(l, r, out);
}

/* RFC 6962 PATH(m, D[n]) */
static int proof_rec(const uint8_t (*leaves)[NETLOG_HASH_BYTES], size_t n, size_t m,
                     uint8_t path[][NETLOG_HASH_BYTES], int at)
{
    if (n <= 1)
        return at;
    size_t k = split_point(n);
    if (m < k) {
        at = proof_rec(leaves, k, m, path, at);
        merkle_root(leaves + k, n - k, path[at]);
    } else {
        at = proof_rec(leaves + k, n - k, m - k, path, at);
        merkle_root(leaves, k, path[at]);
    }
    return at + 1;
}

int merkle_inclusion_proof(const uint8_t (*leaves)[NETLOG_HASH_BYTES], size_t n, size_t m,
                           uint8_t path[][NETLOG_HASH_BYTES])
{
    if (m >= n)
        return -1;
    return proof_rec(leaves, n, m, path, 0);
}

/* RFC 9162 §2.1.3.2 verification of an inclusion proof. */
bool merkle_verify_inclusion(const uint8_t leaf[NETLOG_HASH_BYTES], uint64_t m, uint64_t n,
                             const uint8_t (*path)[NETLOG_HASH_BYTES], int npath,
                             const uint8_t root[NETLOG_HASH_BYTES])
{
    if (m >= n)
        return false;
    uint64_t fn = m, sn = n - 1;
    uint8_t r[NETLOG_HASH_BYTES];
    memcpy(r, leaf, NETLOG_HASH_BYTES);
    for (int i = 0; i < npath; i++) {
        if (sn == 0)
            return false;
        uint8_t h[NETLOG_HASH_BYTES];
        if ((fn & 1) || fn == sn) {
            merkle_node_hash(path[i], r, h);
            if (!(fn & 1))
                while (fn && !(fn & 1)) {
                    fn >>= 1;
                    sn >>= 1;
                }
        } else {
            merkle_node_hash(r, path[i], h);
        }
        memcpy(r, h, NETLOG_HASH_BYTES);
        fn >>= 1;
        sn >>= 1;
    }
    return sn == 0 && sodium_memcmp(r, root, NETLOG_HASH_BYTES) == 0;
}

size_t merkle_acc_serialize(const struct merkle_acc *a, uint8_t *out, size_t cap)
{
    size_t need = (size_t)a->depth * (8 + NETLOG_HASH_BYTES);
    if (need > cap)
        return 0;
    uint8_t *p = out;
    for (int i = 0; i < a->depth; i++) {
        for (int b = 7; b >= 0; b--)
            *p++ = (uint8_t)(a->stack_sizes[i] >> (8 * b));
        memcpy(p, a->stack[i], NETLOG_HASH_BYTES);
        p += NETLOG_HASH_BYTES;
    }
    return need;
}

bool merkle_acc_deserialize(struct merkle_acc *a, const uint8_t *in, size_t len)
{
    merkle_acc_init(a);
    if (len % (8 + NETLOG_HASH_BYTES) || len / (8 + NETLOG_HASH_BYTES) > MERKLE_MAX_HEIGHT)
        return false;
    for (size_t off = 0; off < len; off += 8 + NETLOG_HASH_BYTES) {
        uint64_t sz = 0;
        for (int b = 0; b < 8; b++)
            sz = (sz << 8) | in[off + (size_t)b];
        if (sz == 0 || (sz & (sz - 1)) || (a->depth > 0 && sz >= a->stack_sizes[a->depth - 1]))
            return false;
        a->stack_sizes[a->depth] = sz;
        memcpy(a->stack[a->depth], in + off + 8, NETLOG_HASH_BYTES);
        a->depth++;
        a->size += sz;
    }
    return true;
}
