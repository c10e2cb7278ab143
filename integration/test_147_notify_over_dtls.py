"""147: notifications to an AE over DTLS (issue 14 item 5; TS-0003 8.2.1 SA2).

An AE that subscribes with a coaps:// notificationURI is notified over a second security
association, SA2: tep-cse is the DTLS client with the credential of the AE's own
association (its KpsaID/Kpsa), the AE's listener (libtepae's tep_listen(), through
`tep-device watch`) the DTLS server. The subscription's verification request and the
notification of a new contentInstance both arrive over it; the listener accepts no other
key. Then the same with a receiver nobody here wrote: aiocoap's tinydtls server with the
AE's PSK, as the AE's pointOfAccess."""

import asyncio
import contextlib
import json
import re
import subprocess
import threading
import time

import pytest

from harness import binary, ae_path, free_udp_ports, kpsa_identity, until
import pskclient
import tepkeys


def _watch(dev, cnt, uri, count=1, wait_ms=20000, cert=False):
    """`tep-device watch` in the background (over the certificate SAEF with cert);
    returns the process (stdout lines)."""
    argv = [binary("tep-device"), "--provisioning", dev.prov, "--state", dev.state,
            "watch", cnt, uri, "--count", str(count), "--wait-ms", str(wait_ms)]
    argv += ["--cert"] if cert else []
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _listen(dev, uri, wait_ms=8000, cert=False):
    """`tep-device listen` for one request in the background (with dev's certificate
    with cert); returns the process (stdout lines)."""
    argv = [binary("tep-device"), "--provisioning", dev.prov, "--state", dev.state,
            "listen", uri, "--count", "1", "--wait-ms", str(wait_ms)]
    argv += ["--cert"] if cert else []
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _read_until(proc, key, timeout=15.0):
    """Lines of proc's stdout up to the one starting with KEY= (its value last)."""
    lines, end = [], time.monotonic() + timeout
    box = {}

    def reader():
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.startswith(key + "="):
                box["v"] = line.split("=", 1)[1].rstrip("\n")
                return

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    t.join(max(0.0, end - time.monotonic()))
    return box.get("v"), lines


@contextlib.contextmanager
def _running(proc, key):
    """proc (a _watch or _listen) read up to its line KEY=value: yields (value, the lines
    read); after the block, proc is killed and waited for if it still runs."""
    try:
        yield _read_until(proc, key)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _finish(proc, timeout=20):
    """The rest of proc's stdout and its stderr once it exits (killed after timeout).
    Through proc.stdout itself: _read_until read from it, and what its buffer holds
    would be lost to communicate(), which reads the pipe underneath."""
    box = {}
    t = threading.Thread(target=lambda: box.update(out=proc.stdout.read()), daemon=True)
    t.start()
    t.join(timeout)
    if proc.poll() is None:
        proc.kill()
    proc.wait()
    t.join(5)
    return box.get("out", ""), proc.stderr.read()


def _kv(lines):
    out = {}
    for line in lines:
        if "=" in line:
            k, v = line.split("=", 1)
            out.setdefault(k, []).append(v)
    return out


def test_notification_reaches_the_ae_over_dtls(platform):
    dev = platform.enrolled_device("ntf01")
    ae = ae_path(platform, dev)
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    port = free_udp_ports(1)[0]
    uri = "coaps://127.0.0.1:%d/notify" % port

    w = _watch(dev, "data", uri, count=1)
    with _running(w, "SUBSCRIBED") as (sub, before):
        assert sub == ae + "/data", (before, w.stderr.read() if w.poll() is not None else "",
                                     platform["cse"].tail())
        r = dev.run("create-cin", "data", "over-sa2")
        assert r.rc == 0, str(r)
        out, err = _finish(w)
    lines = _kv(before + out.splitlines())
    assert w.returncode == 0, (out, err, platform["cse"].tail())
    # first the verification request, then the notification; both from the CSE, both
    # authenticated with the AE's own KpsaID
    assert lines["NOTIFY_VRQ"] == ["1", "0"], lines
    assert lines["NOTIFY_FROM"] == [platform.env["CSE_ID"]] * 2, lines
    assert lines["NOTIFY_IDENTITY"] == [kpsa_identity(platform, dev)] * 2, lines
    assert lines["NOTIFY_CON"] == ["over-sa2"], lines
    sgn = json.loads(lines["NOTIFY_BODY"][1])["m2m:sgn"]
    assert sgn["nev"]["net"] == 3 and sgn["sur"].startswith(ae + "/data/"), sgn
    assert lines["REFUSED"] == ["0"], lines
    # logged in the turn that sent the notification, flushed at its end: waited for
    platform["cse"].wait_log("event=sa2_established ae_id=%s" % dev.state_values()["enrolee_id"], 5)


class DtlsReceiver:
    """A notification receiver nobody here wrote: aiocoap's tinydtls server on
    127.0.0.1:port with one PSK (identity, key), served by its own event loop in a
    thread. `received`: the requests that reached it (each past a DTLS handshake with
    that key); answers 2.04, RSC 2000, RQI echoed."""

    def __init__(self, port, identity, key):
        import aiocoap
        import aiocoap.resource
        from aiocoap.credentials import CredentialsMap
        import onem2m_client as oc

        self.port = port
        self.received = []
        self.refuse = None
        creds = CredentialsMap()
        creds.load_from_dict({":ae": {"dtls": {"psk": bytes(key),
                                                "client-identity": identity.encode()}}})
        self.loop = asyncio.new_event_loop()
        site = oc._NotifySite(self)
        self.ctx = self.loop.run_until_complete(aiocoap.Context.create_server_context(
            # aiocoap binds a DTLS server to the given port + 1 (5683 -> 5684)
            site, bind=("127.0.0.1", port - 1), transports=["tinydtls_server"],
            server_credentials=creds))
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    @property
    def uri(self):
        return "coaps://127.0.0.1:%d/notify" % self.port

    def close(self):
        fut = asyncio.run_coroutine_threadsafe(self.ctx.shutdown(), self.loop)
        fut.result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()


def _kpsa(platform, dev):
    st = dev.state_values()
    key = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
    return tepkeys.kpsa_id(key, platform.env["MEF_FQDN"]), key


@pytest.mark.skipif(pskclient.available() is not None, reason=str(pskclient.available()))
def test_tinydtls_receiver_with_the_aes_psk(platform):
    """Interop: the receiver is aiocoap + tinydtls holding the AE's KpsaID/Kpsa, announced
    as the AE's coaps:// pointOfAccess; the subscription names the AE by its AE-ID."""
    dev = platform.enrolled_device("ntf02")
    ae = ae_path(platform, dev)
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    identity, key = _kpsa(platform, dev)
    rx = DtlsReceiver(free_udp_ports(1)[0], identity, key)
    try:
        r = dev.run("update-poa", rx.uri)
        assert r.rc == 0 and r.rsc == 2004, str(r)
        ae_id = dev.state_values()["enrolee_id"]
        r = dev.run("subscribe", "data", ae_id)
        assert r.rc == 0 and r.rsc == 2001, "%s\n%s" % (r, platform["cse"].tail())
        r = dev.run("create-cin", "data", "to-tinydtls")
        assert r.rc == 0, str(r)
        assert until(lambda: len(rx.received) >= 1, timeout=10), \
            (rx.received, platform["cse"].tail())
    finally:
        rx.close()
    # the AE subscribed for itself: no verification request, the notification only
    assert len(rx.received) == 1, rx.received
    ntf = rx.received[0].json["m2m:sgn"]
    assert ntf["nev"]["rep"]["m2m:cin"]["con"] == "to-tinydtls", ntf
    assert ntf["sur"].startswith(ae + "/data/"), ntf
    platform["cse"].wait_log("event=sa2_established ae_id=%s identity=%s"
                             % (ae_id, re.escape(identity)), 5)


def test_after_a_cse_restart_the_enrolment_kpsa_carries_it(platform):
    """tep-cse remembers the credential of each AE's newest session only while it runs:
    restarted, with no session of the AE since, it reaches the same listener with the
    Kpsa of the AE's current enrolment. The contentInstances come from the admin (plain
    CoAP), so the AE opens no session in between."""
    from onem2m_client import OneM2MClient, TY_CIN

    dev = platform.enrolled_device("ntf03")
    ae = ae_path(platform, dev)
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    uri = "coaps://127.0.0.1:%d/notify" % free_udp_ports(1)[0]
    w = _watch(dev, "data", uri, count=2, wait_ms=30000)
    with _running(w, "SUBSCRIBED") as (sub, _):
        assert sub, platform["cse"].tail()
        with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                          platform.env["ADMIN_ORIGINATOR"]) as admin:
            assert admin.create(ae + "/data", TY_CIN, {"con": "before"}).rsc == 2001
        platform["cse"].stop()
        platform["cse"].start()
        with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                          platform.env["ADMIN_ORIGINATOR"]) as admin:
            assert admin.create(ae + "/data", TY_CIN, {"con": "after"}).rsc == 2001
        out, err = _finish(w, timeout=25)
    kv = _kv(out.splitlines())
    assert w.returncode == 0 and kv["NOTIFY_CON"] == ["before", "after"], (out, err)
    assert kv["NOTIFY_IDENTITY"][-1] == kpsa_identity(platform, dev)
    # the restarted tep-cse: no session of the AE, an SA2 all the same
    log = platform["cse"].log()
    assert "event=session_bound" not in log, log[-2000:]
    platform["cse"].wait_log("event=sa2_established ae_id=%s" % dev.state_values()["enrolee_id"], 5)


def test_certificate_association_gives_a_certificate_sa2(platform):
    """An AE whose association is the certificate SAEF (TS-0003 8.2.2.2) gets its SA2
    with certificates too: tep-cse presents its own certificate (naming /tep-cse) and
    checks the AE's to the tep CA and to its AE-ID; the listener (tep_listen_cert)
    checks tep-cse's the same way."""
    from harness import restart_cse_with_certificate

    restart_cse_with_certificate(platform)
    dev = platform.add_enrolee("ntf04")
    r = dev.run("cert")
    assert r.rc == 0, str(r)
    r = dev.run("cert-run")  # registers over the certificate SAEF, makes "data"
    assert r.rc == 0, "%s\n%s" % (r, platform["cse"].tail())
    ae_id = dev.state_values()["enrolee_id"]
    uri = "coaps://127.0.0.1:%d/notify" % free_udp_ports(1)[0]
    w = _watch(dev, "data", uri, count=1, wait_ms=20000, cert=True)
    with _running(w, "SUBSCRIBED") as (sub, before):
        assert sub, (before, w.stderr.read() if w.poll() is not None else "",
                     platform["cse"].tail())
        # the admin writes (plain CoAP): the AE's newest session stays the certificate one
        from onem2m_client import OneM2MClient, TY_CIN
        with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                          platform.env["ADMIN_ORIGINATOR"]) as admin:
            assert admin.create(sub, TY_CIN, {"con": "cert-sa2"}).rsc == 2001
        out, err = _finish(w)
    kv = _kv(before + out.splitlines())
    assert w.returncode == 0, (out, err, platform["cse"].tail())
    assert kv["NOTIFY_VRQ"] == ["1", "0"] and kv["NOTIFY_CON"] == ["cert-sa2"], kv
    assert kv["NOTIFY_IDENTITY"] == ["", ""], kv  # certificate handshakes: no PSK identity
    platform["cse"].wait_log("event=sa2_established ae_id=%s identity=cert:" % ae_id, 5)
    log = platform["cse"].log()
    assert "event=sa2_established ae_id=%s identity=%s" % (
        ae_id, kpsa_identity(platform, dev)) not in log


def test_notify_addressed_to_the_ae_goes_over_sa2(platform):
    """Not only subscriptions: a NOTIFY addressed to an AE's resource is forwarded to the
    AE's pointOfAccess (TS-0004 7.3.3.10), a coaps:// one over the AE's own SA2."""
    from onem2m_client import OneM2MClient

    dev = platform.enrolled_device("ntf05")
    ae = ae_path(platform, dev)
    uri = "coaps://127.0.0.1:%d/poa" % free_udp_ports(1)[0]
    r = dev.run("update-poa", uri)
    assert r.rc == 0 and r.rsc == 2004, str(r)
    lst = _listen(dev, uri, wait_ms=15000)
    with _running(lst, "LISTENING") as (listening, _):
        assert listening == uri
        with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                          platform.env["ADMIN_ORIGINATOR"]) as admin:
            r = admin.notify(ae, {"m2m:sgn": {"sur": "elsewhere/sub", "nev": {"net": 1}}})
            assert r.rsc == 2000, str(r)
        out, err = _finish(lst)
    kv = _kv(out.splitlines())
    assert lst.returncode == 0, (out, err)
    assert kv["NOTIFY_IDENTITY"] == [kpsa_identity(platform, dev)], kv
    assert json.loads(kv["NOTIFY_BODY"][0])["m2m:sgn"]["sur"] == "elsewhere/sub", kv


def test_device_behind_a_gateway_is_notified_by_the_mn_cse_over_sa2():
    """The gateway deployment (issue 14): a device enrolled for the MN-CSE /mn1 and
    registered there is notified by the MN-CSE, over SA2 with the Kpsa of its
    enrolment for /mn1."""
    from harness import gateway_platform

    p, mns = gateway_platform(("mn1",))
    mn = mns["mn1"]
    try:
        dev = p.add_enrolee("gwntf", "--target", "/mn1")
        assert dev.run("enrol").rc == 0
        r = dev.run("register")
        assert r.rc == 0, "%s\n%s" % (r, mn.tail())
        r = dev.run("create-cnt", "data")
        assert r.rc == 0, str(r)
        uri = "coaps://127.0.0.1:%d/notify" % free_udp_ports(1)[0]
        w = _watch(dev, "data", uri, count=1)
        with _running(w, "SUBSCRIBED") as (sub, before):
            assert sub == "mn1/%s/data" % dev.state_values()["enrolee_id"], (before, mn.tail())
            r = dev.run("create-cin", "data", "from-the-field")
            assert r.rc == 0, str(r)
            out, err = _finish(w)
        kv = _kv(before + out.splitlines())
        assert w.returncode == 0, (out, err, mn.tail())
        assert kv["NOTIFY_FROM"] == ["/mn1", "/mn1"], kv
        assert kv["NOTIFY_IDENTITY"] == [kpsa_identity(p, dev)] * 2, kv
        assert kv["NOTIFY_CON"] == ["from-the-field"], kv
        assert "event=sa2_established ae_id=%s" % dev.state_values()["enrolee_id"] in mn.log()
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)
