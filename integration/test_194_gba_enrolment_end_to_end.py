"""194: a device enrolled through GBA end to end (TS-0003 8.3.2.3 and Annex A; 3GPP TS
33.220 4.5.2, 4.5.3): libtepae's software USIM bootstraps with tep-bsf over Ub (HTTP
Digest AKA), derives Ks_NAF for the MEF's FQDN and opens the MEF Handshake with
psk_identity = B-TID, psk = Ks_NAF; tep-enroller, a NAF, gets the same Ks_NAF from
tep-bsf over Zn; the enrolment has Ke = Ks_NAF and KeID = B-TID, lives no longer than
the B-TID, and the device then registers with tep-cse over the provisioned-symmetric-key
SAEF (8.2.2.1) with the Kpsa derived from that Ke, as any other device does. The
enrolment's Ke is checked against an independent derivation (tepgba.py) of Ks_NAF from
the USIM's K and the B-TID's RAND."""

import base64
import calendar
import time

import gba_common
import harness
import tepgba
import tepkeys


def test_device_enrols_through_gba_and_registers(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    dev = gba_common.gba_device(p, "gbadev", usim)
    r = dev.run("run")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    st = dev.state_values()
    btid = st["ke_id"]
    rows = gba_common.table(p.tepctl("gba", "btids", admin="bsf"))
    assert [row[0] for row in rows] == [btid], rows
    # Ke = Ks_NAF(NAF = the MEF's FQDN), computed here from K and the B-TID's RAND
    rand = base64.b64decode(btid.split("@")[0])
    _, ck, ik, _, _ = tepgba.f2345(usim.k, usim.opc, rand)
    ks_naf = tepgba.ks_naf(ck, ik, rand, gba_common.IMPI, p.env["MEF_FQDN"])
    assert st["ke"] == ks_naf.hex(), st
    # the enrolment lives no longer than the B-TID
    life = calendar.timegm(time.strptime(rows[0][3], "%Y-%m-%dT%H:%M:%SZ"))
    assert 0 < int(st["expires"]) <= life, (st, rows)
    assert st["enrolee_id"] == "Cgbadev", st
    # the SAEF to tep-cse with Kpsa from that Ke, as for any device
    assert dev.run("retrieve", "tep-cse/Cgbadev/data/la").rsc == 2000
    assert harness.kpsa_identity(p, dev) == tepkeys.kpsa_id(
        tepkeys.kpsa(ks_naf, p.env["CSE_ID"]), p.env["MEF_FQDN"])
    p["enroller"].wait_log("event=enrolled kpm_id=gbadev ke_id=" + btid.replace("+", r"\+"), 5)

