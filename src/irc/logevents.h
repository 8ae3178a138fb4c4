/*
 * logevents.h - group events for the network log (see logevents.c).
 */
#ifndef QUN_IRC_LOGEVENTS_H
#define QUN_IRC_LOGEVENTS_H

struct client;
struct channel;

/* Appends kind ("join", "part", "kick", "quit", "topic", "mode", "role")
 * by c (NULL: the server) in ch, with up to two text details as JSON. */
void log_group_event(const char *kind, struct client *c, struct channel *ch, const char *k1,
                     const char *v1, const char *k2, const char *v2);

#endif
