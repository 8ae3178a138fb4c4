/*
 * modeparse.h - the pure half of MODE: reading a channel mode string into a
 * list of requested changes, and checking/normalising mode parameters.
 *
 * Nothing here looks at clients, channels or the network; cmd_mode.c decides
 * who may do what and applies the changes. Keeping the syntax separate lets
 * the unit tests (test_modeparse.c) pin down the odd corners of the grammar
 * without a server.
 *
 * Channel modes Qun knows, by ISUPPORT class (CHANMODES=beI,k,l,imnst and
 * PREFIX=(qov)~@+):
 *
 *   A (list, parameter both ways; no parameter = list query)  b e I
 *   B (parameter both ways; "-k" alone is accepted)            k
 *   C (parameter when set only)                                l
 *   D (no parameter)                                           i m n s t
 *   prefix (a nickname both ways)                              q o v
 *
 * Grammar: a mode string is a sequence of '+' / '-' and mode letters; the
 * direction starts as '+'. Parameters are taken from the following MODE
 * params, in order, by the letters that need one.
 *
 * Limits (and why):
 *   - At most MODEPARSE_MAX_PARAM changes that carry a parameter are taken
 *     from one command (advertised as MODES=); further parameterised letters
 *     are dropped together with their parameter, and counted in
 *     result.dropped so the caller can tell the client.
 *   - At most MODEPARSE_MAX_CHANGES changes in all, so a 500-byte "+iiii..."
 *     cannot make the announcement line overflow.
 */
#ifndef QUN_IRC_MODEPARSE_H
#define QUN_IRC_MODEPARSE_H

#include <stdbool.h>
#include <stddef.h>

/* MODES=: parameterised changes applied per MODE command. */
#define MODEPARSE_MAX_PARAM 6
/* All changes (flags included) taken from one MODE command. */
#define MODEPARSE_MAX_CHANGES 32
/* Longest channel key (KEYLEN=), in bytes. */
#define MODEPARSE_KEY_MAX 32
/* Longest normalised list-mode mask (+b +e +I), in bytes (without NUL). */
#define MODEPARSE_MASK_MAX 200
/* Highest +l value; anything above is refused as a typo, not a policy. */
#define MODEPARSE_LIMIT_MAX 1000000

enum modeparse_kind {
    MODEPARSE_LIST,   /* b e I */
    MODEPARSE_KEY,    /* k */
    MODEPARSE_LIMIT,  /* l */
    MODEPARSE_FLAG,   /* i m n s t */
    MODEPARSE_PREFIX, /* q o v */
};

struct modeparse_change {
    char mode; /* the letter */
    bool add;  /* '+' or '-' */
    enum modeparse_kind kind;
    const char *arg; /* borrowed from the args array; NULL when none */
};

struct modeparse_result {
    struct modeparse_change changes[MODEPARSE_MAX_CHANGES];
    size_t nchanges;
    /* Distinct unknown letters, in order of appearance (NUL-terminated). */
    char unknown[MODEPARSE_MAX_CHANGES + 1];
    /* List mode letters that appeared without a parameter: the client asks
     * for those lists. Distinct letters in order of appearance ("b", "eI"),
     * NUL-terminated; "" when none. */
    char list_queries[4];
    /* First letter that needed a parameter and had none ('k', 'l', 'o'...),
     * or 0. Such letters produce no change. */
    char missing_param;
    /* Changes dropped by the MODEPARSE_MAX_PARAM / _MAX_CHANGES limits. */
    size_t dropped;
};

/* Classifies a channel mode letter; returns false when Qun has no such
 * channel mode. */
bool modeparse_channel_kind(char mode, enum modeparse_kind *kind);

/* Parses modestr with its parameters args[0..nargs) into *out (which is
 * fully overwritten). Never fails: every oddity ends up in a field of out. */
void modeparse_channel(const char *modestr, const char *const *args, size_t nargs,
                       struct modeparse_result *out);

/*
 * Normalises a list-mode mask (+b +e +I) into out (cap bytes incl. NUL).
 *
 * A hostmask becomes "nick!user@host" form; missing parts become "*":
 * "foo" -> "foo!*@*", "foo!bar" -> "foo!bar@*", "bar@host" -> "*!bar@host",
 * "a.b" (a dot or colon and no '!'/'@': a host) -> "*!*@a.b".
 *
 * Extbans (ISUPPORT EXTBAN=,am: no prefix, a type letter, ':'):
 *   "a:<account glob>"  kept as it is; the older "$a:<glob>" spelling is
 *                       accepted and becomes "a:<glob>".
 *   "m:<mask>"          mute; <mask> is a hostmask (normalised as above)
 *                       or an a: extban: "m:bar" -> "m:bar!*@*".
 * A word starting "<letter>:" where the letter is not a hex digit cannot be
 * an IPv6 address, so it is read as an extban and refused unless the type
 * is known; "a:" always means the account extban (write "*!*@a::1" for
 * such a host).
 *
 * Returns false (out unspecified) when the mask cannot be a mask: empty,
 * starting with ':', containing space, comma or control characters, an
 * unknown or empty extban, or longer than MODEPARSE_MASK_MAX once
 * normalised.
 */
bool modeparse_ban_mask(const char *in, char *out, size_t cap);

/* True when key is acceptable for +k: 1..MODEPARSE_KEY_MAX bytes, no space,
 * comma, control character, and not starting with ':'. */
bool modeparse_key_valid(const char *key);

/* Parses a +l value: decimal digits only, 1..MODEPARSE_LIMIT_MAX. */
bool modeparse_limit(const char *s, int *out);

#endif
