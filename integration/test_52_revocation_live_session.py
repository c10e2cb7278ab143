"""52: revocation reaches live sessions. TS-0003 10.7 (and DESIGN 3.9): once an
enrolee is revoked, a device that still holds an open DTLS session with the CSE gets
no more service on it within one second: its next request fails (the session is
closed, or the request is refused because the session's credential is revoked: 4106).
Every request before the revocation was served: a failure before it (a late decision, a
lost datagram) is not what is tested."""

import re
import subprocess
import time

import pytest

from harness import binary, device_with_data, kpsa_identity


@pytest.mark.parametrize("interval_ms", [100, 700])
def test_revoke_while_a_session_is_live(platform, interval_ms):
    """interval 100: a request soon after the revocation; 700: the CSE has applied the
    revocation and closed the session before the device's next request."""
    dev, cnt, _ = device_with_data(platform, "device01")
    argv = [binary("tep-device"), "--provisioning", dev.prov, "--state", dev.state,
            "--timeout", "2000", "poll", cnt, str(interval_ms), "40"]
    poll = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        # wait until the session serves requests
        first = poll.stdout.readline()
        assert "RSC=2000" in first, first + poll.stderr.read()
        time.sleep(0.5)
        asked_ms = time.time() * 1000
        r = platform.tepctl("enrolee", "revoke", "device01")
        assert r.rc == 0, str(r)
        revoked_ms = time.time() * 1000
        out, err = poll.communicate(timeout=30)
    finally:
        if poll.poll() is None:
            poll.kill()
    lines = [dict(kv.split("=", 1) for kv in l.split()) for l in out.splitlines()
             if l.startswith("AT=")]
    failed = [l for l in lines if "ERR" in l or l.get("RSC") != "2000"]
    assert failed, "the session kept working after revocation:\n" + out + err
    # the failure came after the revocation was asked for (a positive delay) ...
    delay = int(failed[0]["AT"]) - asked_ms
    assert delay > 0, "a request failed %.0f ms BEFORE the revocation\n%s%s\n%s" % (
        -delay, out, err, platform.logs())
    # ... within a second of it being made ...
    assert int(failed[0]["AT"]) - revoked_ms <= 1000, "first failure %.0f ms after " \
        "revocation\n%s%s\n%s" % (int(failed[0]["AT"]) - revoked_ms, out, err, platform.logs())
    # ... and it is the revocation's: the session closed (exit 2) or unbound (4106)
    ident = re.escape(kpsa_identity(platform, dev))
    if "ERR" in failed[0]:
        assert poll.returncode == 2, out + err
        platform["cse"].wait_log(r"event=session_closed reason=credential_revoked "
                                 r"identity=%s" % ident, 1)
    else:
        assert failed[0]["RSC"] == "4106" and poll.returncode == 3, out + err
        platform["cse"].wait_log(r"event=session_unbound reason=\w+ identity=%s" % ident, 1)
    # requests answered after the revocation, if any, came within that second
    assert all(int(l["AT"]) <= revoked_ms + 1000 for l in lines if "RSC" in l and
               l["RSC"] == "2000"), out


def test_revocation_closes_the_live_session(platform):
    """TS-0003 10.7: the CSE closes a live DTLS session bound to a revoked credential as
    soon as it applies the revocation (close_notify), without waiting for a request."""
    dev, cnt, _ = device_with_data(platform, "device01")
    argv = [binary("tep-device"), "--provisioning", dev.prov, "--state", dev.state,
            "--timeout", "2000", "poll", cnt, "3000", "3"]
    poll = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = poll.stdout.readline()
        assert "RSC=2000" in first, first + poll.stderr.read()
        r = platform.tepctl("enrolee", "revoke", "device01")
        assert r.rc == 0, str(r)
        platform["cse"].wait_log(r"event=session_closed reason=credential_revoked identity=%s"
                                 % re.escape(kpsa_identity(platform, dev)), 1.0)
    finally:
        poll.kill()
        poll.communicate()
