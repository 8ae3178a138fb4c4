/*
 * test_session.c - unit tests of console sessions (src/console/session.c)
 * over the operator directory without a store (src/console/operator.c).
 *
 * Operators are added with operator__test_add and a hash made with
 * libsodium's minimum argon2id cost; logins run the real password check
 * on the libuv pool (the loop is run until the callback). The clock is
 * injected (session__now), so expiry and throttling windows are crossed
 * without sleeping. Each test ends by proving the loop closes with
 * nothing left and no session is left open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <sodium.h>

#include "config/config.h"
#include "console/session.h"

static uv_loop_t loop;
static int64_t now_s;
static struct qun_config cfg;

static int64_t fake_now(void)
{
    return now_s;
}

struct login_result {
    int calls;
    int status;
    struct session_grant grant;
};

static void on_login(void *ud, int status, const struct session_grant *g)
{
    struct login_result *r = ud;
    r->calls++;
    r->status = status;
    if (g)
        r->grant = *g;
}

/* Logs in and runs the loop until the answer; returns the status (the
 * immediate one when the attempt is refused at once). */
static int login(const char *name, const char *pw, const char *ip, struct login_result *r)
{
    memset(r, 0, sizeof *r);
    int rc = session_login(name, pw, strlen(pw), ip, NULL, on_login, r);
    if (rc != SESSION_OK)
        return rc;
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r->calls, 1);
    return r->status;
}

static void add_operator(const char *name, enum operator_role role, const char *pw)
{
    char hash[crypto_pwhash_STRBYTES];
    assert_int_equal(crypto_pwhash_str(hash, pw, strlen(pw), password_params_min.opslimit,
                                       password_params_min.memlimit),
                     0);
    assert_non_null(operator__test_add(name, role, hash));
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    char err[200];
    assert_int_equal(operator_directory_load(&loop, NULL, &password_params_min, err, sizeof err),
                     0);
    now_s = 1800000000;
    session__now = fake_now;
    memset(&cfg, 0, sizeof cfg);
    cfg.console_session_idle_minutes = 30;
    cfg.console_session_lifetime_hours = 12;
    cfg.console_login_failures = 5;
    cfg.console_login_window = 900;
    cfg.console_max_sessions = 1000;
    session_configure(&cfg);
    add_operator("alice", OPERATOR_ADMINISTRATOR, "alice-password-1");
    add_operator("mod", OPERATOR_MODERATOR, "mod-password-12");
    add_operator("aud", OPERATOR_AUDITOR, "aud-password-12");
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    session_free_all();
    assert_int_equal(session_count(), 0);
    operator_directory_free();
    session__now = NULL;
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    return 0;
}

static bool is_hex64(const char *s)
{
    if (strlen(s) != 64)
        return false;
    for (size_t i = 0; i < 64; i++)
        if (!strchr("0123456789abcdef", s[i]))
            return false;
    return true;
}

/* A good login gives a 256-bit token and a different CSRF token; the
 * session is found by the token only, and the CSRF check is exact. */
static void test_login_token_and_csrf(void **state)
{
    (void)state;
    struct login_result r, r2;
    assert_int_equal(login("alice", "alice-password-1", "127.0.0.1", &r), SESSION_OK);
    assert_true(is_hex64(r.grant.token));
    assert_true(is_hex64(r.grant.csrf));
    assert_string_not_equal(r.grant.token, r.grant.csrf);
    assert_int_equal(session_count(), 1);

    int st;
    const struct console_session *s = session_find(r.grant.token, &st);
    assert_int_equal(st, SESSION_OK);
    assert_non_null(s);
    assert_string_equal(s->name, "alice");
    /* only the hash of the token is kept */
    assert_null(memmem(s, sizeof *s, r.grant.token, 64));

    assert_true(session_csrf_ok(s, r.grant.csrf));
    char wrong[65];
    memcpy(wrong, r.grant.csrf, sizeof wrong);
    wrong[63] = wrong[63] == '0' ? '1' : '0';
    assert_false(session_csrf_ok(s, wrong));
    assert_false(session_csrf_ok(s, ""));
    assert_false(session_csrf_ok(s, NULL));
    wrong[10] = '\0';
    assert_false(session_csrf_ok(s, wrong));
    assert_false(session_csrf_ok(s, r.grant.token));

    /* tokens that are not ours, or malformed */
    assert_null(session_find(r.grant.csrf, &st));
    assert_int_equal(st, SESSION_ERR_NONE);
    assert_null(session_find("", &st));
    assert_null(session_find(NULL, &st));
    char upper[65];
    memcpy(upper, r.grant.token, sizeof upper);
    for (int i = 0; i < 64; i++)
        if (upper[i] >= 'a')
            upper[i] = (char)(upper[i] - 32);
    assert_null(session_find(upper, &st));

    /* a second login is another session with fresh tokens */
    assert_int_equal(login("alice", "alice-password-1", "127.0.0.1", &r2), SESSION_OK);
    assert_string_not_equal(r.grant.token, r2.grant.token);
    assert_string_not_equal(r.grant.csrf, r2.grant.csrf);
    assert_int_equal(session_count(), 2);

    /* logout ends exactly that one */
    assert_int_equal(session_logout(r.grant.token), SESSION_OK);
    assert_int_equal(session_logout(r.grant.token), SESSION_ERR_NONE);
    assert_null(session_find(r.grant.token, &st));
    assert_non_null(session_find(r2.grant.token, &st));
    assert_int_equal(session_count(), 1);
}

static void test_bad_credentials(void **state)
{
    (void)state;
    struct login_result r;
    assert_int_equal(login("alice", "wrong-password-1", "10.0.0.1", &r), SESSION_ERR_CREDENTIALS);
    assert_int_equal(login("nosuch", "alice-password-1", "10.0.0.2", &r), SESSION_ERR_CREDENTIALS);
    assert_int_equal(login("NOT A NAME\n", "x", "10.0.0.3", &r), SESSION_ERR_CREDENTIALS);
    memset(&r, 0, sizeof r);
    assert_int_equal(session_login("alice", "", 0, "10.0.0.4", NULL, on_login, &r), SESSION_OK);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(r.status, SESSION_ERR_CREDENTIALS);
    assert_int_equal(session_count(), 0);
}

/* Roles map one to one onto the ctl roles; the actor names the operator. */
static void test_principal(void **state)
{
    (void)state;
    const char *names[] = {"alice", "mod", "aud"};
    const char *pws[] = {"alice-password-1", "mod-password-12", "aud-password-12"};
    const unsigned want[] = {CTL_ROLE_ADMINISTRATOR, CTL_ROLE_MODERATOR, CTL_ROLE_AUDITOR};
    for (int i = 0; i < 3; i++) {
        struct login_result r;
        assert_int_equal(login(names[i], pws[i], "127.0.0.1", &r), SESSION_OK);
        int st;
        const struct console_session *s = session_find(r.grant.token, &st);
        assert_non_null(s);
        assert_int_equal(session_roles(s), want[i]);
        char actor[CTL_ACTOR_MAX], expect[CTL_ACTOR_MAX];
        session_actor(s, actor, sizeof actor);
        snprintf(expect, sizeof expect, "console:%s", names[i]);
        assert_string_equal(actor, expect);
    }
}

/* Idle timeout and absolute lifetime, with the injected clock. */
static void test_expiry(void **state)
{
    (void)state;
    struct login_result r;
    int st;
    assert_int_equal(login("mod", "mod-password-12", "127.0.0.1", &r), SESSION_OK);
    now_s += 29 * 60;
    assert_non_null(session_find(r.grant.token, &st)); /* used: idle restarts */
    now_s += 29 * 60;
    assert_non_null(session_find(r.grant.token, &st));
    now_s += 30 * 60; /* 30 idle minutes */
    assert_null(session_find(r.grant.token, &st));
    assert_int_equal(st, SESSION_ERR_EXPIRED);
    assert_int_equal(session_count(), 0);
    assert_null(session_find(r.grant.token, &st)); /* ended for good */
    assert_int_equal(st, SESSION_ERR_NONE);

    /* busy all day: the lifetime still ends it after 12 hours */
    assert_int_equal(login("mod", "mod-password-12", "127.0.0.1", &r), SESSION_OK);
    int64_t start = now_s;
    while (now_s + 20 * 60 < start + 12 * 3600) {
        now_s += 20 * 60;
        assert_non_null(session_find(r.grant.token, &st));
    }
    now_s = start + 12 * 3600;
    assert_null(session_find(r.grant.token, &st));
    assert_int_equal(st, SESSION_ERR_EXPIRED);

    /* a reload with a shorter idle time applies at once */
    assert_int_equal(login("mod", "mod-password-12", "127.0.0.1", &r), SESSION_OK);
    cfg.console_session_idle_minutes = 1;
    session_configure(&cfg);
    now_s += 61;
    assert_null(session_find(r.grant.token, &st));
    assert_int_equal(st, SESSION_ERR_EXPIRED);
}

/* A new password for the operator ends its sessions (generation). */
static void test_password_change_ends_sessions(void **state)
{
    (void)state;
    struct login_result r;
    int st;
    assert_int_equal(login("aud", "aud-password-12", "127.0.0.1", &r), SESSION_OK);
    add_operator("aud", OPERATOR_AUDITOR, "aud-password-new");
    assert_null(session_find(r.grant.token, &st));
    assert_int_equal(st, SESSION_ERR_EXPIRED);
    assert_int_equal(login("aud", "aud-password-12", "127.0.0.1", &r), SESSION_ERR_CREDENTIALS);
    assert_int_equal(login("aud", "aud-password-new", "127.0.0.1", &r), SESSION_OK);
}

/* Five failures per name (any address) or per address (any name) within
 * 15 minutes; refused attempts are answered at once and not counted. */
static void test_throttling(void **state)
{
    (void)state;
    struct login_result r;
    for (int i = 0; i < 5; i++) {
        char ip[32];
        snprintf(ip, sizeof ip, "10.1.0.%d", i);
        assert_int_equal(login("alice", "bad-password-x", ip, &r), SESSION_ERR_CREDENTIALS);
        now_s += 10;
    }
    /* by name: even the right password from a fresh address is refused */
    int64_t retry = 0;
    memset(&r, 0, sizeof r);
    assert_int_equal(
        session_login("alice", "alice-password-1", 16, "10.9.9.9", &retry, on_login, &r),
        SESSION_ERR_THROTTLED);
    assert_int_equal(r.calls, 0);
    assert_true(retry > 0 && retry <= 900);
    assert_false(session_login_allowed("alice", NULL, NULL));
    assert_true(session_login_allowed("mod", "10.9.9.9", NULL));
    /* once the first failure ages out, one more attempt is allowed */
    now_s += retry;
    assert_int_equal(login("alice", "alice-password-1", "10.9.9.9", &r), SESSION_OK);
    /* the success cleared the name's count */
    assert_true(session_login_allowed("alice", NULL, NULL));

    /* by address: five names from one address */
    const char *names[] = {"u1", "u2", "u3", "u4", "u5"};
    for (int i = 0; i < 5; i++)
        assert_int_equal(login(names[i], "whatever-pass", "192.0.2.7", &r),
                         SESSION_ERR_CREDENTIALS);
    assert_int_equal(login("mod", "mod-password-12", "192.0.2.7", &r), SESSION_ERR_THROTTLED);
    assert_int_equal(login("mod", "mod-password-12", "192.0.2.8", &r), SESSION_OK);
}

/* console.max_sessions and the per-operator cap. */
static void test_session_caps(void **state)
{
    (void)state;
    struct login_result r, first;
    int st;
    assert_int_equal(login("alice", "alice-password-1", "127.0.0.1", &first), SESSION_OK);
    for (int i = 1; i < SESSION_PER_OPERATOR; i++)
        assert_int_equal(login("alice", "alice-password-1", "127.0.0.1", &r), SESSION_OK);
    assert_int_equal(session_count(), SESSION_PER_OPERATOR);
    assert_non_null(session_find(first.grant.token, &st));
    /* one more: the oldest of alice's ends */
    assert_int_equal(login("alice", "alice-password-1", "127.0.0.1", &r), SESSION_OK);
    assert_int_equal(session_count(), SESSION_PER_OPERATOR);
    assert_null(session_find(first.grant.token, &st));

    session_free_all();
    cfg.console_max_sessions = 2;
    session_configure(&cfg);
    assert_int_equal(login("alice", "alice-password-1", "127.0.0.1", &r), SESSION_OK);
    assert_int_equal(login("mod", "mod-password-12", "127.0.0.1", &r), SESSION_OK);
    assert_int_equal(login("aud", "aud-password-12", "127.0.0.1", &r), SESSION_ERR_BUSY);
    /* expired sessions make room */
    now_s += 31 * 60;
    assert_int_equal(login("aud", "aud-password-12", "127.0.0.1", &r), SESSION_OK);
    assert_int_equal(session_count(), 1);
}

static void test_cookie(void **state)
{
    (void)state;
    char tok[65], out[SESSION_COOKIE_MAX];
    memset(tok, 'a', 64);
    tok[64] = '\0';
    assert_true(session_cookie(tok, false, out, sizeof out) > 0);
    char want[200];
    snprintf(want, sizeof want, "qun_console=%s; Path=/; HttpOnly; SameSite=Strict", tok);
    assert_string_equal(out, want);
    assert_true(session_cookie(tok, true, out, sizeof out) > 0);
    snprintf(want, sizeof want, "qun_console=%s; Path=/; HttpOnly; SameSite=Strict; Secure", tok);
    assert_string_equal(out, want);
    assert_int_equal(session_cookie(tok, true, out, 20), -1); /* too small */
    assert_int_equal(session_cookie("abc", false, out, sizeof out), -1);
    assert_int_equal(session_cookie("aaaa; Domain=evil", false, out, sizeof out), -1);
    assert_true(session_cookie_clear(true, out, sizeof out) > 0);
    assert_non_null(strstr(out, "Max-Age=0"));
    assert_non_null(strstr(out, "; Secure"));
    assert_non_null(strstr(out, "HttpOnly; SameSite=Strict"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_login_token_and_csrf, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_credentials, setup, teardown),
        cmocka_unit_test_setup_teardown(test_principal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_expiry, setup, teardown),
        cmocka_unit_test_setup_teardown(test_password_change_ends_sessions, setup, teardown),
        cmocka_unit_test_setup_teardown(test_throttling, setup, teardown),
        cmocka_unit_test_setup_teardown(test_session_caps, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cookie, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
