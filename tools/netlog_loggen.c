/*
 * netlog_loggen - writes a synthetic, valid network-log database (test and
 * benchmark tool; not installed). See src/netlog/loggen.h.
 *
 *   netlog_loggen [--every K] [--no-final] [--seed S] DB KEY N
 *
 * DB must not exist; KEY is the signing key (created when missing, with
 * KEY.pub beside it); N events, a checkpoint every K (default 1000) and a
 * final one unless --no-final. Prints the rate to stderr. Exit 0 or 1.
 *
 * Used to measure `qunctl verify` at 1 and 10 million events:
 *   netlog_loggen /tmp/l.db /tmp/l.key 10000000 && time qunctl verify \
 *       --db /tmp/l.db --key /tmp/l.key.pub
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "netlog/loggen.h"

static int usage(void)
{
    fputs("usage: netlog_loggen [--every K] [--no-final] [--seed S] DB KEY N\n", stderr);
    return 2;
}

int main(int argc, char **argv)
{
    struct netlog_loggen_opts o = {.checkpoint_every = 1000};
    int i = 1;
    for (; i < argc && strncmp(argv[i], "--", 2) == 0; i++) {
        if (strcmp(argv[i], "--every") == 0 && i + 1 < argc)
            o.checkpoint_every = atoll(argv[++i]);
        else if (strcmp(argv[i], "--seed") == 0 && i + 1 < argc)
            o.seed = (uint32_t)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--no-final") == 0)
            o.no_final_checkpoint = true;
        else
            return usage();
    }
    if (argc - i != 3)
        return usage();
    o.db_path = argv[i];
    o.key_path = argv[i + 1];
    o.events = atoll(argv[i + 2]);
    if (o.events <= 0 || o.checkpoint_every < 0)
        return usage();
    if (access(o.db_path, F_OK) == 0) {
        fprintf(stderr, "netlog_loggen: %s exists; give a new path\n", o.db_path);
        return 1;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    char err[512];
    if (netlog_loggen(&o, err, sizeof err) < 0) {
        fprintf(stderr, "netlog_loggen: %s\n", err);
        return 1;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    fprintf(stderr, "netlog_loggen: %lld events in %.2f s (%.0f events/s)\n", (long long)o.events,
            s, (double)o.events / s);
    return 0;
}
