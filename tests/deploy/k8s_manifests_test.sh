#!/bin/sh
# ctest k8s_manifests: `kubectl kustomize deploy/k8s` renders, and the rendered objects are what
# deploy/README.md promises:
#   - kinds: Namespace, Secret, Service, StatefulSet, Deployment, ScaledObject, PodDisruptionBudget,
#     ServiceMonitor (and no plain Deployment/StatefulSet without resources);
#   - the server: one replica, a volumeClaimTemplate mounted where --db points, native gRPC
#     readiness/liveness probes on the port it listens on (--listen), selected by the Service
#     whose grpc port is that port;
#   - the worker: --server is a Service's DNS name (short, or <svc>.<ns>.svc[.cluster.local] of the
#     rendered namespace) and that Service's grpc port; no --token on the command line;
#     SHRINK_WORKER_TOKEN comes from a secretKeyRef whose Secret and key are rendered too;
#   - the ScaledObject targets the worker Deployment and queries shrink_queue_depth; the PDB and
#     the ServiceMonitor select pods/Services that exist (the monitor's port is named there);
#   - every container sets CPU and memory requests and limits and runs as non-root.
# Exits 77 (skip) without kubectl or python3-yaml.
# Usage: k8s_manifests_test.sh SOURCE_DIR
set -eu
src=${1:?usage: k8s_manifests_test.sh SOURCE_DIR}
command -v kubectl >/dev/null || { echo "SKIP: kubectl is not installed"; exit 77; }
python3 -c 'import yaml' 2>/dev/null || { echo "SKIP: python3-yaml is not installed"; exit 77; }
rendered=$(mktemp)
trap 'rm -f "$rendered"' EXIT
kubectl kustomize "$src/deploy/k8s" > "$rendered"
echo "rendered $(grep -c '^kind:' "$rendered") objects from $src/deploy/k8s"
python3 - "$rendered" <<'PY'
import re
import sys

import yaml

docs = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d]
failures = []


def check(ok, message):
    print(("ok   " if ok else "FAIL ") + message)
    if not ok:
        failures.append(message)


def of_kind(kind):
    return [d for d in docs if d["kind"] == kind]


def flag(args, name):
    """Value of --name in args (as '--name V' or '--name=V'), else None."""
    for i, arg in enumerate(args):
        if arg == name and i + 1 < len(args):
            return args[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def selects(selector, labels):
    return bool(selector) and all(labels.get(k) == v for k, v in selector.items())


kinds = {d["kind"] for d in docs}
for kind in ["Namespace", "Secret", "Service", "StatefulSet", "Deployment", "ScaledObject",
             "PodDisruptionBudget", "ServiceMonitor"]:
    check(kind in kinds, f"kind {kind} rendered")
namespaces = {d["metadata"].get("namespace") for d in docs if d["kind"] != "Namespace"}
check(len(namespaces) == 1 and None not in namespaces, f"one namespace for all: {namespaces}")
namespace = next(iter(namespaces))
services = of_kind("Service")
secrets = {s["metadata"]["name"]: s for s in of_kind("Secret")}

# The server.
servers = of_kind("StatefulSet")
check(len(servers) == 1, "one StatefulSet (the server)")
server = servers[0]
check(server["spec"].get("replicas") == 1, "server has exactly 1 replica (one SQLite writer)")
pod = server["spec"]["template"]
container = pod["spec"]["containers"][0]
argv = container.get("command", []) + container.get("args", [])
check(argv[0] == "shrinkd", f"server runs shrinkd: {argv[:1]}")
listen_port = int(flag(argv, "--listen").rsplit(":", 1)[1])
db = flag(argv, "--db")
claims = [c["metadata"]["name"] for c in server["spec"].get("volumeClaimTemplates", [])]
mounts = {m["name"]: m["mountPath"] for m in container.get("volumeMounts", [])}
check(any(c in mounts and db.startswith(mounts[c].rstrip("/") + "/") for c in claims),
      f"--db {db} lies on a volumeClaimTemplate mount {mounts}")
for probe in ["readinessProbe", "livenessProbe"]:
    grpc = container.get(probe, {}).get("grpc", {})
    check(grpc.get("port") == listen_port, f"server {probe} is gRPC on port {listen_port}: {grpc}")
server_labels = pod["metadata"]["labels"]
server_services = [s for s in services if selects(s["spec"].get("selector"), server_labels)]
check(len(server_services) >= 1, "a Service selects the server pod")
grpc_ports = {}
for service in server_services:
    for port in service["spec"]["ports"]:
        target = port.get("targetPort", port["port"])
        named = {p.get("name"): p["containerPort"] for p in container.get("ports", [])}
        if named.get(target, target) == listen_port:
            grpc_ports[service["metadata"]["name"]] = port["port"]
check(grpc_ports != {}, f"a Service port reaches the server's gRPC port: {grpc_ports}")
check(server["spec"].get("serviceName") in {s["metadata"]["name"] for s in services},
      "the StatefulSet's serviceName is a rendered Service")

# The workers.
workers = of_kind("Deployment")
check(len(workers) == 1, "one Deployment (the workers)")
worker = workers[0]
wpod = worker["spec"]["template"]
wcontainer = wpod["spec"]["containers"][0]
wargv = wcontainer.get("command", []) + wcontainer.get("args", [])
check(wargv[0] == "shrink-worker", f"worker runs shrink-worker: {wargv[:1]}")
address = flag(wargv, "--server") or ""
host, _, port = address.rpartition(":")
suffixes = ["", f".{namespace}", f".{namespace}.svc", f".{namespace}.svc.cluster.local"]
names = {f"{name}{suffix}": name for name in grpc_ports for suffix in suffixes}
check(host in names and port.isdigit() and int(port) == grpc_ports.get(names.get(host)),
      f"worker --server {address} is the server Service's DNS name and gRPC port {grpc_ports}")
check(flag(wargv, "--token") is None, "no --token on the worker's command line")
env = {e["name"]: e for e in wcontainer.get("env", [])}
ref = env.get("SHRINK_WORKER_TOKEN", {}).get("valueFrom", {}).get("secretKeyRef", {})
secret = secrets.get(ref.get("name"))
data = dict((secret or {}).get("data", {}), **(secret or {}).get("stringData", {}))
check(secret is not None and ref.get("key") in data,
      f"SHRINK_WORKER_TOKEN from Secret {ref.get('name')} key {ref.get('key')}")

# Scaling, disruption budget, monitoring.
for scaled in of_kind("ScaledObject"):
    target = scaled["spec"]["scaleTargetRef"]
    check(target.get("kind", "Deployment") == "Deployment" and
          target["name"] == worker["metadata"]["name"], f"ScaledObject scales {target['name']}")
    queries = [t["metadata"].get("query", "") for t in scaled["spec"]["triggers"]
               if t["type"] == "prometheus"]
    check(any(re.search(r"\bshrink_queue_depth\b", q) for q in queries),
          f"ScaledObject triggers on shrink_queue_depth: {queries}")
pods = [server_labels, wpod["metadata"]["labels"]]
for pdb in of_kind("PodDisruptionBudget"):
    check(any(selects(pdb["spec"]["selector"]["matchLabels"], labels) for labels in pods),
          f"PDB {pdb['metadata']['name']} selects a rendered pod template")
for monitor in of_kind("ServiceMonitor"):
    chosen = [s for s in services if selects(monitor["spec"]["selector"]["matchLabels"],
                                             s["metadata"].get("labels", {}))]
    ports = {p.get("name") for s in chosen for p in s["spec"]["ports"]}
    wanted = {e.get("port") for e in monitor["spec"]["endpoints"]}
    check(chosen != [] and wanted <= ports, f"ServiceMonitor scrapes port(s) {wanted} of {ports}")
    check(any(flag(argv, "--metrics-listen") and p.get("name") in wanted and
              int(flag(argv, "--metrics-listen").rsplit(":", 1)[1]) in
              {c["containerPort"] for c in container["ports"] if c.get("name") == p["targetPort"]}
              for s in chosen for p in s["spec"]["ports"]),
          "the scraped port is the server's --metrics-listen port")

# Every container: resources and non-root.
for owner in servers + workers:
    spec = owner["spec"]["template"]["spec"]
    for c in spec["containers"]:
        resources = c.get("resources", {})
        check(all(r in resources.get(k, {}) for k in ["requests", "limits"]
                  for r in ["cpu", "memory"]),
              f"{owner['metadata']['name']}/{c['name']} sets cpu and memory requests and limits")
        non_root = c.get("securityContext", {}).get(
            "runAsNonRoot", spec.get("securityContext", {}).get("runAsNonRoot"))
        check(non_root is True, f"{owner['metadata']['name']}/{c['name']} runs as non-root")

print(f"{len(failures)} failure(s)")
sys.exit(1 if failures else 0)
PY
