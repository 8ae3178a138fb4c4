/*
 * patterns.h - operator pattern lists of the automatic rules: parsing a
 * pattern file into compiled patterns, and matching a message against them.
 *
 * A pattern file is UTF-8 text, one pattern per line. Leading and trailing
 * spaces and tabs of a line are ignored (and a CR before the LF); a line
 * that is then empty or starts with '#' is skipped. Two kinds:
 *
 *   literal  a case-insensitive substring. The pattern and the message are
 *            both folded with casemap_fold (NFKC and full case folding), so
 *            "ＡＢＣ", "abc" and "ABC" are the same; Han text is unchanged.
 *   regex    a POSIX extended regular expression (regcomp REG_EXTENDED |
 *            REG_ICASE | REG_NOSUB), matched against the folded message.
 *            Back-references are refused (their matching time can explode),
 *            so are more than RULES_RE_INTERVALS_MAX {m,n} intervals or a
 *            bound above RULES_RE_BOUND_MAX, more than RULES_RE_REPEATS_MAX
 *            repetition operators, or a repetition of a repetition ("a**",
 *            "a+{2}") (regcomp's memory grows with each), and a pattern
 *            that matches the empty text (it would match every message).
 *
 * Bounds: a pattern is at most maxlen bytes and a file at most
 * RULES_FILE_MAX bytes; the caller passes how many patterns it may still
 * take (rules.max_patterns over every file). Every refusal is one sentence
 * "file:line: ...".
 *
 * Pure apart from rules_patterns_read (which reads the file): no clock, no
 * globals. Reentrant.
 */
#ifndef QUN_RULES_PATTERNS_H
#define QUN_RULES_PATTERNS_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#define RULES_FILE_MAX         (16u << 20)
#define RULES_RE_INTERVALS_MAX 2
#define RULES_RE_BOUND_MAX     32
#define RULES_RE_REPEATS_MAX   16

struct rules_patterns {
    bool regex;
    size_t n;
    char **lit;  /* literal: folded patterns */
    regex_t *re; /* regex: compiled patterns */
    int *line;   /* where each pattern is in its file */
};

/* Parses buf[0..len) (the text of file) into out (which it initialises).
 * max is how many patterns may be taken, maxlen the longest pattern in
 * bytes. Returns 0, or -1 with "file:line: sentence" in err (out is then
 * empty). */
int rules_patterns_parse(const char *buf, size_t len, const char *file, bool regex, size_t max,
                         size_t maxlen, struct rules_patterns *out, char *err, size_t errlen);
/* Reads path and parses it (as above). */
int rules_patterns_read(const char *path, bool regex, size_t max, size_t maxlen,
                        struct rules_patterns *out, char *err, size_t errlen);
void rules_patterns_free(struct rules_patterns *p);

/* The folded form of text (NFKC + case fold, casemap.h), malloc'd; NULL
 * when text is not well-formed UTF-8. */
char *rules_fold(const char *text, size_t len);
/* The index of the first pattern found in folded, or -1. */
long rules_patterns_match(const struct rules_patterns *p, const char *folded);

#endif
