/*
 * msgpath.c - record-then-deliver for chat messages (see msgpath.h).
 */
#include "irc/msgpath.h"

#include <string.h>

#include "irc/caps.h"
#include "irc/channel.h"
#include "irc/client.h"
#include "irc/send.h"
#include "util/alloc.h"

static const char *const chat_commands[] = {"PRIVMSG", "NOTICE", "TAGMSG"};

static void chat_msg_free(struct chat_msg *cm)
{
    free(cm->sender_prefix);
    free(cm->sender_account);
    free(cm->target);
    free(cm->text);
    free(cm->client_tags);
    free(cm);
}

static void chat_event(const struct chat_msg *cm, struct irc_event *ev)
{
    memset(ev, 0, sizeof *ev);
    ev->source = cm->sender_prefix;
    ev->command = chat_commands[cm->kind];
    ev->params[ev->nparams++] = cm->target;
    if (cm->text) {
        ev->params[ev->nparams++] = cm->text;
        ev->trailing = true;
    }
    ev->msgid = cm->msgid;
    ev->time_ms = cm->time_ms;
    ev->account = cm->sender_account;
    ev->client_tags = cm->client_tags;
}

/* Delivery to everyone concerned. The sender and recipient are the ones
 * resolved at submission; when delivery becomes asynchronous they will be
 * looked up again by id and name here. */
static void msgpath_deliver(struct chat_msg *cm, struct client *sender, struct channel *ch,
                            struct client *to)
{
    struct irc_event ev;
    chat_event(cm, &ev);
    uint32_t need = cm->kind == CHAT_TAGMSG ? CAP_MESSAGE_TAGS : 0;
    if (ch)
        send_to_channel(ch, &ev, sender, need, need);
    else if (to == sender && (to->caps & need) == need)
        send_event_unlabeled(to, &ev);
    else if ((to->caps & need) == need)
        send_event(to, &ev);
    if (sender && (sender->caps & CAP_ECHO_MESSAGE) && (sender->caps & need) == need)
        send_event(sender, &ev);
}

void msgpath_submit(struct client *c, struct channel *ch, struct client *to, enum chat_kind kind,
                    const char *text, const char *client_tags)
{
    char prefix[512];
    struct chat_msg *cm = xcalloc(1, sizeof *cm);
    cm->kind = kind;
    cm->sender_id = c->id;
    cm->sender_prefix = xstrdup(client_prefix(c, prefix, sizeof prefix));
    cm->sender_account = c->account ? xstrdup(c->account) : NULL;
    cm->target = xstrdup(ch ? ch->name : to->nick);
    cm->to_channel = ch != NULL;
    cm->text = text ? xstrdup(text) : NULL;
    cm->client_tags = client_tags && client_tags[0] ? xstrdup(client_tags) : NULL;
    msgid_new(cm->msgid, sizeof cm->msgid);
    cm->time_ms = time_now_ms();
    /* The network log append goes here; delivery then happens from its
     * durable-completion callback. */
    msgpath_deliver(cm, c, ch, to);
    chat_msg_free(cm);
}
