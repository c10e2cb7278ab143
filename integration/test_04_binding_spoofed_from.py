"""04: the From of every request must be the identity bound to the DTLS session.
TS-0003 7.2.1 (impersonation prevention: the registrar checks that From equals the
identity bound to the security association, else 4106 ORIGINATOR_NOT_AUTHENTICATED)."""

from harness import device_with_data


def test_spoofed_from_over_coaps_is_refused_4106(platform):
    dev1, cnt, _ = device_with_data(platform, "device01")
    dev2 = platform.enrolled_device("device02")

    # device02's session, but claiming to be device01 (the owner) or someone unknown
    for spoof in ("Cdevice01", "Cother"):
        r = dev2.run("retrieve", cnt, from_=spoof)
        assert r.rc == 3 and r.rsc == 4106, "%s\n%s" % (r, platform.logs())

    r = dev1.run("retrieve", cnt)
    assert r.rc == 0, str(r)
