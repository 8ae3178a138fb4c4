/*
 * qunctl - command-line client of qund's control socket.
 *
 *   qunctl [-s SOCKET] [--json] COMMAND [ARGS...]
 *
 * Owns: the table of subcommands (words typed -> control command and its
 * JSON args), argument parsing from that table, one request/answer
 * exchange over a blocking unix socket, and printing the result (see
 * print.c). Adding a subcommand is one row in qunctl_commands[].
 *
 * Exit status: 0 ok; 1 the daemon answered with an error; 2 usage error;
 * 3 the socket could not be reached or the exchange failed.
 *
 * The daemon decides who may do what from the peer credentials of the
 * socket; qunctl sends no identity of its own.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <jansson.h>

#include "netlog/verify.h"
#include "qunctl/qunctl.h"

#define QUNCTL_DEFAULT_SOCKET  "var/qund.sock"
#define QUNCTL_TIMEOUT_S       30
#define QUNCTL_ANSWER_MAX      (64u << 20) /* bytes of one answer line */
#define QUNCTL_MAX_ARGS        10          /* the last one stays empty: the end mark */
#define QUNCTL_DEFAULT_LOG_DB  "var/netlog.db"
#define QUNCTL_DEFAULT_LOG_KEY "var/netlog.key.pub"

enum arg_type { ARG_STRING, ARG_ID, ARG_INT };

/* One argument: a positional (flag == NULL) or an option "--flag VALUE". */
struct arg_spec {
    const char *flag;
    const char *metavar; /* shown in usage: NAME, GLOB, TEXT */
    const char *key;     /* key in the request's args object */
    enum arg_type type;  /* ARG_ID: a positive integer */
    bool required;       /* positionals are always required */
    const char *help;
};

struct subcommand {
    const char *group; /* first word */
    const char *verb;  /* second word, or NULL for a one-word command */
    const char *cmd;   /* control command */
    const char *help;
    struct arg_spec args[QUNCTL_MAX_ARGS]; /* ends at the first .key == NULL */
};

/* Commands with a secret argument: its args key is filled by
 * qunctl_read_secret (the terminal or stdin), never from the command line,
 * where ps and the shell history would show it. */
static const struct {
    const char *cmd, *key;
} qunctl_secrets[] = {{"operators.create", "password"}, {"operators.passwd", "password"}};

static const char *secret_key(const struct subcommand *sc)
{
    for (size_t i = 0; i < sizeof qunctl_secrets / sizeof qunctl_secrets[0]; i++)
        if (strcmp(qunctl_secrets[i].cmd, sc->cmd) == 0)
            return qunctl_secrets[i].key;
    return NULL;
}

static const struct subcommand qunctl_commands[] = {
    {"whoami", NULL, "whoami", "show your unix user and control roles", {{0}}},
    {"help", NULL, "help", "list the daemon's control commands and who may use them", {{0}}},
    {"status",
     NULL,
     "status",
     "the dashboard: clients, groups, queues, complaints, appeals, log, reports, emergency",
     {{0}}},
    {"log",
     "search",
     "log.search",
     "search the network log through the daemon (read-only, on its thread pool; recorded)",
     {{"--group", "CODE", "group", ARG_STRING, false, "group code or #name"},
      {"--account", "NAME", "account", ARG_STRING, false, "account name or id"},
      {"--from", "T", "from", ARG_STRING, false, "ms, or YYYY-MM-DD[ HH:MM[:SS]] (China time)"},
      {"--to", "T", "to", ARG_STRING, false, "before this time (same forms)"},
      {"--text", "SUBSTR", "text", ARG_STRING, false, "substring of the event body"},
      {"--kind", "KIND", "kind", ARG_STRING, false, "event kind; a trailing * is a prefix"},
      {"--actor", "ACTOR", "actor", ARG_STRING, false, "exact actor (unix:root, console:alice)"},
      {"--limit", "N", "limit", ARG_ID, false, "at most N events (1000 at most)"},
      {"--order", "ORDER", "order", ARG_STRING, false, "asc (default) or desc"}}},
    {"log",
     "sync",
     "log.sync",
     "wait until the log database file holds every event so far (then read or copy it)",
     {{0}}},
    {"audit",
     "list",
     "audit.list",
     "operator and management actions from the network log, newest first (recorded)",
     {{"--actor", "ACTOR", "actor", ARG_STRING, false, "exact actor (unix:root, console:alice)"},
      {"--from", "T", "from", ARG_STRING, false, "ms, or YYYY-MM-DD[ HH:MM[:SS]] (China time)"},
      {"--to", "T", "to", ARG_STRING, false, "before this time (same forms)"},
      {"--kind", "KIND", "kind", ARG_STRING, false, "event kind; a trailing * is a prefix"},
      {"--limit", "N", "limit", ARG_ID, false, "at most N events (1000 at most)"}}},
    {"log",
     "export",
     "log.export",
     "a case bundle from the daemon as a base64 tar archive (auditors; recorded)",
     {{"--case", "ID", "case", ARG_STRING, true, "the case the export is for"},
      {"--group", "CODE", "group", ARG_STRING, false, "group code or #name"},
      {"--account", "NAME", "account", ARG_STRING, false, "account name or id"},
      {"--from", "T", "from", ARG_STRING, false, "ms, or YYYY-MM-DD[ HH:MM[:SS]] (China time)"},
      {"--to", "T", "to", ARG_STRING, false, "before this time (same forms)"},
      {"--text", "SUBSTR", "text", ARG_STRING, false, "substring of the event body"}}},
    {"accounts",
     "list",
     "accounts.list",
     "list accounts",
     {{"--pattern", "GLOB", "pattern", ARG_STRING, false, "only names matching this glob"}}},
    {"accounts",
     "show",
     "accounts.show",
     "show one account",
     {{NULL, "NAME", "name", ARG_STRING, true, "account name"}}},
    {"accounts",
     "suspend",
     "accounts.suspend",
     "suspend an account",
     {{NULL, "NAME", "name", ARG_STRING, true, "account name"},
      {"--reason", "TEXT", "reason", ARG_STRING, true, "why (kept in the audit record)"}}},
    {"accounts",
     "unsuspend",
     "accounts.unsuspend",
     "lift an account's suspension",
     {{NULL, "NAME", "name", ARG_STRING, true, "account name"}}},
    {"identity", "queue", "identity.queue", "list identity checks waiting for a moderator", {{0}}},
    {"identity",
     "approve",
     "identity.approve",
     "approve a queued identity check",
     {{NULL, "REQUEST_ID", "request", ARG_ID, true, "number from `identity queue`"}}},
    {"identity",
     "reject",
     "identity.reject",
     "reject a queued identity check",
     {{NULL, "REQUEST_ID", "request", ARG_ID, true, "number from `identity queue`"},
      {"--reason", "TEXT", "reason", ARG_STRING, true, "why (shown to the user)"}}},
    {"identity",
     "reveal",
     "identity.reveal",
     "reveal an account's real identity (auditors only; recorded)",
     {{NULL, "ACCOUNT", "name", ARG_STRING, true, "account name"},
      {"--case", "REF", "case", ARG_STRING, true, "case reference that justifies the reveal"}}},
    {"credit",
     "show",
     "credit.show",
     "show an account's credit score and level",
     {{NULL, "NAME", "name", ARG_STRING, true, "account name"}}},
    {"credit",
     "adjust",
     "credit.adjust",
     "append a credit event (administrators; recorded)",
     {{NULL, "NAME", "name", ARG_STRING, true, "account name"},
      {"--delta", "N", "delta", ARG_INT, true, "points to add (negative to deduct)"},
      {"--reason", "TEXT", "reason", ARG_STRING, true, "reason code or sentence"},
      {"--evidence", "REF", "evidence", ARG_STRING, false, "msgid, complaint or case reference"}}},
    {"hold",
     "add",
     "hold.add",
     "place a legal hold: keeps events from the retention purge (recorded)",
     {{"--group", "CODE", "group", ARG_STRING, false, "group code"},
      {"--account", "NAME", "account", ARG_STRING, false, "account name"},
      {"--case", "ID[:FROM-TO]", "case", ARG_STRING, false, "case id, optionally a seq range"},
      {"--reason", "TEXT", "reason", ARG_STRING, true, "why (kept in the audit record)"}}},
    {"hold", "list", "hold.list", "list the active legal holds", {{0}}},
    {"hold",
     "release",
     "hold.release",
     "release a legal hold (recorded)",
     {{NULL, "ID", "id", ARG_ID, true, "number from `hold list`"}}},
    {"groups", "list", "groups.list", "list groups with code, owner, category and size", {{0}}},
    {"groups",
     "show",
     "groups.show",
     "show one group (by name or code)",
     {{NULL, "GROUP", "group", ARG_STRING, true, "#name or code"}}},
    {"sanctions",
     "list",
     "sanctions.list",
     "list active sanctions (groups and people)",
     {{"--account", "NAME", "account", ARG_STRING, false, "only this account's"}}},
    {"sanctions",
     "state",
     "sanctions.state",
     "show a group's state (normal, warned, suspended, closed), violations and sanctions",
     {{NULL, "GROUP", "group", ARG_STRING, true, "#name or code"}}},
    {"sanctions",
     "violation",
     "sanctions.violation",
     "decide a violation in a group: credit deduction, escalation, report (recorded)",
     {{NULL, "GROUP", "group", ARG_STRING, true, "#name or code"},
      {"--severity", "S", "severity", ARG_STRING, true, "minor, general, serious or severe"},
      {"--rule", "TEXT", "rule", ARG_STRING, true, "the rule broken (shown to those told)"},
      {"--account", "NAME", "account", ARG_STRING, false, "the person responsible"}}},
    {"sanctions",
     "person",
     "sanctions.person",
     "sanction a person: manage-suspended, manage-revoked, create-revoked, post-suspended",
     {{NULL, "ACCOUNT", "name", ARG_STRING, true, "account name"},
      {"--kind", "KIND", "kind", ARG_STRING, true, "the sanction"},
      {"--reason", "TEXT", "reason", ARG_STRING, true, "why (told to the person)"},
      {"--days", "N", "days", ARG_ID, false, "length of a timed sanction (default: settings)"}}},
    {"sanctions",
     "close",
     "sanctions.close",
     "close a group: members removed, name, code and log kept (recorded, reported)",
     {{NULL, "GROUP", "group", ARG_STRING, true, "#name or code"},
      {"--reason", "TEXT", "reason", ARG_STRING, true, "why (told to owner and managers)"}}},
    {"sanctions",
     "lift",
     "sanctions.lift",
     "lift an active sanction (recorded)",
     {{NULL, "ID", "id", ARG_ID, true, "number from `sanctions list`"}}},
    {"sanctions",
     "appeals",
     "sanctions.appeals",
     "list appeals against sanctions",
     {{"--state", "STATE", "state", ARG_STRING, false,
       "open (default), decided, upheld, rejected or all"},
      {"--account", "NAME", "account", ARG_STRING, false, "only this account's appeals"}}},
    {"sanctions",
     "appeal-decide",
     "sanctions.appeal.decide",
     "uphold (lift the sanction) or reject an appeal against a sanction (not by its author; "
     "recorded)",
     {{NULL, "ID", "id", ARG_ID, true, "number from `sanctions appeals`"},
      {NULL, "DECISION", "decision", ARG_STRING, true, "upheld or rejected"},
      {"--note", "TEXT", "note", ARG_STRING, false, "why (shown to the filer)"}}},
    {"blacklist",
     "add",
     "blacklist.add",
     "blacklist an account's identity or a group (recorded, reported)",
     {{NULL, "KIND", "kind", ARG_STRING, true, "identity or group"},
      {NULL, "VALUE", "value", ARG_STRING, true, "account name (identity) or group code"},
      {"--reason", "TEXT", "reason", ARG_STRING, true, "why (told to the subject)"}}},
    {"blacklist", "list", "blacklist.list", "list the active blacklist entries", {{0}}},
    {"blacklist",
     "remove",
     "blacklist.remove",
     "remove a blacklist entry (recorded)",
     {{NULL, "ID", "id", ARG_ID, true, "number from `blacklist list`"}}},
    {"emergency",
     "on",
     "emergency.on",
     "suspend posting platform-wide or in one category, with a message to users (recorded)",
     {{"--message", "TEXT", "message", ARG_STRING, true, "what users are told"},
      {"--category", "C", "category", ARG_STRING, false, "only groups of this category"}}},
    {"emergency",
     "off",
     "emergency.off",
     "end an emergency suspension of posting (recorded)",
     {{"--category", "C", "category", ARG_STRING, false, "the category switched on"}}},
    {"emergency", "status", "emergency.status", "list the emergency switches that are on", {{0}}},
    {"reports",
     "list",
     "reports.list",
     "list reports to the authority, newest first",
     {{"--status", "S", "status", ARG_STRING, false,
       "pending, delivered, failed or acknowledged"}}},
    {"reports",
     "show",
     "reports.show",
     "show one report: its signed document and delivery attempts",
     {{NULL, "ID", "id", ARG_ID, true, "number from `reports list`"}}},
    {"reports",
     "retry",
     "reports.retry",
     "send a failed report again now (recorded)",
     {{NULL, "ID", "id", ARG_ID, true, "number from `reports list`"}}},
    {"reports",
     "ack",
     "reports.ack",
     "mark a report acknowledged by the authority (recorded)",
     {{NULL, "ID", "id", ARG_ID, true, "number from `reports list`"}}},
    {"reports",
     "create",
     "reports.create",
     "report an account or a group to the authority by hand (recorded)",
     {{"--account", "NAME", "account", ARG_STRING, false, "the account reported"},
      {"--group", "CODE", "group", ARG_STRING, false, "the group reported (its code)"},
      {"--reason", "TEXT", "reason", ARG_STRING, true, "the rule broken, or why"},
      {"--measures", "TEXT", "measures", ARG_STRING, true, "what was done, one sentence"},
      {"--severity", "S", "severity", ARG_STRING, false, "serious or severe"},
      {"--evidence", "TEXT", "evidence", ARG_STRING, false, "references: complaint:12, msgid:..."},
      {"--seqs", "N,N", "seqs", ARG_STRING, false, "network-log records to prove"},
      {"--kind", "KIND", "kind", ARG_STRING, false, "decision, closure, blacklist or manual"}}},
    {"complaints",
     "list",
     "complaints.list",
     "list complaints, newest first",
     {{"--state", "STATE", "state", ARG_STRING, false, "open, dismissed, malicious or upheld"},
      {"--stage", "STAGE", "stage", ARG_STRING, false, "group or platform"},
      {"--group", "GROUP", "group", ARG_STRING, false, "#name or code"},
      {"--reporter", "NAME", "reporter", ARG_STRING, false, "the reporter's account"},
      {"--limit", "N", "limit", ARG_ID, false, "at most N (500 at most)"}}},
    {"complaints",
     "show",
     "complaints.show",
     "show one complaint",
     {{NULL, "ID", "id", ARG_ID, true, "complaint number"}}},
    {"complaints",
     "decide",
     "complaints.decide",
     "decide a complaint at the platform stage (moderators; recorded)",
     {{NULL, "ID", "id", ARG_ID, true, "complaint number"},
      {NULL, "DECISION", "decision", ARG_STRING, true, "dismiss, malicious, uphold or escalate"},
      {"--severity", "S", "severity", ARG_STRING, false, "uphold: minor, general, serious, severe"},
      {"--rule", "TEXT", "rule", ARG_STRING, false, "uphold: the rule broken"},
      {"--note", "TEXT", "note", ARG_STRING, false, "a note for the record and the reporter"}}},
    {"complaints",
     "stats",
     "complaints.stats",
     "complaint counts by state and stage, overdue counts, handling times",
     {{"--since", "SECONDS", "since", ARG_INT, false, "filed at or after (seconds since 1970)"},
      {"--until", "SECONDS", "until", ARG_INT, false, "filed at or before"}}},
    {"complaints",
     "flagged",
     "complaints.flagged",
     "reporters with repeated complaints dismissed as malicious",
     {{0}}},
    {"credit",
     "ledger",
     "credit.ledger",
     "list an account's credit events, newest first",
     {{NULL, "NAME", "name", ARG_STRING, true, "account name"},
      {"--limit", "N", "limit", ARG_ID, false, "at most N events (200 at most)"}}},
    {"appeals",
     "list",
     "appeals.list",
     "list credit appeals",
     {{"--state", "STATE", "state", ARG_STRING, false, "open (default), upheld, rejected or all"},
      {"--account", "NAME", "name", ARG_STRING, false, "only this account's appeals"}}},
    {"appeals",
     "decide",
     "appeals.decide",
     "uphold or reject a credit appeal (not by the author of the event; recorded)",
     {{NULL, "ID", "id", ARG_ID, true, "number from `appeals list`"},
      {NULL, "DECISION", "decision", ARG_STRING, true, "uphold or reject"},
      {"--note", "TEXT", "note", ARG_STRING, true, "why (shown to the user)"}}},
    {"operators",
     "create",
     "operators.create",
     "create a console operator; the password is read from the terminal or stdin (recorded)",
     {{NULL, "NAME", "name", ARG_STRING, true, "operator name: a-z, 0-9, '.', '_', '-'"},
      {"--role", "ROLE", "role", ARG_STRING, true, "administrator, moderator or auditor"}}},
    {"operators", "list", "operators.list", "list console operators", {{0}}},
    {"operators",
     "disable",
     "operators.disable",
     "disable a console operator and end its sessions (recorded)",
     {{NULL, "NAME", "name", ARG_STRING, true, "operator name"}}},
    {"operators",
     "passwd",
     "operators.passwd",
     "set a console operator's password, read from the terminal or stdin (recorded)",
     {{NULL, "NAME", "name", ARG_STRING, true, "operator name"}}},
    {"test",
     "clock-advance",
     "test.clock.advance",
     "test builds only: move the moderation clock forward (deadlines, sanctions, recovery)",
     {{NULL, "SECONDS", "seconds", ARG_ID, true, "seconds to add"}}},
};

#define QUNCTL_NCOMMANDS (sizeof qunctl_commands / sizeof qunctl_commands[0])

/* ---------------------------------------------------------------- usage */

static void print_synopsis(FILE *out, const struct subcommand *sc)
{
    fprintf(out, "qunctl [-s SOCKET] [--json] %s%s%s", sc->group, sc->verb ? " " : "",
            sc->verb ? sc->verb : "");
    for (const struct arg_spec *a = sc->args; a->key; a++) {
        if (!a->flag)
            fprintf(out, " %s", a->metavar);
        else
            fprintf(out, a->required ? " %s %s" : " [%s %s]", a->flag, a->metavar);
    }
    fputc('\n', out);
}

static void print_subcommand_help(FILE *out, const struct subcommand *sc)
{
    fputs("usage: ", out);
    print_synopsis(out, sc);
    fprintf(out, "\n%s (control command \"%s\").\n", sc->help, sc->cmd);
    if (secret_key(sc))
        fprintf(out,
                "The %s is read from the terminal (asked twice, not shown) or as one line "
                "of stdin;\nit is never taken from the command line.\n",
                secret_key(sc));
    if (sc->args[0].key)
        fputs("\narguments:\n", out);
    for (const struct arg_spec *a = sc->args; a->key; a++) {
        char left[64];
        snprintf(left, sizeof left, "%s%s%s", a->flag ? a->flag : "", a->flag ? " " : "",
                 a->metavar);
        fprintf(out, "  %-20s %s%s\n", left, a->help, a->flag && !a->required ? " (optional)" : "");
    }
}

static void print_usage(FILE *out, const char *group)
{
    fputs("usage: qunctl [-s SOCKET] [--json] COMMAND [ARGS...]\n\n"
          "  -s, --socket PATH  control socket (default: $QUN_CONTROL_SOCKET "
          "or " QUNCTL_DEFAULT_SOCKET ")\n"
          "  --json             print the result as JSON\n"
          "  -h, --help         this text; COMMAND --help describes one command\n\n"
          "commands:\n",
          out);
    for (size_t i = 0; i < QUNCTL_NCOMMANDS; i++) {
        const struct subcommand *sc = &qunctl_commands[i];
        if (group && strcmp(group, sc->group) != 0)
            continue;
        char words[48];
        snprintf(words, sizeof words, "%s%s%s", sc->group, sc->verb ? " " : "",
                 sc->verb ? sc->verb : "");
        fprintf(out, "  %-20s %s\n", words, sc->help);
    }
    if (!group || strcmp(group, "verify") == 0)
        fprintf(out, "  %-20s %s\n", "verify",
                "check the network log file [--db PATH] [--key PATH.pub] (reads it directly)");
}

static int usage_error(const struct subcommand *sc, const char *fmt, const char *what)
{
    fputs("qunctl: ", stderr);
    fprintf(stderr, fmt, what);
    fputc('\n', stderr);
    if (sc) {
        fputs("usage: ", stderr);
        print_synopsis(stderr, sc);
    } else {
        fputs("try `qunctl --help`\n", stderr);
    }
    return 2;
}

/* ---------------------------------------------------------------- parsing */

/* Finds the subcommand named by words[0..1]; *used = words consumed. */
static const struct subcommand *find_subcommand(int n, char **words, int *used)
{
    for (size_t i = 0; i < QUNCTL_NCOMMANDS; i++) {
        const struct subcommand *sc = &qunctl_commands[i];
        if (strcmp(sc->group, words[0]) != 0)
            continue;
        if (!sc->verb) {
            *used = 1;
            return sc;
        }
        if (n > 1 && strcmp(sc->verb, words[1]) == 0) {
            *used = 2;
            return sc;
        }
    }
    return NULL;
}

static bool group_exists(const char *word)
{
    for (size_t i = 0; i < QUNCTL_NCOMMANDS; i++)
        if (strcmp(qunctl_commands[i].group, word) == 0)
            return true;
    return false;
}

/* Sets args[key] from text; returns -1 (after a usage message) if bad. */
static int set_arg(const struct subcommand *sc, const struct arg_spec *a, const char *text,
                   json_t *args)
{
    if (a->type == ARG_ID || a->type == ARG_INT) {
        char *end;
        errno = 0;
        long long v = strtoll(text, &end, 10);
        if (errno || *end || end == text || (a->type == ARG_ID && v <= 0))
            return usage_error(sc,
                               a->type == ARG_ID ? "%s must be a positive whole number"
                                                 : "%s must be a whole number",
                               a->metavar),
                   -1;
        json_object_set_new(args, a->key, json_integer(v));
    } else {
        json_object_set_new(args, a->key, json_string(text));
    }
    return 0;
}

static const struct arg_spec *find_option(const struct subcommand *sc, const char *flag,
                                          size_t flaglen)
{
    for (const struct arg_spec *a = sc->args; a->key; a++)
        if (a->flag && strlen(a->flag) == flaglen && strncmp(a->flag, flag, flaglen) == 0)
            return a;
    return NULL;
}

/* Parses argv (after the command words) into a new args object. Returns 0,
 * 1 if --help was printed, or 2 after a usage message. */
static int parse_args(const struct subcommand *sc, int argc, char **argv, json_t **out,
                      bool *json_out)
{
    json_t *args = json_object();
    const struct arg_spec *next_pos = sc->args;
    for (int i = 0; i < argc; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0) {
            print_subcommand_help(stdout, sc);
            json_decref(args);
            return 1;
        }
        if (strcmp(w, "--json") == 0) {
            *json_out = true;
            continue;
        }
        const struct arg_spec *a;
        const char *value;
        if (strncmp(w, "--", 2) == 0) {
            const char *eq = strchr(w, '=');
            a = find_option(sc, w, eq ? (size_t)(eq - w) : strlen(w));
            if (!a)
                return json_decref(args), usage_error(sc, "unknown option %s", w);
            if (!eq && i + 1 >= argc)
                return json_decref(args), usage_error(sc, "%s needs a value", a->flag);
            value = eq ? eq + 1 : argv[++i];
        } else {
            while (next_pos->key && next_pos->flag)
                next_pos++;
            if (!next_pos->key)
                return json_decref(args), usage_error(sc, "unexpected argument \"%s\"", w);
            a = next_pos++;
            value = w;
        }
        if (set_arg(sc, a, value, args) < 0)
            return json_decref(args), 2;
    }
    for (const struct arg_spec *a = sc->args; a->key; a++)
        if ((a->required || !a->flag) && !json_object_get(args, a->key))
            return json_decref(args), usage_error(sc, a->flag ? "%s is required" : "missing %s",
                                                  a->flag ? a->flag : a->metavar);
    *out = args;
    return 0;
}

/* ---------------------------------------------------------------- exchange */

static int connect_socket(const char *path)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "qunctl: cannot connect to control socket %s: path too long\n", path);
        return -1;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        fprintf(stderr, "qunctl: cannot connect to control socket %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    struct timeval tv = {.tv_sec = QUNCTL_TIMEOUT_S};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    return fd;
}

static int send_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t n = send(fd, data, len, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Reads one answer line; returns a malloc'd NUL-terminated string or NULL
 * with a sentence on stderr. */
static char *recv_line(int fd, const char *path)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        if (len + 1 >= cap) {
            char *nbuf = cap < QUNCTL_ANSWER_MAX ? realloc(buf, cap * 2) : NULL;
            if (!nbuf) {
                fprintf(stderr, "qunctl: the answer from %s is too long\n", path);
                break;
            }
            buf = nbuf;
            cap *= 2;
        }
        ssize_t n = recv(fd, buf + len, cap - len - 1, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            bool timeout = errno == EAGAIN || errno == EWOULDBLOCK;
            fprintf(stderr, "qunctl: %s %s: %s\n",
                    timeout ? "no answer within 30 seconds from" : "cannot read from", path,
                    strerror(errno));
            break;
        }
        if (n == 0) {
            fprintf(stderr, "qunctl: %s closed the connection without an answer\n", path);
            break;
        }
        char *nl = memchr(buf + len, '\n', (size_t)n);
        len += (size_t)n;
        if (nl) {
            *nl = '\0';
            return buf;
        }
    }
    free(buf);
    return NULL;
}

/* Sends one request and returns the parsed answer, or NULL (exit 3). */
static json_t *exchange(const char *path, const char *cmd, json_t *args)
{
    int fd = connect_socket(path);
    if (fd < 0)
        return NULL;
    json_t *req = json_pack("{s:i, s:s, s:O}", "id", 1, "cmd", cmd, "args", args);
    char *text = json_dumps(req, JSON_COMPACT);
    json_decref(req);
    size_t n = strlen(text);
    text[n] = '\n'; /* replaces the NUL; length passed explicitly */
    int rc = send_all(fd, text, n + 1);
    explicit_bzero(text, n + 1); /* it may carry a password */
    free(text);
    if (rc < 0) {
        fprintf(stderr, "qunctl: cannot send to %s: %s\n", path, strerror(errno));
        close(fd);
        return NULL;
    }
    char *line = recv_line(fd, path);
    close(fd);
    if (!line)
        return NULL;
    json_error_t jerr;
    json_t *answer = json_loads(line, 0, &jerr);
    free(line);
    if (!json_is_object(answer)) {
        fprintf(stderr, "qunctl: %s sent an answer that is not a JSON object\n", path);
        json_decref(answer);
        return NULL;
    }
    return answer;
}

/* ---------------------------------------------------------------- verify */

/* `qunctl verify` reads the log database itself (netlog/verify.h), then
 * tells the daemon, if one runs, that the log was accessed: every access
 * to the log is a logged event. Exit 0 all well, 1 altered, 2 usage, 3
 * the files cannot be opened. */

static void verify_print(const struct netlog_verify_report *r, const char *db, bool as_json)
{
    if (as_json) {
        json_t *o = json_pack(
            "{s:s, s:b, s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:b, s:f}", "db", db, "ok", r->ok,
            "events", (json_int_t)r->events, "first_seq", (json_int_t)r->first_seq, "last_seq",
            (json_int_t)r->last_seq, "checkpoints", (json_int_t)r->checkpoints, "signed_size",
            (json_int_t)r->signed_size, "unsigned_events", (json_int_t)r->unsigned_events,
            "problems", (json_int_t)r->problems, "purged", r->purged, "seconds", r->seconds);
        json_object_set_new(o, "journal", json_boolean(r->journal));
        json_object_set_new(o, "journal_events", json_integer(r->journal_events));
        if (!r->ok) {
            json_object_set_new(o, "first_bad_seq", json_integer(r->bad_seq));
            json_object_set_new(o, "bad_checkpoint", json_integer(r->bad_cp));
            json_object_set_new(o, "message", json_string(r->message));
        }
        qunctl_print_json(stdout, o);
        json_decref(o);
        return;
    }
    printf("log:          %s\n", db);
    printf("events:       %lld (seq %lld..%lld)%s\n", (long long)r->events, (long long)r->first_seq,
           (long long)r->last_seq, r->purged ? ", older events purged" : "");
    printf("checkpoints:  %lld, signed up to %lld\n", (long long)r->checkpoints,
           (long long)r->signed_size);
    printf("not signed:   %lld events after the last checkpoint\n", (long long)r->unsigned_events);
    if (r->journal)
        printf("journal:      %lld of them only in the journal (%s.jnl), not yet in the database\n",
               (long long)r->journal_events, db);
    else
        printf("journal:      none beside the database\n");
    printf("speed:        %.2f s, %.0f records/s\n", r->seconds,
           r->seconds > 0 ? (double)r->events / r->seconds : 0.0);
    if (r->ok)
        printf("result:       OK, the log is intact\n");
    else
        printf("result:       ALTERED: %s (%lld problems)\n", r->message, (long long)r->problems);
}

static void verify_log_access(const char *sock, const char *db,
                              const struct netlog_verify_report *r)
{
    json_t *args = json_pack("{s:s, s:s, s:b, s:I}", "what", "verify", "path", db, "ok", r->ok,
                             "events", (json_int_t)r->events);
    if (!r->ok && r->bad_seq)
        json_object_set_new(args, "first_bad_seq", json_integer(r->bad_seq));
    json_t *answer = exchange(sock, "log.access", args);
    json_decref(args);
    if (!answer)
        fputs("qunctl: note: no daemon answered; this access to the log is not recorded\n", stderr);
    else if (!json_is_true(json_object_get(answer, "ok")))
        fputs("qunctl: note: the daemon did not record this access to the log\n", stderr);
    json_decref(answer);
}

static int verify_command(const char *sock, int argc, char **argv, bool as_json)
{
    const char *db = QUNCTL_DEFAULT_LOG_DB, *key = QUNCTL_DEFAULT_LOG_KEY;
    for (int i = 0; i < argc; i++) {
        const char **dst = !strcmp(argv[i], "--db") ? &db : !strcmp(argv[i], "--key") ? &key : NULL;
        if (!strcmp(argv[i], "--json")) {
            as_json = true;
        } else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            puts("usage: qunctl verify [--db PATH] [--key PATH.pub] [--json]\n\n"
                 "Checks every retained event of the network log (hashes, chain, signed\n"
                 "checkpoints) and names the first altered record, then the events only\n"
                 "the journal beside it holds (PATH.jnl, after a crash). Defaults: "
                 "--db " QUNCTL_DEFAULT_LOG_DB ", --key " QUNCTL_DEFAULT_LOG_KEY
                 ".\nExit: 0 intact, 1 altered, 3 cannot open.");
            return 0;
        } else if (dst && i + 1 < argc) {
            *dst = argv[++i];
        } else {
            fprintf(stderr, "qunctl: %s: %s\nusage: qunctl verify [--db PATH] [--key PATH.pub]\n",
                    argv[i], dst ? "needs a value" : "unknown argument");
            return 2;
        }
    }
    struct netlog_verify_report r;
    enum netlog_verify_result res = netlog_verify_file(db, key, &r);
    if (res == NETLOG_VERIFY_ERROR) {
        fprintf(stderr, "qunctl: verify: %s\n", r.message);
        return 3;
    }
    verify_print(&r, db, as_json);
    if (res == NETLOG_VERIFY_BAD)
        fprintf(stderr, "qunctl: verify: the log was altered: %s\n", r.message);
    verify_log_access(sock, db, &r);
    return res == NETLOG_VERIFY_OK ? 0 : 1;
}

json_t *qunctl_exchange(const char *path, const char *cmd, json_t *args)
{
    return exchange(path, cmd, args);
}

/* ---------------------------------------------------------------- main */

/* Reads the secret key into args (wiping qunctl's own buffer). */
static int add_secret(const char *key, json_t *args)
{
    char buf[1024];
    size_t len = 0;
    if (qunctl_read_secret(key, buf, sizeof buf, &len) < 0)
        return -1;
    json_t *v = json_stringn(buf, len);
    explicit_bzero(buf, sizeof buf);
    if (!v) {
        fprintf(stderr, "qunctl: the %s must be valid UTF-8\n", key);
        return -1;
    }
    json_object_set_new(args, key, v);
    return 0;
}

static int report(json_t *answer, bool as_json)
{
    if (json_is_true(json_object_get(answer, "ok"))) {
        json_t *result = json_object_get(answer, "result");
        if (as_json)
            qunctl_print_json(stdout, result);
        else
            qunctl_print(stdout, result);
        return 0;
    }
    json_t *e = json_object_get(answer, "error");
    const char *code = json_string_value(json_object_get(e, "code"));
    const char *msg = json_string_value(json_object_get(e, "message"));
    fprintf(stderr, "qunctl: %s (%s)\n", msg ? msg : "the daemon refused the request",
            code ? code : "error");
    return 1;
}

int main(int argc, char **argv)
{
    const char *path = getenv("QUN_CONTROL_SOCKET");
    if (!path || !*path)
        path = QUNCTL_DEFAULT_SOCKET;
    bool as_json = false;
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *w = argv[i];
        if (strcmp(w, "--help") == 0 || strcmp(w, "-h") == 0) {
            print_usage(stdout, NULL);
            return 0;
        } else if (strcmp(w, "--json") == 0) {
            as_json = true;
        } else if (strcmp(w, "-s") == 0 || strcmp(w, "--socket") == 0) {
            if (++i >= argc)
                return usage_error(NULL, "%s needs a path", w);
            path = argv[i];
        } else if (strncmp(w, "--socket=", 9) == 0) {
            path = w + 9;
        } else {
            return usage_error(NULL, "unknown option %s", w);
        }
    }
    if (i >= argc)
        return usage_error(NULL, "%s", "no command given");
    if (strcmp(argv[i], "verify") == 0)
        return verify_command(path, argc - i - 1, argv + i + 1, as_json);
    int local_rc; /* search, export, verify-bundle (netlog_cmds.c) */
    if (qunctl_netlog_command(path, argc - i, argv + i, as_json, &local_rc))
        return local_rc;
    int used = 0;
    const struct subcommand *sc = find_subcommand(argc - i, argv + i, &used);
    if (!sc) {
        if (!group_exists(argv[i]))
            return usage_error(NULL, "unknown command \"%s\"", argv[i]);
        if (i + 1 < argc && (strcmp(argv[i + 1], "--help") == 0 || !strcmp(argv[i + 1], "-h"))) {
            print_usage(stdout, argv[i]);
            return 0;
        }
        fprintf(stderr, "qunctl: \"%s\" needs one of these subcommands:\n", argv[i]);
        print_usage(stderr, argv[i]);
        return 2;
    }
    json_t *args = NULL;
    int rc = parse_args(sc, argc - i - used, argv + i + used, &args, &as_json);
    if (rc != 0)
        return rc == 1 ? 0 : rc;
    if (secret_key(sc) && add_secret(secret_key(sc), args) < 0) {
        json_decref(args);
        return 2;
    }
    json_t *answer = exchange(path, sc->cmd, args);
    json_decref(args);
    if (!answer)
        return 3;
    rc = report(answer, as_json);
    json_decref(answer);
    return rc;
}
