"""The differential test driver: generated cases through the C evaluator (acp-eval) and
through the reference; every decision, including which rule permitted, must agree.

Also measures how often each feature decided the outcome (the reference's decision
changes when that feature is taken out of the case), so a generator that stopped
exercising a feature is noticed.

    python3 differential.py ACP_EVAL [SEED] [N]
"""

import copy
import json
import subprocess
import sys

from generate import cases
from reference import decide


def run_c(acp_eval, lines):
    out = subprocess.run([acp_eval], input="".join(lines), capture_output=True, text=True,
                         check=True, timeout=600).stdout.splitlines()
    if len(out) != len(lines):
        raise RuntimeError("acp-eval answered %d lines for %d cases" % (len(out), len(lines)))
    return out


def _rules(case):
    for acp in case["acps"]:
        if isinstance(acp, dict) and "m2m:acp" in acp:
            acp = acp["m2m:acp"]
        if not isinstance(acp, dict):
            continue
        for attr in ("pv", "pvs"):
            pv = acp.get(attr)
            if isinstance(pv, dict) and isinstance(pv.get("acr"), list):
                for acr in pv["acr"]:
                    if isinstance(acr, dict):
                        yield acr


def _contexts(case):
    for acr in _rules(case):
        if isinstance(acr.get("acco"), list):
            for ctx in acr["acco"]:
                if isinstance(ctx, dict):
                    yield ctx


def _drop_ctx_key(key, sub=None):
    def strip(case):
        for ctx in _contexts(case):
            if sub is None:
                ctx.pop(key, None)
            elif isinstance(ctx.get(key), dict) and sub in ctx[key]:
                del ctx[key]
    return strip


def _drop_rule_key(key):
    def strip(case):
        for acr in _rules(case):
            acr.pop(key, None)
    return strip


def _drop_rq_keys(*keys):
    def strip(case):
        for k in keys:
            case["rq"].pop(k, None)
    return strip


def _acor_without(pred):
    def strip(case):
        for acr in _rules(case):
            if isinstance(acr.get("acor"), list):
                acr["acor"] = [e for e in acr["acor"] if not (isinstance(e, str) and pred(e))]
    return strip


FEATURES = {
    "actw (time window)": _drop_ctx_key("actw"),
    "acip (CIDR)": _drop_ctx_key("acip"),
    "aclr accc (country)": _drop_ctx_key("aclr", "accc"),
    "aclr accr (circle)": _drop_ctx_key("aclr", "accr"),
    "acod (object details)": _drop_rule_key("acod"),
    "acaf (authentication flag)": _drop_rule_key("acaf"),
    "acor wildcard": _acor_without(lambda e: "*" in e),
    "acor SP domain": _acor_without(lambda e: e.startswith("//") and "/" not in e[2:]),
    "acor all": _acor_without(lambda e: e == "all"),
    "role IDs": _drop_rq_keys("rids"),
    "group membership": _drop_rq_keys("grps"),
    "originator normalisation": _drop_rq_keys("csi", "spi"),
    "peer address": _drop_rq_keys("ip"),
}


def coverage(sample):
    """feature -> number of cases whose decision depends on it."""
    counts = dict.fromkeys(FEATURES, 0)
    for case in sample:
        base = decide(case["rq"], case["acps"])
        for name, strip in FEATURES.items():
            c = copy.deepcopy(case)
            strip(c)
            if decide(c["rq"], c["acps"]) != base:
                counts[name] += 1
    return counts


def run(acp_eval, seed, n, coverage_n=20000):
    """Returns (mismatches [(case, c, ref)], stats dict)."""
    all_cases = list(cases(seed, n))
    lines = [json.dumps(c, separators=(",", ":")) + "\n" for c in all_cases]
    got = run_c(acp_eval, lines)
    mismatches, permits = [], 0
    for case, c_out in zip(all_cases, got):
        ref = decide(case["rq"], case["acps"])
        permits += ref.startswith("permit")
        if c_out != ref:
            mismatches.append((case, c_out, ref))
    stats = {"cases": n, "permits": permits, "denies": n - permits,
             "decisive": coverage(all_cases[:coverage_n])}
    return mismatches, stats


def main():
    acp_eval = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 20261128
    n = int(sys.argv[3]) if len(sys.argv) > 3 else 100000
    mismatches, stats = run(acp_eval, seed, n)
    print(json.dumps(stats, indent=1))
    for case, c_out, ref in mismatches[:20]:
        print("MISMATCH C=%r reference=%r case=%s" % (c_out, ref, json.dumps(case)))
    print("%d cases, %d mismatches" % (n, len(mismatches)))
    return 1 if mismatches else 0


if __name__ == "__main__":
    sys.exit(main())
