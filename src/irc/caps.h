/*
 * caps.h - IRCv3 client capabilities: the table, and CAP negotiation.
 *
 * Each capability is one bit in client->caps. The table in caps.c gives the
 * wire name, the value advertised in CAP LS 302 and whether it can be
 * disabled. CAP_TAGS_MASK lists the capabilities that change how a message
 * is rendered; send.c renders a group message once per distinct value of
 * (client->caps & CAP_TAGS_MASK).
 */
#ifndef QUN_IRC_CAPS_H
#define QUN_IRC_CAPS_H

#include <stdbool.h>
#include <stdint.h>

enum cap_bit {
    CAP_CAP_NOTIFY = 1u << 0,
    CAP_MESSAGE_TAGS = 1u << 1,
    CAP_SERVER_TIME = 1u << 2,
    CAP_ECHO_MESSAGE = 1u << 3,
    CAP_BATCH = 1u << 4,
    CAP_LABELED_RESPONSE = 1u << 5,
    CAP_MULTI_PREFIX = 1u << 6,
    CAP_USERHOST_IN_NAMES = 1u << 7,
    CAP_EXTENDED_JOIN = 1u << 8,
    CAP_AWAY_NOTIFY = 1u << 9,
    CAP_ACCOUNT_NOTIFY = 1u << 10,
    CAP_ACCOUNT_TAG = 1u << 11,
    CAP_CHGHOST = 1u << 12,
    CAP_INVITE_NOTIFY = 1u << 13,
    CAP_SETNAME = 1u << 14,
    CAP_STANDARD_REPLIES = 1u << 15,
    CAP_EXTENDED_MONITOR = 1u << 16,
    CAP_SASL = 1u << 17,
    CAP_ACCOUNT_REGISTRATION = 1u << 18,
    CAP_REDACTION = 1u << 19,      /* draft/message-redaction */
    CAP_CHATHISTORY = 1u << 20,    /* draft/chathistory (cmd_chathistory.c) */
    CAP_EVENT_PLAYBACK = 1u << 21, /* draft/event-playback: events in history */
};

/* Capabilities that change the tag section of a relayed message. */
#define CAP_TAGS_MASK (CAP_MESSAGE_TAGS | CAP_SERVER_TIME | CAP_ACCOUNT_TAG)

struct client;

/* Wire name of a single bit, for logs and tests. */
const char *caps_name(uint32_t bit);
/* All the bits of the table (every capability the server offers). */
uint32_t caps_all(void);

/* The sans-IO halves of CAP (fuzz/fuzz_caps.c):
 * caps_parse_req reads a CAP REQ list, names separated by spaces, a '-'
 * before a name to remove it, into the bits to add and to remove. false
 * when a name is unknown or a sticky capability is removed; *add and *del
 * are then 0 (a REQ is all or nothing). A name both added and removed is
 * removed.
 * caps_parse_version reads CAP LS's version: decimal digits, clamped to
 * 0..302 (302 is the highest Qun speaks); anything else is 0. */
bool caps_parse_req(const char *list, uint32_t *add, uint32_t *del);
int caps_parse_version(const char *s);

#endif
