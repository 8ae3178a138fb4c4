/*
 * msgid.h - message ids (IRCv3 msgid tag).
 *
 * Two kinds, told apart by their first character:
 *
 *   counter ids  (msgid_new) for everything that is not a logged chat
 *                message (joins, parts, numerics with ids): twelve
 *                characters of process prefix, then a counter.
 *   log ids      (msgid_for_seq) for chat messages: the marker '1', the
 *                same prefix, then the message's network-log seq. The log
 *                finds such a message by its primary key (msgid_seq), so it
 *                keeps no index over chat messages' ids (netlog/schema.h).
 *
 * The prefix is seven characters of the time of the process's first id
 * (seconds) and five random ones, so ids of a later process sort after an
 * earlier one's, and two processes started in the same second (or two logs
 * whose seqs both start at 1) still differ. Numbers are written as their
 * count of digits, then the digits, in an alphabet in ASCII order, so ids
 * of one kind sort (strcmp) in the order they are made. Counter ids use
 * only "234567a-z"; so did every id before log ids (sessions 1-12). The
 * marker sorts before all of those, so "msgid >= '2'" tells a counter id
 * from a log id with one comparison (a partial index's condition is
 * evaluated on every insert: substr() there cost the log ~15 % of its rate).
 *
 * Threads: loop thread only (the prefix and counter are process state).
 */
#ifndef QUN_UTIL_MSGID_H
#define QUN_UTIL_MSGID_H

#include <stddef.h>
#include <stdint.h>

/* The longest id: 1 + 12 + 1 + 13 characters (a 64-bit number). */
#define MSGID_MAX 27
/* The first character of a log id; every counter id's is above it. */
#define MSGID_MARK       '1'
#define MSGID_PREFIX_LEN 12

/* A new counter id into buf; returns its length (cut to len - 1). */
size_t msgid_new(char *buf, size_t len);
/* The log id of the chat message at seq (seq > 0) into buf; returns its
 * length (cut to len - 1). */
size_t msgid_for_seq(int64_t seq, char *buf, size_t len);
/* The seq a log id names, or 0 when id is not a well-formed log id. Any
 * prefix is accepted: the caller compares the stored msgid too. */
int64_t msgid_seq(const char *id);

#endif
