/*
 * client.h - a connected user, and the nickname registry.
 *
 * A client is created when the transport accepts a connection and lives
 * until the transport reports the close (conn_ops.on_close). Other code refers
 * to clients by pointer only within one callback; anything kept across
 * callbacks (invites, MONITOR, WHOWAS) stores names, not pointers.
 *
 * Registration states (transitions in cmd_register.c):
 *
 *     UNREGISTERED --NICK+USER, CAP not pending, PASS ok--> REGISTERED
 *          |                                                   |
 *          +--- QUIT / timeout / error / KILL --> (closed) <---+
 *
 * Invariants:
 *   1. A client with a nick is in the registry under its folded nick, and
 *      no two clients share a folded nick.
 *   2. client->chans lists exactly the channels that have the client as a
 *      member.
 *   3. client->conn is valid until client_destroy(), which runs from the
 *      transport's on_close and nowhere else.
 */
#ifndef QUN_IRC_CLIENT_H
#define QUN_IRC_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "util/wheel.h"

struct conn;
struct channel;

enum client_state { CLIENT_UNREGISTERED, CLIENT_REGISTERED };

enum client_umode {
    UMODE_INVISIBLE = 1u << 0, /* +i */
    UMODE_WALLOPS = 1u << 1,   /* +w */
    UMODE_OPER = 1u << 2,      /* +o */
    UMODE_BOT = 1u << 3,       /* +B (IRCv3 bot-mode) */
};

/* Why the client is waiting before registration completes. */
enum client_reg_flag {
    REG_HAVE_NICK = 1u << 0,
    REG_HAVE_USER = 1u << 1,
    REG_CAP_PENDING = 1u << 2, /* between CAP LS/REQ and CAP END */
    REG_PASS_OK = 1u << 3,
};

struct client {
    struct conn *conn;
    uint64_t id;
    enum client_state state;
    uint8_t reg_flags;
    uint8_t umodes;
    uint16_t cap_version; /* 0, or the version from CAP LS (302) */
    uint32_t caps;
    uint32_t fanout_mark; /* see client_fanout_begin() */

    char *nick;        /* NULL until NICK */
    char *nick_folded; /* registry key */
    char *nick_wanted; /* before registration: a NICK refused as in use (REGISTER *) */
    char *user;        /* ident from USER, "~"-prefixed */
    char *realname;
    char *host;                   /* displayed host; conn->ip unless changed */
    char *away;                   /* NULL when present */
    char *account;                /* NULL when not logged in; the account's name */
    struct account *acct;         /* referenced while logged in (account/account.h) */
    struct sasl_session *sasl;    /* an AUTHENTICATE exchange in progress (cmd_sasl.c) */
    struct redact_ring *sent_dms; /* recent direct messages it sent (cmd_redact.c) */
    uint64_t guard_ms;            /* nick protection deadline on the loop clock; 0: none */
    int64_t verify_account_id;    /* account registered here, awaiting VERIFY */
    const char *login_mech;       /* how the current login was made (static string) */

    struct channel **chans;
    uint16_t nchans, chans_cap;
    char **monitors; /* folded nicks this client MONITORs */
    uint16_t nmonitors, monitors_cap;

    struct wheel_node timer; /* registration timeout, ping, flood resume */
    uint64_t created_ms;     /* loop clock at accept */
    uint64_t last_read_ms;   /* last line received */
    uint64_t penalty_ms;     /* flood: commands are paid up to this time */
    bool ping_sent;
    bool paused;             /* transport paused for flood penalty */
    uint8_t holds;           /* asynchronous commands still running (server_hold) */
    uint32_t msgs_in_flight; /* its chat messages the log has not committed yet */
    char *deferred_line;     /* a later non-chat line waiting for them (server.c) */
    size_t deferred_len;
    bool flood_exempt;
    time_t signon;
    time_t idle_since; /* last PRIVMSG/NOTICE sent */
};

/* Creates the client for an accepted connection. */
struct client *client_create(struct conn *conn);
/* Removes the client from the registry, channels and monitors, and frees it.
 * Called from the transport's on_close only. quit_reason is sent to others
 * sharing channels when the client was registered. */
void client_destroy(struct client *c, const char *quit_reason);

struct client *client_find(const char *nick); /* by any-case nickname */
/* By id: how asynchronous work (password checks, providers, the store)
 * finds its client again; NULL once the client is gone. */
struct client *client_by_id(uint64_t id);
/* Sets or changes the nick; returns false if it is taken by someone else. */
bool client_set_nick(struct client *c, const char *nick);
/* "nick!user@host" into buf. */
const char *client_prefix(const struct client *c, char *buf, size_t len);
/* Nick, or "*" before NICK. */
const char *client_nick(const struct client *c);

void client_add_channel(struct client *c, struct channel *ch);
void client_remove_channel(struct client *c, struct channel *ch);

/* Iterating the registry (registered and unregistered clients with a nick). */
size_t client_count(void);
size_t client_count_registered(void);
size_t client_count_invisible(void);
size_t client_count_opers(void);
size_t client_max_registered(void);
/* Registrations completed since the start (monotonic, for loopwatch_track). */
const uint64_t *client_registrations_total(void);
void client_note_registered(struct client *c);
void client_note_umode(struct client *c, uint8_t old_modes);
/* Calls fn for every client in the registry. */
void client_foreach(void (*fn)(struct client *c, void *ud), void *ud);

/* Fan-out deduplication: begin a new generation, then client_fanout_take()
 * returns true the first time it sees each client in that generation. */
uint32_t client_fanout_begin(void);
static inline bool client_fanout_take(struct client *c, uint32_t gen)
{
    if (c->fanout_mark == gen)
        return false;
    c->fanout_mark = gen;
    return true;
}

/* Glob match for masks (*, ?), case-folded ASCII. */
bool mask_match(const char *mask, const char *text);

#endif
