/*
 * verify.c - end-to-end check of a network-log database (see verify.h).
 *
 * One read transaction over two cursors that advance together: the
 * events in seq order (one prepared statement) and the checkpoints in size
 * order. A reader thread (verify_read.c, protocol in verify_int.h) steps
 * them and hands over batches of copied rows; this file does every check
 * on the caller's thread, in seq order. State of the walk (struct walk):
 *
 *   next_seq   the seq the next row must have
 *   chain      the chain value the next row must extend (stored values:
 *              after a break the walk goes on from the row's own chain)
 *   acc        the Merkle accumulator over the RECOMPUTED leaves, so a
 *              checkpoint proves the content itself, whatever the leaf
 *              and chain columns say; acc_valid is false after a gap
 *              (the tree cannot be rebuilt) until a signed checkpoint
 *              gives a trusted accumulator to resume from
 *   good_cp    the last checkpoint whose root matched: a mismatch at the
 *              next one names the records between them
 *
 * Problems are recorded with problem(): the first one (in walk order,
 * which is seq order) is described in the report, later ones counted.
 *
 * After the database, the walk goes on through the journal beside it
 * (<db>.jnl): after a crash it holds events the database does not have
 * yet, which qund copies at its next start. The journal is read before
 * the database's read transaction begins, so on a running server every
 * journal record past the database's end follows it (the journal starts
 * over only once the database holds all it had).
 */
#include "netlog/verify.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netlog/checkpoint.h"
#include "netlog/event.h"
#include "netlog/journal.h"
#include "netlog/merkle.h"
#include "netlog/verify_int.h"

#define PUBKEY_FILE_MAX 1024

struct walk {
    sqlite3 *db;
    sqlite3_stmt *ev, *cps;
    struct checkpoint_key key;
    struct netlog_verify_report *r;
    int64_t next_seq;
    uint8_t chain[NETLOG_HASH_BYTES];
    struct merkle_acc acc;
    bool acc_valid;
    int64_t good_cp; /* the size of the last checkpoint whose root matched */
    bool beyond_reported;
    uint8_t *jnl; /* the journal file, read before the walk, or NULL */
    size_t jnl_len;
};

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Records a problem; only the first one is described. */
__attribute__((format(printf, 4, 5))) static void problem(struct walk *w, int64_t seq, int64_t cp,
                                                          const char *fmt, ...)
{
    struct netlog_verify_report *r = w->r;
    r->problems++;
    if (!r->ok)
        return;
    r->ok = false;
    r->bad_seq = seq;
    r->bad_cp = cp;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->message, sizeof r->message, fmt, ap);
    va_end(ap);
}

/* ------------------------------------------------------------ opening */

static int fail_open(struct netlog_verify_report *r, const char *fmt, const char *what,
                     const char *why)
{
    snprintf(r->message, sizeof r->message, fmt, what, why);
    r->ok = false;
    return -1;
}

static int load_pubkey(const char *path, struct checkpoint_key *key, struct netlog_verify_report *r)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return fail_open(r, "%s: cannot open the public key: %s", path, strerror(errno));
    char text[PUBKEY_FILE_MAX + 1];
    size_t n = fread(text, 1, PUBKEY_FILE_MAX, f);
    bool too_long = n == PUBKEY_FILE_MAX && fgetc(f) != EOF;
    fclose(f);
    text[n] = '\0';
    if (too_long || !checkpoint_key_parse_public(text, key))
        return fail_open(r, "%s: %s", path,
                         "not a log verifier key (expected \"name+hash+base64key\")");
    return 0;
}

static int open_db(const char *path, struct walk *w)
{
    static const char ev_sql[] = "SELECT seq, at, kind, actor, target, code, account_id, msgid,"
                                 " body, leaf, chain FROM events ORDER BY seq";
    static const char cp_sql[] = "SELECT size, root, note, acc FROM checkpoints ORDER BY size";
    /* read-only: verify must never be able to change what it checks */
    if (sqlite3_open_v2(path, &w->db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK)
        return fail_open(w->r, "%s: cannot open the log database: %s", path,
                         w->db ? sqlite3_errmsg(w->db) : "out of memory");
    sqlite3_busy_timeout(w->db, 5000);
    /* one snapshot for both cursors, even while the daemon appends */
    if (sqlite3_exec(w->db, "PRAGMA mmap_size = 1073741824; BEGIN", NULL, NULL, NULL) !=
            SQLITE_OK ||
        sqlite3_prepare_v2(w->db, ev_sql, -1, &w->ev, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(w->db, cp_sql, -1, &w->cps, NULL) != SQLITE_OK)
        return fail_open(w->r, "%s: not a readable network log database: %s", path,
                         sqlite3_errmsg(w->db));
    return 0;
}

/* Reads the purged row, if any: the walk then starts at purged.first with
 * its chain and accumulator. -1 when the database cannot be read. */
static int load_purged(const char *path, struct walk *w)
{
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(w->db, "SELECT first, chain, acc FROM purged WHERE id = 1", -1, &s,
                           NULL) != SQLITE_OK)
        return fail_open(w->r, "%s: not a readable network log database: %s", path,
                         sqlite3_errmsg(w->db));
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        w->r->purged = true;
        int64_t first = sqlite3_column_int64(s, 0);
        const void *chain = sqlite3_column_blob(s, 1);
        bool chain_ok = sqlite3_column_bytes(s, 1) == NETLOG_HASH_BYTES;
        bool acc_ok = merkle_acc_deserialize(&w->acc, sqlite3_column_blob(s, 2),
                                             (size_t)sqlite3_column_bytes(s, 2));
        w->next_seq = first;
        if (chain_ok)
            memcpy(w->chain, chain, NETLOG_HASH_BYTES);
        if (first < 1 || !chain_ok || !acc_ok || w->acc.size != (uint64_t)(first - 1)) {
            w->acc_valid = false;
            problem(w, first, 0,
                    "the purge record is damaged: it cannot say what the %" PRId64
                    " purged records hashed to",
                    first - 1);
        }
    } else if (rc != SQLITE_DONE) {
        sqlite3_finalize(s);
        return fail_open(w->r, "%s: cannot read the purge record: %s", path, sqlite3_errmsg(w->db));
    }
    sqlite3_finalize(s);
    w->r->first_seq = w->next_seq;
    return 0;
}

/* ------------------------------------------------------------ checkpoints */

/* The walk has reached cp->size: compare the tree with the signed root. */
static void check_root(struct walk *w, const struct verify_cp *cp)
{
    if (w->acc_valid && w->acc.size == (uint64_t)cp->size) {
        uint8_t root[NETLOG_HASH_BYTES];
        merkle_acc_root(&w->acc, root);
        if (memcmp(root, cp->root, NETLOG_HASH_BYTES) == 0) {
            w->good_cp = cp->size;
            return;
        }
        int64_t from = w->good_cp >= w->r->first_seq ? w->good_cp + 1 : w->r->first_seq;
        if (w->r->ok)
            w->r->bad_from = from;
        problem(w, 0, cp->size,
                "checkpoint at size %" PRId64 ": root does not match (records before it were "
                "altered: one or more of %" PRId64 "..%" PRId64 ")",
                cp->size, from, cp->size);
    }
    /* resume from the signed state so later checkpoints are judged alone */
    uint8_t acc_root[NETLOG_HASH_BYTES];
    if (cp->acc_ok)
        merkle_acc_root(&cp->acc, acc_root);
    if (cp->acc_ok && memcmp(acc_root, cp->root, NETLOG_HASH_BYTES) == 0) {
        w->acc = cp->acc;
        w->acc_valid = true;
        w->good_cp = cp->size;
    }
}

/* A checkpoint row, in walk order: right after the record of seq = size,
 * or before the first record (older ones, after a purge), or after the
 * last record when it covers records that are gone. Before the first
 * retained record only its signature can be checked, except at the purge
 * boundary, where the purged accumulator gives the root. */
static void check_checkpoint(struct walk *w, const struct verify_cp *cp)
{
    struct netlog_verify_report *r = w->r;
    r->checkpoints++;
    if (cp->size > r->last_seq) {
        if (!w->beyond_reported)
            problem(w, r->last_seq + 1, cp->size,
                    "record %" PRId64 " is missing (removed): the checkpoint at size %" PRId64
                    " covers it, but the log ends at %" PRId64,
                    r->last_seq + 1, cp->size, r->last_seq);
        w->beyond_reported = true;
    } else if (!cp->trusted) {
        problem(w, 0, cp->size, "checkpoint at size %" PRId64 ": %s", cp->size, cp->why);
    } else {
        r->signed_size = cp->size;
        if (cp->size == r->last_seq)
            check_root(w, cp);
    }
}

/* ------------------------------------------------------------ hashing */

/* The walk hashes each record three times (leaf, chain, about one tree
 * node) with event.c and merkle.c themselves (OpenSSL's SHA-256 with the
 * CPU's SHA instructions, netlog/sha256.h), reading the fields in place
 * from SQLite with their lengths (sqlite3_column_text would copy each one
 * to add a NUL). */

struct span {
    const void *p;
    size_t n;
};

struct row {
    int64_t seq, at, code, account;
    struct span kind, actor, target, msgid, body;
};

/* The leaf of row as if its seq were `seq` (event.h's canonical bytes). */
static void row_leaf(const struct row *r, int64_t seq, uint8_t out[NETLOG_HASH_BYTES])
{
    struct netlog_event e = {.seq = seq,
                             .at_ms = r->at,
                             .kind = r->kind.p,
                             .actor = r->actor.p,
                             .target = r->target.p,
                             .code = r->code,
                             .account_id = r->account,
                             .msgid = r->msgid.p,
                             .body = r->body.p};
    const uint32_t lens[NETLOG_TEXTS] = {(uint32_t)r->kind.n, (uint32_t)r->actor.n,
                                         (uint32_t)r->target.n, (uint32_t)r->msgid.n,
                                         (uint32_t)r->body.n};
    netlog_leaf_hash_lens(&e, lens, out);
}

/* ------------------------------------------------------------ events */

/* The row does not extend the chain: say the likeliest why. A row whose
 * content hashes with a neighbouring seq was moved there. */
static void chain_break(struct walk *w, const struct row *r, bool leaf_ok, const uint8_t *leaf)
{
    int64_t seq = r->seq;
    if (leaf_ok) {
        problem(w, seq, 0,
                "record %" PRId64 ": its chain value does not follow the previous record (that "
                "record was changed and rehashed, or records were inserted or reordered)",
                seq);
        return;
    }
    uint8_t h[NETLOG_HASH_BYTES];
    for (int d = -1; d <= 1; d += 2) {
        row_leaf(r, seq + d, h);
        if (memcmp(h, leaf, NETLOG_HASH_BYTES) != 0)
            continue;
        problem(w, seq, 0, "record %" PRId64 " holds what was record %" PRId64 " (%s)", seq,
                seq + d,
                d < 0 ? "a record was inserted before it"
                      : "a record was removed and the rest renumbered");
        return;
    }
    problem(w, seq, 0,
            "record %" PRId64 " does not follow the previous record in the hash chain (inserted "
            "or reordered)",
            seq);
}

/* A row whose seq is not the next one. Returns false when the row is to
 * be skipped (it lies before the start of the log). */
static bool seq_jump(struct walk *w, int64_t seq)
{
    if (seq < w->next_seq) {
        /* only the first row can be here: seq is the primary key */
        problem(w, seq, 0,
                "record %" PRId64 " lies before the first record of the log, %" PRId64
                " (inserted)",
                seq, w->next_seq);
        return false;
    }
    if (seq == w->next_seq + 1)
        problem(w, w->next_seq, 0, "record %" PRId64 " is missing (removed)", w->next_seq);
    else
        problem(w, w->next_seq, 0, "records %" PRId64 "..%" PRId64 " are missing (removed)",
                w->next_seq, seq - 1);
    w->acc_valid = false; /* until a signed accumulator lets the tree resume */
    return true;
}

static void item_row(const struct verify_batch *b, const struct verify_item *it, struct row *r)
{
    struct span *t[VT_COUNT] = {&r->kind, &r->actor, &r->target, &r->msgid, &r->body};
    r->seq = it->seq;
    r->at = it->at;
    r->code = it->code;
    r->account = it->account;
    for (int i = 0; i < VT_COUNT; i++)
        *t[i] = (struct span){b->arena + it->off[i], it->len[i]};
}

static void check_item(struct walk *w, const struct verify_batch *b, const struct verify_item *it)
{
    bool after_gap = false;
    if (it->seq != w->next_seq) {
        if (!seq_jump(w, it->seq))
            return;
        after_gap = true;
    }
    w->r->events++;
    w->r->last_seq = it->seq;
    w->next_seq = it->seq + 1;
    const uint8_t *leaf = it->has_leaf ? it->leaf : NULL, *chain = it->has_chain ? it->chain : NULL;
    uint8_t mine[NETLOG_HASH_BYTES] = {0}, next_chain[NETLOG_HASH_BYTES];
    struct row r;
    item_row(b, it, &r);
    if (it->typed)
        row_leaf(&r, r.seq, mine);
    bool leaf_ok = it->typed && leaf && memcmp(mine, leaf, NETLOG_HASH_BYTES) == 0;
    bool link_ok = after_gap; /* a gap is reported once, not again as a break */
    if (leaf && chain && !after_gap) {
        netlog_chain_next(w->chain, leaf, next_chain);
        link_ok = memcmp(next_chain, chain, NETLOG_HASH_BYTES) == 0;
    }
    if (!it->typed)
        problem(w, r.seq, 0, "record %" PRId64 ": a field has the wrong type (changed)", r.seq);
    else if (!leaf || !chain)
        problem(w, r.seq, 0, "record %" PRId64 ": its stored hash values are damaged (changed)",
                r.seq);
    else if (!link_ok)
        chain_break(w, &r, leaf_ok, leaf);
    else if (!leaf_ok)
        problem(w, r.seq, 0, "record %" PRId64 ": content does not match its hash (changed)",
                r.seq);
    /* go on from what is stored, so one edit is one problem */
    if (chain)
        memcpy(w->chain, chain, NETLOG_HASH_BYTES);
    if (w->acc_valid)
        merkle_acc_add(&w->acc, mine);
}

/* ------------------------------------------------------------ the journal */

static int read_journal(struct walk *w, const char *db_path)
{
    char path[4096], why[256];
    snprintf(path, sizeof path, "%s.jnl", db_path);
    int rc = journal_load(path, &w->jnl, &w->jnl_len, why, sizeof why);
    if (rc < 0)
        return fail_open(w->r, "%s: %s", path, why);
    w->r->journal = rc == 0; /* none: an old log, or a copy made after `qunctl log sync` */
    return 0;
}

/* The journal's records past the database's last event, with the same
 * checks as rows. A record the database already has is skipped; the
 * first that does not follow the log ends the walk (qund would not copy
 * it either) and is a problem. */
static void walk_journal(struct walk *w)
{
    struct netlog_verify_report *r = w->r;
    struct journal_iter runs; /* both halves' runs, the older first (journal.h) */
    journal_iter_init(&runs, w->jnl, w->jnl_len, w->jnl_len / 2);
    int64_t db_last = r->last_seq, cp_last = db_last;
    struct verify_batch b = {.arena = w->jnl}; /* items point into the file's bytes */
    struct journal_rec rec;
    while (journal_iter_next(&runs, &rec)) {
        if (rec.type == 'C') {
            if ((int64_t)rec.size <= cp_last)
                continue; /* in the database, or read already in the other run */
            cp_last = (int64_t)rec.size;
            struct verify_cp cp;
            verify_cp_parse(&w->key, (int64_t)rec.size, rec.root, NETLOG_HASH_BYTES, rec.note,
                            rec.note_len, rec.acc, rec.acc_len, &cp);
            check_checkpoint(w, &cp);
            continue;
        }
        if (rec.ev.seq <= db_last || rec.ev.seq < w->next_seq)
            continue; /* in the database, or read already in the other run */
        if (rec.ev.seq != w->next_seq) {
            problem(w, w->next_seq, 0,
                    "the journal's record %" PRId64 " does not follow the log, which ends at "
                    "%" PRId64 " (records were removed or the journal was altered)",
                    rec.ev.seq, w->next_seq - 1);
            break;
        }
        struct verify_item it = {.cp = -1,
                                 .typed = true,
                                 .has_leaf = true,
                                 .has_chain = true,
                                 .seq = rec.ev.seq,
                                 .at = rec.ev.at_ms,
                                 .code = rec.ev.code,
                                 .account = rec.ev.account_id};
        const char *text[VT_COUNT] = {rec.ev.kind, rec.ev.actor, rec.ev.target, rec.ev.msgid,
                                      rec.ev.body};
        const uint32_t text_len[VT_COUNT] = {rec.kind_len, rec.actor_len, rec.target_len,
                                             rec.msgid_len, rec.body_len};
        for (int i = 0; i < VT_COUNT; i++) {
            it.off[i] = text[i] ? (uint32_t)((const uint8_t *)text[i] - w->jnl) : 0;
            it.len[i] = text_len[i];
        }
        memcpy(it.leaf, rec.leaf, NETLOG_HASH_BYTES);
        memcpy(it.chain, rec.chain, NETLOG_HASH_BYTES);
        int64_t before = r->events;
        check_item(w, &b, &it);
        r->journal_events += r->events - before;
    }
}

/* ------------------------------------------------------------ the walk */

static int walk_events(struct walk *w, const char *path)
{
    struct netlog_verify_report *r = w->r;
    r->last_seq = w->next_seq - 1;
    struct verify_reader *rd = verify_reader_start(w->db, w->ev, w->cps, &w->key, r->first_seq);
    if (!rd)
        return fail_open(r, "%s: %s", path, "cannot start the reader thread");
    const struct verify_batch *b;
    do {
        b = verify_reader_next(rd);
        for (size_t i = 0; i < b->n; i++) {
            const struct verify_item *it = &b->items[i];
            if (it->cp >= 0)
                check_checkpoint(w, &b->cps[it->cp]);
            else
                check_item(w, b, it);
        }
    } while (!b->last);
    char why[256];
    if (verify_reader_finish(rd, why, sizeof why) < 0)
        return fail_open(r, "%s: cannot read the events: %s", path, why);
    if (w->jnl)
        walk_journal(w);
    int64_t covered = r->signed_size > r->first_seq - 1 ? r->signed_size : r->first_seq - 1;
    r->unsigned_events = r->last_seq > covered ? r->last_seq - covered : 0;
    return 0;
}

enum netlog_verify_result netlog_verify_file(const char *db_path, const char *pubkey_path,
                                             struct netlog_verify_report *r)
{
    memset(r, 0, sizeof *r);
    r->ok = true;
    double t0 = now_seconds();
    struct walk w = {.r = r, .next_seq = 1, .acc_valid = true};
    merkle_acc_init(&w.acc);
    int rc = -1;
    if (sodium_init() < 0)
        fail_open(r, "%s%s", "libsodium could not be initialised", "");
    else if (load_pubkey(pubkey_path, &w.key, r) == 0 && read_journal(&w, db_path) == 0 &&
             open_db(db_path, &w) == 0 && load_purged(db_path, &w) == 0)
        rc = walk_events(&w, db_path);
    free(w.jnl);
    sqlite3_finalize(w.ev);
    sqlite3_finalize(w.cps);
    if (w.db) {
        sqlite3_exec(w.db, "ROLLBACK", NULL, NULL, NULL);
        sqlite3_close(w.db);
    }
    r->seconds = now_seconds() - t0;
    if (rc < 0) {
        r->ok = false;
        return NETLOG_VERIFY_ERROR;
    }
    return r->ok ? NETLOG_VERIFY_OK : NETLOG_VERIFY_BAD;
}
