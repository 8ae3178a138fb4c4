/*
 * services.h - account operations as IRC sees them, shared by the IRCv3
 * commands (REGISTER, VERIFY in cmd_account.c) and the NickServ service
 * (svc_nickserv.c), so both run the same checks and differ only in how
 * the answer is worded: standard replies for REGISTER/VERIFY, NOTICEs from
 * NickServ for the service.
 */
#ifndef QUN_IRC_SERVICES_H
#define QUN_IRC_SERVICES_H

#include <stdbool.h>

struct client;
struct account;

enum svc_via { VIA_COMMAND, VIA_NICKSERV };

/* A NOTICE from NickServ (service.h). */
void ns_notice(struct client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Registers name (phone may be NULL) and logs the client in, or sends a
 * code to the phone first. The answer goes back by via. */
void svc_register(struct client *c, enum svc_via via, const char *name, const char *phone,
                  const char *password);
/* Confirms a phone code for account a (level 1); logs in if needed. */
void svc_verify(struct client *c, enum svc_via via, struct account *a, const char *code);

/* ChanServ (svc_chanserv.c): group management for plain clients. */
struct channel;
/* Tells the group's online managers that requester asks to join. */
void chanserv_request_notify(struct channel *ch, struct client *requester);

/* Complaints (cmd_report.c): the one way both REPORT and ReportServ
 * REPORT file a complaint; the answer goes back by via. */
enum report_via { REPORT_VIA_COMMAND, REPORT_VIA_SERVICE };
void report_submit(struct client *c, enum report_via via, const char *target, const char *category,
                   const char *text);
/* ReportServ becomes the complaint module's voice (complaint_tell_hook). */
void reportserv_attach(void);
#endif
