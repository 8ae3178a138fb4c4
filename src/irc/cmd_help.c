/*
 * cmd_help.c - HELP and HELPOP: a short description of every command.
 *
 * Owns the help texts and the reply format (Modern IRC):
 *
 *   HELP            704 <nick> * :<first line of the index>
 *                   705 <nick> * :<line>            (zero or more)
 *                   706 <nick> * :End of /HELP
 *   HELP <topic>    the same with <topic> (upper-cased) as the subject
 *   unknown topic   524 <nick> <topic> :No help available on this topic
 *
 * HELPOP is the same command under its older name. Topics are command
 * names, compared without regard to ASCII case.
 *
 * Invariants (test_help.c checks them):
 *   1. Every command in the dispatch table has a topic (help_lookup), so
 *      the index, which is built from the dispatch table, lists nothing
 *      without help.
 *   2. Each text is one or more lines of at most HELP_LINE_MAX bytes,
 *      separated by '\n', starting with the command's syntax. A line may
 *      be empty; it is sent as a single space so that it stays a visible
 *      line in every client.
 *
 * Syntax notation: <x> is required, [x] optional, {,x} repeats.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "irc/client.h"
#include "irc/commands.h"
#include "irc/numeric.h"
#include "irc/send.h"
#include "proto/message.h"

/* Longest help line; leaves room for ":server 705 nick TOPIC :" in 512. */
#define HELP_LINE_MAX 300
/* Longest topic echoed back in a reply; longer ones are answered with "*". */
#define HELP_TOPIC_MAX 32
/* Command names per line of the index. */
#define HELP_INDEX_PER_LINE 8

struct help_topic {
    const char *name;
    const char *text;
};

/* Alphabetical. Keep each text short: syntax, then what it does. */
static const struct help_topic help_topics[] = {
    {"ADMIN", "ADMIN [<server>]\n"
              "Shows who runs this server and how to reach them."},
    {"AUTHENTICATE", "AUTHENTICATE <mechanism> | AUTHENTICATE <base64> | AUTHENTICATE *\n"
                     "SASL login (IRCv3 sasl): PLAIN, EXTERNAL (TLS client\n"
                     "certificate) or SCRAM-SHA-256. Request the sasl capability first."},
    {"AWAY", "AWAY [:<message>]\n"
             "With a message, marks you away: people who message you get it\n"
             "as a reply. Without one, marks you back."},
    {"CAP", "CAP LS [302] | CAP LIST | CAP REQ :<cap> [-<cap>]... | CAP END\n"
            "Negotiates IRCv3 capabilities. LS lists what the server offers,\n"
            "REQ enables (or, with -, disables) capabilities all at once or\n"
            "not at all, END finishes negotiation during registration."},
    {"HELP", "HELP [<command>]\n"
             "Without a command, lists the commands; with one, describes it."},
    {"HELPOP", "HELPOP [<command>]\n"
               "The same as HELP."},
    {"INFO", "INFO [<server>]\n"
             "Shows the server software, name, network and start time."},
    {"INVITE", "INVITE <nick> <#channel> | INVITE\n"
               "Invites a user to a channel, letting them join past +i (and\n"
               "+l, +b). Without parameters, lists your pending invitations."},
    {"ISON", "ISON <nick> [<nick>]...\n"
             "Replies with those of the given nicks that are online."},
    {"JOIN", "JOIN <#channel>{,<#channel>} [<key>{,<key>}] | JOIN 0\n"
             "Joins channels, creating those that do not exist.\n"
             "JOIN 0 leaves every channel you are in."},
    {"KICK", "KICK <#channel> <nick>{,<nick>} [:<reason>]\n"
             "Removes users from a channel. Needs channel operator (@)."},
    {"KILL", "KILL <nick> [:<reason>]\n"
             "Disconnects a user. Server operators only."},
    {"LINKS", "LINKS [[<server>] <mask>]\n"
              "Lists the servers whose names match mask: this one only."},
    {"LIST", "LIST [<filter>{,<filter>}]\n"
             "Lists channels with their member counts and topics. Filters:\n"
             "a name or glob, !glob, <n or >n members, C<n or C>n minutes\n"
             "since creation, T<n or T>n minutes since the topic was set."},
    {"LUSERS", "LUSERS [<mask> [<server>]]\n"
               "Shows how many users, operators and channels there are."},
    {"NICKSERV", "NICKSERV <command> [<arguments>]  (also NS, or /msg NickServ)\n"
                 "The account service: REGISTER, IDENTIFY, VERIFY, PHONE,\n"
                 "IDENTITY, CONVENTION, ACCEPT, STATUS, INFO, SET PASSWORD,\n"
                 "GHOST, REGAIN, DROP, CERT. NICKSERV HELP explains each."},
    {"NS", "NS <command> [<arguments>]\n"
           "Short for NICKSERV: the account service (NS HELP lists its commands)."},
    {"CHANSERV", "CHANSERV <command> [<arguments>]  (also CS, or /msg ChanServ)\n"
                 "The group service: INFO, SET, OP, DEOP, VOICE, DEVOICE,\n"
                 "TRANSFER, ACCEPT, CANCEL, DISSOLVE, MUTE, UNMUTE, MUTEALL,\n"
                 "UNMUTEALL, KICK, BAN, UNBAN, TOPIC, REQUESTS, APPROVE, DENY.\n"
                 "CHANSERV HELP explains each."},
    {"CS", "CS <command> [<arguments>]\n"
           "Short for CHANSERV: the group service (CS HELP lists its commands)."},
    {"MODE", "MODE <nick> [<modes>] | MODE <#channel> [<modes> [<params>]...]\n"
             "Shows or changes your user modes or a channel's modes.\n"
             "User modes: +i invisible, +w receive WALLOPS, +B bot,\n"
             "+o operator (set by OPER only). Channel modes are listed in\n"
             "ISUPPORT CHANMODES and PREFIX; changing them needs @."},
    {"MONITOR", "MONITOR + <nick>{,<nick>} | MONITOR - <nick>{,<nick>} |\n"
                "MONITOR C | MONITOR L | MONITOR S\n"
                "Watches nicks and tells you when they come online or go\n"
                "offline: + adds, - removes, C clears, L lists, S shows status."},
    {"MOTD", "MOTD [<server>]\n"
             "Shows the message of the day."},
    {"NAMES", "NAMES [<#channel>{,<#channel>}]\n"
              "Lists the members of channels, with their prefixes."},
    {"NICK", "NICK <nickname>\n"
             "Sets or changes your nickname."},
    {"NOTICE", "NOTICE <target>{,<target>} :<text>\n"
               "Like PRIVMSG, but never answered automatically and never\n"
               "answered with an error."},
    {"OPER", "OPER <name> <password>\n"
             "Makes you a server operator (+o)."},
    {"PART", "PART <#channel>{,<#channel>} [:<reason>]\n"
             "Leaves channels."},
    {"PASS", "PASS <password>\n"
             "Gives the connection password, before NICK and USER."},
    {"PING", "PING <token>\n"
             "Asks the server to answer PONG with the same token."},
    {"PONG", "PONG <token>\n"
             "Answers a PING from the server."},
    {"PRIVMSG", "PRIVMSG <target>{,<target>} :<text>\n"
                "Sends a message to a nick or a channel. A channel name\n"
                "prefixed with ~, @ or + (e.g. @#chan) reaches only members\n"
                "with at least that rank (ISUPPORT STATUSMSG)."},
    {"QUIT", "QUIT [:<reason>]\n"
             "Disconnects you; others in your channels see the reason."},
    {"SETNAME", "SETNAME :<realname>\n"
                "Changes your real name (the setname capability)."},
    {"TAGMSG", "TAGMSG <target>{,<target>}\n"
               "Sends only client tags (message-tags), e.g. typing\n"
               "notifications, to a nick or channel."},
    {"TIME", "TIME [<server>]\n"
             "Shows the server's current time."},
    {"TOPIC", "TOPIC <#channel> [:<topic>]\n"
              "Shows or sets a channel's topic; an empty topic clears it.\n"
              "With +t only channel operators may set it."},
    {"CHATHISTORY", "CHATHISTORY LATEST|BEFORE|AFTER|AROUND <target> <ref> <limit>\n"
                    "CHATHISTORY BETWEEN <target> <ref> <ref> <limit>\n"
                    "CHATHISTORY TARGETS <timestamp=> <timestamp=> <limit>\n"
                    "Replays history from the network log (IRCv3 chathistory): a channel\n"
                    "you are in, or your direct messages with a nick. <ref> is * (LATEST\n"
                    "only), msgid=<id> or timestamp=YYYY-MM-DDThh:mm:ss.sssZ."},
    {"REPORT", "REPORT <msgid|nick|#group> <category> :<text>\n"
               "Files a complaint about a message (msgid, or msgid=<id>), a user or a\n"
               "group (#name or code). You get its number at once (NOTE REPORT FILED)\n"
               "and the outcome later from ReportServ. /msg ReportServ CATEGORIES."},
    {"REDACT", "REDACT <#group> <msgid> [:<reason>]\n"
               "Removes a message from view (IRCv3 message-redaction). The author or\n"
               "the group's managers may do it; the message stays in the network log."},
    {"REGISTER", "REGISTER <account>|* <phone>|* :<password>\n"
                 "Registers an account (IRCv3 account-registration); * takes your\n"
                 "nick. With a phone number (+8613800138000) a code is sent by\n"
                 "SMS: confirm it with VERIFY. Works before connecting too."},
    {"USER", "USER <username> 0 * :<realname>\n"
             "Gives your username and real name while registering."},
    {"USERHOST", "USERHOST <nick> [<nick>]...\n"
                 "Shows user@host, operator and away status of up to 5 nicks."},
    {"VERIFY", "VERIFY <account> <code>\n"
               "Confirms the code sent to your phone by REGISTER (level 1)."},
    {"VERSION", "VERSION [<server>]\n"
                "Shows the server version and its ISUPPORT tokens."},
    {"WALLOPS", "WALLOPS :<text>\n"
                "Sends a message to every user with +w. Server operators only."},
    {"WHO", "WHO [<mask> [o | %<fields>[,<token>]]]\n"
            "Lists users in a channel or matching a mask; o lists only\n"
            "operators; %fields asks for WHOX replies (354) with the given\n"
            "fields from tcuihsnfdlaor."},
    {"WHOIS", "WHOIS [<server>] <nick>\n"
              "Shows details about a user: host, channels, idle time, away."},
    {"WHOWAS", "WHOWAS <nick> [<count>]\n"
               "Shows details about users who recently had a nick."},
};
#define HELP_TOPIC_COUNT (sizeof help_topics / sizeof help_topics[0])

const char *help_lookup(const char *topic)
{
    for (size_t i = 0; i < HELP_TOPIC_COUNT; i++)
        if (strcasecmp(help_topics[i].name, topic) == 0)
            return help_topics[i].text;
    return NULL;
}

/* Sends text line by line: the first as 704, the rest as 705, then 706. */
static void help_send_text(struct client *c, const char *subject, const char *text)
{
    int numeric = RPL_HELPSTART;
    const char *p = text;
    for (;;) {
        size_t n = strcspn(p, "\n");
        send_numeric(c, numeric, "%s :%.*s", subject, n ? (int)n : 1, n ? p : " ");
        numeric = RPL_HELPTXT;
        if (!p[n])
            break;
        p += n + 1;
    }
    send_numeric(c, RPL_ENDOFHELP, "%s :End of /HELP", subject);
}

/* The index: an introduction, then the command names from the dispatch
 * table, HELP_INDEX_PER_LINE per line. */
static void help_send_index(struct client *c)
{
    char text[2048];
    size_t n = (size_t)snprintf(text, sizeof text,
                                "Qun help. HELP <command> describes a command.\n"
                                "Commands:");
    const char *name;
    for (size_t i = 0; (name = dispatch_command_name(i)) && n < sizeof text - 32; i++) {
        const char *sep = i % HELP_INDEX_PER_LINE == 0 ? "\n" : " ";
        n += (size_t)snprintf(text + n, sizeof text - n, "%s%s", sep, name);
    }
    help_send_text(c, "*", text);
}

/* HELP [<topic>] and HELPOP [<topic>] */
void cmd_help(struct client *c, struct irc_msg *m)
{
    const char *topic = m->nparams ? m->params[0] : "";
    if (!topic[0]) {
        help_send_index(c);
        return;
    }
    const char *text = help_lookup(topic);
    /* the topic is echoed as a middle parameter: it must be one */
    bool echo_ok = strlen(topic) <= HELP_TOPIC_MAX && topic[0] != ':' && !strchr(topic, ' ');
    if (!text) {
        send_numeric(c, ERR_HELPNOTFOUND, "%s :No help available on this topic",
                     echo_ok ? topic : "*");
        return;
    }
    char subject[HELP_TOPIC_MAX + 1];
    size_t i;
    for (i = 0; topic[i] && i < HELP_TOPIC_MAX; i++)
        subject[i] = (topic[i] >= 'a' && topic[i] <= 'z') ? (char)(topic[i] - 32) : topic[i];
    subject[i] = '\0';
    help_send_text(c, subject, text);
}
