/*
 * fuzz_chathistory_ref.c - libFuzzer target for CHATHISTORY's argument
 * parsers (irc/chathistory_ref.c): references (msgid=, timestamp=, "*")
 * and the limit, which come straight from clients.
 *
 * The input (NUL-terminated copy) is given to each parser. Checked:
 *   - a timestamp that parses names one instant, and formatting that
 *     instant gives the input back: the 19 characters of date and time
 *     exactly, the fraction as its first three digits (padded);
 *   - a reference keeps the keyword's meaning: "*" only where allowed, a
 *     msgid is the bytes after "msgid=" (1..63 of them), a time is >= 0;
 *   - a limit is -1 or in [1, max], and only all-digit text gives one;
 *   - a msgid (the reference's, and the raw input, as REPORT takes it)
 *     names a seq only in its one canonical log-id form (util/msgid.h):
 *     writing that seq back gives the same digits, and anything else
 *     names none (0), so a lookup by seq is never of a different id.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "irc/chathistory_ref.h"
#include "util/msgid.h"
#include "fuzz.h"

static void check_time(const char *s)
{
    int64_t ms = chathistory_parse_time(s);
    if (ms < 0) {
        CHECK(ms == -1);
        return;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    CHECK(gmtime_r(&t, &tm) != NULL);
    char back[32];
    snprintf(back, sizeof back, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    CHECK(strncmp(back, s, 19) == 0);
    char frac[4] = "000";
    if (s[19] == '.')
        for (int i = 0; i < 3 && s[20 + i] >= '0' && s[20 + i] <= '9'; i++)
            frac[i] = s[20 + i];
    char want[4];
    snprintf(want, sizeof want, "%03d", (int)(ms % 1000));
    CHECK(strcmp(frac, want) == 0);
    CHECK(s[strlen(s) - 1] == 'Z');
}

static void check_msgid(const char *id)
{
    int64_t seq = msgid_seq(id);
    CHECK(seq >= 0);
    if (seq == 0)
        return;
    char back[MSGID_MAX + 1];
    size_t n = msgid_for_seq(seq, back, sizeof back);
    CHECK(id[0] == MSGID_MARK && strlen(id) == n);
    CHECK(strcmp(id + 1 + MSGID_PREFIX_LEN, back + 1 + MSGID_PREFIX_LEN) == 0);
}

static void check_ref(const char *s, bool star_ok, bool msgid_ok)
{
    struct chathistory_ref r;
    if (!chathistory_parse_ref(s, star_ok, msgid_ok, &r))
        return;
    switch (r.type) {
    case CHATHISTORY_REF_STAR:
        CHECK(star_ok && strcmp(s, "*") == 0);
        break;
    case CHATHISTORY_REF_TIME:
        CHECK(strncasecmp(s, "timestamp=", 10) == 0 && r.at >= 0);
        CHECK(r.at == chathistory_parse_time(s + 10));
        break;
    case CHATHISTORY_REF_MSGID:
        CHECK(msgid_ok && strncasecmp(s, "msgid=", 6) == 0);
        CHECK(strcmp(r.msgid, s + 6) == 0);
        CHECK(strlen(r.msgid) >= 1 && strlen(r.msgid) <= CHATHISTORY_MSGID_MAX);
        check_msgid(r.msgid);
        break;
    default:
        CHECK(!"unknown reference type");
    }
    CHECK(!r.found && r.seq == 0);
}

static void check_limit(const char *s)
{
    int v = chathistory_parse_limit(s, 1000);
    if (v == -1)
        return;
    CHECK(v >= 1 && v <= 1000);
    CHECK(s[0] != '\0' && strspn(s, "0123456789") == strlen(s));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    CHECK(s != NULL);
    memcpy(s, data, size);
    s[size] = '\0';
    check_time(s);
    for (int i = 0; i < 4; i++)
        check_ref(s, i & 1, i & 2);
    check_limit(s);
    check_msgid(s);
    free(s);
    return 0;
}
