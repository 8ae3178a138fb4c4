/*
 * alloc.h - allocation that never returns NULL.
 *
 * Qun treats running out of memory as fatal: every allocation goes through
 * these wrappers, which abort with a message on failure. Callers therefore
 * never check for NULL. Memory is released with plain free().
 */
#ifndef QUN_UTIL_ALLOC_H
#define QUN_UTIL_ALLOC_H

#include <stddef.h>
#include <stdlib.h> /* free() */

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a freshly allocated string. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
