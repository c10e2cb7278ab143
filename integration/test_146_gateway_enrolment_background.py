"""146: the MN-CSE's own enrolment does not hold up tep-cse (issue 14 item 2, part 4), and
[registrar] credential is checked as configuration. The enrolment, certificate or Kc
the MN-CSE needs as Entity A of its SAEF (TS-0003 8.2.2) is obtained by a worker thread
through libtepae: while the MEF is away the MN-CSE is up at once, serves the devices
behind it (their credentials came from the enroller's sync before), logs each failed
attempt and tries again (1 s doubling to 30 s); once the MEF is back it enrols and
registers to the IN-CSE. A credential the configuration cannot use (an unknown one, or
cert/maf without a SAEF, over plain CoAP) stops `--check-config` and the start with the
file and line."""

import os
import socket
import time

import pytest

from harness import binary, gateway_platform, run_tool
from onem2m_client import OneM2MClient


@pytest.fixture(scope="module")
def gw():
    p, mns = gateway_platform(("mn1",))
    mn = mns["mn1"]
    try:
        dev = p.add_enrolee("gwdev", "--target", "/mn1")
        assert dev.run("enrol").rc == 0
        assert dev.run("register").rc == 0, mn.tail()
        assert dev.run("create-cnt", "data").rc == 0
        assert dev.run("create-cin", "data", "on").rc == 0
        yield p, mn, dev
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def test_first_enrolment_does_not_block_the_start(gw):
    """The MN-CSE restarted without an enrolment (its state file gone) while the MEF does
    not answer (its port swallows datagrams): ready at once, its device served, the
    attempt on its way waited for at a stop; failed attempts logged and retried; the MEF
    back: enrolled (a new enrolment) and registered again."""
    p, mn, dev = gw
    mn.stop()
    os.unlink(os.path.join(p.dir, "mn1.state"))
    p["enroller"].stop()
    hole = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # the MEF's address, silent
    hole.bind(("127.0.0.1", p.ports["enroller_coaps"]))
    try:
        t0 = time.monotonic()
        mn.start()  # returns at event=ready
        assert time.monotonic() - t0 < 2.0, mn.tail()
        r = dev.run("retrieve", "mn1/Cgwdev/data/la")  # over its DTLS session to the MN-CSE
        assert r.rc == 0 and r.rsc == 2000 and "on" in r.out, "%s\n%s" % (r, mn.tail())
        with OneM2MClient("127.0.0.1", int(mn.coap.rsplit(":", 1)[1]), "CAdmin") as c:
            assert c.retrieve("mn1").rsc == 2000
        r = run_tool([binary("tepctl"), "--admin",
                      "ipc://" + os.path.join(p.dir, "ipc", "mn1-admin.ipc"), "status"])
        assert r.get("registrar") == "/tep-cse unregistered", str(r)
        # stopped while the first attempt waits for the MEF (3 s): a clean exit, the
        # worker waited for (the platform's cleanup checks the exit code)
        assert "event=enrolment_failed" not in mn.log(), mn.tail()
        mn.stop()
        assert "event=waiting_for_credential_worker" in mn.log(), mn.tail()
        mn.start()
        mn.wait_log(r"event=enrolment_failed credential=kpsa step=enrol .* retry_ms=\d+", 15)
        assert "event=registered" not in mn.log(), mn.tail()
    finally:
        hole.close()
    p["enroller"].start()
    mn.wait_log(r"event=credential_loaded credential=kpsa enrolee_id=/mn1 .*enrolled=true", 40)
    mn.wait_log(r"event=registered registrar=/tep-cse", 20)  # its Kpsa reached the IN-CSE
    with OneM2MClient("127.0.0.1", p.ports["cse_coap"], "CAdmin") as c:
        assert c.retrieve("%s/mn1" % p.env["CSE_NAME"]).rsc == 2000


@pytest.mark.parametrize("credential,poa,why", [
    ("psk", "coaps", 'must be "kpsa", "cert" or "maf"'),
    ("cert", "coap", "registrar.credential: cert needs type MN and registrar.poa coaps://"),
    ("maf", "coap", "registrar.credential: maf needs type MN and registrar.poa coaps://"),
])
def test_unusable_credential_is_a_configuration_error(gw, credential, poa, why):
    p, mn, dev = gw
    reg = p.mn_registrar("mnbad", credential=credential)
    reg["poa"] = p.env["CSE_COAPS"] if poa == "coaps" else p.env["CSE_COAP"]
    bad = p.add_cse("mnbad", "/mnbad", registrar=reg)
    with open(bad.config) as f:
        line = 1 + [x.split("=")[0].strip() for x in f.read().splitlines()].index("credential")
    for extra in (["--check-config"], []):
        r = run_tool([binary("cse"), "--config", bad.config] + extra)
        assert r.rc == 1, str(r)
        assert "%s:%d" % (bad.config, line) in r.out + r.err and why in r.out + r.err, str(r)
