"""23: tep-cse's admin socket, driven by tepctl (docs/internals.md "Bus": admin, each
daemon's ROUTER; STATUS on every daemon; "tepctl": exit 0 ok, 3 refused, 2 unreachable).
STATUS tells an operator what tep-cse holds: its CSE-ID, the credentials it learnt from
the enroller's events (TS-0003 8.2.2.1: Kpsa reaches the registrar CSE by event, never
inside a handshake), the resources of its tree and the last event it applied; every
other operation is refused and tep-cse goes on serving."""

import harness


def _status(platform):
    r = platform.tepctl("status", "cse", admin="cse")
    assert r.rc == 0, str(r)
    return r


def _wait_status(platform, key, want, timeout=5.0):
    import time
    deadline = time.monotonic() + timeout
    while True:
        r = _status(platform)
        if r.get(key) == want:
            return r
        assert time.monotonic() < deadline, "%s=%s, want %s\n%s" % (key, r.get(key), want, r)
        time.sleep(0.1)


def test_status_follows_what_the_cse_learns_and_holds(platform):
    r = _status(platform)
    assert (r.get("role"), r.get("ready"), r.get("cse_id")) == \
        ("cse", "true", platform.env["CSE_ID"]), str(r)
    assert r.get("version") and r.get("credentials") == "0" and r.get("last_seq") == "0"
    base = int(r.get("resources"))
    assert base >= 1                                     # the CSEBase

    dev = platform.add_enrolee("device01")
    assert dev.run("enrol").rc == 0
    enroller = platform.tepctl("status", "enroller").get("last_seq")
    r = _wait_status(platform, "last_seq", enroller)     # the enrolment event applied
    assert r.get("credentials") == "1", str(r)

    harness.device_with_data(platform, "device02")       # AE + container + instance
    r = _wait_status(platform, "credentials", "2")
    assert int(r.get("resources")) == base + 3, str(r)

    # a revocation is an event too: STATUS shows it applied
    assert platform.tepctl("enrolee", "revoke", "device01").rc == 0
    enroller = platform.tepctl("status", "enroller").get("last_seq")
    _wait_status(platform, "last_seq", enroller)


def test_other_operations_are_refused_and_the_cse_serves_on(platform, tmp_path):
    for args in (("enrolee", "list"), ("enrolee", "revoke", "device01"), ("cert", "list"),
                 ("events",), ("audit",), ("maf", "keys"), ("token", "revoke", "x@y")):
        r = platform.tepctl(*args, admin="cse")
        assert r.rc == 3 and "tepctl: refused:" in r.err, str(r)
    dev = platform.enrolled_device("device01")
    r = dev.run("retrieve", harness.ae_path(platform, dev))
    assert r.rc == 0 and r.rsc == 2000, str(r)
    assert _status(platform).get("ready") == "true"


def test_stopped_cse_is_unreachable(platform):
    assert platform["cse"].stop() == 0
    r = platform.tepctl("status", "cse", admin="cse")
    assert r.rc == 2 and "cse unreachable" in r.err, str(r)
    platform["cse"].start()
    assert _status(platform).get("ready") == "true"
