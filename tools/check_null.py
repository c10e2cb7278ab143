#!/usr/bin/python3
"""tep's dialect compares pointers with NULL (docs/internals.md "One dialect").

  check_null.py check --build build [--root .]
      parses every C file of the compile database (build/compile_commands.json) with
      libclang and names each place where a pointer is used as a truth value: `!p`,
      `if (p)`, `while (p)`, `for (...; p; ...)`, `p && x`, `p || x`, `p ? a : b`.
      Write `p == NULL` and `p != NULL` instead.
  check_null.py fix --build build [--root .]
      rewrites those places in the sources (`!p` -> `p == NULL`, `p` -> `p != NULL`).
  check_null.py selftest
      the check run on a small bad file, which it must refuse, and on a good one, which it
      must pass.

Needs Debian's python3-clang-14 (./tep deps installs it). Exit 0 when every pointer is
compared with NULL, 1 with one line per place.
"""
import argparse
import json
import os
import shlex
import sys
import tempfile

import clang.cindex as ci

LIBCLANG = "/usr/lib/llvm-14/lib/libclang.so.1"
K = ci.CursorKind
CONDITION_PARENTS = (K.IF_STMT, K.WHILE_STMT, K.DO_STMT, K.CONDITIONAL_OPERATOR)


def is_pointer(cur):
    """A pointer, or an array parameter (`const uint8_t key[16]` is a pointer in C, though
    libclang reports the type as written)."""
    t = cur.type.get_canonical()
    return t.kind in (ci.TypeKind.POINTER, ci.TypeKind.BLOCKPOINTER, ci.TypeKind.CONSTANTARRAY,
                      ci.TypeKind.INCOMPLETEARRAY, ci.TypeKind.VARIABLEARRAY)


def tokens_of(tu, cur):
    return list(ci.TokenGroup.get_tokens(tu, cur.extent))


def binary_op(tu, cur, left):
    """The spelling of a binary operator: the first token after its left operand."""
    end = left.extent.end.offset
    for tok in tokens_of(tu, cur):
        if tok.extent.start.offset >= end:
            return tok.spelling
    return None


def for_condition(tu, cur):
    """The condition expression of a for statement, or None: the child between the two
    semicolons of its header."""
    semis = [t.extent.start.offset for t in tokens_of(tu, cur) if t.spelling == ";"][:2]
    if len(semis) < 2:
        return None
    for ch in cur.get_children():
        if ch.extent.start.offset > semis[0] and ch.extent.end.offset <= semis[1]:
            return ch
    return None


class Finder:
    def __init__(self, root):
        self.root = os.path.realpath(root)
        # .deps may be a symlink into the checkout (a worktree's own copy, .deps.mine)
        self.deps = os.path.realpath(os.path.join(root, ".deps")) + os.sep
        self.places = {}  # (file, start offset) -> (line, col, end offset, kind)
        self.macros = {}  # file -> [(start, end)] of macro uses: their expansion is not ours

    def mine(self, cur):
        f = cur.location.file
        if f is None:
            return False
        p = os.path.realpath(f.name)
        rest = p[len(self.root):]
        # .deps: third-party headers (a checkout may hold its own .deps, not a symlink)
        return p.startswith(self.root + os.sep) and "/build" not in rest and \
            not rest.startswith("/.deps/") and not p.startswith(self.deps)

    def add(self, cur, kind):
        f = os.path.realpath(cur.extent.start.file.name)
        off = cur.extent.start.offset
        if any(a <= off < b for a, b in self.macros.get(f, ())):
            return
        key = (f, off)
        self.places[key] = (cur.extent.start.line, cur.extent.start.column,
                            cur.extent.end.offset, kind)

    def truth(self, cur):
        """cur is used as a truth value."""
        if cur is not None and is_pointer(cur):
            self.add(cur, "truth")

    def visit(self, tu, cur):
        kind = cur.kind
        if kind == K.UNARY_OPERATOR:
            toks = tokens_of(tu, cur)
            ch = list(cur.get_children())
            if toks and toks[0].spelling == "!" and ch and is_pointer(ch[0]):
                self.add(cur, "not")
        elif kind in (K.IF_STMT, K.WHILE_STMT):
            ch = list(cur.get_children())
            if ch:
                self.truth(ch[0])
        elif kind == K.DO_STMT:
            ch = list(cur.get_children())
            if len(ch) > 1:
                self.truth(ch[1])
        elif kind == K.CONDITIONAL_OPERATOR:
            ch = list(cur.get_children())
            if ch:
                self.truth(ch[0])
        elif kind == K.FOR_STMT:
            self.truth(for_condition(tu, cur))
        elif kind == K.BINARY_OPERATOR:
            ch = list(cur.get_children())
            if len(ch) == 2 and binary_op(tu, cur, ch[0]) in ("&&", "||"):
                self.truth(ch[0])
                self.truth(ch[1])
        for ch in cur.get_children():
            self.visit(tu, ch)

    def scan(self, tu):
        tops = [c for c in tu.cursor.get_children() if self.mine(c)]
        self.macros = {}
        for c in tops:
            if c.kind == K.MACRO_INSTANTIATION:
                f = os.path.realpath(c.location.file.name)
                self.macros.setdefault(f, []).append((c.extent.start.offset,
                                                      c.extent.end.offset))
        for c in tops:
            if c.kind not in (K.MACRO_INSTANTIATION, K.MACRO_DEFINITION,
                              K.INCLUSION_DIRECTIVE):
                self.visit(tu, c)


def compile_db(build):
    with open(os.path.join(build, "compile_commands.json"), encoding="utf-8") as fh:
        entries = json.load(fh)
    out = {}
    for e in entries:
        path = os.path.realpath(os.path.join(e["directory"], e["file"]))
        if not path.endswith(".c"):
            continue
        args = shlex.split(e["command"]) if "command" in e else list(e["arguments"])
        keep = []
        skip = False
        for a in args[1:]:
            if skip:
                skip = False
                continue
            if a in ("-o", "-MF", "-MQ", "-MT", "-c"):
                skip = a != "-c"
                continue
            if a == e["file"] or a.startswith("-W") or a.startswith("-f") or a == "-MD":
                continue
            keep.append(a)
        out[path] = (e["directory"], keep)
    return out


def scan_files(build, root):
    if not ci.Config.loaded:
        ci.Config.set_library_file(LIBCLANG)
    index = ci.Index.create()
    finder = Finder(root)
    root = os.path.realpath(root)
    errors = []
    for path, (directory, args) in sorted(compile_db(build).items()):
        if not path.startswith(root + os.sep) or "/build" in path[len(root):] or \
                path[len(root):].startswith("/.deps/"):
            continue
        cwd = os.getcwd()
        os.chdir(directory)
        try:
            tu = index.parse(path, args=args,
                             options=ci.TranslationUnit.PARSE_DETAILED_PROCESSING_RECORD)
        finally:
            os.chdir(cwd)
        bad = [d for d in tu.diagnostics if d.severity >= ci.Diagnostic.Error]
        if bad:
            errors.append("%s: libclang could not parse it: %s" % (path, bad[0].spelling))
            continue
        finder.scan(tu)
    return finder, errors


def report(finder, root):
    lines = []
    for (f, _off), (line, col, _end, kind) in sorted(finder.places.items()):
        what = "!p: write p == NULL" if kind == "not" else "pointer as a truth value: p != NULL"
        lines.append("%s:%d:%d: %s" % (os.path.relpath(f, root), line, col, what))
    return lines


def fix(finder):
    by_file = {}
    for (f, off), (_l, _c, end, kind) in finder.places.items():
        by_file.setdefault(f, []).append((off, end, kind))
    done = 0
    for f, edits in by_file.items():
        with open(f, "rb") as fh:
            src = fh.read()
        # a place inside another (`!(p = f(q ? q : r))`) waits for the next run: offsets of
        # the outer one would move
        outer = [e for e in edits
                 if not any(o[0] <= e[0] and e[1] <= o[1] and o != e for o in edits)]
        done += len(outer)
        for off, end, kind in sorted(outer, reverse=True):
            text = src[off:end]
            if kind == "not":
                inner = text[1:].lstrip()
                new = inner + b" == NULL"
            else:
                new = text + b" != NULL"
            src = src[:off] + new + src[end:]
        with open(f, "wb") as fh:
            fh.write(src)
    return done


def selftest():
    bad = ("#include <stddef.h>\nstruct n { struct n *next; };\n"
           "int f(struct n *p, int i)\n{\n    int k = 0;\n\n"
           "    if (!p)\n        return 1;\n    while (p && i)\n        p = p->next;\n"
           "    for (; p; p = p->next)\n        k++;\n    return p ? k : !i;\n}\n")
    good = ("#include <stddef.h>\nstruct n { struct n *next; };\n"
            "int f(struct n *p, int i)\n{\n    int k = 0;\n\n"
            "    if (p == NULL)\n        return 1;\n    while (p != NULL && i)\n"
            "        p = p->next;\n    for (; p != NULL; p = p->next)\n        k++;\n"
            "    return p != NULL ? k : !i;\n}\n")
    failures = []
    for name, text, want in (("bad", bad, 4), ("good", good, 0)):
        with tempfile.TemporaryDirectory() as d:
            src = os.path.join(d, "part", "a.c")
            os.makedirs(os.path.dirname(src))
            os.makedirs(os.path.join(d, "b"))
            with open(src, "w", encoding="utf-8") as fh:
                fh.write(text)
            with open(os.path.join(d, "b", "compile_commands.json"), "w") as fh:
                json.dump([{"directory": os.path.join(d, "b"), "file": "../part/a.c",
                            "command": "cc -std=gnu11 -c ../part/a.c -o a.o"}], fh)
            finder, errors = scan_files(os.path.join(d, "b"), d)
            got = len(finder.places)
            if errors or got != want:
                failures.append("%s file: %d place(s) found, %d expected %s" %
                                (name, got, want, errors))
            if name == "bad" and not errors:
                fix(finder)
                again, _ = scan_files(os.path.join(d, "b"), d)
                with open(src, encoding="utf-8") as fh:
                    fixed = fh.read()
                if again.places or fixed != good:
                    failures.append("fix left %d place(s):\n%s" % (len(again.places), fixed))
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["check", "fix", "selftest"])
    ap.add_argument("--build", default="build")
    ap.add_argument("--root", default=".")
    args = ap.parse_args()
    if args.mode == "selftest":
        problems = selftest()
    else:
        finder, problems = scan_files(args.build, args.root)
        if args.mode == "fix":
            n = fix(finder)
            left = len(finder.places) - n
            print("check_null fix: %d place(s) rewritten%s" %
                  (n, ", %d inside them: run fix again" % left if left else ""))
            return 0
        problems += report(finder, os.path.realpath(args.root))
    for p in problems:
        print(p)
    if problems:
        print("check_null %s: %d place(s) outside the dialect" % (args.mode, len(problems)))
        return 1
    print("check_null %s: every pointer is compared with NULL" % args.mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
