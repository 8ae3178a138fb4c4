/*
 * test_journal.c - the commit record file's format (journal.h): records
 * decode to what was encoded, the valid run ends at a torn or damaged
 * record and at records left from before a rewind, the two halves' runs
 * are read older first (and a run across the middle once), CRC-32C is the
 * Castagnoli CRC, and the file refuses a record past its capacity and
 * shrinks only when told to.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "netlog/journal.h"

static const uint8_t LEAF[NETLOG_HASH_BYTES] = {1, 2, 3};
static const uint8_t CHAIN[NETLOG_HASH_BYTES] = {9, 8, 7};

static void put(struct journal_buf *b, int64_t seq, const char *body)
{
    struct netlog_event e = {.seq = seq,
                             .at_ms = 1767225600000LL + seq,
                             .kind = "msg",
                             .actor = "小明!u@h",
                             .target = "#测试",
                             .code = 100007,
                             .account_id = 0,
                             .msgid = NULL,
                             .body = body};
    journal_put_event(b, &e, LEAF, CHAIN);
}

static void test_crc32c_known_value(void **state)
{
    (void)state;
    /* the check value of CRC-32C over "123456789" */
    assert_int_equal(journal_crc32c((const uint8_t *)"123456789", 9), 0xe3069283u);
    assert_int_equal(journal_crc32c((const uint8_t *)"", 0), 0);
}

static void test_round_trip(void **state)
{
    (void)state;
    struct journal_buf b = {0};
    put(&b, 41, "{\"text\":\"你好\"}");
    size_t first = b.len;
    assert_int_equal(
        first,
        journal_event_bytes(&(struct netlog_event){
            .kind = "msg", .actor = "小明!u@h", .target = "#测试", .body = "{\"text\":\"你好\"}"}));
    uint8_t acc[40] = {0, 0, 0, 0, 0, 0, 0, 41};
    journal_put_checkpoint(&b, 41, 1767225600041LL, CHAIN, "qun-log\n41\nroot\n\nsig\n", acc,
                           sizeof acc);
    assert_int_equal(b.events, 1);
    assert_int_equal(b.last_seq, 41);

    struct journal_rec r;
    size_t n = journal_decode(b.p, b.len, &r, true);
    assert_int_equal(n, first);
    assert_int_equal(r.type, 'E');
    assert_int_equal(r.ev.seq, 41);
    assert_int_equal(r.ev.at_ms, 1767225600041LL);
    assert_int_equal(r.ev.code, 100007);
    assert_int_equal(r.ev.account_id, 0);
    assert_string_equal(r.ev.kind, "msg");
    assert_string_equal(r.ev.actor, "小明!u@h");
    assert_string_equal(r.ev.target, "#测试");
    assert_null(r.ev.msgid);
    assert_string_equal(r.ev.body, "{\"text\":\"你好\"}");
    assert_memory_equal(r.leaf, LEAF, NETLOG_HASH_BYTES);
    assert_memory_equal(r.chain, CHAIN, NETLOG_HASH_BYTES);

    n = journal_decode(b.p + first, b.len - first, &r, true);
    assert_int_equal(n, b.len - first);
    assert_int_equal(r.type, 'C');
    assert_int_equal(r.size, 41);
    assert_string_equal(r.note, "qun-log\n41\nroot\n\nsig\n");
    assert_int_equal(r.acc_len, sizeof acc);
    assert_memory_equal(r.acc, acc, sizeof acc);
    assert_int_equal(journal_valid_prefix(b.p, b.len), b.len);
    journal_buf_free(&b);
}

static void test_torn_and_damaged_records_end_the_run(void **state)
{
    (void)state;
    struct journal_buf b = {0};
    for (int64_t s = 1; s <= 3; s++)
        put(&b, s, "{\"text\":\"x\"}");
    size_t one = b.len / 3;
    /* a torn last record: every cut inside it ends the run before it */
    for (size_t cut = 1; cut < one; cut++)
        assert_int_equal(journal_valid_prefix(b.p, b.len - cut), 2 * one);
    /* one flipped bit anywhere in the second record ends the run after the first */
    for (size_t i = one; i < 2 * one; i++) {
        b.p[i] ^= 0x10;
        assert_int_equal(journal_valid_prefix(b.p, b.len), one);
        b.p[i] ^= 0x10;
    }
    assert_int_equal(journal_valid_prefix(b.p, b.len), b.len);
    /* zeros (a fresh file) are no record */
    uint8_t zeros[64] = {0};
    assert_int_equal(journal_valid_prefix(zeros, sizeof zeros), 0);
    journal_buf_free(&b);
}

static void test_records_from_before_a_rewind_are_not_read(void **state)
{
    (void)state;
    /* the file held seqs 1..6; after a rewind 7..8 were written over the
     * start: the old records behind them do not follow 8 */
    struct journal_buf old = {0}, fresh = {0};
    for (int64_t s = 1; s <= 6; s++)
        put(&old, s, "{\"text\":\"old\"}");
    for (int64_t s = 7; s <= 8; s++)
        put(&fresh, s, "{\"text\":\"new\"}");
    uint8_t *file = malloc(old.len);
    memcpy(file, old.p, old.len);
    memcpy(file, fresh.p, fresh.len);
    assert_int_equal(journal_valid_prefix(file, old.len), fresh.len);
    /* a checkpoint must name the seq before it */
    struct journal_buf cp = {0};
    put(&cp, 9, "{}");
    size_t ev_len = cp.len;
    journal_put_checkpoint(&cp, 8, 1, CHAIN, "n", NULL, 0);
    assert_int_equal(journal_valid_prefix(cp.p, cp.len), ev_len);
    free(file);
    journal_buf_free(&old);
    journal_buf_free(&fresh);
    journal_buf_free(&cp);
}

/* The seqs journal_iter yields, -size for a checkpoint, into out[]. */
static int iter_seqs(const uint8_t *file, size_t len, size_t mid, int64_t *out, int max)
{
    struct journal_iter it;
    struct journal_rec r;
    int n = 0;
    journal_iter_init(&it, file, len, mid);
    while (n < max && journal_iter_next(&it, &r))
        out[n++] = r.type == 'E' ? r.ev.seq : -(int64_t)r.size;
    return n;
}

static void test_both_halves_are_read_older_first(void **state)
{
    (void)state;
    enum { SIZE = 4096, MID = SIZE / 2 };
    uint8_t file[SIZE];
    int64_t got[64];
    /* the second half holds 1..4 and a checkpoint (written first); the
     * first half was filled again with 5..7, and behind them lies what was
     * there before (2..3), which does not follow 7 */
    struct journal_buf older = {0}, newer = {0}, stale = {0};
    for (int64_t s = 1; s <= 4; s++)
        put(&older, s, "{\"text\":\"older\"}");
    journal_put_checkpoint(&older, 4, 1, CHAIN, "n", NULL, 0);
    for (int64_t s = 5; s <= 7; s++)
        put(&newer, s, "{\"text\":\"newer\"}");
    for (int64_t s = 2; s <= 3; s++)
        put(&stale, s, "{\"text\":\"stale\"}");
    memset(file, 0, sizeof file);
    memcpy(file + MID, older.p, older.len);
    memcpy(file, newer.p, newer.len);
    memcpy(file + newer.len, stale.p, stale.len);
    int n = iter_seqs(file, SIZE, MID, got, 64);
    int64_t want[] = {1, 2, 3, 4, -4, 5, 6, 7};
    assert_int_equal(n, 8);
    assert_memory_equal(got, want, sizeof want);
    /* the other way round: the first half older */
    memset(file, 0, sizeof file);
    memcpy(file, older.p, older.len);
    memcpy(file + MID, newer.p, newer.len);
    assert_int_equal(iter_seqs(file, SIZE, MID, got, 64), 8);
    assert_memory_equal(got, want, sizeof want);
    /* a run that starts with a checkpoint sorts before the event after it */
    struct journal_buf cp_first = {0};
    journal_put_checkpoint(&cp_first, 7, 1, CHAIN, "n", NULL, 0);
    put(&cp_first, 8, "{}");
    memset(file, 0, sizeof file);
    memcpy(file + MID, cp_first.p, cp_first.len);
    memcpy(file, newer.p, newer.len);
    int64_t want2[] = {5, 6, 7, -7, 8};
    assert_int_equal(iter_seqs(file, SIZE, MID, got, 64), 5);
    assert_memory_equal(got, want2, sizeof want2);
    /* an empty journal, and one with only the second half */
    memset(file, 0, sizeof file);
    assert_int_equal(iter_seqs(file, SIZE, MID, got, 64), 0);
    memcpy(file + MID, newer.p, newer.len);
    assert_int_equal(iter_seqs(file, SIZE, MID, got, 64), 3);
    assert_int_equal(got[0], 5);
    journal_buf_free(&older);
    journal_buf_free(&newer);
    journal_buf_free(&stale);
    journal_buf_free(&cp_first);
}

static void test_a_run_across_the_middle(void **state)
{
    (void)state;
    /* one run from 0 past the middle: a journal written before the halves,
     * or a batch larger than a half. The middle is inside a record, and
     * every record comes once */
    enum { SIZE = 4096, MID = SIZE / 2 };
    uint8_t file[SIZE];
    int64_t got[64];
    struct journal_buf run = {0};
    int64_t s = 1;
    while (run.len < MID + 300)
        put(&run, s++, "{\"text\":\"one long run, from before the halves\"}");
    assert_true(run.len <= SIZE);
    memset(file, 0, sizeof file);
    memcpy(file, run.p, run.len);
    int n = iter_seqs(file, SIZE, MID, got, 64);
    assert_int_equal(n, s - 1);
    for (int i = 0; i < n; i++)
        assert_int_equal(got[i], i + 1);
    /* a record that happens to start at the middle is read again by the
     * second run: readers skip the seqs they have (iter yields it twice) */
    size_t off = 0;
    struct journal_rec r;
    int k = 0;
    while (off < MID)
        off += journal_decode(run.p + off, run.len - off, &r, true), k++;
    n = iter_seqs(file, SIZE, off, got, 64);
    assert_int_equal(n, (s - 1) + (s - 1 - k));
    assert_int_equal(got[s - 1], k + 1);
    journal_buf_free(&run);
}

static void test_file_capacity(void **state)
{
    (void)state;
    char dir[] = "/tmp/qun-journal-XXXXXX";
    assert_non_null(mkdtemp(dir));
    char path[64], err[256];
    snprintf(path, sizeof path, "%s/j", dir);
    struct journal j;
    assert_int_equal(journal_open(&j, path, 4096, err, sizeof err), 0);
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 4096);
    assert_int_equal((int)(st.st_mode & 0777), 0600);
    struct journal_buf b = {0};
    put(&b, 1, "{\"text\":\"fits\"}");
    assert_int_equal(journal_append(&j, b.p, b.len), 0);
    assert_int_equal(j.off, b.len);
    char big[4096];
    memset(big, 'x', sizeof big);
    errno = 0;
    assert_int_equal(journal_append(&j, big, sizeof big), -1);
    assert_int_equal(errno, ENOSPC);
    assert_int_equal(j.off, b.len); /* nothing counted */
    uint8_t *all;
    size_t len;
    assert_int_equal(journal_read_all(&j, &all, &len, err, sizeof err), 0);
    assert_int_equal(len, 4096);
    assert_int_equal(journal_valid_prefix(all, len), b.len);
    free(all);
    journal_seek(&j, 0);
    assert_int_equal(j.off, 0);
    journal_close(&j);
    /* reopened: the reservation is kept, not reduced ... */
    assert_int_equal(journal_open(&j, path, 1024, err, sizeof err), 0);
    assert_int_equal(j.cap, 4096);
    /* ... until journal_shrink (after start-up's replay) cuts the file;
     * a larger size leaves it alone */
    assert_int_equal(journal_shrink(&j, 8192, err, sizeof err), 0);
    assert_int_equal(j.cap, 4096);
    assert_int_equal(journal_shrink(&j, 1024, err, sizeof err), 0);
    assert_int_equal(j.cap, 1024);
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_size, 1024);
    errno = 0;
    assert_int_equal(journal_append(&j, big, 2048), -1);
    assert_int_equal(errno, ENOSPC);
    journal_close(&j);
    journal_buf_free(&b);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crc32c_known_value),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_torn_and_damaged_records_end_the_run),
        cmocka_unit_test(test_records_from_before_a_rewind_are_not_read),
        cmocka_unit_test(test_both_halves_are_read_older_first),
        cmocka_unit_test(test_a_run_across_the_middle),
        cmocka_unit_test(test_file_capacity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
