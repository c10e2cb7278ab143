"""170: per-enrolee Enrolment Targets (TS-0003 8.3.2.1: the MEF's Bootstrap Instruction
Configuration holds the Enrolment Target identity; the enrolee derives Kpsa for it,
10.3.3, and the target fetches it, "Use of Remotely Provisioned Credential").

The enroller knows a second target, /mn-cse1 (`[enroller] targets`), served by a second
tep-cse. `tepctl enrolee add --target /mn-cse1` provisions a device for it: the MEF's
answer names /mn-cse1 and its point of access, the device derives Kpsa for /mn-cse1 and
is served there, while the IN-CSE (/tep-cse) never learns that key (its handshake
fails); a device without --target still goes to the IN-CSE. A malformed or unknown
target is refused when the enrolee is added; `enrolee show`/`list` display it."""

import os

import pytest

import harness
import tepkeys

MN = "/mn-cse1"


class SecondCse(harness.Daemon):
    """Another tep-cse of the platform (its own CSE-ID, port, data and admin socket),
    with the platform's bus otherwise."""

    def __init__(self, platform, cse_id, name):
        super().__init__(platform, "cse")
        self.log_path = os.path.join(platform.dir, "logs", name + ".log")
        self.port = harness.free_udp_ports(1)[0]
        self.poa = "coaps://127.0.0.1:%d" % self.port
        self.admin = "ipc://" + os.path.join(platform.dir, "ipc", name + "-admin.ipc")
        with open(os.path.join(platform.dir, "cse.ini")) as f:
            text = f.read()
        data = os.path.join(platform.dir, "data", name)
        os.makedirs(data, mode=0o700)
        subst = {"data_dir": data, "cse_id": cse_id, "cse_name": name, "coap_listen": "",
                 "coaps_listen": "127.0.0.1:%d" % self.port, "admin": self.admin}
        lines = []
        for line in text.splitlines():
            key = line.split("=", 1)[0].strip()
            lines.append("%s = %s" % (key, subst[key]) if "=" in line and key in subst else line)
        self.ini = os.path.join(platform.dir, name + ".ini")
        with open(self.ini, "w") as f:
            f.write("\n".join(lines) + "\n")

    def start(self):
        # harness.Daemon.start with this daemon's own config file
        real = harness.tepenv.config_path
        harness.tepenv.config_path = lambda d, n: self.ini
        try:
            super().start()
        finally:
            harness.tepenv.config_path = real


@pytest.fixture
def two_cses(monkeypatch, request):
    p = harness.Platform()
    mn = SecondCse(p, MN, "mn-cse1")
    monkeypatch.setenv("TEP_ENROLLER_TARGETS", "%s=%s" % (MN, mn.poa))
    try:
        p.start()
        mn.start()
        yield p, mn
        assert mn.stop() == 0
        p.assert_clean_stop()
    finally:
        mn.kill()
        p.cleanup(keep=getattr(request.node, "tep_failed", False))


def test_device_enrolled_for_the_mn_cse(two_cses):
    p, mn = two_cses
    dev = p.add_enrolee("gwdev01", "--target", MN)
    r = p.tepctl("enrolee", "show", "gwdev01")
    assert r.rc == 0 and r.get("TARGET") == MN and r.get("ENROLEE_ID") == "Cgwdev01", str(r)
    indev = p.add_enrolee("indev01")                       # no --target: the IN-CSE
    r = p.tepctl("enrolee", "show", "indev01")
    assert r.rc == 0 and r.get("TARGET") == "-", str(r)
    r = p.tepctl("enrolee", "list")
    rows = {l.split()[0]: l.split() for l in r.out.splitlines()[1:] if l.strip()}
    assert rows["gwdev01"][-1] == MN and rows["indev01"][-1] == "-", r.out

    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    st = dev.state_values()
    assert (st["registrar_cse_id"], st["registrar_poa"]) == (MN, mn.poa), st
    # the MN-CSE got the Kpsa derived for /mn-cse1 (10.3.3): the device is served there
    mn.wait_log("event=sync_applied", 10)
    r = dev.run("register")
    assert r.rc == 0, "%s\n%s\n--- mn-cse1\n%s" % (r, p.logs(), mn.tail())
    r = dev.run("create-cnt", "data")
    assert r.rc == 0, str(r)
    # the session is bound with the KpsaID of HMAC(Ke, label || "/mn-cse1") (10.3.3)
    kid = tepkeys.kpsa_id(tepkeys.kpsa(bytes.fromhex(st["ke"]), MN), p.env["MEF_FQDN"])
    assert "event=session_bound identity=%s enrolee_id=Cgwdev01" % kid in mn.log(), mn.tail()

    # the IN-CSE never learnt it: a handshake with the device's credential fails there
    other = p.device("gwdev01-at-in")
    with open(dev.prov) as f, open(other.prov, "w") as g:
        g.write(f.read())
    with open(dev.state) as f, open(other.state, "w") as g:
        g.write(f.read().replace(mn.poa, p.env["CSE_COAPS"]))
    r = other.run("register")
    assert r.rc == 2, "the IN-CSE accepted the MN-CSE's device: %s" % r
    assert "Cgwdev01" not in p["cse"].log()

    # the device without a target is the IN-CSE's, as before
    r = indev.run("enrol")
    assert r.rc == 0 and indev.state_values()["registrar_cse_id"] == "/tep-cse", str(r)
    assert indev.run("register").rc == 0, p.logs()


def test_targets_are_checked_when_added(two_cses):
    p, _ = two_cses
    out = os.path.join(p.dir, "x.prov")
    r = p.tepctl("enrolee", "add", "bad1", "--target", "mn-cse1", "--out", out)
    assert r.rc == 3 and "SP-relative CSE-ID" in r.err, str(r)
    r = p.tepctl("enrolee", "add", "bad2", "--target", "/nowhere", "--out", out)
    assert r.rc == 3 and "unknown enrolment target /nowhere" in r.err, str(r)
    r = p.tepctl("app", "add", "Nbadapp", "--target", "/nowhere", "--out", out)
    assert r.rc == 3 and "unknown enrolment target" in r.err, str(r)
    assert not os.path.exists(out)
    r = p.tepctl("enrolee", "list")
    assert "bad1" not in r.out and "bad2" not in r.out, r.out
    # an application credential for the MN-CSE: its instances go there
    r = p.tepctl("app", "add", "Ngwapp", "--target", MN, "--out", out)
    assert r.rc == 0 and r.get("TARGET") == MN, str(r)
    r = p.tepctl("app", "list")
    assert any(l.split()[0] == "app.Ngwapp" and l.split()[-1] == MN for l in r.out.splitlines()), r.out
