/*
 * msgpath.h - the path of a chat message once it has been checked:
 * record, then deliver.
 *
 *   cmd_message.c (parse + check) -> msgpath_submit() -> [network log
 *   append, durable] -> msgpath deliver -> send.c fan-out
 *
 * The rules (SPEC §9) require that nothing reaches a group member before it
 * is durably in the network log. The submit/deliver split is the seam for
 * that: a submitted message is an owned record (struct chat_msg) that can
 * wait for a group commit and be delivered from the log writer's completion
 * callback without referring to the parsed line or the command's stack.
 * Until the network log exists the record is delivered at once.
 *
 * STATUSMSG ("PRIVMSG @#chan") takes the same path; the record carries
 * the member-prefix filter and send_to_channel_members() applies it in the
 * one channel fan-out loop.
 */
#ifndef QUN_IRC_MSGPATH_H
#define QUN_IRC_MSGPATH_H

#include <stdbool.h>
#include <stdint.h>

#include "util/msgid.h"

struct client;
struct channel;

enum chat_kind { CHAT_PRIVMSG, CHAT_NOTICE, CHAT_TAGMSG };
/* "PRIVMSG", "NOTICE" or "TAGMSG". */
const char *chat_command_name(enum chat_kind kind);

/* An accepted chat message. Strings are owned by the record. */
struct chat_msg {
    enum chat_kind kind;
    uint64_t sender_id;                      /* conn id of the sender, to find it at delivery */
    char *sender_prefix;                     /* nick!user@host at submission */
    char *sender_account;                    /* or NULL */
    char *target;                            /* channel name (after any STATUSMSG prefix,
                                              * e.g. "@#chan") or nick, as relayed */
    uint8_t member_mask;                     /* STATUSMSG: only members with one of these
                                              * MEMBER_* bits; 0 for every member */
    bool sender_bot;                         /* sender had user mode +B: "bot" tag */
    char *text;                              /* NULL for TAGMSG */
    char *client_tags;                       /* escaped "+a=b;..." or NULL */
    uint32_t target_len, text_len, tags_len; /* their strlen (0 for NULL) */
    uint32_t prefix_len, msgid_len;
    char msgid[MSGID_MAX + 1];
    int64_t seq; /* the log seq its msgid names (msgpath_name) */
    uint64_t time_ms;
    /* found again when the log has it (delivery is asynchronous) */
    char *channel_folded;      /* the channel's casefolded name (channel_find_folded's key),
                                * or NULL for a direct message */
    uint64_t to_id;            /* the recipient's id for a direct message */
    struct label_group *label; /* the labeled reply waiting for it, or NULL */
    int64_t held_id;           /* a released held message (rules/held.h), or 0 */
};

/* Takes a checked message from c to a channel or a user, appends it to the
 * network log and delivers it once the log has it durably (strict mode;
 * netlog.h). The sender's next chat messages are pipelined behind it;
 * any other command of the sender waits until its messages are delivered
 * (server.c, server_message_logged), so its commands keep their order. Exactly one of ch / to is
 * non-NULL. */
void msgpath_submit(struct client *c, struct channel *ch, struct client *to, enum chat_kind kind,
                    const char *text, const char *client_tags);
/* STATUSMSG: a checked message to the members of ch whose MEMBER_* bits
 * meet member_mask, both from msgpath_status_parse(); the relayed target is
 * status (each character once, in the order written) followed by the
 * channel's name. */
void msgpath_submit_status(struct client *c, struct channel *ch, const char *status,
                           uint8_t member_mask, enum chat_kind kind, const char *text,
                           const char *client_tags);

/* A held message released by a manager (rules/held.h): logged, then
 * delivered to every member of ch (or, with status, to the members that
 * STATUSMSG prefix reaches) in its author's name as it was written: author
 * is the nick!user@host of the sender when they wrote it, account their
 * account. The author need not be online; when they are, their
 * connections get it as members of ch, like everyone else. The log body
 * carries "held": held_id. Returns 0, or -1 when the log refused it (the
 * message is then not delivered). */
int msgpath_submit_released(const char *author, const char *account, int64_t account_id,
                            struct channel *ch, const char *status, enum chat_kind kind,
                            const char *text, const char *client_tags, int64_t held_id);

/* Prefix characters a STATUSMSG target may start with (ISUPPORT STATUSMSG),
 * highest rank first. */
#define MSGPATH_STATUSMSG "~@+"
/* Splits a target such as "@#chan" into its STATUSMSG prefix and the rest.
 * Returns a pointer to the rest (target itself when there is no prefix)
 * and sets *member_mask to the MEMBER_* bits of members it reaches: a
 * prefix reaches its rank and every higher one, and several prefixes reach
 * the union ("@+#c" is the same as "+#c"). Pure: no lookups. */
const char *msgpath_status_parse(const char *target, uint8_t *member_mask);

#endif
