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

/* Checks one message to a group. RULE_BLOCK and RULE_HOLD write the
 * sentence for the sender into why; RULE_HOLD has already kept the
 * message. */
enum rule_verdict rules_check(struct client *c, struct channel *ch, const char *command,
                              const char *text, const char *tags, char *why, size_t len);

#endif
