/*
 * test_message.c - unit tests for proto/message.c.
 *
 * Parser tests feed literal lines and check every field byte for byte;
 * serializer tests compare whole rendered lines with expected strings; the
 * round-trip tests check parse(render(parse(x))) == parse(x) and, for
 * canonical lines, render(parse(x)) == x + CRLF exactly.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "proto/message.h"

/* Scratch line: the parser writes into it, so literals are copied first. */
static char line_buf[16384];
static char out_buf[IRC_LINE_BUF_MIN];

static int parse(const char *s, struct irc_msg *m)
{
    size_t n = strlen(s);
    assert_true(n < sizeof line_buf);
    memcpy(line_buf, s, n + 1);
    return irc_msg_parse(line_buf, n, m);
}

static void assert_params(const struct irc_msg *m, size_t n, const char **want)
{
    assert_int_equal(m->nparams, n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(m->params[i], want[i]);
}

/* ------------------------------------------------------------------ */
/* Parser                                                              */
/* ------------------------------------------------------------------ */

static void test_parse_simple(void **state)
{
    (void)state;
    struct irc_msg m;
    assert_int_equal(parse("PRIVMSG #chan :hello world", &m), 0);
    assert_null(m.source);
    assert_int_equal(m.ntags, 0);
    assert_string_equal(m.command, "PRIVMSG");
    assert_params(&m, 2, (const char *[]){"#chan", "hello world"});
    assert_true(m.trailing);

    assert_int_equal(parse("privmsg #a b", &m), 0);
    assert_string_equal(m.command, "PRIVMSG");
    assert_params(&m, 2, (const char *[]){"#a", "b"});
    assert_false(m.trailing);

    assert_int_equal(parse("foo_bar-2 x", &m), 0); /* reaches dispatch: 421 */
    assert_string_equal(m.command, "FOO_BAR-2");

    assert_int_equal(parse("QUIT", &m), 0);
    assert_string_equal(m.command, "QUIT");
    assert_int_equal(m.nparams, 0);
    assert_false(m.trailing);
}

static void test_parse_source_and_numeric(void **state)
{
    (void)state;
    struct irc_msg m;
    assert_int_equal(parse(":nick!user@host PRIVMSG #a :hi", &m), 0);
    assert_string_equal(m.source, "nick!user@host");
    assert_string_equal(m.command, "PRIVMSG");
    assert_params(&m, 2, (const char *[]){"#a", "hi"});

    assert_int_equal(parse(":irc.example.org 001 alice :Welcome to Qun", &m), 0);
    assert_string_equal(m.source, "irc.example.org");
    assert_string_equal(m.command, "001");
    assert_params(&m, 2, (const char *[]){"alice", "Welcome to Qun"});

    assert_int_equal(parse(":s   005 a  b", &m), 0);
    assert_string_equal(m.source, "s");
    assert_string_equal(m.command, "005");
    assert_params(&m, 2, (const char *[]){"a", "b"});
}

static void test_parse_tags(void **state)
{
    (void)state;
    struct irc_msg m;
    assert_int_equal(parse("@time=2024-01-01T00:00:00.000Z;msgid=Ab1;"
                           "+draft/reply=42;account :n!u@h PRIVMSG #c :hi",
                           &m),
                     0);
    assert_int_equal(m.ntags, 4);
    assert_string_equal(m.tags[0].key, "time");
    assert_string_equal(m.tags[0].value, "2024-01-01T00:00:00.000Z");
    assert_string_equal(m.tags[1].key, "msgid");
    assert_string_equal(m.tags[1].value, "Ab1");
    assert_string_equal(m.tags[2].key, "+draft/reply");
    assert_string_equal(m.tags[2].value, "42");
    assert_string_equal(m.tags[3].key, "account");
    assert_string_equal(m.tags[3].value, "");
    assert_string_equal(m.source, "n!u@h");
    assert_string_equal(irc_msg_tag(&m, "+draft/reply"), "42");
    assert_string_equal(irc_msg_tag(&m, "account"), "");
    assert_null(irc_msg_tag(&m, "draft/reply"));

    /* Vendor with dots, empty value, empty tag entries tolerated. */
    assert_int_equal(parse("@example.com/foo-bar=1;b=;;c; CMD", &m), 0);
    assert_int_equal(m.ntags, 3);
    assert_string_equal(m.tags[0].key, "example.com/foo-bar");
    assert_string_equal(m.tags[1].key, "b");
    assert_string_equal(m.tags[1].value, "");
    assert_string_equal(m.tags[2].key, "c");
    assert_string_equal(m.command, "CMD");

    assert_int_equal(parse("@ CMD x", &m), 0); /* empty section */
    assert_int_equal(m.ntags, 0);
    assert_string_equal(m.command, "CMD");
}

static void test_parse_tag_escapes(void **state)
{
    (void)state;
    struct irc_msg m;
    /* wire: a=\:\s\\\r\n  b=x\by  c=end\  d=\\\  e=\ */
    assert_int_equal(parse("@a=\\:\\s\\\\\\r\\n;b=x\\by;c=end\\;"
                           "d=\\\\\\;e=\\ CMD",
                           &m),
                     0);
    assert_int_equal(m.ntags, 5);
    assert_string_equal(m.tags[0].value, "; \\\r\n");
    assert_string_equal(m.tags[1].value, "xby"); /* invalid escape */
    assert_string_equal(m.tags[2].value, "end"); /* lone backslash */
    assert_string_equal(m.tags[3].value, "\\");
    assert_string_equal(m.tags[4].value, "");
    assert_string_equal(m.tags[4].key, "e");

    /* Backslash before a multi-byte char drops only the backslash. */
    assert_int_equal(parse("@k=\\\xe4\xbd\xa0 CMD", &m), 0);
    assert_string_equal(m.tags[0].value, "\xe4\xbd\xa0");
}

static void test_parse_duplicate_tags(void **state)
{
    (void)state;
    struct irc_msg m;
    assert_int_equal(parse("@a=1;b=2;a=3;+a=4 CMD", &m), 0);
    assert_int_equal(m.ntags, 3);
    assert_string_equal(m.tags[0].key, "a");
    assert_string_equal(m.tags[0].value, "3");
    assert_string_equal(m.tags[1].key, "b");
    assert_string_equal(m.tags[2].key, "+a");
    assert_string_equal(m.tags[2].value, "4");

    assert_int_equal(parse("@a=1;a CMD", &m), 0);
    assert_int_equal(m.ntags, 1);
    assert_string_equal(m.tags[0].value, "");
}

static void test_parse_params(void **state)
{
    (void)state;
    struct irc_msg m;
    assert_int_equal(parse("CMD a :", &m), 0);
    assert_params(&m, 2, (const char *[]){"a", ""});
    assert_true(m.trailing);

    assert_int_equal(parse("CMD :a:b :c", &m), 0);
    assert_params(&m, 1, (const char *[]){"a:b :c"});

    assert_int_equal(parse("CMD a:b c", &m), 0);
    assert_params(&m, 2, (const char *[]){"a:b", "c"});
    assert_false(m.trailing);

    assert_int_equal(parse("CMD   a    b   :c  d ", &m), 0);
    assert_params(&m, 3, (const char *[]){"a", "b", "c  d "});

    assert_int_equal(parse("CMD a b   ", &m), 0);
    assert_params(&m, 2, (const char *[]){"a", "b"});
    assert_false(m.trailing);

    assert_int_equal(parse("CMD ::", &m), 0);
    assert_params(&m, 1, (const char *[]){":"});

    assert_int_equal(parse("PRIVMSG #\xe6\xb5\x8b\xe8\xaf\x95 :\xe4\xbd\xa0"
                           "\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c",
                           &m),
                     0);
    assert_params(&m, 2,
                  (const char *[]){"#\xe6\xb5\x8b\xe8\xaf\x95",
                                   "\xe4\xbd\xa0\xe5\xa5\xbd\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c"});
}

static void test_parse_fifteen_params(void **state)
{
    (void)state;
    struct irc_msg m;
    const char *want[15] = {"1", "2",  "3",  "4",  "5",  "6",  "7", "8",
                            "9", "10", "11", "12", "13", "14", "15"};
    assert_int_equal(parse("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15", &m), 0);
    assert_params(&m, 15, want);
    assert_true(m.trailing); /* the 15th is a trailing by position */

    /* RFC 2812: after 14 middles the rest is one param, spaces and all. */
    assert_int_equal(parse("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16  17", &m), 0);
    want[14] = "15 16  17";
    assert_params(&m, 15, want);

    assert_int_equal(parse("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :x :y", &m), 0);
    want[14] = "x :y";
    assert_params(&m, 15, want);

    assert_int_equal(parse("CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14   ", &m), 0);
    assert_int_equal(m.nparams, 14);
    assert_false(m.trailing);
}

static void test_parse_errors(void **state)
{
    (void)state;
    struct irc_msg m;
    assert_int_equal(parse("", &m), IRC_PARSE_EMPTY);
    assert_int_equal(parse("    ", &m), IRC_PARSE_EMPTY);
    assert_int_equal(parse("@a=b", &m), IRC_PARSE_NO_COMMAND);
    assert_int_equal(parse("@a=b   ", &m), IRC_PARSE_NO_COMMAND);
    assert_int_equal(parse(":src", &m), IRC_PARSE_NO_COMMAND);
    assert_int_equal(parse(":src   ", &m), IRC_PARSE_NO_COMMAND);
    assert_int_equal(parse("@a :src", &m), IRC_PARSE_NO_COMMAND);
    assert_int_equal(parse(": CMD", &m), IRC_PARSE_BAD_SOURCE);
    assert_int_equal(parse(":", &m), IRC_PARSE_BAD_SOURCE);
    assert_int_equal(parse("@bad_key=1 CMD", &m), IRC_PARSE_BAD_TAG);
    assert_int_equal(parse("@a/b/c CMD", &m), IRC_PARSE_BAD_TAG);
    assert_int_equal(parse("@/a CMD", &m), IRC_PARSE_BAD_TAG);
    assert_int_equal(parse("@a/ CMD", &m), IRC_PARSE_BAD_TAG);
    assert_int_equal(parse("@=v CMD", &m), IRC_PARSE_BAD_TAG);
    assert_int_equal(parse("@+ CMD", &m), IRC_PARSE_BAD_TAG);
    assert_int_equal(parse("@a.b=1 CMD", &m), IRC_PARSE_BAD_TAG);
    assert_int_equal(parse("@k\xc3\xa9=1 CMD", &m), IRC_PARSE_BAD_TAG);
    assert_int_equal(parse("PRIV.MSG #a", &m), IRC_PARSE_BAD_COMMAND);
    assert_int_equal(parse("PRIV*MSG #a", &m), IRC_PARSE_BAD_COMMAND);
    assert_int_equal(parse("\xe5\x8f\x91 #a", &m), IRC_PARSE_BAD_COMMAND);
    assert_int_equal(parse("CMD \xff", &m), IRC_PARSE_BAD_UTF8);
    assert_int_equal(parse("CMD \xed\xa0\x80", &m), IRC_PARSE_BAD_UTF8);
    assert_int_equal(parse("CMD :a\rb", &m), IRC_PARSE_BAD_UTF8);
    assert_int_equal(parse("@k=\xc3 CMD", &m), IRC_PARSE_BAD_UTF8);
    char nul[] = "CMD a\0b";
    assert_int_equal(irc_msg_parse(nul, 7, &m), IRC_PARSE_BAD_UTF8);
    assert_string_equal(irc_parse_strerror(IRC_PARSE_BODY_TOO_LONG), "line too long");
    assert_string_equal(irc_parse_strerror(-1000), "unknown error");
}

/* Builds "@k=vvv… CMD" whose tag section is exactly `section` bytes. */
static size_t make_tagged(char *buf, size_t section, const char *body)
{
    size_t vlen = section - 4; /* '@' 'k' '=' ... ' ' */
    buf[0] = '@';
    buf[1] = 'k';
    buf[2] = '=';
    memset(buf + 3, 'v', vlen);
    buf[3 + vlen] = ' ';
    strcpy(buf + section, body);
    return section + strlen(body);
}

static void test_parse_limits(void **state)
{
    (void)state;
    struct irc_msg m;
    char buf[12000];
    size_t n = make_tagged(buf, 8191, "CMD");
    assert_int_equal(irc_msg_parse(buf, n, &m), 0);
    assert_int_equal(strlen(m.tags[0].value), 8187);
    n = make_tagged(buf, 8192, "CMD");
    assert_int_equal(irc_msg_parse(buf, n, &m), IRC_PARSE_TAGS_TOO_LONG);
    n = make_tagged(buf, 4096, "CMD");
    assert_int_equal(irc_msg_parse_limits(buf, n, &irc_limits_client, &m), 0);
    n = make_tagged(buf, 4097, "CMD");
    assert_int_equal(irc_msg_parse_limits(buf, n, &irc_limits_client, &m), IRC_PARSE_TAGS_TOO_LONG);

    /* Body: 510 bytes pass, 511 fail, and a refused line is untouched. */
    memcpy(buf, "PRIVMSG #c :", 12);
    memset(buf + 12, 'x', 498);
    buf[510] = '\0';
    assert_int_equal(irc_msg_parse(buf, 510, &m), 0);
    memcpy(buf, "PRIVMSG #c :", 12);
    memset(buf + 12, 'x', 499);
    buf[511] = '\0';
    char copy[512];
    memcpy(copy, buf, 512);
    assert_int_equal(irc_msg_parse(buf, 511, &m), IRC_PARSE_BODY_TOO_LONG);
    assert_memory_equal(buf, copy, 512);
    /* Tags do not count against the body. */
    n = make_tagged(buf, 100, "");
    memcpy(buf + n, copy, 510);
    buf[n + 510] = '\0';
    assert_int_equal(irc_msg_parse(buf, n + 510, &m), 0);
}

static void test_parse_tag_count(void **state)
{
    (void)state;
    struct irc_msg m;
    char buf[2048];
    size_t n = 0;
    buf[n++] = '@';
    for (int i = 0; i < 64; i++)
        n += (size_t)sprintf(buf + n, "%st%d=%d", i ? ";" : "", i, i);
    strcpy(buf + n, " CMD");
    assert_int_equal(irc_msg_parse(buf, n + 4, &m), 0);
    assert_int_equal(m.ntags, 64);
    assert_string_equal(m.tags[63].key, "t63");
    assert_string_equal(m.tags[63].value, "63");

    /* A repeat of an existing key is not a 65th tag... */
    n = 0;
    buf[n++] = '@';
    for (int i = 0; i < 64; i++)
        n += (size_t)sprintf(buf + n, "%st%d=%d", i ? ";" : "", i, i);
    n += (size_t)sprintf(buf + n, ";t0=x CMD");
    assert_int_equal(irc_msg_parse(buf, n, &m), 0);
    assert_int_equal(m.ntags, 64);
    assert_string_equal(m.tags[0].value, "x");
    /* ...but a new key is. */
    n = 0;
    buf[n++] = '@';
    for (int i = 0; i < 65; i++)
        n += (size_t)sprintf(buf + n, "%st%d", i ? ";" : "", i);
    n += (size_t)sprintf(buf + n, " CMD");
    assert_int_equal(irc_msg_parse(buf, n, &m), IRC_PARSE_TOO_MANY_TAGS);
}

/* ------------------------------------------------------------------ */
/* Serializer                                                          */
/* ------------------------------------------------------------------ */

static void test_render_basic(void **state)
{
    (void)state;
    struct irc_wbuf w;
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    assert_true(irc_wbuf_tag(&w, "time", "2024-01-01T00:00:00.000Z"));
    assert_true(irc_wbuf_tag(&w, "account", NULL));
    assert_true(irc_wbuf_tag(&w, "+typing", ""));
    irc_wbuf_source(&w, "n!u@h");
    irc_wbuf_command(&w, "PRIVMSG");
    irc_wbuf_param(&w, "#c");
    irc_wbuf_trailing(&w, "hello world");
    const char *want = "@time=2024-01-01T00:00:00.000Z;account;+typing "
                       ":n!u@h PRIVMSG #c :hello world\r\n";
    assert_int_equal(irc_wbuf_finish(&w), (ssize_t)strlen(want));
    assert_string_equal(out_buf, want);

    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_command(&w, "PING");
    assert_int_equal(irc_wbuf_finish(&w), 6);
    assert_string_equal(out_buf, "PING\r\n");
}

/* Renders "CMD <text as trailing>" and returns the buffer. */
static const char *render_trailing(const char *text, size_t len)
{
    struct irc_wbuf w;
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_command(&w, "CMD");
    irc_wbuf_trailing_len(&w, text, len);
    assert_true(irc_wbuf_finish(&w) > 0);
    return out_buf;
}

static void test_render_trailing_colon(void **state)
{
    (void)state;
    assert_string_equal(render_trailing("hi", 2), "CMD hi\r\n");
    assert_string_equal(render_trailing("", 0), "CMD :\r\n");
    assert_string_equal(render_trailing(":x", 2), "CMD ::x\r\n");
    assert_string_equal(render_trailing("a b", 3), "CMD :a b\r\n");
    assert_string_equal(render_trailing("a:b", 3), "CMD a:b\r\n");
    /* CR, LF and NUL become spaces (and so call for the colon). */
    assert_string_equal(render_trailing("a\r\nb", 4), "CMD :a  b\r\n");
    assert_string_equal(render_trailing("a\0b", 3), "CMD :a b\r\n");
    /* Ill-formed UTF-8 bytes become '?', well-formed ones stay. */
    assert_string_equal(render_trailing("\xff\xe4\xbd\xa0\xc3", 5), "CMD ?\xe4\xbd\xa0?\r\n");
}

static void test_render_escape(void **state)
{
    (void)state;
    char out[64];
    assert_int_equal(irc_tag_escape("; \\\r\n", 5, out, sizeof out), 10);
    assert_memory_equal(out, "\\:\\s\\\\\\r\\n", 10);
    assert_int_equal(irc_tag_escape("abc", 3, out, 3), 3);
    assert_int_equal(irc_tag_escape("abc", 3, out, 2), -1);
    assert_int_equal(irc_tag_escape("a;", 2, out, 2), -1);
    assert_int_equal(irc_tag_escape("\xe4\xbd\xa0", 3, out, 2), -1);
    assert_int_equal(irc_tag_escape("a\0b\xff", 4, out, sizeof out), 3);
    assert_memory_equal(out, "ab?", 3);

    struct irc_wbuf w;
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    assert_true(irc_wbuf_tag(&w, "+example.com/x", "a;b c\\d"));
    assert_false(irc_wbuf_tag(&w, "bad key", "1"));
    assert_false(irc_wbuf_tag(&w, "", "1"));
    assert_true(irc_wbuf_tags_raw(&w, "msgid=m1;time=t", 15));
    assert_false(irc_wbuf_tags_raw(&w, "a b", 3));
    assert_false(irc_wbuf_tags_raw(&w, "a=\r", 3));
    assert_false(irc_wbuf_tags_raw(&w, "a=\xff", 3));
    irc_wbuf_command(&w, "TAGMSG");
    irc_wbuf_param(&w, "#c");
    assert_true(irc_wbuf_finish(&w) > 0);
    assert_string_equal(out_buf, "@+example.com/x=a\\:b\\sc\\\\d;msgid=m1;time=t"
                                 " TAGMSG #c\r\n");
}

static void test_render_truncate_utf8(void **state)
{
    (void)state;
    /* 200 x U+4E2D (3 bytes), no space so no colon. "PRIVMSG #abc " is
     * 13 bytes, leaving 497 for text: 165 whole characters (495 bytes),
     * body 508. */
    char text[601];
    for (int i = 0; i < 200; i++)
        memcpy(text + 3 * i, "\xe4\xb8\xad", 3);
    text[600] = '\0';
    char want[600];
    memcpy(want, "PRIVMSG #abc ", 13);
    for (int i = 0; i < 165; i++)
        memcpy(want + 13 + 3 * i, "\xe4\xb8\xad", 3);
    memcpy(want + 508, "\r\n", 3);

    struct irc_wbuf w;
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_tag(&w, "msgid", "abc"); /* tags do not eat the body */
    irc_wbuf_command(&w, "PRIVMSG");
    irc_wbuf_param(&w, "#abc");
    irc_wbuf_trailing(&w, text);
    assert_int_equal(irc_wbuf_finish(&w), 11 + 510);
    assert_string_equal(out_buf + 11, want);
    assert_memory_equal(out_buf, "@msgid=abc ", 11);

    /* ASCII fills the body to exactly 510. */
    memset(text, 'a', 600);
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_command(&w, "PRIVMSG");
    irc_wbuf_param(&w, "#ab");
    irc_wbuf_trailing(&w, text);
    assert_int_equal(irc_wbuf_finish(&w), 512);
    assert_int_equal(out_buf[509], 'a');
    assert_string_equal(out_buf + 510, "\r\n");
    assert_memory_equal(out_buf, "PRIVMSG #ab aaa", 15); /* no colon */
}

static void test_render_tag_limit(void **state)
{
    (void)state;
    static char value[9000];
    struct irc_wbuf w;
    /* "@k=" + 8187 + " " = 8191: fits; one more byte does not. */
    memset(value, 'v', 8187);
    value[8187] = '\0';
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    assert_true(irc_wbuf_tag(&w, "k", value));
    assert_false(irc_wbuf_tag(&w, "x", NULL)); /* section is full */
    irc_wbuf_command(&w, "CMD");
    assert_int_equal(irc_wbuf_finish(&w), 8191 + 5);
    assert_memory_equal(out_buf + 8190, " CMD\r\n", 7);

    memset(value, 'v', 8188);
    value[8188] = '\0';
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    assert_false(irc_wbuf_tag(&w, "k", value)); /* dropped whole */
    assert_true(irc_wbuf_tag(&w, "a", "1"));    /* later ones still fit */
    irc_wbuf_command(&w, "CMD");
    assert_true(irc_wbuf_finish(&w) > 0);
    assert_string_equal(out_buf, "@a=1 CMD\r\n");

    /* A value that only fits unescaped is dropped, not cut mid-escape. */
    memset(value, ';', 4094);
    value[4094] = '\0';
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    assert_false(irc_wbuf_tag(&w, "k", value));
    assert_true(irc_wbuf_tag(&w, "k", value + 1)); /* 4093*2+4 = 8190 */
    irc_wbuf_command(&w, "CMD");
    assert_int_equal(irc_wbuf_finish(&w), 8190 + 5); /* "CMD\r\n" */
}

static ssize_t render_bad(int which)
{
    struct irc_wbuf w;
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    if (which == 0)
        irc_wbuf_source(&w, "a b");
    irc_wbuf_command(&w, which == 1 ? "PRIV MSG" : which == 2 ? "" : "CMD");
    if (which == 3)
        irc_wbuf_param(&w, "");
    if (which == 4)
        irc_wbuf_param(&w, ":x");
    if (which == 5)
        irc_wbuf_param(&w, "a b");
    if (which == 6)
        irc_wbuf_param(&w, "a\nb");
    if (which == 7)
        for (int i = 0; i < 16; i++)
            irc_wbuf_param(&w, "p");
    return irc_wbuf_finish(&w);
}

static void test_render_errors(void **state)
{
    (void)state;
    assert_int_equal(render_bad(0), IRC_WBUF_BAD_SOURCE);
    assert_int_equal(render_bad(1), IRC_WBUF_BAD_COMMAND);
    assert_int_equal(render_bad(2), IRC_WBUF_BAD_COMMAND);
    for (int i = 3; i <= 7; i++)
        assert_int_equal(render_bad(i), IRC_WBUF_BAD_PARAM);
    assert_string_equal(out_buf, "");

    struct irc_wbuf w;
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_tag(&w, "a", "b");
    assert_int_equal(irc_wbuf_finish(&w), IRC_WBUF_BAD_COMMAND);

    /* Middle params that overflow the body are an error, not a cut. */
    char big[600];
    memset(big, 'm', 599);
    big[599] = '\0';
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_command(&w, "CMD");
    irc_wbuf_param(&w, big);
    assert_int_equal(irc_wbuf_finish(&w), IRC_WBUF_BODY_OVERFLOW);

    /* Body exactly full before the trailing: no room even for " :". */
    big[506] = '\0'; /* "CMD " + 506 = 510 */
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_command(&w, "CMD");
    irc_wbuf_param(&w, big);
    assert_int_equal(w.len, 510);
    irc_wbuf_trailing(&w, "x");
    assert_int_equal(irc_wbuf_finish(&w), IRC_WBUF_BODY_OVERFLOW);

    /* One byte short of room for text: the param is kept, as ":" (empty). */
    big[504] = '\0'; /* body 508, room 2 */
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_command(&w, "CMD");
    irc_wbuf_param(&w, big);
    irc_wbuf_trailing(&w, "\xe4\xbd\xa0");
    assert_int_equal(irc_wbuf_finish(&w), 512);
    assert_memory_equal(out_buf + 508, " :\r\n", 4);
}

static void test_render_printf(void **state)
{
    (void)state;
    struct irc_wbuf w;
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_source(&w, "qun.example");
    irc_wbuf_command(&w, "NOTICE");
    irc_wbuf_param(&w, "alice");
    irc_wbuf_trailingf(&w, "%s has %d members", "#\xe6\xb5\x8b", 5);
    assert_true(irc_wbuf_finish(&w) > 0);
    assert_string_equal(out_buf, ":qun.example NOTICE alice "
                                 ":#\xe6\xb5\x8b has 5 members\r\n");

    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_command(&w, "CMD");
    irc_wbuf_trailingf(&w, "%d", 42); /* no colon: text moves left */
    assert_true(irc_wbuf_finish(&w) > 0);
    assert_string_equal(out_buf, "CMD 42\r\n");

    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_command(&w, "CMD");
    irc_wbuf_trailingf(&w, "%s", "");
    assert_true(irc_wbuf_finish(&w) > 0);
    assert_string_equal(out_buf, "CMD :\r\n");

    /* Long formatted text is cut at 510 on a character boundary. */
    char text[1000];
    for (int i = 0; i < 333; i++)
        memcpy(text + 3 * i, "\xe4\xb8\xad", 3);
    text[999] = '\0';
    irc_wbuf_init(&w, out_buf, sizeof out_buf);
    irc_wbuf_command(&w, "CMD");
    irc_wbuf_trailingf(&w, "x %s", text);
    /* "CMD :x " = 7, then 167 chars = 501 -> 508 */
    assert_int_equal(irc_wbuf_finish(&w), 510);
    assert_memory_equal(out_buf, "CMD :x \xe4\xb8\xad", 10);
    assert_memory_equal(out_buf + 505, "\xe4\xb8\xad\r\n", 6);
}

/* ------------------------------------------------------------------ */
/* Round trip                                                          */
/* ------------------------------------------------------------------ */

/* Lines already in canonical form: render(parse(x)) must equal x. */
static const char *canonical[] = {
    "PING",
    "PING :",
    "PING token",
    "PRIVMSG #c :hello world",
    ":n!u@h PRIVMSG #c hi",
    ":irc.example 001 alice :Welcome to the Qun network, alice",
    ":irc.example 353 alice = #c :~owner @op +voice plain",
    "@time=2024-01-01T00:00:00.000Z;msgid=x1 :a!b@c PRIVMSG #c ::-)",
    "@+draft/reply=abc;+example.org/k=a\\sb\\:c\\\\d\\r\\n TAGMSG #c",
    ("@batch=ref1 :a!b@c PRIVMSG #\xe6\xb5\x8b\xe8\xaf\x95 :\xe4\xbd\xa0\xe5\xa5\xbd"
     "\xef\xbc\x8c\xe4\xb8\x96\xe7\x95\x8c\xef\xbc\x81 \xf0\x9f\x98\x80"),
    ":\xe5\xb0\x8f\xe6\x98\x8e!u@h NICK \xe5\xb0\x8f\xe7\xba\xa2",
    "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15",
    "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 :15 16",
    "CAP * LS :multi-prefix sasl=PLAIN,SCRAM-SHA-256 message-tags",
    "MODE #c +ov a b",
    "CMD a:b :",
};

/* Lines that parse to the same thing as their rendering. */
static const char *noncanonical[] = {
    "privmsg   #c    :hi there  ",
    "@a=1;a=2;b=\\x;c=;d=\\ cmd x",
    "@ ping",
    ":src   PING   a   b  ",
    "CMD 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16  17",
    "@k=v;; CMD :",
    "CMD :single",
};

static void assert_msg_equal(const struct irc_msg *a, const struct irc_msg *b)
{
    assert_int_equal(a->ntags, b->ntags);
    for (size_t i = 0; i < a->ntags; i++) {
        assert_string_equal(a->tags[i].key, b->tags[i].key);
        assert_string_equal(a->tags[i].value, b->tags[i].value);
    }
    if (a->source == NULL)
        assert_null(b->source);
    else
        assert_string_equal(a->source, b->source);
    assert_string_equal(a->command, b->command);
    assert_int_equal(a->nparams, b->nparams);
    for (size_t i = 0; i < a->nparams; i++)
        assert_string_equal(a->params[i], b->params[i]);
}

static void round_trip(const char *line, bool exact)
{
    static char first[16384];
    struct irc_msg m1, m2;
    size_t n = strlen(line);
    memcpy(first, line, n + 1);
    assert_int_equal(irc_msg_parse(first, n, &m1), 0);
    ssize_t r = irc_msg_render(&m1, out_buf, sizeof out_buf);
    assert_true(r >= 2);
    if (exact) {
        assert_int_equal((size_t)r, n + 2);
        assert_memory_equal(out_buf, line, n);
        assert_memory_equal(out_buf + n, "\r\n", 2);
    }
    out_buf[r - 2] = '\0'; /* the parser wants NUL at line[len] */
    assert_int_equal(irc_msg_parse(out_buf, (size_t)r - 2, &m2), 0);
    assert_msg_equal(&m1, &m2);
}

static void test_round_trip(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof canonical / sizeof *canonical; i++)
        round_trip(canonical[i], true);
    for (size_t i = 0; i < sizeof noncanonical / sizeof *noncanonical; i++)
        round_trip(noncanonical[i], false);
}

/* Structs built by code (not by the parser) render and parse back too. */
static void test_round_trip_built(void **state)
{
    (void)state;
    struct irc_msg m = {0}, back;
    m.tags[0] = (struct irc_tag){"+draft/react", "\xf0\x9f\x91\x8d;ok \\"};
    m.tags[1] = (struct irc_tag){"label", ""};
    m.ntags = 2;
    m.source = "\xe5\xb0\x8f\xe6\x98\x8e!~u@qun";
    m.command = "PRIVMSG";
    m.params[0] = "#\xe6\xb5\x8b\xe8\xaf\x95";
    m.params[1] = ":starts with colon";
    m.nparams = 2;
    ssize_t r = irc_msg_render(&m, out_buf, sizeof out_buf);
    assert_true(r > 0);
    out_buf[r - 2] = '\0';
    assert_string_equal(out_buf, "@+draft/react=\xf0\x9f\x91\x8d\\:ok\\s\\\\;label "
                                 ":\xe5\xb0\x8f\xe6\x98\x8e!~u@qun PRIVMSG "
                                 "#\xe6\xb5\x8b\xe8\xaf\x95 ::starts with colon");
    assert_int_equal(irc_msg_parse(out_buf, (size_t)r - 2, &back), 0);
    assert_msg_equal(&m, &back);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_simple),
        cmocka_unit_test(test_parse_source_and_numeric),
        cmocka_unit_test(test_parse_tags),
        cmocka_unit_test(test_parse_tag_escapes),
        cmocka_unit_test(test_parse_duplicate_tags),
        cmocka_unit_test(test_parse_params),
        cmocka_unit_test(test_parse_fifteen_params),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_parse_limits),
        cmocka_unit_test(test_parse_tag_count),
        cmocka_unit_test(test_render_basic),
        cmocka_unit_test(test_render_trailing_colon),
        cmocka_unit_test(test_render_escape),
        cmocka_unit_test(test_render_truncate_utf8),
        cmocka_unit_test(test_render_tag_limit),
        cmocka_unit_test(test_render_errors),
        cmocka_unit_test(test_render_printf),
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_round_trip_built),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
