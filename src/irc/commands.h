/*
 * commands.h - the IRC command handlers and the dispatch table.
 *
 * dispatch.c holds the table (name, handler, allowed states, minimum
 * parameters, flood penalty) and calls the handler with a parsed message
 * whose parameter count has been checked. Handlers live in one file per
 * family:
 *
 *   cmd_register.c  CAP (caps.c), PASS, NICK, USER, PING, PONG, QUIT
 *   cmd_message.c   PRIVMSG, NOTICE, TAGMSG
 *   cmd_channel.c   JOIN, PART, TOPIC, NAMES, LIST, KICK, INVITE
 *   cmd_mode.c      MODE (user and channel)
 *   cmd_query.c     WHO (+WHOX), WHOIS, USERHOST, ISON, LUSERS, MOTD,
 *                   VERSION, TIME, ADMIN, INFO, LINKS
 *   cmd_user.c      AWAY, SETNAME, OPER, WALLOPS, KILL
 *   cmd_help.c      HELP, HELPOP
 *   cmd_sasl.c      AUTHENTICATE;  cmd_account.c  REGISTER, VERIFY
 *   svc_nickserv.c  NICKSERV / NS (and PRIVMSG NickServ)
 *   svc_chanserv.c  CHANSERV / CS (and PRIVMSG ChanServ)
 *   monitor.c       MONITOR;  whowas.c  WHOWAS
 *   cmd_chathistory.c  CHATHISTORY (history from the network log)
 *   cmd_report.c    REPORT (complaints; also ReportServ, svc_reportserv.c)
 *
 * Contract for handlers: m->nparams >= the table's min_params; parameters
 * are NUL-terminated and may be modified in place; a refusal is always an
 * answer (numeric or FAIL) to the client, never silence.
 */
#ifndef QUN_IRC_COMMANDS_H
#define QUN_IRC_COMMANDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct client;
struct irc_msg;

typedef void (*command_fn)(struct client *c, struct irc_msg *m);

/* Looks up and runs one command line; handles labeled-response wrapping,
 * ERR_UNKNOWNCOMMAND, ERR_NEEDMOREPARAMS, ERR_NOTREGISTERED and the flood
 * penalty. Returns true when the client must pause (flood). */
bool dispatch_message(struct client *c, struct irc_msg *m);
/* Name of the i-th command in the dispatch table, in table order; NULL
 * once i is past the end (HELP's index, tests). */
const char *dispatch_command_name(size_t i);
/* Help text of a command (any ASCII case), or NULL (cmd_help.c). */
const char *help_lookup(const char *topic);

/* Called when NICK/USER/CAP END may complete registration. */
void register_try_complete(struct client *c);
/* Changes a registered client's nick (free, valid), announcing it
 * (cmd_register.c). */
void nick_change(struct client *c, const char *nick);
/* Sends 001-005, LUSERS and MOTD (cmd_register.c). */
void register_welcome(struct client *c);
/* Sends the RPL_ISUPPORT lines (isupport.c). */
void isupport_send(struct client *c);
/* Sends the MOTD or ERR_NOMOTD (cmd_query.c). */
void motd_send(struct client *c);
/* Sends LUSERS numerics (cmd_query.c). */
void lusers_send(struct client *c);
/* Puts c into ch (after every check), announces the JOIN and sends the
 * topic, NAMES and, for a group, its description (cmd_channel.c). Used by
 * JOIN and by ChanServ APPROVE. flags are ignored for group members, who
 * get their role's. */
struct channel;
void join_enter(struct client *c, struct channel *ch, uint8_t flags, bool created);
/* Sends NAMES for one channel, ending with RPL_ENDOFNAMES (cmd_channel.c). */
struct channel;
void names_send(struct client *c, struct channel *ch);

void cmd_pass(struct client *c, struct irc_msg *m);
void cmd_authenticate(struct client *c, struct irc_msg *m);     /* cmd_sasl.c */
void cmd_register_account(struct client *c, struct irc_msg *m); /* cmd_account.c */
void cmd_verify(struct client *c, struct irc_msg *m);
void cmd_nickserv(struct client *c, struct irc_msg *m); /* svc_nickserv.c */
void cmd_chanserv(struct client *c, struct irc_msg *m); /* svc_chanserv.c */
void cmd_redact(struct client *c, struct irc_msg *m);   /* cmd_redact.c */
void cmd_report(struct client *c, struct irc_msg *m);   /* cmd_report.c */
/* CHATHISTORY from the network log (cmd_chathistory.c). CHATHISTORY_MAX
 * caps a request's limit and is advertised as ISUPPORT CHATHISTORY. */
#define CHATHISTORY_MAX 1000
void cmd_chathistory(struct client *c, struct irc_msg *m);
/* Remembers a channel message for REDACT (cmd_redact.c). */
void redact_remember(struct channel *ch, const char *msgid, const struct client *sender);
void redact_remember_dm(struct client *sender, const char *msgid, const struct client *to);
/* Ends an AUTHENTICATE exchange in progress, wiping it (cmd_sasl.c). */
void sasl_session_free(struct client *c);
void cmd_nick(struct client *c, struct irc_msg *m);
void cmd_user(struct client *c, struct irc_msg *m);
void cmd_ping(struct client *c, struct irc_msg *m);
void cmd_pong(struct client *c, struct irc_msg *m);
void cmd_quit(struct client *c, struct irc_msg *m);
void cmd_cap(struct client *c, struct irc_msg *m);

void cmd_privmsg(struct client *c, struct irc_msg *m);
void cmd_notice(struct client *c, struct irc_msg *m);
void cmd_tagmsg(struct client *c, struct irc_msg *m);

void cmd_join(struct client *c, struct irc_msg *m);
void cmd_part(struct client *c, struct irc_msg *m);
void cmd_topic(struct client *c, struct irc_msg *m);
void cmd_names(struct client *c, struct irc_msg *m);
void cmd_list(struct client *c, struct irc_msg *m);
void cmd_kick(struct client *c, struct irc_msg *m);
void cmd_invite(struct client *c, struct irc_msg *m);

void cmd_mode(struct client *c, struct irc_msg *m);

void cmd_who(struct client *c, struct irc_msg *m);
void cmd_whois(struct client *c, struct irc_msg *m);
void cmd_whowas(struct client *c, struct irc_msg *m);
void cmd_userhost(struct client *c, struct irc_msg *m);
void cmd_ison(struct client *c, struct irc_msg *m);
void cmd_lusers(struct client *c, struct irc_msg *m);
void cmd_motd(struct client *c, struct irc_msg *m);
void cmd_version(struct client *c, struct irc_msg *m);
void cmd_time(struct client *c, struct irc_msg *m);
void cmd_admin(struct client *c, struct irc_msg *m);
void cmd_info(struct client *c, struct irc_msg *m);
void cmd_links(struct client *c, struct irc_msg *m);
void cmd_help(struct client *c, struct irc_msg *m);

void cmd_away(struct client *c, struct irc_msg *m);
void cmd_setname(struct client *c, struct irc_msg *m);
void cmd_oper(struct client *c, struct irc_msg *m);
void cmd_kill(struct client *c, struct irc_msg *m);
void cmd_wallops(struct client *c, struct irc_msg *m);
void cmd_monitor(struct client *c, struct irc_msg *m);

#endif
