/*
 * tar.h - a sans-IO writer of POSIX ustar archives into memory (the case
 * bundle of `log.export`, ctl_logquery.c): regular files and directories,
 * nothing else (no links, devices, long names or pax headers).
 *
 * Format (POSIX.1-1988 ustar, what `tar -tf` and `tar -xf` read): per
 * member one 512-byte header (name, mode, uid/gid 0, size and mtime in
 * octal, checksum, type '0' or '5', magic "ustar\0" version "00", owner
 * names "root"), then the data padded with zeros to a multiple of 512;
 * the archive ends with two zero blocks.
 *
 * Invariants:
 *   1. t->len is always a multiple of 512 and never exceeds t->max: a
 *      member that would pass the cap is refused whole (TAR_ERR_TOO_BIG)
 *      and the archive is left as it was; finishing needs 1024 bytes more,
 *      which tar_add reserves.
 *   2. Names are 1..TAR_NAME_MAX bytes, relative, without "..", NUL or
 *      control bytes; directories end with '/'.
 *
 * Threads: none; a writer belongs to one thread at a time.
 */
#ifndef QUN_UTIL_TAR_H
#define QUN_UTIL_TAR_H

#include <stddef.h>
#include <stdint.h>

#define TAR_BLOCK    512
#define TAR_NAME_MAX 100 /* the ustar name field (no prefix splitting) */

enum tar_error {
    TAR_OK = 0,
    TAR_ERR_NAME = -1,    /* empty, too long, absolute, "..", or a control byte */
    TAR_ERR_TOO_BIG = -2, /* the archive would pass its cap */
    TAR_ERR_NOMEM = -3,
    TAR_ERR_DONE = -4, /* tar_finish was called already */
};

struct tar_writer {
    unsigned char *buf;
    size_t len, cap, max;
    int64_t mtime; /* seconds, for every member */
    int done;
};

/* max: bytes of the whole archive (end blocks included), at least 1024. */
void tar_init(struct tar_writer *t, size_t max, int64_t mtime);
/* A regular file (mode like 0644) with len bytes of data. */
int tar_add_file(struct tar_writer *t, const char *name, const void *data, size_t len,
                 unsigned mode);
/* A directory (name ends with '/'; one is added when missing). */
int tar_add_dir(struct tar_writer *t, const char *name, unsigned mode);
/* Appends the two end blocks. */
int tar_finish(struct tar_writer *t);
/* Hands over the buffer (the caller frees it) and resets t. */
unsigned char *tar_take(struct tar_writer *t, size_t *len);
void tar_free(struct tar_writer *t);
/* The sentence of an error code. */
const char *tar_error_sentence(int rc);

#endif
