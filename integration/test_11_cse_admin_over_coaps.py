"""11: over CoAPS the admin originator is honoured only on a session authenticated with
the admin credential ([cse] admin_psk_identity / admin_psk_file, docs/internals.md).
TS-0003 V3.18 7.2.1 (the originator is bound to the security association; a From that is
not the session's identity is 4106) and 8.2.2.1 (DTLS-PSK). The client is Debian's
coap-client-openssl (nobody here wrote it); its answer is read from tep-cse's log because
that client drops responses carrying oneM2M options."""

import os
import re
import shutil
import subprocess

import pytest

import tepenv

CLIENT = shutil.which("coap-client-openssl")
pytestmark = pytest.mark.skipif(CLIENT is None, reason="coap-client-openssl (libcoap3-bin) missing")

IDENTITY = "tep-admin"
KEY = bytes(range(1, 33))  # no NUL: coap-client takes -k as a C string


def _with_admin_psk(platform, mode=0o600):
    key_file = os.path.join(platform.dir, "admin.psk")
    with open(key_file, "w") as f:
        f.write(KEY.hex() + "\n")
    os.chmod(key_file, mode)
    ini = tepenv.config_path(platform.dir, "cse")
    with open(ini) as f:
        text = f.read()
    text = text.replace("[cse]\n", "[cse]\nadmin_psk_identity = %s\nadmin_psk_file = %s\n"
                        % (IDENTITY, key_file), 1)
    with open(ini, "w") as f:
        f.write(text)
    platform["cse"].stop()


def _get(platform, ident, key, frm):
    url = platform.env["CSE_COAPS"] + "/" + platform.env["CSE_NAME"]
    argv = [CLIENT, "-v", "7", "-B", "3", "-m", "get", "-u", ident.encode(), "-k", key,
            "-O", ("279,%s" % frm).encode(), "-O", b"283,it-admin", url.encode()]
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    return (p.stdout + p.stderr).decode(errors="replace")


def _answers(platform):
    return re.findall(r"event=request op=retrieve path=\S+ originator=(\S+) secure=1 rsc=(\d+)",
                      platform["cse"].log())


def test_admin_credential_is_honoured_over_coaps(platform):
    _with_admin_psk(platform)
    platform["cse"].start()
    admin = platform.env["ADMIN_ORIGINATOR"]
    log = _get(platform, IDENTITY, KEY, admin)
    assert "session connected" in log, log
    assert (admin, "2000") in _answers(platform), platform.logs()
    assert "rule=admin" in platform["cse"].log()
    # the admin session cannot speak for anyone else
    _get(platform, IDENTITY, KEY, "Cdevice01")
    assert ("Cdevice01", "4106") in [(o, r) for o, r in _answers(platform)] or \
        "reason=from_mismatch" in platform["cse"].log(), platform.logs()


def test_wrong_admin_key_fails_the_handshake(platform):
    _with_admin_psk(platform)
    platform["cse"].start()
    log = _get(platform, IDENTITY, bytes([KEY[0] ^ 0x80]) + KEY[1:],
               platform.env["ADMIN_ORIGINATOR"])
    assert "session connected" not in log, log
    assert _answers(platform) == []


def test_admin_key_file_readable_by_others_is_refused(platform):
    _with_admin_psk(platform, mode=0o644)
    d = platform["cse"]
    with pytest.raises(AssertionError):
        d.start()
    assert "event=bad_admin_psk" in d.log(), d.log()
    d.proc.wait(timeout=10)
    assert d.proc.returncode == 1  # a configuration error
    os.chmod(os.path.join(platform.dir, "admin.psk"), 0o600)
    d.start()  # fixed: it starts (and the teardown sees a clean stop)
