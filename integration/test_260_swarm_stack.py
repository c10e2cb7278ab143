"""260: tep as a Docker Swarm stack on this one-node engine (docker/docker-stack.yml,
docker/stack.sh; issue 17 items 1 and 2). The engine is put in swarm mode when it is not
and left again at the end (as it was found). docker/stack.sh init makes the CURVE key
pairs (secret keys as Swarm secrets, public keys as configs), then a first tep-enroller
alone issues tep-cse's and tep-authz's certificates and the gateways' provisioning
files (secrets too); the stack (enroller, the tep-authz writer and two PDP replicas,
the IN-CSE, two MN-CSEs; health checks, restart policies, update_config) is deployed
and every task becomes healthy; both gateways register to the IN-CSE over DTLS with
their own Kpsa; a device enrolled for mn-cse1 writes there and an application at the
IN-CSE reads it through the IN-CSE once the device grants it (access decided at the
hosting gateway); both replicas decided, the writer none.

Faults: the mn-cse1 task is killed (SIGKILL) while its device writes: Swarm starts a
new task on the same volume, the device's next connection succeeds with the same Kpsa,
every write the gateway acknowledged (2001) before or after is there, and the gateway
is registered again. The IN-CSE is rolled (docker service update --force: stop-first)
while device01 writes there: the update completes, no acknowledged write lost, both
gateways registered again. The enroller task is killed: Swarm starts it again on its
volume; a device enrolled for mn-cse2 afterwards is served there, a revocation
afterwards reaches mn-cse1, and every subscriber's last_seq comes to the enroller's
(they catch up from its event log). The pdp1 task is killed: requests are decided by
pdp2 (permitted a heartbeat timeout and a deadline later), pdp1 comes back.

Skipped only where no Docker engine answers. Makes the base image when missing and builds
tep:ci like integration 90 (its build cache is shared; on a fresh machine this module runs
first and pays for both); about 2.3 min with the build cached, on a loaded machine."""

import os
import re
import subprocess
import time

import pytest

import harness
from test_90_docker_compose import (BASE_IMAGE, DOCKER_DIR, IMAGE, ROOT, _MISSING,
                                    _ensure_base_image, _keep_build_cache)

pytestmark = pytest.mark.skipif(_MISSING is not None,
                                reason="no Docker engine answers here (%s)" % _MISSING)

TOTAL_BUDGET = 20 * 60
STACK_SH = os.path.join(DOCKER_DIR, "stack.sh")
SERVICES = ("enroller", "authz", "pdp1", "pdp2", "cse", "mn-cse1", "mn-cse2")
IN_APP = "/tep-cse/Cdevice01"
GW_DATA = "~/mn-cse1/mn-cse1/Cgwdev1/data"


class Swarm:
    """One stack on this engine, every call bounded by the test's budget."""

    def __init__(self, deadline):
        self.deadline = deadline
        self.stack = "tep260x%d" % os.getpid()
        self.devices = self.stack + "_test-devices"
        ports = harness.free_udp_ports(5)
        self.env = dict(os.environ, TEP_IMAGE=IMAGE, TEP_STACK=self.stack,
                        **{"TEP_PORT_%s_COAPS" % k: str(p) for k, p in
                           zip(("CSE", "ENROLLER", "AUTHZ", "MN1", "MN2"), ports)})
        self.transcript = []

    def left(self, cap):
        return max(1.0, min(cap, self.deadline - time.monotonic()))

    def run(self, argv, cap=120, check=False, stdin=None):
        t0 = time.monotonic()
        try:
            r = subprocess.run(argv, env=self.env, capture_output=True, text=True, input=stdin,
                               timeout=self.left(cap))
        except subprocess.TimeoutExpired as e:
            raise AssertionError("timed out after %.0f s: %s" % (time.monotonic() - t0,
                                                                  " ".join(argv))) from e
        out = r.stdout + r.stderr
        self.transcript.append("$ %s  (rc=%d, %.1f s)\n%s" % (" ".join(argv), r.returncode,
                                                             time.monotonic() - t0, out[-2000:]))
        if check:
            assert r.returncode == 0, "%s failed (rc=%d):\n%s" % (" ".join(argv),
                                                                 r.returncode, out[-3000:])
        return r.returncode, out

    def task(self, service):
        """The running container of the stack's service (its one task)."""
        _, out = self.run(["docker", "ps", "-q", "--filter", "label=com.docker.swarm.service."
                           "name=%s_%s" % (self.stack, service), "--filter", "status=running"])
        ids = out.split()
        return ids[0] if ids else None

    def healthy(self, services, cap=180):
        """Waits until each service's task runs and is healthy; returns {service: id}."""
        end = time.monotonic() + self.left(cap)
        found = {}
        while time.monotonic() < end:
            for s in services:
                cid = self.task(s)
                if cid and self.run(["docker", "inspect", "-f", "{{.State.Health.Status}}",
                                     cid], cap=30)[1].strip() == "healthy":
                    found[s] = cid
                else:
                    found.pop(s, None)
            if len(found) == len(services):
                return found
            time.sleep(2)
        raise AssertionError("not healthy in time: %s" % sorted(set(services) - set(found)))

    def tepctl(self, service, *args):
        """tepctl in the service's task against its own daemon."""
        return self.run(["docker", "exec", self.task(service), "tep-entrypoint", "tepctl",
                         *args], cap=60)

    def status(self, service, daemon="cse"):
        rc, out = self.tepctl(service, "status", daemon)
        assert rc == 0, out
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def provision(self, name, *args):
        """The operator provisions NAME at the enroller (tepctl in its task); the file goes
        into the test's device volume, not left in the enroller's."""
        inside = "/var/lib/tep/enroller/%s.prov" % name
        enroller = self.task("enroller")
        rc, out = self.run(["docker", "exec", enroller, "tep-entrypoint", "tepctl", "enrolee",
                            "add", name, *args, "--mef-uri", "coaps://enroller:5784", "--out",
                            inside], cap=60)
        assert rc == 0, out
        _, prov = self.run(["docker", "exec", enroller, "cat", inside], check=True)
        self.run(["docker", "exec", enroller, "rm", inside], check=True)
        self.run(["docker", "run", "--rm", "-i", "-v", self.devices + ":/var/lib/tep/device",
                  "--entrypoint", "sh", IMAGE, "-c",
                  "umask 077; cat > /var/lib/tep/device/%s.prov" % name], stdin=prov, check=True)

    def device_argv(self, name, *command):
        return ["docker", "run", "--rm", "--network", self.stack + "_tep", "-v",
                self.devices + ":/var/lib/tep/device", IMAGE, "device", name, "--timeout",
                "3000", *command]

    def device(self, name, *command):
        return self.run(self.device_argv(name, *command), cap=90)


def _retry(fn, ok, secs):
    end = time.monotonic() + secs
    while True:
        rc, out = fn()
        if ok(rc, out) or time.monotonic() > end:
            return rc, out
        time.sleep(2)


def _registered(s, cap=90):
    end = time.monotonic() + s.left(cap)
    while True:
        st = s.status("cse")
        have = set(st.get("registered_cses", "").split(","))
        if {"/mn-cse1:sa", "/mn-cse2:sa"} <= have or time.monotonic() > end:
            break
        time.sleep(2)
    assert {"/mn-cse1:sa", "/mn-cse2:sa"} <= have, st


# A device writing v1, v2, ... into data/ under its AE, one connection each, until it has
# had 5 acknowledged writes after its first failure (its CSE gone), or 150 writes. One
# line per write: ACK <value> <path> or NACK <value>. $0: the device's name.
WRITER = r'''
i=0 nack=0 after=0
while [ "$i" -lt 150 ] && [ "$after" -lt 5 ]; do
    i=$((i + 1))
    if out=$(tep-device --provisioning /var/lib/tep/device/$0.prov \
            --state /var/lib/tep/device/$0.state --timeout 2000 create-cin data v$i 2>&1) &&
        path=$(printf '%s\n' "$out" | sed -n 's/^PATH=//p') && [ -n "$path" ]; then
        echo "ACK v$i $path"
        [ "$nack" -eq 0 ] || after=$((after + 1))
    else
        echo "NACK v$i"
        nack=1
    fi
    sleep 0.3
done
'''


def _writes_through(s, device, fault):
    """device writes (WRITER) while fault() is done after its 5th acknowledged write;
    asserts that the writer saw its CSE go, reconnected (5 writes acknowledged after),
    and that every acknowledged write is there with its value. Returns (acknowledged,
    refused)."""
    argv = ["docker", "run", "--rm", "--network", s.stack + "_tep", "-v",
            s.devices + ":/var/lib/tep/device", "--entrypoint", "sh", IMAGE, "-c", WRITER,
            device]
    writer = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    lines = []
    try:
        for line in writer.stdout:
            lines.append(line.strip())
            if sum(1 for x in lines if x.startswith("ACK")) == 5:
                fault()
                break
        for line in writer.stdout:
            lines.append(line.strip())
        writer.wait(timeout=s.left(240))
    finally:
        if writer.poll() is None:
            writer.kill()
    acked = [x.split()[1:] for x in lines if x.startswith("ACK")]
    nacked = [x for x in lines if x.startswith("NACK")]
    s.transcript.append("writer %s:\n%s" % (device, "\n".join(lines)))
    assert nacked, "the fault was not seen by the writer:\n%s" % "\n".join(lines)
    after = [x for x in lines[lines.index(nacked[0]):] if x.startswith("ACK")]
    assert len(after) >= 5, "the device did not reconnect:\n%s" % "\n".join(lines)
    for value, path in acked:
        rc, out = _retry(lambda: s.device(device, "retrieve", path), lambda rc, out: rc == 0, 20)
        assert rc == 0 and "VALUE=%s" % value in out, "acknowledged %s lost:\n%s" % (value, out)
    return len(acked), len(nacked)


def _mn_killed_while_writing(s):
    """SIGKILL of the mn-cse1 task while gwdev1 writes: rescheduled on its volume, the
    device reconnects with its Kpsa, no acknowledged write lost."""
    old = s.task("mn-cse1")
    counts = _writes_through(s, "gwdev1", lambda: s.run(["docker", "kill", old], check=True))
    new = s.healthy(["mn-cse1"])["mn-cse1"]
    assert new != old, "Swarm did not start a new task"
    _registered(s)
    return counts


def _in_cse_rolling_update(s):
    """docker service update --force of the IN-CSE (update_config: stop-first) while
    device01 writes there: the update converges, no acknowledged write lost, both
    gateways registered again (the IN-CSE came back at another address: their entrypoint
    restarts them against it)."""
    old = s.task("cse")
    counts = _writes_through(s, "device01", lambda: s.run(
        ["docker", "service", "update", "--force", "--detach=true", s.stack + "_cse"],
        check=True))
    rc, st = _retry(lambda: s.run(["docker", "service", "inspect", "-f",
                                   "{{.UpdateStatus.State}}", s.stack + "_cse"]),
                    lambda rc, out: out.strip() != "updating", 90)
    assert st.strip() == "completed", "the rolling update did not complete: %s" % st
    new = s.healthy(["cse"])["cse"]
    assert new != old
    _registered(s, cap=120)
    return counts


def _pdp_replica_killed(s):
    """SIGKILL of pdp1's task: the CSEs' questions go to pdp2 (a request sent a heartbeat
    timeout and a deadline after the kill is decided and permitted: the container's end
    may vanish without closing its connections), Swarm starts pdp1 again."""
    old = s.task("pdp1")
    before = int(s.status("pdp2", "authz")["decisions"])
    s.run(["docker", "kill", old], check=True)
    # the DEALER drops pdp1 a heartbeat interval (1 s) plus timeout (3 s) after its end at
    # the latest, and questions it held are denied at [authz] deadline_ms (500 ms): from
    # then on every request is decided by pdp2. On a loaded machine the container's end
    # and the first answers take longer: wait for the first permit (at most 20 s), then
    # three more in a row must be permitted.
    time.sleep(4.5)
    _retry(lambda: s.device("device01", "retrieve", "tep-cse/Cdevice01/data/la"),
           lambda rc, out: rc == 0 and "RSC=2000" in out, 20)
    for _ in range(3):
        rc, out = s.device("device01", "retrieve", "tep-cse/Cdevice01/data/la")
        assert rc == 0 and "RSC=2000" in out, "not decided after a replica died:\n" + out
    assert int(s.status("pdp2", "authz")["decisions"]) > before
    new = s.healthy(["pdp1"])["pdp1"]
    assert new != old


def _enroller_restarted(s):
    """SIGKILL of the enroller's task: started again on its volume; enrolments and a
    revocation after it reach the gateways, every subscriber's last_seq catches up."""
    old = s.task("enroller")
    s.run(["docker", "kill", old], check=True)
    new = s.healthy(["enroller"])["enroller"]
    assert new != old
    rc, out = s.tepctl("enroller", "enrolee", "list")
    assert rc == 0 and "Cgwdev1" in out and "/mn-cse1" in out, out
    s.provision("gwdev2", "--target", "/mn-cse2")
    rc, out = s.device("gwdev2", "run")
    assert rc == 0 and "RSC=2001" in out, out
    # a gateway's key is not the enroller's admin key ([bus] admin_keys): mn-cse1 cannot
    # revoke mn-cse2's device (docker/README.md "Who may administer")
    rc, out = s.run(["docker", "exec", s.task("mn-cse1"), "tepctl", "--config",
                     "/etc/tep/cse.ini", "--admin", "tcp://enroller:7103", "enrolee", "revoke",
                     "gwdev2"], cap=60)
    assert rc == 3 and "not a key allowed to administer" in out, out
    _, log = s.run(["docker", "logs", s.task("enroller")], cap=60)
    assert "event=admin_refused" in log and "op=enrolee_revoke" in log, log[-3000:]
    rc, out = s.tepctl("enroller", "enrolee", "show", "gwdev2")
    assert rc == 0 and "STATE=active" in out, out
    rc, out = s.tepctl("enroller", "enrolee", "revoke", "gwdev1")
    assert rc == 0, out
    rc, out = _retry(lambda: s.device("gwdev1", "retrieve", "mn-cse1/Cgwdev1/data"),
                     lambda rc, out: rc == 2, 30)
    assert rc == 2, "gwdev1 still connects to mn-cse1 after its revocation:\n" + out
    want = s.status("enroller", "enroller")["last_seq"]
    for svc in ("cse", "mn-cse1", "mn-cse2"):
        rc, out = _retry(lambda: (0, s.status(svc).get("last_seq", "")),
                         lambda rc, out: out == want, 30)
        assert out == want, "%s at last_seq %s, the enroller at %s" % (svc, out, want)


def test_swarm_stack(tmp_path):
    t_start = time.monotonic()
    s = Swarm(deadline=t_start + TOTAL_BUDGET)
    _, state = s.run(["docker", "info", "-f", "{{.Swarm.LocalNodeState}}"], check=True)
    state = state.strip()
    if state not in ("inactive", "active"):
        pytest.fail("the engine's swarm state is %r: neither off nor a working swarm" % state)
    inited = state == "inactive"
    had_gwbridge = s.run(["docker", "network", "inspect", "docker_gwbridge"])[0] == 0
    try:
        if inited:
            s.run(["docker", "swarm", "init", "--advertise-addr", "127.0.0.1"], check=True)
        _, mgr = s.run(["docker", "info", "-f", "{{.Swarm.ControlAvailable}}"], check=True)
        assert mgr.strip() == "true", "this engine is a swarm worker: a stack needs a manager"
        # pytest runs this module before integration 90 (test_260 < test_90): on a fresh
        # machine the base image is made here
        _ensure_base_image(s)
        s.run(["docker", "build", "-q", "--force-rm", "-t", IMAGE, "--build-arg",
               "BASE=" + BASE_IMAGE, "-f", os.path.join(DOCKER_DIR, "Dockerfile"), ROOT],
              cap=15 * 60, check=True)
        _keep_build_cache(s)
        t_built = time.monotonic()
        rc, out = s.run([STACK_SH, "init", s.stack], cap=180, check=True)
        for secret in ("curve_cse", "curve_pdp2", "ca", "cse_key", "authz_key", "prov_mn-cse1"):
            assert "secret %s_%s" % (s.stack, secret) in out, out
        s.run([STACK_SH, "deploy", s.stack], cap=120, check=True)
        s.healthy(SERVICES)
        # the platform's certificates came as secrets: both daemons run with them
        for svc in ("cse", "authz"):
            _, log = s.run(["docker", "logs", s.task(svc)], check=True)
            assert "event=pki_on cert_file=/run/secrets/cert.pem" in log, log
        _registered(s)
        st = s.status("mn-cse1")
        assert st["cse_type"] == "MN" and st["registrar"] == "/tep-cse registered", st

        # a device behind mn-cse1, an application at the IN-CSE reading it through it
        s.provision("gwdev1", "--target", "/mn-cse1")
        s.provision("device01")
        rc, out = s.device("gwdev1", "run")
        assert rc == 0 and "RSC=2001" in out, out
        rc, out = s.device("device01", "run")
        assert rc == 0, out
        rc, out = s.device("device01", "retrieve", GW_DATA + "/la")
        assert rc == 3 and "4103" in out, out
        rc, out = s.device("gwdev1", "grant", "data", IN_APP)
        assert rc == 0, out
        rc, out = s.device("device01", "retrieve", GW_DATA + "/la")
        assert rc == 0 and "VALUE=hello-tep" in out, out
        # the decisions were spread over both replicas, the writer decided none
        for pdp in ("pdp1", "pdp2"):
            st = s.status(pdp, "authz")
            assert st["authz_role"] == "pdp" and int(st["decisions"]) > 0, st
        st = s.status("authz", "authz")
        assert st["authz_role"] == "all" and int(st["decisions"]) == 0, st

        acked, nacked = _mn_killed_while_writing(s)
        upd = _in_cse_rolling_update(s)
        rc, out = _retry(lambda: s.device("device01", "retrieve", GW_DATA + "/la"),
                         lambda rc, out: rc == 0, 30)
        assert rc == 0, "not served through the IN-CSE after the gateway came back:\n" + out
        _pdp_replica_killed(s)
        _enroller_restarted(s)
        print("swarm stack test: build %.0f s, scenario %.0f s (writes %d acknowledged, %d "
              "refused while mn-cse1 was down; %d and %d during the IN-CSE's update)"
              % (t_built - t_start, time.monotonic() - t_built, acked, nacked, upd[0], upd[1]))
    except BaseException:
        print("\n".join(s.transcript[-25:]))
        for svc in SERVICES:
            cid = s.task(svc)
            if cid:
                print("--- %s\n%s" % (svc, s.run(["docker", "logs", "--tail", "40", cid],
                                                cap=30)[1]))
        raise
    finally:
        s.deadline = time.monotonic() + 240  # cleanup gets its own time
        s.run([STACK_SH, "rm", s.stack, "--purge"], cap=150)
        s.run(["docker", "volume", "rm", "-f", s.devices], cap=30)
        if inited:
            s.run(["docker", "swarm", "leave", "--force"], cap=60)
            if not had_gwbridge:  # swarm init made it; leave does not remove it
                s.run(["docker", "network", "rm", "docker_gwbridge"], cap=30)
            _, after = s.run(["docker", "info", "-f", "{{.Swarm.LocalNodeState}}"])
            assert after.strip() == "inactive", "swarm mode not left: %s" % after
