/*
 * message.h - IRC message parser and serializer (sans-IO).
 *
 * Owns the wire syntax of one IRC line (RFC 1459/2812 as modern clients use
 * it, plus IRCv3 message-tags):
 *
 *   line    = [ "@" tags SPACE ] [ ":" source SPACE ] command params
 *   tags    = tag *( ";" tag )          tag = key [ "=" escaped-value ]
 *   key     = [ "+" ] [ vendor "/" ] name   vendor = host, name = 1*(ALNUM / "-")
 *   command = 1*( ALNUM / "_" / "-" )     (3-digit numerics included)
 *   params  = *14( SPACE middle ) [ SPACE ":" trailing ]
 *           / 14( SPACE middle ) [ SPACE [ ":" ] trailing ]
 *
 * The transport hands up one line with CR/LF already stripped; this module
 * turns it into a struct of pointers into that same buffer (no copy, no
 * allocation), and renders outgoing lines into a caller-owned buffer. It
 * knows nothing of sockets, clients or commands.
 *
 * Parser contract (irc_msg_parse):
 *   - `line` is writable, len bytes long and NUL-terminated at line[len].
 *     The parser overwrites separators with NUL, unescapes tag values and
 *     uppercases the command in place. The result points into `line` and is
 *     valid for as long as `line` is.
 *   - The whole line must be well-formed UTF-8 without NUL, CR or LF
 *     (UTF8ONLY); otherwise IRC_PARSE_BAD_UTF8.
 *   - Lengths are checked against struct irc_limits before anything else is
 *     written, so on a limit error the line is untouched and can be logged.
 *     The tag section runs from '@' to the first space inclusive; the body
 *     from the next non-space byte to the end of the line.
 *     On other errors the contents of `line` and `*m` are unspecified.
 *   - Tolerated as deployed servers do: several spaces between fields and
 *     params, trailing spaces, empty tags ("@a;;b"), a lowercase command.
 *   - Duplicate tag keys: the last value wins (IRCv3 message-tags); the tag
 *     keeps the position of its first occurrence.
 *   - After 14 middle params the rest of the line, spaces included and an
 *     optional leading ':' removed, is the 15th param (RFC 2812 grammar).
 *
 * Serializer contract (struct irc_wbuf):
 *   - Calls come in wire order: tags, source, command, middle params, at most
 *     one trailing param, finish. Out-of-order calls are programming errors
 *     and trip assert().
 *   - The tag section (with '@' and the space) never exceeds IRC_TAGS_MAX:
 *     a tag that does not fit is dropped whole and the call returns false.
 *   - The body (source, command, params) never exceeds IRC_BODY_MAX; the
 *     trailing param is cut on a UTF-8 boundary to fit. A middle param that
 *     does not fit, or an invalid middle param/source/command, makes finish
 *     fail: the server composed something that is not an IRC line.
 *   - The output never contains NUL, CR or LF before the final CRLF: CR and
 *     LF in a trailing param become spaces and ill-formed UTF-8 bytes become
 *     '?', so the output is always UTF8ONLY-clean.
 */
#ifndef QUN_PROTO_MESSAGE_H
#define QUN_PROTO_MESSAGE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Most tags one message may carry (after merging duplicates). */
#define IRC_TAGS_COUNT_MAX 64
/* Most params: RFC 1459 allows 15. */
#define IRC_PARAMS_MAX 15
/* Tag section including the leading '@' and the trailing space. */
#define IRC_TAGS_MAX 8191
/* Tag data (without '@' and space) a client may send, per message-tags. */
#define IRC_CLIENT_TAG_DATA_MAX 4094
/* Body: source, command and params, without CRLF (512 with it). */
#define IRC_BODY_MAX 510
/* Room a serialization buffer needs: tags + body + CRLF + NUL. */
#define IRC_LINE_BUF_MIN (IRC_TAGS_MAX + IRC_BODY_MAX + 2 + 1)

enum irc_parse_error {
    IRC_PARSE_OK = 0,
    IRC_PARSE_EMPTY = -1,         /* nothing but spaces: ignore silently */
    IRC_PARSE_TAGS_TOO_LONG = -2, /* tag section over limits.tags_max */
    IRC_PARSE_TOO_MANY_TAGS = -3, /* over IRC_TAGS_COUNT_MAX distinct keys */
    IRC_PARSE_BODY_TOO_LONG = -4, /* body over limits.body_max */
    IRC_PARSE_NO_COMMAND = -5,    /* tags and/or source but no command */
    IRC_PARSE_BAD_TAG = -6,       /* tag key breaks the key grammar */
    IRC_PARSE_BAD_UTF8 = -7,      /* ill-formed UTF-8, or NUL/CR/LF */
    IRC_PARSE_BAD_SOURCE = -8,    /* ':' prefix with nothing after it */
    IRC_PARSE_BAD_COMMAND = -9,   /* command not made of [A-Za-z0-9_-] */
};

/* Per-listener length limits; both count bytes. */
struct irc_limits {
    size_t tags_max; /* whole tag section incl. '@' and trailing space */
    size_t body_max; /* source + command + params, without CRLF */
};

/* Server-to-client sized defaults: 8191 tag bytes, 510 body bytes. */
extern const struct irc_limits irc_limits_default;
/* For client lines: 4094 bytes of tag data, i.e. 4096 with '@' and space. */
extern const struct irc_limits irc_limits_client;

struct irc_tag {
    const char *key;   /* as sent, e.g. "+draft/reply" */
    const char *value; /* unescaped; "" when absent or empty */
};

struct irc_msg {
    struct irc_tag tags[IRC_TAGS_COUNT_MAX];
    size_t ntags;
    const char *source;  /* without ':'; NULL when the line has none */
    const char *command; /* [A-Z0-9_-]+: letters uppercased in place */
    const char *params[IRC_PARAMS_MAX];
    size_t nparams;
    /* The last param was introduced by ':' or absorbed the rest of the
     * line as the 15th param; it may be empty or contain spaces. */
    bool trailing;
};

/* Parses with irc_limits_default. Returns 0 or an enum irc_parse_error. */
int irc_msg_parse(char *line, size_t len, struct irc_msg *m);
/* Same with explicit limits (e.g. irc_limits_client for client input). */
int irc_msg_parse_limits(char *line, size_t len, const struct irc_limits *lim, struct irc_msg *m);
/* Static English text for an irc_parse_error; "unknown error" otherwise. */
const char *irc_parse_strerror(int err);
/* Value of tag `key` ("" for a key without value), or NULL when absent. */
const char *irc_msg_tag(const struct irc_msg *m, const char *key);
/* True when key follows the message-tags key grammar. */
bool irc_tag_key_valid(const char *key, size_t len);

/*
 * Escapes a tag value for the wire (';' -> "\:", ' ' -> "\s", '\' -> "\\",
 * CR -> "\r", LF -> "\n"). Writes at most cap bytes, no NUL. Returns the
 * escaped length, or -1 when it does not fit in cap. The server renders a
 * message's tag section once and reuses it for every recipient.
 */
ssize_t irc_tag_escape(const char *value, size_t len, char *out, size_t cap);

enum irc_wbuf_error {
    IRC_WBUF_BAD_COMMAND = -1,   /* missing, or not made of [A-Za-z0-9_-] */
    IRC_WBUF_BAD_SOURCE = -2,    /* empty or containing space/CR/LF */
    IRC_WBUF_BAD_PARAM = -3,     /* middle param empty, ':'-led or spaced */
    IRC_WBUF_BODY_OVERFLOW = -4, /* middle params alone exceed the body */
};

/* Serialization state; lives on the caller's stack, writes to buf. */
struct irc_wbuf {
    char *buf;
    size_t cap;
    size_t len;        /* bytes written so far */
    size_t tags_len;   /* bytes of tag section written (incl. '@'), 0: none */
    size_t body_start; /* offset of the body; set when the body begins */
    size_t body_max;
    int phase;      /* wire-order state, see message.c */
    int err;        /* first enum irc_wbuf_error met, or 0 */
    size_t nparams; /* params written, trailing included */
};

/* buf must hold IRC_LINE_BUF_MIN bytes (asserted). */
void irc_wbuf_init(struct irc_wbuf *w, char *buf, size_t cap);
/* Appends one tag; value NULL or "" writes the key alone. False if the tag
 * was dropped: invalid key, or the tag section would exceed IRC_TAGS_MAX. */
bool irc_wbuf_tag(struct irc_wbuf *w, const char *key, const char *value);
/* Appends pre-rendered, already escaped tag data ("a=1;b") as one unit;
 * false (and nothing written) if it does not fit. */
bool irc_wbuf_tags_raw(struct irc_wbuf *w, const char *tags, size_t len);
void irc_wbuf_source(struct irc_wbuf *w, const char *source);
void irc_wbuf_command(struct irc_wbuf *w, const char *command);
/* A middle param: non-empty, no space/CR/LF, not starting with ':'. */
void irc_wbuf_param(struct irc_wbuf *w, const char *param);
/* The final param; gets ':' when empty, spaced or ':'-led; cut to fit. */
void irc_wbuf_trailing(struct irc_wbuf *w, const char *text);
void irc_wbuf_trailing_len(struct irc_wbuf *w, const char *text, size_t len);
void irc_wbuf_trailingf(struct irc_wbuf *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void irc_wbuf_vtrailingf(struct irc_wbuf *w, const char *fmt, va_list ap);
/* Appends CRLF and a NUL (not counted). Returns the line length including
 * CRLF, or an enum irc_wbuf_error; on error buf holds no usable line. */
ssize_t irc_wbuf_finish(struct irc_wbuf *w);

/*
 * Renders a parsed message back to wire form (tags, source, command,
 * params; the last param as trailing when m->trailing or when it needs the
 * colon). Returns as irc_wbuf_finish(). Used for relaying and by the fuzzer.
 */
ssize_t irc_msg_render(const struct irc_msg *m, char *buf, size_t cap);

#endif
