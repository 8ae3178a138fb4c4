/*
 * svc_chanserv_held.h - ChanServ HELD, RELEASE and REJECT: a group's
 * managers review the messages an automatic rule held (rules/held.h).
 * Rows of cs_commands in svc_chanserv.c.
 */
#ifndef QUN_IRC_SVC_CHANSERV_HELD_H
#define QUN_IRC_SVC_CHANSERV_HELD_H

struct client;

void cs_held(struct client *c, int argc, char **argv);
void cs_release(struct client *c, int argc, char **argv);
void cs_reject(struct client *c, int argc, char **argv);

#endif
