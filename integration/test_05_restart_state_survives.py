"""05: all three daemons restart; enrolments, keys and resources are durable.
TS-0003 8.3.2.1 (Ke lives for the enrolment's lifetime, not the process's) and
docs/internals.md Storage (a write acknowledged to a peer is committed first)."""

from harness import device_with_data


def test_restart_keeps_enrolment_keys_and_resources(platform):
    dev, _, cin = device_with_data(platform, "device01", value="before-restart")
    keid = dev.state_values()["ke_id"]
    with open(dev.state) as f:
        state_before = f.read()

    platform.assert_clean_stop()
    platform.start()

    r = dev.run("retrieve", cin)
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    assert "before-restart" in r.out, str(r)
    with open(dev.state) as f:
        assert f.read() == state_before, "the device re-enrolled"
    assert dev.state_values()["ke_id"] == keid

    r = platform.tepctl("enrolee", "list")
    assert r.rc == 0 and "device01" in r.out, str(r)
