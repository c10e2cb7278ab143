"""210: ESCertKE and ESPrim through a transit CSE (TS-0003 8.4.1, 8.7; TS-0004 7.6.2,
7.3.2.6; TS-0001 8.2.1.1). A device registered at the MN-CSE /mn1 establishes a key with
the IN-CSE by ESCertKE (its NOTIFYs to the IN-CSE's CSEBase, SP-relative, forwarded by
/mn1), then sends ESPrim-protected requests to the IN-CSE through /mn1. The MN-CSE
forwards what it cannot read: its log and its store never hold the plaintext; an
object altered on the way is refused 4115 (TS-0004 Table 7.6.2-1). The IN-CSE
authenticates the originator as it arrives, SP-relative (/mn1/<AE-ID>), and decides the
inner request by its own access rules."""

import json
import os
import subprocess
import time

import pytest

from harness import (cert_of, daemon_data_dir, gateway_platform, restart_cse_with_certificate,
                     wait_registered)
from onem2m_client import OneM2MClient

TY_ACP, TY_CNT = 1, 3


def _lines(result, key):
    return [line.split("=", 1)[1] for line in result.out.splitlines()
            if line.startswith(key + "=")]


@pytest.fixture(scope="module")
def gw():
    p, mns = gateway_platform(("mn1",))
    mn = mns["mn1"]
    try:
        restart_cse_with_certificate(p)
        wait_registered(mn, 2)  # again, with the restarted IN-CSE
        dev, dev.crt, _, _ = cert_of(p, "gwe210", "--target", "/mn1")
        r = dev.run("register")
        assert r.rc == 0, "%s\n%s" % (r, mn.tail())
        yield p, mn, dev
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def test_escertke_then_esprim_through_the_mn_cse(gw):
    p, mn, dev = gw
    ae_id = dev.state_values()["enrolee_id"]
    sp_id = "/mn1/" + ae_id  # the originator as the IN-CSE sees it
    base = p.env["CSE_NAME"]
    # the IN-CSE's admin makes a container the device may write to, by its SP-relative ID
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], p.env["ADMIN_ORIGINATOR"]) as admin:
        acp = admin.create(base, TY_ACP, {
            "rn": "acp210", "pv": {"acr": [{"acor": [sp_id], "acop": 63}]},
            "pvs": {"acr": [{"acor": [p.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        cnt = admin.create(base, TY_CNT, {"rn": "box210",
                                          "acpi": [acp.resource(TY_ACP)["ri"]]})
        assert cnt.rsc == 2001, str(cnt)
    secret = "plaintext-210-never-at-the-mn"
    r = dev.run("esprim", "create", "~%s/%s/box210" % (p.env["CSE_ID"], base), "--ty", "4",
                "--pc", '{"m2m:cin":{"con":"%s"}}' % secret, "--escertke",
                "--cse", p.env["CSE_ID"])
    assert r.rc == 0, "%s\n%s\n%s" % (r, mn.tail(), p["cse"].tail())
    kid = r.get("ESCERTKE_KID")
    assert _lines(r, "RSC") == ["2001"] and secret in r.get("BODY"), str(r)
    p["cse"].wait_log(r"event=escertke_established originator=%s kid=%s" % (sp_id, kid), 5)
    p["cse"].wait_log(r"event=esprim_answered kid=%s originator=%s inner_rsc=2001"
                      % (kid, sp_id), 5)
    # the MN-CSE forwarded it and never held the plaintext: not in its log, nor its store
    assert secret not in mn.log(), mn.tail()
    read = 0
    for root, _, files in os.walk(daemon_data_dir(p, mn.name)):
        for f in (f for f in files if f.endswith(".mdb")):
            with open(os.path.join(root, f), "rb") as fh:
                assert secret.encode() not in fh.read(), os.path.join(root, f)
            read += 1
    assert read > 0, "no LMDB file under the MN-CSE's data directory"


def test_altered_object_through_the_mn_cse(gw):
    """The MN-CSE's operator alters an object it saw (one character of its tag) and its
    CSE forwards it: the IN-CSE's tag check fails, 4115 (TS-0004 Table 7.6.2-1)."""
    p, mn, dev = gw
    base = p.env["CSE_NAME"]
    r = dev.run("esprim", "retrieve", "~%s/%s/box210/la" % (p.env["CSE_ID"], base),
                "--escertke", "--cse", p.env["CSE_ID"], "--show-outer")
    assert r.rc == 0 and _lines(r, "RSC") == ["2000"], "%s\n%s" % (r, p["cse"].tail())
    body = json.loads(r.get("OUTER_BODY"))
    parts = body["m2m:seci"]["epo"].split(".")
    parts[4] = ("A" if parts[4][0] != "A" else "B") + parts[4][1:]
    body["m2m:seci"]["epo"] = ".".join(parts)
    with OneM2MClient("127.0.0.1", int(mn.coap.rsplit(":", 1)[1]), "CAdmin") as c:
        a = c.notify("~%s/-" % p.env["CSE_ID"], body)
    assert a.rsc == 4115, "%s\n%s\n%s" % (a, mn.tail(), p["cse"].tail())
    assert "event=request_forwarded op=notify path=~/tep-cse/- originator=/mn1/CAdmin" \
        in mn.log(), mn.tail()
    p["cse"].wait_log(r"event=esprim_refused rsc=4115", 5)


def test_sp_relative_from_not_through_its_registrar(gw):
    """The same device, straight to the IN-CSE over plain CoAP, claiming From /mn1/<AE-ID>:
    no security association of /mn1 vouches for it, the key is refused (4103)."""
    p, mn, dev = gw
    sp_id = "/mn1/" + dev.state_values()["enrolee_id"]
    r = dev.run("--from", sp_id, "esprim", "retrieve", "~%s/%s/box210/la"
                % (p.env["CSE_ID"], p.env["CSE_NAME"]), "--escertke", "--cse", p.env["CSE_ID"],
                "--plain", p.env["CSE_COAP"])
    assert r.rc != 0 and "ESCertKE" in r.err, str(r)
    p["cse"].wait_log(r'event=escertke_refused rsc=4103 reason="certificate does not name '
                      r'the originator" originator=%s' % sp_id, 5)


def test_revoked_certificate_through_the_mn_cse(gw):
    """Last (it revokes the device's certificate): the IN-CSE, which holds no credential
    of the device's enrolment (made for /mn1), still refuses its revoked certificate."""
    p, mn, dev = gw
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", dev.crt],
                            check=True, capture_output=True, text=True).stdout.strip()
    serial = serial.split("=", 1)[1]
    assert p.tepctl("cert", "revoke", serial).rc == 0
    path = "~%s/%s/box210/la" % (p.env["CSE_ID"], p.env["CSE_NAME"])
    deadline = time.monotonic() + 3
    while True:
        r = dev.run("esprim", "retrieve", path, "--escertke", "--cse", p.env["CSE_ID"])
        if r.rc != 0 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.rc != 0 and "ESCertKE" in r.err, str(r)
    p["cse"].wait_log(r"(?i)event=escertke_cert_refused reason=cert_revoked serial=%s" % serial, 5)
