"""52: revocation reaches live sessions. TS-0003 10.7 (and DESIGN 3.9): once an
enrolee is revoked, a device that still holds an open DTLS session with the CSE gets
no more service on it within one second: its next request fails (the session is
closed, or the request is refused because the session's credential is revoked)."""

import subprocess
import time

import pytest

from harness import binary, device_with_data


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
    assert poll.returncode in (2, 3), out + err
    delay = int(failed[0]["AT"]) - revoked_ms
    assert delay <= 1000, "first failure %.0f ms after revocation\n%s%s\n%s" % (
        delay, out, err, platform.logs())
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
        platform["cse"].wait_log(r"event=session_closed reason=credential_revoked", 1.0)
    finally:
        poll.kill()
        poll.communicate()
