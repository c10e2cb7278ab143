"""179: a revoked MN-CSE, its re-provisioning, and a Kc de-registered at the MAF alone
(issue 14 gaps, items 2-4).

Revocation (TS-0003 10.7): the gateway /mnv (`[registrar] credential = kpsa`) revoked at
the enroller is cut off by the IN-CSE; it does not enrol again by itself with the
provisioning it was revoked with (the MEF is not even asked), it says so (log
event=registrar_refuses_credential, `tepctl status` registrar_state=credential_refused)
and waits. Re-provisioning (8.3.1.2): the operator provisions the CSE-ID anew (a new
enrolee record, its provisioning file dropped where [registrar] provisioning points):
the MN-CSE sees the new file (or SIGHUP), enrols with it and registers again, without a
restart. A file the MEF refuses (unknown KpmID) is retried with backoff, nothing else is
used meanwhile (fail closed).

MAF (8.8.2.10): the gateway /mnk (`credential = maf`) whose Kc alone is revoked at the
MAF registers a new Kc as soon as the registrar refuses the current one, not at its
renewal time; at most one per `[registrar] kc_retry_s`."""

import os
import signal
import time

import pytest

import tepenv
from harness import binary, gateway_platform, run_tool, wait_registered

KC_RETRY_S = 20


def _status(p, name):
    r = run_tool([binary("tepctl"), "--config", tepenv.config_path(p.dir, name), "status",
                  "cse"])
    assert r.rc == 0, str(r)
    return r.kv


def _wait_status(p, name, key, value, timeout):
    deadline = time.monotonic() + timeout
    st = _status(p, name)
    while st[key] != value and time.monotonic() < deadline:
        time.sleep(0.2)
        st = _status(p, name)
    assert st[key] == value, st
    return st


@pytest.fixture(scope="module")
def kp():
    p, mns = gateway_platform(("mnv",))
    try:
        yield p, mns["mnv"]
        mns["mnv"].stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def test_status_names_the_kpsa(kp):
    p, mn = kp
    st = _wait_status(p, "mnv", "registrar_state", "registered", 5)
    log = mn.log(since_start=False)
    kpsa_id = log.split("event=enrolment_loaded enrolee_id=/mnv kpsa_id=")[1].split()[0]
    assert st["registrar_credential"] == "kpsa", st
    assert st["registrar_credential_id"] == kpsa_id, st
    expires = log.split("event=credential_loaded credential=kpsa")[1].split("expires=")[1]
    assert st["registrar_credential_expires"].endswith("(%s)" % expires.split()[0]), st
    assert st["registrar_error"] == "-", st
    assert st["registrar"] == "/tep-cse registered", st


def test_revoked_gateway_does_not_reenrol_by_itself(kp):
    p, mn = kp
    enrolled = p["enroller"].log(since_start=False).count("event=enrolled")
    before = len(mn.log())
    assert p.tepctl("enrolee", "revoke", "mnv").rc == 0
    mn.wait_log(r"event=registrar_session_closed", 5)
    mn.wait_log(r"event=registrar_refuses_credential credential=kpsa .*failures=3", 20)
    st = _wait_status(p, "mnv", "registrar_state", "credential_refused", 5)
    assert st["registrar"] == "/tep-cse unregistered", st
    time.sleep(3)  # it keeps trying the registrar (backoff), never the MEF
    assert p["enroller"].log(since_start=False).count("event=enrolled") == enrolled
    assert "event=credential_asked" not in mn.log()[before:], mn.log()[before:]


def run_tool_cse(p):
    from onem2m_client import OneM2MClient
    return OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin")


def test_unknown_provisioning_is_refused_and_retried(kp):
    """A provisioning file the MEF does not know (the operator dropped it before adding
    the enrolee): the enrolment is refused, retried with backoff; still cut off."""
    p, mn = kp
    prov = os.path.join(p.dir, "mnv.prov")
    with open(prov) as f:
        text = f.read()
    bogus = "\n".join("kpm_id = nobody-mnv" if x.startswith("kpm_id") else x
                      for x in text.splitlines()) + "\n"
    tmp = prov + ".new"
    with open(tmp, "w") as f:
        f.write(bogus)
    os.replace(tmp, prov)
    mn.wait_log(r"event=provisioning_changed", 5)
    mn.wait_log(r"event=enrolment_refused credential=kpsa step=enrol .*retry_ms=1000 for=reprovisioning", 15)
    mn.wait_log(r"event=enrolment_refused credential=kpsa step=enrol .*retry_ms=2000 for=reprovisioning", 15)
    st = _status(p, "mnv")
    assert st["registrar_error"] == "enrolment_refused", st
    assert st["registrar_state"] != "registered", st
    assert "event=reprovisioned" not in mn.log()


def test_reprovisioned_gateway_recovers_without_restart(kp):
    """The operator provisions /mnv anew (a new enrolee for the same CSE-ID) and drops
    its file in place: the MN-CSE enrols with it and registers again, same process."""
    p, mn = kp
    pid = mn.proc.pid
    tmp = os.path.join(p.dir, "mnv2.prov")
    r = p.tepctl("enrolee", "add", "mnv2", "--mef-uri", p.env["ENROLLER_COAPS"],
                 "--mef-fqdn", p.env["MEF_FQDN"], "--ae-id", "/mnv", "--out", tmp)
    assert r.rc == 0, str(r)
    os.replace(tmp, os.path.join(p.dir, "mnv.prov"))
    mn.wait_log(r"event=reprovisioned enrolee_id=/mnv", 40)
    mn.wait_log(r"event=registered registrar=/tep-cse", 15)
    st = _wait_status(p, "mnv", "registrar_state", "registered", 10)
    kpsa_id = mn.log().split("event=enrolment_loaded enrolee_id=/mnv kpsa_id=")[-1].split()[0]
    assert st["registrar_credential_id"] == kpsa_id, st
    assert st["registrar_error"] == "-", st
    assert mn.proc.pid == pid and mn.alive()
    with run_tool_cse(p) as c:
        assert c.retrieve("%s/mnv" % p.env["CSE_NAME"]).rsc == 2000


def test_sighup_with_the_same_file_does_not_reenrol(kp):
    p, mn = kp
    enrolled = p["enroller"].log(since_start=False).count("event=enrolled")
    os.kill(mn.proc.pid, signal.SIGHUP)
    mn.wait_log(r"event=provisioning_unchanged", 5)
    time.sleep(1)
    assert p["enroller"].log(since_start=False).count("event=enrolled") == enrolled
    assert _status(p, "mnv")["registrar_state"] == "registered"


# ---------------------------------------------------------------- a Kc revoked at the MAF


@pytest.fixture(scope="module")
def kc():
    p, mns = gateway_platform((), maf=True)
    try:
        p.add_enrolee("mnk", "--ae-id", "/mnk")
        reg = p.mn_registrar("mnk", credential="maf")
        reg["kc_retry_s"] = str(KC_RETRY_S)
        mn = p.add_cse("mnk", "/mnk", registrar=reg)
        mn.start()
        wait_registered(mn)
        yield p, mn
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def _kc_ids(mn):
    return [x.split("identity=")[1].split()[0] for x in mn.log().splitlines()
            if "event=credential_loaded credential=maf" in x]


def test_status_names_the_kc(kc):
    p, mn = kc
    st = _wait_status(p, "mnk", "registrar_state", "registered", 5)
    assert st["registrar_credential"] == "maf", st
    assert st["registrar_credential_id"] == _kc_ids(mn)[-1], st


def test_kc_revoked_at_the_maf_is_replaced_at_once(kc):
    """The Kc revoked at the MAF (its enrolment still good): the IN-CSE closes the
    session and refuses the key; the MN-CSE registers a new Kc after the second refused
    handshake and is registered again within seconds (its Kc would live an hour)."""
    p, mn = kc
    first = _kc_ids(mn)[-1]
    registered = mn.log().count("event=registered registrar=")
    assert p.tepctl("maf", "revoke", first, admin="authz").rc == 0
    mn.wait_log(r"event=kc_refused identity=%s" % first, 10)
    deadline = time.monotonic() + 10
    while len(_kc_ids(mn)) < 2 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_kc_ids(mn)) == 2, mn.tail()
    second = _kc_ids(mn)[-1]
    assert second != first
    deadline = time.monotonic() + 10
    while mn.log().count("event=registered registrar=") == registered and \
            time.monotonic() < deadline:
        time.sleep(0.2)
    assert mn.log().count("event=registered registrar=") > registered, mn.tail()
    p["cse"].wait_log(r"event=session_bound identity=%s enrolee_id=/mnk" % second, 5)
    st = _wait_status(p, "mnk", "registrar_state", "registered", 5)
    assert st["registrar_credential_id"] == second, st


def test_new_kcs_are_bounded(kc):
    """The new Kc revoked too, at once: the next one comes only kc_retry_s after the
    last (the MAF is not asked at every refused handshake)."""
    p, mn = kc
    second = _kc_ids(mn)[-1]
    asked = [x for x in mn.log().splitlines() if "for=new_kc" in x]
    assert p.tepctl("maf", "revoke", second, admin="authz").rc == 0
    mn.wait_log(r"event=kc_refused identity=%s" % second, 10)
    # the last new Kc was asked for less than kc_retry_s ago: none before that
    time.sleep(3)
    assert len(_kc_ids(mn)) == 2, mn.tail()
    deadline = time.monotonic() + KC_RETRY_S + 5
    while len(_kc_ids(mn)) < 3 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert len(_kc_ids(mn)) == 3, mn.tail()
    assert len([x for x in mn.log().splitlines() if "for=new_kc" in x]) == len(asked) + 1
    wait_registered(mn, n=3, timeout=15)
