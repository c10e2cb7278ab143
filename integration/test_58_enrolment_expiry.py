"""58: an enrolment's expiry bounds everything derived from it (TS-0003 10.7). One
device enrols with a short lifetime, gets a certificate in the same MEF session and
registers a connection key at the MAF, then holds a live DTLS-PSK session with tep-cse.
When the enrolment expires:
- the live session serves no more requests (refused on sight as unbound, or closed by
  tep-cse's expiry sweep, which runs every 5 s);
- a new Kpsa handshake is refused (tep-cse logs handshake_refused reason=expired);
- the certificate ends with it (notAfter <= the enrolment's expiry) and a certificate
  handshake with it is refused;
- the MAF refuses the Km handshake;
- the MEF refuses the Kpm handshake (no re-enrolment with an expired credential).
Another device enrolled without a short lifetime keeps working throughout."""

import re
import subprocess
import time

import pytest

import tepkeys
from harness import (ae_path, binary, cert_of, coap_cert, created_path,
                     parse_kv, restart_cse_with_certificate, with_maf)

LIFETIME = 10  # seconds, from `tepctl enrolee add`
SWEEP_S = 5    # tep-cse's expiry sweep (cse_main.c EXPIRY_SWEEP_MS)


def _openssl_not_after(crt):
    out = subprocess.run(["openssl", "x509", "-noout", "-enddate", "-dateopt", "iso_8601",
                          "-in", crt], capture_output=True, text=True, check=True).stdout
    # notAfter=2026-11-28 05:00:00Z
    stamp = out.strip().split("=", 1)[1]
    return int(time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%SZ")) - time.timezone)


def _s_client_psk(coaps_uri, identity, psk):
    """One DTLS 1.2 PSK handshake with OpenSSL's s_client (TLS_PSK_WITH_AES_128_CCM_8);
    its output ("New, TLSv1.2, Cipher is ..." once a handshake completes)."""
    host, port = coaps_uri.rsplit("/", 1)[1].rsplit(":", 1)
    argv = ["openssl", "s_client", "-dtls1_2", "-connect", "%s:%s" % (host, port),
            "-psk_identity", identity, "-psk", psk.hex(), "-noservername",
            "-cipher", "PSK-AES128-CCM8:@SECLEVEL=0"]
    try:
        p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, timeout=8)
        return (p.stdout + p.stderr).decode(errors="replace")
    except subprocess.TimeoutExpired as t:
        return ((t.stdout or b"") + (t.stderr or b"")).decode(errors="replace")


def _poll_until_failure(dev, cnt):
    """tep-device poll over ONE session until a request fails: (stdout, stderr, rc)."""
    argv = [binary("tep-device"), "--provisioning", dev.prov, "--state", dev.state,
            "--timeout", "1500", "poll", cnt, "300", "200"]
    poll = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        out, err = poll.communicate(timeout=LIFETIME + SWEEP_S + 10)
    finally:
        if poll.poll() is None:
            poll.kill()
    return out, err, poll.returncode


@pytest.mark.skipif(subprocess.run(["which", "openssl"], capture_output=True).returncode,
                    reason="openssl (the CLI) missing")
def test_expiry_ends_every_derived_credential(platform):
    p = restart_cse_with_certificate(with_maf(platform))
    added = time.time()
    dev, crt, key, ca = cert_of(p, "shortlived", "--lifetime", str(LIFETIME))
    expires = int(dev.state_values()["expires"])
    assert added + LIFETIME - 2 <= expires <= added + LIFETIME + 2, dev.state_values()
    assert _openssl_not_after(crt) <= expires, "the certificate outlives its enrolment"

    r = dev.run("register")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    dev_ae = dev.state_values()["enrolee_id"]
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, ae_path(p, dev))
    r = dev.run("maf-run")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    assert r.get("KC_ID"), str(r)

    other = p.enrolled_device("longlived")

    # a live DTLS-PSK session, a request every 300 ms, until it fails; a session that
    # ends before the expiry (a 4103 when tep-authz misses its decision deadline on a
    # loaded machine) is opened again, so that one is live when the enrolment expires
    for _ in range(5):
        out, err, rc = _poll_until_failure(dev, cnt)
        lines = [parse_kv(l.replace(" ", "\n")) for l in out.splitlines()
                 if l.startswith("AT=")]
        if lines and int(lines[-1]["AT"]) / 1000.0 >= expires:
            break
    else:
        pytest.fail("no session lived until the expiry\n%s%s\n%s" % (out, err, p.logs()))
    served = [int(l["AT"]) / 1000.0 for l in lines if l.get("RSC") == "2000"]
    assert served and max(served) <= expires + SWEEP_S + 1, (
        "requests served %.1f s after the expiry\n%s%s" % (max(served) - expires, out, err))
    assert rc != 0, out + err
    # refused on sight (session unbound, 4106) or closed by the sweep, whichever is first
    p["cse"].wait_log(r"event=(session_unbound reason=expired|session_closed "
                      r"reason=credential_expired) identity=[0-9a-f]{32}@", 2)

    # new handshakes with anything derived from the enrolment are refused. The SDK
    # already refuses to try (its state knows the expiry) ...
    for cmd in ("retrieve", "cert-run", "maf-run"):
        r = dev.run(cmd, *((cnt,) if cmd == "retrieve" else ()))
        assert r.rc == 2 and "expired" in r.err, "%s: %s" % (cmd, r)
    # ... so clients that do not know it show the daemons refusing: the Kpsa with
    # OpenSSL's s_client, the certificate with coap-client-openssl, Kpm with the SDK's
    # enrol (which does not check).
    st = dev.state_values()
    kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
    out = _s_client_psk(p.env["CSE_COAPS"], tepkeys.kpsa_id(kpsa, p.env["MEF_FQDN"]), kpsa)
    # (s_client prints its "New, ..." line before it reads the server's Finished, so
    # the refusal shows as the alert)
    assert "alert unknown psk identity" in out or not re.search(
        r"^New, TLSv1.2, Cipher is PSK", out, re.M), out
    p["cse"].wait_log(r"event=handshake_refused reason=expired identity=[0-9a-f]{32}@", 3)
    log = coap_cert(p, crt, key, ca, "get", p.env["CSE_NAME"], dev_ae)
    assert "session connected" not in log and "c:2.05" not in log, log
    r = dev.run("enrol")
    assert r.rc == 2, "the MEF re-enrolled an expired credential: %s" % r
    p["enroller"].wait_log(r"event=handshake_refused reason=expired kpm_id=shortlived", 3)

    # and the device enrolled for longer is untouched
    r = other.run("retrieve", ae_path(p, other))
    assert r.rc == 0 and r.get("RSC") == "2000", "%s\n%s" % (r, p.logs())
