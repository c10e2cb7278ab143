"""27: the operator's commands themselves: `./tep up DIR`, `./tep down DIR` and `./tep demo`
(README "Quick start" and "Running the platform for other tools"; DESIGN 9). `up` starts
the four daemons (tep-bsf, GBA's BSF, beside the three) in the background on the ports of TEP_PORT_* and prints every endpoint
as KEY=value, with tep-cse's and the MAF's certificates from the tep CA; a device
provisioned against those endpoints enrols, connects and stores data (TS-0003 8.3.2.1,
8.2.2.1); `down` stops them with SIGTERM and reports each exit code 0; a second `up`
keeps the state. `demo` walks every procedure and ends with "demo complete".

Ports are free ones, never the defaults (other runs on the machine may hold them).
Whatever happens, the daemons a test started are stopped: `up` backgrounds them in their
own sessions, out of the harness's reach."""

import os
import re
import shutil
import signal
import subprocess
import time

import pytest

import harness

TEP = os.path.join(harness.ROOT, "tep")
UP_TIMEOUT = 900      # `up` builds first: a no-op after ./tep build, minutes if not
DEMO_TIMEOUT = 900


def _env():
    ports = harness.free_udp_ports(6)
    env = dict(os.environ, TEP_BUILD_DIR=harness.BUILD)
    for name, port in zip(("CSE_COAP", "CSE_COAPS", "ENROLLER_COAPS", "AUTHZ_COAPS",
                           "MN1_COAP", "MN1_COAPS"), ports):  # MN1: the demo's gateway
        env["TEP_PORT_" + name] = str(port)
    env["TEP_PORT_BSF_UB"] = str(harness.free_tcp_port())
    return env


def _tep(env, *args, timeout=UP_TIMEOUT):
    p = subprocess.run([TEP, *args], cwd=harness.ROOT, env=env, stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=timeout, errors="replace")
    return harness.Result([TEP, *args], p.returncode, p.stdout, p.stderr, 0.0)


def _pids(run_dir):
    out = {}
    for name in ("bsf", "enroller", "authz", "cse"):
        try:
            with open(os.path.join(run_dir, name + ".pid")) as f:
                out[name] = int(f.read())
        except (FileNotFoundError, ValueError):
            pass
    return out


def _alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


@pytest.fixture
def run_dir(tmp_path):
    """A run directory; afterwards `./tep down` and, should that fail, SIGKILL to what
    is left of the daemons named in its pid files."""
    d = str(tmp_path / "run")
    env = dict(os.environ, TEP_BUILD_DIR=harness.BUILD)
    yield d
    if os.path.isdir(d):
        pids = _pids(d)
        subprocess.run([TEP, "down", d], cwd=harness.ROOT, env=env, capture_output=True,
                       timeout=60)
        for pid in pids.values():
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


def test_up_serves_a_device_and_down_stops_every_daemon_with_exit_0(run_dir):
    env = _env()
    r = _tep(env, "up", run_dir)
    assert r.rc == 0, str(r)
    kv = r.kv
    ports = {k: env["TEP_PORT_" + k] for k in ("CSE_COAP", "CSE_COAPS", "ENROLLER_COAPS")}
    assert kv["ENROLLER_COAPS"] == "coaps://127.0.0.1:" + ports["ENROLLER_COAPS"], kv
    assert kv["CSE_COAPS"] == "coaps://127.0.0.1:" + ports["CSE_COAPS"], kv
    assert kv["CSE_COAP"] == "coap://127.0.0.1:" + ports["CSE_COAP"], kv
    assert kv["MAF_COAPS"] == "coaps://127.0.0.1:" + env["TEP_PORT_AUTHZ_COAPS"], kv
    assert (kv["CSE_ID"], kv["CSE_NAME"], kv["ADMIN_ORIGINATOR"]) == \
        ("/tep-cse", "tep-cse", "CAdmin"), kv
    # the daemons' certificates from the tep CA, checked by OpenSSL
    for crt in (kv["CSE_CERT"], kv["MAF_CERT"]):
        v = subprocess.run(["openssl", "verify", "-CAfile", kv["TEP_CA"], crt],
                           capture_output=True, text=True)
        assert v.returncode == 0, v.stdout + v.stderr
    pids = _pids(run_dir)
    assert sorted(pids) == ["authz", "bsf", "cse", "enroller"] and \
        all(map(_alive, pids.values()))
    assert kv["BSF_UB"] == "http://127.0.0.1:%s/" % env["TEP_PORT_BSF_UB"], kv
    for daemon in ("enroller", "authz", "cse", "bsf"):
        st = harness.run_tool([harness.binary("tepctl"), "--admin",
                               kv[daemon.upper() + "_ADMIN"], "status", daemon])
        assert (st.rc, st.get("ready")) == (0, "true"), str(st)

    # a device of the operator's against the printed endpoints
    prov, state = os.path.join(run_dir, "sensor7.prov"), os.path.join(run_dir, "sensor7.state")
    r = harness.run_tool([harness.binary("tepctl"), "--admin", kv["ENROLLER_ADMIN"], "enrolee",
                          "add", "sensor7", "--mef-uri", kv["ENROLLER_COAPS"], "--out", prov])
    assert r.rc == 0, str(r)
    dev = [harness.binary("tep-device"), "--provisioning", prov, "--state", state]
    r = harness.run_tool(dev + ["run"])
    assert r.rc == 0, "%s\n%s" % (r, open(os.path.join(kv["LOGS"], "cse.log")).read()[-2000:])
    assert harness.run_tool(dev + ["retrieve", "tep-cse/Csensor7/data/la"]).rsc == 2000

    # a second `up` while they run is refused and changes nothing
    again = _tep(env, "up", run_dir)
    assert again.rc != 0 and "already running" in again.err, str(again)
    assert _pids(run_dir) == pids and all(map(_alive, pids.values()))

    down = _tep(env, "down", run_dir, timeout=60)
    assert down.rc == 0, str(down)
    assert down.out.splitlines() == ["cse: exit code 0", "authz: exit code 0",
                                     "enroller: exit code 0", "bsf: exit code 0"], str(down)
    deadline = time.monotonic() + 5
    while any(map(_alive, pids.values())) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(map(_alive, pids.values())), pids
    assert _tep(env, "down", run_dir, timeout=60).rc == 0        # nothing left to stop

    # state survives: up again on the same directory, the device is served at once
    r = _tep(env, "up", run_dir)
    assert r.rc == 0, str(r)
    assert harness.run_tool(dev + ["retrieve", "tep-cse/Csensor7/data/la"]).rsc == 2000
    down = _tep(env, "down", run_dir, timeout=60)
    assert down.rc == 0 and down.out.count("exit code 0") == 4, str(down)


def test_down_reports_a_daemon_that_died(run_dir):
    """A daemon that is no longer running makes `down` fail and say so."""
    env = _env()
    assert _tep(env, "up", run_dir).rc == 0
    pids = _pids(run_dir)
    os.kill(pids["authz"], signal.SIGKILL)
    deadline = time.monotonic() + 5
    while not os.path.exists(os.path.join(run_dir, "authz.rc")):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    down = _tep(env, "down", run_dir, timeout=60)
    assert down.rc == 1, str(down)
    assert "authz: was not running (exit code 137)" in down.out, str(down)
    assert "cse: exit code 0" in down.out and "enroller: exit code 0" in down.out, str(down)


def test_demo_runs_end_to_end():
    env = _env()
    r = _tep(env, "demo", timeout=DEMO_TIMEOUT)
    m = re.search(r"demo complete; logs kept in (\S+)/logs$", r.out.strip())
    try:
        assert r.rc == 0 and m, str(r)
        out = r.out
        for step in ("-> refused (rsc=4103, exit 3), as it should be",
                     "-> refused (rsc=4106, exit 3), as it should be",
                     "TOKEN_ID=", "KC_ID=", "cse: exit code 0", "authz: exit code 0",
                     "enroller: exit code 0", "bsf: exit code 0",
                     # step 13: a GBA device enrolled and stored data (TS-0003 8.3.2.3)
                     "KE_ID=", "@bsf.tep.local", "PATH=tep-cse/Csim7/data",
                     # step 14, the gateway: registered, read through it, cut off
                     "registered_cses=/mn1:sa", "registrar=/tep-cse registered",
                     "-> refused (rsc=5103, exit 3), as it should be",
                     # step 14d: ESData and ESPrim between gw01 (behind /mn1) and device02
                     'CLASS=enc\nSIGNER=\nVALUE={"reading":"through-the-gateway"}',
                     "ESCERTKE_KID=", '"con":"sealed-at-the-gateway"',
                     "the MN-CSE's log holds neither plaintext",
                     # steps 15, 16: ESData opened by its target only, ESPrim over plain
                     'CLASS=enc\nSIGNER=\nVALUE={"reading":"e2e-secret"}',
                     "-> refused (denied, exit 2), as it should be",
                     "OUTER_RSC=2000\nRSC=2001", '"con":"via-esprim"'):
            assert step in out, "%r not in the demo's output\n%s" % (step, out[-3000:])
        assert out.count("as it should be") == 7, out[-3000:]
        # tep-device prints the receiver rand object's ID it was given (ESPrim, 14d, 16)
        assert re.search(r"RRI=u[0-9a-f]{26}\n", out), out[-3000:]
    finally:
        if m and m.group(1).startswith("/tmp/tep-demo."):
            shutil.rmtree(m.group(1), ignore_errors=True)
