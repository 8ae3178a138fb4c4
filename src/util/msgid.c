/*
 * msgid.c - counter ids and log ids (see msgid.h for the format).
 */
#include "util/msgid.h"

#include <string.h>
#include <sys/random.h>
#include <time.h>

static const char digit[] = "234567abcdefghijklmnopqrstuvwxyz"; /* ASCII order */

static const char *msgid_prefix(void)
{
    static char prefix[13];
    if (!prefix[0]) {
        uint64_t t = (uint64_t)time(NULL);
        for (int i = 6; i >= 0; i--, t >>= 5)
            prefix[i] = digit[t & 31];
        uint8_t rnd[5];
        if (getrandom(rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
            memset(rnd, 7, sizeof rnd);
        for (int i = 0; i < 5; i++)
            prefix[7 + i] = digit[rnd[i] & 31];
    }
    return prefix;
}

/* the optional marker, the prefix, then v as its digit count and digits */
static size_t msgid_write(char mark, uint64_t v, char *buf, size_t len)
{
    char id[MSGID_MAX + 1];
    size_t off = 0;
    if (mark)
        id[off++] = mark;
    memcpy(id + off, msgid_prefix(), MSGID_PREFIX_LEN);
    off += MSGID_PREFIX_LEN;
    char tail[13];
    int n = 0;
    for (; v; v >>= 5)
        tail[n++] = digit[v & 31];
    id[off++] = digit[n]; /* more digits sort after fewer */
    while (n > 0)
        id[off++] = tail[--n];
    if (len == 0)
        return 0;
    off = off < len ? off : len - 1;
    memcpy(buf, id, off);
    buf[off] = '\0';
    return off;
}

size_t msgid_new(char *buf, size_t len)
{
    static uint64_t counter;
    return msgid_write(0, ++counter, buf, len);
}

size_t msgid_for_seq(int64_t seq, char *buf, size_t len)
{
    return msgid_write(MSGID_MARK, (uint64_t)seq, buf, len);
}

static int digit_value(char c)
{
    if (c >= '2' && c <= '7')
        return c - '2';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 6;
    return -1;
}

int64_t msgid_seq(const char *id)
{
    const size_t count_at = 1 + MSGID_PREFIX_LEN; /* the marker, the prefix */
    size_t len = strnlen(id, MSGID_MAX + 1);
    if (len < count_at + 2 || len > MSGID_MAX || id[0] != MSGID_MARK)
        return 0;
    int n = digit_value(id[count_at]);
    if (n < 1 || (size_t)n != len - (count_at + 1) || id[count_at + 1] == digit[0])
        return 0; /* the count must match, and no leading zero */
    uint64_t v = 0;
    for (size_t i = count_at + 1; i < len; i++) {
        int d = digit_value(id[i]);
        if (d < 0 || v >> 58) /* not a digit, or past 63 bits */
            return 0;
        v = v << 5 | (uint64_t)d;
    }
    return (int64_t)v;
}
