/*
 * svc_chanserv.c - the ChanServ service (placeholder being written).
 */
#include <strings.h>

#include "irc/channel.h"
#include "irc/client.h"
#include "irc/services.h"

bool svc_is_chanserv(const char *nick)
{
    return strcasecmp(nick, "ChanServ") == 0;
}

void chanserv_command(struct client *c, char *text)
{
    (void)c;
    (void)text;
}

void chanserv_request_notify(struct channel *ch, struct client *requester)
{
    (void)ch;
    (void)requester;
}
