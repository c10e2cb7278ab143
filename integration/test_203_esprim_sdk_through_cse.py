"""203: end-to-end security of primitives with libtepae as the Originator and tep-cse as
the Receiver (TS-0003 8.4.2, 8.4.3.2; TS-0004 7.6.2 and 7.5.1.2.11; keys 10.3.6/10.3.8
with the pairwiseESPrimKey from Kpsa, 8.6.2). `tep-device esprim` asks the CSEBase for a
receiver rand object (NOTIFY m2m:seci sit 3 -> sit 4), makes its originator rand object,
protects each inner request as a JWE "dir" A256GCM object (sit 5) and opens the protected
inner response. Over plain CoAP, where the enrolled AE is otherwise refused (4107
SECURITY_ASSOCIATION_REQUIRED), the ESPrim object alone authenticates it: tep-cse sets
rq_authn from ESPrim (TS-0003 7.1.2, 7.2.2) and the inner request is decided by the
ordinary access rules (another AE's container stays 4103). The CSEBase advertises
e2eSecInfo (esf [23], a shared receiver rand object)."""

from harness import created_path
from onem2m_client import TY_CSE, OneM2MClient


def _device(platform):
    dev = platform.enrolled_device("esp203")
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    ae = "%s/%s" % (platform.env["CSE_NAME"], dev.state_values()["enrolee_id"])
    return dev, created_path(r, ae)


def _lines(result, key):
    return [line.split("=", 1)[1] for line in result.out.splitlines()
            if line.startswith(key + "=")]


def test_csebase_advertises_esprim(platform):
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      platform.env["ADMIN_ORIGINATOR"]) as admin:
        r = admin.retrieve(platform.env["CSE_NAME"])
    assert r.rsc == 2000, str(r)
    esi = r.resource(TY_CSE)["esi"]
    assert esi["esf"] == [23], esi
    esro = esi["esro"]
    assert esro["esri"].startswith("s") and esro["esks"] == [1] and esro["espa"] == [10, 11, 12]
    assert len(esro["esrv"]) == 33 and esro["esrv"][0] == "r", esro


def test_esprim_over_dtls_and_plain_coap(platform):
    dev, cnt = _device(platform)
    # over the DTLS session
    r = dev.run("esprim", "create", cnt, "--ty", "4", "--pc", '{"m2m:cin":{"con":"esp-1"}}')
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    assert _lines(r, "OUTER_RSC") == ["2000", "2000"] and _lines(r, "RSC") == ["2001"], str(r)
    assert '"con":"esp-1"' in r.get("BODY"), str(r)

    # plain CoAP: refused without ESPrim, authenticated with it
    plain = platform.env["CSE_COAP"]
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      dev.state_values()["enrolee_id"]) as c:
        bare = c.retrieve(cnt)
    assert bare.rsc == 4107, str(bare)
    r = dev.run("esprim", "create", cnt, "--ty", "4", "--pc", '{"m2m:cin":{"con":"esp-2"}}',
                "--count", "3", "--plain", plain)
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    assert _lines(r, "RSC") == ["2001"] * 3, str(r)  # later objects carry only ori
    r = dev.run("esprim", "retrieve", cnt + "/la", "--plain", plain)
    assert r.rc == 0 and _lines(r, "RSC") == ["2000"] and '"con":"esp-2"' in r.get("BODY"), str(r)
    platform["cse"].wait_log(r"event=esprim_answered kid=\S+ originator=%s inner_rsc=2000"
                             % dev.state_values()["enrolee_id"], 5)


def test_inner_request_is_still_access_controlled(platform):
    owner, cnt = _device(platform)
    other = platform.enrolled_device("esp203b")
    r = other.run("esprim", "retrieve", cnt)
    assert r.rc != 0 and _lines(r, "OUTER_RSC")[-1] == "2000", str(r)
    assert _lines(r, "RSC") == ["4103"], str(r)
    r = owner.run("esprim", "retrieve", cnt)
    assert r.rc == 0 and _lines(r, "RSC") == ["2000"], str(r)


def test_ae_advertises_its_e2e_support(platform):
    """e2eSecInfo on an AE (TS-0004 6.3.5.52; TS-0003 8.4.3.1.3): what the AE supports, set
    by the AE; malformed ones are 4000."""
    from onem2m_client import TY_AE
    name = platform.env["CSE_NAME"]
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"], "Cesi203") as c:
        base = {"api": "Ntep.esi", "rr": False, "srv": ["3"]}
        esi = {"esf": [23, 34, 35]}
        r = c.create(name, TY_AE, dict(base, rn="esi203", esi=esi))
        assert r.rsc == 2001 and r.resource(TY_AE)["esi"] == esi, str(r)
        for bad in ({"esf": [99]}, {"esf": []}, {"esf": [23], "x": 1},
                    {"esf": [23], "esro": {"esri": "s1"}}):
            r = c.create(name, TY_AE, dict(base, rn="esi203b", esi=bad))
            assert r.rsc == 4000, "%s: %s" % (bad, r)
