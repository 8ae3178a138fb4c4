/*
 * cmd_user.c - commands that change how a user appears or what they may do:
 * AWAY, SETNAME, OPER, WALLOPS and KILL.
 *
 * Owns:
 *   - the away message (client->away) and its away-notify broadcast;
 *   - the real name (client->realname) changed after registration, and its
 *     setname broadcast;
 *   - becoming an operator: the check of name, host and password against
 *     server_config->opers, and the +o user mode that results;
 *   - WALLOPS, an operator's message to every user with +w;
 *   - KILL, an operator disconnecting another user.
 *
 * Contracts:
 *   - Operator passwords are compared in constant time over SHA-256 digests
 *     of both strings, so neither the contents nor the length of the
 *     configured password leaks through timing. They are never logged; an
 *     OPER attempt logs the operator name, the client's nick and address,
 *     and the outcome.
 *   - OPER looks for a block whose name and host both match before looking
 *     at the password: from a host that is not allowed every password gets
 *     the same ERR_NOOPERHOST, so the password cannot be guessed from there.
 *   - Wrong OPER passwords are throttled like account logins (the same
 *     accounts.login_failures per accounts.login_window): per operator name
 *     (key "oper:NAME", which no account name can collide with) and per
 *     client address, the address bucket shared with SASL and IDENTIFY, so
 *     one address guessing passwords is slowed down on every path. While
 *     throttled the password is not even compared.
 *   - Broadcasts of AWAY and SETNAME go only to clients that negotiated the
 *     matching capability (away-notify, setname); others learn the state
 *     through WHO/WHOIS, as before those extensions. They reach channel
 *     peers and extended-monitor watchers (send_to_observers), each once.
 *
 * Threads: loop thread only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "account/account.h"
#include "config/config.h"
#include "irc/caps.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "net/conn.h"
#include "proto/message.h"
#include "proto/utf8.h"
#include "util/alloc.h"
#include "util/log.h"

/* A client-supplied name echoed as a middle parameter must not break the
 * line's syntax; anything that could is replaced by "*". */
static const char *user_echo(const char *s)
{
    return (!s[0] || s[0] == ':' || strchr(s, ' ')) ? "*" : s;
}

/* ---- AWAY ----------------------------------------------------------------- */

/* Tells away-notify clients sharing a channel, and extended-monitor
 * watchers with away-notify; text NULL means back. */
static void away_broadcast(struct client *c, const char *text)
{
    char prefix[512];
    struct irc_event ev;
    event_init(&ev, client_prefix(c, prefix, sizeof prefix), "AWAY", false);
    if (text) {
        event_param(&ev, text);
        ev.trailing = true;
    }
    event_from_client(&ev, c);
    send_to_observers(c, &ev, false, CAP_AWAY_NOTIFY);
}

/* AWAY [:message]: a non-empty message marks the client away (cut to
 * limits.away_length bytes on a character boundary); none, or an empty
 * one, marks it back. */
void cmd_away(struct client *c, struct irc_msg *m)
{
    const char *text = m->nparams ? m->params[0] : "";
    if (!text[0]) {
        bool was_away = c->away != NULL;
        free(c->away);
        c->away = NULL;
        send_numeric(c, RPL_UNAWAY, ":You are no longer marked as being away");
        if (was_away)
            away_broadcast(c, NULL);
        return;
    }
    size_t max = server_config->away_length > 0 ? (size_t)server_config->away_length : 1;
    size_t n = utf8_truncate(text, strlen(text), max);
    char *away = xstrndup(text, n);
    /* a client re-sending the same message (auto-away) is not news */
    bool changed = !c->away || strcmp(c->away, away) != 0;
    free(c->away);
    c->away = away;
    send_numeric(c, RPL_NOWAWAY, ":You have been marked as being away");
    if (changed)
        away_broadcast(c, c->away);
}

/* ---- SETNAME -------------------------------------------------------------- */

/* SETNAME :new real name. Empty or over limits.realname_length is refused
 * whole (the spec forbids truncating it). */
void cmd_setname(struct client *c, struct irc_msg *m)
{
    const char *name = m->nparams ? m->params[0] : "";
    size_t len = strlen(name);
    if (len == 0 || len > (size_t)server_config->realname_length) {
        send_fail(c, "FAIL", "SETNAME", "INVALID_REALNAME", NULL, "Realname is not valid");
        return;
    }
    free(c->realname);
    c->realname = xstrdup(name);
    char prefix[512];
    struct irc_event ev;
    event_init(&ev, client_prefix(c, prefix, sizeof prefix), "SETNAME", false);
    event_param(&ev, c->realname);
    ev.trailing = true;
    event_from_client(&ev, c);
    send_to_observers(c, &ev, true, CAP_SETNAME);
}

/* ---- OPER ----------------------------------------------------------------- */

/* True when a and b are equal, in time independent of their contents and
 * lengths: both are hashed first and the fixed-size digests compared. */
static bool oper_password_equal(const char *a, const char *b)
{
    unsigned char da[EVP_MAX_MD_SIZE], db[EVP_MAX_MD_SIZE];
    unsigned int la = 0, lb = 0;
    if (!EVP_Digest(a, strlen(a), da, &la, EVP_sha256(), NULL) ||
        !EVP_Digest(b, strlen(b), db, &lb, EVP_sha256(), NULL) || la != lb)
        return false;
    return CRYPTO_memcmp(da, db, la) == 0;
}

/* The operator block named name whose host mask allows c, or NULL. The
 * mask is tried against user@host and user@ip (they differ once a
 * hostname or cloak is shown). */
static const struct config_oper *oper_find(const struct client *c, const char *name)
{
    char uh[512], ui[512];
    const char *user = c->user ? c->user : "*";
    snprintf(uh, sizeof uh, "%s@%s", user, c->host);
    snprintf(ui, sizeof ui, "%s@%s", user, c->conn->ip);
    for (size_t i = 0; i < server_config->nopers; i++) {
        const struct config_oper *o = &server_config->opers[i];
        if (strcmp(o->name, name) != 0)
            continue;
        if (mask_match(o->host, uh) || mask_match(o->host, ui))
            return o;
    }
    return NULL;
}

/* OPER name password */
void cmd_oper(struct client *c, struct irc_msg *m)
{
    if (m->nparams < 2) {
        send_numeric(c, ERR_NEEDMOREPARAMS, "OPER :Not enough parameters");
        return;
    }
    const char *name = m->params[0];
    const struct config_oper *o = oper_find(c, name);
    if (!o) {
        log_notice("OPER %.64s by %s from %s refused: no matching operator block for host", name,
                   client_nick(c), c->conn->ip);
        send_numeric(c, ERR_NOOPERHOST, ":No O-lines for your host");
        return;
    }
    char key[ACCOUNT_NAME_MAX + 8];
    snprintf(key, sizeof key, "oper:%.64s", name);
    int64_t wait = 0;
    if (!account_login_allowed(key, c->conn->ip, &wait)) {
        log_notice("OPER %.64s by %s from %s refused: too many failed attempts", name,
                   client_nick(c), c->conn->ip);
        send_numeric(c, ERR_PASSWDMISMATCH, ":Too many failed attempts; try again in %lld seconds",
                     (long long)wait);
        return;
    }
    if (!oper_password_equal(m->params[1], o->password)) {
        account_login_failed(key, c->conn->ip);
        log_notice("OPER %.64s by %s from %s refused: wrong password", name, client_nick(c),
                   c->conn->ip);
        send_numeric(c, ERR_PASSWDMISMATCH, ":Password incorrect");
        return;
    }
    uint8_t old = c->umodes;
    c->umodes |= UMODE_OPER;
    client_note_umode(c, old);
    log_notice("OPER %.64s by %s from %s: now an operator", name, client_nick(c), c->conn->ip);
    send_numeric(c, RPL_YOUREOPER, ":You are now an IRC operator");
    if (!(old & UMODE_OPER))
        send_line(c, ":%s MODE %s :+o", client_nick(c), client_nick(c));
}

/* ---- WALLOPS -------------------------------------------------------------- */

/* Longest WALLOPS text relayed: leaves room for the sender's prefix and the
 * tags within one line. */
#define WALLOPS_TEXT_MAX 400

/* WALLOPS :text - operators only. Every user with +w gets
 * ":nick!user@host WALLOPS :text" (the sender too, when +w). */
void cmd_wallops(struct client *c, struct irc_msg *m)
{
    if (!(c->umodes & UMODE_OPER)) {
        send_numeric(c, ERR_NOPRIVILEGES, ":Permission Denied- You're not an IRC operator");
        return;
    }
    const char *given = m->nparams ? m->params[0] : "";
    if (!given[0]) {
        send_numeric(c, ERR_NEEDMOREPARAMS, "WALLOPS :Not enough parameters");
        return;
    }
    char text[WALLOPS_TEXT_MAX + 1], prefix[512];
    size_t n = utf8_truncate(given, strlen(given), WALLOPS_TEXT_MAX);
    memcpy(text, given, n);
    text[n] = '\0';
    struct irc_event ev;
    event_init(&ev, client_prefix(c, prefix, sizeof prefix), "WALLOPS", true);
    event_param(&ev, text);
    ev.trailing = true;
    event_from_client(&ev, c);
    log_notice("WALLOPS by %s: %s", client_nick(c), text);
    send_to_umode(&ev, UMODE_WALLOPS);
}

/* ---- KILL ----------------------------------------------------------------- */

/* KILL nick [:reason]: operators only. The target sees the KILL, then is
 * disconnected; everyone sharing a channel sees it quit with
 * "Killed (killer (reason))". */
void cmd_kill(struct client *c, struct irc_msg *m)
{
    if (!(c->umodes & UMODE_OPER)) {
        send_numeric(c, ERR_NOPRIVILEGES, ":Permission Denied- You're not an IRC operator");
        return;
    }
    if (m->nparams < 1 || !m->params[0][0]) {
        send_numeric(c, ERR_NEEDMOREPARAMS, "KILL :Not enough parameters");
        return;
    }
    const char *nick = m->params[0];
    struct client *t = client_find(nick);
    if (!t) {
        if (strcasecmp(nick, server_name()) == 0)
            send_numeric(c, ERR_CANTKILLSERVER, ":You can't kill a server!");
        else
            send_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel", user_echo(nick));
        return;
    }
    const char *given = m->nparams > 1 && m->params[1][0] ? m->params[1] : client_nick(c);
    /* the reason ends up in a QUIT everyone sees: same bound as KICK */
    size_t max = server_config->kick_length > 0 ? (size_t)server_config->kick_length : 1;
    char reason[IRC_BODY_MAX + 1];
    size_t n = utf8_truncate(given, strlen(given), max < IRC_BODY_MAX ? max : IRC_BODY_MAX);
    memcpy(reason, given, n);
    reason[n] = '\0';

    char prefix[512], quit[IRC_BODY_MAX + 1];
    client_prefix(c, prefix, sizeof prefix);
    snprintf(quit, sizeof quit, "Killed (%s (%s))", client_nick(c), reason);
    log_notice("KILL %s by %s from %s: %s", client_nick(t), client_nick(c), c->conn->ip, reason);
    send_line(t, ":%s KILL %s :%s", prefix, client_nick(t), reason);
    server_disconnect(t, quit);
}
