/*
 * chathistory_ref.c - CHATHISTORY's reference and limit parsers
 * (chathistory_ref.h). Pure functions over text; fuzzed by
 * fuzz/fuzz_chathistory_ref.c.
 */
#include "irc/chathistory_ref.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

/* n decimal digits at s (no sign, no space) into *out. */
static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

static int days_in_month(int y, int mo)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return mo == 2 && leap ? 29 : days[mo - 1];
}

int64_t chathistory_parse_time(const char *s)
{
    int y, mo, d, h, mi, sec;
    /* the separators first: digits() stops at the first that is not one */
    if (strlen(s) < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' ||
        s[16] != ':')
        return -1;
    if (!digits(s, 4, &y) || !digits(s + 5, 2, &mo) || !digits(s + 8, 2, &d) ||
        !digits(s + 11, 2, &h) || !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return -1;
    const char *p = s + 19;
    int ms = 0;
    if (*p == '.') {
        int n = 0;
        for (p++; *p >= '0' && *p <= '9'; p++, n++)
            if (n < 3)
                ms = ms * 10 + (*p - '0');
        if (n == 0)
            return -1;
        for (; n < 3; n++)
            ms *= 10;
    }
    if (strcmp(p, "Z") != 0 || y < 1970 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
        h > 23 || mi > 59 || sec > 59)
        return -1;
    struct tm tm = {.tm_year = y - 1900,
                    .tm_mon = mo - 1,
                    .tm_mday = d,
                    .tm_hour = h,
                    .tm_min = mi,
                    .tm_sec = sec};
    return (int64_t)timegm(&tm) * 1000 + ms;
}

bool chathistory_parse_ref(const char *s, bool star_ok, bool msgid_ok, struct chathistory_ref *out)
{
    memset(out, 0, sizeof *out);
    if (star_ok && strcmp(s, "*") == 0) {
        out->type = CHATHISTORY_REF_STAR;
        return true;
    }
    if (strncasecmp(s, "timestamp=", 10) == 0) {
        out->type = CHATHISTORY_REF_TIME;
        out->at = chathistory_parse_time(s + 10);
        return out->at >= 0;
    }
    if (msgid_ok && strncasecmp(s, "msgid=", 6) == 0) {
        size_t len = strlen(s + 6);
        if (len == 0 || len > CHATHISTORY_MSGID_MAX)
            return false;
        out->type = CHATHISTORY_REF_MSGID;
        memcpy(out->msgid, s + 6, len + 1);
        return true;
    }
    return false;
}

int chathistory_parse_limit(const char *s, int max)
{
    if (*s == '\0' || strspn(s, "0123456789") != strlen(s))
        return -1;
    char *end;
    long v = strtol(s, &end, 10);
    if (v < 1)
        return -1;
    return v > max ? max : (int)v;
}
