/*
 * logevents.c - the group events of the network log that are not chat
 * messages (SPEC §9): joins, parts, kicks, quits, topic, mode and role
 * changes. Chat messages go through msgpath.c (durable before delivery);
 * these are appended as they happen, in the same sequence.
 */
#include "irc/logevents.h"

#include <jansson.h>
#include <stdlib.h>

#include "account/account.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/send.h"
#include "netlog/netlog.h"

void log_group_event(const char *kind, struct client *c, struct channel *ch, bool relayed,
                     const char *k1, const char *v1, const char *k2, const char *v2)
{
    char prefix[512];
    json_t *o = json_object();
    if (k1 && v1)
        json_object_set_new(o, k1, json_string(v1));
    if (k2 && v2)
        json_object_set_new(o, k2, json_string(v2));
    char *body = json_object_size(o) ? json_dumps(o, JSON_COMPACT) : NULL;
    json_decref(o);
    uint64_t at = 0;
    const char *msgid = relayed ? event_last_msgid(&at) : NULL;
    struct netlog_event e = {.at_ms = relayed ? (int64_t)at : 0,
                             .kind = kind,
                             .actor = c ? client_prefix(c, prefix, sizeof prefix) : "server",
                             .target = ch->name,
                             .code = ch->code,
                             .account_id = c && c->acct ? c->acct->id : 0,
                             .msgid = msgid,
                             .body = body};
    netlog_append(&e, NULL, NULL);
    free(body);
}
