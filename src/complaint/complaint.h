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
 * Life of a complaint (one row of complaints; the open ones also in memory):
 *
 *   complaint_file()                 checks (category, text, rate, target,
 *        |                           membership); a message is looked up in
 *        |                           the network log by msgid
 *        v
 *   [open, stage group]  --escalate / group deadline passed (overdue_group)--+
 *        |  (about a group or a message in a group)                         |
 *        |                                                                  v
 *        |           (about a user) ------------------------> [open, stage platform]
 *        |                                                          |  deadline passed:
 *        v                                                          |  overdue (warning)
 *   dismissed | malicious | upheld   <------ complaint_decide() ----+
 *
 * Invariants:
 *   1. An open complaint is in memory and has state 'open' in the store;
 *      a decided one is only in the store. A decision removes it from
 *      memory before anything is written, so it is decided at most once.
 *   2. At the group stage only the group's owner and managers decide
 *      (never one who is the complaint's subject); at the platform stage
 *      only moderators (through qunctl) do.
 *   3. Every filing, stage change and decision is a network-log event:
 *      kind "complaint" (filed, overdue, reporter-flagged) or
 *      "complaint-decision", target "complaint:<id>".
 *   4. Every moderation time is qclock_now().
 *
 * Rows: complaints (store schema step 4). Threads: loop thread only.
 */
#ifndef QUN_COMPLAINT_COMPLAINT_H
#define QUN_COMPLAINT_COMPLAINT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "credit/credit.h"

struct account;
struct store;

/* Bounds: complaints open at once, rows one listing returns. */
#define COMPLAINT_OPEN_MAX   100000
#define COMPLAINT_LIST_MAX   500
#define COMPLAINT_TARGET_MAX 128
#define COMPLAINT_RULE_MAX   300

enum complaint_kind { COMPLAINT_MESSAGE, COMPLAINT_USER, COMPLAINT_GROUP };
enum complaint_stage { COMPLAINT_STAGE_GROUP, COMPLAINT_STAGE_PLATFORM };
enum complaint_decision {
    COMPLAINT_DISMISS,
    COMPLAINT_MALICIOUS,
    COMPLAINT_UPHOLD,
    COMPLAINT_ESCALATE,
};

/* Errors of filing and deciding; complaint_error_code() names each as the
 * code of a FAIL reply or a control error. */
enum complaint_error {
    COMPLAINT_OK = 0,
    COMPLAINT_ERR_CATEGORY = -1,   /* INVALID_CATEGORY */
    COMPLAINT_ERR_TEXT = -2,       /* INVALID_TEXT: empty, too long, not UTF-8 */
    COMPLAINT_ERR_RATE = -3,       /* RATE_LIMITED */
    COMPLAINT_ERR_TARGET = -4,     /* UNKNOWN_TARGET: no such message, user or group */
    COMPLAINT_ERR_NOT_MEMBER = -5, /* NOT_MEMBER: a message of a group one is not in */
    COMPLAINT_ERR_SELF = -6,       /* SELF: about oneself */
    COMPLAINT_ERR_DUPLICATE = -7,  /* DUPLICATE: the same reporter and target, still open */
    COMPLAINT_ERR_FULL = -8,       /* QUEUE_FULL */
    COMPLAINT_ERR_STORE = -9,      /* TEMPORARILY_UNAVAILABLE: store or log */
    COMPLAINT_ERR_NOT_FOUND = -10, /* NOT_FOUND */
    COMPLAINT_ERR_CLOSED = -11,    /* ALREADY_DECIDED */
    COMPLAINT_ERR_FORBIDDEN = -12, /* NOT_ALLOWED */
    COMPLAINT_ERR_STAGE = -13,     /* WRONG_STAGE */
    COMPLAINT_ERR_ARG = -14,       /* INVALID_PARAMS */
};
const char *complaint_error_code(int err);

/* An open complaint (a decided one lives in the store only). */
struct complaint {
    int64_t id;
    int64_t reporter_id;
    enum complaint_kind kind;
    char *target;       /* msgid, account name or group name as resolved */
    int64_t subject_id; /* the account complained about (author, user), or 0 */
    int64_t group_code; /* the group concerned, or 0 */
    int64_t msg_seq;    /* the message's network-log seq, or 0 */
    char *category;
    char *text;
    int64_t filed_at;
    enum complaint_stage stage;
    int64_t deadline;
    bool overdue_group; /* went past the group's deadline (negligence if upheld) */
    bool overdue;       /* went past the platform deadline */
    bool escalated;     /* escalated by the group's owner or a manager */
};

int complaint_load(uv_loop_t *loop, struct store *st, char *err, size_t errlen);
void complaint_detach_store(void);

const char *complaint_kind_name(enum complaint_kind k);
const char *complaint_stage_name(enum complaint_stage s);
/* "dismiss", "malicious", "uphold", "escalate" (any case), or -1. */
int complaint_decision_parse(const char *name);

/* ---- filing ---- */

/* What a reporter asks. For a message, target is the msgid; for a user,
 * subject is the account; for a group, group_code. Strings are copied. */
struct complaint_filing {
    struct account *reporter;
    enum complaint_kind kind;
    const char *target;
    struct account *subject;
    int64_t group_code;
    const char *category;
    const char *text;
};
/* id > 0 when filed; else err (enum complaint_error) and one sentence. */
typedef void (*complaint_filed_cb)(void *ud, int64_t id, int err, const char *why);
/* Files a complaint. cb runs exactly once, possibly before this returns
 * (a refusal found at once), else after the row is durable. */
void complaint_file(const struct complaint_filing *f, complaint_filed_cb cb, void *ud);

/* ---- deciding ---- */

struct complaint_verdict {
    enum complaint_decision decision;
    enum credit_severity severity; /* uphold: minor, general, serious or severe */
    const char *rule;              /* uphold: the rule broken (required) */
    const char *note;              /* may be NULL */
    const char *author;            /* "account:<name>" or "unix:<user>" */
    struct account *actor;         /* the deciding account at the group stage, or NULL */
    bool platform;                 /* a platform moderator (qunctl) decides */
};
/* status 0 once the decision is durable and its effects are queued. */
typedef void (*complaint_decided_cb)(void *ud, int status);
/* Decides an open complaint. Returns 0 when accepted (cb follows; may be
 * NULL), or a complaint_error with one sentence in why (cb never runs).
 * Checks: at the group stage actor must be the group's owner or a
 * manager and not the subject; at the platform stage platform must be
 * set; escalate only at the group stage; uphold needs a severity of
 * minor..severe and a rule. */
int complaint_decide(int64_t id, const struct complaint_verdict *v, char *why, size_t len,
                     complaint_decided_cb cb, void *ud);

/* ---- reading ---- */

/* The open complaint, or NULL. */
const struct complaint *complaint_find_open(int64_t id);
/* Open complaints of a group at the group stage, oldest first (at most max). */
size_t complaint_group_queue(int64_t code, const struct complaint **out, size_t max);

/* Platform-stage complaints that went past their deadline since start-up. */
uint64_t complaint_overdue_warnings(void);

/* The open complaints now (memory, no store): at each stage, and those past
 * their platform deadline (overdue). For the console's dashboard. */
struct complaint_open_counts {
    size_t group, platform, overdue;
};
void complaint_open_counts(struct complaint_open_counts *out);

/* Listing from the store (every complaint, open or decided). Zero / NULL
 * fields do not filter. */
struct complaint_filter {
    int64_t id;
    int64_t reporter_id;
    int64_t group_code;
    const char *state; /* open, dismissed, malicious, upheld */
    const char *stage; /* group, platform */
    int limit;         /* 0: COMPLAINT_LIST_MAX */
};
/* result: a new JSON value (stolen by the callee) or NULL with status < 0. */
typedef void (*complaint_json_cb)(void *ud, int status, json_t *result);
/* An array of complaint objects, newest first. */
int complaint_list(const struct complaint_filter *f, complaint_json_cb cb, void *ud);
/* Counts by state and stage, overdue counts, handling times (seconds from
 * filing to decision: mean and max) of the complaints filed in
 * [since, until] (0: unbounded), and the flagged reporters. */
int complaint_stats(int64_t since, int64_t until, complaint_json_cb cb, void *ud);
/* Reporters with complaints.malicious_flag malicious dismissals within
 * complaints.malicious_window_days: [{"account", "malicious"}]. */
int complaint_flagged(complaint_json_cb cb, void *ud);

/* Telling people (the reporter of every outcome, managers of a new
 * complaint): set by the IRC face (svc_reportserv.c); NULL: nobody told. */
extern void (*complaint_tell_hook)(const struct account *a, const char *text);

#endif
