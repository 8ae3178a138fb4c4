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
 * step 4), sanction_appeals (step 6). State is loaded at start-up and
 * written through.
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
    int64_t evidence_seq; /* the network-log record decided on (a reported
                           * message), proved first in the report; 0: none */
};
void sanction_apply(const struct sanction_decision *d);

/* Gates. Each writes one sentence (with the reason, the end time when
 * timed, and how to appeal) into why and returns false when refused. */
bool sanction_may_post(const struct client *c, const struct channel *ch, char *why, size_t len);
bool sanction_may_manage(const struct account *a, char *why, size_t len);
bool sanction_may_create(const struct account *a, char *why, size_t len);
/* Joining a group (refused only for a blacklisted identity). */
bool sanction_may_join(const struct account *a, char *why, size_t len);

/* The blacklist (identity entries are the vault's keyed hash). */
bool blacklist_has_identity(const uint8_t *hash, size_t len);
bool blacklist_has_group(int64_t code);
/* Whether a's identity is blacklisted (false without a level-2 identity). */
bool blacklist_has_account(const struct account *a);

/* ---- Added by the sanction module for qunctl (ctl_sanction.c) and the
 * IRC layer. ---- */

enum sanction_kind {
    SANCTION_WARNING,          /* group: told to rectify (timed, warn_hours) */
    SANCTION_SUSPENDED,        /* group: posting suspended (timed, suspend_days) */
    SANCTION_CLOSED,           /* group: closed (permanent) */
    SANCTION_MANAGE_SUSPENDED, /* person: management rights suspended (timed) */
    SANCTION_MANAGE_REVOKED,   /* person: management rights revoked (until lifted) */
    SANCTION_CREATE_REVOKED,   /* person: group creation revoked (until lifted) */
    SANCTION_POST_SUSPENDED,   /* person: posting suspended platform-wide (timed) */
    SANCTION_BLACKLIST_REVIEW, /* person: a severe decision waits for a moderator to decide on
                                  the blacklist (no effect; lifted when decided) */
};
#define SANCTION_NKINDS 8

/* "warning", "suspended", "closed", "manage-suspended", "manage-revoked",
 * "create-revoked", "post-suspended", "blacklist-review". */
const char *sanction_kind_name(enum sanction_kind k);
int sanction_kind_parse(const char *name); /* -1 when unknown */
bool sanction_kind_is_group(enum sanction_kind k);

/* One active sanction (lifted ones are only in the store). */
struct sanction {
    int64_t id;
    enum sanction_kind kind;
    int64_t subject; /* group code or account id (sanction_kind_is_group) */
    char *reason, *evidence, *author;
    int64_t started_at, ends_at; /* ends_at 0: until lifted */
    int64_t credit_event;        /* the decision's credit event (for APPEAL), or 0 */
};

/* A person sanction by a moderator; seconds 0 means the configured default
 * for timed kinds. Returns the sanction id, or -1 with a sentence. */
int64_t sanction_person(struct account *a, enum sanction_kind kind, int64_t seconds,
                        const char *reason, const char *evidence, const char *author, char *why,
                        size_t len);
/* Closes a live group (members removed, the group ends, its row, name,
 * code and log kept; a report of kind "closure"). */
int64_t sanction_group_close(int64_t code, const char *reason, const char *author, char *why,
                             size_t len);
/* Lifts an active sanction; 0, or -1 with a sentence. */
int sanction_lift(int64_t id, const char *by, char *why, size_t len);
const struct sanction *sanction_find(int64_t id);
/* Every active sanction, oldest first. */
void sanction_foreach(void (*fn)(const struct sanction *s, void *ud), void *ud);
/* Violations counted against a group within the window. */
int sanction_group_violations(int64_t code);

/* After a login: tells c about its sanctions (and those lifted while it
 * was away). */
void sanction_login(struct client *c);
/* The FAIL code of the last refusal of sanction_may_post ("EMERGENCY",
 * "GROUP_SUSPENDED", "GROUP_CLOSED", "POSTING_SUSPENDED", "BLACKLISTED"). */
const char *sanction_refusal_code(void);

/* ---- appeals against sanctions (sanction_appeal.c) ----
 *
 * A sanction is appealed by its subject (a person sanction) or by its
 * group's owner (a group sanction) while it is active; one open appeal per
 * sanction. A platform moderator other than the sanction's author decides:
 * upheld lifts the sanction (sanction_lift, "appeal upheld") and offsets
 * its credit event when it has one not yet offset (credit_event_offset);
 * rejected changes nothing. The filer is told the outcome by ChanServ, at
 * once or at the next login. Network-log events "sanction.appeal" and
 * "sanction.appeal.decided". */

#define SANCTION_APPEAL_TEXT 400 /* bytes of an appeal's text or a decision's note */
#define SANCTION_APPEAL_LIST 200 /* rows of one listing */

struct sanction_appeal {
    int64_t id, sanction_id, account_id;
    const char *text;
    int64_t filed_at;
    const char *outcome; /* NULL while open, "upheld" or "rejected" */
    const char *decided_by, *note;
    int64_t decided_at;
    const char *kind;   /* the sanction's kind name */
    int64_t subject_id; /* the sanction's group code or account id */
    const char *sanction_reason, *sanction_author;
};
typedef void (*sanction_appeal_row)(void *ud, const struct sanction_appeal *ap);
typedef void (*sanction_done_cb)(void *ud, int status); /* 0, or -1: store failed */
/* Newest first: account_id 0 for every filer; state "open", "decided",
 * "upheld", "rejected" or NULL/"all". Returns -1 (done never runs) when the
 * store is not open. */
int sanction_appeals_list(int64_t account_id, const char *state, int limit, sanction_appeal_row row,
                          sanction_done_cb done, void *ud);
/* The open appeals against sanctions, counted off the loop (the console's
 * dashboard); cb(ud, 0, n) or cb(ud, -1, 0). -1 (cb never runs) when the
 * store is not open. */
int sanction_appeals_open_count(void (*cb)(void *ud, int status, int64_t n), void *ud);

enum sanction_appeal_status {
    SANCTION_APPEAL_OK = 0,
    SANCTION_APPEAL_NOT_FOUND = -1,   /* no such sanction / appeal */
    SANCTION_APPEAL_OPEN = -2,        /* the sanction already has an open appeal */
    SANCTION_APPEAL_INACTIVE = -3,    /* lifted, expired, or not appealable here */
    SANCTION_APPEAL_DECIDED = -4,     /* the appeal was decided already */
    SANCTION_APPEAL_SAME_AUTHOR = -5, /* the decider imposed the sanction */
    SANCTION_APPEAL_STORE = -6,
    SANCTION_APPEAL_BAD = -7,       /* empty or too long text */
    SANCTION_APPEAL_NOT_YOURS = -8, /* not the subject / not the group's owner */
};
struct sanction_appeal_result {
    int status;
    const char *sentence; /* one sentence for the person who asked */
    int64_t appeal_id, sanction_id, offset_event_id;
    bool upheld, lifted;
};
typedef void (*sanction_appeal_cb)(void *ud, const struct sanction_appeal_result *r);
/* a files an appeal against active sanction sanction_id. cb always runs
 * (later, or at once for a refusal). */
void sanction_appeal_file(struct account *a, int64_t sanction_id, const char *text,
                          sanction_appeal_cb cb, void *ud);
/* A moderator (actor "unix:alice") decides an open appeal. cb always runs. */
void sanction_appeal_decide(int64_t appeal_id, bool uphold, const char *note, const char *actor,
                            sanction_appeal_cb cb, void *ud);

struct blacklist_entry {
    int64_t id;
    bool group;
    char *value; /* hex of the identity hash, or the group code */
    char *label; /* the account or group name it was added by */
    char *reason, *author;
    int64_t added_at;
};
/* Blacklists a's identity (needs a level-2 identity). Id or -1 with why. */
int64_t blacklist_add_identity(const struct account *a, const char *reason, const char *author,
                               char *why, size_t len);
/* Blacklists a group by code (closing it when live). */
int64_t blacklist_add_group(int64_t code, const char *reason, const char *author, char *why,
                            size_t len);
int blacklist_remove(int64_t id, const char *by, char *why, size_t len);
void blacklist_foreach(void (*fn)(const struct blacklist_entry *e, void *ud), void *ud);

/* The emergency switch (art. 5): posting suspended platform-wide
 * (category NULL) or for one group category. */
struct emergency_entry {
    int64_t id;
    char *category; /* NULL: every group */
    char *message;
    char *set_by;
    int64_t set_at;
};
int64_t emergency_on(const char *category, const char *message, const char *author, char *why,
                     size_t len);
int emergency_off(const char *category, const char *author, char *why, size_t len);
void emergency_foreach(void (*fn)(const struct emergency_entry *e, void *ud), void *ud);

#endif
