/*
 * main.c - qund: the Qun daemon.
 *
 * Start-up order matters: read the configuration, open the listeners (which
 * may need privileged ports), then drop root for the configured user, then
 * open the vault and the store (as that user, so the files it creates are
 * its own and it can write them later), then tell systemd we are ready.
 * Signals: SIGHUP reloads the configuration and certificates, SIGTERM and
 * SIGINT close every connection with an ERROR line and exit 0.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>
#include <uv.h>

#include "config/config.h"
#include "irc/server.h"
#include "net/conn.h"
#include "rules/rules.h"
#include "util/blockcache.h"
#include "util/log.h"

static uv_signal_t sig_hup, sig_term, sig_int;

static void usage(FILE *out)
{
    fprintf(out, "usage: qund -c FILE [-t]\n"
                 "  -c FILE  configuration file (libconfig syntax)\n"
                 "  -t       check the configuration file and exit\n");
}

static void on_signal(uv_signal_t *h, int signum)
{
    if (signum == SIGHUP) {
        char err[512];
        sd_notify(0, "RELOADING=1");
        if (server_reload(err, sizeof err) < 0)
            log_error("reload refused, keeping the running configuration: %s", err);
        else
            log_notice("configuration and certificates reloaded");
        sd_notify(0, "READY=1");
        return;
    }
    log_notice("received %s: shutting down", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    sd_notify(0, "STOPPING=1");
    server_shutdown("Server shutting down");
    uv_close((uv_handle_t *)&sig_hup, NULL);
    uv_close((uv_handle_t *)&sig_term, NULL);
    uv_close((uv_handle_t *)&sig_int, NULL);
}

/* Switches to the configured user when running as root; refuses to keep
 * running as root. */
static int drop_privileges(const struct qun_config *cfg)
{
    if (geteuid() != 0)
        return 0;
    if (!cfg->run_user) {
        log_error("refusing to run as root: set server.user to an unprivileged account");
        return -1;
    }
    struct passwd *pw = getpwnam(cfg->run_user);
    if (!pw) {
        log_error("server.user \"%s\" does not exist on this system", cfg->run_user);
        return -1;
    }
    if (pw->pw_uid == 0) {
        log_error("server.user \"%s\" is root: choose an unprivileged account", cfg->run_user);
        return -1;
    }
    if (setgroups(0, NULL) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        log_error("cannot switch to user %s: %s", cfg->run_user, strerror(errno));
        return -1;
    }
    if (setuid(0) == 0) {
        log_error("still able to regain root after dropping privileges");
        return -1;
    }
    log_info("running as user %s", cfg->run_user);
    return 0;
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    bool check_only = false;
    int opt;
    while ((opt = getopt(argc, argv, "c:th")) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 't':
            check_only = true;
            break;
        case 'h':
            usage(stdout);
            return 0;
        default:
            usage(stderr);
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    char err[512];
    struct qun_config *cfg = config_load(path, err, sizeof err);
    if (!cfg) {
        fprintf(stderr, "qund: %s\n", err);
        return 1;
    }
    if (check_only) {
        /* the pattern files of the automatic rules are part of the check */
        if (rules_load(cfg, err, sizeof err) < 0) {
            fprintf(stderr, "qund: %s\n", err);
            config_free(cfg);
            return 1;
        }
        rules_free();
        printf("qund: %s is valid\n", path);
        config_free(cfg);
        return 0;
    }
    signal(SIGPIPE, SIG_IGN);
    uv_loop_t *loop = uv_default_loop();
    /* Signal handlers first: a SIGTERM during start-up is then handled as
     * soon as the loop runs, instead of killing the process half-started. */
    uv_signal_init(loop, &sig_hup);
    uv_signal_init(loop, &sig_term);
    uv_signal_init(loop, &sig_int);
    uv_signal_start(&sig_hup, on_signal, SIGHUP);
    uv_signal_start(&sig_term, on_signal, SIGTERM);
    uv_signal_start(&sig_int, on_signal, SIGINT);
    if (server_start(loop, cfg, err, sizeof err) < 0) {
        log_error("cannot start: %s", err);
        return 1;
    }
    if (drop_privileges(server_config) < 0)
        return 1;
    /* The database (and later its -wal/-shm files) holds account data and
     * sealed identities: keep whatever it creates private to server.user,
     * whatever umask we were started with. */
    umask(077);
    if (server_open_storage(err, sizeof err) < 0) {
        log_error("cannot start: %s", err);
        return 1;
    }
    log_notice("qund ready: %s", server_config->server_name);
    sd_notify(0, "READY=1");
    uv_run(loop, UV_RUN_DEFAULT);
    /* Every client is gone; release the transport's own handles. */
    transport_shutdown();
    uv_run(loop, UV_RUN_DEFAULT);
    int rc = uv_loop_close(loop);
    if (rc != 0)
        log_warn("event loop closed with handles still open (%s)", uv_strerror(rc));
    server_free();
    blockcache_trim(); /* the loop's kept message blocks */
    /* Join libuv's worker threads (store, log reader, password hashing), so
     * their thread-exit handlers run: OpenSSL frees its per-thread state
     * there, which valgrind otherwise reports as lost at exit. */
    uv_library_shutdown();
    log_notice("qund stopped");
    return 0;
}
