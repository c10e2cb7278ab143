"""148: a notification target that does not hold the AE's key gets nothing (issue 14
item 5, attack; TS-0003 8.2.1 SA2).

tep-cse reaches a coaps:// notification target only over a DTLS handshake with the
credential of the AE the target belongs to. Another AE's listener (its own Kpsa), a
listener that knows the AE's KpsaID but not its key, and an AE whose pointOfAccess names
another AE's address all fail the handshake: the subscription is refused with 5204
(the verification request could not be delivered), the listener receives no request,
tep-cse logs the failure, and nothing is sent in the clear instead."""

import select
import socket
import time

import pytest

from harness import ae_path, free_udp_ports, kpsa_identity
import pskclient
from test_147_notify_over_dtls import DtlsReceiver, _finish, _kpsa, _kv, _listen, _running, _watch


def _device_with_container(platform, name):
    dev = platform.enrolled_device(name)
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    return dev


def test_another_aes_listener_gets_nothing(platform):
    a = _device_with_container(platform, "wka01")
    b = platform.enrolled_device("wkb01")
    uri = "coaps://127.0.0.1:%d/n" % free_udp_ports(1)[0]
    lb = _listen(b, uri)
    with _running(lb, "LISTENING") as (v, _):
        assert v == uri
        # A names B's listener: tep-cse offers A's KpsaID, which B's listener refuses
        r = a.run("subscribe", "data", uri)
        assert r.rc == 3 and r.rsc == 5204, "%s\n%s" % (r, platform["cse"].tail())
        out, err = _finish(lb)
    kv = _kv(out.splitlines())
    assert lb.returncode == 2 and kv["NOTIFICATIONS"] == ["0"], (out, err)
    assert "NOTIFY_FROM" not in kv, out
    assert int(kv["REFUSED"][0]) >= 1, out  # the handshake named A's identity
    a_id = a.state_values()["enrolee_id"]
    log = platform["cse"].log()
    assert "event=sa2_failed reason=dtls_error ae_id=%s identity=%s" % (
        a_id, kpsa_identity(platform, a)) in log, log[-3000:]
    assert "event=sa2_established" not in log


@pytest.mark.skipif(pskclient.available() is not None, reason=str(pskclient.available()))
def test_listener_with_the_aes_identity_but_another_key_gets_nothing(platform):
    a = _device_with_container(platform, "wka02")
    identity, key = _kpsa(platform, a)
    wrong = bytes(b ^ 0x5A for b in key)
    rx = DtlsReceiver(free_udp_ports(1)[0], identity, wrong)
    try:
        # tinydtls drops a Finished it cannot verify without an alert: the verification
        # request waits its 5 s and fails (5204)
        r = a.run("--timeout", "15000", "subscribe", "data", rx.uri)
        assert r.rc == 3 and r.rsc == 5204, "%s\n%s" % (r, platform["cse"].tail())
    finally:
        rx.close()
    assert rx.received == [], rx.received
    log = platform["cse"].log()
    assert "path=%s/data originator=%s secure=1 rsc=5204" % (
        ae_path(platform, a), a.state_values()["enrolee_id"]) in log, log[-3000:]
    assert "event=sa2_established" not in log


def test_poa_naming_another_aes_address_gets_nothing(platform):
    """B announces A's listener as its own pointOfAccess; A's subscription for B (nu = B's
    AE-ID) goes over B's association: A's listener refuses B's identity."""
    a = _device_with_container(platform, "wka03")
    b = platform.enrolled_device("wkb03")
    uri = "coaps://127.0.0.1:%d/n" % free_udp_ports(1)[0]
    r = b.run("update-poa", uri)
    assert r.rc == 0 and r.rsc == 2004, str(r)
    la = _listen(a, uri)
    with _running(la, "LISTENING") as (v, _):
        assert v == uri
        r = a.run("subscribe", "data", b.state_values()["enrolee_id"])
        assert r.rc == 3 and r.rsc == 5204, "%s\n%s" % (r, platform["cse"].tail())
        out, err = _finish(la)
    kv = _kv(out.splitlines())
    assert kv["NOTIFICATIONS"] == ["0"] and int(kv["REFUSED"][0]) >= 1, (out, err)
    assert "event=sa2_failed reason=dtls_error ae_id=%s identity=%s" % (
        b.state_values()["enrolee_id"], kpsa_identity(platform, b)) in platform["cse"].log()


def _is_dtls_record(d):
    # DTLS 1.2 record: content type 20..25, version 0xfefd (or 0xfeff in a ClientHello)
    return len(d) >= 13 and 20 <= d[0] <= 25 and d[1] == 0xFE


def test_no_plaintext_when_the_listener_is_gone(platform):
    """A subscription verified over SA2; the listener goes and something else takes its
    port: the next notification is a DTLS handshake there, never a CoAP request in the
    clear."""
    a = _device_with_container(platform, "wka04")
    port = free_udp_ports(1)[0]
    uri = "coaps://127.0.0.1:%d/n" % port
    w = _watch(a, "data", uri, count=1)
    with _running(w, "SUBSCRIBED") as (sub, _):
        assert sub, platform["cse"].tail()
        r = a.run("create-cin", "data", "first")
        assert r.rc == 0, str(r)
        out, err = _finish(w)
    assert w.returncode == 0 and "NOTIFY_CON=first" in out, (out, err)

    sink = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sink.bind(("127.0.0.1", port))
    try:
        r = a.run("create-cin", "data", "second")
        assert r.rc == 0, str(r)
        got, end = [], time.monotonic() + 4
        while time.monotonic() < end:
            if select.select([sink], [], [], 0.2)[0]:
                got.append(sink.recv(65535))
    finally:
        sink.close()
    assert got, "tep-cse sent nothing to the notification target"
    assert all(_is_dtls_record(d) for d in got), [d[:16].hex() for d in got]
    assert not any(b"second" in d for d in got)


def test_certificate_of_another_ae_gets_nothing(platform):
    """Certificate SA2: A's association is a certificate, the target is B's listener
    with B's own (valid, tep CA) certificate. tep-cse wants A's AE-ID in it: refused,
    5204, nothing delivered."""
    from harness import restart_cse_with_certificate

    restart_cse_with_certificate(platform)
    devs = {}
    for name in ("wka05", "wkb05"):
        d = platform.add_enrolee(name)
        r = d.run("cert")
        assert r.rc == 0, str(r)
        r = d.run("cert-run")
        assert r.rc == 0, "%s\n%s" % (r, platform["cse"].tail())
        devs[name] = d
    a, b = devs["wka05"], devs["wkb05"]
    uri = "coaps://127.0.0.1:%d/n" % free_udp_ports(1)[0]
    lb = _listen(b, uri, wait_ms=3000, cert=True)
    with _running(lb, "LISTENING") as (v, _):
        assert v == uri
        # A subscribes over its certificate session: its SA2 is a certificate one
        r = a.run("--timeout", "15000", "subscribe", "--cert", "data", uri)
        assert r.rc == 3 and r.rsc == 5204, "%s\n%s" % (r, platform["cse"].tail())
        out, err = _finish(lb)
    kv = _kv(out.splitlines())
    assert kv["NOTIFICATIONS"] == ["0"] and "NOTIFY_FROM" not in kv, (out, err)
    log = platform["cse"].log()
    assert "event=sa2_refused reason=cert_names_another_id ae_id=%s" % \
        a.state_values()["enrolee_id"] in log, log[-3000:]


def test_revoked_ae_gets_no_more_notifications(platform):
    """The AE's enrolment revoked (TS-0003 10.7): its association is no longer usable, so
    the next notification is not sent at all, though the listener still holds the key,
    and the SA2 session is closed."""
    from onem2m_client import OneM2MClient, TY_CIN

    a = _device_with_container(platform, "wka06")
    ae = ae_path(platform, a)
    uri = "coaps://127.0.0.1:%d/n" % free_udp_ports(1)[0]
    w = _watch(a, "data", uri, count=2, wait_ms=6000)
    with _running(w, "SUBSCRIBED") as (sub, _):
        assert sub, platform["cse"].tail()
        with OneM2MClient("127.0.0.1", platform.ports["cse_coap"],
                          platform.env["ADMIN_ORIGINATOR"]) as admin:
            assert admin.create(ae + "/data", TY_CIN, {"con": "before"}).rsc == 2001
            r = platform.tepctl("enrolee", "revoke", "wka06")
            assert r.rc == 0, str(r)
            platform["cse"].wait_log("event=sync_applied .*revocations=1", 10)
            assert admin.create(ae + "/data", TY_CIN, {"con": "after"}).rsc == 2001
        out, err = _finish(w, timeout=15)
    kv = _kv(out.splitlines())
    assert kv.get("NOTIFY_CON") == ["before"], (out, err)  # "after" never came
    assert w.returncode == 2, (out, err)
    a_id = a.state_values()["enrolee_id"]
    assert "event=notification_refused reason=no_usable_association ae_id=%s" % a_id in \
        platform["cse"].log()
    # and the SA2 session itself is closed within about a second (TS-0003 10.7)
    platform["cse"].wait_log("event=sa2_closed reason=association_unusable ae_id=%s" % a_id, 5)
