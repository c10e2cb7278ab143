"""175: an MN-CSE with no bus to tep-authz serves the MAF-based SAEF (TS-0003 8.2.2.3)
with a Kc it retrieves the spec's way: MAF Key Retrieval over CoAPS (8.8.2.8), GET
maf/keys/<relativeKeyID> in its own MAF Handshake (DTLS-PSK with the Km of its enrolment,
Enrolee-ID /mn1; `[maf] retrieval = coaps`, docs/internals.md "MAF Key Retrieval over
CoAPS at tep-cse"). A device provisioned for /mn1 runs `tep-device maf-run`: it
registers a Kc for /mn1 at the MAF and opens DTLS-PSK to the MN-CSE with it; the MN-CSE
refuses the unknown identity, fetches the key over CoAPS (tep-authz logs the CoAPS
retrieval for target /mn1, never a bus retrieval), and the device's retried handshake is
served: its AE registers and writes data there, bound to its AE-ID."""

import os
import re

import pytest

import maf_coaps_common as mc


@pytest.fixture(scope="module")
def gw():
    p, mn = mc.mn_platform()
    try:
        yield p, mn
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def test_device_served_with_a_kc_fetched_over_coaps(gw):
    p, mn = gw
    dev = p.add_enrolee("dev175", "--target", "/mn1")
    r = dev.run("maf-run")
    assert r.rc == 0, "%s\n%s" % (r, mn.tail())
    key_id = r.get("KC_ID")
    assert key_id and key_id.endswith("@" + p.env["MAF_ID"]), str(r)
    k = re.escape(key_id)
    # the MN-CSE: refused while unknown, stored from the CoAPS answer, then bound
    mn.wait_log(r"event=handshake_refused reason=unknown_identity identity=%s" % k, 5)
    mn.wait_log(r"event=maf_key_stored key_id=%s enrolee_id=Cdev175 expires=\d+ over=coaps" % k, 5)
    mn.wait_log(r"event=session_bound identity=%s enrolee_id=Cdev175" % k, 5)
    # the MAF: the CoAPS retrieval by /mn1 (its MAF Handshake), no bus retrieval of it
    p["authz"].wait_log(r"event=maf_key_retrieved over=coaps key_id=%s target=/mn1 suid=32" % k, 5)
    assert not re.search(r"event=maf_key_retrieved key_id=%s" % k, p["authz"].log()), \
        p["authz"].log()
    # the device's data is at the MN-CSE (maf-run registered, wrote and read it back)
    assert "hello-tep" in r.out, str(r)
    r = dev.run("retrieve", "mn1/Cdev175/data/la")
    # a Kpsa session now (tep-device's default): the same AE, its data there
    assert r.rsc == 2000 and "hello-tep" in r.out, "%s\n%s" % (r, mn.tail())
    # nothing of the key in either log
    assert "keyValue" not in mn.log(since_start=False) + p["authz"].log()



def test_in_cse_with_its_own_provisioning_file(gw):
    """A CSE with no registrar enrolment to borrow (an IN-type tep-cse /in175) is given
    its own provisioning file (`tepctl enrolee add in175 --ae-id /in175`) as `[maf]
    provisioning`/`state`: it enrols at its first retrieval (Enrolee-ID /in175, the MAF's
    point of access from that enrolment) and serves a device's Kc for /in175."""
    p, mn = gw
    own = p.add_enrolee("in175", "--ae-id", "/in175")
    assert not os.path.exists(own.state)
    cse = p.add_cse("in175", "/in175", cse_type="IN", extra=[("maf", [
        ("retrieval", "coaps"), ("provisioning", own.prov), ("state", own.state)])])
    cse.start()
    try:
        lib = mc.sdk()
        d = mc.Dev(p, lib, "dev175i")
        try:
            kc, key_id = d.register_key("/in175")
            rc, _ = d.connect(kc, cse.coaps)
            assert rc == 0, cse.tail()
            k = re.escape(key_id)
            cse.wait_log(r"event=maf_client_enrolled enrolee_id=/in175", 5)
            cse.wait_log(r"event=maf_key_stored key_id=%s enrolee_id=Cdev175i .*over=coaps" % k, 5)
            cse.wait_log(r"event=session_bound identity=%s enrolee_id=Cdev175i" % k, 5)
            p["authz"].wait_log(r"event=maf_key_retrieved over=coaps key_id=%s target=/in175" % k,
                                5)
            # the MN-CSE, not a target, never gets it
            assert "key_id=%s" % key_id not in mn.log(), mn.tail()
        finally:
            d.free()
    finally:
        cse.stop()
