/*
 * test_provider.c - unit tests for identity/provider*.c with real child
 * processes (shell scripts written into a private mkdtemp directory) and a
 * real HTTP server on 127.0.0.1 (a few canned answers, served from the same
 * uv loop the provider runs on; curl talks to it from a pool thread).
 *
 * Every test ends by freeing the provider, running the loop dry and
 * asserting uv_loop_close() == 0: nothing of the module is left behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <cmocka.h>

#include "identity/provider.h"

static uv_loop_t loop;
static char dir[64];
static struct provider *prov, *prov2; /* freed by teardown if a test fails early */

/* ---- callbacks ------------------------------------------------------------ */

struct outcome {
    int calls;
    bool inside_call; /* set by the test around the queueing call */
    bool sync;        /* the callback ran while inside_call was set */
    enum provider_verdict verdict;
    char reason[PROVIDER_REASON_MAX];
};

static void on_result(void *ud, const struct provider_result *r)
{
    struct outcome *o = ud;
    o->calls++;
    o->sync = o->sync || o->inside_call;
    o->verdict = r->verdict;
    snprintf(o->reason, sizeof o->reason, "%s", r->reason);
}

static bool guard_fired;
static void guard_cb(uv_timer_t *t)
{
    guard_fired = true;
}

static void guard_closed(uv_handle_t *h)
{
    *(bool *)h->data = true;
}

/* Runs the loop until o has its callback (or 10 s pass); returns ms taken. */
static uint64_t run_until(struct outcome *o)
{
    uv_timer_t guard;
    uint64_t t0 = uv_hrtime();
    guard_fired = false;
    uv_timer_init(&loop, &guard);
    uv_timer_start(&guard, guard_cb, 10000, 0);
    while (o->calls == 0 && !guard_fired)
        uv_run(&loop, UV_RUN_ONCE);
    bool closed = false;
    guard.data = &closed;
    uv_close((uv_handle_t *)&guard, guard_closed);
    while (!closed) /* the handle lives on this stack frame */
        uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(o->calls, 1);
    return (uv_hrtime() - t0) / 1000000;
}

/* ---- scripts -------------------------------------------------------------- */

static char *script(const char *name, const char *body)
{
    static char path[8][128];
    static int n;
    char *p = path[n++ % 8];
    snprintf(p, sizeof path[0], "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\n%s\n", body);
    fclose(f);
    assert_int_equal(chmod(p, 0700), 0);
    return p;
}

static void new_exec(bool sms, const char *path, int timeout_s)
{
    char err[256] = "";
    prov = provider_new(&loop, sms, PROVIDER_EXEC, path, NULL, timeout_s, 0, err, sizeof err);
    assert_non_null(prov);
}

static const struct identity_request alice = {
    .request_id = 42,
    .account = "alice",
    .real_name = "\xe5\xbc\xa0\xe4\xb8\x89", /* 张三 */
    .doc_type = "cn-id",
    .doc_number = "11010519491231002X",
};

static void check_identity(struct outcome *o)
{
    o->inside_call = true;
    assert_int_equal(provider_check_identity(prov, &alice, on_result, o), 0);
    o->inside_call = false;
    assert_int_equal(o->calls, 0);
}

static void send_sms(struct outcome *o)
{
    o->inside_call = true;
    assert_int_equal(provider_send_sms(prov, "+8613812345678", "123456", "alice", on_result, o), 0);
    o->inside_call = false;
    assert_int_equal(o->calls, 0);
}

static int setup(void **state)
{
    assert_int_equal(uv_loop_init(&loop), 0);
    prov = NULL;
    return 0;
}

static void srv_stop(void);
static bool srv_listening(void);

static int teardown(void **state)
{
    provider_free(prov);
    provider_free(prov2);
    prov = prov2 = NULL;
    if (srv_listening())
        srv_stop(); /* a test failed before stopping it; runs the loop dry */
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(uv_loop_close(&loop), 0);
    return 0;
}

/* ---- dev, manual, none ------------------------------------------------------ */

static void test_kind_parse(void **state)
{
    enum provider_kind k;
    assert_int_equal(provider_kind_parse("exec", &k), 0);
    assert_int_equal(k, PROVIDER_EXEC);
    assert_int_equal(provider_kind_parse("manual", &k), 0);
    assert_int_equal(k, PROVIDER_MANUAL);
    assert_int_equal(provider_kind_parse("smtp", &k), -1);
    char err[256] = "";
    assert_null(provider_new(&loop, true, PROVIDER_MANUAL, NULL, NULL, 5, 0, err, sizeof err));
    assert_non_null(strstr(err, "manual"));
    assert_null(provider_new(&loop, false, PROVIDER_HTTP, NULL, "ftp://x", 5, 0, err, sizeof err));
    assert_null(provider_new(&loop, false, PROVIDER_EXEC, NULL, NULL, 5, 0, err, sizeof err));
}

static void test_dev_identity(void **state)
{
    char err[256];
    prov = provider_new(&loop, false, PROVIDER_DEV, NULL, NULL, 5, 0, err, sizeof err);
    assert_non_null(prov);
    assert_int_equal(provider_kind_of(prov), PROVIDER_DEV);
    struct outcome o = {0};
    check_identity(&o);
    assert_int_equal(provider_inflight(prov), 1);
    run_until(&o);
    assert_false(o.sync);
    assert_int_equal(o.verdict, PROVIDER_ACCEPTED);
    assert_int_equal(provider_inflight(prov), 0);
}

static void test_dev_sms_logs_code(void **state)
{
    char err[256], logpath[128];
    prov = provider_new(&loop, true, PROVIDER_DEV, NULL, NULL, 5, 0, err, sizeof err);
    assert_non_null(prov);
    snprintf(logpath, sizeof logpath, "%s/log", dir);
    int fd = open(logpath, O_CREAT | O_TRUNC | O_RDWR, 0600), saved = dup(2);
    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    struct outcome o = {0};
    send_sms(&o);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    char log[4096] = "";
    ssize_t n = pread(fd, log, sizeof log - 1, 0);
    close(fd);
    assert_true(n > 0);
    assert_non_null(strstr(log, "dev SMS to +86138****5678 for account alice: code 123456"));
    assert_null(strstr(log, "13812345678"));
    run_until(&o);
    assert_false(o.sync);
    assert_int_equal(o.verdict, PROVIDER_ACCEPTED);
}

static void test_manual_pending(void **state)
{
    char err[256];
    prov = provider_new(&loop, false, PROVIDER_MANUAL, NULL, NULL, 5, 0, err, sizeof err);
    struct outcome o = {0};
    check_identity(&o);
    run_until(&o);
    assert_int_equal(o.verdict, PROVIDER_PENDING);
    assert_string_equal(o.reason, "queued for a moderator");
}

static void test_sms_none_refuses(void **state)
{
    char err[256];
    prov = provider_new(&loop, true, PROVIDER_NONE, NULL, NULL, 5, 0, err, sizeof err);
    assert_non_null(prov);
    struct outcome o = {0};
    assert_int_equal(provider_send_sms(prov, "+8613812345678", "1", "a", on_result, &o),
                     PROVIDER_ERR_DISABLED);
    assert_int_equal(provider_check_identity(prov, &alice, on_result, &o), PROVIDER_ERR_ARG);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(o.calls, 0);
}

/* ---- exec -------------------------------------------------------------------- */

static void test_exec_accepted(void **state)
{
    new_exec(false,
             script("ok.sh", "cat >/dev/null\necho 'some diagnostics' >&2\n"
                             "echo '{\"result\":\"accepted\"}'"),
             5);
    struct outcome o = {0};
    check_identity(&o);
    run_until(&o);
    assert_false(o.sync);
    assert_int_equal(o.verdict, PROVIDER_ACCEPTED);
}

static void test_exec_rejected_reason(void **state)
{
    new_exec(false,
             script("no.sh", "cat >/dev/null\n"
                             "echo '{\"result\":\"rejected\",\"reason\":\"name does not match\"}'"),
             5);
    struct outcome o = {0};
    check_identity(&o);
    run_until(&o);
    assert_int_equal(o.verdict, PROVIDER_REJECTED);
    assert_string_equal(o.reason, "name does not match");
}

static pid_t read_pid(const char *path)
{
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    int pid = 0;
    assert_int_equal(fscanf(f, "%d", &pid), 1);
    fclose(f);
    return (pid_t)pid;
}

static void test_exec_timeout_kills(void **state)
{
    char body[256], pidfile[128];
    snprintf(pidfile, sizeof pidfile, "%s/sleep.pid", dir);
    snprintf(body, sizeof body, "echo $$ > %s.tmp && mv %s.tmp %s\nexec sleep 30", pidfile, pidfile,
             pidfile);
    new_exec(false, script("sleep.sh", body), 1);
    struct outcome o = {0};
    check_identity(&o);
    uint64_t ms = run_until(&o);
    assert_int_equal(o.verdict, PROVIDER_FAILED);
    assert_string_equal(o.reason, "timed out after 1 s");
    assert_true(ms >= 900 && ms < 2500);
    pid_t pid = read_pid(pidfile);
    provider_free(prov);
    prov = NULL;
    uint64_t t0 = uv_hrtime();
    uv_run(&loop, UV_RUN_DEFAULT); /* reaps the child: quick only if it was killed */
    assert_true((uv_hrtime() - t0) / 1000000 < 1000);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
}

static void expect_exec_failure(const char *name, const char *body, const char *reason_part)
{
    new_exec(false, script(name, body), 5);
    struct outcome o = {0};
    check_identity(&o);
    run_until(&o);
    assert_int_equal(o.verdict, PROVIDER_FAILED);
    if (!strstr(o.reason, reason_part))
        fail_msg("reason \"%s\" lacks \"%s\"", o.reason, reason_part);
}

static void test_exec_garbage(void **state)
{
    expect_exec_failure("junk.sh", "cat >/dev/null; echo 'hello there'",
                        "bad answer from provider");
}

static void test_exec_wrong_result_word(void **state)
{
    /* "sent" is the SMS word; an identity provider must say accepted/rejected */
    expect_exec_failure("word.sh", "cat >/dev/null; echo '{\"result\":\"sent\"}'",
                        "bad answer from provider");
}

static void test_exec_nonzero_exit(void **state)
{
    expect_exec_failure("exit3.sh", "cat >/dev/null; echo '{\"result\":\"accepted\"}'; exit 3",
                        "exited with status 3");
}

static void test_exec_oversized(void **state)
{
    expect_exec_failure("big.sh", "cat >/dev/null; head -c 70000 /dev/zero | tr '\\0' x",
                        "over 65536 bytes");
}

static void test_exec_missing_program(void **state)
{
    char err[256];
    prov = provider_new(&loop, false, PROVIDER_EXEC, "qun-no-such-provider-program", NULL, 5, 0,
                        err, sizeof err);
    assert_non_null(prov);
    struct outcome o = {0};
    check_identity(&o);
    run_until(&o);
    assert_false(o.sync);
    assert_int_equal(o.verdict, PROVIDER_FAILED);
    assert_string_equal(o.reason, "cannot start provider");
}

static json_t *load_json_file(const char *path)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e);
    if (!j)
        fail_msg("%s: %s", path, e.text);
    return j;
}

static void test_exec_identity_stdin(void **state)
{
    char body[256], out[128];
    snprintf(out, sizeof out, "%s/stdin.json", dir);
    snprintf(body, sizeof body, "cat > %s\necho '{\"result\":\"accepted\"}'", out);
    new_exec(false, script("copy.sh", body), 5);
    struct outcome o = {0};
    check_identity(&o);
    run_until(&o);
    assert_int_equal(o.verdict, PROVIDER_ACCEPTED);
    json_t *j = load_json_file(out);
    assert_int_equal(json_object_size(j), 6);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "identity");
    assert_int_equal(json_integer_value(json_object_get(j, "request")), 42);
    assert_string_equal(json_string_value(json_object_get(j, "account")), "alice");
    assert_string_equal(json_string_value(json_object_get(j, "name")), alice.real_name);
    assert_string_equal(json_string_value(json_object_get(j, "document_type")), "cn-id");
    assert_string_equal(json_string_value(json_object_get(j, "document_number")),
                        "11010519491231002X");
    json_decref(j);
}

static void test_exec_sms_stdin_and_failed(void **state)
{
    char body[256], out[128];
    snprintf(out, sizeof out, "%s/sms.json", dir);
    snprintf(body, sizeof body,
             "cat > %s\necho '{\"result\":\"failed\",\"reason\":\"number unreachable\"}'", out);
    new_exec(true, script("sms.sh", body), 5);
    struct outcome o = {0};
    send_sms(&o);
    run_until(&o);
    assert_int_equal(o.verdict, PROVIDER_REJECTED);
    assert_string_equal(o.reason, "number unreachable");
    json_t *j = load_json_file(out);
    assert_int_equal(json_object_size(j), 5);
    assert_string_equal(json_string_value(json_object_get(j, "kind")), "sms");
    assert_string_equal(json_string_value(json_object_get(j, "account")), "alice");
    assert_string_equal(json_string_value(json_object_get(j, "phone")), "+8613812345678");
    assert_string_equal(json_string_value(json_object_get(j, "code")), "123456");
    assert_string_equal(json_string_value(json_object_get(j, "text")),
                        "Qun verification code: 123456");
    json_decref(j);
}

/* ---- a tiny HTTP server ------------------------------------------------------- */

#define HANG NULL /* a response that never comes */

struct srv {
    uv_tcp_t tcp;
    int port;
    const char *resp[4];
    int nresp;
    int requests;
    char last_request[8192];
    struct sconn *conns;
};

struct sconn {
    uv_tcp_t tcp;
    struct srv *s;
    struct sconn *next;
    bool closing, answered;
    size_t len;
    char buf[8192];
    uv_write_t w;
};

static struct srv srv;

static void sconn_close(struct sconn *c)
{
    if (!c->closing) {
        c->closing = true;
        uv_close((uv_handle_t *)&c->tcp, NULL); /* freed in srv_stop */
    }
}

static void sconn_alloc(uv_handle_t *h, size_t sz, uv_buf_t *b)
{
    struct sconn *c = h->data;
    *b = uv_buf_init(c->buf + c->len, (unsigned)(sizeof c->buf - 1 - c->len));
}

static void sconn_written(uv_write_t *w, int status)
{
    sconn_close(w->data);
}

/* Answers once the headers and Content-Length bytes of body are in. */
static void sconn_maybe_answer(struct sconn *c)
{
    c->buf[c->len] = '\0';
    char *end = strstr(c->buf, "\r\n\r\n");
    char *cl = strcasestr(c->buf, "Content-Length:");
    if (c->answered || !end || !cl || c->len < (size_t)(end + 4 - c->buf) + (size_t)atoi(cl + 15))
        return;
    c->answered = true;
    struct srv *s = c->s;
    const char *r = s->resp[s->requests < s->nresp ? s->requests : s->nresp - 1];
    s->requests++;
    snprintf(s->last_request, sizeof s->last_request, "%s", c->buf);
    if (r == HANG)
        return;
    uv_buf_t b = uv_buf_init((char *)r, (unsigned)strlen(r));
    c->w.data = c;
    uv_write(&c->w, (uv_stream_t *)&c->tcp, &b, 1, sconn_written);
}

static void sconn_read(uv_stream_t *st, ssize_t n, const uv_buf_t *b)
{
    struct sconn *c = st->data;
    if (n < 0) {
        sconn_close(c);
        return;
    }
    c->len += (size_t)n;
    sconn_maybe_answer(c);
}

static void srv_accept(uv_stream_t *l, int status)
{
    struct sconn *c = calloc(1, sizeof *c);
    c->s = &srv;
    c->next = srv.conns;
    srv.conns = c;
    uv_tcp_init(&loop, &c->tcp);
    c->tcp.data = c;
    assert_int_equal(uv_accept(l, (uv_stream_t *)&c->tcp), 0);
    uv_read_start((uv_stream_t *)&c->tcp, sconn_alloc, sconn_read);
}

static void srv_start(int nresp, const char *r0, const char *r1)
{
    memset(&srv, 0, sizeof srv);
    srv.nresp = nresp;
    srv.resp[0] = r0;
    srv.resp[1] = r1;
    struct sockaddr_in a;
    uv_ip4_addr("127.0.0.1", 0, &a);
    uv_tcp_init(&loop, &srv.tcp);
    assert_int_equal(uv_tcp_bind(&srv.tcp, (struct sockaddr *)&a, 0), 0);
    assert_int_equal(uv_listen((uv_stream_t *)&srv.tcp, 16, srv_accept), 0);
    struct sockaddr_storage ss;
    int len = sizeof ss;
    uv_tcp_getsockname(&srv.tcp, (struct sockaddr *)&ss, &len);
    srv.port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

static bool srv_listening(void)
{
    return srv.port != 0;
}

/* Closes the listener and every connection, then frees them. */
static void srv_stop(void)
{
    srv.port = 0;
    uv_close((uv_handle_t *)&srv.tcp, NULL);
    for (struct sconn *c = srv.conns; c; c = c->next)
        sconn_close(c);
    uv_run(&loop, UV_RUN_DEFAULT);
    while (srv.conns) {
        struct sconn *c = srv.conns;
        srv.conns = c->next;
        free(c);
    }
}

static const char ok_accepted[] = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                                  "Connection: close\r\nContent-Length: 21\r\n\r\n"
                                  "{\"result\":\"accepted\"}";
static const char ok_rejected[] =
    "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 47\r\n\r\n"
    "{\"result\":\"rejected\",\"reason\":\"no such person\"}";
static const char err_500[] = "HTTP/1.1 500 Oops\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";
static const char err_404[] = "HTTP/1.1 404 Nope\r\nConnection: close\r\nContent-Length: 0\r\n\r\n";

static void new_http(bool sms, int port, int timeout_s, int retries)
{
    char url[64], err[256] = "";
    snprintf(url, sizeof url, "http://127.0.0.1:%d/check", port);
    prov = provider_new(&loop, sms, PROVIDER_HTTP, NULL, url, timeout_s, retries, err, sizeof err);
    assert_non_null(prov);
}

static struct outcome http_identity(int nresp, const char *r0, const char *r1, int timeout_s,
                                    int retries, uint64_t *ms)
{
    srv_start(nresp, r0, r1);
    new_http(false, srv.port, timeout_s, retries);
    struct outcome o = {0};
    check_identity(&o);
    uint64_t t = run_until(&o);
    if (ms)
        *ms = t;
    provider_free(prov);
    prov = NULL;
    srv_stop();
    return o;
}

static void test_http_accepted(void **state)
{
    struct outcome o = http_identity(1, ok_accepted, NULL, 5, 0, NULL);
    assert_false(o.sync);
    assert_int_equal(o.verdict, PROVIDER_ACCEPTED);
    assert_int_equal(srv.requests, 1);
    assert_non_null(strstr(srv.last_request, "POST /check HTTP/1.1\r\n"));
    assert_non_null(strcasestr(srv.last_request, "\r\nContent-Type: application/json\r\n"));
    json_t *j = json_loads(strstr(srv.last_request, "\r\n\r\n") + 4, 0, NULL);
    assert_non_null(j);
    assert_string_equal(json_string_value(json_object_get(j, "document_number")), alice.doc_number);
    json_decref(j);
}

static void test_http_rejected(void **state)
{
    struct outcome o = http_identity(1, ok_rejected, NULL, 5, 0, NULL);
    assert_int_equal(o.verdict, PROVIDER_REJECTED);
    assert_string_equal(o.reason, "no such person");
}

static void test_http_retry_after_500(void **state)
{
    struct outcome o = http_identity(2, err_500, ok_accepted, 5, 2, NULL);
    assert_int_equal(o.verdict, PROVIDER_ACCEPTED);
    assert_int_equal(srv.requests, 2);
}

static void test_http_500_no_retries_left(void **state)
{
    struct outcome o = http_identity(1, err_500, NULL, 5, 1, NULL);
    assert_int_equal(o.verdict, PROVIDER_FAILED);
    assert_string_equal(o.reason, "provider answered HTTP 500");
    assert_int_equal(srv.requests, 2); /* the first try and one retry */
}

static void test_http_404(void **state)
{
    struct outcome o = http_identity(2, err_404, ok_accepted, 5, 3, NULL);
    assert_int_equal(o.verdict, PROVIDER_FAILED);
    assert_string_equal(o.reason, "provider answered HTTP 404");
    assert_int_equal(srv.requests, 1); /* 4xx is not retried */
}

static void test_http_timeout(void **state)
{
    uint64_t ms;
    struct outcome o = http_identity(1, HANG, NULL, 1, 0, &ms);
    assert_int_equal(o.verdict, PROVIDER_FAILED);
    assert_string_equal(o.reason, "timed out after 1 s");
    assert_true(ms >= 900 && ms < 3000);
}

static void test_http_unreachable(void **state)
{
    srv_start(1, ok_accepted, NULL);
    int port = srv.port;
    srv_stop(); /* the port is now closed */
    new_http(true, port, 2, 1);
    struct outcome o = {0};
    send_sms(&o);
    run_until(&o);
    assert_int_equal(o.verdict, PROVIDER_FAILED);
    assert_non_null(strstr(o.reason, "provider unreachable"));
}

/* ---- shutdown with work in flight ------------------------------------------ */

static void test_free_in_flight(void **state)
{
    char body[256], pidfile[128], err[256];
    snprintf(pidfile, sizeof pidfile, "%s/free.pid", dir);
    snprintf(body, sizeof body, "echo $$ > %s.tmp && mv %s.tmp %s\nexec sleep 30", pidfile, pidfile,
             pidfile);
    new_exec(false, script("free.sh", body), 30);
    srv_start(1, HANG, NULL);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", srv.port);
    struct provider *http = prov2 =
        provider_new(&loop, true, PROVIDER_HTTP, NULL, url, 30, 0, err, sizeof err);
    assert_non_null(http);
    static struct outcome ex, ht; /* static: teardown may call back after a failed assert */
    ex = ht = (struct outcome){0};
    check_identity(&ex);
    assert_int_equal(provider_send_sms(http, "+8613812345678", "654321", "bob", on_result, &ht), 0);
    /* let the child start and the request reach the server; the tick makes
     * each UV_RUN_ONCE return within 10 ms (the pid file is no loop event) */
    uv_timer_t tick;
    uv_timer_init(&loop, &tick);
    uv_timer_start(&tick, guard_cb, 10, 10);
    for (int i = 0; i < 500 && (srv.requests == 0 || access(pidfile, R_OK) != 0); i++)
        uv_run(&loop, UV_RUN_ONCE);
    uv_close((uv_handle_t *)&tick, NULL);
    uv_run(&loop, UV_RUN_NOWAIT);
    assert_int_equal(srv.requests, 1);
    pid_t pid = read_pid(pidfile);
    if (ex.calls + ht.calls != 0)
        fail_msg("early callback: exec \"%s\", http \"%s\"", ex.reason, ht.reason);

    uint64_t t0 = uv_hrtime();
    provider_free(prov);
    provider_free(http);
    prov = prov2 = NULL;
    assert_int_equal(ex.calls, 1);
    assert_int_equal(ht.calls, 1);
    assert_int_equal(ex.verdict, PROVIDER_FAILED);
    assert_string_equal(ex.reason, "shutting down");
    assert_int_equal(ht.verdict, PROVIDER_FAILED);
    assert_string_equal(ht.reason, "shutting down");
    srv_stop(); /* runs the loop dry: the child is reaped, the worker returns */
    assert_true((uv_hrtime() - t0) / 1000000 < 3000);
    assert_int_equal(ex.calls, 1);
    assert_int_equal(ht.calls, 1);
    assert_int_equal(kill(pid, 0), -1);
    assert_int_equal(errno, ESRCH);
}

static void test_free_pending_dev(void **state)
{
    char err[256];
    prov = provider_new(&loop, false, PROVIDER_DEV, NULL, NULL, 5, 0, err, sizeof err);
    struct outcome o = {0};
    check_identity(&o);
    provider_free(prov);
    prov = NULL;
    assert_int_equal(o.calls, 1);
    assert_int_equal(o.verdict, PROVIDER_FAILED);
    uv_run(&loop, UV_RUN_DEFAULT);
    assert_int_equal(o.calls, 1);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    snprintf(dir, sizeof dir, "/tmp/qun-provider-XXXXXX");
    if (!mkdtemp(dir))
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_kind_parse, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev_identity, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dev_sms_logs_code, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manual_pending, setup, teardown),
        cmocka_unit_test_setup_teardown(test_sms_none_refuses, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_rejected_reason, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_timeout_kills, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_garbage, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_wrong_result_word, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_nonzero_exit, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_oversized, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_missing_program, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_identity_stdin, setup, teardown),
        cmocka_unit_test_setup_teardown(test_exec_sms_stdin_and_failed, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_accepted, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_retry_after_500, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_500_no_retries_left, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_404, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_http_unreachable, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_in_flight, setup, teardown),
        cmocka_unit_test_setup_teardown(test_free_pending_dev, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        rc = rc ? rc : 1;
    return rc;
}
