/*
 * config.c - loading and validating the libconfig file into struct qun_config.
 *
 * The scalar settings are described by one table (name, type, where it goes,
 * bounds, default); lists (listen, operators, flood exemptions) have their own
 * small readers. Validation is strict: wrong types, out-of-range values and
 * unknown names are refused with the line they are on.
 */
#include "config/config.h"

#include <arpa/inet.h>
#include <libconfig.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/alloc.h"
#include "util/log.h"

enum cfg_type { CFG_STR, CFG_INT, CFG_BOOL, CFG_SIZE };

struct cfg_field {
    const char *path; /* "group.name" */
    enum cfg_type type;
    size_t offset;
    long long min, max;
    const char *def_str; /* default for strings (NULL: none) */
    long long def_num;   /* default for numbers and booleans */
};

#define F(path, type, field, min, max, ds, dn)                                                     \
    {                                                                                              \
        path, type, offsetof(struct qun_config, field), min, max, ds, dn                           \
    }

static const struct cfg_field cfg_fields[] = {
    F("server.name", CFG_STR, server_name, 1, 63, NULL, 0),
    F("server.description", CFG_STR, server_description, 0, 200, "Qun group chat", 0),
    F("server.network", CFG_STR, network_name, 1, 32, "Qun", 0),
    F("server.development", CFG_BOOL, development, 0, 1, NULL, 0),
    F("server.user", CFG_STR, run_user, 1, 64, NULL, 0),
    F("server.password", CFG_STR, password, 1, 200, NULL, 0),
    F("server.motd", CFG_STR, motd_file, 1, 4096, NULL, 0),
    F("admin.location", CFG_STR, admin_location, 0, 200, "Unknown location", 0),
    F("admin.organization", CFG_STR, admin_organization, 0, 200, "Unknown organization", 0),
    F("admin.email", CFG_STR, admin_email, 0, 200, "admin@localhost", 0),
    F("log.level", CFG_STR, log_level, 1, 16, "info", 0),
    F("channels.creator_prefix", CFG_STR, creator_prefix, 1, 1, "~", 0),
    F("tls.certificate", CFG_STR, tls_certificate, 1, 4096, NULL, 0),
    F("tls.key", CFG_STR, tls_key, 1, 4096, NULL, 0),
    F("store.path", CFG_STR, store_path, 1, 4096, "var/qun.db", 0),
    F("vault.key_file", CFG_STR, vault_key_file, 1, 4096, "var/vault.key", 0),
    F("limits.max_clients", CFG_INT, max_clients, 1, 10000000, NULL, 100000),
    F("limits.max_per_ip", CFG_INT, max_per_ip, 1, 10000000, NULL, 10),
    F("limits.client_tags", CFG_SIZE, client_tags_max, 0, 4094, NULL, 4094),
    F("limits.sendq", CFG_SIZE, sendq, 4096, 1LL << 30, NULL, 1 << 20),
    F("limits.registration_timeout", CFG_INT, registration_timeout, 5, 3600, NULL, 60),
    F("limits.ping_interval", CFG_INT, ping_interval, 5, 3600, NULL, 120),
    F("limits.ping_timeout", CFG_INT, ping_timeout, 5, 3600, NULL, 60),
    F("limits.nick_length", CFG_INT, nick_length, 9, 64, NULL, 30),
    F("limits.channel_length", CFG_INT, channel_length, 10, 200, NULL, 64),
    F("limits.topic_length", CFG_INT, topic_length, 10, 390, NULL, 390),
    F("limits.away_length", CFG_INT, away_length, 10, 390, NULL, 390),
    F("limits.kick_length", CFG_INT, kick_length, 10, 390, NULL, 390),
    F("limits.user_length", CFG_INT, user_length, 4, 32, NULL, 16),
    F("limits.realname_length", CFG_INT, realname_length, 10, 390, NULL, 150),
    F("limits.max_channels", CFG_INT, max_channels, 1, 100000, NULL, 100),
    F("limits.max_targets", CFG_INT, max_targets, 1, 100, NULL, 4),
    F("limits.max_list", CFG_INT, max_list, 1, 10000, NULL, 100),
    F("limits.monitor", CFG_INT, monitor_max, 0, 10000, NULL, 100),
    F("limits.whowas", CFG_INT, whowas_max, 0, 1000000, NULL, 1000),
    F("limits.flood_burst", CFG_INT, flood_burst, 1, 3600, NULL, 10),
    F("accounts.registration", CFG_BOOL, accounts_registration, 0, 1, NULL, 1),
    F("accounts.nick_grace", CFG_INT, nick_grace, 5, 3600, NULL, 60),
    F("accounts.login_failures", CFG_INT, login_failures, 1, 32, NULL, 10),
    F("accounts.login_window", CFG_INT, login_window, 10, 86400, NULL, 600),
    F("accounts.max_certs", CFG_INT, max_certs, 0, 100, NULL, 5),
    F("accounts.password_min", CFG_INT, password_min, 1, 64, NULL, 8),
    F("accounts.before_connect", CFG_BOOL, before_connect, 0, 1, NULL, 1),
    F("accounts.phone_required", CFG_BOOL, phone_required, 0, 1, NULL, 0),
    F("identity.post_level", CFG_INT, post_level, 0, 2, NULL, 1),
    F("identity.create_level", CFG_INT, create_level, 0, 2, NULL, 2),
    F("identity.provider", CFG_STR, id_provider, 1, 16, "manual", 0),
    F("identity.provider_command", CFG_STR, id_provider_command, 1, 4096, NULL, 0),
    F("identity.provider_url", CFG_STR, id_provider_url, 1, 4096, NULL, 0),
    F("identity.provider_timeout", CFG_INT, id_provider_timeout, 1, 300, NULL, 10),
    F("identity.provider_retries", CFG_INT, id_provider_retries, 0, 10, NULL, 2),
    F("identity.sms", CFG_STR, sms_provider, 1, 16, "none", 0),
    F("identity.sms_command", CFG_STR, sms_command, 1, 4096, NULL, 0),
    F("identity.sms_url", CFG_STR, sms_url, 1, 4096, NULL, 0),
    F("identity.sms_timeout", CFG_INT, sms_timeout, 1, 300, NULL, 10),
    F("identity.sms_retries", CFG_INT, sms_retries, 0, 10, NULL, 2),
    F("identity.max_accounts_per_identity", CFG_INT, max_accounts_per_identity, 1, 100, NULL, 3),
    F("identity.code_ttl", CFG_INT, code_ttl, 1, 3600, NULL, 600),
    F("identity.convention", CFG_STR, convention_file, 1, 4096, NULL, 0),
    F("identity.convention_version", CFG_INT, convention_version, 1, 1000000, NULL, 1),
    F("control.socket", CFG_STR, control_socket, 1, 107, "var/qund.sock", 0),
    F("control.idle_timeout", CFG_INT, control_idle_timeout, 1, 86400, NULL, 600),
    F("console.session_idle_minutes", CFG_INT, console_session_idle_minutes, 1, 1440, NULL, 30),
    F("console.session_lifetime_hours", CFG_INT, console_session_lifetime_hours, 1, 168, NULL, 12),
    F("console.login_failures", CFG_INT, console_login_failures, 1, 32, NULL, 5),
    F("console.login_window", CFG_INT, console_login_window, 60, 86400, NULL, 900),
    F("console.max_sessions", CFG_INT, console_max_sessions, 1, 100000, NULL, 1000),
    F("console.allow_remote", CFG_BOOL, console_allow_remote, 0, 1, NULL, 0),
    F("web.root", CFG_STR, web_root, 1, 4096, "web", 0),
    F("web.header_timeout", CFG_INT, web_header_timeout, 1, 600, NULL, 10),
    F("web.idle_timeout", CFG_INT, web_idle_timeout, 1, 3600, NULL, 60),
    F("web.line_max", CFG_SIZE, web_line_max, 256, 65536, NULL, 8192),
    F("web.header_bytes", CFG_SIZE, web_header_bytes, 1024, 1 << 20, NULL, 16384),
    F("web.header_count", CFG_INT, web_header_count, 8, 1000, NULL, 64),
    F("web.body_max", CFG_SIZE, web_body_max, 1024, 16 << 20, NULL, 65536),
    F("web.ws_message_max", CFG_SIZE, web_ws_message_max, 1024, 1 << 20, NULL, 16384),
    F("web.max_connections", CFG_INT, web_max_connections, 1, 10000000, NULL, 10000),
    F("netlog.path", CFG_STR, netlog_path, 1, 4096, "var/netlog.db", 0),
    F("netlog.key_file", CFG_STR, netlog_key_file, 1, 4096, "var/netlog.key", 0),
    F("netlog.mode", CFG_STR, netlog_mode, 1, 16, "strict", 0),
    F("netlog.checkpoint_events", CFG_INT, netlog_checkpoint_events, 1, 10000000, NULL, 1000),
    F("netlog.checkpoint_seconds", CFG_INT, netlog_checkpoint_seconds, 1, 86400, NULL, 60),
    F("netlog.keep_months", CFG_INT, netlog_keep_months, 0, 1200, NULL, 7),
    F("netlog.direct_messages", CFG_STR, netlog_dm, 1, 16, "content", 0),
    F("netlog.queue_max", CFG_INT, netlog_queue_max, 1000, 100000000, NULL, 1000000),
    F("netlog.journal_size", CFG_SIZE, netlog_journal_size, 2LL << 20, 1LL << 30, NULL, 32 << 20),
    F("reports.spool_dir", CFG_STR, reports_spool_dir, 0, 4000, "var/reports", 0),
    F("reports.http_url", CFG_STR, reports_http_url, 1, 4096, NULL, 0),
    F("reports.http_timeout", CFG_INT, reports_http_timeout, 1, 300, NULL, 10),
    F("reports.max_attempts", CFG_INT, reports_max_attempts, 1, 1000, NULL, 12),
    F("reports.backoff_base", CFG_INT, reports_backoff_base, 1, 86400, NULL, 60),
    F("reports.backoff_max", CFG_INT, reports_backoff_max, 1, 7 * 86400, NULL, 6 * 3600),
    F("groups.default_category", CFG_STR, group_default_category, 1, 32, "friends", 0),
    F("groups.managers_max", CFG_INT, managers_max, 0, 100, NULL, 10),
    F("groups.credit_initial", CFG_INT, credit_initial, 0, 1000, NULL, 600),
    F("sanctions.warn_hours", CFG_INT, sanction_warn_hours, 1, 8760, NULL, 72),
    F("sanctions.suspend_days", CFG_INT, sanction_suspend_days, 1, 3650, NULL, 7),
    F("sanctions.window_days", CFG_INT, sanction_window_days, 1, 3650, NULL, 30),
    F("sanctions.violations", CFG_INT, sanction_violations, 1, 1000, NULL, 3),
    F("sanctions.manage_days", CFG_INT, sanction_manage_days, 1, 3650, NULL, 30),
    F("sanctions.post_days", CFG_INT, sanction_post_days, 1, 3650, NULL, 7),
    F("complaints.text_max", CFG_INT, complaint_text_max, 16, 400, NULL, 400),
    F("complaints.rate_per_hour", CFG_INT, complaint_rate_per_hour, 1, 1000, NULL, 10),
    F("complaints.group_deadline", CFG_INT, complaint_group_deadline, 60, 2592000, NULL, 86400),
    F("complaints.platform_deadline", CFG_INT, complaint_platform_deadline, 60, 2592000, NULL,
      259200),
    F("complaints.malicious_flag", CFG_INT, complaint_malicious_flag, 1, 100, NULL, 3),
    F("complaints.malicious_window_days", CFG_INT, complaint_malicious_days, 1, 3650, NULL, 90),
    F("rules.flood_messages", CFG_INT, rules_flood_messages, 0, 10000, NULL, 0),
    F("rules.flood_window", CFG_INT, rules_flood_window, 1, 3600, NULL, 10),
    F("rules.flood_action", CFG_STR, rules_flood_action, 1, 8, "block", 0),
    F("rules.flood_severity", CFG_STR, rules_flood_severity, 1, 8, "minor", 0),
    F("rules.spam_groups", CFG_INT, rules_spam_groups, 0, 16, NULL, 0),
    F("rules.spam_window", CFG_INT, rules_spam_window, 1, 86400, NULL, 60),
    F("rules.spam_action", CFG_STR, rules_spam_action, 1, 8, "block", 0),
    F("rules.spam_severity", CFG_STR, rules_spam_severity, 1, 8, "minor", 0),
    F("rules.max_patterns", CFG_INT, rules_max_patterns, 0, 100000, NULL, 10000),
    F("rules.pattern_bytes", CFG_INT, rules_pattern_bytes, 8, 1024, NULL, 256),
    F("rules.sanction_seconds", CFG_INT, rules_sanction_seconds, 0, 86400, NULL, 60),
};

/* Names that are groups or lists handled outside the table. */
static const char *const cfg_groups[] = {"server",     "admin",  "log",     "tls",       "limits",
                                         "channels",   "store",  "vault",   "accounts",  "identity",
                                         "control",    "groups", "netlog",  "sanctions", "reports",
                                         "complaints", "rules",  "console", "web",       NULL};

static void cfg_error(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void cfg_error(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
{
    int n = snprintf(err, errlen, "%s:%d: ", file, line);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

static const struct cfg_field *cfg_field_find(const char *group, const char *name)
{
    size_t glen = strlen(group);
    for (size_t i = 0; i < sizeof cfg_fields / sizeof cfg_fields[0]; i++) {
        const char *p = cfg_fields[i].path;
        if (strncmp(p, group, glen) == 0 && p[glen] == '.' && strcmp(p + glen + 1, name) == 0)
            return &cfg_fields[i];
    }
    return NULL;
}

static void cfg_defaults(struct qun_config *cfg)
{
    for (size_t i = 0; i < sizeof cfg_fields / sizeof cfg_fields[0]; i++) {
        const struct cfg_field *f = &cfg_fields[i];
        char *slot = (char *)cfg + f->offset;
        switch (f->type) {
        case CFG_STR:
            *(char **)slot = f->def_str ? xstrdup(f->def_str) : NULL;
            break;
        case CFG_INT:
            *(int *)slot = (int)f->def_num;
            break;
        case CFG_BOOL:
            *(bool *)slot = f->def_num != 0;
            break;
        case CFG_SIZE:
            *(size_t *)slot = (size_t)f->def_num;
            break;
        }
    }
}

static const char *cfg_type_name(enum cfg_type t)
{
    switch (t) {
    case CFG_STR:
        return "a string in double quotes";
    case CFG_INT:
    case CFG_SIZE:
        return "an integer";
    case CFG_BOOL:
        return "true or false";
    }
    return "?";
}

static int cfg_read_field(struct qun_config *cfg, const struct cfg_field *f, config_setting_t *s,
                          char *err, size_t errlen)
{
    const char *file = cfg->path;
    int line = (int)config_setting_source_line(s);
    int t = config_setting_type(s);
    char *slot = (char *)cfg + f->offset;
    if (f->type == CFG_STR) {
        if (t != CONFIG_TYPE_STRING)
            goto wrong_type;
        const char *v = config_setting_get_string(s);
        size_t len = strlen(v);
        if ((long long)len < f->min || (long long)len > f->max) {
            cfg_error(err, errlen, file, line, "%s must be %lld to %lld characters long", f->path,
                      f->min, f->max);
            return -1;
        }
        free(*(char **)slot);
        *(char **)slot = xstrdup(v);
        return 0;
    }
    if (f->type == CFG_BOOL) {
        if (t != CONFIG_TYPE_BOOL)
            goto wrong_type;
        *(bool *)slot = config_setting_get_bool(s) != 0;
        return 0;
    }
    if (t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64)
        goto wrong_type;
    long long v = config_setting_get_int64(s);
    if (t == CONFIG_TYPE_INT)
        v = config_setting_get_int(s);
    if (v < f->min || v > f->max) {
        cfg_error(err, errlen, file, line, "%s must be between %lld and %lld (it is %lld)", f->path,
                  f->min, f->max, v);
        return -1;
    }
    if (f->type == CFG_INT)
        *(int *)slot = (int)v;
    else
        *(size_t *)slot = (size_t)v;
    return 0;
wrong_type:
    cfg_error(err, errlen, file, line, "%s must be %s", f->path, cfg_type_name(f->type));
    return -1;
}

static int cfg_parse_cidr(const char *text, struct config_cidr *out)
{
    char buf[64];
    if (strlen(text) >= sizeof buf)
        return -1;
    strcpy(buf, text);
    char *slash = strchr(buf, '/');
    int prefix = -1;
    if (slash) {
        *slash = '\0';
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || p < 0)
            return -1;
        prefix = (int)p;
    }
    memset(out, 0, sizeof *out);
    if (inet_pton(AF_INET, buf, out->addr) == 1) {
        out->family = AF_INET;
        if (prefix < 0)
            prefix = 32;
        if (prefix > 32)
            return -1;
    } else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
        out->family = AF_INET6;
        if (prefix < 0)
            prefix = 128;
        if (prefix > 128)
            return -1;
    } else {
        return -1;
    }
    out->prefix = prefix;
    return 0;
}

bool config_cidr_match(const struct config_cidr *nets, size_t n, const struct sockaddr *sa)
{
    const uint8_t *addr;
    int family = sa->sa_family;
    uint8_t mapped[4];
    if (family == AF_INET) {
        addr = (const uint8_t *)&((const struct sockaddr_in *)sa)->sin_addr;
    } else if (family == AF_INET6) {
        addr = (const uint8_t *)&((const struct sockaddr_in6 *)sa)->sin6_addr;
        static const uint8_t v4prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(addr, v4prefix, 12) == 0) {
            memcpy(mapped, addr + 12, 4);
            addr = mapped;
            family = AF_INET;
        }
    } else {
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        if (nets[i].family != family)
            continue;
        int bits = nets[i].prefix, full = bits / 8, rest = bits % 8;
        if (memcmp(nets[i].addr, addr, (size_t)full) != 0)
            continue;
        if (rest) {
            uint8_t mask = (uint8_t)(0xff << (8 - rest));
            if ((nets[i].addr[full] & mask) != (addr[full] & mask))
                continue;
        }
        return true;
    }
    return false;
}

/* The settings that are lists of names (unix users of the control socket). */
static char ***cfg_name_list(struct qun_config *cfg, const char *group, const char *name)
{
    if (strcmp(group, "groups") == 0 && strcmp(name, "categories") == 0)
        return &cfg->group_categories;
    if (strcmp(group, "complaints") == 0 && strcmp(name, "categories") == 0)
        return &cfg->complaint_categories;
    if (strcmp(group, "control") != 0)
        return NULL;
    if (strcmp(name, "administrators") == 0)
        return &cfg->control_administrators;
    if (strcmp(name, "moderators") == 0)
        return &cfg->control_moderators;
    if (strcmp(name, "auditors") == 0)
        return &cfg->control_auditors;
    return NULL;
}

static void cfg_free_names(char **names)
{
    for (char **p = names; p && *p; p++)
        free(*p);
    free(names);
}

static int cfg_read_names(struct qun_config *cfg, config_setting_t *s, const char *group,
                          const char *name, char ***out, char *err, size_t errlen)
{
    int line = (int)config_setting_source_line(s);
    if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
        cfg_error(err, errlen, cfg->path, line,
                  "%s.%s must be a list of user names, e.g. [ \"alice\", \"bob\" ]", group, name);
        return -1;
    }
    int m = config_setting_length(s);
    cfg_free_names(*out);
    *out = xcalloc((size_t)m + 1, sizeof **out);
    for (int j = 0; j < m; j++) {
        const char *v = config_setting_get_string_elem(s, j);
        if (!v || !*v || strlen(v) > 64 || strpbrk(v, " :/")) {
            cfg_error(err, errlen, cfg->path, line,
                      "%s.%s entry %d must be a user name in double quotes", group, name, j + 1);
            return -1;
        }
        (*out)[j] = xstrdup(v);
    }
    return 0;
}

static const char *cfg_member_string(config_setting_t *s, const char *name);
static int cfg_check_members(struct qun_config *cfg, config_setting_t *s, const char *what,
                             const char *const *allowed, char *err, size_t errlen);

/* The automatic rules' actions and severities (rules/rules.h). */
static bool cfg_rule_action_valid(const char *a)
{
    return a && (strcmp(a, "block") == 0 || strcmp(a, "hold") == 0 || strcmp(a, "flag") == 0);
}

static bool cfg_rule_severity_valid(const char *s)
{
    return s && (strcmp(s, "minor") == 0 || strcmp(s, "general") == 0 ||
                 strcmp(s, "serious") == 0 || strcmp(s, "severe") == 0);
}

#define CFG_RULE_SETS_MAX 64

/* rules.patterns = ( { name; file; kind; action; severity; }, ... ): the
 * files themselves are read by rules_load(). */
static int cfg_read_rule_sets(struct qun_config *cfg, config_setting_t *list, char *err,
                              size_t errlen)
{
    static const char *const allowed[] = {"name", "file", "kind", "action", "severity", NULL};
    int line = (int)config_setting_source_line(list);
    int n = config_setting_is_list(list) ? config_setting_length(list) : -1;
    if (n < 0 || n > CFG_RULE_SETS_MAX) {
        cfg_error(err, errlen, cfg->path, line,
                  "rules.patterns must be a list of at most %d { name = ...; file = ...; kind = "
                  "...; action = ...; severity = ...; } blocks",
                  CFG_RULE_SETS_MAX);
        return -1;
    }
    cfg->rule_sets = xcalloc((size_t)n + 1, sizeof *cfg->rule_sets);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        line = (int)config_setting_source_line(s);
        if (!config_setting_is_group(s)) {
            cfg_error(err, errlen, cfg->path, line,
                      "each rules.patterns entry must be a { ... } block");
            return -1;
        }
        if (cfg_check_members(cfg, s, "rules.patterns", allowed, err, errlen) < 0)
            return -1;
        const char *name = cfg_member_string(s, "name"), *file = cfg_member_string(s, "file");
        const char *kind = cfg_member_string(s, "kind"), *action = cfg_member_string(s, "action");
        const char *sev = cfg_member_string(s, "severity");
        if (!name || !*name || strlen(name) > 64 || strpbrk(name, " \"\\") || !file || !*file) {
            cfg_error(err, errlen, cfg->path, line,
                      "a rules.patterns entry needs name (1 to 64 characters, no spaces) and "
                      "file");
            return -1;
        }
        if (!kind || (strcmp(kind, "literal") != 0 && strcmp(kind, "regex") != 0)) {
            cfg_error(err, errlen, cfg->path, line,
                      "rules.patterns entry %s: kind must be \"literal\" or \"regex\"", name);
            return -1;
        }
        if (!cfg_rule_action_valid(action) || !cfg_rule_severity_valid(sev)) {
            cfg_error(err, errlen, cfg->path, line,
                      "rules.patterns entry %s: action must be \"block\", \"hold\" or \"flag\" "
                      "and severity \"minor\", \"general\", \"serious\" or \"severe\"",
                      name);
            return -1;
        }
        for (size_t j = 0; j < cfg->nrule_sets; j++)
            if (strcmp(cfg->rule_sets[j].name, name) == 0) {
                cfg_error(err, errlen, cfg->path, line,
                          "rules.patterns: two entries are named %s; names must differ", name);
                return -1;
            }
        struct config_rule_set *r = &cfg->rule_sets[cfg->nrule_sets++];
        r->name = xstrdup(name);
        r->file = xstrdup(file);
        r->regex = strcmp(kind, "regex") == 0;
        r->action = xstrdup(action);
        r->severity = xstrdup(sev);
    }
    return 0;
}

static int cfg_read_group(struct qun_config *cfg, config_setting_t *group, char *err, size_t errlen)
{
    const char *gname = config_setting_name(group);
    if (!config_setting_is_group(group)) {
        cfg_error(err, errlen, cfg->path, (int)config_setting_source_line(group),
                  "%s must be a group: %s: { ... };", gname, gname);
        return -1;
    }
    int n = config_setting_length(group);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(group, (unsigned)i);
        const char *name = config_setting_name(s);
        int line = (int)config_setting_source_line(s);
        if (strcmp(gname, "limits") == 0 && strcmp(name, "flood_exempt") == 0) {
            if (!config_setting_is_array(s) && !config_setting_is_list(s)) {
                cfg_error(err, errlen, cfg->path, line,
                          "limits.flood_exempt must be a list of networks, e.g. "
                          "[ \"127.0.0.0/8\", \"::1\" ]");
                return -1;
            }
            int m = config_setting_length(s);
            cfg->flood_exempt = xcalloc((size_t)m + 1, sizeof *cfg->flood_exempt);
            cfg->nflood_exempt = 0;
            for (int j = 0; j < m; j++) {
                const char *v = config_setting_get_string_elem(s, j);
                if (!v || cfg_parse_cidr(v, &cfg->flood_exempt[cfg->nflood_exempt]) < 0) {
                    cfg_error(err, errlen, cfg->path, line,
                              "limits.flood_exempt entry %d is not an address or network "
                              "like \"127.0.0.0/8\"",
                              j + 1);
                    return -1;
                }
                cfg->nflood_exempt++;
            }
            continue;
        }
        if (strcmp(gname, "rules") == 0 && strcmp(name, "patterns") == 0) {
            if (cfg_read_rule_sets(cfg, s, err, errlen) < 0)
                return -1;
            continue;
        }
        char ***names = cfg_name_list(cfg, gname, name);
        if (names) {
            if (cfg_read_names(cfg, s, gname, name, names, err, errlen) < 0)
                return -1;
            continue;
        }
        const struct cfg_field *f = cfg_field_find(gname, name);
        if (!f) {
            cfg_error(err, errlen, cfg->path, line, "unknown setting %s.%s", gname, name);
            return -1;
        }
        if (cfg_read_field(cfg, f, s, err, errlen) < 0)
            return -1;
    }
    return 0;
}

static const char *cfg_member_string(config_setting_t *s, const char *name)
{
    const char *v = NULL;
    config_setting_lookup_string(s, name, &v);
    return v;
}

static int cfg_check_members(struct qun_config *cfg, config_setting_t *s, const char *what,
                             const char *const *allowed, char *err, size_t errlen)
{
    int n = config_setting_length(s);
    for (int i = 0; i < n; i++) {
        config_setting_t *m = config_setting_get_elem(s, (unsigned)i);
        const char *name = config_setting_name(m);
        bool ok = false;
        for (const char *const *a = allowed; *a; a++)
            ok |= name && strcmp(*a, name) == 0;
        if (!ok) {
            cfg_error(err, errlen, cfg->path, (int)config_setting_source_line(m),
                      "unknown setting %s in a %s block", name ? name : "(unnamed)", what);
            return -1;
        }
    }
    return 0;
}

static int cfg_read_listen(struct qun_config *cfg, config_setting_t *list, char *err, size_t errlen)
{
    static const char *const allowed[] = {"address", "port", "tls", "kind", NULL};
    int line = (int)config_setting_source_line(list);
    if (!config_setting_is_list(list)) {
        cfg_error(err, errlen, cfg->path, line,
                  "listen must be a list of blocks: listen = ( { address = \"127.0.0.1\"; "
                  "port = 6667; } );");
        return -1;
    }
    int n = config_setting_length(list);
    cfg->listen = xcalloc((size_t)n + 1, sizeof *cfg->listen);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        line = (int)config_setting_source_line(s);
        if (!config_setting_is_group(s)) {
            cfg_error(err, errlen, cfg->path, line, "each listen entry must be a { ... } block");
            return -1;
        }
        if (cfg_check_members(cfg, s, "listen", allowed, err, errlen) < 0)
            return -1;
        struct config_listen *l = &cfg->listen[cfg->nlisten++];
        const char *addr = cfg_member_string(s, "address");
        l->address = xstrdup(addr ? addr : "127.0.0.1");
        int port = 0, tls = 0;
        if (!config_setting_lookup_int(s, "port", &port) || port < 1 || port > 65535) {
            cfg_error(err, errlen, cfg->path, line,
                      "a listen block needs port = N with N between 1 and 65535");
            return -1;
        }
        config_setting_lookup_bool(s, "tls", &tls);
        l->port = port;
        l->tls = tls != 0;
        const char *kind = cfg_member_string(s, "kind");
        if (!kind || strcmp(kind, "irc") == 0)
            l->kind = LISTEN_IRC;
        else if (strcmp(kind, "web") == 0)
            l->kind = LISTEN_WEB;
        else if (strcmp(kind, "console") == 0)
            l->kind = LISTEN_CONSOLE;
        else {
            cfg_error(err, errlen, cfg->path, line,
                      "a listen block's kind must be \"irc\", \"web\" or \"console\"");
            return -1;
        }
    }
    return 0;
}

static int cfg_read_opers(struct qun_config *cfg, config_setting_t *list, char *err, size_t errlen)
{
    static const char *const allowed[] = {"name", "password", "host", NULL};
    int line = (int)config_setting_source_line(list);
    if (!config_setting_is_list(list)) {
        cfg_error(err, errlen, cfg->path, line, "operators must be a list of { ... } blocks");
        return -1;
    }
    int n = config_setting_length(list);
    cfg->opers = xcalloc((size_t)n + 1, sizeof *cfg->opers);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        line = (int)config_setting_source_line(s);
        if (!config_setting_is_group(s) ||
            cfg_check_members(cfg, s, "operators", allowed, err, errlen) < 0) {
            if (!config_setting_is_group(s))
                cfg_error(err, errlen, cfg->path, line,
                          "each operators entry must be a { ... } block");
            return -1;
        }
        const char *name = cfg_member_string(s, "name");
        const char *pass = cfg_member_string(s, "password");
        const char *host = cfg_member_string(s, "host");
        if (!name || !*name || !pass || strlen(pass) < 8) {
            cfg_error(err, errlen, cfg->path, line,
                      "an operator block needs name and a password of at least 8 characters");
            return -1;
        }
        struct config_oper *o = &cfg->opers[cfg->nopers++];
        o->name = xstrdup(name);
        o->password = xstrdup(pass);
        o->host = xstrdup(host ? host : "*");
    }
    return 0;
}

/* ---- groups: categories, policy table, credit levels ---- */

static const char *const cfg_default_categories[] = {"family",   "friends",  "work",   "study",
                                                     "interest", "business", "public", NULL};

/* docs/complaints.md says what each is for. */
static const char *const cfg_default_complaint_categories[] = {
    "illegal", "pornography", "fraud", "spam", "harassment", "rumor", "other", NULL};

/* SPEC §6. */
static const struct config_credit_level cfg_default_levels[] = {
    {'A', 800, true, 20, 2000, 1000, true, 30}, {'B', 650, true, 10, 500, 500, true, 20},
    {'C', 500, true, 3, 200, 200, true, 10},    {'D', 350, true, 0, 0, 50, false, 5},
    {'E', 0, false, 0, 0, 20, false, 0},
};

static int cfg_size_parse(const char *s)
{
    if (!s || strcmp(s, "*") == 0)
        return -1;
    if (strcmp(s, "small") == 0)
        return 0;
    if (strcmp(s, "medium") == 0)
        return 1;
    if (strcmp(s, "large") == 0)
        return 2;
    return -2;
}

static bool cfg_member_bool(config_setting_t *s, const char *name, bool def)
{
    int v;
    return config_setting_lookup_bool(s, name, &v) ? v != 0 : def;
}

static int cfg_member_int(config_setting_t *s, const char *name, int def)
{
    int v;
    return config_setting_lookup_int(s, name, &v) ? v : def;
}

static int cfg_read_policy(struct qun_config *cfg, config_setting_t *list, char *err, size_t errlen)
{
    static const char *const allowed[] = {"category", "size",     "members",
                                          "create",   "approval", NULL};
    int line = (int)config_setting_source_line(list);
    if (!config_setting_is_list(list)) {
        cfg_error(err, errlen, cfg->path, line, "group_policy must be a list of { ... } blocks");
        return -1;
    }
    int n = config_setting_length(list);
    cfg->group_policy = xcalloc((size_t)n + 1, sizeof *cfg->group_policy);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(list, (unsigned)i);
        line = (int)config_setting_source_line(s);
        if (!config_setting_is_group(s)) {
            cfg_error(err, errlen, cfg->path, line,
                      "each group_policy entry must be a { ... } block");
            return -1;
        }
        if (cfg_check_members(cfg, s, "group_policy", allowed, err, errlen) < 0)
            return -1;
        const char *cat = cfg_member_string(s, "category");
        int size = cfg_size_parse(cfg_member_string(s, "size"));
        int members = cfg_member_int(s, "members", 0);
        if (!cat || size == -2 || members < 0) {
            cfg_error(err, errlen, cfg->path, line,
                      "a group_policy entry needs category (a category or \"*\"), size "
                      "(\"small\", \"medium\", \"large\" or \"*\") and members >= 0");
            return -1;
        }
        struct config_group_policy *p = &cfg->group_policy[cfg->ngroup_policy++];
        p->category = xstrdup(cat);
        p->size = size;
        p->members = members;
        p->create = cfg_member_bool(s, "create", true);
        p->approval = cfg_member_bool(s, "approval", false);
    }
    return 0;
}

static int cfg_level_cmp(const void *a, const void *b)
{
    const struct config_credit_level *x = a, *y = b;
    return y->min_score - x->min_score;
}

static int cfg_read_level(struct qun_config *cfg, config_setting_t *s, char *err, size_t errlen)
{
    static const char *const allowed[] = {"level",        "min_score", "post",
                                          "groups_owned", "members",   "groups_joined",
                                          "manage",       "rate",      NULL};
    int line = (int)config_setting_source_line(s);
    if (!config_setting_is_group(s)) {
        cfg_error(err, errlen, cfg->path, line, "each credit_levels entry must be a { ... } block");
        return -1;
    }
    if (cfg_check_members(cfg, s, "credit_levels", allowed, err, errlen) < 0)
        return -1;
    const char *lv = cfg_member_string(s, "level");
    struct config_credit_level *l = &cfg->credit_levels[cfg->ncredit_levels++];
    l->min_score = cfg_member_int(s, "min_score", -1);
    if (!lv || strlen(lv) != 1 || l->min_score < 0 || l->min_score > 1000) {
        cfg_error(err, errlen, cfg->path, line,
                  "a credit_levels entry needs level (one letter) and min_score (0 to 1000)");
        return -1;
    }
    l->level = lv[0];
    l->post = cfg_member_bool(s, "post", true);
    l->groups_owned = cfg_member_int(s, "groups_owned", 0);
    l->members = cfg_member_int(s, "members", 0);
    l->groups_joined = cfg_member_int(s, "groups_joined", 0);
    l->manage = cfg_member_bool(s, "manage", false);
    l->rate = cfg_member_int(s, "rate", 0);
    return 0;
}

static int cfg_read_levels(struct qun_config *cfg, config_setting_t *list, char *err, size_t errlen)
{
    int line = (int)config_setting_source_line(list);
    int n = config_setting_is_list(list) ? config_setting_length(list) : 0;
    if (n == 0) {
        cfg_error(err, errlen, cfg->path, line,
                  "credit_levels must be a non-empty list of { ... } blocks");
        return -1;
    }
    free(cfg->credit_levels);
    cfg->credit_levels = xcalloc((size_t)n, sizeof *cfg->credit_levels);
    cfg->ncredit_levels = 0;
    for (int i = 0; i < n; i++)
        if (cfg_read_level(cfg, config_setting_get_elem(list, (unsigned)i), err, errlen) < 0)
            return -1;
    qsort(cfg->credit_levels, cfg->ncredit_levels, sizeof *cfg->credit_levels, cfg_level_cmp);
    if (cfg->credit_levels[cfg->ncredit_levels - 1].min_score != 0) {
        cfg_error(err, errlen, cfg->path, line, "credit_levels needs a level with min_score = 0");
        return -1;
    }
    return 0;
}

/* Built-in defaults for what the file did not set. */
static void cfg_group_defaults(struct qun_config *cfg)
{
    if (!cfg->complaint_categories) {
        size_t n =
            sizeof cfg_default_complaint_categories / sizeof *cfg_default_complaint_categories;
        cfg->complaint_categories = xcalloc(n, sizeof *cfg->complaint_categories);
        for (size_t i = 0; cfg_default_complaint_categories[i]; i++)
            cfg->complaint_categories[i] = xstrdup(cfg_default_complaint_categories[i]);
    }
    if (!cfg->group_categories) {
        size_t n = sizeof cfg_default_categories / sizeof cfg_default_categories[0];
        cfg->group_categories = xcalloc(n, sizeof *cfg->group_categories);
        for (size_t i = 0; cfg_default_categories[i]; i++)
            cfg->group_categories[i] = xstrdup(cfg_default_categories[i]);
    }
    if (!cfg->group_policy) {
        cfg->group_policy = xcalloc(1, sizeof *cfg->group_policy);
        cfg->group_policy[0] = (struct config_group_policy){xstrdup("*"), -1, 0, true, false};
        cfg->ngroup_policy = 1;
    }
    if (!cfg->credit_levels) {
        cfg->ncredit_levels = sizeof cfg_default_levels / sizeof cfg_default_levels[0];
        cfg->credit_levels = xcalloc(cfg->ncredit_levels, sizeof *cfg->credit_levels);
        memcpy(cfg->credit_levels, cfg_default_levels, sizeof cfg_default_levels);
    }
}

bool config_complaint_category_valid(const struct qun_config *cfg, const char *name)
{
    for (char **p = cfg->complaint_categories; p && *p; p++)
        if (strcasecmp(*p, name) == 0)
            return true;
    return false;
}

bool config_category_valid(const struct qun_config *cfg, const char *name)
{
    for (char **p = cfg->group_categories; p && *p; p++)
        if (strcmp(*p, name) == 0)
            return true;
    return false;
}

static int cfg_line(config_t *lc, const char *path)
{
    config_setting_t *s = config_lookup(lc, path);
    return s ? (int)config_setting_source_line(s) : 1;
}

/* A provider kind must be known, have what it needs, and "dev" needs a
 * development server (SPEC §4: refused otherwise). */
static int cfg_validate_provider(struct qun_config *cfg, config_t *lc, const char *path,
                                 const char *kind, const char *kinds, const char *command,
                                 const char *url, char *err, size_t errlen)
{
    int line = cfg_line(lc, path);
    bool sms = strstr(path, "sms") != NULL;
    if (strcmp(kind, "dev") == 0) {
        if (!cfg->development) {
            cfg_error(err, errlen, cfg->path, line,
                      "%s = \"dev\" accepts any well-formed input and is allowed only on a "
                      "development server (server.development = true)",
                      path);
            return -1;
        }
    } else if (strcmp(kind, "exec") == 0) {
        if (!command) {
            cfg_error(err, errlen, cfg->path, line, "%s = \"exec\" needs %s_command", path,
                      sms ? "identity.sms" : "identity.provider");
            return -1;
        }
    } else if (strcmp(kind, "http") == 0) {
        if (!url || (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
            cfg_error(err, errlen, cfg->path, line,
                      "%s = \"http\" needs %s_url starting with http:// or https://", path,
                      sms ? "identity.sms" : "identity.provider");
            return -1;
        }
    } else if (strcmp(kind, sms ? "none" : "manual") != 0) {
        cfg_error(err, errlen, cfg->path, line, "%s must be one of %s", path, kinds);
        return -1;
    }
    return 0;
}

static int cfg_validate(struct qun_config *cfg, config_t *lc, char *err, size_t errlen)
{
    if (!cfg->server_name) {
        cfg_error(err, errlen, cfg->path, 1, "server.name is required (e.g. \"irc.example.cn\")");
        return -1;
    }
    if (strchr(cfg->server_name, '.') == NULL || strpbrk(cfg->server_name, " !@*?,")) {
        config_setting_t *s = config_lookup(lc, "server.name");
        cfg_error(err, errlen, cfg->path, s ? (int)config_setting_source_line(s) : 1,
                  "server.name must look like a host name with a dot and no spaces");
        return -1;
    }
    if (cfg->nlisten == 0) {
        cfg_error(err, errlen, cfg->path, 1, "at least one listen block is required");
        return -1;
    }
    bool want_tls = false;
    for (size_t i = 0; i < cfg->nlisten; i++)
        want_tls |= cfg->listen[i].tls;
    for (size_t i = 0; i < cfg->nlisten; i++) {
        const struct config_listen *l = &cfg->listen[i];
        if (l->kind != LISTEN_CONSOLE || cfg->console_allow_remote)
            continue;
        struct in6_addr a6;
        struct in_addr a4;
        bool loopback = false;
        if (inet_pton(AF_INET, l->address, &a4) == 1)
            loopback = (ntohl(a4.s_addr) >> 24) == 127;
        else if (inet_pton(AF_INET6, l->address, &a6) == 1)
            loopback = IN6_IS_ADDR_LOOPBACK(&a6);
        if (!loopback) {
            config_setting_t *s = config_lookup(lc, "listen");
            cfg_error(err, errlen, cfg->path, s ? (int)config_setting_source_line(s) : 1,
                      "the console listener on %s is not a loopback address; put it on "
                      "127.0.0.1 (reach it through an SSH tunnel) or set "
                      "console.allow_remote = true",
                      l->address);
            return -1;
        }
    }
    if (want_tls && (!cfg->tls_certificate || !cfg->tls_key)) {
        config_setting_t *s = config_lookup(lc, "listen");
        cfg_error(err, errlen, cfg->path, s ? (int)config_setting_source_line(s) : 1,
                  "a TLS listener needs tls.certificate and tls.key");
        return -1;
    }
    if (strcmp(cfg->creator_prefix, "~") != 0 && strcmp(cfg->creator_prefix, "@") != 0) {
        config_setting_t *s = config_lookup(lc, "channels.creator_prefix");
        cfg_error(err, errlen, cfg->path, s ? (int)config_setting_source_line(s) : 1,
                  "channels.creator_prefix must be \"~\" (owner) or \"@\" (operator)");
        return -1;
    }
    /* The key must never sit inside the database it protects (vault.md). */
    if (strcmp(cfg->store_path, cfg->vault_key_file) == 0) {
        config_setting_t *s = config_lookup(lc, "vault.key_file");
        cfg_error(err, errlen, cfg->path, s ? (int)config_setting_source_line(s) : 1,
                  "vault.key_file must be a file of its own, not store.path");
        return -1;
    }
    if (cfg_validate_provider(cfg, lc, "identity.provider", cfg->id_provider,
                              "dev, exec, http or manual", cfg->id_provider_command,
                              cfg->id_provider_url, err, errlen) < 0 ||
        cfg_validate_provider(cfg, lc, "identity.sms", cfg->sms_provider, "dev, exec, http or none",
                              cfg->sms_command, cfg->sms_url, err, errlen) < 0)
        return -1;
    /* SPEC §4: posting needs level 1 and creating a group level 2. Lower
     * values exist for conformance suites and are refused in production. */
    if (!cfg->development && (cfg->post_level < 1 || cfg->create_level < 2)) {
        cfg_error(
            err, errlen, cfg->path,
            cfg_line(lc, cfg->post_level < 1 ? "identity.post_level" : "identity.create_level"),
            "identity.post_level below 1 or identity.create_level below 2 is allowed only on a "
            "development server (server.development = true)");
        return -1;
    }
    if (!cfg->development && cfg->code_ttl != 600) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "identity.code_ttl"),
                  "identity.code_ttl other than 600 (ten minutes, SPEC section 4) is allowed only "
                  "on a development server");
        return -1;
    }
    if (cfg->phone_required && strcmp(cfg->sms_provider, "none") == 0) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "accounts.phone_required"),
                  "accounts.phone_required needs an SMS sender (identity.sms)");
        return -1;
    }
    if (cfg->netlog_keep_months < 6) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "netlog.keep_months"),
                  "netlog.keep_months must be at least 6: the rules require keeping network logs "
                  "for no less than six months");
        return -1;
    }
    if (strcmp(cfg->netlog_mode, "strict") != 0 && strcmp(cfg->netlog_mode, "relaxed") != 0 &&
        strcmp(cfg->netlog_mode, "off") != 0) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "netlog.mode"),
                  "netlog.mode must be \"strict\" (messages are logged before delivery), "
                  "\"relaxed\" or \"off\" (both for benchmarks only)");
        return -1;
    }
    if (strcmp(cfg->netlog_mode, "off") == 0 && !cfg->development) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "netlog.mode"),
                  "netlog.mode = \"off\" keeps no network log, which the rules forbid; it is "
                  "accepted only with server.development = true, for benchmarks");
        return -1;
    }
    if (strcmp(cfg->netlog_dm, "content") != 0 && strcmp(cfg->netlog_dm, "metadata") != 0) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "netlog.direct_messages"),
                  "netlog.direct_messages must be \"content\" or \"metadata\"");
        return -1;
    }
    if (!cfg->reports_spool_dir[0] && !cfg->reports_http_url) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "reports.spool_dir"),
                  "reports.spool_dir may be empty only when reports.http_url is set: reports "
                  "to the authority need at least one sink");
        return -1;
    }
    if (cfg->reports_http_url && strncmp(cfg->reports_http_url, "http://", 7) != 0 &&
        strncmp(cfg->reports_http_url, "https://", 8) != 0) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "reports.http_url"),
                  "reports.http_url must start with http:// or https://");
        return -1;
    }
    if (cfg->reports_backoff_max < cfg->reports_backoff_base) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "reports.backoff_max"),
                  "reports.backoff_max must be at least reports.backoff_base");
        return -1;
    }
    if (!cfg->complaint_categories[0]) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "complaints.categories"),
                  "complaints.categories must name at least one category (rules art. 12: users "
                  "must be able to complain)");
        return -1;
    }
    if (!config_category_valid(cfg, cfg->group_default_category)) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "groups.default_category"),
                  "groups.default_category must be one of groups.categories");
        return -1;
    }
    for (size_t i = 0; i < cfg->ngroup_policy; i++)
        if (strcmp(cfg->group_policy[i].category, "*") != 0 &&
            !config_category_valid(cfg, cfg->group_policy[i].category)) {
            cfg_error(err, errlen, cfg->path, cfg_line(lc, "group_policy"),
                      "group_policy entry %zu names category \"%s\", which is not in "
                      "groups.categories",
                      i + 1, cfg->group_policy[i].category);
            return -1;
        }
    if (!cfg_rule_action_valid(cfg->rules_flood_action) ||
        !cfg_rule_action_valid(cfg->rules_spam_action)) {
        cfg_error(err, errlen, cfg->path,
                  cfg_line(lc, cfg_rule_action_valid(cfg->rules_flood_action)
                                   ? "rules.spam_action"
                                   : "rules.flood_action"),
                  "rules.flood_action and rules.spam_action must be \"block\", \"hold\" or "
                  "\"flag\"");
        return -1;
    }
    if (!cfg_rule_severity_valid(cfg->rules_flood_severity) ||
        !cfg_rule_severity_valid(cfg->rules_spam_severity)) {
        cfg_error(err, errlen, cfg->path,
                  cfg_line(lc, cfg_rule_severity_valid(cfg->rules_flood_severity)
                                   ? "rules.spam_severity"
                                   : "rules.flood_severity"),
                  "rules.flood_severity and rules.spam_severity must be \"minor\", \"general\", "
                  "\"serious\" or \"severe\"");
        return -1;
    }
    if (cfg->rules_spam_groups == 1) {
        cfg_error(err, errlen, cfg->path, cfg_line(lc, "rules.spam_groups"),
                  "rules.spam_groups must be 0 (no spam rule) or at least 2: one group is not a "
                  "repetition");
        return -1;
    }
    if (log_level_parse(cfg->log_level) < 0) {
        config_setting_t *s = config_lookup(lc, "log.level");
        cfg_error(err, errlen, cfg->path, s ? (int)config_setting_source_line(s) : 1,
                  "log.level must be one of debug, info, notice, warn, error");
        return -1;
    }
    return 0;
}

/* Reads the file (text == NULL) or the text, named path in errors, and
 * validates it: the one path of config_load and config_load_text. */
static struct qun_config *cfg_load(const char *path, const char *text, char *err, size_t errlen)
{
    config_t lc;
    config_init(&lc);
    struct qun_config *cfg = xcalloc(1, sizeof *cfg);
    cfg->path = xstrdup(path);
    cfg_defaults(cfg);
    if (!(text ? config_read_string(&lc, text) : config_read_file(&lc, path))) {
        if (config_error_type(&lc) == CONFIG_ERR_FILE_IO)
            snprintf(err, errlen, "%s: cannot read the configuration file", path);
        else
            cfg_error(err, errlen, config_error_file(&lc) ? config_error_file(&lc) : path,
                      config_error_line(&lc), "syntax error: %s", config_error_text(&lc));
        goto fail;
    }
    config_setting_t *root = config_root_setting(&lc);
    int n = config_setting_length(root);
    for (int i = 0; i < n; i++) {
        config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s);
        int rc = 0;
        bool known = false;
        for (const char *const *g = cfg_groups; *g; g++)
            if (strcmp(*g, name) == 0) {
                known = true;
                rc = cfg_read_group(cfg, s, err, errlen);
            }
        if (strcmp(name, "listen") == 0) {
            known = true;
            rc = cfg_read_listen(cfg, s, err, errlen);
        } else if (strcmp(name, "operators") == 0) {
            known = true;
            rc = cfg_read_opers(cfg, s, err, errlen);
        } else if (strcmp(name, "group_policy") == 0) {
            known = true;
            rc = cfg_read_policy(cfg, s, err, errlen);
        } else if (strcmp(name, "credit_levels") == 0) {
            known = true;
            rc = cfg_read_levels(cfg, s, err, errlen);
        }
        if (!known) {
            cfg_error(err, errlen, cfg->path, (int)config_setting_source_line(s),
                      "unknown setting %s", name);
            rc = -1;
        }
        if (rc < 0)
            goto fail;
    }
    cfg_group_defaults(cfg);
    if (cfg_validate(cfg, &lc, err, errlen) < 0)
        goto fail;
    config_destroy(&lc);
    return cfg;
fail:
    config_destroy(&lc);
    config_free(cfg);
    return NULL;
}

struct qun_config *config_load(const char *path, char *err, size_t errlen)
{
    return cfg_load(path, NULL, err, errlen);
}

struct qun_config *config_load_text(const char *name, const char *text, char *err, size_t errlen)
{
    return cfg_load(name, text, err, errlen);
}

void config_free(struct qun_config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < sizeof cfg_fields / sizeof cfg_fields[0]; i++)
        if (cfg_fields[i].type == CFG_STR)
            free(*(char **)((char *)cfg + cfg_fields[i].offset));
    for (size_t i = 0; i < cfg->nlisten; i++)
        free(cfg->listen[i].address);
    free(cfg->listen);
    for (size_t i = 0; i < cfg->nopers; i++) {
        free(cfg->opers[i].name);
        free(cfg->opers[i].password);
        free(cfg->opers[i].host);
    }
    free(cfg->opers);
    free(cfg->flood_exempt);
    cfg_free_names(cfg->control_administrators);
    cfg_free_names(cfg->control_moderators);
    cfg_free_names(cfg->control_auditors);
    cfg_free_names(cfg->group_categories);
    cfg_free_names(cfg->complaint_categories);
    for (size_t i = 0; i < cfg->ngroup_policy; i++)
        free(cfg->group_policy[i].category);
    free(cfg->group_policy);
    free(cfg->credit_levels);
    for (size_t i = 0; i < cfg->nrule_sets; i++) {
        free(cfg->rule_sets[i].name);
        free(cfg->rule_sets[i].file);
        free(cfg->rule_sets[i].action);
        free(cfg->rule_sets[i].severity);
    }
    free(cfg->rule_sets);
    free(cfg->path);
    free(cfg);
}
