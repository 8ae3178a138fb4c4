/*
 * service.h - the shape every service shares (NickServ, ChanServ,
 * CreditServ, ReportServ): a reserved nick, a table of commands, HELP
 * generated from that table, and NOTICE answers from
 * "<Nick>!<Nick>@services.<server>".
 *
 * A service is not a client. PRIVMSG to its nick is handed to
 * service_dispatch() by cmd_message.c; service_find() is also what makes
 * the nick reserved (cmd_register.c). Each command is one row: name,
 * minimum arguments, where a free-text tail starts, whether a login is
 * needed, the handler, usage and help, so HELP and the dispatcher cannot
 * disagree. A module adds a service by defining a struct service and
 * naming it in the registry in service.c.
 *
 * Threads: loop only.
 */
#ifndef QUN_IRC_SERVICE_H
#define QUN_IRC_SERVICE_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct account;

#define SVC_MAX_ARGS 8

struct svc_cmd {
    const char *name;
    int min_args;
    int rest_at; /* from this argument on, the rest of the line is one argument; -1: never */
    bool need_login;
    void (*fn)(struct client *c, int argc, char **argv);
    const char *usage;
    const char *help;
};

struct service {
    const char *nick;
    const char *about;  /* first line of HELP: what the service is for */
    const char *footer; /* last line of HELP */
    const struct svc_cmd *cmds;
    size_t ncmds;
    bool wipe; /* the text may hold a password: wipe it after the command */
};

extern const struct service nickserv_service, chanserv_service;
extern const struct service creditserv_service; /* svc_creditserv.c */
extern const struct service reportserv_service;

/* The service with this nick (any case), or NULL. */
const struct service *service_find(const char *nick);

/* Runs one command line (text is modified in place). */
void service_dispatch(const struct service *s, struct client *c, char *text);
/* The same for "NS REGISTER pw"-style commands, whose words arrive as
 * parameters. */
struct irc_msg;
void service_command(const struct service *s, struct client *c, struct irc_msg *m);

/* A NOTICE from s to c. */
void service_notice(const struct service *s, struct client *c, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A NOTICE from s to every connection logged in as a (nobody when offline). */
void service_tell(const struct service *s, const struct account *a, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "<Nick>!<Nick>@services.<server>" (static; use before the next call). */
const char *service_source(const struct service *s);

/* Asynchronous work for a client: service_hold() passes the client's id
 * and holds its further lines until the answer (server_hold); the callback
 * calls service_resume(ud) exactly once, which gives the client back or
 * NULL if it left. service_unhold(c) when the call was refused before
 * anything was queued. */
void *service_hold(struct client *c);
struct client *service_resume(void *ud);
void service_unhold(struct client *c);

#endif
