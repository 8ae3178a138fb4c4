/*
 * test_scram.c - unit tests for auth/scram.c and auth/scram_client.c.
 *
 * The RFC 7677 section 3 exchange is replayed byte for byte on both sides
 * (the server nonce is injected). Then: end-to-end runs with random nonces,
 * wrong password, unknown user (same answer, stable fake salt), tampered
 * nonce and channel binding, every gs2-header and attribute error, username
 * escaping, authzid, state misuse, and parameter checks of the derivation.
 * Error outputs are compared whole, which also proves they carry no secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "auth/scram.h"

/* RFC 7677 section 3. */
#define RFC_CFIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_SFIRST                                                                                 \
    "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
#define RFC_CFINAL                                                                                 \
    "c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"               \
    "Ute9ytag9zjfMHg"                                                                              \
    "sqmmiz7AndVQ="
#define RFC_SFINAL "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4="

static struct scram_credentials pencil; /* "pencil" with the RFC salt */
static struct scram_server srv;
static struct scram_client cli;
static const uint8_t mock_key[SCRAM_KEY_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9};

static int setup(void **state)
{
    (void)state;
    uint8_t salt[SCRAM_SALT_MAX];
    size_t salt_len;
    const char *b64 = "W22ZaJ0SNY7soEsUEjb6gQ==";
    if (sodium_base642bin(salt, sizeof salt, b64, strlen(b64), NULL, &salt_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0)
        return -1;
    return scram_credentials_derive("pencil", 6, salt, salt_len, 4096, &pencil);
}

static void assert_output(const char *expect)
{
    size_t len;
    const char *out = scram_server_output(&srv, &len);
    assert_int_equal(len, strlen(expect));
    assert_memory_equal(out, expect, len);
}

static int first(const char *msg)
{
    scram_server_init(&srv);
    return scram_server_recv_first(&srv, msg, strlen(msg));
}

static int final(const char *msg)
{
    return scram_server_recv_final(&srv, msg, strlen(msg));
}

static void start_known(const char *cfirst)
{
    struct scram_lookup lk = {.cred = &pencil, .mock_key = mock_key};
    assert_int_equal(first(cfirst), SCRAM_OK);
    assert_int_equal(scram_server_start(&srv, &lk, RFC_SNONCE), SCRAM_OK);
}

static void test_rfc7677_server(void **state)
{
    (void)state;
    start_known(RFC_CFIRST);
    assert_string_equal(scram_server_username(&srv), "user");
    assert_int_equal(srv.state, SCRAM_SERVER_CHALLENGED);
    assert_output(RFC_SFIRST);
    assert_int_equal(final(RFC_CFINAL), SCRAM_OK);
    assert_int_equal(srv.state, SCRAM_SERVER_SUCCEEDED);
    assert_output(RFC_SFINAL);
    scram_server_clear(&srv);
}

static void test_rfc7677_client(void **state)
{
    (void)state;
    assert_int_equal(scram_client_start(&cli, "user", NULL, "pencil", 6, "rOprNGfwEbeRWgbNEkqO"),
                     SCRAM_OK);
    assert_string_equal(cli.out, RFC_CFIRST);
    assert_int_equal(scram_client_recv_first(&cli, RFC_SFIRST, strlen(RFC_SFIRST)), SCRAM_OK);
    assert_string_equal(cli.out, RFC_CFINAL);
    assert_int_equal(cli.password_len, 0); /* wiped once the keys exist */
    assert_int_equal(scram_client_recv_final(&cli, RFC_SFINAL, strlen(RFC_SFINAL)), SCRAM_OK);
    assert_int_equal(cli.state, SCRAM_CLIENT_SUCCEEDED);
    scram_client_clear(&cli);
}

static void test_rfc7677_bad_server_signature(void **state)
{
    (void)state;
    const char *forged = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G5=";
    const char *bad = "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=a";
    for (int i = 0; i < 3; i++) {
        scram_client_start(&cli, "user", NULL, "pencil", 6, "rOprNGfwEbeRWgbNEkqO");
        scram_client_recv_first(&cli, RFC_SFIRST, strlen(RFC_SFIRST));
        const char *m = i == 0 ? forged : i == 1 ? bad : "e=invalid-proof";
        assert_int_not_equal(scram_client_recv_final(&cli, m, strlen(m)), SCRAM_OK);
        assert_int_equal(cli.state, SCRAM_CLIENT_FAILED);
    }
}

/* Runs client and server against each other; returns the server's verdict. */
static int exchange(const char *user, const char *authzid, const char *password,
                    const struct scram_lookup *lk)
{
    size_t len;
    const char *out;
    assert_int_equal(scram_client_start(&cli, user, authzid, password, strlen(password), NULL),
                     SCRAM_OK);
    scram_server_init(&srv);
    int rc = scram_server_recv_first(&srv, cli.out, cli.out_len);
    if (rc != SCRAM_OK)
        return rc;
    assert_int_equal(scram_server_start(&srv, lk, NULL), SCRAM_OK);
    out = scram_server_output(&srv, &len);
    assert_int_equal(scram_client_recv_first(&cli, out, len), SCRAM_OK);
    rc = scram_server_recv_final(&srv, cli.out, cli.out_len);
    out = scram_server_output(&srv, &len);
    assert_int_equal(scram_client_recv_final(&cli, out, len),
                     rc == SCRAM_OK ? SCRAM_OK : SCRAM_ERR_SERVER);
    return rc;
}

static void test_end_to_end(void **state)
{
    (void)state;
    struct scram_credentials cred;
    struct scram_lookup lk = {.cred = &cred};
    assert_int_equal(scram_credentials_new("p\xc3\xa4ss w0rd", 10, 4096, &cred), SCRAM_OK);
    assert_int_equal(cred.salt_len, SCRAM_SALT_LEN);
    assert_int_equal(exchange("\xe5\xb0\x8f\xe6\x98\x8e", NULL, "p\xc3\xa4ss w0rd", &lk), SCRAM_OK);
    assert_int_equal(srv.state, SCRAM_SERVER_SUCCEEDED);
    assert_string_equal(scram_server_username(&srv), "\xe5\xb0\x8f\xe6\x98\x8e");
    /* The random server nonce: 24 base64 characters after the client's. */
    assert_int_equal(srv.nonce_len, srv.cnonce_len + 24);
    /* With authzid equal to the user, c= carries "n,a=<user>,". */
    assert_int_equal(exchange("a,b=c", "a,b=c", "p\xc3\xa4ss w0rd", &lk), SCRAM_OK);
    assert_string_equal(srv.authzid, "a,b=c");
    assert_memory_equal(cli.gs2, "n,a=a=2Cb=3Dc,", 14);
}

static void test_wrong_password(void **state)
{
    (void)state;
    struct scram_lookup lk = {.cred = &pencil};
    assert_int_equal(exchange("user", NULL, "pencil!", &lk), SCRAM_ERR_PROOF);
    assert_int_equal(srv.state, SCRAM_SERVER_FAILED);
    assert_output("e=invalid-proof");
    assert_int_equal(exchange("user", NULL, "", &lk), SCRAM_ERR_PROOF);
    assert_int_equal(exchange("user", NULL, "pencil", &lk), SCRAM_OK);
}

static void test_unknown_user(void **state)
{
    (void)state;
    struct scram_lookup lk = {.cred = NULL, .mock_key = mock_key};
    assert_int_equal(exchange("ghost", NULL, "pencil", &lk), SCRAM_ERR_UNKNOWN_USER);
    assert_output("e=invalid-proof"); /* same wire answer as a wrong password */
    assert_string_equal(scram_error_name(srv.error), "unknown-user");
    /* The fake salt is stable per user name and differs between names. */
    char s1[SCRAM_OUT_MAX], s2[SCRAM_OUT_MAX], s3[SCRAM_OUT_MAX];
    const char *users[] = {"n,,n=ghost,r=abc", "n,,n=ghost,r=abc", "n,,n=ghost2,r=abc"};
    char *outs[] = {s1, s2, s3};
    for (int i = 0; i < 3; i++) {
        assert_int_equal(first(users[i]), SCRAM_OK);
        assert_int_equal(scram_server_start(&srv, &lk, "X"), SCRAM_OK);
        size_t len;
        const char *o = scram_server_output(&srv, &len);
        memcpy(outs[i], o, len);
        outs[i][len] = '\0';
    }
    assert_string_equal(s1, s2);
    assert_string_not_equal(s1, s3);
    assert_non_null(strstr(s1, ",i=4096"));
    /* Without a mock key the salt is random (still a well-formed reply). */
    lk.mock_key = NULL;
    assert_int_equal(exchange("ghost", NULL, "x", &lk), SCRAM_ERR_UNKNOWN_USER);
    assert_int_equal(exchange("ghost", NULL, "x", NULL), SCRAM_ERR_UNKNOWN_USER);
}

static void test_tampered_final(void **state)
{
    (void)state;
    struct {
        const char *msg;
        int err;
        const char *out;
    } cases[] = {
        /* nonce: one character changed, truncated, extended, server part only */
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k1,p=dHzbZapWIk4jUhN+"
         "Ute9ytag9zjf"
         "MHgsqmmiz7AndVQ=",
         SCRAM_ERR_NONCE, "e=other-error"},
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=",
         SCRAM_ERR_NONCE, "e=other-error"},
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0x,p=dHzbZapWIk4jUhN+"
         "Ute9ytag9zj"
         "fMHgsqmmiz7AndVQ=",
         SCRAM_ERR_NONCE, "e=other-error"},
        /* channel binding: "y,," instead of "n,,", and garbage */
        {"c=eSws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zj"
         "fMHgsqmmiz7AndVQ=",
         SCRAM_ERR_CB_MISMATCH, "e=channel-bindings-dont-match"},
        {"c=,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHg"
         "sqmmiz7AndVQ=",
         SCRAM_ERR_CB_MISMATCH, "e=channel-bindings-dont-match"},
        {"c=b!ws,r=x,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", SCRAM_ERR_ENCODING,
         "e=invalid-encoding"},
        /* proof: one bit changed, short, long, not base64 */
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zj"
         "fMHgsqmmiz7AndVU=",
         SCRAM_ERR_PROOF, "e=invalid-proof"},
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+",
         SCRAM_ERR_ENCODING, "e=invalid-encoding"},
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zj"
         "fMHgsqmmiz7AndVQAAAA",
         SCRAM_ERR_ENCODING, "e=invalid-encoding"},
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=****", SCRAM_ERR_ENCODING,
         "e=invalid-encoding"},
        /* an extension before the proof changes AuthMessage: wrong proof */
        {"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,x=1,p=dHzbZapWIk4jUhN+Ute9yta"
         "g9zjfMHgsqmmiz7AndVQ=",
         SCRAM_ERR_PROOF, "e=invalid-proof"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        start_known(RFC_CFIRST);
        assert_int_equal(final(cases[i].msg), cases[i].err);
        assert_int_equal(srv.state, SCRAM_SERVER_FAILED);
        assert_output(cases[i].out);
    }
}

static void test_malformed_final(void **state)
{
    (void)state;
    const char *bad[] = {
        "",
        "c=biws",
        "c=biws,r=abc",
        "r=abc,c=biws,p=AAAA",
        "c=biws,p=AAAA,r=abc",
        "c=biws,r=abc,p=AAAA,",
        "c=biws,r=abc,=1,p=AAAA",
        "c=biws,r=abc,1=1,p=AAAA",
        "c=biws,r=abc,x=,p=AAAA",
        "c=biws,r=abc,x==,p=AAAA",
        "c=biws,r=abc,a,p=AAAA",
        "c=biws,r=abc,a=1,b=1,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,n=1,p=AAAA",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        start_known(RFC_CFIRST);
        assert_int_equal(final(bad[i]), SCRAM_ERR_ENCODING);
        assert_output("e=invalid-encoding");
    }
    /* NUL inside, ill-formed UTF-8, over the cap. */
    start_known(RFC_CFIRST);
    assert_int_equal(scram_server_recv_final(&srv, "c=biws\0,r=x,p=AAAA", 18), SCRAM_ERR_ENCODING);
    start_known(RFC_CFIRST);
    assert_int_equal(final("c=biws,r=abc,x=\xff,p=AAAA"), SCRAM_ERR_ENCODING);
    static char big[SCRAM_MSG_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    start_known(RFC_CFIRST);
    assert_int_equal(final(big), SCRAM_ERR_TOO_LONG);
    assert_output("e=invalid-encoding");
}

static void test_gs2_header(void **state)
{
    (void)state;
    struct {
        const char *msg;
        int err;
        const char *out;
    } cases[] = {
        {"p=tls-unique,,n=user,r=abc", SCRAM_ERR_CB_UNSUPPORTED, "e=channel-binding-not-supported"},
        {"p=tls-server-end-point,a=user,n=user,r=abc", SCRAM_ERR_CB_UNSUPPORTED,
         "e=channel-binding-not-supported"},
        {"p=", SCRAM_ERR_CB_UNSUPPORTED, "e=channel-binding-not-supported"},
        {"x,,n=user,r=abc", SCRAM_ERR_ENCODING, "e=invalid-encoding"},
        {"nn,,n=user,r=abc", SCRAM_ERR_ENCODING, "e=invalid-encoding"},
        {",,n=user,r=abc", SCRAM_ERR_ENCODING, "e=invalid-encoding"},
        {"n,n=user,r=abc", SCRAM_ERR_ENCODING, "e=invalid-encoding"},
        {"n=user,r=abc", SCRAM_ERR_ENCODING, "e=invalid-encoding"},
        {"n,,", SCRAM_ERR_ENCODING, "e=invalid-encoding"},
        {"n,x=user,n=user,r=abc", SCRAM_ERR_ENCODING, "e=invalid-encoding"},
        {"n,a=,n=user,r=abc", SCRAM_ERR_USERNAME, "e=invalid-username-encoding"},
        {"n,a=other,n=user,r=abc", SCRAM_ERR_AUTHZID, "e=other-error"},
        {"", SCRAM_ERR_ENCODING, "e=invalid-encoding"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(first(cases[i].msg), cases[i].err);
        assert_int_equal(srv.state, SCRAM_SERVER_FAILED);
        assert_output(cases[i].out);
    }
    /* "y,," (client could bind, thinks we cannot) is fine: we cannot. */
    assert_int_equal(first("y,,n=user,r=abc"), SCRAM_OK);
    assert_int_equal(srv.gs2_len, 3);
    assert_int_equal(first("n,a=user,n=user,r=abc"), SCRAM_OK);
    assert_string_equal(srv.authzid, "user");
}

static void test_y_flag_end_to_end(void **state)
{
    (void)state;
    /* Hand-build a "y,," exchange by rewriting the client's messages. */
    assert_int_equal(scram_client_start(&cli, "user", NULL, "pencil", 6, "cn"), SCRAM_OK);
    cli.gs2[0] = 'y';
    cli.out[0] = 'y';
    start_known(cli.out);
    size_t len;
    const char *out = scram_server_output(&srv, &len);
    assert_int_equal(scram_client_recv_first(&cli, out, len), SCRAM_OK);
    assert_memory_equal(cli.out, "c=eSws,", 7);
    assert_int_equal(scram_server_recv_final(&srv, cli.out, cli.out_len), SCRAM_OK);
}

static void test_malformed_first(void **state)
{
    (void)state;
    struct {
        const char *msg;
        int err;
    } cases[] = {
        {"n,,m=ext,n=user,r=abc", SCRAM_ERR_EXTENSIONS},
        {"n,,r=abc,n=user", SCRAM_ERR_ENCODING},
        {"n,,n=user", SCRAM_ERR_ENCODING},
        {"n,,n=user,r=", SCRAM_ERR_ENCODING},
        {"n,,n=user,r=a b", SCRAM_ERR_ENCODING},
        {"n,,n=user,r=a\x7f", SCRAM_ERR_ENCODING},
        {"n,,n=user,r=\xc3\xa9", SCRAM_ERR_ENCODING},
        {"n,,n=user,x=abc", SCRAM_ERR_ENCODING},
        {"n,,n=user,r=abc,", SCRAM_ERR_ENCODING},
        {"n,,n=user,r=abc,1=x", SCRAM_ERR_ENCODING},
        {"n,,n=user,r=abc,x=", SCRAM_ERR_ENCODING},
        {"n,,n=,r=abc", SCRAM_ERR_USERNAME},
        {"n,,n=us\xff,r=abc", SCRAM_ERR_ENCODING},
        {"n,,n=a,r=b,c=1,d=1,e=1,f=1,g=1,h=1,i=1,j=1,k=1,l=1,m=1,o=1,q=1,s=1", SCRAM_ERR_ENCODING},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        assert_int_equal(first(cases[i].msg), cases[i].err);
    assert_output("e=invalid-encoding");
    assert_int_equal(first("n,,m=ext,n=user,r=abc"), SCRAM_ERR_EXTENSIONS);
    assert_output("e=extensions-not-supported");
    /* Unknown optional extensions are ignored. */
    assert_int_equal(first("n,,n=user,r=abc,x=1,Y=2"), SCRAM_OK);
    scram_server_init(&srv);
    assert_int_equal(scram_server_recv_first(&srv, "n,,n=u\0,r=a", 11), SCRAM_ERR_ENCODING);
    static char big[SCRAM_MSG_MAX + 2];
    memset(big, 'a', sizeof big - 1);
    memcpy(big, "n,,n=", 5);
    assert_int_equal(first(big), SCRAM_ERR_TOO_LONG);
    /* Nonce and name at their caps pass; one more byte fails. */
    char msg[SCRAM_MSG_MAX];
    memcpy(msg, "n,,n=u,r=", 9);
    memset(msg + 9, 'r', SCRAM_NONCE_MAX);
    msg[9 + SCRAM_NONCE_MAX] = '\0';
    assert_int_equal(first(msg), SCRAM_OK);
    msg[9 + SCRAM_NONCE_MAX] = 'r';
    msg[10 + SCRAM_NONCE_MAX] = '\0';
    assert_int_equal(first(msg), SCRAM_ERR_ENCODING);
    memcpy(msg, "n,,n=", 5);
    memset(msg + 5, 'u', SCRAM_NAME_MAX + 1);
    memcpy(msg + 5 + SCRAM_NAME_MAX + 1, ",r=a", 5);
    assert_int_equal(first(msg), SCRAM_ERR_USERNAME);
    memcpy(msg + 5 + SCRAM_NAME_MAX, ",r=a", 5);
    assert_int_equal(first(msg), SCRAM_OK);
}

static void test_username_escaping(void **state)
{
    (void)state;
    assert_int_equal(first("n,,n=a=2Cb=3Dc,r=abc"), SCRAM_OK);
    assert_string_equal(scram_server_username(&srv), "a,b=c");
    assert_int_equal(first("n,,n==3D=3D,r=abc"), SCRAM_OK);
    assert_string_equal(scram_server_username(&srv), "==");
    const char *bad[] = {
        "n,,n=a=2c,r=abc",   /* escapes are upper case */
        "n,,n=a=41,r=abc",   /* only ',' and '=' are escaped */
        "n,,n=a=,r=abc",     /* truncated escape */
        "n,,n=a=2,r=abc",    /* truncated escape */
        "n,,n=a=3Dx=,r=abc", /* bad after good */
        "n,,n=a\tb,r=abc",   /* control character */
        "n,,n=a\x01,r=abc",  "n,,n=a\x7f,r=abc", "n,,n=a\xc2\x80,r=abc", /* C1 control */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        assert_int_equal(first(bad[i]), SCRAM_ERR_USERNAME);
        assert_output("e=invalid-username-encoding");
    }
    /* The client escapes, the server unescapes: the names agree. */
    struct scram_lookup lk = {.cred = &pencil};
    assert_int_equal(exchange("=,x,=", NULL, "pencil", &lk), SCRAM_OK);
    assert_string_equal(scram_server_username(&srv), "=,x,=");
    assert_memory_equal(cli.bare, "n==3D=2Cx=2C=3D,r=", 18);
}

static void test_state_misuse(void **state)
{
    (void)state;
    struct scram_lookup lk = {.cred = &pencil};
    scram_server_init(&srv);
    assert_int_equal(final(RFC_CFINAL), SCRAM_ERR_STATE);
    assert_output("e=other-error");
    scram_server_init(&srv);
    assert_int_equal(scram_server_start(&srv, &lk, NULL), SCRAM_ERR_STATE);
    start_known(RFC_CFIRST);
    assert_int_equal(first(RFC_CFIRST), SCRAM_OK); /* first() re-inits: fine */
    assert_int_equal(scram_server_recv_first(&srv, RFC_CFIRST, strlen(RFC_CFIRST)),
                     SCRAM_ERR_STATE);
    /* A failed machine keeps its first error and output. */
    assert_int_equal(first("p=x,,n=u,r=a"), SCRAM_ERR_CB_UNSUPPORTED);
    assert_int_equal(final(RFC_CFINAL), SCRAM_ERR_STATE);
    assert_int_equal(srv.error, SCRAM_ERR_CB_UNSUPPORTED);
    assert_output("e=channel-binding-not-supported");
    /* Success is terminal too. */
    start_known(RFC_CFIRST);
    assert_int_equal(final(RFC_CFINAL), SCRAM_OK);
    assert_int_equal(final(RFC_CFINAL), SCRAM_ERR_STATE);
    /* Bad injected nonce and bad stored credentials. */
    assert_int_equal(first(RFC_CFIRST), SCRAM_OK);
    assert_int_equal(scram_server_start(&srv, &lk, "a,b"), SCRAM_ERR_PARAM);
    struct scram_credentials broken = pencil;
    broken.iterations = 1;
    lk.cred = &broken;
    assert_int_equal(first(RFC_CFIRST), SCRAM_OK);
    assert_int_equal(scram_server_start(&srv, &lk, NULL), SCRAM_ERR_PARAM);
    assert_output("e=other-error");
}

static void test_derive_params(void **state)
{
    (void)state;
    struct scram_credentials c;
    const uint8_t salt[4] = {1, 2, 3, 4};
    assert_int_equal(scram_credentials_derive("pw", 2, salt, 0, 4096, &c), SCRAM_ERR_PARAM);
    assert_int_equal(scram_credentials_derive("pw", 2, salt, 4, 4095, &c), SCRAM_ERR_PARAM);
    assert_int_equal(scram_credentials_derive("pw", 2, salt, SCRAM_SALT_MAX + 1, 4096, &c),
                     SCRAM_ERR_PARAM);
    assert_int_equal(scram_credentials_derive("pw", 2, salt, 4, SCRAM_ITER_MAX + 1, &c),
                     SCRAM_ERR_PARAM);
    assert_int_equal(scram_credentials_derive("pw", 2, salt, 4, 4096, &c), SCRAM_OK);
    struct scram_credentials c2;
    assert_int_equal(scram_credentials_derive("pw", 2, salt, 4, 4097, &c2), SCRAM_OK);
    assert_memory_not_equal(c.stored_key, c2.stored_key, SCRAM_KEY_LEN);
    /* Two fresh credentials for one password differ (random salt). */
    assert_int_equal(scram_credentials_new("pw", 2, 4096, &c), SCRAM_OK);
    assert_int_equal(scram_credentials_new("pw", 2, 4096, &c2), SCRAM_OK);
    assert_memory_not_equal(c.salt, c2.salt, SCRAM_SALT_LEN);
    for (int e = SCRAM_ERR_SERVER; e <= SCRAM_OK; e++) {
        assert_non_null(scram_error_wire(e));
        assert_non_null(scram_error_name(e));
    }
}

static void test_client_rejects_bad_server_first(void **state)
{
    (void)state;
    const char *bad[] = {
        "r=rOprNGfwEbeRWgbNEkqO,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",  /* no server part */
        "r=XOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096", /* not our nonce */
        "r=rOprNGfwEbeRWgbNEkqOx,s=,i=4096",
        "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4095",
        "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=04096",
        "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=99999999999",
        "r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==",
        "m=x,r=rOprNGfwEbeRWgbNEkqOx,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096",
        "e=unknown-user",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        scram_client_start(&cli, "user", NULL, "pencil", 6, "rOprNGfwEbeRWgbNEkqO");
        assert_int_not_equal(scram_client_recv_first(&cli, bad[i], strlen(bad[i])), SCRAM_OK);
        assert_int_equal(cli.state, SCRAM_CLIENT_FAILED);
        assert_int_equal(cli.password_len, 0);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc7677_server),
        cmocka_unit_test(test_rfc7677_client),
        cmocka_unit_test(test_rfc7677_bad_server_signature),
        cmocka_unit_test(test_end_to_end),
        cmocka_unit_test(test_wrong_password),
        cmocka_unit_test(test_unknown_user),
        cmocka_unit_test(test_tampered_final),
        cmocka_unit_test(test_malformed_final),
        cmocka_unit_test(test_gs2_header),
        cmocka_unit_test(test_y_flag_end_to_end),
        cmocka_unit_test(test_malformed_first),
        cmocka_unit_test(test_username_escaping),
        cmocka_unit_test(test_state_misuse),
        cmocka_unit_test(test_derive_params),
        cmocka_unit_test(test_client_rejects_bad_server_first),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
