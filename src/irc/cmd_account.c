/*
 * cmd_account.c - IRCv3 draft/account-registration (REGISTER, VERIFY) and
 * the account glue NickServ shares (services.h).
 *
 * REGISTER <account> <email> <password>: "*" as the account means the
 * current nick; the account name may differ from the nick
 * (custom-account-name). Qun verifies phones, not e-mail: an "email" that
 * is a phone number (+8613800138000) gets a one-time code by SMS and the
 * answer is VERIFICATION_REQUIRED; VERIFY <account> <code> confirms it
 * (identity level 1) and logs the client in. Any other e-mail value is
 * ignored. With accounts.phone_required the cap advertises
 * "email-required" and a phone number must be given.
 *
 * Invariants:
 *   1. A client may VERIFY only the account it registered on this
 *      connection or the one it is logged in to (nobody can burn someone
 *      else's code tries).
 *   2. A name in use as a nick by another client cannot be registered (no
 *      land grabs).
 *   3. Asynchronous answers find the client by id; a client that left
 *      still gets its account created, it just hears nothing.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "config/config.h"
#include "identity/phone.h"
#include "identity/verify.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/login.h"
#include "irc/send.h"
#include "irc/server.h"
#include "irc/service.h"
#include "irc/services.h"
#include "net/conn.h"
#include "proto/message.h"
#include "util/alloc.h"

struct svc_ctx {
    uint64_t client_id;
    enum svc_via via;
    char account[ACCOUNT_NAME_MAX + 1];
    char phone[PHONE_MAX + 1];
};

void ns_notice(struct client *c, const char *fmt, ...)
{
    char text[460];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    service_notice(&nickserv_service, c, "%s", text);
}

static void svc_fail(struct client *c, enum svc_via via, const char *cmd, const char *code,
                     const char *account, const char *text)
{
    if (via == VIA_NICKSERV)
        ns_notice(c, "%s", text);
    else
        send_fail(c, "FAIL", cmd, code, account ? account : "*", text);
}

static void svc_ok(struct client *c, enum svc_via via, const char *cmd, const char *kind,
                   const char *account, const char *text)
{
    if (via == VIA_NICKSERV)
        ns_notice(c, "%s", text);
    else
        send_line(c, ":%s %s %s %s :%s", server_name(), cmd, kind, account, text);
}

static const char *svc_register_code(int status)
{
    switch (status) {
    case ACCOUNT_ERR_EXISTS:
        return "ACCOUNT_EXISTS";
    case ACCOUNT_ERR_BAD_NAME:
        return "BAD_ACCOUNT_NAME";
    case ACCOUNT_ERR_WEAK_PASSWORD:
        return "WEAK_PASSWORD";
    case ACCOUNT_ERR_DISABLED:
        return "TEMPORARILY_UNAVAILABLE";
    default:
        return "TEMPORARILY_UNAVAILABLE";
    }
}

/* ---- registration ---- */

static void svc_code_sent(void *ud, const struct verify_result *r)
{
    struct svc_ctx *x = ud;
    server_release_id(x->client_id);
    struct client *c = client_by_id(x->client_id);
    struct account *a = account_find(x->account);
    if (c && a) {
        if (r->outcome == VERIFY_CODE_SENT) {
            c->verify_account_id = a->id;
            char text[400];
            snprintf(text, sizeof text, "Account %s created. %s Confirm it with %s.", a->name,
                     r->sentence,
                     x->via == VIA_NICKSERV ? "/msg NickServ VERIFY <code>"
                                            : "VERIFY <account> <code>");
            svc_ok(c, x->via, "REGISTER", "VERIFICATION_REQUIRED", a->name, text);
        } else {
            /* the account exists; the phone can be confirmed later */
            svc_ok(c, x->via, "REGISTER", "SUCCESS", a->name, "Account created.");
            login_complete(c, a, x->via == VIA_NICKSERV ? "NickServ" : "REGISTER");
            ns_notice(c,
                      "Your phone could not be confirmed now (%s) Try /msg NickServ PHONE later.",
                      r->sentence);
        }
    }
    free(x);
}

static void svc_registered(void *ud, int status, struct account *a)
{
    struct svc_ctx *x = ud;
    struct client *c = client_by_id(x->client_id);
    if (status != ACCOUNT_OK) {
        server_release_id(x->client_id);
        if (c)
            svc_fail(c, x->via, "REGISTER", svc_register_code(status), x->account,
                     account_status_sentence(status));
        free(x);
        return;
    }
    if (x->phone[0]) {
        verify_phone_start(a, x->phone, c ? c->conn->ip : NULL, svc_code_sent, x);
        return; /* svc_code_sent releases the hold */
    }
    server_release_id(x->client_id);
    if (c) {
        svc_ok(c, x->via, "REGISTER", "SUCCESS", a->name, "Account created; you are logged in.");
        login_complete(c, a, x->via == VIA_NICKSERV ? "NickServ" : "REGISTER");
    }
    free(x);
}

/* Checks the "email" parameter: a phone number is kept in x->phone. */
static bool svc_contact(struct client *c, enum svc_via via, const char *contact, struct svc_ctx *x)
{
    bool none = !contact || strcmp(contact, "*") == 0;
    bool phoneish = !none && (contact[0] == '+' || (contact[0] >= '0' && contact[0] <= '9'));
    if ((none || !phoneish) && server_config->phone_required) {
        svc_fail(c, via, "REGISTER", "INVALID_EMAIL", x->account,
                 "This server needs a phone number to register, e.g. +8613800138000.");
        return false;
    }
    if (!phoneish)
        return true; /* "*" or an e-mail address: Qun does not use e-mail */
    enum phone_result pr = phone_normalise(contact, strlen(contact), x->phone);
    if (pr != PHONE_OK) {
        svc_fail(c, via, "REGISTER", "INVALID_EMAIL", x->account, phone_result_sentence(pr));
        return false;
    }
    if (!verify_sms_available()) {
        svc_fail(c, via, "REGISTER", "INVALID_EMAIL", x->account,
                 "Phone verification is not available on this server; register with * instead.");
        return false;
    }
    return true;
}

void svc_register(struct client *c, enum svc_via via, const char *name, const char *phone,
                  const char *password)
{
    if (c->acct) {
        svc_fail(c, via, "REGISTER", "ALREADY_AUTHENTICATED", c->acct->name,
                 "You are already logged in to an account.");
        return;
    }
    struct svc_ctx *x = xcalloc(1, sizeof *x);
    x->client_id = c->id;
    x->via = via;
    snprintf(x->account, sizeof x->account, "%s", name);
    struct client *holder = client_find(name);
    int rc = ACCOUNT_OK;
    if (account_name_check(name) != ACCOUNT_OK)
        rc = ACCOUNT_ERR_BAD_NAME;
    else if ((holder && holder != c) || account_find(name))
        rc = ACCOUNT_ERR_EXISTS;
    if (rc == ACCOUNT_OK && !svc_contact(c, via, phone, x)) {
        free(x);
        return;
    }
    if (rc == ACCOUNT_OK)
        rc = account_register(name, password, strlen(password), svc_registered, x);
    if (rc == ACCOUNT_OK)
        server_hold(c); /* released when the chain answers */
    else {
        svc_fail(c, via, "REGISTER", svc_register_code(rc), name, account_status_sentence(rc));
        free(x);
    }
}

void cmd_register_account(struct client *c, struct irc_msg *m)
{
    if (c->state != CLIENT_REGISTERED && !server_config->before_connect) {
        send_fail(c, "FAIL", "REGISTER", "COMPLETE_CONNECTION_REQUIRED", "*",
                  "Finish connecting (NICK, USER, CAP END) before registering an account.");
        return;
    }
    const char *name = m->params[0];
    if (strcmp(name, "*") == 0) {
        if (!c->nick && c->nick_wanted) {
            /* the nick this client asked for is someone else's */
            send_fail(c, "FAIL", "REGISTER", "ACCOUNT_EXISTS", c->nick_wanted,
                      "That nickname is in use by someone else; choose another.");
            return;
        }
        if (!c->nick) {
            send_fail(c, "FAIL", "REGISTER", "NEED_NICK", "*",
                      "Choose a nickname first, or give the account name.");
            return;
        }
        name = c->nick;
    }
    svc_register(c, VIA_COMMAND, name, m->params[1], m->params[2]);
}

/* ---- verification of the phone code ---- */

static void svc_verified(void *ud, const struct verify_result *r)
{
    struct svc_ctx *x = ud;
    server_release_id(x->client_id);
    struct client *c = client_by_id(x->client_id);
    struct account *a = account_find(x->account);
    if (c && a) {
        if (r->outcome == VERIFY_DONE) {
            svc_ok(c, x->via, "VERIFY", "SUCCESS", a->name, r->sentence);
            if (!c->acct)
                login_complete(c, a, x->via == VIA_NICKSERV ? "NickServ" : "REGISTER");
        } else {
            svc_fail(c, x->via, "VERIFY", r->code ? r->code : "INVALID_CODE", a->name, r->sentence);
        }
    }
    free(x);
}

void svc_verify(struct client *c, enum svc_via via, struct account *a, const char *code)
{
    if (!a || (c->acct != a && c->verify_account_id != a->id)) {
        svc_fail(c, via, "VERIFY", "INVALID_ACCOUNT", a ? a->name : "*",
                 "You can only verify the account you registered on this connection or are "
                 "logged in to.");
        return;
    }
    struct svc_ctx *x = xcalloc(1, sizeof *x);
    x->client_id = c->id;
    x->via = via;
    snprintf(x->account, sizeof x->account, "%s", a->name);
    server_hold(c);
    verify_phone_confirm(a, code, svc_verified, x);
}

void cmd_verify(struct client *c, struct irc_msg *m)
{
    svc_verify(c, VIA_COMMAND, account_find(m->params[0]), m->params[1]);
}
