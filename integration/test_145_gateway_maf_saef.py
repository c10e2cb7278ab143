"""145: the MN-CSE as Entity A of the MAF-based SAEF with its registrar (TS-0003 V4
8.2.2.3 with 8.2.2.x "If Entity A is a CSE", 8.8.2.4 MAF Key Registration; issue 14
item 2). The MN-CSE /mn1 (`[registrar] credential = maf`) enrols with its CSE-ID as
Enrolee-ID, runs the MAF Handshake with tep-authz (Km), registers a key for its
registrar /tep-cse (SUID 32, Kc/KcID from EXPORTER-oneM2M-Connection) and opens
DTLS-PSK to the IN-CSE with psk_identity = the Key Identifier, psk = Kc. The IN-CSE
retrieves Kc from the MAF as it does for an AE's and binds the session to the key's
source, /mn1. Through it an application at the IN-CSE reads a device's data hosted at
the MN-CSE and an IN-side client writes there. Refused: a Kc registered for another
target (the MAF gives it to no one else: the handshake never succeeds, no <remoteCSE>),
and a revoked gateway's Kc session is closed (10.7), its devices unreachable."""

import time

import pytest

from harness import gateway_with_device, until_rsc
from onem2m_client import OneM2MClient

TY_CIN, TY_CSR = 4, 16


@pytest.fixture(scope="module")
def gw():
    with gateway_with_device("7.25bar", credential="maf", maf=True) as g:
        yield g


def _kc_id(mn):
    for line in mn.log(since_start=False).splitlines():
        if "event=credential_loaded credential=maf" in line:
            return line.split("identity=")[1].split()[0]
    raise AssertionError("no Kc loaded:\n%s" % mn.tail())


def test_mn_cse_registers_with_a_kc(gw):
    """The MN-CSE's Kc is registered at the MAF for /tep-cse with /mn1 as its source; the
    IN-CSE fetched it and bound the session to /mn1."""
    p, mn, dev, app, mn_admin = gw
    assert "over=dtls_psk_kc" in mn.log(since_start=False), mn.tail()
    kc_id = _kc_id(mn)
    assert kc_id.endswith("@" + p.env["MAF_ID"]), kc_id
    p["cse"].wait_log(r"event=maf_key_stored key_id=%s enrolee_id=/mn1" % kc_id, 5)
    p["cse"].wait_log(r"event=session_bound identity=%s enrolee_id=/mn1" % kc_id, 5)
    keys = p.tepctl("maf", "keys", admin="authz")
    line = [x for x in keys.out.splitlines() if x.startswith(kc_id)]
    assert line and " /mn1 " in line[0] and line[0].rstrip().endswith("/tep-cse"), keys.out
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
        r = c.retrieve("%s/mn1" % p.env["CSE_NAME"])
        assert r.rsc == 2000 and r.resource(TY_CSR)["csi"] == "/mn1", str(r)
    assert "/mn1:sa" in p.status("cse")["registered_cses"].split(",")


def test_in_application_reads_device_data_through_the_kc_session(gw):
    p, mn, dev, app, mn_admin = gw
    r = app.run("retrieve", "~/mn1/mn1/Cgwdev/data/la")
    assert r.rsc == 2000 and "7.25bar" in r.out, "%s\n%s" % (r, mn.tail())


def test_in_side_write_reaches_the_device_data(gw):
    p, mn, dev, app, mn_admin = gw
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
        r = c.create("~/mn1/mn1/Cgwdev/data", TY_CIN, {"cnf": "text/plain:0", "con": "valve=open"})
        assert r.rsc == 2001, "%s\n%s" % (r, mn.tail())
    r = dev.run("retrieve", "mn1/Cgwdev/data/la")
    assert r.rsc == 2000 and "valve=open" in r.out, str(r)


def test_kc_for_another_target_is_refused(gw):
    """An MN-CSE /mnk whose Kc names /mn1 as target (its enrolment's registrar) and which
    presents it at the IN-CSE: the MAF refuses the retrieval to /tep-cse (not a target),
    every handshake is refused, no <remoteCSE> is made."""
    p, mn, dev, app, mn_admin = gw
    p.add_enrolee("mnk", "--ae-id", "/mnk", "--target", "/mn1")
    reg = p.mn_registrar("mnk", credential="maf")
    reg.update(cse_id="/mn1", cse_name="mn1")  # the key's target; the IN-CSE's address
    mnk = p.add_cse("mnk", "/mnk", registrar=reg)
    mnk.start()
    try:
        mnk.wait_log(r"event=credential_loaded credential=maf", 15)
        kc_id = _kc_id(mnk)
        p["authz"].wait_log(r"event=maf_key_retrieval_refused .*%s" % kc_id.split("@")[0], 10)
        p["cse"].wait_log(r"event=handshake_refused reason=unknown_identity identity=%s" % kc_id, 5)
        time.sleep(2.5)  # retries: still refused, never bound
        assert "identity=%s enrolee_id" % kc_id not in p["cse"].log()
        assert "event=maf_key_stored key_id=%s" % kc_id not in p["cse"].log()
        assert "event=registered" not in mnk.log(), mnk.tail()
        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
            assert c.retrieve("%s/mnk" % p.env["CSE_NAME"]).rsc == 4004
    finally:
        mnk.stop()


def test_kc_renewed_before_it_ends(gw):
    """An MN-CSE whose enrolment (so every Kc: the MAF bounds a key by the enrolment)
    ends in less than two minutes registers a new Kc before the current one ends (at
    most one per 30 s): a second key at the MAF for /tep-cse with the same source, which
    the IN-CSE fetches too."""
    p, mn, dev, app, mn_admin = gw
    p.add_enrolee("mnr", "--ae-id", "/mnr", "--lifetime", "110")
    mnr = p.add_cse("mnr", "/mnr", registrar=p.mn_registrar("mnr", credential="maf"))
    mnr.start()
    try:
        mnr.wait_log(r"event=registered registrar=/tep-cse", 15)
        first = _kc_id(mnr)
        deadline = time.monotonic() + 45
        ids = [first]
        while len(ids) < 2 and time.monotonic() < deadline:
            ids = [x.split("identity=")[1].split()[0] for x in mnr.log().splitlines()
                   if "event=credential_loaded credential=maf" in x]
            time.sleep(0.5)
        assert len(ids) >= 2 and ids[1] != first, mnr.tail()
        p["cse"].wait_log(r"event=maf_key_stored key_id=%s enrolee_id=/mnr" % ids[1], 5)
        keys = p.tepctl("maf", "keys", admin="authz").out.splitlines()
        mine = [x for x in keys if " /mnr " in x and x.rstrip().endswith("/tep-cse")]
        assert len(mine) >= 2, keys
    finally:
        mnr.stop()


def test_revoked_gateway_kc_session_closed(gw):
    """Last: revoking the MN-CSE's enrolment revokes its Kc at the IN-CSE (source revoked)
    and closes the session; the device's data is TARGET_NOT_REACHABLE from the IN side
    within a second."""
    p, mn, dev, app, mn_admin = gw
    path = "~/mn1/mn1/Cgwdev/data/la"
    assert app.run("retrieve", path).rsc == 2000
    kc_id = _kc_id(mn)
    assert p.tepctl("enrolee", "revoke", "mn1").rc == 0
    until_rsc(lambda: app.run("retrieve", path), 5103, 1.0, p["cse"])
    p["cse"].wait_log(r"event=maf_key_revoked key_id=%s reason=source_revoked" % kc_id, 5)
    mn.wait_log(r"event=registrar_session_closed", 5)
