"""42: dynamic authorization, direct flow (TS-0003 7.3.2.2): on a Deny, tep-cse (the
Hosting CSE) consults tep-authz (the DAS) with the m2m:seci dreq content (originator,
target, operation, address, time), gets dres (dai: the granted privileges gp and their
lifetime pl) and applies them until pl, without asking again; what the DAS does not
grant stays denied (4103). The consultation and every decision are in `tepctl audit`."""

import time

import harness
from test_41_dynauth_tokens import DynPlatform


def _consulted(d):
    return d.p["cse"].log().count("event=das_consulted")


def test_das_grants_read_for_its_lifetime(monkeypatch, request):
    cse = "tep-cse"
    grants = [{"or": "Cdevice01", "ris": ["/%s/Cdevice02/*" % cse], "acop": 2, "lt": 3}]
    d = DynPlatform(monkeypatch, das=True, grants=grants)
    try:
        assert d.p.env["CSE_NAME"] == cse
        harness.device_with_data(d.p, "device02")
        reader = d.p.enrolled_device("device01")
        stranger = d.p.enrolled_device("device03")
        cnt = cse + "/Cdevice02/data"

        r = d.read(reader, cnt)
        assert r.rsc == 2000, "%s\n%s" % (r, d.p.logs())
        assert _consulted(d) == 1
        r = d.read(reader, cnt)  # within pl: the cached dai, no new consultation
        assert r.rsc == 2000, str(r)
        assert _consulted(d) == 1
        d.p["cse"].wait_log("rule=das.acp", 5)

        # Not granted: another operation, another originator.
        kp = d.kpsa(reader)
        r = d.probe(kp, d.p.ports["cse_coaps"], "DELETE", cnt, from_="Cdevice01")
        assert r.rsc == 4103, str(r)
        assert d.read(stranger, cnt).rsc == 4103

        # After pl (whole seconds, inclusive) the privileges are gone: the CSE asks again.
        time.sleep(4.5)
        before = _consulted(d)
        assert d.read(reader, cnt).rsc == 2000
        assert _consulted(d) == before + 1

        audit = d.p.tepctl("audit", "--last", "50", admin="authz")
        assert audit.rc == 0, str(audit)
        assert 'rule="das: grant[0]"' in audit.out, audit.out
        assert 'originator=Cdevice03' in audit.out and 'rule="das: no grant"' in audit.out
        d.stop()
    finally:
        d.p.cleanup(keep=getattr(request.node, "tep_failed", False))
