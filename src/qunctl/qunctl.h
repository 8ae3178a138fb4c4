/*
 * qunctl.h - shared declarations of the qunctl tool (src/qunctl/).
 *
 * print.c turns a result into text for a person; main.c owns the
 * subcommand table and the socket exchange.
 */
#ifndef QUN_QUNCTL_QUNCTL_H
#define QUN_QUNCTL_QUNCTL_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

/* Readable form: object -> "key: value" lines; array of objects -> a header
 * row and aligned columns; array of scalars -> one per line; scalar plain;
 * null -> nothing. */
void qunctl_print(FILE *out, const json_t *result);
/* The result as one line of compact JSON (null included). */
void qunctl_print_json(FILE *out, const json_t *result);

/* One request to the daemon (main.c); the parsed answer, or NULL with a
 * sentence on stderr when no daemon answered. */
json_t *qunctl_exchange(const char *path, const char *cmd, json_t *args);
/* Runs `search`, `export` or `verify-bundle` when words[0] names one: then
 * returns true with the exit status in *rc (netlog_cmds.c). */
bool qunctl_netlog_command(const char *sock, int n, char **words, bool as_json, int *rc);

/* Reads a secret ("password") from the terminal (no echo, asked twice) or
 * one line of stdin into out (cap bytes); *len its length. Returns 0, or
 * -1 with a sentence on stderr (out wiped). secret.c. */
int qunctl_read_secret(const char *what, char *out, size_t cap, size_t *len);

#endif
