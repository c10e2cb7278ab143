"""89: when tep-authz falls behind its decision deadline during a burst, tep-cse keeps
serving the admin and a well-behaved device and sheds the burst (issue 18; TS-0003 7.1
the PEP/PDP split; TS-0004 Table 6.6.3.6-1 5103 TARGET_NOT_REACHABLE for what is shed).
tep-authz is held behind its deadline (SIGSTOP for 800 ms of every second, as a PDP
starved by load: on this machine a burst through one tep-cse does not outrun tep-authz,
tep-cse itself is the slower of the two); meanwhile one originator ("Cflood", plain CoAP,
whose From tep-cse trusts on loopback) sends 1000 requests a second that each need a
decision, the admin reads the CSEBase every 200 ms and an enrolled device reads its own
container over CoAPS every 200 ms. The admin is decided in tep-cse (no round trip) and
always answered 2000; the device's repeated question is answered from the decision cache
first ([authz] cache_ms) and always 2000; the flood's excess is answered at once with
5103 by the admission at the PEP (cse_admit.h: per originator, in total, and while
tep-authz is slow), never 2000, so the requests waiting for tep-authz stay bounded; what
was shed is logged (rate-limited event=decisions_shed) and counted in tepctl status."""

import os
import signal
import socket
import threading
import time

import coapmsg
import harness
from onem2m_client import TY_ACP, TY_CNT, OneM2MClient

BURST_RATE = 1000        # requests per second
BURST_SECONDS = 7
DEADLINE_MS = 300
STOPPED_S, RUNNING_S = 0.8, 0.2


class Burst(threading.Thread):
    """NON GETs from one originator at BURST_RATE for BURST_SECONDS; counts the RSCs of
    the answers (acknowledging CON ones)."""

    def __init__(self, port, path, frm):
        super().__init__(daemon=True)
        self.port, self.path, self.frm = port, path, frm
        self.sent = 0
        self.rsc = {}
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.settimeout(0.2)
        self._done = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)

    def run(self):
        self._reader.start()
        t0 = time.monotonic()
        while time.monotonic() - t0 < BURST_SECONDS:
            req = coapmsg.onem2m_request(coapmsg.GET, self.path, self.frm,
                                         rqi="flood-%d" % self.sent)
            req = bytes([(req[0] & 0xCF) | (coapmsg.NON << 4)]) + req[1:]
            self._sock.sendto(req, ("127.0.0.1", self.port))
            self.sent += 1
            ahead = self.sent / BURST_RATE - (time.monotonic() - t0)
            if ahead > 0:
                time.sleep(ahead)
        time.sleep(DEADLINE_MS / 1000 * 4)
        self._done.set()
        self._reader.join()
        self._sock.close()

    def _read(self):
        while not self._done.is_set():
            try:
                data, addr = self._sock.recvfrom(65535)
                m = coapmsg.decode(data)
            except (socket.timeout, ValueError):
                continue
            if m.mtype == coapmsg.CON:
                self._sock.sendto(coapmsg.encode(0, mtype=coapmsg.ACK, mid=m.mid, token=b""),
                                  addr)
            if m.code != 0:
                r = m.rsc
                self.rsc[r] = self.rsc.get(r, 0) + 1


def admin_reads(platform, stop, out):
    port = int(platform.env["CSE_COAP"].rsplit(":", 1)[1])
    admin = platform.env["ADMIN_ORIGINATOR"]
    while not stop.is_set():
        t0 = time.monotonic()
        m = coapmsg.exchange(port, coapmsg.onem2m_request(coapmsg.GET, platform.env["CSE_NAME"],
                                                          admin), timeout=3.0)
        out.append((None if m is None else m.rsc, time.monotonic() - t0))
        time.sleep(0.2)


def shared_target(platform, dev, port):
    """A container under device01's AE governed by an ACP with a time window (actw), so
    its decisions are never cached: every request of the flood needs tep-authz."""
    ae = harness.ae_path(platform, dev)
    with OneM2MClient("127.0.0.1", port, platform.env["ADMIN_ORIGINATOR"]) as admin:
        acp = admin.create(ae, TY_ACP, {
            "rn": "flood-acp",
            "pv": {"acr": [{"acor": ["Cdevice01"], "acop": 63,
                            "acco": [{"actw": ["* * * * * * *"]}]}]},
            "pvs": {"acr": [{"acor": [platform.env["ADMIN_ORIGINATOR"]], "acop": 63}]}})
        assert acp.rsc == 2001, str(acp)
        cnt = admin.create(ae, TY_CNT, {"rn": "shared", "acpi": [acp.resource(TY_ACP)["ri"]]})
        assert cnt.rsc == 2001, str(cnt)
    return ae + "/shared"


def hold_behind(pid, seconds):
    """tep-authz stopped STOPPED_S of every STOPPED_S + RUNNING_S, for seconds."""
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < seconds:
            os.kill(pid, signal.SIGSTOP)
            time.sleep(STOPPED_S)
            os.kill(pid, signal.SIGCONT)
            time.sleep(RUNNING_S)
    finally:
        os.kill(pid, signal.SIGCONT)


def run_burst(platform):
    """The burst with the admin and the device reading during it; returns (burst, admin
    results, device poll lines)."""
    dev, cnt, _ = harness.device_with_data(platform, "device01")
    assert dev.run("retrieve", cnt).rsc == 2000
    port = int(platform.env["CSE_COAP"].rsplit(":", 1)[1])
    burst = Burst(port, shared_target(platform, dev, port), "Cflood")
    stop, admin = threading.Event(), []
    reader = threading.Thread(target=admin_reads, args=(platform, stop, admin), daemon=True)
    authz = platform["authz"].proc.pid
    starve = threading.Thread(target=hold_behind, args=(authz, BURST_SECONDS - 1), daemon=True)
    burst.start()
    time.sleep(0.5)
    starve.start()
    reader.start()
    poll = dev.run("--timeout", "3000", "poll", cnt, "200", str((BURST_SECONDS - 2) * 4),
                   timeout=60)
    burst.join(BURST_SECONDS + 10)
    starve.join(10)
    stop.set()
    reader.join(10)
    lines = [dict(kv.split("=", 1) for kv in l.split()) for l in poll.out.splitlines()
             if l.startswith("AT=")]
    return burst, admin, lines, poll


def test_pdp_behind_admin_and_device_served_flood_shed(platform_factory, monkeypatch):
    monkeypatch.setenv("TEP_AUTHZ_CACHE_MS", "30000")
    p = platform_factory(deadline_ms=DEADLINE_MS)
    burst, admin, lines, poll = run_burst(p)
    # tep-authz did fall behind: tep-cse saw decisions time out
    log = p["cse"].log()
    assert "rule=decision_timeout" in log or "rule=pdp_unavailable" in log, p["cse"].tail(20)
    # the admin: every read answered 2000, well within a second
    assert len(admin) >= 10 and all(r == 2000 for r, _ in admin), admin
    assert max(t for _, t in admin) < 1.0, admin
    # the device: every request of its poll answered 2000
    assert poll.rc == 0 and len(lines) == (BURST_SECONDS - 2) * 4, "%s\n%s" % (poll, p.logs())
    assert all(l.get("RSC") == "2000" for l in lines), poll
    # the flood: its excess shed at once with 5103, nothing permitted
    assert burst.rsc.get(5103, 0) >= burst.sent * 0.3, (burst.sent, burst.rsc)
    assert burst.rsc.get(2000, 0) == 0, burst.rsc
    assert "event=decisions_shed rsc=5103" in log
    assert log.count("event=decisions_shed") <= BURST_SECONDS // 10 + 2, "not rate-limited"
    st = p.tepctl("status", "cse", admin="cse").kv
    assert int(st["pep_shed"]) >= burst.rsc.get(5103, 0), st
    assert st["pep_waiting"] == "0", st
