/*
 * vault.c - the identity vault: key file, sealing and the identity hash.
 *
 * The contract, the sealed layout and the invariants are in vault.h. This
 * file has three parts: the key file (load, or create when absent), key
 * derivation, and the per-field operations. Only the key-file part does
 * I/O; everything after vault_open is pure computation over the keys.
 */
#include "vault/vault.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

_Static_assert(VAULT_KEY_BYTES == crypto_kdf_KEYBYTES, "master key size");
_Static_assert(VAULT_KEY_BYTES == crypto_aead_xchacha20poly1305_ietf_KEYBYTES, "aead key size");
_Static_assert(VAULT_NONCE_BYTES == crypto_aead_xchacha20poly1305_ietf_NPUBBYTES, "nonce size");
_Static_assert(VAULT_TAG_BYTES == crypto_aead_xchacha20poly1305_ietf_ABYTES, "tag size");
_Static_assert(VAULT_HASH_BYTES == crypto_generichash_BYTES, "hash size");
_Static_assert(VAULT_KEY_BYTES == crypto_generichash_KEYBYTES, "hash key size");

/* crypto_kdf contexts are exactly 8 characters. Changing either one turns
 * every stored ciphertext or hash into garbage: they are part of the format. */
#define VAULT_KDF_ENC_ID  1
#define VAULT_KDF_ENC_CTX "qunvenc1"
#define VAULT_KDF_HSH_ID  2
#define VAULT_KDF_HSH_CTX "qunvhsh1"

#define VAULT_HEADER_BYTES (1 + VAULT_NONCE_BYTES)
#define VAULT_DOC_TYPE_MAX 64
#define VAULT_DOC_NUM_MAX  256

/* Domain tags, so these keys' outputs cannot be confused with anything else
 * a future module computes under a key derived from the same master. */
static const char vault_aead_domain[] = "qun-vault";
static const char vault_hash_domain[] = "qun-identity-v1";

struct vault {
    uint8_t enc_key[VAULT_KEY_BYTES];
    uint8_t hash_key[VAULT_KEY_BYTES];
};

/* ---- the key file ---------------------------------------------------- */

/* The directory part of path, for fsync after creating a file in it. */
static void vault_dir_of(const char *path, char *dir, size_t cap)
{
    const char *slash = strrchr(path, '/');
    if (slash == NULL) {
        snprintf(dir, cap, ".");
    } else if (slash == path) {
        snprintf(dir, cap, "/");
    } else {
        snprintf(dir, cap, "%.*s", (int)(slash - path), path);
    }
}

/* Makes the new directory entry durable: without it a crash right after
 * start-up could lose the key file while data sealed under it survives. */
static int vault_fsync_dir(const char *path)
{
    char dir[PATH_MAX];
    vault_dir_of(path, dir, sizeof dir);
    int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return -1;
    int rc = fsync(dfd);
    close(dfd);
    return rc;
}

static int vault_write_all(int fd, const uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = write(fd, buf, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

/*
 * Creates a new key file with O_EXCL. Returns VAULT_OK with the key, or
 * VAULT_ERR_IO; *raced is set when the file appeared since our open (another
 * process won the race) and the caller should load it instead. A
 * half-written file is removed so the next start does not meet a
 * wrong-sized key.
 */
static enum vault_result vault_key_create(const char *path, uint8_t key[VAULT_KEY_BYTES],
                                          bool *raced, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        *raced = errno == EEXIST;
        snprintf(err, errlen, "cannot create vault key file %s: %s", path, strerror(errno));
        return VAULT_ERR_IO;
    }
    randombytes_buf(key, VAULT_KEY_BYTES);
    /* The umask can only remove bits, but make the mode exact anyway. */
    if (fchmod(fd, 0600) != 0 || vault_write_all(fd, key, VAULT_KEY_BYTES) != 0 || fsync(fd) != 0) {
        int e = errno;
        close(fd);
        unlink(path);
        sodium_memzero(key, VAULT_KEY_BYTES);
        snprintf(err, errlen, "cannot write vault key file %s: %s", path, strerror(e));
        return VAULT_ERR_IO;
    }
    close(fd);
    if (vault_fsync_dir(path) != 0) {
        snprintf(err, errlen, "cannot sync the directory of vault key file %s: %s", path,
                 strerror(errno));
        sodium_memzero(key, VAULT_KEY_BYTES);
        return VAULT_ERR_IO;
    }
    return VAULT_OK;
}

/* Checks an open key file's type, mode and size (invariant 1). */
static enum vault_result vault_key_check(int fd, const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (fstat(fd, &st) != 0) {
        snprintf(err, errlen, "cannot stat vault key file %s: %s", path, strerror(errno));
        return VAULT_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "vault key file %s is not a regular file", path);
        return VAULT_ERR_KEY_PERM;
    }
    if ((st.st_mode & 077) != 0) {
        snprintf(err, errlen,
                 "vault key file %s has mode %04o, readable or writable by group or others; "
                 "it must be 0600 (run: chmod 600 %s) and may already be compromised",
                 path, (unsigned)(st.st_mode & 07777), path);
        return VAULT_ERR_KEY_PERM;
    }
    if (st.st_size != VAULT_KEY_BYTES) {
        snprintf(err, errlen,
                 "vault key file %s is %lld bytes, expected %d; restore it from backup "
                 "(a new key cannot open what the old one sealed)",
                 path, (long long)st.st_size, VAULT_KEY_BYTES);
        return VAULT_ERR_KEY_SIZE;
    }
    return VAULT_OK;
}

/* Reads exactly VAULT_KEY_BYTES after the checks have passed. */
static enum vault_result vault_key_read(int fd, const char *path, uint8_t key[VAULT_KEY_BYTES],
                                        char *err, size_t errlen)
{
    size_t got = 0;
    while (got < VAULT_KEY_BYTES) {
        ssize_t n = read(fd, key + got, VAULT_KEY_BYTES - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            sodium_memzero(key, VAULT_KEY_BYTES);
            if (n == 0) {
                snprintf(err, errlen, "vault key file %s shrank while being read", path);
                return VAULT_ERR_KEY_SIZE;
            }
            snprintf(err, errlen, "cannot read vault key file %s: %s", path, strerror(errno));
            return VAULT_ERR_IO;
        }
        got += (size_t)n;
    }
    return VAULT_OK;
}

/* Loads the key, creating the file when the path does not exist. Two tries:
 * if another process creates the file between our open and our create, the
 * second round loads what it wrote. */
static enum vault_result vault_key_load(const char *path, uint8_t key[VAULT_KEY_BYTES], char *err,
                                        size_t errlen)
{
    for (int round = 0; round < 2; round++) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            bool raced = false;
            enum vault_result r = vault_key_create(path, key, &raced, err, errlen);
            if (r == VAULT_OK || !raced)
                return r;
            continue;
        }
        if (fd < 0) {
            snprintf(err, errlen, "cannot open vault key file %s: %s", path, strerror(errno));
            return VAULT_ERR_IO;
        }
        enum vault_result r = vault_key_check(fd, path, err, errlen);
        if (r == VAULT_OK)
            r = vault_key_read(fd, path, key, err, errlen);
        close(fd);
        return r;
    }
    return VAULT_ERR_IO; /* err already says "cannot create ...: File exists" */
}

/* ---- opening and closing --------------------------------------------- */

enum vault_result vault_open(const char *key_path, struct vault **out, char *err, size_t errlen)
{
    *out = NULL;
    if (errlen > 0)
        err[0] = '\0';
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not be initialised");
        return VAULT_ERR_CRYPTO;
    }
    if (key_path == NULL || key_path[0] == '\0') {
        snprintf(err, errlen, "no vault key file path configured");
        return VAULT_ERR_ARG;
    }
    uint8_t master[VAULT_KEY_BYTES];
    enum vault_result r = vault_key_load(key_path, master, err, errlen);
    if (r != VAULT_OK)
        return r;
    struct vault *v = sodium_malloc(sizeof *v);
    if (v == NULL) {
        sodium_memzero(master, sizeof master);
        snprintf(err, errlen, "out of memory for the vault keys");
        return VAULT_ERR_IO;
    }
    crypto_kdf_derive_from_key(v->enc_key, sizeof v->enc_key, VAULT_KDF_ENC_ID, VAULT_KDF_ENC_CTX,
                               master);
    crypto_kdf_derive_from_key(v->hash_key, sizeof v->hash_key, VAULT_KDF_HSH_ID, VAULT_KDF_HSH_CTX,
                               master);
    sodium_memzero(master, sizeof master);
    /* Read-only from here on: a stray write faults instead of corrupting. */
    sodium_mprotect_readonly(v);
    *out = v;
    return VAULT_OK;
}

void vault_close(struct vault *v)
{
    if (v == NULL)
        return;
    sodium_mprotect_readwrite(v);
    sodium_memzero(v, sizeof *v);
    sodium_free(v);
}

/* ---- sealing and opening fields -------------------------------------- */

static bool vault_field_valid(enum vault_field kind)
{
    return kind == VAULT_FIELD_NAME || kind == VAULT_FIELD_DOC_NUMBER || kind == VAULT_FIELD_PHONE;
}

/* Associated data: domain tag, version, field kind. */
static size_t vault_make_ad(uint8_t version, enum vault_field kind,
                            uint8_t ad[sizeof vault_aead_domain + 2])
{
    memcpy(ad, vault_aead_domain, sizeof vault_aead_domain);
    ad[sizeof vault_aead_domain] = version;
    ad[sizeof vault_aead_domain + 1] = (uint8_t)kind;
    return sizeof vault_aead_domain + 2;
}

enum vault_result vault_seal(const struct vault *v, enum vault_field kind, const void *plaintext,
                             size_t len, uint8_t *out, size_t outcap, size_t *out_len)
{
    if (v == NULL || !vault_field_valid(kind) || len > VAULT_PLAINTEXT_MAX ||
        (plaintext == NULL && len > 0))
        return VAULT_ERR_ARG;
    if (outcap < VAULT_SEALED_LEN(len))
        return VAULT_ERR_SPACE;
    uint8_t buf[VAULT_PLAINTEXT_MAX + VAULT_PAD_BLOCK];
    size_t padded = 0;
    if (len > 0)
        memcpy(buf, plaintext, len);
    if (sodium_pad(&padded, buf, len, VAULT_PAD_BLOCK, sizeof buf) != 0) {
        sodium_memzero(buf, sizeof buf);
        return VAULT_ERR_ARG;
    }
    uint8_t ad[sizeof vault_aead_domain + 2];
    size_t adlen = vault_make_ad(VAULT_VERSION, kind, ad);
    out[0] = VAULT_VERSION;
    randombytes_buf(out + 1, VAULT_NONCE_BYTES);
    unsigned long long clen = 0;
    crypto_aead_xchacha20poly1305_ietf_encrypt(out + VAULT_HEADER_BYTES, &clen, buf, padded, ad,
                                               adlen, NULL, out + 1, v->enc_key);
    sodium_memzero(buf, sizeof buf);
    *out_len = VAULT_HEADER_BYTES + (size_t)clen;
    return VAULT_OK;
}

/* Shape checks before any cryptography: version and a plausible length. */
static enum vault_result vault_check_shape(const uint8_t *sealed, size_t sealed_len)
{
    if (sealed == NULL || sealed_len < VAULT_SEALED_LEN(0) || sealed_len > VAULT_SEALED_MAX)
        return VAULT_ERR_FORMAT;
    if (sealed[0] != VAULT_VERSION)
        return VAULT_ERR_FORMAT;
    if ((sealed_len - VAULT_HEADER_BYTES - VAULT_TAG_BYTES) % VAULT_PAD_BLOCK != 0)
        return VAULT_ERR_FORMAT;
    return VAULT_OK;
}

enum vault_result vault_open_field(const struct vault *v, enum vault_field kind,
                                   const uint8_t *sealed, size_t sealed_len, void *out,
                                   size_t outcap, size_t *out_len)
{
    if (v == NULL || !vault_field_valid(kind) || out_len == NULL)
        return VAULT_ERR_ARG;
    enum vault_result r = vault_check_shape(sealed, sealed_len);
    if (r != VAULT_OK)
        return r;
    uint8_t buf[VAULT_PLAINTEXT_MAX + VAULT_PAD_BLOCK];
    uint8_t ad[sizeof vault_aead_domain + 2];
    size_t adlen = vault_make_ad(sealed[0], kind, ad);
    unsigned long long plen = 0;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(buf, &plen, NULL, sealed + VAULT_HEADER_BYTES,
                                                   sealed_len - VAULT_HEADER_BYTES, ad, adlen,
                                                   sealed + 1, v->enc_key) != 0)
        return VAULT_ERR_AUTH;
    size_t unpadded = 0;
    if (sodium_unpad(&unpadded, buf, (size_t)plen, VAULT_PAD_BLOCK) != 0) {
        /* Authentic but badly padded: only a bug of ours could seal that. */
        r = VAULT_ERR_FORMAT;
    } else if (unpadded > outcap) {
        r = VAULT_ERR_SPACE;
    } else {
        if (unpadded > 0)
            memcpy(out, buf, unpadded);
        *out_len = unpadded;
    }
    sodium_memzero(buf, sizeof buf);
    return r;
}

/* ---- the identity hash ----------------------------------------------- */

enum vault_result vault_identity_hash(const struct vault *v, const char *doc_type,
                                      const char *canonical_doc_number,
                                      uint8_t out[VAULT_HASH_BYTES])
{
    if (v == NULL || doc_type == NULL || canonical_doc_number == NULL)
        return VAULT_ERR_ARG;
    size_t tlen = strlen(doc_type);
    size_t nlen = strlen(canonical_doc_number);
    if (tlen == 0 || tlen > VAULT_DOC_TYPE_MAX || nlen == 0 || nlen > VAULT_DOC_NUM_MAX)
        return VAULT_ERR_ARG;
    /* Lengths are hashed so that ("AB", "C1") and ("A", "BC1") differ. */
    uint8_t tl = (uint8_t)tlen;
    uint8_t nl[2] = {(uint8_t)(nlen >> 8), (uint8_t)nlen};
    crypto_generichash_state st;
    crypto_generichash_init(&st, v->hash_key, sizeof v->hash_key, VAULT_HASH_BYTES);
    crypto_generichash_update(&st, (const uint8_t *)vault_hash_domain, sizeof vault_hash_domain);
    crypto_generichash_update(&st, &tl, 1);
    crypto_generichash_update(&st, (const uint8_t *)doc_type, tlen);
    crypto_generichash_update(&st, nl, sizeof nl);
    crypto_generichash_update(&st, (const uint8_t *)canonical_doc_number, nlen);
    crypto_generichash_final(&st, out, VAULT_HASH_BYTES);
    sodium_memzero(&st, sizeof st);
    return VAULT_OK;
}

bool vault_hash_equal(const uint8_t a[VAULT_HASH_BYTES], const uint8_t b[VAULT_HASH_BYTES])
{
    return sodium_memcmp(a, b, VAULT_HASH_BYTES) == 0;
}

const char *vault_result_code(enum vault_result r)
{
    switch (r) {
    case VAULT_OK:
        return "OK";
    case VAULT_ERR_IO:
        return "KEY_FILE_IO";
    case VAULT_ERR_KEY_PERM:
        return "KEY_FILE_PERMISSIONS";
    case VAULT_ERR_KEY_SIZE:
        return "KEY_FILE_SIZE";
    case VAULT_ERR_ARG:
        return "BAD_ARGUMENT";
    case VAULT_ERR_SPACE:
        return "BUFFER_TOO_SMALL";
    case VAULT_ERR_FORMAT:
        return "NOT_SEALED";
    case VAULT_ERR_AUTH:
        return "AUTHENTICATION_FAILED";
    case VAULT_ERR_CRYPTO:
        return "CRYPTO_INIT";
    }
    return "UNKNOWN";
}
