"""231: a registered CSE cannot take over another CSE's route or originators with its
descendantCSEs. TS-0001 V3.36 8.2.1.1 (routing by <remoteCSE> csi and dcse), TS-0003
7.2.1 (a CSE may forward only for originators behind it: else 4106), TS-0004 7.4.4.2.1
(the registrar checks the registree's <remoteCSE>).

Attack: a rogue CSE enrolled as /mn3 (a valid enrolment at the IN-CSE; its requests sent
with coap-client-openssl over DTLS-PSK with its Kpsa) registers with dcse ["/mn1"]: the
IN-CSE then accepted From "/mn1/<AE>" over /mn3's session (an originator of /mn1 forged),
and could route requests for /mn1 to /mn3. Now a dcse naming a registered CSE (or one
another registree already announces, this CSE, its registrar, the registree itself, a
non-CSE-ID) is 4000 on CREATE and UPDATE, at most 256 dcse and 8 poa; a From is accepted
through a peer only when the route to the originator's CSE leads to that peer."""

import json

import pytest

from harness import enrol_argv_safe_psk, gateway_platform
from thirdparty import COAP_CLIENTS, coap_client

pytestmark = pytest.mark.skipif(COAP_CLIENTS["openssl"] is None,
                                reason="coap-client-openssl (libcoap3-bin) missing")

TY_CSR = 16


@pytest.fixture(scope="module")
def rogue():
    p, mns = gateway_platform(("mn1",), targets=("/mn3=coaps://127.0.0.1:9",))
    try:
        psk = enrol_argv_safe_psk(p, p.add_enrolee("mn3", "--ae-id", "/mn3"))
        # a CSE enrolled for /mn3 (its descendant to be: test 238 for the others)
        r = p.add_enrolee("mn6", "--ae-id", "/mn6", "--target", "/mn3").run("enrol")
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


def _csr(dcse, poa=("coap://127.0.0.1:9",)):
    return {"csi": "/mn3", "cb": "/mn3/mn3", "rr": True, "srv": ["3"], "poa": list(poa),
            "dcse": dcse}


def test_dcse_naming_a_registered_cse_is_refused(rogue):
    p, mn1, psk = rogue
    base = p.env["CSE_NAME"]
    r = _send(p, psk, "post", base, "/mn3", TY_CSR, _csr(["/mn1"]))
    assert r.rsc == 4000, "%s\n%s" % (r.rsc, p["cse"].tail())
    assert "reason=dcse_names_another_cse" in p["cse"].log()
    for bad in (["/mn3"], [p.env["CSE_ID"]], ["mn9"], ["/a/b"],
                ["/x%d" % i for i in range(257)]):
        r = _send(p, psk, "post", base, "/mn3", TY_CSR, _csr(bad))
        assert r.rsc == 4000, "%s %s" % (bad[:2], r.rsc)
    r = _send(p, psk, "post", base, "/mn3", TY_CSR,
              _csr([], ["coap://127.0.0.1:%d" % (9 + i) for i in range(9)]))
    assert r.rsc == 4000, str(r.rsc)


def test_registered_with_its_own_descendant_then_claiming_mn1(rogue):
    """Registered with dcse ["/mn6"] (a CSE enrolled for /mn3), /mn3 forwards for
    /mn6's originators (not authenticated at the IN-CSE: decided there, 4103), never
    for /mn1's (4106); an UPDATE adding /mn1 to its dcse is 4000; requests for /mn1
    still reach /mn1."""
    p, mn1, psk = rogue
    base = p.env["CSE_NAME"]
    attrs = dict(_csr(["/mn6"]), rn="mn4")  # the name of a CSE still to register
    r = _send(p, psk, "post", base, "/mn3", TY_CSR, attrs)
    assert r.rsc == 2001, "%s\n%s" % (r.rsc, p["cse"].tail())
    assert r.location == base + "/mn3", r.location  # named after its own CSE-ID
    assert _send(p, psk, "get", base, "/mn6/Cx").rsc == 4103
    r = _send(p, psk, "get", base, "/mn1/Cgwdev")
    assert r.rsc == 4106, "%s\n%s" % (r.rsc, p["cse"].tail())
    r = _send(p, psk, "put", base + "/mn3", "/mn3", attrs={"dcse": ["/mn6", "/mn1"]})
    assert r.rsc == 4000, "%s\n%s" % (r.rsc, p["cse"].tail())
    r = _send(p, psk, "get", "~/mn1/mn1", "/mn3/Cx")  # routed to /mn1, decided there
    assert r.rsc == 4103, "%s\n%s" % (r.rsc, mn1.tail())
    assert "originator=/mn3/Cx" in mn1.log(), mn1.tail()
