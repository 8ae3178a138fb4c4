/*
 * checkpoint.c - C2SP signed-note checkpoints with Ed25519 (checkpoint.h).
 */
#include "netlog/checkpoint.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char EM_DASH[] = "\xe2\x80\x94"; /* U+2014, as the note format wants */

static void key_hash_compute(struct checkpoint_key *key)
{
    crypto_hash_sha256_state st;
    uint8_t h[32];
    static const uint8_t nl = '\n', alg = 0x01;
    crypto_hash_sha256_init(&st);
    crypto_hash_sha256_update(&st, (const uint8_t *)key->name, strlen(key->name));
    crypto_hash_sha256_update(&st, &nl, 1);
    crypto_hash_sha256_update(&st, &alg, 1);
    crypto_hash_sha256_update(&st, key->pk, 32);
    crypto_hash_sha256_final(&st, h);
    memcpy(key->key_hash, h, 4);
}

static int body_format(const struct checkpoint *cp, char *out, size_t cap)
{
    char root64[sodium_base64_ENCODED_LEN(NETLOG_HASH_BYTES, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(root64, sizeof root64, cp->root, NETLOG_HASH_BYTES,
                      sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(out, cap, "%s\n%" PRIu64 "\n%s\n", cp->origin, cp->size, root64);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

int checkpoint_sign(const struct checkpoint_key *key, const struct checkpoint *cp, char *out,
                    size_t cap)
{
    int n = body_format(cp, out, cap);
    if (n < 0)
        return -1;
    uint8_t sig[4 + crypto_sign_BYTES];
    memcpy(sig, key->key_hash, 4);
    crypto_sign_detached(sig + 4, NULL, (const uint8_t *)out, (size_t)n, key->sk);
    char sig64[sodium_base64_ENCODED_LEN(sizeof sig, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(sig64, sizeof sig64, sig, sizeof sig, sodium_base64_VARIANT_ORIGINAL);
    int m = snprintf(out + n, cap - (size_t)n, "\n%s %s %s\n", EM_DASH, key->name, sig64);
    return m < 0 || (size_t)m >= cap - (size_t)n ? -1 : n + m;
}

bool checkpoint_verify(const struct checkpoint_key *key, const char *note, size_t len,
                       struct checkpoint *cp)
{
    const char *sep = NULL;
    for (size_t i = 0; i + 1 < len; i++)
        if (note[i] == '\n' && note[i + 1] == '\n') {
            sep = note + i;
            break;
        }
    if (!sep)
        return false;
    size_t body_len = (size_t)(sep - note) + 1;
    /* body: origin, size, root */
    char body[CHECKPOINT_NOTE_MAX];
    if (body_len >= sizeof body)
        return false;
    memcpy(body, note, body_len);
    body[body_len] = '\0';
    char *l1 = body, *l2 = strchr(l1, '\n');
    if (!l2)
        return false;
    *l2++ = '\0';
    char *l3 = strchr(l2, '\n');
    if (!l3)
        return false;
    *l3++ = '\0';
    char *end = strchr(l3, '\n');
    if (!end || strlen(l1) > CHECKPOINT_NAME_MAX)
        return false;
    *end = '\0';
    char *num_end;
    errno = 0;
    unsigned long long size = strtoull(l2, &num_end, 10);
    size_t root_len = 0;
    if (errno || *num_end || num_end == l2 ||
        sodium_base642bin(cp->root, NETLOG_HASH_BYTES, l3, strlen(l3), NULL, &root_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        root_len != NETLOG_HASH_BYTES)
        return false;
    snprintf(cp->origin, sizeof cp->origin, "%s", l1);
    cp->size = size;
    /* the signature lines: find ours */
    const char *p = sep + 2, *stop = note + len;
    char prefix[CHECKPOINT_NAME_MAX + 8];
    int pl = snprintf(prefix, sizeof prefix, "%s %s ", EM_DASH, key->name);
    while (p < stop) {
        const char *nl = memchr(p, '\n', (size_t)(stop - p));
        size_t ll = nl ? (size_t)(nl - p) : (size_t)(stop - p);
        if (ll > (size_t)pl && memcmp(p, prefix, (size_t)pl) == 0) {
            uint8_t sig[4 + crypto_sign_BYTES];
            size_t sl = 0;
            if (sodium_base642bin(sig, sizeof sig, p + pl, ll - (size_t)pl, NULL, &sl, NULL,
                                  sodium_base64_VARIANT_ORIGINAL) == 0 &&
                sl == sizeof sig && memcmp(sig, key->key_hash, 4) == 0 &&
                crypto_sign_verify_detached(sig + 4, (const uint8_t *)note, body_len, key->pk) == 0)
                return true;
        }
        p += ll + 1;
    }
    return false;
}

static int write_file(const char *path, const void *data, size_t len, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
    if (fd < 0)
        return -1;
    ssize_t n = write(fd, data, len);
    int rc = n == (ssize_t)len && fsync(fd) == 0 ? 0 : -1;
    close(fd);
    return rc;
}

int checkpoint_key_load(const char *path, const char *name, struct checkpoint_key *key, char *err,
                        size_t errlen)
{
    if (sodium_init() < 0) {
        snprintf(err, errlen, "libsodium could not be initialised");
        return -1;
    }
    memset(key, 0, sizeof *key);
    snprintf(key->name, sizeof key->name, "%s", name);
    struct stat st;
    if (stat(path, &st) != 0) {
        uint8_t seed[crypto_sign_SEEDBYTES];
        randombytes_buf(seed, sizeof seed);
        crypto_sign_seed_keypair(key->pk, key->sk, seed);
        int rc = write_file(path, seed, sizeof seed, 0600);
        sodium_memzero(seed, sizeof seed);
        if (rc != 0) {
            snprintf(err, errlen, "%s: cannot create the log signing key: %s", path,
                     strerror(errno));
            return -1;
        }
        key_hash_compute(key);
        char pub[512], pubpath[4200];
        int n = checkpoint_key_format_public(key, pub, sizeof pub);
        snprintf(pubpath, sizeof pubpath, "%s.pub", path);
        unlink(pubpath);
        if (n < 0 || write_file(pubpath, pub, (size_t)n, 0644) != 0) {
            snprintf(err, errlen, "%s: cannot write the public key", pubpath);
            return -1;
        }
        return 0;
    }
    if (!S_ISREG(st.st_mode) || (st.st_mode & 077)) {
        snprintf(err, errlen, "%s: the log signing key must be a regular file of mode 0600", path);
        return -1;
    }
    uint8_t seed[crypto_sign_SEEDBYTES];
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ssize_t n = fd >= 0 ? read(fd, seed, sizeof seed) : -1;
    if (fd >= 0)
        close(fd);
    if (n != (ssize_t)sizeof seed || st.st_size != (off_t)sizeof seed) {
        snprintf(err, errlen, "%s: the log signing key must be exactly %zu bytes", path,
                 sizeof seed);
        return -1;
    }
    crypto_sign_seed_keypair(key->pk, key->sk, seed);
    sodium_memzero(seed, sizeof seed);
    key_hash_compute(key);
    return 0;
}

int checkpoint_key_format_public(const struct checkpoint_key *key, char *out, size_t cap)
{
    uint8_t k[33];
    k[0] = 0x01;
    memcpy(k + 1, key->pk, 32);
    char k64[sodium_base64_ENCODED_LEN(33, sodium_base64_VARIANT_ORIGINAL)];
    sodium_bin2base64(k64, sizeof k64, k, sizeof k, sodium_base64_VARIANT_ORIGINAL);
    int n = snprintf(out, cap, "%s+%02x%02x%02x%02x+%s\n", key->name, key->key_hash[0],
                     key->key_hash[1], key->key_hash[2], key->key_hash[3], k64);
    return n < 0 || (size_t)n >= cap ? -1 : n;
}

bool checkpoint_key_parse_public(const char *text, struct checkpoint_key *key)
{
    memset(key, 0, sizeof *key);
    const char *p1 = strchr(text, '+');
    const char *p2 = p1 ? strchr(p1 + 1, '+') : NULL;
    if (!p1 || !p2 || (size_t)(p1 - text) > CHECKPOINT_NAME_MAX || p2 - p1 != 9)
        return false;
    memcpy(key->name, text, (size_t)(p1 - text));
    key->name[p1 - text] = '\0';
    size_t len = strcspn(p2 + 1, "\r\n");
    uint8_t k[33];
    size_t kl = 0;
    if (sodium_base642bin(k, sizeof k, p2 + 1, len, NULL, &kl, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 ||
        kl != 33 || k[0] != 0x01)
        return false;
    memcpy(key->pk, k + 1, 32);
    key_hash_compute(key);
    char hex[9];
    snprintf(hex, sizeof hex, "%02x%02x%02x%02x", key->key_hash[0], key->key_hash[1],
             key->key_hash[2], key->key_hash[3]);
    return strncmp(hex, p1 + 1, 8) == 0;
}

void checkpoint_key_wipe(struct checkpoint_key *key)
{
    sodium_memzero(key, sizeof *key);
}
