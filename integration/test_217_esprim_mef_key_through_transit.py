"""217: ESPrim through a transit CSE with a key from the MEF (TS-0003 8.4.1, 8.6.2 with
8.3.5.2.7; docs/internals.md "ESPrim"). A device enrolled for the MN-CSE /mn1 (its Kpsa
goes to /mn1 only) registers a usage-constrained key Kuc for the IN-CSE /tep-cse with
SUID 23 at the MEF; the enroller hands it to /tep-cse, which also knows (keyless,
SyncItem.ae_target) that the device's enrolment, the one Kuc comes from, is for /mn1:
the key's owner there is "/mn1/<AE-ID>", as a request /mn1 forwards for it would say.
The device's ESPrim objects go through /mn1 to the IN-CSE, which answers them; /mn1 never
holds the plaintext nor the key. No certificate anywhere (before, only ESCertKE keys
worked through a transit CSE: the IN-CSE took the key's owner to be the bare AE-ID, which
an inner request arriving through /mn1 never is)."""

import pytest

from harness import gateway_platform, wait_registered
from onem2m_client import OneM2MClient

TY_ACP, TY_CNT = 1, 3


@pytest.fixture
def gw():
    p, mns = gateway_platform(("mn1",))
    mn = mns["mn1"]
    try:
        wait_registered(mn, 1)
        yield p, mn
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def test_esprim_with_a_mef_key_through_the_mn_cse(gw):
    p, mn = gw
    dev = p.add_enrolee("gwm217", "--target", "/mn1")
    assert dev.run("enrol").rc == 0
    r = dev.run("register")
    assert r.rc == 0, "%s\n%s" % (r, mn.tail())
    ae = dev.state_values()["enrolee_id"]
    sp = "/mn1/" + ae
    base, cse = p.env["CSE_NAME"], p.env["CSE_ID"]
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"]) as admin:
        acp = admin.create(base, TY_ACP, {
            "rn": "acp217", "pv": {"acr": [{"acor": [sp], "acop": 63}]},
            "pvs": {"acr": [{"acor": [p.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        assert admin.create(base, TY_CNT, {"rn": "box217",
                                           "acpi": [acp.resource(TY_ACP)["ri"]]}).rsc == 2001
    secret = "plaintext-217-kuc-through-mn1"
    r = dev.run("esprim", "create", "~%s/%s/box217" % (cse, base), "--ty", "4",
                "--pc", '{"m2m:cin":{"con":"%s"}}' % secret, "--mef", "--cse", cse)
    assert r.rc == 0 and r.get("RSC") == "2001", "%s\n%s\n%s" % (r, mn.tail(), p["cse"].tail())
    kid = r.get("KEY_ID")
    assert kid.endswith("@" + p.env["MEF_FQDN"]), str(r)
    p["cse"].wait_log(r"event=esprim_answered kid=%s originator=%s inner_rsc=2001" % (kid, sp), 5)
    assert secret not in mn.log() and kid not in mn.log(), mn.tail()  # /mn1 holds no key
