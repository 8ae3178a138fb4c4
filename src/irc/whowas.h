/*
 * whowas.h - a bounded history of nicknames that left (WHOWAS).
 *
 * A ring of limits.whowas entries; the oldest entry is overwritten.
 */
#ifndef QUN_IRC_WHOWAS_H
#define QUN_IRC_WHOWAS_H

#include <stddef.h>
#include <time.h>

struct client;
struct irc_msg;

/* One remembered nick; all strings owned by the ring, account may be NULL. */
struct whowas_entry {
    char *nick, *folded, *user, *host, *realname, *account, *server;
    time_t when;
};

/* Records c under its current nick (on quit and nick change). The ring
 * holds server_config->whowas_max entries (0: none are kept). */
void whowas_add(const struct client *c);
void whowas_command(struct client *c, const struct irc_msg *m);

/* Calls fn for up to max entries recorded under the folded nick, newest
 * first (max 0: all); returns how many were visited. */
size_t whowas_find(const char *folded, size_t max,
                   void (*fn)(const struct whowas_entry *e, void *ud), void *ud);
/* Frees every entry (shutdown, tests). */
void whowas_reset(void);

#endif
