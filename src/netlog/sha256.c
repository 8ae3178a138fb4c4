/*
 * sha256.c - per-thread OpenSSL SHA-256 contexts (see sha256.h).
 *
 * Each thread's context is created on first use and freed when the thread
 * exits (a pthread key destructor), so worker threads that come and go do
 * not leak one.
 */
#include "netlog/sha256.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>

struct sha256_ctx {
    EVP_MD_CTX *md_ctx;
};

static pthread_once_t sha256_once = PTHREAD_ONCE_INIT;
static pthread_key_t sha256_key;
static EVP_MD *sha256_md; /* fetched once, for the process's lifetime */

static void sha256_ctx_free(void *p)
{
    struct sha256_ctx *c = p;
    EVP_MD_CTX_free(c->md_ctx);
    free(c);
}

static void sha256_init_once(void)
{
    sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
    if (!sha256_md || pthread_key_create(&sha256_key, sha256_ctx_free) != 0)
        abort();
}

struct sha256_ctx *sha256_begin(void)
{
    pthread_once(&sha256_once, sha256_init_once);
    struct sha256_ctx *c = pthread_getspecific(sha256_key);
    if (!c) {
        c = malloc(sizeof *c);
        if (!c || !(c->md_ctx = EVP_MD_CTX_new()))
            abort();
        pthread_setspecific(sha256_key, c);
    }
    if (EVP_DigestInit_ex2(c->md_ctx, sha256_md, NULL) != 1)
        abort();
    return c;
}

void sha256_update(struct sha256_ctx *c, const void *data, size_t len)
{
    EVP_DigestUpdate(c->md_ctx, data, len);
}

void sha256_finish(struct sha256_ctx *c, uint8_t out[32])
{
    unsigned int n = 32;
    EVP_DigestFinal_ex(c->md_ctx, out, &n);
}
