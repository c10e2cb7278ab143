"""215: at the IN-CSE, the enrolment (not only the certificate) of an ESCertKE/ESPrim
originator that reaches it through its MN-CSE (TS-0003 10.7: a key ends with the
enrolment it comes from; 8.7 ESCertKE and 8.4 ESPrim through a transit CSE). The device
is enrolled for /mn1, so its Kpsa goes to /mn1 only; the enroller now also tells the other
CSEs of that enrolment, without a key (SyncItem.ae_target: its KeID, /mn1, its expiry),
and the IN-CSE accepts the certificate of "/mn1/<AE-ID>" only while that enrolment is
the current one, for /mn1, neither revoked nor expired, with the certificate issued under
it; each use of an established key checks it again. Before, only the certificate's own
revocation and expiry were checked there: a re-enrolled device's previous certificate
(whose enrolment the re-enrolment revoked) still established keys at the IN-CSE."""

import pytest

from harness import (cert_of, gateway_platform, restart_cse_with_certificate, wait_registered)
from onem2m_client import OneM2MClient

TY_ACP, TY_CNT = 1, 3


@pytest.fixture
def gw():
    p, mns = gateway_platform(("mn1",))
    mn = mns["mn1"]
    try:
        restart_cse_with_certificate(p)
        wait_registered(mn, 2)
        yield p, mn
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def _esprim(p, dev, to):
    return dev.run("esprim", "retrieve", to, "--escertke", "--cse", p.env["CSE_ID"])


def test_the_in_cse_checks_the_enrolment_behind_the_mn_cse(gw):
    p, mn = gw
    dev, _, _, _ = cert_of(p, "gwe215", "--target", "/mn1")
    assert dev.run("register").rc == 0
    ae = dev.state_values()["enrolee_id"]
    sp = "/mn1/" + ae
    base, cse = p.env["CSE_NAME"], p.env["CSE_ID"]
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"]) as admin:
        acp = admin.create(base, TY_ACP, {
            "rn": "acp215", "pv": {"acr": [{"acor": [sp], "acop": 63}]},
            "pvs": {"acr": [{"acor": [p.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        assert admin.create(base, TY_CNT, {"rn": "box215",
                                           "acpi": [acp.resource(TY_ACP)["ri"]]}).rsc == 2001
    to = "~%s/%s/box215" % (cse, base)

    r = _esprim(p, dev, to)
    assert r.rc == 0 and r.get("RSC") == "2000", "%s\n%s\n%s" % (r, mn.tail(), p["cse"].tail())
    p["cse"].wait_log(r"event=escertke_established originator=%s" % sp, 5)

    # re-enrolled: a new Ke and KeID, the previous enrolment revoked. Its Kpsa at /mn1 is
    # new; the certificate it still holds was issued under the previous enrolment
    assert dev.run("enrol").rc == 0
    # (both events come in one enroller transaction: one sync batch at the IN-CSE)
    p["cse"].wait_log(r"event=sync_applied .*revocations=1", 5)
    r = _esprim(p, dev, to)
    assert r.rc != 0 and "ESCertKE" in r.err, "%s\n%s" % (r, p["cse"].tail())
    p["cse"].wait_log(r"event=escertke_cert_refused reason=cert_not_of_current_enrolment", 5)
    p["cse"].wait_log(r'event=escertke_refused rsc=4103 reason="certificate no longer usable" '
                      r'originator=%s' % sp, 5)

    # a certificate of the current enrolment: accepted again
    assert dev.run("cert").rc == 0
    r = _esprim(p, dev, to)
    assert r.rc == 0 and r.get("RSC") == "2000", "%s\n%s" % (r, p["cse"].tail())
