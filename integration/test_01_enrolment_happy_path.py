"""01: the happy path of a device, end to end.

TS-0003 8.3.2.1 (pre-provisioned symmetric enrolee key RSPF: DTLS-PSK with Kpm to the
MEF, Ke/KeID exported) and 8.2.2.1 (provisioned symmetric key SAEF: DTLS-PSK with
KpsaID/Kpsa to the registrar CSE), then AE registration and data under it."""

import re

from harness import ae_path, created_path


def test_enrol_connect_register_store_and_read_back(platform):
    dev = platform.add_enrolee("device01")

    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    state = dev.state_values()
    assert re.fullmatch(r"[0-9a-f]{32}@" + re.escape(platform.env["MEF_FQDN"]), state["ke_id"])
    assert r.get("ke_id", "keid") in (None, state["ke_id"]), str(r)
    assert state["enrolee_id"] == "Cdevice01"
    assert state["registrar_cse_id"] == platform.env["CSE_ID"]
    assert state["registrar_poa"] == platform.env["CSE_COAPS"]
    assert state["maf_id"] == platform.env["MAF_ID"]

    r = dev.run("register")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    ae = ae_path(platform, dev)

    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, ae)
    r = dev.run("create-cin", "data", "hello-tep")
    assert r.rc == 0, str(r)
    cin = created_path(r, cnt)

    r = dev.run("retrieve", cin)
    assert r.rc == 0, str(r)
    assert "hello-tep" in r.out, str(r)


def test_run_walks_the_whole_path(platform):
    dev = platform.add_enrolee("device01")
    r = dev.run("run")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    assert dev.state_values()["ke_id"].endswith("@" + platform.env["MEF_FQDN"])
