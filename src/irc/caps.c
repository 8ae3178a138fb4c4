/*
 * caps.c - the capability table and CAP negotiation (IRCv3 capability
 * negotiation 3.2, with cap-notify).
 *
 * Registration is held while a CAP LS or CAP REQ is outstanding until CAP
 * END (REG_CAP_PENDING); CAP LS 302 implies cap-notify. A REQ is atomic:
 * either every listed change is applied (ACK) or none (NAK).
 */
#include "irc/caps.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "proto/message.h"

struct cap_def {
    const char *name;
    uint32_t bit;
    bool sticky;                /* cannot be removed once enabled */
    const char *(*value)(void); /* CAP LS 302 value, or NULL */
};

/* SASL mechanisms (cmd_sasl.c). */
static const char *caps_sasl_value(void)
{
    return "PLAIN,EXTERNAL,SCRAM-SHA-256";
}

/* draft/account-registration: Qun lets the account name differ from the
 * nick; "email-required" means a phone number is required (cmd_account.c). */
static const char *caps_register_value(void)
{
    static char v[64];
    snprintf(v, sizeof v, "%s%scustom-account-name",
             server_config->before_connect ? "before-connect," : "",
             server_config->phone_required ? "email-required," : "");
    return v;
}

static const struct cap_def cap_table[] = {
    {"account-notify", CAP_ACCOUNT_NOTIFY, false, NULL},
    {"account-tag", CAP_ACCOUNT_TAG, false, NULL},
    {"away-notify", CAP_AWAY_NOTIFY, false, NULL},
    {"batch", CAP_BATCH, false, NULL},
    {"cap-notify", CAP_CAP_NOTIFY, false, NULL},
    {"draft/account-registration", CAP_ACCOUNT_REGISTRATION, false, caps_register_value},
    {"draft/chathistory", CAP_CHATHISTORY, false, NULL},
    {"draft/event-playback", CAP_EVENT_PLAYBACK, false, NULL},
    {"draft/message-redaction", CAP_REDACTION, false, NULL},
    {"chghost", CAP_CHGHOST, false, NULL},
    {"echo-message", CAP_ECHO_MESSAGE, false, NULL},
    {"extended-join", CAP_EXTENDED_JOIN, false, NULL},
    {"extended-monitor", CAP_EXTENDED_MONITOR, false, NULL},
    {"invite-notify", CAP_INVITE_NOTIFY, false, NULL},
    {"labeled-response", CAP_LABELED_RESPONSE, false, NULL},
    {"message-tags", CAP_MESSAGE_TAGS, false, NULL},
    {"multi-prefix", CAP_MULTI_PREFIX, false, NULL},
    {"sasl", CAP_SASL, false, caps_sasl_value},
    {"server-time", CAP_SERVER_TIME, false, NULL},
    {"setname", CAP_SETNAME, false, NULL},
    {"standard-replies", CAP_STANDARD_REPLIES, false, NULL},
    {"userhost-in-names", CAP_USERHOST_IN_NAMES, false, NULL},
};
#define CAP_COUNT (sizeof cap_table / sizeof cap_table[0])

const char *caps_name(uint32_t bit)
{
    for (size_t i = 0; i < CAP_COUNT; i++)
        if (cap_table[i].bit == bit)
            return cap_table[i].name;
    return "?";
}

static const struct cap_def *cap_find(const char *name, size_t len)
{
    for (size_t i = 0; i < CAP_COUNT; i++)
        if (strlen(cap_table[i].name) == len && memcmp(cap_table[i].name, name, len) == 0)
            return &cap_table[i];
    return NULL;
}

/* Sends a list of names as one or more "CAP * LS" lines; with 302 the
 * non-final lines carry the "*" continuation marker. A client before 302
 * has no continuation, so it gets one line (the names alone fit in one
 * 512-byte line; values are only for 302). */
static void caps_send_list(struct client *c, const char *sub, uint32_t filter, bool all)
{
    char line[460];
    size_t max = c->cap_version >= 302 ? 380 : sizeof line - 1;
    size_t len = 0;
    line[0] = '\0';
    for (size_t i = 0; i < CAP_COUNT; i++) {
        if (!all && !(filter & cap_table[i].bit))
            continue;
        const char *value =
            c->cap_version >= 302 && cap_table[i].value ? cap_table[i].value() : NULL;
        size_t n = strlen(cap_table[i].name) + (value ? strlen(value) + 1 : 0);
        if (len + n + 1 > max) {
            if (c->cap_version >= 302)
                send_line(c, ":%s CAP %s %s * :%s", server_name(), client_nick(c), sub, line);
            else
                send_line(c, ":%s CAP %s %s :%s", server_name(), client_nick(c), sub, line);
            len = 0;
            line[0] = '\0';
        }
        len += (size_t)snprintf(line + len, sizeof line - len, "%s%s%s%s", len ? " " : "",
                                cap_table[i].name, value ? "=" : "", value ? value : "");
    }
    send_line(c, ":%s CAP %s %s :%s", server_name(), client_nick(c), sub, line);
}

uint32_t caps_all(void)
{
    uint32_t all = 0;
    for (size_t i = 0; i < CAP_COUNT; i++)
        all |= cap_table[i].bit;
    return all;
}

bool caps_parse_req(const char *list, uint32_t *add, uint32_t *del)
{
    const char *p = list;
    *add = *del = 0;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        bool minus = *p == '-';
        if (minus)
            p++;
        const char *end = p;
        while (*end && *end != ' ')
            end++;
        const struct cap_def *d = cap_find(p, (size_t)(end - p));
        if (!d || (minus && d->sticky)) {
            *add = *del = 0;
            return false;
        }
        if (minus)
            *del |= d->bit;
        else
            *add |= d->bit;
        p = end;
    }
    return true;
}

int caps_parse_version(const char *s)
{
    int v = 0;
    if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
        return 0;
    for (; *s && v < 302; s++)
        v = v * 10 + (*s - '0');
    return v > 302 ? 302 : v;
}

/* Applies "a -b c" atomically; returns false (and changes nothing) if any
 * name is unknown or not removable. */
static bool caps_apply(struct client *c, const char *list)
{
    uint32_t add, del;
    if (!caps_parse_req(list, &add, &del))
        return false;
    c->caps = (c->caps | add) & ~del;
    return true;
}

void cmd_cap(struct client *c, struct irc_msg *m)
{
    const char *sub = m->params[0];
    char upper[16];
    size_t i;
    for (i = 0; sub[i] && i < sizeof upper - 1; i++)
        upper[i] = (char)((sub[i] >= 'a' && sub[i] <= 'z') ? sub[i] - 32 : sub[i]);
    upper[i] = '\0';

    if (strcmp(upper, "LS") == 0) {
        int version = m->nparams > 1 ? caps_parse_version(m->params[1]) : 0;
        if (version > c->cap_version)
            c->cap_version = (uint16_t)version;
        if (c->cap_version >= 302)
            c->caps |= CAP_CAP_NOTIFY;
        if (c->state != CLIENT_REGISTERED)
            c->reg_flags |= REG_CAP_PENDING;
        caps_send_list(c, "LS", 0, true);
    } else if (strcmp(upper, "LIST") == 0) {
        caps_send_list(c, "LIST", c->caps, false);
    } else if (strcmp(upper, "REQ") == 0) {
        if (m->nparams < 2) {
            send_numeric(c, ERR_NEEDMOREPARAMS, "CAP :Not enough parameters");
            return;
        }
        if (c->state != CLIENT_REGISTERED)
            c->reg_flags |= REG_CAP_PENDING;
        const char *list = m->params[1];
        bool ok = caps_apply(c, list);
        send_line(c, ":%s CAP %s %s :%s", server_name(), client_nick(c), ok ? "ACK" : "NAK", list);
    } else if (strcmp(upper, "END") == 0) {
        if (c->state != CLIENT_REGISTERED) {
            c->reg_flags &= (uint8_t)~REG_CAP_PENDING;
            register_try_complete(c);
        }
    } else {
        send_numeric(c, ERR_INVALIDCAPCMD, "%s :Invalid CAP subcommand", sub);
    }
}
