#!/usr/bin/python3
"""Offline checks of the deployment files: Dockerfile and deploy/kubernetes/.

Kubernetes objects are checked against the API's own schema as the official Python client
(Debian's python3-kubernetes, generated from the Kubernetes OpenAPI document) describes it: every
field must exist at its place with the right type, required fields must be present. No cluster
is contacted. Then what ties the files to Pocket: every flag the containers pass is one the built
`pocket` accepts, probes and the Service name a declared port, selectors match the pod labels, the
autoscaler's metric is one the server exports, and the image's runtime stage installs a Debian
package for every shared library the built binary links (found with dpkg, as on a bookworm host).

usage: check_deploy.py SOURCE_DIR POCKET_BINARY
"""
import re
import subprocess
import sys
from pathlib import Path

import yaml
from kubernetes import client
from kubernetes.client import models

# (apiVersion, kind) -> model class. autoscaling/v2 (GA in Kubernetes 1.23) has the same schema as
# autoscaling/v2beta2, the newest the client packaged in bookworm (22.6) generates.
KINDS = {
    ("apps/v1", "Deployment"): "V1Deployment",
    ("v1", "Service"): "V1Service",
    ("autoscaling/v2", "HorizontalPodAutoscaler"): "V2beta2HorizontalPodAutoscaler",
}

errors = []


def fail(msg):
    errors.append(msg)


def check_type(value, type_name, path):
    """Walks `value` against the client's type string: a model class, list[..], dict(str, ..) or a primitive."""
    if type_name == "object":  # int-or-string and free-form fields
        return
    if type_name.startswith("list["):
        if not isinstance(value, list):
            return fail(f"{path}: a list is expected")
        for i, v in enumerate(value):
            check_type(v, type_name[5:-1], f"{path}[{i}]")
        return
    if type_name.startswith("dict("):
        if not isinstance(value, dict):
            return fail(f"{path}: a map is expected")
        inner = type_name[type_name.index(",") + 1 : -1].strip()
        for k, v in value.items():
            check_type(v, inner, f"{path}.{k}")
        return
    primitives = {"str": str, "int": int, "bool": bool, "float": (int, float), "datetime": str, "date": str}
    if type_name in primitives:
        ok = isinstance(value, primitives[type_name]) and not (type_name == "int" and isinstance(value, bool))
        if not ok:
            fail(f"{path}: {type_name} expected, got {type(value).__name__} {value!r}")
        return
    cls = getattr(models, type_name)
    if not isinstance(value, dict):
        return fail(f"{path}: an object ({type_name}) is expected")
    by_key = {key: attr for attr, key in cls.attribute_map.items()}
    for key, v in value.items():
        if key not in by_key:
            fail(f"{path}: unknown field '{key}' ({type_name})")
        else:
            check_type(v, cls.openapi_types[by_key[key]], f"{path}.{key}")


def check_object(doc, where):
    key = (doc.get("apiVersion"), doc.get("kind"))
    if key not in KINDS:
        return fail(f"{where}: {key} is not a kind this check knows")
    check_type(doc, KINDS[key], f"{where}:{doc['kind']}")
    # Required fields: building the client's objects raises on a missing one.
    try:
        client.ApiClient()._ApiClient__deserialize(doc, KINDS[key])
    except (ValueError, TypeError) as e:
        fail(f"{where}: {e}")


def flags_of(pocket, command):
    out = subprocess.run([pocket, command, "--help"], capture_output=True, text=True, check=True).stdout
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", out))


def main():
    src, pocket = Path(sys.argv[1]), sys.argv[2]
    kdir = src / "deploy" / "kubernetes"
    docs = {}
    kustom = yaml.safe_load((kdir / "kustomization.yaml").read_text())
    for name in kustom["resources"]:
        for doc in yaml.safe_load_all((kdir / name).read_text()):
            check_object(doc, name)
            docs[doc["kind"]] = doc
    listed = set(kustom["resources"])
    for p in kdir.glob("*.yaml"):
        if p.name != "kustomization.yaml" and p.name not in listed:
            fail(f"{p.name} is not listed in kustomization.yaml")

    dep, svc, hpa = docs["Deployment"], docs["Service"], docs["HorizontalPodAutoscaler"]
    pod = dep["spec"]["template"]
    labels = pod["metadata"]["labels"]
    if any(labels.get(k) != v for k, v in dep["spec"]["selector"]["matchLabels"].items()):
        fail("Deployment: selector does not match the pod template's labels")
    if any(labels.get(k) != v for k, v in svc["spec"]["selector"].items()):
        fail("Service: selector does not match the pod labels")
    hpa_ref = hpa["spec"]["scaleTargetRef"]
    if (hpa_ref["kind"], hpa_ref["name"]) != ("Deployment", dep["metadata"]["name"]):
        fail("HorizontalPodAutoscaler: scaleTargetRef is not the Deployment")

    # Flags: what the built binary accepts for the subcommand each container runs.
    containers = pod["spec"].get("initContainers", []) + pod["spec"]["containers"]
    for c in containers:
        args = c.get("args", [])
        accepted = flags_of(pocket, args[0])
        for a in args[1:]:
            if a.startswith("--") and a not in accepted:
                fail(f"container {c['name']}: `pocket {args[0]}` has no flag {a}")
    serve = pod["spec"]["containers"][0]
    ports = {p["name"]: p["containerPort"] for p in serve["ports"]}
    for probe in ("readinessProbe", "livenessProbe"):
        p = serve.get(probe)
        if not p:
            fail(f"container {serve['name']}: no {probe}")
            continue
        port = (p.get("httpGet") or p.get("tcpSocket"))["port"]
        if port not in ports and port not in ports.values():
            fail(f"{probe}: port {port} is not a container port")
    if serve.get("readinessProbe", {}).get("httpGet", {}).get("path") != "/health":
        fail("readinessProbe: Pocket's readiness is /health")
    for p in svc["spec"]["ports"]:
        if p["targetPort"] not in ports and p["targetPort"] not in ports.values():
            fail(f"Service: targetPort {p['targetPort']} is not a container port")
    for res in ("requests", "limits"):
        if "memory" not in serve.get("resources", {}).get(res, {}):
            fail(f"container {serve['name']}: no memory {res}")

    metrics_src = (src / "apps" / "server" / "metrics.cpp").read_text()
    for m in hpa["spec"]["metrics"]:
        if m["type"] == "Pods" and f'"{m["pods"]["metric"]["name"]} ' not in metrics_src and \
                f'"# TYPE {m["pods"]["metric"]["name"]} ' not in metrics_src:
            fail(f"HorizontalPodAutoscaler: the server exports no metric {m['pods']['metric']['name']}")

    # The image: non-root user and store path agree with the Deployment; a package for every
    # shared library the binary links.
    dockerfile = (src / "Dockerfile").read_text()
    user = re.search(r"^USER (\d+)", dockerfile, re.M)
    if not user or int(user.group(1)) != pod["spec"]["securityContext"]["runAsUser"]:
        fail("Dockerfile USER and the pod's runAsUser differ")
    home = re.search(r"^ENV POCKET_HOME=(\S+)", dockerfile, re.M)
    mounts = {vm["mountPath"] for vm in serve["volumeMounts"]}
    if not home or home.group(1) not in mounts:
        fail("the store (POCKET_HOME) is not the mounted volume")
    runtime = dockerfile[dockerfile.rindex("\nFROM ") :]
    packages = set(re.findall(r"\b([a-z0-9][a-z0-9.+-]+)\b", runtime))
    readelf = subprocess.run(["readelf", "-d", pocket], capture_output=True, text=True, check=True).stdout
    base = {"libc6", "libgcc-s1", "libstdc++6"}  # in debian:bookworm-slim
    libs = re.findall(r"Shared library: \[([^\]]+)\]", readelf)
    # Where the loader finds each library, under both spellings of a merged /usr (dpkg knows one).
    cache = subprocess.run(["ldconfig", "-p"], capture_output=True, text=True, check=True).stdout
    paths = set()
    for lib in libs:
        for path in re.findall(rf"^\s*{re.escape(lib)} \(.*\) => (\S+)$", cache, re.M):
            paths |= {path, path[4:] if path.startswith("/usr/") else "/usr" + path}
    found = subprocess.run(["dpkg", "-S"] + sorted(paths), capture_output=True, text=True).stdout
    for lib in libs:
        owners = {line.split(":")[0] for line in found.splitlines() if line.endswith("/" + lib)}
        if not owners:
            fail(f"no Debian package provides {lib}")
        elif not owners & (packages | base):
            fail(f"the Dockerfile's runtime stage installs no package providing {lib} ({', '.join(sorted(owners))})")

    for e in errors:
        print("deploy check:", e)
    print(f"deploy check: {len(docs)} Kubernetes objects, Dockerfile: {'ok' if not errors else f'{len(errors)} problem(s)'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
