/*
 * sanction.h - graded sanctions on groups and people, the blacklist and
 * the emergency switch (SPEC §7, rules art. 5 and 11).
 *
 * Group states: normal -> warned (owner and managers told to rectify
 * within 72 h) -> posting suspended (default 7 days) -> closed (members
 * removed, name, code and log kept). Escalation is automatic: 3 upheld
 * violations within 30 days -> warned; another during a warning ->
 * suspended; closure only by a moderator. Person sanctions: management
 * rights suspended (timed) or revoked, group creation revoked, posting
 * suspended platform-wide (timed). A timed sanction lifts itself when its
 * time ends (a qclock job). Every sanction and every lifting is a
 * network-log event, told to its subject with the reason and how to
 * appeal; serious and severe decisions, closures and blacklistings are
 * queued as reports to the authority (report/report.h).
 *
 * Rows: sanctions, group_violations, blacklist, emergency (store schema
 * step 4). State is loaded at start-up and written through.
 *
 * Threads: loop thread only.
 */
#ifndef QUN_SANCTION_SANCTION_H
#define QUN_SANCTION_SANCTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "credit/credit.h"

struct account;
struct channel;
struct client;
struct store;

enum group_state { GROUP_NORMAL, GROUP_WARNED, GROUP_SUSPENDED, GROUP_CLOSED };

int sanction_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen);
void sanction_detach_store(void);

enum group_state sanction_group_state(int64_t code);
const char *group_state_name(enum group_state s);

/* A decided violation (an upheld complaint, an automatic rule, an
 * operator): the one place that applies its consequences in order:
 *   1. the credit deduction of severity to subject (credit_penalize),
 *   2. when group_code and group_violation: a violation counted against
 *      the group (escalation),
 *   3. person measures: serious -> management rights suspended 30 days;
 *      severe -> group creation revoked and a blacklist review,
 *   4. a report to the authority for serious and severe.
 * subject may be NULL (a group-only decision). evidence like
 * "complaint:12" or "msgid:..."; author "account:<name>", "unix:<user>" or
 * "system". */
struct sanction_decision {
    struct account *subject;
    int64_t group_code;
    bool group_violation;
    enum credit_severity severity;
    const char *rule; /* the rule or reason, shown to the subject */
    const char *evidence;
    const char *author;
};
void sanction_apply(const struct sanction_decision *d);

/* Gates. Each writes one sentence (with the reason, the end time when
 * timed, and how to appeal) into why and returns false when refused. */
bool sanction_may_post(const struct client *c, const struct channel *ch, char *why, size_t len);
bool sanction_may_manage(const struct account *a, char *why, size_t len);
bool sanction_may_create(const struct account *a, char *why, size_t len);

/* The blacklist (identity entries are the vault's keyed hash). */
bool blacklist_has_identity(const uint8_t *hash, size_t len);
bool blacklist_has_group(int64_t code);
/* Whether a's identity is blacklisted (false without a level-2 identity). */
bool blacklist_has_account(const struct account *a);

#endif
