/*
 * complaint.h - complaints and their handling (SPEC §8, rules art. 12).
 *
 * Anyone logged in may REPORT a message (by msgid), a user or a group,
 * with a category and a free text, from the REPORT command or ReportServ.
 * The reporter gets the complaint id at once and the outcome later.
 * A complaint about a group (or a message in it) goes first to the
 * group's owner and managers (deadline 24 h), who dismiss, dismiss as
 * malicious, uphold with a rule (a severity of SPEC §6) or escalate;
 * complaints about a user, escalated ones and ones left past the group
 * deadline go to platform moderators (deadline 72 h) through qunctl.
 * Upholding goes through sanction_apply(); dismissing as malicious costs
 * the reporter credit (repeat offenders are flagged); an upheld complaint
 * that was left past the group's deadline costs the owner and each
 * manager -20 (negligence). Every filing and decision is a network-log
 * event. Counts and handling times are queryable (complaints.stats).
 *
 * Rows: complaints (store schema step 4). Threads: loop thread only.
 */
#ifndef QUN_COMPLAINT_COMPLAINT_H
#define QUN_COMPLAINT_COMPLAINT_H

#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct store;

int complaint_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen);
void complaint_detach_store(void);

#endif
