"""238: a registered CSE cannot announce as its descendant a CSE that is not behind it.
TS-0001 V3.36 9.6.4 descendantCSEs (a descendant CSE registers to the registree, or to
one of its descendants), 8.2.1.1 (routing by descendantCSEs), TS-0003 8.3.2.1 (an
Enrolment Target: the registrar CSE-ID a CSE's Kpsa, hence its registration, is for),
7.2.1 (a CSE may forward only for originators behind it).

Attack: a rogue CSE enrolled as /mn3 (a valid enrolment at the IN-CSE) registers with dcse
naming a CSE-ID no CSE has registered yet: one the IN-CSE has never heard of (/ghost), or
/mn5, enrolled for the registrar /mn1 and not started. Integration 231 refused only CSEs
registered or announced already, so the IN-CSE believed both: it routed requests for
them to /mn3 and took From "/mn5/<AE>" over /mn3's session as /mn5's originator. Now a
dcse entry is believed only when the enrolment-target chain the enroller publishes
(tep.proto SyncItem.cse_target) leads from it to the registree: 4000
`dcse_not_behind_registree` otherwise; a CSE enrolled for /mn3 is accepted."""

import json

import pytest

from harness import enrol_argv_safe_psk, gateway_platform
from thirdparty import COAP_CLIENTS, coap_client

pytestmark = pytest.mark.skipif(COAP_CLIENTS["openssl"] is None,
                                reason="coap-client-openssl (libcoap3-bin) missing")

TY_CSR = 16


@pytest.fixture(scope="module")
def rogue():
    p, mns = gateway_platform(("mn1",), targets=("/mn3=coaps://127.0.0.1:9",
                                                  "/mn6=coaps://127.0.0.1:9"))
    try:
        psk = enrol_argv_safe_psk(p, p.add_enrolee("mn3", "--ae-id", "/mn3"))
        for name, target in (("mn5", "/mn1"), ("mn6", "/mn3"), ("mn7", "/mn6")):
            r = p.add_enrolee(name, "--ae-id", "/" + name, "--target", target).run("enrol")
            assert r.rc == 0, str(r)
        yield p, mns["mn1"], psk
        mns["mn1"].stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def _send(p, psk, method, path, frm, ty=None, attrs=None):
    body = json.dumps({"m2m:csr": attrs}) if attrs is not None else None
    reply, trace = coap_client("openssl", p.env["CSE_COAPS"] + "/" + path, method, frm,
                               ty=ty, body=body, psk=psk)
    assert reply is not None, trace + "\n" + p["cse"].tail()
    return reply


def _csr(dcse):
    return {"csi": "/mn3", "cb": "/mn3/mn3", "rr": True, "srv": ["3"],
            "poa": ["coap://127.0.0.1:9"], "dcse": dcse}


def test_unknown_cse_is_not_a_descendant(rogue):
    p, mn1, psk = rogue
    base = p.env["CSE_NAME"]
    for dcse in (["/ghost"], ["/mn6", "/ghost"], ["/mn5"], ["/mn1", "/mn5"], ["/mn7"]):
        r = _send(p, psk, "post", base, "/mn3", TY_CSR, _csr(dcse))
        assert r.rsc == 4000, "%s %s\n%s" % (dcse, r.rsc, p["cse"].tail())
    assert "reason=dcse_not_behind_registree from=/mn3" in p["cse"].log()
    # /mn6 is enrolled for /mn3, /mn7 for /mn6: both behind it
    r = _send(p, psk, "post", base, "/mn3", TY_CSR, _csr(["/mn7", "/mn6"]))
    assert r.rsc == 2001, "%s\n%s" % (r.rsc, p["cse"].tail())


def test_unknown_cse_gets_no_route_nor_originators(rogue):
    """Registered, /mn3 cannot add /ghost or /mn5 by UPDATE either; the IN-CSE routes
    nothing for them to /mn3 (4004) and takes no originator of theirs from it (4106),
    while /mn6's originators are forwarded and decided at the IN-CSE (4103)."""
    p, mn1, psk = rogue
    base = p.env["CSE_NAME"]
    for dcse in (["/mn6", "/ghost"], ["/mn6", "/mn5"]):
        r = _send(p, psk, "put", base + "/mn3", "/mn3", attrs={"dcse": dcse})
        assert r.rsc == 4000, "%s %s\n%s" % (dcse, r.rsc, p["cse"].tail())
    for victim in ("/ghost", "/mn5"):
        r = _send(p, psk, "get", "~%s/x" % victim, "/mn3")
        assert r.rsc == 4004, "%s %s\n%s" % (victim, r.rsc, p["cse"].tail())
        r = _send(p, psk, "get", base, victim + "/Cx")
        assert r.rsc == 4106, "%s %s\n%s" % (victim, r.rsc, p["cse"].tail())
    assert _send(p, psk, "get", base, "/mn6/Cx").rsc == 4103
    r = _send(p, psk, "get", base + "/mn3", "/mn3")
    assert r.rsc == 2000 and sorted(r.json["m2m:csr"]["dcse"]) == ["/mn6", "/mn7"], str(r)
