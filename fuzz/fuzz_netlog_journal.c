/*
 * fuzz_netlog_journal.c - libFuzzer target for the parser of the network
 * log's journal (netlog/journal.c): journal_valid_prefix and
 * journal_decode, which read the journal file at start-up, after a crash,
 * whatever the crash left in it.
 *
 * Input: the whole input, copied into an exactly-sized heap buffer (so a
 * read past it is caught), is a journal file's bytes.
 *
 * Checked beyond "no crash, no sanitizer report":
 *   - the valid prefix is within the input and ends on a record boundary;
 *   - every record in it decodes, and encoding what was decoded gives back
 *     exactly the record's bytes (nothing is read that was not written);
 *   - events in it follow each other by seq, and a checkpoint names the
 *     seq before it;
 *   - journal_iter (the two halves' runs, as start-up and verify read
 *     them) yields, for the input's middle and for an arbitrary one taken
 *     from its first bytes, records that lie within the input, at most
 *     the two runs' worth, each of them decodable where it lies.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlog/journal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *buf = malloc(size ? size : 1);
    if (size)
        memcpy(buf, data, size);
    size_t valid = journal_valid_prefix(buf, size);
    CHECK(valid <= size);
    size_t off = 0;
    int64_t prev = -1;
    while (off < valid) {
        struct journal_rec r;
        size_t n = journal_decode(buf + off, valid - off, &r, true);
        CHECK(n > 0 && off + n <= valid);
        struct journal_buf b = {0};
        if (r.type == 'E') {
            CHECK(prev < 0 || r.ev.seq == prev + 1);
            prev = r.ev.seq;
            journal_put_event(&b, &r.ev, r.leaf, r.chain);
        } else {
            CHECK(r.type == 'C');
            CHECK(prev < 0 || (int64_t)r.size == prev);
            prev = (int64_t)r.size;
            journal_put_checkpoint(&b, r.size, r.at_ms, r.root, r.note, r.acc, r.acc_len);
        }
        CHECK(b.len == n && memcmp(b.p, buf + off, n) == 0);
        journal_buf_free(&b);
        off += n;
    }
    CHECK(off == valid);
    size_t mids[2] = {size / 2, size >= 2 ? ((size_t)buf[0] << 8 | buf[1]) : 0};
    for (int m = 0; m < 2; m++) {
        struct journal_iter it;
        struct journal_rec r;
        journal_iter_init(&it, buf, size, mids[m]);
        size_t bytes = 0, records = 0;
        while (journal_iter_next(&it, &r)) {
            const uint8_t *p = r.type == 'E' ? r.leaf : r.root;
            CHECK(p >= buf && p + 32 <= buf + size);
            records++;
            CHECK(records <= size); /* every record takes bytes */
        }
        for (int i = 0; i < it.runs; i++) {
            CHECK(it.run_off[i] + it.run_len[i] <= size);
            bytes += it.run_len[i];
        }
        CHECK(bytes <= 2 * size);
    }
    free(buf);
    return 0;
}
