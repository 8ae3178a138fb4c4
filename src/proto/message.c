/*
 * message.c - parse and render IRC lines (see message.h for the grammar and
 * both contracts).
 *
 * Owns: the in-place parser, the tag escape codec and the line writer.
 *
 * Parser shape. Every client line comes through here, so the parser makes
 * two linear passes and no allocation: (1) locate the tag section with
 * memchr and check both length limits, then validate UTF-8 (eight bytes at
 * a time, see utf8.c); (2) walk the line once more, writing NULs over the
 * separators and unescaping tag values in place. Limits are checked before
 * any write, so a rejected over-long line can still be logged verbatim.
 *
 * Writer shape. struct irc_wbuf appends straight into the caller's buffer in
 * wire order; `phase` enforces that order:
 *
 *   W_TAGS --source--> W_SOURCE --command--> W_PARAMS --trailing--> W_DONE
 *      \______________command______________/      \                    |
 *                                                   \---finish--> W_FINISHED
 *
 * Invariants of the writer, true after every call:
 *   - w->len <= IRC_TAGS_MAX - 1 while in W_TAGS (room for the space);
 *   - w->len <= w->body_start + w->body_max once the body has begun;
 *   - buf[0..len) holds no NUL, CR or LF and is well-formed UTF-8.
 * Errors are sticky: the first one is kept in w->err and returned by
 * irc_wbuf_finish(), so call sites need no checks between appends.
 */
#include "proto/message.h"

#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "proto/utf8.h"

const struct irc_limits irc_limits_default = {
    .tags_max = IRC_TAGS_MAX,
    .body_max = IRC_BODY_MAX,
};

const struct irc_limits irc_limits_client = {
    .tags_max = IRC_CLIENT_TAG_DATA_MAX + 2,
    .body_max = IRC_BODY_MAX,
};

/* ------------------------------------------------------------------ */
/* Character classes                                                   */
/* ------------------------------------------------------------------ */

static inline bool char_is_alnum(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Command characters, shared by parser and writer so that anything the
 * parser accepts can be rendered again. Letters and digits per RFC 1459;
 * '_' and '-' as well, so an unknown command such as "FOO_BAR" reaches
 * dispatch and gets ERR_UNKNOWNCOMMAND instead of a parse error. */
static inline bool char_is_command(char c)
{
    return char_is_alnum(c) || c == '_' || c == '-';
}

/*
 * One pass over the key: letters, digits and '-' anywhere; '.' only in the
 * vendor part (a hostname); at most one '/', with non-empty text on both
 * sides. Runs for every tag of every line, hence no second pass.
 */
bool irc_tag_key_valid(const char *key, size_t len)
{
    size_t start = (len > 0 && key[0] == '+') ? 1 : 0; /* client-only */
    size_t slash = 0, last_dot = 0;
    bool has_slash = false, has_dot = false;
    for (size_t j = start; j < len; j++) {
        char c = key[j];
        if (char_is_alnum(c) || c == '-')
            continue;
        if (c == '.') {
            has_dot = true;
            last_dot = j;
        } else if (c == '/' && !has_slash && j > start) {
            has_slash = true;
            slash = j;
        } else {
            return false;
        }
    }
    if (!has_slash)
        return len > start && !has_dot;
    return slash + 1 < len && (!has_dot || last_dot < slash);
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

const char *irc_parse_strerror(int err)
{
    switch (err) {
    case IRC_PARSE_OK:
        return "ok";
    case IRC_PARSE_EMPTY:
        return "empty line";
    case IRC_PARSE_TAGS_TOO_LONG:
        return "tag section too long";
    case IRC_PARSE_TOO_MANY_TAGS:
        return "too many tags";
    case IRC_PARSE_BODY_TOO_LONG:
        return "line too long";
    case IRC_PARSE_NO_COMMAND:
        return "no command";
    case IRC_PARSE_BAD_TAG:
        return "malformed tag key";
    case IRC_PARSE_BAD_UTF8:
        return "invalid UTF-8 or control character";
    case IRC_PARSE_BAD_SOURCE:
        return "empty source prefix";
    case IRC_PARSE_BAD_COMMAND:
        return "malformed command";
    default:
        return "unknown error";
    }
}

/*
 * Unescapes the value starting at v in place, stopping at ';' or end.
 * Returns the stop position; the unescaped value is NUL-terminated (the
 * NUL may overwrite the ';', which the caller has then already passed).
 */
static char *tag_value_unescape(char *v, char *end)
{
    char *r = v, *w = v;
    while (r < end && *r != ';') {
        if (*r != '\\') {
            *w++ = *r++;
            continue;
        }
        r++;
        if (r == end || *r == ';')
            break; /* lone trailing backslash: dropped */
        switch (*r) {
        case ':':
            *w++ = ';';
            break;
        case 's':
            *w++ = ' ';
            break;
        case '\\':
            *w++ = '\\';
            break;
        case 'r':
            *w++ = '\r';
            break;
        case 'n':
            *w++ = '\n';
            break;
        default:
            *w++ = *r;
            break; /* unknown escape: drop the '\' */
        }
        r++;
    }
    *w = '\0';
    return r;
}

/* Records key=value, letting a repeated key overwrite the earlier value. */
static int tag_store(struct irc_msg *m, const char *key, const char *value)
{
    for (size_t i = 0; i < m->ntags; i++) {
        if (m->tags[i].key[0] == key[0] && strcmp(m->tags[i].key, key) == 0) {
            m->tags[i].value = value;
            return 0;
        }
    }
    if (m->ntags == IRC_TAGS_COUNT_MAX)
        return IRC_PARSE_TOO_MANY_TAGS;
    m->tags[m->ntags].key = key;
    m->tags[m->ntags].value = value;
    m->ntags++;
    return 0;
}

/* Parses s[0..end) (the section without '@'); *end is already NUL. */
static int tags_parse(char *s, char *end, struct irc_msg *m)
{
    while (s < end) {
        char *key = s;
        char *q = key;
        while (q < end && *q != '=' && *q != ';')
            q++;
        size_t klen = (size_t)(q - key);
        const char *value = "";
        char *next = q;
        if (q < end && *q == '=') {
            value = q + 1;
            next = tag_value_unescape(q + 1, end);
        }
        *q = '\0'; /* ends the key (q may equal end: already NUL) */
        if (klen == 0) {
            if (next != q) /* "=value" without a key */
                return IRC_PARSE_BAD_TAG;
        } else {
            if (!irc_tag_key_valid(key, klen))
                return IRC_PARSE_BAD_TAG;
            int rc = tag_store(m, key, value);
            if (rc < 0)
                return rc;
        }
        s = next < end ? next + 1 : end;
    }
    return 0;
}

/* Command: ASCII letters (uppercased here), digits, '_' or '-'. */
static int command_parse(char **pp, char *end, struct irc_msg *m)
{
    char *p = *pp;
    m->command = p;
    for (; p < end && *p != ' '; p++) {
        char c = *p;
        if (c >= 'a' && c <= 'z')
            *p = (char)(c - 'a' + 'A');
        else if (!char_is_command(c))
            return IRC_PARSE_BAD_COMMAND;
    }
    if (p < end)
        *p++ = '\0';
    *pp = p;
    return 0;
}

static void params_parse(char *p, char *end, struct irc_msg *m)
{
    for (;;) {
        while (p < end && *p == ' ')
            p++;
        if (p == end)
            return;
        if (*p == ':' || m->nparams == IRC_PARAMS_MAX - 1) {
            /* Trailing, or the 15th param absorbing the rest. */
            if (*p == ':')
                p++;
            m->params[m->nparams++] = p; /* runs to *end == NUL */
            m->trailing = true;
            return;
        }
        char *sp = memchr(p, ' ', (size_t)(end - p));
        if (sp == NULL)
            sp = end;
        *sp = '\0';
        m->params[m->nparams++] = p;
        p = sp < end ? sp + 1 : end;
    }
}

/* Source, command and params; p is at the first byte of the body. */
static int body_parse(char *p, char *end, struct irc_msg *m)
{
    if (*p == ':') {
        char *src = p + 1;
        char *sp = memchr(src, ' ', (size_t)(end - src));
        if (sp == src || src == end)
            return IRC_PARSE_BAD_SOURCE;
        if (sp == NULL)
            return IRC_PARSE_NO_COMMAND;
        *sp = '\0';
        m->source = src;
        p = sp + 1;
        while (p < end && *p == ' ')
            p++;
        if (p == end)
            return IRC_PARSE_NO_COMMAND;
    }
    int rc = command_parse(&p, end, m);
    if (rc < 0)
        return rc;
    params_parse(p, end, m);
    return 0;
}

int irc_msg_parse_limits(char *line, size_t len, const struct irc_limits *lim, struct irc_msg *m)
{
    char *end = line + len;
    char *p = line;
    char *tags_end = NULL;

    m->ntags = 0;
    m->source = NULL;
    m->command = NULL;
    m->nparams = 0;
    m->trailing = false;

    /* Pass 1: limits and encoding, before writing anything. */
    if (len > 0 && line[0] == '@') {
        tags_end = memchr(line, ' ', len);
        size_t section = tags_end ? (size_t)(tags_end - line) + 1 : len;
        if (section > lim->tags_max)
            return IRC_PARSE_TAGS_TOO_LONG;
        if (tags_end == NULL)
            return IRC_PARSE_NO_COMMAND;
        p = tags_end + 1;
    }
    while (p < end && *p == ' ')
        p++;
    if (p == end)
        return tags_end ? IRC_PARSE_NO_COMMAND : IRC_PARSE_EMPTY;
    if ((size_t)(end - p) > lim->body_max)
        return IRC_PARSE_BODY_TOO_LONG;
    if (!utf8_valid_text(line, len))
        return IRC_PARSE_BAD_UTF8;

    /* Pass 2: split in place. */
    if (tags_end != NULL) {
        *tags_end = '\0';
        int rc = tags_parse(line + 1, tags_end, m);
        if (rc < 0)
            return rc;
    }
    return body_parse(p, end, m);
}

int irc_msg_parse(char *line, size_t len, struct irc_msg *m)
{
    return irc_msg_parse_limits(line, len, &irc_limits_default, m);
}

const char *irc_msg_tag(const struct irc_msg *m, const char *key)
{
    for (size_t i = 0; i < m->ntags; i++)
        if (strcmp(m->tags[i].key, key) == 0)
            return m->tags[i].value;
    return NULL;
}

/* ------------------------------------------------------------------ */
/* Tag escaping                                                        */
/* ------------------------------------------------------------------ */

ssize_t irc_tag_escape(const char *value, size_t len, char *out, size_t cap)
{
    const unsigned char *s = (const unsigned char *)value;
    size_t o = 0;
    for (size_t i = 0; i < len;) {
        unsigned char c = s[i];
        char esc = 0;
        switch (c) {
        case ';':
            esc = ':';
            break;
        case ' ':
            esc = 's';
            break;
        case '\\':
            esc = '\\';
            break;
        case '\r':
            esc = 'r';
            break;
        case '\n':
            esc = 'n';
            break;
        case '\0':
            i++;
            continue; /* not representable: dropped */
        default:
            break;
        }
        if (esc) {
            if (cap - o < 2)
                return -1;
            out[o++] = '\\';
            out[o++] = esc;
            i++;
            continue;
        }
        /* Copy a well-formed sequence whole; an ill-formed byte becomes
         * '?' so the output stays UTF-8 whatever the caller passed. */
        size_t n = c < 0x80 ? 1 : utf8_seq_len(s + i, len - i);
        if (cap - o < (n ? n : 1))
            return -1;
        if (n == 0) {
            out[o++] = '?';
            i++;
        } else {
            memcpy(out + o, s + i, n);
            o += n;
            i += n;
        }
    }
    return (ssize_t)o;
}

/* ------------------------------------------------------------------ */
/* Writer                                                              */
/* ------------------------------------------------------------------ */

enum { W_TAGS, W_SOURCE, W_PARAMS, W_DONE, W_FINISHED };

static void wbuf_fail(struct irc_wbuf *w, int err)
{
    if (w->err == 0)
        w->err = err;
}

void irc_wbuf_init(struct irc_wbuf *w, char *buf, size_t cap)
{
    /* A full-size buffer means the only limits that ever bite are the
     * protocol's, which keeps truncation rules in one place. */
    assert(cap >= IRC_LINE_BUF_MIN);
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->tags_len = 0;
    w->body_start = 0;
    w->body_max = IRC_BODY_MAX;
    w->phase = W_TAGS;
    w->err = 0;
    w->nparams = 0;
}

/* Room left in the tag section, keeping one byte for the closing space. */
static size_t wbuf_tags_room(const struct irc_wbuf *w)
{
    return IRC_TAGS_MAX - 1 - w->len;
}

bool irc_wbuf_tag(struct irc_wbuf *w, const char *key, const char *value)
{
    assert(w->phase == W_TAGS);
    size_t klen = strlen(key);
    if (!irc_tag_key_valid(key, klen))
        return false;
    size_t room = wbuf_tags_room(w);
    size_t need = 1 + klen; /* '@' or ';', then the key */
    if (need > room)
        return false;
    char *p = w->buf + w->len;
    p[0] = w->tags_len == 0 ? '@' : ';';
    memcpy(p + 1, key, klen);
    if (value != NULL && value[0] != '\0') {
        if (need + 1 > room)
            return false;
        p[need] = '=';
        ssize_t n = irc_tag_escape(value, strlen(value), p + need + 1, room - need - 1);
        if (n < 0)
            return false; /* nothing committed: len unchanged */
        need += 1 + (size_t)n;
    }
    w->len += need;
    w->tags_len = w->len;
    return true;
}

bool irc_wbuf_tags_raw(struct irc_wbuf *w, const char *tags, size_t len)
{
    assert(w->phase == W_TAGS);
    if (len == 0)
        return true;
    if (1 + len > wbuf_tags_room(w))
        return false;
    /* Refuse anything that would break the line apart or its UTF-8. */
    if (memchr(tags, ' ', len) != NULL || !utf8_valid_text(tags, len))
        return false;
    w->buf[w->len] = w->tags_len == 0 ? '@' : ';';
    memcpy(w->buf + w->len + 1, tags, len);
    w->len += 1 + len;
    w->tags_len = w->len;
    return true;
}

/* Closes the tag section (if any) and marks where the body starts. */
static void wbuf_body_begin(struct irc_wbuf *w)
{
    if (w->tags_len > 0)
        w->buf[w->len++] = ' ';
    w->body_start = w->len;
}

static size_t wbuf_body_room(const struct irc_wbuf *w)
{
    return w->body_start + w->body_max - w->len;
}

/* Appends lead (0 for none) and s[0..n) if it fits in the body. */
static void wbuf_body_put(struct irc_wbuf *w, char lead, const char *s, size_t n)
{
    size_t need = n + (lead != 0);
    if (need > wbuf_body_room(w)) {
        wbuf_fail(w, IRC_WBUF_BODY_OVERFLOW);
        return;
    }
    if (lead)
        w->buf[w->len++] = lead;
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* A token that may stand between spaces: non-empty, no space, no ':' lead,
 * well-formed UTF-8 without NUL/CR/LF. */
static bool token_valid(const char *s, size_t n)
{
    return n > 0 && s[0] != ':' && memchr(s, ' ', n) == NULL && utf8_valid_text(s, n);
}

void irc_wbuf_source(struct irc_wbuf *w, const char *source)
{
    assert(w->phase == W_TAGS);
    wbuf_body_begin(w);
    w->phase = W_SOURCE;
    size_t n = strlen(source);
    /* Unlike a param, a source may start with ':' ("::x" parses back to
     * ":x"); only emptiness and separators would break the line. */
    if (n == 0 || memchr(source, ' ', n) || !utf8_valid_text(source, n)) {
        wbuf_fail(w, IRC_WBUF_BAD_SOURCE);
        return;
    }
    wbuf_body_put(w, ':', source, n);
}

void irc_wbuf_command(struct irc_wbuf *w, const char *command)
{
    assert(w->phase == W_TAGS || w->phase == W_SOURCE);
    if (w->phase == W_TAGS)
        wbuf_body_begin(w);
    w->phase = W_PARAMS;
    size_t n = command ? strlen(command) : 0;
    bool ok = n > 0;
    for (size_t i = 0; i < n && ok; i++)
        ok = char_is_command(command[i]);
    if (!ok) {
        wbuf_fail(w, IRC_WBUF_BAD_COMMAND);
        return;
    }
    wbuf_body_put(w, w->len > w->body_start ? ' ' : 0, command, n);
}

void irc_wbuf_param(struct irc_wbuf *w, const char *param)
{
    assert(w->phase == W_PARAMS);
    size_t n = strlen(param);
    if (!token_valid(param, n) || w->nparams == IRC_PARAMS_MAX) {
        wbuf_fail(w, IRC_WBUF_BAD_PARAM);
        return;
    }
    w->nparams++;
    wbuf_body_put(w, ' ', param, n);
}

/* True when the first n bytes hold a byte that is or becomes a space. */
static bool text_has_break(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] == ' ' || s[i] == '\r' || s[i] == '\n' || s[i] == '\0')
            return true;
    return false;
}

/* Makes s[0..n) wire-safe in place, byte for byte: NUL/CR/LF become spaces,
 * each byte of an ill-formed UTF-8 sequence becomes '?'. */
static void text_sanitize(char *s, size_t n)
{
    if (utf8_valid_text(s, n))
        return; /* the common case: one fast scan */
    unsigned char *u = (unsigned char *)s;
    for (size_t i = 0; i < n;) {
        if (u[i] == '\0' || u[i] == '\r' || u[i] == '\n') {
            u[i++] = ' ';
            continue;
        }
        size_t len = utf8_seq_len(u + i, n - i);
        if (len == 0)
            u[i++] = '?';
        else
            i += len;
    }
}

/*
 * Writes the final param. `text` may already lie inside w->buf past w->len
 * (the printf path formats in place), hence memmove. The colon decision looks
 * only at the bytes that can still fit, and is made before cutting, so a cut
 * that removes the last space leaves a harmless, still valid colon.
 */
static void wbuf_trailing_put(struct irc_wbuf *w, const char *text, size_t n)
{
    assert(w->phase == W_PARAMS);
    w->phase = W_DONE;
    if (w->nparams == IRC_PARAMS_MAX) {
        wbuf_fail(w, IRC_WBUF_BAD_PARAM);
        return;
    }
    w->nparams++;
    size_t room = wbuf_body_room(w);
    size_t scan = n < room ? n : room;
    bool colon = n == 0 || text[0] == ':' || text_has_break(text, scan);
    size_t k = 0;
    if (room >= 1u + colon)
        k = utf8_truncate(text, n, room - 1 - colon);
    if (k == 0)
        colon = true; /* "CMD " alone would lose the param */
    if (room < 1u + colon) {
        wbuf_fail(w, IRC_WBUF_BODY_OVERFLOW);
        return;
    }
    char *dst = w->buf + w->len + 1 + colon;
    memmove(dst, text, k);
    w->buf[w->len] = ' ';
    if (colon)
        w->buf[w->len + 1] = ':';
    text_sanitize(dst, k);
    w->len += 1 + colon + k;
}

void irc_wbuf_trailing_len(struct irc_wbuf *w, const char *text, size_t len)
{
    wbuf_trailing_put(w, text, len);
}

void irc_wbuf_trailing(struct irc_wbuf *w, const char *text)
{
    wbuf_trailing_put(w, text, strlen(text));
}

void irc_wbuf_vtrailingf(struct irc_wbuf *w, const char *fmt, va_list ap)
{
    assert(w->phase == W_PARAMS);
    /* Format where the text would land with a colon; the buffer is sized
     * (IRC_LINE_BUF_MIN) so that more than the body room is available. */
    size_t start = w->len + 2;
    size_t space = w->cap - start;
    int r = vsnprintf(w->buf + start, space, fmt, ap);
    size_t n = 0;
    if (r > 0)
        n = (size_t)r < space ? (size_t)r : space - 1;
    wbuf_trailing_put(w, w->buf + start, n);
}

void irc_wbuf_trailingf(struct irc_wbuf *w, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    irc_wbuf_vtrailingf(w, fmt, ap);
    va_end(ap);
}

ssize_t irc_wbuf_finish(struct irc_wbuf *w)
{
    assert(w->phase != W_FINISHED);
    if (w->phase < W_PARAMS)
        wbuf_fail(w, IRC_WBUF_BAD_COMMAND);
    w->phase = W_FINISHED;
    if (w->err != 0) {
        w->buf[0] = '\0';
        return w->err;
    }
    w->buf[w->len++] = '\r';
    w->buf[w->len++] = '\n';
    w->buf[w->len] = '\0';
    return (ssize_t)w->len;
}

ssize_t irc_msg_render(const struct irc_msg *m, char *buf, size_t cap)
{
    struct irc_wbuf w;
    irc_wbuf_init(&w, buf, cap);
    for (size_t i = 0; i < m->ntags; i++)
        irc_wbuf_tag(&w, m->tags[i].key, m->tags[i].value);
    if (m->source != NULL)
        irc_wbuf_source(&w, m->source);
    irc_wbuf_command(&w, m->command);
    for (size_t i = 0; i < m->nparams; i++) {
        const char *p = m->params[i];
        bool last = i + 1 == m->nparams;
        if (last && (m->trailing || !token_valid(p, strlen(p))))
            irc_wbuf_trailing(&w, p);
        else
            irc_wbuf_param(&w, p);
    }
    return irc_wbuf_finish(&w);
}
