/*
 * netlog_cmds.c - qunctl commands that read the network log or a case
 * bundle directly, without the daemon (netlog/bundle.h does the work):
 *
 *   qunctl search [FILTERS] [--limit N] [--json] [--db PATH]
 *   qunctl export FILTERS --case ID --out DIR [--db PATH] [--key PATH.pub]
 *   qunctl verify-bundle DIR [--key PATH.pub]
 *
 *   FILTERS: --group CODE --account NAME|ID --from T --to T --text SUBSTR
 *            (T: milliseconds, or YYYY-MM-DD[ HH:MM[:SS]] in China time)
 *
 * search and export are accesses to the log: afterwards a "log.access"
 * request tells the daemon (which records it); with no daemon running a
 * note says the access was not recorded. verify-bundle reads no log.
 *
 * Exit: 0 ok; 1 verify-bundle found a bad event or note, or export found a
 * damaged record; 2 usage; 3 a file could not be read or written.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "netlog/bundle.h"
#include "qunctl/qunctl.h"

#define DEFAULT_DB  "var/netlog.db"
#define DEFAULT_KEY "var/netlog.key.pub"

struct opts {
    struct bundle_query q;
    const char *db, *key, *case_id, *out, *dir;
    bool json;
};

static void usage_text(FILE *out)
{
    fprintf(
        out,
        "usage: qunctl search [--group CODE] [--account NAME] [--from T] [--to T]"
        " [--text SUBSTR] [--limit N] [--json] [--db PATH]\n"
        "       qunctl export FILTERS --case ID --out DIR [--db PATH] [--key PATH.pub]\n"
        "       qunctl verify-bundle DIR [--key PATH.pub]\n"
        "T: milliseconds since the epoch or YYYY-MM-DD[ HH:MM[:SS]] (China time)\n"
        "search and export read the log file directly (read-only) and record the access in\n"
        "the log through the daemon; verify-bundle needs only the bundle and the public key.\n");
}

static int usage(const char *cmd, const char *why, const char *what)
{
    fprintf(stderr, "qunctl: %s: %s%s%s\n", cmd, why, what ? " " : "", what ? what : "");
    usage_text(stderr);
    return 2;
}

/* One option with a value; 0, or 2 after a usage message. */
static int set_opt(struct opts *o, const char *cmd, const char *flag, const char *v)
{
    char *end;
    if (!strcmp(flag, "--group") || !strcmp(flag, "--limit")) {
        long long n = strtoll(v, &end, 10);
        if (*end || n <= 0)
            return usage(cmd, flag, "needs a positive number");
        *(!strcmp(flag, "--group") ? &o->q.code : &o->q.limit) = n;
    } else if (!strcmp(flag, "--from") || !strcmp(flag, "--to")) {
        if (!bundle_parse_time(v, !strcmp(flag, "--from") ? &o->q.from_ms : &o->q.to_ms))
            return usage(cmd, "not a time:", v);
    } else {
        const char **dst = !strcmp(flag, "--account") ? &o->q.account
                           : !strcmp(flag, "--text")  ? &o->q.text
                           : !strcmp(flag, "--db")    ? &o->db
                           : !strcmp(flag, "--key")   ? &o->key
                           : !strcmp(flag, "--case")  ? &o->case_id
                           : !strcmp(flag, "--out")   ? &o->out
                                                      : NULL;
        if (!dst)
            return usage(cmd, "unknown option", flag);
        *dst = v;
    }
    return 0;
}

static int parse(struct opts *o, const char *cmd, int n, char **w)
{
    memset(o, 0, sizeof *o);
    o->db = DEFAULT_DB;
    for (int i = 0; i < n; i++) {
        if (!strcmp(w[i], "--json"))
            o->json = true;
        else if (!strcmp(w[i], "--help") || !strcmp(w[i], "-h")) {
            usage_text(stdout); /* asked for: stdout, and the caller exits 0 */
            return 1;
        } else if (strncmp(w[i], "--", 2) != 0 && !o->dir)
            o->dir = w[i];
        else if (i + 1 >= n)
            return usage(cmd, w[i], "needs a value");
        else if (set_opt(o, cmd, w[i], w[i + 1]) != 0)
            return 2;
        else
            i++;
    }
    return 0;
}

static void log_access(const char *sock, const char *what, const struct opts *o, int64_t count)
{
    json_t *args = json_pack("{s:s, s:s, s:o, s:I}", "what", what, "path", o->db, "query",
                             bundle_query_json(&o->q), "count", (json_int_t)count);
    if (o->case_id)
        json_object_set_new(args, "case", json_string(o->case_id));
    json_t *answer = qunctl_exchange(sock, "log.access", args);
    json_decref(args);
    if (!answer)
        fputs("qunctl: note: no daemon answered; this access to the log is not recorded\n", stderr);
    else if (!json_is_true(json_object_get(answer, "ok")))
        fputs("qunctl: note: the daemon did not record this access to the log\n", stderr);
    json_decref(answer);
}

static int print_event(void *ud, const struct netlog_event *e)
{
    const struct opts *o = ud;
    if (o->json) {
        json_t *j = bundle_event_json(e, NULL);
        qunctl_print_json(stdout, j);
        json_decref(j);
        return 0;
    }
    printf("%lld %lld %s %s %s code=%lld %s\n", (long long)e->seq, (long long)e->at_ms,
           e->kind ? e->kind : "", e->actor ? e->actor : "", e->target ? e->target : "-",
           (long long)e->code, e->body ? e->body : "");
    return 0;
}

static int cmd_search(const char *sock, int n, char **w, bool as_json)
{
    struct opts o;
    int rc = parse(&o, "search", n, w);
    if (rc)
        return rc == 1 ? 0 : rc;
    o.json |= as_json;
    char err[512];
    int64_t count = bundle_search(o.db, &o.q, print_event, &o, err, sizeof err);
    if (count < 0) {
        fprintf(stderr, "qunctl: search: %s\n", err);
        return 3;
    }
    fprintf(stderr, "qunctl: %lld events%s\n", (long long)count,
            count == (o.q.limit ? o.q.limit : BUNDLE_DEFAULT_LIMIT) ? " (limit reached)" : "");
    log_access(sock, "search", &o, count);
    return 0;
}

static int cmd_export(const char *sock, int n, char **w)
{
    struct opts o;
    int rc = parse(&o, "export", n, w);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!o.case_id || !o.out)
        return usage("export", "--case and --out are required", NULL);
    if (!o.q.code && !o.q.account)
        return usage("export", "--group or --account is required", NULL);
    struct bundle_export_result r;
    char err[512];
    rc = bundle_export(o.db, o.key ? o.key : DEFAULT_KEY, &o.q, o.case_id, o.out, &r, err,
                       sizeof err);
    log_access(sock, "export", &o, r.events);
    if (rc < 0) {
        fprintf(stderr, "qunctl: export: %s\n", err);
        return strstr(err, "record ") ? 1 : 3;
    }
    printf("bundle:     %s\nevents:     %lld (proven against checkpoint size %llu)\n", o.out,
           (long long)r.events, (unsigned long long)r.tree_size);
    if (r.after_checkpoint)
        printf("not yet signed: %lld newer matching events left out\n",
               (long long)r.after_checkpoint);
    printf("time:       %.2f s\n", r.seconds);
    return 0;
}

static int cmd_verify_bundle(int n, char **w)
{
    struct opts o;
    int rc = parse(&o, "verify-bundle", n, w);
    if (rc)
        return rc == 1 ? 0 : rc;
    if (!o.dir)
        return usage("verify-bundle", "which bundle directory?", NULL);
    if (!o.key)
        fputs("qunctl: note: no --key given; using the bundle's own key.pub (get the log's key "
              "from its operator to rule out a forged bundle)\n",
              stderr);
    struct bundle_verify_report r;
    enum bundle_verify_result v = bundle_verify(o.dir, o.key, &r);
    if (v == BUNDLE_VERIFY_OK) {
        printf("OK: %lld events proven against a signed checkpoint of size %llu\n",
               (long long)r.events, (unsigned long long)r.tree_size);
        return 0;
    }
    fprintf(stderr, "qunctl: verify-bundle: %s\n", r.message);
    return v == BUNDLE_VERIFY_BAD ? 1 : 3;
}

bool qunctl_netlog_command(const char *sock, int n, char **words, bool as_json, int *rc)
{
    if (!strcmp(words[0], "search"))
        *rc = cmd_search(sock, n - 1, words + 1, as_json);
    else if (!strcmp(words[0], "export"))
        *rc = cmd_export(sock, n - 1, words + 1);
    else if (!strcmp(words[0], "verify-bundle"))
        *rc = cmd_verify_bundle(n - 1, words + 1);
    else
        return false;
    return true;
}
