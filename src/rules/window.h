/*
 * window.h - the bounded memory of the automatic rules: time windows per
 * account for flood, per account and text for duplicate spam, and per
 * account and rule for deductions.
 *
 * Each is a fixed-size table allocated once (RULES_WINDOW_BYTES in all),
 * so memory never grows with the number of users or messages. A key's slot
 * is found by probing RULES_PROBE places from its hash; a lookup takes the
 * key's own slot while its window runs, else a free or expired slot, else
 * evicts the probed slot whose window started first. Windows are fixed: a
 * window starts at the first event of a key and lasts `window` seconds.
 * Eviction can only forget a window early (a flooder may get a fresh
 * count), never invent one.
 *
 * Threads: loop thread only.
 */
#ifndef QUN_RULES_WINDOW_H
#define QUN_RULES_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_PROBE       8
#define RULES_FLOOD_SLOTS 16384
#define RULES_SPAM_SLOTS  4096
#define RULES_SPAM_CODES  16 /* rules.spam_groups is at most 16 */
#define RULES_SANCT_SLOTS 4096

/* Allocates the tables once (idempotent); free clears them. */
void rules_windows_init(void);
void rules_windows_free(void);
/* The bytes the tables take (constant). */
size_t rules_windows_bytes(void);

/* Counts a message of account; true when it is over messages in its
 * window of window seconds. */
bool rules_window_flood(int64_t account, int64_t now, int messages, int window);
/* Notes that account sent the text (hash) to group code; true when that
 * text has gone to `groups` different groups within its window. Once true
 * it stays true until the window ends (a retry in an earlier group is the
 * same burst). */
bool rules_window_spam(int64_t account, int64_t code, uint64_t text_hash, int64_t now, int groups,
                       int window);
/* True the first time (account, rule) is seen in a window of window
 * seconds: the one deduction of a burst. */
bool rules_window_first(int64_t account, uint64_t rule_hash, int64_t now, int window);

#endif
