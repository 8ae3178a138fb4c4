/*
 * config.h - the daemon's configuration, read from a libconfig file.
 *
 * config_load() parses and validates the whole file into a fresh struct
 * qun_config; the running server swaps its pointer only when the new file is
 * entirely valid, so a bad reload (SIGHUP) changes nothing. Every setting is
 * documented in conf/qund.conf, the shipped file; docs/configuration.md is
 * the reference.
 *
 * Errors are one sentence prefixed with "file:line: ", e.g.
 *   "conf/qund.conf:12: limits.sendq must be at least 4096 bytes".
 * Unknown settings are errors too (a typo must not silently fall back to a
 * default).
 */
#ifndef QUN_CONFIG_CONFIG_H
#define QUN_CONFIG_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* What a listener speaks (listen blocks' kind). */
enum config_listen_kind {
    LISTEN_IRC = 0, /* IRC over TCP (the default) */
    LISTEN_WEB,     /* public web: chat page, /irc WebSocket, /g/ pages */
    LISTEN_CONSOLE, /* operator console and its JSON API */
};

struct config_listen {
    char *address;
    int port;
    bool tls;
    enum config_listen_kind kind;
};

struct config_oper {
    char *name;
    char *password; /* compared in constant time; never logged */
    char *host;     /* glob on user@host, "*" by default */
};

/* An IPv4/IPv6 network in CIDR form. */
struct config_cidr {
    uint8_t addr[16];
    int family; /* AF_INET or AF_INET6 */
    int prefix;
};

/* One row of the credit level table (SPEC §6). */
struct config_credit_level {
    char level;    /* 'A'..'E' */
    int min_score; /* the level applies from this score up */
    bool post;
    int groups_owned;  /* groups a user at this level may own */
    int members;       /* members per group such a user owns */
    int groups_joined; /* groups a user at this level may belong to */
    bool manage;       /* may own or manage a group */
    int rate;          /* messages per 10 s */
};

/* One row of the group policy table (category x size class); the first
 * matching row applies. */
struct config_group_policy {
    char *category; /* a category or "*" */
    int size;       /* -1 any, 0 small, 1 medium, 2 large */
    int members;    /* a cap below the credit level's, or 0 for none */
    bool create;    /* groups of this category may be created */
    bool approval;  /* joins need a manager's approval */
};

/* One pattern set of the automatic rules (rules.patterns, src/rules/). The
 * file is read by rules_load(), not here, so a reload can keep the old
 * rules when a file is bad. */
struct config_rule_set {
    char *name;     /* shown to senders and managers, in the log and the ledger */
    char *file;     /* one pattern per line */
    bool regex;     /* kind = "regex" (POSIX extended), else "literal" */
    char *action;   /* "block", "hold" or "flag" */
    char *severity; /* "minor", "general", "serious" or "severe" */
};

struct qun_config {
    char *path; /* the file this was read from */

    /* server */
    char *server_name;
    char *server_description;
    char *network_name;
    bool development;
    char *run_user;  /* user to switch to when started as root */
    char *password;  /* connection password (PASS) or NULL */
    char *motd_file; /* NULL: no MOTD */
    char *admin_location;
    char *admin_organization;
    char *admin_email;

    char *log_level;

    /* channels */
    char *creator_prefix; /* "~" (owner) or "@" (operator) for a new channel's creator */

    struct config_listen *listen;
    size_t nlisten;
    char *tls_certificate;
    char *tls_key;

    char *store_path;     /* SQLite database file; opened after dropping root */
    char *vault_key_file; /* 32-byte master key, mode 0600; created if missing */

    /* limits */
    int max_clients;
    int max_per_ip;
    size_t client_tags_max; /* bytes of client-only tags a client may send */
    size_t sendq;
    int registration_timeout; /* seconds */
    int ping_interval;        /* seconds of silence before we PING */
    int ping_timeout;         /* seconds to wait for the PONG */
    int nick_length;          /* bytes */
    int channel_length;       /* bytes */
    int topic_length;
    int away_length;
    int kick_length;
    int user_length;
    int realname_length;
    int max_channels; /* per client */
    int max_targets;  /* per PRIVMSG/NOTICE/... */
    int max_list;     /* bans/exceptions per channel */
    int monitor_max;
    int whowas_max;
    int flood_burst; /* seconds of penalty allowed ahead of real time */
    struct config_cidr *flood_exempt;
    size_t nflood_exempt;

    struct config_oper *opers;
    size_t nopers;

    /* accounts (src/account/) */
    bool accounts_registration; /* REGISTER and NickServ REGISTER allowed */
    int nick_grace;      /* seconds before an unidentified user of a registered nick is renamed */
    int login_failures;  /* failed logins allowed per account and per IP ... */
    int login_window;    /* ... within this many seconds */
    int max_certs;       /* client certificate fingerprints per account */
    int password_min;    /* shortest password, bytes */
    bool before_connect; /* REGISTER allowed before connection registration completes */
    bool phone_required; /* REGISTER needs a phone number (advertised as email-required) */
    int post_level;      /* identity level needed to post in a channel (SPEC: 1) */
    int create_level;    /* identity level needed to create a channel (SPEC: 2) */

    /* identity (src/identity/): providers for the level-2 check and the SMS code */
    char *id_provider;         /* "dev", "exec", "http" or "manual" */
    char *id_provider_command; /* exec: program path */
    char *id_provider_url;     /* http: URL to POST JSON to */
    int id_provider_timeout;   /* seconds */
    int id_provider_retries;   /* http: extra attempts after a failure */
    char *sms_provider;        /* "dev", "exec", "http" or "none" */
    char *sms_command;
    char *sms_url;
    int sms_timeout;
    int sms_retries;
    int max_accounts_per_identity;
    int code_ttl; /* seconds a phone code is valid (SPEC: 600; shorter only in development) */
    char *convention_file; /* platform convention text; NULL: none required */
    int convention_version;

    /* groups (src/group/) */
    char **group_categories; /* NULL-terminated */
    char *group_default_category;
    int managers_max;
    struct config_group_policy *group_policy;
    size_t ngroup_policy;
    struct config_credit_level *credit_levels; /* sorted by min_score, highest first */
    size_t ncredit_levels;
    int credit_initial; /* score of a new account (SPEC: 600) */

    /* complaints (src/complaint/, docs/complaints.md) */
    char **complaint_categories;     /* NULL-terminated */
    int complaint_text_max;          /* bytes of a complaint's free text */
    int complaint_rate_per_hour;     /* complaints one account may file per hour */
    int complaint_group_deadline;    /* seconds the owner and managers have */
    int complaint_platform_deadline; /* seconds the platform moderators have */
    int complaint_malicious_flag;    /* malicious dismissals that flag a reporter ... */
    int complaint_malicious_days;    /* ... within this many days */

    /* the network log (src/netlog/) */
    char *netlog_path;
    char *netlog_key_file;
    char *netlog_mode; /* "strict" (default) or "relaxed" (benchmarks only) */
    int netlog_checkpoint_events;
    int netlog_checkpoint_seconds;
    int netlog_keep_months; /* at least 6 (art. 13) */
    char *netlog_dm;        /* "content" or "metadata" */
    int netlog_queue_max;
    size_t netlog_journal_size; /* bytes reserved for <path>.jnl */

    /* sanctions (src/sanction/, SPEC §7) */
    int sanction_warn_hours;   /* a warned group has this long to rectify (72) */
    int sanction_suspend_days; /* a group's posting suspension (7) */
    int sanction_window_days;  /* violations counted within this many days (30) ... */
    int sanction_violations;   /* ... this many of them warn the group (3) */
    int sanction_manage_days;  /* management rights suspended for a serious violation (30) */
    int sanction_post_days;    /* default of a person's posting suspension (7) */
    /* reports to the authority (src/report/): sinks and retries */
    char *reports_spool_dir;  /* "" turns the spool off */
    char *reports_http_url;   /* NULL: no HTTP sink */
    int reports_http_timeout; /* seconds per POST */
    int reports_max_attempts; /* then the report is failed */
    int reports_backoff_base; /* seconds before the 2nd attempt; doubles */
    int reports_backoff_max;  /* seconds, cap of the doubling */
    /* automatic rules on group messages (src/rules/, docs/rules.md) */
    int rules_flood_messages; /* per account across groups; 0: no flood rule */
    int rules_flood_window;   /* seconds */
    char *rules_flood_action;
    char *rules_flood_severity;
    int rules_spam_groups; /* the same text in this many groups; 0: no spam rule */
    int rules_spam_window; /* seconds */
    char *rules_spam_action;
    char *rules_spam_severity;
    int rules_max_patterns;     /* patterns over every set */
    int rules_pattern_bytes;    /* the longest pattern */
    int rules_sanction_seconds; /* at most one automatic deduction per account per rule */
    struct config_rule_set *rule_sets;
    size_t nrule_sets;

    /* control socket (src/ctl/, used by qunctl) */
    char *control_socket;
    int control_idle_timeout;      /* seconds a connection may sit without a request (600) */
    char **control_administrators; /* unix user names; NULL-terminated */
    char **control_moderators;
    char **control_auditors;

    /* the operator console's sessions (src/console/, docs/console.md) */
    int console_session_idle_minutes;   /* a session unused this long ends (30) */
    int console_session_lifetime_hours; /* a session ends this long after login (12) */
    int console_login_failures;         /* failed logins allowed per name and per IP ... */
    int console_login_window;           /* ... within this many seconds (5 per 900) */
    int console_max_sessions;           /* open console sessions, all operators (1000) */
    bool console_allow_remote;          /* a console listener may bind a non-loopback address */

    /* the web face (src/web/, docs/web.md) */
    char *web_root;            /* directory holding public/ and console/ ("web") */
    int web_header_timeout;    /* seconds from a request's first byte to its end (10) */
    int web_idle_timeout;      /* seconds a kept-alive connection may wait idle (60) */
    size_t web_line_max;       /* request line bytes (8192) */
    size_t web_header_bytes;   /* header section bytes (16384) */
    int web_header_count;      /* header fields (64) */
    size_t web_body_max;       /* request body bytes (65536) */
    size_t web_ws_message_max; /* one WebSocket message (16384) */
    int web_max_connections;   /* open HTTP connections, WebSocket ones excluded (10000) */
};

/* Reads and validates path. On success returns a new config; on failure
 * returns NULL and writes "file:line: sentence" into err. */
struct qun_config *config_load(const char *path, char *err, size_t errlen);
/* The same from text in memory (tests, fuzz/fuzz_config.c); name stands
 * for the file in errors and in cfg->path. An @include in the text is
 * resolved as libconfig does for a file (relative to the working
 * directory). */
struct qun_config *config_load_text(const char *name, const char *text, char *err, size_t errlen);
void config_free(struct qun_config *cfg);

/* True when name is one of complaints.categories. */
bool config_complaint_category_valid(const struct qun_config *cfg, const char *name);

/* True when name is one of groups.categories. */
bool config_category_valid(const struct qun_config *cfg, const char *name);

/* True when the address (AF_INET/AF_INET6 sockaddr) is inside one of the
 * networks. */
bool config_cidr_match(const struct config_cidr *nets, size_t n, const struct sockaddr *sa);

#endif
