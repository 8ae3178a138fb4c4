/*
 * svc_nickserv.c - the NickServ service: every account and identity
 * function for clients that cannot send REGISTER/AUTHENTICATE, reached by
 * "/msg NickServ <command>" (or the NS / NICKSERV commands).
 *
 * NickServ is not a client: PRIVMSG to it is handed here by cmd_message.c
 * and answers are NOTICEs from "NickServ!NickServ@services.<server>". Its
 * nick is reserved (cmd_nick refuses it). Each command is one row of
 * ns_commands: name, minimum arguments, whether a login is needed, the
 * handler and its help text, so HELP and the dispatcher cannot disagree.
 *
 * Secrets: passwords arrive in PRIVMSG text; they are never logged or
 * echoed, and the text buffer is wiped after the command ran.
 */
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
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

#define PASSWORD_LINE_MAX 512 /* a password can be no longer than the line */

/* Asynchronous answers hold the client (service_hold): every ns_ud() is
 * matched by exactly one ns_client() in the callback, or ns_unheld() when
 * the call was refused before queueing anything. */
#define ns_ud(c)     service_hold(c)
#define ns_client(u) service_resume(u)
#define ns_unheld(c) service_unhold(c)

/* Joins argv back into one string (a password may contain spaces). */
static void ns_rest(char *buf, size_t cap, int argc, char **argv)
{
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc; i++)
        n += (size_t)snprintf(buf + n, n < cap ? cap - n : 0, "%s%s", i ? " " : "", argv[i]);
}

/* ---- REGISTER, IDENTIFY, VERIFY ---- */

static void ns_register(struct client *c, int argc, char **argv)
{
    if (!c->nick) {
        ns_notice(c, "Choose a nickname first: the account takes your nickname.");
        return;
    }
    /* the last word is a phone number when it looks like one; everything
     * before it is the password (which may contain spaces) */
    const char *phone = NULL;
    const char *last = argv[argc - 1];
    if (argc > 1 && strspn(last, "+0123456789-") == strlen(last) && strlen(last) >= 8) {
        phone = last;
        argc--;
    }
    char pw[PASSWORD_LINE_MAX];
    ns_rest(pw, sizeof pw, argc, argv);
    svc_register(c, VIA_NICKSERV, c->nick, phone, pw);
    sodium_memzero(pw, sizeof pw);
}

static void ns_identified(void *ud, int status, struct account *a)
{
    struct client *c = ns_client(ud);
    if (!c)
        return;
    if (status != ACCOUNT_OK) {
        ns_notice(c, "%s", account_status_sentence(status));
        return;
    }
    ns_notice(c, "You are now logged in as %s.", a->name);
    login_complete(c, a, "NickServ");
}

static void ns_identify(struct client *c, int argc, char **argv)
{
    if (c->acct) {
        ns_notice(c, "You are already logged in as %s.", c->acct->name);
        return;
    }
    /* "IDENTIFY <account> <password...>" when the first word names an
     * account and more follows; otherwise the whole line is the password
     * of the account named like the current nick */
    bool named = argc > 1 && account_find(argv[0]) != NULL;
    const char *name = named ? argv[0] : (c->nick ? c->nick : "");
    char pw[PASSWORD_LINE_MAX];
    ns_rest(pw, sizeof pw, named ? argc - 1 : argc, named ? argv + 1 : argv);
    int rc = account_login_password(name, pw, strlen(pw), c->conn->ip, ns_identified, ns_ud(c));
    sodium_memzero(pw, sizeof pw);
    if (rc != ACCOUNT_OK) {
        ns_unheld(c);
        ns_notice(c, "%s", account_status_sentence(rc));
    }
}

static void ns_verify(struct client *c, int argc, char **argv)
{
    struct account *a = argc > 1 ? account_find(argv[0]) : c->acct;
    if (!a && argc == 1 && c->verify_account_id)
        a = account_find_id(c->verify_account_id);
    svc_verify(c, VIA_NICKSERV, a, argv[argc - 1]);
}

/* ---- identity ---- */

static void ns_verify_answer(void *ud, const struct verify_result *r)
{
    struct client *c = ns_client(ud);
    if (c)
        ns_notice(c, "%s", r->sentence);
}

static void ns_phone(struct client *c, int argc, char **argv)
{
    verify_phone_start(c->acct, argv[0], c->conn->ip, ns_verify_answer, ns_ud(c));
}

static void ns_identity(struct client *c, int argc, char **argv)
{
    /* the real name is the rest of the line, spaces included */
    char name[256];
    size_t n = 0;
    name[0] = '\0';
    for (int i = 2; i < argc; i++)
        n += (size_t)snprintf(name + n, n < sizeof name ? sizeof name - n : 0, "%s%s",
                              i > 2 ? " " : "", argv[i]);
    verify_identity_submit(c->acct, argv[0], argv[1], name, ns_verify_answer, ns_ud(c));
    sodium_memzero(name, sizeof name);
}

static void ns_convention(struct client *c, int argc, char **argv)
{
    const char *path = server_config->convention_file;
    FILE *f = path ? fopen(path, "r") : NULL;
    if (!f) {
        ns_notice(c, path ? "The platform convention cannot be read right now."
                          : "This server has no platform convention to accept.");
        return;
    }
    char line[400];
    ns_notice(c, "Platform convention, version %d:", server_config->convention_version);
    for (int i = 0; i < 200 && fgets(line, sizeof line, f); i++) {
        line[strcspn(line, "\r\n")] = '\0';
        ns_notice(c, " %s", line[0] ? line : " ");
    }
    fclose(f);
    if (c->acct && c->acct->convention_version >= server_config->convention_version)
        ns_notice(c, "You accepted this version.");
    else
        ns_notice(c, "To accept it: /msg NickServ ACCEPT %d", server_config->convention_version);
}

static void ns_accepted(void *ud, int status, struct account *a)
{
    struct client *c = ns_client(ud);
    if (!c)
        return;
    if (status == ACCOUNT_OK)
        ns_notice(c, "You accepted the platform convention, version %d.", a->convention_version);
    else
        ns_notice(c, "%s", account_status_sentence(status));
}

static void ns_accept(struct client *c, int argc, char **argv)
{
    int want = server_config->convention_version;
    if (!login_convention_required()) {
        ns_notice(c, "This server has no platform convention to accept.");
        return;
    }
    if (atoi(argv[0]) != want) {
        ns_notice(c,
                  "The current convention is version %d: read it with /msg NickServ CONVENTION "
                  "and accept that version.",
                  want);
        return;
    }
    int rc = account_accept_convention(c->acct, want, ns_accepted, ns_ud(c));
    if (rc != ACCOUNT_OK) {
        ns_unheld(c);
        ns_notice(c, "%s", account_status_sentence(rc));
    }
}

static void ns_status(struct client *c, int argc, char **argv)
{
    struct account *a = c->acct;
    if (!a) {
        ns_notice(c, "You are not logged in. REGISTER or IDENTIFY first (/msg NickServ HELP).");
        return;
    }
    static const char *const levels[] = {"0 (registered)", "1 (phone verified)",
                                         "2 (real identity verified)"};
    ns_notice(c, "Account %s, identity level %s.", a->name,
              levels[a->level >= 0 && a->level <= 2 ? a->level : 0]);
    if (a->identity_pending)
        ns_notice(c, "Your identity is waiting for a moderator.");
    if (verify_phone_pending(a))
        ns_notice(c, "A phone code is pending: /msg NickServ VERIFY <code>.");
    if (login_convention_required())
        ns_notice(c, "Platform convention: %s.",
                  a->convention_version >= server_config->convention_version ? "accepted"
                                                                             : "not yet accepted");
    if (a->suspended)
        ns_notice(c, "Suspended: %s", a->suspend_reason ? a->suspend_reason : "no reason given");
    ns_notice(c, "Posting in groups needs level %d; creating a group needs level %d.",
              server_config->post_level, server_config->create_level);
}

/* ---- INFO, SET, DROP ---- */

static void ns_info(struct client *c, int argc, char **argv)
{
    struct account *a = argc ? account_find(argv[0]) : c->acct;
    if (!a) {
        ns_notice(c, argc ? "No such account." : "You are not logged in; give an account name.");
        return;
    }
    char when[64];
    time_t t = (time_t)a->created_at;
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
    ns_notice(c, "Account %s: registered %s, %s.", a->name, when,
              a->online ? "logged in now" : "not logged in");
    if (a == c->acct) /* the level and certificates are the owner's business */
        ns_notice(c, "Identity level %d; %zu certificate fingerprint(s).", a->level, a->ncertfps);
}

static void ns_password_set(void *ud, int status, struct account *a)
{
    struct client *c = ns_client(ud);
    if (c)
        ns_notice(c, "%s",
                  status == ACCOUNT_OK ? "Your password was changed."
                                       : account_status_sentence(status));
}

static void ns_set(struct client *c, int argc, char **argv)
{
    if (strcasecmp(argv[0], "PASSWORD") != 0 || argc < 2) {
        ns_notice(c, "Usage: SET PASSWORD <new password>");
        return;
    }
    char pw[PASSWORD_LINE_MAX];
    ns_rest(pw, sizeof pw, argc - 1, argv + 1);
    int rc = account_set_password(c->acct, pw, strlen(pw), ns_password_set, ns_ud(c));
    sodium_memzero(pw, sizeof pw);
    if (rc != ACCOUNT_OK) {
        ns_unheld(c);
        ns_notice(c, "%s", account_status_sentence(rc));
    }
}

static void ns_dropped(void *ud, int status, struct account *a)
{
    struct client *c = ns_client(ud);
    if (c && status != ACCOUNT_OK)
        ns_notice(c, "%s", account_status_sentence(status));
}

static void ns_drop_checked(void *ud, int status, struct account *a)
{
    struct client *c = ns_client(ud);
    if (!c)
        return;
    if (status != ACCOUNT_OK || a != c->acct) {
        ns_notice(c, "Wrong password: the account was not dropped.");
        return;
    }
    char actor[ACCOUNT_NAME_MAX + 16];
    snprintf(actor, sizeof actor, "%s", a->name);
    ns_notice(c, "Account %s is being dropped.", a->name);
    int rc = account_drop(a, actor, ns_dropped, ns_ud(c));
    if (rc != ACCOUNT_OK) {
        ns_unheld(c);
        ns_notice(c, "%s", account_status_sentence(rc));
    }
}

static void ns_drop(struct client *c, int argc, char **argv)
{
    char pw[PASSWORD_LINE_MAX];
    ns_rest(pw, sizeof pw, argc, argv);
    int rc = account_login_password(c->acct->name, pw, strlen(pw), c->conn->ip, ns_drop_checked,
                                    ns_ud(c));
    sodium_memzero(pw, sizeof pw);
    if (rc != ACCOUNT_OK) {
        ns_unheld(c);
        ns_notice(c, "%s", account_status_sentence(rc));
    }
}

/* ---- GHOST, REGAIN ---- */

static void ns_ghost_common(struct client *c, const char *nick, bool regain)
{
    struct client *t = client_find(nick);
    struct account *owner = account_find(nick);
    if (owner != c->acct) {
        ns_notice(c, "%s is not your account's nickname.", nick);
        return;
    }
    if (t == c) {
        ns_notice(c, "That is you.");
        return;
    }
    if (t) {
        char reason[128], guest[32];
        snprintf(reason, sizeof reason, "Ghosted by %s", c->nick ? c->nick : "its owner");
        /* the nick must be free now, while the close completes later */
        nickguard_guest_name(guest, sizeof guest);
        if (t->state == CLIENT_REGISTERED)
            nick_change(t, guest);
        else
            client_set_nick(t, guest);
        server_disconnect(t, reason);
    }
    if (regain && c->state == CLIENT_REGISTERED)
        nick_change(c, owner->name);
    ns_notice(c, "%s has been %s.", nick, regain ? "regained" : "ghosted");
}

static void ns_ghost(struct client *c, int argc, char **argv)
{
    ns_ghost_common(c, argv[0], false);
}

static void ns_regain(struct client *c, int argc, char **argv)
{
    ns_ghost_common(c, argc ? argv[0] : c->acct->name, true);
}

/* ---- CERT ---- */

static void ns_cert_done(void *ud, int status, struct account *a)
{
    struct client *c = ns_client(ud);
    if (c)
        ns_notice(c, "%s", status == ACCOUNT_OK ? "Done." : account_status_sentence(status));
}

static void ns_cert(struct client *c, int argc, char **argv)
{
    struct account *a = c->acct;
    if (strcasecmp(argv[0], "LIST") == 0) {
        ns_notice(c, "%zu certificate fingerprint(s):", a->ncertfps);
        for (size_t i = 0; i < a->ncertfps; i++)
            ns_notice(c, " %s", a->certfps[i]);
        return;
    }
    bool add = strcasecmp(argv[0], "ADD") == 0;
    if (!add && strcasecmp(argv[0], "DEL") != 0) {
        ns_notice(c, "Usage: CERT ADD [fingerprint] | CERT DEL <fingerprint> | CERT LIST");
        return;
    }
    const char *fp = argc > 1 ? argv[1] : (add ? c->conn->certfp : "");
    char lower[ACCOUNT_CERTFP_MAX + 1];
    size_t n = 0;
    for (const char *p = fp; *p && n < sizeof lower - 1; p++)
        if (*p != ':')
            lower[n++] = (char)((*p >= 'A' && *p <= 'F') ? *p + 32 : *p);
    lower[n] = '\0';
    if (n != 64 || strspn(lower, "0123456789abcdef") != 64) {
        ns_notice(c, "Give a SHA-256 fingerprint (64 hex digits)%s.",
                  add ? ", or connect with a client certificate over TLS" : "");
        return;
    }
    int rc = add ? account_cert_add(a, lower, ns_cert_done, ns_ud(c))
                 : account_cert_del(a, lower, ns_cert_done, ns_ud(c));
    if (rc != ACCOUNT_OK)
        ns_unheld(c);
    if (rc == ACCOUNT_ERR_EXISTS)
        ns_notice(c, "That fingerprint is already registered.");
    else if (rc == ACCOUNT_ERR_NOT_FOUND) /* not "No such account." */
        ns_notice(c, "That fingerprint is not registered to your account.");
    else if (rc != ACCOUNT_OK)
        ns_notice(c, "%s", account_status_sentence(rc));
}

/* ---- HELP and dispatch ---- */

static const struct svc_cmd ns_commands[] = {
    {"REGISTER", 1, -1, false, ns_register, "REGISTER <password> [phone]",
     "Registers your current nickname as an account. With a phone number (+8613800138000) a "
     "code is sent by SMS; confirm it with VERIFY."},
    {"IDENTIFY", 1, -1, false, ns_identify, "IDENTIFY [account] <password>",
     "Logs you in to an account."},
    {"VERIFY", 1, -1, false, ns_verify, "VERIFY [account] <code>",
     "Confirms the code sent to your phone (identity level 1)."},
    {"PHONE", 1, -1, true, ns_phone, "PHONE <number>",
     "Sends a 6-digit code to your phone (valid 10 minutes, 5 tries); then VERIFY <code>."},
    {"IDENTITY", 3, -1, true, ns_identity, "IDENTITY <document type> <document number> <real name>",
     "Submits your real identity (identity level 2; needs level 1). Types: cn-id (resident ID), "
     "passport-cn, passport, hkmo-permit, hkmo-home-return, tw-compatriot, tw-permit, "
     "foreign-pr. Others only ever see your nickname."},
    {"CONVENTION", 0, -1, false, ns_convention, "CONVENTION", "Shows the platform convention."},
    {"ACCEPT", 1, -1, true, ns_accept, "ACCEPT <version>",
     "Accepts the platform convention (needed before posting)."},
    {"STATUS", 0, -1, false, ns_status, "STATUS",
     "Shows your identity level and what you still need to do before posting."},
    {"INFO", 0, -1, false, ns_info, "INFO [account]", "Shows information about an account."},
    {"SET", 1, -1, true, ns_set, "SET PASSWORD <new password>", "Changes your password."},
    {"GHOST", 1, -1, true, ns_ghost, "GHOST <nick>",
     "Disconnects another connection using your account's nickname."},
    {"REGAIN", 0, -1, true, ns_regain, "REGAIN [nick]",
     "Disconnects whoever uses your account's nickname and takes it."},
    {"DROP", 1, -1, true, ns_drop, "DROP <password>",
     "Deletes your account (records the law requires are kept)."},
    {"CERT", 1, -1, true, ns_cert, "CERT ADD [fingerprint] | DEL <fingerprint> | LIST",
     "Manages the TLS client certificates that log you in with SASL EXTERNAL."},
};

const struct service nickserv_service = {
    .nick = "NickServ",
    .about = "NickServ manages accounts and identity verification.",
    .footer = "To post in groups: REGISTER, confirm your phone (VERIFY), ACCEPT the convention. "
              "HELP <command> explains one.",
    .cmds = ns_commands,
    .ncmds = sizeof ns_commands / sizeof ns_commands[0],
    .wipe = true,
};

void cmd_nickserv(struct client *c, struct irc_msg *m)
{
    service_command(&nickserv_service, c, m);
}
