/*
 * cmd_query.c - commands that ask the server about users and itself: WHO
 * (with WHOX), WHOIS, USERHOST, ISON, LUSERS, MOTD, VERSION, TIME, ADMIN,
 * INFO and LINKS.
 *
 * Owns what one user may learn about another. The rules, in one place:
 *
 *   1. A user who is not +i is visible to everyone. A +i user is visible to
 *      themself, to operators and to anyone sharing a channel with them;
 *      looking up the exact nickname (WHO nick, WHOIS, USERHOST, ISON) always
 *      works, as the nick registry is public anyway (NICK would collide).
 *   2. The members of a +s channel are listed (WHO #chan) only to its members
 *      and operators; a +s channel appears in WHOIS only to its members, to
 *      the user themself and to operators.
 *   3. The connecting IP (WHOX 'i', WHOIS 378), idle time in WHOX and the
 *      TLS certificate fingerprint are shown only to the user themself and
 *      to operators.
 *
 * Every reply is bounded: WHO over a glob stops after WHO_MAX_RESULTS
 * entries for non-operators (so "WHO *" cannot overflow a sendq), WHOIS
 * channel lists are split over several 319 lines, and MOTD lines are cut to
 * MOTD_LINE_MAX bytes on a UTF-8 boundary.
 *
 * Queries that take a server name (LUSERS, MOTD, VERSION, TIME, ADMIN,
 * INFO, LINKS server mask, WHOIS server nick) accept our own name (or a glob matching it) or a
 * connected user's nick (meaning "that user's server", which is us), and
 * answer ERR_NOSUCHSERVER otherwise: there is only one server.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/group.h"
#include "irc/commands.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"
#include "net/conn.h"
#include "proto/message.h"
#include "proto/utf8.h"

/* Same string as RPL_YOURHOST/RPL_MYINFO (cmd_register.c); a shared
 * version header would remove the duplication. */
#ifndef QUN_VERSION
#define QUN_VERSION "qun-0.1"
#endif

/* Most WHO replies for one glob mask, for non-operators. */
#define WHO_MAX_RESULTS 500
/* Most bytes of one MOTD line's text ("- " included), and lines sent. */
#define MOTD_LINE_MAX  400
#define MOTD_MAX_LINES 1000
/* Bytes of channel list per RPL_WHOISCHANNELS line. */
#define WHOIS_CHANS_MAX 380

/* ---- shared helpers ------------------------------------------------------ */

static bool is_oper(const struct client *c)
{
    return c->umodes & UMODE_OPER;
}

static bool shares_channel(const struct client *a, const struct client *b)
{
    /* walk the shorter list, probe the other side's membership table */
    if (a->nchans > b->nchans) {
        const struct client *t = a;
        a = b;
        b = t;
    }
    for (uint16_t i = 0; i < a->nchans; i++)
        if (channel_member(a->chans[i], b))
            return true;
    return false;
}

/* Rule 1 of the header. */
static bool user_visible_to(const struct client *viewer, const struct client *t)
{
    return !(t->umodes & UMODE_INVISIBLE) || viewer == t || is_oper(viewer) ||
           shares_channel(viewer, t);
}

/* Rule 3: may viewer see t's address, idle time and certificate? */
static bool user_private_to(const struct client *viewer, const struct client *t)
{
    return viewer == t || is_oper(viewer);
}

static struct client *user_find(const char *nick)
{
    struct client *t = client_find(nick);
    return t && t->state == CLIENT_REGISTERED ? t : NULL;
}

/* Checks the optional server-name parameter m->params[idx]; answers
 * ERR_NOSUCHSERVER and returns false when it names another server. */
static bool server_param_ok(struct client *c, const struct irc_msg *m, size_t idx)
{
    if (m->nparams <= idx || !m->params[idx][0])
        return true;
    const char *s = m->params[idx];
    if (mask_match(s, server_name()) || user_find(s))
        return true;
    send_numeric(c, ERR_NOSUCHSERVER, "%s :No such server", s);
    return false;
}

/* ---- WHO ----------------------------------------------------------------- */

/* One WHO request: what to match and which fields to send. */
struct who_req {
    struct client *c;
    const char *mask;
    bool whox;
    bool opers_only; /* "WHO <mask> o" */
    char fields[16]; /* WHOX letters asked for */
    char token[4];   /* WHOX query token, "" when none */
    size_t sent;
    bool capped;
};

static void who_parse_options(struct who_req *q, const char *opt)
{
    if (opt[0] != '%') {
        q->opers_only = strchr(opt, 'o') != NULL;
        return;
    }
    q->whox = true;
    size_t n = 0;
    for (opt++; *opt && *opt != ',' && n < sizeof q->fields - 1; opt++)
        if (strchr("tcuihsnfdlaor", *opt) && !strchr(q->fields, *opt))
            q->fields[n++] = *opt;
    q->fields[n] = '\0';
    if (*opt == ',') {
        /* the token is 1..3 digits; anything else is not echoed back */
        size_t tl = strlen(opt + 1);
        if (tl >= 1 && tl <= 3 && strspn(opt + 1, "0123456789") == tl)
            memcpy(q->token, opt + 1, tl + 1);
    }
}

/* "H"/"G", '*' for operators, 'B' for bots, then the channel prefix(es). */
static const char *who_flags(const struct who_req *q, const struct client *t,
                             const struct member *m, char *buf)
{
    size_t n = 0;
    buf[n++] = t->away ? 'G' : 'H';
    if (is_oper(t))
        buf[n++] = '*';
    if (t->umodes & UMODE_BOT)
        buf[n++] = 'B'; /* the BOT= ISUPPORT letter (IRCv3 bot-mode) */
    buf[n] = '\0';
    if (m)
        member_prefix(m->flags, q->c->caps & CAP_MULTI_PREFIX, buf + n);
    return buf;
}

static void whox_append(char *out, size_t cap, size_t *n, const char *text, bool last)
{
    int w = snprintf(out + *n, cap - *n, " %s%s", last ? ":" : "", text);
    if (w > 0)
        *n += (size_t)w < cap - *n ? (size_t)w : cap - *n - 1;
}

/* RPL_WHOSPCRPL: the fields asked for, in the fixed WHOX order. */
static void whox_send(struct who_req *q, struct client *t, const char *chan, const char *flags)
{
    char line[600], num[24];
    size_t n = 0;
    line[0] = '\0';
    bool priv = user_private_to(q->c, t);
    static const char order[] = "tcuihsnfdlaor";
    for (const char *f = order; *f; f++) {
        if (!strchr(q->fields, *f))
            continue;
        const char *v = NULL;
        switch (*f) {
        case 't':
            v = q->token[0] ? q->token : "0";
            break;
        case 'c':
            v = chan;
            break;
        case 'u':
            v = t->user;
            break;
        case 'i':
            v = priv ? t->conn->ip : "255.255.255.255";
            break;
        case 'h':
            v = t->host;
            break;
        case 's':
            v = server_name();
            break;
        case 'n':
            v = t->nick;
            break;
        case 'f':
            v = flags;
            break;
        case 'd':
            v = "0";
            break;
        case 'l':
            snprintf(num, sizeof num, "%lld", priv ? (long long)(time(NULL) - t->idle_since) : 0LL);
            v = num;
            break;
        case 'a':
            v = t->account ? t->account : "0";
            break;
        case 'o':
            v = "n/a";
            break;
        case 'r':
            v = t->realname ? t->realname : "";
            break;
        }
        whox_append(line, sizeof line, &n, v, *f == 'r');
    }
    send_numeric(q->c, RPL_WHOSPCRPL, "%s", n ? line + 1 : "");
}

static void who_reply(struct who_req *q, struct client *t, const struct channel *ch,
                      const struct member *m)
{
    if (q->opers_only && !is_oper(t))
        return;
    char flags[16];
    const char *chan = ch ? ch->name : "*";
    who_flags(q, t, m, flags);
    if (q->whox)
        whox_send(q, t, chan, flags);
    else
        send_numeric(q->c, RPL_WHOREPLY, "%s %s %s %s %s %s :0 %s", chan, t->user, t->host,
                     server_name(), t->nick, flags, t->realname ? t->realname : "");
    q->sent++;
}

static void who_channel(struct who_req *q, struct channel *ch)
{
    bool member = channel_member(ch, q->c) != NULL;
    if ((ch->modes & CMODE_SECRET) && !member && !is_oper(q->c))
        return;
    for (size_t i = 0; i < ch->members_cap; i++) {
        struct member *m = &ch->members[i];
        if (!member_used(m))
            continue;
        if (member || user_visible_to(q->c, m->client))
            who_reply(q, m->client, ch, m);
    }
}

static void who_glob_one(struct client *t, void *ud)
{
    struct who_req *q = ud;
    if (t->state != CLIENT_REGISTERED || q->capped || !user_visible_to(q->c, t))
        return;
    char prefix[512];
    bool match =
        mask_match(q->mask, t->nick) || mask_match(q->mask, t->host) ||
        (strpbrk(q->mask, "!@") && mask_match(q->mask, client_prefix(t, prefix, sizeof prefix)));
    if (!match)
        return;
    if (q->sent >= WHO_MAX_RESULTS && !is_oper(q->c)) {
        q->capped = true;
        return;
    }
    who_reply(q, t, NULL, NULL);
}

void cmd_who(struct client *c, struct irc_msg *m)
{
    struct who_req q = {.c = c, .mask = m->nparams ? m->params[0] : "*"};
    const char *shown = q.mask[0] ? q.mask : "*";
    if (!q.mask[0] || strcmp(q.mask, "0") == 0)
        q.mask = "*"; /* RFC 1459: "0" means everyone */
    if (m->nparams >= 2)
        who_parse_options(&q, m->params[1]);
    struct channel *ch = q.mask[0] == '#' ? channel_find(q.mask) : NULL;
    struct client *t = NULL;
    if (ch)
        who_channel(&q, ch);
    else if (!strpbrk(q.mask, "*?") && (t = user_find(q.mask)))
        who_reply(&q, t, NULL, NULL);
    else if (q.mask[0] != '#')
        client_foreach(who_glob_one, &q);
    /* the standard replies after the end: a client that collects a WHO
     * reply (irssi's channel sync) takes any other line inside it for a
     * lost reply, asks again and waits ~10 s before the channel is synced */
    send_numeric(c, RPL_ENDOFWHO, "%s :End of WHO list", shown);
    if (q.capped) {
        char text[96];
        snprintf(text, sizeof text, "Only the first %d matches were sent; use a narrower mask",
                 WHO_MAX_RESULTS);
        send_fail(c, "WARN", "WHO", "TOO_MANY_RESULTS", shown, text);
    }
    if (ch && ch->code)
        send_fail(c, "NOTE", "WHO", "GROUP_INFO", ch->name, group_describe(ch));
}

/* ---- WHOIS --------------------------------------------------------------- */

/* RPL_WHOISCHANNELS, split over several lines when long. */
static void whois_channels(struct client *c, struct client *t)
{
    char line[WHOIS_CHANS_MAX + 80], pfx[4];
    size_t n = 0;
    bool all = c->caps & CAP_MULTI_PREFIX;
    for (uint16_t i = 0; i < t->nchans; i++) {
        struct channel *ch = t->chans[i];
        if ((ch->modes & CMODE_SECRET) && c != t && !is_oper(c) && !channel_member(ch, c))
            continue;
        const struct member *m = channel_member(ch, t);
        member_prefix(m ? m->flags : 0, all, pfx);
        size_t need = strlen(pfx) + strlen(ch->name) + 1;
        if (n && n + need > WHOIS_CHANS_MAX) {
            send_numeric(c, RPL_WHOISCHANNELS, "%s :%s", t->nick, line);
            n = 0;
        }
        int w = snprintf(line + n, sizeof line - n, "%s%s%s", n ? " " : "", pfx, ch->name);
        if (w > 0 && (size_t)w < sizeof line - n)
            n += (size_t)w;
    }
    if (n)
        send_numeric(c, RPL_WHOISCHANNELS, "%s :%s", t->nick, line);
}

static void whois_send(struct client *c, struct client *t)
{
    send_numeric(c, RPL_WHOISUSER, "%s %s %s * :%s", t->nick, t->user, t->host,
                 t->realname ? t->realname : "");
    whois_channels(c, t);
    send_numeric(c, RPL_WHOISSERVER, "%s %s :%s", t->nick, server_name(),
                 server_config->server_description);
    if (is_oper(t))
        send_numeric(c, RPL_WHOISOPERATOR, "%s :is an IRC operator", t->nick);
    if (t->umodes & UMODE_BOT)
        send_numeric(c, RPL_WHOISBOT, "%s :is a bot on %s", t->nick, server_config->network_name);
    if (t->away)
        send_numeric(c, RPL_AWAY, "%s :%s", t->nick, t->away);
    if (t->account)
        send_numeric(c, RPL_WHOISACCOUNT, "%s %s :is logged in as", t->nick, t->account);
    if (t->conn->tls)
        send_numeric(c, RPL_WHOISSECURE, "%s :is using a secure connection", t->nick);
    if (user_private_to(c, t)) {
        if (t->conn->certfp[0])
            send_numeric(c, RPL_WHOISCERTFP, "%s :has client certificate fingerprint %s", t->nick,
                         t->conn->certfp);
        send_numeric(c, RPL_WHOISHOST, "%s :is connecting from %s@%s %s", t->nick, t->user,
                     t->conn->ip, t->conn->ip);
    }
    send_numeric(c, RPL_WHOISIDLE, "%s %lld %lld :seconds idle, signon time", t->nick,
                 (long long)(time(NULL) - t->idle_since), (long long)t->signon);
}

void cmd_whois(struct client *c, struct irc_msg *m)
{
    if (m->nparams == 0 || !m->params[m->nparams > 1 ? 1 : 0][0]) {
        send_numeric(c, ERR_NONICKNAMEGIVEN, ":No nickname given");
        return;
    }
    /* "WHOIS server nick": the first param names the server to ask */
    if (m->nparams > 1 && !server_param_ok(c, m, 0))
        return;
    char *nick = (char *)m->params[m->nparams > 1 ? 1 : 0];
    char *comma = strchr(nick, ',');
    if (comma)
        *comma = '\0'; /* TARGMAX=WHOIS:1 */
    struct client *t = user_find(nick);
    if (t)
        whois_send(c, t);
    else
        send_numeric(c, ERR_NOSUCHNICK, "%s :No such nick/channel", nick);
    send_numeric(c, RPL_ENDOFWHOIS, "%s :End of /WHOIS list", t ? t->nick : nick);
}

/* ---- USERHOST and ISON ----------------------------------------------------- */

/* Calls fn for each space-separated word of every param, up to max words
 * (clients send "ISON a b c" or "ISON :a b c"). */
static void each_word(const struct irc_msg *m, size_t max,
                      void (*fn)(const char *w, size_t len, void *ud), void *ud)
{
    size_t count = 0;
    for (size_t i = 0; i < m->nparams; i++) {
        const char *p = m->params[i];
        while (*p && count < max) {
            p += strspn(p, " ");
            size_t len = strcspn(p, " ");
            if (len) {
                fn(p, len, ud);
                count++;
            }
            p += len;
        }
    }
}

struct reply_buf {
    char text[IRC_BODY_MAX];
    size_t n;
};

static void reply_append(struct reply_buf *r, const char *word)
{
    size_t need = strlen(word) + (r->n ? 1 : 0);
    if (r->n + need >= 400) /* leaves room for ":server NNN nick :" */
        return;
    snprintf(r->text + r->n, sizeof r->text - r->n, "%s%s", r->n ? " " : "", word);
    r->n += need;
}

static struct client *user_find_len(const char *w, size_t len)
{
    char nick[256];
    if (len >= sizeof nick)
        return NULL;
    memcpy(nick, w, len);
    nick[len] = '\0';
    return user_find(nick);
}

static void userhost_one(const char *w, size_t len, void *ud)
{
    struct client *t = user_find_len(w, len);
    if (!t)
        return;
    char entry[400];
    snprintf(entry, sizeof entry, "%s%s=%c%s@%s", t->nick, is_oper(t) ? "*" : "",
             t->away ? '-' : '+', t->user, t->host);
    reply_append(ud, entry);
}

void cmd_userhost(struct client *c, struct irc_msg *m)
{
    struct reply_buf r = {.n = 0};
    r.text[0] = '\0';
    each_word(m, 5, userhost_one, &r);
    send_numeric(c, RPL_USERHOST, ":%s", r.text);
}

static void ison_one(const char *w, size_t len, void *ud)
{
    struct client *t = user_find_len(w, len);
    if (t)
        reply_append(ud, t->nick);
}

void cmd_ison(struct client *c, struct irc_msg *m)
{
    struct reply_buf r = {.n = 0};
    r.text[0] = '\0';
    each_word(m, 100, ison_one, &r);
    send_numeric(c, RPL_ISON, ":%s", r.text);
}

/* ---- LUSERS and MOTD -------------------------------------------------------- */

void lusers_send(struct client *c)
{
    size_t reg = client_count_registered(), invis = client_count_invisible();
    size_t unknown = client_count() - reg, max = client_max_registered();
    send_numeric(c, RPL_LUSERCLIENT, ":There are %zu users and %zu invisible on 1 servers",
                 reg - invis, invis);
    send_numeric(c, RPL_LUSEROP, "%zu :operator(s) online", client_count_opers());
    send_numeric(c, RPL_LUSERUNKNOWN, "%zu :unknown connection(s)", unknown);
    send_numeric(c, RPL_LUSERCHANNELS, "%zu :channels formed", channel_count());
    send_numeric(c, RPL_LUSERME, ":I have %zu clients and 0 servers", reg);
    send_numeric(c, RPL_LOCALUSERS, "%zu %zu :Current local users %zu, max %zu", reg, max, reg,
                 max);
    send_numeric(c, RPL_GLOBALUSERS, "%zu %zu :Current global users %zu, max %zu", reg, max, reg,
                 max);
}

void cmd_lusers(struct client *c, struct irc_msg *m)
{
    if (server_param_ok(c, m, 1)) /* LUSERS [mask [server]] */
        lusers_send(c);
}

/* Makes one MOTD file line safe to send: no line end, ill-formed UTF-8
 * bytes replaced by '?', cut on a character boundary. Returns the length. */
static size_t motd_clean(char *s, size_t len, size_t max)
{
    while (len && (s[len - 1] == '\n' || s[len - 1] == '\r'))
        len--;
    for (size_t i = 0; i < len;) {
        size_t k = utf8_seq_len((const unsigned char *)s + i, len - i);
        if (k == 0 || s[i] == '\0' || s[i] == '\r') {
            s[i++] = '?';
            continue;
        }
        i += k;
    }
    len = utf8_truncate(s, len, max);
    s[len] = '\0';
    return len;
}

static void motd_send_file(struct client *c, FILE *f)
{
    char *line = NULL;
    size_t cap = 0, lines = 0;
    ssize_t got;
    while (lines < MOTD_MAX_LINES && (got = getline(&line, &cap, f)) >= 0) {
        motd_clean(line, (size_t)got, MOTD_LINE_MAX - 2);
        send_numeric(c, RPL_MOTD, ":- %s", line);
        lines++;
    }
    free(line);
}

void motd_send(struct client *c)
{
    const char *path = server_config->motd_file;
    FILE *f = path ? fopen(path, "r") : NULL; /* read each time: edits show at once */
    if (!f && !server_config->development) {
        send_numeric(c, ERR_NOMOTD, ":MOTD File is missing");
        return;
    }
    send_numeric(c, RPL_MOTDSTART, ":- %s Message of the day - ", server_name());
    if (f) {
        motd_send_file(c, f);
        fclose(f);
    }
    if (server_config->development) {
        send_numeric(c, RPL_MOTD,
                     ":- This is a development server: data may be wiped at any "
                     "time and nothing here is private or kept.");
        if (strcmp(server_config->id_provider, "dev") == 0 ||
            strcmp(server_config->sms_provider, "dev") == 0)
            send_numeric(c, RPL_MOTD,
                         ":- Identity checks use the DEVELOPMENT providers: any well-formed "
                         "identity is accepted and phone codes are written to the server log.");
    }
    send_numeric(c, RPL_ENDOFMOTD, ":End of /MOTD command.");
}

void cmd_motd(struct client *c, struct irc_msg *m)
{
    if (server_param_ok(c, m, 0))
        motd_send(c);
}

/* ---- VERSION, TIME, ADMIN, INFO --------------------------------------------- */

void cmd_version(struct client *c, struct irc_msg *m)
{
    if (!server_param_ok(c, m, 0))
        return;
    send_numeric(c, RPL_VERSION, "%s %s :Qun group chat server", QUN_VERSION, server_name());
    isupport_send(c);
}

void cmd_time(struct client *c, struct irc_msg *m)
{
    if (!server_param_ok(c, m, 0))
        return;
    time_t now = time(NULL);
    struct tm tm;
    char text[64];
    gmtime_r(&now, &tm);
    strftime(text, sizeof text, "%A %B %d %Y -- %H:%M:%S UTC", &tm);
    send_numeric(c, RPL_TIME, "%s :%s", server_name(), text);
}

void cmd_admin(struct client *c, struct irc_msg *m)
{
    if (!server_param_ok(c, m, 0))
        return;
    const struct qun_config *cfg = server_config;
    send_numeric(c, RPL_ADMINME, "%s :Administrative info", server_name());
    send_numeric(c, RPL_ADMINLOC1, ":%s", cfg->admin_location ? cfg->admin_location : "");
    send_numeric(c, RPL_ADMINLOC2, ":%s", cfg->admin_organization ? cfg->admin_organization : "");
    send_numeric(c, RPL_ADMINEMAIL, ":%s", cfg->admin_email ? cfg->admin_email : "");
}

/* LINKS [[server] mask]: the servers whose names match mask (default "*").
 * There is one, this one, at hop count 0 with its configured description. */
void cmd_links(struct client *c, struct irc_msg *m)
{
    if (m->nparams > 1 && !server_param_ok(c, m, 0))
        return;
    const char *mask = m->nparams ? m->params[m->nparams > 1 ? 1 : 0] : "";
    if (!mask[0] || mask[0] == ':' || strchr(mask, ' '))
        mask = "*"; /* echoed as a middle parameter */
    if (mask_match(mask, server_name()))
        send_numeric(c, RPL_LINKS, "%s %s :0 %s", server_name(), server_name(),
                     server_config->server_description);
    send_numeric(c, RPL_ENDOFLINKS, "%s :End of /LINKS list", mask);
}

void cmd_info(struct client *c, struct irc_msg *m)
{
    if (!server_param_ok(c, m, 0))
        return;
    char started[64];
    time_t t = server_started();
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(started, sizeof started, "%Y-%m-%d %H:%M:%S UTC", &tm);
    send_numeric(c, RPL_INFO, ":%s - a group-chat server speaking IRC and IRCv3", QUN_VERSION);
    send_numeric(c, RPL_INFO, ":Server: %s (%s)", server_name(), server_config->server_description);
    send_numeric(c, RPL_INFO, ":Network: %s", server_config->network_name);
    send_numeric(c, RPL_INFO, ":Running since %s", started);
    if (server_config->development)
        send_numeric(c, RPL_INFO, ":This is a development server.");
    send_numeric(c, RPL_ENDOFINFO, ":End of INFO list");
}
