/*
 * cmd_sasl.c - AUTHENTICATE (IRCv3 sasl-3.1) with PLAIN, EXTERNAL and
 * SCRAM-SHA-256.
 *
 * The sans-IO pieces do the protocol work: auth/sasl.c reassembles the
 * base64 chunks and parses PLAIN, auth/scram.c runs the SCRAM exchange;
 * password checks go to the account directory (argon2id on the pool).
 * This file only keeps the per-client exchange and maps results to
 * numerics.
 *
 * Exchange states (client->sasl, allocated for the exchange only):
 *
 *   (none) --AUTHENTICATE <mech>--> [PAYLOAD] --payload complete-->
 *      PLAIN:    [CHECKING] --argon2id result--> success (900, 903) / 904
 *      EXTERNAL: certificate fingerprint lookup --> success / 904
 *      SCRAM:    [SCRAM_FIRST] --client-first--> challenge --> [SCRAM_FINAL]
 *                --client-final, proof ok--> server-final --> [SCRAM_DONE]
 *                --"+"--> success
 *   any state --"*"--> 906;  a chunk over 400 bytes or a payload over the
 *   cap --> 905; everything else that fails --> 904. The session is freed
 *   at every end.
 *
 * Invariants:
 *   1. Passwords and proofs are wiped with the session (sasl_plain_clear,
 *      scram_server_clear) and never logged.
 *   2. Every failure counts against the account's and the address's login
 *      throttle; a throttled name or address fails without a check.
 *   3. An asynchronous result finds its client again by id; a client that
 *      left in the meantime is simply gone.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "auth/sasl.h"
#include "auth/scram.h"
#include "config/config.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/login.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "net/conn.h"
#include "proto/message.h"
#include "util/alloc.h"

enum sasl_mech { MECH_PLAIN, MECH_EXTERNAL, MECH_SCRAM };
enum sasl_step { STEP_PAYLOAD, STEP_CHECKING, STEP_SCRAM_FINAL, STEP_SCRAM_DONE };

struct sasl_session {
    enum sasl_mech mech;
    enum sasl_step step;
    struct sasl_chunks in;
    struct scram_server scram;
};

static uint8_t sasl_mock_key[SCRAM_KEY_LEN]; /* fake salts for unknown SCRAM users */
static bool sasl_mock_ready;

void sasl_session_free(struct client *c)
{
    if (!c->sasl)
        return;
    scram_server_clear(&c->sasl->scram);
    sodium_memzero(c->sasl, sizeof *c->sasl);
    free(c->sasl);
    c->sasl = NULL;
}

static void sasl_fail(struct client *c, int numeric, const char *text)
{
    sasl_session_free(c);
    send_numeric(c, numeric, ":%s", text);
}

static void sasl_succeed(struct client *c, struct account *a, const char *mech)
{
    sasl_session_free(c);
    account_login_succeeded(a);
    login_complete(c, a, mech);
    send_numeric(c, RPL_SASLSUCCESS, ":SASL authentication successful");
}

/* Sends data as AUTHENTICATE chunks ("+" for an empty or 400-multiple end). */
static void sasl_send(struct client *c, const char *data, size_t len)
{
    struct sasl_encoder enc;
    const char *chunk;
    size_t n;
    if (sasl_encoder_init(&enc, (const uint8_t *)data, len) != SASL_OK) {
        sasl_fail(c, ERR_SASLFAIL, "SASL authentication failed");
        return;
    }
    while (sasl_encoder_next(&enc, &chunk, &n))
        send_line(c, "AUTHENTICATE %.*s", (int)n, chunk);
}

/* ---- PLAIN ---- */

static void sasl_plain_checked(void *ud, int status, struct account *a)
{
    server_release_id((uint64_t)(uintptr_t)ud);
    struct client *c = client_by_id((uint64_t)(uintptr_t)ud);
    if (!c || !c->sasl || c->sasl->step != STEP_CHECKING)
        return;
    if (status == ACCOUNT_OK)
        sasl_succeed(c, a, "PLAIN");
    else
        sasl_fail(c, ERR_SASLFAIL,
                  status == ACCOUNT_ERR_SUSPENDED ? "SASL authentication failed: account suspended"
                                                  : "SASL authentication failed");
}

static void sasl_plain(struct client *c, const uint8_t *payload, size_t len)
{
    struct sasl_plain p;
    if (sasl_plain_parse(payload, len, &p) != SASL_OK) {
        sasl_plain_clear(&p);
        sasl_fail(c, ERR_SASLFAIL, "SASL authentication failed");
        return;
    }
    c->sasl->step = STEP_CHECKING;
    int rc = account_login_password(p.authcid, p.passwd, p.passwd_len, c->conn->ip,
                                    sasl_plain_checked, (void *)(uintptr_t)c->id);
    sasl_plain_clear(&p);
    if (rc == ACCOUNT_OK)
        server_hold(c); /* the next lines wait for the answer */
    else
        sasl_fail(c, ERR_SASLFAIL,
                  rc == ACCOUNT_ERR_THROTTLED
                      ? "SASL authentication failed: too many failed attempts, try later"
                      : "SASL authentication failed");
}

/* ---- EXTERNAL ---- */

static void sasl_external(struct client *c, const uint8_t *payload, size_t len)
{
    const char *fp = c->conn->certfp;
    struct account *a = fp[0] ? account_find_certfp(fp) : NULL;
    const char *name = len ? (const char *)payload : (a ? a->name : "");
    if (!account_login_allowed(name, c->conn->ip, NULL)) {
        sasl_fail(c, ERR_SASLFAIL, "SASL authentication failed: too many failed attempts");
        return;
    }
    if (!a || (len && account_find(name) != a) || a->suspended) {
        account_login_failed(name, c->conn->ip);
        sasl_fail(c, ERR_SASLFAIL,
                  fp[0] ? "SASL authentication failed: certificate not registered to that account"
                        : "SASL authentication failed: no client certificate");
        return;
    }
    sasl_succeed(c, a, "EXTERNAL");
}

/* ---- SCRAM-SHA-256 ---- */

static void sasl_scram(struct client *c, const uint8_t *payload, size_t len)
{
    struct sasl_session *s = c->sasl;
    size_t outlen;
    const char *out;
    if (s->step == STEP_PAYLOAD) {
        if (scram_server_recv_first(&s->scram, (const char *)payload, len) != SCRAM_OK) {
            sasl_fail(c, ERR_SASLFAIL, "SASL authentication failed");
            return;
        }
        const char *user = scram_server_username(&s->scram);
        if (!account_login_allowed(user, c->conn->ip, NULL)) {
            sasl_fail(c, ERR_SASLFAIL, "SASL authentication failed: too many failed attempts");
            return;
        }
        struct account *a = account_find(user);
        if (!sasl_mock_ready) {
            randombytes_buf(sasl_mock_key, sizeof sasl_mock_key);
            sasl_mock_ready = true;
        }
        struct scram_lookup lk = {
            .cred = a && a->scram.iterations ? &a->scram : NULL,
            .mock_key = sasl_mock_key,
        };
        if (scram_server_start(&s->scram, &lk, NULL) != SCRAM_OK) {
            sasl_fail(c, ERR_SASLFAIL, "SASL authentication failed");
            return;
        }
        s->step = STEP_SCRAM_FINAL;
        out = scram_server_output(&s->scram, &outlen);
        sasl_send(c, out, outlen);
        return;
    }
    if (s->step == STEP_SCRAM_FINAL) {
        const char *user = scram_server_username(&s->scram);
        struct account *a = account_find(user);
        if (scram_server_recv_final(&s->scram, (const char *)payload, len) != SCRAM_OK || !a) {
            account_login_failed(user, c->conn->ip);
            sasl_fail(c, ERR_SASLFAIL, "SASL authentication failed");
            return;
        }
        if (a->suspended) {
            sasl_fail(c, ERR_SASLFAIL, "SASL authentication failed: account suspended");
            return;
        }
        s->step = STEP_SCRAM_DONE;
        out = scram_server_output(&s->scram, &outlen);
        sasl_send(c, out, outlen);
        return;
    }
    /* STEP_SCRAM_DONE: the client acknowledged the server-final message */
    struct account *a = account_find(scram_server_username(&s->scram));
    if (!a)
        sasl_fail(c, ERR_SASLFAIL, "SASL authentication failed");
    else
        sasl_succeed(c, a, "SCRAM-SHA-256");
}

/* ---- the command ---- */

static bool sasl_start(struct client *c, const char *mech)
{
    enum sasl_mech m;
    if (strcasecmp(mech, "PLAIN") == 0)
        m = MECH_PLAIN;
    else if (strcasecmp(mech, "EXTERNAL") == 0)
        m = MECH_EXTERNAL;
    else if (strcasecmp(mech, "SCRAM-SHA-256") == 0)
        m = MECH_SCRAM;
    else {
        send_numeric(c, RPL_SASLMECHS,
                     "PLAIN,EXTERNAL,SCRAM-SHA-256 :are available SASL mechanisms");
        send_numeric(c, ERR_SASLFAIL, ":SASL authentication failed");
        return false;
    }
    c->sasl = xcalloc(1, sizeof *c->sasl);
    c->sasl->mech = m;
    sasl_chunks_reset(&c->sasl->in);
    scram_server_init(&c->sasl->scram);
    send_line(c, "AUTHENTICATE +");
    return true;
}

void cmd_authenticate(struct client *c, struct irc_msg *m)
{
    const char *arg = m->params[0];
    size_t len = strlen(arg);
    if (c->acct) {
        send_numeric(c, ERR_SASLALREADY, ":You have already authenticated");
        return;
    }
    if (strcmp(arg, "*") == 0) {
        if (c->sasl)
            sasl_fail(c, ERR_SASLABORTED, "SASL authentication aborted");
        else
            send_numeric(c, ERR_SASLFAIL, ":SASL authentication failed");
        return;
    }
    if (!c->sasl) {
        sasl_start(c, arg);
        return;
    }
    if (c->sasl->step == STEP_CHECKING)
        return; /* a password check is running; its result ends the exchange */
    if (len > SASL_CHUNK_LEN) {
        sasl_fail(c, ERR_SASLTOOLONG, "SASL message too long");
        return;
    }
    int r = sasl_chunks_feed(&c->sasl->in, arg, len);
    if (r == SASL_NEED_MORE)
        return;
    if (r != SASL_DONE) {
        /* 905 is for one over-long line (above); a payload grown past the
         * cap over many lines is a failed exchange: 904 */
        sasl_fail(c, ERR_SASLFAIL,
                  r == SASL_ERR_TOO_LONG ? "SASL authentication failed: message too long"
                                         : "SASL authentication failed");
        return;
    }
    struct sasl_session *s = c->sasl;
    const uint8_t *payload = s->in.out;
    size_t plen = s->in.out_len;
    switch (s->mech) {
    case MECH_PLAIN:
        sasl_plain(c, payload, plen);
        break;
    case MECH_EXTERNAL:
        sasl_external(c, payload, plen);
        break;
    case MECH_SCRAM:
        sasl_scram(c, payload, plen);
        if (c->sasl)
            sasl_chunks_reset(&c->sasl->in);
        break;
    }
}
