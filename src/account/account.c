/*
 * account.c - the account directory (see account.h for the contract and
 * docs/internals/accounts.md for the design).
 *
 * What lives here: the in-memory maps (folded name -> account, certificate
 * fingerprint -> account), the start-up load, registration (argon2id and
 * the SCRAM derivation on the thread pool, then one INSERT), password
 * checks with throttling, and the small write-through changes (password,
 * fingerprints, suspension, convention, drop). Sessions and audit records
 * are appended here too.
 *
 * Every store write is a fixed SQL literal with bound values.
 */
#include "account/account.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "auth/password.h"
#include "netlog/netlog.h"
#include "config/config.h"
#include "identity/ratelimit.h"
#include "proto/casemap.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/strmap.h"

extern struct qun_config *server_config;

void (*account_changed_hook)(struct account *a, const char *what);

static uv_loop_t *acct_loop;
static struct store *acct_store;
static struct strmap acct_by_name; /* name_folded -> account */
static struct strmap acct_by_fp;   /* fingerprint -> account */
static struct strmap acct_fail_ip; /* ip -> struct fail_entry */
static struct strmap acct_fail_name;
static char acct_dummy_hash[PASSWORD_HASH_MAX]; /* for unknown names */

struct fail_entry {
    char *key;
    struct ratelimit_bucket b;
};

#define FAIL_MAP_MAX 100000 /* entries per throttle map before it is reset */

static size_t password_min(void);

static int64_t acct_now(void)
{
    return (int64_t)time(NULL);
}

/* ---- names, objects, maps ---- */

static bool acct_fold(const char *name, char *out, size_t cap)
{
    return casemap_fold(name, strlen(name), out, cap) >= 0;
}

int account_name_check(const char *name)
{
    size_t len = strlen(name);
    int max = server_config ? server_config->nick_length : 30;
    if (len == 0 || len > ACCOUNT_NAME_MAX || !casemap_nick_valid(name, len, (size_t)max))
        return ACCOUNT_ERR_BAD_NAME;
    return ACCOUNT_OK;
}

static struct account *acct_new(const char *name, const char *folded)
{
    struct account *a = xcalloc(1, sizeof *a);
    a->name = xstrdup(name);
    a->name_folded = xstrdup(folded);
    a->refs = 1; /* the directory's */
    return a;
}

static void acct_free(struct account *a)
{
    for (size_t i = 0; i < a->ncertfps; i++)
        free(a->certfps[i]);
    free(a->certfps);
    free(a->name);
    free(a->name_folded);
    free(a->password_hash);
    free(a->suspend_reason);
    free(a->phone_pending); /* a hashed code and a phone (verify.c) */
    sodium_memzero(&a->scram, sizeof a->scram);
    free(a);
}

void account_ref(struct account *a)
{
    a->refs++;
}

void account_unref(struct account *a)
{
    if (a && --a->refs == 0)
        acct_free(a);
}

/* Takes the account out of both maps and drops the directory's reference. */
static void acct_unlink(struct account *a)
{
    if (strmap_get(&acct_by_name, a->name_folded) == a)
        strmap_del(&acct_by_name, a->name_folded);
    for (size_t i = 0; i < a->ncertfps; i++)
        if (strmap_get(&acct_by_fp, a->certfps[i]) == a)
            strmap_del(&acct_by_fp, a->certfps[i]);
    a->dropped = true;
    account_unref(a);
}

struct account *account_find(const char *name)
{
    char folded[ACCOUNT_NAME_MAX * 4 + 1];
    if (!name || !acct_fold(name, folded, sizeof folded))
        return NULL;
    struct account *a = strmap_get(&acct_by_name, folded);
    return a && a->id > 0 ? a : NULL;
}

struct account *account_find_id(int64_t id)
{
    for (size_t i = 0; i < acct_by_name.cap; i++) {
        struct account *a = acct_by_name.slots[i].value;
        if (acct_by_name.slots[i].key && a->id == id)
            return a;
    }
    return NULL;
}

struct account *account_find_certfp(const char *fp)
{
    return fp ? strmap_get(&acct_by_fp, fp) : NULL;
}

size_t account_count(void)
{
    return acct_by_name.count;
}

void account_foreach(void (*fn)(struct account *a, void *ud), void *ud)
{
    for (size_t i = 0; i < acct_by_name.cap; i++) {
        struct account *a = acct_by_name.slots[i].value;
        if (acct_by_name.slots[i].key && a->id > 0)
            fn(a, ud);
    }
}

static void acct_add_fp(struct account *a, const char *fp)
{
    a->certfps = xrealloc(a->certfps, (a->ncertfps + 1) * sizeof *a->certfps);
    a->certfps[a->ncertfps] = xstrdup(fp);
    strmap_put(&acct_by_fp, a->certfps[a->ncertfps], a);
    a->ncertfps++;
}

const char *account_status_sentence(int status)
{
    switch (status) {
    case ACCOUNT_OK:
        return "Done.";
    case ACCOUNT_ERR_EXISTS:
        return "That account name is already registered or in use.";
    case ACCOUNT_ERR_BAD_NAME:
        return "That is not a valid account name: use a valid nickname.";
    case ACCOUNT_ERR_WEAK_PASSWORD: {
        static char text[64];
        snprintf(text, sizeof text, "The password must be %zu to %d bytes long.", password_min(),
                 PASSWORD_LEN_MAX);
        return text;
    }
    case ACCOUNT_ERR_CREDENTIALS:
        return "Invalid account name or password.";
    case ACCOUNT_ERR_THROTTLED:
        return "Too many failed logins; wait a while before trying again.";
    case ACCOUNT_ERR_SUSPENDED:
        return "This account is suspended; contact the platform's moderators.";
    case ACCOUNT_ERR_STORE:
        return "The account store is not available; try again shortly.";
    case ACCOUNT_ERR_DISABLED:
        return "Account registration is closed on this server.";
    case ACCOUNT_ERR_NOT_FOUND:
        return "No such account.";
    case ACCOUNT_ERR_LIMIT:
        return "The account has reached its limit for that.";
    case ACCOUNT_ERR_BUSY:
        return "The account is still being set up; try again in a moment.";
    default:
        return "An internal error stopped the operation; try again.";
    }
}

/* ---- start-up load ---- */

static void blob_copy(uint8_t *dst, size_t cap, const struct store_value *v, size_t *len)
{
    size_t n = v->type == STORE_TYPE_BLOB ? v->len : 0;
    if (n > cap)
        n = 0;
    if (n)
        memcpy(dst, v->p, n);
    if (len)
        *len = n;
}

enum {
    COL_ID,
    COL_NAME,
    COL_FOLDED,
    COL_CREATED,
    COL_HASH,
    COL_SALT,
    COL_ITER,
    COL_STORED,
    COL_SERVER,
    COL_LEVEL,
    COL_IDHASH,
    COL_SUSPENDED,
    COL_REASON,
    COL_CONV_VERSION,
    COL_CONV_AT,
    COL_PENDING,
    COL_COUNT
};

static int load_account_row(void *ud, const struct store_value *c, size_t n)
{
    if (n != COL_COUNT || c[COL_NAME].type != STORE_TYPE_TEXT ||
        c[COL_FOLDED].type != STORE_TYPE_TEXT)
        return 0;
    struct account *a = acct_new(c[COL_NAME].p, c[COL_FOLDED].p);
    a->id = c[COL_ID].i;
    a->created_at = c[COL_CREATED].i;
    if (c[COL_HASH].type == STORE_TYPE_TEXT)
        a->password_hash = xstrdup(c[COL_HASH].p);
    blob_copy(a->scram.salt, sizeof a->scram.salt, &c[COL_SALT], &a->scram.salt_len);
    a->scram.iterations = (uint32_t)c[COL_ITER].i;
    blob_copy(a->scram.stored_key, SCRAM_KEY_LEN, &c[COL_STORED], NULL);
    blob_copy(a->scram.server_key, SCRAM_KEY_LEN, &c[COL_SERVER], NULL);
    a->level = (int)c[COL_LEVEL].i;
    if (c[COL_IDHASH].type == STORE_TYPE_BLOB && c[COL_IDHASH].len == VAULT_HASH_BYTES) {
        memcpy(a->identity_hash, c[COL_IDHASH].p, VAULT_HASH_BYTES);
        a->has_identity_hash = true;
    }
    a->suspended = c[COL_SUSPENDED].type == STORE_TYPE_INT;
    if (c[COL_REASON].type == STORE_TYPE_TEXT)
        a->suspend_reason = xstrdup(c[COL_REASON].p);
    a->convention_version = (int)c[COL_CONV_VERSION].i;
    a->convention_at = c[COL_CONV_AT].i;
    a->identity_pending = c[COL_PENDING].i > 0;
    strmap_put(&acct_by_name, a->name_folded, a);
    return 0;
}

static int load_cert_row(void *ud, const struct store_value *c, size_t n)
{
    if (n != 2 || c[1].type != STORE_TYPE_TEXT)
        return 0;
    struct account *a = account_find_id(c[0].i);
    if (a)
        acct_add_fp(a, c[1].p);
    return 0;
}

int account_directory_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen)
{
    acct_loop = loop;
    acct_store = st;
    strmap_init(&acct_by_name);
    strmap_init(&acct_by_fp);
    strmap_init(&acct_fail_ip);
    strmap_init(&acct_fail_name);
    /* A real argon2id hash for unknown names: a failed login costs the same
     * whether or not the account exists (start-up only, so blocking is
     * fine here). */
    uint8_t junk[32];
    randombytes_buf(junk, sizeof junk);
    if (crypto_pwhash_str(acct_dummy_hash, (const char *)junk, sizeof junk,
                          password_params_default.opslimit,
                          password_params_default.memlimit) != 0) {
        snprintf(err, errlen, "cannot compute a password hash (out of memory?)");
        return -1;
    }
    if (store_load(st,
                   "SELECT a.id, a.name, a.name_folded, a.created_at, a.password_hash,"
                   " a.scram_salt, a.scram_iterations, a.scram_stored_key, a.scram_server_key,"
                   " a.level, a.identity_hash, a.suspended_at, a.suspend_reason,"
                   " coalesce(a.convention_version, 0), coalesce(a.convention_at, 0),"
                   " (SELECT count(*) FROM identity_requests r"
                   "   WHERE r.account_id = a.id AND r.status = 'pending')"
                   " FROM accounts a",
                   NULL, 0, load_account_row, NULL, "accounts", err, errlen) < 0 ||
        store_load(st, "SELECT account_id, fingerprint FROM account_certs", NULL, 0, load_cert_row,
                   NULL, "accounts", err, errlen) < 0)
        return -1;
    log_info("accounts: %zu loaded", acct_by_name.count);
    return 0;
}

static void fail_map_free(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) {
            struct fail_entry *e = m->slots[i].value;
            free(e->key);
            free(e);
        }
    strmap_free(m);
    strmap_init(m);
}

void account_directory_detach_store(void)
{
    acct_store = NULL;
}

void account_directory_free(void)
{
    for (size_t i = 0; i < acct_by_name.cap; i++)
        if (acct_by_name.slots[i].key) {
            struct account *a = acct_by_name.slots[i].value;
            a->refs = 1;
            account_unref(a);
        }
    strmap_free(&acct_by_name);
    strmap_free(&acct_by_fp);
    fail_map_free(&acct_fail_ip);
    fail_map_free(&acct_fail_name);
    sodium_memzero(acct_dummy_hash, sizeof acct_dummy_hash);
}

/* ---- throttling ---- */

static struct ratelimit_rule acct_fail_rule(void)
{
    struct ratelimit_rule r = {10, 600};
    if (server_config) {
        r.limit = (uint32_t)server_config->login_failures;
        r.window_seconds = server_config->login_window;
    }
    return r;
}

static struct ratelimit_bucket *fail_bucket(struct strmap *m, const char *key, bool create)
{
    struct fail_entry *e = strmap_get(m, key);
    if (e || !create)
        return e ? &e->b : NULL;
    if (m->count >= FAIL_MAP_MAX)
        fail_map_free(m); /* bounded memory: forget old failures wholesale */
    e = xcalloc(1, sizeof *e);
    e->key = xstrdup(key);
    strmap_put(m, e->key, e);
    return &e->b;
}

static void fail_key(const char *name, char *out, size_t cap)
{
    if (!name || !acct_fold(name, out, cap))
        snprintf(out, cap, "%s", name ? name : "");
}

bool account_login_allowed(const char *name, const char *ip, int64_t *retry_after)
{
    char key[ACCOUNT_NAME_MAX * 4 + 1];
    fail_key(name, key, sizeof key);
    struct ratelimit_rule rule = acct_fail_rule();
    int64_t now = acct_now(), wait = 0;
    struct ratelimit_bucket *bn = fail_bucket(&acct_fail_name, key, false);
    struct ratelimit_bucket *bi = ip ? fail_bucket(&acct_fail_ip, ip, false) : NULL;
    if (bn && !ratelimit_check(bn, rule, now))
        wait = ratelimit_retry_after(bn, rule, now);
    if (bi && !ratelimit_check(bi, rule, now)) {
        int64_t w = ratelimit_retry_after(bi, rule, now);
        wait = w > wait ? w : wait;
    }
    if (retry_after)
        *retry_after = wait;
    return wait == 0;
}

void account_login_failed(const char *name, const char *ip)
{
    char key[ACCOUNT_NAME_MAX * 4 + 1];
    fail_key(name, key, sizeof key);
    int64_t now = acct_now();
    ratelimit_record(fail_bucket(&acct_fail_name, key, true), now);
    if (ip)
        ratelimit_record(fail_bucket(&acct_fail_ip, ip, true), now);
}

void account_login_succeeded(struct account *a)
{
    struct fail_entry *e = strmap_del(&acct_fail_name, a->name_folded);
    if (e) {
        free(e->key);
        free(e);
    }
}

/* ---- writes ---- */

struct write_job {
    struct account *a; /* referenced */
    account_cb cb;
    void *ud;
    void (*after)(struct write_job *j, int status, int64_t last_id);
};

static void write_done(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct write_job *j = ud;
    if (status != STORE_OK)
        log_error("accounts: store write failed for %s: %s", j->a->name,
                  err ? err : store_status_name(status));
    if (j->after)
        j->after(j, status, last_id);
    if (j->cb)
        j->cb(j->ud, status == STORE_OK ? ACCOUNT_OK : ACCOUNT_ERR_STORE,
              status == STORE_OK ? j->a : NULL);
    account_unref(j->a);
    free(j);
}

/* Queues one write for account a; cb(ud, ...) after the commit. */
static int acct_write(struct account *a, const char *sql, const struct store_value *b, size_t n,
                      account_cb cb, void *ud,
                      void (*after)(struct write_job *, int status, int64_t last_id))
{
    struct write_job *j = xcalloc(1, sizeof *j);
    j->a = a;
    j->cb = cb;
    j->ud = ud;
    j->after = after;
    account_ref(a);
    if (!acct_store || store_exec_write(acct_store, sql, b, n, write_done, j) != STORE_OK) {
        account_unref(a);
        free(j);
        return ACCOUNT_ERR_STORE;
    }
    return ACCOUNT_OK;
}

/* Audit records and sessions are network-log events ("audit.<action>",
 * "session.login", "session.logout"): there is one log (SPEC §9). The
 * audit and sessions tables of schema 1-2 are no longer written. */
void account_audit(const char *actor, const char *action, const char *target, const char *detail)
{
    char kind[96];
    snprintf(kind, sizeof kind, "audit.%s", action);
    json_t *o = json_object();
    if (detail)
        json_object_set_new(o, "detail", json_string(detail));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    struct account *a = account_find(actor);
    if (netlog_record(kind, actor, target, 0, a ? a->id : 0, NULL, body) < 0)
        log_error("audit: could not log %s by %s", action, actor);
    free(body);
}

void account_session_record(struct account *a, const struct account_session *s)
{
    json_t *o = json_pack("{s:s, s:s, s:i}", "mechanism", s->mechanism ? s->mechanism : "", "ip",
                          s->ip ? s->ip : "", "port", s->port);
    if (s->tls_version)
        json_object_set_new(o, "tls_version", json_string(s->tls_version));
    if (s->tls_cipher)
        json_object_set_new(o, "tls_cipher", json_string(s->tls_cipher));
    if (s->certfp)
        json_object_set_new(o, "certfp", json_string(s->certfp));
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    char kind[32];
    snprintf(kind, sizeof kind, "session.%s", s->event);
    if (netlog_record(kind, a->name, a->name, 0, a->id, NULL, body) < 0)
        log_error("accounts: could not log the %s of %s", s->event, a->name);
    free(body);
}

/* ---- registration and password changes ---- */

/* Registration and a password change share one job: argon2id on the pool
 * (password.c), then the SCRAM derivation on the pool, then one write (an
 * INSERT for a new account, an UPDATE for a new password), then the
 * in-memory account changes. */
struct cred_job {
    struct account *a; /* referenced */
    bool registering;
    char *pw; /* wiped and freed when the job ends */
    size_t len;
    char *hash;
    struct scram_credentials scram;
    int scram_rc;
    account_cb cb;
    void *ud;
    uv_work_t work;
};

static void cred_end(struct cred_job *j, int status)
{
    struct account *a = j->a;
    if (status != ACCOUNT_OK && j->registering)
        acct_unlink(a); /* the reservation ends */
    sodium_memzero(j->pw, j->len);
    free(j->pw);
    free(j->hash);
    sodium_memzero(&j->scram, sizeof j->scram);
    if (j->cb)
        j->cb(j->ud, status, status == ACCOUNT_OK ? a : NULL);
    account_unref(a);
    free(j);
}

static void cred_written(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct cred_job *j = ud;
    struct account *a = j->a;
    if (status != STORE_OK) {
        log_error("accounts: %s of %s failed: %s", j->registering ? "registration" : "password",
                  a->name, err ? err : store_status_name(status));
        cred_end(j, j->registering && status == STORE_ERR_CONSTRAINT ? ACCOUNT_ERR_EXISTS
                                                                     : ACCOUNT_ERR_STORE);
        return;
    }
    if (a->dropped) {
        cred_end(j, ACCOUNT_ERR_NOT_FOUND);
        return;
    }
    free(a->password_hash);
    a->password_hash = j->hash;
    j->hash = NULL;
    a->scram = j->scram;
    if (j->registering) {
        a->id = last_id;
        log_info("accounts: %s registered (id %lld)", a->name, (long long)last_id);
    }
    account_audit(a->name, j->registering ? "account.register" : "account.password", a->name, NULL);
    cred_end(j, ACCOUNT_OK);
}

static void cred_scram_work(uv_work_t *w)
{
    struct cred_job *j = w->data;
    j->scram_rc = scram_credentials_new(j->pw, j->len, SCRAM_ITER_DEFAULT, &j->scram);
}

static void cred_scram_after(uv_work_t *w, int status)
{
    struct cred_job *j = w->data;
    struct account *a = j->a;
    if (status != 0 || j->scram_rc != SCRAM_OK) {
        cred_end(j, ACCOUNT_ERR_INTERNAL);
        return;
    }
    const struct scram_credentials *sc = &j->scram;
    int rc;
    if (j->registering) {
        a->created_at = acct_now();
        struct store_value b[] = {
            STORE_TEXT(a->name),
            STORE_TEXT(a->name_folded),
            STORE_INT(a->created_at),
            STORE_TEXT(j->hash),
            STORE_BLOB(sc->salt, sc->salt_len),
            STORE_INT(sc->iterations),
            STORE_BLOB(sc->stored_key, SCRAM_KEY_LEN),
            STORE_BLOB(sc->server_key, SCRAM_KEY_LEN),
        };
        rc = acct_store ? store_exec_write(acct_store,
                                           "INSERT INTO accounts (name, name_folded, created_at,"
                                           " password_hash, scram_salt, scram_iterations,"
                                           " scram_stored_key, scram_server_key, level)"
                                           " VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0)",
                                           b, 8, cred_written, j)
                        : STORE_ERR_CLOSING;
    } else {
        struct store_value b[] = {
            STORE_TEXT(j->hash),
            STORE_BLOB(sc->salt, sc->salt_len),
            STORE_INT(sc->iterations),
            STORE_BLOB(sc->stored_key, SCRAM_KEY_LEN),
            STORE_BLOB(sc->server_key, SCRAM_KEY_LEN),
            STORE_INT(a->id),
        };
        rc = acct_store ? store_exec_write(acct_store,
                                           "UPDATE accounts SET password_hash = ?, scram_salt = ?,"
                                           " scram_iterations = ?, scram_stored_key = ?,"
                                           " scram_server_key = ? WHERE id = ?",
                                           b, 6, cred_written, j)
                        : STORE_ERR_CLOSING;
    }
    if (rc != STORE_OK)
        cred_end(j, ACCOUNT_ERR_STORE);
}

static void cred_hashed(int result, const char *hash, void *ud)
{
    struct cred_job *j = ud;
    if (result != PASSWORD_OK) {
        cred_end(j, ACCOUNT_ERR_INTERNAL);
        return;
    }
    j->hash = xstrdup(hash);
    j->work.data = j;
    if (uv_queue_work(acct_loop, &j->work, cred_scram_work, cred_scram_after) != 0)
        cred_end(j, ACCOUNT_ERR_INTERNAL);
}

/* Starts the job for a (referenced by the job from here on). */
static int cred_start(struct account *a, bool registering, const char *password, size_t len,
                      account_cb cb, void *ud)
{
    struct cred_job *j = xcalloc(1, sizeof *j);
    j->a = a;
    account_ref(a);
    j->registering = registering;
    j->pw = xmalloc(len + 1);
    memcpy(j->pw, password, len);
    j->len = len;
    j->cb = cb;
    j->ud = ud;
    if (password_hash_async(acct_loop, password, len, cred_hashed, j) != PASSWORD_OK) {
        j->cb = NULL;
        cred_end(j, ACCOUNT_ERR_INTERNAL);
        return ACCOUNT_ERR_INTERNAL;
    }
    return ACCOUNT_OK;
}
static size_t password_min(void)
{
    return server_config ? (size_t)server_config->password_min : 8;
}

static int password_check(size_t len)
{
    return len < password_min() || len > PASSWORD_LEN_MAX ? ACCOUNT_ERR_WEAK_PASSWORD : ACCOUNT_OK;
}

int account_register(const char *name, const char *password, size_t len, account_cb cb, void *ud)
{
    char folded[ACCOUNT_NAME_MAX * 4 + 1];
    if (server_config && !server_config->accounts_registration)
        return ACCOUNT_ERR_DISABLED;
    if (account_name_check(name) != ACCOUNT_OK || !acct_fold(name, folded, sizeof folded))
        return ACCOUNT_ERR_BAD_NAME;
    if (strmap_get(&acct_by_name, folded))
        return ACCOUNT_ERR_EXISTS;
    if (password_check(len) != ACCOUNT_OK)
        return ACCOUNT_ERR_WEAK_PASSWORD;
    if (!acct_store)
        return ACCOUNT_ERR_STORE;
    struct account *a = acct_new(name, folded); /* reserved: id 0 */
    strmap_put(&acct_by_name, a->name_folded, a);
    return cred_start(a, true, password, len, cb, ud);
}

/* ---- password login ---- */

struct login_job {
    struct account *a; /* NULL: unknown name (dummy check) */
    char *name;
    char *ip;
    account_cb cb;
    void *ud;
};

static void login_checked(int result, void *ud)
{
    struct login_job *j = ud;
    int status = ACCOUNT_ERR_CREDENTIALS;
    if (result == PASSWORD_OK && j->a && !j->a->dropped)
        status = j->a->suspended ? ACCOUNT_ERR_SUSPENDED : ACCOUNT_OK;
    else if (result != PASSWORD_OK && result != PASSWORD_ERR_MISMATCH)
        status = ACCOUNT_ERR_INTERNAL;
    if (status == ACCOUNT_ERR_CREDENTIALS)
        account_login_failed(j->name, j->ip);
    else if (status == ACCOUNT_OK)
        account_login_succeeded(j->a);
    j->cb(j->ud, status, status == ACCOUNT_OK ? j->a : NULL);
    account_unref(j->a);
    free(j->name);
    free(j->ip);
    free(j);
}

int account_login_password(const char *name, const char *password, size_t len, const char *ip,
                           account_cb cb, void *ud)
{
    if (!account_login_allowed(name, ip, NULL))
        return ACCOUNT_ERR_THROTTLED;
    struct account *a = account_find(name);
    if (a && !a->password_hash)
        a = NULL;
    struct login_job *j = xcalloc(1, sizeof *j);
    j->a = a;
    if (a)
        account_ref(a);
    j->name = xstrdup(name);
    j->ip = ip ? xstrdup(ip) : NULL;
    j->cb = cb;
    j->ud = ud;
    const char *hash = a ? a->password_hash : acct_dummy_hash;
    if (len == 0 || len > PASSWORD_LEN_MAX ||
        password_verify_async(acct_loop, hash, password, len, login_checked, j) != PASSWORD_OK) {
        account_unref(a);
        free(j->name);
        free(j->ip);
        free(j);
        account_login_failed(name, ip);
        return ACCOUNT_ERR_CREDENTIALS;
    }
    return ACCOUNT_OK;
}

/* ---- changes ---- */

int account_set_password(struct account *a, const char *password, size_t len, account_cb cb,
                         void *ud)
{
    if (password_check(len) != ACCOUNT_OK)
        return ACCOUNT_ERR_WEAK_PASSWORD;
    if (a->id == 0)
        return ACCOUNT_ERR_BUSY;
    return cred_start(a, false, password, len, cb, ud);
}

static void drop_after(struct write_job *j, int status, int64_t last_id)
{
    if (status == STORE_OK && !j->a->dropped) {
        log_info("accounts: %s dropped", j->a->name);
        /* unlink first: the hook logs users out, and nick protection must
         * no longer find the name (the job's reference keeps a valid) */
        acct_unlink(j->a);
        if (account_changed_hook)
            account_changed_hook(j->a, "dropped");
    }
}

int account_drop(struct account *a, const char *actor, account_cb cb, void *ud)
{
    if (a->id == 0)
        return ACCOUNT_ERR_BUSY;
    account_audit(actor, "account.drop", a->name, NULL);
    struct store_value b[] = {STORE_INT(a->id)};
    /* One statement per write: the certificates go first, then the row.
     * Sessions, audit and identity requests stay (records to keep). */
    if (!acct_store ||
        store_exec_write(acct_store, "DELETE FROM account_certs WHERE account_id = ?", b, 1, NULL,
                         NULL) != STORE_OK)
        return ACCOUNT_ERR_STORE;
    return acct_write(a, "DELETE FROM accounts WHERE id = ?", b, 1, cb, ud, drop_after);
}

int account_cert_add(struct account *a, const char *fp, account_cb cb, void *ud)
{
    if (a->id == 0)
        return ACCOUNT_ERR_BUSY;
    if (strmap_get(&acct_by_fp, fp))
        return ACCOUNT_ERR_EXISTS;
    if ((int)a->ncertfps >= (server_config ? server_config->max_certs : 5))
        return ACCOUNT_ERR_LIMIT;
    acct_add_fp(a, fp); /* claimed now so a second add cannot race it */
    struct store_value b[] = {STORE_INT(a->id), STORE_TEXT(fp), STORE_INT(acct_now())};
    return acct_write(a,
                      "INSERT INTO account_certs (account_id, fingerprint, added_at)"
                      " VALUES (?, ?, ?)",
                      b, 3, cb, ud, NULL);
}

int account_cert_del(struct account *a, const char *fp, account_cb cb, void *ud)
{
    size_t i = 0;
    while (i < a->ncertfps && strcmp(a->certfps[i], fp) != 0)
        i++;
    if (i == a->ncertfps)
        return ACCOUNT_ERR_NOT_FOUND;
    strmap_del(&acct_by_fp, a->certfps[i]);
    free(a->certfps[i]);
    a->certfps[i] = a->certfps[--a->ncertfps];
    struct store_value b[] = {STORE_INT(a->id), STORE_TEXT(fp)};
    return acct_write(a, "DELETE FROM account_certs WHERE account_id = ? AND fingerprint = ?", b, 2,
                      cb, ud, NULL);
}

int account_set_suspended(struct account *a, bool suspended, const char *reason, const char *actor,
                          account_cb cb, void *ud)
{
    a->suspended = suspended;
    free(a->suspend_reason);
    a->suspend_reason = suspended && reason ? xstrdup(reason) : NULL;
    account_audit(actor, suspended ? "account.suspend" : "account.unsuspend", a->name, reason);
    struct store_value b[] = {suspended ? STORE_INT(acct_now()) : STORE_NULL(),
                              a->suspend_reason ? STORE_TEXT(a->suspend_reason) : STORE_NULL(),
                              STORE_INT(a->id)};
    int rc = acct_write(a, "UPDATE accounts SET suspended_at = ?, suspend_reason = ? WHERE id = ?",
                        b, 3, cb, ud, NULL);
    if (rc == ACCOUNT_OK && account_changed_hook)
        account_changed_hook(a, suspended ? "suspended" : "unsuspended");
    return rc;
}

int account_accept_convention(struct account *a, int version, account_cb cb, void *ud)
{
    a->convention_version = version;
    a->convention_at = acct_now();
    struct store_value b[] = {STORE_INT(version), STORE_INT(a->convention_at), STORE_INT(a->id)};
    return acct_write(a,
                      "UPDATE accounts SET convention_version = ?, convention_at = ? WHERE id = ?",
                      b, 3, cb, ud, NULL);
}

void account_set_level(struct account *a, int level)
{
    if (a->level == level)
        return;
    a->level = level;
    if (account_changed_hook)
        account_changed_hook(a, "level");
}
