/*
 * verify.h - raising an account's identity level (SPEC §4): level 1 by a
 * phone number confirmed with a one-time code, level 2 by a real name and
 * an identity document checked by a provider; the manual queue moderators
 * work through qunctl; and the audited reveal.
 *
 * Domain code on top of account.h, identity/{phone,idcheck,otp,ratelimit},
 * the vault, the store and the providers. The IRC faces (REGISTER/VERIFY,
 * NickServ) and qunctl call these and turn a struct verify_result into a
 * FAIL, a NOTICE or a JSON answer.
 *
 * Flows (each step's callback runs on the loop thread):
 *
 *   phone:    verify_phone_start --rate limits, otp_issue, SMS provider-->
 *             CODE_SENT ... verify_phone_confirm --otp_check, seal phone,
 *             UPDATE level 1--> DONE
 *   identity: verify_identity_submit --level >= 1, document format,
 *             identity hash, accounts-per-identity cap, seal--> provider:
 *               accepted -> UPDATE level 2 + request 'accepted' -> DONE
 *               rejected -> request 'rejected' -> REFUSED (reason)
 *               manual   -> request 'pending'  -> QUEUED (request id)
 *             verify_identity_decide (qunctl) settles a pending request.
 *   reveal:   the audit record is committed first, then the sealed fields
 *             are read and opened. No audit record, no reveal.
 *
 * Invariants:
 *   1. A real name, document number or phone number is written to the
 *      store only as vault output, and never logged.
 *   2. A code is 6 digits, valid OTP_TTL_SECONDS, OTP_MAX_TRIES tries; code
 *      requests are rate-limited per phone, per account and per address.
 *   3. At most identity.max_accounts_per_identity accounts verify (or wait
 *      for verification) with the same identity hash.
 *   4. The level is changed in memory only after the store has committed.
 */
#ifndef QUN_IDENTITY_VERIFY_H
#define QUN_IDENTITY_VERIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

struct account;
struct qun_config;
struct store;
struct vault;

enum verify_outcome {
    VERIFY_DONE,      /* the level was raised (or the decision recorded) */
    VERIFY_CODE_SENT, /* a code is on its way to the phone */
    VERIFY_QUEUED,    /* a moderator will decide; request_id says which */
    VERIFY_REFUSED,   /* code and sentence say why and what to do */
};

struct verify_result {
    enum verify_outcome outcome;
    const char *code; /* FAIL code when REFUSED, e.g. "INVALID_CODE" */
    char sentence[320];
    int64_t request_id;
};

typedef void (*verify_cb)(void *ud, const struct verify_result *r);

/* Creates the providers from the configuration. 0, or -1 with err set. */
int verify_init(uv_loop_t *loop, const struct qun_config *cfg, struct store *st,
                const struct vault *v, char *err, size_t errlen);
/* Stops using the store, cancels what is in flight (callbacks run with
 * REFUSED) and frees the providers. Called when shutdown begins. */
void verify_shutdown(void);
/* True when phone codes can be sent (identity.sms is not "none"). */
bool verify_sms_available(void);

/* Each calls cb exactly once, possibly before returning when refused at
 * once (the caller must be ready for that). a stays referenced meanwhile. */
void verify_phone_start(struct account *a, const char *phone, const char *ip, verify_cb cb,
                        void *ud);
void verify_phone_confirm(struct account *a, const char *code, verify_cb cb, void *ud);
bool verify_phone_pending(const struct account *a);
void verify_identity_submit(struct account *a, const char *doc_type, const char *doc_number,
                            const char *real_name, verify_cb cb, void *ud);
void verify_identity_decide(int64_t request_id, bool approve, const char *reason, const char *actor,
                            verify_cb cb, void *ud);

/* The pending manual queue, oldest first. row runs per request, then done. */
typedef void (*verify_queue_row)(void *ud, int64_t id, const char *account, const char *doc_type,
                                 int64_t submitted_at);
void verify_queue_list(verify_queue_row row, void (*done)(void *ud, bool ok), void *ud);

/* The revealed identity: plaintext held only for the callback's duration
 * and wiped afterwards. Fields are "" when the account has none. */
struct verify_identity {
    char real_name[256];
    char doc_type[32];
    char doc_number[64];
    char phone[32];
    int level;
};
typedef void (*verify_reveal_cb)(void *ud, int status, const char *sentence,
                                 const struct verify_identity *id);
void verify_reveal(const char *account, const char *case_ref, const char *actor,
                   verify_reveal_cb cb, void *ud);

#endif
