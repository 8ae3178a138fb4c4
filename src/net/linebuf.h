/*
 * linebuf.h - restartable splitter of a byte stream into lines (sans-IO).
 *
 * The transport feeds every chunk it reads to linebuf_feed(); complete lines
 * are handed to a sink callback *in place* (in the caller's chunk, which must
 * be writable), and only an incomplete trailing line is copied into the
 * linebuf's own small heap buffer. When the sink asks to stop (the layer
 * above paused the connection), the unconsumed rest of the chunk is "held"
 * and handed out again by linebuf_resume(). No sockets, no clock: the fuzz
 * target fuzz/fuzz_net_linebuf.c drives it with arbitrary chunkings.
 *
 * Line rules: "\n" ends a line; one '\r' immediately before it is stripped;
 * empty lines are dropped silently; a line longer than line_max bytes (after
 * stripping) is reported as LINEBUF_OVERLONG once and skipped up to its "\n".
 *
 * Invariants:
 *   1. buf == NULL if and only if len == 0: an idle connection holds no
 *      input memory.
 *   2. When !held, buf is a partial line without '\n' and len <= line_max+1
 *      (the +1 allows a trailing '\r' whose '\n' has not arrived yet), so cap
 *      never exceeds line_max+2.
 *   3. discarding implies len == 0: the partial of an overlong line is never
 *      kept.
 *   4. Lines given to the sink contain no '\n', have had one trailing '\r'
 *      stripped ("a\r\r\n" gives "a\r"), have 1 <= len <= line_max and are
 *      NUL-terminated at line[len]. The memory is valid only during the call.
 *   5. After the sink returns false nothing more is delivered by that call;
 *      the undelivered bytes are held (held == true) unless there were none.
 *      linebuf_feed() must not be called while held (resume first).
 */
#ifndef QUN_NET_LINEBUF_H
#define QUN_NET_LINEBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct linebuf {
    char *buf;       /* partial line or held bytes; NULL when empty */
    uint32_t len;    /* bytes used in buf */
    uint32_t cap;    /* bytes allocated for buf */
    bool held;       /* buf holds bytes left over after a stop */
    bool discarding; /* skipping the rest of an overlong line */
};

enum linebuf_event { LINEBUF_LINE, LINEBUF_OVERLONG };

/* Receives one line (LINEBUF_LINE) or the news that one line was too long
 * (LINEBUF_OVERLONG, line == NULL, len == 0). Returns true to go on, false
 * to stop delivery (the rest is held). */
typedef bool (*linebuf_sink_fn)(void *ctx, enum linebuf_event ev, char *line, size_t len);

/* Splits data (modified in place) into lines. Requires !lb->held. */
void linebuf_feed(struct linebuf *lb, char *data, size_t len, size_t line_max, linebuf_sink_fn sink,
                  void *ctx);
/* Re-delivers held bytes, as if they had just been fed. No-op when nothing is
 * held. May stop and hold again. */
void linebuf_resume(struct linebuf *lb, size_t line_max, linebuf_sink_fn sink, void *ctx);
/* Frees the buffer and forgets all state. */
void linebuf_clear(struct linebuf *lb);

#endif
