/*
 * service.c - the service registry, dispatch and HELP (see service.h).
 */
#include "irc/service.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "irc/client.h"
#include "irc/send.h"
#include "irc/server.h"
#include "proto/message.h"

static const struct service *const services[] = {
    &nickserv_service,
    &chanserv_service,
    &creditserv_service,
    &reportserv_service,
};
#define NSERVICES (sizeof services / sizeof services[0])

const struct service *service_find(const char *nick)
{
    for (size_t i = 0; i < NSERVICES; i++)
        if (strcasecmp(services[i]->nick, nick) == 0)
            return services[i];
    return NULL;
}

const char *service_source(const struct service *s)
{
    static char src[300];
    snprintf(src, sizeof src, "%s!%s@services.%s", s->nick, s->nick, server_name());
    return src;
}

static void service_vnotice(const struct service *s, struct client *c, const char *fmt, va_list ap)
{
    char text[460];
    vsnprintf(text, sizeof text, fmt, ap);
    send_line(c, ":%s NOTICE %s :%s", service_source(s), client_nick(c), text);
}

void service_notice(const struct service *s, struct client *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    service_vnotice(s, c, fmt, ap);
    va_end(ap);
}

struct service_tell {
    const struct service *s;
    const struct account *a;
    const char *text;
};

static void service_tell_one(struct client *c, void *ud)
{
    struct service_tell *t = ud;
    if (c->acct == t->a && c->state == CLIENT_REGISTERED)
        service_notice(t->s, c, "%s", t->text);
}

void service_tell(const struct service *s, const struct account *a, const char *fmt, ...)
{
    char text[460];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    struct service_tell t = {s, a, text};
    client_foreach(service_tell_one, &t);
}

void *service_hold(struct client *c)
{
    server_hold(c);
    return (void *)(uintptr_t)c->id;
}

struct client *service_resume(void *ud)
{
    server_release_id((uint64_t)(uintptr_t)ud);
    return client_by_id((uint64_t)(uintptr_t)ud);
}

void service_unhold(struct client *c)
{
    server_release_id(c->id);
}

static const struct svc_cmd *service_cmd(const struct service *s, const char *name)
{
    for (size_t i = 0; i < s->ncmds; i++)
        if (strcasecmp(s->cmds[i].name, name) == 0)
            return &s->cmds[i];
    return NULL;
}

static void service_help(const struct service *s, struct client *c, const char *topic)
{
    const struct svc_cmd *cmd = topic ? service_cmd(s, topic) : NULL;
    if (cmd) {
        service_notice(s, c, "Syntax: %s", cmd->usage);
        service_notice(s, c, "%s", cmd->help);
        return;
    }
    if (topic)
        service_notice(s, c, "There is no command %.40s.", topic);
    service_notice(s, c, "%s Commands:", s->about);
    service_notice(s, c, "  %-10s %s", "HELP", "HELP [command]");
    for (size_t i = 0; i < s->ncmds; i++)
        service_notice(s, c, "  %-10s %s", s->cmds[i].name, s->cmds[i].usage);
    service_notice(s, c, "%s", s->footer);
}

/* Splits text in place: words, except that from index rest_at on the
 * remainder of the line is one argument. Returns the argument count, or
 * -1 when there are more than SVC_MAX_ARGS. */
static int service_split(char *text, int rest_at, char **argv)
{
    int argc = 0;
    char *p = text;
    for (;;) {
        while (*p == ' ')
            p++;
        if (!*p)
            return argc;
        if (argc == SVC_MAX_ARGS)
            return -1;
        argv[argc++] = p;
        if (argc - 1 == rest_at)
            return argc;
        p += strcspn(p, " ");
        if (*p)
            *p++ = '\0';
    }
}

static void service_run(const struct service *s, struct client *c, char *text)
{
    char *argv[SVC_MAX_ARGS];
    while (*text == ' ')
        text++;
    char *rest = text + strcspn(text, " ");
    if (*rest)
        *rest++ = '\0';
    if (!*text || strcasecmp(text, "HELP") == 0) {
        int argc = service_split(rest, -1, argv);
        service_help(s, c, argc > 0 ? argv[0] : NULL);
        return;
    }
    const struct svc_cmd *cmd = service_cmd(s, text);
    if (!cmd) {
        service_notice(s, c, "Unknown command %.40s. /msg %s HELP lists them.", text, s->nick);
        return;
    }
    int argc = service_split(rest, cmd->rest_at, argv);
    if (argc < cmd->min_args || argc < 0)
        service_notice(s, c, "Syntax: %s", cmd->usage);
    else if (cmd->need_login && !c->acct)
        service_notice(s, c, "Log in first (/msg NickServ IDENTIFY, or SASL) to use %s.",
                       cmd->name);
    else
        cmd->fn(c, argc, argv);
}

void service_dispatch(const struct service *s, struct client *c, char *text)
{
    size_t len = strlen(text);
    service_run(s, c, text);
    if (s->wipe)
        sodium_memzero(text, len); /* it may have held a password */
}

void service_command(const struct service *s, struct client *c, struct irc_msg *m)
{
    char line[512];
    size_t n = 0;
    line[0] = '\0';
    for (size_t i = 0; i < m->nparams; i++)
        n += (size_t)snprintf(line + n, n < sizeof line ? sizeof line - n : 0, "%s%s", i ? " " : "",
                              m->params[i]);
    service_dispatch(s, c, line);
    sodium_memzero(line, sizeof line);
}
