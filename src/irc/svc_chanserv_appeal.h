/*
 * svc_chanserv_appeal.h - ChanServ APPEAL <sanction id> <text> and
 * APPEALS: appeals against sanctions by their subject or their group's
 * owner (sanction/sanction.h). Rows of cs_commands in svc_chanserv.c.
 */
#ifndef QUN_IRC_SVC_CHANSERV_APPEAL_H
#define QUN_IRC_SVC_CHANSERV_APPEAL_H

struct client;

void cs_appeal(struct client *c, int argc, char **argv);
void cs_appeals(struct client *c, int argc, char **argv);

#endif
