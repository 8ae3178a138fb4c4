/*
 * server.c - start, reload and shutdown; the transport callbacks; the timing
 * wheel for registration timeouts, pings and flood resumes.
 *
 * Path of one client line: transport (net/conn.c) -> server_on_line() here
 * (parse with proto/message.c, limits) -> dispatch_message() (dispatch.c,
 * flood cost, labeled-response) -> a cmd_*.c handler -> send.c.
 *
 * Storage life cycle (handles held here, used through server_store() and
 * server_vault()):
 *
 *   server_start -> drop root (main.c) -> server_open_storage
 *     vault_open (creates the key file) -> store_open (migrations)
 *   server_shutdown -> store_close(async): queued writes complete, the
 *     store's uv handle closes, so uv_run can return
 *   uv_run returns -> server_free -> vault_close (keys wiped)
 *
 * Files are opened after dropping root so that they belong to server.user,
 * who must write the database later.
 */
#include "irc/server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "config/config.h"
#include "account/account.h"
#include "complaint/complaint.h"
#include "console/operator.h"
#include "console/session.h"
#include "credit/credit.h"
#include "ctl/ctl.h"
#include "irc/group.h"
#include "netlog/netlog.h"
#include "netlog/reader.h"
#include "identity/verify.h"
#include "irc/client.h"
#include "irc/login.h"
#include "irc/commands.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/services.h"
#include "net/conn.h"
#include "proto/message.h"
#include "sanction/sanction.h"
#include "report/report.h"
#include "rules/rules.h"
#include "store/store.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"
#include "util/loopwatch.h"
#include "util/strmap.h"
#include "util/wheel.h"
#include "vault/vault.h"
#include "web/web.h"

struct qun_config *server_config;

/* A turn of the event loop longer than this is a stall: a warning in the
 * log, counted in `qunctl status` (loopwatch.h). */
#define SERVER_LOOP_STALL_MS 100

static uv_loop_t *server_loop;
static time_t server_start_time;
static struct wheel server_wheel;
static uv_timer_t server_wheel_timer;
static struct tls_ctx *server_tls;
static bool server_stopping;
static bool server_ready;          /* start-up finished (server_open_storage) */
static char *server_stop_deferred; /* a shutdown asked for during start-up */
static uint64_t server_lines;      /* lines taken from clients (loopwatch_track) */
static void server_finish_shutdown(void);
static struct store *server_store_handle;
static struct vault *server_vault_handle;

/* Connections per source address, for limits.max_per_ip. */
struct ip_count {
    char ip[46];
    int n;
};
static struct strmap server_ip_counts;

const char *server_name(void)
{
    return server_config->server_name;
}

time_t server_started(void)
{
    return server_start_time;
}

uint64_t server_now_ms(void)
{
    return uv_now(server_loop);
}

/* ---- timers --------------------------------------------------------------- */

void server_arm_timer(struct client *c, uint64_t at_ms)
{
    wheel_arm(&server_wheel, &c->timer, at_ms);
}

static uint64_t server_next_deadline(const struct client *c)
{
    const struct qun_config *cfg = server_config;
    if (c->paused)
        return c->penalty_ms - (uint64_t)cfg->flood_burst * 1000;
    if (c->state != CLIENT_REGISTERED)
        return c->created_ms + (uint64_t)cfg->registration_timeout * 1000;
    uint64_t base = c->last_read_ms + (uint64_t)cfg->ping_interval * 1000;
    uint64_t at = c->ping_sent ? base + (uint64_t)cfg->ping_timeout * 1000 : base;
    return c->guard_ms && c->guard_ms < at ? c->guard_ms : at;
}

static void server_timer_fire(struct wheel_node *node, void *ud)
{
    struct client *c = (struct client *)((char *)node - offsetof(struct client, timer));
    const struct qun_config *cfg = server_config;
    uint64_t now = server_now_ms();
    if (c->conn->closing)
        return;
    if (c->paused && now + (uint64_t)cfg->flood_burst * 1000 >= c->penalty_ms) {
        c->paused = false;
        if (!c->holds)
            conn_resume(c->conn);
    }
    if (c->state != CLIENT_REGISTERED) {
        if (now >= c->created_ms + (uint64_t)cfg->registration_timeout * 1000) {
            server_disconnect(c, "Registration timed out");
            return;
        }
    } else if (!c->paused) {
        if (c->guard_ms && now >= c->guard_ms)
            nickguard_expire(c);
        uint64_t idle = now - c->last_read_ms;
        uint64_t interval = (uint64_t)cfg->ping_interval * 1000;
        if (c->ping_sent && idle >= interval + (uint64_t)cfg->ping_timeout * 1000) {
            char reason[64];
            snprintf(reason, sizeof reason, "Ping timeout: %llu seconds",
                     (unsigned long long)(idle / 1000));
            server_disconnect(c, reason);
            return;
        }
        if (!c->ping_sent && idle >= interval) {
            send_line(c, "PING :%s", server_name());
            c->ping_sent = true;
        }
    }
    server_arm_timer(c, server_next_deadline(c));
}

static void server_wheel_tick(uv_timer_t *t)
{
    wheel_advance(&server_wheel, uv_now(t->loop));
}

bool server_flood_charge(struct client *c, uint64_t cost_ms)
{
    uint64_t now = server_now_ms();
    if (c->penalty_ms < now)
        c->penalty_ms = now;
    c->penalty_ms += cost_ms;
    if (c->penalty_ms <= now + (uint64_t)server_config->flood_burst * 1000)
        return false;
    c->paused = true;
    server_arm_timer(c, server_next_deadline(c));
    return true;
}

void server_hold(struct client *c)
{
    c->holds++;
}

void server_release_id(uint64_t client_id)
{
    struct client *c = client_by_id(client_id);
    if (!c || !c->holds)
        return;
    if (--c->holds == 0 && !c->paused && !c->conn->closing && !c->deferred_line)
        conn_resume(c->conn);
}

/* ---- transport callbacks ------------------------------------------------ */

static struct ip_count *server_ip_entry(const char *ip, bool create)
{
    struct ip_count *e = strmap_get(&server_ip_counts, ip);
    if (!e && create) {
        e = xcalloc(1, sizeof *e);
        snprintf(e->ip, sizeof e->ip, "%s", ip);
        strmap_put(&server_ip_counts, e->ip, e);
    }
    return e;
}

static void server_refuse(struct conn *conn, const char *why)
{
    char line[256];
    int n = snprintf(line, sizeof line, "ERROR :Closing link: %s (%s)\r\n", conn->ip, why);
    conn_send_copy(conn, line, (size_t)n);
    conn_close(conn, why);
}

static int server_on_accept(struct conn *conn)
{
    const struct qun_config *cfg = server_config;
    if (server_stopping) {
        server_refuse(conn, "Server is shutting down");
        return -1;
    }
    bool exempt = config_cidr_match(cfg->flood_exempt, cfg->nflood_exempt,
                                    (const struct sockaddr *)&conn->peer);
    if (client_count() >= (size_t)cfg->max_clients) {
        server_refuse(conn, "Server is full: too many connections");
        return -1;
    }
    struct ip_count *e = server_ip_entry(conn->ip, true);
    if (e->n >= cfg->max_per_ip && !exempt) {
        if (e->n == 0) {
            strmap_del(&server_ip_counts, e->ip);
            free(e);
        }
        server_refuse(conn, "Too many connections from your address");
        return -1;
    }
    e->n++;
    struct client *c = client_create(conn);
    conn->owner = c;
    c->flood_exempt = exempt;
    c->created_ms = c->last_read_ms = server_now_ms();
    server_arm_timer(c, server_next_deadline(c));
    return 0;
}

/* The command word of a line the parser refused, for the error reply:
 * skips tags and source, keeps at most 32 ASCII letters, digits, '_', '-'. */
static const char *server_guess_command(const char *line, char *out, size_t cap)
{
    const char *p = line;
    if (*p == '@')
        p = strchr(p, ' ') ? strchr(p, ' ') : "";
    while (*p == ' ')
        p++;
    if (*p == ':') {
        p = strchr(p, ' ') ? strchr(p, ' ') : "";
        while (*p == ' ')
            p++;
    }
    size_t n = 0;
    for (; *p && *p != ' ' && n + 1 < cap && n < 32; p++) {
        char ch = *p;
        if (ch >= 'a' && ch <= 'z')
            ch = (char)(ch - 32);
        if ((ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') || ch == '_' || ch == '-')
            out[n++] = ch;
    }
    if (n == 0)
        out[n++] = '*';
    out[n] = '\0';
    return out;
}

/* Bytes of tag data the client sent (between '@' and the first space). */
static size_t server_tag_bytes(const char *line, size_t len)
{
    if (len == 0 || line[0] != '@')
        return 0;
    const char *sp = memchr(line, ' ', len);
    return sp ? (size_t)(sp - line) - 1 : len - 1;
}

/* Whether the raw line's command is PRIVMSG, NOTICE or TAGMSG: a look at
 * the command word only (after any tags and source), without parsing, so
 * a pipelined message is not parsed twice. A malformed line is "not
 * chat": it waits its turn and is refused by the parser then. */
static bool server_line_is_chat(const char *line, size_t len)
{
    const char *p = line, *end = line + len;
    for (int part = 0; part < 2 && p < end && (*p == '@' || *p == ':'); part++) {
        if (part == 1 && *p == '@')
            break;
        while (p < end && *p != ' ')
            p++;
        while (p < end && *p == ' ')
            p++;
    }
    size_t n = 0;
    while (p + n < end && p[n] != ' ')
        n++;
    return (n == 7 && strncasecmp(p, "PRIVMSG", 7) == 0) ||
           (n == 6 && (strncasecmp(p, "NOTICE", 6) == 0 || strncasecmp(p, "TAGMSG", 6) == 0));
}

/* A client's chat messages are pipelined: they go to the network log in
 * order and are delivered in that order as the log commits them, so the
 * next PRIVMSG need not wait. Any other command waits until the client's
 * messages before it are delivered (its line is kept here and the
 * connection paused), so a PART, a QUIT or a reply never overtakes them. */
static bool server_defer_line(struct client *c, const char *line, size_t len)
{
    if (c->msgs_in_flight == 0 || server_line_is_chat(line, len))
        return false;
    c->deferred_line = xstrndup(line, len);
    c->deferred_len = len;
    return true;
}

static enum conn_line_result server_on_line(struct conn *conn, char *line, size_t len);

void server_message_logged(uint64_t client_id)
{
    struct client *c = client_by_id(client_id);
    if (!c || !c->msgs_in_flight || --c->msgs_in_flight || !c->deferred_line)
        return;
    char *line = c->deferred_line;
    size_t len = c->deferred_len;
    c->deferred_line = NULL;
    enum conn_line_result r = server_on_line(c->conn, line, len);
    free(line);
    if (r == CONN_LINE_CONTINUE && !c->holds && !c->paused && !c->conn->closing &&
        !c->deferred_line)
        conn_resume(c->conn);
}

static enum conn_line_result server_on_line(struct conn *conn, char *line, size_t len)
{
    struct client *c = conn->owner;
    if (!c || conn->closing)
        return CONN_LINE_CONTINUE;
    if (server_defer_line(c, line, len))
        return CONN_LINE_PAUSE;
    c->last_read_ms = server_now_ms();
    c->ping_sent = false;
    server_lines++;
    char cmd[40];
    if (server_tag_bytes(line, len) > server_config->client_tags_max) {
        send_numeric(c, ERR_INPUTTOOLONG, ":Input line was too long (tags)");
        return CONN_LINE_CONTINUE;
    }
    struct irc_msg m;
    int rc = irc_msg_parse(line, len, &m);
    if (rc == 0)
        return dispatch_message(c, &m) || c->holds ? CONN_LINE_PAUSE : CONN_LINE_CONTINUE;
    /* A refused line is intact up to where the parser stopped (it only
     * upper-cases the command in place), enough to name the command. */
    server_guess_command(line, cmd, sizeof cmd);
    switch (rc) {
    case IRC_PARSE_EMPTY:
        return CONN_LINE_CONTINUE;
    case IRC_PARSE_BAD_UTF8:
        send_fail(c, "FAIL", cmd, "INVALID_UTF8", NULL,
                  "Message rejected: this server accepts UTF-8 text only");
        return CONN_LINE_CONTINUE;
    case IRC_PARSE_TAGS_TOO_LONG:
    case IRC_PARSE_BODY_TOO_LONG:
    case IRC_PARSE_TOO_MANY_TAGS:
        send_numeric(c, ERR_INPUTTOOLONG, ":Input line was too long");
        return CONN_LINE_CONTINUE;
    case IRC_PARSE_BAD_COMMAND:
        send_numeric(c, ERR_UNKNOWNCOMMAND, "%s :Unknown command", cmd);
        return CONN_LINE_CONTINUE;
    default:
        send_fail(c, "FAIL", cmd, "INVALID_MESSAGE", NULL, irc_parse_strerror(rc));
        return CONN_LINE_CONTINUE;
    }
}

static void server_on_overlong(struct conn *conn)
{
    struct client *c = conn->owner;
    if (c)
        send_numeric(c, ERR_INPUTTOOLONG, ":Input line was too long");
}

static void server_on_close(struct conn *conn, const char *reason)
{
    struct client *c = conn->owner;
    if (!c)
        return;
    wheel_disarm(&server_wheel, &c->timer);
    struct ip_count *e = server_ip_entry(conn->ip, false);
    if (e && --e->n <= 0) {
        strmap_del(&server_ip_counts, e->ip);
        free(e);
    }
    client_destroy(c, reason);
    conn->owner = NULL;
    if (server_stopping && client_count() == 0)
        server_finish_shutdown();
}

void server_disconnect(struct client *c, const char *reason)
{
    if (c->conn->closing)
        return;
    send_line(c, "ERROR :Closing link: %s (%s)", c->host, reason);
    conn_close(c->conn, reason);
}

/* ---- lifecycle ------------------------------------------------------------ */

static struct conn_limits server_limits(const struct qun_config *cfg)
{
    struct conn_limits l = {
        .line_max = IRC_TAGS_MAX + IRC_BODY_MAX + 1,
        .sendq_max = cfg->sendq,
    };
    return l;
}

/* A TLS handshake is part of registration: it gets at most the
 * registration timeout (and never more than the transport's 20 s). */
static void server_set_timeouts(const struct qun_config *cfg)
{
    unsigned ms = (unsigned)cfg->registration_timeout * 1000u;
    transport_set_timeouts(ms < 20000u ? ms : 20000u, 2000u);
}

static int server_load_tls(const struct qun_config *cfg, struct tls_ctx **out, char *err,
                           size_t errlen)
{
    *out = NULL;
    if (!cfg->tls_certificate || !cfg->tls_key)
        return 0;
    *out = tls_ctx_load(cfg->tls_certificate, cfg->tls_key, err, errlen);
    return *out ? 0 : -1;
}

int server_start(uv_loop_t *loop, struct qun_config *cfg, char *err, size_t errlen)
{
    static const struct conn_ops ops = {
        .on_accept = server_on_accept,
        .on_line = server_on_line,
        .on_overlong = server_on_overlong,
        .on_close = server_on_close,
    };
    server_loop = loop;
    server_config = cfg;
    server_start_time = time(NULL);
    hash_seed_init();
    log_set_level((enum log_level)log_level_parse(cfg->log_level));
    if (server_load_tls(cfg, &server_tls, err, errlen) < 0)
        return -1;
    struct conn_limits limits = server_limits(cfg);
    transport_init(loop, &ops, &limits);
    server_set_timeouts(cfg);
    web_init(loop, cfg, &ops); /* the WebSocket bridge hands lines to these ops */
    for (size_t i = 0; i < cfg->nlisten; i++) {
        const struct config_listen *l = &cfg->listen[i];
        struct tls_ctx *tls = l->tls ? server_tls : NULL;
        int r = l->kind == LISTEN_IRC ? listener_open(l->address, l->port, tls, err, errlen)
                                      : web_listen(l, tls, err, errlen);
        if (r < 0)
            return -1;
    }
    loopwatch_track("command lines", &server_lines);
    loopwatch_track("registrations", client_registrations_total());
    wheel_init(&server_wheel, uv_now(loop), server_timer_fire, NULL);
    uv_timer_init(loop, &server_wheel_timer);
    uv_timer_start(&server_wheel_timer, server_wheel_tick, WHEEL_TICK_MS, WHEEL_TICK_MS);
    if (cfg->development)
        log_warn("this is a DEVELOPMENT server (server.development = true): "
                 "do not use it for real users");
    return 0;
}

int server_open_storage(char *err, size_t errlen)
{
    const struct qun_config *cfg = server_config;
    bool had_key = access(cfg->vault_key_file, F_OK) == 0;
    if (vault_open(cfg->vault_key_file, &server_vault_handle, err, errlen) != VAULT_OK)
        return -1;
    log_info("vault key %s %s", cfg->vault_key_file, had_key ? "loaded" : "created (mode 0600)");
    struct store_options opt = {.path = cfg->store_path};
    if (store_open(server_loop, &opt, &server_store_handle, err, errlen) != STORE_OK) {
        vault_close(server_vault_handle); /* wipe the keys before exiting */
        server_vault_handle = NULL;
        return -1;
    }
    struct store_stats st;
    store_get_stats(server_store_handle, &st);
    log_info("store %s open at schema version %d (%llu migration step(s) applied)", cfg->store_path,
             store_schema_version(server_store_handle), (unsigned long long)st.migrations_applied);
    if (netlog_open(server_loop, cfg, err, errlen) < 0)
        return -1;
    netlog_reader_init(server_loop, cfg->netlog_path); /* CHATHISTORY reads */
    if (account_directory_load(server_loop, server_store_handle, err, errlen) < 0 ||
        credit_load(server_loop, server_store_handle, err, errlen) < 0 ||
        group_load(server_loop, server_store_handle, err, errlen) < 0 ||
        sanction_load(server_loop, server_store_handle, err, errlen) < 0 ||
        report_start(server_loop, cfg, server_store_handle, err, errlen) < 0 ||
        complaint_load(server_loop, server_store_handle, err, errlen) < 0 ||
        rules_load(cfg, err, errlen) < 0 ||
        verify_init(server_loop, cfg, server_store_handle, server_vault_handle, err, errlen) < 0 ||
        operator_directory_load(server_loop, server_store_handle, NULL, err, errlen) < 0)
        return -1;
    session_configure(cfg);
    login_init();
    reportserv_attach();
    qclock_start(server_loop);
    qclock_run_jobs(); /* deadlines that passed while the daemon was down */
    ctl_accounts_register();
    ctl_netlog_register();
    ctl_credit_register();
    ctl_sanction_register();
    ctl_report_register();
    ctl_complaints_register();
    ctl_operators_register();
    ctl_logquery_register();
    if (ctl_start(server_loop, cfg, err, errlen) < 0)
        return -1;
    /* Watched from here: start-up blocks on purpose (loading the stores,
     * the operators' dummy argon2id hash, ~0.1 s) before anyone can chat,
     * and counting it would make every server's longest turn its start. */
    int lw = loopwatch_start(server_loop, SERVER_LOOP_STALL_MS);
    if (lw != 0)
        log_warn("the event loop is not watched for stalls: %s", uv_strerror(lw));
    server_ready = true;
    if (server_stop_deferred) {
        server_shutdown(server_stop_deferred);
        free(server_stop_deferred);
        server_stop_deferred = NULL;
    }
    return 0;
}

struct store *server_store(void)
{
    return server_store_handle;
}

const struct vault *server_vault(void)
{
    return server_vault_handle;
}

/* Storage paths are read once at start-up; say so instead of ignoring an
 * edit silently. */
static void server_warn_storage_change(const struct qun_config *cfg)
{
    if (strcmp(cfg->store_path, server_config->store_path) != 0)
        log_warn("store.path changed: the new database is used after a restart");
    if (strcmp(cfg->vault_key_file, server_config->vault_key_file) != 0)
        log_warn("vault.key_file changed: the new key file is used after a restart");
    if (cfg->netlog_journal_size != server_config->netlog_journal_size)
        log_warn("netlog.journal_size changed: the journal takes the new size after a restart");
}

int server_reload(char *err, size_t errlen)
{
    struct qun_config *cfg = config_load(server_config->path, err, errlen);
    if (!cfg)
        return -1;
    struct tls_ctx *tls = NULL;
    if (server_load_tls(cfg, &tls, err, errlen) < 0) {
        config_free(cfg);
        return -1;
    }
    /* a bad pattern file refuses the whole reload: the old rules stay */
    if (rules_load(cfg, err, errlen) < 0) {
        if (tls)
            tls_ctx_unref(tls);
        config_free(cfg);
        return -1;
    }
    bool same_listeners = cfg->nlisten == server_config->nlisten;
    for (size_t i = 0; same_listeners && i < cfg->nlisten; i++)
        same_listeners = cfg->listen[i].port == server_config->listen[i].port &&
                         cfg->listen[i].tls == server_config->listen[i].tls &&
                         cfg->listen[i].kind == server_config->listen[i].kind &&
                         strcmp(cfg->listen[i].address, server_config->listen[i].address) == 0;
    if (!same_listeners)
        log_warn("listen blocks changed: new listeners take effect after a restart");
    server_warn_storage_change(cfg);
    if (tls) {
        listener_set_tls_all(tls);
        if (server_tls)
            tls_ctx_unref(server_tls);
        server_tls = tls;
    }
    config_free(server_config);
    server_config = cfg;
    ctl_reload(cfg);
    session_configure(cfg);
    web_reload(cfg);
    struct conn_limits limits = server_limits(cfg);
    transport_set_limits(&limits);
    server_set_timeouts(cfg);
    log_set_level((enum log_level)log_level_parse(cfg->log_level));
    return 0;
}

static void server_say_goodbye(struct conn *conn, void *ud)
{
    if (conn->owner)
        server_disconnect(conn->owner, (const char *)ud);
    else
        conn_close(conn, (const char *)ud);
}

static void server_on_store_closed(void *ud)
{
    (void)ud;
    log_info("store closed: every queued write completed");
}

void server_shutdown(const char *reason)
{
    if (server_stopping)
        return;
    if (!server_ready) {
        /* Start-up runs the loop while it loads accounts: finish it first,
         * then stop (server_open_storage does). */
        if (!server_stop_deferred)
            server_stop_deferred = xstrdup(reason);
        return;
    }
    server_stopping = true;
    listener_close_all();
    ctl_stop();
    verify_shutdown();
    conn_foreach(server_say_goodbye, (void *)reason);
    conn_close_unaccepted(reason);
    if (client_count() == 0)
        server_finish_shutdown();
}

/* The last client is gone (their logout records are queued): close the
 * store, which drains its writes before freeing itself, and the wheel. */
static void server_finish_shutdown(void)
{
    report_stop();         /* before the log closes: no report events after it */
    netlog_reader_close(); /* no new history reads; running ones finish */
    netlog_close();        /* after the last client: its quit is in the log */
    if (server_store_handle) {
        account_directory_detach_store();
        operator_directory_detach_store();
        credit_detach_store();
        group_detach_store();
        sanction_detach_store();
        complaint_detach_store();
        rules_free();
        store_close(server_store_handle, server_on_store_closed, NULL);
        server_store_handle = NULL;
    }
    qclock_stop();
    web_stop();
    loopwatch_stop();
    uv_timer_stop(&server_wheel_timer);
    uv_close((uv_handle_t *)&server_wheel_timer, NULL);
}

void server_free(void)
{
    if (server_tls)
        tls_ctx_unref(server_tls);
    server_tls = NULL;
    account_directory_free();
    session_free_all();
    operator_directory_free();
    vault_close(server_vault_handle);
    server_vault_handle = NULL;
    config_free(server_config);
    server_config = NULL;
}
