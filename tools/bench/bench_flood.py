#!/usr/bin/env python3
"""Legitimate DTLS-PSK handshake latency against the rate of a handshake flood (issue 18):
tep-cse with its default [dtls] limits; the flood is integration/dtlsflood.py's clients
that pass the cookie exchange and go silent (HalfOpenFlood, from 200 bound 127.10.x.y
addresses) and its ClientHellos that never answer the cookie (unanswered_hellos, bound
127.20.x.y sockets: what a spoofed burst costs, without a raw socket). At each rate an
enrolled device (libtepae through ctypes, in this process) opens a fresh session with
tep_connect and closes it, one at a time; the latency is the tep_connect call. A try that
fails or takes over 5 s counts as failed (its time is not in the percentiles).

  python3 tools/bench/bench_flood.py [--seconds S]

Prints KEY=value lines: for each phase P (idle, halfopen_R, hello_R) P_median_ms,
P_p99_ms, P_tries, P_failed, P_flood_per_s (the rate the flood reached), and
rss_growth_kb (tep-cse's resident size after all phases and the flood's end, over its
size before them). Needs a build (TEP_BUILD_DIR, default ./build). Loopback only;
each phase lasts S seconds (default 5)."""

import argparse
import ctypes
import os
import statistics
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "integration"))
os.environ.setdefault("TEP_BUILD_DIR", os.path.join(ROOT, "build"))

import dtlsflood  # noqa: E402
import harness  # noqa: E402

HALFOPEN_RATES = (250, 500, 1000)
HELLO_RATES = (1000, 3000)
LIMIT_S = 5.0


def sdk():
    lib = ctypes.CDLL(os.path.join(harness.BUILD, "ae-sdk", "libtepae.so"))
    vp, P = ctypes.c_void_p, ctypes.POINTER
    lib.tep_device_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p, P(vp)]
    lib.tep_device_free.argtypes = [vp]
    lib.tep_connect.argtypes = [vp, P(vp)]
    lib.tep_conn_free.argtypes = [vp]
    return lib


def measure(lib, dev, seconds):
    """Handshakes one after another for seconds: (latencies in ms, failures)."""
    lat, failed = [], 0
    t_end = time.monotonic() + seconds
    while time.monotonic() < t_end:
        conn = ctypes.c_void_p()
        t0 = time.monotonic()
        rc = lib.tep_connect(dev, ctypes.byref(conn))
        dt = time.monotonic() - t0
        if rc == 0:
            lib.tep_conn_free(conn)
        if rc != 0 or dt > LIMIT_S:
            failed += 1
        else:
            lat.append(dt * 1000)
        time.sleep(0.05)
    return lat, failed


def p99(values):
    s = sorted(values)
    return s[min(len(s) - 1, int(len(s) * 0.99))]


def phase(name, lib, dev, seconds, flood=None):
    t0 = time.monotonic()
    if flood is not None:
        flood.start()
    lat, failed = measure(lib, dev, seconds)
    sent = 0
    if flood is not None:
        flood.join(seconds + 30)
        sent = flood.count()
    elapsed = time.monotonic() - t0
    print("%s_median_ms=%.2f" % (name, statistics.median(lat) if lat else -1))
    print("%s_p99_ms=%.2f" % (name, p99(lat) if lat else -1))
    print("%s_tries=%d" % (name, len(lat) + failed))
    print("%s_failed=%d" % (name, failed))
    print("%s_flood_per_s=%.0f" % (name, sent / elapsed if flood is not None else 0))
    sys.stdout.flush()


class HalfOpen:
    def __init__(self, port, rate, seconds):
        self.f = dtlsflood.HalfOpenFlood(port, dtlsflood.source_addresses(200), rate,
                                         int(rate * seconds), seconds)

    def start(self):
        self.f.__enter__()

    def join(self, timeout):
        self.f.wait()

    def count(self):
        return self.f.started


class Hellos(threading.Thread):
    def __init__(self, port, rate, seconds):
        super().__init__(daemon=True)
        self.args = (port, int(rate * seconds), rate)
        self.sent = 0

    def run(self):
        self.sent = dtlsflood.unanswered_hellos(*self.args)

    def count(self):
        return self.sent


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    args = ap.parse_args()
    p = harness.Platform()
    h = ctypes.c_void_p()
    lib = sdk()
    try:
        p.start()
        dev = p.enrolled_device("device01")
        assert lib.tep_device_load(dev.prov.encode(), dev.state.encode(), ctypes.byref(h)) == 0
        port = int(p.env["CSE_COAPS"].rsplit(":", 1)[1])
        pid = p["cse"].proc.pid
        base = dtlsflood.rss_kb(pid)
        print("max_handshakes=64\nmax_handshakes_per_addr=4\nhandshake_timeout_s=10")
        phase("idle", lib, h, args.seconds)
        for r in HALFOPEN_RATES:
            phase("halfopen_%d" % r, lib, h, args.seconds, HalfOpen(port, r, args.seconds))
        for r in HELLO_RATES:
            phase("hello_%d" % r, lib, h, args.seconds, Hellos(port, r, args.seconds))
        # the flood over: its handshakes time out, the guard trims the heap
        dtlsflood.wait_flood_over(p, "cse", timeout=60)
        print("rss_growth_kb=%d" % (dtlsflood.rss_kb(pid) - base))
        p.assert_clean_stop()
    finally:
        if h:
            lib.tep_device_free(h)
        p.cleanup()


if __name__ == "__main__":
    main()
