/*
 * fuzz_config.c - libFuzzer target for the configuration file reader
 * (config/config.c through config_load_text: libconfig's parser, then
 * every setting's validation).
 *
 * The input is the text of a configuration file. Inputs holding
 * "@include" are skipped: libconfig would open the named file (possibly
 * /dev/zero or a FIFO), which tests the file system, not the reader.
 *
 * Checked on every input, beyond "no crash, no leak, no hang":
 *   - a refusal is one sentence "fuzz.conf:<line>: <text>", the line
 *     between 1 and the input's line count + 1 (libconfig reports the line
 *     after the last at end of input);
 *   - an accepted configuration has a server name and at least one
 *     listener whose port is in 1..65535, and config_free releases it all
 *     (LeakSanitizer).
 *
 * One leak is suppressed, and only for this binary: libconfig 1.5 (Debian
 * 12) loses a string token when its parser recovers from a syntax error
 * (e.g. 'a = 1, "x")', hyperrealm/libconfig#142, fixed upstream in 1.7.3
 * by PR #155). It is inside the library, 64 bytes per refused file, and a
 * refused file is read only at start-up (qund then exits) or on a SIGHUP
 * reload the operator asked for. Every other leak still fails the run.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "fuzz.h"

const char *__lsan_default_suppressions(void);

const char *__lsan_default_suppressions(void)
{
    return "leak:libconfig.so\n";
}

static void check_error(const char *err, const char *text)
{
    static const char prefix[] = "fuzz.conf:";
    CHECK(strncmp(err, prefix, sizeof prefix - 1) == 0);
    char *end;
    long line = strtol(err + sizeof prefix - 1, &end, 10);
    size_t lines = 1;
    for (const char *p = text; *p; p++)
        lines += *p == '\n';
    if (line < 1 || (size_t)line > lines + 1 || strncmp(end, ": ", 2) != 0 || end[2] == '\0') {
        fprintf(stderr, "fuzz_config: bad refusal (%zu lines): %s\n", lines, err);
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    CHECK(text != NULL);
    memcpy(text, data, size);
    text[size] = '\0';
    if (strstr(text, "@include")) {
        free(text);
        return 0;
    }
    char err[512] = "";
    struct qun_config *cfg = config_load_text("fuzz.conf", text, err, sizeof err);
    if (cfg) {
        CHECK(cfg->server_name != NULL && cfg->server_name[0] != '\0');
        CHECK(cfg->nlisten >= 1);
        for (size_t i = 0; i < cfg->nlisten; i++)
            CHECK(cfg->listen[i].port >= 1 && cfg->listen[i].port <= 65535);
        config_free(cfg);
    } else {
        check_error(err, text);
    }
    free(text);
    return 0;
}
