"""90: the whole platform under docker-compose, built without any image registry
(docker/README.md). The device path across containers: enrolment (TS-0003 8.3.2.1,
DTLS-PSK with Kpm), the PSK security association with the registrar CSE (8.2.2.1),
AE registration and data; tep-cse's and tep-authz's own certificates from the tep CA
(one-shot "pki") and a device over the certificate SAEF (8.2.2.2: certificate enrolment,
ECDHE-ECDSA, AE registration and data); a second device denied by access control (7.1,
4103); tep-cse's plain CoAP, which trusts the admin originator, out of reach of the other
containers on the compose network (a request as CAdmin from one gets no answer; the same
datagram inside the cse container is answered); the PDP's container stopped -> Deny (fail closed, 7.1), served again once it is
back; every container restarted -> enrolments, keys and resources still there (each
daemon's data in its own volume, CURVE bus keys kept); "down" and a second "up" -> the
platform certificates reused, both SAEFs work again. The gateways (issue 14 item 7):
two MN-CSEs registered to the IN-CSE over DTLS-PSK with their own enrolment's Kpsa
(TS-0001 10.2.2.6, TS-0003 8.2.2.1 with the CSE as Entity A), a device enrolled for each
(--target) stores data there; an application at the IN-CSE reads it through the IN-CSE,
access decided at the hosting MN-CSE (TS-0001 8.2.1, TS-0003 7.1.2: 4103, then 2000 once
the device grants it); both registered again after every restart; last, one gateway's
enrolment revoked (TS-0003 10.7): every path through it 5103, the other gateway served.
Then "compose down -v", even on failure.

Skipped only where no Docker engine answers. The base image tep-base:bookworm is made
with docker/make-base.sh (debootstrap + docker import) when missing, and kept, as are
the built image tep:ci and its builder stage tep:ci-builder (the build cache of the next
run; superseded tep images are pruned). Time: about 8 min from nothing on 2 cores
(base image 1.5 min, build 4 min, scenario 2.7); when the programs' sources did not change (the
builder stage copies only them) the build is cached and the scenario takes about 2.7
min."""

import os
import re
import shutil
import subprocess
import time

import pytest

import coapmsg
import harness

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCKER_DIR = os.path.join(ROOT, "docker")
COMPOSE_FILE = os.path.join(DOCKER_DIR, "docker-compose.yml")
BASE_IMAGE = os.environ.get("TEP_DOCKER_BASE", "tep-base:bookworm")
IMAGE = os.environ.get("TEP_DOCKER_IMAGE", "tep:ci")
TOTAL_BUDGET = 25 * 60  # seconds, everything included
CSE = "tep-cse"
DATA = CSE + "/Cdevice01/data"
CERT_DEVICE = "certdevice01"
# tep-entrypoint's lines about the platform certificates (docker/entrypoint.sh "pki")
PKI_LINE = re.compile(r"pki: (tep-cse|tep-maf): (issued|reusing) \S+ \(serial=([0-9A-F]+) ")
CERT_BOUND = re.compile(r"event=session_bound identity=cert:[0-9a-f]+ enrolee_id=C" + CERT_DEVICE)


def _docker_engine_missing():
    """Why no Docker engine can be used here, or None when `docker info` answers. (With
    CI=true `./tep test` counts the skip this gives as a failure: the README's set-up
    is a machine with Docker.)"""
    if not shutil.which("docker"):
        return "no docker command"
    try:
        r = subprocess.run(["docker", "info"], capture_output=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        return "`docker info` did not answer: %s" % e
    if r.returncode != 0:
        return "`docker info` failed: %s" % r.stderr.decode(errors="replace").strip()[:200]
    return None


_MISSING = _docker_engine_missing()
pytestmark = pytest.mark.skipif(_MISSING is not None,
                                reason="no Docker engine answers here (%s)" % _MISSING)


def _compose_command():
    """`docker compose` (v2 plugin) when present, else the standalone docker-compose."""
    r = subprocess.run(["docker", "compose", "version"], capture_output=True)
    if r.returncode == 0:
        return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    pytest.fail("a Docker engine runs but neither `docker compose` nor docker-compose exists")


class Compose:
    """One compose project with a unique name, every call bounded by the test's budget."""

    def __init__(self, deadline):
        self.deadline = deadline
        self.cmd = _compose_command()
        self.project = "tep90x%d" % os.getpid()
        coaps, mef, maf, mn1, mn2 = harness.free_udp_ports(5)
        self.env = dict(os.environ, TEP_BASE=BASE_IMAGE, TEP_IMAGE=IMAGE, TEP_BIND="127.0.0.1",
                        TEP_PORT_CSE_COAPS=str(coaps), TEP_PORT_MN1_COAPS=str(mn1),
                        TEP_PORT_MN2_COAPS=str(mn2),
                        TEP_PORT_ENROLLER_COAPS=str(mef), TEP_PORT_AUTHZ_COAPS=str(maf),
                        TEP_PORT_BSF_UB=str(harness.free_tcp_port()),
                        TEP_CERT_DEVICE=CERT_DEVICE, COMPOSE_PROJECT_NAME=self.project)
        self.transcript = []

    def left(self, cap):
        return max(1.0, min(cap, self.deadline - time.monotonic()))

    def run(self, argv, cap=120, check=False):
        t0 = time.monotonic()
        try:
            r = subprocess.run(argv, cwd=DOCKER_DIR, env=self.env, capture_output=True,
                               text=True, timeout=self.left(cap))
        except subprocess.TimeoutExpired as e:
            raise AssertionError("timed out after %.0f s: %s" % (time.monotonic() - t0,
                                                                  " ".join(argv))) from e
        out = r.stdout + r.stderr
        self.transcript.append("$ %s  (rc=%d, %.1f s)\n%s" % (" ".join(argv), r.returncode,
                                                             time.monotonic() - t0, out[-3000:]))
        if check:
            assert r.returncode == 0, "%s failed (rc=%d):\n%s" % (" ".join(argv),
                                                                 r.returncode, out[-4000:])
        return r.returncode, out

    def compose(self, *args, cap=120, check=False):
        return self.run(self.cmd + ["-p", self.project, "-f", COMPOSE_FILE] + list(args),
                        cap=cap, check=check)

    def container(self, service):
        _, out = self.compose("ps", "-q", service, check=True)
        ids = out.split()
        assert ids, "no container for service %s" % service
        return ids[0]

    def inspect(self, cid, fmt):
        return self.run(["docker", "inspect", "-f", fmt, cid], cap=30)[1].strip()

    def wait_healthy(self, services, cap=120):
        end = time.monotonic() + self.left(cap)
        pending = list(services)
        while pending and time.monotonic() < end:
            pending = [s for s in pending
                       if self.inspect(self.container(s), "{{.State.Health.Status}}") != "healthy"]
            if pending:
                time.sleep(1)
        assert not pending, "not healthy in time: %s" % ", ".join(pending)

    def wait_exit(self, service, cap=120):
        cid = self.container(service)
        end = time.monotonic() + self.left(cap)
        while self.inspect(cid, "{{.State.Status}}") != "exited":
            assert time.monotonic() < end, "%s did not finish in time" % service
            time.sleep(1)
        return int(self.inspect(cid, "{{.State.ExitCode}}"))

    def device(self, name, *command):
        """tep-device NAME COMMAND in a fresh container of the device service."""
        return self.compose("run", "--rm", "--no-deps", "-T", "device", "device", name,
                            *command, cap=90)

    def tepctl(self, *args):
        """tepctl in the enroller's container, against its admin socket (CURVE-tcp)."""
        return self.compose("exec", "-T", "enroller", "tep-entrypoint", "tepctl", *args,
                            cap=60)

    def status(self, service):
        """`tepctl status` of the tep-cse in service's container (IN-CSE or MN-CSE) as a
        dict."""
        rc, out = self.compose("exec", "-T", service, "tep-entrypoint", "tepctl", "status",
                               "cse", cap=60)
        assert rc == 0, out
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def logs(self, *services, tail="60"):
        return self.compose("logs", "--no-color", "--tail", tail, *services, cap=60)[1]


def _ensure_base_image(c):
    rc, _ = c.run(["docker", "image", "inspect", "-f", "{{.Id}}", BASE_IMAGE], cap=30)
    if rc == 0:
        return
    if os.geteuid() != 0 or not shutil.which("debootstrap"):
        pytest.fail("%s is missing and cannot be made here: docker/make-base.sh needs root "
                    "and debootstrap (./tep deps installs it)" % BASE_IMAGE)
    c.run([os.path.join(DOCKER_DIR, "make-base.sh"), BASE_IMAGE], cap=600, check=True)


def _keep_build_cache(c):
    """The builder stage's image is the cache of the next build: tag it (a rebuild of an
    unchanged tree, all cached) and drop the untagged tep images it supersedes."""
    c.run(["docker", "build", "-q", "--force-rm", "--target", "builder",
           "-t", IMAGE + "-builder", "--build-arg", "BASE=" + BASE_IMAGE,
           "-f", os.path.join(DOCKER_DIR, "Dockerfile"), ROOT], cap=15 * 60, check=True)
    # "until": never an image of a build running right now (its last step is untagged)
    c.run(["docker", "image", "prune", "-f", "--filter", "label=org.tep.stage",
           "--filter", "until=30m"], cap=120)


def _enrol_from_outside(c, tmp_path):
    """README "Enrolling a real device from outside": tepctl through compose exec, the
    provisioning file copied out, the device enrols through the published CoAPS port."""
    mef = "coaps://127.0.0.1:%s" % c.env["TEP_PORT_ENROLLER_COAPS"]
    inside = "/var/lib/tep/enroller/outside01.prov"
    rc, out = c.tepctl("enrolee", "add", "outside01", "--mef-uri", mef, "--out", inside)
    assert rc == 0, out
    prov = str(tmp_path / "outside01.prov")
    c.run(["docker", "cp", "%s:%s" % (c.container("enroller"), inside), prov], check=True)
    c.compose("exec", "-T", "enroller", "rm", inside, check=True)
    r = subprocess.run([harness.binary("tep-device"), "--provisioning", prov, "--state",
                        str(tmp_path / "outside01.state"), "enrol"],
                       capture_output=True, text=True, timeout=c.left(60))
    assert r.returncode == 0 and "KE_ID=" in r.stdout, r.stdout + r.stderr


def _platform_certificates(c, how):
    """The one-shot pki service ran: tep-cse's and the MAF's certificates were HOW
    ("issued" or "reusing"); {name: serial}. Both daemons started with them."""
    assert c.wait_exit("pki") == 0, c.logs("pki")
    log = c.logs("pki", tail="all")
    found = {m.group(1): m.group(3) for m in PKI_LINE.finditer(log) if m.group(2) == how}
    assert set(found) == {"tep-cse", "tep-maf"}, "pki did not say %s for both:\n%s" % (how, log)
    for service in ("cse", "authz"):
        log = c.logs(service, tail="all")
        assert "event=pki_on cert_file=/var/lib/tep/cert/cert.pem" in log, log
    return found


def _cert_device_ran(c):
    """The device-cert one-shot: cert (or its certificate reused), then cert-run
    registered and wrote over the certificate SAEF; tep-cse bound that session to it."""
    assert c.wait_exit("device-cert") == 0, c.logs("device-cert", "cse")
    _, log = c.compose("logs", "--no-color", "device-cert", check=True)
    assert "AE_ID=C" + CERT_DEVICE in log and "RSC=2001" in log, log
    log = c.logs("cse", tail="all")
    assert CERT_BOUND.search(log), "no certificate session in tep-cse's log:\n" + log


# A plain CoAP RETRIEVE of the CSEBase as the admin originator (TS-0008 binding), sent
# by bash's /dev/udp from inside a container; whatever comes back within 3 s, printable
# bytes only.
ADMIN_GET = coapmsg.onem2m_request(coapmsg.GET, CSE, "CAdmin", rqi="compose-admin")
UDP_SCRIPT = ('exec 3<>/dev/udp/"$0"/5683 || exit 9; printf %%b \'%s\' >&3; '
              'timeout 3 cat <&3 | tr -c "[:print:]" "."' % "".join(
                  "\\x%02x" % b for b in ADMIN_GET))


def _plain_coap_admin_unreachable(c):
    """docker/README.md "Plain CoAP": from another container on the compose network a
    request as the admin originator gets no answer and reaches no handler; inside the cse
    container (its loopback) the same datagram is answered with the CSEBase."""
    rc, out = c.compose("run", "--rm", "--no-deps", "-T", "--entrypoint", "bash", "device",
                        "-c", UDP_SCRIPT, "cse", cap=60)
    assert "m2m:cb" not in out and "compose-admin" not in out, out
    assert "originator=CAdmin" not in c.logs("cse", tail="all")
    rc, out = c.compose("exec", "-T", "cse", "bash", "-c", UDP_SCRIPT, "127.0.0.1", cap=60)
    assert "m2m:cb" in out, "the datagram is not answered even inside the cse container " \
        "(rc=%d):\n%s" % (rc, out)
    assert "originator=CAdmin secure=0" in c.logs("cse", tail="all")


# The gateways (docker/README.md "Gateways"): MN-CSE service -> the device behind it.
GATEWAYS = {"mn-cse1": "gwdev1", "mn-cse2": "gwdev2"}
IN_APP = "/tep-cse/Cdevice01"  # device01, registered at the IN-CSE: the IN-side application


def _gw_data(mn):
    """The latest reading of the device behind gateway mn, as an IN-side application
    addresses it at the IN-CSE (SP-relative: ~/<csi>/<CSEBase>/...)."""
    return "~/%s/%s/C%s/data/la" % (mn, mn, GATEWAYS[mn])


def _gateways_registered(c, cap=90):
    """Both MN-CSEs are registered at the IN-CSE with a live DTLS session (`:sa`) and
    say so themselves."""
    end = time.monotonic() + c.left(cap)
    want = {"/%s:sa" % mn for mn in GATEWAYS}
    while True:
        st = c.status("cse")
        have = set(st.get("registered_cses", "").split(","))
        if want <= have or time.monotonic() > end:
            break
        time.sleep(2)
    assert want <= have, "gateways not registered at the IN-CSE: %s" % st
    for mn in GATEWAYS:
        st = c.status(mn)
        assert st.get("cse_type") == "MN" and st.get("registrar") == "/tep-cse registered", st


def _gateway_devices(c):
    """Each gateway's device, enrolled for it, stored its reading there (one-shot)."""
    for mn, dev in GATEWAYS.items():
        service = "gw-device" + mn[-1]
        assert c.wait_exit(service) == 0, c.logs(service, mn)
        _, log = c.compose("logs", "--no-color", service, check=True)
        for key in ("KPSA_ID=", "AE_ID=C" + dev, "RSC=2001", "VALUE=hello-tep"):
            assert key in log, "%s log lacks %s:\n%s" % (service, key, log)
    rc, out = c.tepctl("enrolee", "list")
    assert rc == 0, out
    rows = {line.split()[1]: line.split() for line in out.splitlines() if len(line.split()) > 5}
    for mn, dev in GATEWAYS.items():
        assert rows.get("C" + dev, [""])[-1] == "/" + mn, out  # TARGET: its gateway
        assert "/" + mn in rows, out  # the gateway itself, Enrolee-ID = its CSE-ID


def _gateway_key_cannot_administer(c):
    """A gateway's CURVE key is admitted on the bus but is not in the enroller's [bus]
    admin_keys (docker/README.md "Who may administer"): mn-cse1 revoking mn-cse2's device
    is refused and logged, gwdev2 stays enrolled; the operator's tepctl is answered."""
    rc, out = c.compose("exec", "-T", "mn-cse1", "tepctl", "--config", "/etc/tep/cse.ini",
                        "--admin", "tcp://enroller:7103", "enrolee", "revoke", "gwdev2",
                        cap=60)
    assert rc == 3 and "not a key allowed to administer" in out, out
    rc, key = c.compose("exec", "-T", "mn-cse1", "cat", "/var/lib/tep/bus-keys/mn-cse1.pub",
                        cap=30)
    assert rc == 0 and len(key.strip()) == 40, key
    assert ("event=admin_refused peer_key=%s op=enrolee_revoke" % key.strip()[:8]
            in c.logs("enroller", tail="all"))
    rc, out = c.tepctl("enrolee", "show", "gwdev2")
    assert rc == 0 and "STATE=active" in out, out


def _in_app_reads_through_the_in_cse(c):
    """device01 at the IN-CSE reads gwdev1's data through the IN-CSE, forwarded to
    mn-cse1 over its DTLS association; mn-cse1, the hosting CSE, decides: 4103 until
    gwdev1 (the creator) grants device01 Retrieve, then 2000; device02 still 4103."""
    rc, out = c.device("device01", "retrieve", _gw_data("mn-cse1"))
    assert _denied(rc, out), out
    assert "originator=" + IN_APP in c.logs("mn-cse1", tail="all")  # decided there
    rc, out = c.device("gwdev1", "grant", "data", IN_APP)
    assert rc == 0 and "ACP_RI=" in out, out
    rc, out = c.device("device01", "retrieve", _gw_data("mn-cse1"))
    assert _served(rc, out) and "VALUE=hello-tep" in out, out
    rc, out = c.device("device02", "retrieve", _gw_data("mn-cse1"))
    assert _denied(rc, out), out
    rc, out = c.device("device01", "retrieve", _gw_data("mn-cse2"))
    assert _denied(rc, out), out  # gwdev2 granted nothing yet
    rc, out = c.device("gwdev2", "grant", "data", IN_APP)
    assert rc == 0, out
    rc, out = c.device("device01", "retrieve", _gw_data("mn-cse2"))
    assert _served(rc, out), out
    # ... and the other way: a gateway's device addressing the IN-CSE, decided there
    rc, out = c.device("gwdev1", "retrieve", "~/tep-cse/" + DATA)
    assert _denied(rc, out), out


def _through_gateways(c):
    """After a restart: both gateways registered again, device01 served through each."""
    _gateways_registered(c)
    for mn in GATEWAYS:
        rc, out = _retry(c, "served", lambda: c.device("device01", "retrieve", _gw_data(mn)),
                         _served)
        assert _served(rc, out), "%s's device not reachable after the restart:\n%s" % (mn, out)


def _revoked_gateway_cut_off(c):
    """The operator revokes mn-cse1's enrolment: the IN-CSE closes its session, every
    path through it is cut (device01 -> gwdev1: 5103; gwdev1 -> the IN-CSE: 5103), while
    mn-cse2 and its device are served as before."""
    rc, out = c.tepctl("enrolee", "revoke", "mn-cse1")
    assert rc == 0, out
    rc, out = _retry(c, "cut", lambda: c.device("device01", "retrieve", _gw_data("mn-cse1")),
                     lambda rc, out: rc == 3 and "5103" in out, cap=20)
    assert rc == 3 and "5103" in out, "device01 still reaches the revoked gateway:\n" + out
    assert "event=session_closed" in c.logs("cse", tail="all")
    rc, out = c.device("gwdev1", "retrieve", "~/tep-cse/" + DATA)
    assert rc == 3 and "5103" in out, out
    st = c.status("cse")
    assert "/mn-cse1:sa" not in st["registered_cses"].split(","), st
    rc, out = c.device("device01", "retrieve", _gw_data("mn-cse2"))
    assert _served(rc, out), out


def _served(rc, out):
    return rc == 0 and "RSC=2000" in out


def _denied(rc, out):
    return rc == 3 and "4103" in out


def _retry(c, what, fn, ok, cap=60):
    end = time.monotonic() + c.left(cap)
    while True:
        rc, out = fn()
        if ok(rc, out) or time.monotonic() > end:
            return rc, out
        time.sleep(2)


def test_compose_platform_end_to_end(tmp_path):
    t_start = time.monotonic()
    c = Compose(deadline=t_start + TOTAL_BUDGET)
    try:
        _ensure_base_image(c)
        c.compose("build", "--force-rm", cap=20 * 60, check=True)
        _keep_build_cache(c)
        t_built = time.monotonic()
        c.compose("up", "-d", cap=300, check=True)
        c.wait_healthy(["enroller", "authz", "cse"] + list(GATEWAYS))

        # The demo device: enrolled, associated, registered and wrote data on its own.
        assert c.wait_exit("provision") == 0, c.logs()
        assert c.wait_exit("device") == 0, c.logs()
        _, log = c.compose("logs", "--no-color", "device", check=True)
        for key in ("KE_ID=", "KPSA_ID=", "AE_ID=Cdevice01"):
            assert key in log, "device log lacks %s:\n%s" % (key, log)

        # tep-cse and tep-authz run with their certificates from the tep CA; the key is
        # the image user's, 0600, on a volume they mount read-only.
        serials = _platform_certificates(c, "issued")
        for service in ("cse", "authz"):
            rc, out = c.compose("exec", "-T", service, "stat", "-c", "%a %u",
                                "/var/lib/tep/cert/key.pem", cap=30)
            assert rc == 0 and out.split() == ["600", "10001"], out
            rc, out = c.compose("exec", "-T", service, "touch", "/var/lib/tep/cert/x", cap=30)
            assert rc != 0 and "Read-only file system" in out, out
        # The second demo device: its certificate, then the certificate SAEF.
        _cert_device_ran(c)

        # ... and reads its data back from another container.
        rc, out = c.device("device01", "retrieve", DATA)
        assert _served(rc, out), out

        # A second device, provisioned through the one-shot service, is denied (4103).
        rc, out = c.compose("run", "--rm", "--no-deps", "-T", "provision", "provision",
                            "device02", cap=60)
        assert rc == 0, out
        for step in (("enrol",), ("register",)):
            rc, out = c.device("device02", *step)
            assert rc == 0, out
        rc, out = c.device("device02", "retrieve", DATA)
        assert _denied(rc, out), out

        # The gateways: registered at the IN-CSE, a device behind each, an IN-side
        # application reading through the IN-CSE with access decided at the gateway.
        t_gw = time.monotonic()
        _gateways_registered(c)
        _gateway_devices(c)
        _gateway_key_cannot_administer(c)
        _in_app_reads_through_the_in_cse(c)
        gw_secs = time.monotonic() - t_gw

        _enrol_from_outside(c, tmp_path)
        _plain_coap_admin_unreachable(c)

        # tep-authz's container stopped: the CSE cannot get a decision -> Deny.
        c.compose("stop", "authz", cap=60, check=True)
        rc, out = c.device("device01", "retrieve", DATA)
        assert _denied(rc, out), "not fail-closed without tep-authz:\n" + out
        c.compose("start", "authz", cap=60, check=True)
        c.wait_healthy(["authz"])
        rc, out = _retry(c, "served", lambda: c.device("device01", "retrieve", DATA), _served)
        assert _served(rc, out), "not served after tep-authz came back:\n" + out

        # Every container restarted: state lives in the volumes.
        c.compose("restart", cap=180, check=True)
        c.wait_healthy(["enroller", "authz", "cse"] + list(GATEWAYS))
        rc, out = c.tepctl("enrolee", "list")
        assert rc == 0 and "device01" in out and "device02" in out, out
        rc, out = _retry(c, "served", lambda: c.device("device01", "retrieve", DATA), _served)
        assert _served(rc, out), "device01's data or keys lost in the restart:\n" + out
        rc, out = c.device("device02", "retrieve", DATA)
        assert _denied(rc, out), out
        _through_gateways(c)

        # "down" and a second "up": the platform certificates are reused (the enrolees
        # exist already), the daemons start with them, both SAEFs work.
        c.compose("down", "--timeout", "5", cap=120, check=True)
        c.compose("up", "-d", cap=300, check=True)
        c.wait_healthy(["enroller", "authz", "cse"] + list(GATEWAYS))
        assert _platform_certificates(c, "reusing") == serials
        _cert_device_ran(c)
        assert c.wait_exit("device") == 0, c.logs("device")
        rc, out = c.device("device01", "retrieve", DATA)
        assert _served(rc, out), out
        _through_gateways(c)

        # Last: a gateway's enrolment revoked.
        _revoked_gateway_cut_off(c)
        print("docker compose test: build %.0f s, scenario %.0f s (gateway steps %.0f s)"
              % (t_built - t_start, time.monotonic() - t_built, gw_secs))
    except BaseException:
        print("\n".join(c.transcript[-30:]))
        try:
            print(c.logs())
        except Exception:  # noqa: BLE001 - the original failure matters more
            pass
        raise
    finally:
        c.deadline = time.monotonic() + 180  # cleanup gets its own time
        c.compose("down", "-v", "--remove-orphans", "--timeout", "5", cap=180)
