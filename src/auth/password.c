/*
 * password.c - argon2id hashing and verification on the libuv thread pool.
 *
 * Owns struct password_req, the one allocation per call: the uv_work_t, the
 * caller's callback and user data, the cost parameters, the stored hash
 * (verify) or the produced hash (hash), and a pointer to the password copy
 * in sodium_malloc() memory. The request is created on the loop thread,
 * read and written by exactly one pool thread in work_run(), then freed on
 * the loop thread in work_done(); libuv orders these three steps, so no
 * lock is needed. The contract (callback exactly once, on the loop thread;
 * the password wiped by the worker) is written out in password.h.
 *
 * Why validate the stored hash on the loop thread: crypto_pwhash_str_verify
 * answers -1 both for a wrong password and for a malformed string, and an
 * operator should be told "this account's hash is broken" rather than
 * "wrong password". Decoding the string (password_needs_rehash) costs
 * nothing next to the hash itself.
 */
#include "auth/password.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/alloc.h"

_Static_assert(PASSWORD_HASH_MAX == crypto_pwhash_STRBYTES, "hash string size");

const struct password_params password_params_default = {
    .opslimit = crypto_pwhash_OPSLIMIT_INTERACTIVE,
    .memlimit = crypto_pwhash_MEMLIMIT_INTERACTIVE,
};

const struct password_params password_params_min = {
    .opslimit = crypto_pwhash_OPSLIMIT_MIN,
    .memlimit = crypto_pwhash_MEMLIMIT_MIN,
};

enum password_op {
    PASSWORD_OP_HASH,
    PASSWORD_OP_VERIFY,
};

struct password_req {
    uv_work_t work; /* work.data points back at the request */
    enum password_op op;
    struct password_params params;
    password_hash_cb hash_cb;
    password_verify_cb verify_cb;
    void *ud;
    char *pw; /* sodium_malloc, pw_len bytes (at least 1), wiped by the worker */
    size_t pw_len;
    char hash[PASSWORD_HASH_MAX]; /* in: stored hash (verify); out: new hash */
    int result;                   /* set by the worker */
};

const char *password_result_name(int result)
{
    switch (result) {
    case PASSWORD_OK:
        return "ok";
    case PASSWORD_ERR_EMPTY:
        return "empty-password";
    case PASSWORD_ERR_TOO_LONG:
        return "password-too-long";
    case PASSWORD_ERR_MISMATCH:
        return "mismatch";
    case PASSWORD_ERR_BAD_HASH:
        return "bad-hash";
    case PASSWORD_ERR_NOMEM:
        return "no-memory";
    case PASSWORD_ERR_QUEUE:
        return "queue-failed";
    case PASSWORD_ERR_CANCELED:
        return "canceled";
    case PASSWORD_ERR_CRYPTO:
        return "crypto-init-failed";
    case PASSWORD_ERR_ARG:
        return "bad-argument";
    default:
        return "unknown";
    }
}

static bool params_valid(const struct password_params *p)
{
    return p->opslimit >= crypto_pwhash_OPSLIMIT_MIN && p->opslimit <= crypto_pwhash_OPSLIMIT_MAX &&
           p->memlimit >= crypto_pwhash_MEMLIMIT_MIN && p->memlimit <= crypto_pwhash_MEMLIMIT_MAX;
}

static int check_password(const char *pw, size_t len)
{
    if (pw == NULL)
        return PASSWORD_ERR_ARG;
    if (len < PASSWORD_LEN_MIN)
        return PASSWORD_ERR_EMPTY;
    if (len > PASSWORD_LEN_MAX)
        return PASSWORD_ERR_TOO_LONG;
    return PASSWORD_OK;
}

int password_needs_rehash(const char *stored_hash, const struct password_params *params)
{
    if (params == NULL)
        params = &password_params_default;
    if (stored_hash == NULL || strnlen(stored_hash, PASSWORD_HASH_MAX) >= PASSWORD_HASH_MAX)
        return PASSWORD_ERR_BAD_HASH;
    if (!params_valid(params))
        return PASSWORD_ERR_ARG;
    if (sodium_init() < 0)
        return PASSWORD_ERR_CRYPTO;
    /* libsodium's generic check would also accept argon2i strings; Qun only
     * ever stores argon2id, so anything else is a broken record. */
    if (strncmp(stored_hash, crypto_pwhash_argon2id_STRPREFIX,
                strlen(crypto_pwhash_argon2id_STRPREFIX)) != 0)
        return PASSWORD_ERR_BAD_HASH;
    /* Decodes the string and compares its parameters: -1 malformed,
     * 1 different, 0 equal. */
    int rc = crypto_pwhash_str_needs_rehash(stored_hash, params->opslimit, params->memlimit);
    if (rc < 0)
        return PASSWORD_ERR_BAD_HASH;
    return rc == 0 ? 0 : 1;
}

/* Pool thread. Touches only the request; wipes the password copy. */
static void work_run(uv_work_t *work)
{
    struct password_req *req = work->data;
    int rc;
    if (req->op == PASSWORD_OP_HASH) {
        rc = crypto_pwhash_str(req->hash, req->pw, req->pw_len, req->params.opslimit,
                               req->params.memlimit);
        /* The only failure left after the argument checks is argon2's own
         * memory allocation. */
        req->result = rc == 0 ? PASSWORD_OK : PASSWORD_ERR_NOMEM;
    } else {
        rc = crypto_pwhash_str_verify(req->hash, req->pw, req->pw_len);
        req->result = rc == 0 ? PASSWORD_OK : PASSWORD_ERR_MISMATCH;
    }
    sodium_memzero(req->pw, req->pw_len);
}

/* Loop thread: frees the request first, so a callback that queues a new
 * request or stops the loop finds nothing of this one left. */
static void work_done(uv_work_t *work, int status)
{
    struct password_req *req = work->data;
    int result = status == UV_ECANCELED ? PASSWORD_ERR_CANCELED : req->result;
    char hash[PASSWORD_HASH_MAX];
    enum password_op op = req->op;
    password_hash_cb hash_cb = req->hash_cb;
    password_verify_cb verify_cb = req->verify_cb;
    void *ud = req->ud;

    if (op == PASSWORD_OP_HASH && result == PASSWORD_OK)
        memcpy(hash, req->hash, sizeof hash);
    sodium_free(req->pw); /* wipes again (cancelled work never ran) */
    sodium_memzero(req, sizeof *req);
    free(req);

    if (op == PASSWORD_OP_HASH)
        hash_cb(result, result == PASSWORD_OK ? hash : NULL, ud);
    else
        verify_cb(result, ud);
}

/* Builds a request holding a secure copy of the password, or returns NULL
 * when secure memory cannot be had. */
static struct password_req *req_new(enum password_op op, const char *pw, size_t len, void *ud)
{
    struct password_req *req = xcalloc(1, sizeof *req);
    req->pw = sodium_malloc(len);
    if (req->pw == NULL) {
        free(req);
        return NULL;
    }
    memcpy(req->pw, pw, len);
    req->pw_len = len;
    req->op = op;
    req->ud = ud;
    req->work.data = req;
    return req;
}

static int req_queue(uv_loop_t *loop, struct password_req *req)
{
    if (uv_queue_work(loop, &req->work, work_run, work_done) != 0) {
        sodium_free(req->pw);
        free(req);
        return PASSWORD_ERR_QUEUE;
    }
    return PASSWORD_OK;
}

int password_hash_async_with(uv_loop_t *loop, const struct password_params *params, const char *pw,
                             size_t len, password_hash_cb cb, void *ud)
{
    if (params == NULL)
        params = &password_params_default;
    if (loop == NULL || cb == NULL || !params_valid(params))
        return PASSWORD_ERR_ARG;
    int rc = check_password(pw, len);
    if (rc != PASSWORD_OK)
        return rc;
    if (sodium_init() < 0)
        return PASSWORD_ERR_CRYPTO;
    struct password_req *req = req_new(PASSWORD_OP_HASH, pw, len, ud);
    if (req == NULL)
        return PASSWORD_ERR_NOMEM;
    req->params = *params;
    req->hash_cb = cb;
    return req_queue(loop, req);
}

int password_hash_async(uv_loop_t *loop, const char *pw, size_t len, password_hash_cb cb, void *ud)
{
    return password_hash_async_with(loop, NULL, pw, len, cb, ud);
}

int password_verify_async(uv_loop_t *loop, const char *stored_hash, const char *pw, size_t len,
                          password_verify_cb cb, void *ud)
{
    if (loop == NULL || cb == NULL || stored_hash == NULL)
        return PASSWORD_ERR_ARG;
    int rc = check_password(pw, len);
    if (rc != PASSWORD_OK)
        return rc;
    if (sodium_init() < 0)
        return PASSWORD_ERR_CRYPTO;
    /* Any valid parameters will do: only the decoding matters here. */
    if (password_needs_rehash(stored_hash, &password_params_min) < 0)
        return PASSWORD_ERR_BAD_HASH;
    struct password_req *req = req_new(PASSWORD_OP_VERIFY, pw, len, ud);
    if (req == NULL)
        return PASSWORD_ERR_NOMEM;
    /* Fits: password_needs_rehash refused anything of PASSWORD_HASH_MAX or more. */
    memcpy(req->hash, stored_hash, strlen(stored_hash) + 1);
    req->verify_cb = cb;
    return req_queue(loop, req);
}
