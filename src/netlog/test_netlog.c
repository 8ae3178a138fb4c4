/*
 * test_netlog.c - unit tests of the network log's sans-IO parts and of
 * verification (src/netlog/merkle.c, checkpoint.c, verify.c, loggen.c).
 *
 *   - RFC 6962 tree hashes against the certificate-transparency vectors
 *     (8 leaves; leaf hashes computed here as SHA-256(0x00 || data));
 *   - the accumulator against merkle_root for 0..100 leaves, its byte form
 *     and what deserialisation refuses;
 *   - inclusion proofs for every leaf of trees of 1..40 leaves;
 *   - checkpoint notes: round trip, altered body or signature, wrong key,
 *     the ".pub" verifier key file;
 *   - netlog_verify_file on databases written by loggen.c, clean and with
 *     each kind of tampering done with plain SQL on the file, as an
 *     attacker with the file would: the right first bad record or
 *     checkpoint must be named.
 *
 * Each verify test works in a fresh temporary directory, removed at the end.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sodium.h>
#include <sqlite3.h>
#include <cmocka.h>

#include "netlog/checkpoint.h"
#include "netlog/event.h"
#include "netlog/loggen.h"
#include "netlog/merkle.h"
#include "netlog/verify.h"

#define H NETLOG_HASH_BYTES

static void hex_to_bin(const char *hex, uint8_t *out, size_t n)
{
    size_t len = 0;
    assert_int_equal(sodium_hex2bin(out, n, hex, strlen(hex), NULL, &len, NULL), 0);
    assert_int_equal(len, n);
}

static void leaf_of(const uint8_t *data, size_t n, uint8_t out[H])
{
    uint8_t buf[64];
    buf[0] = 0x00;
    memcpy(buf + 1, data, n);
    crypto_hash_sha256(out, buf, n + 1);
}

static void fill_leaves(uint8_t (*leaves)[H], size_t n, uint32_t salt)
{
    for (size_t i = 0; i < n; i++) {
        uint32_t x = (uint32_t)i * 2654435761u ^ salt;
        leaf_of((const uint8_t *)&x, sizeof x, leaves[i]);
    }
}

/* ---------------------------------------------------------------- merkle */

/* RFC 6962 test vectors (certificate-transparency merkle_tree_test). */
static void test_rfc6962_vectors(void **state)
{
    (void)state;
    static const char *const data[8] = {"",
                                        "00",
                                        "10",
                                        "2021",
                                        "3031",
                                        "40414243",
                                        "5051525354555657",
                                        "606162636465666768696a6b6c6d6e6f"};
    static const char *const roots[8] = {
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
    uint8_t leaves[8][H], want[H], got[H];
    struct merkle_acc acc;
    merkle_acc_init(&acc);
    for (int i = 0; i < 8; i++) {
        uint8_t bytes[16];
        size_t n = strlen(data[i]) / 2;
        if (n)
            hex_to_bin(data[i], bytes, n);
        leaf_of(bytes, n, leaves[i]);
        merkle_acc_add(&acc, leaves[i]);
        hex_to_bin(roots[i], want, H);
        merkle_root((const uint8_t(*)[H])leaves, (size_t)i + 1, got);
        assert_memory_equal(got, want, H);
        merkle_acc_root(&acc, got);
        assert_memory_equal(got, want, H);
    }
    /* the empty tree is SHA-256 of nothing */
    hex_to_bin("e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", want, H);
    merkle_root(NULL, 0, got);
    assert_memory_equal(got, want, H);
}

static void test_acc_matches_root(void **state)
{
    (void)state;
    static uint8_t leaves[100][H];
    fill_leaves(leaves, 100, 7);
    for (size_t n = 0; n <= 100; n++) {
        struct merkle_acc acc;
        merkle_acc_init(&acc);
        for (size_t i = 0; i < n; i++)
            merkle_acc_add(&acc, leaves[i]);
        uint8_t a[H], b[H];
        merkle_acc_root(&acc, a);
        merkle_root((const uint8_t(*)[H])leaves, n, b);
        assert_memory_equal(a, b, H);
        assert_int_equal(acc.size, n);

        /* the byte form gives back the same accumulator */
        uint8_t bytes[MERKLE_ACC_BYTES_MAX];
        size_t len = merkle_acc_serialize(&acc, bytes, sizeof bytes);
        assert_int_equal(len, (size_t)__builtin_popcountll(n) * (8 + H));
        struct merkle_acc back;
        assert_true(merkle_acc_deserialize(&back, bytes, len));
        assert_int_equal(back.size, n);
        assert_int_equal(back.depth, acc.depth);
        merkle_acc_root(&back, b);
        assert_memory_equal(a, b, H);
        if (len > 0)
            assert_int_equal(merkle_acc_serialize(&acc, bytes, len - 1), 0);
    }
}

static void test_acc_deserialize_refuses(void **state)
{
    (void)state;
    uint8_t bytes[3 * (8 + H)] = {0};
    struct merkle_acc acc;
    assert_false(merkle_acc_deserialize(&acc, bytes, 8 + H - 1)); /* bad length */
    assert_false(merkle_acc_deserialize(&acc, bytes, 8 + H));     /* size 0 */
    bytes[7] = 3;                                                 /* not a power of two */
    assert_false(merkle_acc_deserialize(&acc, bytes, 8 + H));
    bytes[7] = 4;
    bytes[8 + H + 7] = 4; /* sizes must strictly decrease */
    assert_false(merkle_acc_deserialize(&acc, bytes, 2 * (8 + H)));
    bytes[8 + H + 7] = 1;
    assert_true(merkle_acc_deserialize(&acc, bytes, 2 * (8 + H)));
    assert_int_equal(acc.size, 5);
}

static void test_inclusion_proofs(void **state)
{
    (void)state;
    static uint8_t leaves[41][H];
    fill_leaves(leaves, 41, 99);
    uint8_t path[MERKLE_MAX_HEIGHT][H], root[H];
    for (size_t n = 1; n <= 40; n++) {
        merkle_root((const uint8_t(*)[H])leaves, n, root);
        assert_int_equal(merkle_inclusion_proof((const uint8_t(*)[H])leaves, n, n, path), -1);
        for (size_t m = 0; m < n; m++) {
            int np = merkle_inclusion_proof((const uint8_t(*)[H])leaves, n, m, path);
            assert_true(np >= 0);
            const uint8_t(*p)[H] = (const uint8_t(*)[H])path;
            assert_true(merkle_verify_inclusion(leaves[m], m, n, p, np, root));
            /* a wrong leaf, a wrong index or a wrong size fails */
            assert_false(merkle_verify_inclusion(leaves[m + 1], m, n, p, np, root));
            if (n > 1)
                assert_false(merkle_verify_inclusion(leaves[m], (m + 1) % n, n, p, np, root));
            /* (a larger size can fit the same path shape: the size is bound
             * by the signed checkpoint, not by the proof) */
            uint8_t other[H];
            merkle_root((const uint8_t(*)[H])leaves, n + 1, other);
            assert_false(merkle_verify_inclusion(leaves[m], m, n, p, np, other));
            assert_false(merkle_verify_inclusion(leaves[m], n, n, p, np, root));
            if (np > 0) {
                path[0][5] ^= 1;
                assert_false(merkle_verify_inclusion(leaves[m], m, n, p, np, root));
                path[0][5] ^= 1;
            }
        }
    }
}

/* ---------------------------------------------------------------- checkpoints */

struct tmpdir {
    char path[64];
};

static void tmp_make(struct tmpdir *t)
{
    snprintf(t->path, sizeof t->path, "/tmp/qun-test-netlog-XXXXXX");
    assert_non_null(mkdtemp(t->path));
}

static void tmp_file(const struct tmpdir *t, const char *name, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%s", t->path, name);
}

static void tmp_remove(struct tmpdir *t)
{
    static const char *const names[] = {"log.db",      "log.db-wal", "log.db-shm",   "log.key",
                                        "log.key.pub", "other.key",  "other.key.pub"};
    char p[128];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        tmp_file(t, names[i], p, sizeof p);
        unlink(p);
    }
    assert_int_equal(rmdir(t->path), 0);
}

static void key_make(const struct tmpdir *t, const char *file, struct checkpoint_key *key)
{
    char path[128], err[256];
    tmp_file(t, file, path, sizeof path);
    assert_int_equal(checkpoint_key_load(path, NETLOG_LOGGEN_DEFAULT_NAME, key, err, sizeof err),
                     0);
}

static void test_checkpoint_sign_verify(void **state)
{
    (void)state;
    struct tmpdir t;
    tmp_make(&t);
    struct checkpoint_key key, other;
    key_make(&t, "log.key", &key);
    key_make(&t, "other.key", &other);
    struct checkpoint cp = {.size = 123456}, got;
    snprintf(cp.origin, sizeof cp.origin, "%s", key.name);
    memset(cp.root, 0xab, H);
    char note[CHECKPOINT_NOTE_MAX];
    int n = checkpoint_sign(&key, &cp, note, sizeof note);
    assert_true(n > 0);
    assert_true(checkpoint_verify(&key, note, (size_t)n, &got));
    assert_int_equal(got.size, 123456);
    assert_memory_equal(got.root, cp.root, H);
    assert_string_equal(got.origin, key.name);
    /* the signed-note form: body, blank line, em dash signature line */
    assert_non_null(strstr(note, "\n123456\n"));
    assert_non_null(strstr(note, "\n\n\xe2\x80\x94 irc.qun.test/qun-log "));

    char bad[CHECKPOINT_NOTE_MAX];
    memcpy(bad, note, (size_t)n + 1);
    char *sz = strstr(bad, "123456");
    sz[5] = '7'; /* a different size */
    assert_false(checkpoint_verify(&key, bad, (size_t)n, &got));
    memcpy(bad, note, (size_t)n + 1);
    bad[n - 5] = bad[n - 5] == 'A' ? 'B' : 'A'; /* the signature */
    assert_false(checkpoint_verify(&key, bad, (size_t)n, &got));
    assert_false(checkpoint_verify(&other, note, (size_t)n, &got)); /* another key */
    assert_false(checkpoint_verify(&key, note, (size_t)n / 2, &got));
    assert_int_equal(checkpoint_sign(&key, &cp, note, 20), -1);

    /* the ".pub" file parses back to the same verifier key */
    char pubpath[128], text[512];
    tmp_file(&t, "log.key.pub", pubpath, sizeof pubpath);
    FILE *f = fopen(pubpath, "r");
    assert_non_null(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    struct checkpoint_key pub;
    assert_true(checkpoint_key_parse_public(text, &pub));
    assert_string_equal(pub.name, key.name);
    assert_memory_equal(pub.pk, key.pk, 32);
    assert_memory_equal(pub.key_hash, key.key_hash, 4);
    n = checkpoint_sign(&key, &cp, note, sizeof note);
    assert_true(checkpoint_verify(&pub, note, (size_t)n, &got));
    char formatted[512];
    assert_true(checkpoint_key_format_public(&key, formatted, sizeof formatted) > 0);
    assert_string_equal(formatted, text);
    text[strlen(key.name) + 3] ^= 1; /* a wrong key hash */
    assert_false(checkpoint_key_parse_public(text, &pub));
    assert_false(checkpoint_key_parse_public("no plus signs", &pub));
    checkpoint_key_wipe(&key);
    checkpoint_key_wipe(&other);
    tmp_remove(&t);
}

/* ---------------------------------------------------------------- verify */

#define GEN_EVENTS 2500
#define GEN_EVERY  1000

struct fixture {
    struct tmpdir t;
    char db[128], key[128], pub[128];
};

static void fx_make(struct fixture *fx, int64_t events, bool no_final)
{
    tmp_make(&fx->t);
    tmp_file(&fx->t, "log.db", fx->db, sizeof fx->db);
    tmp_file(&fx->t, "log.key", fx->key, sizeof fx->key);
    tmp_file(&fx->t, "log.key.pub", fx->pub, sizeof fx->pub);
    struct netlog_loggen_opts o = {.db_path = fx->db,
                                   .key_path = fx->key,
                                   .events = events,
                                   .checkpoint_every = GEN_EVERY,
                                   .no_final_checkpoint = no_final,
                                   .seed = 42};
    char err[256];
    assert_int_equal(netlog_loggen(&o, err, sizeof err), 0);
}

static void sql(const struct fixture *fx, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    sqlite3 *db;
    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    char *err = NULL;
    int rc = sqlite3_exec(db, text, NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fail_msg("%s: %s", text, err);
    sqlite3_close(db);
}

static int64_t sql_int(const struct fixture *fx, const char *query)
{
    sqlite3 *db;
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_open(fx->db, &db), SQLITE_OK);
    assert_int_equal(sqlite3_prepare_v2(db, query, -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    sqlite3_close(db);
    return v;
}

/* Runs verify and checks the verdict, the first bad seq and checkpoint,
 * and that the sentence contains `words`. */
static void expect(const struct fixture *fx, enum netlog_verify_result want, int64_t bad_seq,
                   int64_t bad_cp, const char *words)
{
    struct netlog_verify_report r;
    enum netlog_verify_result got = netlog_verify_file(fx->db, fx->pub, &r);
    if (got != want || r.bad_seq != bad_seq || r.bad_cp != bad_cp ||
        (words && !strstr(r.message, words)))
        fail_msg("verify gave %d bad_seq %lld bad_cp %lld: \"%s\"; wanted %d %lld %lld \"%s\"",
                 (int)got, (long long)r.bad_seq, (long long)r.bad_cp, r.message, (int)want,
                 (long long)bad_seq, (long long)bad_cp, words ? words : "");
    assert_int_equal(r.ok, want == NETLOG_VERIFY_OK);
}

static void test_verify_clean(void **state)
{
    (void)state;
    struct fixture fx;
    fx_make(&fx, GEN_EVENTS, false);
    struct netlog_verify_report r;
    assert_int_equal(netlog_verify_file(fx.db, fx.pub, &r), NETLOG_VERIFY_OK);
    assert_true(r.ok);
    assert_int_equal(r.events, GEN_EVENTS);
    assert_int_equal(r.first_seq, 1);
    assert_int_equal(r.last_seq, GEN_EVENTS);
    assert_int_equal(r.checkpoints, 3); /* 1000, 2000 and the final 2500 */
    assert_int_equal(r.signed_size, GEN_EVENTS);
    assert_int_equal(r.unsigned_events, 0);
    assert_int_equal(r.problems, 0);
    assert_false(r.purged);
    tmp_remove(&fx.t);
}

static void test_verify_unsigned_tail(void **state)
{
    (void)state;
    struct fixture fx;
    fx_make(&fx, GEN_EVENTS, true);
    struct netlog_verify_report r;
    assert_int_equal(netlog_verify_file(fx.db, fx.pub, &r), NETLOG_VERIFY_OK);
    assert_int_equal(r.checkpoints, 2);
    assert_int_equal(r.signed_size, 2000);
    assert_int_equal(r.unsigned_events, 500);
    tmp_remove(&fx.t);
}

static void test_verify_changed_fields(void **state)
{
    (void)state;
    struct fixture fx;
    fx_make(&fx, GEN_EVENTS, false);
    int64_t seq = sql_int(&fx, "SELECT min(seq) FROM events WHERE seq >= 1234 AND body NOT NULL");
    /* one byte of the message body */
    sql(&fx,
        "UPDATE events SET body = substr(body, 1, 9) || 'X' || substr(body, 11) WHERE seq = %lld",
        (long long)seq);
    expect(&fx, NETLOG_VERIFY_BAD, seq, 0, "content does not match its hash (changed)");
    tmp_remove(&fx.t);

    static const char *const edits[] = {
        "UPDATE events SET kind = 'mag' WHERE seq = 77",
        "UPDATE events SET actor = actor || 'x' WHERE seq = 77",
        "UPDATE events SET at = at + 1 WHERE seq = 77",
        "UPDATE events SET code = 123 WHERE seq = 77",
        "UPDATE events SET account_id = -5 WHERE seq = 77",
        "UPDATE events SET target = 'x' WHERE seq = 77",
        "UPDATE events SET msgid = 'forged' WHERE seq = 77",
        "UPDATE events SET body = 'edited' WHERE seq = 77",
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        fx_make(&fx, 300, false);
        sql(&fx, "%s", edits[i]);
        expect(&fx, NETLOG_VERIFY_BAD, 77, 0, "(changed)");
        tmp_remove(&fx.t);
    }
    /* a value of another type, and text cut by an embedded NUL */
    fx_make(&fx, 300, false);
    sql(&fx, "UPDATE events SET at = 'soon' WHERE seq = 5");
    expect(&fx, NETLOG_VERIFY_BAD, 5, 0, "wrong type");
    tmp_remove(&fx.t);
    fx_make(&fx, 300, false);
    sql(&fx, "UPDATE events SET actor = CAST(actor || x'00' || 'x' AS TEXT) WHERE seq = 6");
    expect(&fx, NETLOG_VERIFY_BAD, 6, 0, "(changed)");
    tmp_remove(&fx.t);
}

static void test_verify_removed(void **state)
{
    (void)state;
    struct fixture fx;
    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "DELETE FROM events WHERE seq = 1234");
    expect(&fx, NETLOG_VERIFY_BAD, 1234, 0, "record 1234 is missing (removed)");
    tmp_remove(&fx.t);

    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "DELETE FROM events WHERE seq = 1");
    expect(&fx, NETLOG_VERIFY_BAD, 1, 0, "record 1 is missing (removed)");
    tmp_remove(&fx.t);

    /* the tail: the final checkpoint still covers it */
    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "DELETE FROM events WHERE seq > 2400");
    expect(&fx, NETLOG_VERIFY_BAD, 2401, 2500, "record 2401 is missing (removed)");
    tmp_remove(&fx.t);

    /* removed and the rest renumbered to hide the gap */
    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "DELETE FROM events WHERE seq = 1234;"
             "UPDATE events SET seq = seq + 1000000 WHERE seq > 1234;"
             "UPDATE events SET seq = seq - 1000001 WHERE seq > 1000000");
    expect(&fx, NETLOG_VERIFY_BAD, 1234, 0, "holds what was record 1235");
    tmp_remove(&fx.t);
}

static void test_verify_inserted(void **state)
{
    (void)state;
    struct fixture fx;
    fx_make(&fx, GEN_EVENTS, false);
    /* make room at 1234 and put a forged row there */
    sql(&fx, "UPDATE events SET seq = seq + 1000000 WHERE seq >= 1234;"
             "UPDATE events SET seq = seq - 999999 WHERE seq > 1000000;"
             "INSERT INTO events (seq, at, kind, actor, target, code, account_id, msgid, body,"
             " leaf, chain) SELECT 1234, at, kind, 'mallory', target, code, account_id, 'mx',"
             " '{\"text\":\"forged\"}', leaf, chain FROM events WHERE seq = 1233");
    expect(&fx, NETLOG_VERIFY_BAD, 1234, 0, "(inserted or reordered)");
    tmp_remove(&fx.t);

    /* a row before the start of the log */
    fx_make(&fx, 300, false);
    sql(&fx, "INSERT INTO events (seq, at, kind, actor, leaf, chain)"
             " SELECT 0, at, kind, actor, leaf, chain FROM events WHERE seq = 1");
    expect(&fx, NETLOG_VERIFY_BAD, 0, 0, "(inserted)");
    tmp_remove(&fx.t);
}

static void test_verify_swapped(void **state)
{
    (void)state;
    struct fixture fx;
    fx_make(&fx, GEN_EVENTS, false);
    /* swap everything but seq between 1234 and 1240 */
    sql(&fx, "UPDATE events SET seq = -1 WHERE seq = 1234;"
             "UPDATE events SET seq = 1234 WHERE seq = 1240;"
             "UPDATE events SET seq = 1240 WHERE seq = -1");
    expect(&fx, NETLOG_VERIFY_BAD, 1234, 0, "(inserted or reordered)");
    tmp_remove(&fx.t);

    /* only the contents, leaf and chain stay: the leaf no longer matches */
    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "CREATE TEMP TABLE t AS SELECT * FROM events WHERE seq IN (1500, 1501);"
             "UPDATE events SET (at, kind, actor, target, code, account_id, msgid, body) ="
             " (SELECT at, kind, actor, target, code, account_id, msgid, body FROM t"
             "  WHERE t.seq = 3001 - events.seq) WHERE seq IN (1500, 1501)");
    expect(&fx, NETLOG_VERIFY_BAD, 1500, 0, "(changed)");
    tmp_remove(&fx.t);
}

/* The attacker recomputes leaf and chain: only the signature stops them. */
static void test_verify_rehashed(void **state)
{
    (void)state;
    struct fixture fx;
    char err[256];
    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "UPDATE events SET actor = 'mallory' WHERE seq = 1234");
    assert_int_equal(netlog_loggen_rehash(fx.db, 1234, GEN_EVENTS, err, sizeof err), 0);
    expect(&fx, NETLOG_VERIFY_BAD, 0, 2000, "checkpoint at size 2000: root does not match");
    struct netlog_verify_report r;
    netlog_verify_file(fx.db, fx.pub, &r);
    assert_int_equal(r.bad_from, 1001);
    assert_int_equal(r.problems, 1); /* the final checkpoint resumes from 2000's state */
    tmp_remove(&fx.t);

    /* rehashing only the touched row breaks the chain at the next one */
    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "UPDATE events SET actor = 'mallory' WHERE seq = 1234");
    assert_int_equal(netlog_loggen_rehash(fx.db, 1234, 1234, err, sizeof err), 0);
    expect(&fx, NETLOG_VERIFY_BAD, 1235, 0, "record 1235: its chain value");
    tmp_remove(&fx.t);

    /* swapped and rehashed */
    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "UPDATE events SET seq = -1 WHERE seq = 1500;"
             "UPDATE events SET seq = 1500 WHERE seq = 1600;"
             "UPDATE events SET seq = 1600 WHERE seq = -1");
    assert_int_equal(netlog_loggen_rehash(fx.db, 1500, GEN_EVENTS, err, sizeof err), 0);
    expect(&fx, NETLOG_VERIFY_BAD, 0, 2000, "root does not match");
    tmp_remove(&fx.t);
}

static void test_verify_checkpoints(void **state)
{
    (void)state;
    struct fixture fx;
    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "UPDATE checkpoints SET note = replace(note, 'qun-log' || char(10) || '2000',"
             " 'qun-log' || char(10) || '2001') WHERE size = 2000");
    expect(&fx, NETLOG_VERIFY_BAD, 0, 2000, "checkpoint at size 2000: bad signature");
    tmp_remove(&fx.t);

    fx_make(&fx, GEN_EVENTS, false);
    sql(&fx, "UPDATE checkpoints SET root = zeroblob(32) WHERE size = 1000");
    expect(&fx, NETLOG_VERIFY_BAD, 0, 1000, "differs from its signed note");
    tmp_remove(&fx.t);

    /* a checkpoint row forged with another key */
    fx_make(&fx, GEN_EVENTS, false);
    struct checkpoint_key other;
    key_make(&fx.t, "other.key", &other);
    struct checkpoint cp = {.size = 2000};
    snprintf(cp.origin, sizeof cp.origin, "%s", other.name);
    char note[CHECKPOINT_NOTE_MAX];
    assert_true(checkpoint_sign(&other, &cp, note, sizeof note) > 0);
    sql(&fx, "UPDATE checkpoints SET note = '%s' WHERE size = 2000", note);
    expect(&fx, NETLOG_VERIFY_BAD, 0, 2000, "bad signature");
    checkpoint_key_wipe(&other);
    tmp_remove(&fx.t);
}

static void test_verify_purged(void **state)
{
    (void)state;
    struct fixture fx;
    char err[256];
    /* a purge inside a checkpoint interval, and one at its boundary */
    static const int64_t uptos[] = {1500, 1000};
    for (size_t i = 0; i < 2; i++) {
        fx_make(&fx, GEN_EVENTS, false);
        assert_int_equal(netlog_loggen_purge(fx.db, uptos[i], err, sizeof err), 0);
        struct netlog_verify_report r;
        assert_int_equal(netlog_verify_file(fx.db, fx.pub, &r), NETLOG_VERIFY_OK);
        assert_true(r.purged);
        assert_int_equal(r.first_seq, uptos[i] + 1);
        assert_int_equal(r.events, GEN_EVENTS - uptos[i]);
        assert_int_equal(r.signed_size, GEN_EVENTS);
        sql(&fx, "UPDATE events SET body = 'x' WHERE seq = 2100");
        expect(&fx, NETLOG_VERIFY_BAD, 2100, 0, "(changed)");
        tmp_remove(&fx.t);
    }
    /* the first kept record removed; a damaged purge record */
    fx_make(&fx, GEN_EVENTS, false);
    assert_int_equal(netlog_loggen_purge(fx.db, 1500, err, sizeof err), 0);
    sql(&fx, "DELETE FROM events WHERE seq = 1501");
    expect(&fx, NETLOG_VERIFY_BAD, 1501, 0, "record 1501 is missing (removed)");
    tmp_remove(&fx.t);
    fx_make(&fx, GEN_EVENTS, false);
    assert_int_equal(netlog_loggen_purge(fx.db, 1500, err, sizeof err), 0);
    sql(&fx, "UPDATE purged SET acc = substr(acc, 1, 40)");
    expect(&fx, NETLOG_VERIFY_BAD, 1501, 0, "purge record is damaged");
    tmp_remove(&fx.t);
    /* a well-formed but forged purge accumulator: the checkpoint at 2000,
     * signed over the real tree, catches it */
    fx_make(&fx, GEN_EVENTS, false);
    assert_int_equal(netlog_loggen_purge(fx.db, 1024, err, sizeof err), 0);
    sql(&fx, "UPDATE purged SET acc = zeroblob(6) || x'0400' || zeroblob(32)");
    expect(&fx, NETLOG_VERIFY_BAD, 0, 2000, "checkpoint at size 2000: root does not match");
    tmp_remove(&fx.t);
}

static void test_verify_cannot_open(void **state)
{
    (void)state;
    struct fixture fx;
    fx_make(&fx, 10, false);
    struct netlog_verify_report r;
    assert_int_equal(netlog_verify_file("/nonexistent/log.db", fx.pub, &r), NETLOG_VERIFY_ERROR);
    assert_non_null(strstr(r.message, "/nonexistent/log.db"));
    assert_int_equal(netlog_verify_file(fx.db, "/nonexistent/key.pub", &r), NETLOG_VERIFY_ERROR);
    assert_non_null(strstr(r.message, "public key"));
    /* the signing key is not a verifier key */
    assert_int_equal(netlog_verify_file(fx.db, fx.key, &r), NETLOG_VERIFY_ERROR);
    /* a database that is not a log */
    sql(&fx, "DROP TABLE events");
    assert_int_equal(netlog_verify_file(fx.db, fx.pub, &r), NETLOG_VERIFY_ERROR);
    tmp_remove(&fx.t);
}

int main(void)
{
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc6962_vectors),
        cmocka_unit_test(test_acc_matches_root),
        cmocka_unit_test(test_acc_deserialize_refuses),
        cmocka_unit_test(test_inclusion_proofs),
        cmocka_unit_test(test_checkpoint_sign_verify),
        cmocka_unit_test(test_verify_clean),
        cmocka_unit_test(test_verify_unsigned_tail),
        cmocka_unit_test(test_verify_changed_fields),
        cmocka_unit_test(test_verify_removed),
        cmocka_unit_test(test_verify_inserted),
        cmocka_unit_test(test_verify_swapped),
        cmocka_unit_test(test_verify_rehashed),
        cmocka_unit_test(test_verify_checkpoints),
        cmocka_unit_test(test_verify_purged),
        cmocka_unit_test(test_verify_cannot_open),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
