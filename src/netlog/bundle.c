/*
 * bundle.c - search, case-bundle export and offline bundle verification
 * (bundle.h has the formats, the indexes used and the limits).
 *
 * Proofs after a purge: struct proof_tree knows the purged prefix only as
 * the perfect subtrees of purged.acc (aligned RFC 6962 nodes) and the kept
 * leaves after it. tree_hash(a, b) gives MTH of leaves [a, b): a purged
 * subtree when [a, b) is one, a cached 1024-leaf block when it is one,
 * otherwise the RFC split. A range strictly inside a purged subtree cannot
 * be computed; the audit path of a kept leaf never asks for one (its
 * siblings inside the prefix are whole purged subtrees or unions of them).
 */
#include "netlog/row.h"
#include "netlog/bundle.h"

#include <errno.h>
#include <inttypes.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "netlog/checkpoint.h"
#include "netlog/history_index.h"
#include "netlog/merkle.h"
#include "netlog/retention.h"
#include "netlog/schema.h"

#define BLOCK 1024u
#define H     NETLOG_HASH_BYTES

/* ---------------------------------------------------------------- JSON */

json_t *bundle_query_json(const struct bundle_query *q)
{
    json_t *o = json_object();
    if (q->code)
        json_object_set_new(o, "group_code", json_integer(q->code));
    if (q->account)
        json_object_set_new(o, "account", json_string(q->account));
    if (q->from_ms)
        json_object_set_new(o, "from", json_integer(q->from_ms));
    if (q->to_ms)
        json_object_set_new(o, "to", json_integer(q->to_ms));
    if (q->text)
        json_object_set_new(o, "text", json_string(q->text));
    if (q->kind)
        json_object_set_new(o, "kind", json_string(q->kind));
    if (q->actor)
        json_object_set_new(o, "actor", json_string(q->actor));
    if (q->audit)
        json_object_set_new(o, "audit", json_true());
    if (q->after_seq)
        json_object_set_new(o, "after_seq", json_integer(q->after_seq));
    if (q->before_seq)
        json_object_set_new(o, "before_seq", json_integer(q->before_seq));
    return o;
}

static json_t *text_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

json_t *bundle_event_json(const struct netlog_event *e, const uint8_t *leaf)
{
    json_t *o = json_object();
    json_object_set_new(o, "seq", json_integer(e->seq));
    json_object_set_new(o, "at", json_integer(e->at_ms));
    json_object_set_new(o, "kind", text_or_null(e->kind));
    json_object_set_new(o, "actor", text_or_null(e->actor));
    json_object_set_new(o, "target", text_or_null(e->target));
    json_object_set_new(o, "code", e->code ? json_integer(e->code) : json_null());
    json_object_set_new(o, "account_id", e->account_id ? json_integer(e->account_id) : json_null());
    json_object_set_new(o, "msgid", text_or_null(e->msgid));
    json_object_set_new(o, "body", text_or_null(e->body));
    if (leaf) {
        char hex[2 * H + 1];
        sodium_bin2hex(hex, sizeof hex, leaf, H);
        json_object_set_new(o, "leaf", json_string(hex));
    }
    return o;
}

bool bundle_parse_time(const char *text, int64_t *ms)
{
    int y, mo, d, h = 0, mi = 0, s = 0, n = 0;
    char *end;
    errno = 0;
    long long v = strtoll(text, &end, 10);
    if (!errno && *text && !*end && end - text > 8) {
        *ms = v;
        return true;
    }
    if (sscanf(text, "%4d-%2d-%2d%n", &y, &mo, &d, &n) != 3)
        return false;
    const char *rest = text + n;
    if (*rest == ' ' || *rest == 'T') {
        int m2 = 0;
        if (sscanf(rest + 1, "%2d:%2d%n", &h, &mi, &m2) != 2)
            return false;
        rest += 1 + m2;
        if (*rest == ':' && sscanf(rest + 1, "%2d%n", &s, &m2) == 1)
            rest += 1 + m2;
    }
    if (*rest || mo < 1 || mo > 12 || d < 1 || d > retention_days_in_month(y, mo) || h > 23 ||
        mi > 59 || s > 59)
        return false;
    *ms = retention_china_ms(y, mo, d, h, mi, s);
    return true;
}

/* ---------------------------------------------------------------- query */

static sqlite3 *open_ro(const char *path, char *err, size_t errlen)
{
    sqlite3 *db = NULL;
    if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot open the log %s: %s", path,
                 db ? sqlite3_errmsg(db) : "out of memory");
        sqlite3_close(db);
        return NULL;
    }
    sqlite3_busy_timeout(db, 10000);
    return db;
}

static bool is_number(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* The id of an account name: the newest event by that actor with an id. */
static int64_t resolve_account(sqlite3 *db, const char *name)
{
    if (is_number(name))
        return strtoll(name, NULL, 10);
    sqlite3_stmt *s;
    int64_t id = 0;
    if (sqlite3_prepare_v2(db,
                           "SELECT account_id FROM events WHERE actor = ?1 AND account_id > 0"
                           " ORDER BY seq DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK)
        return 0;
    sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW)
        id = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    return id;
}

/* LIKE pattern "%text%" (or "text%" for a prefix, up to n bytes) with %, _
 * and \ escaped; caller frees. */
static char *like_pattern_n(const char *text, size_t n, bool prefix)
{
    char *p = malloc(2 * n + 3), *w = p;
    if (!p)
        return NULL;
    if (!prefix)
        *w++ = '%';
    for (const char *end = text + n; text < end; text++) {
        if (*text == '%' || *text == '_' || *text == '\\')
            *w++ = '\\';
        *w++ = *text;
    }
    *w++ = '%';
    *w = '\0';
    return p;
}

static char *like_pattern(const char *text)
{
    return like_pattern_n(text, strlen(text), false);
}

/* The first seq whose at is >= ms (one past the last event when none is):
 * at never decreases as seq grows (schema.h), so this is a bisection over
 * the table's own key, about 25 point lookups at 10 million events, and a
 * time range costs no index of its own. */
static int64_t seq_at(sqlite3 *db, int64_t ms)
{
    sqlite3_stmt *bounds, *probe;
    int64_t lo = 1, hi = 1;
    /* two subqueries: min() and max() together in one SELECT would scan the table */
    if (sqlite3_prepare_v2(db,
                           "SELECT (SELECT min(seq) FROM events), (SELECT max(seq) FROM events)",
                           -1, &bounds, NULL) != SQLITE_OK)
        return 1;
    if (sqlite3_step(bounds) == SQLITE_ROW && sqlite3_column_type(bounds, 0) != SQLITE_NULL) {
        lo = sqlite3_column_int64(bounds, 0);
        hi = sqlite3_column_int64(bounds, 1) + 1;
    }
    sqlite3_finalize(bounds);
    if (sqlite3_prepare_v2(db, "SELECT at FROM events WHERE seq >= ? ORDER BY seq LIMIT 1", -1,
                           &probe, NULL) != SQLITE_OK)
        return lo;
    while (lo < hi) { /* invariant: at(< lo) < ms <= at(>= hi) */
        int64_t mid = lo + (hi - lo) / 2;
        sqlite3_bind_int64(probe, 1, mid);
        bool before = sqlite3_step(probe) == SQLITE_ROW && sqlite3_column_int64(probe, 0) < ms;
        sqlite3_reset(probe);
        if (before)
            lo = mid + 1;
        else
            hi = mid;
    }
    sqlite3_finalize(probe);
    return lo;
}

/* Prepares the filtered query; max_seq > 0 adds seq <= max_seq. */
static sqlite3_stmt *prepare_query(sqlite3 *db, const struct bundle_query *q, int64_t limit,
                                   char *err, size_t errlen)
{
    char sql[2048];
    int64_t acc = q->account ? resolve_account(db, q->account) : 0;
    size_t klen = q->kind ? strlen(q->kind) : 0;
    bool kprefix = klen && q->kind[klen - 1] == '*';
    /* a group or an account: its runs of the history index, in order
     * (history_index.h): axis ?14, key ?15, time ?16-?17; without them
     * (an old log not yet opened by qund), a scan */
    bool runs = (q->code || acc) && hix_complete(db);
    snprintf(sql, sizeof sql,
             "SELECT " NETLOG_EVENT_COLUMNS ", leaf"
             " FROM %s WHERE 1%s%s%s%s%s%s%s%s%s%s%s%s%s ORDER BY %s LIMIT ?7",
             runs ? NETLOG_SQL_RUNS_FROM : "events",
             runs ? " AND " NETLOG_SQL_RUNS_SCOPE("?14", "?15", "?16", "?17") : "",
             q->code ? " AND code = ?1" : "",
             q->account ? (acc ? " AND account_id = ?2" : " AND actor = ?3") : "",
             q->from_ms ? " AND at >= ?4" : "", q->to_ms ? " AND at < ?5" : "",
             q->text ? " AND body LIKE ?6 ESCAPE '\\'" : "",
             !q->kind  ? ""
             : kprefix ? " AND kind LIKE ?8 ESCAPE '\\'"
                       : " AND kind = ?8",
             q->actor ? " AND actor = ?9" : "",
             q->audit ? " AND (kind LIKE 'audit.%' OR kind LIKE 'console.%'"
                        " OR kind IN (" BUNDLE_AUDIT_KINDS "))"
                      : "",
             q->after_seq > 0 ? " AND seq > ?10" : "", q->before_seq > 0 ? " AND seq < ?11" : "",
             q->from_ms ? " AND seq >= ?12" : "", q->to_ms ? " AND seq < ?13" : "",
             runs ? (q->newest_first ? NETLOG_SQL_RUNS_ORDER("DESC") : NETLOG_SQL_RUNS_ORDER("ASC"))
                  : (q->newest_first ? "seq DESC" : "seq"));
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot query the log: %s", sqlite3_errmsg(db));
        return NULL;
    }
    sqlite3_bind_int64(s, 1, q->code);
    sqlite3_bind_int64(s, 2, acc);
    sqlite3_bind_text(s, 3, q->account ? q->account : "", -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 4, q->from_ms);
    sqlite3_bind_int64(s, 5, q->to_ms);
    if (q->text) {
        char *pat = like_pattern(q->text);
        sqlite3_bind_text(s, 6, pat ? pat : "%", -1, SQLITE_TRANSIENT);
        free(pat);
    }
    sqlite3_bind_int64(s, 7, limit);
    if (kprefix) {
        char *pat = like_pattern_n(q->kind, klen - 1, true);
        sqlite3_bind_text(s, 8, pat ? pat : "", -1, SQLITE_TRANSIENT);
        free(pat);
    } else if (q->kind)
        sqlite3_bind_text(s, 8, q->kind, -1, SQLITE_TRANSIENT);
    if (q->actor)
        sqlite3_bind_text(s, 9, q->actor, -1, SQLITE_TRANSIENT);
    if (q->after_seq > 0)
        sqlite3_bind_int64(s, 10, q->after_seq);
    if (q->before_seq > 0)
        sqlite3_bind_int64(s, 11, q->before_seq);
    if (q->from_ms)
        sqlite3_bind_int64(s, 12, seq_at(db, q->from_ms));
    if (q->to_ms)
        sqlite3_bind_int64(s, 13, seq_at(db, q->to_ms));
    if (runs) {
        sqlite3_bind_text(s, 14, q->code ? "code" : "account", -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 15, q->code ? q->code : acc);
        sqlite3_bind_int64(s, 16, q->from_ms ? q->from_ms : INT64_MIN);
        sqlite3_bind_int64(s, 17, q->to_ms ? q->to_ms : INT64_MAX);
    }
    return s;
}

int64_t bundle_search(const char *db_path, const struct bundle_query *q, bundle_event_fn fn,
                      void *ud, char *err, size_t errlen)
{
    sqlite3 *db = open_ro(db_path, err, errlen);
    if (!db)
        return -1;
    sqlite3_stmt *s =
        prepare_query(db, q, q->limit > 0 ? q->limit : BUNDLE_DEFAULT_LIMIT, err, errlen);
    int64_t n = -1;
    if (s) {
        int rc;
        n = 0;
        while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
            struct netlog_event e;
            netlog_event_from_row(s, &e);
            n++;
            if (fn && fn(ud, &e) != 0)
                break;
        }
        if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
            snprintf(err, errlen, "cannot read the log: %s", sqlite3_errmsg(db));
            n = -1;
        }
        sqlite3_finalize(s);
    }
    sqlite3_close(db);
    return n;
}

/* ---------------------------------------------------------------- proofs */

struct proof_tree {
    uint64_t size;            /* leaves in the tree (the checkpoint size) */
    uint64_t kept_from;       /* index of the first kept leaf (= purged.first - 1) */
    uint8_t (*leaves)[H];     /* leaves [kept_from, size) */
    uint8_t (*blocks)[H];     /* MTH of leaves [i*BLOCK, (i+1)*BLOCK) when kept */
    struct merkle_acc purged; /* perfect subtrees covering [0, kept_from) */
};

/* The largest power of two below n (n >= 2). */
static uint64_t split_of(uint64_t n)
{
    uint64_t k = 1;
    while (k * 2 < n)
        k *= 2;
    return k;
}

/* MTH of leaves [a, b), b > a; -1 when it needs the inside of a purged
 * subtree. */
static int tree_hash(const struct proof_tree *t, uint64_t a, uint64_t b, uint8_t out[H])
{
    if (a >= t->kept_from) {
        uint64_t n = b - a;
        if (n == BLOCK && a % BLOCK == 0 && t->blocks) {
            memcpy(out, t->blocks[a / BLOCK], H);
            return 0;
        }
        if (n <= BLOCK) {
            merkle_root((const uint8_t(*)[H])t->leaves + (a - t->kept_from), n, out);
            return 0;
        }
    } else {
        uint64_t off = 0;
        for (int i = 0; i < t->purged.depth; i++) {
            uint64_t sz = t->purged.stack_sizes[i];
            if (off == a && off + sz == b) {
                memcpy(out, t->purged.stack[i], H);
                return 0;
            }
            if (a >= off && b <= off + sz)
                return -1; /* strictly inside a purged subtree */
            off += sz;
        }
    }
    uint64_t k = split_of(b - a);
    uint8_t l[H], r[H];
    if (tree_hash(t, a, a + k, l) < 0 || tree_hash(t, a + k, b, r) < 0)
        return -1;
    merkle_node_hash(l, r, out);
    return 0;
}

/* RFC 6962 PATH(m, D[a:b)), appended to path[*np]. */
static int tree_path(const struct proof_tree *t, uint64_t a, uint64_t b, uint64_t m,
                     uint8_t path[][H], int *np)
{
    if (b - a <= 1)
        return 0;
    uint64_t k = split_of(b - a);
    int rc = m < a + k ? tree_path(t, a, a + k, m, path, np) : tree_path(t, a + k, b, m, path, np);
    if (rc < 0 || *np >= MERKLE_MAX_HEIGHT)
        return -1;
    rc = m < a + k ? tree_hash(t, a + k, b, path[*np]) : tree_hash(t, a, a + k, path[*np]);
    (*np)++;
    return rc;
}

static void tree_blocks(struct proof_tree *t)
{
    uint64_t nblocks = t->size / BLOCK;
    t->blocks = calloc(nblocks ? nblocks : 1, H);
    if (!t->blocks)
        return;
    for (uint64_t i = 0; i < nblocks; i++)
        if (i * BLOCK >= t->kept_from)
            merkle_root((const uint8_t(*)[H])t->leaves + (i * BLOCK - t->kept_from), BLOCK,
                        t->blocks[i]);
}

/* Loads purged.acc and the leaves [kept_from, size) from the events table. */
static int tree_load(sqlite3 *db, struct proof_tree *t, char *err, size_t errlen)
{
    sqlite3_stmt *s;
    merkle_acc_init(&t->purged);
    if (sqlite3_prepare_v2(db, "SELECT first, acc FROM purged WHERE id = 1", -1, &s, NULL) ==
            SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW &&
        !merkle_acc_deserialize(&t->purged, sqlite3_column_blob(s, 1),
                                (size_t)sqlite3_column_bytes(s, 1))) {
        sqlite3_finalize(s);
        snprintf(err, errlen, "the purged row of the log is damaged");
        return -1;
    }
    sqlite3_finalize(s);
    t->kept_from = t->purged.size;
    if (t->kept_from > t->size) {
        snprintf(err, errlen, "the latest checkpoint is older than the purged prefix");
        return -1;
    }
    t->leaves = calloc(t->size - t->kept_from + 1, H);
    if (!t->leaves ||
        sqlite3_prepare_v2(db,
                           "SELECT seq, leaf FROM events WHERE seq > ?1 AND seq <= ?2 ORDER BY seq",
                           -1, &s, NULL) != SQLITE_OK) {
        snprintf(err, errlen, "cannot read the leaves: %s", sqlite3_errmsg(db));
        return -1;
    }
    sqlite3_bind_int64(s, 1, (int64_t)t->kept_from);
    sqlite3_bind_int64(s, 2, (int64_t)t->size);
    uint64_t want = t->kept_from + 1;
    while (sqlite3_step(s) == SQLITE_ROW && (uint64_t)sqlite3_column_int64(s, 0) == want &&
           sqlite3_column_bytes(s, 1) == H)
        memcpy(t->leaves[want++ - 1 - t->kept_from], sqlite3_column_blob(s, 1), H);
    sqlite3_finalize(s);
    if (want != t->size + 1) {
        snprintf(err, errlen, "record %" PRIu64 " is missing or damaged (run qunctl verify)", want);
        return -1;
    }
    tree_blocks(t);
    return 0;
}

static void tree_free(struct proof_tree *t)
{
    free(t->leaves);
    free(t->blocks);
}

/* ---------------------------------------------------------------- export */

static char *read_text_file(const char *path, size_t max)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(max + 1);
    size_t n = buf ? fread(buf, 1, max, f) : 0;
    fclose(f);
    if (buf)
        buf[n] = '\0';
    return buf;
}

/* Loads the verifier key from a ".pub" file; the text is kept in *text. */
static int load_pub(const char *path, struct checkpoint_key *key, char **text, char *err,
                    size_t errlen)
{
    char *t = read_text_file(path, 4096);
    if (!t) {
        snprintf(err, errlen, "cannot read the public key %s: %s", path, strerror(errno));
        return -1;
    }
    t[strcspn(t, "\r\n")] = '\0';
    if (!checkpoint_key_parse_public(t, key)) {
        snprintf(err, errlen, "%s is not a verifier key (name+hash+key)", path);
        free(t);
        return -1;
    }
    *text = t;
    return 0;
}

struct export_ctx {
    sqlite3 *db;
    struct proof_tree tree;
    struct checkpoint cp;
    char note[CHECKPOINT_NOTE_MAX + 1];
    FILE *events;
    json_t *proofs;
    bool no_checkpoint; /* export_checkpoint failed because there is none */
    size_t max_bytes;   /* 0, or the cap of events.jsonl plus the proofs */
    size_t bytes;       /* events.jsonl and (about) the proofs so far */
    struct bundle_export_result *r;
    char *err;
    size_t errlen;
};

/* Reads and checks the latest checkpoint against the key. */
static int export_checkpoint(struct export_ctx *x, const struct checkpoint_key *key)
{
    sqlite3_stmt *s;
    int rc = -1;
    if (sqlite3_prepare_v2(x->db,
                           "SELECT size, root, note FROM checkpoints ORDER BY size DESC LIMIT 1",
                           -1, &s, NULL) != SQLITE_OK ||
        sqlite3_step(s) != SQLITE_ROW) {
        x->no_checkpoint = true;
        snprintf(x->err, x->errlen, "the log has no checkpoint yet: nothing can be proven");
    } else if (sqlite3_column_bytes(s, 2) > CHECKPOINT_NOTE_MAX)
        snprintf(x->err, x->errlen, "the latest checkpoint note is too long");
    else {
        snprintf(x->note, sizeof x->note, "%s", (const char *)sqlite3_column_text(s, 2));
        if (!checkpoint_verify(key, x->note, strlen(x->note), &x->cp) ||
            x->cp.size != (uint64_t)sqlite3_column_int64(s, 0) || sqlite3_column_bytes(s, 1) != H ||
            memcmp(sqlite3_column_blob(s, 1), x->cp.root, H) != 0)
            snprintf(x->err, x->errlen,
                     "the latest checkpoint (size %lld) does not verify with this key",
                     (long long)sqlite3_column_int64(s, 0));
        else
            rc = 0;
    }
    sqlite3_finalize(s);
    return rc;
}

static json_t *hex_array(uint8_t path[][H], int n)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++) {
        char hex[2 * H + 1];
        sodium_bin2hex(hex, sizeof hex, path[i], H);
        json_array_append_new(a, json_string(hex));
    }
    return a;
}

/* One matching event: check its leaf, prove it, write it. */
static int export_one(struct export_ctx *x, const struct netlog_event *e, const void *stored)
{
    uint8_t leaf[H], path[MERKLE_MAX_HEIGHT][H];
    int np = 0;
    if ((uint64_t)e->seq > x->cp.size) {
        x->r->after_checkpoint++;
        return 0;
    }
    netlog_leaf_hash(e, leaf);
    uint64_t m = (uint64_t)e->seq - 1;
    if (!stored || memcmp(stored, leaf, H) != 0 ||
        tree_path(&x->tree, 0, x->cp.size, m, path, &np) < 0 ||
        !merkle_verify_inclusion(leaf, m, x->cp.size, (const uint8_t(*)[H])path, np, x->cp.root)) {
        snprintf(x->err, x->errlen,
                 "record %" PRId64 " does not match the signed checkpoint (run qunctl verify)",
                 e->seq);
        return -1;
    }
    json_t *o = bundle_event_json(e, leaf);
    char *line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!line || fprintf(x->events, "%s\n", line) < 0) {
        free(line);
        snprintf(x->err, x->errlen, "cannot write events.jsonl: %s", strerror(errno));
        return -1;
    }
    /* the line, and the proof as the manifest will print it */
    x->bytes += strlen(line) + 1 + (size_t)np * (2 * H + 4) + 64;
    free(line);
    if (x->max_bytes && x->bytes > x->max_bytes) {
        x->r->too_big = true;
        snprintf(x->err, x->errlen,
                 "the bundle would be larger than %zu bytes (%lld events so far): narrow the "
                 "query (group, account, time range)",
                 x->max_bytes, (long long)x->r->events);
        return -1;
    }
    json_array_append_new(x->proofs,
                          json_pack("{s:I, s:I, s:o}", "seq", (json_int_t)e->seq, "index",
                                    (json_int_t)m, "path", hex_array(path, np)));
    x->r->events++;
    return 0;
}

static int export_events(struct export_ctx *x, const struct bundle_query *q)
{
    sqlite3_stmt *s = prepare_query(x->db, q, BUNDLE_EXPORT_MAX, x->err, x->errlen);
    if (!s)
        return -1;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        struct netlog_event e;
        netlog_event_from_row(s, &e);
        const void *stored = sqlite3_column_bytes(s, 9) == H ? sqlite3_column_blob(s, 9) : NULL;
        if (export_one(x, &e, stored) < 0) {
            sqlite3_finalize(s);
            return -1;
        }
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_DONE) {
        snprintf(x->err, x->errlen, "cannot read the log: %s", sqlite3_errmsg(x->db));
        return -1;
    }
    return 0;
}

static int write_file(const char *dir, const char *name, const char *text, char *err, size_t errlen)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f || fputs(text, f) < 0 || fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* The manifest's text (caller frees), or NULL with a sentence in x->err. */
static char *manifest_text(struct export_ctx *x, const struct bundle_query *q, const char *case_id)
{
    char root[2 * H + 1];
    sodium_bin2hex(root, sizeof root, x->cp.root, H);
    json_t *m = json_pack("{s:s, s:s, s:o, s:I, s:{s:I, s:I}, s:{s:s, s:I, s:s}, s:O}", "format",
                          "qun-case-bundle/1", "case", case_id, "query", bundle_query_json(q),
                          "exported_at", (json_int_t)time(NULL) * 1000, "counts", "events",
                          (json_int_t)x->r->events, "after_checkpoint",
                          (json_int_t)x->r->after_checkpoint, "checkpoint", "note", x->note, "size",
                          (json_int_t)x->cp.size, "root", root, "proofs", x->proofs);
    char *text = m ? json_dumps(m, JSON_INDENT(1) | JSON_ENSURE_ASCII) : NULL;
    json_decref(m);
    if (!text)
        snprintf(x->err, x->errlen, "cannot build the manifest");
    return text;
}

static int write_manifest(struct export_ctx *x, const struct bundle_query *q, const char *case_id,
                          const char *out_dir)
{
    char *text = manifest_text(x, q, case_id);
    int rc = text ? write_file(out_dir, "manifest.json", text, x->err, x->errlen) : -1;
    free(text);
    return rc;
}

static int export_run(struct export_ctx *x, const struct checkpoint_key *key,
                      const struct bundle_query *q, const char *case_id, const char *out_dir)
{
    char path[4096];
    if (export_checkpoint(x, key) < 0)
        return -1;
    x->tree.size = x->cp.size;
    if (tree_load(x->db, &x->tree, x->err, x->errlen) < 0)
        return -1;
    if (mkdir(out_dir, 0700) != 0 && errno != EEXIST) {
        snprintf(x->err, x->errlen, "cannot create %s: %s", out_dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/events.jsonl", out_dir);
    x->events = fopen(path, "w");
    if (!x->events) {
        snprintf(x->err, x->errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    int rc = export_events(x, q);
    if (fclose(x->events) != 0 && rc == 0) {
        snprintf(x->err, x->errlen, "cannot write %s: %s", path, strerror(errno));
        rc = -1;
    }
    x->events = NULL;
    return rc < 0 ? -1 : write_manifest(x, q, case_id, out_dir);
}

int bundle_export(const char *db_path, const char *pub_path, const struct bundle_query *q,
                  const char *case_id, const char *out_dir, struct bundle_export_result *r,
                  char *err, size_t errlen)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct checkpoint_key key;
    char *keytext = NULL;
    memset(r, 0, sizeof *r);
    if (load_pub(pub_path, &key, &keytext, err, errlen) < 0)
        return -1;
    struct export_ctx *x = calloc(1, sizeof *x);
    int rc = -1;
    if (x && (x->db = open_ro(db_path, err, errlen)) != NULL) {
        x->r = r;
        x->err = err;
        x->errlen = errlen;
        x->proofs = json_array();
        rc = export_run(x, &key, q, case_id, out_dir);
        if (rc == 0) {
            char line[4200];
            snprintf(line, sizeof line, "%s\n", keytext);
            rc = write_file(out_dir, "key.pub", line, err, errlen);
        }
        r->tree_size = x->cp.size;
        json_decref(x->proofs);
        tree_free(&x->tree);
        sqlite3_close(x->db);
    }
    free(x);
    free(keytext);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}

int bundle_export_mem(const char *db_path, const char *pub_path, const struct bundle_query *q,
                      const char *case_id, size_t max_bytes, struct bundle_files *out,
                      struct bundle_export_result *r, char *err, size_t errlen)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct checkpoint_key key;
    char *keytext = NULL;
    memset(r, 0, sizeof *r);
    memset(out, 0, sizeof *out);
    if (load_pub(pub_path, &key, &keytext, err, errlen) < 0)
        return -1;
    struct export_ctx *x = calloc(1, sizeof *x);
    int rc = -1;
    if (!x)
        snprintf(err, errlen, "out of memory");
    else if ((x->db = open_ro(db_path, err, errlen)) != NULL) {
        x->r = r;
        x->err = err;
        x->errlen = errlen;
        x->max_bytes = max_bytes;
        x->proofs = json_array();
        if (export_checkpoint(x, &key) == 0) {
            x->tree.size = x->cp.size;
            if (tree_load(x->db, &x->tree, err, errlen) == 0) {
                x->events = open_memstream(&out->events, &out->events_len);
                if (!x->events)
                    snprintf(err, errlen, "out of memory");
                else {
                    rc = export_events(x, q);
                    if (fclose(x->events) != 0 && rc == 0) {
                        snprintf(err, errlen, "out of memory");
                        rc = -1;
                    }
                    x->events = NULL;
                }
            }
        }
        if (rc == 0 && (out->manifest = manifest_text(x, q, case_id)) == NULL)
            rc = -1;
        if (rc == 0) {
            out->manifest_len = strlen(out->manifest);
            out->key_len = strlen(keytext) + 1;
            out->key = malloc(out->key_len + 1);
            if (!out->key) {
                snprintf(err, errlen, "out of memory");
                rc = -1;
            } else
                snprintf(out->key, out->key_len + 1, "%s\n", keytext);
        }
        r->tree_size = x->cp.size;
        json_decref(x->proofs);
        tree_free(&x->tree);
        sqlite3_close(x->db);
    }
    free(x);
    free(keytext);
    if (rc < 0)
        bundle_files_free(out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    r->seconds = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    return rc;
}

void bundle_files_free(struct bundle_files *f)
{
    free(f->events);
    free(f->manifest);
    free(f->key);
    memset(f, 0, sizeof *f);
}

/* ---------------------------------------------------------------- prove */

/* One record by seq: its event object and audit path, appended to recs. */
static int prove_one(struct export_ctx *x, sqlite3_stmt *s, int64_t seq, json_t *recs)
{
    uint8_t leaf[H], path[MERKLE_MAX_HEIGHT][H];
    int np = 0;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, seq);
    if (sqlite3_step(s) != SQLITE_ROW) {
        snprintf(x->err, x->errlen,
                 "record %" PRId64 " is not in the log (purged or never written)", seq);
        return -1;
    }
    struct netlog_event e;
    netlog_event_from_row(s, &e);
    netlog_leaf_hash(&e, leaf);
    uint64_t m = (uint64_t)seq - 1;
    if (sqlite3_column_bytes(s, 9) != H || memcmp(sqlite3_column_blob(s, 9), leaf, H) != 0 ||
        tree_path(&x->tree, 0, x->cp.size, m, path, &np) < 0 ||
        !merkle_verify_inclusion(leaf, m, x->cp.size, (const uint8_t(*)[H])path, np, x->cp.root)) {
        snprintf(x->err, x->errlen,
                 "record %" PRId64 " does not match the signed checkpoint (run qunctl verify)",
                 seq);
        return -1;
    }
    json_array_append_new(recs, json_pack("{s:o, s:I, s:o}", "event", bundle_event_json(&e, leaf),
                                          "index", (json_int_t)m, "path", hex_array(path, np)));
    return 0;
}

static enum bundle_prove_result prove_run(struct export_ctx *x, const struct checkpoint_key *key,
                                          const int64_t *seqs, size_t n, json_t **out)
{
    if (export_checkpoint(x, key) < 0)
        return x->no_checkpoint ? BUNDLE_PROVE_LATER : BUNDLE_PROVE_ERROR;
    for (size_t i = 0; i < n; i++) {
        if (seqs[i] < 1) {
            snprintf(x->err, x->errlen, "record %" PRId64 " is not a log sequence number", seqs[i]);
            return BUNDLE_PROVE_ERROR;
        }
        if ((uint64_t)seqs[i] > x->cp.size)
            return BUNDLE_PROVE_LATER;
    }
    x->tree.size = x->cp.size;
    if (tree_load(x->db, &x->tree, x->err, x->errlen) < 0)
        return BUNDLE_PROVE_ERROR;
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(x->db, "SELECT " NETLOG_EVENT_COLUMNS ", leaf FROM events WHERE seq = ?",
                           -1, &s, NULL) != SQLITE_OK) {
        snprintf(x->err, x->errlen, "cannot read the log: %s", sqlite3_errmsg(x->db));
        return BUNDLE_PROVE_ERROR;
    }
    json_t *recs = json_array();
    int rc = 0;
    for (size_t i = 0; i < n && rc == 0; i++)
        rc = prove_one(x, s, seqs[i], recs);
    sqlite3_finalize(s);
    if (rc < 0) {
        json_decref(recs);
        return BUNDLE_PROVE_ERROR;
    }
    char root[2 * H + 1];
    sodium_bin2hex(root, sizeof root, x->cp.root, H);
    *out = json_pack("{s:{s:s, s:I, s:s}, s:o}", "checkpoint", "note", x->note, "size",
                     (json_int_t)x->cp.size, "root", root, "records", recs);
    return *out ? BUNDLE_PROVE_OK : BUNDLE_PROVE_ERROR;
}

enum bundle_prove_result bundle_prove(const char *db_path, const char *pub_path,
                                      const int64_t *seqs, size_t n, json_t **out, char *err,
                                      size_t errlen)
{
    struct checkpoint_key key;
    char *keytext = NULL;
    *out = NULL;
    if (n == 0 || n > BUNDLE_PROVE_MAX) {
        snprintf(err, errlen, "between 1 and %d records can be proven at once", BUNDLE_PROVE_MAX);
        return BUNDLE_PROVE_ERROR;
    }
    if (load_pub(pub_path, &key, &keytext, err, errlen) < 0)
        return BUNDLE_PROVE_ERROR;
    free(keytext);
    struct export_ctx *x = calloc(1, sizeof *x);
    enum bundle_prove_result rc = BUNDLE_PROVE_ERROR;
    if (!x)
        snprintf(err, errlen, "out of memory");
    else if ((x->db = open_ro(db_path, err, errlen)) != NULL) {
        x->err = err;
        x->errlen = errlen;
        rc = prove_run(x, &key, seqs, n, out);
        tree_free(&x->tree);
        sqlite3_close(x->db);
    }
    free(x);
    return rc;
}

/* ---------------------------------------------------------------- verify */

static enum bundle_verify_result vfail(struct bundle_verify_report *r, enum bundle_verify_result v,
                                       int64_t seq, const char *fmt, const char *what)
{
    r->bad_seq = seq;
    snprintf(r->message, sizeof r->message, fmt, what);
    return v;
}

/* Text member: string or null (NULL); false for anything else. */
static bool get_text(json_t *o, const char *k, const char **out)
{
    json_t *v = json_object_get(o, k);
    *out = json_is_string(v) ? json_string_value(v) : NULL;
    return json_is_string(v) || json_is_null(v);
}

static bool get_int(json_t *o, const char *k, int64_t *out)
{
    json_t *v = json_object_get(o, k);
    *out = json_is_integer(v) ? json_integer_value(v) : 0;
    return json_is_integer(v) || json_is_null(v);
}

static bool event_from_json(json_t *o, struct netlog_event *e)
{
    return json_is_object(o) && json_is_integer(json_object_get(o, "seq")) &&
           get_int(o, "seq", &e->seq) && get_int(o, "at", &e->at_ms) &&
           get_text(o, "kind", &e->kind) && get_text(o, "actor", &e->actor) &&
           get_text(o, "target", &e->target) && get_int(o, "code", &e->code) &&
           get_int(o, "account_id", &e->account_id) && get_text(o, "msgid", &e->msgid) &&
           get_text(o, "body", &e->body);
}

/* The manifest's proofs by seq: sorted once, then a binary search per
 * event. (A linear search of the proofs for every event was quadratic: a
 * full bundle of BUNDLE_EXPORT_MAX events meant 5e11 comparisons, hours
 * of "verify-bundle" on a genuine bundle.) On duplicate seqs the first in
 * the manifest wins, as before. */
struct proof_ref {
    int64_t seq;
    size_t pos; /* in the manifest's array */
    json_t *proof;
    bool used; /* an event of events.jsonl was checked with it */
};

struct proof_index {
    struct proof_ref *refs;
    size_t n;
};

static int proof_ref_cmp(const void *a, const void *b)
{
    const struct proof_ref *x = a, *y = b;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

static void proof_index_build(json_t *proofs, struct proof_index *ix)
{
    size_t n = json_array_size(proofs), i;
    json_t *p;
    ix->refs = calloc(n ? n : 1, sizeof *ix->refs);
    ix->n = 0;
    if (!ix->refs)
        return;
    json_array_foreach(proofs, i, p)
    {
        json_t *seq = json_object_get(p, "seq");
        if (json_is_integer(seq))
            ix->refs[ix->n++] = (struct proof_ref){json_integer_value(seq), i, p, false};
    }
    qsort(ix->refs, ix->n, sizeof *ix->refs, proof_ref_cmp);
}

/* The proof of seq into path; returns its length, -1 when there is none,
 * -2 when an earlier event of the bundle already had this seq (a record
 * duplicated: each retained record appears once). */
static int proof_of(struct proof_index *ix, int64_t seq, uint8_t path[][H])
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) { /* the first ref with seq >= the one sought */
        size_t mid = lo + (hi - lo) / 2;
        if (ix->refs[mid].seq < seq)
            lo = mid + 1;
        else
            hi = mid;
    }
    if (lo == ix->n || ix->refs[lo].seq != seq)
        return -1;
    if (ix->refs[lo].used)
        return -2;
    ix->refs[lo].used = true;
    json_t *arr = json_object_get(ix->refs[lo].proof, "path"), *h;
    size_t j;
    if (!json_is_array(arr) || json_array_size(arr) > MERKLE_MAX_HEIGHT)
        return -1;
    json_array_foreach(arr, j, h)
    {
        const char *hex = json_string_value(h);
        size_t len = 0;
        if (!hex || sodium_hex2bin(path[j], H, hex, strlen(hex), NULL, &len, NULL) != 0 || len != H)
            return -1;
    }
    return (int)json_array_size(arr);
}

/* Checks one events.jsonl line. */
static enum bundle_verify_result verify_line(const char *line, struct proof_index *proofs,
                                             const struct checkpoint *cp,
                                             struct bundle_verify_report *r)
{
    json_error_t jerr;
    json_t *o = json_loads(line, 0, &jerr);
    struct netlog_event e = {0};
    uint8_t leaf[H], stored[H], path[MERKLE_MAX_HEIGHT][H];
    enum bundle_verify_result v = BUNDLE_VERIFY_OK;
    if (!event_from_json(o, &e)) {
        json_decref(o);
        snprintf(r->message, sizeof r->message,
                 "event %" PRId64 " of events.jsonl is not a well-formed event", r->events + 1);
        return BUNDLE_VERIFY_BAD;
    }
    netlog_leaf_hash(&e, leaf);
    const char *hex = json_string_value(json_object_get(o, "leaf"));
    size_t len = 0;
    int np = proof_of(proofs, e.seq, path);
    char what[128];
    snprintf(what, sizeof what, "%" PRId64, e.seq);
    if (hex && (sodium_hex2bin(stored, H, hex, strlen(hex), NULL, &len, NULL) != 0 || len != H ||
                memcmp(stored, leaf, H) != 0))
        v = vfail(r, BUNDLE_VERIFY_BAD, e.seq,
                  "event seq %s: its fields do not hash to its leaf (the event was changed)", what);
    else if (np == -2)
        v = vfail(r, BUNDLE_VERIFY_BAD, e.seq,
                  "event seq %s appears more than once in events.jsonl (a record was duplicated)",
                  what);
    else if (np < 0)
        v = vfail(r, BUNDLE_VERIFY_BAD, e.seq, "event seq %s: the manifest has no proof for it",
                  what);
    else if (e.seq < 1 || !merkle_verify_inclusion(leaf, (uint64_t)e.seq - 1, cp->size,
                                                   (const uint8_t(*)[H])path, np, cp->root))
        v = vfail(r, BUNDLE_VERIFY_BAD, e.seq,
                  "event seq %s: its inclusion proof does not lead to the signed root", what);
    json_decref(o);
    return v;
}

static enum bundle_verify_result verify_events(FILE *f, json_t *manifest,
                                               const struct checkpoint *cp,
                                               struct bundle_verify_report *r)
{
    struct proof_index ix;
    proof_index_build(json_object_get(manifest, "proofs"), &ix);
    if (!ix.refs)
        return vfail(r, BUNDLE_VERIFY_ERROR, 0, "%s", "out of memory for the proofs");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    enum bundle_verify_result v = BUNDLE_VERIFY_OK;
    while (v == BUNDLE_VERIFY_OK && (n = getline(&line, &cap, f)) > 0) {
        if (line[n - 1] == '\n')
            line[n - 1] = '\0';
        v = verify_line(line, &ix, cp, r);
        if (v == BUNDLE_VERIFY_OK)
            r->events++;
    }
    free(line);
    free(ix.refs);
    json_int_t want =
        json_integer_value(json_object_get(json_object_get(manifest, "counts"), "events"));
    if (v == BUNDLE_VERIFY_OK && want != r->events) {
        char what[96];
        snprintf(what, sizeof what, "%" PRId64 " events but the manifest counts %lld", r->events,
                 (long long)want);
        v = vfail(r, BUNDLE_VERIFY_BAD, 0, "events.jsonl has %s (events removed or added)", what);
    }
    return v;
}

enum bundle_verify_result bundle_verify_parts(const struct checkpoint_key *key, json_t *manifest,
                                              FILE *events, const char *events_name,
                                              struct bundle_verify_report *r)
{
    struct checkpoint cp;
    memset(r, 0, sizeof *r);
    if (!json_is_object(manifest))
        return vfail(r, BUNDLE_VERIFY_ERROR, 0, "%s", "the manifest is not a JSON object");
    const char *note =
        json_string_value(json_object_get(json_object_get(manifest, "checkpoint"), "note"));
    if (!note || !checkpoint_verify(key, note, strlen(note), &cp))
        return vfail(r, BUNDLE_VERIFY_BAD, 0, "%s",
                     "the checkpoint note is not signed by this key (forged or altered)");
    r->tree_size = cp.size;
    if (!events)
        return vfail(r, BUNDLE_VERIFY_ERROR, 0, "cannot read %s", events_name);
    return verify_events(events, manifest, &cp, r);
}

enum bundle_verify_result bundle_verify(const char *dir, const char *pub_path,
                                        struct bundle_verify_report *r)
{
    char path[4096], *keytext = NULL;
    struct checkpoint_key key;
    memset(r, 0, sizeof *r);
    snprintf(path, sizeof path, "%s/key.pub", dir);
    if (load_pub(pub_path ? pub_path : path, &key, &keytext, r->message, sizeof r->message) < 0)
        return BUNDLE_VERIFY_ERROR;
    free(keytext);
    snprintf(path, sizeof path, "%s/manifest.json", dir);
    json_error_t jerr;
    json_t *m = json_load_file(path, 0, &jerr);
    if (!json_is_object(m)) {
        json_decref(m);
        return vfail(r, BUNDLE_VERIFY_ERROR, 0, "cannot read %s as JSON", path);
    }
    snprintf(path, sizeof path, "%s/events.jsonl", dir);
    FILE *f = fopen(path, "r");
    enum bundle_verify_result v = bundle_verify_parts(&key, m, f, path, r);
    if (f)
        fclose(f);
    json_decref(m);
    return v;
}
