/*
 * rules.c - the automatic rules on group messages (rules art. 10; see
 * rules.h and docs/rules.md): flood, duplicate spam and the operator's
 * pattern sets, their verdict on one message, and what a verdict does
 * (network-log event, sanction, telling the sender and the managers).
 *
 * State:
 *   - rules_cur: the rules compiled from the configuration and the
 *     pattern files. rules_load() builds a complete new set and swaps it in
 *     only when every file is good, so a bad file at reload keeps the old
 *     rules (and at start-up refuses to start).
 *   - the windows of the flood and spam rules and of the deductions, in
 *     fixed-size tables (rules/window.h: memory never grows with traffic).
 *
 * Verdict for one message: every rule that hits gives a candidate; the
 * strongest action wins (block > hold > flag), then the higher severity.
 * Only that one is acted on and logged.
 *
 * Threads: loop thread only.
 */
#include "rules/rules.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account/account.h"
#include "config/config.h"
#include "credit/credit.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/service.h"
#include "netlog/netlog.h"
#include "proto/utf8.h"
#include "rules/held.h"
#include "rules/patterns.h"
#include "rules/window.h"
#include "sanction/sanction.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/strmap.h"

#define RULES_SNIPPET 200 /* bytes of a message shown to managers */

enum rule_origin { ORIGIN_FLOOD, ORIGIN_SPAM, ORIGIN_PATTERN };

struct rule {
    char *name;
    enum rule_origin origin;
    enum rule_verdict action;
    enum credit_severity severity;
    struct rules_patterns pats; /* ORIGIN_PATTERN */
};

struct rules_set {
    int flood_messages, flood_window;
    int spam_groups, spam_window;
    int sanction_seconds;
    struct rule flood, spam;
    struct rule *sets;
    size_t nsets;
};

static struct rules_set *rules_cur;

/* ---- loading ---- */

static enum rule_verdict rules_action_parse(const char *s)
{
    return strcmp(s, "hold") == 0 ? RULE_HOLD : strcmp(s, "flag") == 0 ? RULE_FLAG : RULE_BLOCK;
}

static void rules_set_free(struct rules_set *rs)
{
    if (!rs)
        return;
    for (size_t i = 0; i < rs->nsets; i++) {
        free(rs->sets[i].name);
        rules_patterns_free(&rs->sets[i].pats);
    }
    free(rs->sets);
    free(rs->flood.name);
    free(rs->spam.name);
    free(rs);
}

int rules_load(const struct qun_config *cfg, char *err, size_t errlen)
{
    struct rules_set *rs = xcalloc(1, sizeof *rs);
    rs->flood_messages = cfg->rules_flood_messages;
    rs->flood_window = cfg->rules_flood_window;
    rs->spam_groups = cfg->rules_spam_groups;
    rs->spam_window = cfg->rules_spam_window;
    rs->sanction_seconds = cfg->rules_sanction_seconds;
    rs->flood =
        (struct rule){xstrdup("flood"),
                      ORIGIN_FLOOD,
                      rules_action_parse(cfg->rules_flood_action),
                      (enum credit_severity)credit_severity_parse(cfg->rules_flood_severity),
                      {0}};
    rs->spam = (struct rule){xstrdup("duplicate-spam"),
                             ORIGIN_SPAM,
                             rules_action_parse(cfg->rules_spam_action),
                             (enum credit_severity)credit_severity_parse(cfg->rules_spam_severity),
                             {0}};
    rs->sets = xcalloc(cfg->nrule_sets + 1, sizeof *rs->sets);
    size_t budget = (size_t)cfg->rules_max_patterns, total = 0;
    for (size_t i = 0; i < cfg->nrule_sets; i++) {
        const struct config_rule_set *c = &cfg->rule_sets[i];
        struct rule *r = &rs->sets[i];
        if (rules_patterns_read(c->file, c->regex, budget - total, (size_t)cfg->rules_pattern_bytes,
                                &r->pats, err, errlen) < 0) {
            rules_set_free(rs);
            return -1;
        }
        rs->nsets++;
        total += r->pats.n;
        r->name = xstrdup(c->name);
        r->origin = ORIGIN_PATTERN;
        r->action = rules_action_parse(c->action);
        r->severity = (enum credit_severity)credit_severity_parse(c->severity);
    }
    rules_windows_init();
    rules_set_free(rules_cur);
    rules_cur = rs;
    log_info("rules: flood %d per %d s, duplicate spam %d groups per %d s, %zu pattern set(s) "
             "with %zu pattern(s)",
             rs->flood_messages, rs->flood_window, rs->spam_groups, rs->spam_window, rs->nsets,
             total);
    return 0;
}

void rules_free(void)
{
    rules_set_free(rules_cur);
    rules_cur = NULL;
    rules_windows_free();
}

/* ---- the rules ---- */

static bool rules_flood_hit(const struct rules_set *rs, int64_t account, int64_t now)
{
    return rs->flood_messages > 0 &&
           rules_window_flood(account, now, rs->flood_messages, rs->flood_window);
}

/* The normalised text for spam: folded, runs of spaces made one, trimmed,
 * so "Buy NOW" and "buy  now " are the same text. */
static uint64_t rules_text_hash(const char *folded)
{
    size_t n = strlen(folded), o = 0;
    char *norm = xmalloc(n + 1);
    bool space = true;
    for (size_t i = 0; i < n; i++) {
        bool sp = folded[i] == ' ' || folded[i] == '\t';
        if (sp && space)
            continue;
        norm[o++] = sp ? ' ' : folded[i];
        space = sp;
    }
    if (o && norm[o - 1] == ' ')
        o--;
    uint64_t h = hash_bytes(norm, o);
    free(norm);
    return h;
}

static bool rules_spam_hit(const struct rules_set *rs, int64_t account, int64_t code,
                           const char *folded, int64_t now)
{
    return rs->spam_groups > 0 && code > 0 &&
           rules_window_spam(account, code, rules_text_hash(folded), now, rs->spam_groups,
                             rs->spam_window);
}

/* Whether a (the rule's action, then severity) is stronger than b. */
static bool rules_stronger(const struct rule *a, const struct rule *b)
{
    if (!b)
        return true;
    if (a->action != b->action)
        return a->action > b->action;
    return a->severity > b->severity && a->severity <= CREDIT_SEVERE;
}

/* Pattern rules of general severity or worse count against the group
 * (the content is the group's responsibility); flood and spam are the
 * sender's alone. */
static bool rules_group_violation(const struct rule *r)
{
    return r->origin == ORIGIN_PATTERN && r->severity >= CREDIT_GENERAL &&
           r->severity <= CREDIT_SEVERE;
}

const char *rule_verdict_name(enum rule_verdict v)
{
    static const char *const names[] = {"pass", "flag", "hold", "block"};
    return names[v];
}

/* ---- telling people ---- */

/* text cut to at most max bytes on a character boundary, into out. */
static const char *rules_snippet(const char *text, char *out, size_t max)
{
    size_t n = utf8_truncate(text, strlen(text), max);
    memcpy(out, text, n);
    strcpy(out + n, n < strlen(text) ? "..." : "");
    return out;
}

void rules_tell_managers(struct channel *ch, const char *fmt, ...)
{
    char text[460];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    for (size_t i = 0; i < ch->ngm; i++) {
        if (ch->gm[i].role < ROLE_MANAGER)
            continue;
        const struct account *a = account_find_id(ch->gm[i].account_id);
        if (a)
            service_tell(&chanserv_service, a, "%s", text);
    }
}

static void rules_why(const struct rules_set *rs, const struct rule *r, const char *chan, char *why,
                      size_t len)
{
    const char *what;
    char buf[160];
    if (r->origin == ORIGIN_FLOOD) {
        snprintf(buf, sizeof buf, "you sent more than %d messages to groups within %d seconds",
                 rs->flood_messages, rs->flood_window);
        what = buf;
    } else if (r->origin == ORIGIN_SPAM) {
        snprintf(buf, sizeof buf, "the same text went to %d groups within %d seconds",
                 rs->spam_groups, rs->spam_window);
        what = buf;
    } else {
        what = "it contains text this rule's list does not allow";
    }
    if (r->action == RULE_BLOCK)
        snprintf(why, len,
                 "Your message to %s was not delivered: rule %s (%s, %s severity). A credit "
                 "deduction may follow; you are told separately how to appeal it.",
                 chan, r->name, what, credit_severity_name(r->severity));
    else
        snprintf(why, len,
                 "Your message to %s waits for a manager's review: rule %s (%s). It is "
                 "delivered only if a manager releases it.",
                 chan, r->name, what);
}

/* The "rule-hit" event: rule, action, severity, group, the text. */
static void rules_log_hit(struct client *c, struct channel *ch, const struct rule *r,
                          const char *command, const char *text)
{
    char prefix[512];
    json_t *o =
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:s}", "rule", r->name, "action",
                  rule_verdict_name(r->action), "severity", credit_severity_name(r->severity),
                  "account", c->acct->name, "command", command, "text", text);
    char *body = o ? json_dumps(o, JSON_COMPACT) : NULL;
    netlog_record("rule-hit", client_prefix(c, prefix, sizeof prefix), ch->name, ch->code,
                  c->acct->id, NULL, body ? body : "{}");
    free(body);
    json_decref(o);
}

/* A block's consequence, at most once per account and rule within
 * rules.sanction_seconds (a flood of 100 blocked lines is one violation). */
static void rules_sanction(const struct rules_set *rs, struct client *c, struct channel *ch,
                           const struct rule *r, int64_t now)
{
    if (rs->sanction_seconds > 0 &&
        !rules_window_first(c->acct->id, hash_bytes(r->name, strlen(r->name)), now,
                            rs->sanction_seconds))
        return;
    char evidence[96];
    snprintf(evidence, sizeof evidence, "rule:%s", r->name);
    struct sanction_decision d = {.subject = c->acct,
                                  .group_code = ch->code,
                                  .group_violation = rules_group_violation(r),
                                  .severity = r->severity,
                                  .rule = r->name,
                                  .evidence = evidence,
                                  .author = "system"};
    sanction_apply(&d);
}

/* ---- the check ---- */

enum rule_verdict rules_check(struct client *c, struct channel *ch, const char *status,
                              const char *command, const char *text, const char *tags, char *why,
                              size_t len)
{
    const struct rules_set *rs = rules_cur;
    if (!rs || !text || !c->acct || c->acct->id <= 0)
        return RULE_PASS;
    int64_t now = qclock_now(), account = c->acct->id;
    const struct rule *best = NULL;
    if (rules_flood_hit(rs, account, now))
        best = &rs->flood;
    /* folding costs an allocation: only when a text rule is configured */
    bool text_rules = rs->nsets > 0 || (rs->spam_groups > 0 && ch->code > 0);
    char *folded = text_rules ? rules_fold(text, strlen(text)) : NULL;
    /* (folding fails only on ill-formed UTF-8, which lines never are) */
    if (folded && rules_spam_hit(rs, account, ch->code, folded, now) &&
        rules_stronger(&rs->spam, best))
        best = &rs->spam;
    for (size_t i = 0; folded && i < rs->nsets; i++)
        if (rules_stronger(&rs->sets[i], best) &&
            rules_patterns_match(&rs->sets[i].pats, folded) >= 0)
            best = &rs->sets[i];
    free(folded);
    if (!best)
        return RULE_PASS;
    enum rule_verdict v = best->action;
    if (v == RULE_HOLD && !ch->code)
        v = RULE_BLOCK; /* a transient channel has nobody to review it */
    char snip[RULES_SNIPPET + 4];
    switch (v) {
    case RULE_BLOCK:
        rules_log_hit(c, ch, best, command, text);
        rules_sanction(rs, c, ch, best, now);
        rules_why(rs, best, ch->name, why, len);
        if (best->action == RULE_BLOCK)
            break;
        snprintf(why, len,
                 "Your message to %s was not delivered: rule %s holds messages for "
                 "review, and %s has no managers to review it.",
                 ch->name, best->name, ch->name);
        break;
    case RULE_HOLD:
        held_keep(c, ch, status, command, text, tags, best->name, best->severity,
                  rules_group_violation(best));
        rules_why(rs, best, ch->name, why, len);
        break;
    case RULE_FLAG:
        rules_log_hit(c, ch, best, command, text);
        if (ch->code)
            rules_tell_managers(ch, "Rule %s flagged a message by %s (account %s) in %s: %s",
                                best->name, c->nick, c->acct->name, ch->name,
                                rules_snippet(text, snip, RULES_SNIPPET));
        break;
    case RULE_PASS:
        break;
    }
    return v;
}
