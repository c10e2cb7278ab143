"""198: a valid B-TID is used again (TS-0003 8.3.2.3: "If a bootstrapped key Ks is
already shared between Enrolee and the MEF and still valid, then the Bootstrap Enrolment
Handshake phase is not needed"). A GBA device that enrols a second time while its
enrolment (KeID = B-TID, bounded by the B-TID's lifetime) is valid goes straight to the
MEF Handshake with the same B-TID and Ks_NAF: tep-bsf sees no second challenge, the MEF
answers with the same enrolment, also after a restart of tep-enroller (whose NAF key
cache is then empty: it asks Zn again)."""

import gba_common


def test_second_enrolment_skips_the_bootstrapping(platform_factory):
    p = platform_factory(bsf=True)
    usim = gba_common.add_subscriber(p)
    dev = gba_common.gba_device(p, "again", usim)
    assert dev.run("enrol").rc == 0
    first = dev.state_values()["ke_id"]
    p["enroller"].stop()
    p["enroller"].start()
    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    assert dev.state_values()["ke_id"] == first
    st = p.tepctl("status", "bsf", admin="bsf")
    assert (st.get("challenges"), st.get("bootstraps")) == ("1", "1"), str(st)
    p["enroller"].wait_log("event=enrol_repeated kpm_id=again", 5)
    assert dev.run("run").rc == 0
