/*
 * account.h - the account directory: registered accounts, their
 * credentials and identity level, kept in memory and persisted in the store.
 *
 * Domain code: it knows nothing of IRC. The IRC faces (REGISTER/VERIFY,
 * SASL, NickServ) and qunctl's handlers call these functions; see
 * docs/internals/accounts.md.
 *
 * Memory and the store. Every account is loaded at start-up
 * (account_directory_load) and looked up in memory afterwards (by folded
 * name and by certificate fingerprint), so NICK and SASL never wait for the
 * disk. A change is applied to the in-memory record and written through the
 * store's writer thread; the caller's callback runs after the write is
 * durable, so a user is told "done" only for what survives a crash.
 * Sealed identity fields (vault) never live in memory: they are written
 * to the store and read back only for a reveal.
 *
 * Life of an account object:
 *
 *   account_register() -> [RESERVED: in the name map, id 0, no logins]
 *        | argon2id + SCRAM derivation on the pool, INSERT committed
 *        v
 *   [ACTIVE: id > 0] --account_drop()--> [DROPPED: out of the maps]
 *        ^  failure: removed from the map          | last account_unref()
 *                                                  v
 *                                               freed
 *
 * Invariants:
 *   1. A name (folded with casemap_fold) maps to at most one account, and a
 *      certificate fingerprint to at most one account.
 *   2. Holders of a struct account * across callbacks take a reference
 *      (account_ref/account_unref); a dropped account stays valid, with
 *      `dropped` set, until its last reference goes.
 *   3. Password checks run on the thread pool and compare in constant time
 *      (libsodium); an unknown account costs the same argon2id work as a
 *      known one, so timing does not tell which names exist.
 *   4. Failed logins are counted per account and per source address; when
 *      either is over accounts.login_failures in accounts.login_window
 *      seconds, further attempts are refused without checking the password.
 *   5. Passwords, hashes and sealed fields are never logged.
 *
 * Threads: loop thread only; callbacks run on the loop thread.
 */
#ifndef QUN_ACCOUNT_ACCOUNT_H
#define QUN_ACCOUNT_ACCOUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "auth/scram.h"
#include "vault/vault.h"

struct store;
struct qun_config;

#define ACCOUNT_NAME_MAX   64
#define ACCOUNT_CERTFP_MAX 128 /* hex SHA-256 is 64 */

enum account_status {
    ACCOUNT_OK = 0,
    ACCOUNT_ERR_EXISTS = -1,        /* name registered (or being registered) */
    ACCOUNT_ERR_BAD_NAME = -2,      /* not a valid nickname */
    ACCOUNT_ERR_WEAK_PASSWORD = -3, /* too short or too long */
    ACCOUNT_ERR_CREDENTIALS = -4,   /* unknown account or wrong password */
    ACCOUNT_ERR_THROTTLED = -5,     /* too many failures; try later */
    ACCOUNT_ERR_SUSPENDED = -6,     /* suspended by a moderator */
    ACCOUNT_ERR_STORE = -7,         /* the store refused or failed */
    ACCOUNT_ERR_DISABLED = -8,      /* registration is closed */
    ACCOUNT_ERR_NOT_FOUND = -9,
    ACCOUNT_ERR_LIMIT = -10,    /* e.g. too many certificate fingerprints */
    ACCOUNT_ERR_BUSY = -11,     /* the account is still being created */
    ACCOUNT_ERR_INTERNAL = -12, /* hashing or queueing failed */
};

struct account {
    int64_t id; /* 0 while RESERVED */
    char *name;
    char *name_folded;
    char *password_hash; /* argon2id string; NULL while RESERVED */
    struct scram_credentials scram;
    char **certfps; /* lower-case hex; ncertfps of them */
    size_t ncertfps;
    int level; /* 0 registered, 1 phone verified, 2 real identity verified */
    bool has_identity_hash;
    uint8_t identity_hash[VAULT_HASH_BYTES];
    bool identity_pending;  /* a level-2 request waits for a moderator */
    bool identity_checking; /* a provider is checking a submission (verify.c) */
    int credit_delta;       /* sum of credit events (credit/credit.c) */
    int groups_owned;       /* live groups this account owns (irc/group.c) */
    int groups_joined;      /* groups it is a member of */
    bool suspended;
    char *suspend_reason;
    int convention_version; /* 0: never accepted */
    int64_t convention_at;
    int64_t created_at;
    bool dropped;
    unsigned refs;       /* the directory holds one while not dropped */
    unsigned online;     /* sessions logged in (kept by the IRC layer) */
    void *phone_pending; /* identity/verify.c: a code in flight */
    /* credit/credit.c, derived from the ledger at start-up and kept after
     * each committed event: the time of the last violation (a negative
     * event not offset by an upheld appeal; 0: none), of the last recovery
     * event, recovery events in flight, and the message-rate bucket
     * (1/10,000 of a message, refilled at the level's rate). */
    int64_t credit_violation_at;
    int64_t credit_recovery_at;
    int credit_pending;
    int credit_tokens;
    uint64_t credit_tokens_ms;
};

/* Completion of an asynchronous account operation; a is NULL on failure
 * except where noted. */
typedef void (*account_cb)(void *ud, int status, struct account *a);

/* Start-up: loads every account (and fingerprints) from the store, running
 * the loop until done; returns 0 or -1 with a sentence in err. */
int account_directory_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen);
/* Shutdown: stop writing (the store is about to close). */
void account_directory_detach_store(void);
/* Shutdown: forgets every account (references still held become dangling:
 * call after every client is gone). */
void account_directory_free(void);
/* Number of accounts and a way to walk them (qunctl). */
size_t account_count(void);
void account_foreach(void (*fn)(struct account *a, void *ud), void *ud);

struct account *account_find(const char *name); /* any case; NULL if none or dropped */
struct account *account_find_id(int64_t id);
struct account *account_find_certfp(const char *fp);
void account_ref(struct account *a);
void account_unref(struct account *a);

/* Checks a wanted account name (nickname rules); ACCOUNT_OK or BAD_NAME. */
int account_name_check(const char *name);
const char *account_status_sentence(int status);

/*
 * Registers name with password[0..len). Returns ACCOUNT_OK when queued (cb
 * follows once with the new account, already durable) or an error at once
 * (cb never called): BAD_NAME, EXISTS, WEAK_PASSWORD, DISABLED, INTERNAL.
 */
int account_register(const char *name, const char *password, size_t len, account_cb cb, void *ud);

/*
 * Checks name/password. ip is the source address for throttling. cb gets
 * ACCOUNT_OK with the account, or CREDENTIALS / THROTTLED / SUSPENDED.
 * Returns ACCOUNT_OK when queued, or THROTTLED / INTERNAL at once.
 */
int account_login_password(const char *name, const char *password, size_t len, const char *ip,
                           account_cb cb, void *ud);
/* Throttling for mechanisms that check credentials elsewhere (SCRAM,
 * EXTERNAL): ok to try now?; record a failure; record a success (clears
 * the account's failures). */
bool account_login_allowed(const char *name, const char *ip, int64_t *retry_after);
void account_login_failed(const char *name, const char *ip);
void account_login_succeeded(struct account *a);

/* Changes: applied in memory at once, cb after the store commits. */
int account_set_password(struct account *a, const char *password, size_t len, account_cb cb,
                         void *ud);
int account_drop(struct account *a, const char *actor, account_cb cb, void *ud);
int account_cert_add(struct account *a, const char *fp, account_cb cb, void *ud);
int account_cert_del(struct account *a, const char *fp, account_cb cb, void *ud);
int account_set_suspended(struct account *a, bool suspended, const char *reason, const char *actor,
                          account_cb cb, void *ud);
int account_accept_convention(struct account *a, int version, account_cb cb, void *ud);
/* Level changes come from identity/verify.c (after the store write). */
void account_set_level(struct account *a, int level);

/* An append-only audit record (the network log absorbs these later). */
void account_audit(const char *actor, const char *action, const char *target, const char *detail);

/* One login or logout, as SPEC §4 and the issue require. */
struct account_session {
    const char *event;     /* "login" or "logout" */
    const char *mechanism; /* "PLAIN", "SCRAM-SHA-256", "EXTERNAL", "REGISTER", "NickServ" */
    const char *ip;
    int port;
    const char *tls_version; /* NULL on plain connections */
    const char *tls_cipher;
    const char *certfp;
};
void account_session_record(struct account *a, const struct account_session *s);

/* Called on the loop after a change other users may need to see (level,
 * suspension, drop). The IRC layer sets it. */
extern void (*account_changed_hook)(struct account *a, const char *what);

#endif
