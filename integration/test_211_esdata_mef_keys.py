"""211: end-to-end credentials through the MEF (TS-0003 8.6.2 remote provisioning of
end-to-end credentials with 8.3.5.2.7 MEF Key Registration of a usage-constrained key for
the ESData SUIDs 24/25 of TS-0004 6.3.4.2.39, 8.3.5.2.8 MEF Key Retrieval; Kuc of 10.3.7,
then Ke2e_master and its expansions of 10.3.6, docs/keys.md item 22). The sensor
registers Kuc for the application's AE-ID at tep-enroller's MEF in its own MEF Handshake,
protects data with the keys derived from it and stores it through tep-cse; the
application, seeing only the object's kid, retrieves Kuc from the MEF in its own MEF
Handshake and opens the data. Python derives the same keys from the sensor's Ke
(integration/tepkeys.py) and PyPI joserfc opens tep's objects and makes one tep opens. A
third enrolled device, and the source itself, are not targets (4.03); an altered object
is refused; a de-registered key and a revoked source's key are gone (4.04)."""

import re

from joserfc import jwe, jws
from joserfc.jwk import OctKey

import tepkeys
from harness import created_path
from onem2m_client import TY_ACP, TY_CNT, OneM2MClient

SECRET = "e2e-211-plaintext:17"


def _grant(platform, cnt, owner_id, app_id):
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      platform.env["ADMIN_ORIGINATOR"]) as admin:
        acp = admin.create(cnt.rsplit("/", 1)[0], TY_ACP, {
            "rn": "acp-211", "pv": {"acr": [{"acor": [app_id], "acop": 2},
                                            {"acor": [owner_id], "acop": 63}]},
            "pvs": {"acr": [{"acor": [platform.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        assert admin.update(cnt, TY_CNT, {"acpi": [acp.resource(TY_ACP)["ri"]]}).rsc == 2004


def _flip(obj, part):
    """The compact object with one character of part (0-based) changed."""
    parts = obj.split(".")
    s = parts[part]
    parts[part] = s[:5] + ("A" if s[5] != "A" else "B") + s[6:]
    return ".".join(parts)


def test_esdata_with_keys_from_the_mef(platform):
    p = platform
    sensor = p.enrolled_device("sensor211")
    app = p.enrolled_device("app211")
    other = p.enrolled_device("other211")
    sensor_id = sensor.state_values()["enrolee_id"]
    app_id = app.state_values()["enrolee_id"]
    ke = bytes.fromhex(sensor.state_values()["ke"])
    mef = p.env["MEF_FQDN"]
    r = sensor.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, "%s/%s" % (p.env["CSE_NAME"], sensor_id))
    _grant(p, cnt, sensor_id, app_id)

    objects = {}
    for cls, suid in (("enc", 24), ("sign", 25)):
        put = sensor.run("esdata-put", "data", cls, SECRET, "--mef-target", app_id)
        assert put.rc == 0, "%s\n%s" % (put, p.logs())
        key_id = put.get("KEY_ID")
        # the Key Identifier is Kuc's, computed here from the sensor's Ke alone
        kuc = tepkeys.kuc(ke, suid, app_id)
        assert key_id == tepkeys.kuc_id(kuc, mef), key_id
        rel = key_id.split("@")[0]
        p["enroller"].wait_log(r"event=mef_key_registered kpm_id=sensor211 .*code=201", 5)
        got = app.run("esdata-get", created_path(put, cnt), "--mef")
        assert got.rc == 0, "%s\n%s" % (got, p.logs())
        assert got.get("VALUE") == SECRET and got.get("CLASS") == cls, str(got)
        assert got.get("SIGNER") == ("" if cls == "enc" else key_id), str(got)
        p["enroller"].wait_log(r"event=mef_key_retrieved kpm_id=app211 id=%s code=205" % rel, 5)
        obj = got.get("OBJECT")
        objects[cls] = (obj, kuc, key_id)

        # joserfc opens what tep-cse served, with keys derived in Python (B = the target)
        k = tepkeys.e2e_keys(kuc, app_id)
        if cls == "enc":
            assert SECRET not in obj
            o = jwe.decrypt_compact(obj, OctKey.import_key(k["att_conf"]))
            assert o.protected == {"kid": key_id, "alg": "dir", "enc": "A256GCM"}
            assert o.plaintext.decode() == SECRET
        else:
            o = jws.deserialize_compact(obj, OctKey.import_key(k["att_auth"]))
            assert o.protected == {"alg": "HS256", "kid": key_id}
            assert o.payload.decode() == SECRET

        # neither a third device nor the source is a target: the MEF refuses (4.03)
        for dev, name in ((other, "other211"), (sensor, "sensor211")):
            bad = dev.run("esdata-open", obj, "--mef")
            assert bad.rc != 0 and bad.get("VALUE") is None, str(bad)
            assert "denied" in bad.err.lower(), str(bad)
            p["enroller"].wait_log(r"event=mef_key_retrieved_refused kpm_id=%s id=%s code=403"
                                   % (name, rel), 5)

    # an object joserfc makes under the registered kid opens in tep with the MEF's key
    obj, kuc, key_id = objects["enc"]
    k = tepkeys.e2e_keys(kuc, app_id)
    theirs = jwe.encrypt_compact({"kid": key_id, "alg": "dir", "enc": "A256GCM"},
                                 b"from-joserfc", OctKey.import_key(k["att_conf"]))
    r = app.run("esdata-open", theirs, "--mef")
    assert r.rc == 0 and r.get("VALUE") == "from-joserfc", str(r)

    # altered: a ciphertext or tag character changed is refused, the key being right
    for part in (3, 4):
        bad = app.run("esdata-open", _flip(obj, part), "--mef")
        assert bad.rc != 0 and bad.get("VALUE") is None, str(bad)
        assert "denied" in bad.err.lower(), str(bad)
    # a kid of another MEF is not fetched from ours
    bad = app.run("esdata-open", obj.replace(obj.split(".")[0], jwe.encrypt_compact(
        {"kid": key_id.split("@")[0] + "@mef.elsewhere", "alg": "dir", "enc": "A256GCM"},
        b"x", OctKey.import_key(k["att_conf"])).split(".")[0]), "--mef")
    assert bad.rc != 0 and "invalid" in bad.err.lower(), str(bad)

    # Key De-Registration (8.3.5.2.10): the target can no longer fetch it (4.04)
    r = sensor.run("mef-deregister-key", app_id, "--suid", "24")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    bad = app.run("esdata-open", obj, "--mef")
    assert bad.rc != 0 and "not found" in bad.err.lower(), str(bad)
    rel = key_id.split("@")[0]
    p["enroller"].wait_log(r"event=mef_key_retrieved_refused kpm_id=app211 id=%s code=404" % rel, 5)

    # the source revoked (TS-0003 10.7): its keys end with its enrolment
    sign_obj, _, sign_id = objects["sign"]
    assert app.run("esdata-open", sign_obj, "--mef").rc == 0
    assert p.tepctl("enrolee", "revoke", "sensor211").rc == 0
    bad = app.run("esdata-open", sign_obj, "--mef")
    assert bad.rc != 0 and "not found" in bad.err.lower(), str(bad)
    assert re.search(r"event=mef_key_retrieved_refused kpm_id=app211 id=%s code=404"
                     % sign_id.split("@")[0], p["enroller"].log())


def test_esdata_with_the_kpsa_pair(platform):
    """8.6.2: end-to-end keys from Kpsa, the pair (device, registrar CSE), B = /tep-cse,
    kid = the KpsaID; joserfc opens the object with keys derived in Python from Ke."""
    dev = platform.add_enrolee("kpsa211")
    assert dev.run("enrol").rc == 0
    st = dev.state_values()
    kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
    kid = tepkeys.kpsa_id(kpsa, platform.env["MEF_FQDN"])
    k = tepkeys.e2e_keys(kpsa, st["registrar_cse_id"])
    r = dev.run("esdata-protect", "enc", SECRET, "--kpsa")
    assert r.rc == 0, str(r)
    o = jwe.decrypt_compact(r.get("OBJECT"), OctKey.import_key(k["att_conf"]))
    assert o.protected["kid"] == kid and o.plaintext.decode() == SECRET
    back = dev.run("esdata-open", r.get("OBJECT"), "--kpsa")
    assert back.rc == 0 and back.get("VALUE") == SECRET, str(back)
    r = dev.run("esdata-protect", "sign", SECRET, "--kpsa")
    o = jws.deserialize_compact(r.get("OBJECT"), OctKey.import_key(k["att_auth"]))
    assert o.protected == {"alg": "HS256", "kid": kid} and o.payload.decode() == SECRET
    # not enrolled: no Kpsa, a clear refusal
    fresh = platform.add_enrolee("fresh211")
    r = fresh.run("esdata-protect", "enc", SECRET, "--kpsa")
    assert r.rc != 0 and "state" in r.err.lower(), str(r)
