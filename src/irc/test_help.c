/*
 * test_help.c - unit tests for irc/cmd_help.c: every command in the
 * dispatch table has help, every help text has the documented shape, and
 * topics are found without regard to case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "irc/commands.h"

/* HELP_LINE_MAX in cmd_help.c */
#define LINE_MAX_BYTES 300

static void test_every_command_has_help(void **state)
{
    (void)state;
    const char *name;
    size_t n = 0;
    for (size_t i = 0; (name = dispatch_command_name(i)); i++, n++) {
        if (!help_lookup(name))
            fail_msg("no help for %s", name);
    }
    assert_true(n > 30);
}

/* First line: the syntax, starting with the command's own name; every line
 * short enough for one numeric; no CR or tab. */
static void test_text_shape(void **state)
{
    (void)state;
    const char *name;
    for (size_t i = 0; (name = dispatch_command_name(i)); i++) {
        const char *text = help_lookup(name);
        size_t nl = strlen(name);
        assert_true(strncmp(text, name, nl) == 0);
        assert_true(text[nl] == ' ' || text[nl] == '\n' || text[nl] == '\0');
        assert_null(strpbrk(text, "\r\t"));
        for (const char *p = text;;) {
            size_t len = strcspn(p, "\n");
            assert_true(len <= LINE_MAX_BYTES);
            if (!p[len])
                break;
            p += len + 1;
        }
    }
}

static void test_lookup_case_and_unknown(void **state)
{
    (void)state;
    assert_non_null(help_lookup("privmsg"));
    assert_ptr_equal(help_lookup("PrivMsg"), help_lookup("PRIVMSG"));
    assert_null(help_lookup("THISISNOTACOMMAND"));
    assert_null(help_lookup(""));
    assert_null(help_lookup("PRIVMSG "));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_command_has_help),
        cmocka_unit_test(test_text_shape),
        cmocka_unit_test(test_lookup_case_and_unknown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
