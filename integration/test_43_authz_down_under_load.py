"""43: the PEP fails closed under load (TS-0003 7.1: anything indeterminate is Deny;
docs: a late or lost decision is a Deny). With tep-authz stopped, concurrent requests
that the PDP would permit (the creator reading its own container) are every one denied
with 4103, and every one is answered within the decision deadline plus a small margin:
after one lost answer tep-cse counts the PDP as down for a deadline and denies at once,
so requests do not queue behind one another's deadlines. When tep-authz is back,
access is permitted again."""

import concurrent.futures
import time

import harness
from test_41_dynauth_tokens import DynPlatform

CLIENTS = 12
DEADLINE_S = 0.5      # short, explicitly: this scenario is about the deadline
MARGIN_S = 1.5        # a process start and a DTLS handshake on a loaded 2-core machine


def test_authz_stopped_under_load_denies_all_within_deadline(monkeypatch, request):
    d = DynPlatform(monkeypatch, deadline_ms=int(DEADLINE_S * 1000))
    try:
        owner, cnt, _ = harness.device_with_data(d.p, "device02")
        assert d.read(owner, cnt).rsc == 2000
        assert d.p["authz"].stop() == 0

        def one(_):
            t0 = time.monotonic()
            r = d.read(owner, cnt)
            return r, time.monotonic() - t0

        with concurrent.futures.ThreadPoolExecutor(CLIENTS) as pool:
            results = list(pool.map(one, range(CLIENTS)))
        for r, elapsed in results:
            assert r.rsc == 4103, "%s\n%s" % (r, d.p.logs())
            assert elapsed < DEADLINE_S + MARGIN_S, "answered after %.2f s" % elapsed
        log = d.p["cse"].log()
        assert "rule=decision_timeout" in log and "rule=pdp_unavailable" in log, log

        d.p["authz"].start()
        for _ in range(20):
            r = d.read(owner, cnt)
            if r.rsc == 2000:
                break
            time.sleep(0.3)
        assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
        d.stop()
    finally:
        d.p.cleanup(keep=getattr(request.node, "tep_failed", False))
