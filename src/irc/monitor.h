/*
 * monitor.h - MONITOR (IRCv3): clients watching nicknames come and go.
 *
 * The watch table maps a folded nickname to the list of client ids watching
 * it, so announcing a sign-on or nick change costs one lookup, not a scan.
 */
#ifndef QUN_IRC_MONITOR_H
#define QUN_IRC_MONITOR_H

#include <stddef.h>

struct client;
struct irc_msg;

void monitor_command(struct client *c, const struct irc_msg *m);
/* c is now online under its current nick (registration or nick change). */
void monitor_notify_online(struct client *c);
/* c's nick (folded, display) is going offline (quit or nick change). */
void monitor_notify_offline(const char *folded, const char *nick);
/* c changed its nick from old_nick (folded old_folded) to its current one:
 * watchers of the old name see it go offline and watchers of the new one
 * see it come online. A change of case only (same folded nick) is not a
 * sign-off and sends nothing. */
void monitor_notify_nick_change(struct client *c, const char *old_folded, const char *old_nick);
/* The clients MONITORing c's current nick (count in *n; NULL when none).
 * Valid until the next MONITOR change or disconnect: use it at once. */
struct client *const *monitor_watchers(const struct client *c, size_t *n);
/* Drops all of c's watches (on disconnect). */
void monitor_forget(struct client *c);

#endif
