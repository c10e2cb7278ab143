"""216: attack test, a usage-constrained key at its source's own registrar outliving the
enrolment (TS-0003 10.7: "a revoked or expired Ke revokes every key derived from it").
A device registers Kuc at the MEF for its registrar tep-cse (SUID 23 for ESPrim, SUID 22
for the SAEF), then its enrolee is revoked. tep-cse found a credential to revoke through
one KeID index entry per KeID, which the Kuc had overwritten (and the AE-ID's index
entry too): the Kpsa was revoked, the Kuc stayed usable until its own expiry (up to a
day). Now every key registered under that KeID is revoked with it: the Kuc's ESPrim
objects are refused (4112), and the device's other credentials keep their index."""

import time

import tepkeys
from harness import EsprimOriginator, ae_path


def test_revoking_the_enrolee_revokes_its_mef_keys_at_the_registrar(platform):
    p = platform
    dev = p.enrolled_device("rev216")
    ae = dev.state_values()["enrolee_id"]
    ke = bytes.fromhex(dev.state_values()["ke"])
    kuc = tepkeys.kuc(ke, 23, "/tep-cse")
    kid = tepkeys.kuc_id(kuc, p.env["MEF_FQDN"])
    r = dev.run("esprim", "retrieve", ae_path(p, dev), "--mef")
    assert r.rc == 0 and r.get("KEY_ID") == kid and r.get("RSC") == "2000", str(r)
    # a SAEF key for the registrar too: its Kpsa's index entries stay the Kpsa's
    r = dev.run("mef-run", "/tep-cse", p.env["CSE_COAPS"], "tep-cse", "--suid", "22")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    assert dev.run("retrieve", ae_path(p, dev)).rc == 0  # the Kpsa SAEF unchanged

    o = EsprimOriginator(p, ae, kid, tepkeys.e2e_keys(kuc, "/tep-cse")["msg_conf"])
    try:
        assert o.open(o.send(o.seal(o.inner(op=2, to=ae_path(p, dev)))))["rsc"] == 2000
        assert p.tepctl("enrolee", "revoke", "rev216").rc == 0
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
    # the SUID 22 key is refused as a PSK too
    r = dev.run("mef-connect", "/tep-cse", p.env["CSE_COAPS"], "tep-cse", "--suid", "22")
    assert r.rc == 2, "%s\n%s" % (r, p["cse"].tail())
