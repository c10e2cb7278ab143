"""75: an AE may not take another AE's address with its resourceName (issue 10, attack).
TS-0001 V3.36 9.6.5 / TS-0004 V3.32 7.3.3.2 and 7.4.5: an AE registered without rn is
addressed <CSEBase>/<AE-ID>, so the rn of an AE lives in the AE-IDs' namespace. Before
the fix any client could register an AE whose rn was an enrolled device's AE-ID, and
that device could then never register (4105 CONFLICT). Now the squatter gets 4105
CONFLICT (a name that is taken, "rn_is_another_ae_id") when the rn is the AE-ID of an
AE registered here or of an enrolment tep-cse knows from the enroller's events (enrolled
but not registered yet); the victim registers, and tep-cse keeps serving."""

import time

from harness import ae_path
from onem2m_client import OneM2MClient, TY_AE


def _register(client, cse_name, rn, originator=...):
    return client.create(cse_name, TY_AE, {"rn": rn, "api": "Ntep.test", "rr": False,
                                           "srv": ["3"]}, fr=originator)


def _wait_enrolled_at_cse(platform, ae_id, timeout=5.0):
    """The enrolment reaches tep-cse by event; wait until a plain-CoAP From of that
    AE-ID is refused with 4107 (tep-cse knows it is enrolled)."""
    end = time.monotonic() + timeout
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"], ae_id) as c:
        while time.monotonic() < end:
            if c.retrieve(platform.env["CSE_NAME"]).rsc == 4107:
                return
            time.sleep(0.1)
    raise AssertionError("tep-cse never learnt of %s\n%s" % (ae_id, platform.logs()))


def test_rn_of_an_enrolled_ae_id_is_refused_and_the_device_registers(platform):
    cse = platform.env["CSE_NAME"]
    victim = platform.add_enrolee("device01")
    r = victim.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    victim_id = victim.state_values()["enrolee_id"]
    _wait_enrolled_at_cse(platform, victim_id)

    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"], "Csquatter") as c:
        # enrolled, not registered yet: its address is reserved
        r = _register(c, cse, victim_id)
        assert (r.rsc, r.code) == (4105, "4.03"), str(r)
        assert r.dbg == "CONFLICT: rn_is_another_ae_id", str(r)
        assert c.retrieve("%s/%s" % (cse, victim_id), fr="CAdmin").rsc == 4004

        t0 = time.monotonic()
        r = victim.run("register")
        assert r.rc == 0, "%s\n%s" % (r, platform.logs())
        assert time.monotonic() - t0 < 5
        ae = ae_path(platform, victim)
        assert ae == "%s/%s" % (cse, victim_id)

        # registered: still refused, and the device's AE is untouched
        r = _register(c, cse, victim_id, originator="Csquatter2")
        assert r.rsc == 4105, str(r)
        got = c.retrieve(ae, fr="CAdmin")
        assert got.rsc == 2000 and got.resource(TY_AE)["aei"] == victim_id, str(got)


def test_rn_of_a_registered_plain_ae_is_refused_own_rn_is_fine(platform):
    cse = platform.env["CSE_NAME"]
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"]) as c:
        r = _register(c, cse, "my-app", originator="Cfirst01")
        assert r.rsc == 2001, str(r)
        r = _register(c, cse, "Cfirst01", originator="Csquat02")
        assert (r.rsc, r.code) == (4105, "4.03"), str(r)
        assert r.dbg == "CONFLICT: rn_is_another_ae_id", str(r)
        # an rn equal to its own AE-ID, or a name nobody's AE-ID: registered
        assert _register(c, cse, "Cown03", originator="Cown03").rsc == 2001
        assert _register(c, cse, "sensor-4", originator="Cfour04").rsc == 2001
        # the squatter's AE was not created; its registration still works without rn
        r = _register(c, cse, "Csquat02", originator="Csquat02")
        assert r.rsc == 2001, str(r)
