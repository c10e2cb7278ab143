"""218: an ESCertKE key outlives a tep-cse restart (TS-0003 8.4.2 A: "The Originator and
Receiver cache the (pairwiseESPrimKeyID, pairwiseESPrimKey, pairwiseESPrimKeyLifetime)";
8.7). tep-cse writes each established pairwiseE2EKey to its store (with its owner and the
certificate it was made with) and reads the live ones back at start, so an initiator
keeps using its key after the restart instead of getting 4112 and running ESCertKE
again; its certificate is still checked at each use (revoking it ends the key)."""

import subprocess
import time

import tepkeys
from harness import (EscertkeInitiator, EsprimOriginator, cert_of, created_path, escertke_eckm,
                     escertke_send, restart_cse_with_certificate)


def test_escertke_key_survives_a_restart(platform, tmp_path):
    p = restart_cse_with_certificate(platform)
    dev, crt, key, ca = cert_of(p, "eck218")
    ae = dev.state_values()["enrolee_id"]
    assert dev.run("register").rc == 0
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    cnt = created_path(r, "%s/%s" % (p.env["CSE_NAME"], ae))
    keylog = str(tmp_path / "keylog")
    i = EscertkeInitiator(crt, key, ca, keylog=keylog)
    m1 = i.step()
    m2 = escertke_eckm(escertke_send(p, ae, m1))
    m4 = escertke_eckm(escertke_send(p, ae, i.step(m2)))
    assert i.step(m4) == b""
    with open(keylog) as f:
        ms = [line.split() for line in f if line.startswith("CLIENT_RANDOM ")]
    kid, pair = tepkeys.escertke_exporter(bytes.fromhex(ms[-1][2]), m1[11:43], m2[11:43])
    pairwise = tepkeys.e2e_keys(pair, "/tep-cse")["msg_conf"]
    o = EsprimOriginator(p, ae, kid.hex(), pairwise)
    try:
        assert o.open(o.send(o.seal(o.inner(op=2, to=cnt))))["rsc"] == 2000
    finally:
        o.client.close()

    for how in ("stop", "kill"):  # a clean restart, then a crash
        if how == "stop":
            p["cse"].stop()
        else:
            p["cse"].kill()
        p["cse"].start()
        p["cse"].wait_log(r"event=escertke_keys_loaded keys=1", 5)
        o = EsprimOriginator(p, ae, kid.hex(), pairwise)  # a new session, the same key
        try:
            rsp = o.open(o.send(o.seal(o.inner(op=2, to=cnt))))
            assert rsp["rsc"] == 2000, (how, rsp)
        finally:
            o.client.close()

    # still checked at each use: the certificate revoked, the key ends (4112)
    serial = subprocess.run(["openssl", "x509", "-noout", "-serial", "-in", crt], check=True,
                            capture_output=True, text=True).stdout.strip().split("=", 1)[1]
    assert p.tepctl("cert", "revoke", serial).rc == 0
    o = EsprimOriginator(p, ae, kid.hex(), pairwise)
    try:
        deadline = time.monotonic() + 5
        while True:
            o.new_session()
            r = o.send(o.seal(o.inner(op=2, to=cnt)))
            if r.rsc != 2000 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert r.rsc == 4112, str(r)
    finally:
        o.client.close()
