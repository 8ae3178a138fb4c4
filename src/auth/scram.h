/*
 * scram.h - SCRAM-SHA-256 (RFC 5802, RFC 7677), sans-IO.
 *
 * The server side is a state machine that takes the decoded payloads of
 * AUTHENTICATE (see sasl.h for the chunking) and gives the payloads to send
 * back; it never touches a socket, the store or the clock, and it never
 * sees a password. What the store keeps per account is struct
 * scram_credentials: salt, iteration count, StoredKey and ServerKey, made
 * once from the password by scram_credentials_derive().
 *
 * Server state diagram (each arrow names the function that performs it):
 *
 *   [INIT] --scram_server_recv_first()--> [LOOKUP] --scram_server_start()--> [CHALLENGED]
 *     |                                      |                                    |
 *     | malformed client-first               | bad stored credentials             |
 *     v                                      v                                    |
 *   [FAILED] <--------------------------------------------------------------------+
 *      ^                      scram_server_recv_final(): bad c=/r=/p=, wrong proof |
 *      |                                                                          v
 *      +------- any call in a state not shown above (SCRAM_ERR_STATE)       [SUCCEEDED]
 *
 *   INIT        nothing received yet.
 *   LOOKUP      client-first-message parsed: the caller reads
 *               scram_server_username() and looks the account up (possibly
 *               asynchronously, the machine simply waits).
 *   CHALLENGED  server-first-message produced (scram_server_output()).
 *   SUCCEEDED   proof verified; output is the server-final-message "v=...";
 *               the account is scram_server_username().
 *   FAILED      terminal; output is "e=<error>" (RFC 5802 server-error),
 *               which the caller may send before its 904 numeric.
 *
 * Invariants:
 *   1. A password, SaltedPassword, ClientKey or proof never leaves this
 *      module, is never logged, and every temporary holding one is wiped
 *      (sodium_memzero) before the function returns. Error outputs are fixed
 *      strings; they never echo client bytes.
 *   2. The proof is checked by comparing H(ClientKey) with StoredKey in
 *      constant time (CRYPTO_memcmp); an unknown user is answered with a
 *      fake but stable salt and the same "e=invalid-proof" as a wrong
 *      password, after the same amount of work.
 *   3. Every client message is capped at SCRAM_MSG_MAX bytes; all state
 *      lives in the caller-owned struct (no allocation).
 *   4. Channel binding is not offered (no SCRAM-SHA-256-PLUS): gs2 flag "p="
 *      fails with channel-binding-not-supported; "y" is accepted. If PLUS is
 *      ever advertised, "y" must fail with server-does-support-channel-binding.
 */
#ifndef QUN_AUTH_SCRAM_H
#define QUN_AUTH_SCRAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SCRAM_KEY_LEN      32 /* SHA-256 output */
#define SCRAM_SALT_LEN     16 /* salt made by scram_credentials_new() */
#define SCRAM_SALT_MAX     64
#define SCRAM_ITER_MIN     4096 /* RFC 7677 section 4 */
#define SCRAM_ITER_DEFAULT 4096
#define SCRAM_ITER_MAX     1000000
#define SCRAM_NAME_MAX     255 /* decoded username/authzid, bytes */
#define SCRAM_NONCE_MAX    255 /* each half of the nonce */
#define SCRAM_SNONCE_BYTES 18  /* random bytes in a server nonce */
#define SCRAM_MSG_MAX      2048
#define SCRAM_OUT_MAX      1024

/*
 * Results. Each error has a wire value for "e=" (scram_error_wire()) and a
 * log name (scram_error_name()); they differ only where the wire must hide
 * something (an unknown user is reported as invalid-proof).
 */
enum scram_error {
    SCRAM_OK = 0,
    SCRAM_ERR_ENCODING = -1,       /* invalid-encoding */
    SCRAM_ERR_EXTENSIONS = -2,     /* extensions-not-supported ("m=") */
    SCRAM_ERR_PROOF = -3,          /* invalid-proof */
    SCRAM_ERR_CB_MISMATCH = -4,    /* channel-bindings-dont-match */
    SCRAM_ERR_CB_UNSUPPORTED = -5, /* channel-binding-not-supported ("p=") */
    SCRAM_ERR_USERNAME = -6,       /* invalid-username-encoding */
    SCRAM_ERR_UNKNOWN_USER = -7,   /* wire: invalid-proof */
    SCRAM_ERR_AUTHZID = -8,        /* authzid differs from username; other-error */
    SCRAM_ERR_NONCE = -9,          /* r= does not match; other-error */
    SCRAM_ERR_TOO_LONG = -10,      /* message over SCRAM_MSG_MAX; invalid-encoding */
    SCRAM_ERR_STATE = -11,         /* call not allowed in this state; other-error */
    SCRAM_ERR_PARAM = -12,         /* bad argument (iterations, salt); other-error */
    SCRAM_ERR_SERVER = -13,        /* client side: server signature wrong or e= */
};

/* The value after "e=" for this error, e.g. "invalid-proof". */
const char *scram_error_wire(int err);
/* A fixed name for logs, e.g. "unknown-user". Never contains secrets. */
const char *scram_error_name(int err);

/* What the store keeps for one account. No password, nothing reversible. */
struct scram_credentials {
    uint8_t salt[SCRAM_SALT_MAX];
    size_t salt_len;
    uint32_t iterations;
    uint8_t stored_key[SCRAM_KEY_LEN];
    uint8_t server_key[SCRAM_KEY_LEN];
};

/*
 * Derives StoredKey and ServerKey from password[0..password_len) with
 * PBKDF2-HMAC-SHA-256. salt_len must be 1..SCRAM_SALT_MAX and iterations
 * SCRAM_ITER_MIN..SCRAM_ITER_MAX, else SCRAM_ERR_PARAM. The password is
 * used as given: the caller applies its own normalisation first (Qun uses
 * the raw UTF-8 bytes on both the PLAIN and SCRAM paths).
 */
int scram_credentials_derive(const char *password, size_t password_len, const uint8_t *salt,
                             size_t salt_len, uint32_t iterations, struct scram_credentials *out);
/* Same with a fresh random SCRAM_SALT_LEN-byte salt (libsodium RNG). */
int scram_credentials_new(const char *password, size_t password_len, uint32_t iterations,
                          struct scram_credentials *out);

enum scram_server_state {
    SCRAM_SERVER_INIT,
    SCRAM_SERVER_LOOKUP,
    SCRAM_SERVER_CHALLENGED,
    SCRAM_SERVER_SUCCEEDED,
    SCRAM_SERVER_FAILED,
};

/* Result of the account lookup the caller performs in state LOOKUP. */
struct scram_lookup {
    /* The account's credentials, or NULL when there is no such account or
     * it has no SCRAM credentials. Copied; need not outlive the call. */
    const struct scram_credentials *cred;
    /* SCRAM_KEY_LEN bytes of a per-server secret, used only when cred is
     * NULL to derive a fake salt that is stable per username (so probing
     * cannot tell unknown users by a changing salt). NULL: random salt. */
    const uint8_t *mock_key;
};

struct scram_server {
    enum scram_server_state state;
    int error; /* the error that led to FAILED, else 0 */
    bool unknown_user;
    char username[SCRAM_NAME_MAX + 1]; /* decoded n= */
    char authzid[SCRAM_NAME_MAX + 1];  /* decoded a=, "" when absent */
    char msg1[SCRAM_MSG_MAX + 1];      /* client-first-message as received */
    size_t msg1_len;
    size_t gs2_len;    /* gs2 header = msg1[0..gs2_len), the bare message follows */
    size_t cnonce_off; /* client nonce = msg1[cnonce_off..+cnonce_len) */
    size_t cnonce_len;
    char server_first[SCRAM_OUT_MAX];
    size_t server_first_len;
    size_t nonce_len; /* combined nonce, at server_first + 2 */
    struct scram_credentials cred;
    char out[SCRAM_OUT_MAX];
    size_t out_len;
};

/* Starts a fresh exchange. */
void scram_server_init(struct scram_server *s);
/* Wipes every key and message; s may be reused after scram_server_init(). */
void scram_server_clear(struct scram_server *s);

/*
 * Parses the client-first-message msg[0..len). INIT -> LOOKUP on SCRAM_OK;
 * otherwise -> FAILED with the error returned and "e=..." as output.
 */
int scram_server_recv_first(struct scram_server *s, const char *msg, size_t len);
/* The decoded username (valid from LOOKUP on), NUL-terminated. */
const char *scram_server_username(const struct scram_server *s);
/*
 * Produces the server-first-message from the lookup. server_nonce is NULL
 * in production (SCRAM_SNONCE_BYTES random bytes, base64) and a printable
 * string without ',' in tests that replay a known exchange. LOOKUP ->
 * CHALLENGED on SCRAM_OK.
 */
int scram_server_start(struct scram_server *s, const struct scram_lookup *lookup,
                       const char *server_nonce);
/*
 * Verifies the client-final-message. CHALLENGED -> SUCCEEDED ("v=...") on
 * SCRAM_OK, else -> FAILED ("e=...").
 */
int scram_server_recv_final(struct scram_server *s, const char *msg, size_t len);
/* The message to send (not NUL-terminated in general; use *len). */
const char *scram_server_output(const struct scram_server *s, size_t *len);

/*
 * Client side. Qun itself never authenticates to anyone; this exists so that
 * tests and the fuzzer can drive the server end to end (and a future qunctl
 * could use it). Same rules on secrets as the server.
 */
enum scram_client_state {
    SCRAM_CLIENT_INIT,
    SCRAM_CLIENT_SENT_FIRST,
    SCRAM_CLIENT_SENT_FINAL,
    SCRAM_CLIENT_SUCCEEDED,
    SCRAM_CLIENT_FAILED,
};

struct scram_client {
    enum scram_client_state state;
    int error;
    char password[SCRAM_MSG_MAX + 1];
    size_t password_len;
    char bare[SCRAM_MSG_MAX + 1]; /* client-first-message-bare */
    size_t bare_len;
    char gs2[SCRAM_MSG_MAX + 1]; /* gs2 header */
    size_t gs2_len;
    size_t cnonce_len; /* client nonce is the tail of bare */
    uint8_t server_signature[SCRAM_KEY_LEN];
    char out[SCRAM_MSG_MAX + 1];
    size_t out_len;
};

/*
 * Builds the client-first-message "n,[a=authzid],n=username,r=nonce".
 * authzid may be NULL; client_nonce NULL draws a random one. The result is
 * in c->out. Returns SCRAM_OK or an error (names too long, bad nonce).
 */
int scram_client_start(struct scram_client *c, const char *username, const char *authzid,
                       const char *password, size_t password_len, const char *client_nonce);
/* Reads the server-first-message and builds the client-final-message. */
int scram_client_recv_first(struct scram_client *c, const char *msg, size_t len);
/* Checks the server-final-message; SCRAM_OK when the server proved itself. */
int scram_client_recv_final(struct scram_client *c, const char *msg, size_t len);
/* Wipes the password and every derived key. */
void scram_client_clear(struct scram_client *c);

/* Internal helpers shared by scram.c and scram_client.c (the "__" prefix). */
int scram__escape_name(const char *name, char *out, size_t cap, size_t *len);
bool scram__printable(const char *s, size_t n);
int scram__nonce(const char *given, char *buf, size_t cap, size_t *len);
int scram__password_keys(const char *password, size_t password_len, const uint8_t *salt,
                         size_t salt_len, uint32_t iterations, uint8_t client_key[SCRAM_KEY_LEN],
                         uint8_t server_key[SCRAM_KEY_LEN]);
void scram__auth_signature(const uint8_t key[SCRAM_KEY_LEN], const char *bare, size_t bare_len,
                           const char *sfirst, size_t sfirst_len, const char *cfinal,
                           size_t cfinal_len, uint8_t sig[SCRAM_KEY_LEN]);

#endif
