/*
 * verify.c - phone and real-identity verification, the manual queue and
 * the audited reveal (contract and flows in verify.h; design notes in
 * docs/internals/accounts.md).
 *
 * State kept in memory: one pending phone code per account (hashed, never
 * the code itself), rate-limit buckets per phone, per account and per
 * address, and the per-process OTP key (codes do not survive a restart,
 * which only means asking for a new one). Everything else is in the store.
 */
#include "identity/verify.h"

#include <jansson.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
#include "identity/idcheck.h"
#include "identity/otp.h"
#include "identity/phone.h"
#include "identity/provider.h"
#include "identity/ratelimit.h"
#include "netlog/netlog.h"
#include "sanction/sanction.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/strmap.h"
#include "vault/vault.h"

extern struct qun_config *server_config;

static struct store *verify_store;       /* NULL once shutdown has begun */
static const struct vault *verify_vault; /* valid until the process ends */

static struct provider *verify_id_provider;
static struct provider *verify_sms_provider;
static uint8_t verify_otp_key[OTP_KEY_BYTES];
static struct strmap verify_rl_phone, verify_rl_account, verify_rl_ip;

struct phone_pending {
    char phone[PHONE_MAX + 1];
    struct otp_record rec;
};

struct rl_entry {
    char *key;
    struct ratelimit_bucket b;
};

static int64_t verify_now(void)
{
    return (int64_t)time(NULL);
}

static void result_set(struct verify_result *r, enum verify_outcome o, const char *code,
                       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void result_set(struct verify_result *r, enum verify_outcome o, const char *code,
                       const char *fmt, ...)
{
    r->outcome = o;
    r->code = code;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->sentence, sizeof r->sentence, fmt, ap);
    va_end(ap);
}

#define REFUSE(cb, ud, code, ...)                                                                  \
    do {                                                                                           \
        struct verify_result r_ = {0};                                                             \
        result_set(&r_, VERIFY_REFUSED, code, __VA_ARGS__);                                        \
        cb(ud, &r_);                                                                               \
    } while (0)

/* ---- life cycle ---- */

static int v_write(const char *sql, const struct store_value *b, size_t n, store_write_cb cb,
                   void *ud)
{
    return verify_store ? store_exec_write(verify_store, sql, b, n, cb, ud) : STORE_ERR_CLOSING;
}

static int v_query(const char *sql, const struct store_value *b, size_t n, store_row_cb row,
                   store_done_cb done, void *ud)
{
    return verify_store ? store_query(verify_store, sql, b, n, row, done, ud) : STORE_ERR_CLOSING;
}

int verify_init(uv_loop_t *loop, const struct qun_config *cfg, struct store *st,
                const struct vault *v, char *err, size_t errlen)
{
    verify_store = st;
    verify_vault = v;
    randombytes_buf(verify_otp_key, sizeof verify_otp_key);
    strmap_init(&verify_rl_phone);
    strmap_init(&verify_rl_account);
    strmap_init(&verify_rl_ip);
    verify_id_provider = provider_new_identity(loop, cfg, err, errlen);
    if (!verify_id_provider)
        return -1;
    if (strcmp(cfg->sms_provider, "none") != 0) {
        verify_sms_provider = provider_new_sms(loop, cfg, err, errlen);
        if (!verify_sms_provider) {
            provider_free(verify_id_provider);
            verify_id_provider = NULL;
            return -1;
        }
    }
    if (cfg->development &&
        (strcmp(cfg->id_provider, "dev") == 0 || strcmp(cfg->sms_provider, "dev") == 0))
        log_warn("identity: DEVELOPMENT providers in use (identity %s, sms %s): identities are "
                 "not really checked and SMS codes are written to this log",
                 cfg->id_provider, cfg->sms_provider);
    return 0;
}

static void rl_free(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        if (m->slots[i].key) {
            struct rl_entry *e = m->slots[i].value;
            free(e->key);
            free(e);
        }
    strmap_free(m);
}

void verify_shutdown(void)
{
    verify_store = NULL;
    provider_free(verify_id_provider);
    provider_free(verify_sms_provider);
    verify_id_provider = verify_sms_provider = NULL;
    rl_free(&verify_rl_phone);
    rl_free(&verify_rl_account);
    rl_free(&verify_rl_ip);
    sodium_memzero(verify_otp_key, sizeof verify_otp_key);
}

bool verify_sms_available(void)
{
    return verify_sms_provider != NULL;
}

static struct ratelimit_bucket *rl_bucket(struct strmap *m, const char *key)
{
    struct rl_entry *e = strmap_get(m, key);
    if (e)
        return &e->b;
    if (m->count >= 100000) { /* bounded: forget old buckets wholesale */
        rl_free(m);
        strmap_init(m);
    }
    e = xcalloc(1, sizeof *e);
    e->key = xstrdup(key);
    strmap_put(m, e->key, e);
    return &e->b;
}

/* ---- phone (level 1) ---- */

struct sms_job {
    struct account *a;
    verify_cb cb;
    void *ud;
};

static void sms_sent(void *ud, const struct provider_result *pr)
{
    struct sms_job *j = ud;
    struct verify_result r = {0};
    if (pr->verdict == PROVIDER_ACCEPTED) {
        int ttl = server_config->code_ttl;
        result_set(&r, VERIFY_CODE_SENT, NULL,
                   "A 6-digit code was sent to your phone; it is valid for %d %s.",
                   ttl % 60 ? ttl : ttl / 60, ttl % 60 ? "seconds" : "minutes");
    } else {
        struct phone_pending *p = j->a->phone_pending;
        j->a->phone_pending = NULL;
        free(p);
        log_warn("identity: SMS for %s not sent: %s", j->a->name, pr->reason);
        result_set(&r, VERIFY_REFUSED, "TEMPORARILY_UNAVAILABLE",
                   "The code could not be sent right now; try again in a few minutes.");
    }
    j->cb(j->ud, &r);
    account_unref(j->a);
    free(j);
}

void verify_phone_start(struct account *a, const char *phone, const char *ip, verify_cb cb,
                        void *ud)
{
    char e164[PHONE_MAX + 1];
    if (!verify_sms_provider) {
        REFUSE(cb, ud, "TEMPORARILY_UNAVAILABLE",
               "Phone verification is not available on this server.");
        return;
    }
    if (a->level >= 1) {
        REFUSE(cb, ud, "ALREADY_VERIFIED", "Your phone number is already verified.");
        return;
    }
    enum phone_result pr = phone_normalise(phone, strlen(phone), e164);
    if (pr != PHONE_OK) {
        REFUSE(cb, ud, "INVALID_PHONE", "%s", phone_result_sentence(pr));
        return;
    }
    struct ratelimit_bucket *bs[3] = {rl_bucket(&verify_rl_phone, e164),
                                      rl_bucket(&verify_rl_account, a->name_folded),
                                      rl_bucket(&verify_rl_ip, ip ? ip : "")};
    struct ratelimit_rule rules[3] = {RATELIMIT_OTP_PHONE, RATELIMIT_OTP_ACCOUNT, RATELIMIT_OTP_IP};
    int64_t now = verify_now();
    int refused = ratelimit_allow_all(bs, rules, 3, now);
    if (refused >= 0) {
        static const char *const what[] = {"this phone number", "this account", "your address"};
        int64_t wait = ratelimit_retry_after(bs[refused], rules[refused], now);
        REFUSE(cb, ud, "RATE_LIMITED",
               "Too many codes were requested for %s; try again in %lld minute(s).", what[refused],
               (long long)(wait + 59) / 60);
        return;
    }
    uint8_t rng[OTP_RNG_BYTES];
    char code[OTP_DIGITS + 1];
    randombytes_buf(rng, sizeof rng);
    struct phone_pending *p = xcalloc(1, sizeof *p);
    memcpy(p->phone, e164, sizeof p->phone);
    otp_issue(verify_otp_key, a->name_folded, strlen(a->name_folded), rng, now, code, &p->rec);
    p->rec.expires_at = now + server_config->code_ttl; /* 600 except on development servers */
    free(a->phone_pending);
    a->phone_pending = p;
    struct sms_job *j = xcalloc(1, sizeof *j);
    j->a = a;
    j->cb = cb;
    j->ud = ud;
    account_ref(a);
    if (provider_send_sms(verify_sms_provider, e164, code, a->name, sms_sent, j) != 0) {
        struct provider_result fr = {.verdict = PROVIDER_FAILED};
        snprintf(fr.reason, sizeof fr.reason, "provider refused the request");
        sms_sent(j, &fr);
    }
    sodium_memzero(code, sizeof code);
}

bool verify_phone_pending(const struct account *a)
{
    return a->phone_pending != NULL;
}

struct confirm_job {
    struct account *a;
    verify_cb cb;
    void *ud;
};

static void phone_written(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct confirm_job *j = ud;
    struct verify_result r = {0};
    if (status == STORE_OK) {
        if (j->a->level < 1)
            account_set_level(j->a, 1);
        log_info("identity: %s verified a phone number (level 1)", j->a->name);
        account_audit(j->a->name, "identity.phone", j->a->name, NULL);
        result_set(&r, VERIFY_DONE, NULL, "Your phone number is verified: identity level 1.");
    } else {
        log_error("identity: saving the phone of %s failed: %s", j->a->name,
                  err ? err : store_status_name(status));
        result_set(&r, VERIFY_REFUSED, "TEMPORARILY_UNAVAILABLE",
                   "Your code was right but could not be saved; request a new code later.");
    }
    j->cb(j->ud, &r);
    account_unref(j->a);
    free(j);
}

static const char *otp_fail_code(enum otp_result r)
{
    return r == OTP_WRONG ? "INVALID_CODE" : r == OTP_EXPIRED ? "CODE_EXPIRED" : "CODE_LOCKED";
}

void verify_phone_confirm(struct account *a, const char *code, verify_cb cb, void *ud)
{
    struct phone_pending *p = a->phone_pending;
    if (!p) {
        REFUSE(cb, ud, "NO_CODE", "No code is pending: ask for one with your phone number first.");
        return;
    }
    enum otp_result or = otp_check(&p->rec, verify_otp_key, a->name_folded, strlen(a->name_folded),
                                   code, strlen(code), verify_now());
    if (or != OTP_OK) {
        if (or == OTP_WRONG)
            REFUSE(cb, ud, "INVALID_CODE", "%s %d tries left.", otp_result_sentence(or),
                   p->rec.tries_left);
        else
            REFUSE(cb, ud, otp_fail_code(or), "%s", otp_result_sentence(or));
        if (or != OTP_WRONG) {
            a->phone_pending = NULL;
            free(p);
        }
        return;
    }
    uint8_t sealed[VAULT_SEALED_MAX];
    size_t slen = 0;
    enum vault_result vr = vault_seal(verify_vault, VAULT_FIELD_PHONE, p->phone, strlen(p->phone),
                                      sealed, sizeof sealed, &slen);
    sodium_memzero(p, sizeof *p);
    free(p);
    a->phone_pending = NULL;
    if (vr != VAULT_OK) {
        REFUSE(cb, ud, "TEMPORARILY_UNAVAILABLE", "The vault is not available; try again later.");
        return;
    }
    struct confirm_job *j = xcalloc(1, sizeof *j);
    j->a = a;
    j->cb = cb;
    j->ud = ud;
    account_ref(a);
    struct store_value b[] = {STORE_BLOB(sealed, slen), STORE_INT(verify_now()), STORE_INT(a->id)};
    if (v_write("UPDATE accounts SET phone_sealed = ?, phone_verified_at = ?,"
                " level = max(level, 1) WHERE id = ?",
                b, 3, phone_written, j) != STORE_OK)
        phone_written(j, STORE_ERR_CLOSING, 0, 0, "store closing");
}

/* ---- identity (level 2) ---- */

struct id_job {
    struct account *a;
    verify_cb cb;
    void *ud;
    enum iddoc_type type;
    uint8_t hash[VAULT_HASH_BYTES];
    uint8_t name_sealed[VAULT_SEALED_MAX];
    size_t name_len;
    uint8_t doc_sealed[VAULT_SEALED_MAX];
    size_t doc_len;
    struct verify_result r;
    int writes; /* store writes still to complete */
    bool failed;
};

static void id_job_end(struct id_job *j)
{
    j->a->identity_checking = false;
    if (j->failed)
        result_set(&j->r, VERIFY_REFUSED, "TEMPORARILY_UNAVAILABLE",
                   "The result could not be saved; try again later.");
    j->cb(j->ud, &j->r);
    account_unref(j->a);
    sodium_memzero(j, sizeof *j);
    free(j);
}

static void id_written(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct id_job *j = ud;
    if (status != STORE_OK) {
        log_error("identity: saving the request of %s failed: %s", j->a->name,
                  err ? err : store_status_name(status));
        j->failed = true;
    }
    if (--j->writes > 0)
        return;
    if (!j->failed && j->r.outcome == VERIFY_DONE) {
        memcpy(j->a->identity_hash, j->hash, VAULT_HASH_BYTES);
        j->a->has_identity_hash = true;
        account_set_level(j->a, 2);
        account_audit(j->a->name, "identity.verified", j->a->name, idcheck_type_name(j->type));
    }
    if (!j->failed && j->r.outcome == VERIFY_QUEUED) {
        j->a->identity_pending = true;
        snprintf(j->r.sentence, sizeof j->r.sentence,
                 "Your identity was queued for a moderator (request %lld); you will be told the "
                 "outcome.",
                 (long long)j->r.request_id);
    }
    id_job_end(j);
}

static void id_request_written(void *ud, int status, int64_t last_id, int64_t changes,
                               const char *err)
{
    struct id_job *j = ud;
    if (status == STORE_OK)
        j->r.request_id = last_id; /* an INSERT: last_id is the request's id */
    id_written(j, status, last_id, changes, err);
}

static void id_store_request(struct id_job *j, const char *status, const char *reason)
{
    struct store_value b[] = {
        STORE_INT(j->a->id),
        STORE_TEXT(j->a->name),
        STORE_TEXT(idcheck_type_name(j->type)),
        STORE_BLOB(j->name_sealed, j->name_len),
        STORE_BLOB(j->doc_sealed, j->doc_len),
        STORE_BLOB(j->hash, VAULT_HASH_BYTES),
        STORE_TEXT(server_config->id_provider),
        STORE_TEXT(status),
        reason ? STORE_TEXT(reason) : STORE_NULL(),
        STORE_INT(verify_now()),
    };
    j->writes++;
    if (v_write("INSERT INTO identity_requests (account_id, account, doc_type, name_sealed,"
                " doc_sealed, identity_hash, provider, status, reason, submitted_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                b, 10, id_request_written, j) != STORE_OK)
        id_written(j, STORE_ERR_CLOSING, 0, 0, "store closing");
}

static void id_store_level2(struct id_job *j)
{
    struct store_value b[] = {
        STORE_BLOB(j->hash, VAULT_HASH_BYTES),
        STORE_TEXT(idcheck_type_name(j->type)),
        STORE_BLOB(j->name_sealed, j->name_len),
        STORE_BLOB(j->doc_sealed, j->doc_len),
        STORE_INT(verify_now()),
        STORE_INT(j->a->id),
    };
    j->writes++;
    if (v_write("UPDATE accounts SET identity_hash = ?, identity_doc_type = ?,"
                " identity_name_sealed = ?, identity_doc_sealed = ?,"
                " identity_verified_at = ?, level = 2 WHERE id = ?",
                b, 6, id_written, j) != STORE_OK)
        id_written(j, STORE_ERR_CLOSING, 0, 0, "store closing");
}

static void id_checked(void *ud, const struct provider_result *pr)
{
    struct id_job *j = ud;
    switch (pr->verdict) {
    case PROVIDER_ACCEPTED:
        result_set(&j->r, VERIFY_DONE, NULL, "Your identity is verified: identity level 2.");
        j->writes = 1; /* held until both writes are queued */
        id_store_level2(j);
        id_store_request(j, "accepted", NULL);
        id_written(j, STORE_OK, 0, 0, NULL);
        return;
    case PROVIDER_REJECTED:
        result_set(&j->r, VERIFY_REFUSED, "IDENTITY_REJECTED",
                   "The identity check did not confirm these details (%s). Check them and submit "
                   "again.",
                   pr->reason[0] ? pr->reason : "no reason given");
        id_store_request(j, "rejected", pr->reason);
        return;
    case PROVIDER_PENDING:
        result_set(&j->r, VERIFY_QUEUED, NULL, "queued");
        id_store_request(j, "pending", NULL);
        return;
    case PROVIDER_FAILED:
        log_warn("identity: provider failed for %s: %s", j->a->name, pr->reason);
        result_set(&j->r, VERIFY_REFUSED, "TEMPORARILY_UNAVAILABLE",
                   "The identity check is not reachable right now; try again later.");
        id_job_end(j);
        return;
    }
}

struct count_ud {
    const uint8_t *hash;
    const struct account *self;
    int n;
};

static void count_same_identity(struct account *a, void *ud)
{
    struct count_ud *c = ud;
    if (a != c->self && (a->has_identity_hash || a->identity_pending || a->identity_checking) &&
        vault_hash_equal(a->identity_hash, c->hash))
        c->n++;
}

static bool real_name_ok(const char *s)
{
    size_t len = strlen(s);
    if (len == 0 || len > 200)
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

/* Checks, hashes and seals; returns false after refusing through cb. */
static bool id_prepare(struct id_job *j, const char *doc_type, const char *doc_number,
                       const char *real_name, char canon[IDCHECK_MAX + 1])
{
    struct account *a = j->a;
    if (!idcheck_type_parse(doc_type, &j->type)) {
        REFUSE(j->cb, j->ud, "INVALID_DOCUMENT_TYPE",
               "Unknown document type. Use one of: cn-id, passport-cn, passport, hkmo-permit, "
               "hkmo-home-return, tw-compatriot, tw-permit, foreign-pr.");
        return false;
    }
    enum idcheck_result ir =
        idcheck_document(j->type, doc_number, strlen(doc_number), verify_now(), canon);
    if (ir != IDCHECK_OK) {
        REFUSE(j->cb, j->ud, "INVALID_DOCUMENT", "%s", idcheck_result_sentence(ir));
        return false;
    }
    if (!real_name_ok(real_name)) {
        REFUSE(j->cb, j->ud, "INVALID_NAME",
               "Give your full real name as on the document (1 to 200 bytes, no control "
               "characters).");
        return false;
    }
    const struct vault *v = verify_vault;
    if (vault_identity_hash(v, idcheck_type_name(j->type), canon, j->hash) != VAULT_OK ||
        vault_seal(v, VAULT_FIELD_NAME, real_name, strlen(real_name), j->name_sealed,
                   sizeof j->name_sealed, &j->name_len) != VAULT_OK ||
        vault_seal(v, VAULT_FIELD_DOC_NUMBER, canon, strlen(canon), j->doc_sealed,
                   sizeof j->doc_sealed, &j->doc_len) != VAULT_OK) {
        REFUSE(j->cb, j->ud, "TEMPORARILY_UNAVAILABLE", "The vault is not available right now.");
        return false;
    }
    if (blacklist_has_identity(j->hash, VAULT_HASH_BYTES)) {
        REFUSE(j->cb, j->ud, "IDENTITY_BLACKLISTED",
               "This identity is on the platform's blacklist, so it cannot verify an account; to "
               "appeal, write to the platform's moderators.");
        return false;
    }
    struct count_ud cu = {.hash = j->hash, .self = a};
    account_foreach(count_same_identity, &cu);
    if (cu.n >= server_config->max_accounts_per_identity) {
        REFUSE(j->cb, j->ud, "IDENTITY_LIMIT",
               "This identity already verifies %d accounts, the most one person may have.", cu.n);
        return false;
    }
    return true;
}

void verify_identity_submit(struct account *a, const char *doc_type, const char *doc_number,
                            const char *real_name, verify_cb cb, void *ud)
{
    if (a->level >= 2) {
        REFUSE(cb, ud, "ALREADY_VERIFIED", "Your identity is already verified.");
        return;
    }
    if (a->level < 1) {
        REFUSE(cb, ud, "PHONE_REQUIRED", "Verify a phone number first (identity level 1).");
        return;
    }
    if (a->identity_pending || a->identity_checking) {
        REFUSE(cb, ud, "PENDING", "Your identity is already waiting for a moderator.");
        return;
    }
    struct id_job *j = xcalloc(1, sizeof *j);
    j->a = a;
    j->cb = cb;
    j->ud = ud;
    char canon[IDCHECK_MAX + 1];
    if (!id_prepare(j, doc_type, doc_number, real_name, canon)) {
        sodium_memzero(j, sizeof *j);
        free(j);
        sodium_memzero(canon, sizeof canon);
        return;
    }
    account_ref(a);
    /* counted against the identity's limit while the provider checks it */
    memcpy(a->identity_hash, j->hash, VAULT_HASH_BYTES);
    a->identity_checking = true;
    struct identity_request req = {.account = a->name,
                                   .real_name = real_name,
                                   .doc_type = idcheck_type_name(j->type),
                                   .doc_number = canon};
    if (provider_check_identity(verify_id_provider, &req, id_checked, j) != 0) {
        struct provider_result fr = {.verdict = PROVIDER_FAILED};
        snprintf(fr.reason, sizeof fr.reason, "provider refused the request");
        id_checked(j, &fr);
    }
    sodium_memzero(canon, sizeof canon);
}

/* ---- the manual queue (qunctl) ---- */

struct decide_job {
    int64_t request_id;
    bool approve;
    char *reason;
    char *actor;
    verify_cb cb;
    void *ud;
    bool found;
    int64_t account_id;
    char status[16];
    char doc_type[32];
    uint8_t hash[VAULT_HASH_BYTES];
    struct account *a;
    struct verify_result r;
    int writes;
    bool failed;
};

static void decide_end(struct decide_job *j)
{
    if (j->failed)
        result_set(&j->r, VERIFY_REFUSED, "STORE_FAILED", "The decision could not be saved.");
    j->cb(j->ud, &j->r);
    account_unref(j->a);
    free(j->reason);
    free(j->actor);
    free(j);
}

static void decide_written(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct decide_job *j = ud;
    if (status != STORE_OK) {
        log_error("identity: saving the decision on request %lld failed: %s",
                  (long long)j->request_id, err ? err : store_status_name(status));
        j->failed = true;
    }
    if (--j->writes > 0)
        return;
    if (!j->failed) {
        struct account *a = j->a;
        a->identity_pending = false;
        if (j->approve) {
            memcpy(a->identity_hash, j->hash, VAULT_HASH_BYTES);
            a->has_identity_hash = true;
            account_set_level(a, 2);
        } else if (account_changed_hook) {
            account_changed_hook(a, "identity-rejected");
        }
        account_audit(j->actor, j->approve ? "identity.approve" : "identity.reject", a->name,
                      j->reason);
        result_set(&j->r, VERIFY_DONE, NULL, "Request %lld %s.", (long long)j->request_id,
                   j->approve ? "approved: the account is at identity level 2" : "rejected");
    }
    decide_end(j);
}

static void decide_write(struct decide_job *j, const char *sql, const struct store_value *b,
                         size_t n)
{
    j->writes++;
    if (v_write(sql, b, n, decide_written, j) != STORE_OK)
        decide_written(j, STORE_ERR_CLOSING, 0, 0, "store closing");
}

static int decide_row(void *ud, const struct store_value *c, size_t n)
{
    struct decide_job *j = ud;
    if (n != 4 || c[1].type != STORE_TYPE_TEXT || c[2].type != STORE_TYPE_TEXT)
        return 1;
    j->found = true;
    j->account_id = c[0].i;
    snprintf(j->status, sizeof j->status, "%s", (const char *)c[1].p);
    snprintf(j->doc_type, sizeof j->doc_type, "%s", (const char *)c[2].p);
    if (c[3].type == STORE_TYPE_BLOB && c[3].len == VAULT_HASH_BYTES)
        memcpy(j->hash, c[3].p, VAULT_HASH_BYTES);
    return 1;
}

static void decide_loaded(void *ud, int status, const char *err)
{
    struct decide_job *j = ud;
    if (status != STORE_OK || !j->found) {
        result_set(&j->r, VERIFY_REFUSED, "NOT_FOUND", "No identity request %lld.",
                   (long long)j->request_id);
        decide_end(j);
        return;
    }
    if (strcmp(j->status, "pending") != 0) {
        result_set(&j->r, VERIFY_REFUSED, "ALREADY_DECIDED", "Request %lld is already %s.",
                   (long long)j->request_id, j->status);
        decide_end(j);
        return;
    }
    j->a = account_find_id(j->account_id);
    if (!j->a) {
        result_set(&j->r, VERIFY_REFUSED, "NOT_FOUND", "The account of request %lld is gone.",
                   (long long)j->request_id);
        decide_end(j);
        return;
    }
    account_ref(j->a);
    struct count_ud cu = {.hash = j->hash, .self = j->a};
    account_foreach(count_same_identity, &cu);
    if (j->approve && cu.n >= server_config->max_accounts_per_identity) {
        result_set(&j->r, VERIFY_REFUSED, "IDENTITY_LIMIT",
                   "This identity already verifies %d accounts; reject the request instead.", cu.n);
        decide_end(j);
        return;
    }
    int64_t now = verify_now();
    j->writes = 1;
    struct store_value rb[] = {STORE_TEXT(j->approve ? "accepted" : "rejected"),
                               j->reason ? STORE_TEXT(j->reason) : STORE_NULL(), STORE_INT(now),
                               STORE_TEXT(j->actor), STORE_INT(j->request_id)};
    decide_write(j,
                 "UPDATE identity_requests SET status = ?, reason = ?, decided_at = ?,"
                 " decided_by = ? WHERE id = ?",
                 rb, 5);
    if (j->approve) {
        struct store_value ab[] = {STORE_INT(now), STORE_INT(j->request_id)};
        decide_write(j,
                     "UPDATE accounts SET (identity_hash, identity_doc_type, identity_name_sealed,"
                     " identity_doc_sealed) = (SELECT identity_hash, doc_type, name_sealed,"
                     " doc_sealed FROM identity_requests r WHERE r.id = ?2),"
                     " identity_verified_at = ?1, level = 2"
                     " WHERE id = (SELECT account_id FROM identity_requests WHERE id = ?2)",
                     ab, 2);
    }
    decide_written(j, STORE_OK, 0, 0, NULL);
}

void verify_identity_decide(int64_t request_id, bool approve, const char *reason, const char *actor,
                            verify_cb cb, void *ud)
{
    if (!approve && (!reason || !*reason)) {
        REFUSE(cb, ud, "REASON_REQUIRED", "A rejection needs a reason the user will be told.");
        return;
    }
    struct decide_job *j = xcalloc(1, sizeof *j);
    j->request_id = request_id;
    j->approve = approve;
    j->reason = reason && *reason ? xstrdup(reason) : NULL;
    j->actor = xstrdup(actor);
    j->cb = cb;
    j->ud = ud;
    struct store_value b[] = {STORE_INT(request_id)};
    if (v_query("SELECT account_id, status, doc_type, identity_hash FROM identity_requests"
                " WHERE id = ?",
                b, 1, decide_row, decide_loaded, j) != STORE_OK)
        decide_loaded(j, STORE_ERR_CLOSING, NULL);
}

struct queue_job {
    verify_queue_row row;
    void (*done)(void *ud, bool ok);
    void *ud;
};

static int queue_row(void *ud, const struct store_value *c, size_t n)
{
    struct queue_job *j = ud;
    if (n == 4 && c[1].type == STORE_TYPE_TEXT && c[2].type == STORE_TYPE_TEXT)
        j->row(j->ud, c[0].i, c[1].p, c[2].p, c[3].i);
    return 0;
}

static void queue_done(void *ud, int status, const char *err)
{
    struct queue_job *j = ud;
    j->done(j->ud, status == STORE_OK);
    free(j);
}

void verify_queue_list(verify_queue_row row, void (*done)(void *ud, bool ok), void *ud)
{
    struct queue_job *j = xcalloc(1, sizeof *j);
    j->row = row;
    j->done = done;
    j->ud = ud;
    if (v_query("SELECT id, account, doc_type, submitted_at FROM identity_requests"
                " WHERE status = 'pending' ORDER BY id",
                NULL, 0, queue_row, queue_done, j) != STORE_OK)
        queue_done(j, STORE_ERR_CLOSING, NULL);
}

/* ---- reveal (auditors only; the audit record first) ---- */

struct reveal_job {
    int64_t account_id;
    verify_reveal_cb cb;
    void *ud;
    struct verify_identity id;
    bool found;
    bool failed;
};

static void open_field(const struct vault *v, enum vault_field kind, const struct store_value *c,
                       char *out, size_t cap, bool *failed)
{
    size_t n = 0;
    out[0] = '\0';
    if (c->type != STORE_TYPE_BLOB)
        return;
    if (vault_open_field(v, kind, c->p, c->len, out, cap - 1, &n) != VAULT_OK) {
        *failed = true;
        n = 0;
    }
    out[n] = '\0';
}

static int reveal_row(void *ud, const struct store_value *c, size_t n)
{
    struct reveal_job *j = ud;
    if (n != 5)
        return 1;
    const struct vault *v = verify_vault;
    j->found = true;
    open_field(v, VAULT_FIELD_NAME, &c[0], j->id.real_name, sizeof j->id.real_name, &j->failed);
    if (c[1].type == STORE_TYPE_TEXT)
        snprintf(j->id.doc_type, sizeof j->id.doc_type, "%s", (const char *)c[1].p);
    open_field(v, VAULT_FIELD_DOC_NUMBER, &c[2], j->id.doc_number, sizeof j->id.doc_number,
               &j->failed);
    open_field(v, VAULT_FIELD_PHONE, &c[3], j->id.phone, sizeof j->id.phone, &j->failed);
    j->id.level = (int)c[4].i;
    return 1;
}

static void reveal_done(void *ud, int status, const char *err)
{
    struct reveal_job *j = ud;
    if (status != STORE_OK || !j->found)
        j->cb(j->ud, -1, "The account's record could not be read.", NULL);
    else if (j->failed)
        j->cb(j->ud, -1, "A sealed field did not open (wrong vault key or damaged record).", NULL);
    else
        j->cb(j->ud, 0, "revealed", &j->id);
    sodium_memzero(j, sizeof *j);
    free(j);
}

/* The reveal's log event is durable (strict log): now read and open. */
static void reveal_audited(void *ud, int status, int64_t seq)
{
    struct reveal_job *j = ud;
    struct store_value b[] = {STORE_INT(j->account_id)};
    (void)seq;
    if (status != 0) {
        j->cb(j->ud, -1, "The audit record could not be written, so nothing is revealed.", NULL);
        free(j);
        return;
    }
    if (v_query("SELECT identity_name_sealed, identity_doc_type, identity_doc_sealed,"
                " phone_sealed, level FROM accounts WHERE id = ?",
                b, 1, reveal_row, reveal_done, j) != STORE_OK)
        reveal_done(j, STORE_ERR_CLOSING, NULL);
}

void verify_reveal(const char *account, const char *case_ref, const char *actor,
                   verify_reveal_cb cb, void *ud)
{
    struct account *a = account_find(account);
    if (!a) {
        cb(ud, -1, "No such account.", NULL);
        return;
    }
    if (!case_ref || !*case_ref || strlen(case_ref) > 200) {
        cb(ud, -1, "A case reference (1 to 200 characters) is required to reveal an identity.",
           NULL);
        return;
    }
    struct reveal_job *j = xcalloc(1, sizeof *j);
    j->account_id = a->id;
    j->cb = cb;
    j->ud = ud;
    char detail[256];
    snprintf(detail, sizeof detail, "case %s", case_ref);
    json_t *o = json_pack("{s:s}", "detail", detail);
    char *body = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    struct netlog_event ev = {.kind = "audit.identity.reveal",
                              .actor = actor,
                              .target = a->name,
                              .account_id = 0,
                              .body = body};
    log_notice("identity: %s reveals the identity of %s (case reference recorded in the log)",
               actor, a->name);
    /* the vault is opened only once the log has the reveal */
    if (netlog_append(&ev, reveal_audited, j) < 0)
        reveal_audited(j, -1, 0);
    free(body);
}
