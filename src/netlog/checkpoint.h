/*
 * checkpoint.h - signed checkpoints of the network log (sans-IO, but for
 * the key file helpers at the end).
 *
 * A checkpoint is the C2SP tlog-checkpoint body
 *
 *     <origin>\n<tree size, decimal>\n<root hash, base64>\n
 *
 * wrapped in a C2SP signed note: the body, an empty line, then one
 * signature line
 *
 *     \u2014 <key name> <base64(key hash[4] || Ed25519 signature[64])>\n
 *
 * where the key hash is the first 4 bytes of SHA-256(key name || "\n" ||
 * 0x01 || public key) (the signed-note Ed25519 key id) and the signature
 * covers exactly the body bytes. The origin and the key name are the
 * server name ("irc.example.cn/qun-log").
 *
 * The signing key is a libsodium Ed25519 secret key in a file of its own,
 * created mode 0600 on first start; the public key is written beside it
 * (".pub", mode 0644) as "<key name>+<hex key hash>+<base64 0x01||pubkey>",
 * the C2SP verifier-key form, for offline verification of bundles.
 */
#ifndef QUN_NETLOG_CHECKPOINT_H
#define QUN_NETLOG_CHECKPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netlog/event.h"

#define CHECKPOINT_NOTE_MAX 1024
#define CHECKPOINT_NAME_MAX 200

struct checkpoint_key {
    char name[CHECKPOINT_NAME_MAX + 1];
    uint8_t pk[32];
    uint8_t sk[64]; /* zero in a verifier-only key */
    uint8_t key_hash[4];
};

struct checkpoint {
    char origin[CHECKPOINT_NAME_MAX + 1];
    uint64_t size;
    uint8_t root[NETLOG_HASH_BYTES];
};

/* Writes the signed note for cp into out (NUL-terminated); returns its
 * length, or -1 when it does not fit. */
int checkpoint_sign(const struct checkpoint_key *key, const struct checkpoint *cp, char *out,
                    size_t cap);
/* Parses and verifies a signed note with key (the signature line must be
 * by key's name and key hash). On success fills *cp and returns true. */
bool checkpoint_verify(const struct checkpoint_key *key, const char *note, size_t len,
                       struct checkpoint *cp);

/* Loads the signing key from path, creating it (0600) and path".pub"
 * (0644) when missing; name is the key name. -1 with a sentence in err. */
int checkpoint_key_load(const char *path, const char *name, struct checkpoint_key *key, char *err,
                        size_t errlen);
/* Parses a verifier key ("name+hash+base64key"), as written to ".pub". */
bool checkpoint_key_parse_public(const char *text, struct checkpoint_key *key);
/* The verifier key text of key into out. */
int checkpoint_key_format_public(const struct checkpoint_key *key, char *out, size_t cap);
void checkpoint_key_wipe(struct checkpoint_key *key);

#endif
