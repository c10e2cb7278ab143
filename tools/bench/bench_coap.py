#!/usr/bin/env python3
"""oneM2M requests per second over CoAP and CoAPS (DTLS-PSK), side by side in one run:
bare libcoap (bench-coap-server), tep-cse in [authz] mode local and remote (cold, and
warm: the decision cache on), and the ACME CSE (PyPI acmecse, plain CoAP, in-memory
storage) as a peer; then tep-cse's RETRIEVE rate against idle DTLS sessions. Same client
(bench-coap), same machine, same run: every row is given as a ratio to its baseline
measured in this run.

  .deps/venv/bin/python tools/bench/bench_coap.py [--seconds 3] [--idle 1000,10000]
                                                  [--acme PYTHON] [--write-doc]

The workload is a container with mni = 1000 filled with 1,000 contentInstances: CREATE
(a contentInstance into it), RETRIEVE <cnt>/la, RETRIEVE of one instance by its path,
and a discovery (fu=1&ty=4&lim=20), each at 1 and 8 requests in flight (8: on 8
sessions, one request each). Needs a build (TEP_BUILD_DIR, default ./build) and the
integration venv (aiocoap) for the set-up; --acme names the python of a venv where
acmecse is installed (tools/bench/run.sh makes it under .deps/), without it the ACME rows
are left out. --write-doc replaces this benchmark's block of rows in docs/benchmarks.md
(bench-coap:begin/end)."""

import argparse
import datetime
import os
import platform as pyplatform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "integration"))
os.environ.setdefault("TEP_BUILD_DIR", os.path.join(ROOT, "build"))
# One device at full speed: measured without tep-authz's per-originator decision rate.
os.environ.setdefault("TEP_AUTHZ_DECIDE_RATE", "0")

import harness  # noqa: E402
import tepkeys  # noqa: E402
from onem2m_client import OneM2MClient, TY_AE, TY_CNT  # noqa: E402

DOC = os.path.join(ROOT, "docs", "benchmarks.md")
BEGIN, END = "<!-- bench-coap:begin -->", "<!-- bench-coap:end -->"
MNI = 1000
DISCOVERY = "fu=1&ty=4&lim=20"
CNT_BODY = '{"m2m:cnt":{"rn":"bench","mni":%d}}' % MNI
PATH_CIN = '{"m2m:cin":{"rn":"bypath","con":"21.5","cnf":"text/plain:0"}}'
# (key, label, operation): the retrievals first, so the instance read by path (the last
# one of the fill) is still there; the creates last.
OPS = (("retrieve_la", "RETRIEVE <cnt>/la", "retrieve"),
       ("retrieve_path", "RETRIEVE of one contentInstance by path", "retrieve"),
       ("discovery", "discovery (GET <cnt>?%s)" % DISCOVERY, "retrieve"),
       ("create", "CREATE contentInstance", "create"))
WINDOWS = (1, 8)
IDLE_OPS = ("retrieve_path", "retrieve_la")


def tool(name):
    path = os.path.join(harness.BUILD, "tools", "bench", name)
    if not os.access(path, os.X_OK):
        sys.exit("%s is not built (ninja -C %s %s)" % (path, harness.BUILD,
                                                       "tools/bench/" + name))
    return path


class Target:
    """Where one server is reached: uri, the PSK (DTLS), the originator, the container."""

    def __init__(self, uri, originator, cnt, identity=None, key=None, label=("", "")):
        self.uri, self.originator, self.cnt, self.label = uri, originator, cnt, label
        self.identity, self.key = identity, key

    def argv(self, path, op, *extra):
        a = [tool("bench-coap"), "--uri", self.uri, "--from", self.originator,
             "--path", path, "--op", op]
        if self.identity:
            a += ["--identity", self.identity, "--key", self.key]
        return a + list(extra)


# (server, transport, operation, window) -> (answers not the expected RSC, first such RSC)
ERRORS = {}


def client(argv, timeout, tolerate=False):
    """Runs bench-coap; its KEY=value output. tolerate: a run in which some answers had
    another RSC (exit 3) is returned too (the caller reports them)."""
    p = subprocess.run(argv, capture_output=True, text=True, timeout=timeout)
    kv = harness.parse_kv(p.stdout)
    if (p.returncode != 0 and not (tolerate and p.returncode == 3)) or "rps" not in kv:
        sys.exit("bench-coap %s failed (exit %d):\n%s%s"
                 % (" ".join(argv[1:]), p.returncode, p.stdout, p.stderr))
    return kv


def measure(t, key, window, seconds):
    op = dict((k, o) for k, _, o in OPS)[key]
    path = {"retrieve_la": t.cnt + "/la", "retrieve_path": t.cnt + "/bypath"}.get(key, t.cnt)
    extra = ["--seconds", str(seconds), "--window", str(window)]
    if key == "discovery":
        extra += ["--query", DISCOVERY]
    kv = client(t.argv(path, op, *extra), seconds + 60, tolerate=True)
    if int(kv.get("errors", 0)) > 0:
        ERRORS[t.label + (key, window)] = (int(kv["errors"]), kv.get("first_rsc_error"))
    return float(kv["rps"])


def fill(t, window=8):
    """The container of t holds MNI instances, the last one named bypath (window: the
    sessions that fill it at once)."""
    client(t.argv(t.cnt, "create", "--count", str(MNI - 1), "--window", str(window),
                  "--seconds", "600"), 660)
    client(t.argv(t.cnt, "create", "--count", "1", "--body", PATH_CIN), 60)


def run_ops(t, seconds, keys=None):
    """{(key, window): req/s} for every operation (or keys) at each window."""
    out = {}
    for key, _, _ in OPS:
        if keys is None or key in keys:
            for w in WINDOWS:
                out[(key, w)] = measure(t, key, w, seconds)
    return out


def plain_ae(host, port, cse_name, originator):
    """Registers an AE over plain CoAP (aiocoap) and creates its container; returns
    (AE-ID, container path)."""
    with OneM2MClient(host, port, originator) as c:
        r = c.create(cse_name, TY_AE, {"rn": "benchplain", "api": "Nbench", "rr": False,
                                       "srv": ["3"]})
        assert r.rsc == 2001, "AE not registered: %s" % r
        aei = r.resource(TY_AE)["aei"]
        c.originator = aei
        ae = (r.location or "%s/benchplain" % cse_name).lstrip("/")
        r = c.create(ae, TY_CNT, {"rn": "bench", "mni": MNI})
        assert r.rsc == 2001, "container not created: %s" % r
        return aei, (r.location or ae + "/bench").lstrip("/")


def bench_bare(args):
    port, plain = harness.free_udp_ports(2)
    key = os.urandom(32).hex()
    srv = subprocess.Popen([tool("bench-coap-server"), "--listen", "127.0.0.1:%d" % port,
                            "--identity", "bench", "--key", key,
                            "--plain", "127.0.0.1:%d" % plain], stdout=subprocess.PIPE,
                           text=True)
    try:
        if srv.stdout.readline().strip() != "ready":
            sys.exit("bench-coap-server did not start")
        out = {}
        for tr, t in (("plain", Target("coap://127.0.0.1:%d" % plain, "Cbench", "b/ae/cnt")),
                      ("dtls", Target("coaps://127.0.0.1:%d" % port, "Cbench", "b/ae/cnt",
                                      "bench", key))):
            for key_, op in (("retrieve", "retrieve"), ("create", "create")):
                for w in WINDOWS:
                    out[(tr, key_, w)] = measure(t, "create" if op == "create" else
                                                 "retrieve_la", w, args.seconds)
        return out
    finally:
        srv.terminate()
        srv.wait(10)


def bench_lmdb(args):
    """Bare LMDB durable puts per second (tools/bench/bench_lmdb.c), one per commit and 8
    per commit: the baseline of a durable CREATE at 1 and 8 in flight."""
    out = {}
    for w in WINDOWS:
        p = subprocess.run([tool("bench-lmdb"), "--seconds", "%g" % args.seconds, "--batch",
                            str(w)], capture_output=True, text=True, timeout=args.seconds + 60)
        kv = harness.parse_kv(p.stdout)
        if p.returncode != 0 or "puts_per_s" not in kv:
            sys.exit("bench-lmdb failed:\n%s%s" % (p.stdout, p.stderr))
        out[w] = float(kv["puts_per_s"])
    return out


def dtls_target(plat, name):
    """An enrolled device's AE on tep-cse's CoAPS endpoint, with its container."""
    dev = plat.enrolled_device(name)
    ae = harness.ae_path(plat, dev)
    st = dev.state_values()
    kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
    identity = tepkeys.kpsa_id(kpsa, plat.env["MEF_FQDN"])
    t = Target(plat.env["CSE_COAPS"], st["enrolee_id"], ae + "/bench", identity, kpsa.hex())
    client(t.argv(ae, "create", "--ty", "3", "--body", CNT_BODY, "--count", "1"), 60)
    return t


WARM_CACHE_MS = 60000


def bench_tep(mode, args):
    """mode: local, remote, or warm (remote with the PEP's decision cache on,
    [authz] cache_ms = WARM_CACHE_MS: after the first request of each kind the decisions
    come from the cache, the policies still read and checked for every request)."""
    server = {"local": "tep"}.get(mode, mode)
    plat = harness.Platform(authz_mode="local" if mode == "local" else "remote")
    saved = os.environ.get("TEP_AUTHZ_CACHE_MS")
    os.environ["TEP_AUTHZ_CACHE_MS"] = str(WARM_CACHE_MS if mode == "warm" else 0)
    try:
        plat.start()
        out = {}
        aei, cnt = plain_ae("127.0.0.1", plat.ports["cse_coap"], plat.env["CSE_NAME"],
                            "Cbenchplain")
        t = Target(plat.env["CSE_COAP"], aei, cnt, label=(server, "plain"))
        fill(t)
        for (k, w), v in run_ops(t, args.seconds).items():
            out[("plain", k, w)] = v
        t = dtls_target(plat, "bench01")
        t.label = (server, "dtls")
        fill(t)
        for (k, w), v in run_ops(t, args.seconds).items():
            out[("dtls", k, w)] = v
        plat.assert_clean_stop()
        return out
    finally:
        plat.cleanup()
        if saved is None:
            os.environ.pop("TEP_AUTHZ_CACHE_MS", None)
        else:
            os.environ["TEP_AUTHZ_CACHE_MS"] = saved


ACME_INI = """[basic.config]
cseType=IN
cseID=id-in
cseName=cse-in
adminID=CAdmin
networkInterface=127.0.0.1
cseHost=127.0.0.1
httpPort=%d
databaseType=memory
logLevel=off

[coap]
enable=true
port=%d
"""


def bench_acme(args):
    """ACME CSE (plain CoAP, in-memory storage, its access control on, logging off)."""
    d = tempfile.mkdtemp(prefix="tep-acme-")
    http, coap = harness.free_udp_ports(2)
    with open(os.path.join(d, "acme.ini"), "w") as f:
        f.write(ACME_INI % (http, coap))
    log = open(os.path.join(d, "acme.log"), "w")
    srv = subprocess.Popen([args.acme, "-m", "acmecse", "--config", "acme.ini",
                            "--base-directory", d, "--headless", "--coap", "--db-type",
                            "memory", "--log-level", "off"], cwd=d, stdout=log,
                           stderr=subprocess.STDOUT, start_new_session=True)
    try:
        aei, cnt = None, None
        deadline = time.time() + 60
        while aei is None:
            try:
                aei, cnt = plain_ae("127.0.0.1", coap, "cse-in", "Cbenchplain")
            except Exception:
                if time.time() > deadline or srv.poll() is not None:
                    raise
                time.sleep(1)
        t = Target("coap://127.0.0.1:%d" % coap, aei, cnt, label=("acme", "plain"))
        fill(t, window=1)  # 8 sessions at once stalled its fill for minutes
        return {("plain", k, w): v for (k, w), v in run_ops(t, args.seconds).items()}
    finally:
        os.killpg(srv.pid, signal.SIGTERM)
        try:
            srv.wait(15)
        except subprocess.TimeoutExpired:
            os.killpg(srv.pid, signal.SIGKILL)
            srv.wait(5)
        log.close()
        shutil.rmtree(d, ignore_errors=True)


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def hold_idle(t, n):
    """A bench-coap --op idle holding n DTLS sessions to t's server (as t's identity);
    returns (process, connected)."""
    p = subprocess.Popen(t.argv(t.cnt, "idle", "--sessions", str(n)), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    kv = {}
    for line in p.stdout:
        line = line.strip()
        if line == "ready":
            break
        if "=" in line:
            k, v = line.split("=", 1)
            kv[k] = v
    if "connected" not in kv:
        sys.exit("bench-coap --op idle did not start")
    return p, int(kv["connected"])


def bench_idle(args):
    """RETRIEVE <cnt>/la over DTLS (1 in flight, authz local) with 0 idle DTLS sessions,
    then with each count of args.idle held open, then after their clients left. The
    per-address and total session limits are raised so the sessions are all kept."""
    most = max(args.idle)
    plat = harness.Platform(authz_mode="local")
    env = {"TEP_DTLS_MAX_SESSIONS_PER_IDENTITY": "0",
           "TEP_DTLS_MAX_HANDSHAKES_PER_ADDR": "64",
           "TEP_DTLS_MAX_SESSIONS": str(most + 100),
           "TEP_DTLS_MAX_SESSIONS_PER_ADDR": str(most + 100)}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    holders = []
    try:
        plat.start()
        t = dtls_target(plat, "idle01")
        fill(t)
        pid = plat["cse"].proc.pid
        out = {}

        def both(tag):
            for key in IDLE_OPS:
                out["%s_%s" % (key, tag)] = measure(t, key, 1, args.seconds)

        both("0")
        rss0, held = rss_kb(pid), 0
        for n in sorted(args.idle):
            p, got = hold_idle(t, n - held)
            holders.append(p)
            held += got
            both(str(n))
            out["held_%d" % n] = held
            out["rss_kb_%d" % n] = rss_kb(pid) - rss0
        for p in holders:
            p.stdin.close()
            p.wait(30)
        holders = []
        both("after")
        plat.assert_clean_stop()
        return out
    finally:
        for p in holders:
            p.kill()
            p.wait(10)
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        plat.cleanup()


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), "")
    except OSError:
        pass
    return "%d cores (%s), %s, load %.2f" % (os.cpu_count() or 0, cpu or pyplatform.machine(),
                                            pyplatform.platform(terse=True), os.getloadavg()[0])


def rows_of(res, args):
    """(measurement, result, ratio) for every row."""
    bare, rows = res["bare"], []
    for w in WINDOWS if "lmdb" in res else ():
        rows.append(("bare LMDB durable put (bench-lmdb, cmn_store, no MDB_NOSYNC), %d put(s) "
                     "per commit" % w, "%.0f puts/s" % res["lmdb"][w], "1 (baseline)"))
    for tr, trname in (("plain", "CoAP"), ("dtls", "CoAPS (DTLS-PSK)")):
        for op in ("retrieve", "create"):
            for w in WINDOWS:
                rows.append(("bare libcoap (bench-coap-server), %s %s, %d in flight"
                             % (trname, "GET" if op == "retrieve" else "POST", w),
                             "%.0f req/s" % bare[(tr, op, w)], "1 (baseline)"))
    servers = [("tep", "tep-cse authz=local"), ("remote", "tep-cse authz=remote")]
    if "warm" in res:
        servers.append(("warm", "tep-cse authz=remote, decisions warm (cache_ms=%d)"
                        % WARM_CACHE_MS))
    if "acme" in res:
        servers.append(("acme", "ACME CSE %s (Python, in-memory)" % args.acme_version))
    for tr, trname in (("plain", "CoAP"), ("dtls", "CoAPS (DTLS-PSK)")):
        for key, label, op in OPS:
            for w in WINDOWS:
                for s, sname in servers:
                    if (tr, key, w) not in res[s]:
                        continue
                    v = res[s][(tr, key, w)]
                    result = "%.0f req/s" % v
                    if (s, tr, key, w) in ERRORS:
                        n, rsc = ERRORS[(s, tr, key, w)]
                        result += " (and %d answers with RSC %s, not counted)" % (n, rsc)
                    ratio = "**%.3f** x bare" % (v / bare[(tr, op, w)])
                    if s in ("remote", "warm"):
                        ratio += ", %.2f x local" % (v / res["tep"][(tr, key, w)])
                    if key == "create" and "lmdb" in res:
                        ratio += ", %.2f x LMDB put" % (v / res["lmdb"][w])
                    if s != "acme" and "acme" in res and (tr, key, w) in res["acme"]:
                        ratio += ", %.2f x ACME" % (v / res["acme"][(tr, key, w)])
                    rows.append(("%s, %s, %s, mni=%d, %d in flight" % (sname, trname, label,
                                                                       MNI, w),
                                 result, ratio))
    idle = res.get("idle")
    for key in IDLE_OPS if idle else ():
        label = dict((k, l) for k, l, _ in OPS)[key]
        base = idle["%s_0" % key]
        what = "tep-cse authz=local, CoAPS %s, 1 in flight" % label
        rows.append(("%s, no idle DTLS session" % what, "%.0f req/s" % base, "1 (baseline)"))
        for n in sorted(args.idle):
            kb, held = idle["rss_kb_%d" % n], idle["held_%d" % n]
            rows.append(("%s, %d idle DTLS-PSK sessions held open (%d established; tep-cse "
                         "resident size +%.1f MB, %.1f kB per session)"
                         % (what, n, held, kb / 1024.0, kb / max(held, 1)),
                         "%.0f req/s" % idle["%s_%d" % (key, n)],
                         "**%.3f** x no idle session" % (idle["%s_%d" % (key, n)] / base)))
        rows.append(("%s, after the idle sessions' clients left (their sessions not yet timed "
                     "out)" % what, "%.0f req/s" % idle["%s_after" % key],
                     "%.3f x no idle session" % (idle["%s_after" % key] / base)))
    return rows


def write_doc(rows, args):
    day = datetime.date.today().isoformat()
    cmd = "./tep bench (tools/bench/bench_coap.py --seconds %g)" % args.seconds
    mach = machine()
    block = "\n".join([BEGIN] + ["| %s | %s | %s | %s | %s | `%s` |" % (day, m, r, q, mach, cmd)
                                 for m, r, q in rows] + [END])
    with open(DOC) as f:
        text = f.read()
    if BEGIN not in text or END not in text:
        sys.exit("docs/benchmarks.md: bench-coap markers not found")
    text = re.sub(re.escape(BEGIN) + ".*?" + re.escape(END), lambda m: block, text, flags=re.S)
    with open(DOC, "w") as f:
        f.write(text)
    print("docs/benchmarks.md updated (bench-coap)", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=float, default=3.0)
    ap.add_argument("--idle", default="1000,10000",
                    help="idle DTLS session counts, comma-separated ('' = none)")
    ap.add_argument("--acme", help="python of the venv with acmecse")
    ap.add_argument("--only", help="comma-separated parts: bare,tep,remote,warm,acme,idle")
    ap.add_argument("--write-doc", action="store_true")
    args = ap.parse_args()
    args.idle = [int(x) for x in args.idle.split(",") if x]
    parts = set((args.only or "bare,tep,remote,warm,acme,idle").split(","))
    args.acme_version = ""
    if args.acme:
        args.acme = os.path.abspath(args.acme)
    if args.acme:
        args.acme_version = subprocess.run(
            [args.acme, "-c", "import importlib.metadata as m; print(m.version('acmecse'))"],
            capture_output=True, text=True).stdout.strip()
    res = {}
    if "bare" in parts:
        res["bare"] = bench_bare(args)
        res["lmdb"] = bench_lmdb(args)
    if "tep" in parts:
        res["tep"] = bench_tep("local", args)
    if "remote" in parts:
        res["remote"] = bench_tep("remote", args)
    if "warm" in parts:
        res["warm"] = bench_tep("warm", args)
    if "acme" in parts and args.acme:
        res["acme"] = bench_acme(args)
    if "idle" in parts and args.idle:
        res["idle"] = bench_idle(args)
    for k, v in sorted(res.items()):
        for kk, vv in sorted(v.items(), key=str):
            print("%s %s=%s" % (k, "_".join(map(str, kk)) if isinstance(kk, tuple) else kk, vv))
    if {"bare", "tep", "remote"} <= set(res):
        rows = rows_of(res, args)
        for r in rows:
            print(" | ".join(r))
        if args.write_doc:
            write_doc(rows, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
