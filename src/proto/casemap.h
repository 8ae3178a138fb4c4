/*
 * casemap.h - comparing and validating names (nicknames, channel names).
 *
 * Owns the rules that decide when two names are "the same" and which names
 * may be registered. The server advertises them in ISUPPORT as
 * CASEMAPPING=rfc8265 (with UTF8ONLY): the token clients know for PRECIS
 * nickname comparison, which this matches on ASCII and nearly all other
 * names; docs/protocol.md ("CASEMAPPING") lists the differences.
 *
 * Folding (casemap_fold)
 * ----------------------
 * Two names are equal when their folded forms are byte-equal. The fold is
 * Unicode NFKC followed by full Unicode case folding (CaseFolding.txt, C+F
 * mappings), computed with utf8proc using
 * UTF8PROC_STABLE | UTF8PROC_COMPAT | UTF8PROC_COMPOSE | UTF8PROC_CASEFOLD:
 *
 *   - ASCII A-Z fold to a-z and nothing else in ASCII changes; in particular
 *     the RFC 1459 pairs []\~ vs {}|^ are NOT equal (unlike
 *     CASEMAPPING=rfc1459), matching CASEMAPPING=ascii on ASCII names.
 *   - Compatibility forms fold to their plain form: "Ｆｕｌｌｗｉｄｔｈ"
 *     equals "fullwidth", "ﬁ" equals "fi", "①" equals "1".
 *   - Case folding is full, not simple: "Straße" equals "STRASSE" equals
 *     "strasse"; Greek final sigma "ς" equals "σ" equals "Σ".
 *   - Canonically equivalent spellings are equal: "é" precomposed (U+00E9)
 *     equals "e" + U+0301.
 *   - Han characters are unchanged ("小明" folds to itself); no
 *     Traditional/Simplified mapping is applied (龍 and 龙 are different
 *     names), since that mapping is many-to-many and language-dependent.
 *
 * This follows the spirit of RFC 8265 section 5 (Nickname profile: NFKC,
 * case-fold) without PRECIS's exact rules on spaces and unassigned code
 * points (the differences docs/protocol.md lists). The Unicode version is utf8proc's; upgrading it
 * can only change how newly assigned characters fold, which names cannot
 * contain (unassigned code points are refused below).
 *
 * Why there is no confusable folding: UTS #39 "skeletons" would make Latin
 * "a" and Cyrillic "а", or "rn" and "m", the same name. Skeletons are not
 * idempotent or stable across Unicode versions, are not a case mapping a
 * client could reproduce, and would make whole scripts second-class (the
 * Cyrillic user could not take "Саша" if a Latin lookalike existed).
 * Impersonation is handled where it belongs - nickname registration policy
 * and moderation - not in the equality that every lookup uses.
 *
 * Validity (casemap_nick_valid, casemap_channel_valid)
 * ---------------------------------------------------
 * A name is checked twice: as given, and after folding. The second check
 * stops lookalikes of syntax characters: "ab＠cd" (fullwidth at sign) folds
 * to "ab@cd", "１abc" folds to "1abc", and "x¨" folds to "x ̈" with a space;
 * all are refused. Lengths are in bytes of the name as given.
 *
 * Both kinds of name: well-formed UTF-8; no code point of general category
 * Cc (controls, incl. BEL, CR, LF, DEL), Cf (format, incl. zero-width
 * joiners and bidi controls), Cs, Co (private use), Cn (unassigned), Zs, Zl
 * or Zp (spaces and separators); no ASCII space or comma; the first
 * character after the fixed prefix is not a combining mark (Mn, Mc, Me).
 *
 * Nicknames, additionally: 1..maxlen bytes; none of , * ? ! @ : . anywhere
 * ('.' marks server names in a message source); must not start with an
 * ASCII digit, '-', '$', ':', a channel type ('#', '&') or a membership
 * prefix ('~', '@', '%', '+'), which would make NAMES replies ambiguous.
 * Chinese, and any other script, is allowed: "小明" is a valid nickname.
 *
 * Channels, additionally: 2..maxlen bytes, starting with '#' (CHANTYPES=#);
 * no ':' (RFC 2812 channel masks). "#测试" is valid.
 *
 * All functions are reentrant; casemap_fold allocates only for folded
 * forms longer than CASEMAP_FOLD_STACK code points.
 */
#ifndef QUN_PROTO_CASEMAP_H
#define QUN_PROTO_CASEMAP_H

#include <stdbool.h>
#include <stddef.h>

enum casemap_error {
    CASEMAP_ERR_INVALID = -1, /* ill-formed UTF-8, NUL, or utf8proc error */
    CASEMAP_ERR_NOSPACE = -2, /* folded form (plus NUL) exceeds cap */
};

/* Code points folded without touching the heap. */
#define CASEMAP_FOLD_STACK 256

/*
 * Folds in[0..len) into out (NUL-terminated). Returns the folded length in
 * bytes (without the NUL) or an enum casemap_error. Pure ASCII input takes
 * a fast path that gives the same bytes as the Unicode path.
 */
int casemap_fold(const char *in, size_t len, char *out, size_t cap);

/* True when nick[0..len) may be used as a nickname (rules above). */
bool casemap_nick_valid(const char *nick, size_t len, size_t maxlen);

/* True when name[0..len) may be used as a channel name (rules above). */
bool casemap_channel_valid(const char *name, size_t len, size_t maxlen);

#endif
