/*
 * fuzz_vault.c - libFuzzer target for vault_open_field (vault/vault.c), the
 * function that reads sealed BLOBs back from the store.
 *
 * Set-up, once per process: a temporary directory is made, a key file
 * holding FUZZ_KEY (a fixed, public, fuzzing-only key) is written into it
 * with mode 0600, the vault is opened on it, and the file and directory are
 * removed at once (the vault keeps the derived keys in memory). The key is
 * fixed so that the seed corpus can hold genuine sealed values and the
 * success path is reached; those seeds were sealed under the same key and
 * their plaintext starts with SEED_MARKER followed by the field kind digit.
 *
 * Input: the whole input is one sealed value, given to vault_open_field
 * for every field kind, and for two kinds that do not exist.
 *
 * Checked on every input, beyond "no crash, no sanitizer report, no read
 * past the given bytes" (the input is copied into an exactly-sized heap
 * buffer):
 *   - the result is one of the documented ones; unknown kinds give ARG;
 *   - random bytes never open: OK is only allowed for a genuine seed, so
 *     the plaintext must start with SEED_MARKER and name the kind it was
 *     opened as; forging that means forging Poly1305 under an unknown key;
 *   - a value opens as at most one kind (the kind is bound into the
 *     ciphertext), its plaintext fits VAULT_PLAINTEXT_MAX, and its length
 *     is exactly VAULT_SEALED_LEN(plaintext length);
 *   - on failure nothing is written to the output buffer or *out_len.
 */
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vault/vault.h"
#include "fuzz.h"

#define SEED_MARKER     "qun-fuzz-seed/"
#define SEED_MARKER_LEN (sizeof SEED_MARKER - 1)
#define FILL            0xA5

/* Checks stay on in every build (assert would vanish under NDEBUG, and a
 * fuzz harness that checks nothing only finds crashes). */
/* Not a secret: it exists so that seeds can be genuine sealed values. */
static const uint8_t FUZZ_KEY[VAULT_KEY_BYTES] = {
    'q', 'u', 'n', '-', 'f', 'u', 'z', 'z', '-', 'o', 'n', 'l', 'y', '-', 'k', 'e',
    'y', '-', 'n', 'o', 't', '-', 'a', '-', 's', 'e', 'c', 'r', 'e', 't', '!', '!'};

static struct vault *vault;

static void write_key(const char *path)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
    CHECK(fd >= 0);
    ssize_t n = write(fd, FUZZ_KEY, sizeof FUZZ_KEY);
    CHECK(n == (ssize_t)sizeof FUZZ_KEY);
    close(fd);
}

static void init_once(void)
{
    if (vault != NULL)
        return;
    char dir[] = "/tmp/qun-fuzz-vault-XXXXXX";
    char path[sizeof dir + 16];
    char err[512];
    char *made = mkdtemp(dir);
    CHECK(made != NULL);
    snprintf(path, sizeof path, "%s/vault.key", dir);
    write_key(path);
    enum vault_result r = vault_open(path, &vault, err, sizeof err);
    if (r != VAULT_OK) {
        fprintf(stderr, "fuzz_vault: vault_open: %s\n", err);
        abort();
    }
    unlink(path);
    rmdir(dir);
}

static bool all_fill(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != FILL)
            return false;
    return true;
}

/* Opens the input as `kind`; returns the result after checking it. */
static enum vault_result open_as(int kind, const uint8_t *sealed, size_t size)
{
    static uint8_t out[VAULT_PLAINTEXT_MAX];
    size_t out_len = (size_t)-1;
    memset(out, FILL, sizeof out);
    enum vault_result r =
        vault_open_field(vault, (enum vault_field)kind, sealed, size, out, sizeof out, &out_len);
    if (r != VAULT_OK) {
        CHECK(r == VAULT_ERR_ARG || r == VAULT_ERR_FORMAT || r == VAULT_ERR_AUTH ||
              r == VAULT_ERR_SPACE);
        CHECK(out_len == (size_t)-1 && all_fill(out, sizeof out));
        return r;
    }
    /* Only a genuine seed can get here: check it is one, as this kind. */
    CHECK(out_len <= VAULT_PLAINTEXT_MAX && size == VAULT_SEALED_LEN(out_len));
    CHECK(out_len > SEED_MARKER_LEN && memcmp(out, SEED_MARKER, SEED_MARKER_LEN) == 0);
    CHECK(out[SEED_MARKER_LEN] == '0' + kind);
    return r;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    uint8_t *sealed = malloc(size ? size : 1);
    memcpy(sealed, data, size);
    int opened = 0;
    for (int kind = VAULT_FIELD_NAME; kind <= VAULT_FIELD_PHONE; kind++)
        if (open_as(kind, sealed, size) == VAULT_OK)
            opened++;
    CHECK(opened <= 1);
    enum vault_result none = open_as(0, sealed, size);
    enum vault_result past = open_as(VAULT_FIELD_PHONE + 1, sealed, size);
    CHECK(none == VAULT_ERR_ARG && past == VAULT_ERR_ARG);
    free(sealed);
    return 0;
}
