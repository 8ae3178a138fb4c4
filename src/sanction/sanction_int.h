/*
 * sanction_int.h - what sanction.c, blacklist.c and emergency.c share
 * inside the sanction module (not for other modules).
 *
 * Ids of the module's rows (sanctions, blacklist, emergency) are given in
 * memory (one past the largest stored id, read at start-up) so a command
 * can answer with the id at once; the store's writer applies the INSERTs
 * in order, so the ids never collide.
 *
 * Threads: loop thread only.
 */
#ifndef QUN_SANCTION_SANCTION_INT_H
#define QUN_SANCTION_SANCTION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "store/store.h"

struct account;
struct channel;

extern struct store *sanction_store;

/* Queues one write (logs when it cannot be queued). */
void sanction_write(const char *sql, const struct store_value *b, size_t n);
/* A JSON object text built from key/value string pairs (NULL values
 * skipped), ending with a NULL key; static buffer, use at once. */
const char *sanction_body(const char *k, ...);
/* "2024-05-01 12:00 UTC" of a moderation-clock time (static buffer). */
const char *sanction_time(int64_t t);

/* Start-up loads (store_load on sanction_store); -1 with err. */
int blacklist_load(char *err, size_t errlen);
int emergency_load(char *err, size_t errlen);
/* The emergency refusal for ch (NULL when posting is allowed). */
const char *emergency_refusal(const struct channel *ch);
/* The blacklist entry id that refuses a, or 0. */
int64_t blacklist_account_entry(const struct account *a);
/* The reason of entry id (or ""). */
const char *blacklist_reason(int64_t id);

/* Whether id was ever given to a sanction (active or lifted). */
bool sanction_existed(int64_t id);
/* sanction_lift with the text shown and logged as the lifting's why. */
int sanction_lift_because(int64_t id, const char *by, const char *because, char *why, size_t len);
/* Appeal outcomes not yet told (sanction_appeal.c): loaded at start-up,
 * told at login. */
int sanction_appeal_load(char *err, size_t errlen);
struct client;
void sanction_appeal_login(struct client *c);

/* Closure of a group (sanction.c), also used by blacklist.c. */
int64_t sanction_close_group(int64_t code, const char *reason, const char *evidence,
                             const char *author, bool report, char *why, size_t len);

#endif
