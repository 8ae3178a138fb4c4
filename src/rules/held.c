/*
 * held.c - held messages (see held.h): the held_messages rows, the "held"
 * network-log events and the two decisions, release and reject.
 *
 * Every function is asynchronous over the store: the caller's data is
 * copied into a job, and the job's callback runs on the loop. Nothing here
 * keeps a pointer to a client or a channel across a callback; they are
 * found again by id and name.
 */
#include "rules/held.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/group.h"
#include "irc/msgpath.h"
#include "irc/server.h"
#include "irc/service.h"
#include "netlog/netlog.h"
#include "proto/utf8.h"
#include "rules/rules.h"
#include "sanction/sanction.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

#define HELD_SNIPPET 200

static char *held_dup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

static void held_row_clear(struct held_row *r)
{
    free(r->account);
    free(r->sender);
    free(r->command);
    free(r->text);
    free(r->tags);
    free(r->relayed);
    free(r->rule);
    free(r->severity);
    free(r->decision);
    memset(r, 0, sizeof *r);
}

static void held_row_copy(struct held_row *to, const struct held_row *from)
{
    *to = *from;
    to->account = held_dup(from->account);
    to->sender = held_dup(from->sender);
    to->command = held_dup(from->command);
    to->text = held_dup(from->text);
    to->tags = held_dup(from->tags);
    to->relayed = held_dup(from->relayed);
    to->rule = held_dup(from->rule);
    to->severity = held_dup(from->severity);
    to->decision = held_dup(from->decision);
}

static const char *held_snippet(const char *text, char *out)
{
    size_t len = strlen(text), n = utf8_truncate(text, len, HELD_SNIPPET);
    memcpy(out, text, n);
    strcpy(out + n, n < len ? "..." : "");
    return out;
}

/* A "held" network-log event for row with its decision ("held",
 * "released", "rejected") and who took it. The text is in every one, so
 * the log alone shows what was held and what became of it. */
static void held_log(const struct held_row *r, const char *channel, const char *decision,
                     const char *by)
{
    json_t *o =
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:s}", "id", (json_int_t)r->id, "rule",
                  r->rule, "action", "hold", "decision", decision, "severity", r->severity,
                  "account", r->account, "command", r->command, "text", r->text ? r->text : "");
    if (o && r->tags)
        json_object_set_new(o, "tags", json_string(r->tags));
    if (o && r->relayed)
        json_object_set_new(o, "relayed_as", json_string(r->relayed));
    if (o && by)
        json_object_set_new(o, "by", json_string(by));
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    netlog_record("held", r->sender, channel, r->code, r->account_id, NULL, body ? body : "{}");
    free(body);
    json_decref(o);
}

/* ---- keeping ---- */

struct keep_job {
    struct held_row row;
    char *channel;
};

static void held_kept(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct keep_job *j = ud;
    (void)changes;
    const struct account *a = account_find_id(j->row.account_id);
    struct channel *ch = channel_find(j->channel);
    if (status != STORE_OK) {
        log_error("rules: a held message of %s in %s could not be kept: %s", j->row.account,
                  j->channel, err ? err : store_status_name(status));
        if (a)
            service_tell(&chanserv_service, a,
                         "Your message to %s was held by rule %s but could not be kept for "
                         "review (a storage error); it was not delivered. Please send it again "
                         "later.",
                         j->channel, j->row.rule);
    } else {
        j->row.id = last_id;
        held_log(&j->row, j->channel, "held", NULL);
        char snip[HELD_SNIPPET + 4];
        if (ch)
            rules_tell_managers(
                ch,
                "Rule %s held message %lld by %s (account %s) in %s: %s -- RELEASE %lld delivers "
                "it, REJECT %lld drops it and applies the rule; HELD %s lists what waits.",
                j->row.rule, (long long)last_id, j->row.sender, j->row.account, j->channel,
                held_snippet(j->row.text, snip), (long long)last_id, (long long)last_id,
                j->channel);
    }
    held_row_clear(&j->row);
    free(j->channel);
    free(j);
}

void held_keep(struct client *c, struct channel *ch, const char *status, const char *command,
               const char *text, const char *tags, const char *rule, enum credit_severity sev,
               bool group_violation)
{
    struct keep_job *j = xcalloc(1, sizeof *j);
    char prefix[512];
    struct held_row *r = &j->row;
    r->code = ch->code;
    r->account_id = c->acct->id;
    r->account = xstrdup(c->acct->name);
    r->sender = xstrdup(client_prefix(c, prefix, sizeof prefix));
    r->command = xstrdup(command);
    r->text = xstrdup(text);
    r->tags = tags && *tags ? xstrdup(tags) : NULL;
    r->relayed = status && *status ? xstrdup(status) : NULL;
    r->rule = xstrdup(rule);
    r->severity = xstrdup(credit_severity_name(sev));
    r->group_violation = group_violation;
    r->held_at = qclock_now();
    j->channel = xstrdup(ch->name);
    struct store_value b[] = {STORE_INT(r->code),
                              STORE_INT(r->account_id),
                              STORE_TEXT(r->account),
                              STORE_TEXT(r->sender),
                              STORE_TEXT(r->command),
                              STORE_TEXT(r->text),
                              r->tags ? STORE_TEXT(r->tags) : STORE_NULL(),
                              r->relayed ? STORE_TEXT(r->relayed) : STORE_NULL(),
                              STORE_TEXT(r->rule),
                              STORE_TEXT(r->severity),
                              STORE_INT(group_violation),
                              STORE_INT(r->held_at)};
    struct store *st = server_store();
    if (!st || store_exec_write(st,
                                "INSERT INTO held_messages (code, account_id, account, sender,"
                                " command, text, tags, relayed, rule, severity, group_violation,"
                                " held_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                b, sizeof b / sizeof b[0], held_kept, j) != STORE_OK)
        held_kept(j, STORE_ERR_CLOSING, 0, 0, "the store is closed");
}

/* ---- reading ---- */

#define HELD_COLUMNS                                                                               \
    "id, code, account_id, account, sender, command, text, tags, relayed, rule, severity,"         \
    " group_violation, held_at, decision"

struct read_job {
    struct held_row rows[HELD_LIST_MAX];
    size_t n;
    held_list_cb list_cb;
    held_get_cb get_cb;
    void *ud;
};

static char *held_col_text(const struct store_value *v)
{
    return v->type == STORE_TYPE_TEXT ? xstrdup(v->p) : NULL;
}

static int held_read_row(void *ud, const struct store_value *cols, size_t ncols)
{
    struct read_job *j = ud;
    if (ncols < 14 || j->n >= HELD_LIST_MAX)
        return 1;
    struct held_row *r = &j->rows[j->n++];
    r->id = cols[0].i;
    r->code = cols[1].i;
    r->account_id = cols[2].i;
    r->account = held_col_text(&cols[3]);
    r->sender = held_col_text(&cols[4]);
    r->command = held_col_text(&cols[5]);
    r->text = held_col_text(&cols[6]);
    r->tags = held_col_text(&cols[7]);
    r->relayed = held_col_text(&cols[8]);
    r->rule = held_col_text(&cols[9]);
    r->severity = held_col_text(&cols[10]);
    r->group_violation = cols[11].i != 0;
    r->held_at = cols[12].i;
    r->decision = held_col_text(&cols[13]);
    return 0;
}

static void held_read_done(void *ud, int status, const char *err)
{
    struct read_job *j = ud;
    (void)err;
    if (j->list_cb)
        j->list_cb(j->ud, status, j->rows, status == STORE_OK ? j->n : 0);
    else
        j->get_cb(j->ud, status, status == STORE_OK && j->n ? &j->rows[0] : NULL);
    for (size_t i = 0; i < j->n; i++)
        held_row_clear(&j->rows[i]);
    free(j);
}

int held_list(int64_t code, held_list_cb cb, void *ud)
{
    struct read_job *j = xcalloc(1, sizeof *j);
    j->list_cb = cb;
    j->ud = ud;
    struct store_value b[] = {STORE_INT(code), STORE_INT(HELD_LIST_MAX)};
    struct store *st = server_store();
    int rc = st ? store_query(st,
                              "SELECT " HELD_COLUMNS " FROM held_messages"
                              " WHERE code = ? AND decision IS NULL ORDER BY id LIMIT ?",
                              b, 2, held_read_row, held_read_done, j)
                : STORE_ERR_CLOSING;
    if (rc != STORE_OK)
        free(j);
    return rc;
}

int held_get(int64_t id, held_get_cb cb, void *ud)
{
    struct read_job *j = xcalloc(1, sizeof *j);
    j->get_cb = cb;
    j->ud = ud;
    struct store_value b[] = {STORE_INT(id)};
    struct store *st = server_store();
    int rc = st ? store_query(st, "SELECT " HELD_COLUMNS " FROM held_messages WHERE id = ?", b, 1,
                              held_read_row, held_read_done, j)
                : STORE_ERR_CLOSING;
    if (rc != STORE_OK)
        free(j);
    return rc;
}

/* ---- deciding ---- */

struct decide_job {
    struct held_row row;
    bool release;
    char *by; /* the manager's account name */
    held_done_cb cb;
    void *ud;
};

/* The row is ours to act on (the UPDATE changed it). */
static int held_act(struct decide_job *j)
{
    struct held_row *r = &j->row;
    struct channel *ch = group_find_code(r->code);
    if (j->release && !ch)
        return -1; /* the group ended meanwhile: nowhere to deliver */
    char author[96];
    snprintf(author, sizeof author, "account:%s", j->by);
    held_log(r, ch ? ch->name : "", j->release ? "released" : "rejected", author);
    struct account *a = account_find_id(r->account_id);
    if (j->release) {
        enum chat_kind kind = strcmp(r->command, "NOTICE") == 0 ? CHAT_NOTICE : CHAT_PRIVMSG;
        if (msgpath_submit_released(r->sender, r->account, r->account_id, ch, r->relayed, kind,
                                    r->text, r->tags, r->id) < 0)
            return -1;
        if (a)
            service_tell(&chanserv_service, a,
                         "A manager of %s released your held message %lld; it has been "
                         "delivered.",
                         ch->name, (long long)r->id);
        return 0;
    }
    char evidence[96];
    snprintf(evidence, sizeof evidence, "rule:%s", r->rule);
    int sev = credit_severity_parse(r->severity);
    if (a && sev >= 0) {
        struct sanction_decision d = {.subject = a,
                                      .group_code = r->code,
                                      .group_violation = r->group_violation,
                                      .severity = (enum credit_severity)sev,
                                      .rule = r->rule,
                                      .evidence = evidence,
                                      .author = author};
        sanction_apply(&d);
        service_tell(&chanserv_service, a,
                     "A manager of %s rejected your held message %lld under rule %s (%s "
                     "severity); it was not delivered.",
                     ch ? ch->name : "the group", (long long)r->id, r->rule, r->severity);
    }
    return 0;
}

static void held_decided(void *ud, int status, int64_t last_id, int64_t changes, const char *err)
{
    struct decide_job *j = ud;
    (void)last_id;
    int result;
    if (status != STORE_OK) {
        log_error("rules: deciding held message %lld: %s", (long long)j->row.id,
                  err ? err : store_status_name(status));
        result = -1;
    } else if (changes != 1) {
        result = 1;
    } else {
        result = held_act(j);
    }
    j->cb(j->ud, result);
    held_row_clear(&j->row);
    free(j->by);
    free(j);
}

int held_decide(const struct held_row *row, bool release, const struct account *by, held_done_cb cb,
                void *ud)
{
    struct decide_job *j = xcalloc(1, sizeof *j);
    held_row_copy(&j->row, row);
    j->release = release;
    j->by = xstrdup(by->name);
    j->cb = cb;
    j->ud = ud;
    struct store_value b[] = {STORE_TEXT(release ? "released" : "rejected"), STORE_TEXT(j->by),
                              STORE_INT(qclock_now()), STORE_INT(row->id)};
    struct store *st = server_store();
    int rc = st ? store_exec_write(st,
                                   "UPDATE held_messages SET decision = ?, decided_by = ?,"
                                   " decided_at = ? WHERE id = ? AND decision IS NULL",
                                   b, 4, held_decided, j)
                : STORE_ERR_CLOSING;
    if (rc != STORE_OK) {
        held_row_clear(&j->row);
        free(j->by);
        free(j);
    }
    return rc;
}
