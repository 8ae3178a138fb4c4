/*
 * test_vault.c - unit tests for vault/vault.c: the key file (created 0600,
 * reused across opens, refused when too open or the wrong size, errors
 * that never carry key bytes), sealing round trips for Chinese names,
 * tampering and field-kind binding, the identity hash, and that sealed
 * bytes never contain the plaintext.
 *
 * Every test works in a fresh temporary directory removed by teardown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <pthread.h>
#include <unistd.h>

#include "identity/idcheck.h"
#include "vault/vault.h"

static char dir[] = "/tmp/qun-vault-XXXXXX";
static char path[256];
static char err[512];

static int setup(void **state)
{
    (void)state;
    strcpy(dir, "/tmp/qun-vault-XXXXXX");
    if (mkdtemp(dir) == NULL)
        return -1;
    snprintf(path, sizeof path, "%s/vault.key", dir);
    err[0] = '\0';
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char p[300];
    snprintf(p, sizeof p, "%s/vault.key", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/other.key", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/sub", dir);
    rmdir(p);
    return rmdir(dir);
}

static void write_file(const char *p, const uint8_t *bytes, size_t len, mode_t mode)
{
    int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, bytes, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static struct vault *open_ok(const char *p)
{
    struct vault *v = NULL;
    enum vault_result r = vault_open(p, &v, err, sizeof err);
    if (r != VAULT_OK)
        fail_msg("vault_open: %s", err);
    assert_non_null(v);
    return v;
}

/* The error text must hold no run of key bytes, raw or in hex. */
static void assert_no_key_in(const char *text, const uint8_t key[VAULT_KEY_BYTES])
{
    size_t tlen = strlen(text);
    for (size_t i = 0; i + 4 <= VAULT_KEY_BYTES; i++)
        assert_null(memmem(text, tlen, key + i, 4));
    char hex[2 * VAULT_KEY_BYTES + 1];
    sodium_bin2hex(hex, sizeof hex, key, VAULT_KEY_BYTES);
    for (size_t i = 0; i + 8 <= 2 * VAULT_KEY_BYTES; i += 2)
        assert_null(strcasestr(text, (char[9]){hex[i], hex[i + 1], hex[i + 2], hex[i + 3],
                                               hex[i + 4], hex[i + 5], hex[i + 6], hex[i + 7], 0}));
}

static void seal_ok(struct vault *v, enum vault_field kind, const char *s, uint8_t *out,
                    size_t *out_len)
{
    assert_int_equal(vault_seal(v, kind, s, strlen(s), out, VAULT_SEALED_MAX, out_len), VAULT_OK);
    assert_int_equal(*out_len, VAULT_SEALED_LEN(strlen(s)));
}

static void test_key_file_created_0600(void **state)
{
    (void)state;
    mode_t old = umask(0); /* even a careless umask must not widen the mode */
    struct vault *v = open_ok(path);
    umask(old);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_true(S_ISREG(st.st_mode));
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, VAULT_KEY_BYTES);
    assert_string_equal(err, "");
    vault_close(v);
    vault_close(NULL);
}

static void test_reopen_same_keys(void **state)
{
    (void)state;
    struct vault *a = open_ok(path);
    uint8_t sealed[VAULT_SEALED_MAX], h1[VAULT_HASH_BYTES], h2[VAULT_HASH_BYTES];
    size_t slen;
    seal_ok(a, VAULT_FIELD_PHONE, "+8613800138000", sealed, &slen);
    assert_int_equal(vault_identity_hash(a, "cn-id", "11010519491231002X", h1), VAULT_OK);
    vault_close(a);

    struct vault *b = open_ok(path);
    char plain[VAULT_PLAINTEXT_MAX];
    size_t plen = 0;
    assert_int_equal(
        vault_open_field(b, VAULT_FIELD_PHONE, sealed, slen, plain, sizeof plain, &plen), VAULT_OK);
    assert_int_equal(plen, strlen("+8613800138000"));
    assert_memory_equal(plain, "+8613800138000", plen);
    assert_int_equal(vault_identity_hash(b, "cn-id", "11010519491231002X", h2), VAULT_OK);
    assert_true(vault_hash_equal(h1, h2));
    vault_close(b);
}

static void test_group_readable_key_refused(void **state)
{
    (void)state;
    uint8_t key[VAULT_KEY_BYTES];
    randombytes_buf(key, sizeof key);
    write_file(path, key, sizeof key, 0644);
    struct vault *v = (struct vault *)1;
    assert_int_equal(vault_open(path, &v, err, sizeof err), VAULT_ERR_KEY_PERM);
    assert_null(v);
    assert_non_null(strstr(err, path));
    assert_non_null(strstr(err, "0644"));
    assert_non_null(strstr(err, "chmod 600"));
    assert_no_key_in(err, key);
    /* Group-writable only is refused too. */
    assert_int_equal(chmod(path, 0620), 0);
    assert_int_equal(vault_open(path, &v, err, sizeof err), VAULT_ERR_KEY_PERM);
    assert_no_key_in(err, key);
    /* Once fixed, it opens; the file was not replaced. */
    assert_int_equal(chmod(path, 0600), 0);
    struct vault *ok = open_ok(path);
    vault_close(ok);
    uint8_t again[VAULT_KEY_BYTES];
    int fd = open(path, O_RDONLY);
    assert_int_equal(read(fd, again, sizeof again), (ssize_t)sizeof again);
    close(fd);
    assert_memory_equal(key, again, sizeof key);
}

static void test_wrong_size_key_refused(void **state)
{
    (void)state;
    uint8_t key[VAULT_KEY_BYTES + 1];
    randombytes_buf(key, sizeof key);
    struct vault *v = NULL;
    static const size_t sizes[] = {0, 1, VAULT_KEY_BYTES - 1, VAULT_KEY_BYTES + 1};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        write_file(path, key, sizes[i], 0600);
        assert_int_equal(vault_open(path, &v, err, sizeof err), VAULT_ERR_KEY_SIZE);
        assert_null(v);
        assert_non_null(strstr(err, path));
        assert_non_null(strstr(err, "expected 32"));
        assert_no_key_in(err, key);
        /* Never silently replaced: the truncated file is still there. */
        struct stat st;
        assert_int_equal(stat(path, &st), 0);
        assert_int_equal(st.st_size, (off_t)sizes[i]);
    }
}

static void test_bad_key_paths(void **state)
{
    (void)state;
    struct vault *v = NULL;
    char p[300];
    snprintf(p, sizeof p, "%s/sub", dir);
    assert_int_equal(mkdir(p, 0700), 0);
    assert_int_equal(vault_open(p, &v, err, sizeof err), VAULT_ERR_KEY_PERM);
    assert_non_null(strstr(err, "not a regular file"));
    snprintf(p, sizeof p, "%s/missing/vault.key", dir);
    assert_int_equal(vault_open(p, &v, err, sizeof err), VAULT_ERR_IO);
    assert_non_null(strstr(err, "cannot create"));
    assert_int_equal(vault_open("", &v, err, sizeof err), VAULT_ERR_ARG);
    assert_null(v);
}

static void test_round_trip_chinese_names(void **state)
{
    (void)state;
    struct vault *v = open_ok(path);
    static const char *names[] = {
        "张伟", "欧阳娜娜", "阿卜杜热合曼·买买提", "李", "", "Zhang Wei 张伟", "𠮷野家",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        uint8_t sealed[VAULT_SEALED_MAX];
        size_t slen, plen = 99;
        char plain[VAULT_PLAINTEXT_MAX];
        seal_ok(v, VAULT_FIELD_NAME, names[i], sealed, &slen);
        assert_int_equal(sealed[0], VAULT_VERSION);
        assert_int_equal(
            vault_open_field(v, VAULT_FIELD_NAME, sealed, slen, plain, sizeof plain, &plen),
            VAULT_OK);
        assert_int_equal(plen, strlen(names[i]));
        assert_memory_equal(plain, names[i], plen);
    }
    /* The largest allowed plaintext, and one byte more. */
    static char big[VAULT_PLAINTEXT_MAX + 1];
    memset(big, 0xE5, sizeof big);
    static uint8_t sealed[VAULT_SEALED_MAX];
    size_t slen;
    assert_int_equal(
        vault_seal(v, VAULT_FIELD_NAME, big, VAULT_PLAINTEXT_MAX, sealed, sizeof sealed, &slen),
        VAULT_OK);
    assert_int_equal(slen, VAULT_SEALED_MAX);
    static char plain[VAULT_PLAINTEXT_MAX];
    size_t plen;
    assert_int_equal(
        vault_open_field(v, VAULT_FIELD_NAME, sealed, slen, plain, sizeof plain, &plen), VAULT_OK);
    assert_int_equal(plen, VAULT_PLAINTEXT_MAX);
    assert_int_equal(vault_seal(v, VAULT_FIELD_NAME, big, sizeof big, sealed, sizeof sealed, &slen),
                     VAULT_ERR_ARG);
    vault_close(v);
}

static void test_padding_hides_exact_length(void **state)
{
    (void)state;
    struct vault *v = open_ok(path);
    uint8_t a[VAULT_SEALED_MAX], b[VAULT_SEALED_MAX];
    size_t alen, blen;
    seal_ok(v, VAULT_FIELD_NAME, "李", a, &alen);
    seal_ok(v, VAULT_FIELD_NAME, "阿卜杜热合曼", b, &blen);
    assert_int_equal(alen, blen);
    /* Fresh nonces: the same plaintext never seals to the same bytes. */
    seal_ok(v, VAULT_FIELD_NAME, "李", b, &blen);
    assert_memory_not_equal(a, b, alen);
    vault_close(v);
}

static void test_tampering_refused(void **state)
{
    (void)state;
    struct vault *v = open_ok(path);
    uint8_t sealed[VAULT_SEALED_MAX];
    size_t slen, plen;
    char plain[VAULT_PLAINTEXT_MAX];
    seal_ok(v, VAULT_FIELD_DOC_NUMBER, "11010519491231002X", sealed, &slen);
    for (size_t i = 0; i < slen; i++) {
        for (int bit = 0; bit < 8; bit++) {
            memset(plain, 0, sizeof plain);
            sealed[i] ^= (uint8_t)(1u << bit);
            enum vault_result r = vault_open_field(v, VAULT_FIELD_DOC_NUMBER, sealed, slen, plain,
                                                   sizeof plain, &plen);
            assert_int_equal(r, i == 0 ? VAULT_ERR_FORMAT : VAULT_ERR_AUTH);
            /* Nothing of the plaintext leaks into out on failure. */
            assert_null(memmem(plain, sizeof plain, "1101", 4));
            sealed[i] ^= (uint8_t)(1u << bit);
        }
    }
    /* Truncated, extended, empty. */
    assert_int_equal(
        vault_open_field(v, VAULT_FIELD_DOC_NUMBER, sealed, slen - 1, plain, sizeof plain, &plen),
        VAULT_ERR_FORMAT);
    assert_int_equal(vault_open_field(v, VAULT_FIELD_DOC_NUMBER, sealed, slen - VAULT_PAD_BLOCK,
                                      plain, sizeof plain, &plen),
                     VAULT_ERR_FORMAT);
    assert_int_equal(
        vault_open_field(v, VAULT_FIELD_DOC_NUMBER, sealed, 0, plain, sizeof plain, &plen),
        VAULT_ERR_FORMAT);
    /* Still opens untouched. */
    assert_int_equal(
        vault_open_field(v, VAULT_FIELD_DOC_NUMBER, sealed, slen, plain, sizeof plain, &plen),
        VAULT_OK);
    /* Too small an output buffer is an error, not a truncation. */
    assert_int_equal(vault_open_field(v, VAULT_FIELD_DOC_NUMBER, sealed, slen, plain, 5, &plen),
                     VAULT_ERR_SPACE);
    vault_close(v);
}

static void test_wrong_field_or_key_refused(void **state)
{
    (void)state;
    struct vault *v = open_ok(path);
    char other_path[300];
    snprintf(other_path, sizeof other_path, "%s/other.key", dir);
    struct vault *w = open_ok(other_path);
    uint8_t sealed[VAULT_SEALED_MAX];
    size_t slen, plen;
    char plain[VAULT_PLAINTEXT_MAX];
    seal_ok(v, VAULT_FIELD_PHONE, "+8613800138000", sealed, &slen);
    assert_int_equal(
        vault_open_field(v, VAULT_FIELD_NAME, sealed, slen, plain, sizeof plain, &plen),
        VAULT_ERR_AUTH);
    assert_int_equal(
        vault_open_field(v, VAULT_FIELD_DOC_NUMBER, sealed, slen, plain, sizeof plain, &plen),
        VAULT_ERR_AUTH);
    assert_int_equal(
        vault_open_field(w, VAULT_FIELD_PHONE, sealed, slen, plain, sizeof plain, &plen),
        VAULT_ERR_AUTH);
    assert_int_equal(
        vault_open_field(v, (enum vault_field)9, sealed, slen, plain, sizeof plain, &plen),
        VAULT_ERR_ARG);
    assert_int_equal(vault_seal(v, (enum vault_field)0, "x", 1, sealed, sizeof sealed, &slen),
                     VAULT_ERR_ARG);
    assert_int_equal(
        vault_seal(v, VAULT_FIELD_NAME, "x", 1, sealed, VAULT_SEALED_LEN(1) - 1, &slen),
        VAULT_ERR_SPACE);
    vault_close(w);
    vault_close(v);
}

static void test_identity_hash(void **state)
{
    (void)state;
    struct vault *v = open_ok(path);
    char other_path[300];
    snprintf(other_path, sizeof other_path, "%s/other.key", dir);
    struct vault *w = open_ok(other_path);
    uint8_t a[VAULT_HASH_BYTES], b[VAULT_HASH_BYTES];
    const char *num = "11010519491231002X";
    assert_int_equal(vault_identity_hash(v, "cn-id", num, a), VAULT_OK);
    assert_int_equal(vault_identity_hash(v, "cn-id", num, b), VAULT_OK);
    assert_true(vault_hash_equal(a, b));
    assert_int_equal(vault_identity_hash(v, "passport", num, b), VAULT_OK);
    assert_false(vault_hash_equal(a, b));
    assert_int_equal(vault_identity_hash(v, "cn-id", "110105194912310021", b), VAULT_OK);
    assert_false(vault_hash_equal(a, b));
    assert_int_equal(vault_identity_hash(w, "cn-id", num, b), VAULT_OK);
    assert_false(vault_hash_equal(a, b));
    /* The boundary between type and number is part of what is hashed. */
    assert_int_equal(vault_identity_hash(v, "AB", "C1", a), VAULT_OK);
    assert_int_equal(vault_identity_hash(v, "A", "BC1", b), VAULT_OK);
    assert_false(vault_hash_equal(a, b));
    /* The tokens idcheck gives are what callers pass. */
    assert_int_equal(vault_identity_hash(v, idcheck_type_name(IDDOC_CN_RESIDENT_ID), num, b),
                     VAULT_OK);
    assert_int_equal(vault_identity_hash(v, "cn-id", num, a), VAULT_OK);
    assert_true(vault_hash_equal(a, b));
    /* Not the plain unkeyed BLAKE2b of the number. */
    crypto_generichash(b, sizeof b, (const uint8_t *)num, strlen(num), NULL, 0);
    assert_int_equal(vault_identity_hash(v, "cn-id", num, a), VAULT_OK);
    assert_false(vault_hash_equal(a, b));
    assert_int_equal(vault_identity_hash(v, "", num, a), VAULT_ERR_ARG);
    assert_int_equal(vault_identity_hash(v, "cn-id", "", a), VAULT_ERR_ARG);
    assert_int_equal(vault_identity_hash(v, NULL, num, a), VAULT_ERR_ARG);
    vault_close(w);
    vault_close(v);
}

static void test_ciphertext_holds_no_plaintext(void **state)
{
    (void)state;
    struct vault *v = open_ok(path);
    static const struct {
        enum vault_field kind;
        const char *text;
    } cases[] = {
        {VAULT_FIELD_NAME, "欧阳娜娜"},
        {VAULT_FIELD_DOC_NUMBER, "11010519491231002X"},
        {VAULT_FIELD_PHONE, "+8613800138000"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        const char *t = cases[c].text;
        size_t tlen = strlen(t);
        for (int round = 0; round < 200; round++) {
            uint8_t sealed[VAULT_SEALED_MAX];
            size_t slen;
            seal_ok(v, cases[c].kind, t, sealed, &slen);
            assert_null(memmem(sealed, slen, t, tlen));
            /* No 6-byte piece of it either (3 CJK bytes pairs, 6 digits). */
            for (size_t i = 0; i + 6 <= tlen; i++)
                assert_null(memmem(sealed, slen, t + i, 6));
        }
    }
    vault_close(v);
}

/* Invariant 5: one vault used from several threads at once. */
static void *worker(void *arg)
{
    const struct vault *v = arg;
    for (int i = 0; i < 500; i++) {
        char text[32], plain[32];
        int n = snprintf(text, sizeof text, "用户%d", i);
        uint8_t sealed[VAULT_SEALED_MAX];
        size_t slen, plen;
        if (vault_seal(v, VAULT_FIELD_NAME, text, (size_t)n, sealed, sizeof sealed, &slen) != 0 ||
            vault_open_field(v, VAULT_FIELD_NAME, sealed, slen, plain, sizeof plain, &plen) != 0 ||
            plen != (size_t)n || memcmp(plain, text, plen) != 0)
            return (void *)1;
    }
    return NULL;
}

static void test_threads_share_a_vault(void **state)
{
    (void)state;
    struct vault *v = open_ok(path);
    pthread_t t[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(pthread_create(&t[i], NULL, worker, v), 0);
    for (int i = 0; i < 4; i++) {
        void *res = (void *)1;
        assert_int_equal(pthread_join(t[i], &res), 0);
        assert_null(res);
    }
    vault_close(v);
}

static void test_result_codes(void **state)
{
    (void)state;
    assert_string_equal(vault_result_code(VAULT_OK), "OK");
    assert_string_equal(vault_result_code(VAULT_ERR_AUTH), "AUTHENTICATION_FAILED");
    assert_string_equal(vault_result_code(VAULT_ERR_KEY_PERM), "KEY_FILE_PERMISSIONS");
    assert_string_equal(vault_result_code((enum vault_result)42), "UNKNOWN");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_key_file_created_0600, setup, teardown),
        cmocka_unit_test_setup_teardown(test_reopen_same_keys, setup, teardown),
        cmocka_unit_test_setup_teardown(test_group_readable_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_size_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_key_paths, setup, teardown),
        cmocka_unit_test_setup_teardown(test_round_trip_chinese_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_padding_hides_exact_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tampering_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_field_or_key_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_identity_hash, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ciphertext_holds_no_plaintext, setup, teardown),
        cmocka_unit_test_setup_teardown(test_threads_share_a_vault, setup, teardown),
        cmocka_unit_test(test_result_codes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
