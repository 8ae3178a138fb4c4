/*
 * credit.h - credit scores and levels (SPEC §6): the single place that
 * turns an account into a level and the privileges that level grants.
 *
 * A score is the configured initial score (groups.credit_initial, 600)
 * plus the sum of the account's credit events, clamped to 0..1000. Events
 * are append-only rows of credit_events (reason code, delta, evidence,
 * author, time); the credit issue adds recovery, appeals and the user's
 * view of the ledger on top of this same table. Every privilege check
 * (groups owned, members per owned group, groups joined, managing) goes
 * through credit_level().
 *
 * Threads: loop thread only.
 */
#ifndef QUN_CREDIT_CREDIT_H
#define QUN_CREDIT_CREDIT_H

#include <stdint.h>
#include <uv.h>

struct account;
struct store;
struct config_credit_level;

/* Start-up: sums every account's events (runs the loop until done). */
int credit_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen);
void credit_detach_store(void);

int credit_score(const struct account *a);
/* The level row for an account (never NULL; an account-less user gets
 * the level of the initial score). */
const struct config_credit_level *credit_level(const struct account *a);

typedef void (*credit_cb)(void *ud, int status);
/* Appends an event and applies it once committed; status 0 or -1. */
int credit_adjust(struct account *a, int delta, const char *reason, const char *evidence,
                  const char *author, credit_cb cb, void *ud);

/* The deductions of SPEC §6, one per kind of decided violation. */
enum credit_severity {
    CREDIT_MINOR,      /* flood, spam burst: -10 */
    CREDIT_GENERAL,    /* upheld complaint: -30 */
    CREDIT_SERIOUS,    /* -100, management rights suspended 30 days */
    CREDIT_SEVERE,     /* -300, group creation revoked, blacklist review, report */
    CREDIT_NEGLIGENCE, /* upheld complaint left past its deadline: -20 each */
    CREDIT_MALICIOUS,  /* complaint dismissed as malicious: -20 to its author */
};
#define CREDIT_NSEVERITIES 6

int credit_severity_delta(enum credit_severity s);
/* "minor", "general", "serious", "severe", "negligence", "malicious". */
const char *credit_severity_name(enum credit_severity s);
/* The severity named (any case), or -1. */
int credit_severity_parse(const char *name);

/* credit_adjust with the deduction of s and its name as the reason code
 * ("severity:<name>" unless reason is given). */
int credit_penalize(struct account *a, enum credit_severity s, const char *reason,
                    const char *evidence, const char *author, credit_cb cb, void *ud);

#endif
