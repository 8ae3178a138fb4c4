/*
 * operator.c - the operator directory: a sorted array of operators in
 * memory, the `operators` table in the store, argon2id on the pool.
 *
 * The contract and the invariants are in operator.h. Here: the array
 * (sorted by name, at most OPERATOR_MAX entries, binary search), the
 * start-up load, the three changes (each: check, mark busy, hash if a
 * password is involved, one write, then apply and record) and the login
 * check with its dummy hash.
 *
 * Threads: loop thread only.
 */
#include <jansson.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console/operator.h"
#include "netlog/netlog.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

static uv_loop_t *op_loop;
static struct store *op_store;
static struct password_params op_params;
static char op_dummy_hash[PASSWORD_HASH_MAX];
static struct operator** op_list; /* sorted by name */
static size_t op_n, op_cap;

static const char *const op_role_names[] = {"administrator", "moderator", "auditor"};

/* ---------------------------------------------------------------- names */

const char *operator_status_sentence(int status)
{
    switch (status) {
    case OPERATOR_OK:
        return "done";
    case OPERATOR_ERR_EXISTS:
        return "an operator of that name exists";
    case OPERATOR_ERR_BAD_NAME:
        return "an operator name is 1 to 32 characters a-z, 0-9, '.', '_' or '-', starting with a "
               "letter";
    case OPERATOR_ERR_BAD_ROLE:
        return "the role must be administrator, moderator or auditor";
    case OPERATOR_ERR_WEAK_PASSWORD:
        return "the password must be 12 to 512 bytes";
    case OPERATOR_ERR_NOT_FOUND:
        return "there is no operator of that name";
    case OPERATOR_ERR_DISABLED:
        return "the operator is disabled";
    case OPERATOR_ERR_BUSY:
        return "another change to this operator is in progress; try again";
    case OPERATOR_ERR_STORE:
        return "the store could not save the change; see the server log";
    case OPERATOR_ERR_INTERNAL:
        return "the password could not be hashed; see the server log";
    case OPERATOR_ERR_CREDENTIALS:
        return "unknown operator or wrong password";
    case OPERATOR_ERR_LIMIT:
        return "there are too many operators (1000, disabled ones included)";
    }
    return "unknown error";
}

const char *operator_role_name(enum operator_role role)
{
    switch (role) {
    case OPERATOR_ADMINISTRATOR:
        return op_role_names[0];
    case OPERATOR_MODERATOR:
        return op_role_names[1];
    case OPERATOR_AUDITOR:
        return op_role_names[2];
    }
    return "none";
}

enum operator_role operator_role_parse(const char *name)
{
    for (int i = 0; name && i < 3; i++)
        if (strcmp(name, op_role_names[i]) == 0)
            return (enum operator_role)(1 << i);
    return 0;
}

int operator_name_check(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (n == 0 || n > OPERATOR_NAME_MAX || name[0] < 'a' || name[0] > 'z')
        return OPERATOR_ERR_BAD_NAME;
    for (size_t i = 0; i < n; i++) {
        char c = name[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return OPERATOR_ERR_BAD_NAME;
    }
    return OPERATOR_OK;
}

/* ---------------------------------------------------------------- the array */

/* Index of name, or -(insertion point) - 1. */
static long op_search(const char *name)
{
    size_t lo = 0, hi = op_n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(op_list[mid]->name, name);
        if (c == 0)
            return (long)mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -(long)lo - 1;
}

static struct operator* op_get(const char *name)
{
    long i = name ? op_search(name) : -1;
    return i >= 0 ? op_list[i] : NULL;
}

/* Adds a new operator (name checked, not present); returns it. */
static struct operator* op_insert(const char *name, enum operator_role role)
{
    long i = op_search(name);
    size_t at = (size_t)(-i - 1);
    if (op_n == op_cap) {
        op_cap = op_cap ? op_cap * 2 : 16;
        op_list = xrealloc(op_list, op_cap * sizeof *op_list);
    }
    memmove(op_list + at + 1, op_list + at, (op_n - at) * sizeof *op_list);
    struct operator* op = xcalloc(1, sizeof *op);
    snprintf(op->name, sizeof op->name, "%s", name);
    op->role = role;
    op->generation = 1;
    op_list[at] = op;
    op_n++;
    return op;
}

static void op_free(struct operator* op)
{
    if (op->password_hash)
        sodium_memzero(op->password_hash, strlen(op->password_hash));
    free(op->password_hash);
    free(op->created_by);
    free(op);
}

static void op_remove(struct operator* op)
{
    long i = op_search(op->name);
    if (i < 0 || op_list[i] != op)
        return;
    memmove(op_list + i, op_list + i + 1, (op_n - (size_t)i - 1) * sizeof *op_list);
    op_n--;
    op_free(op);
}

const struct operator* operator_find(const char *name)
{
    return op_get(name);
}

size_t operator_count(void)
{
    return op_n;
}

void operator_foreach(void (*fn)(const struct operator* op, void *ud), void *ud)
{
    for (size_t i = 0; i < op_n; i++)
        fn(op_list[i], ud);
}

/* ---------------------------------------------------------------- loading */

struct load_state {
    bool done;
    int status;
    char err[200];
};

static int load_row(void *ud, const struct store_value *c, size_t n)
{
    (void)ud;
    if (n != 7 || c[1].type != STORE_TYPE_TEXT || c[2].type != STORE_TYPE_TEXT ||
        c[3].type != STORE_TYPE_TEXT || operator_name_check(c[1].p) != OPERATOR_OK ||
        op_get(c[1].p) || op_n >= OPERATOR_MAX)
        return 0;
    struct operator* op = op_insert(c[1].p, operator_role_parse(c[2].p));
    op->id = c[0].i;
    op->password_hash = xstrdup(c[3].p);
    op->created_at = c[4].i;
    op->created_by = xstrdup(c[5].type == STORE_TYPE_TEXT ? (const char *)c[5].p : "?");
    op->disabled_at = c[6].type == STORE_TYPE_INT ? c[6].i : 0;
    return 0;
}

static void load_done(void *ud, int status, const char *err)
{
    struct load_state *ls = ud;
    ls->status = status;
    ls->done = true;
    if (status != STORE_OK)
        snprintf(ls->err, sizeof ls->err, "%s", err ? err : store_status_name(status));
}

int operator_directory_load(uv_loop_t *loop, struct store *st, const struct password_params *params,
                            char *err, size_t errlen)
{
    op_loop = loop;
    op_store = st;
    op_params = params ? *params : password_params_default;
    /* A real argon2id hash for unknown names (invariant 4); start-up only,
     * so blocking here is fine. */
    uint8_t junk[32];
    randombytes_buf(junk, sizeof junk);
    if (crypto_pwhash_str(op_dummy_hash, (const char *)junk, sizeof junk, op_params.opslimit,
                          op_params.memlimit) != 0) {
        snprintf(err, errlen, "operators: cannot compute a password hash (out of memory?)");
        return -1;
    }
    if (!st)
        return 0;
    struct load_state ls = {0};
    if (store_query(st,
                    "SELECT id, name, role, password_hash, created_at, created_by, disabled_at"
                    " FROM operators ORDER BY id",
                    NULL, 0, load_row, load_done, &ls) != STORE_OK) {
        snprintf(err, errlen, "loading operators: the store refused the query");
        return -1;
    }
    while (!ls.done)
        uv_run(loop, UV_RUN_ONCE);
    if (ls.status != STORE_OK) {
        snprintf(err, errlen, "loading operators: %s", ls.err);
        return -1;
    }
    log_info("operators: %zu loaded", op_n);
    return 0;
}

void operator_directory_detach_store(void)
{
    op_store = NULL;
}

void operator_directory_free(void)
{
    for (size_t i = 0; i < op_n; i++)
        op_free(op_list[i]);
    free(op_list);
    op_list = NULL;
    op_n = op_cap = 0;
    sodium_memzero(op_dummy_hash, sizeof op_dummy_hash);
}

const struct operator*
    operator__test_add(const char *name, enum operator_role role, const char *hash)
{
    struct operator* op = op_get(name);
    if (!op)
        op = op_insert(name, role);
    free(op->password_hash);
    op->password_hash = xstrdup(hash);
    op->id = (int64_t)op_n;
    op->disabled_at = 0;
    op->generation++;
    if (!op->created_by)
        op->created_by = xstrdup("test");
    return op;
}

/* ---------------------------------------------------------------- changes */

enum op_action { OP_CREATE, OP_PASSWD, OP_DISABLE };
static const char *const op_action_kinds[] = {"audit.operator.create", "audit.operator.passwd",
                                              "audit.operator.disable"};

struct op_job {
    enum op_action action;
    struct operator* op;
    char *actor;
    char *hash; /* the new hash, between hashing and the write */
    int64_t at;
    operator_cb cb;
    void *ud;
};

static void job_free(struct op_job *j)
{
    if (j->hash)
        sodium_memzero(j->hash, strlen(j->hash));
    free(j->hash);
    free(j->actor);
    free(j);
}

/* The network-log record of a change: who, what, to whom; never a
 * password or hash. */
static void op_record(const struct op_job *j)
{
    json_t *body = json_pack("{s:s}", "operator", j->op->name);
    if (j->action == OP_CREATE)
        json_object_set_new(body, "role", json_string(operator_role_name(j->op->role)));
    char *text = json_dumps(body, JSON_COMPACT | JSON_SORT_KEYS);
    json_decref(body);
    if (netlog_record(op_action_kinds[j->action], j->actor, j->op->name, 0, 0, NULL, text) < 0)
        log_warn("operators: the network log did not take the %s record of %s",
                 op_action_kinds[j->action], j->op->name);
    free(text);
}

/* Completes a job: applies it (status OK) or undoes the reservation. */
static void job_finish(struct op_job *j, int status)
{
    struct operator* op = j->op;
    op->busy = false;
    if (status == OPERATOR_OK) {
        if (j->action != OP_DISABLE) {
            free(op->password_hash);
            op->password_hash = j->hash;
            j->hash = NULL;
        }
        if (j->action == OP_DISABLE)
            op->disabled_at = j->at;
        if (j->action != OP_CREATE)
            op->generation++; /* invariant 2: sessions made before are over */
        log_info("operators: %s %s by %s", op_action_kinds[j->action] + 15, op->name, j->actor);
        op_record(j);
        j->cb(j->ud, OPERATOR_OK, op);
    } else {
        if (j->action == OP_CREATE)
            op_remove(op);
        j->cb(j->ud, status, NULL);
    }
    job_free(j);
}

static void job_written(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct op_job *j = ud;
    int st = OPERATOR_OK;
    if (status == STORE_ERR_CONSTRAINT && j->action == OP_CREATE)
        st = OPERATOR_ERR_EXISTS;
    else if (status != STORE_OK || changes != 1)
        st = OPERATOR_ERR_STORE;
    if (st == OPERATOR_ERR_STORE)
        log_error("operators: writing %s of %s failed: %s", op_action_kinds[j->action] + 15,
                  j->op->name, err ? err : "no row changed");
    if (st == OPERATOR_OK && j->action == OP_CREATE)
        j->op->id = last_id;
    job_finish(j, st);
}

/* Sends the job's one write; on refusal finishes it with STORE. */
static void job_write(struct op_job *j)
{
    int rc = STORE_ERR_CLOSING;
    if (j->action == OP_CREATE) {
        struct store_value b[] = {STORE_TEXT(j->op->name),
                                  STORE_TEXT(operator_role_name(j->op->role)), STORE_TEXT(j->hash),
                                  STORE_INT(j->at), STORE_TEXT(j->actor)};
        if (op_store)
            rc = store_exec_write(op_store,
                                  "INSERT INTO operators (name, role, password_hash, created_at,"
                                  " created_by) VALUES (?, ?, ?, ?, ?)",
                                  b, 5, job_written, j);
    } else if (j->action == OP_PASSWD) {
        struct store_value b[] = {STORE_TEXT(j->hash), STORE_INT(j->at), STORE_INT(j->op->id)};
        if (op_store)
            rc = store_exec_write(op_store,
                                  "UPDATE operators SET password_hash = ?, password_changed_at = ?"
                                  " WHERE id = ?",
                                  b, 3, job_written, j);
    } else {
        struct store_value b[] = {STORE_INT(j->at), STORE_TEXT(j->actor), STORE_INT(j->op->id)};
        if (op_store)
            rc = store_exec_write(op_store,
                                  "UPDATE operators SET disabled_at = ?, disabled_by = ?"
                                  " WHERE id = ? AND disabled_at IS NULL",
                                  b, 3, job_written, j);
    }
    if (rc != STORE_OK)
        job_finish(j, OPERATOR_ERR_STORE);
}

static void job_hashed(int result, const char *hash, void *ud)
{
    struct op_job *j = ud;
    if (result != PASSWORD_OK) {
        log_error("operators: hashing a password failed: %s", password_result_name(result));
        job_finish(j, OPERATOR_ERR_INTERNAL);
        return;
    }
    j->hash = xstrdup(hash);
    job_write(j);
}

static struct op_job *job_new(enum op_action action, struct operator* op, const char *actor,
                              operator_cb cb, void *ud)
{
    struct op_job *j = xcalloc(1, sizeof *j);
    j->action = action;
    j->op = op;
    j->actor = xstrdup(actor ? actor : "?");
    j->at = qclock_now();
    j->cb = cb;
    j->ud = ud;
    op->busy = true;
    return j;
}

static int password_len_check(size_t len)
{
    return len < OPERATOR_PASSWORD_MIN || len > PASSWORD_LEN_MAX ? OPERATOR_ERR_WEAK_PASSWORD
                                                                 : OPERATOR_OK;
}

/* Queues the hashing of pw for j; on failure undoes j and returns INTERNAL. */
static int job_hash(struct op_job *j, const char *pw, size_t len)
{
    if (password_hash_async_with(op_loop, &op_params, pw, len, job_hashed, j) == PASSWORD_OK)
        return OPERATOR_OK;
    j->op->busy = false;
    if (j->action == OP_CREATE)
        op_remove(j->op);
    job_free(j);
    return OPERATOR_ERR_INTERNAL;
}

int operator_create(const char *name, enum operator_role role, const char *pw, size_t len,
                    const char *actor, operator_cb cb, void *ud)
{
    if (operator_name_check(name) != OPERATOR_OK)
        return OPERATOR_ERR_BAD_NAME;
    if (role != OPERATOR_ADMINISTRATOR && role != OPERATOR_MODERATOR && role != OPERATOR_AUDITOR)
        return OPERATOR_ERR_BAD_ROLE;
    if (password_len_check(len) != OPERATOR_OK)
        return OPERATOR_ERR_WEAK_PASSWORD;
    if (op_get(name))
        return OPERATOR_ERR_EXISTS;
    if (op_n >= OPERATOR_MAX)
        return OPERATOR_ERR_LIMIT;
    if (!op_store)
        return OPERATOR_ERR_STORE;
    struct operator* op = op_insert(name, role); /* RESERVED: id 0, no hash */
    op->created_by = xstrdup(actor ? actor : "?");
    op->created_at = qclock_now();
    return job_hash(job_new(OP_CREATE, op, actor, cb, ud), pw, len);
}

int operator_set_password(const char *name, const char *pw, size_t len, const char *actor,
                          operator_cb cb, void *ud)
{
    struct operator* op = op_get(name);
    if (!op)
        return OPERATOR_ERR_NOT_FOUND;
    if (password_len_check(len) != OPERATOR_OK)
        return OPERATOR_ERR_WEAK_PASSWORD;
    if (op->busy || op->id == 0)
        return OPERATOR_ERR_BUSY;
    if (!op_store)
        return OPERATOR_ERR_STORE;
    return job_hash(job_new(OP_PASSWD, op, actor, cb, ud), pw, len);
}

int operator_disable(const char *name, const char *actor, operator_cb cb, void *ud)
{
    struct operator* op = op_get(name);
    if (!op)
        return OPERATOR_ERR_NOT_FOUND;
    if (op->disabled_at)
        return OPERATOR_ERR_DISABLED;
    if (op->busy || op->id == 0)
        return OPERATOR_ERR_BUSY;
    if (!op_store)
        return OPERATOR_ERR_STORE;
    job_write(job_new(OP_DISABLE, op, actor, cb, ud));
    return OPERATOR_OK;
}

/* ---------------------------------------------------------------- login check */

struct verify_job {
    char name[OPERATOR_NAME_MAX + 1]; /* "" for a name that cannot exist */
    uint64_t generation;
    bool real; /* checked against the operator's own hash */
    operator_cb cb;
    void *ud;
};

static void verify_checked(int result, void *ud)
{
    struct verify_job *j = ud;
    /* Look the operator up again: it may have been disabled or given a new
     * password while the check ran. */
    struct operator* op = j->real ? op_get(j->name) : NULL;
    int status = OPERATOR_ERR_CREDENTIALS;
    if (result == PASSWORD_OK && op && !op->disabled_at && op->generation == j->generation)
        status = OPERATOR_OK;
    else if (result != PASSWORD_OK && result != PASSWORD_ERR_MISMATCH)
        status = OPERATOR_ERR_INTERNAL;
    j->cb(j->ud, status, status == OPERATOR_OK ? op : NULL);
    free(j);
}

int operator_verify(const char *name, const char *pw, size_t len, operator_cb cb, void *ud)
{
    struct operator* op = operator_name_check(name) == OPERATOR_OK ? op_get(name) : NULL;
    bool real = op && op->password_hash && !op->disabled_at;
    struct verify_job *j = xcalloc(1, sizeof *j);
    if (real) {
        snprintf(j->name, sizeof j->name, "%s", op->name);
        j->generation = op->generation;
    }
    j->real = real;
    j->cb = cb;
    j->ud = ud;
    /* An empty or overlong password is checked against the dummy with a
     * stand-in byte, so it costs the same and still fails. */
    bool usable = len >= 1 && len <= PASSWORD_LEN_MAX;
    if (!usable)
        j->real = false;
    if (password_verify_async(op_loop, j->real ? op->password_hash : op_dummy_hash,
                              usable ? pw : "x", usable ? len : 1, verify_checked,
                              j) != PASSWORD_OK) {
        free(j);
        return OPERATOR_ERR_INTERNAL;
    }
    return OPERATOR_OK;
}
