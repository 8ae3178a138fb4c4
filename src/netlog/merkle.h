/*
 * merkle.h - RFC 6962 Merkle tree hashing over network-log leaves (sans-IO).
 *
 *   leaf hash   SHA-256(0x00 || data)           (event.h computes it)
 *   node hash   SHA-256(0x01 || left || right)
 *   MTH(D[n])   the RFC 6962 §2.1 tree hash: for n > 1, k is the largest
 *               power of two below n and MTH = node(MTH(D[0:k]), MTH(D[k:n]))
 *
 * struct merkle_acc accumulates leaves in order and gives the root of the
 * tree over everything added so far in O(log n) space: it keeps the roots
 * of the perfect subtrees that make up the current size (one per set bit),
 * which is exactly what a purge must keep so the tree can still be
 * recomputed after old leaves are gone (merkle_acc_restore).
 *
 * Inclusion proofs (RFC 6962 §2.1.1) are computed from an array of leaf
 * hashes; merkle_verify_inclusion checks one against a root with nothing
 * else (the offline bundle check).
 */
#ifndef QUN_NETLOG_MERKLE_H
#define QUN_NETLOG_MERKLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlog/event.h"

#define MERKLE_MAX_HEIGHT 64

struct merkle_acc {
    uint64_t size;
    /* stack[i] is the root of a perfect subtree; sizes strictly decrease */
    uint8_t stack[MERKLE_MAX_HEIGHT][NETLOG_HASH_BYTES];
    uint64_t stack_sizes[MERKLE_MAX_HEIGHT];
    int depth;
};

void merkle_node_hash(const uint8_t left[NETLOG_HASH_BYTES], const uint8_t right[NETLOG_HASH_BYTES],
                      uint8_t out[NETLOG_HASH_BYTES]);

void merkle_acc_init(struct merkle_acc *a);
void merkle_acc_add(struct merkle_acc *a, const uint8_t leaf[NETLOG_HASH_BYTES]);
/* MTH over everything added; the empty tree's root is SHA-256(""). */
void merkle_acc_root(const struct merkle_acc *a, uint8_t out[NETLOG_HASH_BYTES]);

/* The accumulator as bytes (per subtree: 8-byte big-endian size, then the
 * 32-byte root), for checkpoints and purges; returns the length, or 0 when
 * cap is too small. MERKLE_ACC_BYTES_MAX always fits. */
#define MERKLE_ACC_BYTES_MAX (MERKLE_MAX_HEIGHT * (8 + NETLOG_HASH_BYTES))
size_t merkle_acc_serialize(const struct merkle_acc *a, uint8_t *out, size_t cap);
/* The reverse; false for bytes that are not a valid accumulator (sizes
 * must be powers of two, strictly decreasing). */
bool merkle_acc_deserialize(struct merkle_acc *a, const uint8_t *in, size_t len);

/* MTH of leaves[0..n). */
void merkle_root(const uint8_t (*leaves)[NETLOG_HASH_BYTES], size_t n,
                 uint8_t out[NETLOG_HASH_BYTES]);

/* The audit path of leaf m in the tree of leaves[0..n): writes up to
 * MERKLE_MAX_HEIGHT hashes into path and returns their count, or -1 when
 * m >= n. */
int merkle_inclusion_proof(const uint8_t (*leaves)[NETLOG_HASH_BYTES], size_t n, size_t m,
                           uint8_t path[][NETLOG_HASH_BYTES]);
/* True when leaf at index m of a tree of size n hashes up to root. */
bool merkle_verify_inclusion(const uint8_t leaf[NETLOG_HASH_BYTES], uint64_t m, uint64_t n,
                             const uint8_t (*path)[NETLOG_HASH_BYTES], int npath,
                             const uint8_t root[NETLOG_HASH_BYTES]);

#endif
