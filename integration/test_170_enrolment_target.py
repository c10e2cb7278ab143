"""170: per-enrolee Enrolment Targets (TS-0003 8.3.2.1: the MEF's Bootstrap Instruction
Configuration holds the Enrolment Target identity; the enrolee derives Kpsa for it,
10.3.3, and the target fetches it, "Use of Remotely Provisioned Credential").

The enroller knows a second target, /mn-cse1 (`[enroller] targets`), served by a second
tep-cse; with more than one target the bus is CURVE and each target's key is bound to
its CSE-ID (`[bus] peers`, docs/internals.md "Authenticated credential hand-off").
`tepctl enrolee add --target /mn-cse1` provisions a device for it: the MEF's answer
names /mn-cse1 and its point of access, the device derives Kpsa for /mn-cse1 and is
served there, while the IN-CSE (/tep-cse) never learns that key (its handshake fails);
a device without --target still goes to the IN-CSE. A malformed or unknown target is
refused when the enrolee is added; `enrolee show`/`list` display it."""

import os

import pytest

import harness
import tepkeys

MN = "/mn-cse1"
PEERS = "/tep-cse=%s, maf.tep.local=%s, %s=mn-cse1" % (
    harness.CURVE_HOSTS["cse"], harness.CURVE_HOSTS["authz"], MN)


@pytest.fixture
def gw(monkeypatch, request):
    with harness.curve_platform_with_target(
            monkeypatch, MN, "mn-cse1", keep=lambda: getattr(request.node, "tep_failed", False),
            peers={"enroller": PEERS}) as made:
        yield made


def add(cp, name, *extra, kind="enrolee"):
    """tepctl enrolee|app add NAME ... over the CURVE bus; returns (Result, Device)."""
    dev = cp.p.device(name)
    r = cp.tepctl(cp.ops, "enroller", kind, "add", name, "--mef-uri",
                  cp.p.env["ENROLLER_COAPS"], *extra, "--out", dev.prov)
    return r, dev


def test_device_enrolled_for_the_mn_cse(gw):
    cp, mn = gw
    p = cp.p
    r, dev = add(cp, "gwdev01", "--target", MN)
    assert r.rc == 0 and r.get("TARGET") == MN, str(r)
    r = cp.tepctl(cp.ops, "enroller", "enrolee", "show", "gwdev01")
    assert r.rc == 0 and r.get("TARGET") == MN and r.get("ENROLEE_ID") == "Cgwdev01", str(r)
    r, indev = add(cp, "indev01")                          # no --target: the IN-CSE
    r = cp.tepctl(cp.ops, "enroller", "enrolee", "show", "indev01")
    assert r.rc == 0 and r.get("TARGET") == "-", str(r)
    r = cp.tepctl(cp.ops, "enroller", "enrolee", "list")
    rows = {l.split()[0]: l.split() for l in r.out.splitlines()[1:] if l.strip()}
    assert rows["gwdev01"][-1] == MN and rows["indev01"][-1] == "-", r.out
    r = cp.tepctl(cp.ops, "enroller", "enrolee", "show", "nobody")
    assert r.rc == 3 and "no enrolee nobody" in r.err, str(r)

    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    st = dev.state_values()
    assert (st["registrar_cse_id"], st["registrar_poa"]) == (MN, mn.poa), st
    # the MN-CSE got the Kpsa derived for /mn-cse1 (10.3.3): the device is served there
    r = dev.run("register")
    assert r.rc == 0, "%s\n%s\n--- mn-cse1\n%s" % (r, p.logs(), mn.tail())
    assert dev.run("create-cnt", "data").rc == 0
    # the session is bound with the KpsaID of HMAC(Ke, label || "/mn-cse1")
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
    assert "Cindev01" not in mn.log()


def test_targets_are_checked_when_added(gw):
    cp, _ = gw
    r, dev = add(cp, "bad1", "--target", "mn-cse1")
    assert r.rc == 3 and "SP-relative CSE-ID" in r.err, str(r)
    r, _ = add(cp, "bad2", "--target", "/nowhere")
    assert r.rc == 3 and "unknown enrolment target /nowhere" in r.err, str(r)
    r, _ = add(cp, "Nbadapp", "--target", "/nowhere", kind="app")
    assert r.rc == 3 and "unknown enrolment target" in r.err, str(r)
    assert not os.path.exists(dev.prov)
    r = cp.tepctl(cp.ops, "enroller", "enrolee", "list")
    assert "bad1" not in r.out and "bad2" not in r.out, r.out
    # an application credential for the MN-CSE: its instances go there
    r, _ = add(cp, "Ngwapp", "--target", MN, kind="app")
    assert r.rc == 0 and r.get("TARGET") == MN, str(r)
    r = cp.tepctl(cp.ops, "enroller", "app", "list")
    assert any(l.split()[0] == "app.Ngwapp" and l.split()[-1] == MN
               for l in r.out.splitlines() if l.strip()), r.out
