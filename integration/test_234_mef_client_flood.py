"""234: MEF Client Registration in a loop (TS-0003 V3.x 8.3.5.2.3: each registration is a
record the MEF keeps until its expirationTime, up to 30 days here). An enrolled device
registered clients without bound, each a record in the enroller's store shared by every
enrolee. Now one enrolee holds at most 64: the 65th replaces its oldest, whose keys are
de-registered (KEY_DEREGISTERED to their target), so the store stays bounded and the
device is never locked out."""

import re
import time


def test_client_registrations_of_one_enrolee_are_bounded(platform):
    p = platform
    dev = p.add_enrolee("dev9")
    assert dev.run("enrol").rc == 0
    r = dev.run("mef-run", p.env["CSE_ID"], p.env["CSE_COAPS"], p.env["CSE_NAME"])
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    key_id = r.get("KEY_ID")
    time.sleep(1.1)  # registrations are dated to the second: this one is the oldest
    # each key registration for a target that is not one registers a client first
    for i in range(64):
        r = dev.run("mef-run", "/nowhere", p.env["CSE_COAPS"], p.env["CSE_NAME"])
        assert r.rc == 2, str(r)
    log = p["enroller"].log()
    assert log.count("event=mef_client_registered kpm_id=dev9 ") == 65, log[-2000:]
    assert log.count("event=mef_client_replaced reason=too_many_clients") == 1, log[-2000:]
    events = p.tepctl("events").out
    assert re.search(r"key_deregistered +dev9 +\S+ +\S+ +%s" % re.escape(key_id), events), \
        events
