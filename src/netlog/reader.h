/*
 * reader.h - read access to the network log from the daemon (history,
 * CHATHISTORY): one SQL statement at a time on the libuv thread pool, over
 * read-only SQLite connections to the log file, with the rows handed back
 * on the loop thread.
 *
 * The writer (netlog.c) owns the only read-write connection; readers never
 * block it: the log is in WAL mode, so a read sees the last commit made
 * before it started and the writer goes on appending meanwhile.
 *
 * Contract (the same as store_query in store/store.h):
 *   - netlog_query copies the SQL and the bound values; the caller may free
 *     them when it returns.
 *   - An accepted query gets exactly one done callback (also after
 *     netlog_reader_close), preceded by its rows, all on the loop thread.
 *     Row cells are valid only during the row callback.
 *   - A result over NETLOG_READER_MAX_BYTES fails with STORE_ERR_TOO_BIG.
 *   - A query sees every event appended (netlog_append) before it was
 *     submitted: it waits until the writer has committed them (at most
 *     2 s; then it reads what is committed).
 *
 * Threads: every public function on the loop thread.
 */
#ifndef QUN_NETLOG_READER_H
#define QUN_NETLOG_READER_H

#include <stddef.h>
#include <uv.h>

#include "store/store.h"

/* Cap on one result (cells and their bytes). */
#define NETLOG_READER_MAX_BYTES (4u << 20)

/* Starts the reader for the log file at path (opened lazily, read-only).
 * Call after netlog_open (the file and its schema exist then). */
int netlog_reader_init(uv_loop_t *loop, const char *path);
/* Refuses new queries and closes idle connections; connections in use by
 * a running query close when it ends. Call before netlog_close. */
void netlog_reader_close(void);

/* Runs one read statement off the loop. Returns 0 or a negative
 * STORE_ERR_* (STORE_ERR_CLOSING when the reader is not running). */
int netlog_query(const char *sql, const struct store_value *binds, size_t n, store_row_cb row,
                 store_done_cb done, void *ud);

struct netlog_reader_stats {
    unsigned long long queries, rows, connections_opened;
};
void netlog_reader_get_stats(struct netlog_reader_stats *out);

#endif
