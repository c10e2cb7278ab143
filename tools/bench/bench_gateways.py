#!/usr/bin/env python3
"""Requests per second through 1, 2 and 3 gateways (MN-CSEs; issue 17 item 3): the
platform of integration/harness.py with three tep-cse MN-CSEs registered to the IN-CSE
over DTLS-PSK (harness.gateway_platform), one device enrolled for each gateway
(`--target /mnN`), registered there, with a container holding one contentInstance.
Load on the first k gateways: CLIENTS tep-device processes per gateway, each
`tep-device poll <its container>/la 0 M` (one DTLS-PSK session, M RETRIEVEs one after
the other; every answer checked 2000), all at once; the rate is all requests over the
wall time from the first start to the last exit. The MN-CSEs decide access in process
([authz] mode = local, the harness's default for added CSEs): what a gateway serves on
its own. All three run throughout; k = 1, 2, 3 in interleaved rounds, the median kept.
Also each loaded gateway's CPU per request (/proc/PID/task/*/schedstat).

  python3 tools/bench/bench_gateways.py [--requests M] [--rounds R]

Prints KEY=value lines. On a 2-core machine the gateways and the clients (whose own
CPU per request is of the same order as a gateway's) share the two cores: the ratios
say what 2 cores give, not how gateways scale on hosts of their own."""

import argparse
import os
import statistics
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "integration"))
os.environ.setdefault("TEP_BUILD_DIR", os.path.join(ROOT, "build"))

import harness  # noqa: E402

NAMES = ("mn1", "mn2", "mn3")
CLIENTS = 2


def cpu_s(pid):
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass
    return total / 1e9


def run_load(devs, mns, k, m):
    """k gateways loaded: (requests/s, gateway CPU us per request)."""
    pids = [mns[n].proc.pid for n in NAMES[:k]]
    c0 = sum(cpu_s(pid) for pid in pids)
    procs = []
    t0 = time.monotonic()
    for n in NAMES[:k]:
        dev, path = devs[n]
        argv = [harness.binary("tep-device"), "--provisioning", dev.prov, "--state",
                dev.state, "poll", path, "0", str(m)]
        procs += [subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   text=True) for _ in range(CLIENTS)]
    outs = [p.communicate(timeout=600) for p in procs]
    el = time.monotonic() - t0
    c1 = sum(cpu_s(pid) for pid in pids)
    for p, (out, err) in zip(procs, outs):
        ok = out.count("RSC=2000")
        assert p.returncode == 0 and ok == m, "exit %s, %d of %d answered 2000: %s" % (
            p.returncode, ok, m, err[-500:])
    n = k * CLIENTS * m
    return n / el, (c1 - c0) * 1e6 / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--requests", type=int, default=4000, help="per client")
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    p, mns = harness.gateway_platform(NAMES)
    rates = {k: [] for k in (1, 2, 3)}
    cpus = {k: [] for k in (1, 2, 3)}
    try:
        devs = {}
        for n in NAMES:
            dev = p.add_enrolee("dev" + n, "--target", "/" + n)
            for step in (("enrol",), ("register",), ("create-cnt", "data"),
                         ("create-cin", "data", "21.5C")):
                r = dev.run(*step)
                assert r.rc == 0, "%s\n%s" % (r, mns[n].tail())
            devs[n] = (dev, "%s/%s/data/la" % (n, dev.state_values()["enrolee_id"]))
        for _ in range(a.rounds):
            for k in (1, 2, 3):
                rate, cpu = run_load(devs, mns, k, a.requests)
                rates[k].append(rate)
                cpus[k].append(cpu)
        for d in mns.values():
            d.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup()
    med = {k: statistics.median(v) for k, v in rates.items()}
    print("clients_per_gateway=%d\nrequests_per_client=%d\nrounds=%d\ncores=%d"
          % (CLIENTS, a.requests, a.rounds, os.cpu_count()))
    for k in (1, 2, 3):
        print("gateways%d_per_s=%.0f\ngateways%d_runs=%s\ngateways%d_cpu_us=%.0f" % (
            k, med[k], k, ",".join("%.0f" % r for r in rates[k]), k,
            statistics.median(cpus[k])))
    print("gateways2_over_1=%.2f\ngateways3_over_1=%.2f" % (med[2] / med[1], med[3] / med[1]))


if __name__ == "__main__":
    main()
