"""28: the internal bus over TCP with ZeroMQ CURVE, outside Docker (DESIGN 4 and 9: "tcp://
with ZeroMQ CURVE between hosts"; docs/internals.md "Bus security (CURVE)"). The three
daemons bind and connect tcp:// endpoints on three loopback addresses (one per "host":
a server's curve_name is the host name its clients use), each with its own key pair
published in a shared trust directory. Over that bus a device enrols (events and sync
carry its Kpsa to tep-cse, TS-0003 8.2.2.1), is served, and a second device is denied
by tep-authz's decision (TS-0003 7.1). A bus client whose key is not in the trust
directory gets nothing: tepctl without CURVE or with an unknown key is "unreachable"
(exit 2), and a tep-cse with an unknown key learns no credential, so the devices'
handshakes with it fail, while the trusted tep-cse has them."""

import os
import re
import shutil
import subprocess
import time

import pytest

import harness
import tepenv
import tepkeys

HOSTS = harness.CURVE_HOSTS


@pytest.fixture
def cp(request):
    made = harness.CurvePlatform().start()
    yield made
    try:
        made.p.assert_clean_stop()
    finally:
        made.p.cleanup(keep=getattr(request.node, "tep_failed", False))


def test_daemons_work_over_tcp_with_curve(cp):
    p = cp.p
    for name in harness.Platform.ORDER:
        ready = [l for l in p[name].log().splitlines() if "event=ready" in l][0]
        assert "ipc://" not in ready, ready
        if name != "cse":                      # tep-cse's ready line names no bus endpoint
            assert "tcp://%s:" % HOSTS[name] in ready, ready
        # each daemon published its public key under its host name
        assert os.path.exists(os.path.join(cp.keys, HOSTS[name] + ".pub"))
    assert not os.listdir(os.path.join(p.dir, "ipc"))        # nothing on ipc://

    ops = cp.tepctl_ini("operator")
    r = cp.tepctl(ops, "enroller", "enrolee", "add", "device01", "--mef-uri",
                  p.env["ENROLLER_COAPS"], "--out", os.path.join(p.dir, "device01.prov"))
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    dev = p.device("device01")
    r = dev.run("run")                                         # Kpsa reached tep-cse by bus
    assert r.rc == 0, "%s\n%s" % (r, p.logs())
    r = cp.tepctl(ops, "enroller", "enrolee", "add", "device02", "--mef-uri",
                  p.env["ENROLLER_COAPS"], "--out", os.path.join(p.dir, "device02.prov"))
    other = p.device("device02")
    assert other.run("enrol").rc == 0 and other.run("register").rc == 0, p.logs()
    r = other.run("retrieve", harness.ae_path(p, dev) + "/data")
    assert (r.rc, r.rsc) == (3, 4103), str(r)                  # tep-authz decided, by bus
    audit = cp.tepctl(ops, "authz", "audit", "--originator", "Cdevice02")
    assert audit.rc == 0 and "target=/tep-cse/Cdevice01/data op=2 permit=0 rsc=4103" in audit.out, str(audit)
    for daemon in ("enroller", "authz", "cse"):
        st = cp.tepctl(ops, daemon, "status", daemon)
        assert (st.rc, st.get("ready")) == (0, "true"), str(st)


def test_bus_clients_without_a_trusted_key_are_refused(cp, tmp_path):
    p = cp.p
    # no CURVE at all: a plain ZeroMQ client
    plain = cp.tepctl_ini("plain", curve=False)
    # CURVE with a key of its own that nobody trusts (published only in its own directory,
    # which holds copies of the servers' public keys so that it can try)
    rogue_dir = str(tmp_path / "rogue-keys")
    os.mkdir(rogue_dir)
    for host in HOSTS.values():
        shutil.copy(os.path.join(cp.keys, host + ".pub"), rogue_dir)
    rogue = cp.tepctl_ini("rogue", keys_dir=rogue_dir)
    for ini in (plain, rogue):
        for daemon in ("enroller", "authz", "cse"):
            r = cp.tepctl(ini, daemon, "status", daemon)
            assert r.rc == 2 and "%s unreachable" % daemon in r.err, str(r)
        r = cp.tepctl(ini, "enroller", "enrolee", "add", "intruder", "--out",
                      str(tmp_path / "intruder.prov"))
        assert r.rc == 2, str(r)
    assert not os.path.exists(tmp_path / "intruder.prov")
    assert not os.path.exists(os.path.join(cp.keys, "rogue.pub"))
    # the same tepctl with its key in the trust directory is answered, and shows that
    # nothing the refused clients sent was done
    ops = cp.tepctl_ini("operator")
    st = cp.tepctl(ops, "enroller", "status", "enroller")
    assert (st.rc, st.get("enrolees")) == (0, "0"), str(st)


def test_a_cse_with_an_untrusted_key_learns_no_credential(cp, tmp_path):
    """A second tep-cse with a key pair of its own outside the trust directory: its sync
    requests and event subscription are refused in the CURVE handshake, so it never
    holds a Kpsa; the trusted tep-cse does. Once its key is trusted, it catches up."""
    p = cp.p
    rogue_dir = str(tmp_path / "rogue-keys")
    os.mkdir(rogue_dir)
    for host in HOSTS.values():
        shutil.copy(os.path.join(cp.keys, host + ".pub"), rogue_dir)
    data = str(tmp_path / "rogue-data")
    os.mkdir(data, 0o700)
    port = harness.free_udp_ports(1)[0]
    ini = str(tmp_path / "rogue-cse.ini")
    with open(tepenv.config_path(p.dir, "cse")) as f:
        text = f.read()
    text = re.sub(r"(?m)^data_dir = .*$", "data_dir = " + data, text)
    text = re.sub(r"(?m)^coap_listen = .*$", "coap_listen = ", text)
    text = re.sub(r"(?m)^coaps_listen = .*$", "coaps_listen = 127.0.0.1:%d" % port, text)
    admin = "ipc://" + str(tmp_path / "rogue-admin.ipc")
    text = text[:text.index("[bus]")] + harness.curve_bus_section(
        p, "cse", rogue_dir, cp.ports, admin=admin, curve_name="rogue-cse",
        key=os.path.join(data, "bus-curve.key"))
    with open(ini, "w") as f:
        f.write(text)
    log = open(str(tmp_path / "rogue-cse.log"), "wb")
    rogue = subprocess.Popen([harness.binary("cse"), "--config", ini],
                                     stdin=subprocess.DEVNULL, stdout=log,
                                     stderr=subprocess.STDOUT)
    try:
        ops = cp.tepctl_ini("operator")
        r = cp.tepctl(ops, "enroller", "enrolee", "add", "device01", "--mef-uri",
                      p.env["ENROLLER_COAPS"], "--out", os.path.join(p.dir, "device01.prov"))
        assert r.rc == 0, str(r)
        dev = p.device("device01")
        assert dev.run("enrol").rc == 0
        assert dev.run("register").rc == 0, p.logs()          # the trusted tep-cse has it
        time.sleep(2.0)                                       # ample for a sync round trip
        assert rogue.poll() is None, open(str(tmp_path / "rogue-cse.log")).read()
        st = harness.run_tool([harness.binary("tepctl"), "--admin", admin, "status", "cse"])
        assert st.rc == 0 and (st.get("credentials"), st.get("last_seq")) == ("0", "0"), str(st)
        rlog = open(str(tmp_path / "rogue-cse.log")).read()
        assert "event=sync_applied" not in rlog, rlog
        # the device's Kpsa handshake with the rogue CSE fails
        probe = os.path.join(harness.BUILD, "cse-node", "cse-probe")
        st = dev.state_values()
        kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
        ident = tepkeys.kpsa_id(kpsa, p.env["MEF_FQDN"])
        for cse_port, served in ((port, False), (p.ports["cse_coaps"], True)):
            r = harness.run_tool([probe, "--psk", "%s:%s" % (ident, kpsa.hex()), "--from",
                                  st["enrolee_id"], "127.0.0.1", str(cse_port), "GET",
                                  harness.ae_path(p, dev)])
            assert (r.rc == 0 and r.rsc == 2000) == served, str(r)
        # control: the operator trusts its key (the ZAP handler re-reads the directory at
        # every handshake) and the same tep-cse catches up with the credential
        shutil.copy(os.path.join(rogue_dir, "rogue-cse.pub"), cp.keys)
        deadline = time.monotonic() + 10
        while True:
            st = harness.run_tool([harness.binary("tepctl"), "--admin", admin, "status", "cse"])
            if st.get("credentials") == "1":
                break
            assert time.monotonic() < deadline, "%s\n%s" % (
                st, open(str(tmp_path / "rogue-cse.log")).read()[-3000:])
            time.sleep(0.2)
    finally:
        rogue.terminate()
        assert rogue.wait(10) == 0
        log.close()
