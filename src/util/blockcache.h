/*
 * blockcache.h - freed blocks of a few sizes kept for reuse, on one thread.
 *
 * For objects a thread allocates and frees at a high rate while thousands
 * of them are alive at once: a group message and its log entry live from
 * their arrival until the journal's sync (at full speed over many small
 * groups tens of thousands wait together), a fan-out buffer until every
 * recipient's flush, a connection's send-queue ring while it has queued
 * lines. glibc's per-thread cache holds seven blocks of a size, so every
 * one of them went through the allocator's bins (a tenth of the event
 * loop's time, session 10).
 *
 * Blocks come in six sizes (64 to 2048 bytes with a 16-byte header);
 * larger requests go to malloc. At most BLOCKCACHE_KEEP_BYTES of freed
 * blocks of each size are kept; the rest go back to free. Not thread-safe:
 * every block is allocated and freed on the same thread (qund's loop).
 * Under AddressSanitizer a kept block is poisoned, so a use after
 * blockcache_free is still reported.
 */
#ifndef QUN_UTIL_BLOCKCACHE_H
#define QUN_UTIL_BLOCKCACHE_H

#include <stddef.h>

/* 4 MiB: at 1,000 groups of 5 at full speed about 16,000 messages wait
 * for the journal's sync, each a message record and a log entry of the
 * 256- and 512-byte sizes (about 8 MiB together); with 512 KiB kept, most
 * of them went through malloc and free again: 5-6 % of the loop's time,
 * 0.1-0.5 us per message (session 13, docs/benchmarks.md). */
#define BLOCKCACHE_KEEP_BYTES (4u << 20)

/* Like xmalloc: never NULL; aligned for any type. */
void *blockcache_alloc(size_t n);
/* Releases a block of blockcache_alloc (NULL is ignored). */
void blockcache_free(void *p);
/* Blocks kept for reuse now, over all sizes (tests, status). */
size_t blockcache_kept(void);
/* Frees every kept block (shutdown, tests). */
void blockcache_trim(void);

#endif
