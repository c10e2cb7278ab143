#!/usr/bin/env python3
"""The SDK's boundary, checked (issue 13 item 5; ae-sdk/meson.build's naming rule).

  check_exports.py --nm NM --so libtepae.so --ar libtepae.a --header tepae.h [...]
      libtepae.so exports exactly the functions its public headers declare with
      TEP_API; every global symbol that the SDK's own object files (tep_*.c, tae_*.c)
      define is public (tep_*, declared in a header) or internal (tae_*): nothing
      internal carries the public prefix, nothing goes without one.
  check_exports.py selftest
      the checks refuse small bad inputs and pass good ones: they can fail.

Exit 0 when the boundary holds, 1 with one line per problem.
"""
import argparse
import re
import subprocess
import sys

DECL = re.compile(r"TEP_API\s[^;{]*?\b(tep_\w+)\s*\(")


def declared(header_texts):
    names = set()
    for text in header_texts:
        names.update(DECL.findall(text))
    return names


def problems(exported, sdk_globals, public):
    """exported: names libtepae.so exports; sdk_globals: (object, name) of the global
    symbols the SDK's own objects define; public: the TEP_API names."""
    out = []
    for name in sorted(exported - public):
        out.append("libtepae.so exports %s, which no public header declares" % name)
    for name in sorted(public - exported):
        out.append("%s is declared TEP_API but libtepae.so does not export it" % name)
    for obj, name in sorted(sdk_globals):
        if name.startswith("tep_") and name not in public:
            out.append("%s: %s has the public prefix but is not public: name it tae_*"
                       % (obj, name))
        elif not name.startswith("tep_") and not name.startswith("tae_"):
            out.append("%s: %s is global without the SDK's prefix: static, or tae_*"
                       % (obj, name))
    return out


def nm_lines(nm, args):
    return subprocess.run([nm] + args, check=True, capture_output=True,
                          text=True).stdout.splitlines()


def sdk_object(obj):
    return re.match(r"(tep|tae)_\w+\.c\.o$", obj) is not None


def run(args):
    exported = set()
    for line in nm_lines(args.nm, ["-D", "--defined-only", args.so]):
        parts = line.split()
        if len(parts) == 3 and parts[1] in "TDBRW":
            exported.add(parts[2].split("@")[0])
    exported.discard("TEPAE_0.1")
    sdk_globals = set()
    for line in nm_lines(args.nm, ["-A", "-g", "--defined-only", args.ar]):
        where, _, rest = line.rpartition(":")
        obj = where.rsplit(":", 1)[-1]
        parts = rest.split()
        if len(parts) == 3 and sdk_object(obj):
            sdk_globals.add((obj, parts[2]))
    public = declared(open(h).read() for h in args.header)
    found = problems(exported, sdk_globals, public)
    for p in found:
        print(p)
    print("libtepae: %d public functions, %d exported, %d global symbols in its objects; %s"
          % (len(public), len(exported), len(sdk_globals),
             "%d problem(s)" % len(found) if found else "the boundary holds"))
    return 1 if found else 0


def selftest():
    public = declared(["TEP_API int tep_a(void);\nTEP_API const char *tep_b(int x);\n"
                       "int tep_not_api(void);\n"])
    assert public == {"tep_a", "tep_b"}, public
    good = problems({"tep_a", "tep_b"}, {("tep_x.c.o", "tep_a"), ("tae_y.c.o", "tae_z")},
                    public)
    assert good == [], good
    cases = [
        ({"tep_a", "tep_b", "tep_c"}, set()),                 # exported, undeclared
        ({"tep_a"}, set()),                                   # declared, not exported
        ({"tep_a", "tep_b"}, {("tae_y.c.o", "tep_helper")}),  # internal, public prefix
        ({"tep_a", "tep_b"}, {("tae_y.c.o", "maf_open")}),    # internal, no prefix
    ]
    for exported, sdk_globals in cases:
        assert len(problems(exported, sdk_globals, public)) == 1, (exported, sdk_globals)
    print("check_exports selftest: ok")
    return 0


def main():
    if sys.argv[1:] == ["selftest"]:
        return selftest()
    ap = argparse.ArgumentParser()
    ap.add_argument("--nm", required=True)
    ap.add_argument("--so", required=True)
    ap.add_argument("--ar", required=True)
    ap.add_argument("--header", action="append", required=True)
    return run(ap.parse_args())


if __name__ == "__main__":
    sys.exit(main())
