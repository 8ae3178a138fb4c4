/*
 * login.c - logging clients in and out, nick protection and the identity
 * gates (see login.h).
 */
#include "irc/login.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "config/config.h"
#include "irc/caps.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/channel.h"
#include "irc/group.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "net/conn.h"
#include "sanction/sanction.h"
#include "util/alloc.h"
#include "util/log.h"

/* Sends "ACCOUNT <name>" (or "*") to those sharing a channel with c that
 * asked for account-notify (and extended-monitor observers). */
static void login_announce(struct client *c)
{
    if (c->state != CLIENT_REGISTERED)
        return;
    char prefix[512];
    struct irc_event ev;
    event_init(&ev, client_prefix(c, prefix, sizeof prefix), "ACCOUNT", false);
    event_param(&ev, c->account ? c->account : "*");
    event_from_client(&ev, c);
    send_to_observers(c, &ev, false, CAP_ACCOUNT_NOTIFY);
}

static void login_session(struct client *c, const char *event)
{
    const char *version = NULL, *cipher = NULL;
    conn_tls_info(c->conn, &version, &cipher);
    struct account_session s = {
        .event = event,
        .mechanism = c->login_mech,
        .ip = c->conn->ip,
        .port = c->conn->port,
        .tls_version = version,
        .tls_cipher = cipher,
        .certfp = c->conn->certfp[0] ? c->conn->certfp : NULL,
    };
    account_session_record(c->acct, &s);
}

/* What the user should do next to be able to post, or NULL. */
static const char *login_next_step(const struct account *a)
{
    if (a->suspended)
        return "This account is suspended: you may read but not post.";
    if (a->level < server_config->post_level) {
        if (a->level == 0)
            return "To post in groups, verify a phone number: /msg NickServ PHONE "
                   "<number>, then /msg NickServ VERIFY <code>.";
        return "To post in groups, verify your real identity: /msg NickServ HELP IDENTITY.";
    }
    if (login_convention_required() && a->convention_version < server_config->convention_version)
        return "Before posting, read and accept the platform convention: /msg NickServ "
               "CONVENTION.";
    return NULL;
}

void login_complete(struct client *c, struct account *a, const char *mech)
{
    if (c->acct == a)
        return;
    if (c->acct)
        login_logout(c, "switching accounts");
    account_ref(a);
    a->online++;
    c->acct = a;
    free(c->account);
    c->account = xstrdup(a->name);
    c->login_mech = mech;
    c->guard_ms = 0;
    char prefix[512];
    send_numeric(c, RPL_LOGGEDIN, "%s %s :You are now logged in as %s",
                 client_prefix(c, prefix, sizeof prefix), a->name, a->name);
    login_session(c, "login");
    login_announce(c);
    for (size_t i = 0; i < c->nchans; i++) /* a member's role comes back with the login */
        if (c->chans[i]->code)
            group_show_role(c->chans[i], c, server_name());
    sanction_login(c); /* sanctions and liftings it has not been told of */
    log_info("accounts: client %llu logged in as %s (%s)", (unsigned long long)c->id, a->name,
             mech);
    const char *next = login_next_step(a);
    if (next && c->state == CLIENT_REGISTERED)
        send_line(c, ":NickServ!NickServ@services.%s NOTICE %s :%s", server_name(), client_nick(c),
                  next);
}

void login_logout(struct client *c, const char *why)
{
    if (!c->acct)
        return;
    login_session(c, "logout");
    c->acct->online--;
    account_unref(c->acct);
    c->acct = NULL;
    free(c->account);
    c->account = NULL;
    char prefix[512];
    send_numeric(c, RPL_LOGGEDOUT, "%s :You are now logged out (%s)",
                 client_prefix(c, prefix, sizeof prefix), why);
    login_announce(c);
    nickguard_check(c);
}

void login_client_gone(struct client *c)
{
    sasl_session_free(c);
    if (!c->acct)
        return;
    login_session(c, "logout");
    c->acct->online--;
    account_unref(c->acct);
    c->acct = NULL;
}

/* ---- notifications from the account layer ---- */

struct changed_ud {
    struct account *a;
    const char *what;
};

static void login_notify_one(struct client *c, void *ud)
{
    struct changed_ud *cu = ud;
    if (c->acct != cu->a)
        return;
    const char *ns = "NickServ!NickServ@services.";
    if (strcmp(cu->what, "level") == 0) {
        send_line(c, ":%s%s NOTICE %s :Your identity level is now %d.", ns, server_name(),
                  client_nick(c), cu->a->level);
        const char *next = login_next_step(cu->a);
        if (next)
            send_line(c, ":%s%s NOTICE %s :%s", ns, server_name(), client_nick(c), next);
    } else if (strcmp(cu->what, "identity-rejected") == 0) {
        send_line(c,
                  ":%s%s NOTICE %s :Your identity request was rejected; see /msg NickServ "
                  "STATUS and submit again.",
                  ns, server_name(), client_nick(c));
    } else if (strcmp(cu->what, "suspended") == 0) {
        send_line(c, ":%s%s NOTICE %s :Your account has been suspended: %s", ns, server_name(),
                  client_nick(c), cu->a->suspend_reason ? cu->a->suspend_reason : "no reason");
    } else if (strcmp(cu->what, "unsuspended") == 0) {
        send_line(c, ":%s%s NOTICE %s :Your account is no longer suspended.", ns, server_name(),
                  client_nick(c));
    } else if (strcmp(cu->what, "dropped") == 0) {
        login_logout(c, "the account was dropped");
    }
}

static void login_account_changed(struct account *a, const char *what)
{
    struct changed_ud cu = {a, what};
    client_foreach(login_notify_one, &cu);
}

void login_init(void)
{
    account_changed_hook = login_account_changed;
}

/* ---- nick protection ---- */

void nickguard_check(struct client *c)
{
    c->guard_ms = 0;
    if (!c->nick || c->state != CLIENT_REGISTERED)
        return;
    struct account *a = account_find(c->nick);
    if (!a || c->acct == a)
        return;
    c->guard_ms = server_now_ms() + (uint64_t)server_config->nick_grace * 1000;
    send_line(c,
              ":NickServ!NickServ@services.%s NOTICE %s :The nickname %s is registered. Log in "
              "(SASL, or /msg NickServ IDENTIFY <password>) within %d seconds, or your nickname "
              "will be changed.",
              server_name(), c->nick, c->nick, server_config->nick_grace);
    if (!c->timer.expires || c->guard_ms < c->timer.expires)
        server_arm_timer(c, c->guard_ms);
}

void nickguard_guest_name(char *buf, size_t len)
{
    for (int tries = 0; tries < 100; tries++) {
        snprintf(buf, len, "Guest%05u", randombytes_uniform(100000));
        if (!client_find(buf))
            return;
    }
    snprintf(buf, len, "Guest%u", randombytes_random());
}

void nickguard_expire(struct client *c)
{
    c->guard_ms = 0;
    struct account *a = c->nick ? account_find(c->nick) : NULL;
    if (!a || c->acct == a)
        return;
    char guest[32];
    nickguard_guest_name(guest, sizeof guest);
    send_line(c,
              ":NickServ!NickServ@services.%s NOTICE %s :You did not log in to %s in time; "
              "your nickname is now %s.",
              server_name(), c->nick, a->name, guest);
    nick_change(c, guest);
}

/* ---- gates ---- */

bool login_convention_required(void)
{
    return server_config->convention_file != NULL;
}

bool login_may_post(struct client *c, const char *command, const char *target)
{
    const struct qun_config *cfg = server_config;
    struct account *a = c->acct;
    char why[400];
    if (cfg->post_level == 0 && !a)
        return true;
    if (!a) {
        send_fail(c, "FAIL", command, "ACCOUNT_REQUIRED", target,
                  "Posting in groups needs a verified account: register with /msg NickServ "
                  "REGISTER <password> <phone>, or log in.");
        return false;
    }
    if (a->suspended) {
        send_fail(c, "FAIL", command, "ACCOUNT_SUSPENDED", target,
                  "Your account is suspended; you may read but not post.");
        return false;
    }
    if (a->level < cfg->post_level) {
        snprintf(why, sizeof why, "Posting in groups needs identity level %d and yours is %d: %s",
                 cfg->post_level, a->level,
                 a->level == 0 ? "verify a phone number with /msg NickServ PHONE <number>."
                               : "verify your identity with /msg NickServ HELP IDENTITY.");
        send_fail(c, "FAIL", command, "VERIFICATION_REQUIRED", target, why);
        return false;
    }
    if (login_convention_required() && a->convention_version < cfg->convention_version) {
        snprintf(why, sizeof why,
                 "Accept the platform convention (version %d) before posting: /msg NickServ "
                 "CONVENTION shows it, /msg NickServ ACCEPT %d accepts it.",
                 cfg->convention_version, cfg->convention_version);
        send_fail(c, "FAIL", command, "CONVENTION_REQUIRED", target, why);
        return false;
    }
    return true;
}

bool login_may_create(struct client *c, const char *channel)
{
    const struct qun_config *cfg = server_config;
    int level = c->acct ? c->acct->level : 0;
    if (cfg->create_level == 0 || (c->acct && !c->acct->suspended && level >= cfg->create_level))
        return true;
    char why[300];
    snprintf(why, sizeof why,
             "Creating a group needs a verified real identity (level %d; yours is %d). See /msg "
             "NickServ HELP IDENTITY.",
             cfg->create_level, level);
    send_fail(c, "FAIL", "JOIN",
              c->acct && c->acct->suspended ? "ACCOUNT_SUSPENDED" : "CANNOT_CREATE", channel, why);
    return false;
}
