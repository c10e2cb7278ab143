"""48: a remote access decision on its way does not hold tep-cse's event loop (DESIGN.md
section 1: nothing blocks on the network inside a libcoap callback; TS-0003 7.1: the
CSE, as Policy Enforcement Point, asks the PDP for every decision; docs/internals.md
"Asynchronous decisions"). With tep-authz frozen (SIGSTOP), a RETRIEVE that needs the
PDP's decision is parked (separate response); meanwhile another device's AE
registration, which needs no decision, completes, DTLS handshake included, long before
the first request's deadline. When tep-authz runs again, the parked request is answered
with the PDP's real decision (permit), still within its deadline."""

import os
import signal
import threading
import time

from harness import device_with_data

DEADLINE_MS = 6000


def _wait_for(daemon, text, offset, timeout):
    """Waits for text in the daemon's log after offset (characters of its log())."""
    end = time.monotonic() + timeout
    while text not in daemon.log()[offset:]:
        assert time.monotonic() < end, "no %r in the log after the set-up:\n%s" % (
            text, daemon.tail())
        time.sleep(0.05)


def test_decision_on_its_way_does_not_block_other_requests(platform_factory):
    p = platform_factory(deadline_ms=DEADLINE_MS)
    reader, cnt, _ = device_with_data(p, "device01")
    other = p.add_enrolee("device02")
    r = other.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())

    # set-up's own requests were parked too: only what is logged from here counts
    offset = len(p["cse"].log())
    authz = p["authz"].proc.pid
    os.kill(authz, signal.SIGSTOP)
    first = {}
    try:
        def read():
            t0 = time.monotonic()
            first["r"] = reader.run("retrieve", cnt)
            first["elapsed"] = time.monotonic() - t0

        th = threading.Thread(target=read)
        th.start()
        _wait_for(p["cse"], "event=request_parked path=%s reason=remote_decision" % cnt,
                  offset, 5)
        t0 = time.monotonic()
        r = other.run("register")
        elapsed = time.monotonic() - t0
        assert r.rc == 0, "%s\n%s" % (r, p.logs())
        assert th.is_alive(), "the parked request was answered while tep-authz was frozen: %s" % first
        assert elapsed < DEADLINE_MS / 1000 / 2, "AE create took %.2f s" % elapsed
    finally:
        os.kill(authz, signal.SIGCONT)
    th.join(DEADLINE_MS / 1000 + 10)
    r = first["r"]
    assert r.rc == 0 and r.rsc in (None, 2000), "%s\n%s" % (r, p.logs())
    assert first["elapsed"] < DEADLINE_MS / 1000 + 2
    assert "rule=decision_timeout" not in p["cse"].log()
