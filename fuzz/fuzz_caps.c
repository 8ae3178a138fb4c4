/*
 * fuzz_caps.c - libFuzzer target for CAP negotiation's parsers
 * (irc/caps.c): the CAP REQ list (caps_parse_req) and CAP LS's version
 * (caps_parse_version), both straight from clients before registration.
 *
 * The input (NUL-terminated copy) is given to both. Checked:
 *   - a REQ is all or nothing: on refusal add and del are 0; on success
 *     every space-separated word, less one leading '-', is the name of a
 *     capability (an independent lookup through caps_name), and add/del
 *     are exactly the bits of the words without/with '-';
 *   - writing add and del back as a list ("a b -c") parses to the same bits;
 *   - a version is in 0..302.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "irc/caps.h"
#include "fuzz.h"

/* The bit named name[0..len), or 0. */
static uint32_t bit_of(const char *name, size_t len)
{
    for (int i = 0; i < 32; i++) {
        uint32_t b = 1u << i;
        const char *n = caps_name(b);
        if (strcmp(n, "?") != 0 && strlen(n) == len && memcmp(n, name, len) == 0)
            return b;
    }
    return 0;
}

/* The list parsed independently: false when a word is not a name. */
static bool model(const char *s, uint32_t *add, uint32_t *del)
{
    *add = *del = 0;
    for (const char *p = s; *p;) {
        if (*p == ' ') {
            p++;
            continue;
        }
        bool minus = *p == '-';
        p += minus;
        size_t n = strcspn(p, " ");
        uint32_t b = bit_of(p, n);
        if (!b)
            return false;
        *(minus ? del : add) |= b;
        p += n;
    }
    return true;
}

static void check_req(const char *s)
{
    uint32_t add = 1, del = 1, madd, mdel;
    bool ok = caps_parse_req(s, &add, &del);
    bool mok = model(s, &madd, &mdel);
    CHECK(ok == mok);
    if (!ok) {
        CHECK(add == 0 && del == 0);
        return;
    }
    CHECK(add == madd && del == mdel);
    CHECK((add & ~caps_all()) == 0 && (del & ~caps_all()) == 0);
    char again[2048] = "";
    size_t len = 0;
    for (int i = 0; i < 32; i++) {
        uint32_t b = 1u << i;
        if ((add | del) & b)
            len += (size_t)snprintf(again + len, sizeof again - len, "%s%s", (add & b) ? "" : "-",
                                    caps_name(b));
        if ((add & del) & b)
            len += (size_t)snprintf(again + len, sizeof again - len, " -%s", caps_name(b));
        if ((add | del) & b)
            len += (size_t)snprintf(again + len, sizeof again - len, " ");
        CHECK(len < sizeof again);
    }
    uint32_t add2, del2;
    CHECK(caps_parse_req(again, &add2, &del2));
    CHECK(add2 == add && del2 == del);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    check_req(s);
    int v = caps_parse_version(s);
    CHECK(v >= 0 && v <= 302);
    free(s);
    return 0;
}
