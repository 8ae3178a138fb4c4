/*
 * qunctl.h - shared declarations of the qunctl tool (src/qunctl/).
 *
 * print.c turns a result into text for a person; main.c owns the
 * subcommand table and the socket exchange.
 */
#ifndef QUN_QUNCTL_QUNCTL_H
#define QUN_QUNCTL_QUNCTL_H

#include <stdio.h>
#include <jansson.h>

/* Readable form: object -> "key: value" lines; array of objects -> a header
 * row and aligned columns; array of scalars -> one per line; scalar plain;
 * null -> nothing. */
void qunctl_print(FILE *out, const json_t *result);
/* The result as one line of compact JSON (null included). */
void qunctl_print_json(FILE *out, const json_t *result);

#endif
