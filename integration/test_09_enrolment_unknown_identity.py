"""09: an enrolee identity that the MEF does not know (never provisioned, or revoked)
cannot enrol: the bootstrap handshake is refused. TS-0003 8.3.2.1 (the MEF looks up
KpmID), 10.7 (revocation)."""

import os
import time

from harness import device_with_data


def test_revoked_enrolee_cannot_enrol(platform):
    dev = platform.add_enrolee("device01")
    r = platform.tepctl("enrolee", "revoke", "device01")
    assert r.rc == 0, str(r)

    r = dev.run("enrol")
    assert r.rc == 2, str(r)
    assert not os.path.exists(dev.state) or "ke_id" not in open(dev.state).read()
    platform["enroller"].wait_log(r"event=handshake_refused", 5)


def test_never_provisioned_enrolee_cannot_enrol(platform):
    dev = platform.device("ghost")
    with open(dev.prov, "w") as f:
        f.write("[device]\nkpm_id = ghost\nkpm = %s\nmef_uri = %s\nmef_fqdn = %s\n"
                % ("11" * 32, platform.env["ENROLLER_COAPS"], platform.env["MEF_FQDN"]))
    os.chmod(dev.prov, 0o600)
    r = dev.run("enrol")
    assert r.rc == 2, str(r)
    platform["enroller"].wait_log(r"event=handshake_refused", 5)


def test_revoked_enrolee_loses_its_cse_credentials(platform):
    """TS-0003 10.7 / docs DESIGN 3.9: revocation travels as an event; within a second new
    handshakes to the CSE with the old Kpsa fail."""
    dev, cnt, _ = device_with_data(platform, "device01")
    r = platform.tepctl("enrolee", "revoke", "device01")
    assert r.rc == 0, str(r)
    deadline = time.monotonic() + 1.5
    while True:
        r = dev.run("retrieve", cnt)
        if r.rc == 2 or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert r.rc == 2, "%s\n%s" % (r, platform.logs())
