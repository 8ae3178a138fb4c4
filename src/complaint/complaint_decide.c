/*
 * complaint_decide.c - decisions on complaints (see complaint.h): who may
 * decide at which stage, and what each decision does.
 *
 * Order of a decision: checks (complaint_decide); the complaint leaves the
 * open set (so a second decision is refused at once); the UPDATE, which
 * only touches an open row; once it is durable, the effects
 * (sanction_apply for upheld, the credit events of malicious and
 * negligence, the malicious count that flags a reporter), the
 * network-log event "complaint-decision" and the reporter told. If the
 * UPDATE fails the complaint goes back to the open set, still open; an
 * escalated one goes back at the platform stage.
 *
 * Threads: loop thread only; store callbacks on the loop.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "complaint/complaint.h"
#include "complaint/complaint_internal.h"
#include "config/config.h"
#include "credit/credit.h"
#include "irc/channel.h"
#include "irc/group.h"
#include "netlog/netlog.h"
#include "sanction/sanction.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

extern struct qun_config *server_config;

/* ---- decisions ---- */

struct cp_decide_job {
    struct complaint *c;
    enum complaint_decision decision;
    enum complaint_stage stage; /* where it was decided */
    enum credit_severity severity;
    char *rule, *note, *author;
    complaint_decided_cb cb;
    void *ud;
};

static void cp_decide_free(struct cp_decide_job *j)
{
    complaint__free(j->c);
    free(j->rule);
    free(j->note);
    free(j->author);
    free(j);
}

struct cp_negligence {
    const char *evidence, *author;
};

static void cp_negligent(struct account *a, void *ud)
{
    struct cp_negligence *n = ud;
    credit_penalize(a, CREDIT_NEGLIGENCE, NULL, n->evidence, n->author, NULL, NULL);
    complaint__tell(
        a,
        "A complaint in your group (%s) was upheld after it had passed the group's deadline "
        "unhandled: %d credit for negligence. To appeal: /msg CreditServ HELP.",
        n->evidence, credit_severity_delta(CREDIT_NEGLIGENCE));
}

/* Counting a reporter's malicious complaints (after the decision is durable). */
struct cp_flag_job {
    int64_t reporter_id;
    int64_t count;
    char *author;
};

static int cp_flag_row(void *ud, const struct store_value *v, size_t n)
{
    struct cp_flag_job *f = ud;
    if (n == 1)
        f->count = v[0].i;
    return 1;
}

static void cp_flag_done(void *ud, int status, const char *err)
{
    struct cp_flag_job *f = ud;
    const struct account *a = account_find_id(f->reporter_id);
    if (status == STORE_OK && f->count >= server_config->complaint_malicious_flag && a) {
        char body[200];
        snprintf(body, sizeof body,
                 "{\"event\":\"reporter-flagged\",\"malicious\":%" PRId64 ",\"days\":%d}", f->count,
                 server_config->complaint_malicious_days);
        netlog_record("complaint", f->author, a->name, 0, a->id, NULL, body);
        log_warn("complaints: %s has %" PRId64 " complaints dismissed as malicious within %d days "
                 "(flagged)",
                 a->name, f->count, server_config->complaint_malicious_days);
    }
    free(f->author);
    free(f);
}

static void cp_count_malicious(int64_t reporter_id, const char *author)
{
    if (!complaint__store())
        return;
    struct cp_flag_job *f = xcalloc(1, sizeof *f);
    f->reporter_id = reporter_id;
    f->author = xstrdup(author);
    int64_t since = qclock_now() - (int64_t)server_config->complaint_malicious_days * 86400;
    struct store_value b[] = {STORE_INT(reporter_id), STORE_INT(since)};
    if (store_query(complaint__store(),
                    "SELECT count(*) FROM complaints WHERE reporter_id = ?"
                    " AND state = 'malicious' AND decided_at >= ?",
                    b, 2, cp_flag_row, cp_flag_done, f) != STORE_OK) {
        free(f->author);
        free(f);
    }
}

/* The decision is durable: its effects, its log event, the reporter told. */
static void cp_decision_effects(struct cp_decide_job *j)
{
    struct complaint *c = j->c;
    char evidence[48], what[200];
    snprintf(evidence, sizeof evidence, "complaint:%" PRId64, c->id);
    struct account *reporter = account_find_id(c->reporter_id);
    struct account *subject = c->subject_id ? account_find_id(c->subject_id) : NULL;
    complaint__describe(c, what, sizeof what);
    if (j->decision == COMPLAINT_UPHOLD) {
        struct sanction_decision d = {.subject = subject,
                                      .group_code = c->group_code,
                                      .group_violation = c->group_code != 0,
                                      .severity = j->severity,
                                      .rule = j->rule,
                                      .evidence = evidence,
                                      .author = j->author,
                                      .evidence_seq = c->msg_seq};
        sanction_apply(&d);
        if (c->overdue_group) {
            struct cp_negligence n = {evidence, j->author};
            complaint__managers_foreach(c->group_code, 0, cp_negligent, &n);
        }
    } else if (j->decision == COMPLAINT_MALICIOUS && reporter) {
        credit_penalize(reporter, CREDIT_MALICIOUS, NULL, evidence, j->author, NULL, NULL);
        cp_count_malicious(c->reporter_id, j->author);
    }
    json_t *body = json_pack(
        "{s:s, s:s, s:s, s:s?, s:s?, s:b}", "decision", complaint__decision_name(j->decision),
        "stage", complaint_stage_name(j->stage), "kind", complaint_kind_name(c->kind), "subject",
        subject ? subject->name : NULL, "note", j->note, "overdue_group", c->overdue_group);
    if (j->decision == COMPLAINT_UPHOLD) {
        json_object_set_new(body, "severity", json_string(credit_severity_name(j->severity)));
        json_object_set_new(body, "rule", json_string(j->rule));
    }
    complaint__log("complaint-decision", j->author, c, body);
    switch (j->decision) {
    case COMPLAINT_DISMISS:
        complaint__tell(reporter, "Your complaint %" PRId64 " about %s was dismissed%s%s.", c->id,
                        what, j->note ? ": " : "", j->note ? j->note : "");
        break;
    case COMPLAINT_MALICIOUS:
        complaint__tell(reporter,
                        "Your complaint %" PRId64
                        " about %s was dismissed as malicious%s%s; this costs "
                        "you %d credit. To appeal: /msg CreditServ HELP.",
                        c->id, what, j->note ? ": " : "", j->note ? j->note : "",
                        -credit_severity_delta(CREDIT_MALICIOUS));
        break;
    case COMPLAINT_UPHOLD:
        complaint__tell(reporter,
                        "Your complaint %" PRId64 " about %s was upheld (%s: %s). Thank you for "
                        "reporting it.",
                        c->id, what, credit_severity_name(j->severity), j->rule);
        break;
    case COMPLAINT_ESCALATE:
        complaint__tell(
            reporter, "Your complaint %" PRId64 " about %s was passed to the platform moderators.",
            c->id, what);
        break;
    }
}

static void cp_decided(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct cp_decide_job *j = ud;
    if (status != STORE_OK || changes != 1) {
        log_error("complaint %" PRId64 ": decision not stored: %s", j->c->id,
                  err                  ? err
                  : status != STORE_OK ? store_status_name(status)
                                       : "no open row");
        if (complaint__store() && status != STORE_OK && !complaint_find_open(j->c->id)) {
            complaint__insert(j->c); /* still open in the store */
            j->c = NULL;
        }
        if (j->cb)
            j->cb(j->ud, -1);
        cp_decide_free(j);
        return;
    }
    cp_decision_effects(j);
    if (j->decision == COMPLAINT_ESCALATE && complaint__store()) {
        complaint__insert(j->c); /* open, now at the platform stage */
        j->c = NULL;
    }
    if (j->cb)
        j->cb(j->ud, 0);
    cp_decide_free(j);
}

/* Who may decide c now (invariant 2). */
static int cp_may_decide(const struct complaint *c, const struct complaint_verdict *v, char *why,
                         size_t len)
{
    if (c->stage == COMPLAINT_STAGE_PLATFORM) {
        if (!v->platform) {
            snprintf(why, len,
                     "Complaint %" PRId64 " is with the platform moderators now; only they can "
                     "decide it.",
                     c->id);
            return COMPLAINT_ERR_STAGE;
        }
        if (v->decision == COMPLAINT_ESCALATE) {
            snprintf(why, len,
                     "Complaint %" PRId64 " is already with the platform moderators; there is no "
                     "stage above.",
                     c->id);
            return COMPLAINT_ERR_STAGE;
        }
        return 0;
    }
    if (v->platform) {
        snprintf(why, len,
                 "Complaint %" PRId64 " is still with the group's owner and managers (deadline "
                 "%" PRId64 "); it comes to the platform when escalated or overdue.",
                 c->id, c->deadline);
        return COMPLAINT_ERR_STAGE;
    }
    struct channel *ch = group_find_code(c->group_code);
    const struct group_member *m = ch && v->actor ? group_member_find(ch, v->actor->id) : NULL;
    if (!m || m->role < ROLE_MANAGER) {
        snprintf(why, len,
                 "Only the owner and managers of the group concerned can decide complaint "
                 "%" PRId64 ".",
                 c->id);
        return COMPLAINT_ERR_FORBIDDEN;
    }
    if (c->subject_id && c->subject_id == v->actor->id) {
        snprintf(why, len,
                 "Complaint %" PRId64 " is about you, so you cannot decide it; another manager, "
                 "the owner or the platform will.",
                 c->id);
        return COMPLAINT_ERR_FORBIDDEN;
    }
    return 0;
}

int complaint_decide(int64_t id, const struct complaint_verdict *v, char *why, size_t len,
                     complaint_decided_cb cb, void *ud)
{
    const struct complaint *c = complaint_find_open(id);
    if (!c) {
        snprintf(why, len, "There is no open complaint %" PRId64 ".", id);
        return COMPLAINT_ERR_NOT_FOUND;
    }
    if ((unsigned)v->decision > COMPLAINT_ESCALATE) {
        snprintf(why, len, "Decide with dismiss, malicious, uphold or escalate.");
        return COMPLAINT_ERR_ARG;
    }
    if (v->decision == COMPLAINT_UPHOLD && ((unsigned)v->severity > CREDIT_SEVERE || !v->rule ||
                                            !*v->rule || strlen(v->rule) > COMPLAINT_RULE_MAX)) {
        snprintf(why, len,
                 "Upholding needs a severity (minor, general, serious or severe) and the rule "
                 "broken (at most %d bytes).",
                 COMPLAINT_RULE_MAX);
        return COMPLAINT_ERR_ARG;
    }
    if (v->note && strlen(v->note) > COMPLAINT_RULE_MAX) {
        snprintf(why, len, "The note is too long: at most %d bytes.", COMPLAINT_RULE_MAX);
        return COMPLAINT_ERR_ARG;
    }
    int rc = cp_may_decide(c, v, why, len);
    if (rc)
        return rc;
    if (!complaint__store()) {
        snprintf(why, len, "The store is closing; try again after the restart.");
        return COMPLAINT_ERR_STORE;
    }
    struct cp_decide_job *j = xcalloc(1, sizeof *j);
    j->c = complaint__take(id);
    j->stage = j->c->stage;
    j->decision = v->decision;
    j->severity = v->severity;
    j->rule = v->decision == COMPLAINT_UPHOLD ? xstrdup(v->rule) : NULL;
    j->note = v->note && *v->note ? xstrdup(v->note) : NULL;
    j->author = xstrdup(v->author);
    j->cb = cb;
    j->ud = ud;
    int64_t now = qclock_now();
    int st;
    if (v->decision == COMPLAINT_ESCALATE) {
        j->c->stage = COMPLAINT_STAGE_PLATFORM;
        j->c->escalated = true;
        j->c->deadline = now + server_config->complaint_platform_deadline;
        struct store_value b[] = {STORE_INT(j->c->deadline), STORE_TEXT(j->author), STORE_INT(now),
                                  j->note ? STORE_TEXT(j->note) : STORE_NULL(),
                                  STORE_INT(j->c->id)};
        st = store_exec_write(complaint__store(),
                              "UPDATE complaints SET stage = 'platform', deadline = ?,"
                              " escalated_by = ?, escalated_at = ?, note = ?"
                              " WHERE id = ? AND state = 'open'",
                              b, 5, cp_decided, j);
    } else {
        static const char *const states[] = {"dismissed", "malicious", "upheld"};
        struct store_value b[] = {STORE_TEXT(states[v->decision]),
                                  STORE_TEXT(j->author),
                                  STORE_INT(now),
                                  v->decision == COMPLAINT_UPHOLD
                                      ? STORE_TEXT(credit_severity_name(j->severity))
                                      : STORE_NULL(),
                                  j->rule ? STORE_TEXT(j->rule) : STORE_NULL(),
                                  j->note ? STORE_TEXT(j->note) : STORE_NULL(),
                                  STORE_INT(j->c->id)};
        st = store_exec_write(complaint__store(),
                              "UPDATE complaints SET state = ?, decided_by = ?, decided_at = ?,"
                              " severity = ?, rule = ?, note = ? WHERE id = ? AND state = 'open'",
                              b, 7, cp_decided, j);
    }
    if (st != STORE_OK) {
        complaint__insert(j->c);
        j->c = NULL;
        cp_decide_free(j);
        snprintf(why, len, "The store refused the decision; try again.");
        return COMPLAINT_ERR_STORE;
    }
    return 0;
}
