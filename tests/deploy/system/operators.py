"""Pods the platform's operators create in the app's namespace from what the overlay renders: CloudNativePG
instance, bootstrap and pooler pods, and cert-manager's ACME HTTP-01 solver. Each is built the way the
operator's source builds it (cited beside each builder), so admission and capacity see what the API server
would receive, not what the manifests declare.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from tests.deploy.k8s.manifests import Rendered
from tests.deploy.system.pods import Pod, surge

# cloudnative-pg pkg/specs/pods.go + pkg/specs/containers.go (CreatePodSecurityContext,
# CreateContainerSecurityContext): every CNPG container runs non-root, without privilege escalation, with all
# capabilities dropped, a read-only root filesystem and the Cluster's seccomp profile (RuntimeDefault unless
# .spec.seccompProfile says otherwise). Instances run as the postgres user 26/26, PgBouncer as 998/996.
CNPG_CONTAINER_SECURITY = {
    "allowPrivilegeEscalation": False,
    "privileged": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


def _cnpg_pod_security(uid: int, gid: int) -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": uid,
        "runAsGroup": gid,
        "fsGroup": gid,
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _cnpg_scheduling(cluster: dict[str, Any]) -> dict[str, Any]:
    """Scheduling fields CNPG derives from .spec.affinity (cloudnative-pg pkg/specs/podspec_diff + affinity.go,
    docs "Scheduling"): nodeSelector, tolerations, nodeAffinity, and with enablePodAntiAffinity a pod
    anti-affinity on the cnpg.io/cluster label over topologyKey, required or preferred by podAntiAffinityType."""
    name = cluster["metadata"]["name"]
    affinity = cluster["spec"].get("affinity") or {}
    spec: dict[str, Any] = {}
    if affinity.get("nodeSelector"):
        spec["nodeSelector"] = dict(affinity["nodeSelector"])
    if affinity.get("tolerations"):
        spec["tolerations"] = copy.deepcopy(affinity["tolerations"])
    rules: dict[str, Any] = {}
    if affinity.get("nodeAffinity"):
        rules["nodeAffinity"] = copy.deepcopy(affinity["nodeAffinity"])
    if affinity.get("enablePodAntiAffinity", True):
        term = {
            "labelSelector": {"matchLabels": {"cnpg.io/cluster": name}},
            "topologyKey": affinity.get("topologyKey", "kubernetes.io/hostname"),
        }
        if affinity.get("podAntiAffinityType", "preferred") == "required":
            rules["podAntiAffinity"] = {"requiredDuringSchedulingIgnoredDuringExecution": [term]}
        else:
            rules["podAntiAffinity"] = {
                "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 100, "podAffinityTerm": term}]
            }
    if rules:
        spec["affinity"] = rules
    return spec


def _barman_sidecar(rendered: Rendered, cluster: dict[str, Any]) -> list[dict[str, Any]]:
    """The Barman Cloud plugin injects its sidecar `plugin-barman-cloud` into every instance pod as a native
    sidecar (an init container with restartPolicy Always), with the resources of the ObjectStore's
    .spec.instanceSidecarConfiguration.resources (cloudnative-pg.io/plugin-barman-cloud/docs, "Usage" and the
    ObjectStore API reference); without them the namespace's LimitRange defaults apply."""
    sidecars = []
    for plugin in cluster["spec"].get("plugins", []):
        if plugin.get("name") != "barman-cloud.cloudnative-pg.io":
            continue
        store = rendered.find("ObjectStore", plugin.get("parameters", {}).get("barmanObjectName", ""))
        config = (store or {}).get("spec", {}).get("instanceSidecarConfiguration", {})
        sidecar = {
            "name": "plugin-barman-cloud",
            "restartPolicy": "Always",
            "securityContext": copy.deepcopy(CNPG_CONTAINER_SECURITY),
        }
        if config.get("resources"):
            sidecar["resources"] = copy.deepcopy(config["resources"])
        sidecars.append(sidecar)
    return sidecars


def cnpg_cluster_pods(rendered: Rendered, namespace: str) -> Iterator[Pod]:
    """Instance pods, and the one-shot initdb/join pods that precede them (pkg/specs/pods.go, jobs.go): the
    bootstrap-controller init container and the postgres (or initdb/join) container both get the Cluster's
    .spec.resources."""
    for cluster in rendered.of_kind("Cluster"):
        name = cluster["metadata"]["name"]
        resources = copy.deepcopy(cluster["spec"].get("resources") or {})
        labels = dict((cluster["spec"].get("inheritedMetadata") or {}).get("labels") or {})
        annotations = dict((cluster["spec"].get("inheritedMetadata") or {}).get("annotations") or {})
        labels["cnpg.io/cluster"] = name
        bootstrap = {
            "name": "bootstrap-controller",
            "resources": resources,
            "securityContext": copy.deepcopy(CNPG_CONTAINER_SECURITY),
        }
        storage = [
            {"name": "pgdata", "persistentVolumeClaim": {"claimName": f"{name}-1"}},
            {"name": "scratch-data", "emptyDir": {}},
            {"name": "shm", "emptyDir": {"medium": "Memory"}},
        ]
        base = {
            "securityContext": _cnpg_pod_security(26, 26),
            "volumes": storage,
            "priorityClassName": cluster["spec"].get("priorityClassName", ""),
            **_cnpg_scheduling(cluster),
        }
        instance = {
            **copy.deepcopy(base),
            "initContainers": [bootstrap, *_barman_sidecar(rendered, cluster)],
            "containers": [
                {"name": "postgres", "resources": resources, "securityContext": copy.deepcopy(CNPG_CONTAINER_SECURITY)}
            ],
        }
        # A rolling update or a failover replaces instances one at a time, never adds one: no surge.
        yield Pod(
            f"Cluster/{name} (instance)",
            namespace,
            {"labels": labels, "annotations": annotations},
            instance,
            peak=cluster["spec"]["instances"],
        )
        for job in ("initdb", "join"):
            one_shot = {
                **copy.deepcopy(base),
                "restartPolicy": "Never",
                "initContainers": [copy.deepcopy(bootstrap)],
                "containers": [
                    {"name": job, "resources": resources, "securityContext": copy.deepcopy(CNPG_CONTAINER_SECURITY)}
                ],
            }
            # It runs before the instance it creates and is gone when that instance starts: it adds no pod at
            # the peak, but it must pass admission or the instance never exists.
            yield Pod(
                f"Cluster/{name} ({job} Job)",
                namespace,
                {"labels": dict(labels), "annotations": annotations},
                one_shot,
                peak=0,
                completes=True,
            )


def cnpg_pooler_pods(rendered: Rendered, namespace: str) -> Iterator[Pod]:
    """PgBouncer pods: the Pooler's .spec.template merged with what pkg/specs/pgbouncer/deployments.go adds:
    pod security 998/996, the bootstrap-controller init container (no resources of its own unless the template
    names it), the pgbouncer container; a Deployment with the Pooler's deploymentStrategy (default 25% surge)."""
    for pooler in rendered.of_kind("Pooler"):
        template = copy.deepcopy(pooler["spec"].get("template") or {})
        spec = template.get("spec") or {}
        spec["securityContext"] = _cnpg_pod_security(998, 996)
        inits = {c["name"]: c for c in spec.get("initContainers", [])}
        bootstrap = inits.pop("bootstrap-controller", {"name": "bootstrap-controller"})
        bootstrap["securityContext"] = copy.deepcopy(CNPG_CONTAINER_SECURITY)
        spec["initContainers"] = [bootstrap, *inits.values()]
        for container in spec.setdefault("containers", []):
            container["securityContext"] = copy.deepcopy(CNPG_CONTAINER_SECURITY)
        if not any(c["name"] == "pgbouncer" for c in spec["containers"]):
            spec["containers"].append({"name": "pgbouncer", "securityContext": copy.deepcopy(CNPG_CONTAINER_SECURITY)})
        spec.setdefault("volumes", []).extend(
            [{"name": "ca", "secret": {"secretName": "ca"}}, {"name": "scratch-data", "emptyDir": {}}]
        )
        metadata = template.get("metadata") or {}
        metadata.setdefault("labels", {})["cnpg.io/poolerName"] = pooler["metadata"]["name"]
        instances = pooler["spec"].get("instances", 1)
        peak = instances + surge(pooler["spec"].get("deploymentStrategy") or {}, instances)
        yield Pod(f"Pooler/{pooler['metadata']['name']}", namespace, metadata, spec, peak=peak)


# cert-manager pkg/issuer/acme/http/pod.go (buildPod) with the controller flags' defaults
# (cert-manager.io/docs/cli/controller: --acme-http01-solver-resource-request-cpu 10m, -request-memory 64Mi,
# -limits-cpu 100m, -limits-memory 64Mi, --acme-http01-solver-run-as-non-root true): one solver pod per
# challenged host in the namespace of the Certificate, annotated sidecar.istio.io/inject "false", running
# non-root with RuntimeDefault seccomp, no privilege escalation and all capabilities dropped.
HTTP01_SOLVER_RESOURCES = {"requests": {"cpu": "10m", "memory": "64Mi"}, "limits": {"cpu": "100m", "memory": "64Mi"}}


def http01_solver_pods(rendered: Rendered, namespace: str) -> Iterator[Pod]:
    """Solver pods for Ingresses that ask cert-manager's ingress-shim for a certificate (an issuer annotation),
    when the issuer is ACME HTTP-01 (the ClusterIssuer letsencrypt-* the kit names)."""
    for ingress in rendered.of_kind("Ingress"):
        notes = ingress["metadata"].get("annotations") or {}
        issuer = notes.get("cert-manager.io/cluster-issuer") or notes.get("cert-manager.io/issuer")
        if not issuer:
            continue
        hosts = {h for tls in ingress["spec"].get("tls", []) for h in tls.get("hosts", [])}
        spec = {
            "restartPolicy": "OnFailure",
            "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [
                {
                    "name": "acmesolver",
                    "resources": copy.deepcopy(HTTP01_SOLVER_RESOURCES),
                    "securityContext": {
                        "allowPrivilegeEscalation": False,
                        "readOnlyRootFilesystem": True,
                        "capabilities": {"drop": ["ALL"]},
                    },
                }
            ],
        }
        metadata = {
            "labels": {"acme.cert-manager.io/http01-solver": "true"},
            "annotations": {"sidecar.istio.io/inject": "false"},
        }
        yield Pod(
            f"cert-manager HTTP-01 solver ({issuer})", namespace, metadata, spec, peak=len(hosts), completes=False
        )


def operator_pods(rendered: Rendered, namespace: str) -> Iterator[Pod]:
    yield from cnpg_cluster_pods(rendered, namespace)
    yield from cnpg_pooler_pods(rendered, namespace)
    yield from http01_solver_pods(rendered, namespace)
