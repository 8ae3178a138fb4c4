/*
 * utf8.h - strict UTF-8 checks and boundary-safe truncation.
 *
 * Qun advertises UTF8ONLY, so every line a client sends must be well-formed
 * UTF-8 and every line the server writes must stay so, even after it cuts a
 * long message down to size. This module owns the one definition of
 * "well-formed" used everywhere (RFC 3629):
 *
 *   - no overlong encodings (C0, C1, E0 80..9F, F0 80..8F are rejected);
 *   - no UTF-16 surrogates (U+D800..U+DFFF, i.e. ED A0..BF);
 *   - nothing above U+10FFFF (F4 90.. and F5..FF are rejected);
 *   - no truncated sequences at the end of the buffer.
 *
 * Noncharacters (U+FFFE, U+FDD0..) are well-formed and accepted here; which
 * code points may appear in names is a policy of casemap.c, not of this file.
 *
 * All functions are pure: they read only their arguments, never allocate and
 * never look past s[n - 1], so they are safe on buffers without a NUL.
 */
#ifndef QUN_PROTO_UTF8_H
#define QUN_PROTO_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when s[0..n) is well-formed UTF-8. NUL bytes are valid UTF-8. */
bool utf8_valid(const char *s, size_t n);

/*
 * True when s[0..n) is well-formed UTF-8 and contains no NUL, CR or LF:
 * the condition for one IRC line (or one param) as carried on the wire.
 * Checked in the same pass, so the line parser scans its input once.
 */
bool utf8_valid_text(const char *s, size_t n);

/*
 * Length of the longest prefix of s[0..n) that is at most max bytes and does
 * not end inside a multi-byte sequence. Returns n when n <= max. Only the
 * bytes around the cut are examined: if s is well-formed, so is the prefix.
 */
size_t utf8_truncate(const char *s, size_t n, size_t max);

/*
 * Length in bytes of the well-formed sequence at s[0..n), or 0 when s does
 * not start with one (including n == 0). Exposed for the sanitizer in
 * message.c, which replaces the bytes of ill-formed sequences one by one.
 */
size_t utf8_seq_len(const unsigned char *s, size_t n);

#endif
