/*
 * tls.c - TLS contexts and per-connection TLS server sessions (OpenSSL 3).
 *
 * Owns struct tls_ctx (an SSL_CTX with a reference count) and struct
 * tls_session (an SSL over two memory BIOs). The session never touches a
 * socket: conn.c feeds it ciphertext read from the socket
 * (tls__session_input), takes plaintext out (tls__session_read) into the
 * shared read buffer, gives it plaintext to encrypt (tls__session_write) and
 * writes whatever ciphertext it produced (tls__session_output) to the
 * socket. This keeps all I/O in libuv and makes the session testable.
 *
 * Policy: TLS 1.2 minimum; the client is asked for a certificate but not
 * required to send one, and any certificate is accepted (it is not a proof
 * of anything by itself: SASL EXTERNAL compares its SHA-256 fingerprint
 * with the one an account registered). Client-initiated renegotiation is
 * refused. SSL_MODE_RELEASE_BUFFERS frees OpenSSL's record buffers while a
 * connection is idle.
 *
 * Session state diagram (function performing each transition):
 *
 *   HANDSHAKE --SSL_do_handshake()==1 [tls__session_handshake]--> OPEN
 *      |  \--needs more input: stays HANDSHAKE (TLS_AGAIN)
 *      \--fatal error [tls__session_handshake] --> FAILED
 *   OPEN --close_notify received [tls__session_read: TLS_EOF]--> CLOSED
 *   OPEN --fatal record error [tls__session_read/write]--> FAILED
 *   OPEN --we close [tls__session_close_notify]--> CLOSED
 *
 * conn.c reacts: FAILED during HANDSHAKE closes the socket without on_accept;
 * OPEN calls on_accept after copying the certificate fingerprint.
 *
 * Invariants:
 *   1. Plaintext is read and written only in OPEN.
 *   2. The OpenSSL error queue is empty after every function here returns,
 *      so one connection's error never shows up as another's.
 *   3. Error texts never contain key material (only OpenSSL reason strings
 *      and file names).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "net/conn.h"
#include "net/net_internal.h"
#include "util/alloc.h"
#include "util/log.h"

struct tls_ctx {
    uint32_t refs;
    SSL_CTX *ssl_ctx;
};

enum tls_state { TLS_STATE_HANDSHAKE, TLS_STATE_OPEN, TLS_STATE_CLOSED, TLS_STATE_FAILED };

struct tls_session {
    SSL *ssl;
    BIO *rbio; /* ciphertext from the peer; owned by ssl */
    BIO *wbio; /* ciphertext to the peer; owned by ssl */
    enum tls_state state;
    char error[160]; /* OpenSSL's reason for the failure, "" if none */
};

/* ---- contexts ----------------------------------------------------------- */

static int tls_verify_accept_any(int preverify_ok, X509_STORE_CTX *store)
{
    (void)preverify_ok;
    (void)store;
    return 1; /* the certificate is an identifier for SASL EXTERNAL, not a proof */
}

static void tls_error_text(char *err, size_t errlen, const char *what, const char *file)
{
    char reason[160] = "unknown error";
    unsigned long e = ERR_peek_last_error();
    if (e)
        ERR_error_string_n(e, reason, sizeof(reason));
    snprintf(err, errlen, "%s %s: %s", what, file, reason);
    ERR_clear_error();
}

/* The TLS 1.2 suites offered: Mozilla's "intermediate" list without DHE
 * (no DH parameters to manage). */
#define TLS_CIPHERS_12                                                                             \
    "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"     \
    "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

struct tls_ctx *tls_ctx_load(const char *cert_file, const char *key_file, char *err, size_t errlen)
{
    static const unsigned char sid_ctx[] = "qund";
    SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

    if (!ctx) {
        tls_error_text(err, errlen, "cannot create a TLS context for", cert_file);
        return NULL;
    }
    /* TLS 1.2 at least; for 1.2 only ECDHE key exchange (forward secrecy)
     * with AEAD ciphers - no RSA key transport, CBC, RC4, 3DES, NULL,
     * EXPORT or anonymous suites, whatever the system's OpenSSL default
     * list allows. TLS 1.3 suites are all AEAD with (EC)DHE already. The
     * same context serves the IRC, web and console listeners;
     * tests/integration/test_security.py checks each with s_client. */
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_NO_COMPRESSION);
    if (SSL_CTX_set_cipher_list(ctx, TLS_CIPHERS_12) != 1) {
        tls_error_text(err, errlen, "cannot set the TLS 1.2 cipher list for", cert_file);
        goto fail;
    }
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
    /* No server-side session cache: it would keep up to 20,480 sessions
     * (about 1 KiB each) alive after their connections are gone. Resumption
     * still works through stateless tickets. */
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_CLIENT_ONCE, tls_verify_accept_any);
    /* Needed for session resumption once a client certificate is requested. */
    SSL_CTX_set_session_id_context(ctx, sid_ctx, sizeof(sid_ctx) - 1);
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1) {
        tls_error_text(err, errlen, "cannot load certificate chain from", cert_file);
        goto fail;
    }
    if (SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1) {
        tls_error_text(err, errlen, "cannot load private key from", key_file);
        goto fail;
    }
    if (SSL_CTX_check_private_key(ctx) != 1) {
        tls_error_text(err, errlen, "private key does not match certificate in", cert_file);
        goto fail;
    }
    struct tls_ctx *t = xmalloc(sizeof(*t));
    t->refs = 1;
    t->ssl_ctx = ctx;
    return t;
fail:
    SSL_CTX_free(ctx);
    return NULL;
}

void tls_ctx_ref(struct tls_ctx *t)
{
    t->refs++;
}

void tls_ctx_unref(struct tls_ctx *t)
{
    if (t && --t->refs == 0) {
        SSL_CTX_free(t->ssl_ctx); /* live SSL objects keep their own reference */
        free(t);
    }
}

/* ---- sessions ----------------------------------------------------------- */

struct tls_session *tls__session_new(struct tls_ctx *t)
{
    struct tls_session *s = xcalloc(1, sizeof(*s));

    s->ssl = SSL_new(t->ssl_ctx);
    s->rbio = BIO_new(BIO_s_mem());
    s->wbio = BIO_new(BIO_s_mem());
    if (!s->ssl || !s->rbio || !s->wbio) {
        fprintf(stderr, "qun: out of memory creating a TLS session\n");
        abort(); /* same policy as util/alloc.h */
    }
    /* An empty input BIO means "wait for more", not end of stream. */
    BIO_set_mem_eof_return(s->rbio, -1);
    BIO_set_mem_eof_return(s->wbio, -1);
    SSL_set_bio(s->ssl, s->rbio, s->wbio);
    SSL_set_accept_state(s->ssl);
    s->state = TLS_STATE_HANDSHAKE;
    return s;
}

void tls__session_free(struct tls_session *s)
{
    SSL_free(s->ssl); /* frees both BIOs */
    free(s);
}

void tls__session_input(struct tls_session *s, const char *data, size_t len)
{
    /* A memory BIO grows to take everything; the amount is bounded by one
     * socket read because conn.c stops reading while a connection is paused. */
    if (BIO_write(s->rbio, data, (int)len) != (int)len) {
        fprintf(stderr, "qun: out of memory buffering TLS input\n");
        abort();
    }
}

/* Maps a failed SSL call to a result; logs and clears the error queue. */
static enum tls_result tls_session_error(struct tls_session *s, int ret, const char *op)
{
    int e = SSL_get_error(s->ssl, ret);

    if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return TLS_AGAIN;
    }
    if (e == SSL_ERROR_ZERO_RETURN) {
        s->state = TLS_STATE_CLOSED;
        ERR_clear_error();
        return TLS_EOF;
    }
    unsigned long code = ERR_peek_last_error();
    if (code) {
        ERR_error_string_n(code, s->error, sizeof(s->error));
        log_debug("net: TLS %s failed: %s", op, s->error);
    } else {
        snprintf(s->error, sizeof(s->error), "%s", e == SSL_ERROR_SYSCALL ? "I/O error" : "failed");
    }
    s->state = TLS_STATE_FAILED;
    ERR_clear_error();
    return TLS_FAIL;
}

enum tls_result tls__session_handshake(struct tls_session *s)
{
    if (s->state != TLS_STATE_HANDSHAKE)
        return s->state == TLS_STATE_OPEN ? TLS_OK : TLS_FAIL;
    ERR_clear_error();
    int r = SSL_do_handshake(s->ssl);
    if (r == 1) {
        s->state = TLS_STATE_OPEN;
        return TLS_OK;
    }
    return tls_session_error(s, r, "handshake");
}

const char *tls__session_error(const struct tls_session *s)
{
    return s->error[0] ? s->error : "unknown error";
}

bool tls__session_is_open(const struct tls_session *s)
{
    return s->state == TLS_STATE_OPEN;
}

long tls__session_read(struct tls_session *s, char *buf, size_t cap)
{
    if (s->state != TLS_STATE_OPEN)
        return s->state == TLS_STATE_CLOSED ? TLS_EOF : TLS_FAIL;
    ERR_clear_error();
    int n = SSL_read(s->ssl, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    if (n > 0)
        return n;
    return tls_session_error(s, n, "read");
}

enum tls_result tls__session_write(struct tls_session *s, const char *data, size_t len)
{
    if (s->state != TLS_STATE_OPEN)
        return TLS_FAIL;
    ERR_clear_error();
    /* Into a memory BIO SSL_write completes in full or fails. */
    int n = SSL_write(s->ssl, data, (int)len);
    if (n == (int)len)
        return TLS_OK;
    tls_session_error(s, n, "write");
    return TLS_FAIL;
}

size_t tls__session_output(struct tls_session *s, char *buf, size_t cap)
{
    if (BIO_ctrl_pending(s->wbio) == 0)
        return 0;
    int n = BIO_read(s->wbio, buf, cap > INT32_MAX ? INT32_MAX : (int)cap);
    return n > 0 ? (size_t)n : 0;
}

bool tls__session_close_notify(struct tls_session *s)
{
    if (s->state != TLS_STATE_OPEN)
        return false;
    ERR_clear_error();
    SSL_shutdown(s->ssl); /* sends close_notify; we do not wait for the peer's */
    ERR_clear_error();
    s->state = TLS_STATE_CLOSED;
    return true;
}

void tls__session_certfp(struct tls_session *s, char out[65])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    X509 *cert = SSL_get1_peer_certificate(s->ssl);

    out[0] = '\0';
    if (!cert)
        return;
    if (X509_digest(cert, EVP_sha256(), md, &mdlen) == 1 && mdlen == 32) {
        for (unsigned i = 0; i < mdlen; i++) {
            out[2 * i] = hex[md[i] >> 4];
            out[2 * i + 1] = hex[md[i] & 15];
        }
        out[64] = '\0';
    }
    X509_free(cert);
    ERR_clear_error();
}

void tls__session_describe(const struct tls_session *s, const char **version, const char **cipher)
{
    *version = SSL_get_version(s->ssl);
    *cipher = SSL_get_cipher_name(s->ssl);
}
