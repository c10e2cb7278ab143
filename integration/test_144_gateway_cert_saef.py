"""144: the MN-CSE as Entity A of a certificate-based SAEF with its registrar (TS-0003
V4 8.2.2.2 with 8.2.2.x "If Entity A is a CSE"; issue 14 item 2). The MN-CSE /mn1
(`[registrar] credential = cert`) enrols with its CSE-ID as Enrolee-ID and gets a tep CA
certificate for it (SAN onem2m:/mn1) through libtepae, then opens ECDHE-ECDSA DTLS to the
IN-CSE with it, checking the IN-CSE's certificate (SAN onem2m:/tep-cse) to the trust
anchor of its enrolment. The IN-CSE binds the session to the certificate's CSE-ID as it
binds a Kpsa's Enrolee-ID (7.2.1): a CSE whose certificate names another CSE-ID is 4106;
a revoked certificate closes the session and is refused (10.7), the gateway's devices
then unreachable from the IN-CSE. Through the session: an application at the IN-CSE
reads a device's data hosted at the MN-CSE, an IN-side client writes there, both decided
by the MN-CSE's policies (the hosting CSE)."""

import os
import subprocess
import time

import pytest

from harness import cert_of, coap_cert, free_udp_ports, gateway_with_device, until_rsc
from onem2m_client import OneM2MClient

TY_CIN, TY_CSR = 4, 16


def _serial(crt):
    out = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-serial"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip().split("=")[1].lower()


@pytest.fixture(scope="module")
def gw():
    with gateway_with_device("21.5C", credential="cert", in_cert=True) as g:
        yield g


def test_mn_cse_registers_with_its_certificate(gw):
    """The session is a certificate one at both ends, bound to /mn1 at the IN-CSE; the
    <remoteCSE> is there with csi /mn1."""
    p, mn, dev, app, mn_admin = gw
    log = mn.log(since_start=False)
    assert "over=dtls_cert" in log and "event=credential_loaded credential=cert" in log, log
    crt = os.path.join(p.dir, "mn1.state.crt.pem")
    serial = _serial(crt)
    p["cse"].wait_log(r"event=session_bound identity=cert:%s enrolee_id=/mn1" % serial, 5)
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
        r = c.retrieve("%s/mn1" % p.env["CSE_NAME"])
        assert r.rsc == 2000 and r.resource(TY_CSR)["csi"] == "/mn1", str(r)
    assert "/mn1:sa" in p.status("cse")["registered_cses"].split(",")
    assert "event=session_bound identity=" not in "\n".join(
        line for line in p["cse"].log().splitlines() if "enrolee_id=/mn1" in line
        and "identity=cert:" not in line), "a PSK session for /mn1"


def test_in_application_reads_device_data_through_the_certificate_session(gw):
    p, mn, dev, app, mn_admin = gw
    r = app.run("retrieve", "~/mn1/mn1/Cgwdev/data/la")
    assert r.rsc == 2000 and "21.5C" in r.out, "%s\n%s" % (r, mn.tail())
    assert "originator=/tep-cse/Capp1" in mn.log(), mn.tail()


def test_in_side_write_reaches_the_device_data(gw):
    """An IN-side client writes a contentInstance at the MN-CSE through the IN-CSE; the
    device reads it at its own CSE."""
    p, mn, dev, app, mn_admin = gw
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
        r = c.create("~/mn1/mn1/Cgwdev/data", TY_CIN, {"cnf": "text/plain:0", "con": "setpoint-19"})
        assert r.rsc == 2001, "%s\n%s" % (r, mn.tail())
    r = dev.run("retrieve", "mn1/Cgwdev/data/la")
    assert r.rsc == 2000 and "setpoint-19" in r.out, str(r)


def test_certificate_for_another_cse_id_is_4106(gw):
    """An MN-CSE /mnx whose enrolment and certificate are /mn9's: the IN-CSE binds the
    session to /mn9 (the certificate), so its registration From /mnx is 4106 and no
    <remoteCSE> is made."""
    p, mn, dev, app, mn_admin = gw
    p.add_enrolee("mnx", "--ae-id", "/mn9")
    mnx = p.add_cse("mnx", "/mnx", registrar=p.mn_registrar("mnx", credential="cert"))
    mnx.start()
    try:
        mnx.wait_log(r"event=registration_refused rsc=4106", 15)
        p["cse"].wait_log(r"event=session_bound identity=cert:\S+ enrolee_id=/mn9", 5)
        assert "event=enrolee_id_not_cse_id enrolee_id=/mn9 cse_id=/mnx" in mnx.log()
        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
            assert c.retrieve("%s/mnx" % p.env["CSE_NAME"]).rsc == 4004
            assert c.retrieve("%s/mn9" % p.env["CSE_NAME"]).rsc == 4004
    finally:
        mnx.stop()


def test_registrar_certificate_naming_another_cse_is_refused(gw):
    """The MN-CSE authenticates its registrar too: /mnw, enrolled for /mn1 as its
    registrar, is pointed at the IN-CSE's address; the IN-CSE's certificate (tep CA,
    SAN onem2m:/tep-cse) is not /mn1's, so /mnw refuses the handshake and sends
    nothing: no session is bound at the IN-CSE, no <remoteCSE> made."""
    p, mn, dev, app, mn_admin = gw
    p.add_enrolee("mnw", "--ae-id", "/mnw", "--target", "/mn1")
    reg = p.mn_registrar("mnw", credential="cert")
    reg.update(cse_id="/mn1", cse_name="mn1")  # its enrolment's registrar; the IN-CSE's poa
    mnw = p.add_cse("mnw", "/mnw", registrar=reg)
    mnw.start()
    try:
        mnw.wait_log(r"event=registrar_cert_refused reason=wrong_san san=/tep-cse registrar=/mn1",
                     15)
        time.sleep(1.5)  # its retries: refused the same way
        assert "event=registered" not in mnw.log(), mnw.tail()
        assert "enrolee_id=/mnw" not in p["cse"].log()  # never bound there
        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
            assert c.retrieve("%s/mnw" % p.env["CSE_NAME"]).rsc == 4004
    finally:
        mnw.stop()


def test_cert_sa2_leaves_the_certificate_saef_alone(gw):
    """tep-cse as a DTLS client with its certificate (SA2 to a certificate AE's coaps://
    poa, TS-0003 8.2.1) must not change what its server side does (the libcoap context
    cause of 144's first failure): a certificate AE subscribes with its own AE-ID as nu
    and a coaps:// poa where an OpenSSL DTLS server holds the AE's certificate; the
    verification's handshake offers ECDHE-ECDSA and completes, and afterwards the
    certificate SAEF still takes the AE's (and everyone's) certificate handshakes. An
    attack on the CSE's availability before: one such subscription made the server
    side verify every client certificate with the SA2 callback, refusing them all."""
    p, mn, dev, app, mn_admin = gw
    cdev, crt, key, ca = cert_of(p, "certae")
    ae_id = cdev.state_values()["enrolee_id"]
    api = cdev.state_values()["app_id"] or "Napp"
    port = free_udp_ports(1)[0]
    srv = subprocess.Popen(["openssl", "s_server", "-dtls1_2", "-accept", "127.0.0.1:%d" % port,
                            "-cert", crt, "-key", key, "-CAfile", ca, "-Verify", "2",
                            "-naccept", "4", "-quiet"],
                           stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        base = p.env["CSE_NAME"]
        log = coap_cert(p, crt, key, ca, "post", base, ae_id,
                        {"m2m:ae": {"rn": ae_id, "api": api, "rr": True, "srv": ["3"],
                                    "poa": ["coaps://127.0.0.1:%d" % port]}}, ty=2)
        assert "c:2.01" in log, log
        log = coap_cert(p, crt, key, ca, "post", "%s/%s" % (base, ae_id), ae_id,
                        {"m2m:cnt": {"rn": "data"}}, ty=3)
        assert "c:2.01" in log, log
        # nu is the subscriber itself (no verification); a new child is notified to the
        # AE's poa over SA2 with the CSE's certificate (the OpenSSL server answers no CoAP)
        log = coap_cert(p, crt, key, ca, "post", "%s/%s/data" % (base, ae_id), ae_id,
                        {"m2m:sub": {"rn": "s1", "nu": [ae_id], "enc": {"net": [3]}}}, ty=23)
        assert "c:2.01" in log, log
        log = coap_cert(p, crt, key, ca, "post", "%s/%s/data" % (base, ae_id), ae_id,
                        {"m2m:cin": {"con": "x"}}, ty=4)
        assert "c:2.01" in log, log
        try:
            p["cse"].wait_log(r"event=sa2_established ae_id=%s identity=cert:" % ae_id, 10)
        except AssertionError:
            raise AssertionError("\n".join(x for x in p["cse"].log().splitlines()
                                           if "sa2" in x or ae_id in x or "sub=client" in x))
        # the server side is as before: the AE's certificate handshake and request work
        log = coap_cert(p, crt, key, ca, "get", "%s/%s/data" % (base, ae_id), ae_id)
        assert "c:2.05" in log, "%s\n%s" % (log, p["cse"].tail())
        assert app.run("retrieve", "~/mn1/mn1/Cgwdev/data/la").rsc == 2000  # the gateway too
    finally:
        srv.kill()
        srv.wait()


def test_revoked_certificate_cuts_the_gateway_off(gw):
    """Last: `tepctl cert revoke` of the MN-CSE's certificate closes its session at the
    IN-CSE; the device's data is TARGET_NOT_REACHABLE from the IN side within a second,
    and the MN-CSE's new handshakes with the revoked certificate are refused."""
    p, mn, dev, app, mn_admin = gw
    path = "~/mn1/mn1/Cgwdev/data/la"
    assert app.run("retrieve", path).rsc == 2000
    serial = _serial(os.path.join(p.dir, "mn1.state.crt.pem"))
    assert p.tepctl("cert", "revoke", serial).rc == 0
    until_rsc(lambda: app.run("retrieve", path), 5103, 1.0, p["cse"])
    p["cse"].wait_log(r"event=handshake_refused reason=cert_revoked identity=cert:%s" % serial, 10)
    mn.wait_log(r"event=registrar_session_closed", 5)
    assert app.run("retrieve", path).rsc == 5103

