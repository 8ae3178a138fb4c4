/*
 * sha256.c - thread-local OpenSSL SHA-256 contexts (see sha256.h).
 */
#include "netlog/sha256.h"

#include <openssl/evp.h>
#include <stdlib.h>

struct sha256_ctx {
    EVP_MD_CTX *md_ctx;
};

static _Thread_local struct sha256_ctx tls_ctx;
static EVP_MD *sha256_md; /* fetched once; never freed (process lifetime) */

struct sha256_ctx *sha256_begin(void)
{
    if (!tls_ctx.md_ctx) {
        if (!sha256_md)
            sha256_md = EVP_MD_fetch(NULL, "SHA256", NULL);
        tls_ctx.md_ctx = EVP_MD_CTX_new();
        if (!sha256_md || !tls_ctx.md_ctx)
            abort();
    }
    if (EVP_DigestInit_ex2(tls_ctx.md_ctx, sha256_md, NULL) != 1)
        abort();
    return &tls_ctx;
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
