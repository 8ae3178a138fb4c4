/*
 * tar.c - the in-memory ustar writer (tar.h has the format and the
 * invariants). Headers are built field by field into a zeroed block; the
 * checksum is the sum of the header bytes with the checksum field taken
 * as eight spaces, written as six octal digits, NUL, space.
 *
 * Threads: none.
 */
#include "util/tar.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void tar_init(struct tar_writer *t, size_t max, int64_t mtime)
{
    memset(t, 0, sizeof *t);
    t->max = max < 2 * TAR_BLOCK ? 2 * TAR_BLOCK : max;
    t->mtime = mtime < 0 ? 0 : mtime;
}

const char *tar_error_sentence(int rc)
{
    switch (rc) {
    case TAR_OK:
        return "ok";
    case TAR_ERR_NAME:
        return "a member name is empty, too long, absolute or not plain";
    case TAR_ERR_TOO_BIG:
        return "the archive would be larger than its cap";
    case TAR_ERR_NOMEM:
        return "out of memory";
    default:
        return "the archive is finished already";
    }
}

static int name_ok(const char *name, size_t n)
{
    if (n == 0 || n > TAR_NAME_MAX || name[0] == '/')
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)name[i] < 0x20 || name[i] == 0x7f)
            return 0;
    /* no ".." path element */
    for (const char *p = name; (p = strstr(p, "..")) != NULL; p += 2)
        if ((p == name || p[-1] == '/') && (p[2] == '\0' || p[2] == '/'))
            return 0;
    return 1;
}

/* Octal, right-aligned, zero-padded, in width - 1 digits and a NUL. */
static void octal(char *field, size_t width, uint64_t v)
{
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%0*llo", (int)(width - 1), (unsigned long long)v);
    memcpy(field, tmp, width - 1);
    field[width - 1] = '\0';
}

static int reserve(struct tar_writer *t, size_t add)
{
    /* keep room for the two end blocks */
    if (add > t->max || t->len + add > t->max - 2 * TAR_BLOCK)
        return TAR_ERR_TOO_BIG;
    if (t->len + add <= t->cap)
        return TAR_OK;
    size_t cap = t->cap ? t->cap : 16 * TAR_BLOCK;
    while (cap < t->len + add)
        cap = cap > t->max / 2 ? t->max : cap * 2;
    unsigned char *nb = realloc(t->buf, cap);
    if (!nb)
        return TAR_ERR_NOMEM;
    t->buf = nb;
    t->cap = cap;
    return TAR_OK;
}

static int add_member(struct tar_writer *t, const char *name, size_t nlen, char type,
                      const void *data, size_t len, unsigned mode)
{
    if (t->done)
        return TAR_ERR_DONE;
    if (!name_ok(name, nlen))
        return TAR_ERR_NAME;
    size_t padded = (len + TAR_BLOCK - 1) / TAR_BLOCK * TAR_BLOCK;
    if (padded < len) /* overflow */
        return TAR_ERR_TOO_BIG;
    int rc = reserve(t, TAR_BLOCK + padded);
    if (rc != TAR_OK)
        return rc;
    char *h = (char *)t->buf + t->len;
    memset(h, 0, TAR_BLOCK);
    memcpy(h, name, nlen);           /* name[100] */
    octal(h + 100, 8, mode & 07777); /* mode */
    octal(h + 108, 8, 0);            /* uid */
    octal(h + 116, 8, 0);            /* gid */
    octal(h + 124, 12, len);         /* size */
    octal(h + 136, 12, (uint64_t)t->mtime);
    h[156] = type;               /* typeflag */
    memcpy(h + 257, "ustar", 6); /* magic, with its NUL */
    memcpy(h + 263, "00", 2);    /* version */
    memcpy(h + 265, "root", 4);  /* uname[32] */
    memcpy(h + 297, "root", 4);  /* gname[32] */
    octal(h + 329, 8, 0);        /* devmajor */
    octal(h + 337, 8, 0);        /* devminor */
    memset(h + 148, ' ', 8);     /* chksum as spaces while summing */
    unsigned sum = 0;
    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += (unsigned char)h[i];
    snprintf(h + 148, 8, "%06o", sum); /* six digits and a NUL ... */
    h[155] = ' ';                      /* ... then a space */
    t->len += TAR_BLOCK;
    if (len) {
        memcpy(t->buf + t->len, data, len);
        memset(t->buf + t->len + len, 0, padded - len);
        t->len += padded;
    }
    return TAR_OK;
}

int tar_add_file(struct tar_writer *t, const char *name, const void *data, size_t len,
                 unsigned mode)
{
    size_t n = strlen(name);
    if (n && name[n - 1] == '/')
        return TAR_ERR_NAME;
    return add_member(t, name, n, '0', data, len, mode);
}

int tar_add_dir(struct tar_writer *t, const char *name, unsigned mode)
{
    char buf[TAR_NAME_MAX + 2];
    size_t n = strlen(name);
    if (n == 0 || n > TAR_NAME_MAX)
        return TAR_ERR_NAME;
    memcpy(buf, name, n);
    if (buf[n - 1] != '/')
        buf[n++] = '/';
    buf[n] = '\0';
    return add_member(t, buf, n, '5', NULL, 0, mode);
}

int tar_finish(struct tar_writer *t)
{
    if (t->done)
        return TAR_ERR_DONE;
    /* reserve() always left room for these two blocks */
    if (t->cap < t->len + 2 * TAR_BLOCK) {
        unsigned char *nb = realloc(t->buf, t->len + 2 * TAR_BLOCK);
        if (!nb)
            return TAR_ERR_NOMEM;
        t->buf = nb;
        t->cap = t->len + 2 * TAR_BLOCK;
    }
    memset(t->buf + t->len, 0, 2 * TAR_BLOCK);
    t->len += 2 * TAR_BLOCK;
    t->done = 1;
    return TAR_OK;
}

unsigned char *tar_take(struct tar_writer *t, size_t *len)
{
    unsigned char *b = t->buf;
    *len = t->len;
    t->buf = NULL;
    t->len = t->cap = 0;
    return b;
}

void tar_free(struct tar_writer *t)
{
    free(t->buf);
    t->buf = NULL;
    t->len = t->cap = 0;
}
