/*
 * test_whowas.c - unit tests for the WHOWAS ring in irc/whowas.c.
 *
 * Drives whowas_add() with hand-built struct client values (no connection
 * is needed: recording only reads names) and checks whowas_find(): copies
 * of every field, newest-first order, the count limit, overwriting of the
 * oldest entry, re-sizing when the configured size changes, and a size of
 * 0. Every test ends with whowas_reset(), so ASan's leak check proves the
 * ring frees what it copied.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "irc/client.h"
#include "irc/server.h"
#include "irc/whowas.h"

static struct qun_config test_cfg;

/* What whowas_find visited, in order. */
struct seen {
    const struct whowas_entry *v[16];
    size_t n;
};

static void collect(const struct whowas_entry *e, void *ud)
{
    struct seen *s = ud;
    if (s->n < 16)
        s->v[s->n++] = e;
}

/* Records a client that looked like this. nick is ASCII lower-case
 * folded by hand, which is what casemap_fold gives for ASCII. */
static void record(const char *nick, const char *realname, const char *account)
{
    char folded[64];
    size_t i;
    for (i = 0; nick[i] && i + 1 < sizeof folded; i++)
        folded[i] = (char)((nick[i] >= 'A' && nick[i] <= 'Z') ? nick[i] + 32 : nick[i]);
    folded[i] = '\0';
    struct client c;
    memset(&c, 0, sizeof c);
    c.nick = (char *)nick;
    c.nick_folded = folded;
    c.user = (char *)"~u";
    c.host = (char *)"192.0.2.7";
    c.realname = (char *)realname;
    c.account = (char *)account;
    whowas_add(&c);
}

static size_t find(const char *folded, size_t max, struct seen *s)
{
    memset(s, 0, sizeof *s);
    return whowas_find(folded, max, collect, s);
}

static int setup(void **state)
{
    (void)state;
    memset(&test_cfg, 0, sizeof test_cfg);
    test_cfg.server_name = (char *)"irc.test";
    test_cfg.whowas_max = 8;
    server_config = &test_cfg;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    whowas_reset();
    server_config = NULL;
    return 0;
}

static void test_empty(void **state)
{
    (void)state;
    struct seen s;
    assert_int_equal(find("alice", 0, &s), 0);
}

static void test_fields_copied(void **state)
{
    (void)state;
    record("Alice", "Alice Liddell", "alice_acct");
    record("Bob", "Bob B", NULL);
    struct seen s;
    assert_int_equal(find("alice", 0, &s), 1);
    const struct whowas_entry *e = s.v[0];
    assert_string_equal(e->nick, "Alice");
    assert_string_equal(e->folded, "alice");
    assert_string_equal(e->user, "~u");
    assert_string_equal(e->host, "192.0.2.7");
    assert_string_equal(e->realname, "Alice Liddell");
    assert_string_equal(e->account, "alice_acct");
    assert_string_equal(e->server, "irc.test");
    assert_true(e->when > 0);
    assert_int_equal(find("bob", 0, &s), 1);
    assert_null(s.v[0]->account);
}

static void test_newest_first_and_count(void **state)
{
    (void)state;
    record("alice", "one", NULL);
    record("bob", "x", NULL);
    record("ALICE", "two", NULL);
    record("Alice", "three", NULL);
    struct seen s;
    assert_int_equal(find("alice", 0, &s), 3);
    assert_string_equal(s.v[0]->realname, "three");
    assert_string_equal(s.v[1]->realname, "two");
    assert_string_equal(s.v[2]->realname, "one");
    assert_string_equal(s.v[1]->nick, "ALICE"); /* display form kept */
    assert_int_equal(find("alice", 2, &s), 2);
    assert_string_equal(s.v[0]->realname, "three");
    assert_string_equal(s.v[1]->realname, "two");
    assert_int_equal(find("carol", 0, &s), 0);
}

static void test_oldest_overwritten(void **state)
{
    (void)state;
    test_cfg.whowas_max = 3;
    record("alice", "a1", NULL);
    record("bob", "b", NULL);
    record("alice", "a2", NULL);
    record("carol", "c", NULL); /* overwrites a1 */
    struct seen s;
    assert_int_equal(find("alice", 0, &s), 1);
    assert_string_equal(s.v[0]->realname, "a2");
    record("dave", "d", NULL); /* overwrites bob */
    assert_int_equal(find("bob", 0, &s), 0);
    assert_int_equal(find("carol", 0, &s), 1);
    assert_int_equal(find("dave", 0, &s), 1);
}

static void test_wraps_many_times(void **state)
{
    (void)state;
    test_cfg.whowas_max = 4;
    char name[16];
    for (int i = 0; i < 23; i++) {
        snprintf(name, sizeof name, "n%d", i);
        record("same", name, NULL);
    }
    struct seen s;
    assert_int_equal(find("same", 0, &s), 4);
    assert_string_equal(s.v[0]->realname, "n22");
    assert_string_equal(s.v[3]->realname, "n19");
}

static void test_shrink_keeps_newest(void **state)
{
    (void)state;
    test_cfg.whowas_max = 5;
    record("alice", "1", NULL);
    record("alice", "2", NULL);
    record("alice", "3", NULL);
    record("alice", "4", NULL);
    test_cfg.whowas_max = 2; /* a reload: applies at the next record */
    record("alice", "5", NULL);
    struct seen s;
    assert_int_equal(find("alice", 0, &s), 2);
    assert_string_equal(s.v[0]->realname, "5");
    assert_string_equal(s.v[1]->realname, "4");
}

static void test_grow_keeps_all(void **state)
{
    (void)state;
    test_cfg.whowas_max = 2;
    record("alice", "1", NULL);
    record("alice", "2", NULL);
    record("alice", "3", NULL); /* ring: 2, 3 */
    test_cfg.whowas_max = 6;
    record("alice", "4", NULL);
    record("alice", "5", NULL);
    struct seen s;
    assert_int_equal(find("alice", 0, &s), 4);
    assert_string_equal(s.v[0]->realname, "5");
    assert_string_equal(s.v[1]->realname, "4");
    assert_string_equal(s.v[2]->realname, "3");
    assert_string_equal(s.v[3]->realname, "2");
}

static void test_size_zero_keeps_nothing(void **state)
{
    (void)state;
    record("alice", "1", NULL);
    test_cfg.whowas_max = 0;
    record("alice", "2", NULL);
    struct seen s;
    assert_int_equal(find("alice", 0, &s), 0);
}

static void test_nickless_client_ignored(void **state)
{
    (void)state;
    struct client c;
    memset(&c, 0, sizeof c);
    whowas_add(&c);
    struct seen s;
    assert_int_equal(find("*", 0, &s), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fields_copied, setup, teardown),
        cmocka_unit_test_setup_teardown(test_newest_first_and_count, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oldest_overwritten, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wraps_many_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_shrink_keeps_newest, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grow_keeps_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_size_zero_keeps_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_nickless_client_ignored, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
