/*
 * dispatch.c - the command table and the one function every client line
 * goes through after parsing.
 *
 * Each entry gives the handler, the minimum number of parameters, the states
 * in which the command is allowed and its flood cost. The cost is charged
 * before the handler runs; a client whose debt runs more than
 * limits.flood_burst seconds ahead of the clock is paused (its further lines
 * wait in the transport) — never disconnected — so a burst is slowed down,
 * not lost.
 */
#include <string.h>

#include "config/config.h"
#include "irc/caps.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "proto/message.h"
#include "util/strmap.h"

enum cmd_flag {
    CMD_UNREG = 1u << 0, /* allowed before registration */
    CMD_REG = 1u << 1,   /* allowed after registration */
};

struct command {
    const char *name;
    command_fn fn;
    uint8_t min_params;
    uint8_t flags;
    uint16_t cost_ms; /* flood penalty */
};

#define BOTH (CMD_UNREG | CMD_REG)

static const struct command command_table[] = {
    {"PRIVMSG", cmd_privmsg, 0, CMD_REG, 1000},
    {"NOTICE", cmd_notice, 0, CMD_REG, 1000},
    {"TAGMSG", cmd_tagmsg, 1, CMD_REG, 500},
    {"PING", cmd_ping, 0, BOTH, 0},
    {"PONG", cmd_pong, 0, BOTH, 0},
    {"CAP", cmd_cap, 1, BOTH, 0},
    {"PASS", cmd_pass, 1, BOTH, 0},
    {"AUTHENTICATE", cmd_authenticate, 1, BOTH, 100},
    {"REGISTER", cmd_register_account, 3, BOTH, 3000},
    {"VERIFY", cmd_verify, 2, BOTH, 1000},
    {"REDACT", cmd_redact, 2, CMD_REG, 1000},
    {"CHATHISTORY", cmd_chathistory, 1, CMD_REG, 500},
    {"NICKSERV", cmd_nickserv, 0, CMD_REG, 1000},
    {"NS", cmd_nickserv, 0, CMD_REG, 1000},
    {"CHANSERV", cmd_chanserv, 0, CMD_REG, 1000},
    {"CS", cmd_chanserv, 0, CMD_REG, 1000},
    {"NICK", cmd_nick, 0, BOTH, 1000},
    {"USER", cmd_user, 4, BOTH, 0},
    {"QUIT", cmd_quit, 0, BOTH, 0},
    {"JOIN", cmd_join, 1, CMD_REG, 1000},
    {"PART", cmd_part, 1, CMD_REG, 500},
    {"TOPIC", cmd_topic, 1, CMD_REG, 500},
    {"NAMES", cmd_names, 0, CMD_REG, 500},
    {"LIST", cmd_list, 0, CMD_REG, 2000},
    {"KICK", cmd_kick, 2, CMD_REG, 500},
    {"INVITE", cmd_invite, 0, CMD_REG, 1000},
    {"MODE", cmd_mode, 1, CMD_REG, 500},
    {"WHO", cmd_who, 0, CMD_REG, 500},
    {"WHOIS", cmd_whois, 1, CMD_REG, 500},
    {"WHOWAS", cmd_whowas, 0, CMD_REG, 500},
    {"USERHOST", cmd_userhost, 1, CMD_REG, 200},
    {"ISON", cmd_ison, 1, CMD_REG, 200},
    {"LUSERS", cmd_lusers, 0, CMD_REG, 500},
    {"MOTD", cmd_motd, 0, CMD_REG, 1000},
    {"VERSION", cmd_version, 0, CMD_REG, 500},
    {"TIME", cmd_time, 0, CMD_REG, 200},
    {"ADMIN", cmd_admin, 0, CMD_REG, 500},
    {"INFO", cmd_info, 0, CMD_REG, 500},
    {"AWAY", cmd_away, 0, CMD_REG, 500},
    {"SETNAME", cmd_setname, 1, CMD_REG, 1000},
    {"OPER", cmd_oper, 2, CMD_REG, 2000},
    {"KILL", cmd_kill, 1, CMD_REG, 0},
    {"MONITOR", cmd_monitor, 1, CMD_REG, 200},
    {"HELP", cmd_help, 0, CMD_REG, 500},
    {"HELPOP", cmd_help, 0, CMD_REG, 500},
    {"WALLOPS", cmd_wallops, 0, CMD_REG, 1000},
    {"LINKS", cmd_links, 0, CMD_REG, 500},
    {"REPORT", cmd_report, 0, CMD_REG, 2000},
};

static struct strmap command_index;

static const struct command *command_find(const char *name)
{
    if (!command_index.cap)
        for (size_t i = 0; i < sizeof command_table / sizeof command_table[0]; i++)
            strmap_put(&command_index, command_table[i].name, (void *)&command_table[i]);
    return strmap_get(&command_index, name);
}

const char *dispatch_command_name(size_t i)
{
    return i < sizeof command_table / sizeof command_table[0] ? command_table[i].name : NULL;
}

static bool dispatch_allowed(struct client *c, const struct command *cmd)
{
    if (c->state == CLIENT_REGISTERED) {
        if (cmd->flags & CMD_REG)
            return true;
        send_numeric(c, ERR_ALREADYREGISTERED, ":You may not reregister");
        return false;
    }
    if (cmd->flags & CMD_UNREG)
        return true;
    send_numeric(c, ERR_NOTREGISTERED, ":You have not registered");
    return false;
}

bool dispatch_message(struct client *c, struct irc_msg *m)
{
    const struct command *cmd = command_find(m->command);
    const char *label = NULL;
    if (c->caps & CAP_LABELED_RESPONSE)
        label = irc_msg_tag(m, "label");
    if (label && label[0])
        label_begin(c, label);

    bool pause = false;
    if (!cmd) {
        if (c->state == CLIENT_REGISTERED)
            send_numeric(c, ERR_UNKNOWNCOMMAND, "%s :Unknown command", m->command);
        else
            send_numeric(c, ERR_NOTREGISTERED, ":You have not registered");
    } else if (dispatch_allowed(c, cmd)) {
        if (m->nparams < cmd->min_params) {
            send_numeric(c, ERR_NEEDMOREPARAMS, "%s :Not enough parameters", cmd->name);
        } else {
            if (cmd->cost_ms && !c->flood_exempt)
                pause = server_flood_charge(c, cmd->cost_ms);
            cmd->fn(c, m);
        }
    }
    if (label && label[0])
        label_end();
    return pause;
}
