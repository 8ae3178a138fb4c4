/*
 * password.h - argon2id password hashing and checking on the libuv thread
 * pool (SPEC §4, issue 3 item 2: "the loop never blocks on password
 * hashing").
 *
 * argon2id costs tens of milliseconds and tens of MiB per call on purpose,
 * so it must never run on the loop thread. Both entry points copy what the
 * worker needs into a request of their own, queue it with uv_queue_work()
 * and return at once; the result comes back through a callback on the loop
 * thread. The string that is stored per account is libsodium's
 * crypto_pwhash_str() output: "$argon2id$v=19$m=...,t=...,p=1$salt$hash",
 * NUL-terminated ASCII, salt and cost parameters included, so it can be
 * checked later even if the defaults change (password_needs_rehash() says
 * when to replace it after a successful login).
 *
 * Life of one request:
 *
 *   password_*_async()  --queued-->  [WORKER: crypto_pwhash_str*]  -->  [AFTER]
 *     | loop thread                    pool thread; wipes the          loop thread: frees the
 *     | bad length / hash / no memory  password copy as soon as       request, calls cb once
 *     v                                it is used
 *   error returned, cb never called
 *
 * Invariants:
 *   1. A call that returns PASSWORD_OK calls its callback exactly once, on
 *      the loop thread, from the loop's uv_run(); a call that returns an
 *      error never calls it. If the work is cancelled before it starts the
 *      callback gets PASSWORD_ERR_CANCELED.
 *   2. The worker's copy of the password lives in sodium_malloc() memory
 *      (guard pages, locked where the system allows) and is wiped before
 *      the worker returns; the caller's buffer is only read during the call
 *      and may be wiped by the caller straight after.
 *   3. Passwords are 1..PASSWORD_LEN_MAX bytes, taken as given (raw bytes,
 *      NUL allowed; the same bytes as the SCRAM derivation uses).
 *   4. No result, error name or log line carries password bytes; a hash
 *      string is not secret but is not logged either.
 *   5. The module has no global state besides sodium_init(): requests on
 *      several loops or threads at once are fine.
 */
#ifndef QUN_AUTH_PASSWORD_H
#define QUN_AUTH_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>
#include <uv.h>

#define PASSWORD_LEN_MIN  1
#define PASSWORD_LEN_MAX  512 /* bytes; SASL PLAIN allows more, the account rule does not */
#define PASSWORD_HASH_MAX 128 /* crypto_pwhash_STRBYTES, the terminating NUL included */

enum password_result {
    PASSWORD_OK = 0,
    PASSWORD_ERR_EMPTY = -1,    /* password of 0 bytes */
    PASSWORD_ERR_TOO_LONG = -2, /* password over PASSWORD_LEN_MAX bytes */
    PASSWORD_ERR_MISMATCH = -3, /* verify: the password does not match the hash */
    PASSWORD_ERR_BAD_HASH = -4, /* stored string is not a well-formed argon2id hash */
    PASSWORD_ERR_NOMEM = -5,    /* secure memory or argon2 memory could not be had */
    PASSWORD_ERR_QUEUE = -6,    /* uv_queue_work() refused the request */
    PASSWORD_ERR_CANCELED = -7, /* the work was cancelled before it ran */
    PASSWORD_ERR_CRYPTO = -8,   /* sodium_init() failed */
    PASSWORD_ERR_ARG = -9,      /* NULL loop, callback, password or hash; bad params */
};

/* A fixed lower-case name for logs, e.g. "mismatch". Never holds secrets. */
const char *password_result_name(int result);

/*
 * argon2id cost. Production uses password_params_default (libsodium's
 * OPSLIMIT_INTERACTIVE and MEMLIMIT_INTERACTIVE: 2 passes over 64 MiB);
 * tests use password_params_min (libsodium's minimum) to stay fast. Values
 * outside libsodium's accepted range give PASSWORD_ERR_ARG.
 */
struct password_params {
    unsigned long long opslimit;
    size_t memlimit;
};

extern const struct password_params password_params_default;
extern const struct password_params password_params_min;

/*
 * result is PASSWORD_OK with hash a NUL-terminated argon2id string (valid
 * only during the call: copy it), or an error with hash NULL.
 */
typedef void (*password_hash_cb)(int result, const char *hash, void *ud);
/* result is PASSWORD_OK (match), PASSWORD_ERR_MISMATCH or another error. */
typedef void (*password_verify_cb)(int result, void *ud);

/*
 * Hashes pw[0..len) with the default parameters on the loop's thread pool.
 * Returns PASSWORD_OK when queued (cb follows once, on the loop thread) or
 * an error (cb is never called): EMPTY, TOO_LONG, ARG, NOMEM, QUEUE, CRYPTO.
 */
int password_hash_async(uv_loop_t *loop, const char *pw, size_t len, password_hash_cb cb, void *ud);
/* Same with explicit parameters (params is copied; it may be NULL for the
 * defaults). */
int password_hash_async_with(uv_loop_t *loop, const struct password_params *params, const char *pw,
                             size_t len, password_hash_cb cb, void *ud);

/*
 * Checks pw[0..len) against stored_hash (a NUL-terminated string from
 * password_hash_async) on the thread pool; the comparison inside libsodium
 * is constant-time. The stored string is checked and copied before this
 * returns: a string that is not a well-formed argon2id hash gives
 * PASSWORD_ERR_BAD_HASH at once. Same contract as password_hash_async.
 */
int password_verify_async(uv_loop_t *loop, const char *stored_hash, const char *pw, size_t len,
                          password_verify_cb cb, void *ud);

/*
 * Cheap (no hashing; fine on the loop): 1 when stored_hash was made with
 * parameters other than params (NULL: the defaults) and should be replaced
 * by a fresh hash of the password the user just proved; 0 when it is
 * current; PASSWORD_ERR_BAD_HASH when it is not a well-formed argon2id hash
 * (argon2i strings included); PASSWORD_ERR_ARG for out-of-range params.
 */
int password_needs_rehash(const char *stored_hash, const struct password_params *params);

#endif
