/*
 * vault.h - the identity vault: encryption of real names, document numbers
 * and phone numbers, and the keyed identity hash (SPEC §4, issue 3 item 5).
 *
 * Owns one secret, the 32-byte master key, kept in its own file beside the
 * database (never in it, never in the configuration, never in a log line).
 * Two working keys are derived from it with crypto_kdf, each under its own
 * context, so that the encryption key and the hashing key are independent:
 * leaking one says nothing about the other or about the master key.
 *
 *   master key (file, mode 0600)
 *       |-- kdf(id 1, "qunvenc1") --> encryption key (XChaCha20-Poly1305)
 *       '-- kdf(id 2, "qunvhsh1") --> hashing key   (keyed BLAKE2b)
 *
 * Sealed field layout (what the store keeps, a BLOB):
 *
 *   +---------+-----------------+-----------------------------------+
 *   | version | nonce (24 bytes)| AEAD(pad32(plaintext)) + tag (16) |
 *   +---------+-----------------+-----------------------------------+
 *
 * The associated data is a domain tag, the version byte and the field kind:
 * a sealed phone number copied into the real-name column does not open.
 * The plaintext is padded to a multiple of 32 bytes before sealing so the
 * length of a name shows only roughly in the database.
 *
 * Invariants:
 *   1. A vault exists only with a key file that is a regular file of exactly
 *      VAULT_KEY_BYTES bytes and no group/other permission bits; anything
 *      else is refused, never repaired or replaced.
 *   2. A key file is created only when the path does not exist (O_EXCL), with
 *      mode 0600, and is fsynced (file and directory) before it is used.
 *   3. No error sentence contains key bytes, plaintext or ciphertext; only
 *      the path, sizes, modes and errno texts.
 *   4. Keys live in sodium_malloc memory (guarded, locked where allowed) and
 *      are wiped by vault_close; temporary secrets are wiped before return.
 *   5. After vault_open, a vault is read-only: seal, open and hash may be
 *      called from any thread at once (randombytes is thread-safe once
 *      sodium_init has run, which vault_open does).
 */
#ifndef QUN_VAULT_VAULT_H
#define QUN_VAULT_VAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VAULT_KEY_BYTES     32
#define VAULT_HASH_BYTES    32
#define VAULT_VERSION       1
#define VAULT_NONCE_BYTES   24 /* crypto_aead_xchacha20poly1305_ietf_NPUBBYTES */
#define VAULT_TAG_BYTES     16 /* crypto_aead_xchacha20poly1305_ietf_ABYTES */
#define VAULT_PAD_BLOCK     32
#define VAULT_PLAINTEXT_MAX 1024 /* names, numbers and phones are far shorter */

/* Bytes a sealed field of `len` plaintext bytes takes (padding included). */
#define VAULT_SEALED_LEN(len)                                                                      \
    (1 + VAULT_NONCE_BYTES + ((len) / VAULT_PAD_BLOCK + 1) * VAULT_PAD_BLOCK + VAULT_TAG_BYTES)
#define VAULT_SEALED_MAX VAULT_SEALED_LEN(VAULT_PLAINTEXT_MAX)

struct vault;

/* What a sealed value is; bound into the ciphertext. Values are stored in
 * ciphertexts (as associated data): never renumber. */
enum vault_field {
    VAULT_FIELD_NAME = 1,       /* real name as given to the provider */
    VAULT_FIELD_DOC_NUMBER = 2, /* canonical document number */
    VAULT_FIELD_PHONE = 3,      /* E.164 phone number */
};

enum vault_result {
    VAULT_OK = 0,
    VAULT_ERR_IO = -1,       /* reading or creating the key file failed */
    VAULT_ERR_KEY_PERM = -2, /* key file readable by group/others, or not a file */
    VAULT_ERR_KEY_SIZE = -3, /* key file is not exactly VAULT_KEY_BYTES */
    VAULT_ERR_ARG = -4,      /* bad field kind, over-long input, NULL */
    VAULT_ERR_SPACE = -5,    /* the output buffer is too small */
    VAULT_ERR_FORMAT = -6,   /* not a sealed value: too short or unknown version */
    VAULT_ERR_AUTH = -7,     /* tampered, wrong field kind or another key */
    VAULT_ERR_CRYPTO = -8,   /* sodium_init failed */
};

/*
 * Loads the master key from key_path, creating it (0600, fsynced) when the
 * path does not exist, and derives the working keys. On success *out owns
 * the vault (release with vault_close). On failure *out is NULL and err
 * holds a sentence for the operator (path, what is wrong, what to do).
 * Blocks on disk: call at start-up, not from the loop.
 */
enum vault_result vault_open(const char *key_path, struct vault **out, char *err, size_t errlen);

/* Wipes the keys and frees the vault. NULL is allowed. */
void vault_close(struct vault *v);

/*
 * Seals `len` bytes (len <= VAULT_PLAINTEXT_MAX) as field `kind` into out,
 * which needs VAULT_SEALED_LEN(len) bytes; *out_len gets that length.
 * A fresh random nonce is used each time, so equal plaintexts give
 * different ciphertexts (use vault_identity_hash to compare identities).
 */
enum vault_result vault_seal(const struct vault *v, enum vault_field kind, const void *plaintext,
                             size_t len, uint8_t *out, size_t outcap, size_t *out_len);

/*
 * Opens a sealed field that must have been sealed as `kind` by this master
 * key. The plaintext goes to out (at most VAULT_PLAINTEXT_MAX bytes, no NUL
 * added); the caller wipes it with sodium_memzero when done. On any failure
 * nothing of the plaintext is left in out.
 */
enum vault_result vault_open_field(const struct vault *v, enum vault_field kind,
                                   const uint8_t *sealed, size_t sealed_len, void *out,
                                   size_t outcap, size_t *out_len);

/*
 * The identity hash: keyed BLAKE2b over the document type token (the stable
 * name from idcheck_type_name) and the canonical document number (from
 * idcheck_normalise). Equal for the same person and document under one
 * master key; this is what limits accounts per identity and what the
 * blacklist matches. Returns VAULT_ERR_ARG for empty or over-long input.
 */
enum vault_result vault_identity_hash(const struct vault *v, const char *doc_type,
                                      const char *canonical_doc_number,
                                      uint8_t out[VAULT_HASH_BYTES]);

/* Constant-time equality of two identity hashes. */
bool vault_hash_equal(const uint8_t a[VAULT_HASH_BYTES], const uint8_t b[VAULT_HASH_BYTES]);

/* A stable upper-case token for a result (for logs and qunctl). */
const char *vault_result_code(enum vault_result r);

#endif
