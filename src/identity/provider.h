/*
 * provider.h - the outside services behind identity level 2 (a real-name
 * check) and level 1 (sending an SMS code): asynchronous, on the libuv loop.
 *
 * One struct provider is either an identity provider or an SMS provider, of
 * one kind (configuration: identity.provider / sms.provider):
 *
 *   dev     identity: ACCEPTED (the caller already did the format checks);
 *           SMS: the code is written to the server log with log_notice,
 *           phone masked, then ACCEPTED. Only allowed with development=true
 *           (config.c refuses it otherwise).
 *   manual  identity only: PENDING "queued for a moderator".
 *   none    SMS only: provider_send_sms refuses (PROVIDER_ERR_DISABLED).
 *   exec    runs a program (no shell), one JSON object on its stdin, one
 *           JSON object expected on its stdout; killed at the timeout.
 *   http    POSTs the same JSON with libcurl on the libuv thread pool;
 *           retries network errors and HTTP 5xx.
 *
 * The wire format (request and answer) is in docs/internals/providers.md.
 *
 * Contract:
 *   1. Threads: every function here is called on the loop thread; every
 *      callback runs on the loop thread. Only curl_easy_perform runs on a
 *      pool thread, on copies it owns.
 *   2. A request accepted (return 0) gets exactly one callback, and never
 *      from inside the call that queued it. A refused request (negative
 *      return) gets none.
 *   3. Every string passed in is copied; the caller may free it on return.
 *      The struct provider_result passed to a callback lives only during
 *      the callback.
 *   4. provider_free calls every callback still owed, with PROVIDER_FAILED
 *      "shutting down", before it returns; after it returns no callback
 *      runs. A callback must not call provider_free on its own provider.
 *      Children are killed (SIGKILL) and handles closed; the loop must
 *      still run (uv_run) to finish closing them, after which it has no
 *      handle or request of this module left. An HTTP attempt already
 *      running on the pool is aborted within about a second (curl's
 *      progress callback), so the loop may take that long to empty.
 *   5. No real name, document number or phone number is ever logged or put
 *      into a reason by this module, except the dev SMS log line (masked
 *      phone and the code, by design). Reasons given by a provider are
 *      passed through (control characters replaced, truncated).
 */
#ifndef QUN_IDENTITY_PROVIDER_H
#define QUN_IDENTITY_PROVIDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <uv.h>

struct qun_config;
struct provider;

enum provider_kind { PROVIDER_NONE, PROVIDER_DEV, PROVIDER_EXEC, PROVIDER_HTTP, PROVIDER_MANUAL };

enum provider_verdict {
    PROVIDER_ACCEPTED, /* identity confirmed / SMS sent */
    PROVIDER_REJECTED, /* identity does not match, or the SMS provider answered
                          "failed" (e.g. number unreachable); reason from provider */
    PROVIDER_PENDING,  /* manual: a moderator decides later */
    PROVIDER_FAILED    /* timeout, crash, bad answer, unreachable, shutting down */
};

/* Errors returned by the queueing functions (negative; no callback then). */
enum provider_error {
    PROVIDER_ERR_ARG = -1,      /* NULL or over-long argument, wrong provider type */
    PROVIDER_ERR_DISABLED = -2, /* sms provider "none" */
    PROVIDER_ERR_BUSY = -3      /* PROVIDER_MAX_INFLIGHT requests already queued */
};

#define PROVIDER_REASON_MAX   256         /* bytes with the NUL */
#define PROVIDER_ANSWER_MAX   (64 * 1024) /* stdout / HTTP body cap */
#define PROVIDER_MAX_INFLIGHT 256         /* queued requests per provider */
#define PROVIDER_FIELD_MAX    1024        /* each string of a request */

struct provider_result {
    enum provider_verdict verdict;
    char reason[PROVIDER_REASON_MAX]; /* "" or a sentence; safe to show a user */
};

typedef void (*provider_cb)(void *ud, const struct provider_result *r);

struct identity_request {
    int64_t request_id; /* the caller's id for the check, sent to the provider */
    const char *account;
    const char *real_name;
    const char *doc_type;   /* idcheck type name, e.g. "cn-id" */
    const char *doc_number; /* canonical form (idcheck_normalise) */
};

/* "none", "dev", "exec", "http", "manual" -> 0 and *out; -1 if unknown. */
int provider_kind_parse(const char *name, enum provider_kind *out);
const char *provider_kind_name(enum provider_kind kind);
const char *provider_verdict_name(enum provider_verdict v);

/*
 * Creates an identity provider (sms=false) or an SMS provider (sms=true).
 * command is used by exec, url by http (both may be NULL otherwise);
 * timeout_s > 0 is per attempt; retries >= 0 are extra HTTP attempts.
 * Refuses combinations that make no sense (manual SMS, none identity,
 * exec without command, http without an http:// or https:// URL). On
 * failure returns NULL with a sentence in err.
 */
struct provider *provider_new(uv_loop_t *loop, bool sms, enum provider_kind kind,
                              const char *command, const char *url, int timeout_s, int retries,
                              char *err, size_t errlen);
/* The same from the identity.* / sms.* settings of a configuration. */
struct provider *provider_new_identity(uv_loop_t *loop, const struct qun_config *cfg, char *err,
                                       size_t errlen);
struct provider *provider_new_sms(uv_loop_t *loop, const struct qun_config *cfg, char *err,
                                  size_t errlen);

enum provider_kind provider_kind_of(const struct provider *p);
/* Requests accepted and not yet called back. */
size_t provider_inflight(const struct provider *p);

/* Queues a real-name check on an identity provider. 0 or PROVIDER_ERR_*. */
int provider_check_identity(struct provider *p, const struct identity_request *req, provider_cb cb,
                            void *ud);

/* Queues an SMS with code to phone_e164 (canonical, phone.h) on an SMS
 * provider. The text sent is "Qun verification code: <code>". 0 or
 * PROVIDER_ERR_*. */
int provider_send_sms(struct provider *p, const char *phone_e164, const char *code,
                      const char *account, provider_cb cb, void *ud);

/* See contract 4. NULL is allowed. */
void provider_free(struct provider *p);

#endif
