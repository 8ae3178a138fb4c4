#!/usr/bin/env python3
"""check_sql.py - "no SQL built by string concatenation" (issue 8, security
review; docs/security.md), checked on every build by ctest
(security/sql-literals).

Finds every call that hands SQL text to SQLite - sqlite3_prepare*,
sqlite3_exec, store_exec_write, store_query, store_load - in src/ and
tools/ (unit tests excluded) and fails unless the SQL argument is
compile-time text:

  - a string literal, adjacent literals, or a macro whose body is only
    literals and such macros ("SELECT " APPEAL_COLUMNS " WHERE id = ?"),
    or a function-like macro whose body is only literals, such macros and
    its parameters, given only such texts as arguments
    (NETLOG_SQL_RUNS_SCOPE("'code'", "?3", ...));
  - a choice (c ? A : B) between such texts;
  - a local variable every assignment of which is such a text, or an
    element of a static array of such texts;
  - a parameter of the enclosing function: that function then becomes a
    sink itself and every caller is checked the same way (so a wrapper
    such as verify.c's vstore_write(sql, ...) is followed to its callers).

Values always travel as bound parameters (store_value / sqlite3_bind_*).
A few functions build their SQL from fixed fragments chosen at run time;
each is reviewed and listed in EXCEPTIONS with the reason. An exception
that no longer matches a finding is an error too, so the list stays true.

Usage: check_sql.py [REPOSITORY_ROOT]   (exit 0: clean, 1: findings)
"""

import os
import re
import sys

# (file relative to the root, function): why building the text there is safe
EXCEPTIONS = {
    ("src/netlog/bundle.c", "prepare_query"):
        "the log search: WHERE and ORDER BY assembled with snprintf from fixed fragments "
        "(\" AND kind = ?8\", \" AND seq > ?10\", ...) chosen by which filters are set; "
        "every value is bound with sqlite3_bind_*",
    ("src/netlog/netlog.c", "nl_prepare_many"):
        "the batched INSERT: the fixed row of eleven ? placeholders repeated NL_ROWS "
        "times; no value is in the text",
    ("src/irc/cmd_chathistory.c", "ch_run_step"):
        "CHATHISTORY: ch_history_sql formats the query from fixed fragments (CH_* macros, "
        "ch_channel_kinds' literal kind lists, ASC/DESC); targets, times and limits are bound",
    ("src/store/sqlite.c", "store_migrate"):
        "PRAGMA user_version = N with N the compile-time number of migrations; a PRAGMA "
        "takes no bound parameters",
    # The worker side of the two database queues: the text they prepare is
    # the one their public entry points (store_exec_write/store_query/
    # store_load, netlog_query - all sinks here) received and copied.
    ("src/store/sqlite.c", "store_job_run"):
        "runs job->sql, copied by store_exec_write/store_query from their checked callers",
    ("src/netlog/reader.c", "nr_run"):
        "runs j->sql, copied by netlog_query from its checked callers",
}

SINKS = {"sqlite3_prepare": 1, "sqlite3_prepare_v2": 1, "sqlite3_prepare_v3": 1,
         "sqlite3_prepare16": 1, "sqlite3_prepare16_v2": 1, "sqlite3_prepare16_v3": 1,
         "sqlite3_exec": 1, "store_exec_write": 1, "store_query": 1, "store_load": 1,
         "netlog_query": 0}

STRING = r'"(?:\\.|[^"\\\n])*"'
TOKEN = re.compile(STRING + r"|'(?:\\.|[^'\\\n])*'|[A-Za-z_]\w*|\d[\w.]*|->|\S")
KEYWORDS = {"if", "while", "for", "switch", "return", "sizeof", "do", "else"}


def strip_comments(text):
    """Comments become spaces (newlines kept, so line numbers stay)."""
    out, i, n = [], 0, len(text)
    while i < n:
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif text[i] in "\"'":
            m = re.compile(r"%s(?:\\.|[^%s\\\n])*%s" % ((text[i],) * 3)).match(text, i)
            j = m.end() if m else i + 1
            out.append(text[i:j])
            i = j
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def balanced(text, i, open_ch="(", close_ch=")"):
    """Index just past the bracket matching text[i] (an opening one)."""
    depth = 0
    for m in re.compile(STRING + r"|'(?:\\.|[^'\\\n])*'|[()\[\]{}]").finditer(text, i):
        t = m.group()
        if t == open_ch:
            depth += 1
        elif t == close_ch:
            depth -= 1
            if depth == 0:
                return m.end()
    return len(text)


def split_top(expr, sep=","):
    """expr split at sep characters outside brackets and strings."""
    parts, depth, cur = [], 0, []
    for tok in TOKEN.findall(expr):
        if tok in "([{":
            depth += 1
        elif tok in ")]}":
            depth -= 1
        if tok == sep and depth == 0:
            parts.append(" ".join(cur))
            cur = []
        else:
            cur.append(tok)
    parts.append(" ".join(cur))
    return parts


class Source:
    def __init__(self, root, rel):
        self.rel = rel
        with open(os.path.join(root, rel), encoding="utf-8") as f:
            self.text = strip_comments(f.read())
        self.functions = list(self._functions())

    def _functions(self):
        """(name, params, body_start, body_end) of each function definition."""
        sig = re.compile(r"([A-Za-z_]\w*)\s*\(([^;{}]*)\)\s*\{")
        i = 0
        while True:
            m = sig.search(self.text, i)
            if not m:
                return
            if m.group(1) in KEYWORDS or self._depth(m.start()) != 0:
                i = m.end()
                continue
            start = m.end() - 1
            end = balanced(self.text, start, "{", "}")
            params = []
            for p in split_top(m.group(2)):
                names = re.findall(r"[A-Za-z_]\w*", p)
                params.append(names[-1] if names else "")
            yield m.group(1), params, start, end
            i = end

    def _depth(self, pos):
        depth = 0
        for m in re.compile(STRING + r"|'(?:\\.|[^'\\\n])*'|[{}]").finditer(self.text, 0, pos):
            if m.group() == "{":
                depth += 1
            elif m.group() == "}":
                depth -= 1
        return depth

    def in_function(self, pos):
        return any(start <= pos < end for _, _, start, end in self.functions)

    def line(self, pos):
        return self.text.count("\n", 0, pos) + 1


def collect_macros(sources):
    """Object-like macros: name -> body; function-like: name -> (params, body)."""
    macros, functions = {}, {}
    for s in sources:
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)(?![(\w])((?:\\\n|.)*)$",
                             s.text, re.M):
            macros[m.group(1)] = m.group(2).replace("\\\n", " ").strip()
        for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+([A-Za-z_]\w*)\(([^)]*)\)((?:\\\n|.)*)$",
                             s.text, re.M):
            params = [p.strip() for p in m.group(2).split(",") if p.strip()]
            functions[m.group(1)] = (params, m.group(3).replace("\\\n", " ").strip())
    return macros, functions


class Checker:
    def __init__(self, root):
        self.root = root
        rels = []
        for top in ("src", "tools"):
            for d, _, files in os.walk(os.path.join(root, top)):
                for f in files:
                    if f.endswith((".c", ".h")) and not f.startswith("test_"):
                        rels.append(os.path.relpath(os.path.join(d, f), root))
        self.sources = [Source(root, r) for r in sorted(rels)]
        self.macros, self.functions = collect_macros(self.sources)
        self.sinks = dict(SINKS)
        self.findings = {}  # (file, function) -> [message]
        self.calls = 0

    def literal_macro(self, name, seen=()):
        body = self.macros.get(name)
        if body is None or name in seen:
            return False
        return self.literal_tokens(TOKEN.findall(body), set(seen) | {name})

    def literal_function(self, name, args, seen):
        """A use NAME(args) of a function-like macro: literal args, literal body."""
        params, body = self.functions[name]
        if name in seen or len(args) != len(params):
            return False
        if not all(self.literal_tokens(TOKEN.findall(a), seen) for a in args):
            return False
        body_toks = [t for t in TOKEN.findall(body) if t not in params]
        return self.literal_tokens(body_toks, set(seen) | {name}) if body_toks else True

    def literal_tokens(self, toks, seen=()):
        out, i = [], 0
        while i < len(toks):
            if toks[i] in self.functions and i + 1 < len(toks) and toks[i + 1] == "(":
                rest = " ".join(toks[i + 1:])
                end = balanced(rest, 0)  # just past the use's ')'
                if not self.literal_function(toks[i], split_top(rest[1:end - 1]), seen):
                    return False
                out.append('""')
                i += 1 + len(TOKEN.findall(rest[:end]))
                continue
            out.append(toks[i])
            i += 1
        toks = [t for t in out if t not in "()"]
        if not toks:
            return False
        return all(t.startswith('"') or self.literal_macro(t, seen) for t in toks)

    def arg_ok(self, src, fn, expr, depth=0):
        """None when expr is compile-time SQL text, else why not."""
        expr = expr.strip()
        toks = TOKEN.findall(expr)
        if not toks or depth > 6:
            return "cannot follow %r" % expr
        while toks[0] == "(" and balanced(" ".join(toks), 0) == len(" ".join(toks)):
            toks = toks[1:-1]
        if "?" in toks:
            # c ? A : B, where B may be another choice: find A's ':'
            q, nest, bdepth = toks.index("?"), 0, 0
            for k in range(q + 1, len(toks)):
                t = toks[k]
                bdepth += t in "([{"
                bdepth -= t in ")]}"
                if bdepth == 0 and t == "?":
                    nest += 1
                elif bdepth == 0 and t == ":":
                    if nest == 0:
                        for b in (toks[q + 1:k], toks[k + 1:]):
                            why = self.arg_ok(src, fn, " ".join(b), depth + 1)
                            if why:
                                return why
                        return None
                    nest -= 1
        if self.literal_tokens(toks):
            return None
        if re.fullmatch(r"[A-Za-z_]\w*", toks[0]) and (
                len(toks) == 1 or (toks[1] == "[" and toks[-1] == "]")):
            return self.variable_ok(src, fn, toks[0], depth)
        return "SQL text %r is built at run time" % expr

    def variable_ok(self, src, fn, var, depth):
        name, params, start, end = fn
        if var in params:
            key = (name, params.index(var))
            if self.sinks.get(name) != params.index(var):
                self.new_sinks.append(key)
            return None  # the callers are checked instead
        body = src.text[start:end]
        for m in re.finditer(r"(\bconst\s+)?\bchar\s+%s\s*\[" % re.escape(var), body):
            if not m.group(1):
                return "%s is a buffer filled at run time" % var
        # assignments in the function, or a (static) definition at file scope
        pat = re.compile(r"(?<![\w.>])%s\s*(?:\[[^\]]*\])*\s*=(?!=)" % re.escape(var))
        found = []
        for where, text in ((start, body), (0, src.text)):
            for m in pat.finditer(text):
                if where == 0 and src.in_function(m.start()):
                    continue
                j = m.end()
                if text[j:].lstrip().startswith("{"):
                    k = j + text[j:].index("{")
                    e = balanced(text, k, "{", "}")
                    found += [(where + m.start(), x) for x in split_top(text[k + 1:e - 1])
                              if x.strip()]
                else:
                    k = text.find(";", j)
                    found.append((where + m.start(), text[j:k]))
            if found:
                break
        if not found:
            return "cannot see where %s gets its SQL text" % var
        if re.search(r"\b(snprintf|sprintf|strcat|strcpy|memcpy|qbuf_\w+|sqlite3_mprintf)\s*\("
                     r"\s*&?%s\b" % re.escape(var), body):
            return "%s is written by a formatting or copying call" % var
        for _, expr in found:
            why = self.arg_ok(src, fn, expr, depth + 1)
            if why:
                return why
        return None

    def check_calls(self):
        self.new_sinks = []
        self.findings = {}
        self.calls = 0
        names = "|".join(sorted(map(re.escape, self.sinks), key=len, reverse=True))
        call = re.compile(r"(?<![\w.>])(%s)\s*\(" % names)
        for src in self.sources:
            for fn in src.functions:
                name, params, start, end = fn
                for m in call.finditer(src.text, start, end):
                    args = split_top(src.text[m.end():balanced(src.text, m.end() - 1) - 1])
                    idx = self.sinks[m.group(1)]
                    if idx >= len(args):
                        continue
                    self.calls += 1
                    why = self.arg_ok(src, fn, args[idx])
                    if why:
                        self.findings.setdefault((src.rel, name), []).append(
                            "%s:%d: %s(): %s" % (src.rel, src.line(m.start()), name, why))

    def run(self):
        for _ in range(10):
            self.check_calls()
            added = False
            for name, idx in self.new_sinks:
                if name not in self.sinks:
                    self.sinks[name] = idx
                    added = True
            if not added:
                break
        problems, used = [], set()
        for key, msgs in sorted(self.findings.items()):
            if key in EXCEPTIONS:
                used.add(key)
            else:
                problems += msgs
        for key in sorted(set(EXCEPTIONS) - used):
            problems.append("%s: %s(): listed in EXCEPTIONS but builds no SQL any more: "
                            "remove it from tools/check_sql.py" % key)
        return problems


def main():
    root = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..")
    checker = Checker(root)
    problems = checker.run()
    wrappers = sorted(set(checker.sinks) - set(SINKS))
    print("check_sql: %d SQL call sites in %d files; wrappers followed to their callers: %s"
          % (checker.calls, len(checker.sources), ", ".join(wrappers) or "none"))
    for key, why in sorted(EXCEPTIONS.items()):
        print("check_sql: reviewed exception %s %s(): %s" % (key[0], key[1], why))
    for p in problems:
        print("check_sql: " + p)
    if problems:
        print("check_sql: SQL must be compile-time text with values bound as parameters; "
              "see docs/security.md")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
