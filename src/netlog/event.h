/*
 * event.h - one network-log event and its canonical bytes (sans-IO).
 *
 * Every event the log keeps (SPEC §9: group messages and removals, joins,
 * parts, kicks, quits, topic/mode/role changes, group life cycle, account
 * registration, verification, login/logout with source and TLS details,
 * operator actions, every access to the log or the vault) is one struct
 * netlog_event. Its leaf hash is
 *
 *     leaf = SHA-256(0x00 || canonical(event))            (RFC 6962 leaf)
 *
 * where canonical() is the fields in a fixed order, each as a 4-byte
 * big-endian length followed by its bytes (integers as decimal text):
 *
 *     seq, at (ms since the epoch), kind, actor, target, code, account,
 *     msgid, body
 *
 * Absent text fields are empty; absent integers are 0. The same function
 * is used by the writer, by verify and by bundle verification, so the
 * bytes hashed can never drift apart. The chain value of record i is
 * SHA-256(chain(i-1) || leaf(i)) (chain(0) = 32 zero bytes): a cheap
 * per-record check that names the first altered record; the signed
 * checkpoints over the Merkle tree (merkle.h, checkpoint.h) are what an
 * attacker who rewrites every chain value still cannot forge.
 *
 * Kinds are short lower-case tokens: "msg", "notice", "tagmsg", "dm",
 * "redact", "join", "part", "kick", "quit", "topic", "mode", "role",
 * "group.create", "group.category", "group.transfer", "group.dissolve",
 * "account.register", "account.verify", "session.login",
 * "session.logout", "audit.<action>" (operator and management actions),
 * "log.access".
 */
#ifndef QUN_NETLOG_EVENT_H
#define QUN_NETLOG_EVENT_H

#include <stddef.h>
#include <stdint.h>

#define NETLOG_HASH_BYTES 32

struct netlog_event {
    int64_t seq;
    int64_t at_ms;
    const char *kind;
    const char *actor;  /* account name, nick!user@host, or "unix:<user>" */
    const char *target; /* group name, nick or account */
    int64_t code;       /* group code, or 0 */
    int64_t account_id; /* the actor's account, or 0 */
    const char *msgid;
    const char *body; /* JSON text: message text and tags, details */
};

/* The event's strings, in this order: kind, actor, target, msgid, body
 * (their lengths fit 32 bits: a line, or a JSON body built from one). */
#define NETLOG_TEXTS 5

/* The leaf hash of e (RFC 6962: SHA-256 over 0x00 and the canonical bytes). */
void netlog_leaf_hash(const struct netlog_event *e, uint8_t out[NETLOG_HASH_BYTES]);
/* The same with the strings' lengths known (NETLOG_TEXTS of them, 0 for a
 * NULL string), as netlog_text_lens gives them. */
void netlog_leaf_hash_lens(const struct netlog_event *e, const uint32_t lens[NETLOG_TEXTS],
                           uint8_t out[NETLOG_HASH_BYTES]);
/* Returns the bytes the strings take with their NULs (NULL ones none). */
size_t netlog_text_lens(const struct netlog_event *e, uint32_t lens[NETLOG_TEXTS]);
/* The same from lengths already known. */
size_t netlog_text_bytes(const struct netlog_event *e, const uint32_t lens[NETLOG_TEXTS]);
/* chain = SHA-256(prev || leaf). */
void netlog_chain_next(const uint8_t prev[NETLOG_HASH_BYTES], const uint8_t leaf[NETLOG_HASH_BYTES],
                       uint8_t out[NETLOG_HASH_BYTES]);

#endif
