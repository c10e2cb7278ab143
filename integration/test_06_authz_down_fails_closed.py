"""06: with the PDP (tep-authz) gone, the CSE denies within its deadline: the platform
fails closed. TS-0003 7.1 (an access decision that cannot be obtained is a Deny, 4103);
docs/internals.md Bus "decide" (deadline_ms, Lazy Pirate rebuild)."""

import time

from harness import device_with_data

DEADLINE_MS = 500  # short, explicitly: this scenario is about the deadline


def test_authz_killed_denies_in_time_then_recovers(platform_factory):
    platform = platform_factory(deadline_ms=DEADLINE_MS)
    dev, cnt, _ = device_with_data(platform, "device01")
    r = dev.run("retrieve", cnt)
    assert r.rc == 0, str(r)

    platform["authz"].kill()
    t0 = time.monotonic()
    r = dev.run("retrieve", cnt)
    elapsed = time.monotonic() - t0
    assert r.rc == 3 and r.rsc == 4103, "%s\n%s" % (r, platform.logs())
    assert elapsed < DEADLINE_MS / 1000 + 2, "denied after %.2f s" % elapsed
    assert platform["cse"].alive()

    platform["authz"].start()
    deadline = time.monotonic() + 5
    while True:
        r = dev.run("retrieve", cnt)
        if r.rc == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert r.rc == 0, "not served again after tep-authz restart:\n%s\n%s" % (r, platform.logs())
