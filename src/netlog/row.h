/*
 * row.h - one events row (schema.h) read back into a struct netlog_event,
 * for everything that rehashes stored events (retention, bundles, the
 * generator). The statement must select NETLOG_EVENT_COLUMNS first, in
 * that order; the strings stay valid until the statement steps again.
 */
#ifndef QUN_NETLOG_ROW_H
#define QUN_NETLOG_ROW_H

#include <sqlite3.h>

#include "netlog/event.h"

#define NETLOG_EVENT_COLUMNS "seq, at, kind, actor, target, code, account_id, msgid, body"

static inline void netlog_event_from_row(sqlite3_stmt *s, struct netlog_event *e)
{
    e->seq = sqlite3_column_int64(s, 0);
    e->at_ms = sqlite3_column_int64(s, 1);
    e->kind = (const char *)sqlite3_column_text(s, 2);
    e->actor = (const char *)sqlite3_column_text(s, 3);
    e->target = (const char *)sqlite3_column_text(s, 4);
    e->code = sqlite3_column_int64(s, 5);
    e->account_id = sqlite3_column_int64(s, 6);
    e->msgid = (const char *)sqlite3_column_text(s, 7);
    e->body = (const char *)sqlite3_column_text(s, 8);
}

#endif
