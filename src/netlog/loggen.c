/*
 * loggen.c - synthetic network-log databases for tests and benchmarks
 * (see loggen.h). Single-threaded; one SQLite connection per call.
 *
 * The rows are bound exactly as netlog.c binds them (nl_bind_event), so a
 * generated file is indistinguishable from one the daemon wrote; the
 * generator keeps its own chain and Merkle accumulator as the writer does.
 */
#include "netlog/row.h"
#include "netlog/loggen.h"

#include <inttypes.h>
#include <sqlite3.h>
#include <stdio.h>
#include <string.h>

#include "netlog/checkpoint.h"
#include "netlog/event.h"
#include "netlog/history_index.h"
#include "netlog/merkle.h"
#include "netlog/schema.h"
#include "util/msgid.h"

#define LOGGEN_BASE_MS   1767225600000LL /* 2026-01-01T00:00:00Z */
#define LOGGEN_TX_EVENTS 500000          /* rows per transaction */

struct gen {
    sqlite3 *db;
    sqlite3_stmt *ins, *cp_ins;
    struct checkpoint_key key;
    uint8_t chain[NETLOG_HASH_BYTES];
    struct merkle_acc acc;
    uint64_t rng;
};

static uint32_t gen_rand(struct gen *g)
{
    /* xorshift64*: fixed sequences for a fixed seed, fast enough for 10M */
    g->rng ^= g->rng >> 12;
    g->rng ^= g->rng << 25;
    g->rng ^= g->rng >> 27;
    return (uint32_t)((g->rng * 2685821657736338717ULL) >> 32);
}

static int gen_fail(sqlite3 *db, char *err, size_t errlen, const char *what)
{
    snprintf(err, errlen, "loggen: %s: %s", what, db ? sqlite3_errmsg(db) : "cannot open");
    return -1;
}

static void bind_text_or_null(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(s, i);
}

static void bind_int_or_null(sqlite3_stmt *s, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

/* Makes event seq: text in the caller's buffers (reused for every row). */
static void gen_event(struct gen *g, int64_t seq, struct netlog_event *e, char *actor, char *target,
                      char *msgid, char *body)
{
    uint32_t r = gen_rand(g), user = gen_rand(g) % 5000, grp = r % 300;
    static const char *const words[] = {"你好",     "hello",        "meeting at 3", "ok",
                                        "谢谢大家", "see the file", "lunch?",       "👍"};
    snprintf(actor, 64, "user%" PRIu32, user);
    snprintf(target, 64, "#group%" PRIu32, grp);
    *e = (struct netlog_event){.seq = seq,
                               .at_ms = LOGGEN_BASE_MS + seq * 7,
                               .kind = "msg",
                               .actor = actor,
                               .target = target,
                               .code = 100000 + grp,
                               .account_id = 1 + user};
    uint32_t pick = (r >> 9) % 20;
    if (pick < 16) {
        msgid_for_seq(seq, msgid, 32); /* as msgpath.c names chat messages */
        /* the body as msgpath.c writes it (history replays it) */
        snprintf(body, 256,
                 "{\"command\":\"PRIVMSG\",\"text\":\"%s %" PRIu32
                 "\",\"tags\":\"+draft/reply=x\"}",
                 words[(r >> 16) % 8], gen_rand(g));
        e->msgid = msgid;
        e->body = body;
    } else if (pick < 18) {
        e->kind = pick == 16 ? "join" : "part";
        e->account_id = (r & 1) ? e->account_id : 0; /* some guests */
    } else if (pick == 18) {
        e->kind = "topic";
        snprintf(body, 256, "{\"topic\":\"week %" PRIu32 "\"}", r % 52);
        e->body = body;
    } else {
        e->kind = "session.login";
        e->target = NULL;
        e->code = 0;
        snprintf(body, 256, "{\"ip\":\"198.51.100.%" PRIu32 "\",\"port\":%" PRIu32 "}", r % 250,
                 1024 + r % 60000);
        e->body = body;
    }
}

static int gen_insert(struct gen *g, const struct netlog_event *e)
{
    uint8_t leaf[NETLOG_HASH_BYTES], chain[NETLOG_HASH_BYTES];
    netlog_leaf_hash(e, leaf);
    netlog_chain_next(g->chain, leaf, chain);
    sqlite3_stmt *s = g->ins;
    sqlite3_bind_int64(s, 1, e->seq);
    sqlite3_bind_int64(s, 2, e->at_ms);
    sqlite3_bind_text(s, 3, e->kind, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, e->actor ? e->actor : "", -1, SQLITE_STATIC);
    bind_text_or_null(s, 5, e->target);
    bind_int_or_null(s, 6, e->code);
    bind_int_or_null(s, 7, e->account_id);
    bind_text_or_null(s, 8, e->msgid);
    bind_text_or_null(s, 9, e->body);
    sqlite3_bind_blob(s, 10, leaf, NETLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(s, 11, chain, NETLOG_HASH_BYTES, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE)
        return -1;
    memcpy(g->chain, chain, NETLOG_HASH_BYTES);
    merkle_acc_add(&g->acc, leaf);
    return 0;
}

static int gen_checkpoint(struct gen *g, const char *origin, int64_t at_ms)
{
    struct checkpoint cp = {.size = g->acc.size};
    snprintf(cp.origin, sizeof cp.origin, "%s", origin);
    merkle_acc_root(&g->acc, cp.root);
    char note[CHECKPOINT_NOTE_MAX];
    uint8_t acc[MERKLE_ACC_BYTES_MAX];
    size_t acc_len = merkle_acc_serialize(&g->acc, acc, sizeof acc);
    if (checkpoint_sign(&g->key, &cp, note, sizeof note) < 0)
        return -1;
    sqlite3_stmt *s = g->cp_ins;
    sqlite3_bind_int64(s, 1, (int64_t)cp.size);
    sqlite3_bind_int64(s, 2, at_ms);
    sqlite3_bind_blob(s, 3, cp.root, NETLOG_HASH_BYTES, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, note, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 5, acc, (int)acc_len, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int gen_open(struct gen *g, const struct netlog_loggen_opts *o, const char *name, char *err,
                    size_t errlen)
{
    if (checkpoint_key_load(o->key_path, name, &g->key, err, errlen) < 0)
        return -1;
    if (sqlite3_open_v2(o->db_path, &g->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
            SQLITE_OK ||
        sqlite3_exec(g->db,
                     "PRAGMA journal_mode = WAL; PRAGMA synchronous = OFF;"
                     " PRAGMA cache_size = -262144;" NETLOG_SCHEMA_SQL,
                     NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(g->db,
                           "INSERT INTO events (seq, at, kind, actor, target, code, account_id,"
                           " msgid, body, leaf, chain) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                           -1, &g->ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(g->db,
                           "INSERT INTO checkpoints (size, at, root, note, acc)"
                           " VALUES (?, ?, ?, ?, ?)",
                           -1, &g->cp_ins, NULL) != SQLITE_OK)
        return gen_fail(g->db, err, errlen, o->db_path);
    return 0;
}

static void gen_close(struct gen *g)
{
    sqlite3_finalize(g->ins);
    sqlite3_finalize(g->cp_ins);
    sqlite3_close(g->db);
    checkpoint_key_wipe(&g->key);
}

static int gen_rows(struct gen *g, const struct netlog_loggen_opts *o, const char *name)
{
    char actor[64], target[64], msgid[32], body[256];
    for (int64_t seq = 1; seq <= o->events; seq++) {
        if ((seq - 1) % LOGGEN_TX_EVENTS == 0 &&
            sqlite3_exec(g->db, "BEGIN", NULL, NULL, NULL) != SQLITE_OK)
            return -1;
        struct netlog_event e;
        gen_event(g, seq, &e, actor, target, msgid, body);
        if (gen_insert(g, &e) < 0)
            return -1;
        bool cp_due = o->checkpoint_every > 0 && seq % o->checkpoint_every == 0;
        bool last = seq == o->events;
        if ((cp_due || (last && !o->no_final_checkpoint)) &&
            gen_checkpoint(g, name, e.at_ms + 1) < 0)
            return -1;
        if ((seq % LOGGEN_TX_EVENTS == 0 || last) &&
            sqlite3_exec(g->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
            return -1;
    }
    return 0;
}

int netlog_loggen(const struct netlog_loggen_opts *o, char *err, size_t errlen)
{
    const char *name = o->name ? o->name : NETLOG_LOGGEN_DEFAULT_NAME;
    struct gen g = {.rng = 0x9E3779B97F4A7C15ULL ^ o->seed};
    merkle_acc_init(&g.acc);
    int rc = gen_open(&g, o, name, err, errlen);
    if (rc == 0 && gen_rows(&g, o, name) < 0)
        rc = gen_fail(g.db, err, errlen, "writing events");
    int64_t indexed;
    if (rc == 0) /* as qund's applier would have: history_index.h */
        rc = hix_catch_up(g.db, &indexed, err, errlen);
    gen_close(&g);
    return rc;
}

/* ------------------------------------------------------------ purge */

static int purge_state(sqlite3 *db, int64_t upto, uint8_t chain[NETLOG_HASH_BYTES],
                       struct merkle_acc *acc)
{
    sqlite3_stmt *s = NULL;
    merkle_acc_init(acc);
    memset(chain, 0, NETLOG_HASH_BYTES);
    if (sqlite3_prepare_v2(db, "SELECT leaf, chain FROM events WHERE seq <= ? ORDER BY seq", -1, &s,
                           NULL) != SQLITE_OK)
        return -1;
    sqlite3_bind_int64(s, 1, upto);
    while (sqlite3_step(s) == SQLITE_ROW) {
        merkle_acc_add(acc, sqlite3_column_blob(s, 0));
        memcpy(chain, sqlite3_column_blob(s, 1), NETLOG_HASH_BYTES);
    }
    sqlite3_finalize(s);
    return acc->size == (uint64_t)upto ? 0 : -1;
}

int netlog_loggen_purge(const char *db_path, int64_t upto, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    uint8_t chain[NETLOG_HASH_BYTES], acc_bytes[MERKLE_ACC_BYTES_MAX];
    struct merkle_acc acc;
    int rc = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) == SQLITE_OK &&
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
        purge_state(db, upto, chain, &acc) == 0 &&
        sqlite3_prepare_v2(db,
                           "INSERT OR REPLACE INTO purged (id, first, chain, acc, at)"
                           " VALUES (1, ?, ?, ?, ?)",
                           -1, &s, NULL) == SQLITE_OK) {
        size_t n = merkle_acc_serialize(&acc, acc_bytes, sizeof acc_bytes);
        sqlite3_bind_int64(s, 1, upto + 1);
        sqlite3_bind_blob(s, 2, chain, NETLOG_HASH_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(s, 3, acc_bytes, (int)n, SQLITE_STATIC);
        sqlite3_bind_int64(s, 4, LOGGEN_BASE_MS);
        if (sqlite3_step(s) == SQLITE_DONE) {
            /* the bound is a parameter too: no SQL text is formatted */
            sqlite3_finalize(s);
            s = NULL;
            if (sqlite3_prepare_v2(db, "DELETE FROM events WHERE seq <= ?", -1, &s, NULL) ==
                    SQLITE_OK &&
                sqlite3_bind_int64(s, 1, upto) == SQLITE_OK && sqlite3_step(s) == SQLITE_DONE &&
                sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
                rc = 0;
        }
    }
    if (rc < 0)
        gen_fail(db, err, errlen, "purge");
    sqlite3_finalize(s);
    sqlite3_close(db);
    return rc;
}

/* ------------------------------------------------------------ rehash */

static int rehash_rows(sqlite3 *db, sqlite3_stmt *sel, sqlite3_stmt *upd,
                       uint8_t chain[NETLOG_HASH_BYTES])
{
    while (sqlite3_step(sel) == SQLITE_ROW) {
        struct netlog_event e;
        netlog_event_from_row(sel, &e);
        uint8_t leaf[NETLOG_HASH_BYTES];
        netlog_leaf_hash(&e, leaf);
        netlog_chain_next(chain, leaf, chain);
        sqlite3_bind_blob(upd, 1, leaf, NETLOG_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_blob(upd, 2, chain, NETLOG_HASH_BYTES, SQLITE_TRANSIENT);
        sqlite3_bind_int64(upd, 3, e.seq);
        if (sqlite3_step(upd) != SQLITE_DONE)
            return -1;
        sqlite3_reset(upd);
    }
    return 0;
}

int netlog_loggen_rehash(const char *db_path, int64_t from, int64_t to, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *prev = NULL, *sel = NULL, *upd = NULL;
    uint8_t chain[NETLOG_HASH_BYTES] = {0};
    int rc = -1;
    if (sqlite3_open_v2(db_path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
        sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "SELECT chain FROM events WHERE seq < ? ORDER BY seq DESC LIMIT 1",
                           -1, &prev, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db,
                           "SELECT " NETLOG_EVENT_COLUMNS
                           " FROM events WHERE seq BETWEEN ? AND ? ORDER BY seq",
                           -1, &sel, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "UPDATE events SET leaf = ?, chain = ? WHERE seq = ?", -1, &upd,
                           NULL) != SQLITE_OK)
        goto out;
    sqlite3_bind_int64(prev, 1, from);
    if (sqlite3_step(prev) == SQLITE_ROW && sqlite3_column_bytes(prev, 0) == NETLOG_HASH_BYTES)
        memcpy(chain, sqlite3_column_blob(prev, 0), NETLOG_HASH_BYTES);
    sqlite3_bind_int64(sel, 1, from);
    sqlite3_bind_int64(sel, 2, to);
    if (rehash_rows(db, sel, upd, chain) == 0 &&
        sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
        rc = 0;
out:
    if (rc < 0)
        gen_fail(db, err, errlen, "rehash");
    sqlite3_finalize(prev);
    sqlite3_finalize(sel);
    sqlite3_finalize(upd);
    sqlite3_close(db);
    return rc;
}
