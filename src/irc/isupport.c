/*
 * isupport.c - the RPL_ISUPPORT (005) lines: what this server supports and
 * its limits, as clients read them after registration and on VERSION.
 *
 * Owns the rule that every token is true of the running server: each number
 * comes from server_config (or from the constant the enforcing code uses,
 * e.g. MODES= from modeparse.h), and a feature is advertised only when the
 * command that implements it does what the token promises. docs/protocol.md
 * lists each token with its meaning. Tokens Qun deliberately does NOT send:
 *
 *   LINELEN   - lines are the classic 512 bytes (plus 4096 tag bytes).
 *
 * CASEMAPPING: names are compared after NFKC and full Unicode case folding
 * (proto/casemap.h), which is RFC 8265's nickname comparison except that
 * the case step is full case folding rather than toLowerCase() (so "ß"
 * equals "ss"). "rfc8265" is the registered token closest to that and lets
 * clients that implement it get ASCII and almost all Unicode names right;
 * "ascii" or "rfc1459" would be wrong for every non-ASCII name, and an
 * invented token would leave clients guessing.
 *
 * Lines carry at most ISUPPORT_TOKENS_PER_LINE tokens and stay well under
 * the 512-byte line limit whatever the configured network name.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "config/config.h"
#include "irc/commands.h"
#include "irc/modeparse.h"
#include "irc/msgpath.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "irc/server.h"

#define ISUPPORT_TOKENS_PER_LINE 13
/* Bytes of tokens per line; the rest of the line is ":server 005 nick"
 * (under 100 bytes) and " :are supported by this server". */
#define ISUPPORT_LINE_BYTES 360
/* Displayed hosts are the peer's textual IP (at most 45 bytes) or a host
 * set by the server; nothing sets a longer one. */
#define ISUPPORT_HOSTLEN 64

struct isupport_line {
    struct client *c;
    char text[ISUPPORT_LINE_BYTES + 1];
    size_t len;
    int ntokens;
};

static void isupport_flush(struct isupport_line *l)
{
    if (!l->ntokens)
        return;
    send_numeric(l->c, RPL_ISUPPORT, "%s :are supported by this server", l->text);
    l->len = 0;
    l->ntokens = 0;
    l->text[0] = '\0';
}

static void isupport_add(struct isupport_line *l, const char *token)
{
    size_t need = strlen(token) + (l->ntokens ? 1 : 0);
    if (l->ntokens == ISUPPORT_TOKENS_PER_LINE || l->len + need > ISUPPORT_LINE_BYTES)
        isupport_flush(l);
    if (l->ntokens)
        l->text[l->len++] = ' ';
    snprintf(l->text + l->len, sizeof l->text - l->len, "%s", token);
    l->len += strlen(l->text + l->len);
    l->ntokens++;
}

static void isupport_addf(struct isupport_line *l, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void isupport_addf(struct isupport_line *l, const char *fmt, ...)
{
    char token[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(token, sizeof token, fmt, ap);
    va_end(ap);
    isupport_add(l, token);
}

/* ISUPPORT values escape space, '=' and '\' (and anything non-printable
 * ASCII) as \xHH; UTF-8 passes through. */
static const char *isupport_escape(const char *in, char *out, size_t cap)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)in; *p && n + 5 < cap; p++) {
        if (*p <= 0x20 || *p == 0x7f || *p == '=' || *p == '\\')
            n += (size_t)snprintf(out + n, cap - n, "\\x%02X", *p);
        else
            out[n++] = (char)*p;
    }
    out[n] = '\0';
    return out;
}

void isupport_send(struct client *c)
{
    const struct qun_config *cfg = server_config;
    struct isupport_line l = {.c = c};
    char net[140];
    isupport_add(&l, "ACCOUNTEXTBAN=a");
    isupport_addf(&l, "AWAYLEN=%d", cfg->away_length);
    isupport_add(&l, "BOT=B"); /* user mode +B, cmd_mode.c */
    isupport_add(&l, "CASEMAPPING=rfc8265");
    isupport_addf(&l, "CHANLIMIT=#:%d", cfg->max_channels);
    isupport_add(&l, "CHANMODES=beI,k,l,imnst");
    isupport_addf(&l, "CHANNELLEN=%d", cfg->channel_length);
    isupport_add(&l, "CHANTYPES=#");
    isupport_addf(&l, "CHATHISTORY=%d", CHATHISTORY_MAX); /* cmd_chathistory.c */
    isupport_add(&l, "ELIST=CMNTU");
    isupport_add(&l, "EXCEPTS=e");
    isupport_add(&l, "EXTBAN=,am"); /* modeparse_ban_mask: a:<account>, m:<mask> */
    isupport_addf(&l, "HOSTLEN=%d", ISUPPORT_HOSTLEN);
    isupport_add(&l, "INVEX=I");
    isupport_addf(&l, "KEYLEN=%d", MODEPARSE_KEY_MAX);
    isupport_addf(&l, "KICKLEN=%d", cfg->kick_length);
    isupport_addf(&l, "MAXLIST=beI:%d", cfg->max_list);
    isupport_addf(&l, "MAXTARGETS=%d", cfg->max_targets);
    isupport_addf(&l, "MODES=%d", MODEPARSE_MAX_PARAM);
    isupport_add(&l, "MSGREFTYPES=msgid,timestamp"); /* CHATHISTORY references */
    if (cfg->monitor_max > 0)
        isupport_addf(&l, "MONITOR=%d", cfg->monitor_max);
    isupport_addf(&l, "NETWORK=%s", isupport_escape(cfg->network_name, net, sizeof net));
    isupport_addf(&l, "NICKLEN=%d", cfg->nick_length);
    isupport_add(&l, "PREFIX=(qov)~@+");
    isupport_add(&l, "SAFELIST");
    isupport_add(&l, "STATUSMSG=" MSGPATH_STATUSMSG); /* cmd_message.c, msgpath.c */
    isupport_addf(&l,
                  "TARGMAX=PRIVMSG:%d,NOTICE:%d,TAGMSG:%d,JOIN:,PART:,NAMES:%d,KICK:%d,WHOIS:1,"
                  "MONITOR:",
                  cfg->max_targets, cfg->max_targets, cfg->max_targets, cfg->max_targets,
                  cfg->max_targets);
    isupport_addf(&l, "TOPICLEN=%d", cfg->topic_length);
    isupport_addf(&l, "USERLEN=%d", cfg->user_length);
    isupport_add(&l, "UTF8ONLY");
    isupport_add(&l, "WHOX");
    isupport_flush(&l);
}
