/*
 * cmd_register.c - connection registration and liveness: PASS, NICK, USER,
 * PING, PONG, QUIT, and the welcome burst.
 *
 * Registration completes (register_try_complete) when the client has sent
 * NICK and USER, no CAP negotiation is pending, and the connection password
 * (server.password) was given when one is configured.
 */
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/login.h"
#include "irc/service.h"
#include "irc/services.h"
#include "irc/commands.h"
#include "irc/monitor.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "irc/whowas.h"
#include "net/conn.h"
#include "proto/casemap.h"
#include "proto/message.h"
#include "proto/utf8.h"
#include "util/alloc.h"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#define QUN_VERSION "qun-0.1"

void cmd_pass(struct client *c, struct irc_msg *m)
{
    const char *want = server_config->password;
    if (!want) {
        c->reg_flags |= REG_PASS_OK;
        return;
    }
    /* compare digests so that neither length nor content leaks by timing */
    unsigned char a[SHA256_DIGEST_LENGTH], b[SHA256_DIGEST_LENGTH];
    SHA256((const unsigned char *)want, strlen(want), a);
    SHA256((const unsigned char *)m->params[0], strlen(m->params[0]), b);
    if (CRYPTO_memcmp(a, b, sizeof a) == 0)
        c->reg_flags |= REG_PASS_OK;
    else
        c->reg_flags &= (uint8_t)~REG_PASS_OK;
}

static void nick_announce_change(struct client *c, const char *old_prefix, const char *old_folded,
                                 const char *old_nick)
{
    struct irc_event ev;
    event_init(&ev, old_prefix, "NICK", true);
    event_param(&ev, c->nick);
    event_from_client(&ev, c);
    send_to_common(c, &ev, true, 0, 0);
    monitor_notify_nick_change(c, old_folded, old_nick);
}

void cmd_nick(struct client *c, struct irc_msg *m)
{
    if (m->nparams < 1 || !m->params[0][0]) {
        send_numeric(c, ERR_NONICKNAMEGIVEN, ":No nickname given");
        return;
    }
    const char *nick = m->params[0];
    size_t len = strlen(nick);
    if (!casemap_nick_valid(nick, len, (size_t)server_config->nick_length)) {
        send_numeric(c, ERR_ERRONEUSNICKNAME, "%s :Erroneous nickname", nick);
        return;
    }
    struct client *other = client_find(nick);
    if ((other && other != c) || service_find(nick)) {
        if (c->state != CLIENT_REGISTERED) {
            free(c->nick_wanted); /* REGISTER * names this nick (no land grabs) */
            c->nick_wanted = xstrdup(nick);
        }
        send_numeric(c, ERR_NICKNAMEINUSE, "%s :Nickname is already in use", nick);
        return;
    }
    if (c->nick && strcmp(c->nick, nick) == 0)
        return; /* no change at all */
    if (c->state != CLIENT_REGISTERED) {
        client_set_nick(c, nick);
        c->reg_flags |= REG_HAVE_NICK;
        register_try_complete(c);
        return;
    }
    nick_change(c, nick);
}

void nick_change(struct client *c, const char *nick)
{
    char old_prefix[512];
    client_prefix(c, old_prefix, sizeof old_prefix);
    char *old_folded = xstrdup(c->nick_folded), *old_nick = xstrdup(c->nick);
    whowas_add(c);
    client_set_nick(c, nick);
    nick_announce_change(c, old_prefix, old_folded, old_nick);
    free(old_folded);
    free(old_nick);
    nickguard_check(c);
}

void cmd_user(struct client *c, struct irc_msg *m)
{
    if (c->state == CLIENT_REGISTERED) {
        send_numeric(c, ERR_ALREADYREGISTERED, ":You may not reregister");
        return;
    }
    const char *user = m->params[0];
    if (!user[0] || !m->params[3][0]) {
        send_numeric(c, ERR_NEEDMOREPARAMS, "USER :Not enough parameters");
        return;
    }
    /* ident is not queried: the username is marked unverified with '~' and
     * reduced to a safe character set */
    size_t max = (size_t)server_config->user_length;
    char buf[64];
    size_t n = 0;
    buf[n++] = '~';
    for (const char *p = user; *p && n < max && n < sizeof buf - 1; p++) {
        unsigned char ch = (unsigned char)*p;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            ch == '-' || ch == '_' || ch == '.')
            buf[n++] = (char)ch;
    }
    if (n == 1)
        buf[n++] = 'u';
    buf[n] = '\0';
    free(c->user);
    c->user = xstrdup(buf);
    free(c->realname);
    const char *real = m->params[3];
    size_t rl = strlen(real);
    if (rl > (size_t)server_config->realname_length)
        rl = utf8_truncate(real, rl, (size_t)server_config->realname_length);
    c->realname = xstrndup(real, rl);
    c->reg_flags |= REG_HAVE_USER;
    register_try_complete(c);
}

void register_try_complete(struct client *c)
{
    if (c->state == CLIENT_REGISTERED)
        return;
    uint8_t need = REG_HAVE_NICK | REG_HAVE_USER;
    if ((c->reg_flags & need) != need || (c->reg_flags & REG_CAP_PENDING))
        return;
    if (server_config->password && !(c->reg_flags & REG_PASS_OK)) {
        send_numeric(c, ERR_PASSWDMISMATCH, ":Password incorrect");
        server_disconnect(c, "Bad password");
        return;
    }
    c->state = CLIENT_REGISTERED;
    client_note_registered(c);
    server_arm_timer(c, server_now_ms() + (uint64_t)server_config->ping_interval * 1000);
    register_welcome(c);
    monitor_notify_online(c);
    nickguard_check(c);
}

void register_welcome(struct client *c)
{
    char prefix[512], created[64];
    struct tm tm;
    time_t started = server_started();
    gmtime_r(&started, &tm);
    strftime(created, sizeof created, "%Y-%m-%d %H:%M:%S UTC", &tm);
    send_numeric(c, RPL_WELCOME, ":Welcome to the %s IRC Network %s", server_config->network_name,
                 client_prefix(c, prefix, sizeof prefix));
    send_numeric(c, RPL_YOURHOST, ":Your host is %s, running version %s", server_name(),
                 QUN_VERSION);
    send_numeric(c, RPL_CREATED, ":This server was created %s", created);
    send_numeric(c, RPL_MYINFO, "%s %s Biow biklmnoqstv bklovq", server_name(), QUN_VERSION);
    isupport_send(c);
    lusers_send(c);
    motd_send(c);
    if (c->umodes)
        send_line(c, ":%s MODE %s :+%s%s", client_nick(c), client_nick(c),
                  (c->umodes & UMODE_INVISIBLE) ? "i" : "", (c->umodes & UMODE_WALLOPS) ? "w" : "");
}

void cmd_ping(struct client *c, struct irc_msg *m)
{
    if (m->nparams < 1 || !m->params[0][0]) {
        send_numeric(c, ERR_NOORIGIN, ":No origin specified");
        return;
    }
    send_line(c, ":%s PONG %s :%s", server_name(), server_name(), m->params[0]);
}

void cmd_pong(struct client *c, struct irc_msg *m)
{
    /* Any line counts as activity (server_on_line); nothing else to do. */
}

void cmd_quit(struct client *c, struct irc_msg *m)
{
    char reason[512];
    if (m->nparams > 0 && m->params[0][0])
        snprintf(reason, sizeof reason, "Quit: %s", m->params[0]);
    else
        snprintf(reason, sizeof reason, "Client quit");
    server_disconnect(c, reason);
}
