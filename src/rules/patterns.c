/*
 * patterns.c - pattern files of the automatic rules (see patterns.h):
 * line splitting, comments, bounds, folding of literals, regcomp of
 * regular expressions with the refusals that keep matching cheap.
 */
#include "rules/patterns.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "proto/casemap.h"
#include "proto/utf8.h"
#include "util/alloc.h"

static void pat_error(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

static void pat_error(char *err, size_t errlen, const char *file, int line, const char *fmt, ...)
{
    int n = line > 0 ? snprintf(err, errlen, "%s:%d: ", file, line)
                     : snprintf(err, errlen, "%s: ", file);
    if (n < 0 || (size_t)n >= errlen)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
    va_end(ap);
}

char *rules_fold(const char *text, size_t len)
{
    /* NFKC can expand a code point many times (U+FDFA gives 18) and case
     * folding up to three: grow until it fits, bounded by that factor */
    size_t cap = 4 * len + 16;
    for (int tries = 0; tries < 4; tries++, cap *= 4) {
        char *out = xmalloc(cap);
        int n = casemap_fold(text, len, out, cap);
        if (n >= 0)
            return out;
        free(out);
        if (n != CASEMAP_ERR_NOSPACE)
            return NULL;
    }
    return NULL;
}

/* q at '[': the end of the bracket expression (its ']', or the NUL). */
static const char *pat_skip_bracket(const char *q)
{
    q++;
    if (*q == '^')
        q++;
    if (*q == ']')
        q++; /* a ']' first is a literal */
    while (*q && *q != ']') {
        if (*q == '[' && (q[1] == ':' || q[1] == '.' || q[1] == '=')) {
            char kind = q[1];
            const char *e = q + 2;
            while (*e && !(e[0] == kind && e[1] == ']'))
                e++;
            if (!*e)
                return e;
            q = e + 2;
            continue;
        }
        q++;
    }
    return q;
}

/* Refusals that keep regcomp and regexec cheap (patterns.h). NULL when
 * the expression is acceptable, else the reason. */
static const char *pat_regex_refusal(const char *p)
{
    int intervals = 0, repeats = 0;
    bool after_rep = false; /* the previous token was a repetition operator */
    const char *q = p;
    while (*q) {
        if (*q == '\\') {
            if (q[1] >= '1' && q[1] <= '9')
                return "back-references (\\1 to \\9) are not allowed: their matching time can "
                       "grow without bound";
            q += q[1] ? 2 : 1;
            after_rep = false;
            continue;
        }
        if (*q == '[') {
            q = pat_skip_bracket(q);
            q += *q ? 1 : 0;
            after_rep = false;
            continue;
        }
        bool interval = *q == '{' && q[1] >= '0' && q[1] <= '9';
        bool rep = interval || *q == '*' || *q == '+' || *q == '?';
        if (rep && after_rep)
            return "a repetition of a repetition (like a** or a+{2}) is not allowed (regcomp's "
                   "memory grows with each)";
        if (rep && ++repeats > RULES_RE_REPEATS_MAX)
            return "more than 16 repetition operators (* + ? {m,n}) in one expression are not "
                   "allowed";
        after_rep = rep;
        if (!interval) {
            q++;
            continue;
        }
        if (++intervals > RULES_RE_INTERVALS_MAX)
            return "more than 2 {m,n} intervals in one expression are not allowed (the compiled "
                   "expression would grow too large)";
        for (q++; *q && *q != '}'; q++) {
            if (*q < '0' || *q > '9')
                continue;
            char *end;
            long v = strtol(q, &end, 10);
            if (v > RULES_RE_BOUND_MAX)
                return "an {m,n} interval bound above 32 is not allowed (the compiled expression "
                       "would grow too large)";
            q = end - 1;
        }
        q += *q ? 1 : 0;
    }
    return NULL;
}

/* Adds one pattern (line[0..len), trimmed, not a comment). */
static int pat_add(struct rules_patterns *out, const char *line, size_t len, int lineno,
                   const char *file, size_t maxlen, char *err, size_t errlen)
{
    if (len > maxlen) {
        pat_error(err, errlen, file, lineno,
                  "the pattern is %zu bytes long; patterns are at most %zu bytes "
                  "(rules.pattern_bytes)",
                  len, maxlen);
        return -1;
    }
    if (!utf8_valid_text(line, len)) {
        pat_error(err, errlen, file, lineno, "the line is not valid UTF-8 text");
        return -1;
    }
    char *text = xmalloc(len + 1);
    memcpy(text, line, len);
    text[len] = '\0';
    size_t i = out->n;
    if (!out->regex) {
        char *folded = rules_fold(text, len);
        free(text);
        if (!folded || !*folded) {
            free(folded);
            pat_error(err, errlen, file, lineno, "the pattern cannot be folded for comparison");
            return -1;
        }
        out->lit[i] = folded;
    } else {
        const char *why = pat_regex_refusal(text);
        if (why) {
            free(text);
            pat_error(err, errlen, file, lineno, "%s", why);
            return -1;
        }
        int rc = regcomp(&out->re[i], text, REG_EXTENDED | REG_ICASE | REG_NOSUB);
        free(text);
        if (rc != 0) {
            char msg[160];
            regerror(rc, &out->re[i], msg, sizeof msg);
            regfree(&out->re[i]);
            pat_error(err, errlen, file, lineno,
                      "the regular expression does not compile (POSIX extended syntax): %s", msg);
            return -1;
        }
        if (regexec(&out->re[i], "", 0, NULL, 0) == 0) {
            regfree(&out->re[i]);
            pat_error(err, errlen, file, lineno,
                      "the regular expression matches the empty text, so it would match every "
                      "message");
            return -1;
        }
    }
    out->line[i] = lineno;
    out->n++;
    return 0;
}

static void pat_grow(struct rules_patterns *out, size_t *cap)
{
    if (out->n < *cap)
        return;
    *cap = *cap ? *cap * 2 : 16;
    if (out->regex)
        out->re = xrealloc(out->re, *cap * sizeof *out->re);
    else
        out->lit = xrealloc(out->lit, *cap * sizeof *out->lit);
    out->line = xrealloc(out->line, *cap * sizeof *out->line);
}

int rules_patterns_parse(const char *buf, size_t len, const char *file, bool regex, size_t max,
                         size_t maxlen, struct rules_patterns *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->regex = regex;
    size_t cap = 0;
    int lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        size_t end = nl ? (size_t)(nl - buf) : len;
        const char *line = buf + pos;
        size_t n = end - pos;
        pos = end + 1;
        lineno++;
        while (n && (line[0] == ' ' || line[0] == '\t'))
            line++, n--;
        while (n && (line[n - 1] == ' ' || line[n - 1] == '\t' || line[n - 1] == '\r'))
            n--;
        if (!n || line[0] == '#')
            continue;
        if (out->n >= max) {
            pat_error(err, errlen, file, lineno,
                      "more than %zu patterns in all (rules.max_patterns); raise it or shorten "
                      "the lists",
                      max);
            rules_patterns_free(out);
            return -1;
        }
        pat_grow(out, &cap);
        if (pat_add(out, line, n, lineno, file, maxlen, err, errlen) < 0) {
            rules_patterns_free(out);
            return -1;
        }
    }
    return 0;
}

int rules_patterns_read(const char *path, bool regex, size_t max, size_t maxlen,
                        struct rules_patterns *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    FILE *f = fopen(path, "rb");
    if (!f) {
        pat_error(err, errlen, path, 0, "cannot read the pattern file (%s)", strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode) || st.st_size > RULES_FILE_MAX) {
        fclose(f);
        pat_error(err, errlen, path, 0,
                  "the pattern file must be a regular file of at most 16 MiB; split or shorten "
                  "it");
        return -1;
    }
    size_t want = (size_t)st.st_size;
    char *buf = xmalloc(want + 1);
    size_t len = fread(buf, 1, want, f);
    bool bad = ferror(f) != 0;
    fclose(f);
    if (bad) {
        free(buf);
        pat_error(err, errlen, path, 0, "cannot read the pattern file");
        return -1;
    }
    int rc = rules_patterns_parse(buf, len, path, regex, max, maxlen, out, err, errlen);
    free(buf);
    return rc;
}

void rules_patterns_free(struct rules_patterns *p)
{
    for (size_t i = 0; i < p->n; i++) {
        if (p->regex)
            regfree(&p->re[i]);
        else
            free(p->lit[i]);
    }
    free(p->lit);
    free(p->re);
    free(p->line);
    memset(p, 0, sizeof *p);
}

long rules_patterns_match(const struct rules_patterns *p, const char *folded)
{
    for (size_t i = 0; i < p->n; i++) {
        bool hit = p->regex ? regexec(&p->re[i], folded, 0, NULL, 0) == 0
                            : strstr(folded, p->lit[i]) != NULL;
        if (hit)
            return (long)i;
    }
    return -1;
}
