"""176: over CoAPS the MAF gives a Kc to its targets only (TS-0003 8.8.2.8). A device
provisioned for the MN-CSE /mn1 registers a Kc whose target is the IN-CSE /tep-cse and
presents it to /mn1 (`[maf] retrieval = coaps`, no bus to tep-authz): /mn1 asks the MAF
in its own MAF Handshake, the MAF answers 4.03 (client /mn1 is not a target), /mn1 refuses
the handshake and every retry, nothing is stored or bound there. The device's retries
(about 1.5 s) cost one retrieval: a refused identity is not asked for again for 5 s. The
same Kc is good at its real target (the IN-CSE serves it), so the refusal is about the
target, not the key."""

import re
import time

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


def test_kc_for_another_cse_is_refused_at_the_maf_and_the_handshake_fails(gw):
    p, mn = gw
    lib = mc.sdk()
    d = mc.Dev(p, lib, "dev176")
    try:
        kc, key_id = d.register_key(p.env["CSE_ID"])  # the IN-CSE's key, not /mn1's
        k, rel = re.escape(key_id), key_id.split("@")[0]
        rc, _ = d.connect(kc)  # to /mn1, the device's registrar, retried ~1.5 s
        assert rc == mc.TEP_EDENIED, rc
        p["authz"].wait_log(r"event=maf_key_retrieval_refused client=/mn1 id=%s code=403" % rel, 5)
        mn.wait_log(r'event=maf_key_refused key_id=%s reason="[^"]+" over=coaps' % k, 5)
        mn.wait_log(r"event=handshake_refused reason=unknown_identity identity=%s" % k, 5)
        assert "event=maf_key_stored key_id=%s" % key_id not in mn.log(), mn.tail()
        assert "identity=%s enrolee_id" % key_id not in mn.log(), mn.tail()
        assert "event=maf_key_retrieved over=coaps key_id=%s" % key_id not in p["authz"].log()
        # bounded: the retries' handshakes, one question to the MAF
        refused = re.findall(r"event=maf_key_retrieval_refused client=/mn1 id=%s" % rel,
                             p["authz"].log())
        tries = re.findall(r"event=handshake_refused reason=unknown_identity identity=%s" % k,
                           mn.log())
        assert len(refused) == 1 and len(tries) > 1, (len(refused), len(tries))
        # past the 5 s, a new handshake asks again and is refused again
        time.sleep(5.2)
        rc, _ = d.connect(kc)
        assert rc == mc.TEP_EDENIED, rc
        deadline = time.monotonic() + 5
        while len(re.findall(r"event=maf_key_retrieval_refused client=/mn1 id=%s" % rel,
                             p["authz"].log())) < 2:
            assert time.monotonic() < deadline, p["authz"].log()
            time.sleep(0.05)
        # the key itself is good where it belongs: the IN-CSE (over its bus) serves it
        rc, _ = d.connect(kc, p.env["CSE_COAPS"])
        assert rc == 0, p.logs()
        p["cse"].wait_log(r"event=session_bound identity=%s enrolee_id=Cdev176" % k, 5)
    finally:
        d.free()
