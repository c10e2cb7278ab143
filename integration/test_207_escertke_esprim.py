"""207: ESCertKE (TS-0003 8.7; TS-0001 11.4.3; TS-0004 7.5.1.2.12) between libtepae (the
Initiating End-Point) and tep-cse (the Terminating End-Point, with its tep CA certificate):
a TLS 1.2 handshake whose four ESCertKE Messages travel base64 in two NOTIFYs to the
CSEBase ({"m2m:seci":{"sit":6,"eckm":...}}). The pairwiseE2EKey exported with
"EXPORTER-oneM2M-ESCertKE" (10.3.1) feeds Ke2e_master (10.3.6) and so ESPrim (8.4): over
plain CoAP, a request protected with that key alone is authenticated and succeeds, and
tep-cse logs the same kid (hex(pairwiseE2EKeyID)) as the device. The refusals are 208."""

import base64
import subprocess

from harness import cert_of, created_path, restart_cse_with_certificate
from onem2m_client import TY_CSE, OneM2MClient


def _lines(result, key):
    return [line.split("=", 1)[1] for line in result.out.splitlines()
            if line.startswith(key + "=")]


def test_escertke_key_then_esprim(platform):
    restart_cse_with_certificate(platform)
    dev, _, _, _ = cert_of(platform, "eck207")
    ae_id = dev.state_values()["enrolee_id"]
    r = dev.run("register")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, "%s/%s" % (platform.env["CSE_NAME"], ae_id))

    # plain CoAP: the device is authenticated by the ESPrim object alone, under the key
    # ESCertKE just established (not its Kpsa: the kid is hex(pairwiseE2EKeyID))
    r = dev.run("esprim", "create", cnt, "--ty", "4", "--pc", '{"m2m:cin":{"con":"eck-1"}}',
                "--escertke", "--plain", platform.env["CSE_COAP"])
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    kid = r.get("ESCERTKE_KID")
    assert len(kid) == 32 and all(ch in "0123456789abcdef" for ch in kid), str(r)
    assert _lines(r, "RSC") == ["2001"] and '"con":"eck-1"' in r.get("BODY"), str(r)
    platform["cse"].wait_log(r"event=escertke_established originator=%s kid=%s" % (ae_id, kid), 5)
    platform["cse"].wait_log(r"event=esprim_answered kid=%s originator=%s inner_rsc=2001"
                             % (kid, ae_id), 5)

    # a second run establishes another key
    r2 = dev.run("esprim", "retrieve", cnt + "/la", "--escertke", "--plain",
                 platform.env["CSE_COAP"])
    assert r2.rc == 0 and _lines(r2, "RSC") == ["2000"], str(r2)
    assert r2.get("ESCERTKE_KID") != kid and '"con":"eck-1"' in r2.get("BODY"), str(r2)


def test_csebase_advertises_escertke(platform):
    """TS-0001 11.4.3: a CSE supporting ESCertKE says so in its e2eSecInfo: SUID 43 (a
    certificate for ESPrim, TS-0004 6.3.4.2.39) and its certificate in escert."""
    def esi():
        with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                          platform.env["ADMIN_ORIGINATOR"]) as admin:
            r = admin.retrieve(platform.env["CSE_NAME"])
        assert r.rsc == 2000, str(r)
        return r.resource(TY_CSE)["esi"]

    assert esi()["esf"] == [23] and "escert" not in esi()  # no certificate: no ESCertKE
    restart_cse_with_certificate(platform)
    e = esi()
    assert e["esf"] == [23, 43] and len(e["escert"]) == 1, e
    der = base64.b64decode(e["escert"][0])
    text = subprocess.run(["openssl", "x509", "-inform", "DER", "-noout", "-ext",
                           "subjectAltName"], input=der, capture_output=True,
                          check=True).stdout.decode()
    assert "URI:onem2m:/tep-cse" in text, text
