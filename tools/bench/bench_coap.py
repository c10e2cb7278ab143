#!/usr/bin/env python3
"""CoAPS (DTLS-PSK) oneM2M requests per second: tep-cse with access control, in local
and remote (tep-authz over the bus) mode, against bench-coap-server, a bare libcoap
DTLS server that answers the same requests without any oneM2M processing. Same client
(bench-coap), same machine, same run; the result is the ratio tep-cse / bare.

  python3 tools/bench/bench_coap.py [--seconds 5] [--window 1] [--markdown] [--write-doc]

Needs a build (TEP_BUILD_DIR, default ./build) with the daemons, tep-device, tepctl,
bench-coap and bench-coap-server. --markdown prints the rows for docs/benchmarks.md;
--write-doc replaces this benchmark's marked block of rows there (bench-coap:begin/end)."""

import argparse
import datetime
import re
import os
import platform as pyplatform
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "integration"))
os.environ.setdefault("TEP_BUILD_DIR", os.path.join(ROOT, "build"))

import harness  # noqa: E402
import tepkeys  # noqa: E402

OPS = ("create", "retrieve")
DOC = os.path.join(ROOT, "docs", "benchmarks.md")
BEGIN, END = "<!-- bench-coap:begin -->", "<!-- bench-coap:end -->"


def tool(name):
    path = os.path.join(harness.BUILD, "tools", "bench", name)
    if not os.access(path, os.X_OK):
        sys.exit("%s is not built (ninja -C %s %s)" % (path, harness.BUILD,
                                                       "tools/bench/" + name))
    return path


def run_client(uri, identity, key_hex, originator, path, op, args):
    argv = [tool("bench-coap"), "--uri", uri, "--identity", identity, "--key", key_hex,
            "--from", originator, "--path", path, "--op", op,
            "--seconds", str(args.seconds), "--window", str(args.window)]
    p = subprocess.run(argv, capture_output=True, text=True, timeout=args.seconds + 60)
    kv = harness.parse_kv(p.stdout)
    if p.returncode != 0 or "rps" not in kv:
        sys.exit("bench-coap %s against %s failed (exit %d):\n%s%s"
                 % (op, uri, p.returncode, p.stdout, p.stderr))
    return float(kv["rps"]), int(kv["ok"])


def bench_tep(mode, args):
    """tep-cse in authz mode `mode`: an enrolled device's AE, a container and one
    contentInstance; creates go to the container, retrieves read the instance."""
    plat = harness.Platform(authz_mode=mode)
    try:
        plat.start()
        dev = plat.enrolled_device("bench01")
        ae = harness.ae_path(plat, dev)
        r = dev.run("create-cnt", "bench")
        assert r.rc == 0, str(r)
        cnt = harness.created_path(r, ae)
        r = dev.run("create-cin", "bench", "21.5")
        assert r.rc == 0, str(r)
        cin = harness.created_path(r, cnt)
        st = dev.state_values()
        kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
        identity = tepkeys.kpsa_id(kpsa, plat.env["MEF_FQDN"])
        uri = plat.env["CSE_COAPS"]
        out = {}
        for op in OPS:
            out[op] = run_client(uri, identity, kpsa.hex(), st["enrolee_id"],
                                 cnt if op == "create" else cin, op, args)
        plat.assert_clean_stop()
        return out
    finally:
        plat.cleanup()


def bench_bare(args):
    port = harness.free_udp_ports(1)[0]
    key = os.urandom(32).hex()
    srv = subprocess.Popen([tool("bench-coap-server"), "--listen", "127.0.0.1:%d" % port,
                            "--identity", "bench", "--key", key],
                           stdout=subprocess.PIPE, text=True)
    try:
        if srv.stdout.readline().strip() != "ready":
            sys.exit("bench-coap-server did not start")
        uri = "coaps://127.0.0.1:%d" % port
        return {op: run_client(uri, "bench", key, "Cbench", "base/ae/cnt", op, args)
                for op in OPS}
    finally:
        srv.terminate()
        srv.wait(10)


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return "%s, %d cores, %s, load %.1f" % (cpu or pyplatform.machine(), os.cpu_count() or 0,
                                            pyplatform.platform(terse=True), os.getloadavg()[0])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--window", type=int, default=1, help="requests in flight")
    ap.add_argument("--markdown", action="store_true")
    ap.add_argument("--write-doc", action="store_true")
    args = ap.parse_args()
    results = {"bare libcoap": bench_bare(args)}
    for mode in ("local", "remote"):
        results["tep-cse authz=" + mode] = bench_tep(mode, args)
    base = results["bare libcoap"]
    print("%-22s %-9s %10s %8s" % ("server", "op", "req/s", "ratio"))
    for name, res in results.items():
        for op in OPS:
            print("%-22s %-9s %10.1f %8.3f" % (name, op, res[op][0], res[op][0] / base[op][0]))
    rows = markdown_rows(results, args)
    if args.markdown:
        print("\n".join(rows))
    if args.write_doc:
        write_doc(rows)
    return 0


def markdown_rows(results, args):
    day = datetime.date.today().isoformat()
    cmd = "python3 tools/bench/bench_coap.py --seconds %g --window %d" % (args.seconds,
                                                                        args.window)
    base = results["bare libcoap"]
    rows = []
    for name, res in results.items():
        for op in OPS:
            if name == "bare libcoap":
                what, ratio = "1 (baseline)", None
            else:
                ratio = res[op][0] / base[op][0]
                what = "**%.3f** x bare libcoap" % ratio
            rows.append("| %s | CoAPS (DTLS-PSK) oneM2M %s, %s, %d in flight | %.0f req/s | %s "
                        "| %s | `%s` |" % (day, op.upper(), name, args.window, res[op][0], what,
                                           machine(), cmd))
    return rows


def write_doc(rows):
    """Replaces the rows between BEGIN and END (appends the block to the table if
    absent)."""
    with open(DOC) as f:
        text = f.read()
    block = "\n".join([BEGIN] + rows + [END])
    if BEGIN in text and END in text:
        text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda m: block, text,
                      flags=re.S)
    else:
        lines, out, done = text.split("\n"), [], False
        for i, line in enumerate(lines):
            out.append(line)
            nxt = lines[i + 1] if i + 1 < len(lines) else ""
            if not done and line.startswith(("|", "<!--")) and not nxt.startswith(("|", "<!--")):
                out.append(block)
                done = True
        text = "\n".join(out)
    with open(DOC, "w") as f:
        f.write(text)


if __name__ == "__main__":
    sys.exit(main())
