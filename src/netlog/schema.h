/*
 * schema.h - the network log's SQLite schema, shared by the writer
 * (netlog.c), verification (verify.c), retention (retention.c), history
 * (chathistory) and inspection (search, export).
 *
 * The log is its own database file (log.path, default var/netlog.db), apart
 * from the account store: its writer is tuned for one thing (appending
 * events with group commit), and an inspector can copy or open it without
 * touching account data.
 *
 *   events       one row per event; seq is dense and increasing from 1;
 *                at is milliseconds since the epoch and never decreases
 *                as seq grows (netlog_append holds it at the last value
 *                when the clock steps back), so a time range is a seq
 *                range (bundle.c's seq_at) and needs no index of its own;
 *                leaf is the RFC 6962
 *                leaf hash of the canonical bytes (event.h); chain is
 *                SHA-256(previous chain || leaf).
 *   runs         the history index (history_index.h): per group name
 *                (axis "target"), group code ("code") and account
 *                ("account"), runs of its events - first and last seq and
 *                time, and each event's offset from first as a JSON array;
 *                runs_upto: the seq every run is complete up to. Direct
 *                messages are found through events_dm_target and
 *                events_dm_account.
 *   checkpoints  one row per signed checkpoint: tree size, root, time,
 *                the signed note text, and the Merkle accumulator state at
 *                that size (struct merkle_acc's stack: depth * 40 bytes of
 *                8-byte big-endian subtree size + 32-byte root), so start-up
 *                and verification after a purge can resume the tree.
 *   purged       retention: the first seq still present (first), the chain
 *                value just before it and the accumulator state covering
 *                everything purged.
 *   holds        legal holds that keep events from the purge.
 *   audit, sessions  views over the events for inspectors: the operator
 *                and management actions ("audit.<action>") and the logins
 *                and logouts ("session.<event>") with their JSON details.
 */
#ifndef QUN_NETLOG_SCHEMA_H
#define QUN_NETLOG_SCHEMA_H

#define NETLOG_SCHEMA_VERSION 1

/* Which msgids the log indexes (util/msgid.h). A chat message's own msgid
 * is a log id naming its seq: found by primary key, never indexed (the
 * index cost the applier 0.25-0.5 us per message and 3-7 % of its rate;
 * docs/benchmarks.md, session 13). Every
 * other msgid - a relayed join's or part's, and every id written before
 * log ids existed - is a counter id, in events_msgid_counter; the "redact"
 * events, which repeat the msgid they hide, are in events_redact. A query
 * names the index's condition word for word, or SQLite does not use it. */
#define NETLOG_MSGID_COUNTER "msgid >= '2'"
/* The lookups of what a client names by msgid, redact events left out. A
 * log id is found by primary key (?3, ?4 or ?2: msgid_seq of the id, 0 for
 * a counter id), a counter id through events_msgid_counter.
 *   NETLOG_SQL_FIND_REFS     CHATHISTORY's two references ?1, ?2:
 *                            msgid, at, seq of each found
 *   NETLOG_SQL_FIND_MESSAGE  REPORT's message ?1: seq, kind, code,
 *                            account_id of the chat message */
#define NETLOG_SQL_FIND_REFS                                                                       \
    "SELECT msgid, at, seq FROM events WHERE seq IN (?3, ?4) AND msgid IN (?1, ?2)"                \
    " AND kind <> 'redact' UNION ALL SELECT msgid, at, seq FROM events"                            \
    " WHERE msgid IN (?1, ?2) AND " NETLOG_MSGID_COUNTER " AND kind <> 'redact'"
/* History's condition on events aliased e: not hidden by a later redact
 * event (found through events_redact). */
#define NETLOG_SQL_NOT_REDACTED                                                                    \
    " AND (e.msgid IS NULL OR NOT EXISTS (SELECT 1 FROM events r WHERE r.msgid = e.msgid"          \
    " AND r.kind = 'redact'))"
#define NETLOG_SQL_FIND_MESSAGE                                                                    \
    "SELECT seq, kind, code, account_id FROM events WHERE seq = ?2 AND msgid = ?1"                 \
    " AND kind IN ('msg', 'notice', 'tagmsg', 'dm') UNION ALL"                                     \
    " SELECT seq, kind, code, account_id FROM events WHERE msgid = ?1 AND " NETLOG_MSGID_COUNTER   \
    " AND kind IN ('msg', 'notice', 'tagmsg', 'dm') ORDER BY seq LIMIT 1"

/* The events of one key of the history index (history_index.h), e being
 * the event: the key's runs in order, each run's events by primary key,
 * sorted within the run (runs are disjoint and ordered, so this is seq
 * order, and LIMIT stops at the run that fills it). The runs read are those
 * that can hold an event with lo_at <= at <= hi_at: last_at >= lo_at, and
 * last_at up to that of the first run ending after hi_at (so every run
 * starting at or before hi_at).
 *   NETLOG_SQL_RUNS_FROM               the tables
 *   NETLOG_SQL_RUNS_SCOPE(axis, key, lo_at, hi_at)
 *                                      the condition, each argument SQL
 *                                      text (a literal, a parameter, a
 *                                      subquery); axis and key appear twice
 *   NETLOG_SQL_RUNS_ORDER(dir)         the order, "ASC" or "DESC" */
#define NETLOG_SQL_RUNS_FROM "runs tr CROSS JOIN json_each(tr.offs) j CROSS JOIN events e"
#define NETLOG_SQL_RUNS_SCOPE(axis, key, lo_at, hi_at)                                             \
    "tr.axis = " axis " AND tr.key = " key " AND tr.last_at >= " lo_at                             \
    " AND tr.last_at <= coalesce((SELECT min(x.last_at) FROM runs x WHERE x.axis = " axis          \
    " AND x.key = " key " AND x.last_at > " hi_at "), 9223372036854775807)"                        \
    " AND e.seq = tr.first + j.value"
#define NETLOG_SQL_RUNS_ORDER(dir) "tr.last_at " dir ", tr.first " dir ", e.seq " dir

#define NETLOG_SCHEMA_SQL                                                                          \
    "CREATE TABLE IF NOT EXISTS events ("                                                          \
    " seq INTEGER PRIMARY KEY,"                                                                    \
    " at INTEGER NOT NULL,"                                                                        \
    " kind TEXT NOT NULL,"                                                                         \
    " actor TEXT NOT NULL,"                                                                        \
    " target TEXT,"                                                                                \
    " code INTEGER,"                                                                               \
    " account_id INTEGER,"                                                                         \
    " msgid TEXT,"                                                                                 \
    " body TEXT,"                                                                                  \
    " leaf BLOB NOT NULL,"                                                                         \
    " chain BLOB NOT NULL);"                                                                       \
    "DROP INDEX IF EXISTS events_code_at;" /* before 2026-12: runs */                              \
    "DROP INDEX IF EXISTS events_account_at;"                                                      \
    "CREATE INDEX IF NOT EXISTS events_dm_account ON events (account_id, at) WHERE kind = 'dm';"   \
    "DROP INDEX IF EXISTS events_msgid;" /* before 2026-12: every msgid */                         \
    "CREATE INDEX IF NOT EXISTS events_msgid_counter ON events (msgid)"                            \
    " WHERE " NETLOG_MSGID_COUNTER ";"                                                             \
    "CREATE INDEX IF NOT EXISTS events_redact ON events (msgid) WHERE kind = 'redact';"            \
    "DROP INDEX IF EXISTS events_at;"        /* before 2026-12: time ranges now bisect seq */      \
    "DROP INDEX IF EXISTS events_target_at;" /* before 2026-12: runs */                            \
    "CREATE INDEX IF NOT EXISTS events_dm_target ON events (target, at) WHERE kind = 'dm';"        \
    "CREATE TABLE IF NOT EXISTS runs ("                                                            \
    " id INTEGER PRIMARY KEY,"                                                                     \
    " axis TEXT NOT NULL CHECK (axis IN ('target', 'code', 'account')),"                           \
    " key NOT NULL," /* text for a target, an integer for a code or an account */                  \
    " last_at INTEGER NOT NULL,"                                                                   \
    " first INTEGER NOT NULL,"                                                                     \
    " last INTEGER NOT NULL,"                                                                      \
    " first_at INTEGER NOT NULL,"                                                                  \
    " n INTEGER NOT NULL,"                                                                         \
    " offs TEXT NOT NULL);"                                                                        \
    "CREATE INDEX IF NOT EXISTS runs_by_key ON runs (axis, key, last_at, first);"                  \
    "CREATE TABLE IF NOT EXISTS runs_upto ("                                                       \
    " id INTEGER PRIMARY KEY CHECK (id = 1),"                                                      \
    " seq INTEGER NOT NULL);"                                                                      \
    "CREATE TABLE IF NOT EXISTS checkpoints ("                                                     \
    " size INTEGER PRIMARY KEY,"                                                                   \
    " at INTEGER NOT NULL,"                                                                        \
    " root BLOB NOT NULL,"                                                                         \
    " note TEXT NOT NULL,"                                                                         \
    " acc BLOB NOT NULL);"                                                                         \
    "CREATE TABLE IF NOT EXISTS purged ("                                                          \
    " id INTEGER PRIMARY KEY CHECK (id = 1),"                                                      \
    " first INTEGER NOT NULL,"                                                                     \
    " chain BLOB NOT NULL,"                                                                        \
    " acc BLOB NOT NULL,"                                                                          \
    " at INTEGER NOT NULL);"                                                                       \
    "CREATE TABLE IF NOT EXISTS holds ("                                                           \
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"                                                       \
    " kind TEXT NOT NULL CHECK (kind IN ('group', 'account', 'case')),"                            \
    " value TEXT NOT NULL,"                                                                        \
    " reason TEXT,"                                                                                \
    " created_at INTEGER NOT NULL,"                                                                \
    " created_by TEXT NOT NULL,"                                                                   \
    " released_at INTEGER);"                                                                       \
    "CREATE VIEW IF NOT EXISTS audit AS SELECT seq AS id, at / 1000 AS at, actor,"                 \
    " substr(kind, 7) AS action, target, json_extract(body, '$.detail') AS detail"                 \
    " FROM events WHERE kind LIKE 'audit.%';"                                                      \
    "CREATE VIEW IF NOT EXISTS sessions AS SELECT seq AS id, account_id, actor AS account,"        \
    " substr(kind, 9) AS event, at / 1000 AS at, json_extract(body, '$.mechanism') AS mechanism,"  \
    " json_extract(body, '$.ip') AS ip, json_extract(body, '$.port') AS port,"                     \
    " json_extract(body, '$.tls_version') AS tls_version,"                                         \
    " json_extract(body, '$.tls_cipher') AS tls_cipher, json_extract(body, '$.certfp') AS certfp"  \
    " FROM events WHERE kind LIKE 'session.%';"

#endif
