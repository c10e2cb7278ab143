"""51: application enrolment (seed Z.2; docs/internals.md "Application enrolment").
An application's enrolment credential, bound to its App-ID by the operator, is shared by
every instance; each instance runs the PPSK bootstrap (TS-0003 8.3.2.1) with it and gets
its own Ke/KeID, Kpsa and AE-ID C<stem>-<16 hex digits (64 bits) of its KeID>; revoking the
application (TS-0003 10.7) revokes every instance, one event each."""

import re
import time

from harness import ae_path, created_path


def _app(platform, app_id, *extra):
    prov = "%s/%s.prov" % (platform.dir, app_id)
    r = platform.tepctl("app", "add", app_id, "--mef-uri", platform.env["ENROLLER_COAPS"],
                        "--mef-fqdn", platform.env["MEF_FQDN"], *extra, "--out", prov)
    assert r.rc == 0, str(r)
    return r, prov


def _instance(platform, prov, name):
    dev = platform.device(name)
    dev.prov = prov
    return dev


def test_instances_enrol_with_one_credential_and_get_distinct_keys(platform):
    r, prov = _app(platform, "Nmeter")
    assert r.get("APP_ID") == "Nmeter" and r.get("AE_ID_STEM") == "meter", str(r)
    a, b = _instance(platform, prov, "meter-a"), _instance(platform, prov, "meter-b")
    for dev in (a, b):
        r = dev.run("enrol")
        assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    sa, sb = a.state_values(), b.state_values()
    assert sa["ke_id"] != sb["ke_id"]
    for s in (sa, sb):
        assert re.fullmatch(r"Cmeter-[0-9a-f]{16}", s["enrolee_id"]), s
        assert s["enrolee_id"] == "Cmeter-" + s["ke_id"][:16]
        assert s["app_id"] == "Nmeter"
    assert sa["enrolee_id"] != sb["enrolee_id"]
    # the first instance is still valid after the second enrolled: both register and
    # store data under their own AE, each over its own Kpsa
    for dev in (a, b):
        r = dev.run("register")
        assert r.rc == 0, "%s\n%s" % (r, platform.logs())
        r = dev.run("create-cnt", "data")
        assert r.rc == 0, str(r)
        assert created_path(r, ae_path(platform, dev)).startswith(ae_path(platform, dev))
    r = platform.tepctl("app", "list")
    assert r.rc == 0 and sa["enrolee_id"] in r.out and sb["enrolee_id"] in r.out, str(r)


def test_app_revoke_stops_every_instance(platform):
    _, prov = _app(platform, "Nmeter")
    devs = [_instance(platform, prov, "meter-%d" % i) for i in range(3)]
    for dev in devs:
        assert dev.run("enrol").rc == 0
        assert dev.run("register").rc == 0
    before = platform.tepctl("events").out.count("revoked")

    r = platform.tepctl("app", "revoke", "Nmeter")
    assert r.rc == 0, str(r)
    events = platform.tepctl("events").out
    assert events.count("revoked") - before == 3, events  # one event per instance
    deadline = time.monotonic() + 1.5
    for dev in devs:
        while True:  # a new handshake with the instance's Kpsa fails within a second
            r = dev.run("retrieve", ae_path(platform, dev))
            if r.rc == 2 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.rc == 2, "%s\n%s" % (r, platform.logs())
    # and no instance enrols again with the application credential
    r = _instance(platform, prov, "meter-new").run("enrol")
    assert r.rc == 2, str(r)
    assert platform.tepctl("app", "revoke", "Nmeter").rc == 3  # nothing left to revoke


def test_app_credential_needs_an_app_id_stem(platform):
    r = platform.tepctl("app", "add", "N/x", "--out", platform.dir + "/x.prov")
    assert r.rc == 3, str(r)


def test_registration_checks_the_app_id(platform):
    """An instance registers with api = its enrolment's App-ID; another api is refused
    with 4126 APP_RULE_VALIDATION_FAILED (the enrolment binds the App-ID, seed Z.2)."""
    _, prov = _app(platform, "Nmeter")
    dev = _instance(platform, prov, "meter-a")
    assert dev.run("enrol").rc == 0
    r = dev.run("register", "--app-id", "Nother")
    assert r.rc == 3 and r.rsc == 4126, "%s\n%s" % (r, platform.logs())
    platform["cse"].wait_log(r"event=app_id_refused .*app_id=Nmeter api=Nother rsc=4126", 5)
    r = dev.run("register", "--app-id", "Nmeter")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
