"""Istio's sidecar injector as the platform layer configures it: which pods it mutates and what it adds.

The mesh settings come from the platform layer's Argo CD Applications (Helm charts `istiod` and `cni`), so the
model follows what the platform really installs. Injection follows Istio's injection template
(istio/istio manifests/charts/istio-control/istio-discovery/files/injection-template.yaml):
- without the Istio CNI node agent, an `istio-init` init container programs iptables itself, as root
  (runAsUser 0, runAsNonRoot false) with capabilities NET_ADMIN and NET_RAW;
- with it (istiod value pilot.cni.enabled, istio.io/latest/docs/setup/additional-setup/cni/), the node agent
  does that and the pod gets `istio-validation` instead, running as 1337 with every capability dropped;
- `istio-proxy` runs as 1337/1337, non-root, all capabilities dropped, no privilege escalation.
Both get the sidecar.istio.io/proxyCPU/-Memory/-CPULimit/-MemoryLimit annotations as resources, else the
istiod chart's global.proxy.resources (chart default requests 100m/128Mi, limits 2000m/1024Mi).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, replace
from typing import Any

import yaml

from tests.deploy.k8s.manifests import Rendered
from tests.deploy.system.pods import Pod

# istio/istio manifests/charts/istio-control/istio-discovery/values.yaml, global.proxy.resources.
CHART_PROXY_RESOURCES = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2000m", "memory": "1024Mi"}}
PROXY_ANNOTATIONS = {
    ("requests", "cpu"): "sidecar.istio.io/proxyCPU",
    ("requests", "memory"): "sidecar.istio.io/proxyMemory",
    ("limits", "cpu"): "sidecar.istio.io/proxyCPULimit",
    ("limits", "memory"): "sidecar.istio.io/proxyMemoryLimit",
}


def helm_charts(platform: Rendered) -> dict[str, dict[str, Any]]:
    """Helm values by chart name for every chart an Argo CD Application of the platform layer installs
    (spec.source or spec.sources; helm.values as YAML text, overridden by helm.valuesObject, as Argo CD
    merges them: argo-cd.readthedocs.io/en/stable/user-guide/helm/#values)."""
    charts: dict[str, dict[str, Any]] = {}
    for app in platform.of_kind("Application"):
        sources = app["spec"].get("sources") or [app["spec"].get("source") or {}]
        for source in sources:
            if not source.get("chart"):
                continue
            helm = source.get("helm") or {}
            values = yaml.safe_load(helm.get("values") or "") or {}
            values = _merge(values, helm.get("valuesObject") or {})
            charts[source["chart"]] = values
    return charts


def _merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        nested = isinstance(value, dict) and isinstance(merged.get(key), dict)
        merged[key] = _merge(merged[key], value) if nested else value
    return merged


def _dig(values: dict[str, Any], *path: str) -> Any:
    for key in path:
        if not isinstance(values, dict):
            return None
        values = values.get(key)
    return values


@dataclass(frozen=True)
class Mesh:
    """What the injector does, from the platform's istiod and cni charts."""

    cni: bool  # istiod renders istio-validation (pilot.cni.enabled) and the cni node agent is installed
    proxy_resources: dict[str, Any]
    privileged: bool = False  # global.proxy.privileged: both injected containers then run privileged


def mesh(platform: Rendered) -> Mesh:
    charts = helm_charts(platform)
    istiod = charts.get("istiod", {})
    # pilot.cni.enabled is the istiod chart's switch (1.21+); istio_cni.enabled the older spelling.
    enabled = bool(_dig(istiod, "pilot", "cni", "enabled") or _dig(istiod, "istio_cni", "enabled"))
    resources = _dig(istiod, "global", "proxy", "resources") or CHART_PROXY_RESOURCES
    privileged = bool(_dig(istiod, "global", "proxy", "privileged"))
    return Mesh(cni=enabled and "cni" in charts, proxy_resources=resources, privileged=privileged)


def injected(pod: Pod, namespace_labels: dict[str, str]) -> bool:
    """Istio's injection policy (istio.io/latest/docs/setup/additional-setup/sidecar-injection/#controlling-the-
    injection-policy): a namespace labelled istio-injection=enabled injects every pod that does not opt out
    with sidecar.istio.io/inject "false" (label, or the older annotation the injector still honours);
    istio-injection=disabled injects none; an unlabelled namespace injects only pods labelled "true"."""
    opt = pod.labels.get("sidecar.istio.io/inject", pod.annotations.get("sidecar.istio.io/inject"))
    if pod.spec.get("hostNetwork"):
        return False
    namespace = namespace_labels.get("istio-injection")
    if namespace == "enabled":
        return opt != "false"
    if namespace == "disabled":
        return False
    return opt == "true"


def _resources(pod: Pod, mesh_: Mesh) -> dict[str, Any]:
    if not any(note in pod.annotations for note in PROXY_ANNOTATIONS.values()):
        return copy.deepcopy(mesh_.proxy_resources)
    resources: dict[str, dict[str, str]] = {}
    for (kind, resource), note in PROXY_ANNOTATIONS.items():
        if note in pod.annotations:
            resources.setdefault(kind, {})[resource] = pod.annotations[note]
    return resources


def inject(pod: Pod, namespace_labels: dict[str, str], mesh_: Mesh) -> Pod:
    """The pod after the injector's webhook, or the pod unchanged when the policy leaves it alone."""
    if not injected(pod, namespace_labels):
        return pod
    resources = _resources(pod, mesh_)
    if mesh_.cni:
        init = {
            "name": "istio-validation",
            "resources": copy.deepcopy(resources),
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "privileged": False,
                "capabilities": {"drop": ["ALL"]},
                "readOnlyRootFilesystem": True,
                "runAsGroup": 1337,
                "runAsUser": 1337,
                "runAsNonRoot": True,
            },
        }
    else:
        init = {
            "name": "istio-init",
            "resources": copy.deepcopy(resources),
            "securityContext": {
                "allowPrivilegeEscalation": False,
                "privileged": False,
                "capabilities": {"add": ["NET_ADMIN", "NET_RAW"], "drop": ["ALL"]},
                "readOnlyRootFilesystem": False,
                "runAsGroup": 0,
                "runAsUser": 0,
                "runAsNonRoot": False,
            },
        }
    proxy = {
        "name": "istio-proxy",
        "resources": copy.deepcopy(resources),
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "privileged": False,
            "capabilities": {"drop": ["ALL"]},
            "readOnlyRootFilesystem": True,
            "runAsGroup": 1337,
            "runAsUser": 1337,
            "runAsNonRoot": True,
        },
    }
    for container in (init, proxy):
        container["securityContext"]["allowPrivilegeEscalation"] = mesh_.privileged
        container["securityContext"]["privileged"] = mesh_.privileged
    spec = copy.deepcopy(pod.spec)
    spec["initContainers"] = [init, *spec.get("initContainers", [])]
    spec["containers"] = [*spec["containers"], proxy]
    spec["volumes"] = [
        *spec.get("volumes", []),
        {"name": "workload-socket", "emptyDir": {}},
        {"name": "credential-socket", "emptyDir": {}},
        {"name": "workload-certs", "emptyDir": {}},
        {"name": "istio-envoy", "emptyDir": {"medium": "Memory"}},
        {"name": "istio-data", "emptyDir": {}},
        {"name": "istio-podinfo", "downwardAPI": {"items": []}},
        {"name": "istio-token", "projected": {"sources": []}},
        {"name": "istiod-ca-cert", "configMap": {"name": "istio-ca-root-cert"}},
    ]
    metadata = copy.deepcopy(pod.metadata)
    metadata.setdefault("labels", {})["security.istio.io/tlsMode"] = "istio"
    return replace(pod, metadata=metadata, spec=spec)


def has_sidecar(pod: Pod) -> bool:
    return any(c["name"] == "istio-proxy" for c in pod.containers())
