"""The one place that knows the layout of a tep run directory and the daemons' configs.

Used by `./tep up` (through the command line below) and by the pytest harness, so the
operator's platform and the one under test are configured the same way. The keys are
those of docs/internals.md ("Daemons: command line and configuration").

Layout of a run directory DIR:
    DIR/enroller.ini DIR/authz.ini DIR/cse.ini    generated every time
    DIR/bsf.ini                                    with a bsf_ub port (GBA, tep-bsf)
    DIR/data/{enroller,authz,cse,bsf}/             kept if they exist (state survives)
    DIR/ipc/*.ipc                                  ZeroMQ endpoints
    DIR/logs/                                      daemon logs (written by the starter)

Command line:  python3 tepenv.py configure DIR   -> writes the configs, prints KEY=value
"""

import os
import sys

DEFAULT_PORTS = {"cse_coap": 5683, "cse_coaps": 5684, "enroller_coaps": 5784, "authz_coaps": 5785,
                 "bsf_ub": 8480}

# Names shared by the three configs; tests may override any of them.
DEFAULTS = {
    "mef_fqdn": "mef.tep.local",
    "maf_id": "maf.tep.local",
    "cse_id": "/tep-cse",
    "cse_name": "tep-cse",
    "admin_originator": "CAdmin",
    "psk_hint": "tep-cse",
    "authz_mode": "remote",
    "deadline_ms": 500,
    "log_level": "info",
    "host": "127.0.0.1",
    # [cse] local_targets: every daemon and test receiver of this platform is on the
    # loopback, so notifications and forwards may go there ("" = tep-cse's default:
    # none, integration 240)
    "local_targets": "127.0.0.0/8, ::1",
    # certificate SAEF of tep-cse: PEM paths; written to cse.ini only when all are set
    "cse_cert_file": "",
    "cse_key_file": "",
    "cse_ca_file": "",
    # certificate MAF Handshake of tep-authz: PEM paths; written to authz.ini only when all
    # are set
    "authz_cert_file": "",
    "authz_key_file": "",
    "authz_ca_file": "",
    # dynamic authorization (TS-0003 7.3): tep-authz's grants file; tep-cse trusting the
    # tokens tep-authz issues (written only when set)
    "grants_file": "",
    "cse_tokens": False,
    # [cse] csebase_pv: the CSEBase's policy (docs/access-control.md), written when set
    "csebase_pv": "",
    # [cse] notify_plain: plain coap:// notification targets (loopback | off | any),
    # written when set (tep-cse's default: loopback)
    "cse_notify_plain": "",
    # GBA (tep-bsf, written when a bsf_ub port is given): its server name and the
    # lifetime of a bootstrapped key
    "bsf_name": "bsf.tep.local",
    "bsf_key_lifetime": 3600,
    # [enroller] mfr_trust_anchors: manufacturer CA PEM files of the certificate-based
    # RSPF (TS-0003 8.3.2.2), space-separated; written when set
    "mfr_trust_anchors": "",
    # [enroller] mfr_crls: PEM CRLs of those CAs (manufacturer certificate revocation);
    # written when set
    "mfr_crls": "",
}

DAEMONS = ("enroller", "authz", "cse", "bsf")

def ports_from_env(environ=os.environ):
    """Default ports, each overridable by TEP_PORT_<NAME> (e.g. TEP_PORT_CSE_COAPS)."""
    return {k: int(environ.get("TEP_PORT_" + k.upper(), v)) for k, v in DEFAULT_PORTS.items()}


def _ipc(run_dir, name):
    return "ipc://" + os.path.join(run_dir, "ipc", name + ".ipc")


def _ini(sections):
    out = []
    for section, keys in sections:
        out.append("[%s]" % section)
        out.extend("%s = %s" % (k, v) for k, v in keys)
        out.append("")
    return "\n".join(out)


def _enroller_ini(run_dir, o, p):
    return _ini([
        ("enroller", [
            ("data_dir", os.path.join(run_dir, "data", "enroller")),
            ("mef_fqdn", o["mef_fqdn"]),
            ("listen", "%s:%d" % (o["host"], p["enroller_coaps"])),
            ("registrar_cse_id", o["cse_id"]),
            ("registrar_poa", "coaps://%s:%d" % (o["host"], p["cse_coaps"])),
            ("maf_id", o["maf_id"]),
            ("maf_poa", _maf_poa(o, p)),
            ("log_level", o["log_level"]),
        ] + ([("mfr_trust_anchors", o["mfr_trust_anchors"])] if o["mfr_trust_anchors"] else [])
          + ([("mfr_crls", o["mfr_crls"])] if o["mfr_crls"] else [])),
        ("bus", [
            ("events", _ipc(run_dir, "events")),
            ("sync", _ipc(run_dir, "sync")),
            ("admin", _ipc(run_dir, "enroller-admin")),
        ] + ([("zn", _ipc(run_dir, "zn"))] if p.get("bsf_ub") else [])),
    ])


# The MAF (tep-authz's CoAPS endpoint and its key sockets) runs when a port is given
# for it: `./tep up` does; the test harness starts it only in the MAF scenarios.
def _maf_poa(o, p):
    return "coaps://%s:%d" % (o["host"], p["authz_coaps"]) if p.get("authz_coaps") else ""


def _maf_bus(run_dir, p):
    if not p.get("authz_coaps"):
        return []
    return [("keys", _ipc(run_dir, "keys")), ("maf_events", _ipc(run_dir, "maf-events"))]


def _authz_pki(o):
    keys = ("cert_file", "key_file", "ca_file")
    if not all(o["authz_" + k] for k in keys):
        return []
    return [(k, o["authz_" + k]) for k in keys]


def _authz_ini(run_dir, o, p):
    return _ini([
        ("authz", [
            ("data_dir", os.path.join(run_dir, "data", "authz")),
            ("maf_id", o["maf_id"]),
            ("coaps_listen", "%s:%d" % (o["host"], p["authz_coaps"]) if p.get("authz_coaps") else ""),
            ("log_level", o["log_level"]),
        ] + _authz_pki(o) + ([("grants_file", o["grants_file"])] if o["grants_file"] else [])),
        ("bus", [
            ("decide", _ipc(run_dir, "decide")),
            ("events", _ipc(run_dir, "events")),
            ("sync", _ipc(run_dir, "sync")),
            ("admin", _ipc(run_dir, "authz-admin")),
        ] + _maf_bus(run_dir, p)),
    ])


def _cse_pki(o):
    keys = ("cert_file", "key_file", "ca_file")
    if not all(o["cse_" + k] for k in keys):
        return []
    return [(k, o["cse_" + k]) for k in keys]


def _cse_tokens(run_dir, o):
    """tep-cse trusts tokens from tep-authz: issuer = the MAF-ID, key = the public key
    tep-authz writes at its first start (so tep-authz must start first)."""
    if not o["cse_tokens"]:
        return []
    return [("token_issuer", o["maf_id"]),
            ("token_issuer_key", os.path.join(run_dir, "data", "authz", "token-issuer.pub"))]


def _cse_ini(run_dir, o, p):
    coap = "%s:%d" % (o["host"], p["cse_coap"]) if p.get("cse_coap") else ""
    return _ini([
        ("cse", [
            ("data_dir", os.path.join(run_dir, "data", "cse")),
            ("cse_id", o["cse_id"]),
            ("cse_name", o["cse_name"]),
            ("coap_listen", coap),
            ("coaps_listen", "%s:%d" % (o["host"], p["cse_coaps"])),
            ("local_targets", o["local_targets"]),
            ("admin_originator", o["admin_originator"]),
            ("psk_hint", o["psk_hint"]),
            ("log_level", o["log_level"]),
        ] + _cse_pki(o) + ([("csebase_pv", o["csebase_pv"])] if o["csebase_pv"] else [])
          + ([("notify_plain", o["cse_notify_plain"])] if o["cse_notify_plain"] else [])),
        ("authz", [
            ("mode", o["authz_mode"]),
            ("deadline_ms", o["deadline_ms"]),
        ] + _cse_tokens(run_dir, o)),
        ("bus", [
            ("decide", _ipc(run_dir, "decide")),
            ("events", _ipc(run_dir, "events")),
            ("sync", _ipc(run_dir, "sync")),
            ("admin", _ipc(run_dir, "cse-admin")),
        ] + _maf_bus(run_dir, p)),
    ])


# tep-bsf (GBA's BSF) runs when a port is given for its Ub interface: `./tep up` does;
# the test harness starts it only in the GBA scenarios (Platform(bsf=True)).
def _bsf_ini(run_dir, o, p):
    return _ini([
        ("bsf", [
            ("data_dir", os.path.join(run_dir, "data", "bsf")),
            ("bsf_name", o["bsf_name"]),
            ("ub_listen", "%s:%d" % (o["host"], p["bsf_ub"])),
            ("naf_ids", o["mef_fqdn"]),
            ("key_lifetime", o["bsf_key_lifetime"]),
            ("log_level", o["log_level"]),
        ]),
        ("bus", [
            ("zn", _ipc(run_dir, "zn")),
            ("admin", _ipc(run_dir, "bsf-admin")),
        ]),
    ])


_WRITERS = {"enroller": _enroller_ini, "authz": _authz_ini, "cse": _cse_ini, "bsf": _bsf_ini}


def configure_extra_cse(run_dir, name, cse_id, cse_name, coap_port, coaps_port, cse_type="MN",
                        registrar=None, authz_mode="local", log_level="info", host="127.0.0.1",
                        poa="", extra=()):
    """Writes DIR/<name>.ini for another tep-cse of the same platform (an MN-CSE, or a
    second IN-CSE): its own data directory and admin socket, the platform's enroller bus
    (it receives the credentials whose target it is). registrar: {"cse_id", "cse_name",
    "poa", "provisioning", "state"} (docs/cse.md "CSE registration"). extra: more
    sections, [(section, [(key, value), ...])], e.g. [maf]. Returns the path."""
    os.makedirs(os.path.join(run_dir, "data", name), mode=0o700, exist_ok=True)
    cse = [
        ("data_dir", os.path.join(run_dir, "data", name)),
        ("cse_id", cse_id),
        ("cse_name", cse_name),
        ("type", cse_type),
        ("coap_listen", "%s:%d" % (host, coap_port) if coap_port else ""),
        ("coaps_listen", "%s:%d" % (host, coaps_port)),
        ("local_targets", DEFAULTS["local_targets"]),
        ("admin_originator", DEFAULTS["admin_originator"]),
        ("psk_hint", cse_name),
        ("log_level", log_level),
    ] + ([("poa", poa)] if poa else [])
    sections = [("cse", cse)]
    if registrar:
        sections.append(("registrar", [(k, v) for k, v in registrar.items() if v]))
    sections += list(extra)
    sections += [
        ("authz", [("mode", authz_mode), ("deadline_ms", 5000)]),
        ("bus", [
            ("decide", _ipc(run_dir, "decide")),
            ("events", _ipc(run_dir, "events")),
            ("sync", _ipc(run_dir, "sync")),
            ("admin", _ipc(run_dir, name + "-admin")),
        ]),
    ]
    path = os.path.join(os.path.abspath(run_dir), name + ".ini")
    with open(path, "w") as f:
        f.write(_ini(sections))
    return path


def configure(run_dir, ports=None, **overrides):
    """Writes DIR/<daemon>.ini for the three daemons, creates the data, ipc and log
    directories (existing data is kept) and returns the endpoints as an ordered dict of
    KEY -> value, the same keys `./tep up` prints."""
    unknown = set(overrides) - set(DEFAULTS)
    if unknown:
        raise ValueError("unknown setting(s): %s" % ", ".join(sorted(unknown)))
    opts = dict(DEFAULTS, **overrides)
    ports = dict(ports or DEFAULT_PORTS)
    run_dir = os.path.abspath(run_dir)
    for sub in ["ipc", "logs"] + [os.path.join("data", d) for d in DAEMONS]:
        os.makedirs(os.path.join(run_dir, sub), mode=0o700, exist_ok=True)
    for name in DAEMONS:
        if name == "bsf" and not ports.get("bsf_ub"):
            continue
        path = os.path.join(run_dir, name + ".ini")
        with open(path, "w") as f:
            f.write(_WRITERS[name](run_dir, opts, ports))
    host = opts["host"]
    env = {
        "ENROLLER_COAPS": "coaps://%s:%d" % (host, ports["enroller_coaps"]),
        "CSE_COAP": "coap://%s:%d" % (host, ports["cse_coap"]) if ports.get("cse_coap") else "",
        "CSE_COAPS": "coaps://%s:%d" % (host, ports["cse_coaps"]),
        "MAF_COAPS": _maf_poa(opts, ports),
        "CSE_ID": opts["cse_id"],
        "CSE_NAME": opts["cse_name"],
        "ADMIN_ORIGINATOR": opts["admin_originator"],
        "MEF_FQDN": opts["mef_fqdn"],
        "MAF_ID": opts["maf_id"],
        "ENROLLER_ADMIN": _ipc(run_dir, "enroller-admin"),
        "CSE_ADMIN": _ipc(run_dir, "cse-admin"),
        "AUTHZ_ADMIN": _ipc(run_dir, "authz-admin"),
        "BSF_UB": "http://%s:%d/" % (host, ports["bsf_ub"]) if ports.get("bsf_ub") else "",
        "BSF_ADMIN": _ipc(run_dir, "bsf-admin") if ports.get("bsf_ub") else "",
        "BSF_NAME": opts["bsf_name"],
        "DATA_DIR": os.path.join(run_dir, "data"),
        "LOGS": os.path.join(run_dir, "logs"),
    }
    return env


def config_path(run_dir, daemon):
    return os.path.join(os.path.abspath(run_dir), daemon + ".ini")


def _shell_quote(v):
    v = str(v)
    if v and all(c.isalnum() or c in "/:._-@" for c in v):
        return v
    return "'" + v.replace("'", "'\\''") + "'"


def main(argv):
    if len(argv) != 3 or argv[1] != "configure":
        sys.stderr.write("usage: tepenv.py configure RUN_DIR\n")
        return 1
    env = configure(argv[2], ports_from_env())
    for k, v in env.items():
        print("%s=%s" % (k, _shell_quote(v)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
