/*
 * fuzz_rules_patterns.c - libFuzzer target for rules/patterns.c, the
 * parser of the automatic rules' pattern files.
 *
 * The first byte chooses the kind (odd: regex, even: literal) and the
 * pattern budget (max = byte / 2 % 16); the rest is the file. Checked on
 * every input:
 *   - success leaves at most max patterns, each with a line number that
 *     increases and is at most the number of lines; a literal is non-empty
 *     and found in itself (its fold is stable); a regex does not match the
 *     empty text, and matching the folded file text terminates;
 *   - failure leaves no pattern and an error "list.txt:<line>: sentence"
 *     (or "list.txt: ...") with the line within the file.
 *
 * CHECK aborts even when NDEBUG is defined, so the fuzzer always reports.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rules/patterns.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 4096)
        return 0;
    bool regex = data[0] & 1;
    size_t max = (size_t)(data[0] / 2) % 16;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    size_t lines = 1;
    for (size_t i = 0; i < len; i++)
        lines += text[i] == '\n';
    struct rules_patterns p;
    char err[256];
    err[0] = '\0';
    if (rules_patterns_parse(text, len, "list.txt", regex, max, 64, &p, err, sizeof err) < 0) {
        CHECK(p.n == 0);
        CHECK(strncmp(err, "list.txt:", 9) == 0);
        long line = strtol(err + 9, NULL, 10);
        CHECK(line >= 0 && (size_t)line <= lines);
        return 0;
    }
    CHECK(p.regex == regex && p.n <= max);
    for (size_t i = 0; i < p.n; i++) {
        CHECK(p.line[i] >= 1 && (size_t)p.line[i] <= lines);
        CHECK(i == 0 || p.line[i] > p.line[i - 1]);
        if (!regex) {
            CHECK(p.lit[i][0] != '\0');
            CHECK(rules_patterns_match(&p, p.lit[i]) >= 0);
        } else {
            CHECK(regexec(&p.re[i], "", 0, NULL, 0) != 0);
        }
    }
    char *copy = malloc(len + 1);
    memcpy(copy, text, len);
    copy[len] = '\0';
    char *folded = rules_fold(copy, strlen(copy));
    if (folded)
        (void)rules_patterns_match(&p, folded);
    free(folded);
    free(copy);
    rules_patterns_free(&p);
    CHECK(p.n == 0);
    return 0;
}
