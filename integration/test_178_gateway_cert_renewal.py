"""178: an MN-CSE renews its own certificate before it ends (issue 14 gaps, item 1).
The MN-CSE /mnr registers to the IN-CSE with a tep CA certificate (`[registrar]
credential = cert`). The enroller issues certificates for 60 s (`[enroller]
cert_lifetime_s`, the enrolment lasting longer), the MN-CSE renews at
`[registrar] renew_margin_s` before notAfter (at most half the lifetime): a new
certificate for the same enrolment in a MEF session authenticated with the current one
(tep_cert_renew, TS-0003 8.3.6 re-provisioning), then a new session with it; the
registration and the route to its devices stay, also past the first certificate's
notAfter. `tepctl status` at the MN-CSE names the credential, its expiry and the state.
Failure: a revoked certificate is not renewed (the MEF refuses it) and the MN-CSE does
not enrol again by itself: it stays cut off, saying why."""

import os
import subprocess
import threading
import time

import pytest

import tepenv
from harness import binary, gateway_platform, run_tool, wait_registered
from onem2m_client import OneM2MClient

TY_ACP, TY_CNT, TY_CIN = 1, 3, 4
LIFETIME = 60


def _cert(path):
    out = subprocess.run(["openssl", "x509", "-in", path, "-noout", "-serial", "-enddate"],
                         capture_output=True, text=True, check=True).stdout
    kv = dict(line.split("=", 1) for line in out.splitlines())
    end = subprocess.run(["date", "-u", "-d", kv["notAfter"], "+%s"], capture_output=True,
                         text=True, check=True).stdout
    return kv["serial"].lower(), int(end)


def _restart_enroller(p, env):
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        p["enroller"].stop()
        p["enroller"].start()
    finally:
        for k, v in old.items():
            if v is None:
                del os.environ[k]
            else:
                os.environ[k] = v


@pytest.fixture(scope="module")
def gw():
    p, mns = gateway_platform(("mnr",), credential="cert", in_cert=True)
    mn = mns["mnr"]
    try:
        dev = p.add_enrolee("gwdev", "--target", "/mnr")
        assert dev.run("enrol").rc == 0
        r = dev.run("register")
        assert r.rc == 0, "%s\n%s" % (r, mn.tail())
        assert dev.run("create-cnt", "data").rc == 0
        assert dev.run("create-cin", "data", "3.5bar").rc == 0
        mn_admin = OneM2MClient("127.0.0.1", int(mn.coap.rsplit(":", 1)[1]), "CAdmin")
        acp = {"rn": "acp-in",
               "pv": {"acr": [{"acor": ["/tep-cse/CAdmin"], "acop": 3},
                              {"acor": ["Cgwdev"], "acop": 63}]},
               "pvs": {"acr": [{"acor": ["CAdmin"], "acop": 63}]}}
        r = mn_admin.create("mnr", TY_ACP, acp)
        assert r.rsc == 2001, str(r)
        r = mn_admin.update("mnr/Cgwdev/data", TY_CNT, {"acpi": [r.resource(TY_ACP)["ri"]]})
        assert r.rsc == 2004, str(r)
        mn_admin.close()
        # from now on certificates live 60 s; the MN-CSE enrols again (its state files
        # gone) to get one, and renews 40 s before notAfter (here: at half its lifetime)
        _restart_enroller(p, {"TEP_ENROLLER_CERT_LIFETIME_S": str(LIFETIME),
                              "TEP_ENROLLER_TARGETS": "/mnr=%s" % mn.coaps})
        mn.stop()
        for suffix in ("", ".crt.pem", ".key.pem", ".ca.pem", ".prov"):
            path = os.path.join(p.dir, "mnr.state" + suffix)
            if os.path.exists(path):
                os.unlink(path)
        path = tepenv.config_path(p.dir, "mnr")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("[registrar]\n", "[registrar]\nrenew_margin_s = 40\n", 1))
        mn.start()
        wait_registered(mn, n=2)  # the log holds the first start's too
        yield p, mn
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def _read_through(p):
    """The IN-side admin reads the device's data hosted at /mnr (forwarded over the
    MN-CSE's session, decided at /mnr)."""
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
        return c.retrieve("~/mnr/mnr/Cgwdev/data/la")


def _renewals(mn):
    return [line.split("serial=")[1].split()[0] for line in mn.log().splitlines()
            if "event=cert_renewed" in line]


def _mn_status(p, mn):
    """tepctl status at the MN-CSE (its admin socket from its configuration)."""
    r = run_tool([binary("tepctl"), "--config", tepenv.config_path(p.dir, "mnr"), "status",
                  "cse"])
    assert r.rc == 0, str(r)
    return r.kv


def test_status_names_the_certificate(gw):
    p, mn = gw
    serial, not_after = _cert(os.path.join(p.dir, "mnr.state.crt.pem"))
    assert 0 < not_after - time.time() <= LIFETIME + 5, not_after
    st = _mn_status(p, mn)
    assert st["registrar_credential"] == "cert", st
    assert st["registrar_credential_id"] == serial, "%s\n%s" % (st, mn.log())
    assert st["registrar_credential_expires"].endswith("(%d)" % not_after), st
    assert st["registrar_state"] == "registered", st
    assert st["registrar_error"] == "-", st
    r = _read_through(p)
    assert r.rsc == 2000 and "3.5bar" in str(r), str(r)


def test_certificate_renewed_before_it_ends_and_service_goes_on(gw):
    """Renewed before notAfter; the new session is made before the old one is broken:
    an IN-side reader that reads the device's data back to back all through the switch
    never misses (no 5103 while the MN-CSE goes over to the new certificate)."""
    p, mn = gw
    first, first_end = _cert(os.path.join(p.dir, "mnr.state.crt.pem"))
    misses, reads, stop = [], [0], threading.Event()

    def reader():
        with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
            while not stop.is_set():
                r = c.retrieve("~/mnr/mnr/Cgwdev/data/la")
                reads[0] += 1
                if r.rsc != 2000:
                    misses.append((time.time(), r.rsc))

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    try:
        deadline = time.monotonic() + LIFETIME
        while "event=registrar_old_session_released" not in mn.log() and \
                time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(1)
    finally:
        stop.set()
        t.join(10)
    assert _renewals(mn), mn.tail()
    renewed = _renewals(mn)[0]
    assert renewed != first
    assert time.time() < first_end, "renewed only after notAfter"
    mn.wait_log(r"event=registrar_reconnect reason=new_credential credential=cert how=overlap", 1)
    mn.wait_log(r"event=registrar_session_switched credential=cert", 1)
    mn.wait_log(r"event=registrar_old_session_released", 1)
    assert reads[0] > 20 and not misses, (reads, misses, mn.tail())
    p["cse"].wait_log(r"event=session_bound identity=cert:%s enrolee_id=/mnr" % renewed, 10)
    # the enrolment stays: the MEF issued it in a session with the current certificate
    assert "enrolled=true" not in "\n".join(
        x for x in mn.log().splitlines() if "event=cert_renewed" in x), mn.tail()
    p["enroller"].wait_log(r"event=cert_renewed kpm_id=mnr .*serial=%s" % renewed, 5)
    # the device's data through the new session, and still once the first is past its end
    deadline = time.monotonic() + 5
    r = _read_through(p)
    while r.rsc != 2000 and time.monotonic() < deadline:
        time.sleep(0.2)
        r = _read_through(p)
    assert r.rsc == 2000, "%s\n%s" % (r, mn.tail())
    while time.time() < first_end + 2:
        time.sleep(0.5)
    r = _read_through(p)
    assert r.rsc == 2000, "%s\n%s" % (r, mn.tail())
    st = _mn_status(p, mn)
    assert st["registrar_state"] == "registered", st
    assert st["registrar_credential_id"] in _renewals(mn), st
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
        assert c.retrieve("%s/mnr" % p.env["CSE_NAME"]).rsc == 2000


def test_revoked_certificate_is_not_renewed_nor_replaced_by_a_new_enrolment(gw):
    """Last: the current certificate revoked, the IN-CSE closes the session and refuses
    it; the MEF refuses its renewal; the MN-CSE does not enrol again by itself (a
    revoked gateway stays out), it says why (log, tepctl status)."""
    p, mn = gw
    serial, _ = _cert(os.path.join(p.dir, "mnr.state.crt.pem"))
    enrolled = p["enroller"].log().count("event=enrolled")
    assert p.tepctl("cert", "revoke", serial).rc == 0
    mn.wait_log(r"event=registrar_refuses_credential credential=cert identity=%s" % serial, 20)
    mn.wait_log(r"event=cert_renewal_refused credential=cert", LIFETIME)
    st = _mn_status(p, mn)
    assert st["registrar_state"] == "credential_refused", st
    assert st["registrar_error"] == "cert_renewal_refused", st
    assert _read_through(p).rsc == 5103
    assert p["enroller"].log().count("event=enrolled") == enrolled, p["enroller"].tail()
    assert "enrolled=true" not in mn.log().split("event=cert_renewal_refused")[-1]
