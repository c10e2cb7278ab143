"""209: the ESCertKE key computed by a third party (TS-0003 8.7.2.2 C.2, 10.3.1 third
paragraph; keys 10.3.6, ESPrim 8.4): Python's ssl (OpenSSL) runs the handshake with
tep-cse as the Initiating End-Point and writes its master secret to a key log;
integration/tepkeys.py computes the RFC 5705 exporter "EXPORTER-oneM2M-ESCertKE" (no
context, 48 bytes) from it and the two randoms, splits it (pairwiseE2EKeyID = bytes
0..15, pairwiseE2EKey = 16..47, docs/keys.md 20-21) and derives pairwiseESPrimKey; tep-cse
logs the same kid, and an ESPrim object joserfc seals with that key is answered. Then
the certificate is revoked (TS-0003 10.7) and the established key ends with it: 4112."""

import subprocess
import time

import tepkeys
from harness import (EscertkeInitiator, EsprimOriginator, cert_of, created_path, escertke_eckm,
                     escertke_send, restart_cse_with_certificate)


def test_python_computes_the_key_and_revocation_ends_it(platform, tmp_path):
    restart_cse_with_certificate(platform)
    dev, crt, key, ca = cert_of(platform, "eck209")
    ae = dev.state_values()["enrolee_id"]
    assert dev.run("register").rc == 0
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, "%s/%s" % (platform.env["CSE_NAME"], ae))

    keylog = str(tmp_path / "keylog")
    i = EscertkeInitiator(crt, key, ca, keylog=keylog)
    m1 = i.step()
    m2 = escertke_eckm(escertke_send(platform, ae, m1))
    assert m2[0] == 22 and m2[5] == 2, m2[:8]  # a handshake record, ServerHello first
    m4 = escertke_eckm(escertke_send(platform, ae, i.step(m2)))
    assert i.step(m4) == b""
    client_random, server_random = m1[11:43], m2[11:43]  # after record + handshake headers
    with open(keylog) as f:
        ms = [line.split() for line in f if line.startswith("CLIENT_RANDOM ")]
    assert ms and bytes.fromhex(ms[-1][1]) == client_random, ms
    kid, pair = tepkeys.escertke_exporter(bytes.fromhex(ms[-1][2]), client_random,
                                          server_random)
    platform["cse"].wait_log(r"event=escertke_established originator=%s kid=%s"
                             % (ae, kid.hex()), 5)

    o = EsprimOriginator(platform, ae, kid.hex(), tepkeys.e2e_keys(pair, "/tep-cse")["msg_conf"])
    try:
        rsp = o.open(o.send(o.seal(o.inner(op=2, to=cnt))))
        assert rsp["rsc"] == 2000 and rsp["pc"]["m2m:cnt"]["rn"] == "data", rsp

        serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", crt], check=True,
                                capture_output=True, text=True).stdout.strip().split("=", 1)[1]
        assert platform.tepctl("cert", "revoke", serial).rc == 0
        deadline = time.monotonic() + 5  # tep-cse applies it from sync (under a second)
        while True:
            o.new_session()
            r = o.send(o.seal(o.inner(op=2, to=cnt)))
            if r.rsc != 2000 or time.monotonic() > deadline:
                break
        assert r.rsc == 4112, str(r)
    finally:
        o.client.close()
