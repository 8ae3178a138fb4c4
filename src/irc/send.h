/*
 * send.h - rendering and delivering lines to clients.
 *
 * Everything the server sends to a client goes through this module, so that
 * three cross-cutting rules live in one place:
 *
 *   - Render once per capability set. A relayed message is described by a
 *     struct irc_event; send_to_channel() renders it at most once for each
 *     distinct value of (caps & CAP_TAGS_MASK) among the recipients and
 *     queues the same qbuf on every connection.
 *   - labeled-response. While a labeled command runs (label_begin ..
 *     label_end) every line for the client that sent it is captured; at the
 *     end one line gets the label tag, several get wrapped in a
 *     labeled-response batch, none produce an ACK.
 *   - standard-replies. send_fail() sends FAIL/WARN/NOTE to clients with the
 *     standard-replies capability and an equivalent NOTICE to others.
 *
 * Threads: loop thread only.
 */
#ifndef QUN_IRC_SEND_H
#define QUN_IRC_SEND_H

#include <stdbool.h>
#include <stdint.h>

#include "proto/message.h"

struct client;
struct channel;

/* A message to render: command, source, params and the tags that depend on
 * the recipient's capabilities. All pointers are borrowed for the call. */
struct irc_event {
    const char *source; /* full prefix; NULL means the server name */
    const char *command;
    const char *params[IRC_PARAMS_MAX];
    int nparams;
    bool trailing;           /* always write the last param with ':' */
    const char *msgid;       /* sent with message-tags; NULL: none */
    uint64_t time_ms;        /* sent with server-time */
    const char *account;     /* sent with account-tag; NULL: none */
    const char *client_tags; /* escaped "+a=b;+c", sent with message-tags */
    bool bot;                /* the source is a +B client: "bot" tag with message-tags */
};

/* Marks ev as originated by c: account-tag and the IRCv3 bot-mode tag. */
void event_from_client(struct irc_event *ev, const struct client *c);
/* Fills the event with source, command, the current time and, when
 * with_msgid, a fresh msgid (stored in a static buffer valid until the next
 * call of event_init). */
void event_init(struct irc_event *ev, const char *source, const char *command, bool with_msgid);
/* The msgid and time of the last event made with a msgid (the network log
 * records a relayed event under them, so history replays it as sent). */
const char *event_last_msgid(uint64_t *time_ms);
void event_param(struct irc_event *ev, const char *param);
/* Formats an ISO-8601 UTC time with milliseconds. */
void time_format_iso(uint64_t ms, char *buf, size_t len);
uint64_t time_now_ms(void);

/* Delivery. need_mask/need_value filter recipients:
 * (caps & need_mask) == need_value. */
void send_event(struct client *to, const struct irc_event *ev);
/* Like send_event() but never part of a labeled response (a message to
 * oneself arrives once as a delivery, unlabeled, and once as the echo). */
void send_event_unlabeled(struct client *to, const struct irc_event *ev);
void send_to_channel(struct channel *ch, const struct irc_event *ev, const struct client *except,
                     uint32_t need_mask, uint32_t need_value);
/* send_to_channel() restricted to members holding at least one of the
 * member prefix bits in member_mask (STATUSMSG: "@#chan" reaches owners and
 * ops); member_mask 0 means every member. */
void send_to_channel_members(struct channel *ch, const struct irc_event *ev,
                             const struct client *except, uint32_t need_mask, uint32_t need_value,
                             uint8_t member_mask);
/* Everyone sharing at least one channel with src, each once; src itself
 * too when include_self. */
void send_to_common(struct client *src, const struct irc_event *ev, bool include_self,
                    uint32_t need_mask, uint32_t need_value);
/* A change of src's own state (AWAY, SETNAME, CHGHOST, ACCOUNT) announced
 * under the capability need_cap: send_to_common() to clients with need_cap,
 * plus every client MONITORing src's nick with extended-monitor and
 * need_cap (IRCv3 extended-monitor). Each recipient gets it once. */
void send_to_observers(struct client *src, const struct irc_event *ev, bool include_self,
                       uint32_t need_cap);
/* Every registered client with user mode umode set (WALLOPS: +w). */
void send_to_umode(const struct irc_event *ev, uint8_t umode);

/* ":server NNN <nick> " followed by the formatted rest (which must be valid
 * IRC param syntax: middle params, then ':' and the trailing text). */
void send_numeric(struct client *to, int numeric, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* A raw server-originated line, e.g. "PING :x", "ERROR :Closing link".
 * fmt must not contain CR/LF; CRLF is appended. */
void send_line(struct client *to, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* standard-replies: kind is "FAIL", "WARN" or "NOTE"; context may be NULL
 * or a space-separated list of middle params. */
void send_fail(struct client *to, const char *kind, const char *command, const char *code,
               const char *context, const char *description);

/* labeled-response capture for the command being processed. */
void label_begin(struct client *c, const char *label);
void label_end(void);
/* Called from client_destroy: drop any capture for c. */
void label_forget(struct client *c);
/* A labeled command whose messages wait for the network log: each such
 * message joins the command's group (NULL when c has no label running);
 * at delivery, label_group_resume() makes the group's capture current
 * again, the echo is sent, and label_group_done() either ends the labeled
 * reply (last message, command over) or keeps the capture waiting. */
struct label_group;
struct label_group *label_group_join(struct client *c);
void label_group_resume(struct client *c, struct label_group *g);
void label_group_done(struct label_group *g, struct client *c);

#endif
