"""Admission as the API server applies it to a pod in the app's namespace: the LimitRanger plugin's defaults
and bounds, then the Pod Security admission level the namespace's labels enforce.

Rules encoded from kubernetes.io/docs/concepts/security/pod-security-standards/ ("Baseline" and "Restricted"
tables; every check covers containers, initContainers and ephemeralContainers) and
kubernetes.io/docs/concepts/policy/limit-range/ (defaults fill missing requests/limits, then min/max bound
both). Each check returns human-readable violations; an empty list means the pod is admitted.
"""

from __future__ import annotations

import copy
from typing import Any

from tests.deploy.system.pods import Pod, quantity

# Baseline "Capabilities": adding anything beyond this list is forbidden.
BASELINE_CAPABILITIES = {
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
}
# Restricted "Volume Types": only these.
RESTRICTED_VOLUMES = {
    "configMap",
    "csi",
    "downwardAPI",
    "emptyDir",
    "ephemeral",
    "persistentVolumeClaim",
    "projected",
    "secret",
}
# Baseline "Sysctls": the safe set.
SAFE_SYSCTLS = {
    "kernel.shm_rmid_forced",
    "net.ipv4.ip_local_port_range",
    "net.ipv4.ip_unprivileged_port_start",
    "net.ipv4.tcp_syncookies",
    "net.ipv4.ping_group_range",
    "net.ipv4.ip_local_reserved_ports",
    "net.ipv4.tcp_keepalive_time",
    "net.ipv4.tcp_fin_timeout",
    "net.ipv4.tcp_keepalive_intvl",
    "net.ipv4.tcp_keepalive_probes",
}
LEVELS = ("privileged", "baseline", "restricted")


def enforced_level(namespace_labels: dict[str, str]) -> str:
    """pod-security.kubernetes.io/enforce; unlabelled namespaces get the cluster default, privileged."""
    return namespace_labels.get("pod-security.kubernetes.io/enforce", "privileged")


def _containers(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [*spec.get("initContainers", []), *spec.get("containers", []), *spec.get("ephemeralContainers", [])]


def baseline_violations(spec: dict[str, Any]) -> list[str]:
    found = []
    for field in ("hostNetwork", "hostPID", "hostIPC"):
        if spec.get(field):
            found.append(f"host namespaces: {field} true")
    pod_sc = spec.get("securityContext") or {}
    if (pod_sc.get("windowsOptions") or {}).get("hostProcess"):
        found.append("HostProcess pod")
    for volume in spec.get("volumes", []):
        if "hostPath" in volume:
            found.append(f"hostPath volume {volume['name']}")
    for sysctl in pod_sc.get("sysctls", []):
        if sysctl["name"] not in SAFE_SYSCTLS:
            found.append(f"unsafe sysctl {sysctl['name']}")
    if (pod_sc.get("seccompProfile") or {}).get("type") == "Unconfined":
        found.append("pod seccompProfile Unconfined")
    for c in _containers(spec):
        sc = c.get("securityContext") or {}
        name = c["name"]
        if sc.get("privileged"):
            found.append(f"{name}: privileged")
        added = set((sc.get("capabilities") or {}).get("add", [])) - BASELINE_CAPABILITIES
        if added:
            found.append(f"{name}: adds capabilities {sorted(added)}")
        if any(p.get("hostPort") for p in c.get("ports", [])):
            found.append(f"{name}: hostPort")
        if sc.get("procMount", "Default") != "Default":
            found.append(f"{name}: procMount {sc['procMount']}")
        if (sc.get("seccompProfile") or {}).get("type") == "Unconfined":
            found.append(f"{name}: seccompProfile Unconfined")
        if (sc.get("windowsOptions") or {}).get("hostProcess"):
            found.append(f"{name}: HostProcess")
    return found


def restricted_violations(spec: dict[str, Any]) -> list[str]:
    found = baseline_violations(spec)
    pod_sc = spec.get("securityContext") or {}
    for volume in spec.get("volumes", []):
        kinds = set(volume) - {"name"}
        if not kinds <= RESTRICTED_VOLUMES:
            found.append(f"volume {volume['name']} of type {sorted(kinds)}")
    if pod_sc.get("runAsUser") == 0:
        found.append("pod runAsUser 0")
    pod_profile = (pod_sc.get("seccompProfile") or {}).get("type")
    for c in _containers(spec):
        sc = c.get("securityContext") or {}
        name = c["name"]
        # Privilege escalation: must be set to false on every container.
        if sc.get("allowPrivilegeEscalation") is not False:
            found.append(f"{name}: allowPrivilegeEscalation not false")
        # Running as non-root: the container's runAsNonRoot, else the pod's, must be true.
        if sc.get("runAsNonRoot", pod_sc.get("runAsNonRoot")) is not True:
            found.append(f"{name}: runAsNonRoot not true")
        # Running as non-root user: runAsUser must not be 0.
        if sc.get("runAsUser") == 0:
            found.append(f"{name}: runAsUser 0")
        # Seccomp: RuntimeDefault or Localhost, on the container or inherited from the pod.
        if sc.get("seccompProfile", {}).get("type", pod_profile) not in ("RuntimeDefault", "Localhost"):
            found.append(f"{name}: seccompProfile not RuntimeDefault/Localhost")
        # Capabilities: drop ALL, add at most NET_BIND_SERVICE.
        caps = sc.get("capabilities") or {}
        if "ALL" not in caps.get("drop", []):
            found.append(f"{name}: does not drop ALL capabilities")
        if set(caps.get("add", [])) - {"NET_BIND_SERVICE"}:
            found.append(f"{name}: adds {sorted(set(caps['add']) - {'NET_BIND_SERVICE'})}")
    return found


def pod_security_violations(pod: Pod, namespace_labels: dict[str, str]) -> list[str]:
    level = enforced_level(namespace_labels)
    if level == "restricted":
        return restricted_violations(pod.spec)
    if level == "baseline":
        return baseline_violations(pod.spec)
    return []


def _container_limits(limit_range: dict[str, Any]) -> dict[str, Any]:
    for item in limit_range["spec"]["limits"]:
        if item["type"] == "Container":
            return item
    return {}


def with_limit_range_defaults(pod: Pod, limit_ranges: list[dict[str, Any]]) -> Pod:
    """The LimitRanger's mutation: a missing limit takes `default`; a missing request takes the container's
    limit if it has one, else `defaultRequest` (limit-range docs, "Constraints on resource limits and
    requests")."""
    spec = copy.deepcopy(pod.spec)
    for limit_range in limit_ranges:
        bounds = _container_limits(limit_range)
        for c in [*spec.get("initContainers", []), *spec["containers"]]:
            resources = c.setdefault("resources", {})
            declared_limits = dict(resources.get("limits") or {})
            limits = resources.setdefault("limits", {})
            requests = resources.setdefault("requests", {})
            for resource, value in (bounds.get("default") or {}).items():
                limits.setdefault(resource, value)
            for resource, value in (bounds.get("defaultRequest") or {}).items():
                requests.setdefault(resource, declared_limits.get(resource, value))
            for resource, value in declared_limits.items():
                requests.setdefault(resource, value)
    return Pod(pod.owner, pod.namespace, pod.metadata, spec, pod.peak, pod.completes)


def limit_range_violations(pod: Pod, limit_ranges: list[dict[str, Any]]) -> list[str]:
    """Bounds after defaulting: min <= request and limit, max >= request and limit, per container."""
    found = []
    defaulted = with_limit_range_defaults(pod, limit_ranges)
    for limit_range in limit_ranges:
        bounds = _container_limits(limit_range)
        for c in [*defaulted.spec.get("initContainers", []), *defaulted.spec["containers"]]:
            resources = c["resources"]
            for kind in ("requests", "limits"):
                for resource, value in (resources.get(kind) or {}).items():
                    low = (bounds.get("min") or {}).get(resource)
                    high = (bounds.get("max") or {}).get(resource)
                    if low is not None and quantity(value) < quantity(low):
                        found.append(f"{c['name']}: {kind}.{resource} {value} below the minimum {low}")
                    if high is not None and quantity(value) > quantity(high):
                        found.append(f"{c['name']}: {kind}.{resource} {value} above the maximum {high}")
    return found
