/*
 * test_gen.h - a tiny network-log writer for the retention and bundle unit
 * tests (static functions; included by test_retention.c and test_bundle.c).
 *
 * Rows follow the writer's semantics exactly: seq dense from 1, NULL for
 * absent text and zero integers, leaf = netlog_leaf_hash over the fields
 * (NULL text = "", NULL int = 0), chain = SHA-256(previous chain || leaf)
 * from 32 zero bytes, and checkpoint rows (size, at, root, signed note,
 * serialized accumulator) signed with a key made in the test's directory.
 * The generator keeps every leaf so tests can compute roots themselves.
 * It writes no history index: gen_index adds the runs qund's applier would
 * have written (history_index.h); a log without them is an old log.
 */
#ifndef QUN_NETLOG_TEST_GEN_H
#define QUN_NETLOG_TEST_GEN_H

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "netlog/checkpoint.h"
#include "netlog/event.h"
#include "netlog/history_index.h"
#include "netlog/merkle.h"
#include "netlog/schema.h"

#define GEN_MAX  8192
#define GEN_NAME "irc.qun.test/qun-log"

struct gen {
    char dir[64], db_path[128], key_path[128], pub_path[128];
    sqlite3 *db;
    struct checkpoint_key key;
    struct merkle_acc acc;
    uint8_t chain[NETLOG_HASH_BYTES];
    int64_t n;
    uint8_t leaves[GEN_MAX][NETLOG_HASH_BYTES];
};

static struct gen *gen_open(void)
{
    struct gen *g = calloc(1, sizeof *g);
    char err[256];
    if (!g)
        abort();
    snprintf(g->dir, sizeof g->dir, "/tmp/qun-gen-XXXXXX");
    if (!mkdtemp(g->dir))
        abort();
    snprintf(g->db_path, sizeof g->db_path, "%s/netlog.db", g->dir);
    snprintf(g->key_path, sizeof g->key_path, "%s/netlog.key", g->dir);
    snprintf(g->pub_path, sizeof g->pub_path, "%s/netlog.key.pub", g->dir);
    if (checkpoint_key_load(g->key_path, GEN_NAME, &g->key, err, sizeof err) < 0 ||
        sqlite3_open(g->db_path, &g->db) != SQLITE_OK ||
        sqlite3_exec(g->db, "PRAGMA journal_mode=WAL;" NETLOG_SCHEMA_SQL, NULL, NULL, NULL) !=
            SQLITE_OK)
        abort();
    merkle_acc_init(&g->acc);
    return g;
}

static void gen_bind_text(sqlite3_stmt *s, int i, const char *v)
{
    if (v)
        sqlite3_bind_text(s, i, v, -1, SQLITE_TRANSIENT);
    else
        sqlite3_bind_null(s, i);
}

static void gen_bind_int(sqlite3_stmt *s, int i, int64_t v)
{
    if (v)
        sqlite3_bind_int64(s, i, v);
    else
        sqlite3_bind_null(s, i);
}

/* Appends one event; returns its seq. */
static int64_t gen_add(struct gen *g, int64_t at, const char *kind, const char *actor,
                       const char *target, int64_t code, int64_t account_id, const char *body)
{
    struct netlog_event e = {g->n + 1, at, kind, actor, target, code, account_id, NULL, body};
    uint8_t leaf[NETLOG_HASH_BYTES], chain[NETLOG_HASH_BYTES];
    sqlite3_stmt *s;
    netlog_leaf_hash(&e, leaf);
    netlog_chain_next(g->chain, leaf, chain);
    if (g->n >= GEN_MAX ||
        sqlite3_prepare_v2(g->db,
                           "INSERT INTO events (seq, at, kind, actor, target, code, account_id,"
                           " msgid, body, leaf, chain) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &s, NULL) != SQLITE_OK)
        abort();
    sqlite3_bind_int64(s, 1, e.seq);
    sqlite3_bind_int64(s, 2, at);
    gen_bind_text(s, 3, kind);
    gen_bind_text(s, 4, actor);
    gen_bind_text(s, 5, target);
    gen_bind_int(s, 6, code);
    gen_bind_int(s, 7, account_id);
    gen_bind_text(s, 8, NULL);
    gen_bind_text(s, 9, body);
    sqlite3_bind_blob(s, 10, leaf, NETLOG_HASH_BYTES, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 11, chain, NETLOG_HASH_BYTES, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE)
        abort();
    sqlite3_finalize(s);
    memcpy(g->chain, chain, sizeof chain);
    memcpy(g->leaves[g->n], leaf, sizeof leaf);
    merkle_acc_add(&g->acc, leaf);
    return ++g->n;
}

/* Writes a signed checkpoint over everything added so far. */
static void gen_checkpoint(struct gen *g, int64_t at)
{
    struct checkpoint cp = {.size = (uint64_t)g->n};
    char note[CHECKPOINT_NOTE_MAX + 1];
    uint8_t acc[MERKLE_ACC_BYTES_MAX];
    sqlite3_stmt *s;
    snprintf(cp.origin, sizeof cp.origin, "%s", GEN_NAME);
    merkle_acc_root(&g->acc, cp.root);
    size_t acclen = merkle_acc_serialize(&g->acc, acc, sizeof acc);
    if (checkpoint_sign(&g->key, &cp, note, sizeof note) < 0 ||
        sqlite3_prepare_v2(g->db,
                           "INSERT INTO checkpoints (size, at, root, note, acc) VALUES (?,?,?,?,?)",
                           -1, &s, NULL) != SQLITE_OK)
        abort();
    sqlite3_bind_int64(s, 1, g->n);
    sqlite3_bind_int64(s, 2, at);
    sqlite3_bind_blob(s, 3, cp.root, NETLOG_HASH_BYTES, SQLITE_TRANSIENT);
    sqlite3_bind_text(s, 4, note, -1, SQLITE_TRANSIENT);
    sqlite3_bind_blob(s, 5, acc, (int)acclen, SQLITE_TRANSIENT);
    if (sqlite3_step(s) != SQLITE_DONE)
        abort();
    sqlite3_finalize(s);
}

static void gen_exec(struct gen *g, const char *sql)
{
    if (sqlite3_exec(g->db, sql, NULL, NULL, NULL) != SQLITE_OK)
        abort();
}

/* The history index over everything added so far. */
static void gen_index(struct gen *g)
{
    int64_t added;
    char err[256];
    if (hix_catch_up(g->db, &added, err, sizeof err) < 0)
        abort();
}

static void gen_free(struct gen *g)
{
    char cmd[128];
    sqlite3_close(g->db);
    snprintf(cmd, sizeof cmd, "rm -rf %s", g->dir);
    if (system(cmd) != 0)
        abort();
    free(g);
}

#endif
