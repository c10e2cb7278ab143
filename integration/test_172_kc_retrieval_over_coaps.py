"""172: target-authenticated MAF Key Retrieval over CoAPS (TS-0003 8.8.2.8; 8.2.2.3 "Entity
B and the MAF interact using the MAF Key Retrieval procedure ... mutual authentication
using the MAF Handshake"), the second way beside the bus (docs/internals.md
"Authenticated credential hand-off"). A device registers a Kc for /tep-cse (maf-run:
tep-cse retrieves it over the bus and serves the device with it). Then, each in its own
MAF Handshake (DTLS-PSK with its Km, tinydtls: a client nobody here wrote), GET
maf/keys/<relativeKeyID>:
- the IN-CSE's own identity (an enrolee whose Enrolee-ID is /tep-cse) gets Kc, and that
  value is the key: a DTLS-PSK handshake with it to tep-cse is served;
- an MN-CSE identity (/mn-cse1) and the source device itself get 4.03, an unknown key
  4.04; the MAF logs each refusal."""

import os

import pytest

import harness
import pskclient
import tepkeys

pytestmark = pytest.mark.skipif(pskclient.available() is not None,
                                reason=str(pskclient.available()))


def maf_session(p, dev):
    """A tinydtls MAF Handshake (DTLS-PSK KmID/Km derived by tepkeys from dev's Ke)."""
    km = tepkeys.km(bytes.fromhex(dev.state_values()["ke"]), p.env["MAF_ID"])
    return pskclient.PskClient(p.ports["authz_coaps"], tepkeys.km_id(km, p.env["MAF_ID"]), km)


def enrolled(p, name, *extra):
    dev = p.add_enrolee(name, *extra)
    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    return dev


def test_target_cse_retrieves_its_kc(platform):
    p = harness.with_maf(platform)
    dev = enrolled(p, "device172")
    r = dev.run("maf-run")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    key_id = r.get("KC_ID")
    rel = key_id.split("@")[0]
    in_cse = enrolled(p, "tep-cse", "--ae-id", p.env["CSE_ID"])
    mn_cse = enrolled(p, "mn-cse1", "--ae-id", "/mn-cse1")

    with maf_session(p, in_cse) as c:
        a = c.request(pskclient.aiocoap.GET, "maf/keys/" + rel)
        assert a.code == "2.05" and a.json, str(a)
        assert (a.json["keyID"], a.json["suid"], a.json["sourceID"]) == (
            key_id, 32, "Cdevice172"), str(a)
        kc = a.json["keyValue"]
        assert len(bytes.fromhex(kc)) == 32
        a = c.request(pskclient.aiocoap.GET, "maf/keys/" + "ab" * 16)
        assert a.code == "4.04", str(a)
    # the value retrieved is the Kc: tep-cse serves a handshake with it as the device
    probe = os.path.join(harness.BUILD, "cse-node", "cse-probe")
    r = harness.run_tool([probe, "--psk", "%s:%s" % (key_id, kc), "--from", "Cdevice172",
                          "127.0.0.1", str(p.ports["cse_coaps"]), "GET",
                          harness.ae_path(p, dev)])
    assert r.rc == 0 and r.rsc == 2000, str(r)

    for who in (mn_cse, dev):
        with maf_session(p, who) as c:
            a = c.request(pskclient.aiocoap.GET, "maf/keys/" + rel)
        assert a.code == "4.03" and "keyValue" not in a.text, str(a)
    p["authz"].wait_log(r"event=maf_key_retrieval_refused client=/mn-cse1 .*code=403", 5)
    p["authz"].wait_log(r"event=maf_key_retrieval_refused client=Cdevice172 .*code=403", 5)
