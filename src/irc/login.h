/*
 * login.h - the IRC side of accounts: logging a client in and out, the
 * notifications that follow (900/901, account-notify), nick protection,
 * and the identity gates on posting and channel creation.
 *
 * Every way in (SASL PLAIN/SCRAM/EXTERNAL, REGISTER/VERIFY, NickServ
 * IDENTIFY) ends in login_complete(), so the session record, the
 * notifications and the nick-protection state are the same whatever the
 * mechanism.
 *
 * Nick protection: a client whose nick is a registered account's name and
 * who is not logged in to that account is told so and gets
 * accounts.nick_grace seconds; then it is renamed to "Guest<digits>"
 * (client->guard_ms is the deadline, driven by the server's timing wheel).
 */
#ifndef QUN_IRC_LOGIN_H
#define QUN_IRC_LOGIN_H

#include <stdbool.h>
#include <stddef.h>

struct client;
struct account;

/* Sets account_changed_hook (level, suspension and drop notices). */
void login_init(void);
/* Logs c in to a (taking a reference); mech is a static string. */
void login_complete(struct client *c, struct account *a, const char *mech);
/* Logs c out (DROP, suspension); why goes into the 901 text. */
void login_logout(struct client *c, const char *why);
/* From client_destroy: records the logout, drops the reference, ends a
 * SASL exchange in progress. */
void login_client_gone(struct client *c);

/* After a nick is set (registration or NICK): arms or clears protection. */
void nickguard_check(struct client *c);
/* A free "Guest<digits>" nick into buf. */
void nickguard_guest_name(char *buf, size_t len);
/* The deadline passed: rename if still unprotected. */
void nickguard_expire(struct client *c);

/* Gates (SPEC §4). Each sends the FAIL (+ NOTICE without standard-replies)
 * itself and returns false when the client may not go on. */
bool login_may_post(struct client *c, const char *command, const char *target);
bool login_may_create(struct client *c, const char *channel);
/* The convention text (identity.convention) has a version to accept. */
bool login_convention_required(void);

#endif
