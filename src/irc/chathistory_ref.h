/*
 * chathistory_ref.h - the argument parsers of CHATHISTORY (sans-IO):
 * message references ("*", msgid=<id>, timestamp=<server-time>) and the
 * limit. cmd_chathistory.c resolves what they parse against the network
 * log; these functions only read text.
 *
 * A timestamp is exactly the server-time form the server itself writes,
 * "YYYY-MM-DDThh:mm:ss[.fraction]Z" (UTC, digits only, a real calendar
 * date, seconds 00-59, year 1970 or later): so it names one instant, and
 * formatting that instant gives the same text back (the fraction to
 * milliseconds). Anything else is refused, not normalised: "2024-02-31"
 * is not 2 March.
 */
#ifndef QUN_IRC_CHATHISTORY_REF_H
#define QUN_IRC_CHATHISTORY_REF_H

#include <stdbool.h>
#include <stdint.h>

#define CHATHISTORY_MSGID_MAX 63 /* bytes of a msgid= reference */

enum chathistory_ref_type { CHATHISTORY_REF_STAR, CHATHISTORY_REF_TIME, CHATHISTORY_REF_MSGID };

/* A reference: "*", a timestamp, or a msgid later resolved to a position
 * (found, at, seq are filled by the resolver, not the parser). */
struct chathistory_ref {
    enum chathistory_ref_type type;
    char msgid[CHATHISTORY_MSGID_MAX + 1];
    bool found;      /* msgid: resolved */
    int64_t at, seq; /* time: at only */
};

/* "YYYY-MM-DDThh:mm:ss[.sss]Z" to milliseconds since the epoch, or -1. */
int64_t chathistory_parse_time(const char *s);
/* Parses one reference; "*" only when star_ok, msgid= only when msgid_ok.
 * The keywords are ASCII case-insensitive. false when not a reference. */
bool chathistory_parse_ref(const char *s, bool star_ok, bool msgid_ok, struct chathistory_ref *out);
/* A limit: decimal digits, at least 1, capped at max; -1 when not one. */
int chathistory_parse_limit(const char *s, int max);

#endif
