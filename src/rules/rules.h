/*
 * rules.h - automatic rules on group messages (rules art. 10).
 *
 * Flood (messages per window), duplicate spam (the same text in N groups
 * within a window) and operator-supplied pattern lists (literal or regex,
 * in files named by the configuration), each with an action and a
 * severity of SPEC §6:
 *   block  the message is refused and the sender told why;
 *   hold   the message is kept (held_messages) for the group's managers
 *          to release or reject (ChanServ HELD/RELEASE/REJECT);
 *   flag   the message goes through and the hit is recorded.
 * Every hit is a network-log event; deductions go through
 * sanction_apply().
 *
 * Threads: loop thread only.
 */
#ifndef QUN_RULES_RULES_H
#define QUN_RULES_RULES_H

#include <stddef.h>

struct client;
struct channel;
struct qun_config;

enum rule_verdict { RULE_PASS, RULE_FLAG, RULE_HOLD, RULE_BLOCK };

/* Loads the pattern files of cfg; -1 with a sentence (file:line) in err.
 * Called at start-up and on SIGHUP (a bad file keeps the old rules). */
int rules_load(const struct qun_config *cfg, char *err, size_t errlen);
void rules_free(void);

/* Checks one message to a group (status: its STATUSMSG prefix, "" for the
 * whole group). RULE_BLOCK and RULE_HOLD write the sentence for the sender
 * into why; RULE_HOLD has already kept the message (held.h); RULE_FLAG and
 * RULE_PASS mean the message goes on. Messages of senders without an
 * account pass (production needs identity level 1 to post). Every hit is a
 * network-log event; a block applies its consequence (sanction_apply, at
 * most once per account and rule within rules.sanction_seconds). */
enum rule_verdict rules_check(struct client *c, struct channel *ch, const char *status,
                              const char *command, const char *text, const char *tags, char *why,
                              size_t len);

/* "block", "hold", "flag" (and "pass"). */
const char *rule_verdict_name(enum rule_verdict v);

/* A NOTICE from ChanServ to every online connection of ch's owner and
 * managers. */
void rules_tell_managers(struct channel *ch, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
