/*
 * modeparse.c - channel mode string grammar and mode parameter checks
 * (contract in modeparse.h).
 *
 * Owns: which letters are channel modes and which of them take a parameter,
 * the MODES= limit, list-mode mask normal form and extban syntax, key
 * syntax and limit syntax.
 * Pure functions only: no clients, no channels, no clock.
 */
#include "irc/modeparse.h"

#include <stdio.h>
#include <string.h>

bool modeparse_channel_kind(char mode, enum modeparse_kind *kind)
{
    switch (mode) {
    case 'b':
    case 'e':
    case 'I':
        *kind = MODEPARSE_LIST;
        return true;
    case 'k':
        *kind = MODEPARSE_KEY;
        return true;
    case 'l':
        *kind = MODEPARSE_LIMIT;
        return true;
    case 'i':
    case 'm':
    case 'n':
    case 's':
    case 't':
        *kind = MODEPARSE_FLAG;
        return true;
    case 'q':
    case 'o':
    case 'v':
        *kind = MODEPARSE_PREFIX;
        return true;
    default:
        return false;
    }
}

/* Does this letter, in this direction, consume a parameter? "-k" does when
 * one is there (clients send "-k key" or "-k *"), but may also stand alone;
 * the caller handles that case. */
static bool takes_param(enum modeparse_kind kind, bool add)
{
    switch (kind) {
    case MODEPARSE_LIST:
    case MODEPARSE_KEY:
    case MODEPARSE_PREFIX:
        return true;
    case MODEPARSE_LIMIT:
        return add;
    case MODEPARSE_FLAG:
        return false;
    }
    return false;
}

static void note_unknown(struct modeparse_result *out, char mode)
{
    size_t n = strlen(out->unknown);
    if (strchr(out->unknown, mode) || n >= MODEPARSE_MAX_CHANGES)
        return;
    out->unknown[n] = mode;
    out->unknown[n + 1] = '\0';
}

static void push_change(struct modeparse_result *out, char mode, bool add, enum modeparse_kind kind,
                        const char *arg)
{
    struct modeparse_change *ch = &out->changes[out->nchanges++];
    ch->mode = mode;
    ch->add = add;
    ch->kind = kind;
    ch->arg = arg;
}

void modeparse_channel(const char *modestr, const char *const *args, size_t nargs,
                       struct modeparse_result *out)
{
    memset(out, 0, sizeof *out);
    bool add = true;
    size_t next_arg = 0, nparam = 0;
    for (const char *p = modestr; *p; p++) {
        if (*p == '+' || *p == '-') {
            add = *p == '+';
            continue;
        }
        enum modeparse_kind kind;
        if (!modeparse_channel_kind(*p, &kind)) {
            note_unknown(out, *p);
            continue;
        }
        bool have_arg = next_arg < nargs;
        if (kind == MODEPARSE_LIST && !have_arg) {
            /* "MODE #c b" / "+b": show the list */
            if (!strchr(out->list_queries, *p))
                out->list_queries[strlen(out->list_queries)] = *p;
            continue;
        }
        bool wants = takes_param(kind, add);
        bool optional = kind == MODEPARSE_KEY && !add;
        if (wants && !have_arg && !optional) {
            if (!out->missing_param)
                out->missing_param = *p;
            continue;
        }
        bool uses_arg = wants && have_arg;
        if (out->nchanges == MODEPARSE_MAX_CHANGES || (uses_arg && nparam == MODEPARSE_MAX_PARAM)) {
            /* the parameter goes with its letter: a later letter must
             * not pick up an argument meant for this one */
            out->dropped++;
            if (uses_arg)
                next_arg++;
            continue;
        }
        const char *arg = uses_arg ? args[next_arg++] : NULL;
        if (uses_arg)
            nparam++;
        push_change(out, *p, add, kind, arg);
    }
}

/* Bytes that can never be part of a mask (or a key): they would split or
 * corrupt the line or the comma-separated lists masks appear in. */
static bool has_bad_byte(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == ',')
            return true;
    return false;
}

static bool mask_assemble(char *out, size_t cap, const char *nick, size_t nl, const char *user,
                          size_t ul, const char *host, size_t hl)
{
    if (!nl)
        nick = "*", nl = 1;
    if (!ul)
        user = "*", ul = 1;
    if (!hl)
        host = "*", hl = 1;
    size_t total = nl + 1 + ul + 1 + hl;
    if (total > MODEPARSE_MASK_MAX || total + 1 > cap)
        return false;
    snprintf(out, cap, "%.*s!%.*s@%.*s", (int)nl, nick, (int)ul, user, (int)hl, host);
    return true;
}

/* "a:<glob>": the glob must be there; it is kept as typed. */
static bool account_extban(const char *glob, char *out, size_t cap)
{
    size_t gl = strlen(glob);
    if (!gl || 2 + gl > MODEPARSE_MASK_MAX || 2 + gl + 1 > cap)
        return false;
    snprintf(out, cap, "a:%s", glob);
    return true;
}

static bool hostmask_normalise(const char *in, char *out, size_t cap)
{
    size_t len = strlen(in);
    const char *bang = strchr(in, '!');
    const char *at = strchr(bang ? bang + 1 : in, '@');
    const char *end = in + len;
    if (bang && at)
        return mask_assemble(out, cap, in, (size_t)(bang - in), bang + 1, (size_t)(at - bang - 1),
                             at + 1, (size_t)(end - at - 1));
    if (bang)
        return mask_assemble(out, cap, in, (size_t)(bang - in), bang + 1, (size_t)(end - bang - 1),
                             NULL, 0);
    if (at)
        return mask_assemble(out, cap, NULL, 0, in, (size_t)(at - in), at + 1,
                             (size_t)(end - at - 1));
    /* A lone word: nicknames cannot contain '.' or ':', so one that does
     * names a host (or an IPv4/IPv6 address). */
    if (strpbrk(in, ".:"))
        return mask_assemble(out, cap, NULL, 0, NULL, 0, in, len);
    return mask_assemble(out, cap, in, len, NULL, 0, NULL, 0);
}

static bool is_hex_digit(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* "m:<mask>": the inner mask is an account extban or a hostmask. */
static bool mute_extban(const char *inner, char *out, size_t cap)
{
    char buf[MODEPARSE_MASK_MAX + 1];
    bool ok;
    if (strncmp(inner, "a:", 2) == 0)
        ok = account_extban(inner + 2, buf, sizeof buf);
    else if (inner[0] == '$' || (inner[0] && inner[1] == ':' && !is_hex_digit(inner[0])))
        ok = false; /* no other extban nests inside a mute */
    else
        ok = inner[0] && hostmask_normalise(inner, buf, sizeof buf);
    if (!ok || 2 + strlen(buf) > MODEPARSE_MASK_MAX || 2 + strlen(buf) + 1 > cap)
        return false;
    snprintf(out, cap, "m:%s", buf);
    return true;
}

bool modeparse_ban_mask(const char *in, char *out, size_t cap)
{
    if (!in[0] || in[0] == ':' || has_bad_byte(in))
        return false;
    if (in[0] == '$') /* the older account extban spelling; no other "$" type */
        return strncmp(in, "$a:", 3) == 0 && account_extban(in + 3, out, cap);
    if (in[1] == ':') {
        if (in[0] == 'a')
            return account_extban(in + 2, out, cap);
        if (in[0] == 'm')
            return mute_extban(in + 2, out, cap);
        if (!is_hex_digit(in[0]))
            return false; /* an extban type we do not have */
    }
    return hostmask_normalise(in, out, cap);
}

bool modeparse_key_valid(const char *key)
{
    size_t len = strlen(key);
    return len >= 1 && len <= MODEPARSE_KEY_MAX && key[0] != ':' && !has_bad_byte(key);
}

bool modeparse_limit(const char *s, int *out)
{
    long v = 0;
    if (!*s)
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
        if (v > MODEPARSE_LIMIT_MAX)
            return false;
    }
    if (v < 1)
        return false;
    *out = (int)v;
    return true;
}
