/*
 * test_ctl.c - unit tests of the control socket (src/ctl/ctl.c).
 *
 * Each test starts ctl on a socket in a fresh temporary directory on its
 * own uv loop, talks to it through a plain blocking-connected unix socket
 * read without blocking (the loop is pumped between reads, all on one
 * thread), and ends by stopping ctl and proving that the loop closes with
 * no handle left (uv_loop_close == 0) and the socket file is gone.
 * The test_call_* tests drive the second origin, ctl_call (the console's
 * way in): answers now and later, the role check, unknown commands.
 */
#include <errno.h>
#include <poll.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <cmocka.h>

#include "ctl/ctl.h"

struct client {
    int fd;
    char buf[1 << 17];
    size_t len;
};

static uv_loop_t loop;
static char dir[64];
static char sock_path[128];
static struct qun_config cfg;
static struct ctl_request *held; /* the request test.later keeps */

/* ---------------------------------------------------------------- handlers */

static void h_echo(struct ctl_request *req, json_t *args)
{
    ctl_reply_ok(req, json_copy(args));
}

static void h_later(struct ctl_request *req, json_t *args)
{
    (void)args;
    assert_null(held);
    held = req;
}

static struct ctl_request *queued[64];
static size_t nqueued;

static void h_queue(struct ctl_request *req, json_t *args)
{
    (void)args;
    assert_true(nqueued < 64);
    queued[nqueued++] = req;
}

static void h_audit(struct ctl_request *req, json_t *args)
{
    (void)args;
    ctl_reply_ok(req, json_string(ctl_request_actor(req)));
}

/* ---------------------------------------------------------------- helpers */

static void pump(void)
{
    uv_run(&loop, UV_RUN_NOWAIT);
}

static void start_ctl(void)
{
    char err[256] = "";
    int rc = ctl_start(&loop, &cfg, err, sizeof err);
    if (rc != 0)
        fail_msg("ctl_start: %s", err);
}

static int setup(void **state)
{
    (void)state;
    assert_int_equal(uv_loop_init(&loop), 0);
    snprintf(dir, sizeof dir, "/tmp/qun-ctl-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(sock_path, sizeof sock_path, "%s/ctl.sock", dir);
    memset(&cfg, 0, sizeof cfg);
    cfg.control_socket = sock_path;
    ctl__peer_uid_override = -1;
    held = NULL;
    ctl_register("test.echo", CTL_ROLE_ADMINISTRATOR, "echo args", h_echo);
    ctl_register("test.later", CTL_ROLE_ADMINISTRATOR, "answer later", h_later);
    ctl_register("test.queue", CTL_ROLE_ADMINISTRATOR, "answer when told", h_queue);
    nqueued = 0;
    ctl_register("test.audit", CTL_ROLE_AUDITOR, "auditors only", h_audit);
    start_ctl();
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    ctl_stop();
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    struct stat st;
    assert_int_not_equal(lstat(sock_path, &st), 0); /* ctl_stop unlinked it */
    assert_int_equal(rmdir(dir), 0);
    return 0;
}

static struct client *client_open(void)
{
    struct client *c = calloc(1, sizeof *c);
    c->fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", sock_path);
    assert_int_equal(connect(c->fd, (struct sockaddr *)&sa, sizeof sa), 0);
    return c;
}

static void client_close(struct client *c)
{
    close(c->fd);
    free(c);
}

static void client_send(struct client *c, const char *text, size_t len)
{
    while (len > 0) {
        ssize_t n = send(c->fd, text, len, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n < 0 && errno == EAGAIN) {
            pump();
            continue;
        }
        assert_true(n > 0);
        text += n;
        len -= (size_t)n;
    }
}

/* Pumps the loop until a whole answer line arrives (returned parsed) or
 * the server closes (NULL). Fails after 5 seconds. */
static json_t *client_read(struct client *c)
{
    for (int i = 0; i < 5000; i++) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            json_error_t jerr;
            json_t *v = json_loadb(c->buf, (size_t)(nl - c->buf), 0, &jerr);
            assert_non_null(v);
            size_t used = (size_t)(nl - c->buf) + 1;
            memmove(c->buf, c->buf + used, c->len - used);
            c->len -= used;
            return v;
        }
        pump();
        ssize_t n = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, MSG_DONTWAIT);
        if (n == 0)
            return NULL;
        if (n > 0)
            c->len += (size_t)n;
        else
            poll(NULL, 0, 1);
    }
    fail_msg("no answer from ctl within 5 seconds");
    return NULL;
}

static json_t *roundtrip(struct client *c, const char *line)
{
    client_send(c, line, strlen(line));
    json_t *v = client_read(c);
    assert_non_null(v);
    return v;
}

static void assert_error(json_t *answer, const char *code)
{
    assert_true(json_is_false(json_object_get(answer, "ok")));
    json_t *e = json_object_get(answer, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_non_null(json_string_value(json_object_get(e, "message")));
}

static const char *error_message(json_t *answer)
{
    return json_string_value(json_object_get(json_object_get(answer, "error"), "message"));
}

static void my_name(char *out, size_t outlen)
{
    struct passwd *pw = getpwuid(geteuid());
    assert_non_null(pw);
    snprintf(out, outlen, "%s", pw->pw_name);
}

/* ---------------------------------------------------------------- tests */

static void test_whoami(void **state)
{
    (void)state;
    struct stat st;
    assert_int_equal(lstat(sock_path, &st), 0);
    assert_true(S_ISSOCK(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0660);

    struct client *c = client_open();
    json_t *a = roundtrip(c, "{\"id\":7,\"cmd\":\"whoami\"}\n");
    assert_int_equal(json_integer_value(json_object_get(a, "id")), 7);
    assert_true(json_is_true(json_object_get(a, "ok")));
    json_t *r = json_object_get(a, "result");
    char name[64];
    my_name(name, sizeof name);
    assert_string_equal(json_string_value(json_object_get(r, "user")), name);
    assert_int_equal(json_integer_value(json_object_get(r, "uid")), geteuid());
    json_t *roles = json_object_get(r, "roles");
    assert_int_equal(json_array_size(roles), 1);
    assert_string_equal(json_string_value(json_array_get(roles, 0)), "administrator");
    json_decref(a);
    client_close(c);
}

static void test_sync_and_async_replies(void **state)
{
    (void)state;
    struct client *c = client_open();
    /* test.later is answered after test.echo: answers go out in reply
     * order, matched by id. */
    const char *two = "{\"id\":1,\"cmd\":\"test.later\"}\n"
                      "{\"id\":2,\"cmd\":\"test.echo\",\"args\":{\"x\":[1,\"y\"]}}\n";
    client_send(c, two, strlen(two));
    json_t *a = client_read(c);
    assert_non_null(a);
    assert_int_equal(json_integer_value(json_object_get(a, "id")), 2);
    json_t *want = json_loads("{\"x\":[1,\"y\"]}", 0, NULL);
    assert_true(json_equal(json_object_get(a, "result"), want));
    json_decref(want);
    json_decref(a);

    assert_non_null(held);
    assert_int_equal(strncmp(ctl_request_actor(held), "unix:", 5), 0);
    assert_int_equal(ctl_request_roles(held), CTL_ROLE_ADMINISTRATOR);
    struct ctl_request *r = held;
    held = NULL;
    ctl_reply_ok(r, json_string("later"));
    a = client_read(c);
    assert_non_null(a);
    assert_int_equal(json_integer_value(json_object_get(a, "id")), 1);
    assert_string_equal(json_string_value(json_object_get(a, "result")), "later");
    json_decref(a);
    client_close(c);
}

/* At most 16 requests per connection are in flight: the rest wait in the
 * buffer, unread, until replies come back; then every one is answered. */
static void test_inflight_cap(void **state)
{
    (void)state;
    struct client *c = client_open();
    char lines[2048] = "";
    for (int i = 1; i <= 20; i++)
        snprintf(lines + strlen(lines), sizeof lines - strlen(lines),
                 "{\"id\":%d,\"cmd\":\"test.queue\"}\n", i);
    client_send(c, lines, strlen(lines));
    for (int i = 0; i < 200; i++) {
        pump();
        poll(NULL, 0, 1);
    }
    assert_int_equal(nqueued, 16);
    size_t answered = 0;
    for (size_t next = 0; next < 20; next++) {
        assert_true(next < nqueued);
        ctl_reply_ok(queued[next], json_integer((json_int_t)next));
        json_t *a = client_read(c);
        assert_non_null(a);
        assert_int_equal(json_integer_value(json_object_get(a, "id")), (json_int_t)next + 1);
        json_decref(a);
        answered++;
    }
    assert_int_equal(nqueued, 20);
    assert_int_equal(answered, 20);
    client_close(c);
}

static void test_unknown_and_bad_requests(void **state)
{
    (void)state;
    struct client *c = client_open();
    json_t *a = roundtrip(c, "{\"id\":3,\"cmd\":\"no.such\"}\n");
    assert_int_equal(json_integer_value(json_object_get(a, "id")), 3);
    assert_error(a, "unknown-command");
    json_decref(a);

    a = roundtrip(c, "{not json\n");
    assert_error(a, "bad-request");
    assert_true(json_is_null(json_object_get(a, "id")));
    json_decref(a);

    a = roundtrip(c, "{\"id\":4,\"cmd\":\"test.echo\",\"args\":[1]}\n");
    assert_error(a, "bad-request");
    assert_int_equal(json_integer_value(json_object_get(a, "id")), 4);
    json_decref(a);

    a = roundtrip(c, "{\"id\":5}\n");
    assert_error(a, "bad-request");
    json_decref(a);

    /* The connection survives bad requests. */
    a = roundtrip(c, "{\"id\":6,\"cmd\":\"whoami\"}\r\n");
    assert_true(json_is_true(json_object_get(a, "ok")));
    json_decref(a);
    client_close(c);
}

static void test_forbidden_role_then_reload(void **state)
{
    (void)state;
    struct client *c = client_open();
    json_t *a = roundtrip(c, "{\"id\":1,\"cmd\":\"test.audit\"}\n");
    assert_error(a, "forbidden");
    assert_non_null(strstr(error_message(a), "the auditor role"));
    json_decref(a);

    /* Listing this user as an auditor applies to the next request. */
    char name[64];
    my_name(name, sizeof name);
    char *auditors[] = {name, NULL};
    cfg.control_auditors = auditors;
    ctl_reload(&cfg);
    cfg.control_auditors = NULL;
    a = roundtrip(c, "{\"id\":2,\"cmd\":\"test.audit\"}\n");
    assert_true(json_is_true(json_object_get(a, "ok")));
    char actor[80];
    snprintf(actor, sizeof actor, "unix:%s", name);
    assert_string_equal(json_string_value(json_object_get(a, "result")), actor);
    json_decref(a);
    client_close(c);
}

static void test_peer_without_role_is_refused(void **state)
{
    (void)state;
    ctl__peer_uid_override = geteuid() == 65534 ? 65533 : 65534;
    struct client *c = client_open();
    json_t *a = client_read(c);
    assert_non_null(a);
    assert_error(a, "forbidden");
    assert_null(json_object_get(a, "id"));
    json_decref(a);
    assert_null(client_read(c)); /* then closed */
    client_close(c);
    ctl__peer_uid_override = -1;
    for (int i = 0; i < 100 && ctl_connection_count() > 0; i++)
        pump();
    assert_int_equal(ctl_connection_count(), 0);
}

static void test_roles_for_user(void **state)
{
    (void)state;
    char *admins[] = {"alice", NULL};
    char *mods[] = {"bob", "carol", NULL};
    char *auditors[] = {"carol", NULL};
    cfg.control_administrators = admins;
    cfg.control_moderators = mods;
    cfg.control_auditors = auditors;
    ctl_reload(&cfg);
    memset(&cfg.control_administrators, 0, 3 * sizeof(char **));
    uid_t other = geteuid() == 4242 ? 4243 : 4242;
    assert_int_equal(ctl_roles_for_user(0, "root"), CTL_ROLE_ADMINISTRATOR);
    assert_int_equal(ctl_roles_for_user(geteuid(), NULL), CTL_ROLE_ADMINISTRATOR);
    assert_int_equal(ctl_roles_for_user(other, "alice"), CTL_ROLE_ADMINISTRATOR);
    assert_int_equal(ctl_roles_for_user(other, "bob"), CTL_ROLE_MODERATOR);
    assert_int_equal(ctl_roles_for_user(other, "carol"), CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR);
    assert_int_equal(ctl_roles_for_user(other, "mallory"), 0);
    assert_int_equal(ctl_roles_for_user(other, NULL), 0);
}

static void test_oversized_line(void **state)
{
    (void)state;
    struct client *c = client_open();
    size_t n = CTL_LINE_MAX + 100;
    char *big = malloc(n);
    memset(big, 'a', n);
    client_send(c, big, n);
    free(big);
    json_t *a = client_read(c);
    assert_non_null(a);
    assert_error(a, "line-too-long");
    json_decref(a);
    assert_null(client_read(c));
    client_close(c);
}

static void test_line_at_cap_is_accepted(void **state)
{
    (void)state;
    struct client *c = client_open();
    /* {"id":1,"cmd":"test.echo","args":{"p":"aaa..."}} padded to exactly
     * CTL_LINE_MAX bytes. */
    const char *head = "{\"id\":1,\"cmd\":\"test.echo\",\"args\":{\"p\":\"";
    const char *tail = "\"}}\n";
    size_t n = CTL_LINE_MAX + 1, hl = strlen(head), tl = strlen(tail);
    char *line = malloc(n);
    memcpy(line, head, hl);
    memset(line + hl, 'a', n - hl - tl);
    memcpy(line + n - tl, tail, tl);
    client_send(c, line, n);
    free(line);
    json_t *a = client_read(c);
    assert_non_null(a);
    assert_true(json_is_true(json_object_get(a, "ok")));
    assert_int_equal(strlen(json_string_value(json_object_get(json_object_get(a, "result"), "p"))),
                     CTL_LINE_MAX - hl - tl + 1);
    json_decref(a);
    client_close(c);
}

static void test_disconnect_before_async_reply(void **state)
{
    (void)state;
    struct client *c = client_open();
    const char *line = "{\"id\":1,\"cmd\":\"test.later\"}\n";
    client_send(c, line, strlen(line));
    for (int i = 0; i < 2000 && !held; i++) {
        pump();
        poll(NULL, 0, 1);
    }
    assert_non_null(held);
    client_close(c);
    for (int i = 0; i < 2000 && ctl_connection_count() > 0; i++) {
        pump();
        poll(NULL, 0, 1);
    }
    assert_int_equal(ctl_connection_count(), 0);
    struct ctl_request *r = held;
    held = NULL;
    ctl_reply_ok(r, json_string("nobody hears this")); /* dropped, freed */
    pump();
}

static void test_help_lists_commands(void **state)
{
    (void)state;
    struct client *c = client_open();
    json_t *a = roundtrip(c, "{\"id\":1,\"cmd\":\"help\",\"args\":{}}\n");
    json_t *list = json_object_get(a, "result");
    assert_true(json_is_array(list));
    bool saw_whoami = false, saw_audit = false;
    size_t i;
    json_t *e;
    json_array_foreach(list, i, e)
    {
        const char *name = json_string_value(json_object_get(e, "command"));
        assert_non_null(json_string_value(json_object_get(e, "help")));
        if (strcmp(name, "whoami") == 0)
            saw_whoami = json_array_size(json_object_get(e, "roles")) == 3;
        if (strcmp(name, "test.audit") == 0) {
            json_t *roles = json_object_get(e, "roles");
            saw_audit = json_array_size(roles) == 1 &&
                        strcmp(json_string_value(json_array_get(roles, 0)), "auditor") == 0;
        }
    }
    assert_true(saw_whoami);
    assert_true(saw_audit);
    json_decref(a);
    client_close(c);
}

/* A connection that is open when ctl_stop runs is closed by it. */
static void test_stop_closes_connections(void **state)
{
    (void)state;
    struct client *c = client_open();
    json_t *a = roundtrip(c, "{\"id\":1,\"cmd\":\"whoami\"}\n");
    json_decref(a);
    assert_int_equal(ctl_connection_count(), 1);
    ctl_stop();
    assert_int_equal(ctl_connection_count(), 0);
    uv_run(&loop, UV_RUN_DEFAULT);
    char byte;
    assert_int_equal(recv(c->fd, &byte, 1, 0), 0); /* EOF */
    client_close(c);
}

static int bind_unix(const char *path, bool do_listen)
{
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    if (do_listen)
        assert_int_equal(listen(fd, 4), 0);
    return fd;
}

/* Stale socket files are replaced; a live one or a regular file refuses. */
static void test_stale_and_live_socket(void **state)
{
    (void)state;
    ctl_stop();
    uv_run(&loop, UV_RUN_DEFAULT);

    close(bind_unix(sock_path, false)); /* stale: the file stays, nobody listens */
    start_ctl();
    ctl_stop();
    uv_run(&loop, UV_RUN_DEFAULT);

    int live = bind_unix(sock_path, true);
    char err[256] = "";
    assert_int_equal(ctl_start(&loop, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "another qund"));
    assert_non_null(strstr(err, sock_path));
    close(live);
    unlink(sock_path);

    FILE *f = fopen(sock_path, "w");
    fclose(f);
    assert_int_equal(ctl_start(&loop, &cfg, err, sizeof err), -1);
    assert_non_null(strstr(err, "not a socket"));
    unlink(sock_path);

    uv_run(&loop, UV_RUN_DEFAULT);
    start_ctl(); /* teardown stops it */
}

/* ---------------------------------------------------------------- ctl_call */

struct call_result {
    int calls;
    json_t *answer; /* a reference kept from the last call */
};

static void on_done(void *ud, json_t *answer)
{
    struct call_result *r = ud;
    r->calls++;
    json_decref(r->answer);
    r->answer = json_incref(answer);
}

static void call_assert_error(struct call_result *r, const char *code)
{
    assert_int_equal(r->calls, 1);
    assert_true(json_is_false(json_object_get(r->answer, "ok")));
    assert_null(json_object_get(r->answer, "id"));
    json_t *e = json_object_get(r->answer, "error");
    assert_string_equal(json_string_value(json_object_get(e, "code")), code);
    assert_non_null(json_string_value(json_object_get(e, "message")));
}

/* A handler that answers at once: done runs inside ctl_call, once, with
 * the handler's result and no "id". */
static void test_call_answers_now(void **state)
{
    (void)state;
    struct call_result r = {0};
    json_t *args = json_pack("{s:s}", "k", "v");
    ctl_call("test.echo", args, CTL_ROLE_ADMINISTRATOR, "console:alice", on_done, &r);
    json_decref(args);
    assert_int_equal(r.calls, 1);
    assert_true(json_is_true(json_object_get(r.answer, "ok")));
    assert_null(json_object_get(r.answer, "id"));
    json_t *res = json_object_get(r.answer, "result");
    assert_string_equal(json_string_value(json_object_get(res, "k")), "v");
    /* NULL args are an empty object */
    ctl_call("test.echo", NULL, CTL_ROLE_ADMINISTRATOR, "console:alice", on_done, &r);
    assert_int_equal(r.calls, 2);
    assert_int_equal(json_object_size(json_object_get(r.answer, "result")), 0);
    json_decref(r.answer);
}

/* A handler that answers later: nothing until it replies, then once. The
 * actor it sees is the caller's. */
static void test_call_answers_later(void **state)
{
    (void)state;
    struct call_result r = {0};
    ctl_call("test.later", NULL, CTL_ROLE_ADMINISTRATOR, "console:bob", on_done, &r);
    assert_non_null(held);
    assert_int_equal(r.calls, 0);
    assert_string_equal(ctl_request_actor(held), "console:bob");
    assert_int_equal(ctl_request_roles(held), CTL_ROLE_ADMINISTRATOR);
    pump();
    assert_int_equal(r.calls, 0);
    ctl_reply_ok(held, json_string("done"));
    held = NULL;
    assert_int_equal(r.calls, 1);
    assert_string_equal(json_string_value(json_object_get(r.answer, "result")), "done");
    /* an error reply reaches done too */
    ctl_call("test.later", NULL, CTL_ROLE_ADMINISTRATOR, "console:bob", on_done, &r);
    ctl_reply_error(held, "not-found", "no %s here", "thing");
    held = NULL;
    assert_int_equal(r.calls, 2);
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(r.answer, "error"), "message")),
        "no thing here");
    json_decref(r.answer);
}

/* The role check is the socket's: a moderator may not run an
 * administrator's command, an auditor may run test.audit, and the actor
 * the handler reads is the console's. */
static void test_call_roles(void **state)
{
    (void)state;
    struct call_result r = {0};
    ctl_call("test.echo", NULL, CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR, "console:carol", on_done,
             &r);
    call_assert_error(&r, "forbidden");
    const char *msg =
        json_string_value(json_object_get(json_object_get(r.answer, "error"), "message"));
    assert_non_null(strstr(msg, "console:carol"));
    assert_non_null(strstr(msg, "administrator"));
    r.calls = 0;
    ctl_call("test.audit", NULL, CTL_ROLE_ADMINISTRATOR, "console:carol", on_done, &r);
    call_assert_error(&r, "forbidden");
    r.calls = 0;
    ctl_call("test.audit", NULL, CTL_ROLE_AUDITOR, "console:carol", on_done, &r);
    assert_int_equal(r.calls, 1);
    assert_string_equal(json_string_value(json_object_get(r.answer, "result")), "console:carol");
    r.calls = 0;
    ctl_call("test.echo", NULL, 0, "console:carol", on_done, &r); /* no role at all */
    call_assert_error(&r, "forbidden");
    json_decref(r.answer);
}

static void test_call_unknown_and_bad(void **state)
{
    (void)state;
    struct call_result r = {0};
    ctl_call("no.such.command", NULL, CTL_ROLE_ADMINISTRATOR, "console:dave", on_done, &r);
    call_assert_error(&r, "unknown-command");
    r.calls = 0;
    json_t *arr = json_array();
    ctl_call("test.echo", arr, CTL_ROLE_ADMINISTRATOR, "console:dave", on_done, &r);
    json_decref(arr);
    call_assert_error(&r, "bad-request");
    r.calls = 0;
    ctl_call("test.echo", NULL, CTL_ROLE_ADMINISTRATOR, "", on_done, &r);
    call_assert_error(&r, "bad-request");
    r.calls = 0;
    char longname[200];
    memset(longname, 'a', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    ctl_call("test.echo", NULL, CTL_ROLE_ADMINISTRATOR, longname, on_done, &r);
    call_assert_error(&r, "bad-request");
    r.calls = 0;
    ctl_call("test.echo", NULL, CTL_ROLE_ADMINISTRATOR, "console:x\nforged", on_done, &r);
    call_assert_error(&r, "bad-request");
    /* whoami works from the console too, and names the actor */
    r.calls = 0;
    ctl_call("whoami", NULL, CTL_ROLE_MODERATOR, "console:dave", on_done, &r);
    assert_int_equal(r.calls, 1);
    json_t *res = json_object_get(r.answer, "result");
    assert_string_equal(json_string_value(json_object_get(res, "actor")), "console:dave");
    assert_string_equal(json_string_value(json_array_get(json_object_get(res, "roles"), 0)),
                        "moderator");
    json_decref(r.answer);
}

/* A reply given after the socket stopped still reaches the caller. */
static void test_call_after_stop(void **state)
{
    (void)state;
    struct call_result r = {0};
    ctl_call("test.later", NULL, CTL_ROLE_ADMINISTRATOR, "console:erin", on_done, &r);
    ctl_stop();
    uv_run(&loop, UV_RUN_NOWAIT);
    ctl_reply_ok(held, NULL);
    held = NULL;
    assert_int_equal(r.calls, 1);
    assert_true(json_is_null(json_object_get(r.answer, "result")));
    json_decref(r.answer);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_whoami, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sync_and_async_replies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_inflight_cap, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_and_bad_requests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_forbidden_role_then_reload, setup, teardown),
        cmocka_unit_test_setup_teardown(test_peer_without_role_is_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_roles_for_user, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oversized_line, setup, teardown),
        cmocka_unit_test_setup_teardown(test_line_at_cap_is_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_disconnect_before_async_reply, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_lists_commands, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stop_closes_connections, setup, teardown),
        cmocka_unit_test_setup_teardown(test_stale_and_live_socket, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_answers_now, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_answers_later, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_roles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_unknown_and_bad, setup, teardown),
        cmocka_unit_test_setup_teardown(test_call_after_stop, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
