"""309: over CoAPS the admin originator is not honoured on an AE's session, while plain
CoAP on loopback honours it; what one transport created, the other sees.
TS-0003 V3.18 7.2.1 (the originator is bound to the security association: a From that
is not the session's identity is refused, 4106 ORIGINATOR_NOT_AUTHENTICATED), TS-0008
Table 6.2.4-1 (4106 -> 4.03). CoAPS is driven by tep's SDK (aiocoap's DTLS transport
needs the DTLSSocket package, whose tinydtls build runs autoreconf, not installed here)."""

from harness import ae_path, device_with_data
from onem2m_client import OneM2MClient, TY_AE, TY_CIN


def test_admin_originator_refused_on_an_ae_session(platform):
    dev, cnt, cin = device_with_data(platform, "device01", value="over-coaps")
    r = dev.run("retrieve", cin, from_=platform.env["ADMIN_ORIGINATOR"])
    assert r.rc == 3 and r.rsc == 4106, "%s\n%s" % (r, platform.logs())


def test_plain_coap_admin_sees_what_coaps_created(platform):
    dev, cnt, cin = device_with_data(platform, "device02", value="seen-by-admin")
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      platform.env["ADMIN_ORIGINATOR"]) as admin:
        got = admin.retrieve(cin)
        assert got.rsc == 2000 and got.resource(TY_CIN)["con"] == "seen-by-admin", str(got)
        ae = admin.retrieve(ae_path(platform, dev))
        assert ae.resource(TY_AE)["aei"] == dev.state_values()["enrolee_id"], str(ae)
