#!/usr/bin/env python3
"""tep's one C dialect, checked (docs/internals.md "One dialect"; ../shared/STYLE.md).

  check_style.py format --root . --clang-format clang-format
      every C source and header of the parts (.c, .h under the top-level folders, not
      build trees nor .deps) is as clang-format leaves it with the repository's
      .clang-format: one line per file that is not, with the first differing line.
  check_style.py names --root .
      a function's return code is called `rc`: a declaration of an int-like variable
      named ret, err, res, r, result, status or error is refused (one line per place).
  check_style.py selftest --clang-format clang-format
      each check run on small bad trees, which it must refuse, and on good ones, which it
      must pass: the checks can fail.

Declarations first is the compiler's job (-Wdeclaration-after-statement in meson.build,
with -Werror); `== NULL` (never `!p` or `if (p)` for a pointer) is check_null.py's.
Exit 0 when the dialect holds, 1 with one line per place that breaks it. Python's
standard library only.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

SKIP_DIRS = {".git", ".deps", "build", "run", "node_modules", "__pycache__"}
C_SUFFIXES = (".c", ".h")


def c_sources(root):
    """The C sources and headers of the tree, sorted, as paths relative to root."""
    out = []
    for top, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs
                         if d not in SKIP_DIRS and not d.startswith(".")
                         and not d.startswith("build"))
        for f in files:
            if f.endswith(C_SUFFIXES):
                out.append(os.path.relpath(os.path.join(top, f), root))
    return sorted(out)


def check_format(root, clang_format):
    """Lines naming each file clang-format would change (and where)."""
    problems = []
    files = c_sources(root)
    for i in range(0, len(files), 64):
        batch = files[i:i + 64]
        for f in batch:
            path = os.path.join(root, f)
            with open(path, "rb") as fh:
                original = fh.read()
            res = subprocess.run([clang_format, "--style=file", "--assume-filename=" + path],
                                 input=original, capture_output=True, cwd=root, check=False)
            if res.returncode != 0:
                problems.append("%s: clang-format failed: %s" %
                                (f, res.stderr.decode(errors="replace").strip()))
                continue
            if res.stdout != original:
                a = original.decode(errors="replace").split("\n")
                b = res.stdout.decode(errors="replace").split("\n")
                line = next((n for n, (x, y) in enumerate(zip(a, b), 1) if x != y),
                            min(len(a), len(b)))
                problems.append("%s:%d: not in the dialect (clang-format -i %s)" %
                                (f, line, f))
    return problems


RC_NAMES = ("ret", "err", "res", "r", "result", "status", "error")
RC_DECL = re.compile(r"^\s*(?:static\s+|const\s+)*(?:int|ssize_t|long)\s+(" +
                     "|".join(RC_NAMES) + r")\s*(?:[;=,])")


STRUCT_OPEN = re.compile(r"\b(struct|union|enum)\b[^(]*\{")
STRIP = re.compile(r'"(?:\\.|[^"\\])*"|\'(?:\\.|[^\'\\])*\'|/\*.*?\*/|//.*$')


def check_names(root):
    """Lines naming each declaration of a return code not called rc: a local variable of a
    function body (a struct's member named err is a field, not a return code)."""
    problems = []
    for f in c_sources(root):
        with open(os.path.join(root, f), encoding="utf-8", errors="replace") as fh:
            stack = []  # kinds of the open braces: "struct" or "code"
            for n, line in enumerate(fh, 1):
                m = RC_DECL.match(line)
                if m and stack and stack[-1] == "code":
                    problems.append("%s:%d: return code named '%s': call it rc" %
                                    (f, n, m.group(1)))
                code = STRIP.sub("", line)
                for i, ch in enumerate(code):
                    if ch == "{":
                        stack.append("struct" if STRUCT_OPEN.search(code[:i + 1]) else "code")
                    elif ch == "}" and stack:
                        stack.pop()
    return problems


def selftest(clang_format):
    failures = []
    good_c = ("struct s {\n    int err; /* a field, not a return code */\n};\n\n"
              "int f(void)\n{\n    int rc = 0;\n\n    return rc;\n}\n")
    bad_fmt = "int f(void) {\n  int rc=0;\n  return rc; }\n"
    bad_name = ("struct s {\n    int err;\n};\n\nint f(void)\n{\n    int err = 0;\n\n"
                "    return err;\n}\n")
    here = os.path.dirname(os.path.abspath(__file__))
    with open(os.path.join(here, "..", ".clang-format"), encoding="utf-8") as fh:
        dialect = fh.read()
    for name, text, fmt_bad, names_bad in (("good", good_c, False, False),
                                           ("badfmt", bad_fmt, True, False),
                                           ("badname", bad_name, False, True)):
        with tempfile.TemporaryDirectory() as d:
            with open(os.path.join(d, ".clang-format"), "w", encoding="utf-8") as fh:
                fh.write(dialect)
            os.makedirs(os.path.join(d, "part"))
            os.makedirs(os.path.join(d, "build", "x"))
            with open(os.path.join(d, "part", "a.c"), "w", encoding="utf-8") as fh:
                fh.write(text)
            # a build tree's sources are not the project's: never checked
            with open(os.path.join(d, "build", "x", "gen.c"), "w", encoding="utf-8") as fh:
                fh.write(bad_fmt + bad_name)
            got_fmt = bool(check_format(d, clang_format))
            got_names = bool(check_names(d))
            if got_fmt != fmt_bad:
                failures.append("format check on %s tree: %s" %
                                (name, "refused" if got_fmt else "passed"))
            if got_names != names_bad:
                failures.append("names check on %s tree: %s" %
                                (name, "refused" if got_names else "passed"))
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=["format", "names", "selftest"])
    ap.add_argument("--root", default=".")
    ap.add_argument("--clang-format", default="clang-format")
    args = ap.parse_args()
    if args.mode == "format":
        problems = check_format(args.root, args.clang_format)
    elif args.mode == "names":
        problems = check_names(args.root)
    else:
        problems = selftest(args.clang_format)
    for p in problems:
        print(p)
    if problems:
        print("check_style %s: %d place(s) outside the dialect" % (args.mode, len(problems)))
        return 1
    print("check_style %s: the dialect holds" % args.mode)
    return 0


if __name__ == "__main__":
    sys.exit(main())
