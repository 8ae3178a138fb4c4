/*
 * operator.h - operator accounts of the web console: administrators,
 * moderators and auditors who log in with a password (issue 7 item 3).
 *
 * Operators are not chat accounts: they live in their own table
 * (`operators`, store step 5), have exactly one role each and are created,
 * listed, disabled and given a new password only by an administrator
 * through the control commands operators.* (src/ctl/ctl_operators.c), so
 * from qunctl or from the console itself through ctl_call.
 *
 * Memory and the store. Every operator is loaded at start-up and looked
 * up in memory afterwards; a change is hashed on the thread pool
 * (argon2id, src/auth/password.h), written through the store and applied
 * in memory when the write is durable; then it is a network-log event
 * ("audit.operator.create", ".disable", ".passwd") naming the actor. No
 * password or hash is ever logged or recorded in the network log.
 *
 * Life of an operator:
 *
 *   operator_create() -> [RESERVED: in the map, id 0, busy, no logins]
 *        | argon2id on the pool, INSERT committed
 *        v
 *   [ACTIVE: id > 0] --operator_disable()--> [DISABLED: disabled_at set;
 *        ^  failure: removed from the map       kept for the records]
 *
 * Invariants:
 *   1. A name maps to at most one operator; names are lower-case ASCII
 *      (operator_name_check), so there is no case folding to get wrong.
 *   2. generation changes whenever the password changes or the operator
 *      is disabled: a console session made under an older generation is
 *      over (session.c compares it on every request).
 *   3. At most one change per operator is in flight (busy): a second gets
 *      OPERATOR_ERR_BUSY.
 *   4. operator_verify costs one argon2id check whether or not the name
 *      exists or is disabled (a dummy hash stands in), so the answer time
 *      does not tell which names exist.
 *   5. Operators are never freed before operator_directory_free (shutdown).
 *
 * Threads: loop thread only; callbacks run on the loop thread.
 */
#ifndef QUN_CONSOLE_OPERATOR_H
#define QUN_CONSOLE_OPERATOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

#include "auth/password.h"

struct store;

#define OPERATOR_NAME_MAX     32   /* bytes */
#define OPERATOR_PASSWORD_MIN 12   /* bytes; console passwords guard the whole platform */
#define OPERATOR_MAX          1000 /* operators, disabled ones included */

enum operator_role {
    OPERATOR_ADMINISTRATOR = 1,
    OPERATOR_MODERATOR = 2,
    OPERATOR_AUDITOR = 4,
};

enum operator_status {
    OPERATOR_OK = 0,
    OPERATOR_ERR_EXISTS = -1,
    OPERATOR_ERR_BAD_NAME = -2,
    OPERATOR_ERR_BAD_ROLE = -3,
    OPERATOR_ERR_WEAK_PASSWORD = -4,
    OPERATOR_ERR_NOT_FOUND = -5,
    OPERATOR_ERR_DISABLED = -6,     /* already disabled, or disabled operator */
    OPERATOR_ERR_BUSY = -7,         /* another change to this operator is in flight */
    OPERATOR_ERR_STORE = -8,        /* the store refused or failed */
    OPERATOR_ERR_INTERNAL = -9,     /* hashing could not be queued */
    OPERATOR_ERR_CREDENTIALS = -10, /* verify: unknown name, disabled or wrong password */
    OPERATOR_ERR_LIMIT = -11,       /* OPERATOR_MAX reached */
};

struct operator
{
    int64_t id; /* 0 while RESERVED */
    char name[OPERATOR_NAME_MAX + 1];
    enum operator_role role;
    char *password_hash; /* argon2id string; NULL while RESERVED */
    int64_t created_at;
    char *created_by;
    int64_t disabled_at; /* 0: active */
    uint64_t generation; /* invariant 2 */
    bool busy;           /* invariant 3 */
};

/* One sentence for an operator_status, for answers (no secrets). */
const char *operator_status_sentence(int status);
/* "administrator", "moderator", "auditor". */
const char *operator_role_name(enum operator_role role);
/* Parses a role name; 0 when it is none of the three. */
enum operator_role operator_role_parse(const char *name);
/* 1..OPERATOR_NAME_MAX bytes of a-z, 0-9, '.', '_' or '-', starting with
 * a letter. Returns OPERATOR_OK or OPERATOR_ERR_BAD_NAME. */
int operator_name_check(const char *name);

/*
 * Start-up: remembers loop and store (NULL: no store, for unit tests),
 * makes the dummy hash for unknown names with params (NULL: the defaults;
 * tests pass &password_params_min, which also applies to new passwords),
 * and loads every operator when a store is given, running the loop until
 * done. Returns 0 or -1 with a sentence in err.
 */
int operator_directory_load(uv_loop_t *loop, struct store *st, const struct password_params *params,
                            char *err, size_t errlen);
/* Shutdown: stop writing (the store is about to close). */
void operator_directory_detach_store(void);
/* Shutdown: forgets every operator. */
void operator_directory_free(void);

const struct operator* operator_find(const char *name); /* NULL if none (disabled ones found) */
size_t operator_count(void);
/* Walks every operator in name order. */
void operator_foreach(void (*fn)(const struct operator* op, void *ud), void *ud);

/* Completion of a change: op is the operator after the change, or NULL. */
typedef void (*operator_cb)(void *ud, int status, const struct operator* op);

/* Creates an operator with password pw[0..len) (hashed on the pool).
 * Returns OPERATOR_OK when queued (cb follows once, after the row is
 * durable and the network-log event recorded) or an error at once (cb
 * never called): BAD_NAME, BAD_ROLE, WEAK_PASSWORD, EXISTS, LIMIT, STORE,
 * INTERNAL. actor names who did it ("unix:root", "console:alice"). */
int operator_create(const char *name, enum operator_role role, const char *pw, size_t len,
                    const char *actor, operator_cb cb, void *ud);
/* New password; ends the operator's sessions (generation). Same contract;
 * errors at once: NOT_FOUND, WEAK_PASSWORD, BUSY, STORE, INTERNAL. */
int operator_set_password(const char *name, const char *pw, size_t len, const char *actor,
                          operator_cb cb, void *ud);
/* Disables (ends every session; the row stays for the records). Errors
 * at once: NOT_FOUND, DISABLED, BUSY, STORE. */
int operator_disable(const char *name, const char *actor, operator_cb cb, void *ud);

/* Login check (invariant 4): cb gets OPERATOR_OK with the operator, or
 * CREDENTIALS (unknown, disabled, reserved or wrong password) or INTERNAL
 * with NULL. Returns OPERATOR_OK when queued or INTERNAL at once. */
int operator_verify(const char *name, const char *pw, size_t len, operator_cb cb, void *ud);

/* Unit tests only: adds an active operator with a ready hash, no store. */
const struct operator*
    operator__test_add(const char *name, enum operator_role role, const char *hash);

#endif
