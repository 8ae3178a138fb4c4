/*
 * netlog_bench.c - how many events per second the network log commits in
 * strict mode (issue 5 target: 200,000/s), measured end to end through
 * netlog_append(): seq assignment on the loop, the writer thread's group
 * commits (leaf and chain hashes, Merkle accumulator, signed checkpoints,
 * the journal write and its fdatasync), and the completion callbacks back
 * on the loop; then until the log database holds them all
 * (netlog_when_readable), which the applier thread does behind.
 *
 *   netlog_bench DIR [EVENTS [GROUPS ACCOUNTS]]
 *
 * EVENTS defaults to 1,000,000; GROUPS and ACCOUNTS to 1: every event is
 * a message to one group from one account. With more, event i goes to
 * group i % GROUPS (name and code) from account i % ACCOUNTS, as in a busy
 * hour of a large network, where the log's per-group and per-account
 * lookups are filled at many places at once.
 *
 * Writes DIR/netlog.db and DIR/netlog.key; prints one line:
 *   events=N seconds=S events_per_s=R db_seconds=S2 db_events_per_s=R2
 *   commits=C max_batch=B
 * (events_per_s: durable, every callback run; db_events_per_s: also in the
 * database, readable by CHATHISTORY and search.)
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

#include "config/config.h"
#include "netlog/netlog.h"
#include "util/msgid.h"

struct qun_config *server_config;

static long total, appended, done_count, groups = 1, accounts = 1;

static void feed(void);

static bool readable;

static void on_readable(void *ud)
{
    (void)ud;
    readable = true;
}

static void on_done(void *ud, int status, int64_t seq)
{
    (void)ud;
    (void)seq;
    if (status == 0)
        done_count++;
    if (appended - done_count < 100000) /* refill from the completions: no busy loop */
        feed();
}

static void feed(void)
{
    /* keep up to 200,000 events in flight, like many busy clients would */
    char body[200];
    for (int i = 0; i < 100000 && appended < total && appended - done_count < 200000; i++) {
        snprintf(body, sizeof body,
                 "{\"command\":\"PRIVMSG\",\"text\":\"message %ld from the benchmark, about as "
                 "long as a chat line\"}",
                 appended);
        char msgid[MSGID_MAX + 1], target[32];
        int64_t seq = netlog_next_seq(); /* named as msgpath.c names a chat message */
        msgid_for_seq(seq, msgid, sizeof msgid);
        long g = appended % groups;
        snprintf(target, sizeof target, "#bench%ld", g);
        struct netlog_event e = {.seq = seq,
                                 .kind = "msg",
                                 .actor = "bench!~b@127.0.0.1",
                                 .target = target,
                                 .code = 10001 + g,
                                 .account_id = 1 + appended % accounts,
                                 .msgid = msgid,
                                 .body = body};
        if (netlog_append(&e, on_done, NULL) < 0)
            break;
        appended++;
    }
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: netlog_bench DIR [EVENTS [GROUPS ACCOUNTS]]\n");
        return 2;
    }
    total = argc > 2 ? atol(argv[2]) : 1000000;
    if (argc > 4) {
        groups = atol(argv[3]);
        accounts = atol(argv[4]);
    }
    if (total < 1 || groups < 1 || accounts < 1) {
        fprintf(stderr, "netlog_bench: EVENTS, GROUPS and ACCOUNTS must be positive\n");
        return 2;
    }
    static struct qun_config cfg;
    char path[4096], key[4096];
    snprintf(path, sizeof path, "%s/netlog.db", argv[1]);
    snprintf(key, sizeof key, "%s/netlog.key", argv[1]);
    cfg.server_name = "bench.qun";
    cfg.netlog_path = path;
    cfg.netlog_key_file = key;
    cfg.netlog_mode = "strict";
    cfg.netlog_dm = "content";
    cfg.netlog_checkpoint_events = 1000;
    cfg.netlog_checkpoint_seconds = 60;
    cfg.netlog_keep_months = 7;
    cfg.netlog_queue_max = 1000000;
    server_config = &cfg;
    uv_loop_t *loop = uv_default_loop();
    char err[512];
    if (netlog_open(loop, &cfg, err, sizeof err) < 0) {
        fprintf(stderr, "netlog_bench: %s\n", err);
        return 1;
    }
    struct timespec t0, t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    feed();
    while (done_count < total)
        uv_run(loop, UV_RUN_ONCE);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    netlog_when_readable(on_readable, NULL);
    while (!readable)
        uv_run(loop, UV_RUN_ONCE);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    double db_secs = (double)(t2.tv_sec - t0.tv_sec) + (double)(t2.tv_nsec - t0.tv_nsec) / 1e9;
    struct netlog_stats st;
    netlog_get_stats(&st);
    netlog_close();
    uv_run(loop, UV_RUN_DEFAULT);
    printf("events=%ld seconds=%.2f events_per_s=%.0f db_seconds=%.2f db_events_per_s=%.0f "
           "commits=%llu max_batch=%llu applies=%llu\n",
           total, secs, (double)total / secs, db_secs, (double)total / db_secs,
           (unsigned long long)st.commits, (unsigned long long)st.max_batch,
           (unsigned long long)st.applies);
    return 0;
}
