/*
 * complaint_internal.h - what the files of src/complaint/ share and nobody
 * else uses: the open set (complaint.c owns it), telling people, the
 * network-log event of a complaint. The `complaint__` prefix marks them
 * internal.
 *
 * Threads: loop thread only.
 */
#ifndef QUN_COMPLAINT_COMPLAINT_INTERNAL_H
#define QUN_COMPLAINT_COMPLAINT_INTERNAL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "complaint/complaint.h"

struct account;
struct store;

/* The store, or NULL once detached (shutdown). */
struct store *complaint__store(void);

/* The open set, ordered by id. insert takes c; take removes and returns
 * the complaint (the caller owns it then), or NULL. */
void complaint__insert(struct complaint *c);
struct complaint *complaint__take(int64_t id);
void complaint__free(struct complaint *c);

/* "dismiss", "malicious", "uphold", "escalate". */
const char *complaint__decision_name(enum complaint_decision d);

/* A ReportServ NOTICE to every connection of a (nothing when a is NULL). */
void complaint__tell(const struct account *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* "the message <msgid> in #g", "the user bob", "the group #g". */
const char *complaint__describe(const struct complaint *c, char *buf, size_t len);
/* Calls fn for the owner and each manager of group code, except skip_id. */
void complaint__managers_foreach(int64_t code, int64_t skip_id,
                                 void (*fn)(struct account *a, void *ud), void *ud);
/* One network-log event about c (target "complaint:<id>"); body is stolen. */
void complaint__log(const char *kind, const char *actor, const struct complaint *c, json_t *body);

#endif
