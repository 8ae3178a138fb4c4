/*
 * fuzz_irc_line.c - libFuzzer target for proto/message.c.
 *
 * The input is split at '\n' (and a '\r' before it dropped) the way the
 * transport does; each line is parsed, and every line that parses is
 * rendered and parsed again. Checked on every run:
 *
 *   - a line refused for length is left byte-for-byte untouched;
 *   - a parsed message obeys the struct's contract (command [A-Z0-9_-],
 *     middle params non-empty without spaces, UTF-8 strings);
 *   - rendering a parsed message succeeds, the output ends in CRLF, has no
 *     NUL/CR/LF before it, is valid UTF-8, has a tag section <= 8191 bytes
 *     and a body <= 510 bytes;
 *   - the re-parse gives the same tags, source, command and params, except
 *     that a body cut to exactly 510 bytes may shorten the last param to a
 *     prefix of itself.
 *
 * A second stage feeds the raw input as a trailing param and as a tag value
 * to the writer, to exercise its sanitizer on bytes the parser never lets
 * through (NUL, CR, LF, ill-formed UTF-8).
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/message.h"
#include "proto/utf8.h"
#include "fuzz.h"

static char line[16384];
static char saved[16384];
static char out[IRC_LINE_BUF_MIN];
static char reparse[IRC_LINE_BUF_MIN];

static bool cstr_ok(const char *s)
{
    return utf8_valid_text(s, strlen(s));
}

static void check_msg(const struct irc_msg *m)
{
    assert(m->command != NULL && m->command[0] != '\0');
    for (const char *c = m->command; *c; c++)
        assert((*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || *c == '_' || *c == '-');
    assert(m->nparams <= IRC_PARAMS_MAX);
    assert(m->ntags <= IRC_TAGS_COUNT_MAX);
    if (m->source)
        assert(m->source[0] != '\0' && cstr_ok(m->source) && !strchr(m->source, ' '));
    for (size_t i = 0; i < m->nparams; i++) {
        const char *p = m->params[i];
        assert(cstr_ok(p));
        if (i + 1 < m->nparams || !m->trailing)
            assert(p[0] != '\0' && p[0] != ':' && !strchr(p, ' '));
    }
    for (size_t i = 0; i < m->ntags; i++) {
        assert(irc_tag_key_valid(m->tags[i].key, strlen(m->tags[i].key)));
        /* Values may hold unescaped CR/LF/space but stay UTF-8. */
        assert(utf8_valid(m->tags[i].value, strlen(m->tags[i].value)));
        for (size_t j = 0; j < i; j++)
            assert(strcmp(m->tags[i].key, m->tags[j].key) != 0);
    }
}

/* Checks a rendered line and returns the length of its tag section
 * (including the space), so the caller can measure the body. */
static size_t check_output(const char *o, size_t n)
{
    assert(n >= 2 && o[n - 2] == '\r' && o[n - 1] == '\n' && o[n] == '\0');
    assert(utf8_valid_text(o, n - 2));
    size_t tags = 0;
    if (o[0] == '@') {
        const char *sp = memchr(o, ' ', n);
        assert(sp != NULL);
        tags = (size_t)(sp - o) + 1;
        assert(tags <= IRC_TAGS_MAX);
    }
    assert(n - 2 - tags <= IRC_BODY_MAX);
    return tags;
}

static void compare(const struct irc_msg *a, const struct irc_msg *b, bool cut)
{
    assert(a->ntags == b->ntags);
    for (size_t i = 0; i < a->ntags; i++) {
        assert(strcmp(a->tags[i].key, b->tags[i].key) == 0);
        assert(strcmp(a->tags[i].value, b->tags[i].value) == 0);
    }
    assert((a->source == NULL) == (b->source == NULL));
    assert(a->source == NULL || strcmp(a->source, b->source) == 0);
    assert(strcmp(a->command, b->command) == 0);
    assert(a->nparams == b->nparams);
    for (size_t i = 0; i < a->nparams; i++) {
        if (cut && i + 1 == a->nparams) {
            size_t n = strlen(b->params[i]);
            assert(n <= strlen(a->params[i]));
            assert(memcmp(a->params[i], b->params[i], n) == 0);
        } else {
            assert(strcmp(a->params[i], b->params[i]) == 0);
        }
    }
}

static void one_line(const char *s, size_t n)
{
    struct irc_msg m, m2;
    memcpy(line, s, n);
    line[n] = '\0';
    memcpy(saved, s, n);
    int rc = irc_msg_parse(line, n, &m);
    if (rc == IRC_PARSE_TAGS_TOO_LONG || rc == IRC_PARSE_BODY_TOO_LONG)
        assert(memcmp(line, saved, n) == 0);
    if (rc != 0)
        return;
    check_msg(&m);
    ssize_t r = irc_msg_render(&m, out, sizeof out);
    assert(r > 0);
    size_t tags = check_output(out, (size_t)r);
    bool cut = (size_t)r - 2 - tags == IRC_BODY_MAX;
    memcpy(reparse, out, (size_t)r - 2);
    reparse[r - 2] = '\0';
    rc = irc_msg_parse(reparse, (size_t)r - 2, &m2);
    assert(rc == 0);
    check_msg(&m2);
    compare(&m, &m2, cut);
}

/* Raw bytes through the writer's sanitizing paths. */
static void writer_stage(const uint8_t *data, size_t size)
{
    static char value[16384];
    size_t vlen = strnlen((const char *)data, size);
    memcpy(value, data, vlen);
    value[vlen] = '\0';

    struct irc_wbuf w;
    irc_wbuf_init(&w, out, sizeof out);
    irc_wbuf_tag(&w, "+example.com/v", value);
    irc_wbuf_tag(&w, "k", value);
    irc_wbuf_command(&w, "PRIVMSG");
    irc_wbuf_param(&w, "#c");
    irc_wbuf_trailing_len(&w, (const char *)data, size);
    ssize_t r = irc_wbuf_finish(&w);
    assert(r > 0);
    check_output(out, (size_t)r);
    struct irc_msg m;
    memcpy(reparse, out, (size_t)r - 2);
    reparse[r - 2] = '\0';
    assert(irc_msg_parse(reparse, (size_t)r - 2, &m) == 0);
    assert(m.nparams == 2 && strcmp(m.params[0], "#c") == 0);
    /* The value survives escaping exactly when it was clean UTF-8. */
    if (m.ntags > 0 && utf8_valid(value, vlen))
        assert(strcmp(m.tags[0].value, value) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size >= sizeof line)
        return 0;
    size_t start = 0;
    for (size_t i = 0; i <= size; i++) {
        if (i < size && data[i] != '\n')
            continue;
        size_t n = i - start;
        if (n > 0 && data[start + n - 1] == '\r')
            n--;
        one_line((const char *)data + start, n);
        start = i + 1;
    }
    writer_stage(data, size);
    return 0;
}
