"""230: an unauthenticated client of an MN-CSE cannot borrow the MN-CSE's own CSE-ID at
its registrar. TS-0003 V3.x 7.2.1 (the registrar binds a registered CSE's requests to the
CSE-ID of its security association: a From equal to it is that CSE, authenticated), 7.1.2
(an originator behind it is not authenticated there), TS-0004 7.3.2.6 (forwarding).

Attack: a plain-CoAP client at /mn1 sends From "/mn1" to the IN-CSE's <remoteCSE> of /mn1
(whose creator is /mn1). Forwarded as it was, the IN-CSE saw /mn1 over /mn1's own DTLS
session: it could read, rewrite (poa, dcse) or delete /mn1's registration. Now /mn1
refuses to forward its own CSE-ID for a client: 4106 `from_is_this_cse`."""

import pytest

from harness import gateway_platform
from onem2m_client import OneM2MClient


@pytest.fixture(scope="module")
def gw():
    p, mns = gateway_platform(("mn1",))
    try:
        yield p, mns["mn1"]
        mns["mn1"].stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def _in_csr(p):
    return "~/%s/%s/mn1" % (p.env["CSE_ID"].lstrip("/"), p.env["CSE_NAME"])


def test_plain_client_claiming_the_mn_cse_is_not_forwarded(gw):
    p, mn = gw
    port = int(mn.coap.rsplit(":", 1)[1])
    with OneM2MClient("127.0.0.1", port, "/mn1") as forger:
        r = forger.retrieve(_in_csr(p))
        assert r.rsc == 4106, "%s\n%s" % (r, mn.tail())
        r = forger.update(_in_csr(p), 16, {"poa": ["coap://127.0.0.1:9"]})
        assert r.rsc == 4106, str(r)
        r = forger.delete(_in_csr(p))
        assert r.rsc == 4106, str(r)
    assert "event=not_forwarded reason=from_is_this_cse" in mn.log(), mn.tail()
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"]) as admin:
        r = admin.retrieve("%s/mn1" % p.env["CSE_NAME"])
        assert r.rsc == 2000 and r.resource(16)["poa"] != ["coap://127.0.0.1:9"], str(r)


def test_another_plain_originator_is_forwarded_and_decided_at_the_in_cse(gw):
    """The same request with a client's own From goes through and the IN-CSE decides
    (its <remoteCSE> of /mn1 is not open to /mn1/Cplain: 4103)."""
    p, mn = gw
    port = int(mn.coap.rsplit(":", 1)[1])
    with OneM2MClient("127.0.0.1", port, "Cplain") as c:
        r = c.retrieve(_in_csr(p))
        assert r.rsc == 4103, "%s\n%s" % (r, p["cse"].tail())
