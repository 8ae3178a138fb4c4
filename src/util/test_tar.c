/*
 * test_tar.c - the ustar writer: header fields and checksum; names
 * refused; the cap refuses a member whole and leaves room for the end;
 * and the system's tar lists and extracts an archive byte for byte
 * (`tar -tf`, `tar -xf`; skipped when no tar is installed).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/tar.h"

static unsigned header_sum(const unsigned char *h)
{
    unsigned sum = 0;
    for (int i = 0; i < TAR_BLOCK; i++)
        sum += (i >= 148 && i < 156) ? ' ' : h[i];
    return sum;
}

static void test_header(void **state)
{
    (void)state;
    struct tar_writer t;
    tar_init(&t, 1 << 20, 1700000000);
    assert_int_equal(tar_add_dir(&t, "case", 0755), TAR_OK);
    assert_int_equal(tar_add_file(&t, "case/a.txt", "hello", 5, 0644), TAR_OK);
    assert_int_equal(tar_finish(&t), TAR_OK);
    assert_int_equal(tar_finish(&t), TAR_ERR_DONE);
    assert_int_equal(tar_add_file(&t, "x", "", 0, 0644), TAR_ERR_DONE);
    size_t len;
    unsigned char *b = tar_take(&t, &len);
    assert_int_equal(len, 5 * TAR_BLOCK); /* dir, header, data, two end blocks */
    assert_string_equal((char *)b, "case/");
    assert_int_equal(b[156], '5');
    unsigned char *h = b + TAR_BLOCK;
    assert_string_equal((char *)h, "case/a.txt");
    assert_string_equal((char *)h + 124, "00000000005");
    assert_string_equal((char *)h + 257, "ustar");
    assert_memory_equal(h + 263, "00", 2);
    assert_int_equal(strtoul((char *)h + 148, NULL, 8), header_sum(h));
    assert_memory_equal(b + 2 * TAR_BLOCK, "hello", 5);
    for (size_t i = 3 * TAR_BLOCK; i < len; i++)
        assert_int_equal(b[i], 0);
    free(b);
    tar_free(&t);
}

static void test_names_and_cap(void **state)
{
    (void)state;
    struct tar_writer t;
    char longname[TAR_NAME_MAX + 2];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    tar_init(&t, 4 * TAR_BLOCK, 0);
    assert_int_equal(tar_add_file(&t, "", "", 0, 0644), TAR_ERR_NAME);
    assert_int_equal(tar_add_file(&t, "/etc/x", "", 0, 0644), TAR_ERR_NAME);
    assert_int_equal(tar_add_file(&t, "a/../b", "", 0, 0644), TAR_ERR_NAME);
    assert_int_equal(tar_add_file(&t, "..", "", 0, 0644), TAR_ERR_NAME);
    assert_int_equal(tar_add_file(&t, "a\nb", "", 0, 0644), TAR_ERR_NAME);
    assert_int_equal(tar_add_file(&t, longname, "", 0, 0644), TAR_ERR_NAME);
    assert_int_equal(tar_add_file(&t, "a..b", "", 0, 0644), TAR_OK); /* not a ".." element */
    /* 4 blocks: 1 used, 2 reserved for the end; a header + 1 data block no longer fits */
    assert_int_equal(tar_add_file(&t, "big", "x", 1, 0644), TAR_ERR_TOO_BIG);
    assert_int_equal(t.len, TAR_BLOCK); /* left as it was */
    assert_int_equal(tar_add_file(&t, "empty", "", 0, 0644), TAR_OK);
    assert_int_equal(tar_finish(&t), TAR_OK);
    assert_int_equal(t.len, 4 * TAR_BLOCK);
    tar_free(&t);
}

static void test_system_tar(void **state)
{
    (void)state;
    if (system("tar --version >/dev/null 2>&1") != 0)
        skip();
    char dir[] = "/tmp/qun-tar-XXXXXX";
    assert_non_null(mkdtemp(dir));
    struct tar_writer t;
    tar_init(&t, 8 << 20, 1700000000);
    size_t big_len = 3 * TAR_BLOCK + 17;
    char *big = malloc(big_len);
    for (size_t i = 0; i < big_len; i++)
        big[i] = (char)(i * 7 + 3);
    assert_int_equal(tar_add_dir(&t, "bundle/", 0700), TAR_OK);
    assert_int_equal(tar_add_file(&t, "bundle/events.jsonl", big, big_len, 0600), TAR_OK);
    assert_int_equal(tar_add_file(&t, "bundle/key.pub", "k\n", 2, 0600), TAR_OK);
    assert_int_equal(tar_finish(&t), TAR_OK);
    size_t len;
    unsigned char *b = tar_take(&t, &len);
    char path[256], cmd[1024];
    snprintf(path, sizeof path, "%s/a.tar", dir);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
    free(b);
    snprintf(cmd, sizeof cmd, "tar -tf %s > %s/list 2>&1", path, dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/list", dir);
    f = fopen(path, "r");
    char list[512] = {0};
    assert_non_null(f);
    assert_true(fread(list, 1, sizeof list - 1, f) > 0);
    fclose(f);
    assert_string_equal(list, "bundle/\nbundle/events.jsonl\nbundle/key.pub\n");
    snprintf(cmd, sizeof cmd, "cd %s && tar -xf a.tar", dir);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s/bundle/events.jsonl", dir);
    f = fopen(path, "rb");
    assert_non_null(f);
    char *got = malloc(big_len + 1);
    assert_int_equal(fread(got, 1, big_len + 1, f), big_len);
    fclose(f);
    assert_memory_equal(got, big, big_len);
    free(got);
    free(big);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header),
        cmocka_unit_test(test_names_and_cap),
        cmocka_unit_test(test_system_tar),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
