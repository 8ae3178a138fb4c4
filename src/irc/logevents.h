/*
 * logevents.h - group events for the network log (see logevents.c).
 */
#ifndef QUN_IRC_LOGEVENTS_H
#define QUN_IRC_LOGEVENTS_H

#include <stdbool.h>

struct client;
struct channel;

/* Appends kind ("join", "part", "kick", "quit", "topic", "mode", "role")
 * by c (NULL: the server) in ch, with up to two text details as JSON.
 * relayed: call it right after the event was sent; the log then keeps the
 * event's msgid and time (event_last_msgid) for history playback. */
void log_group_event(const char *kind, struct client *c, struct channel *ch, bool relayed,
                     const char *k1, const char *v1, const char *k2, const char *v2);

#endif
