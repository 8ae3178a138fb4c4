/*
 * ctl.c - the control socket: listener, connections, command registry.
 *
 * Owns the unix-domain listener (a uv_pipe_t), the open control
 * connections, the role lists copied from the configuration and the
 * registry of commands. The protocol and the contract for handlers are in
 * ctl.h; docs/internals/ctl.md is the overview.
 *
 * Invariants:
 *   1. A connection has a role mask != 0 from the moment it is accepted, or
 *      it has been sent one "forbidden" answer and is closing.
 *   2. conn->buf holds at most CTL_LINE_MAX + 1 bytes: a complete line
 *      (with its newline) always fits; a buffer that is full without a
 *      newline is a line too long (answer, then close).
 *   3. A request refers to its connection by id (conn->id, never reused),
 *      not by pointer: a reply after the connection closed finds no id and
 *      is dropped. A request is freed by its one reply.
 *   4. conn->inflight < CTL_MAX_INFLIGHT while reading; at the cap the
 *      connection stops reading and processing lines until replies come
 *      back. Lines already buffered stay there meanwhile.
 *   5. conn->draining is set while ctl_conn_drain runs, so a handler that
 *      replies synchronously does not re-enter the drain loop.
 *   6. A closing connection (uv_close called, or an answer queued with
 *      close_after) processes no more lines; its memory is freed in the
 *      close callback, after libuv cancelled its pending writes.
 *   7. A request from ctl_call has conn_id 0 and a done callback; its one
 *      reply goes to done (whether or not the socket is running), never
 *      to a connection. Both origins pass through ctl_dispatch, so the
 *      log line, the registry and the role check are the same code.
 *
 * Threads: the loop thread only.
 */
#include <assert.h>
#include <errno.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "ctl/ctl.h"
#include "util/alloc.h"
#include "util/clock.h"
#include "util/log.h"

#define CTL_BUF_SIZE      (CTL_LINE_MAX + 1)
#define CTL_MAX_INFLIGHT  16          /* unanswered requests per connection */
#define CTL_MAX_CONNS     64          /* more are answered "busy" and closed */
#define CTL_MAX_WRITEQ    (8u << 20)  /* a client that does not read is dropped */
#define CTL_REQUEST_MAGIC 0x63746c72u /* "ctlr": catches a second reply */

struct ctl_command {
    char *name;
    char *help;
    unsigned roles;
    ctl_handler fn;
    struct ctl_command *next; /* sorted by name */
};

struct ctl_conn {
    uv_pipe_t pipe; /* pipe.data == the conn */
    uint64_t id;
    uid_t uid;
    char user[64];
    char actor[CTL_ACTOR_MAX];
    char *buf; /* CTL_BUF_SIZE bytes */
    size_t len;
    unsigned inflight;
    uint64_t active_ms; /* uv_now of the connection or its last request */
    bool idle_told;     /* told it was idle; closed at the next check if still there */
    bool reading;
    bool draining;
    bool closing;
    struct ctl_conn *prev, *next;
};

/* A request has one origin: a socket connection (conn_id != 0, done NULL)
 * or a ctl_call (conn_id 0, done set; see ctl.h). */
struct ctl_request {
    unsigned magic;
    uint64_t conn_id;
    json_t *id; /* the client's id, echoed (owned) */
    unsigned roles;
    char actor[CTL_ACTOR_MAX];
    ctl_done_cb done; /* ctl_call origin: the caller's callback */
    void *ud;
};

struct ctl_write {
    uv_write_t req;
    char *data;
    bool close_after;
};

long ctl__peer_uid_override = -1;

static struct ctl_command *ctl_commands;
static uv_pipe_t ctl_listener;
static bool ctl_running;
static char *ctl_path;
static char **ctl_names[3]; /* administrators, moderators, auditors */
static struct ctl_conn *ctl_conns;
static size_t ctl_nconns;
static uint64_t ctl_next_id = 1;
static uv_timer_t ctl_idle_timer;
static uint64_t ctl_idle_ms = 600 * 1000;

static const char *const ctl_role_names[3] = {"administrator", "moderator", "auditor"};

static void ctl_conn_drain(struct ctl_conn *c);
static void ctl_conn_set_reading(struct ctl_conn *c, bool on);

/* ---------------------------------------------------------------- registry */

void ctl_register(const char *name, unsigned roles, const char *help, ctl_handler fn)
{
    assert(name && fn && roles != 0);
    struct ctl_command **pp = &ctl_commands;
    while (*pp && strcmp((*pp)->name, name) < 0)
        pp = &(*pp)->next;
    struct ctl_command *cmd = *pp;
    if (cmd && strcmp(cmd->name, name) == 0) {
        free(cmd->help);
    } else {
        cmd = xcalloc(1, sizeof *cmd);
        cmd->name = xstrdup(name);
        cmd->next = *pp;
        *pp = cmd;
    }
    cmd->help = xstrdup(help ? help : "");
    cmd->roles = roles;
    cmd->fn = fn;
}

static const struct ctl_command *ctl_find(const char *name)
{
    for (const struct ctl_command *c = ctl_commands; c; c = c->next)
        if (strcmp(c->name, name) == 0)
            return c;
    return NULL;
}

static json_t *ctl_roles_json(unsigned roles)
{
    json_t *a = json_array();
    for (int i = 0; i < 3; i++)
        if (roles & (1u << i))
            json_array_append_new(a, json_string(ctl_role_names[i]));
    return a;
}

/* "the auditor role" or "one of the roles moderator or auditor". */
static void ctl_roles_sentence(unsigned roles, char *out, size_t outlen)
{
    int n = 0;
    for (int i = 0; i < 3; i++)
        n += (roles >> i) & 1;
    size_t used = (size_t)snprintf(out, outlen, n == 1 ? "the " : "one of the roles ");
    int k = 0;
    for (int i = 0; i < 3 && used < outlen; i++) {
        if (!(roles & (1u << i)))
            continue;
        const char *sep = k == 0 ? "" : (k == n - 1 ? " or " : ", ");
        used += (size_t)snprintf(out + used, outlen - used, "%s%s", sep, ctl_role_names[i]);
        k++;
    }
    if (n == 1 && used < outlen)
        snprintf(out + used, outlen - used, " role");
}

/* ---------------------------------------------------------------- roles */

static void ctl_free_names(char **names)
{
    if (!names)
        return;
    for (char **p = names; *p; p++)
        free(*p);
    free(names);
}

static char **ctl_copy_names(char *const *names)
{
    if (!names)
        return NULL;
    size_t n = 0;
    while (names[n])
        n++;
    char **copy = xcalloc(n + 1, sizeof *copy);
    for (size_t i = 0; i < n; i++)
        copy[i] = xstrdup(names[i]);
    return copy;
}

static void ctl_set_names(const struct qun_config *cfg)
{
    for (int i = 0; i < 3; i++)
        ctl_free_names(ctl_names[i]);
    ctl_names[0] = ctl_copy_names(cfg->control_administrators);
    ctl_names[1] = ctl_copy_names(cfg->control_moderators);
    ctl_names[2] = ctl_copy_names(cfg->control_auditors);
}

unsigned ctl_roles_for_user(uid_t uid, const char *user)
{
    unsigned roles = 0;
    if (uid == 0 || uid == geteuid())
        roles |= CTL_ROLE_ADMINISTRATOR;
    for (int i = 0; i < 3 && user; i++)
        for (char **p = ctl_names[i]; p && *p; p++)
            if (strcmp(*p, user) == 0)
                roles |= 1u << i;
    return roles;
}

/* Fills c->uid, c->user and c->actor from the peer credentials. Returns -1
 * if the kernel would not tell (the connection is then refused). */
static int ctl_conn_identify(struct ctl_conn *c)
{
    uv_os_fd_t fd;
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) != 0 ||
        getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0)
        return -1;
    c->uid = ctl__peer_uid_override >= 0 ? (uid_t)ctl__peer_uid_override : cred.uid;
    struct passwd pw, *found = NULL;
    char pwbuf[4096];
    if (getpwuid_r(c->uid, &pw, pwbuf, sizeof pwbuf, &found) == 0 && found) {
        snprintf(c->user, sizeof c->user, "%s", found->pw_name);
        snprintf(c->actor, sizeof c->actor, "unix:%s", c->user);
    } else {
        c->user[0] = '\0';
        snprintf(c->actor, sizeof c->actor, "unix:#%lu", (unsigned long)c->uid);
    }
    return 0;
}

/* ---------------------------------------------------------------- writing */

static void ctl_conn_on_close(uv_handle_t *h)
{
    struct ctl_conn *c = h->data;
    free(c->buf);
    free(c);
}

static void ctl_conn_close(struct ctl_conn *c)
{
    if (uv_is_closing((uv_handle_t *)&c->pipe))
        return;
    c->closing = true;
    if (c->prev)
        c->prev->next = c->next;
    else
        ctl_conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    ctl_nconns--;
    uv_close((uv_handle_t *)&c->pipe, ctl_conn_on_close);
}

static void ctl_on_write(uv_write_t *req, int status)
{
    struct ctl_write *w = (struct ctl_write *)req;
    struct ctl_conn *c = req->handle->data;
    if ((status < 0 && status != UV_ECANCELED) || w->close_after)
        ctl_conn_close(c);
    free(w->data);
    free(w);
}

/* Queues one answer line (msg is consumed). close_after: the connection
 * closes once this answer has been written. */
static void ctl_send(struct ctl_conn *c, json_t *msg, bool close_after)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    json_decref(msg);
    if (!text)
        abort(); /* only out of memory */
    size_t n = strlen(text);
    struct ctl_write *w = xcalloc(1, sizeof *w);
    w->data = xmalloc(n + 1);
    memcpy(w->data, text, n);
    w->data[n] = '\n';
    free(text);
    w->close_after = close_after;
    if (close_after)
        c->closing = true;
    uv_buf_t b = uv_buf_init(w->data, (unsigned)(n + 1));
    size_t queued_before = c->pipe.write_queue_size;
    int rc = uv_write(&w->req, (uv_stream_t *)&c->pipe, &b, 1, ctl_on_write);
    if (rc < 0) {
        free(w->data);
        free(w);
        ctl_conn_close(c);
        return;
    }
    /* counts the answers queued before this one and still unread: one
     * large answer (a log.export archive) alone is not a client that does
     * not read; the queue stays under CTL_MAX_WRITEQ plus one answer */
    if (queued_before > CTL_MAX_WRITEQ) {
        log_warn("control: %s does not read its answers; closing", c->actor);
        ctl_conn_close(c);
    }
}

static json_t *ctl_error_json(json_t *id, const char *code, const char *message)
{
    json_t *msg = json_object();
    if (id)
        json_object_set(msg, "id", id);
    json_object_set_new(msg, "ok", json_false());
    json_object_set_new(msg, "error", json_pack("{s:s, s:s}", "code", code, "message", message));
    return msg;
}

/* ---------------------------------------------------------------- replies */

static struct ctl_conn *ctl_conn_by_id(uint64_t id)
{
    for (struct ctl_conn *c = ctl_conns; c; c = c->next)
        if (c->id == id)
            return c;
    return NULL;
}

/* Sends msg for req (or drops both if the client has gone); frees req. */
static void ctl_finish(struct ctl_request *req, json_t *msg)
{
    assert(req->magic == CTL_REQUEST_MAGIC && "a control request was answered twice");
    req->magic = 0;
    if (req->done) { /* ctl_call origin: the answer goes to the caller */
        ctl_done_cb done = req->done;
        void *ud = req->ud;
        json_decref(req->id);
        free(req);
        json_object_del(msg, "id");
        done(ud, msg);
        json_decref(msg);
        return;
    }
    struct ctl_conn *c = ctl_running ? ctl_conn_by_id(req->conn_id) : NULL;
    json_decref(req->id);
    free(req);
    if (!c || c->closing) {
        json_decref(msg);
        return;
    }
    assert(c->inflight > 0);
    c->inflight--;
    ctl_send(c, msg, false);
    if (!c->draining && !c->closing)
        ctl_conn_drain(c);
}

void ctl_reply_ok(struct ctl_request *req, json_t *result)
{
    json_t *msg = json_object();
    json_object_set(msg, "id", req->id);
    json_object_set_new(msg, "ok", json_true());
    json_object_set_new(msg, "result", result ? result : json_null());
    ctl_finish(req, msg);
}

void ctl_reply_error(struct ctl_request *req, const char *code, const char *fmt, ...)
{
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    ctl_finish(req, ctl_error_json(req->id, code, text));
}

const char *ctl_request_actor(const struct ctl_request *req)
{
    return req->actor;
}

unsigned ctl_request_roles(const struct ctl_request *req)
{
    return req->roles;
}

/* ---------------------------------------------------------------- requests */

int ctl__parse_request(const char *line, size_t len, json_t **id, const char **cmd, json_t **args,
                       json_t **root, const char **why)
{
    json_error_t jerr;
    *why = NULL;
    *id = NULL;
    *cmd = NULL;
    *args = NULL;
    *root = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!*root)
        *why = "the request is not valid JSON";
    else if (!json_is_object(*root))
        *why = "the request must be a JSON object";
    if (!*why) {
        *id = json_incref(json_object_get(*root, "id"));
        json_t *jcmd = json_object_get(*root, "cmd");
        json_t *jargs = json_object_get(*root, "args");
        if (!json_is_string(jcmd))
            *why = "the request has no \"cmd\" string";
        else if (jargs && !json_is_object(jargs))
            *why = "\"args\" must be a JSON object";
        else
            *cmd = json_string_value(jcmd);
        if (!*why)
            *args = jargs ? json_incref(jargs) : json_object();
    }
    if (!*why)
        return 0;
    *cmd = NULL;
    json_decref(*root);
    *root = NULL;
    return -1;
}

/* Parses one line into id, cmd and args; on failure answers "bad-request"
 * and returns -1. On success *id and *args are new references. */
static int ctl_parse(struct ctl_conn *c, const char *line, size_t len, json_t **id,
                     const char **cmd, json_t **args, json_t **root)
{
    const char *why;
    if (ctl__parse_request(line, len, id, cmd, args, root, &why) == 0)
        return 0;
    ctl_send(c, ctl_error_json(*id ? *id : json_null(), "bad-request", why), false);
    json_decref(*id);
    return -1;
}

/* The part both origins share: the info log, the registry, the role
 * check, the handler. req is answered exactly once, now or later. */
static void ctl_dispatch(struct ctl_request *req, const char *cmd, json_t *args)
{
    log_info("control: %s %s", req->actor, cmd);
    const struct ctl_command *command = ctl_find(cmd);
    if (!command) {
        ctl_reply_error(req, "unknown-command", "there is no command \"%.64s\" (try \"help\")",
                        cmd);
    } else if (!(command->roles & req->roles)) {
        char need[96];
        ctl_roles_sentence(command->roles, need, sizeof need);
        ctl_reply_error(req, "forbidden", "%s needs %s, which %s does not have", command->name,
                        need, req->actor);
    } else {
        command->fn(req, args);
    }
}

static void ctl_handle_line(struct ctl_conn *c, const char *line, size_t len)
{
    json_t *id, *args, *root;
    const char *cmd = NULL;
    if (ctl_parse(c, line, len, &id, &cmd, &args, &root) < 0)
        return;
    struct ctl_request *req = xcalloc(1, sizeof *req);
    req->magic = CTL_REQUEST_MAGIC;
    req->conn_id = c->id;
    req->id = id ? id : json_null();
    req->roles = ctl_roles_for_user(c->uid, c->user[0] ? c->user : NULL);
    snprintf(req->actor, sizeof req->actor, "%s", c->actor);
    c->inflight++;
    ctl_dispatch(req, cmd, args);
    json_decref(args);
    json_decref(root);
}

void ctl_call(const char *cmd, json_t *args, unsigned roles, const char *actor, ctl_done_cb done,
              void *ud)
{
    assert(cmd && done);
    struct ctl_request *req = xcalloc(1, sizeof *req);
    req->magic = CTL_REQUEST_MAGIC;
    req->id = json_null();
    req->roles = roles & (CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR);
    req->done = done;
    req->ud = ud;
    size_t alen = actor ? strlen(actor) : 0;
    if (alen == 0 || alen >= sizeof req->actor || strpbrk(actor, "\r\n")) {
        snprintf(req->actor, sizeof req->actor, "invalid-actor");
        ctl_reply_error(req, "bad-request", "the actor must be 1 to %d bytes on one line",
                        CTL_ACTOR_MAX - 1);
        return;
    }
    memcpy(req->actor, actor, alen + 1);
    if (args && !json_is_object(args)) {
        ctl_reply_error(req, "bad-request", "\"args\" must be a JSON object");
        return;
    }
    json_t *owned = args ? json_incref(args) : json_object();
    ctl_dispatch(req, cmd, owned);
    json_decref(owned);
}

/* Processes every complete buffered line while the in-flight cap allows,
 * then starts or stops reading accordingly (invariant 4). */
static void ctl_conn_drain(struct ctl_conn *c)
{
    c->draining = true;
    size_t start = 0;
    while (!c->closing && c->inflight < CTL_MAX_INFLIGHT) {
        char *nl = memchr(c->buf + start, '\n', c->len - start);
        if (!nl)
            break;
        size_t n = (size_t)(nl - (c->buf + start));
        size_t linelen = n > 0 && c->buf[start + n - 1] == '\r' ? n - 1 : n;
        if (linelen > 0) {
            c->active_ms = uv_now(c->pipe.loop);
            ctl_handle_line(c, c->buf + start, linelen);
        }
        start += n + 1;
    }
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
    c->draining = false;
    if (c->closing)
        return;
    if (c->len == CTL_BUF_SIZE && !memchr(c->buf, '\n', c->len)) {
        char text[96];
        snprintf(text, sizeof text, "a request line is longer than %d bytes", CTL_LINE_MAX);
        ctl_send(c, ctl_error_json(json_null(), "line-too-long", text), true);
        return;
    }
    ctl_conn_set_reading(c, c->inflight < CTL_MAX_INFLIGHT);
}

/* ---------------------------------------------------------------- reading */

static void ctl_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    (void)suggested;
    struct ctl_conn *c = h->data;
    *buf = uv_buf_init(c->buf + c->len, (unsigned)(CTL_BUF_SIZE - c->len));
}

static void ctl_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    (void)buf;
    struct ctl_conn *c = s->data;
    if (nread < 0) {
        ctl_conn_close(c); /* EOF or error: in-flight replies will be dropped */
        return;
    }
    c->len += (size_t)nread;
    if (!c->closing)
        ctl_conn_drain(c);
}

static void ctl_conn_set_reading(struct ctl_conn *c, bool on)
{
    if (on == c->reading)
        return;
    if (on) {
        if (uv_read_start((uv_stream_t *)&c->pipe, ctl_on_alloc, ctl_on_read) < 0) {
            ctl_conn_close(c);
            return;
        }
    } else {
        uv_read_stop((uv_stream_t *)&c->pipe);
    }
    c->reading = on;
}

/* ---------------------------------------------------------------- accepting */

/* A refused peer gets one answer without an id, then the connection closes. */
static void ctl_refuse(struct ctl_conn *c, const char *code, const char *message)
{
    ctl_send(c, ctl_error_json(NULL, code, message), true);
}

static void ctl_on_connection(uv_stream_t *server, int status)
{
    if (status < 0) {
        log_warn("control: accept failed: %s", uv_strerror(status));
        return;
    }
    struct ctl_conn *c = xcalloc(1, sizeof *c);
    uv_pipe_init(server->loop, &c->pipe, 0);
    c->pipe.data = c;
    c->id = ctl_next_id++;
    c->active_ms = uv_now(server->loop);
    c->next = ctl_conns;
    if (ctl_conns)
        ctl_conns->prev = c;
    ctl_conns = c;
    ctl_nconns++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) != 0) {
        ctl_conn_close(c);
        return;
    }
    if (ctl_conn_identify(c) < 0) {
        log_warn("control: cannot read a peer's credentials; connection closed");
        ctl_conn_close(c);
        return;
    }
    if (ctl_nconns > CTL_MAX_CONNS) {
        ctl_refuse(c, "busy", "too many control connections are open; try again later");
        return;
    }
    if (ctl_roles_for_user(c->uid, c->user[0] ? c->user : NULL) == 0) {
        log_notice("control: %s has no control role; connection refused", c->actor);
        char text[160];
        snprintf(text, sizeof text,
                 "%s has no control role (control.administrators, moderators or auditors)",
                 c->actor);
        ctl_refuse(c, "forbidden", text);
        return;
    }
    c->buf = xmalloc(CTL_BUF_SIZE);
    ctl_conn_set_reading(c, true);
}

/* A connection with no request for control.idle_timeout, and none being
 * answered, is closed: the 64 slots are not held by forgotten clients. A
 * half-written line does not count as activity. */
static void ctl_on_idle_check(uv_timer_t *t)
{
    uint64_t now = uv_now(t->loop);
    struct ctl_conn *next;
    for (struct ctl_conn *c = ctl_conns; c; c = next) {
        next = c->next;
        if (c->idle_told) { /* the answer could not be written: a peer that does not read */
            ctl_conn_close(c);
        } else if (c->inflight == 0 && !c->closing && now - c->active_ms >= ctl_idle_ms) {
            c->idle_told = true;
            log_info("control: closing %s's connection, idle for %llu s", c->actor,
                     (unsigned long long)((now - c->active_ms) / 1000));
            ctl_send(c, ctl_error_json(NULL, "idle", "no request for too long; connection closed"),
                     true);
        }
    }
}

static void ctl_set_idle(const struct qun_config *cfg)
{
    ctl_idle_ms =
        (uint64_t)(cfg->control_idle_timeout > 0 ? cfg->control_idle_timeout : 600) * 1000;
    /* checked a few times per timeout, at most once a second */
    uint64_t every = ctl_idle_ms / 4 < 1000 ? 1000 : ctl_idle_ms / 4;
    uv_timer_start(&ctl_idle_timer, ctl_on_idle_check, every, every);
}

/* ---------------------------------------------------------------- built-ins */

static void ctl_cmd_whoami(struct ctl_request *req, json_t *args)
{
    (void)args;
    json_t *r = json_object();
    if (req->done) { /* ctl_call: no unix peer behind it */
        json_object_set_new(r, "actor", json_string(req->actor));
    } else {
        struct ctl_conn *c = ctl_conn_by_id(req->conn_id);
        assert(c); /* synchronous: the connection is draining */
        json_object_set_new(r, "user", c->user[0] ? json_string(c->user) : json_null());
        json_object_set_new(r, "uid", json_integer((json_int_t)c->uid));
    }
    json_object_set_new(r, "roles", ctl_roles_json(req->roles));
    ctl_reply_ok(req, r);
}

static void ctl_cmd_help(struct ctl_request *req, json_t *args)
{
    (void)args;
    json_t *list = json_array();
    for (const struct ctl_command *c = ctl_commands; c; c = c->next)
        json_array_append_new(list, json_pack("{s:s, s:o, s:s}", "command", c->name, "roles",
                                              ctl_roles_json(c->roles), "help", c->help));
    ctl_reply_ok(req, list);
}

/* ---------------------------------------------------------------- life cycle */

/* What is at path now: 0 nothing (or a stale socket, now removed), -1 with
 * a sentence in err if a daemon answers there or it is not a socket. */
static int ctl_clear_path(const char *path, char *err, size_t errlen)
{
    struct stat st;
    if (lstat(path, &st) != 0)
        return 0;
    if (!S_ISSOCK(st.st_mode)) {
        snprintf(err, errlen,
                 "control.socket %s exists and is not a socket; remove it or choose "
                 "another path",
                 path);
        return -1;
    }
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create a unix socket: %s", strerror(errno));
        return -1;
    }
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    int rc = connect(fd, (struct sockaddr *)&sa, sizeof sa);
    int saved = errno;
    close(fd);
    if (rc == 0) {
        snprintf(err, errlen, "another qund is answering on control socket %s; stop it first",
                 path);
        return -1;
    }
    if (saved != ECONNREFUSED) {
        snprintf(err, errlen, "cannot check the existing control socket %s: %s", path,
                 strerror(saved));
        return -1;
    }
    log_notice("control: removing stale socket %s (nobody answers on it)", path);
    if (unlink(path) != 0 && errno != ENOENT) {
        snprintf(err, errlen, "cannot remove the stale control socket %s: %s", path,
                 strerror(errno));
        return -1;
    }
    return 0;
}

static int ctl_listen(uv_loop_t *loop, const char *path, char *err, size_t errlen)
{
    uv_pipe_init(loop, &ctl_listener, 0);
    int rc = uv_pipe_bind(&ctl_listener, path);
    const char *what = "bind";
    if (rc == 0) {
        what = "chmod";
        rc = chmod(path, 0660) == 0 ? 0 : uv_translate_sys_error(errno);
    }
    if (rc == 0) {
        what = "listen on";
        rc = uv_listen((uv_stream_t *)&ctl_listener, 16, ctl_on_connection);
    }
    if (rc != 0) {
        snprintf(err, errlen, "cannot %s control socket %s: %s", what, path, uv_strerror(rc));
        uv_close((uv_handle_t *)&ctl_listener, NULL);
        if (strcmp(what, "bind") != 0)
            unlink(path);
        return -1;
    }
    return 0;
}

#ifdef QUN_TEST_HOOKS
/* Deadlines are days long; tests move the clock instead of sleeping. */
static void ctl_cmd_clock_advance(struct ctl_request *req, json_t *args)
{
    json_int_t secs = json_integer_value(json_object_get(args, "seconds"));
    if (secs <= 0 || secs > 10LL * 366 * 86400) {
        ctl_reply_error(req, "bad-request", "give seconds, a positive number up to ten years");
        return;
    }
    ctl_reply_ok(req, json_pack("{sI}", "now", (json_int_t)qclock_advance((int64_t)secs)));
}
#endif

int ctl_start(uv_loop_t *loop, const struct qun_config *cfg, char *err, size_t errlen)
{
    assert(!ctl_running);
    const char *path = cfg->control_socket;
    if (!path || !*path) {
        snprintf(err, errlen, "control.socket is empty");
        return -1;
    }
    if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        snprintf(err, errlen,
                 "control.socket %s is longer than a unix socket path may be (%zu "
                 "bytes)",
                 path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
        return -1;
    }
    if (ctl_clear_path(path, err, errlen) < 0 || ctl_listen(loop, path, err, errlen) < 0)
        return -1;
    ctl_path = xstrdup(path);
    ctl_set_names(cfg);
    uv_timer_init(loop, &ctl_idle_timer);
    uv_unref((uv_handle_t *)&ctl_idle_timer);
    ctl_set_idle(cfg);
    ctl_register("whoami", CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR,
                 "who the daemon thinks you are, and your roles", ctl_cmd_whoami);
    ctl_register("help", CTL_ROLE_ADMINISTRATOR | CTL_ROLE_MODERATOR | CTL_ROLE_AUDITOR,
                 "the commands, who may use them and what they do", ctl_cmd_help);
#ifdef QUN_TEST_HOOKS
    ctl_register("test.clock.advance", CTL_ROLE_ADMINISTRATOR,
                 "test builds only: move the moderation clock forward and run its jobs",
                 ctl_cmd_clock_advance);
#endif
    ctl_running = true;
    log_info("control socket listening at %s", path);
    return 0;
}

void ctl_reload(const struct qun_config *cfg)
{
    if (!ctl_running)
        return;
    if (cfg->control_socket && strcmp(cfg->control_socket, ctl_path) != 0)
        log_warn("control.socket changed: the new path is used after a restart");
    ctl_set_names(cfg);
    ctl_set_idle(cfg);
}

void ctl_stop(void)
{
    if (!ctl_running)
        return;
    ctl_running = false;
    uv_close((uv_handle_t *)&ctl_listener, NULL);
    uv_close((uv_handle_t *)&ctl_idle_timer, NULL);
    while (ctl_conns)
        ctl_conn_close(ctl_conns);
    if (unlink(ctl_path) != 0 && errno != ENOENT)
        log_warn("control: cannot remove socket %s: %s", ctl_path, strerror(errno));
    free(ctl_path);
    ctl_path = NULL;
    for (int i = 0; i < 3; i++) {
        ctl_free_names(ctl_names[i]);
        ctl_names[i] = NULL;
    }
}

size_t ctl_connection_count(void)
{
    return ctl_nconns;
}

/* ---------------------------------------------------------------- lists */

struct ctl_list *ctl_list_new(struct ctl_request *req)
{
    struct ctl_list *l = xcalloc(1, sizeof *l);
    l->req = req;
    l->arr = json_array();
    return l;
}

void ctl_list_done(void *list, int status)
{
    struct ctl_list *l = list;
    if (status != 0) {
        json_decref(l->arr);
        ctl_reply_error(l->req, "store", "the store could not be read");
    } else {
        ctl_reply_ok(l->req, l->arr);
    }
    free(l);
}

void ctl_list_unavailable(struct ctl_list *l)
{
    json_decref(l->arr);
    ctl_reply_error(l->req, "store", "the store is not available");
    free(l);
}
