/*
 * retention.h - how long the network log keeps events, and the purge
 * (SPEC §9, rules art. 13: no less than six months; issue 5 item 5).
 *
 * Two parts:
 *
 *   1. Calendar arithmetic (sans-IO): retention_cutoff_ms() turns "now"
 *      and a number of months into the oldest instant that must still be
 *      kept. Months are CALENDAR months in China time (UTC+8, no daylight
 *      saving): an event of local day D is kept at least until the end of
 *      the same day-of-month keep_months months later, and when that day
 *      does not exist (31 August + 6 months) until the end of that month
 *      (the end of February, 28th or 29th).
 *
 *   2. The purge (database): retention_purge() deletes, in one IMMEDIATE
 *      transaction, a PREFIX of the log (seq < first_kept) and records in
 *      the purged table what the tree still needs: the chain value of the
 *      last purged record and the Merkle accumulator (merkle.h) covering
 *      seq 1..first_kept-1, so verification and the writer resume from it.
 *
 * Why only a prefix: the log must stay verifiable. first_kept is the first
 * seq that must be kept, either because it is recent (at >= cutoff) or
 * because an active legal hold covers it; everything after it stays, even
 * when old. A hold, like a recent event, pins every later event.
 *
 * Holds (table holds, released_at IS NULL means active):
 *   group    value = group code (decimal)       events.code = value
 *   account  value = account id (decimal) or    events.account_id = value,
 *            account name                       or actor = value, or
 *                                               target = value
 *   case     value = "<case id>"                keeps EVERYTHING (nothing is
 *                                               purged while it is active)
 *            value = "<case id>:<from>-<to>"    keeps seq from..to (and so,
 *                                               by the prefix rule, all after)
 *
 * The purge refuses to delete a record whose leaf or chain does not check
 * out (tamper evidence must not be erased by the purge); it names it.
 *
 * Threads: retention_purge and retention_purge_file block on the disk; the
 * daemon calls retention_purge_file on the libuv thread pool. Each call
 * uses the connection it is given (or opens its own).
 */
#ifndef QUN_NETLOG_RETENTION_H
#define QUN_NETLOG_RETENTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sqlite3.h>

#define RETENTION_MIN_MONTHS   6
#define RETENTION_TZ_OFFSET_MS (8 * 3600 * 1000LL) /* China time, UTC+8 */

/* Days since 1970-01-01 of a proleptic Gregorian date (m 1..12). */
int64_t retention_days_from_civil(int y, int m, int d);
/* The reverse. */
void retention_civil_from_days(int64_t days, int *y, int *m, int *d);
bool retention_leap_year(int y);
int retention_days_in_month(int y, int m);
/* Milliseconds since the epoch of a wall-clock time in China time. */
int64_t retention_china_ms(int y, int mo, int d, int h, int mi, int s);

/* The oldest instant that must still be kept at now_ms when keeping
 * keep_months calendar months (China time): events with at < cutoff may be
 * purged. The cutoff is always a local midnight. keep_months >= 0. */
int64_t retention_cutoff_ms(int64_t now_ms, int keep_months);

struct retention_result {
    int64_t cutoff_ms;      /* the cutoff used */
    int64_t first_before;   /* first seq present before the purge */
    int64_t first_kept;     /* first seq present after it (= purged.first) */
    int64_t purged;         /* events deleted */
    int64_t pinned_by_hold; /* id of the hold that stopped the purge early, or 0 */
    int64_t held_seq;       /* the first seq that hold covers, or 0 */
    double seconds;         /* wall time */
};

/* Purges events with at < cutoff_ms not covered by an active hold, as a
 * prefix (see above). 0 on success (also when nothing was old enough),
 * -1 with one sentence in err (nothing changed). r may be NULL. */
int retention_purge(sqlite3 *db, int64_t cutoff_ms, char *err, size_t errlen,
                    struct retention_result *r);

/* Opens db_path read-write (its own connection, busy timeout 30 s), purges
 * what keep_months (>= RETENTION_MIN_MONTHS) allows at now_ms, closes. */
int retention_purge_file(const char *db_path, int keep_months, int64_t now_ms, char *err,
                         size_t errlen, struct retention_result *r);

#endif
