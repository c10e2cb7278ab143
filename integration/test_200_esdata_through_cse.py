"""200: end-to-end security of data through tep-cse (TS-0003 8.5; keys 10.3.6). A sensor
(enrolled with a tep CA certificate, 8.3.6) stores contentInstances whose con is an
ESData object made with libtepae (`tep-device esdata-put`): encryption only (JWE "dir"
A256GCM under Ke2e_att_conf), signature only (JWS HS256 under Ke2e_att_auth, or ES256 with
its certificate in x5c) and nested sign-then-encrypt (ES256 inside the JWE, 8.5.3.4). The
pair key is a pre-provisioned ESData key (SUID 14/15) both ends were given; End-Point-B
is the application. tep-cse stores and serves the objects as any con: its store never
holds the plaintext, and its admin reads only the JOSE text. The application
(`esdata-get`) opens and verifies them; a con altered at rest, another key, another kid
and a signature by another certified device are refused or shown for what they are."""

import os

from harness import created_path, daemon_data_dir
from onem2m_client import TY_ACP, TY_CIN, TY_CNT, OneM2MClient

SECRET = '{"temp":21.5,"note":"e2e-200-plaintext"}'


def _e2e(pair_hex, app_id, kid="esdata-200"):
    return ["--key", pair_hex, "--kid", kid, "--b-id", app_id]


def _setup(platform):
    """sensor and app, both certified and registered; the sensor's container readable by
    the app (an ACP the admin puts on it). Returns (sensor, app, container, app AE-ID)."""
    devs = {}
    for name in ("sensor200", "app200"):
        d = platform.add_enrolee(name)
        for step in ("cert", "register"):
            r = d.run(step)
            assert r.rc == 0, "%s %s: %s\n%s" % (name, step, r, platform.logs())
        devs[name] = d
    sensor, app = devs["sensor200"], devs["app200"]
    r = sensor.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, "%s/%s" % (platform.env["CSE_NAME"], sensor.state_values()["enrolee_id"]))
    app_id = app.state_values()["enrolee_id"]
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      platform.env["ADMIN_ORIGINATOR"]) as admin:
        acp = admin.create(cnt.rsplit("/", 1)[0], TY_ACP, {
            "rn": "acp-e2e", "pv": {"acr": [{"acor": [app_id], "acop": 2},
                                            {"acor": [sensor.state_values()["enrolee_id"]],
                                             "acop": 63}]},
            "pvs": {"acr": [{"acor": [platform.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        up = admin.update(cnt, TY_CNT, {"acpi": [acp.resource(TY_ACP)["ri"]]})
        assert up.rsc == 2004, str(up)
    return sensor, app, cnt, app_id


def _put(sensor, cls, value, e2e, *extra):
    r = sensor.run("esdata-put", "data", cls, value, *e2e, *extra)
    assert r.rc == 0, str(r)
    return r


def test_esdata_classes_through_cse(platform):
    sensor, app, cnt, app_id = _setup(platform)
    pair = os.urandom(32).hex()
    e2e = _e2e(pair, app_id)
    sensor_id = sensor.state_values()["enrolee_id"]
    cases = [("enc", [], "enc", ""), ("sign", [], "sign", "esdata-200"),
             ("sign", ["--sign-cert"], "sign", sensor_id),
             ("sign-enc", ["--sign-cert"], "sign-enc", sensor_id)]
    for cls, extra, want_cls, want_signer in cases:
        put = _put(sensor, cls, SECRET, e2e, *extra)
        cin = created_path(put, cnt)
        got = app.run("esdata-get", cin, *e2e)
        assert got.rc == 0, "%s: %s" % (cls, got)
        assert got.get("VALUE") == SECRET and got.get("CLASS") == want_cls, str(got)
        assert got.get("SIGNER") == want_signer, str(got)
        obj = got.get("OBJECT")
        assert obj.count(".") == (4 if "enc" in cls else 2), obj
        if "enc" in cls:
            assert "e2e-200-plaintext" not in obj
    # tep-cse holds no key: its admin reads JOSE text, its store has no plaintext.
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      platform.env["ADMIN_ORIGINATOR"]) as admin:
        r = admin.retrieve(cin)
        assert r.rsc == 2000 and "e2e-200-plaintext" not in r.resource(TY_CIN)["con"], str(r)
    read = 0
    for root, _, files in os.walk(daemon_data_dir(platform, "cse")):
        for f in files:
            if f.endswith(".mdb"):
                with open(os.path.join(root, f), "rb") as fh:
                    assert b"e2e-200-plaintext" not in fh.read(), os.path.join(root, f)
                read += 1
    assert read > 0, "no LMDB file found under tep-cse's data directory"


def test_esdata_tampered_wrong_key_and_other_signer(platform):
    sensor, app, cnt, app_id = _setup(platform)
    pair = os.urandom(32).hex()
    e2e = _e2e(pair, app_id)
    put = _put(sensor, "sign-enc", SECRET, e2e, "--sign-cert")
    cin = created_path(put, cnt)
    good = app.run("esdata-get", cin, *e2e)
    assert good.rc == 0 and good.get("VALUE") == SECRET, str(good)
    obj = good.get("OBJECT")

    # Another pair key, or the right key under another kid: refused.
    bad = app.run("esdata-get", cin, *_e2e(os.urandom(32).hex(), app_id))
    assert bad.rc != 0 and "denied" in bad.err.lower() and bad.get("VALUE") is None, str(bad)
    bad = app.run("esdata-open", obj, *_e2e(pair, app_id, kid="esdata-other"))
    assert bad.rc != 0 and bad.get("VALUE") is None, str(bad)
    # The same key for another End-Point-B derives other keys: refused.
    bad = app.run("esdata-open", obj, *_e2e(pair, "/tep-cse/Cnot-the-app"))
    assert bad.rc != 0 and bad.get("VALUE") is None, str(bad)

    # A con altered at rest (the admin writes a copy with one ciphertext byte changed).
    parts = obj.split(".")
    ct = parts[3]
    parts[3] = ct[:5] + ("A" if ct[5] != "A" else "B") + ct[6:]
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      platform.env["ADMIN_ORIGINATOR"]) as admin:
        r = admin.create(cnt, TY_CIN, {"cnf": "application/jose:0", "con": ".".join(parts)})
        assert r.rsc == 2001, str(r)
        forged = r.location
    bad = app.run("esdata-get", forged, *e2e)
    assert bad.rc != 0 and "denied" in bad.err.lower() and bad.get("VALUE") is None, str(bad)

    # Another certified device signs with its own certificate: the signature is valid
    # but names that device, not the sensor (the application decides whom it believes).
    other = platform.add_enrolee("other200")
    assert other.run("cert").rc == 0
    r = other.run("esdata-protect", "sign", SECRET, "--sign-cert")
    assert r.rc == 0, str(r)
    opened = app.run("esdata-open", r.get("OBJECT"))
    assert opened.rc == 0, str(opened)
    assert opened.get("SIGNER") == other.state_values()["enrolee_id"] != \
        sensor.state_values()["enrolee_id"]
