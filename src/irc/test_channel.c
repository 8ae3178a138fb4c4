/*
 * test_channel.c - unit tests for the list modes in irc/channel.c: the
 * shared list code (find up to case folding, ordered removal, the total
 * MAXLIST counts) and what +b, +e and +I entries, with the a: and m:
 * extbans, mean for joining and speaking.
 *
 * Clients here are plain structs with a nick, user, host and maybe an
 * account: list matching reads nothing else.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irc/channel.h"
#include "irc/client.h"

static void client_init(struct client *c, const char *nick, const char *user, const char *host,
                        const char *account)
{
    memset(c, 0, sizeof *c);
    c->nick = (char *)nick;
    c->nick_folded = (char *)nick;
    c->user = (char *)user;
    c->host = (char *)host;
    c->account = (char *)account;
}

static void add(struct channel *ch, enum chanlist_id id, const char *mask)
{
    chanlist_add(&ch->lists[id], mask, "op!o@h", 1000);
}

static struct channel *fresh(const char *name)
{
    struct channel *ch = channel_create(name);
    assert_non_null(ch);
    return ch;
}

static void test_list_find_remove(void **state)
{
    (void)state;
    struct channel *ch = fresh("#find");
    add(ch, CHANLIST_BAN, "a!*@*");
    add(ch, CHANLIST_BAN, "Bob!*@*");
    add(ch, CHANLIST_BAN, "c!*@*");
    add(ch, CHANLIST_EXCEPT, "d!*@*");
    assert_int_equal(channel_list_total(ch), 4);
    assert_int_equal(chanlist_find(&ch->lists[CHANLIST_BAN], "BOB!*@*"), 1);
    assert_int_equal(chanlist_find(&ch->lists[CHANLIST_BAN], "d!*@*"), -1);
    chanlist_remove(&ch->lists[CHANLIST_BAN], 0);
    /* order kept: the list is shown oldest first */
    assert_string_equal(ch->lists[CHANLIST_BAN].items[0].mask, "Bob!*@*");
    assert_string_equal(ch->lists[CHANLIST_BAN].items[1].mask, "c!*@*");
    assert_string_equal(ch->lists[CHANLIST_BAN].items[0].setter, "op!o@h");
    assert_int_equal(channel_list_total(ch), 3);
    channel_destroy(ch); /* frees every list */
}

static void test_ban_and_exception(void **state)
{
    (void)state;
    struct channel *ch = fresh("#ban");
    struct client bar, baz;
    client_init(&bar, "Bar", "~evan", "192.0.2.1", NULL);
    client_init(&baz, "baz", "~b", "192.0.2.2", NULL);
    add(ch, CHANLIST_BAN, "ba*!*@*");
    assert_true(channel_is_banned(ch, &bar)); /* case-insensitive */
    assert_true(channel_is_muted(ch, &bar));  /* a ban also silences */
    add(ch, CHANLIST_EXCEPT, "*ar!*@*");
    assert_false(channel_is_banned(ch, &bar));
    assert_false(channel_is_muted(ch, &bar));
    assert_true(channel_is_banned(ch, &baz));
    channel_destroy(ch);
}

static void test_mute(void **state)
{
    (void)state;
    struct channel *ch = fresh("#mute");
    struct client qux, other;
    client_init(&qux, "qux", "~evan", "192.0.2.3", NULL);
    client_init(&other, "other", "~o", "192.0.2.4", NULL);
    add(ch, CHANLIST_BAN, "m:qux!*@*");
    assert_false(channel_is_banned(ch, &qux)); /* a mute does not stop a join */
    assert_true(channel_is_muted(ch, &qux));
    assert_false(channel_is_muted(ch, &other));
    /* an m: exception lifts the mute ... */
    add(ch, CHANLIST_EXCEPT, "m:*!*evan@*");
    assert_false(channel_is_muted(ch, &qux));
    /* ... but not a full ban */
    add(ch, CHANLIST_BAN, "*!*@192.0.2.*");
    assert_true(channel_is_banned(ch, &qux));
    assert_true(channel_is_muted(ch, &qux));
    /* a plain exception lifts both */
    add(ch, CHANLIST_EXCEPT, "qux!*@*");
    assert_false(channel_is_banned(ch, &qux));
    assert_false(channel_is_muted(ch, &qux));
    channel_destroy(ch);
}

static void test_account_extban(void **state)
{
    (void)state;
    struct channel *ch = fresh("#acct");
    struct client in, out;
    client_init(&in, "n1", "~u", "h", "Alice");
    client_init(&out, "alice", "~u", "h", NULL);
    add(ch, CHANLIST_BAN, "a:alice");
    assert_true(channel_is_banned(ch, &in));
    assert_false(channel_is_banned(ch, &out)); /* logged out: never matches */
    add(ch, CHANLIST_BAN, "m:a:bob*");
    struct client bob;
    client_init(&bob, "x", "~x", "h", "bobby");
    assert_false(channel_is_banned(ch, &bob));
    assert_true(channel_is_muted(ch, &bob));
    channel_destroy(ch);
}

static void test_invite_exception(void **state)
{
    (void)state;
    struct channel *ch = fresh("#invex");
    struct client bar, baz;
    client_init(&bar, "bar", "~b", "h", NULL);
    client_init(&baz, "baz", "~b", "h", "acct");
    assert_false(channel_is_invex(ch, &bar));
    add(ch, CHANLIST_INVEX, "bar!*@*");
    add(ch, CHANLIST_INVEX, "a:acct");
    assert_true(channel_is_invex(ch, &bar));
    assert_true(channel_is_invex(ch, &baz));
    /* +I says nothing about bans */
    assert_false(channel_is_banned(ch, &bar));
    channel_destroy(ch);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_list_find_remove),
        cmocka_unit_test(test_ban_and_exception),
        cmocka_unit_test(test_mute),
        cmocka_unit_test(test_account_extban),
        cmocka_unit_test(test_invite_exception),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
