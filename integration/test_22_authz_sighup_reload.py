"""22: tep-authz reloads its dynamic-authorization grants on SIGHUP (docs/internals.md
"Dynamic authorization": the grants file is re-read on SIGHUP; STYLE "SIGHUP reloads
what may be reloaded"). The grants are the policy of the token issuer, TS-0003 7.3.2.3
(indirect flow): a changed file is in force for the next token request without a
restart; a file that does not parse or holds an invalid grant is refused with the error
in the log and the old grants stay in force (fail safe: a typo never opens or closes
everything). What a user sees: the token answer (2.01 / 4.03 "no grant"), `tepctl
status authz` grants=N, the log line."""

import json
import re
import signal
import time

import pytest

from test_41_dynauth_tokens import DynPlatform


@pytest.fixture
def d(monkeypatch, request):
    made = DynPlatform(monkeypatch, deadline_ms=3000)
    yield made
    try:
        made.stop()
    finally:
        made.p.cleanup(keep=getattr(request.node, "tep_failed", False))


def _grants_path(d):
    return d.p.dir + "/grants.json"


def _write(d, text):
    with open(_grants_path(d), "w") as f:
        f.write(text)


def _grant(d, reader, owner, acop=2):
    return {"or": reader, "ris": ["/%s/%s/*" % (d.p.env["CSE_NAME"], owner)], "acop": acop,
            "lt": 600}


def _hup(d, pattern, timeout=5.0):
    """SIGHUP to tep-authz; waits for one more log line matching pattern; returns it."""
    authz = d.p["authz"]
    rx = re.compile(pattern)
    before = [l for l in authz.log().splitlines() if rx.search(l)]
    authz.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while True:
        now = [l for l in authz.log().splitlines() if rx.search(l)]
        if len(now) > len(before):
            return now[-1]
        assert authz.alive(), authz.tail()
        assert time.monotonic() < deadline, "no '%s' after SIGHUP:\n%s" % (pattern, authz.tail())
        time.sleep(0.05)


def _status_grants(d):
    r = d.p.tepctl("status", "authz", admin="authz")
    assert r.rc == 0, str(r)
    return r.get("grants")


def _token(d, dev, cnt):
    return d.ask_token(dev, ["/" + cnt])


def test_changed_grants_are_in_force_after_sighup(d):
    import harness
    _, cnt, _ = harness.device_with_data(d.p, "device02")
    reader = d.p.enrolled_device("device01")
    third = d.p.enrolled_device("device03")
    code, body = _token(d, reader, cnt)          # the start-up grant: device01 may read
    assert code == "2.01" and body.get("tkid"), body
    assert _token(d, third, cnt) == ("4.03", {"error": "no grant"})
    assert _status_grants(d) == "1"

    # the operator moves the grant from device01 to device03 and adds a second one
    _write(d, json.dumps({"grants": [_grant(d, "Cdevice03", "Cdevice02"),
                                     _grant(d, "Cdevice03", "Cdevice01")]}))
    line = _hup(d, r"event=reloaded ")
    assert "grants=2" in line, line
    assert _status_grants(d) == "2"
    assert _token(d, reader, cnt) == ("4.03", {"error": "no grant"})
    code, body = _token(d, third, cnt)
    assert code == "2.01" and body["azp"].endswith("/Cdevice03"), body

    # an empty list revokes every grant
    _write(d, '{"grants": []}')
    assert "grants=0" in _hup(d, r"event=reloaded ")
    assert _token(d, third, cnt) == ("4.03", {"error": "no grant"})


@pytest.mark.parametrize("bad", [
    '{"grants": [{"or": "Cdevice01", "ris": ["/tep-cse/Cdevice02/*"], "acop": 2, ',  # cut
    '{"grants": [{"or": "Cdevice01", "ris": [], "acop": 2, "lt": 600}]}',  # no target
    '{"grants": [{"or": "Cdevice01", "ris": ["/tep-cse/x"], "acop": 0, "lt": 600}]}',
    '{"grants": [{"or": "Cdevice01", "ris": ["/tep-cse/x"], "acop": 2, "lt": -1}]}',
    '{"grants": {}}',
    '',
], ids=["truncated", "no-ris", "acop-0", "negative-lt", "not-a-list", "empty-file"])
def test_bad_grants_file_keeps_the_old_grants_and_logs_why(d, bad):
    import harness
    _, cnt, _ = harness.device_with_data(d.p, "device02")
    reader = d.p.enrolled_device("device01")
    _write(d, bad)
    line = _hup(d, r"event=grants_invalid ")
    assert re.search(r'reason="[^"]+" kept=old', line), line
    d.p["authz"].wait_log(r"event=reloaded log_level=info grants=1", 5)
    assert _status_grants(d) == "1"
    code, body = _token(d, reader, cnt)          # the old grant is still in force
    assert code == "2.01" and body.get("tkid"), body


def test_missing_grants_file_keeps_the_old_grants(d):
    import os
    import harness
    _, cnt, _ = harness.device_with_data(d.p, "device02")
    reader = d.p.enrolled_device("device01")
    os.unlink(_grants_path(d))
    line = _hup(d, r"event=grants_invalid ")
    assert "kept=old" in line, line
    assert _status_grants(d) == "1"
    assert _token(d, reader, cnt)[0] == "2.01"
