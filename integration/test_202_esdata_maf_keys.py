"""202: end-to-end credentials through the MAF (TS-0003 8.6.1.2 credential registration
and provisioning, 8.8.2.7 MAF Key Registration with the end-to-end SUIDs 34/35 of TS-0004
6.3.4.2.39, 8.8.2.8 MAF Key Retrieval; keys 10.3.6). The sensor registers a key for the
application at tep-authz's MAF (its Km session; Kc from EXPORTER-oneM2M-Connection),
protects data with the keys derived from that Kc and stores it through tep-cse; the
application, seeing only the object's kid, retrieves Kc from the MAF in its own Km
session and opens the data. A third enrolled device is not a target: the MAF refuses it
(4.03) and it cannot open the data; tep-cse never gets such a key (it is no DTLS PSK)."""

import re

from harness import created_path, with_maf
from onem2m_client import TY_ACP, TY_CNT, OneM2MClient

SECRET = "e2e-202-plaintext:42"


def _grant(platform, cnt, owner_id, app_id):
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                      platform.env["ADMIN_ORIGINATOR"]) as admin:
        acp = admin.create(cnt.rsplit("/", 1)[0], TY_ACP, {
            "rn": "acp-202", "pv": {"acr": [{"acor": [app_id], "acop": 2},
                                            {"acor": [owner_id], "acop": 63}]},
            "pvs": {"acr": [{"acor": [platform.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        assert admin.update(cnt, TY_CNT, {"acpi": [acp.resource(TY_ACP)["ri"]]}).rsc == 2004


def test_esdata_with_keys_from_the_maf(platform):
    p = with_maf(platform)
    sensor = p.enrolled_device("sensor202")
    app = p.enrolled_device("app202")
    other = p.enrolled_device("other202")
    app_id = app.state_values()["enrolee_id"]
    r = sensor.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, "%s/%s" % (p.env["CSE_NAME"], sensor.state_values()["enrolee_id"]))
    _grant(p, cnt, sensor.state_values()["enrolee_id"], app_id)

    for cls in ("enc", "sign"):
        put = sensor.run("esdata-put", "data", cls, SECRET, "--maf-target", app_id)
        assert put.rc == 0, "%s\n%s" % (put, p.logs())
        key_id = put.get("KEY_ID")
        assert re.fullmatch(r"[0-9a-f]{32}@" + re.escape(p.env["MAF_ID"]), key_id), key_id
        p["authz"].wait_log(r"event=maf_key_registered source=%s key_id=%s" %
                            (sensor.state_values()["enrolee_id"], re.escape(key_id)), 5)
        cin = created_path(put, cnt)
        got = app.run("esdata-get", cin, "--maf")
        assert got.rc == 0, "%s\n%s" % (got, p.logs())
        assert got.get("VALUE") == SECRET and got.get("CLASS") == cls, str(got)
        p["authz"].wait_log(r"event=maf_e2e_key_retrieved target=%s key_id=%s" %
                            (app_id, re.escape(key_id)), 5)
        if cls == "enc":
            assert SECRET not in got.get("OBJECT")

        # not a target: the MAF refuses the retrieval, nothing opens
        bad = other.run("esdata-open", got.get("OBJECT"), "--maf")
        assert bad.rc != 0 and bad.get("VALUE") is None, str(bad)
        assert "denied" in bad.err.lower(), str(bad)
        p["authz"].wait_log(r"event=maf_key_retrieval_refused client=%s id=%s code=403" %
                            (other.state_values()["enrolee_id"], key_id.split("@")[0]), 5)

    # an unknown Key Identifier is 4.04 at the MAF
    fake = "00" * 16 + "@" + p.env["MAF_ID"]
    # (the kid is all the opener reads before asking the MAF)
    r = app.run("esdata-protect", "enc", "x", "--key", "11" * 32, "--kid", fake, "--b-id", app_id)
    assert r.rc == 0, str(r)
    bad = app.run("esdata-open", r.get("OBJECT"), "--maf")
    assert bad.rc != 0 and "not found" in bad.err.lower(), str(bad)
