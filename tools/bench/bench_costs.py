#!/usr/bin/env python3
"""Per-operation costs of the real daemons, for docs/capacity.md (issue 17 item 4): the
CPU time each daemon spends per enrolment, AE registration, fresh DTLS session with one
request, request over an open session and access decision (/proc/PID/task/*/schedstat
of tep-enroller, tep-authz and tep-cse separately: tep-authz's and tep-cse's
share of an enrolment is the event-log fan-out to one subscriber), and the disk each
store grows by per enrolled device and per audited decision (allocated blocks of the
LMDB files).

  python3 tools/bench/bench_costs.py [--devices N] [--requests M]

The platform is integration/harness.py's (tep-authz remote, DTLS-PSK, default
settings, log level info); the clients are tep-device processes run one after the other
(their own CPU is not counted). Prints KEY=value lines: <op>_<daemon>_cpu_us (op:
enrol, register, session, session_create, request, sync_newest: one subscriber's sync answer with the
newest event, sync_catchup_event: per event of a 64-event catch-up answer; both asked with
tepctl bus sync as the registrar CSE), <store>_bytes_per_device,
audit_bytes_per_decision, and the counts. Needs a build (TEP_BUILD_DIR, default ./build). Loopback only."""

import argparse
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "integration"))
os.environ.setdefault("TEP_BUILD_DIR", os.path.join(ROOT, "build"))

import harness  # noqa: E402

DAEMONS = ("enroller", "authz", "cse")


def cpu_s(pid):
    """CPU time of all of pid's threads (ZeroMQ's I/O threads included), in seconds, from
    /proc/PID/task/*/schedstat (nanoseconds: finer than utime + stime's clock ticks)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except FileNotFoundError:
            pass  # a thread that just ended
    return total / 1e9


def disk_bytes(path):
    total = 0
    for dirpath, _, files in os.walk(path):
        for name in files:
            total += os.stat(os.path.join(dirpath, name)).st_blocks * 512
    return total


class Meter:
    """CPU seconds of each daemon between start() and stop()."""

    def __init__(self, p):
        self.pids = {n: p[n].proc.pid for n in DAEMONS}

    def start(self):
        self.t0 = {n: cpu_s(pid) for n, pid in self.pids.items()}

    def stop(self, ops, op, out):
        for n, pid in self.pids.items():
            out["%s_%s_cpu_us" % (op, n)] = "%.0f" % ((cpu_s(pid) - self.t0[n]) * 1e6 / ops)


def run_ok(r, p):
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    return r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--devices", type=int, default=40)
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--syncs", type=int, default=100)
    a = ap.parse_args()
    p = harness.Platform()
    out = {"devices": str(a.devices), "requests": str(a.requests), "syncs": str(a.syncs)}
    try:
        p.start()
        m = Meter(p)
        data = {n: os.path.join(p.env["DATA_DIR"], n) for n in DAEMONS}
        devs = [p.add_enrolee("bench%03d" % i) for i in range(a.devices)]
        disk0 = {n: disk_bytes(d) for n, d in data.items()}

        m.start()
        for d in devs:
            run_ok(d.run("enrol"), p)
        m.stop(a.devices, "enrol", out)
        m.start()
        for d in devs:
            run_ok(d.run("register"), p)
        m.stop(a.devices, "register", out)
        for n, d in data.items():
            out["%s_bytes_per_device" % n] = "%.0f" % ((disk_bytes(d) - disk0[n]) / a.devices)

        # event-log fan-out: what the enroller spends on one subscriber's sync answer (as
        # the registrar CSE: events with their Kpsa), for the newest event and for a
        # catch-up of 64 events (tepctl bus sync, as cmn_sync asks; a name that is no
        # target is refused)
        sync_ep = "ipc://" + os.path.join(p.dir, "ipc", "sync.ipc")
        last = int(p.status("enroller")["last_seq"])
        tepctl = harness.binary("tepctl")
        m.start()
        for _ in range(a.syncs):
            run_ok(harness.run_tool([tepctl, "bus", "sync", sync_ep, p.env["CSE_ID"], str(last - 1)]), p)
        m.stop(a.syncs, "sync_newest", out)
        if last >= 64:
            m.start()
            for _ in range(a.syncs):
                run_ok(harness.run_tool([tepctl, "bus", "sync", sync_ep, p.env["CSE_ID"], "0"]), p)
            m.stop(a.syncs * 64, "sync_catchup_event", out)
        out["events"] = str(last)

        owner = devs[0]
        run_ok(owner.run("create-cnt", "data"), p)
        run_ok(owner.run("create-cin", "data", "hello"), p)
        cnt = harness.ae_path(p, owner) + "/data"
        m.start()
        for _ in range(a.devices):
            run_ok(owner.run("retrieve", cnt), p)
        m.stop(a.devices, "session", out)  # a fresh DTLS-PSK session + one RETRIEVE each

        m.start()
        for i in range(a.devices):
            run_ok(owner.run("create-cin", "data", "v%d" % i), p)
        m.stop(a.devices, "session_create", out)  # a fresh session + one CREATE <cin> each

        audit = os.path.join(data["authz"], "audit")
        a0, seq0 = disk_bytes(audit), int(p.status("authz")["audit_seq"])
        m.start()
        r = run_ok(owner.run("poll", cnt, "0", str(a.requests)), p)
        m.stop(a.requests, "request", out)  # one session, M RETRIEVEs, one decision each
        assert r.out.count("RSC=2000") == a.requests, r.out[-500:]
        decided = int(p.status("authz")["audit_seq"]) - seq0
        out["decisions"] = str(decided)
        out["audit_bytes_per_decision"] = "%.0f" % ((disk_bytes(audit) - a0) / max(decided, 1))
        for n in DAEMONS:
            with open("/proc/%d/status" % p[n].proc.pid) as f:
                rss = [l.split()[1] for l in f if l.startswith("VmRSS:")][0]
            out["%s_rss_kb" % n] = rss
        p.assert_clean_stop()
    finally:
        p.cleanup()
    print("\n".join("%s=%s" % kv for kv in out.items()))


if __name__ == "__main__":
    main()
