/*
 * monitor.h - MONITOR (IRCv3): clients watching nicknames come and go.
 *
 * The watch table maps a folded nickname to the list of client ids watching
 * it, so announcing a sign-on or nick change costs one lookup, not a scan.
 */
#ifndef QUN_IRC_MONITOR_H
#define QUN_IRC_MONITOR_H

struct client;
struct irc_msg;

void monitor_command(struct client *c, const struct irc_msg *m);
/* c is now online under its current nick (registration or nick change). */
void monitor_notify_online(struct client *c);
/* c's nick (folded, display) is going offline (quit or nick change). */
void monitor_notify_offline(const char *folded, const char *nick);
/* Drops all of c's watches (on disconnect). */
void monitor_forget(struct client *c);

#endif
