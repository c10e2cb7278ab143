"""243: two originators behind one gateway (one DTLS session: an MN-CSE's transit
session) cannot read each other's Block2 answers. RFC 7959 2.4 (Block2: the server may
keep the representation for the later blocks), TS-0003 7.1.2 / 7.2.1 (the hosting CSE
decides for each originator a registered CSE forwards for), TS-0008 6.5.

Attack: /mn3, an MN-CSE with a valid enrolment, registered, forwards for its devices
Cdev1 and Cdev2 over its one association with the IN-CSE. Cdev1 may read tep-cse/box,
Cdev2 may not. libcoap kept the answer of a first block for the later ones matched by
session, resource, method and Uri-Query only, and served block 1 without calling
tep-cse: Cdev2 asking for block 1 right after Cdev1's block 0 got Cdev1's content
(2.05). Now (patches/README.md item 10) the kept answer belongs to the From of the
request that made it: Cdev2's request reaches tep-cse and is decided (4103), while
Cdev1 reads its later blocks as before (same ETag)."""

import pytest

import pskclient
from harness import enrol_argv_safe_psk, gateway_platform
from onem2m_client import OneM2MClient, TY_ACP, TY_CIN, TY_CNT

pytestmark = pytest.mark.skipif(pskclient.available() is not None,
                                reason=str(pskclient.available()))

TY_CSR = 16
GET, POST = 1, 2  # aiocoap codes
CONTENT = "x" * 3000
SZX = 6  # 1024-byte blocks


@pytest.fixture(scope="module")
def gw():
    p, mns = gateway_platform(("mn1",))
    try:
        ident, kpsa = enrol_argv_safe_psk(p, p.add_enrolee("mn3", "--ae-id", "/mn3"))
        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"]) as a:
            base = p.env["CSE_NAME"]
            r = a.create(base, TY_ACP, {
                "rn": "acp-dev1", "pv": {"acr": [{"acor": ["/mn3/Cdev1"], "acop": 2}]},
                "pvs": {"acr": [{"acor": [p.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
            assert r.rsc == 2001, str(r)
            acp = r.resource(TY_ACP)["ri"]
            assert a.create(base, TY_CNT, {"rn": "box", "acpi": [acp]}).rsc == 2001
            assert a.create(base + "/box", TY_CIN, {"rn": "big", "con": CONTENT}).rsc == 2001
        yield p, ident, kpsa
        mns["mn1"].stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def test_later_block_is_decided_for_its_own_originator(gw):
    p, ident, kpsa = gw
    path = p.env["CSE_NAME"] + "/box/big"
    with pskclient.PskClient(p.ports["cse_coaps"], ident, kpsa) as mn3:
        r = mn3.onem2m(POST, p.env["CSE_NAME"], "/mn3", ty=TY_CSR, body={"m2m:csr": {
            "csi": "/mn3", "cb": "/mn3/mn3", "rr": True, "srv": ["3"],
            "poa": ["coap://192.0.2.1:5683"]}})
        assert r.rsc == 2001, "%s\n%s" % (r, p["cse"].tail())
        first = mn3.onem2m(GET, path, "/mn3/Cdev1", block2=(0, SZX))
        assert first.code == "2.05" and first.rsc == 2000, str(first)
        assert first.block2 is not None and first.block2.more, str(first)
        other = mn3.onem2m(GET, path, "/mn3/Cdev2", block2=(1, SZX))
        assert other.rsc == 4103 and CONTENT[:100] not in other.text, str(other)
        again = mn3.onem2m(GET, path, "/mn3/Cdev1", block2=(1, SZX))
        assert again.code == "2.05" and again.block2.block_number == 1, str(again)
        assert again.etag == first.etag, (again.etag, first.etag)
    assert "originator=/mn3/Cdev2" in p["cse"].log(), p["cse"].tail()
