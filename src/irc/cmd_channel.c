/*
 * cmd_channel.c - JOIN, PART, TOPIC, NAMES, LIST, KICK and INVITE.
 *
 * Each handler checks first and changes state after: a refusal leaves the
 * channel exactly as it was. Announcements are sent before a member is
 * removed (PART, KICK) so that the departing member sees them too, and
 * after a member is added (JOIN) for the same reason.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/commands.h"
#include "account/account.h"
#include "irc/group.h"
#include "irc/logevents.h"
#include "irc/login.h"
#include "irc/services.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "proto/casemap.h"
#include "proto/message.h"
#include "proto/utf8.h"
#include "util/alloc.h"

/* ---- NAMES ------------------------------------------------------------- */

/* The RPL_NAMREPLY lines of one channel (none for a secret channel c is
 * not in). */
static void names_lines(struct client *c, struct channel *ch)
{
    bool member = channel_member(ch, c) != NULL;
    if ((ch->modes & CMODE_SECRET) && !member)
        return;
    char symbol = (ch->modes & CMODE_SECRET) ? '@' : '=';
    char head[300];
    int hl = snprintf(head, sizeof head, ":%s %03d %s %c %s :", server_name(), RPL_NAMREPLY,
                      client_nick(c), symbol, ch->name);
    char line[600];
    size_t len = 0;
    bool all = c->caps & CAP_MULTI_PREFIX, uhnames = c->caps & CAP_USERHOST_IN_NAMES;
    for (size_t i = 0; i < ch->members_cap; i++) {
        struct member *m = &ch->members[i];
        if (!member_used(m))
            continue;
        if (!member && (m->client->umodes & UMODE_INVISIBLE))
            continue;
        char pfx[8], entry[400];
        member_prefix(m->flags, all, pfx);
        if (uhnames)
            snprintf(entry, sizeof entry, "%s%s!%s@%s", pfx, m->client->nick, m->client->user,
                     m->client->host);
        else
            snprintf(entry, sizeof entry, "%s%s", pfx, m->client->nick);
        size_t el = strlen(entry);
        if (len && (size_t)hl + len + 1 + el > IRC_BODY_MAX) {
            send_line(c, "%s%.*s", head, (int)len, line);
            len = 0;
        }
        if (len)
            line[len++] = ' ';
        memcpy(line + len, entry, el);
        len += el;
    }
    if (len)
        send_line(c, "%s%.*s", head, (int)len, line);
}

void names_send(struct client *c, struct channel *ch)
{
    names_lines(c, ch);
    send_numeric(c, RPL_ENDOFNAMES, "%s :End of /NAMES list", ch->name);
}

/* NAMES #a,#b (TARGMAX=NAMES:<limits.max_targets>): the names of each
 * channel in turn, then ONE RPL_ENDOFNAMES naming the list as asked, so a
 * command always gets exactly one end (as RFC 1459 servers did). Unknown
 * and secret channels add no lines. */
void cmd_names(struct client *c, struct irc_msg *m)
{
    if (m->nparams < 1 || !m->params[0][0]) {
        send_numeric(c, RPL_ENDOFNAMES, "* :End of /NAMES list");
        return;
    }
    char asked[512];
    snprintf(asked, sizeof asked, "%s", m->params[0]);
    if (asked[0] == ':' || strchr(asked, ' '))
        snprintf(asked, sizeof asked, "*"); /* cannot be a middle parameter */
    int n = 0;
    struct channel *ch = NULL;
    char *save = NULL;
    for (char *t = strtok_r((char *)m->params[0], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (++n > server_config->max_targets) {
            send_numeric(c, ERR_TOOMANYTARGETS, "%s :Too many channels (at most %d)", t,
                         server_config->max_targets);
            break;
        }
        if ((ch = channel_find(t)))
            names_lines(c, ch);
    }
    /* one existing channel: named as it is spelled, as after JOIN */
    send_numeric(c, RPL_ENDOFNAMES, "%s :End of /NAMES list", n == 1 && ch ? ch->name : asked);
}

/* ---- JOIN --------------------------------------------------------------- */

static void topic_send(struct client *c, struct channel *ch, bool always)
{
    if (ch->topic) {
        send_numeric(c, RPL_TOPIC, "%s :%s", ch->name, ch->topic);
        send_numeric(c, RPL_TOPICWHOTIME, "%s %s %lld", ch->name, ch->topic_setter,
                     (long long)ch->topic_time);
    } else if (always) {
        send_numeric(c, RPL_NOTOPIC, "%s :No topic is set", ch->name);
    }
}

static void join_announce(struct client *c, struct channel *ch)
{
    char prefix[512];
    client_prefix(c, prefix, sizeof prefix);
    struct irc_event ev;
    event_init(&ev, prefix, "JOIN", true);
    event_from_client(&ev, c);
    event_param(&ev, ch->name);
    send_to_channel(ch, &ev, NULL, CAP_EXTENDED_JOIN, 0);
    event_param(&ev, c->account ? c->account : "*");
    event_param(&ev, c->realname);
    ev.trailing = true;
    send_to_channel(ch, &ev, NULL, CAP_EXTENDED_JOIN, CAP_EXTENDED_JOIN);
    if (c->away) {
        struct irc_event aw;
        event_init(&aw, prefix, "AWAY", false);
        event_from_client(&aw, c);
        event_param(&aw, c->away);
        aw.trailing = true;
        send_to_channel(ch, &aw, c, CAP_AWAY_NOTIFY, CAP_AWAY_NOTIFY);
    }
}

/* Creates the channel for JOIN: a group owned by c. With
 * identity.create_level 0 (a conformance setting, development servers
 * only) anyone creates plain IRC channels instead: no owner, gone with the
 * last member. NULL after telling c why not. */
static struct channel *join_create(struct client *c, const char *name)
{
    struct channel *ch;
    if (server_config->create_level == 0) {
        ch = channel_create(name);
        if (ch)
            ch->modes = CMODE_NO_EXTERNAL | CMODE_TOPIC_LOCK;
    } else {
        char why[500];
        const char *category = server_config->group_default_category;
        if (!c->acct || !group_may_create(c, category, why, sizeof why)) {
            send_fail(c, "FAIL", "JOIN", "CANNOT_CREATE", name,
                      c->acct ? why : "Log in to create a group.");
            return NULL;
        }
        ch = group_create(name, c->acct, category);
    }
    if (!ch)
        send_numeric(c, ERR_BADCHANMASK, "%s :Bad channel name", name);
    return ch;
}

/* Group caps and join approval for a new member (after the IRC checks). */
static bool join_group_check(struct client *c, struct channel *ch)
{
    char why[500];
    const char *code = NULL;
    if (!group_may_join(c, ch, &code, why, sizeof why)) {
        send_fail(c, "FAIL", "JOIN", code, ch->name, why);
        return false;
    }
    bool member = c->acct && group_member_find(ch, c->acct->id);
    if (member || !group_needs_approval(ch) || channel_is_invited(ch, c))
        return true;
    if (!c->acct) {
        send_fail(c, "FAIL", "JOIN", "APPROVAL_REQUIRED", ch->name,
                  "Joining this group needs a manager's approval: log in first, then JOIN again "
                  "to ask.");
        return false;
    }
    bool fresh = group_request_add(ch, c->acct->id);
    send_fail(c, "FAIL", "JOIN", "APPROVAL_REQUIRED", ch->name,
              "Joining this group needs a manager's approval: your request is queued and you "
              "will be told the outcome.");
    if (fresh) /* managers hear about a request once */
        chanserv_request_notify(ch, c);
    return false;
}

/* The one-line group description sent after JOIN. */
static const char *join_group_line(struct channel *ch, bool created)
{
    static char line[300];
    if (!created)
        return group_describe(ch);
    snprintf(line, sizeof line,
             "Group %lld created, category %s. Change the category with /msg ChanServ SET %s "
             "CATEGORY <category>; /msg ChanServ HELP lists what owners and managers can do.",
             (long long)ch->code, ch->category, ch->name);
    return line;
}

/* Returns 0 if c may join the existing channel ch with key, else sends the
 * refusal and returns -1. An INVITE lifts +l, +i and +b; a +I entry lifts
 * +i only; a +e entry lifts +b (inside channel_is_banned). A member of the
 * group passes +k, +l and +i but not a ban. */
static int join_check(struct client *c, struct channel *ch, const char *key)
{
    /* a group's own member coming back is not an outsider: +i, +k and +l
     * do not apply (a ban still does) */
    bool invited = channel_is_invited(ch, c);
    bool member = ch->code && c->acct && group_member_find(ch, c->acct->id);
    if (ch->key && !member && (!key || strcmp(key, ch->key) != 0)) {
        send_numeric(c, ERR_BADCHANNELKEY, "%s :Cannot join channel (+k: wrong or missing key)",
                     ch->name);
        return -1;
    }
    if (ch->limit > 0 && ch->nmembers >= (size_t)ch->limit && !invited && !member) {
        send_numeric(c, ERR_CHANNELISFULL, "%s :Cannot join channel (+l: the channel is full)",
                     ch->name);
        return -1;
    }
    if ((ch->modes & CMODE_INVITE) && !invited && !member && !channel_is_invex(ch, c)) {
        send_numeric(c, ERR_INVITEONLYCHAN, "%s :Cannot join channel (+i: invitation needed)",
                     ch->name);
        return -1;
    }
    if (channel_is_banned(ch, c) && !invited) {
        send_numeric(c, ERR_BANNEDFROMCHAN, "%s :Cannot join channel (+b: you are banned)",
                     ch->name);
        return -1;
    }
    return 0;
}

static void join_one(struct client *c, const char *name, const char *key)
{
    size_t len = strlen(name);
    if (!casemap_channel_valid(name, len, (size_t)server_config->channel_length)) {
        send_numeric(c, ERR_BADCHANMASK, "%s :Bad channel name", name);
        return;
    }
    struct channel *ch = channel_find(name);
    if (ch && channel_member(ch, c))
        return;
    if (c->nchans >= server_config->max_channels) {
        send_numeric(c, ERR_TOOMANYCHANNELS, "%s :You have joined too many channels (limit %d)",
                     name, server_config->max_channels);
        return;
    }
    uint8_t flags = 0;
    bool created = false;
    if (!ch) {
        if (!login_may_create(c, name))
            return;
        ch = join_create(c, name);
        if (!ch)
            return;
        flags = ch->code                                  ? MEMBER_OWNER
                : server_config->creator_prefix[0] == '@' ? MEMBER_OP
                                                          : MEMBER_OWNER;
        created = true;
    } else if (join_check(c, ch, key) < 0 || (ch->code && !join_group_check(c, ch))) {
        return;
    }
    join_enter(c, ch, flags, created);
}

void join_enter(struct client *c, struct channel *ch, uint8_t flags, bool created)
{
    if (channel_member(ch, c))
        return;
    if (ch->code && c->acct) {
        group_member_add(ch, c->acct, ROLE_MEMBER); /* no-op for a member */
        flags = group_role_flags(group_acting_role(ch, c, NULL, 0));
    }
    channel_clear_invite(ch, c->nick_folded);
    channel_add_member(ch, c, flags);
    join_announce(c, ch);
    log_group_event("join", c, ch, true, "account", c->account, NULL, NULL);
    topic_send(c, ch, false);
    names_send(c, ch);
    if (ch->code)
        send_fail(c, "NOTE", "JOIN", created ? "GROUP_CREATED" : "GROUP_INFO", ch->name,
                  join_group_line(ch, created));
}

static void part_one(struct client *c, struct channel *ch, const char *reason)
{
    char prefix[512];
    struct irc_event ev;
    event_init(&ev, client_prefix(c, prefix, sizeof prefix), "PART", true);
    event_from_client(&ev, c);
    event_param(&ev, ch->name);
    if (reason && reason[0]) {
        event_param(&ev, reason);
        ev.trailing = true;
    }
    send_to_channel(ch, &ev, NULL, 0, 0);
    log_group_event("part", c, ch, true, "reason", reason, NULL, NULL);
    /* leaving a group ends the membership (and a manager's role); the
     * owner stays its owner and member */
    if (ch->code && c->acct && group_role_of(ch, c) != ROLE_OWNER)
        group_member_remove(ch, c->acct->id);
    channel_remove_member(ch, c);
}

void cmd_join(struct client *c, struct irc_msg *m)
{
    if (strcmp(m->params[0], "0") == 0) {
        while (c->nchans)
            part_one(c, c->chans[c->nchans - 1], "Left all channels");
        return;
    }
    char *ksave = NULL, *save = NULL;
    char *keys = m->nparams > 1 ? (char *)m->params[1] : NULL;
    char *key = keys ? strtok_r(keys, ",", &ksave) : NULL;
    for (char *t = strtok_r((char *)m->params[0], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        join_one(c, t, key);
        key = key ? strtok_r(NULL, ",", &ksave) : NULL;
    }
}

/* ---- PART, TOPIC ---------------------------------------------------------- */

void cmd_part(struct client *c, struct irc_msg *m)
{
    const char *reason = m->nparams > 1 ? m->params[1] : NULL;
    char *save = NULL;
    for (char *t = strtok_r((char *)m->params[0], ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        struct channel *ch = channel_find(t);
        if (!ch)
            send_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel", t);
        else if (!channel_member(ch, c))
            send_numeric(c, ERR_NOTONCHANNEL, "%s :You're not on that channel", ch->name);
        else
            part_one(c, ch, reason);
    }
}

void cmd_topic(struct client *c, struct irc_msg *m)
{
    struct channel *ch = channel_find(m->params[0]);
    if (!ch) {
        send_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel", m->params[0]);
        return;
    }
    struct member *mb = channel_member(ch, c);
    if (m->nparams < 2) {
        if (!mb && (ch->modes & CMODE_SECRET))
            send_numeric(c, ERR_NOTONCHANNEL, "%s :You're not on that channel", ch->name);
        else
            topic_send(c, ch, true);
        return;
    }
    if (!mb) {
        send_numeric(c, ERR_NOTONCHANNEL, "%s :You're not on that channel", ch->name);
        return;
    }
    if ((ch->modes & CMODE_TOPIC_LOCK) && !member_is_op(mb)) {
        send_numeric(c, ERR_CHANOPRIVSNEEDED, "%s :You're not a channel operator (+t)", ch->name);
        return;
    }
    const char *text = m->params[1];
    size_t len = utf8_truncate(text, strlen(text), (size_t)server_config->topic_length);
    char prefix[512];
    client_prefix(c, prefix, sizeof prefix);
    free(ch->topic);
    free(ch->topic_setter);
    ch->topic = len ? xstrndup(text, len) : NULL;
    ch->topic_setter = len ? xstrdup(prefix) : NULL;
    ch->topic_time = time(NULL);
    group_save(ch);
    struct irc_event ev;
    event_init(&ev, prefix, "TOPIC", true);
    event_from_client(&ev, c);
    event_param(&ev, ch->name);
    event_param(&ev, ch->topic ? ch->topic : "");
    ev.trailing = true;
    send_to_channel(ch, &ev, NULL, 0, 0);
    log_group_event("topic", c, ch, true, "topic", ch->topic ? ch->topic : "", NULL, NULL);
}

/* ---- LIST (ELIST=CMNTU) ------------------------------------------------------
 *
 * LIST [<term>{,<term>}] where each term is a filter; a channel is listed
 * when it passes all of them (and is not secret, unless c is a member):
 *   <n  >n      fewer / more than n members                      (U)
 *   C<n C>n     created less / more than n minutes ago           (C)
 *   T<n T>n     topic set less / more than n minutes ago; a      (T)
 *               channel without a topic passes no T filter
 *   !glob       the name does not match glob                     (N)
 *   glob        the name matches glob (an exact name is a glob);  (M)
 *               with several, any one may match
 * A malformed term is refused with FAIL LIST INVALID_PARAMS and an empty
 * list, rather than the whole list unfiltered.
 */

#define LIST_GLOBS_MAX 8

struct list_range {
    long above, below; /* exclusive bounds, -1 when unset */
};

struct list_query {
    struct client *c;
    time_t now;
    struct list_range users;   /* members */
    struct list_range created; /* minutes since creation */
    struct list_range topic;   /* minutes since the topic was set */
    const char *globs[LIST_GLOBS_MAX], *nots[LIST_GLOBS_MAX];
    size_t nglobs, nnots;
};

/* v against the bounds, which count units of scale (60: bounds in minutes,
 * v in seconds, so "C<1" means under 60 s). */
static bool list_range_pass(const struct list_range *r, long v, long scale)
{
    return (r->above < 0 || v > r->above * scale) && (r->below < 0 || v < r->below * scale);
}

static bool list_range_set(const struct list_range *r)
{
    return r->above >= 0 || r->below >= 0;
}

static bool list_pass(const struct list_query *q, const struct channel *ch)
{
    if (!list_range_pass(&q->users, (long)ch->nmembers, 1) ||
        !list_range_pass(&q->created, (long)(q->now - ch->created), 60))
        return false;
    if (list_range_set(&q->topic) &&
        (!ch->topic || !list_range_pass(&q->topic, (long)(q->now - ch->topic_time), 60)))
        return false;
    for (size_t i = 0; i < q->nnots; i++)
        if (mask_match(q->nots[i], ch->name))
            return false;
    if (!q->nglobs)
        return true;
    for (size_t i = 0; i < q->nglobs; i++)
        if (mask_match(q->globs[i], ch->name))
            return true;
    return false;
}

static void list_one(struct channel *ch, void *ud)
{
    struct list_query *q = ud;
    if ((ch->modes & CMODE_SECRET) && !channel_member(ch, q->c))
        return;
    if (!list_pass(q, ch))
        return;
    char modes[300], group[96] = "";
    channel_mode_string(ch, false, modes, sizeof modes);
    if (ch->code) /* "{code category size}" after the modes, as servers show "[+nt]" */
        snprintf(group, sizeof group, "{%lld %s %s} ", (long long)ch->code, ch->category,
                 group_size_name(group_size_class(group_member_count(ch))));
    send_numeric(q->c, RPL_LIST, "%s %zu :[%s] %s%s", ch->name, ch->nmembers, modes, group,
                 ch->topic ? ch->topic : "");
}

/* "<n" or ">n" (n: 1 to 9 decimal digits) into r; false if malformed. */
static bool list_parse_bound(const char *t, struct list_range *r)
{
    size_t len = strlen(t + 1);
    if ((t[0] != '<' && t[0] != '>') || len < 1 || len > 9 || strspn(t + 1, "0123456789") != len)
        return false;
    long v = strtol(t + 1, NULL, 10);
    if (t[0] == '>')
        r->above = v;
    else
        r->below = v;
    return true;
}

static bool list_parse_term(struct list_query *q, const char *t)
{
    if (t[0] == '<' || t[0] == '>')
        return list_parse_bound(t, &q->users);
    if ((t[0] == 'C' || t[0] == 'T') && (t[1] == '<' || t[1] == '>'))
        return list_parse_bound(t + 1, t[0] == 'C' ? &q->created : &q->topic);
    bool negated = t[0] == '!';
    if (negated && !t[1])
        return false;
    if ((negated ? q->nnots : q->nglobs) == LIST_GLOBS_MAX)
        return false;
    if (negated)
        q->nots[q->nnots++] = t + 1;
    else
        q->globs[q->nglobs++] = t;
    return true;
}

void cmd_list(struct client *c, struct irc_msg *m)
{
    struct list_query q = {.c = c, .now = time(NULL)};
    q.users = q.created = q.topic = (struct list_range){-1, -1};
    bool ok = true;
    if (m->nparams > 0) {
        char *save = NULL;
        for (char *t = strtok_r((char *)m->params[0], ",", &save); t && ok;
             t = strtok_r(NULL, ",", &save)) {
            if (!list_parse_term(&q, t)) {
                char text[160];
                snprintf(text, sizeof text,
                         "Unknown LIST filter (ELIST=CMNTU: <n >n C<n C>n T<n T>n !mask mask; "
                         "at most %d masks)",
                         LIST_GLOBS_MAX);
                send_fail(c, "FAIL", "LIST", "INVALID_PARAMS", NULL, text);
                ok = false;
            }
        }
    }
    send_numeric(c, RPL_LISTSTART, "Channel :Users  Name");
    if (ok)
        channel_foreach(list_one, &q);
    send_numeric(c, RPL_LISTEND, ":End of /LIST");
}

/* ---- KICK, INVITE ----------------------------------------------------------- */

static void kick_one(struct client *c, struct channel *ch, struct member *me, const char *nick,
                     const char *reason)
{
    struct client *t = client_find(nick);
    struct member *tm = t ? channel_member(ch, t) : NULL;
    if (!t) {
        send_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel", nick);
        return;
    }
    if (!tm) {
        send_numeric(c, ERR_USERNOTINCHANNEL, "%s %s :They aren't on that channel", t->nick,
                     ch->name);
        return;
    }
    if ((tm->flags & MEMBER_OWNER) && !(me->flags & MEMBER_OWNER)) {
        send_numeric(c, ERR_CHANOPRIVSNEEDED, "%s :You cannot kick the channel owner", ch->name);
        return;
    }
    char prefix[512];
    struct irc_event ev;
    event_init(&ev, client_prefix(c, prefix, sizeof prefix), "KICK", true);
    event_from_client(&ev, c);
    event_param(&ev, ch->name);
    event_param(&ev, t->nick);
    size_t rl = utf8_truncate(reason, strlen(reason), (size_t)server_config->kick_length);
    char rbuf[512];
    snprintf(rbuf, sizeof rbuf, "%.*s", (int)rl, reason);
    event_param(&ev, rbuf);
    ev.trailing = true;
    send_to_channel(ch, &ev, NULL, 0, 0);
    log_group_event("kick", c, ch, true, "kicked", t->nick, "reason", rbuf);
    if (ch->code && t->acct && group_role_of(ch, t) != ROLE_OWNER) {
        group_member_remove(ch, t->acct->id); /* a kick ends the membership */
        char detail[64];
        snprintf(detail, sizeof detail, "kicked %s", t->acct->name);
        account_audit(c->account ? c->account : c->nick, "group.kick", ch->name, detail);
    }
    channel_remove_member(ch, t);
}

/* The checks on the kicker for one channel: it exists, c is in it with op
 * rights. Returns c's membership, or NULL after answering. */
static struct member *kick_channel_check(struct client *c, const char *name, struct channel **chp)
{
    struct channel *ch = *chp = channel_find(name);
    if (!ch) {
        send_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel", name);
        return NULL;
    }
    struct member *me = channel_member(ch, c);
    if (!me) {
        send_numeric(c, ERR_NOTONCHANNEL, "%s :You're not on that channel", ch->name);
        return NULL;
    }
    if (!member_is_op(me)) {
        send_numeric(c, ERR_CHANOPRIVSNEEDED, "%s :You're not a channel operator", ch->name);
        return NULL;
    }
    return me;
}

/* Counts the non-empty items of a comma list. */
static size_t kick_count(const char *list)
{
    size_t n = 0;
    for (const char *p = list; *p; p++)
        if (*p != ',' && (p == list || p[-1] == ','))
            n++;
    return n;
}

/* Splits a comma list in place into its first (at most) max items. */
static void kick_split(char *list, char **items, size_t max)
{
    size_t n = 0;
    char *save = NULL;
    for (char *t = strtok_r(list, ",", &save); t && n < max; t = strtok_r(NULL, ",", &save))
        items[n++] = t;
}

/* KICK <#chan> <nick>{,<nick>} [reason]   one channel, several members
 * KICK <#a>,<#b> <n1>,<n2> [reason]      channel i with nick i (RFC 2812)
 * At most limits.max_targets nicks (TARGMAX=KICK:N); the rest are refused
 * with ERR_TOOMANYTARGETS. Each member gets its own KICK line, as clients
 * expect one user per KICK. The kicker is checked again before each kick:
 * an earlier kick may have removed them or emptied the channel. */
void cmd_kick(struct client *c, struct irc_msg *m)
{
    enum { KICK_MAX = 100 }; /* limits.max_targets is at most 100 */
    char *chans[KICK_MAX], *nicks[KICK_MAX];
    size_t nchans = kick_count(m->params[0]), nnicks = kick_count(m->params[1]);
    if (!nnicks || !nchans || (nchans != 1 && nchans != nnicks)) {
        send_numeric(c, ERR_NEEDMOREPARAMS, "KICK :Give one channel, or as many channels as nicks");
        return;
    }
    size_t max = (size_t)server_config->max_targets;
    if (max > KICK_MAX)
        max = KICK_MAX;
    kick_split((char *)m->params[0], chans, max);
    kick_split((char *)m->params[1], nicks, max);
    const char *reason = m->nparams > 2 && m->params[2][0] ? m->params[2] : c->nick;
    for (size_t i = 0; i < nnicks && i < max; i++) {
        struct channel *ch;
        struct member *me = kick_channel_check(c, chans[nchans == 1 ? 0 : i], &ch);
        if (!me && nchans == 1)
            return; /* one channel: one answer */
        if (me)
            kick_one(c, ch, me, nicks[i], reason);
    }
    if (nnicks > max)
        send_numeric(c, ERR_TOOMANYTARGETS, "KICK :Too many nicks (at most %zu per KICK)", max);
}

static void invite_list_one(struct channel *ch, void *ud)
{
    struct client *c = ud;
    if (channel_is_invited(ch, c))
        send_numeric(c, RPL_INVITELIST, "%s", ch->name);
}

/* INVITE with no parameters: the channels c has a pending invitation to
 * (one RPL_INVITELIST each), then RPL_ENDOFINVITELIST. An invitation is
 * pending until c joins that channel or the channel disappears. */
static void invite_list(struct client *c)
{
    channel_foreach(invite_list_one, c);
    send_numeric(c, RPL_ENDOFINVITELIST, ":End of /INVITE list");
}

void cmd_invite(struct client *c, struct irc_msg *m)
{
    if (m->nparams == 0) {
        invite_list(c);
        return;
    }
    if (m->nparams < 2) {
        send_numeric(c, ERR_NEEDMOREPARAMS, "INVITE :Not enough parameters");
        return;
    }
    struct client *t = client_find(m->params[0]);
    if (!t || t->state != CLIENT_REGISTERED) {
        send_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel", m->params[0]);
        return;
    }
    struct channel *ch = channel_find(m->params[1]);
    if (!ch) {
        send_numeric(c, ERR_NOSUCHCHANNEL, "%s :No such channel", m->params[1]);
        return;
    }
    struct member *me = channel_member(ch, c);
    if (!me) {
        send_numeric(c, ERR_NOTONCHANNEL, "%s :You're not on that channel", ch->name);
        return;
    }
    if ((ch->modes & CMODE_INVITE) && !member_is_op(me)) {
        send_numeric(c, ERR_CHANOPRIVSNEEDED, "%s :You're not a channel operator (+i)", ch->name);
        return;
    }
    if (channel_member(ch, t)) {
        send_numeric(c, ERR_USERONCHANNEL, "%s %s :is already on channel", t->nick, ch->name);
        return;
    }
    channel_add_invite(ch, t->nick_folded);
    send_numeric(c, RPL_INVITING, "%s %s", t->nick, ch->name);
    char prefix[512];
    struct irc_event ev;
    event_init(&ev, client_prefix(c, prefix, sizeof prefix), "INVITE", true);
    event_from_client(&ev, c);
    event_param(&ev, t->nick);
    event_param(&ev, ch->name);
    send_event(t, &ev);
    /* invite-notify: other members who can see invitations */
    send_to_channel(ch, &ev, c, CAP_INVITE_NOTIFY, CAP_INVITE_NOTIFY);
    if (t->away)
        send_numeric(c, RPL_AWAY, "%s :%s", t->nick, t->away);
}
