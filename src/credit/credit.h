/*
 * credit.h - credit scores and levels (SPEC §6): the single place that
 * turns an account into a level and the privileges that level grants.
 *
 * A score is the configured initial score (groups.credit_initial, 600)
 * plus the sum of the account's credit events, clamped to 0..1000. Events
 * are append-only rows of credit_events (reason code, delta, evidence,
 * author, time; triggers refuse UPDATE and DELETE); an event is undone
 * only by a later event that offsets it. Every privilege check (posting,
 * message rate, groups owned, members per owned group, groups joined,
 * managing) goes through credit_level().
 *
 * Invariants:
 *   1. a->credit_delta is the sum of the account's committed events: set
 *      by credit_load() from the table and then only by the completion of
 *      an append (credit_record), so it never drifts from the ledger.
 *   2. Every committed event is also a network-log event of kind "credit"
 *      (body: event id, delta, reason, evidence, author, score after).
 *   3. Recovery (+10 per full 30 days without a violation, never above 700
 *      by recovery) is derived from the ledger: the period counts from the
 *      latest of the account's creation, its last violation not offset by
 *      an upheld appeal, and its last "recovery" event, so a restart or a
 *      second run of the job never credits the same period twice.
 *   4. An upheld appeal appends the negation of the original event
 *      (reason "appeal-upheld", evidence "credit:<id>"); it is decided by
 *      someone other than the original event's author.
 *
 * Threads: loop thread only. Appeals and ledger reads are in appeal.c.
 */
#ifndef QUN_CREDIT_CREDIT_H
#define QUN_CREDIT_CREDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct account;
struct store;
struct config_credit_level;

#define CREDIT_RECOVERY_STEP   10           /* points per full period */
#define CREDIT_RECOVERY_PERIOD (30 * 86400) /* seconds without a violation */
#define CREDIT_RECOVERY_CAP    700          /* recovery alone never goes past this */
#define CREDIT_RECOVERY_BATCH  512          /* accounts credited per job run */
#define CREDIT_REASON_RECOVERY "recovery"
#define CREDIT_REASON_OFFSET   "appeal-upheld"
#define CREDIT_AUTHOR_RECOVERY "system:recovery"

/* Start-up: derives every account's sum, last violation and last recovery
 * from the ledger (runs the loop until done) and registers the recovery
 * job with qclock_every(). */
int credit_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen);
void credit_detach_store(void);

int credit_score(const struct account *a);
/* The level row for an account (never NULL; an account-less user gets
 * the level of the initial score). */
const struct config_credit_level *credit_level(const struct account *a);
/* The level row for a score (never NULL). */
const struct config_credit_level *credit_level_of_score(int score);

typedef void (*credit_cb)(void *ud, int status);
/* Appends an event and applies it once committed; status 0 or -1. */
int credit_adjust(struct account *a, int delta, const char *reason, const char *evidence,
                  const char *author, credit_cb cb, void *ud);
/* Inside a credit_cb (or credit_event_cb): the id of the event that has
 * just been committed, e.g. for "appeal with /msg CreditServ APPEAL <id>";
 * 0 outside a callback or when the append failed. */
int64_t credit_current_event(void);

/* The general append: at is the event's moderation time (0: now). cb gets
 * 0 with the new event's id and the score after it, or -1. Returns 0 when
 * queued, -1 when the store is not available (cb is not called). */
typedef void (*credit_event_cb)(void *ud, int status, int64_t event_id, int score_after);
int credit_record(struct account *a, int delta, const char *reason, const char *evidence,
                  const char *author, int64_t at, credit_event_cb cb, void *ud);

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

/* ---- the posting privileges of a level ---- */

enum credit_post {
    CREDIT_POST_OK = 0,
    CREDIT_POST_LEVEL = -1, /* the level may not post in groups */
    CREDIT_POST_RATE = -2,  /* over the level's messages per 10 s */
};
/* Whether a may post one more group message now; takes one message from
 * the account's rate bucket when it may. Otherwise writes one sentence
 * (the level, the reason, how credit recovers) into why. An account-less
 * client (a->NULL) is never refused here: login_may_post decides. */
int credit_may_post(struct account *a, char *why, size_t len);
/* Pure: a bucket of *tokens ten-thousandths of a message, refilled at
 * rate messages per 10 s up to rate messages; takes one message if there
 * is one. rate <= 0 means no limit. */
bool credit_rate_take(int *tokens, uint64_t *at_ms, int rate, uint64_t now_ms);

/* ---- recovery ---- */

/* Pure: the points one recovery period adds to score (0 at or above the
 * cap; a partial step up to the cap). */
int credit_recovery_step(int score);
/* When the account's current recovery period started (see invariant 3). */
int64_t credit_recovery_base(const struct account *a);
/* The job (qclock_every): appends the recovery events that are due. */
void credit_recovery_run(int64_t now);
/* One sentence for users on how credit recovers. */
const char *credit_recovery_sentence(void);

/* ---- the ledger and appeals (appeal.c); asynchronous reads ---- */

#define CREDIT_LIST_MAX    200 /* rows of one ledger or appeals listing */
#define CREDIT_APPEAL_TEXT 400 /* bytes of an appeal's text or a decision's note */

struct credit_event {
    int64_t id, account_id;
    int delta;
    const char *reason, *evidence, *author; /* evidence may be NULL */
    int64_t at;
    int64_t offset_by; /* the event that offsets this one, or 0 */
};
typedef void (*credit_event_row)(void *ud, const struct credit_event *e);
/* status 0, or -1 when the store failed. */
typedef void (*credit_done_cb)(void *ud, int status);
/* An account's events, newest first, at most limit (1..CREDIT_LIST_MAX). */
int credit_ledger(int64_t account_id, int limit, credit_event_row row, credit_done_cb done,
                  void *ud);

struct credit_appeal {
    int64_t id, event_id, account_id;
    const char *text;
    int64_t filed_at;
    const char *outcome; /* NULL while open, "upheld" or "rejected" */
    const char *decided_by, *note;
    int64_t decided_at, offset_event_id;
    int event_delta;
    const char *event_reason, *event_author;
};
typedef void (*credit_appeal_row)(void *ud, const struct credit_appeal *ap);
/* Appeals, newest first: account_id 0 for every account; state "open",
 * "upheld", "rejected" or NULL for all. */
int credit_appeals_list(int64_t account_id, const char *state, int limit, credit_appeal_row row,
                        credit_done_cb done, void *ud);

/* How many appeals are open (outcome NULL): cb(ud, 0, n), or status -1
 * when the store failed. Returns 0, or -1 (cb never runs) when the store
 * is not open. For the console's dashboard (ctl "status"). */
typedef void (*credit_count_cb)(void *ud, int status, int64_t n);
int credit_appeals_open_count(credit_count_cb cb, void *ud);

enum credit_appeal_status {
    CREDIT_APPEAL_OK = 0,
    CREDIT_APPEAL_NOT_FOUND = -1,   /* no such event of the account / no such appeal */
    CREDIT_APPEAL_OPEN = -2,        /* the event already has an open appeal */
    CREDIT_APPEAL_OFFSET = -3,      /* the event is already offset (or is an offset) */
    CREDIT_APPEAL_DECIDED = -4,     /* the appeal was decided already */
    CREDIT_APPEAL_SAME_AUTHOR = -5, /* the decider wrote the original event */
    CREDIT_APPEAL_STORE = -6,
    CREDIT_APPEAL_BAD = -7, /* empty or too long text */
};
struct credit_appeal_result {
    int status;
    const char *sentence; /* one sentence for the person who asked */
    int64_t appeal_id, event_id, offset_event_id;
    struct account *account; /* the appellant (NULL if gone) */
    bool upheld;
    int score; /* the appellant's score now */
};
typedef void (*credit_appeal_cb)(void *ud, const struct credit_appeal_result *r);
/* A user appeals one of their own events. cb always runs (later). */
void credit_appeal_file(struct account *a, int64_t event_id, const char *text, credit_appeal_cb cb,
                        void *ud);
/* A moderator decides an open appeal; actor like "unix:alice" must not be
 * the original event's author. Upheld: the offset event is appended and
 * the appeal points to it. Recorded in the network log. cb always runs. */
void credit_appeal_decide(int64_t appeal_id, bool uphold, const char *note, const char *actor,
                          credit_appeal_cb cb, void *ud);

/* Offsets event_id as an upheld appeal does (used by an upheld appeal
 * against a sanction that carried the event): appends the negation
 * (reason "appeal-upheld", evidence "credit:<id>", author actor), refreshes
 * the account's last violation, and closes an open credit appeal against
 * the event as upheld (pointing to the offset), so it cannot offset twice.
 * cb gets 0 with the offset's id and the score after it; 1 when there is
 * nothing to offset (no such event, already offset, or itself an offset);
 * -1 on a store failure. cb always runs. */
void credit_event_offset(int64_t event_id, const char *actor, const char *note, credit_event_cb cb,
                         void *ud);

/* Internal to src/credit/: the store handle and the refresh of an
 * account's last violation after an offset. */
struct store *credit__store(void);
void credit__refresh_violation(struct account *a, int64_t offset_original_at);

#endif
