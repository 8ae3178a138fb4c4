/*
 * svc_chanserv.c - the ChanServ service: group management (SPEC §5, rules
 * art. 7-9) for clients that cannot send the raw MODE/KICK/TOPIC commands,
 * reached by "/msg ChanServ <command>" (or the CS / CHANSERV commands).
 *
 * ChanServ is not a client: PRIVMSG to it is handed here by cmd_message.c,
 * answers are NOTICEs from "ChanServ!ChanServ@services.<server>", and
 * changes shown to a group (MODE, KICK, TOPIC) come from that same prefix.
 * Its nick is reserved (cmd_nick refuses it). Each command is one row of
 * cs_commands (name, minimum arguments, where a free-text tail starts, the
 * handler and its help), so HELP and the dispatcher cannot disagree.
 *
 * Rules (the checks live in irc/group.c; this file only asks them):
 *   1. Every command but HELP and INFO needs a login: management is done
 *      by accounts, and each action is an audit record
 *      account_audit(actor account, "group.<action>", group, detail).
 *   2. Owner: SET CATEGORY, OP/DEOP, TRANSFER/CANCEL, DISSOLVE. Managers
 *      (ROLE_MANAGER or ROLE_OWNER): everything else that changes a group.
 *   3. Transient channels (code 0) have nobody accountable: ChanServ
 *      refuses them with a sentence.
 *   4. Members are shown by account name, never by real name.
 *
 * Everything here is synchronous (the group changes are write-through and
 * never wait for the store), so no client is held. Threads: loop only.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "account/account.h"
#include "config/config.h"
#include "credit/credit.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "irc/group.h"
#include "irc/modeparse.h"
#include "irc/send.h"
#include "irc/server.h"
#include "irc/service.h"
#include "irc/services.h"
#include "irc/svc_chanserv_appeal.h"
#include "irc/svc_chanserv_held.h"
#include "proto/message.h"
#include "proto/utf8.h"
#include "util/alloc.h"

#define CS_MUTE_DEFAULT 10    /* minutes */
#define CS_MUTE_MAX     10080 /* a week */

#define cs_source()       service_source(&chanserv_service)
#define cs_notice(c, ...) service_notice(&chanserv_service, (c), __VA_ARGS__)
#define cs_tell(a, ...)   service_tell(&chanserv_service, (a), __VA_ARGS__)

/* ---- finding groups, targets and rights ---- */

/* The group named (or numbered) by arg, or NULL after telling c why. */
static struct channel *cs_group(struct client *c, const char *arg)
{
    struct channel *ch = NULL;
    if (arg[0] >= '0' && arg[0] <= '9' && strspn(arg, "0123456789") == strlen(arg))
        ch = group_find_code(strtoll(arg, NULL, 10));
    else
        ch = channel_find(arg);
    if (!ch) {
        cs_notice(c, "There is no group %.60s: give a channel name (#name) or a group code.", arg);
        return NULL;
    }
    if (!ch->code) {
        cs_notice(c,
                  "%s is a transient channel, not a group: it has no owner or managers, so "
                  "ChanServ cannot act for it.",
                  ch->name);
        return NULL;
    }
    return ch;
}

/* The group, when c is at least need (ROLE_MANAGER or ROLE_OWNER) in it. */
static struct channel *cs_group_role(struct client *c, const char *arg, int need, const char *what)
{
    struct channel *ch = cs_group(c, arg);
    if (!ch)
        return NULL;
    char why[400] = "";
    if (group_acting_role(ch, c, why, sizeof why) < need) {
        if (group_role_of(ch, c) >= need && why[0])
            cs_notice(c, "%s", why); /* a sanction suspends the rights */
        else
            cs_notice(c, "Only %s of %s can %s; ask %s.",
                      need == ROLE_OWNER ? "the owner" : "managers", ch->name, what,
                      need == ROLE_OWNER ? "the owner" : "a manager or the owner");
        return NULL;
    }
    return ch;
}

/* The account named by arg: an online nick's account, else an account
 * name. NULL after telling c why. */
static struct account *cs_account(struct client *c, const char *arg)
{
    struct client *t = client_find(arg);
    if (t && t->acct)
        return t->acct;
    struct account *a = account_find(arg);
    if (!a)
        cs_notice(c,
                  "%.60s is neither a logged-in nick nor an account: roles and mutes are held "
                  "by accounts.",
                  arg);
    return a;
}

/* The account, when it is a member of ch. */
static struct account *cs_member(struct client *c, struct channel *ch, const char *arg)
{
    struct account *a = cs_account(c, arg);
    if (a && !group_member_find(ch, a->id)) {
        cs_notice(c, "%s is not a member of %s.", a->name, ch->name);
        return NULL;
    }
    return a;
}

static void cs_audit(struct client *c, const char *action, struct channel *ch, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void cs_audit(struct client *c, const char *action, struct channel *ch, const char *fmt, ...)
{
    char detail[300], act[48];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(detail, sizeof detail, fmt, ap);
    va_end(ap);
    snprintf(act, sizeof act, "group.%s", action);
    account_audit(c->acct->name, act, ch->name, detail);
}

/* MODE <ch> <modes> [arg] from ChanServ. */
static void cs_mode(struct channel *ch, const char *modes, const char *arg)
{
    struct irc_event ev;
    event_init(&ev, cs_source(), "MODE", true);
    event_param(&ev, ch->name);
    event_param(&ev, modes);
    if (arg)
        event_param(&ev, arg);
    send_to_channel(ch, &ev, NULL, 0, 0);
}

/* Shows a role change of an account on each of its online connections
 * (after the role itself was stored). */
static void cs_show_role(struct channel *ch, const struct account *a, int old_role, int new_role)
{
    uint8_t oldf = group_role_flags(old_role), newf = group_role_flags(new_role);
    static const char letters[] = {[MEMBER_OWNER] = 'q', [MEMBER_OP] = 'o', [MEMBER_VOICE] = 'v'};
    if (oldf == newf)
        return;
    for (size_t i = 0; i < ch->members_cap; i++) {
        struct member *m = &ch->members[i];
        if (!member_used(m) || m->client->acct != a)
            continue;
        m->flags = (uint8_t)((m->flags & ~oldf) | newf);
        char modes[8];
        size_t n = 0;
        if (oldf) {
            modes[n++] = '-';
            modes[n++] = letters[oldf];
        }
        if (newf) {
            modes[n++] = '+';
            modes[n++] = letters[newf];
        }
        modes[n] = '\0';
        struct irc_event ev;
        event_init(&ev, cs_source(), "MODE", true);
        event_param(&ev, ch->name);
        event_param(&ev, modes);
        if (oldf)
            event_param(&ev, m->client->nick);
        if (newf)
            event_param(&ev, m->client->nick);
        send_to_channel(ch, &ev, NULL, 0, 0);
    }
}

/* KICK t out of ch from ChanServ; ends a non-owner's membership. The
 * channel survives (it is a group). */
static void cs_kick(struct channel *ch, struct client *t, const char *reason)
{
    struct irc_event ev;
    event_init(&ev, cs_source(), "KICK", true);
    event_param(&ev, ch->name);
    event_param(&ev, t->nick);
    event_param(&ev, reason);
    ev.trailing = true;
    send_to_channel(ch, &ev, NULL, 0, 0);
    if (ch->code && t->acct && group_role_of(ch, t) != ROLE_OWNER)
        group_member_remove(ch, t->acct->id);
    channel_remove_member(ch, t);
}

/* ---- INFO ---- */

static bool cs_may_see(struct client *c, struct channel *ch)
{
    return group_member_count(ch) >= 100 || (c->acct && group_member_find(ch, c->acct->id)) ||
           channel_member(ch, c);
}

/* "alice, bob" of the members with role (account names only). */
static void cs_names_with_role(struct channel *ch, int role, char *buf, size_t cap)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < ch->ngm && n < cap; i++) {
        const struct account *a = account_find_id(ch->gm[i].account_id);
        if (ch->gm[i].role == role && a)
            n += (size_t)snprintf(buf + n, cap - n, "%s%s", n ? ", " : "", a->name);
    }
}

static void cs_info(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group(c, argv[0]);
    if (!ch)
        return;
    if (!cs_may_see(c, ch)) {
        cs_notice(c,
                  "%s has fewer than 100 members: its details are shown to its members only "
                  "(groups of 100 or more are public, rules art. 8).",
                  ch->name);
        return;
    }
    size_t members = group_member_count(ch);
    char managers[400], when[32];
    const struct account *owner = account_find_id(ch->owner_id);
    struct tm tm;
    gmtime_r(&ch->created, &tm);
    strftime(when, sizeof when, "%Y-%m-%d", &tm);
    cs_notice(c, "Group %s, code %lld, category %s, created %s.", ch->name, (long long)ch->code,
              ch->category ? ch->category : "-", when);
    cs_notice(c, "Size: %s, %zu member%s; activity: %u message(s) in the last 7 days.",
              group_size_name(group_size_class(members)), members, members == 1 ? "" : "s",
              group_activity(ch));
    cs_notice(c, "Join approval: %s.", group_needs_approval(ch) ? "on" : "off");
    cs_names_with_role(ch, ROLE_MANAGER, managers, sizeof managers);
    cs_notice(c, "Owner: %s. Managers: %s.", owner ? owner->name : "?",
              managers[0] ? managers : "none");
}

/* ---- SET ---- */

static void cs_set(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group(c, argv[0]);
    if (!ch)
        return;
    if (argc >= 3 && strcasecmp(argv[1], "CATEGORY") == 0) {
        if (group_acting_role(ch, c, NULL, 0) != ROLE_OWNER) {
            cs_notice(c, "Only the owner of %s changes its category.", ch->name);
        } else if (!config_category_valid(server_config, argv[2])) {
            char list[300];
            size_t n = 0;
            list[0] = '\0';
            for (char **p = server_config->group_categories; p && *p && n < sizeof list; p++)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", n ? ", " : "", *p);
            cs_notice(c, "%.40s is not a category here; choose one of: %s.", argv[2], list);
        } else {
            cs_audit(c, "category", ch, "%s -> %s", ch->category ? ch->category : "-", argv[2]);
            group_set_category(ch, argv[2]);
            cs_notice(c, "%s is now in category %s.", ch->name, ch->category);
        }
        return;
    }
    bool on = argc >= 3 && strcasecmp(argv[2], "ON") == 0;
    if (argc < 3 || strcasecmp(argv[1], "APPROVAL") != 0 ||
        (!on && strcasecmp(argv[2], "OFF") != 0)) {
        cs_notice(c, "Syntax: SET <#group> CATEGORY <category> | SET <#group> APPROVAL ON|OFF");
        return;
    }
    if (group_acting_role(ch, c, NULL, 0) < ROLE_MANAGER) {
        cs_notice(c, "Only managers of %s switch join approval.", ch->name);
        return;
    }
    ch->approval = on;
    group_save(ch);
    cs_audit(c, "approval", ch, "%s", on ? "on" : "off");
    cs_notice(c, "Join approval for %s is now %s.%s", ch->name, on ? "on" : "off",
              on ? " New members wait for a manager: REQUESTS lists them." : "");
}

/* ---- roles: OP, DEOP, VOICE, DEVOICE ---- */

static void cs_role(struct client *c, char **argv, bool add, int role)
{
    struct channel *ch = cs_group(c, argv[0]);
    struct account *a = ch ? cs_member(c, ch, argv[1]) : NULL;
    if (!a)
        return;
    int cur = group_member_find(ch, a->id)->role;
    int want =
        add ? (cur >= role && cur != ROLE_OWNER ? cur : role) : (cur == role ? ROLE_MEMBER : cur);
    if (want == cur && cur != ROLE_OWNER) {
        cs_notice(c, "%s %s %s of %s.", a->name, add ? "already is at least a" : "is not a",
                  role == ROLE_MANAGER ? "manager" : "voiced member", ch->name);
        return;
    }
    char why[400] = "";
    int actor = group_acting_role(ch, c, why, sizeof why);
    if (actor < group_role_of(ch, c)) {
        cs_notice(c, "%s", why); /* a sanction suspends the rights */
        return;
    }
    if (!group_role_allowed(ch, actor, a, want, why, sizeof why)) {
        cs_notice(c, "%s", why);
        return;
    }
    group_apply_role(ch, cs_source(), a, want);
    static const char *const names[] = {"member", "voiced member", "manager", "owner"};
    cs_audit(c,
             add ? (role == ROLE_MANAGER ? "op" : "voice")
                 : (role == ROLE_MANAGER ? "deop" : "devoice"),
             ch, "%s: %s -> %s", a->name, names[cur], names[want]);
    cs_notice(c, "%s is now a %s of %s.", a->name, names[want], ch->name);
    if (a != c->acct)
        cs_tell(a, "%s made you a %s of %s.", c->acct->name, names[want], ch->name);
}

static void cs_op(struct client *c, int argc, char **argv)
{
    cs_role(c, argv, true, ROLE_MANAGER);
}

static void cs_deop(struct client *c, int argc, char **argv)
{
    cs_role(c, argv, false, ROLE_MANAGER);
}

static void cs_voice(struct client *c, int argc, char **argv)
{
    cs_role(c, argv, true, ROLE_VOICE);
}

static void cs_devoice(struct client *c, int argc, char **argv)
{
    cs_role(c, argv, false, ROLE_VOICE);
}

/* ---- TRANSFER, ACCEPT, CANCEL ---- */

/* May a own one more group (and manage)? why gets the reason. */
static bool cs_may_own(const struct account *a, char *why, size_t len)
{
    char sub[200];
    if (!group_may_manage(a, sub, sizeof sub)) {
        snprintf(why, len, "%s cannot own a group: %s", a->name, sub);
        return false;
    }
    const struct config_credit_level *lv = credit_level(a);
    if (a->groups_owned >= lv->groups_owned) {
        snprintf(why, len,
                 "%s cannot own another group: credit level %c allows owning %d and %s owns %d.",
                 a->name, lv->level, lv->groups_owned, a->name, a->groups_owned);
        return false;
    }
    return true;
}

static void cs_transfer(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_OWNER, "transfer its ownership");
    struct account *a = ch ? cs_member(c, ch, argv[1]) : NULL;
    if (!a)
        return;
    char why[300];
    if (a == c->acct) {
        cs_notice(c, "You already own %s.", ch->name);
        return;
    }
    if (!cs_may_own(a, why, sizeof why)) {
        cs_notice(c, "%s", why);
        return;
    }
    group_transfer_offer(ch, a->id);
    cs_audit(c, "transfer_offer", ch, "to %s", a->name);
    cs_notice(c,
              "Ownership of %s is offered to %s; it moves when they accept (/msg ChanServ ACCEPT "
              "%s). CANCEL %s withdraws the offer.",
              ch->name, a->name, ch->name, ch->name);
    cs_tell(a,
            "%s offers you the ownership of %s. The owner is responsible for the group: to take "
            "it, /msg ChanServ ACCEPT %s",
            c->acct->name, ch->name, ch->name);
}

static void cs_accept(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group(c, argv[0]);
    if (!ch)
        return;
    if (!ch->transfer_to || ch->transfer_to != c->acct->id) {
        cs_notice(c, "No ownership offer of %s is waiting for your account.", ch->name);
        return;
    }
    char why[300];
    if (!cs_may_own(c->acct, why, sizeof why)) {
        cs_notice(c, "%s", why);
        return;
    }
    struct account *old = account_find_id(ch->owner_id);
    const struct group_member *me = group_member_find(ch, c->acct->id);
    int my_old_role = me ? me->role : ROLE_MEMBER;
    group_transfer_complete(ch, c->acct);
    if (old)
        cs_show_role(ch, old, ROLE_OWNER, ROLE_MANAGER);
    cs_show_role(ch, c->acct, my_old_role, ROLE_OWNER);
    cs_audit(c, "transfer", ch, "from %s to %s", old ? old->name : "?", c->acct->name);
    cs_notice(c, "You are now the owner of %s.", ch->name);
    if (old)
        cs_tell(old, "%s accepted the ownership of %s; you are now one of its managers.",
                c->acct->name, ch->name);
}

static void cs_cancel(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_OWNER, "cancel an ownership offer");
    if (!ch)
        return;
    if (!ch->transfer_to) {
        cs_notice(c, "No ownership offer of %s is pending.", ch->name);
        return;
    }
    struct account *to = account_find_id(ch->transfer_to);
    group_transfer_offer(ch, 0);
    cs_audit(c, "transfer_cancel", ch, "offer to %s withdrawn", to ? to->name : "?");
    cs_notice(c, "The ownership offer of %s is withdrawn.", ch->name);
    if (to)
        cs_tell(to, "The offer of the ownership of %s was withdrawn.", ch->name);
}

/* ---- DISSOLVE ---- */

static void cs_dissolve(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_OWNER, "dissolve it");
    if (!ch)
        return;
    if (channel_find(argv[1]) != ch) {
        cs_notice(c, "To dissolve %s, give its name twice: DISSOLVE %s %s", ch->name, ch->name,
                  ch->name);
        return;
    }
    char name[256], reason[300];
    snprintf(name, sizeof name, "%s", ch->name);
    snprintf(reason, sizeof reason, "The group was dissolved by its owner %s", c->acct->name);
    cs_audit(c, "dissolve", ch, "code %lld, %zu members", (long long)ch->code, ch->ngm);
    group_dissolve(ch); /* transient now: it goes with its last member */
    size_t n = ch->nmembers;
    if (n == 0) {
        channel_destroy(ch);
    } else {
        struct client **who = xcalloc(n, sizeof *who);
        size_t k = 0;
        for (size_t i = 0; i < ch->members_cap && k < n; i++)
            if (member_used(&ch->members[i]))
                who[k++] = ch->members[i].client;
        for (size_t i = 0; i < k; i++)
            cs_kick(ch, who[i], reason); /* the last one destroys ch */
        free(who);
    }
    cs_notice(c, "%s is dissolved; its code is never reused.", name);
}

/* ---- MUTE, UNMUTE, MUTEALL, UNMUTEALL ---- */

/* A manager may act on members below them; the owner on everyone else. */
static bool cs_outranks(struct client *c, struct channel *ch, const struct account *a,
                        const char *what)
{
    const struct group_member *tm = group_member_find(ch, a->id);
    int mine = group_role_of(ch, c);
    if (tm && tm->role >= ROLE_MANAGER && (tm->role == ROLE_OWNER || mine != ROLE_OWNER)) {
        cs_notice(c, "%s is %s of %s: you cannot %s them.", a->name,
                  tm->role == ROLE_OWNER ? "the owner" : "a manager", ch->name, what);
        return false;
    }
    return true;
}

/* "30" (minutes), "90s", "10m", "2h", "1d" into seconds; 0 if malformed
 * or outside 1 second .. CS_MUTE_MAX minutes. */
static long cs_duration(const char *text)
{
    char *end = NULL;
    long n = strtol(text, &end, 10);
    long unit = 60;
    if (end && *end && !end[1]) {
        unit = *end == 's' ? 1 : *end == 'm' ? 60 : *end == 'h' ? 3600 : *end == 'd' ? 86400 : 0;
        end++;
    }
    if (!end || *end || unit == 0 || n < 1 || n > (long)CS_MUTE_MAX * 60 / unit)
        return 0;
    return n * unit;
}

/* "10 minutes", "90 seconds" for sentences. */
static const char *cs_duration_text(long seconds, char *buf, size_t len)
{
    if (seconds % 60)
        snprintf(buf, len, "%ld second%s", seconds, seconds == 1 ? "" : "s");
    else
        snprintf(buf, len, "%ld minute%s", seconds / 60, seconds == 60 ? "" : "s");
    return buf;
}

static void cs_mute(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "mute members");
    struct account *a = ch ? cs_member(c, ch, argv[1]) : NULL;
    if (!a || !cs_outranks(c, ch, a, "mute"))
        return;
    long seconds = CS_MUTE_DEFAULT * 60L;
    if (argc > 2 && !(seconds = cs_duration(argv[2]))) {
        cs_notice(c,
                  "Give the time as minutes (30) or with a unit (90s, 10m, 2h, 1d), at most a "
                  "week; the default is %d minutes.",
                  CS_MUTE_DEFAULT);
        return;
    }
    char how_long[48];
    cs_duration_text(seconds, how_long, sizeof how_long);
    group_member_set_mute(ch, a->id, (int64_t)time(NULL) + seconds);
    cs_audit(c, "mute", ch, "%s for %s", a->name, how_long);
    cs_notice(c, "%s is muted in %s for %s.", a->name, ch->name, how_long);
    cs_tell(a, "A manager of %s (%s) muted you there for %s.", ch->name, c->acct->name, how_long);
}

static void cs_unmute(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "unmute members");
    struct account *a = ch ? cs_member(c, ch, argv[1]) : NULL;
    if (!a)
        return;
    if (group_member_find(ch, a->id)->muted_until <= (int64_t)time(NULL)) {
        cs_notice(c, "%s is not muted in %s.", a->name, ch->name);
        return;
    }
    group_member_set_mute(ch, a->id, 0);
    cs_audit(c, "unmute", ch, "%s", a->name);
    cs_notice(c, "%s may speak in %s again.", a->name, ch->name);
    cs_tell(a, "You may speak in %s again (unmuted by %s).", ch->name, c->acct->name);
}

static void cs_muteall_common(struct client *c, char **argv, bool on)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "mute the whole group");
    if (!ch)
        return;
    if (!!(ch->modes & CMODE_MODERATED) == on) {
        cs_notice(c, "%s is %s.", ch->name,
                  on ? "already muted (+m)" : "not muted as a whole (no +m)");
        return;
    }
    if (on)
        ch->modes |= CMODE_MODERATED;
    else
        ch->modes &= ~(uint32_t)CMODE_MODERATED;
    group_save(ch);
    cs_mode(ch, on ? "+m" : "-m", NULL);
    cs_audit(c, on ? "muteall" : "unmuteall", ch, "%s", on ? "+m" : "-m");
    cs_notice(c,
              on ? "%s is muted: only managers and voiced members speak (+m)."
                 : "%s is unmuted: every member may speak again.",
              ch->name);
}

static void cs_muteall(struct client *c, int argc, char **argv)
{
    cs_muteall_common(c, argv, true);
}

static void cs_unmuteall(struct client *c, int argc, char **argv)
{
    cs_muteall_common(c, argv, false);
}

/* ---- KICK, BAN, UNBAN, TOPIC ---- */

static void cs_kick_cmd(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "kick");
    if (!ch)
        return;
    struct client *t = client_find(argv[1]);
    if (!t || !channel_member(ch, t)) {
        cs_notice(c, "%.60s is not in %s right now.", argv[1], ch->name);
        return;
    }
    if (t->acct && !cs_outranks(c, ch, t->acct, "kick"))
        return;
    char reason[400];
    size_t max = (size_t)server_config->kick_length;
    const char *r = argc > 2 ? argv[2] : "Removed by a manager";
    size_t rl = utf8_truncate(r, strlen(r), max);
    snprintf(reason, sizeof reason, "%.*s (%s)", (int)rl, r, c->acct->name);
    cs_audit(c, "kick", ch, "%s%s%s: %s", t->nick, t->acct ? " account " : "",
             t->acct ? t->acct->name : "", reason);
    cs_notice(c, "%s was removed from %s.", t->nick, ch->name);
    cs_kick(ch, t, reason);
}

/* The ban mask for arg: "a:<account>" for a logged-in nick, "*!*@host"
 * for another online nick, else arg as a mask. false after telling c. */
static bool cs_ban_mask(struct client *c, const char *arg, char *mask, size_t cap)
{
    struct client *t = client_find(arg);
    char raw[300];
    if (t && t->acct)
        snprintf(raw, sizeof raw, "a:%s", t->acct->name);
    else if (t)
        snprintf(raw, sizeof raw, "*!*@%s", t->host);
    else
        snprintf(raw, sizeof raw, "%s", arg);
    if (!modeparse_ban_mask(raw, mask, cap)) {
        cs_notice(
            c, "%.60s is neither an online nick nor a ban mask (nick!user@host, or a:<account>).",
            arg);
        return false;
    }
    return true;
}

static void cs_ban(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "ban");
    char mask[MODEPARSE_MASK_MAX + 1];
    if (!ch || !cs_ban_mask(c, argv[1], mask, sizeof mask))
        return;
    struct client *t = client_find(argv[1]);
    if (t && t->acct && !cs_outranks(c, ch, t->acct, "ban"))
        return;
    struct chanlist *l = &ch->lists[CHANLIST_BAN];
    if (chanlist_find(l, mask) >= 0) {
        cs_notice(c, "%s is already banned from %s.", mask, ch->name);
        return;
    }
    if (channel_list_total(ch) >= (size_t)server_config->max_list) {
        cs_notice(c, "The ban lists of %s are full (%d entries in all): UNBAN an old one first.",
                  ch->name, server_config->max_list);
        return;
    }
    char setter[512];
    chanlist_add(l, mask, client_prefix(c, setter, sizeof setter), time(NULL));
    group_save(ch);
    cs_mode(ch, "+b", mask);
    cs_audit(c, "ban", ch, "%s", mask);
    cs_notice(c, "%s is banned from %s.", mask, ch->name);
    /* whoever the ban matches leaves now (collected first: kicks change the table) */
    struct client **who = xcalloc(ch->nmembers + 1, sizeof *who);
    size_t k = 0;
    for (size_t i = 0; i < ch->members_cap; i++) {
        struct member *m = &ch->members[i];
        if (member_used(m) && !(m->flags & MEMBER_OWNER) && channel_is_banned(ch, m->client))
            who[k++] = m->client;
    }
    char reason[300];
    snprintf(reason, sizeof reason, "Banned (%s)", c->acct->name);
    for (size_t i = 0; i < k; i++)
        cs_kick(ch, who[i], reason);
    free(who);
}

static void cs_unban(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "unban");
    char mask[MODEPARSE_MASK_MAX + 1];
    if (!ch || !cs_ban_mask(c, argv[1], mask, sizeof mask))
        return;
    struct chanlist *l = &ch->lists[CHANLIST_BAN];
    long i = chanlist_find(l, mask);
    if (i < 0)
        i = chanlist_find(l, argv[1]);
    if (i < 0) {
        cs_notice(c, "%s is not banned from %s.", mask, ch->name);
        return;
    }
    char removed[MODEPARSE_MASK_MAX + 1];
    snprintf(removed, sizeof removed, "%s", l->items[i].mask);
    chanlist_remove(l, (size_t)i);
    group_save(ch);
    cs_mode(ch, "-b", removed);
    cs_audit(c, "unban", ch, "%s", removed);
    cs_notice(c, "%s is no longer banned from %s.", removed, ch->name);
}

static void cs_topic(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "change its topic");
    if (!ch)
        return;
    const char *text = argv[1];
    size_t len = utf8_truncate(text, strlen(text), (size_t)server_config->topic_length);
    char prefix[512];
    free(ch->topic);
    free(ch->topic_setter);
    ch->topic = xstrndup(text, len);
    ch->topic_setter = xstrdup(client_prefix(c, prefix, sizeof prefix));
    ch->topic_time = time(NULL);
    group_save(ch);
    struct irc_event ev;
    event_init(&ev, cs_source(), "TOPIC", true);
    event_param(&ev, ch->name);
    event_param(&ev, ch->topic);
    ev.trailing = true;
    send_to_channel(ch, &ev, NULL, 0, 0);
    cs_audit(c, "topic", ch, "%s", ch->topic);
    cs_notice(c, "The topic of %s is set.", ch->name);
}

/* ---- REQUESTS, APPROVE, DENY ---- */

static void cs_age(int64_t secs, char *buf, size_t cap)
{
    if (secs < 120)
        snprintf(buf, cap, "%lld second(s)", (long long)secs);
    else if (secs < 7200)
        snprintf(buf, cap, "%lld minutes", (long long)(secs / 60));
    else if (secs < 172800)
        snprintf(buf, cap, "%lld hours", (long long)(secs / 3600));
    else
        snprintf(buf, cap, "%lld days", (long long)(secs / 86400));
}

static void cs_requests(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "see its join requests");
    if (!ch)
        return;
    if (!ch->nreq) {
        cs_notice(c, "No join requests are waiting for %s.", ch->name);
        return;
    }
    cs_notice(c, "%zu join request(s) for %s, oldest first:", ch->nreq, ch->name);
    int64_t now = (int64_t)time(NULL);
    for (size_t i = 0; i < ch->nreq && i < 100; i++) {
        const struct account *a = account_find_id(ch->req[i].account_id);
        char age[40];
        cs_age(now - ch->req[i].requested_at, age, sizeof age);
        cs_notice(c, "  %s, asked %s ago", a ? a->name : "(dropped account)", age);
    }
    cs_notice(c, "APPROVE %s <account> or DENY %s <account> [reason] answers one.", ch->name,
              ch->name);
}

/* The requesting account, when it has a pending request for ch. */
static struct account *cs_requester(struct client *c, struct channel *ch, const char *arg)
{
    struct account *a = account_find(arg);
    if (!a) {
        struct client *t = client_find(arg);
        a = t ? t->acct : NULL;
    }
    bool pending = false;
    for (size_t i = 0; a && i < ch->nreq; i++)
        pending |= ch->req[i].account_id == a->id;
    if (!pending) {
        cs_notice(c, "No join request from %.60s is waiting for %s (REQUESTS lists them).", arg,
                  ch->name);
        return NULL;
    }
    return a;
}

struct cs_enter {
    const struct account *a;
    struct channel *ch;
};

static void cs_enter_one(struct client *c, void *ud)
{
    struct cs_enter *e = ud;
    if (c->acct == e->a && c->state == CLIENT_REGISTERED && !channel_member(e->ch, c) &&
        c->nchans < server_config->max_channels)
        join_enter(c, e->ch, 0, false);
}

static void cs_approve(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "approve joins");
    struct account *a = ch ? cs_requester(c, ch, argv[1]) : NULL;
    if (!a)
        return;
    const struct config_credit_level *lv = credit_level(a);
    if (a->groups_joined >= lv->groups_joined) {
        cs_notice(c, "%s already belongs to %d groups, the most credit level %c allows.", a->name,
                  a->groups_joined, lv->level);
        return;
    }
    char why[300];
    if (!group_has_room(ch, why, sizeof why)) {
        cs_notice(c, "%s", why);
        return;
    }
    group_request_remove(ch, a->id);
    group_member_add(ch, a, ROLE_MEMBER);
    cs_audit(c, "approve", ch, "%s", a->name);
    cs_notice(c, "%s is now a member of %s.", a->name, ch->name);
    cs_tell(a, "Your request to join %s was approved by %s.", ch->name, c->acct->name);
    struct cs_enter e = {a, ch};
    client_foreach(cs_enter_one, &e);
}

static void cs_deny(struct client *c, int argc, char **argv)
{
    struct channel *ch = cs_group_role(c, argv[0], ROLE_MANAGER, "deny joins");
    struct account *a = ch ? cs_requester(c, ch, argv[1]) : NULL;
    if (!a)
        return;
    group_request_remove(ch, a->id);
    const char *reason = argc > 2 ? argv[2] : NULL;
    cs_audit(c, "deny", ch, "%s%s%s", a->name, reason ? ": " : "", reason ? reason : "");
    cs_notice(c, "The request of %s to join %s is denied.", a->name, ch->name);
    cs_tell(a, "Your request to join %s was denied by %s%s%.300s", ch->name, c->acct->name,
            reason ? ": " : ".", reason ? reason : "");
}

struct cs_notify {
    struct channel *ch;
    const char *text;
};

static void cs_notify_one(struct client *c, void *ud)
{
    struct cs_notify *n = ud;
    if (c->acct && c->state == CLIENT_REGISTERED && group_role_of(n->ch, c) >= ROLE_MANAGER)
        cs_notice(c, "%s", n->text);
}

void chanserv_request_notify(struct channel *ch, struct client *requester)
{
    if (!ch->code || !requester->acct)
        return;
    char text[460];
    const char *acct = requester->acct->name;
    snprintf(text, sizeof text,
             "%s (account %s) asks to join %s: /msg ChanServ APPROVE %s %s, or DENY %s %s "
             "[reason].",
             requester->nick, acct, ch->name, ch->name, acct, ch->name, acct);
    struct cs_notify n = {ch, text};
    client_foreach(cs_notify_one, &n);
}

/* ---- the command table ---- */

static const struct svc_cmd cs_commands[] = {
    {"INFO", 1, -1, false, cs_info, "INFO <#group|code>",
     "Shows a group's code, category, size, activity, approval switch, owner and managers. "
     "Groups of 100 or more members are public; smaller ones are shown to members."},
    {"SET", 3, -1, true, cs_set, "SET <#group> CATEGORY <category> | SET <#group> APPROVAL ON|OFF",
     "The owner sets the category (one of the server's list); managers switch join approval."},
    {"OP", 2, -1, true, cs_op, "OP <#group> <nick|account>",
     "The owner appoints a member as manager (@); a manager needs a verified identity and a "
     "credit level that allows managing."},
    {"DEOP", 2, -1, true, cs_deop, "DEOP <#group> <nick|account>",
     "The owner removes a manager; they stay a member."},
    {"VOICE", 2, -1, true, cs_voice, "VOICE <#group> <nick|account>",
     "A manager gives a member voice (+): they speak while the group is muted."},
    {"DEVOICE", 2, -1, true, cs_devoice, "DEVOICE <#group> <nick|account>",
     "A manager takes a member's voice away."},
    {"TRANSFER", 2, -1, true, cs_transfer, "TRANSFER <#group> <account>",
     "The owner offers the ownership to a member qualified to own it; it moves when they ACCEPT, "
     "and the old owner becomes a manager."},
    {"ACCEPT", 1, -1, true, cs_accept, "ACCEPT <#group>",
     "Takes the ownership offered to your account (you become responsible for the group)."},
    {"CANCEL", 1, -1, true, cs_cancel, "CANCEL <#group>",
     "The owner withdraws a pending ownership offer."},
    {"DISSOLVE", 2, -1, true, cs_dissolve, "DISSOLVE <#group> <#group>",
     "The owner ends the group: everyone leaves it and its code is never reused. Give the name "
     "twice to confirm."},
    {"MUTE", 2, -1, true, cs_mute, "MUTE <#group> <nick|account> [time]",
     "A manager stops a member speaking for a time: minutes (30) or with a unit (90s, 10m, 2h, "
     "1d); the default is 10 minutes, at most a week."},
    {"UNMUTE", 2, -1, true, cs_unmute, "UNMUTE <#group> <nick|account>",
     "A manager ends a member's mute early."},
    {"MUTEALL", 1, -1, true, cs_muteall, "MUTEALL <#group>",
     "A manager mutes the whole group (+m): only managers and voiced members speak."},
    {"UNMUTEALL", 1, -1, true, cs_unmuteall, "UNMUTEALL <#group>",
     "A manager ends the group-wide mute (-m)."},
    {"KICK", 2, 2, true, cs_kick_cmd, "KICK <#group> <nick> [reason]",
     "A manager removes someone from the group (never the owner); they may ask to come back."},
    {"BAN", 2, -1, true, cs_ban, "BAN <#group> <nick|mask>",
     "A manager bans a user (a logged-in nick is banned by account, a:<account>) or a mask; a "
     "banned user present is removed."},
    {"UNBAN", 2, -1, true, cs_unban, "UNBAN <#group> <nick|mask>", "A manager lifts a ban."},
    {"TOPIC", 2, 1, true, cs_topic, "TOPIC <#group> <text>", "A manager sets the group's topic."},
    {"REQUESTS", 1, -1, true, cs_requests, "REQUESTS <#group>",
     "A manager lists the join requests waiting for approval, oldest first."},
    {"APPROVE", 2, -1, true, cs_approve, "APPROVE <#group> <account>",
     "A manager accepts a join request: the account becomes a member and, if online, is put in "
     "the group."},
    {"DENY", 2, 2, true, cs_deny, "DENY <#group> <account> [reason]",
     "A manager refuses a join request; the requester is told, with the reason if given."},
    {"HELD", 1, -1, true, cs_held, "HELD <#group>",
     "A manager lists the messages an automatic rule held for review, oldest first, with their "
     "numbers."},
    {"RELEASE", 1, -1, true, cs_release, "RELEASE <number>",
     "A manager delivers a held message to the group in its author's name (logged first)."},
    {"REJECT", 1, -1, true, cs_reject, "REJECT <number>",
     "A manager drops a held message; its rule's consequence (a credit deduction) applies to "
     "the author."},
    {"APPEAL", 2, 1, true, cs_appeal, "APPEAL <sanction id> <text>",
     "Contests a sanction on you, or on a group you own: a platform moderator other than its "
     "author decides; if upheld, the sanction is lifted (and its credit deduction offset). One "
     "open appeal per sanction."},
    {"APPEALS", 0, -1, true, cs_appeals, "APPEALS",
     "Lists your appeals against sanctions and their outcome (open, upheld, rejected) with the "
     "moderator's note."},
};

const struct service chanserv_service = {
    .nick = "ChanServ",
    .about = "ChanServ runs groups for their owners and managers, and takes appeals against "
             "sanctions.",
    .footer = "Every action is recorded with your account. HELP <command> explains one.",
    .cmds = cs_commands,
    .ncmds = sizeof cs_commands / sizeof cs_commands[0],
};

void cmd_chanserv(struct client *c, struct irc_msg *m)
{
    service_command(&chanserv_service, c, m);
}
