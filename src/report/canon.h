/*
 * canon.h - the canonical bytes of a JSON document (sans-IO), the bytes a
 * report's signature covers (report.h, docs/reports.md).
 *
 * The form is RFC 8785 (JSON Canonicalization Scheme) restricted to what
 * reports contain: objects, arrays, strings, integers, true, false, null.
 *   - no whitespace; object members sorted by key (byte order of the UTF-8
 *     key, which is code-point order; report keys are ASCII, where it is
 *     also RFC 8785's UTF-16 order);
 *   - strings as UTF-8, escaping only '"', '\\' and the control characters
 *     below 0x20: \b \t \n \f \r by name, the others as \u00xx (lower-case
 *     hex); everything else, '/' and U+007F included, literally;
 *   - integers in plain decimal.
 * This is what Python's json.dumps(doc, sort_keys=True, ensure_ascii=False,
 * separators=(",", ":")) writes for such a document, so a receiver can
 * recompute the bytes from the parsed JSON.
 *
 * Reals are refused (a report has none; their canonical form is the hard
 * part of RFC 8785), as are duplicate keys (jansson cannot hold them).
 */
#ifndef QUN_REPORT_CANON_H
#define QUN_REPORT_CANON_H

#include <jansson.h>

#define CANON_DEPTH_MAX 32

/* The canonical text of v (malloc'ed, NUL-terminated), or NULL when v
 * holds a real or nests deeper than CANON_DEPTH_MAX. */
char *canon_json(const json_t *v);

#endif
