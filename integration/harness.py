"""Black-box harness for the integration scenarios: real daemons on free loopback ports,
a temporary run directory configured by tepenv.py, logs captured to files, and helpers
to drive `tepctl` and `tep-device` and read their KEY=value output.

The build directory comes from TEP_BUILD_DIR (default: <repo>/build)."""

import base64
import contextlib
import ctypes
import datetime
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time

import tepenv

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.abspath(os.environ.get("TEP_BUILD_DIR", os.path.join(ROOT, "build")))

BINARIES = {
    "enroller": "enroller/tep-enroller",
    "authz": "authz/tep-authz",
    "cse": "cse-node/tep-cse",
    "tepctl": "tools/tepctl",
    "tep-device": "ae-sdk/examples/tep-device",
    "bsf": "bsf/tep-bsf",
}

READY_TIMEOUT = 15.0
# tep-cse's decision deadline in the scenarios. A late decision is a Deny (4103) and the
# PDP then counts as down for a deadline: on a loaded 2-core CI machine a remote decision
# can take longer than the daemons' default 500 ms, which would fail closed scenarios that
# expect a Permit, for the wrong reason. Only the scenarios about the deadline (06, 43)
# set a short one, explicitly.
FUNCTIONAL_DEADLINE_MS = 5000
STOP_TIMEOUT = 10.0
TOOL_TIMEOUT = 30.0

_KV = re.compile(r"^([A-Za-z_][A-Za-z0-9_.-]*)=(.*)$")

# What ASan, UBSan and LeakSanitizer print (the ASan+UBSan build of `./tep test`; the
# tep script sets exit code 86 for a report). Any of them in a daemon's log or a tool's
# output fails the scenario, whatever the scenario asserts.
SANITIZER_REPORT = re.compile(r"runtime error:|ERROR: (Address|Leak)Sanitizer|"
                              r"SUMMARY: (Address|UndefinedBehavior|Leak)Sanitizer")
SANITIZER_EXIT_CODE = 86


def assert_no_sanitizer_report(what, text, rc=None):
    m = SANITIZER_REPORT.search(text)
    assert m is None and rc != SANITIZER_EXIT_CODE, "%s: sanitizer report (exit %s):\n%s" % (
        what, rc, text[max(0, (m.start() if m else len(text)) - 2000):][:8000])


_PRCTL = ctypes.CDLL(None, use_errno=True).prctl  # resolved here, not in a forked child
_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the daemon's child before exec: SIGTERM when the test process dies (a killed or
    crashed pytest must not leave daemons behind; Linux prctl PR_SET_PDEATHSIG). Only a
    call: nothing imported or looked up after the fork."""
    _PRCTL(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def binary(name):
    path = os.path.join(BUILD, BINARIES[name])
    assert os.access(path, os.X_OK), "%s is not built (TEP_BUILD_DIR=%s)" % (path, BUILD)
    return path


def parse_kv(text):
    """KEY=value lines -> dict (keys as printed; a key seen twice keeps the last value)."""
    out = {}
    for line in text.splitlines():
        m = _KV.match(line.strip())
        if m:
            out[m.group(1)] = m.group(2)
    return out


def free_udp_ports(n, kind=socket.SOCK_DGRAM):
    """n distinct UDP (or, with kind SOCK_STREAM, TCP) ports that are free on 127.0.0.1
    right now."""
    socks, ports = [], []
    try:
        while len(ports) < n:
            s = socket.socket(socket.AF_INET, kind)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def free_tcp_port():
    """A TCP port free on 127.0.0.1 right now (tep-bsf's Ub interface is HTTP)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Result:
    """Outcome of one tool run: rc, stdout, stderr, kv (parsed KEY=value of stdout)."""

    def __init__(self, argv, rc, out, err, elapsed):
        self.argv, self.rc, self.out, self.err, self.elapsed = argv, rc, out, err, elapsed
        self.kv = parse_kv(out)

    def get(self, *names):
        """First of names present in kv, case-insensitively; None if none."""
        lower = {k.lower(): v for k, v in self.kv.items()}
        for n in names:
            if n.lower() in lower:
                return lower[n.lower()]
        return None

    @property
    def rsc(self):
        v = self.get("rsc")
        return int(v) if v and v.isdigit() else None

    def __str__(self):
        return "$ %s\nexit %s (%.2fs)\n--- stdout\n%s--- stderr\n%s" % (
            " ".join(self.argv), self.rc, self.elapsed, self.out, self.err)


def run_tool(argv, timeout=TOOL_TIMEOUT):
    t0 = time.monotonic()
    p = subprocess.run(argv, stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       timeout=timeout, errors="replace")
    assert_no_sanitizer_report("$ " + " ".join(argv), p.stdout + p.stderr, p.returncode)
    return Result(argv, p.returncode, p.stdout, p.stderr, time.monotonic() - t0)


class Daemon:
    def __init__(self, platform, name, program=None, config=None):
        """program: the BINARIES key (default: name); config: its ini (default: the
        platform's <name>.ini). Another tep-cse of a platform is Daemon(p, "mn1", "cse",
        path)."""
        self.platform, self.name = platform, name
        self.program = program or name
        self.config = config
        self.log_path = os.path.join(platform.dir, "logs", name + ".log")
        self.proc = None
        self._log_start = 0

    def start(self):
        assert self.proc is None or self.proc.poll() is not None, self.name + " running"
        self._log_start = os.path.getsize(self.log_path) if os.path.exists(self.log_path) else 0
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [binary(self.program), "--config",
                 self.config or tepenv.config_path(self.platform.dir, self.name)],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            log.close()
        self.wait_log("event=ready", READY_TIMEOUT)

    def log(self, since_start=True):
        """This daemon's log (since its last start by default)."""
        try:
            with open(self.log_path, "rb") as f:
                f.seek(self._log_start if since_start else 0)
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def tail(self, n=30):
        return "\n".join(self.log().splitlines()[-n:])

    def wait_log(self, pattern, timeout):
        """Waits until a line of the log since start matches the regex pattern."""
        rx = re.compile(pattern)
        deadline = time.monotonic() + timeout
        while True:
            if any(rx.search(line) for line in self.log().splitlines()):
                return
            if self.proc.poll() is not None:
                raise AssertionError("%s exited with %s before '%s'; log:\n%s"
                                     % (self.name, self.proc.returncode, pattern, self.tail()))
            if time.monotonic() > deadline:
                raise AssertionError("%s: no '%s' within %.0f s; log:\n%s"
                                     % (self.name, pattern, timeout, self.tail()))
            time.sleep(0.05)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=STOP_TIMEOUT, check=True):
        """SIGTERM; returns the exit code (kills and raises after timeout). With check
        (the default) a daemon that did not exit 0, or whose log since its start holds a
        sanitizer report, raises."""
        code = self._stop(timeout)
        if check and code is not None:
            self.assert_clean(code)
        return code

    def assert_clean(self, code):
        assert code == 0, "%s exited with %s after SIGTERM; log:\n%s" % (
            self.name, code, self.tail())
        assert_no_sanitizer_report(self.name + " log", self.log())

    def _stop(self, timeout):
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
                raise AssertionError("%s did not stop within %.0f s after SIGTERM; log:\n%s"
                                     % (self.name, timeout, self.tail()))
        return self.proc.returncode

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()


class Device:
    """A device: its provisioning file (from tepctl) and state file (from the SDK)."""

    def __init__(self, platform, name):
        self.platform, self.name = platform, name
        self.prov = os.path.join(platform.dir, name + ".prov")
        self.state = os.path.join(platform.dir, name + ".state")

    def run(self, *args, from_=None, timeout=TOOL_TIMEOUT):
        argv = [binary("tep-device"), "--provisioning", self.prov, "--state", self.state]
        if from_ is not None:
            argv += ["--from", from_]
        return run_tool(argv + list(args), timeout)

    def state_values(self):
        """The [enrolment] keys of the state file as a dict."""
        out = {}
        with open(self.state) as f:
            for line in f:
                if "=" in line and not line.lstrip().startswith((";", "#", "[")):
                    k, v = line.split("=", 1)
                    out[k.strip()] = v.strip()
        return out


class Platform:
    """The three daemons on free ports in a temporary run directory. settings: tepenv
    overrides (tepenv.DEFAULTS keys); deadline_ms defaults to FUNCTIONAL_DEADLINE_MS.
    bsf=True adds tep-bsf (GBA) on a free TCP port, started first."""

    ORDER = ("enroller", "authz", "cse")

    def __init__(self, bsf=False, **settings):
        # Short path under /tmp: ipc:// socket paths are limited to 107 bytes.
        self.dir = tempfile.mkdtemp(prefix="tep-it-")
        p = free_udp_ports(3)
        self.ports = {"enroller_coaps": p[0], "cse_coap": p[1], "cse_coaps": p[2]}
        self.order = self.ORDER
        if bsf:
            self.ports["bsf_ub"] = free_tcp_port()
            self.order = ("bsf",) + self.ORDER
        self.settings = dict({"deadline_ms": FUNCTIONAL_DEADLINE_MS}, **settings)
        self.env = tepenv.configure(self.dir, self.ports, **self.settings)
        self.daemons = {n: Daemon(self, n) for n in self.order}

    def __getitem__(self, name):
        return self.daemons[name]

    def configure(self, **overrides):
        """Writes the configs again (for the next start of each daemon): this platform's
        settings with overrides, on self.ports as they are now; returns self.env."""
        self.env = tepenv.configure(self.dir, self.ports, **dict(self.settings, **overrides))
        return self.env

    def start(self):
        """Starts the daemons in order; if one does not come up, kills those that did
        (whoever made the platform may not get to its cleanup) and re-raises."""
        try:
            for n in self.order:
                self.daemons[n].start()
        except BaseException:
            for d in self.daemons.values():
                d.kill()
            raise

    def stop(self):
        """Stops all in reverse order; returns {name: exit code} (not checked: see
        assert_clean_stop)."""
        return {n: self.daemons[n].stop(check=False) for n in reversed(self.order)}

    def assert_clean_stop(self):
        """Stops all; each must exit 0 with no sanitizer report in its log."""
        codes = self.stop()
        bad = {n: c for n, c in codes.items() if c not in (0, None)}
        assert not bad, "unclean exit %s; logs:\n%s" % (bad, "\n".join(
            "--- %s\n%s" % (n, self.daemons[n].tail()) for n in bad))
        for n, d in self.daemons.items():
            assert_no_sanitizer_report(n + " log", d.log(since_start=False))

    def cleanup(self, keep=False):
        """Kills what still runs; removes the run directory unless keep."""
        for d in self.daemons.values():
            d.kill()
        if keep:
            print("tep run directory kept: " + self.dir)
        else:
            shutil.rmtree(self.dir, ignore_errors=True)

    def logs(self):
        return "\n".join("--- %s\n%s" % (n, d.tail()) for n, d in self.daemons.items())

    # ------------------------------------------------------------ tools

    def tepctl(self, *args, admin="enroller"):
        argv = [binary("tepctl"), "--admin", self.env[admin.upper() + "_ADMIN"]]
        return run_tool(argv + list(args))

    def status(self, daemon):
        """tepctl status DAEMON at DAEMON's admin socket: its KEY=value lines as a dict."""
        r = self.tepctl("status", daemon, admin=daemon)
        assert r.rc == 0, str(r)
        return r.kv

    def audit_lines(self, originator, last=100):
        """tep-authz's audit records of originator (tepctl audit), one line each."""
        r = self.tepctl("audit", "--originator", originator, "--last", str(last), admin="authz")
        assert r.rc == 0, str(r)
        return r.out.splitlines()

    def device(self, name):
        return Device(self, name)

    def add_cse(self, name, cse_id, cse_type="MN", registrar=None, **kw):
        """Another tep-cse on free ports (integration 140-169): an MN-CSE registering to
        registrar ({"cse_id", "cse_name", "poa", "provisioning", "state"}), or an IN-CSE.
        Returns its Daemon (not started) with .coap/.coaps URIs and .cse_id/.cse_name;
        the platform's cleanup kills it."""
        coap, coaps = free_udp_ports(2)
        cse_name = kw.pop("cse_name", cse_id.lstrip("/"))  # as the SDK assumes
        path = tepenv.configure_extra_cse(self.dir, name, cse_id, cse_name, coap, coaps,
                                          cse_type, registrar, **kw)
        d = Daemon(self, name, "cse", path)
        d.coap, d.coaps = "coap://127.0.0.1:%d" % coap, "coaps://127.0.0.1:%d" % coaps
        d.cse_id, d.cse_name = cse_id, cse_name
        self.daemons[name] = d
        return d

    def mn_registrar(self, name, parent=None, check_s=1, credential=None):
        """The [registrar] of an MN-CSE registering over DTLS-PSK (Kpsa) to this
        platform's IN-CSE (or to the MN-CSE parent, a Daemon of add_cse): enrolee NAME
        provisioned with its CSE-ID as Enrolee-ID; the registration checked every
        check_s seconds. credential: [registrar] credential (kpsa, cert, maf; None: the
        default, kpsa)."""
        reg = {"cse_id": self.env["CSE_ID"], "cse_name": self.env["CSE_NAME"],
               "poa": self.env["CSE_COAPS"]}
        if parent is not None:
            reg = {"cse_id": parent.cse_id, "cse_name": parent.cse_name, "poa": parent.coaps}
        return dict(reg, provisioning=os.path.join(self.dir, name + ".prov"),
                    state=os.path.join(self.dir, name + ".state"), check_s=str(check_s),
                    credential=credential)

    def add_enrolee(self, name, *extra):
        """tepctl enrolee add NAME ... --out <dir>/NAME.prov; returns the Device."""
        dev = self.device(name)
        r = self.tepctl("enrolee", "add", name, "--mef-uri", self.env["ENROLLER_COAPS"],
                        "--mef-fqdn", self.env["MEF_FQDN"], *extra, "--out", dev.prov)
        assert r.rc == 0, str(r)
        return dev

    def enrolled_device(self, name, argv_safe_psk=False):
        """A device that is provisioned, enrolled and registered as an AE; argv_safe_psk:
        enrolled until its Kpsa has no NUL byte (enrol_argv_safe_psk: for coap-client)."""
        dev = self.add_enrolee(name)
        if argv_safe_psk:
            enrol_argv_safe_psk(self, dev)
        else:
            r = dev.run("enrol")
            assert r.rc == 0, "%s\n%s" % (r, self.logs())
        r = dev.run("register")
        assert r.rc == 0, "%s\n%s" % (r, self.logs())
        return dev


def with_maf(platform):
    """The platform restarted with tep-authz's CoAPS endpoint (the MAF) on a free port;
    enrolments made from then on carry its point of access (mpoa)."""
    platform.assert_clean_stop()
    platform.ports["authz_coaps"] = free_udp_ports(1)[0]
    platform.configure()
    platform.start()
    return platform


def created_path(result, parent):
    """Path of the resource a create-* command made: its printed path, else parent/rn."""
    path = result.get("path", "ri_path")
    if path:
        return path.lstrip("/")
    rn = result.get("rn")
    assert rn, "no path or rn printed:\n%s" % result
    return parent + "/" + rn


def ae_path(platform, dev):
    """<cse-name>/<AE-ID>: the SDK registers the AE with rn = its AE-ID."""
    return "%s/%s" % (platform.env["CSE_NAME"], dev.state_values()["enrolee_id"])


def device_with_data(platform, name, cnt="data", value="hello-tep", argv_safe_psk=False):
    """An enrolled, registered device with container cnt holding one value; returns
    (device, container path, contentInstance path). argv_safe_psk: as enrolled_device."""
    dev = platform.enrolled_device(name, argv_safe_psk)
    ae = ae_path(platform, dev)
    r = dev.run("create-cnt", cnt)
    assert r.rc == 0, str(r)
    cnt_path = created_path(r, ae)
    r = dev.run("create-cin", cnt, value)
    assert r.rc == 0, str(r)
    return dev, cnt_path, created_path(r, cnt_path)


# ------------------------------------------------------------ certificate SAEF (54, 55)

COAP_CLIENT_OPENSSL = shutil.which("coap-client-openssl")


def cert_of(platform, name, *extra):
    """tepctl enrolee add NAME ... then `tep-device cert`: (device, crt, key, ca) paths."""
    dev = platform.add_enrolee(name, *extra)
    r = dev.run("cert")
    assert r.rc == 0, "%s\n%s" % (r, platform.logs())
    return dev, r.get("CERT"), r.get("KEY"), r.get("TRUST_ANCHOR")


def restart_cse_with_certificate(platform, **settings):
    """Issues a tep CA certificate to /tep-cse and restarts tep-cse with it (certificate
    SAEF on beside PSK; docs/internals.md "Certificate SAEF"); settings: more tepenv
    overrides for the new configs."""
    _, crt, key, ca = cert_of(platform, "tep-cse", "--ae-id", "/tep-cse")
    platform["cse"].stop()
    platform.configure(cse_cert_file=crt, cse_key_file=key, cse_ca_file=ca, **settings)
    platform["cse"].start()
    return platform


def coap_cert_argv(platform, crt, key, ca, method, path, frm, body=None, ty=None, wait_s=5):
    """coap-client-openssl with a client certificate (-c/-j/-C) and the oneM2M options
    From (279), RQI (283), RVI (271), TY (267); it gives up after wait_s seconds (-B)."""
    import json  # only here: the rest of the harness speaks KEY=value

    argv = [COAP_CLIENT_OPENSSL, "-v", "7", "-B", str(wait_s), "-m", method, "-c", crt,
            "-j", key, "-C", ca, "-O", "279," + frm, "-O", "283,rq1", "-O", "271,3"]
    if ty is not None:
        argv += ["-O", "267,0x%02x" % ty, "-t", "application/json"]
    if body is not None:
        argv += ["-e", json.dumps(body)]
    return argv + [platform.env["CSE_COAPS"] + "/" + path]


def coap_cert(platform, crt, key, ca, method, path, frm, body=None, ty=None):
    """One coap_cert_argv() request; coap-client's whole trace (a response shows as
    "c:2.05"; a bare "2.05" could be part of a timestamp)."""
    p = subprocess.run(coap_cert_argv(platform, crt, key, ca, method, path, frm, body, ty),
                       stdin=subprocess.DEVNULL, capture_output=True, timeout=20)
    return (p.stdout + p.stderr).decode(errors="replace")


# ------------------------------------------------------------ ESCertKE (207, 208)

def escertke_seci(msg):
    """The content carrying one ESCertKE Message (TS-0004 7.5.1.2.12: sit 6, eckm)."""
    return {"m2m:seci": {"sit": 6, "eckm": base64.b64encode(msg).decode()}}


class EscertkeInitiator:
    """An ESCertKE Initiating End-Point made of Python's ssl (OpenSSL): a TLS 1.2 client
    over memory BIOs with crt/key, trusting ca; step() turns one message into the next."""

    def __init__(self, crt, key, ca, keylog=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if keylog:
            ctx.keylog_filename = keylog  # NSS key log: CLIENT_RANDOM <cr> <master secret>
        ctx.minimum_version = ctx.maximum_version = ssl.TLSVersion.TLSv1_2
        ctx.check_hostname = False  # the CSE is named by its SAN URI: tests check it
        ctx.load_verify_locations(ca)
        ctx.load_cert_chain(crt, key)
        ctx.set_ciphers("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES128-SHA256")
        self.inc, self.out = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = ctx.wrap_bio(self.inc, self.out, server_side=False)

    def step(self, msg=None):
        """Feeds one ESCertKE message; returns the next one (b"" when done)."""
        if msg:
            self.inc.write(msg)
        try:
            self.tls.do_handshake()
        except ssl.SSLWantReadError:
            pass
        return self.out.read()


def escertke_send(platform, frm, msg):
    """One ESCertKE Message in a NOTIFY to tep-cse's CSEBase over plain CoAP, From frm."""
    from onem2m_client import OneM2MClient
    with OneM2MClient("127.0.0.1", platform.ports["cse_coap"], frm) as c:
        return c.notify(platform.env["CSE_NAME"], escertke_seci(msg))


def escertke_eckm(r):
    """The ESCertKE Message of a 2000 answer."""
    assert r.rsc == 2000, str(r)
    seci = r.json["m2m:seci"]
    assert seci["sit"] == 6, str(r)
    return base64.b64decode(seci["eckm"])


# ------------------------------------------------------------ ESPrim in Python (204, 209)

def _jwe_registry():
    from joserfc import jwe
    return jwe.JWERegistry(strict_check_header=False)  # ori, rri, oro are oneM2M's


def esprim_ts(delta_s):
    """An esrx timestamp delta_s seconds from now (YYYYMMDDTHHMMSS, UTC)."""
    t = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=delta_s)
    return t.strftime("%Y%m%dT%H%M%S")


class EsprimOriginator:
    """An ESPrim Originator in Python (PyPI joserfc for the JWE, integration/tepkeys.py for
    sessionESPrimKey) for the AE-ID ae with pairwiseESPrimKey pairwise named kid, over
    plain CoAP to tep-cse's CSEBase (204, 209)."""

    def __init__(self, platform, ae, kid, pairwise):
        from onem2m_client import OneM2MClient
        self.p, self.ae, self.kid, self.pairwise = platform, ae, kid, pairwise
        self.client = OneM2MClient("127.0.0.1", platform.ports["cse_coap"], self.ae)
        self.cse = platform.env["CSE_NAME"]
        r = self.client.notify(self.cse, {"m2m:seci": {"sit": 3}})
        assert r.rsc == 2000, str(r)
        self.rro = r.json["m2m:seci"]["ero"]
        self.new_session()

    def new_session(self, espa=(12,), esrx=300, esk=1):
        import tepkeys
        self.orv = os.urandom(16)
        self.ori = "o" + os.urandom(8).hex()
        self.oro = {"esri": self.ori, "esrv": tepkeys.rand_text(self.orv),
                    "esrx": esprim_ts(esrx), "esk": esk, "espa": list(espa)}
        rrv = bytes.fromhex(self.rro["esrv"][1:])
        self.session = tepkeys.session_esprim_key(self.pairwise, rrv, self.orv)

    def inner(self, op=2, to=None, fr=None, **kw):
        return dict({"op": op, "to": to or self.cse, "fr": fr or self.ae,
                     "rqi": "py-" + os.urandom(4).hex(), "rvi": "3"}, **kw)

    def seal(self, inner, enc="A256GCM", oro=True, key=None, **hdr):
        h = dict({"alg": "dir", "enc": enc, "kid": self.kid, "ori": self.ori,
                  "rri": self.rro["esri"], "cty": "application/vnd.onem2m-preq+json"}, **hdr)
        if oro:
            h["oro"] = self.oro
        plain = inner if isinstance(inner, bytes) else json.dumps(inner).encode()
        k = key or self.session[:{"A128GCM": 16, "A192GCM": 24}.get(enc, 32)]
        from joserfc import jwe
        from joserfc.jwk import OctKey
        return jwe.encrypt_compact(h, plain, OctKey.import_key(k), registry=_jwe_registry())

    def send(self, epo):
        return self.client.notify(self.cse, {"m2m:seci": {"sit": 5, "epo": epo}})

    def open(self, r, enc="A256GCM"):
        assert r.rsc == 2000, str(r)
        epo = r.json["m2m:seci"]["epo"]
        k = self.session[:{"A128GCM": 16, "A192GCM": 24}.get(enc, 32)]
        from joserfc import jwe
        from joserfc.jwk import OctKey
        obj = jwe.decrypt_compact(epo, OctKey.import_key(k), registry=_jwe_registry())
        assert obj.protected["kid"] == self.kid and obj.protected["ori"] == self.ori
        assert obj.protected["cty"] == "application/vnd.onem2m-prsp+json"
        return json.loads(obj.plaintext)


# ------------------------------------------------------------ certificate-based RSPF (180-183)

def _openssl(*args):
    p = subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30)
    assert p.returncode == 0, "openssl %s: %s" % (" ".join(args), p.stderr)
    return p.stdout


def mfr_ca(directory, name="acme"):
    """A manufacturer CA made with the openssl command (P-256, CA:TRUE): (crt, key)
    paths in directory, named after name."""
    crt, key = (os.path.join(directory, "%s-ca.%s" % (name, x)) for x in ("pem", "key"))
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    _openssl("req", "-x509", "-new", "-key", key, "-out", crt, "-days", "30", "-sha256",
             "-subj", "/CN=%s device CA/O=%s" % (name, name),
             "-addext", "basicConstraints=critical,CA:TRUE",
             "-addext", "keyUsage=critical,keyCertSign,cRLSign")
    return crt, key


def mfr_device_cert(ca, directory, name, uri=None, days=30):
    """A device certificate issued by ca (mfr_ca's pair): subject CN=name and, when uri
    is given, subjectAltName URI:uri (the identity the MEF matches: the URI, else the
    CN). (crt, key) paths."""
    ca_crt, ca_key = ca
    crt, key, csr, ext = (os.path.join(directory, "%s.%s" % (name, x))
                          for x in ("pem", "key", "csr", "ext"))
    _openssl("ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", key)
    _openssl("req", "-new", "-key", key, "-out", csr, "-subj", "/CN=%s/O=acme" % name)
    with open(ext, "w") as f:
        f.write("basicConstraints=CA:FALSE\nkeyUsage=digitalSignature\n"
                "extendedKeyUsage=clientAuth\n")
        if uri:
            f.write("subjectAltName=URI:%s\n" % uri)
    _openssl("x509", "-req", "-in", csr, "-CA", ca_crt, "-CAkey", ca_key, "-CAcreateserial",
             "-out", crt, "-days", str(days), "-sha256", "-extfile", ext)
    return crt, key


def mfr_crl(ca, directory, name, revoked=(), days=1):
    """A CRL of ca (mfr_ca's pair) made with `openssl ca -gencrl`, revoking each device
    certificate of revoked (mfr_device_cert paths), nextUpdate in days: its path."""
    ca_crt, ca_key = ca
    work = os.path.join(directory, name + ".ca")
    os.makedirs(work, exist_ok=True)
    index, cnf, crl = (os.path.join(work, "index.txt"), os.path.join(work, "ca.cnf"),
                       os.path.join(directory, name + ".crl.pem"))
    open(index, "w").close()
    with open(cnf, "w") as f:
        f.write("[ca]\ndefault_ca = mfr\n[mfr]\ndatabase = %s\ncertificate = %s\n"
                "private_key = %s\ndefault_md = sha256\ndefault_crl_days = %d\n"
                "crlnumber = %s\n" % (index, ca_crt, ca_key, days,
                                      os.path.join(work, "crlnumber")))
    with open(os.path.join(work, "crlnumber"), "w") as f:
        f.write("01\n")
    for crt in revoked:
        _openssl("ca", "-config", cnf, "-revoke", crt)
    _openssl("ca", "-config", cnf, "-gencrl", "-out", crl)
    return crl


def mef_ca(platform):
    """The tep CA the enroller publishes (<data_dir>/ca.pem): the MEF's trust anchor."""
    return os.path.join(platform.env["DATA_DIR"], "enroller", "ca.pem")


def add_cert_enrolee(platform, name, identity, *extra):
    """tepctl enrolee add NAME --cert-identity IDENTITY: a certificate enrolee (no Kpm)."""
    return platform.add_enrolee(name, "--cert-identity", identity, *extra)


def cert_enrol(platform, dev, crt, key, *cmd):
    """tep-device --cert crt --key key --mef-ca <tep CA> CMD (default: enrol)."""
    return dev.run("--cert", crt, "--key", key, "--mef-ca", mef_ca(platform), *(cmd or ("enrol",)))


# ------------------------------------------------------------ DTLS handshake relay (60, 62)

TLS_PSK_WITH_AES_128_CCM_8 = 0xC0A8          # TS-0003 10.2.2
TLS_ECDHE_ECDSA_WITH_AES_128_CCM_8 = 0xC0AE  # TS-0003 10.2.3


class DtlsRelay:
    """A UDP relay from (host, self.port) to 127.0.0.1:server_port that reads the DTLS
    handshake in clear (epoch 0, RFC 6347 4.1/4.2.2): the ClientHello's cipher suites
    (self.offered) and server_name (RFC 6066 3; self.sni), the ServerHello's suite
    (self.chosen), the server's alert descriptions (self.alerts, RFC 5246 7.2). One
    client at a time; stop() ends it."""

    def __init__(self, server_port, host="127.0.0.1"):
        import threading

        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_DGRAM)
        self.sock.bind((host, 0))
        self.port = self.sock.getsockname()[1]
        self.up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.up.connect(("127.0.0.1", server_port))
        self.offered, self.sni, self.chosen, self.client = None, None, None, None
        self.alerts = []
        self._stop = False
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self):
        import select

        while not self._stop:
            for s in select.select([self.sock, self.up], [], [], 0.1)[0]:
                try:
                    data, addr = s.recvfrom(65535)
                except OSError:  # ICMP port unreachable from a stopped server
                    continue
                if s is self.sock:
                    self.client = addr
                    self._read(data, False)
                    self.up.send(data)
                elif self.client:
                    self._read(data, True)
                    self.sock.sendto(data, self.client)

    def _read(self, data, from_server):
        while len(data) >= 13:  # record: type, version(2), epoch(2), seq(6), length(2)
            typ, epoch = data[0], int.from_bytes(data[3:5], "big")
            n = int.from_bytes(data[11:13], "big")
            body, data = data[13:13 + n], data[13 + n:]
            if typ == 21 and epoch == 0 and len(body) == 2 and from_server:
                self.alerts.append(body[1])  # level, description
            # handshake: type, length(3), message_seq(2), fragment offset(3), length(3)
            if typ == 22 and epoch == 0 and len(body) > 12 and body[0] in (1, 2) \
                    and body[6:9] == b"\0\0\0":
                try:
                    self._hello(body[0], body[12:12 + int.from_bytes(body[9:12], "big")])
                except IndexError:  # truncated: what was read so far stays
                    pass

    def _hello(self, kind, m):
        i = 2 + 32
        i += 1 + m[i]                                 # session_id
        if kind == 2:                                 # ServerHello: the suite
            self.chosen = int.from_bytes(m[i:i + 2], "big")
            return
        i += 1 + m[i]                                 # cookie
        n = int.from_bytes(m[i:i + 2], "big")
        self.offered = [int.from_bytes(m[j:j + 2], "big") for j in range(i + 2, i + 2 + n, 2)]
        i += 2 + n
        i += 1 + m[i] + 2                             # compression, extensions length
        self.sni = None
        while i + 4 <= len(m):
            t, n = int.from_bytes(m[i:i + 2], "big"), int.from_bytes(m[i + 2:i + 4], "big")
            if t == 0:                                # list len(2), host_name(0), len(2)
                self.sni = m[i + 9:i + 4 + n].decode(errors="replace")
            i += 4 + n

    def stop(self):
        self._stop = True
        self._thread.join()
        self.sock.close()
        self.up.close()


# ------------------------------------------------------------ enroller store reset (59)

def daemon_data_dir(platform, name):
    """DIR/data/<name>: the daemon's store."""
    return os.path.join(platform.env["DATA_DIR"], name)


def replace_data_dir(platform, name, source=None):
    """With the daemon stopped: its data directory becomes a copy of source (a backup
    made with shutil.copytree), or an empty one when source is None (a fresh store)."""
    assert not platform[name].alive(), name + " running"
    d = daemon_data_dir(platform, name)
    shutil.rmtree(d)
    if source is None:
        os.mkdir(d, 0o700)
    else:
        shutil.copytree(source, d)


def sdk_device(dev):
    """libtepae through ctypes with the calls that hold DTLS sessions open (tep_connect,
    tep_retrieve with an opaque response), and dev's loaded device handle: (lib, handle).
    The caller frees the handle with lib.tep_device_free."""
    lib = ctypes.CDLL(os.path.join(BUILD, "ae-sdk", "libtepae.so"))
    vp, P = ctypes.c_void_p, ctypes.POINTER
    lib.tep_device_load.argtypes = [ctypes.c_char_p, ctypes.c_char_p, P(vp)]
    lib.tep_connect.argtypes = [vp, P(vp)]
    lib.tep_conn_set_timeout.argtypes = [vp, ctypes.c_int]
    lib.tep_retrieve.argtypes = [vp, ctypes.c_char_p, P(vp)]
    lib.tep_response_free.argtypes = [vp]
    lib.tep_conn_free.argtypes = [vp]
    lib.tep_device_free.argtypes = [vp]
    h = vp()
    assert lib.tep_device_load(dev.prov.encode(), dev.state.encode(), ctypes.byref(h)) == 0
    return lib, h


def kpsa_identity(platform, dev):
    """The PSK identity (KpsaID) dev presents to tep-cse, from its state (tepkeys.py)."""
    import tepkeys  # only here: the rest of the harness does not derive keys

    st = dev.state_values()
    kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
    return tepkeys.kpsa_id(kpsa, platform.env["MEF_FQDN"])


def enrol_argv_safe_psk(platform, dev, tries=10):
    """Enrols dev until its Kpsa has no NUL byte (coap-client takes -k as a C string; each
    try has about 12 % chance of one); returns the (KpsaID, Kpsa) coap-client presents."""
    import tepkeys  # only here: the rest of the harness does not derive keys

    for _ in range(tries):
        r = dev.run("enrol")
        assert r.rc == 0, "%s\n%s" % (r, platform.logs())
        st = dev.state_values()
        kpsa = tepkeys.kpsa(bytes.fromhex(st["ke"]), st["registrar_cse_id"])
        if b"\0" not in kpsa:
            return kpsa_identity(platform, dev), kpsa
    raise AssertionError("%d enrolments in a row gave a Kpsa with a NUL byte" % tries)


def _logged_soon(daemon, text, start, timeout):
    """text in the daemon's log after start (characters of its log()) within timeout."""
    end = time.monotonic() + timeout
    while text not in daemon.log()[start:]:
        if time.monotonic() > end:
            return False
        time.sleep(0.05)
    return True


def wait_refused(platform, dev, path, reason, timeout=10.0):
    """Retrieves path as dev (a new DTLS session each time) until tep-cse refuses the
    handshake of dev's Kpsa for reason (its log: event=handshake_refused reason=REASON
    identity=<dev's KpsaID>, after this call) and tep-device says so (exit 2, connection
    or handshake failure). On the way, polled on: a 4106 (the credential went while a
    request was on its way: handshake accepted, then the session unbound) and an exit 2
    that tep-cse did not log as that refusal (no answer in time on a loaded machine).
    Any other failure fails at once; fails after timeout with the last answer."""
    cse = platform["cse"]
    start = len(cse.log())
    refused = "event=handshake_refused reason=%s identity=%s" % (
        reason, kpsa_identity(platform, dev))
    deadline = time.monotonic() + timeout
    while True:
        r = dev.run("--timeout", "3000", "retrieve", path)
        if r.rc == 2 and _logged_soon(cse, refused, start, 1.0):
            return r
        assert r.rc in (0, 2) or (r.rc == 3 and r.rsc == 4106), \
            "%s: neither served nor refused (%s): %s\n%s" % (dev.name, reason, r, platform.logs())
        assert time.monotonic() < deadline, "%s not refused (%s) after %.0f s: %s\n%s" % (
            dev.name, reason, timeout, r, platform.logs())


# ------------------------------------------------------------ gateways (140-169)

def until(fn, timeout=10.0, step=0.1):
    """fn() until it is true or timeout seconds passed; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = fn()
        if v or time.monotonic() > deadline:
            return v
        time.sleep(step)


def wait_registered(mn, n=1, timeout=15.0):
    """Until the MN-CSE's log shows its n-th registration finished (the registrar then
    represented locally, the step after the <remoteCSE> CREATE/UPDATE)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if mn.log(since_start=False).count("event=registrar_represented") >= n:
            return
        if not mn.alive():
            break
        time.sleep(0.05)
    raise AssertionError("%s not registered:\n%s" % (mn.name, mn.tail()))


def gateway_platform(names=("mn1",), parents=None, targets=(), credential=None, in_cert=False,
                     maf=False, mn_extra=(), **settings):
    """The three daemons plus one MN-CSE per name (CSE-ID "/<name>", CSEBase
    "<name>"), each enrolled with its CSE-ID as Enrolee-ID and registered to the
    IN-CSE over DTLS-PSK (Kpsa): the enroller knows each as an Enrolment Target
    ([enroller] targets), so `add_enrolee(dev, "--target", "/<name>")` provisions a
    device for it. parents: {name: parent name} for an MN-CSE registering to another
    (listed before it) instead of the IN-CSE. targets: more Enrolment Targets the
    enroller knows ("/<csi>=<poa>"), for CSEs the test plays itself. credential: each
    MN-CSE's [registrar] credential (kpsa, cert, maf); in_cert: the IN-CSE restarted with
    a tep CA certificate (certificate SAEF) before the MN-CSEs start; maf: tep-authz's
    CoAPS endpoint (the MAF) on, the IN-CSE retrieving Kc from it; mn_extra: more
    sections of each MN-CSE's configuration (tepenv.configure_extra_cse's extra, e.g.
    [("maf", [("retrieval", "coaps")])]). Returns (platform, {name: Daemon}); cleanup as
    any platform."""
    p = Platform(**settings)
    if maf:
        p.ports["authz_coaps"] = free_udp_ports(1)[0]
        p.configure()
    parents = parents or {}
    mns = {}
    for n in names:
        parent = mns[parents[n]] if n in parents else None
        mns[n] = p.add_cse(n, "/" + n, registrar=p.mn_registrar(n, parent, credential=credential),
                           extra=mn_extra)
    old = os.environ.get("TEP_ENROLLER_TARGETS")
    os.environ["TEP_ENROLLER_TARGETS"] = ",".join(
        ["/%s=%s" % (n, d.coaps) for n, d in mns.items()] + list(targets))
    try:
        p.start()
        if in_cert:
            restart_cse_with_certificate(p)
    except BaseException:
        p.cleanup(keep=False)
        raise
    finally:
        if old is None:
            del os.environ["TEP_ENROLLER_TARGETS"]
        else:
            os.environ["TEP_ENROLLER_TARGETS"] = old
    try:
        for n, d in mns.items():
            target = ("--target", "/" + parents[n]) if n in parents else ()
            p.add_enrolee(n, "--ae-id", "/" + n, *target)
            d.start()
            wait_registered(d)
    except BaseException:
        p.cleanup(keep=False)
        raise
    return p, mns


# what gateway_with_device's ACP at the MN-CSE grants: the IN-CSE's application app1
# retrieves, the IN-side CAdmin creates and retrieves, the device does all; CAdmin at the
# MN-CSE administers the ACP itself
GATEWAY_DEVICE_ACP = {"rn": "acp-in",
                      "pv": {"acr": [{"acor": ["/tep-cse/Capp1"], "acop": 2},
                                     {"acor": ["/tep-cse/CAdmin"], "acop": 3},
                                     {"acor": ["Cgwdev"], "acop": 63}]},
                      "pvs": {"acr": [{"acor": ["CAdmin"], "acop": 63}]}}


@contextlib.contextmanager
def gateway_with_device(value, acp=True, **gateway):
    """gateway_platform(("mn1",), **gateway) with a device gwdev enrolled for /mn1 and
    registered there, its container data holding one contentInstance value
    (mn1/Cgwdev/data/la), an application app1 enrolled at the IN-CSE and a CAdmin client
    at the MN-CSE; acp: GATEWAY_DEVICE_ACP created at the MN-CSE and set on the
    container. Yields (platform, mn, dev, app, mn_admin); afterwards stops the MN-CSE,
    asserts a clean stop of the platform and cleans it up (a module fixture's body)."""
    from onem2m_client import TY_ACP, TY_CNT, OneM2MClient

    p, mns = gateway_platform(("mn1",), **gateway)
    mn = mns["mn1"]
    try:
        dev = p.add_enrolee("gwdev", "--target", "/mn1")
        assert dev.run("enrol").rc == 0
        r = dev.run("register")
        assert r.rc == 0, "%s\n%s" % (r, mn.tail())
        r = dev.run("create-cnt", "data")
        assert r.rc == 0, str(r)
        r = dev.run("create-cin", "data", value)
        assert r.rc == 0, str(r)
        app = p.enrolled_device("app1")
        mn_admin = OneM2MClient("127.0.0.1", int(mn.coap.rsplit(":", 1)[1]), "CAdmin")
        if acp:
            r = mn_admin.create("mn1", TY_ACP, GATEWAY_DEVICE_ACP)
            assert r.rsc == 2001, str(r)
            r = mn_admin.update("mn1/Cgwdev/data", TY_CNT, {"acpi": [r.resource(TY_ACP)["ri"]]})
            assert r.rsc == 2004, str(r)
        yield p, mn, dev, app, mn_admin
        mn_admin.close()
        mn.stop()
        p.assert_clean_stop()
    finally:
        p.cleanup(keep=False)


def until_rsc(op, rsc, timeout, daemon=None, step=0.05):
    """op() (a request: an answer with .rsc), again every step seconds until its answer
    is rsc; no request is sent after timeout seconds (one sent before then counts).
    Returns that answer; fails with the last answer and daemon's log tail (if given)."""
    deadline = time.monotonic() + timeout
    while True:
        r = op()
        if r.rsc == rsc:
            return r
        time.sleep(step)
        if time.monotonic() >= deadline:
            raise AssertionError("not %s within %.1f s; the last answer: %s%s" % (
                rsc, timeout, r, "" if daemon is None else "\n" + daemon.tail()))


# ---------------------------------------------------------------- the bus over TCP + CURVE

# One loopback address per "host": a server's curve_name is the host name its clients use.
CURVE_HOSTS = {"enroller": "127.0.0.2", "authz": "127.0.0.3", "cse": "127.0.0.4"}
# CurvePlatform.ports: the tcp ports of these sockets, in this order.
CURVE_SOCKETS = ("events", "sync", "enroller_admin", "decide", "authz_admin", "cse_admin",
                 "keys", "maf_events")


# the key name of the operator's tepctl (CurvePlatform.ops): the one key that may
# administer the daemons of a CurvePlatform ([bus] admin_keys)
CURVE_OPERATOR = "operator"


def curve_bus_section(p, name, keys_dir, ports, admin=None, curve_name=None, key=None,
                      maf=False, peers=None, admin_keys=CURVE_OPERATOR):
    """The [bus] section of daemon name (enroller, authz, cse) of platform p: tcp://
    endpoints on CURVE_HOSTS, CURVE on, its key pair (default: data/<name>/bus-curve.key,
    published as its host name); maf: tep-authz's keys and maf_events sockets (bound by
    tep-authz, connected by tep-cse); peers: the [bus] peers value (enroller, authz);
    admin_keys: the [bus] admin_keys of a tcp:// admin socket (the operator's tepctl key
    name; an ipc:// admin gets none)."""
    port = dict(zip(CURVE_SOCKETS, ports))
    tcp = lambda host, sock: "tcp://%s:%d" % (CURVE_HOSTS[host], port[sock])
    lines = {
        "enroller": [("events", tcp("enroller", "events")), ("sync", tcp("enroller", "sync")),
                     ("admin", tcp("enroller", "enroller_admin"))],
        "authz": [("decide", tcp("authz", "decide")), ("events", tcp("enroller", "events")),
                  ("sync", tcp("enroller", "sync")), ("admin", tcp("authz", "authz_admin"))],
        "cse": [("decide", tcp("authz", "decide")), ("events", tcp("enroller", "events")),
                ("sync", tcp("enroller", "sync")), ("admin", admin or tcp("cse", "cse_admin"))],
    }[name]
    if maf and name in ("authz", "cse"):
        lines += [("keys", tcp("authz", "keys")), ("maf_events", tcp("authz", "maf_events"))]
    if peers is not None:
        lines.append(("peers", peers))
    if dict(lines)["admin"].startswith("tcp://") and admin_keys:
        lines.append(("admin_keys", admin_keys))
    lines += [("curve", "true"), ("curve_dir", keys_dir),
              ("curve_key", key or os.path.join(p.env["DATA_DIR"], name, "bus-curve.key")),
              ("curve_name", curve_name or CURVE_HOSTS[name])]
    return "[bus]\n" + "".join("%s = %s\n" % kv for kv in lines)


def replace_bus_section(path, bus):
    """The config at path with its [bus] section (always the last) replaced."""
    with open(path) as f:
        text = f.read()
    with open(path, "w") as f:
        f.write(text[:text.index("[bus]")] + bus)


class CurvePlatform:
    """The three daemons with the bus on tcp:// + CURVE (docs/internals.md "Bus security"),
    keys in <dir>/bus-keys. maf: tep-authz's MAF (CoAPS, keys, maf_events) on as well;
    peers: {daemon: [bus] peers value}. ops: the operator's tepctl config (its key, made on
    first use, is the [bus] admin_keys of every daemon). Started by start()."""

    def __init__(self, maf=False, peers=None, **settings):
        self.p = Platform(**dict({"deadline_ms": 3000}, **settings))
        self.keys = os.path.join(self.p.dir, "bus-keys")
        self.ports = free_udp_ports(len(CURVE_SOCKETS), socket.SOCK_STREAM)
        self.maf = maf
        self.peers = peers or {}
        if maf:
            self.p.ports["authz_coaps"] = free_udp_ports(1)[0]
            self.p.configure()
        for name in Platform.ORDER:
            self.write_bus(name)
        host = lambda n, sock: "tcp://%s:%d" % (CURVE_HOSTS[n], self.ports[CURVE_SOCKETS.index(sock)])
        self.admin = {"enroller": host("enroller", "enroller_admin"),
                      "authz": host("authz", "authz_admin"), "cse": host("cse", "cse_admin")}
        self.sync = host("enroller", "sync")
        self.keys_ep = host("authz", "keys")
        self.ops = self.tepctl_ini(CURVE_OPERATOR)

    def write_bus(self, name):
        replace_bus_section(tepenv.config_path(self.p.dir, name), self.bus(name))

    def bus(self, name, **kw):
        """name's [bus] section (curve_bus_section; keyword arguments as there)."""
        kw.setdefault("maf", self.maf)
        if name in self.peers:
            kw.setdefault("peers", self.peers[name])
        return curve_bus_section(self.p, name, self.keys, self.ports, **kw)

    def start(self):
        self.p.start()
        return self

    def second_cse(self, cse_id, name):
        """Another tep-cse (Platform.add_cse, type IN: no registration) on this bus, with
        a key pair of its own published as <name>.pub; .data is its data directory.
        Not started."""
        d = self.p.add_cse(name, cse_id, cse_type="IN")
        d.data = os.path.join(self.p.dir, "data", name)
        d.poa = d.coaps
        admin = "ipc://" + os.path.join(self.p.dir, "ipc", name + "-admin.ipc")
        replace_bus_section(d.config, self.bus("cse", admin=admin, curve_name=name,
                                               key=os.path.join(d.data, "bus-curve.key")))
        return d

    def tepctl_ini(self, name, keys_dir=None, curve=True, key=None, curve_name=None):
        """A config for tepctl: its own key pair (made on first use, <dir>/<name>.key) or
        the key file given, published in keys_dir (the trust directory by default) under
        curve_name (default name)."""
        path = os.path.join(self.p.dir, name + ".ini")
        with open(path, "w") as f:
            f.write("[bus]\ncurve = %s\ncurve_dir = %s\ncurve_key = %s\ncurve_name = %s\n" % (
                "true" if curve else "false", keys_dir or self.keys,
                key or os.path.join(self.p.dir, name + ".key"), curve_name or name))
        return path

    def tepctl(self, ini, daemon, *args, timeout_ms=1500):
        return run_tool([binary("tepctl"), "--config", ini, "--admin", self.admin[daemon],
                         "--timeout", str(timeout_ms), *args])


@contextlib.contextmanager
def curve_platform_with_target(monkeypatch, cse_id, name, keep=False, **kw):
    """A started CurvePlatform(**kw) (kw: maf, peers) with a second tep-cse cse_id
    (second_cse(cse_id, name)) that the enroller knows as an enrolment target
    ([enroller] targets); cp.ops is the operator's tepctl config. Yields (cp, the
    second CSE); stops both cleanly at the end, keeps the run directory when keep()."""
    cp = CurvePlatform(**kw)
    second = cp.second_cse(cse_id, name)
    monkeypatch.setenv("TEP_ENROLLER_TARGETS", "%s=%s" % (cse_id, second.poa))
    try:
        cp.start()
        second.start()
        yield cp, second
        assert second.stop() == 0
        cp.p.assert_clean_stop()
    finally:
        second.kill()
        cp.p.cleanup(keep=keep())


# ------------------------------------------------------------ the ACME CSE (interop, 143)

ACME_PYTHON = os.environ.get("TEP_ACME_PYTHON", os.path.join(ROOT, ".deps", "acme-venv", "bin",
                                                              "python"))


class AcmeCse:
    """The ACME CSE (PyPI acmecse, tools/bench/run.sh installs it into .deps/acme-venv):
    plain CoAP, in-memory storage, its own access control on. cse_type "IN" or "MN";
    an MN registers to registrar = (cse_id, cse_name, coap URI). allowed_csr: the CSE-IDs
    (SP-relative, wildcards) it lets register."""

    def __init__(self, run_dir, cse_type, cse_id, cse_name, registrar=None, allowed_csr="/*"):
        self.dir = os.path.join(run_dir, "acme-" + cse_id)
        os.makedirs(self.dir, exist_ok=True)
        http, self.port = free_udp_ports(2)
        self.cse_id, self.cse_name = "/" + cse_id, cse_name
        self.coap = "coap://127.0.0.1:%d" % self.port
        lines = ["[basic.config]", "cseType=%s" % cse_type, "cseID=%s" % cse_id,
                 "cseName=%s" % cse_name, "adminID=CAdmin", "networkInterface=127.0.0.1",
                 "serviceProviderID=//tep.local",  # tep-cse's default [cse] sp_id: one SP
                 "cseHost=127.0.0.1", "httpPort=%d" % http, "databaseType=memory",
                 "logLevel=debug", "", "[coap]", "enable=true", "port=%d" % self.port, "",
                 # its pointOfAccess: ACME 2026.5.3 announces only its http address
                 "[http]", "address=%s" % self.coap, "",

                 "[cse.registration]", "allowedCSROriginators=%s" % allowed_csr,
                 "checkInterval=2", "", "[logging]", "enableFileLogging=true",
                 "enableScreenLogging=false", "enableBindingsLogging=true", "size=10000000", ""]
        if registrar is not None:
            rid, rname, ruri = registrar
            lines += ["[cse.registrar]", "address=%s" % ruri, "cseID=%s" % rid,
                      "resourceName=%s" % rname, "INCSEcseID=%s" % rid, ""]
        with open(os.path.join(self.dir, "acme.ini"), "w") as f:
            f.write("\n".join(lines))
        self.log_path = os.path.join(self.dir, "acme.log")
        self.proc = None

    def start(self):
        log = open(self.log_path, "ab")
        try:
            self.proc = subprocess.Popen(
                [ACME_PYTHON, "-m", "acmecse", "--config", "acme.ini", "--base-directory",
                 self.dir, "--headless", "--db-type", "memory"], cwd=self.dir,
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, preexec_fn=_die_with_parent)
        finally:
            log.close()

    def log(self):
        """Its log files (logs/*.log, oldest first) after what it printed."""
        out = []
        logs = os.path.join(self.dir, "logs")
        names = sorted(os.listdir(logs)) if os.path.isdir(logs) else []
        for path in [self.log_path] + [os.path.join(logs, n) for n in names]:
            try:
                with open(path, errors="replace") as f:
                    out.append(f.read())
            except (FileNotFoundError, IsADirectoryError):
                pass
        return "\n".join(out)

    def tail(self, n=40):
        return "\n".join(self.log().splitlines()[-n:])

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(5)
