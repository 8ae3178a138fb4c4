/*
 * log.h - levelled logging to stderr.
 *
 * Lines look like "2026-11-30T02:10:00.123Z qund[pid] warn: text". The level
 * threshold comes from the configuration (log.level) and may change on reload.
 * Contract: never pass a secret (password, key, token) to these functions.
 */
#ifndef QUN_UTIL_LOG_H
#define QUN_UTIL_LOG_H

enum log_level {
    LOG_LEVEL_DEBUG,
    LOG_LEVEL_INFO,
    LOG_LEVEL_NOTICE,
    LOG_LEVEL_WARN,
    LOG_LEVEL_ERROR
};

void log_set_level(enum log_level level);
/* Parses "debug", "info", "notice", "warn", "error"; returns -1 if unknown. */
int log_level_parse(const char *name);
void log_msg(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)  log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)
#define log_info(...)   log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_notice(...) log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_warn(...)   log_msg(LOG_LEVEL_WARN, __VA_ARGS__)
#define log_error(...)  log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)

/* A limit on one kind of line that a remote peer can cause at will (a
 * refused TLS handshake, say): at most `max` lines per `window_s` seconds.
 * log_limit_pass() says whether to log this one; *dropped is how many were
 * held back since the last line that passed, to be said in that line. */
struct log_limit {
    long window_start; /* CLOCK_MONOTONIC seconds */
    unsigned count;
    unsigned dropped;
};
int log_limit_pass(struct log_limit *l, unsigned max, unsigned window_s, unsigned *dropped);
/* " (N more like it held back)" for the line that passes after some were
 * dropped, "" when none were; a static buffer, for the loop thread. */
const char *log_dropped_note(unsigned dropped);

#endif
