/*
 * cmd_mode.c - the MODE command: user modes and channel modes.
 *
 * Owns who may change which mode, how a change is applied to struct client
 * and struct channel, and what the client and the channel are told. The
 * grammar of a mode string (which letter takes a parameter, MODES=) lives in
 * modeparse.c; this file only applies its result.
 *
 * User modes: +i (invisible), +w (wallops) and +B (bot, IRCv3 bot-mode:
 * shown in WHOIS 335, the WHO flags and a "bot" tag on what the user
 * sends) are the user's own to set and clear; +o is given by OPER only and can only be dropped here
 * (-o). Only the user may see or change their own modes (ERR_USERSDONTMATCH).
 *
 * Channel modes (CHANMODES=beI,k,l,imnst, PREFIX=(qov)~@+):
 *   - Anyone may query the modes (the key is shown to members only) and the
 *     ban list; the exception lists (+e, +I) only ops, since they tell who
 *     the ops trust and so whom to impersonate.
 *   - The three list modes share one code path; what their entries mean
 *     (extbans, who is banned or excepted) is channel.c's.
 *   - Changes need op rights (owner or op); giving or taking +q needs the
 *     owner.
 *   - Each requested change is checked on its own: a bad one is answered
 *     with its numeric and the others still apply.
 *
 * Invariant of one MODE command: every change that altered channel state is
 * announced, in order, in exactly ONE "MODE #chan <modes> <args>" line sent
 * to all members (the sender included); a change that altered nothing
 * (+n on a +n channel, +o on an op, -b of an absent mask) is not announced,
 * and if nothing changed nothing is sent. To keep that line within 512
 * bytes, a change whose parameter would not fit is dropped (and the client
 * told so) instead of being applied silently.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "irc/channel.h"
#include "account/account.h"
#include "irc/client.h"
#include "irc/group.h"
#include "irc/logevents.h"
#include "irc/commands.h"
#include "irc/modeparse.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "proto/message.h"
#include "util/alloc.h"

/* ---- user modes -------------------------------------------------------- */

static const char *umode_string(const struct client *c, char *buf)
{
    size_t n = 0;
    buf[n++] = '+';
    if (c->umodes & UMODE_BOT)
        buf[n++] = 'B';
    if (c->umodes & UMODE_INVISIBLE)
        buf[n++] = 'i';
    if (c->umodes & UMODE_OPER)
        buf[n++] = 'o';
    if (c->umodes & UMODE_WALLOPS)
        buf[n++] = 'w';
    buf[n] = '\0';
    return buf;
}

/* Appends one applied change to a "+i-w" string, adding the sign only when
 * the direction changes. out must have room for two more bytes and NUL. */
static void modestr_push(char *out, size_t *n, char *dir, bool add, char mode)
{
    char want = add ? '+' : '-';
    if (*dir != want) {
        out[(*n)++] = want;
        *dir = want;
    }
    out[(*n)++] = mode;
    out[*n] = '\0';
}

/* Applies one user mode letter; returns false for a letter we don't know. */
static bool umode_apply_one(struct client *c, bool add, char mode, bool *denied)
{
    uint8_t bit;
    switch (mode) {
    case 'i':
        bit = UMODE_INVISIBLE;
        break;
    case 'w':
        bit = UMODE_WALLOPS;
        break;
    case 'B':
        bit = UMODE_BOT;
        break;
    case 'o':
        if (add) {
            /* operator status comes from OPER, never from MODE */
            if (!(c->umodes & UMODE_OPER))
                *denied = true;
            return true;
        }
        bit = UMODE_OPER;
        break;
    default:
        return false;
    }
    if (add)
        c->umodes |= bit;
    else
        c->umodes &= (uint8_t)~bit;
    return true;
}

static void mode_user_change(struct client *c, const char *modestr)
{
    uint8_t old = c->umodes;
    bool add = true, unknown = false, denied = false;
    for (const char *p = modestr; *p; p++) {
        if (*p == '+' || *p == '-')
            add = *p == '+';
        else if (!umode_apply_one(c, add, *p, &denied))
            unknown = true;
    }
    if (unknown)
        send_numeric(c, ERR_UMODEUNKNOWNFLAG, ":Unknown MODE flag");
    if (denied)
        send_numeric(c, ERR_NOPRIVILEGES, ":Permission Denied - use OPER to become an operator");
    if (old == c->umodes)
        return;
    client_note_umode(c, old);

    /* announce the net difference, additions first */
    static const struct {
        uint8_t bit;
        char ch;
    } letters[] = {
        {UMODE_BOT, 'B'}, {UMODE_INVISIBLE, 'i'}, {UMODE_OPER, 'o'}, {UMODE_WALLOPS, 'w'}};
    char out[16], dir = 0;
    size_t n = 0;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < sizeof letters / sizeof letters[0]; i++) {
            bool was = old & letters[i].bit, is = c->umodes & letters[i].bit;
            if (was != is && is == (pass == 0))
                modestr_push(out, &n, &dir, is, letters[i].ch);
        }
    char prefix[512];
    struct irc_event ev;
    event_init(&ev, client_prefix(c, prefix, sizeof prefix), "MODE", false);
    event_param(&ev, client_nick(c));
    event_param(&ev, out);
    event_from_client(&ev, c);
    send_event(c, &ev);
}

static void mode_user(struct client *c, struct irc_msg *m)
{
    const char *target = m->params[0];
    struct client *t = client_find(target);
    if (!t || t->state != CLIENT_REGISTERED) {
        send_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel", target);
        return;
    }
    if (t != c) {
        send_numeric(c, ERR_USERSDONTMATCH,
                     m->nparams < 2 ? ":Can't view modes for other users"
                                    : ":Can't change mode for other users");
        return;
    }
    char buf[8];
    if (m->nparams < 2 || !m->params[1][0])
        send_numeric(c, RPL_UMODEIS, "%s", umode_string(c, buf));
    else
        mode_user_change(c, m->params[1]);
}

/* ---- channel modes: queries --------------------------------------------- */

static void mode_channel_query(struct client *c, struct channel *ch, const struct member *me)
{
    char modes[300];
    channel_mode_string(ch, me != NULL, modes, sizeof modes);
    send_numeric(c, RPL_CHANNELMODEIS, "%s %s", ch->name, modes);
    send_numeric(c, RPL_CREATIONTIME, "%s %lld", ch->name, (long long)ch->created);
    if (ch->code) /* the group code goes with the creation numerics */
        send_fail(c, "NOTE", "MODE", "GROUP_CODE", ch->name, group_describe(ch));
}

/* Per list mode: its letter, its channel.lists index and the numerics
 * that show it. */
struct listmode {
    char letter;
    enum chanlist_id id;
    int item, end;
    const char *end_text;
    const char *name; /* for refusals */
};

static const struct listmode listmodes[] = {
    {'b', CHANLIST_BAN, RPL_BANLIST, RPL_ENDOFBANLIST, "End of channel ban list", "ban"},
    {'e', CHANLIST_EXCEPT, RPL_EXCEPTLIST, RPL_ENDOFEXCEPTLIST, "End of channel exception list",
     "ban exception"},
    {'I', CHANLIST_INVEX, RPL_INVEXLIST, RPL_ENDOFINVEXLIST, "End of channel invite exception list",
     "invite exception"},
};

/* modeparse admits only these letters as MODEPARSE_LIST. */
static const struct listmode *listmode_get(char letter)
{
    for (size_t i = 0; i < sizeof listmodes / sizeof listmodes[0]; i++)
        if (listmodes[i].letter == letter)
            return &listmodes[i];
    return &listmodes[0];
}

static void mode_list_show(struct client *c, struct channel *ch, const struct member *me,
                           char letter)
{
    const struct listmode *lm = listmode_get(letter);
    if (lm->id != CHANLIST_BAN && !member_is_op(me)) {
        send_numeric(c, ERR_CHANOPRIVSNEEDED,
                     "%s :You must be a channel operator to see the %s list", ch->name, lm->name);
        return;
    }
    const struct chanlist *l = &ch->lists[lm->id];
    for (size_t i = 0; i < l->n; i++) {
        const struct chanlist_entry *e = &l->items[i];
        send_numeric(c, lm->item, "%s %s %s %lld", ch->name, e->mask, e->setter,
                     (long long)e->when);
    }
    send_numeric(c, lm->end, "%s :%s", ch->name, lm->end_text);
}

/* ---- channel modes: the outgoing announcement ---------------------------- */

/* The changes applied so far, rendered as they will be announced. Params
 * are copied: normalised masks and canonical nicks are not in the input. */
struct mode_out {
    char modes[MODEPARSE_MAX_CHANGES * 2 + 2];
    size_t nmodes;
    char dir;
    char args[MODEPARSE_MAX_PARAM][MODEPARSE_MASK_MAX + 1];
    size_t nargs;
    size_t budget;  /* bytes left for " arg" on the announcement line */
    size_t dropped; /* changes refused because they would not fit */
};

static void mode_out_init(struct mode_out *o, const char *source, const struct channel *ch)
{
    memset(o, 0, sizeof *o);
    /* ":source MODE #chan <modes>" with the longest possible modes part */
    size_t fixed = 1 + strlen(source) + 6 + strlen(ch->name) + 1 + sizeof o->modes;
    o->budget = fixed < IRC_BODY_MAX ? IRC_BODY_MAX - fixed : 0;
}

/* True if a change with this parameter (or none) can still be announced;
 * counts the refusal otherwise. */
static bool mode_out_fits(struct mode_out *o, const char *arg)
{
    if (!arg)
        return true;
    size_t need = strlen(arg) + 1;
    if (need > o->budget || o->nargs == MODEPARSE_MAX_PARAM || need > MODEPARSE_MASK_MAX + 1) {
        o->dropped++;
        return false;
    }
    return true;
}

/* Records an applied change; arg must have passed mode_out_fits(). */
static void mode_out_push(struct mode_out *o, bool add, char mode, const char *arg)
{
    modestr_push(o->modes, &o->nmodes, &o->dir, add, mode);
    if (arg) {
        snprintf(o->args[o->nargs++], sizeof o->args[0], "%s", arg);
        o->budget -= strlen(arg) + 1;
    }
}

static void mode_out_announce(const struct mode_out *o, struct client *c, struct channel *ch,
                              const char *source)
{
    if (!o->nmodes)
        return;
    struct irc_event ev;
    event_init(&ev, source, "MODE", true);
    event_from_client(&ev, c);
    event_param(&ev, ch->name);
    event_param(&ev, o->modes);
    for (size_t i = 0; i < o->nargs; i++)
        event_param(&ev, o->args[i]);
    send_to_channel(ch, &ev, NULL, 0, 0);
}

/* ---- channel modes: applying one change --------------------------------- */

static uint32_t cmode_bit(char mode)
{
    switch (mode) {
    case 'i':
        return CMODE_INVITE;
    case 'm':
        return CMODE_MODERATED;
    case 'n':
        return CMODE_NO_EXTERNAL;
    case 's':
        return CMODE_SECRET;
    default:
        return CMODE_TOPIC_LOCK; /* 't'; modeparse admits no other flag */
    }
}

static uint8_t member_bit(char mode)
{
    return mode == 'q' ? MEMBER_OWNER : mode == 'o' ? MEMBER_OP : MEMBER_VOICE;
}

static void apply_flag(struct channel *ch, const struct modeparse_change *chg, struct mode_out *o)
{
    uint32_t bit = cmode_bit(chg->mode);
    if (chg->add == !!(ch->modes & bit))
        return;
    ch->modes ^= bit;
    mode_out_push(o, chg->add, chg->mode, NULL);
}

/* A client's mode parameter echoed as a middle parameter of a numeric. One
 * that cannot be a middle parameter (empty, with a space, or starting with
 * ':') would vanish from the line or split it, so it is shown as "*". */
static const char *param_shown(const char *arg)
{
    return !arg[0] || arg[0] == ':' || strchr(arg, ' ') ? "*" : arg;
}

static void apply_limit(struct client *c, struct channel *ch, const struct modeparse_change *chg,
                        struct mode_out *o)
{
    if (!chg->add) {
        if (ch->limit > 0) {
            ch->limit = 0;
            mode_out_push(o, false, 'l', NULL);
        }
        return;
    }
    int limit;
    if (!modeparse_limit(chg->arg, &limit)) {
        send_numeric(c, ERR_INVALIDMODEPARAM,
                     "%s l %s :The limit must be a whole number from 1 to %d", ch->name,
                     param_shown(chg->arg), MODEPARSE_LIMIT_MAX);
        return;
    }
    char text[16];
    snprintf(text, sizeof text, "%d", limit);
    if (limit == ch->limit || !mode_out_fits(o, text))
        return;
    ch->limit = limit;
    mode_out_push(o, true, 'l', text);
}

static void apply_key(struct client *c, struct channel *ch, const struct modeparse_change *chg,
                      struct mode_out *o)
{
    if (!chg->add) {
        /* the old key need not be repeated correctly: ops can always clear it */
        if (ch->key && mode_out_fits(o, "*")) {
            free(ch->key);
            ch->key = NULL;
            mode_out_push(o, false, 'k', "*");
        }
        return;
    }
    if (!modeparse_key_valid(chg->arg)) {
        send_numeric(c, ERR_INVALIDKEY,
                     "%s :Key is not well-formed (1 to %d characters, no spaces or commas)",
                     ch->name, MODEPARSE_KEY_MAX);
        return;
    }
    if ((ch->key && strcmp(ch->key, chg->arg) == 0) || !mode_out_fits(o, chg->arg))
        return;
    free(ch->key);
    ch->key = xstrdup(chg->arg);
    mode_out_push(o, true, 'k', chg->arg);
}

/* +q/+o/+v in a group change persistent roles (group.c): the owner
 * appoints managers, managers voice; ownership moves only by TRANSFER. A
 * guest (no account) may be voiced for the session only. Returns true
 * when handled. */
static bool apply_group_role(struct client *c, struct channel *ch, struct client *t,
                             struct member *tm, const struct modeparse_change *chg)
{
    if (!ch->code || (!t->acct && chg->mode == 'v'))
        return false;
    int cur = group_role_of(ch, t), role = cur;
    if (chg->mode == 'q')
        role = chg->add ? ROLE_OWNER : ROLE_MEMBER;
    else if (chg->mode == 'o')
        role = chg->add ? ROLE_MANAGER : (cur == ROLE_MANAGER ? ROLE_MEMBER : cur);
    else
        role = chg->add ? (cur == ROLE_MEMBER ? ROLE_VOICE : cur)
                        : (cur == ROLE_VOICE ? ROLE_MEMBER : cur);
    if (role == cur)
        return true;
    char why[400] = "";
    int actor = group_acting_role(ch, c, why, sizeof why);
    if (actor < group_role_of(ch, c)) { /* a sanction suspends the rights */
        send_fail(c, "FAIL", "MODE", "ROLE_REFUSED", ch->name, why);
        return true;
    }
    if (!group_role_allowed(ch, actor, t->acct, role, why, sizeof why)) {
        send_fail(c, "FAIL", "MODE", "ROLE_REFUSED", ch->name, why);
        return true;
    }
    char prefix[512], detail[128];
    group_apply_role(ch, client_prefix(c, prefix, sizeof prefix), t->acct, role);
    snprintf(detail, sizeof detail, "%s role %d", t->acct->name, role);
    account_audit(c->account ? c->account : c->nick, "group.role", ch->name, detail);
    (void)tm;
    return true;
}

static void apply_prefix(struct client *c, struct channel *ch, const struct member *me,
                         const struct modeparse_change *chg, struct mode_out *o)
{
    if (chg->mode == 'q' && !(me->flags & MEMBER_OWNER) && !ch->code) {
        send_numeric(c, ERR_CHANOPRIVSNEEDED,
                     "%s :You must be the channel owner to give or take +q", ch->name);
        return;
    }
    struct client *t = client_find(chg->arg);
    if (!t || t->state != CLIENT_REGISTERED) {
        send_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel", chg->arg);
        return;
    }
    struct member *tm = channel_member(ch, t);
    if (!tm) {
        send_numeric(c, ERR_USERNOTINCHANNEL, "%s %s :They aren't on that channel", t->nick,
                     ch->name);
        return;
    }
    if (apply_group_role(c, ch, t, tm, chg))
        return;
    uint8_t bit = member_bit(chg->mode);
    if (chg->add == !!(tm->flags & bit) || !mode_out_fits(o, t->nick))
        return;
    tm->flags ^= bit;
    mode_out_push(o, chg->add, chg->mode, t->nick);
}

static void apply_list(struct client *c, struct channel *ch, const struct modeparse_change *chg,
                       struct mode_out *o)
{
    const struct listmode *lm = listmode_get(chg->mode);
    struct chanlist *l = &ch->lists[lm->id];
    char mask[MODEPARSE_MASK_MAX + 1];
    bool normal = modeparse_ban_mask(chg->arg, mask, sizeof mask);
    if (!chg->add) {
        /* a mask stored before a normalisation change can still be removed
         * by its exact text */
        long i = normal ? chanlist_find(l, mask) : -1;
        if (i < 0)
            i = chanlist_find(l, chg->arg);
        if (i >= 0 && mode_out_fits(o, l->items[i].mask)) {
            mode_out_push(o, false, lm->letter, l->items[i].mask);
            chanlist_remove(l, (size_t)i);
        }
        return;
    }
    if (!normal) {
        send_numeric(c, ERR_INVALIDMODEPARAM, "%s %c %s :Invalid %s mask", ch->name, lm->letter,
                     param_shown(chg->arg), lm->name);
        return;
    }
    if (lm->id == CHANLIST_INVEX && strncmp(mask, "m:", 2) == 0) {
        send_numeric(c, ERR_INVALIDMODEPARAM,
                     "%s %c %s :A mute (m:) means nothing in the invite exception list", ch->name,
                     lm->letter, mask);
        return;
    }
    if (chanlist_find(l, mask) >= 0)
        return;
    if (channel_list_total(ch) >= (size_t)server_config->max_list) {
        send_numeric(c, ERR_BANLISTFULL,
                     "%s %c :Channel lists are full (%d bans and exceptions in all)", ch->name,
                     lm->letter, server_config->max_list);
        return;
    }
    if (!mode_out_fits(o, mask))
        return;
    char setter[512];
    chanlist_add(l, mask, client_prefix(c, setter, sizeof setter), time(NULL));
    mode_out_push(o, true, lm->letter, mask);
}

/* ---- channel modes: the command ----------------------------------------- */

static void mode_channel_apply(struct client *c, struct channel *ch, const struct member *me,
                               const struct modeparse_result *r)
{
    char prefix[512];
    client_prefix(c, prefix, sizeof prefix);
    struct mode_out *o = xmalloc(sizeof *o); /* ~1.3 KB: keep it off the stack */
    mode_out_init(o, prefix, ch);
    for (size_t i = 0; i < r->nchanges; i++) {
        const struct modeparse_change *chg = &r->changes[i];
        switch (chg->kind) {
        case MODEPARSE_FLAG:
            apply_flag(ch, chg, o);
            break;
        case MODEPARSE_LIMIT:
            apply_limit(c, ch, chg, o);
            break;
        case MODEPARSE_KEY:
            apply_key(c, ch, chg, o);
            break;
        case MODEPARSE_PREFIX:
            apply_prefix(c, ch, me, chg, o);
            break;
        case MODEPARSE_LIST:
            apply_list(c, ch, chg, o);
            break;
        }
    }
    mode_out_announce(o, c, ch, prefix);
    if (o->nmodes) { /* the modes and their arguments, as relayed */
        char all[600];
        size_t n = (size_t)snprintf(all, sizeof all, "%s", o->modes);
        for (size_t i = 0; i < o->nargs && n < sizeof all; i++)
            n += (size_t)snprintf(all + n, sizeof all - n, " %s", o->args[i]);
        log_group_event("mode", c, ch, true, "modes", all, NULL, NULL);
    }
    if (ch->code && o->nmodes) {
        group_save(ch);
        account_audit(c->account ? c->account : c->nick, "group.mode", ch->name, o->modes);
    }
    size_t dropped = r->dropped + o->dropped;
    if (dropped) {
        char text[200];
        snprintf(text, sizeof text,
                 "%zu mode change(s) were not applied: one MODE command takes at most %d "
                 "changes with a parameter (MODES=%d), and they must fit in one line; "
                 "send the rest in another MODE command",
                 dropped, MODEPARSE_MAX_PARAM, MODEPARSE_MAX_PARAM);
        send_fail(c, "WARN", "MODE", "TOO_MANY_CHANGES", ch->name, text);
    }
    free(o);
}

static void mode_channel(struct client *c, struct irc_msg *m)
{
    const char *target = m->params[0];
    struct channel *ch = channel_find(target);
    if (!ch) {
        send_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel", target);
        return;
    }
    const struct member *me = channel_member(ch, c);
    if (m->nparams < 2) {
        mode_channel_query(c, ch, me);
        return;
    }
    struct modeparse_result r;
    modeparse_channel(m->params[1], &m->params[2], m->nparams - 2, &r);
    for (const char *u = r.unknown; *u; u++)
        send_numeric(c, ERR_UNKNOWNMODE, "%c :is an unknown mode char to me", *u);
    for (const char *q = r.list_queries; *q; q++)
        mode_list_show(c, ch, me, *q);
    if (!r.nchanges && !r.missing_param)
        return;
    if (!member_is_op(me)) {
        send_numeric(c, ERR_CHANOPRIVSNEEDED, "%s :You're not a channel operator", ch->name);
        return;
    }
    if (r.missing_param)
        send_numeric(c, ERR_NEEDMOREPARAMS, "MODE :Not enough parameters for mode %c",
                     r.missing_param);
    mode_channel_apply(c, ch, me, &r);
}

void cmd_mode(struct client *c, struct irc_msg *m)
{
    if (m->params[0][0] == '#')
        mode_channel(c, m);
    else
        mode_user(c, m);
}
