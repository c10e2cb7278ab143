"""03: an AE may not read another AE's container without a policy granting it.
TS-0003 7.1 (access control: with no accessControlPolicy the custodian only; anything
not permitted is denied, 4103 ORIGINATOR_HAS_NO_PRIVILEGE)."""

from harness import device_with_data


def test_second_ae_is_denied_device01_container(platform):
    dev1, cnt, cin = device_with_data(platform, "device01")
    dev2 = platform.enrolled_device("device02")

    for path in (cnt, cin):
        r = dev2.run("retrieve", path)
        assert r.rc == 3 and r.rsc == 4103, "%s\n%s" % (r, platform.logs())

    r = dev1.run("retrieve", cin)
    assert r.rc == 0 and "hello-tep" in r.out, str(r)
