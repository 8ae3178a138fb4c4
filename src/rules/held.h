/*
 * held.h - messages held by a rule for a manager's review (rules art. 10):
 * the held_messages rows, and the two decisions a manager takes through
 * ChanServ (irc/svc_chanserv_held.c): RELEASE and REJECT.
 *
 * Life of a held message:
 *
 *   rules_check -> held_keep()   row inserted (decision NULL), then a
 *                                "held" network-log event with the text,
 *                                then the group's managers are told
 *   RELEASE -> held_decide()     decision "released" written only if still
 *                                undecided, a "held" event, then the text
 *                                goes through the message path in its
 *                                author's name (msgpath_submit_released:
 *                                durable in the log before delivery)
 *   REJECT  -> held_decide()     decision "rejected" written only if still
 *                                undecided, a "held" event, then the rule's
 *                                consequence (sanction_apply, author the
 *                                deciding manager)
 *
 * Invariant: a row is decided at most once (the UPDATE carries "AND
 * decision IS NULL" and only the write that changed the row acts).
 *
 * Threads: loop thread only; store callbacks run on the loop.
 */
#ifndef QUN_RULES_HELD_H
#define QUN_RULES_HELD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "credit/credit.h"

struct account;
struct channel;
struct client;

#define HELD_LIST_MAX 20 /* rows HELD shows at once */

struct held_row {
    int64_t id, code, account_id, held_at;
    char *account; /* the author's account name */
    char *sender;  /* nick!user@host when it was written */
    char *command; /* PRIVMSG or NOTICE */
    char *text;
    char *tags;    /* client tags or NULL */
    char *relayed; /* STATUSMSG prefix or NULL */
    char *rule;
    char *severity;
    bool group_violation;
    char *decision; /* NULL while it waits */
};

/* Keeps c's message to ch for review (rule, its severity and whether it
 * counts against the group when rejected). Asynchronous; failures are told
 * to c's account and logged. */
void held_keep(struct client *c, struct channel *ch, const char *status, const char *command,
               const char *text, const char *tags, const char *rule, enum credit_severity sev,
               bool group_violation);

/* The waiting messages of group code, oldest first (at most
 * HELD_LIST_MAX); status 0 or a STORE_ERR_*. */
typedef void (*held_list_cb)(void *ud, int status, const struct held_row *rows, size_t n);
int held_list(int64_t code, held_list_cb cb, void *ud);

/* One held message (row NULL when there is none). */
typedef void (*held_get_cb)(void *ud, int status, const struct held_row *row);
int held_get(int64_t id, held_get_cb cb, void *ud);

/* Releases or rejects row for manager by. result: 0 done, 1 someone
 * decided it first, -1 the store or the log refused. */
typedef void (*held_done_cb)(void *ud, int result);
int held_decide(const struct held_row *row, bool release, const struct account *by, held_done_cb cb,
                void *ud);

#endif
