"""212: ESPrim with a pairwise key from the MEF (TS-0003 8.4.2 with 8.6.2 and 8.3.5.2.7:
MEF Key Registration of a usage-constrained key Kuc for SUID 23, "a symmetric key,
provisioned via a RSPF, and intended for use in ESPrim", TS-0004 6.3.4.2.39). The device
registers Kuc for tep-cse's CSE-ID, the enroller hands it to tep-cse over sync, and an
ESPrim request sealed with its Ke2e_msg_conf (End-Point-B = /tep-cse, docs/keys.md item
22) is answered. Key separation: the same key as a DTLS PSK is refused (an attack test:
a key given for ESPrim must not open a secure channel), and so is an ESData key (24)
registered for the CSE. Python derives the key from the device's Ke (tepkeys.py) and a
joserfc ESPrim object under it is answered until the key is de-registered (4112)."""

import re
import time

import tepkeys
from harness import EsprimOriginator, ae_path


def test_esprim_with_a_mef_key_and_key_separation(platform):
    p = platform
    dev = p.enrolled_device("dev212")
    ae = dev.state_values()["enrolee_id"]
    ke = bytes.fromhex(dev.state_values()["ke"])
    kuc = tepkeys.kuc(ke, 23, "/tep-cse")
    kid = tepkeys.kuc_id(kuc, p.env["MEF_FQDN"])

    r = dev.run("esprim", "retrieve", ae_path(p, dev), "--mef")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    assert r.get("KEY_ID") == kid and r.get("RSC") == "2000", str(r)
    p["cse"].wait_log(r"event=esprim_answered kid=%s originator=%s inner_rsc=2000"
                      % (re.escape(kid), ae), 5)

    # the same key as a DTLS PSK: refused by tep-cse (SUID 23 is no SAEF key)
    r = dev.run("mef-connect", "/tep-cse", p.env["CSE_COAPS"], "tep-cse", "--suid", "23")
    assert r.rc == 2 and r.get("KEY_ID") == kid, "%s\n%s" % (r, p.logs())
    p["cse"].wait_log(r"event=handshake_refused reason=not_a_saef_key identity=%s"
                      % re.escape(kid), 5)
    # an ESData key registered for the CSE never reaches it (retrieval only): unknown
    r = dev.run("mef-run", "/tep-cse", p.env["CSE_COAPS"], "tep-cse", "--suid", "24")
    assert r.rc == 2 and r.get("KEY_ID"), "%s\n%s" % (r, p.logs())
    p["cse"].wait_log(r"event=handshake_refused reason=unknown_identity identity=%s"
                      % re.escape(r.get("KEY_ID")), 5)
    # and the device's SAEF with Kpsa is unaffected
    assert dev.run("retrieve", ae_path(p, dev)).rc == 0

    # joserfc, with the key derived in Python, is answered under the same kid
    o = EsprimOriginator(p, ae, kid, tepkeys.e2e_keys(kuc, "/tep-cse")["msg_conf"])
    try:
        rsp = o.open(o.send(o.seal(o.inner(op=2, to=ae_path(p, dev)))))
        assert rsp["rsc"] == 2000 and rsp["pc"]["m2m:ae"]["aei"] == ae, rsp
        # a key for ESPrim with the wrong End-Point-B (the device's own ID) is refused 4115
        o2 = EsprimOriginator(p, ae, kid, tepkeys.e2e_keys(kuc, ae)["msg_conf"])
        r2 = o2.send(o2.seal(o2.inner(op=2, to=ae_path(p, dev))))
        assert r2.rsc == 4115, str(r2)
        o2.client.close()

        # Key De-Registration: tep-cse drops the key (sync), the next object is 4112
        r = dev.run("mef-deregister-key", "/tep-cse", "--suid", "23")
        assert r.rc == 0, "%s\n%s" % (r, p.logs())
        deadline = time.monotonic() + 5
        while True:
            o.new_session()
            r = o.send(o.seal(o.inner(op=2, to=ae_path(p, dev))))
            if r.rsc != 2000 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.rsc == 4112, str(r)
    finally:
        o.client.close()
