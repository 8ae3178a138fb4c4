/*
 * appeal_core.h - what every kind of appeal shares: listing, counting,
 * filing and claim-then-decide over one table per kind. The kinds are
 * appeals against credit events (credit/appeal.c, SPEC §6) and against
 * sanctions (sanction/sanction_appeal.c, SPEC §7); each describes itself
 * with a struct appeal_kind (the words of its sentences, its network-log
 * kinds, and the hooks for what only it does), hands the core its own SQL
 * (its table) at each call, and keeps its public functions.
 *
 * An appeal is a row of the kind's table: open (outcome NULL) until a
 * moderator decides it "upheld" or "rejected". Rules (each kind's file
 * states its own on top of these):
 *   1. Filing needs a text of 1..text_max bytes, then passes the kind's
 *      checks (file_check), then inserts the row. One open appeal per
 *      appealed thing is a partial unique index on the table: a
 *      constraint failure of the INSERT is the answer "already has an
 *      open appeal".
 *   2. The decider is not the author of the appealed thing (compared as
 *      actor strings, "unix:alice" against the author the kind reads from
 *      the appeal's row), checked after the kind's own checks (claim).
 *   3. Deciding first claims the row (UPDATE ... WHERE outcome IS NULL),
 *      so two moderators deciding at once produce one decision and at most
 *      one upheld action; only a claimed, upheld appeal runs the kind's
 *      upheld hook, which ends in appeal_decided.
 *   4. Filing and deciding are network-log events (log_filed by the filer,
 *      log_decided by the decider) with the body {"appeal", <subject>,
 *      <log_head>, "text", "outcome", "note", <log_tail>, "offset_event"},
 *      each after the first two only when set, in that order.
 *
 * A job (filing or deciding) is allocated by appeal_job_new with the
 * kind's job_size: the kind's own struct starts with struct appeal_job.
 * Every path ends in appeal_finish, exactly once: the kind's finish hook
 * answers its caller, then the core frees the job.
 *
 * Threads: loop thread only; store callbacks on the loop.
 */
#ifndef QUN_APPEAL_APPEAL_CORE_H
#define QUN_APPEAL_APPEAL_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"

/* The answers the core gives. A kind's public status enum has the same
 * values for these (each kind's file checks it with _Static_assert) and
 * adds its own (-3 and below -7). */
enum appeal_status {
    APPEAL_OK = 0,
    APPEAL_NOT_FOUND = -1,   /* no such appeal */
    APPEAL_OPEN = -2,        /* the appealed thing already has an open appeal */
    APPEAL_DECIDED = -4,     /* the appeal was decided already */
    APPEAL_SAME_AUTHOR = -5, /* the decider is the appealed thing's author */
    APPEAL_STORE = -6,
    APPEAL_BAD = -7, /* empty or too long text or note */
};

/* ---- a kind's SQL ----
 *
 * SQL is compile-time text where it is used (tools/check_sql.py): a kind
 * writes its statements as literals, with these macros for the shared
 * parts, and hands each to the core function that runs it; that function
 * says what it binds. A kind's SELECT is "SELECT a.id, a.<subject column>"
 * APPEAL_SQL_COLUMNS, then its own columns, then its FROM with "a" for the
 * appeals table: the core reads c[1] (the appealed thing's id), c[2] (the
 * filer's account) and c[5] (the outcome). */
#define APPEAL_SQL_COLUMNS                                                                         \
    ", a.account_id, a.text, a.filed_at, a.outcome, a.decided_by, a.decided_at, a.note"
/* The initializers of the fields a kind's public appeal struct has for the
 * first nine columns (subject_field: the struct's name for the appealed
 * thing's id), from the cells c of one row. */
#define APPEAL_ROW_FIELDS(c, subject_field)                                                        \
    .id = (c)[0].i, .subject_field = (c)[1].i, .account_id = (c)[2].i,                             \
    .text = store_cell_text(&(c)[3]) ? store_cell_text(&(c)[3]) : "", .filed_at = (c)[4].i,        \
    .outcome = store_cell_text(&(c)[5]), .decided_by = store_cell_text(&(c)[6]),                   \
    .decided_at = store_cell_int(&(c)[7]), .note = store_cell_text(&(c)[8])
/* The end of a listing's SELECT (appeal_list): the account (0: every
 * account) twice, the state three times ("all", "open", or an outcome),
 * the limit. */
#define APPEAL_SQL_LIST_WHERE                                                                      \
    " WHERE (? = 0 OR a.account_id = ?)"                                                           \
    " AND (? = 'all' OR (? = 'open' AND a.outcome IS NULL)"                                        \
    "  OR a.outcome = ?)"                                                                          \
    " ORDER BY a.id DESC LIMIT ?"
/* The same with the state "decided" (any outcome): the state four times;
 * the kind sets list_decided. */
#define APPEAL_SQL_LIST_DECIDED_WHERE                                                              \
    " WHERE (? = 0 OR a.account_id = ?)"                                                           \
    " AND (? = 'all' OR (? = 'open' AND a.outcome IS NULL)"                                        \
    "  OR (? = 'decided' AND a.outcome IS NOT NULL)"                                               \
    "  OR a.outcome = ?)"                                                                          \
    " ORDER BY a.id DESC LIMIT ?"
/* The claim (rule 3) after "UPDATE <table>" (appeal_claim). */
#define APPEAL_SQL_CLAIM_SET                                                                       \
    " SET outcome = ?, decided_by = ?, decided_at = ?, note = ? WHERE id = ? AND outcome IS NULL"

/* ---- a job ---- */

struct appeal_kind;

struct appeal_job {
    const struct appeal_kind *kind;
    int64_t appeal_id;
    int64_t subject_id;   /* the appealed event or sanction */
    int64_t account_id;   /* the filer's account */
    int64_t offset_event; /* the offset credit event of an upheld appeal (0: none) */
    char *text, *note;    /* owned; NULL when not (yet) given */
    char *actor;          /* the decider, owned (deciding only) */
    char *author;         /* the appealed thing's author, owned (set by decide_row) */
    bool uphold;
    bool found;   /* the row read was there (the kind may use it while filing) */
    bool decided; /* the appeal read had an outcome already */
};

/* "Some function": a kind's own row callback type (credit_appeal_row,
 * sanction_appeal_row) carried through the core, which never calls it;
 * the kind's deliver_row converts it back to its type to call it. */
typedef void (*appeal_fn)(void);
/* status 0, or -1 when the store failed (= credit_done_cb, sanction_done_cb). */
typedef void (*appeal_done_cb)(void *ud, int status);

struct appeal_kind {
    const char *log_name;         /* prefix of log lines: "credit", "sanctions" */
    struct store *(*store)(void); /* the store, NULL when not open */
    size_t job_size;              /* sizeof the kind's job (struct appeal_job first) */

    size_t ncolumns;   /* cells of a row of the kind's SELECT */
    bool list_decided; /* its listing ends with APPEAL_SQL_LIST_DECIDED_WHERE */
    int list_max;      /* rows of one listing */
    int text_max;      /* bytes of a text or a note */

    /* Words of the sentences, e.g. "event" ("Appeal 3 against event 7 is
     * filed"; also the body key of subject_id), "Event", "a moderator" (who
     * will decide), "recorded event" ("You (unix:bob) recorded event 7
     * yourself"), "appeal" and "appeals list shows them" ("There is no
     * appeal 3 (appeals list shows them)."). */
    const char *subject, *subject_cap, *decider, *authored, *appeal_name, *list_hint;

    /* Network-log event kinds of filing and deciding (rule 4). */
    const char *log_filed, *log_decided;
    /* The record's target name and account. */
    void (*log_target)(const struct appeal_job *j, const char **target, int64_t *account_id);
    /* The kind's body fields after the subject and after the note
     * (outcome is NULL when filing); either may be NULL. */
    void (*log_head)(const struct appeal_job *j, json_t *o);
    void (*log_tail)(const struct appeal_job *j, json_t *o, const char *outcome);

    /* Calls row, converted back to the kind's row callback type, with ud
     * and the kind's struct made of one row of its listing. */
    void (*deliver_row)(const struct store_value *c, appeal_fn row, void *ud);
    /* Filing: the kind's checks once the text is kept (rule 1), ending in
     * appeal_file_store or appeal_finish. */
    void (*file_check)(struct appeal_job *j);
    /* Deciding: keeps what the kind needs from the appeal's row (the core
     * has set subject_id, account_id, found, decided) and sets author. */
    void (*decide_row)(struct appeal_job *j, const struct store_value *c);
    /* The appeal read is open: the kind's own checks, then appeal_claim
     * with its statement (or appeal_finish). */
    void (*claim)(struct appeal_job *j);
    /* The action of a claimed, upheld appeal, ending in appeal_decided or
     * appeal_finish. */
    void (*upheld)(struct appeal_job *j);
    /* After the decision is logged: what else the kind does, and the
     * sentence for the decider in s. */
    void (*decided)(struct appeal_job *j, char *s, size_t len);
    /* Answers the caller (the sentence is valid during the call only) and
     * releases the kind's own fields; the core frees the rest. */
    void (*finish)(struct appeal_job *j, int status, const char *sentence);
};

/* ---- listing and counting ---- */

/* Appeals of kind k, newest first, by sql (the kind's SELECT with
 * APPEAL_SQL_LIST_WHERE, or _DECIDED_WHERE): account_id 0 for every
 * filer; state "open", an outcome, "decided" (when k->list_decided) or
 * NULL/"all"; limit clamped to 1..k->list_max. row is the kind's row
 * callback (see appeal_fn). Returns -1 (done never runs) when the store is
 * not open or refuses the query. */
int appeal_list(const struct appeal_kind *k, const char *sql, int64_t account_id, const char *state,
                int limit, appeal_fn row, appeal_done_cb done, void *ud);
/* The open appeals of kind k counted by sql (no binds; what names them in
 * a log line): cb(ud, 0, n), or cb(ud, -1, 0) when the read fails. Returns
 * -1 (cb never runs) when the store is not open. */
int appeal_open_count(const struct appeal_kind *k, const char *sql, const char *what,
                      store_count_cb cb, void *ud);

/* ---- jobs ---- */

/* A zeroed job of k->job_size bytes whose kind is k. */
struct appeal_job *appeal_job_new(const struct appeal_kind *k);
/* Answers the caller through the kind's finish hook and frees j. */
void appeal_finish(struct appeal_job *j, int status, const char *sentence);

/* Files an appeal: j has subject_id and account_id (and the kind's own
 * fields) set. Checks and keeps text, then runs the kind's file_check. */
void appeal_file(struct appeal_job *j, const char *text);
/* Inserts the appeal by sql (binds: subject_id, account_id, text, the
 * time) once the kind's checks have passed, and finishes j with its
 * number, or with "already has an open appeal" (rule 1). */
void appeal_file_store(struct appeal_job *j, const char *sql);

/* Decides appeal_id: reads it by sql (the kind's SELECT ending in
 * " WHERE a.id = ?"), refuses a missing or decided one, then runs the
 * kind's claim hook. note may be NULL or empty; actor like "unix:alice". */
void appeal_decide(struct appeal_job *j, const char *sql, int64_t appeal_id, bool uphold,
                   const char *note, const char *actor);
/* Refuses the author (rule 2), then claims the appeal by sql ("UPDATE
 * <table>" APPEAL_SQL_CLAIM_SET, rule 3) and runs the kind's upheld hook
 * or, rejected, appeal_decided. */
void appeal_claim(struct appeal_job *j, const char *sql);
/* The end of a decision: the decided event (rule 4), the kind's decided
 * hook, then appeal_finish with APPEAL_OK. */
void appeal_decided(struct appeal_job *j);

#endif
