/*
 * log.c - levelled logging to stderr with an ISO-8601 UTC timestamp.
 */
#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static enum log_level log_threshold = LOG_LEVEL_INFO;

static const char *const log_names[] = {"debug", "info", "notice", "warn", "error"};

void log_set_level(enum log_level level)
{
    log_threshold = level;
}

int log_level_parse(const char *name)
{
    for (int i = 0; i < (int)(sizeof log_names / sizeof log_names[0]); i++)
        if (strcmp(name, log_names[i]) == 0)
            return i;
    return -1;
}

void log_msg(enum log_level level, const char *fmt, ...)
{
    if (level < log_threshold)
        return;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char stamp[32];
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%S", &tm);

    char line[2048];
    int n = snprintf(line, sizeof line, "%s.%03dZ qund[%d] %s: ", stamp, (int)(tv.tv_usec / 1000),
                     (int)getpid(), log_names[level]);
    va_list ap;
    va_start(ap, fmt);
    if (n > 0 && (size_t)n < sizeof line)
        vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    va_end(ap);
    /* one write per line so concurrent writers do not interleave mid-line */
    size_t len = strnlen(line, sizeof line - 2);
    line[len++] = '\n';
    fwrite(line, 1, len, stderr);
}

int log_limit_pass(struct log_limit *l, unsigned max, unsigned window_s, unsigned *dropped)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
    if (ts.tv_sec - l->window_start >= (long)window_s) {
        l->window_start = ts.tv_sec;
        l->count = 0;
    }
    if (l->count >= max) {
        l->dropped++;
        return 0;
    }
    l->count++;
    *dropped = l->dropped;
    l->dropped = 0;
    return 1;
}

const char *log_dropped_note(unsigned dropped)
{
    static char note[64];
    if (dropped == 0)
        return "";
    snprintf(note, sizeof note, " (%u more like it held back)", dropped);
    return note;
}
