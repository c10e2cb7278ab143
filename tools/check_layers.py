#!/usr/bin/env python3
"""tep's dependency rules, checked (docs/internals.md "Layers and dependency rules").

  check_layers.py cse --docs docs/internals.md --nm nm --lib build/cse-node/libcse.a
      tep-cse's call graph, read from the object files of libcse.a with nm (a module is
      one cse_*.c; an edge is a function or object one module uses and another defines),
      against the module map in docs/internals.md (module, layer, what it owns): every
      module of the library is in the map and every module of the map exists; no module
      calls one in a higher layer; the modules call each other in no cycle.
  check_layers.py parts --root .
      the #include graph of the sources against the rules between the parts: the daemons
      never include each other, the SDK never includes a daemon, SDK internals do not leak
      through ae-sdk/include nor reach code outside ae-sdk, common/ knows no daemon (nor
      the SDK, nor tools), proto/ imports nothing but proto/.
  check_layers.py selftest
      each check run on small bad graphs and trees, which it must refuse (and on good
      ones, which it must pass): the checks can fail.

Exit 0 when the rules hold, 1 with one line per broken rule. Python's standard library
only: it runs in the meson test set of ./tep test.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

# ---- tep-cse: the module map and the call graph ----------------------------------------

# The layers of tep-cse, lowest first (docs/internals.md names them in its module map).
CSE_LAYERS = ["leaf", "service", "dynauth", "context", "operation", "dispatch", "binding",
              "main"]
MAP_HEADING = "### tep-cse module map"


def read_module_map(text):
    """{module: layer} from the markdown table under MAP_HEADING: rows `| \\`cse_x\\` | layer
    | what it owns |`. Raises ValueError when the table is missing or names an unknown
    layer."""
    lines = text.splitlines()
    try:
        start = next(i for i, l in enumerate(lines) if l.strip() == MAP_HEADING)
    except StopIteration:
        raise ValueError("no '%s' section" % MAP_HEADING)
    mods = {}
    for line in lines[start + 1:]:
        if line.startswith("#"):
            break
        m = re.match(r"\|\s*`(cse_\w+)`\s*\|\s*(\w+)\s*\|", line)
        if m is None:
            continue
        mod, layer = m.group(1), m.group(2)
        if layer not in CSE_LAYERS:
            raise ValueError("%s: unknown layer %r (known: %s)" % (mod, layer,
                                                                  ", ".join(CSE_LAYERS)))
        mods[mod] = layer
    if not mods:
        raise ValueError("the '%s' table has no rows" % MAP_HEADING)
    return mods


def read_nm(output):
    """(defs, uses) from `nm` over an archive: {symbol: module} and {module: {symbols}}."""
    defs, uses, mod = {}, {}, None
    for line in output.splitlines():
        m = re.match(r"^(?:\S*/)?([^/\s]+)\.c\.o:$", line.strip())  # thin archives: paths
        if m:
            mod = m.group(1)
            uses.setdefault(mod, set())
            continue
        parts = line.split()
        if mod is None or not parts:
            continue
        if len(parts) == 2 and parts[0] == "U":
            uses[mod].add(parts[1])
        elif len(parts) == 3 and parts[1] in "TDBRCG":
            defs[parts[2]] = mod
    return defs, uses


def call_edges(defs, uses):
    """{(caller, callee): [symbols]} between different modules."""
    edges = {}
    for mod, syms in uses.items():
        for s in sorted(syms):
            callee = defs.get(s)
            if callee is not None and callee != mod:
                edges.setdefault((mod, callee), []).append(s)
    return edges


def cycles(nodes, edges):
    """The strongly connected components with more than one node (Tarjan), sorted."""
    succ = {n: set() for n in nodes}
    for a, b in edges:
        succ.setdefault(a, set()).add(b)
        succ.setdefault(b, set())
    index, low, stack, on, out = {}, {}, [], set(), []

    def visit(v):
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in sorted(succ[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(succ):
        if v not in index:
            visit(v)
    return sorted(out)


def check_cse(mods, defs, uses, outside=("cse_main",), warnings=None):
    """Problems (strings) of tep-cse's call graph against the module map. outside: map
    modules that are not in the library (main is linked into the binary only). A row of
    the map whose module is gone is a warning (appended to warnings, when given): it
    breaks no layer, and a module renamed or merged on one branch must not fail another's
    tests; it is printed at every run until the row goes."""
    problems = []
    have = set(uses)
    for m in sorted(have - set(mods)):
        problems.append("%s: a module of libcse.a missing from the module map: add its row "
                        "'| `%s` | <layer> | <what it owns> |' under '%s' in "
                        "docs/internals.md" % (m, m, MAP_HEADING))
    for m in sorted(set(mods) - have - set(outside)):
        if warnings is not None:
            warnings.append("%s: in the module map but not in libcse.a: remove its row" % m)
    edges = call_edges(defs, uses)
    rank = {l: i for i, l in enumerate(CSE_LAYERS)}
    for (a, b), syms in sorted(edges.items()):
        if a in mods and b in mods and rank[mods[b]] > rank[mods[a]]:
            problems.append("%s (%s) calls up into %s (%s): %s" % (
                a, mods[a], b, mods[b], ", ".join(syms[:4])))
    for comp in cycles(have, edges):
        problems.append("cycle: %s call each other (%s)" % (
            ", ".join(comp), "; ".join("%s->%s %s" % (a, b, edges[(a, b)][0])
                                       for (a, b) in sorted(edges)
                                       if a in comp and b in comp)))
    return problems


def run_cse(args):
    with open(args.docs, encoding="utf-8") as f:
        mods = read_module_map(f.read())
    out = subprocess.run([args.nm, args.lib], capture_output=True, text=True,
                         check=True).stdout
    defs, uses = read_nm(out)
    warnings = []
    problems = check_cse(mods, defs, uses, warnings=warnings)
    for w in warnings:
        print("warning: " + w)
    edges = call_edges(defs, uses)
    print("tep-cse: %d modules in %d layers, %d calls between modules" % (
        len(uses), len(set(mods.values())), len(edges)))
    return problems


# ---- the parts: the include graph ------------------------------------------------------

DAEMONS = ("enroller", "authz", "cse")
SKIP_DIRS = {".git", ".deps", "build", "build-asan", "node_modules", "__pycache__",
             "corpus", "integration", "docker", "docs", "spec", "patches"}


def part_of(rel):
    """The part a source path (relative to the root, '/'-separated) belongs to."""
    top = rel.split("/", 1)[0]
    if rel.startswith("ae-sdk/include/"):
        return "sdk-public"
    if rel.startswith("ae-sdk/examples/"):
        return "sdk-example"
    return {"proto": "proto", "common": "common", "ae-sdk": "sdk", "enroller": "enroller",
            "authz": "authz", "cse-node": "cse", "tools": "tools", "fuzz": "fuzz"}.get(top)


def sources(root):
    for d, subdirs, files in os.walk(root):
        subdirs[:] = sorted(s for s in subdirs if s not in SKIP_DIRS and
                            not s.startswith("build"))
        for f in sorted(files):
            if f.endswith((".c", ".h", ".proto")):
                rel = os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/")
                if part_of(rel) is not None:
                    yield rel


INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)
IMPORT = re.compile(r'^\s*import\s+(?:public\s+|weak\s+)?"([^"]+)"\s*;', re.M)


def include_graph(root):
    """[(file, part, included name, part of the included header or None)]: None for a
    header that is not tep's (system and library headers)."""
    files = list(sources(root))
    where = {}
    for rel in files:
        if rel.endswith(".h"):
            where.setdefault(os.path.basename(rel), set()).add(part_of(rel))
            if rel.startswith("ae-sdk/include/"):
                where.setdefault(rel[len("ae-sdk/include/"):], set()).add("sdk-public")
    where.setdefault("tep.pb-c.h", set()).add("proto")  # made by protoc-c at build time
    out = []
    for rel in files:
        part = part_of(rel)
        with open(os.path.join(root, rel), encoding="utf-8", errors="replace") as f:
            text = f.read()
        if rel.endswith(".proto"):
            for name in IMPORT.findall(text):
                out.append((rel, part, name, "proto" if os.path.exists(
                    os.path.join(root, "proto", name)) else "outside"))
            continue
        for kind, name in INCLUDE.findall(text):
            parts = where.get(name) or where.get(os.path.basename(name)) \
                if kind == '"' else where.get(name)
            if not parts:
                continue  # not tep's
            target = part if part in parts else sorted(parts)[0]
            out.append((rel, part, name, target))
    return out


def part_rules(part, target, name):
    """Why part may not include name (of part target), or None when it may."""
    if part in DAEMONS and target in DAEMONS and target != part:
        return "a daemon includes another daemon's header"
    if part in ("sdk", "sdk-public", "sdk-example") and target in DAEMONS:
        return "the SDK includes a daemon's header"
    if part == "sdk-public" and target != "sdk-public":
        return "the SDK's public header includes a header that is not public (%s)" % target
    if target == "sdk" and part != "sdk":
        return "an SDK-internal header is used outside ae-sdk (only ae-sdk/include is public)"
    if part == "common" and target not in ("common", "proto"):
        return "common/ includes a header of %s" % target
    if part == "proto" and target != "proto":
        return "proto/ depends on something outside proto/"
    return None


# Exceptions, each by file and header, with its reason (docs/internals.md). None now:
# cse_registree.c, the last one, reads the MN-CSE's PSK through tep_device_psk() and
# tep_kc_psk() (tep/tepae.h) instead of libtepae's internal tae_device.h.
ALLOWED = {}


def check_parts(graph, allowed=None):
    problems = []
    allowed = ALLOWED if allowed is None else allowed
    for rel, part, name, target in graph:
        why = part_rules(part, target, name)
        if why is not None and (rel, name) in allowed:
            print("allowed: %s: includes %s: %s" % (rel, name, allowed[(rel, name)]))
        elif why is not None:
            problems.append("%s: includes %s: %s" % (rel, name, why))
    return problems


def run_parts(args):
    graph = include_graph(args.root)
    print("parts: %d includes of tep's own headers in %d files" % (
        len(graph), len({g[0] for g in graph})))
    return check_parts(graph)


# ---- selftest: the checks refuse what they should ----------------------------------------

GOOD_MAP = """# x
### tep-cse module map
| module | layer | owns |
|---|---|---|
| `cse_log` | leaf | log values |
| `cse_pep` | service | decisions |
| `cse_request` | dispatch | dispatch |
| `cse_main` | main | start-up |
## next
"""


def nm_of(calls, defined):
    """A fake `nm` output: defined {module: [symbols]}, calls {module: [symbols]}."""
    out = []
    for mod in sorted(set(defined) | set(calls)):
        out.append("%s.c.o:" % mod)
        out += ["0000000000000000 T %s" % s for s in defined.get(mod, [])]
        out += ["                 U %s" % s for s in calls.get(mod, [])]
        out.append("")
    return "\n".join(out)


def selftest():
    failures = []

    def expect(what, problems, wanted):
        found = [p for p in problems if wanted in p]
        if wanted is None and problems:
            failures.append("%s: expected no problem, got %s" % (what, problems))
        elif wanted is not None and not found:
            failures.append("%s: expected a problem with %r, got %s" % (what, wanted, problems))

    mods = read_module_map(GOOD_MAP)
    assert mods == {"cse_log": "leaf", "cse_pep": "service", "cse_request": "dispatch",
                    "cse_main": "main"}, mods
    defined = {"cse_log": ["cse_log_value"], "cse_pep": ["cse_pep_decide"],
               "cse_request": ["cse_request_handle"]}
    good = {"cse_request": ["cse_pep_decide", "cse_log_value"], "cse_pep": ["cse_log_value"]}
    d, u = read_nm(nm_of(good, defined))
    expect("a downward graph", check_cse(mods, d, u), None)
    up = dict(good, cse_pep=["cse_log_value", "cse_request_handle"])
    d, u = read_nm(nm_of(up, defined))
    expect("an upward call", check_cse(mods, d, u), "cse_pep (service) calls up into "
           "cse_request (dispatch): cse_request_handle")
    expect("an upward call is a cycle too", check_cse(mods, d, u), "cycle: cse_pep, "
           "cse_request")
    same = {"cse_log": ["cse_log_value"], "cse_log2": ["cse_log2_x"]}
    mods2 = dict(mods, cse_log2="leaf")
    loop = {"cse_log": ["cse_log2_x"], "cse_log2": ["cse_log_value"]}
    d, u = read_nm(nm_of(loop, dict(defined, **same)))
    expect("a cycle inside one layer", check_cse(mods2, d, u), "cycle: cse_log, cse_log2")
    d, u = read_nm(nm_of(dict(good, cse_extra=["cse_log_value"]),
                         dict(defined, cse_extra=["cse_extra_f"])))
    expect("a module not in the map", check_cse(mods, d, u), "cse_extra: a module of "
           "libcse.a missing")
    d, u = read_nm(nm_of({"cse_request": ["cse_log_value"]},
                         {"cse_log": ["cse_log_value"], "cse_request": ["x"]}))
    warned = []
    expect("a map row without a module", check_cse(mods, d, u, warnings=warned), None)
    expect("... is a warning", warned, "cse_pep: in the module map but not in libcse.a")
    try:
        read_module_map(GOOD_MAP.replace("| service |", "| services |"))
        failures.append("an unknown layer name was accepted")
    except ValueError:
        pass

    # the parts: a small tree breaking each rule once, then the same tree made good
    bad = {
        "common/cmn_a.h": '#include "cse_x.h"\n',
        "cse-node/cse_x.h": '#include "enr_y.h"\n#include "cmn_a.h"\n#include "tep.pb-c.h"\n',
        "enroller/enr_y.h": '#include "cmn_a.h"\n',
        "authz/authz_z.c": '#include "cse_x.h"\n',
        "ae-sdk/tae_core.h": '#include "cmn_a.h"\n',
        "ae-sdk/tep_a.c": '#include "authz_z.h"\n#include "tae_core.h"\n',
        "authz/authz_z.h": "\n",
        "ae-sdk/include/tep/tepae.h": '#include <stdint.h>\n#include "tae_core.h"\n',
        "ae-sdk/examples/dev.c": '#include "tep/tepae.h"\n',
        "tools/bench/b.c": '#include "tae_core.h"\n#include <tep/tepae.h>\n',
        "proto/tep.proto": 'syntax = "proto3";\nimport "other/x.proto";\n',
    }
    wanted = [
        ("common/cmn_a.h", "common/ includes a header of cse"),
        ("cse-node/cse_x.h", "a daemon includes another daemon's header"),
        ("authz/authz_z.c", "a daemon includes another daemon's header"),
        ("ae-sdk/tep_a.c", "the SDK includes a daemon's header"),
        ("ae-sdk/include/tep/tepae.h", "public header includes a header that is not public"),
        ("tools/bench/b.c", "an SDK-internal header is used outside ae-sdk"),
        ("proto/tep.proto", "proto/ depends on something outside proto/"),
    ]
    good_tree = {
        "common/cmn_a.h": '#include "tep.pb-c.h"\n',
        "cse-node/cse_x.h": '#include "cmn_a.h"\n#include "tep.pb-c.h"\n',
        "enroller/enr_y.h": '#include "cmn_a.h"\n',
        "authz/authz_z.c": '#include "authz_z.h"\n',
        "authz/authz_z.h": "\n",
        "ae-sdk/tae_core.h": '#include "cmn_a.h"\n',
        "ae-sdk/tep_a.c": '#include "tae_core.h"\n#include "tep/tepae.h"\n',
        "ae-sdk/include/tep/tepae.h": "#include <stdint.h>\n",
        "ae-sdk/examples/dev.c": '#include "tep/tepae.h"\n',
        "tools/bench/b.c": "#include <tep/tepae.h>\n",
        "proto/tep.proto": 'syntax = "proto3";\n',
    }
    for label, tree, want in (("bad tree", bad, wanted), ("good tree", good_tree, [])):
        with tempfile.TemporaryDirectory() as root:
            for rel, text in tree.items():
                os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
                with open(os.path.join(root, rel), "w") as f:
                    f.write(text)
            problems = check_parts(include_graph(root), allowed={})
            if label == "bad tree":  # an exception by name lets that one include pass
                rest = check_parts(include_graph(root),
                                   allowed={("tools/bench/b.c", "tae_core.h"): "test"})
                if len(rest) != len(problems) - 1 or any(
                        p.startswith("tools/bench/b.c:") for p in rest):
                    failures.append("an allowed include was refused: %s" % rest)
        for rel, why in want:
            if not any(p.startswith(rel + ":") and why in p for p in problems):
                failures.append("%s: %s not refused for %s (got %s)" % (label, why, rel,
                                                                         problems))
        if not want and problems:
            failures.append("good tree refused: %s" % problems)
        if want and len(problems) != len(want):
            failures.append("bad tree: %d problems, %d expected: %s" % (
                len(problems), len(want), problems))
    for f in failures:
        print("selftest: " + f)
    print("selftest: %s" % ("failed" if failures else "every bad graph and tree refused, "
                                                        "the good ones passed"))
    return failures


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("cse")
    c.add_argument("--docs", required=True)
    c.add_argument("--nm", default="nm")
    c.add_argument("--lib", required=True)
    p = sub.add_parser("parts")
    p.add_argument("--root", required=True)
    sub.add_parser("selftest")
    args = ap.parse_args()
    if args.cmd == "selftest":
        return 1 if selftest() else 0
    try:
        problems = run_cse(args) if args.cmd == "cse" else run_parts(args)
    except (OSError, ValueError, subprocess.CalledProcessError) as e:
        print("%s: cannot check: %s" % (args.cmd, e))
        return 1
    for pr in problems:
        print(pr)
    print("%s: %s" % (args.cmd, "%d rule(s) broken" % len(problems) if problems else
                      "the rules hold"))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
