/*
 * loggen.h - writes synthetic network-log databases for tests and
 * benchmarks (test support; nothing in the daemon calls it).
 *
 * netlog_loggen writes N events exactly as the writer (netlog.c) stores
 * them: the schema of schema.h, seq dense from 1, absent text and zero
 * integers as NULL, leaf = netlog_leaf_hash, chain = SHA-256(previous
 * chain || leaf), and a signed checkpoint row (size, root, note, acc)
 * every `checkpoint_every` events and at the end, signed with the key at
 * key_path (made by checkpoint_key_load when missing, so "<key>.pub" is
 * beside it). The content is pseudo-random but fixed by `seed`: mostly
 * group messages with msgids and JSON bodies, some joins, parts and topic
 * changes, so every column is exercised, NULL and not.
 *
 * netlog_loggen_purge removes events 1..upto the way retention does:
 * it records the first seq kept, the chain value before it and the
 * accumulator over the purged leaves in the purged table, in the same
 * transaction as the DELETE.
 *
 * netlog_loggen_rehash plays the attacker who knows the hashing: it
 * recomputes leaf and chain of rows from..to from their current content
 * (but cannot sign anything).
 */
#ifndef QUN_NETLOG_LOGGEN_H
#define QUN_NETLOG_LOGGEN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NETLOG_LOGGEN_DEFAULT_NAME "irc.qun.test/qun-log"

struct netlog_loggen_opts {
    const char *db_path;      /* created; must not hold events yet */
    const char *key_path;     /* signing key, created when missing */
    const char *name;         /* key name and origin; NULL: the default */
    int64_t events;           /* how many */
    int64_t checkpoint_every; /* K; 0: only the final checkpoint */
    bool no_final_checkpoint; /* leave the tail unsigned */
    uint32_t seed;
};

/* 0, or -1 with a sentence in err. */
int netlog_loggen(const struct netlog_loggen_opts *o, char *err, size_t errlen);
int netlog_loggen_purge(const char *db_path, int64_t upto, char *err, size_t errlen);
int netlog_loggen_rehash(const char *db_path, int64_t from, int64_t to, char *err, size_t errlen);

#endif
