"""253: the Kubernetes manifests (deploy/k8s, issue 17 item 4) as an operator would apply
them, checked without a cluster:
  - every resource validates against the Kubernetes 1.33 API schemas, strictly (unknown
    fields refused), with kubernetes-validate from PyPI (pinned in ./tep's PY_PACKAGES),
    whose schemas ship inside the package: nothing is fetched (its command line is also
    run in a network namespace of its own, where one can be made); a kind it has no schema
    for fails here (the tool itself only warns); a manifest with a misspelt field is
    refused, so the check can fail;
  - kustomization.yaml lists every manifest;
  - each daemon's configuration in the ConfigMap passes that daemon's --check-config,
    with the environment its container sets (a PDP replica's CURVE name from its pod);
  - the pieces agree: tep-cse's [bus] decide names exactly the replicas the authz-pdp
    StatefulSet makes, every tcp:// endpoint a daemon connects to is a Service port,
    every container runs the image docker-compose builds and a service the entrypoint
    knows, and every mounted configuration file is in the ConfigMap.
Not run here: a cluster (none on this machine): nothing is applied, scheduled or
started from these files."""

import copy
import glob
import os
import re
import subprocess

import kubernetes_validate
import pytest
import yaml

import harness

K8S = os.path.join(harness.ROOT, "deploy", "k8s")
K8S_VERSION = "1.33.0"
PROGRAMS = {"enroller": "enroller", "authz": "authz", "cse": "cse"}


def _load(path):
    with open(path) as f:
        return [d for d in yaml.safe_load_all(f) if d]


@pytest.fixture(scope="module")
def resources():
    out = []
    for path in sorted(glob.glob(os.path.join(K8S, "*.yaml"))):
        if os.path.basename(path) != "kustomization.yaml":
            out += [(os.path.basename(path), d) for d in _load(path)]
    assert out, "no manifests in " + K8S
    return out


def _kind(resources, kind, name=None):
    found = [d for _, d in resources if d["kind"] == kind and (name is None or
                                                                d["metadata"]["name"] == name)]
    assert found, (kind, name)
    return found


def _validate(doc):
    try:
        return kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
    except kubernetes_validate.utils.SchemaNotFoundError as e:
        raise AssertionError(e.message)


def test_every_resource_validates_strictly(resources):
    for path, doc in resources:
        try:
            _validate(doc)
        except kubernetes_validate.ValidationError as e:
            raise AssertionError("%s: %s/%s: %s: %s" % (
                path, doc["kind"], doc["metadata"]["name"],
                ".".join(str(p) for p in e.path), e.message))


def test_a_misspelt_field_is_refused(resources):
    sts = copy.deepcopy(_kind(resources, "StatefulSet", "cse")[0])
    sts["spec"]["template"]["spec"]["containers"][0]["imagePulPolicy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError, match="imagePulPolicy"):
        _validate(sts)
    with pytest.raises(AssertionError, match="Couldn't find schema"):
        _validate({"apiVersion": "tep.example/v1", "kind": "Platform",
                   "metadata": {"name": "x"}})


def test_validates_with_no_network(resources):
    """The schemas ship inside the package: the validator's own command line, run in a
    network namespace of its own (no interface but a downed loopback), passes every
    resource. Where no network namespace can be made (no privilege for it), skipped,
    and said."""
    import sys
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("no network namespace here (unshare -n: %s): the offline check "
                    "did not run" % probe.stderr.strip())
    files = sorted(p for p in glob.glob(os.path.join(K8S, "*.yaml"))
                   if os.path.basename(p) != "kustomization.yaml")
    p = subprocess.run(["unshare", "-n", sys.executable, "-m", "kubernetes_validate",
                        "--strict", "-k", K8S_VERSION] + files,
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stdout + p.stderr
    assert p.stdout.count(" passed for resource ") == len(resources), p.stdout
    assert "WARN" not in p.stdout and "ERROR" not in p.stdout, p.stdout


def test_kustomization_lists_every_manifest():
    k = _load(os.path.join(K8S, "kustomization.yaml"))[0]
    files = {os.path.basename(p) for p in glob.glob(os.path.join(K8S, "*.yaml"))}
    assert set(k["resources"]) == files - {"kustomization.yaml"}, k["resources"]


def _containers(resources):
    for _, d in resources:
        if d["kind"] in ("StatefulSet", "Deployment", "Job"):
            for c in d["spec"]["template"]["spec"]["containers"]:
                yield d, c


def _env(c, pod_name):
    env = {}
    for e in c.get("env", []):
        if "value" in e:
            env[e["name"]] = re.sub(r"\$\((\w+)\)", lambda m: env.get(m.group(1), ""),
                                    e["value"])
        elif e.get("valueFrom", {}).get("fieldRef", {}).get("fieldPath") == "metadata.name":
            env[e["name"]] = pod_name
    return env


def _config_of(c, config):
    mount = [m for m in c["volumeMounts"] if m["mountPath"].startswith("/etc/tep/")]
    assert len(mount) == 1, c["name"]
    assert mount[0]["subPath"] in config, mount[0]
    return config[mount[0]["subPath"]]


def test_each_daemon_accepts_its_configuration(resources, tmp_path):
    config = _kind(resources, "ConfigMap", "tep-config")[0]["data"]
    for d, c in _containers(resources):
        service = c["args"][0]
        path = tmp_path / (d["metadata"]["name"] + ".ini")
        path.write_text(_config_of(c, config))
        env = {k: v for k, v in os.environ.items() if not k.startswith("TEP_")}
        env.update(_env(c, d["metadata"]["name"] + "-0"))
        p = subprocess.run([harness.binary(PROGRAMS[service]), "--config", str(path),
                            "--check-config"], capture_output=True, text=True, env=env,
                           timeout=10)
        assert p.returncode == 0, "%s: %s%s" % (d["metadata"]["name"], p.stdout, p.stderr)


def _ini(text):
    out, section = {}, None
    for line in text.splitlines():
        line = line.split(";", 1)[0].strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif "=" in line:
            k, v = line.split("=", 1)
            out[(section, k.strip())] = v.strip()
    return out


def test_the_pieces_agree(resources):
    config = _kind(resources, "ConfigMap", "tep-config")[0]["data"]
    services = {d["metadata"]["name"]: {p["port"] for p in d["spec"]["ports"]}
                for _, d in resources if d["kind"] == "Service"}

    # tep-cse decides through exactly the replicas the StatefulSet makes
    pdp = _kind(resources, "StatefulSet", "authz-pdp")[0]
    cse = _ini(config["cse.ini"])
    listed = [e.strip() for e in cse[("bus", "decide")].split(",")]
    assert listed == ["tcp://authz-pdp-%d.authz-pdp:7201" % i
                      for i in range(pdp["spec"]["replicas"])], listed
    assert pdp["spec"]["serviceName"] == "authz-pdp" and 7201 in services["authz-pdp"]

    # every tcp:// endpoint connected to is a Service's port; binders bind 0.0.0.0
    for name, text in config.items():
        for (section, key), v in _ini(text).items():
            for ep in (e.strip() for e in v.split(",")):
                m = re.fullmatch(r"tcp://([^:]+):(\d+)", ep)
                if m is None or m.group(1) == "0.0.0.0":
                    continue
                svc = m.group(1).split(".")[-1] if "." in m.group(1) else m.group(1)
                assert svc in services and int(m.group(2)) in services[svc], (name, key, ep)

    # the image docker-compose builds, a service the entrypoint knows, probes that ask it
    with open(os.path.join(harness.ROOT, "docker", "docker-compose.yml")) as f:
        compose_image = re.search(r"image: \$\{TEP_IMAGE:-([^}]+)\}", f.read()).group(1)
    for d, c in _containers(resources):
        assert c["image"] == compose_image, (d["metadata"]["name"], c["image"])
        assert c["args"][0] in PROGRAMS, c["args"]
        for probe in ("readinessProbe", "livenessProbe"):
            assert c[probe]["exec"]["command"] == ["tep-entrypoint", "health", c["args"][0]]
        assert _kind(resources, "Service", d["spec"]["serviceName"])
