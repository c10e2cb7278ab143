"""PDP replicas for integration 250-252: tep-authz processes with [authz] role = pdp
beside the platform's tep-authz (the writer, role = all), and tep-cse's [bus] decide
listing the replicas' decide sockets (docs/internals.md "PDP replicas")."""

import os
import re
import subprocess

import harness


def _ipc(p, name):
    return "ipc://" + os.path.join(p.dir, "ipc", name + ".ipc")


# Keys tests set for the writer through the environment (integration 41's DynPlatform):
# a replica refuses them by name, so it starts without them.
WRITER_ONLY_ENV = ("TEP_AUTHZ_COAPS_LISTEN", "TEP_AUTHZ_GRANTS_FILE")


class Replica(harness.Daemon):
    """A tep-authz with role = pdp; .decide and .admin are its endpoints."""

    def __init__(self, platform, name, max_lag_ms=5000):
        self.decide, self.admin = _ipc(platform, name + "-decide"), _ipc(platform, name + "-admin")
        path = os.path.join(platform.dir, name + ".ini")
        with open(path, "w") as f:
            f.write("\n".join([
                "[authz]",
                "role = pdp",
                "data_dir = " + os.path.join(platform.dir, "data", name),
                "maf_id = " + platform.env["MAF_ID"],
                "log_level = info",
                "policy_max_lag_ms = %d" % max_lag_ms,
                "[bus]",
                "decide = " + self.decide,
                "admin = " + self.admin,
                "policy_sync = " + _ipc(platform, "policy-sync"),
                "policy_events = " + _ipc(platform, "policy-events"),
                "writer = " + _ipc(platform, "decide"),
                ""]))
        super().__init__(platform, name, "authz", path)

    def start(self):
        saved = {k: os.environ.pop(k) for k in WRITER_ONLY_ENV if k in os.environ}
        try:
            super().start()
        finally:
            os.environ.update(saved)

    def tepctl(self, *args):
        return harness.run_tool([harness.binary("tepctl"), "--admin", self.admin] + list(args))

    def status(self):
        r = self.tepctl("status", "authz")
        assert r.rc == 0, str(r)
        return r.kv

    def audit(self, originator, last=None):
        """The replica's audit records of originator, one line each, oldest first: every
        one (tepctl audit --all, read page by page; a listing cut short fails here, never
        counts short), or the newest `last`."""
        which = ("--all",) if last is None else ("--last", str(last))
        r = self.tepctl("audit", "--originator", originator, *which)
        assert r.rc == 0, str(r)
        return r.out.splitlines()


def add_replicas(p, n=2, max_lag_ms=5000):
    """Before p.start(): the writer serves its policy log, n replicas start after it and
    tep-cse decides through them. Returns the Replica daemons (p["pdp1"], ...)."""
    with open(harness.tepenv.config_path(p.dir, "authz"), "a") as f:
        f.write("policy_sync = %s\npolicy_events = %s\n"
                % (_ipc(p, "policy-sync"), _ipc(p, "policy-events")))
    reps = [Replica(p, "pdp%d" % (i + 1), max_lag_ms) for i in range(n)]
    cse_ini = harness.tepenv.config_path(p.dir, "cse")
    with open(cse_ini) as f:
        text = f.read()
    text, count = re.subn(r"(?m)^decide = .*$",
                          "decide = " + ", ".join(r.decide for r in reps), text)
    assert count == 1, text
    with open(cse_ini, "w") as f:
        f.write(text)
    for r in reps:
        p.daemons[r.name] = r
    p.order = tuple(x for x in p.order if x != "cse") + tuple(r.name for r in reps) + ("cse",)
    return reps


def permits(lines):
    return sum(1 for l in lines if "permit=1" in l)


def check_config(text, tmpdir):
    """tep-authz --check-config on an ini: (exit code, output)."""
    path = os.path.join(tmpdir, "check.ini")
    with open(path, "w") as f:
        f.write(text)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TEP_")}
    p = subprocess.run([harness.binary("authz"), "--config", path, "--check-config"],
                       capture_output=True, text=True, env=env, timeout=10)
    return p.returncode, p.stdout + p.stderr
