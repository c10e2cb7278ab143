"""174: a gateway added to a running enroller (TS-0003 8.3.2.1 Enrolment Targets; issue 14:
"a new target needs an enroller restart"). tep-enroller re-reads `[enroller] targets` and
`[bus] peers` on SIGHUP (docs/internals.md "Enrolment targets"): the whole file is
checked again and nothing changes when it has an error or changes what needs a restart.

The platform's bus is CURVE with `[bus] peers`; a second tep-cse /mn-cse1 runs but the
enroller does not know it: `tepctl enrolee add --target /mn-cse1` is refused. The
operator adds the target (and its key binding) to enroller.ini and sends SIGHUP: the same
command now provisions a device for /mn-cse1, which is served there with the Kpsa the
enroller handed to /mn-cse1 only. A reload that binds the target to no key, or that
moves the sync socket, is refused and the running targets stay."""

import re
import signal
import time

import pytest

import harness
import tepenv

MN = "/mn-cse1"
PEERS = "/tep-cse=%s, maf.tep.local=%s" % (harness.CURVE_HOSTS["cse"], harness.CURVE_HOSTS["authz"])


@pytest.fixture
def plat(request):
    cp = harness.CurvePlatform(peers={"enroller": PEERS})
    mn = cp.second_cse(MN, "mn-cse1")
    try:
        cp.start()
        mn.start()
        yield cp, mn
        assert mn.stop() == 0
        cp.p.assert_clean_stop()
    finally:
        mn.kill()
        cp.p.cleanup(keep=getattr(request.node, "tep_failed", False))


def add(cp, name, *extra):
    dev = cp.p.device(name)
    r = cp.tepctl(cp.ops, "enroller", "enrolee", "add", name, "--mef-uri",
                  cp.p.env["ENROLLER_COAPS"], *extra, "--out", dev.prov)
    return r, dev


def write_enroller(cp, targets, peers, sync=None):
    """enroller.ini with [enroller] targets set and [bus] peers (and sync) replaced."""
    path = tepenv.config_path(cp.p.dir, "enroller")
    with open(path) as f:
        text = f.read()
    text = re.sub(r"(?m)^targets = .*\n", "", text)
    text = text.replace("[enroller]\n", "[enroller]\ntargets = %s\n" % targets, 1)
    with open(path, "w") as f:
        f.write(text)
    bus = cp.bus("enroller", peers=peers)
    if sync is not None:
        bus = re.sub(r"(?m)^sync = .*$", "sync = %s" % sync, bus)
    harness.replace_bus_section(path, bus)


def hup(enroller, pattern, timeout=5.0):
    """SIGHUP to tep-enroller; waits for one more log line matching pattern."""
    rx = re.compile(pattern)
    before = len([l for l in enroller.log().splitlines() if rx.search(l)])
    enroller.proc.send_signal(signal.SIGHUP)
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in enroller.log().splitlines() if rx.search(l)]
        if len(lines) > before:
            return lines[-1]
        assert enroller.alive(), enroller.tail()
        assert time.monotonic() < deadline, "no '%s' after SIGHUP:\n%s" % (pattern,
                                                                          enroller.tail())
        time.sleep(0.05)


def test_gateway_added_without_restart(plat):
    cp, mn = plat
    p = cp.p
    enroller = p["enroller"]
    pid = enroller.proc.pid
    r, _ = add(cp, "early01", "--target", MN)
    assert r.rc == 3 and "unknown enrolment target %s" % MN in r.err, str(r)

    # a target bound to no key: the whole file refused, nothing changes
    write_enroller(cp, "%s=%s" % (MN, mn.poa), PEERS)
    line = hup(enroller, r"event=reload_refused")
    assert "binds no key to %s" % MN in line, line
    r, _ = add(cp, "early02", "--target", MN)
    assert r.rc == 3, str(r)

    # the target with its key binding: reloaded
    write_enroller(cp, "%s=%s" % (MN, mn.poa), "%s, %s=mn-cse1" % (PEERS, MN))
    line = hup(enroller, r"event=reloaded key=targets")
    assert "targets=1" in line, line
    assert enroller.proc.pid == pid and enroller.alive()
    r, dev = add(cp, "gwdev01", "--target", MN)
    assert r.rc == 0 and r.get("TARGET") == MN, str(r)
    r = dev.run("enrol")
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    st = dev.state_values()
    assert (st["registrar_cse_id"], st["registrar_poa"]) == (MN, mn.poa), st
    r = dev.run("register")   # /mn-cse1 fetched the Kpsa derived for it over the bus
    assert r.rc == 0, "%s\n%s\n--- mn-cse1\n%s" % (r, p.logs(), mn.tail())

    # a reload that moves the sync socket needs a restart: refused, the target stays
    write_enroller(cp, "%s=%s" % (MN, mn.poa), "%s, %s=mn-cse1" % (PEERS, MN),
                   sync="tcp://127.0.0.1:%d" % harness.free_udp_ports(1)[0])
    line = hup(enroller, r"event=reload_refused")
    assert "restart to apply" in line, line
    r, _ = add(cp, "gwdev02", "--target", MN)
    assert r.rc == 0 and r.get("TARGET") == MN, str(r)
