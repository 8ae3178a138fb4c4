/*
 * test_monitor.c - unit tests for the MONITOR bookkeeping in irc/monitor.c.
 *
 * Runs real MONITOR lines through monitor_command() for hand-built clients
 * and checks each client's own list (order, folding, duplicates, the
 * monitor_max limit, invalid targets, removal, C) and the watch table's
 * invariant that a forgotten client is never notified again.
 *
 * The clients have no transport connection: every line sent to the client
 * under test is captured by labeled-response (label_begin) and dropped
 * with label_forget(). A notification sent to any other client would
 * dereference its NULL connection and crash the test, which is exactly
 * what test_forget_stops_notifications relies on.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "config/config.h"
#include "irc/client.h"
#include "irc/monitor.h"
#include "irc/send.h"
#include "irc/server.h"
#include "net/conn.h"
#include "proto/message.h"

static struct qun_config test_cfg;

static int setup(void **state)
{
    (void)state;
    memset(&test_cfg, 0, sizeof test_cfg);
    test_cfg.server_name = (char *)"irc.test";
    test_cfg.nick_length = 30;
    test_cfg.monitor_max = 3;
    test_cfg.whowas_max = 0;
    server_config = &test_cfg;
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    server_config = NULL;
    return 0;
}

static void watcher_init(struct client *w, const char *nick)
{
    memset(w, 0, sizeof *w);
    w->nick = (char *)nick;
    w->nick_folded = (char *)nick;
    w->state = CLIENT_REGISTERED;
}

/* Runs one MONITOR line as w, capturing and dropping its replies. */
static void run(struct client *w, const char *line)
{
    char buf[600];
    struct irc_msg m;
    snprintf(buf, sizeof buf, "%s", line);
    assert_int_equal(irc_msg_parse(buf, strlen(buf), &m), IRC_PARSE_OK);
    label_begin(w, "t");
    monitor_command(w, &m);
    label_forget(w);
}

static void assert_list(const struct client *w, const char *const *want, size_t n)
{
    assert_int_equal(w->nmonitors, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(w->monitors[i], want[i]);
}

static void test_add_folds_and_keeps_order(void **state)
{
    (void)state;
    struct client w;
    watcher_init(&w, "w");
    run(&w, "MONITOR + Bob,alice");
    const char *const want[] = {"bob", "alice"};
    assert_list(&w, want, 2);
    monitor_forget(&w);
    assert_int_equal(w.nmonitors, 0);
    assert_null(w.monitors);
}

static void test_duplicates_not_added(void **state)
{
    (void)state;
    struct client w;
    watcher_init(&w, "w");
    run(&w, "MONITOR + bob,BOB,,Bob");
    run(&w, "MONITOR + bOb");
    const char *const want[] = {"bob"};
    assert_list(&w, want, 1);
    monitor_forget(&w);
}

static void test_limit(void **state)
{
    (void)state;
    struct client w;
    watcher_init(&w, "w");
    run(&w, "MONITOR + a,b,c,d,e");
    const char *const want[] = {"a", "b", "c"};
    assert_list(&w, want, 3);
    run(&w, "MONITOR + a,f"); /* a already there: no room needed for it */
    assert_list(&w, want, 3);
    run(&w, "MONITOR - b");
    run(&w, "MONITOR + f");
    const char *const want2[] = {"a", "c", "f"};
    assert_list(&w, want2, 3);
    monitor_forget(&w);
}

static void test_zero_limit_refuses_all(void **state)
{
    (void)state;
    test_cfg.monitor_max = 0;
    struct client w;
    watcher_init(&w, "w");
    run(&w, "MONITOR + a");
    assert_int_equal(w.nmonitors, 0);
}

static void test_invalid_targets_skipped(void **state)
{
    (void)state;
    struct client w;
    watcher_init(&w, "w");
    run(&w, "MONITOR + 1abc,#chan,a!b,ok");
    const char *const want[] = {"ok"};
    assert_list(&w, want, 1);
    monitor_forget(&w);
}

static void test_remove_and_clear(void **state)
{
    (void)state;
    test_cfg.monitor_max = 10;
    struct client w;
    watcher_init(&w, "w");
    run(&w, "MONITOR + a,b,c,d");
    run(&w, "MONITOR - B,zz,d");
    const char *const want[] = {"a", "c"};
    assert_list(&w, want, 2);
    run(&w, "MONITOR L");
    run(&w, "MONITOR S");
    run(&w, "MONITOR C");
    assert_int_equal(w.nmonitors, 0);
    run(&w, "MONITOR + e");
    const char *const want2[] = {"e"};
    assert_list(&w, want2, 1);
    monitor_forget(&w);
}

static void test_bad_modifier_changes_nothing(void **state)
{
    (void)state;
    struct client w;
    watcher_init(&w, "w");
    run(&w, "MONITOR + a");
    run(&w, "MONITOR X a");
    run(&w, "MONITOR +");
    run(&w, "MONITOR ++ b");
    const char *const want[] = {"a"};
    assert_list(&w, want, 1);
    monitor_forget(&w);
}

/* w1 and w2 watch "x"; w1 forgets; "x" comes online and goes offline. Only
 * w2 (captured) may be notified: a stale pointer to w1 would crash. */
static void test_forget_stops_notifications(void **state)
{
    (void)state;
    struct client w1, w2;
    watcher_init(&w1, "w1");
    watcher_init(&w2, "w2");
    run(&w1, "MONITOR + x");
    run(&w2, "MONITOR + X");
    monitor_forget(&w1);

    struct conn conn;
    memset(&conn, 0, sizeof conn);
    snprintf(conn.ip, sizeof conn.ip, "192.0.2.1");
    struct client *t = client_create(&conn);
    assert_true(client_set_nick(t, "X"));
    t->user = strdup("~x");
    t->state = CLIENT_REGISTERED;
    client_note_registered(t);

    label_begin(&w2, "t");
    monitor_notify_online(t);
    client_destroy(t, "bye"); /* announces x offline to w2 */
    label_forget(&w2);
    monitor_forget(&w2);
}

/* A user who only changes the case of their nick (x -> X) does not leave:
 * w, not captured, would crash on any notification. Renaming to "y" then
 * does notify (w captured), and the watch lookup follows the nick. */
static void test_case_change_is_silent(void **state)
{
    (void)state;
    struct client w;
    watcher_init(&w, "w");
    run(&w, "MONITOR + x");

    struct conn conn;
    memset(&conn, 0, sizeof conn);
    snprintf(conn.ip, sizeof conn.ip, "192.0.2.1");
    struct client *t = client_create(&conn);
    assert_true(client_set_nick(t, "x"));
    t->user = strdup("~x");
    t->state = CLIENT_REGISTERED;
    client_note_registered(t);

    size_t n = 0;
    struct client *const *ws = monitor_watchers(t, &n);
    assert_int_equal(n, 1);
    assert_ptr_equal(ws[0], &w);

    char *old_folded = strdup(t->nick_folded), *old_nick = strdup(t->nick);
    assert_true(client_set_nick(t, "X"));
    monitor_notify_nick_change(t, old_folded, old_nick); /* must send nothing */
    assert_non_null(monitor_watchers(t, &n));
    assert_int_equal(n, 1);
    free(old_folded);
    free(old_nick);

    old_folded = strdup(t->nick_folded);
    old_nick = strdup(t->nick);
    assert_true(client_set_nick(t, "y"));
    label_begin(&w, "t");
    monitor_notify_nick_change(t, old_folded, old_nick); /* 731 X to w */
    label_forget(&w);
    assert_null(monitor_watchers(t, &n));
    assert_int_equal(n, 0);
    free(old_folded);
    free(old_nick);

    client_destroy(t, "bye"); /* nobody watches "y" */
    monitor_forget(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_add_folds_and_keeps_order, setup, teardown),
        cmocka_unit_test_setup_teardown(test_duplicates_not_added, setup, teardown),
        cmocka_unit_test_setup_teardown(test_limit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_zero_limit_refuses_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_invalid_targets_skipped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_remove_and_clear, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_modifier_changes_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forget_stops_notifications, setup, teardown),
        cmocka_unit_test_setup_teardown(test_case_change_is_silent, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
