"""Capacity at the peak: do all pods of an environment (HPA maximum plus rollout surge) fit the namespace's
ResourceQuota, and can the scheduler place them on the node groups Terraform plans?

- Effective pod requests/limits follow kubernetes.io/docs/concepts/resource-management/effective-pod-requests-
  limits/ (init containers one at a time beside the sidecars started before them; app containers plus all
  sidecars after); ResourceQuota charges those (kubernetes.io/docs/concepts/policy/resource-quotas/).
- Scheduling follows kubernetes.io/docs/concepts/scheduling-eviction/: taints and tolerations,
  nodeSelector and required node affinity, required pod anti-affinity, DoNotSchedule topology spread; soft
  rules (preferred affinity, ScheduleAnyway spread) only order the candidates. Every node group may launch
  any of its instance types, so each group is planned with its weakest type on every axis.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from tests.deploy.system import istio
from tests.deploy.system.admission import with_limit_range_defaults
from tests.deploy.system.instance_types import instance_type
from tests.deploy.system.pods import Pod, quantity
from tests.deploy.system.world import Environment, Plan

RESOURCES = ("cpu", "memory")
TAINT_EFFECTS = {"NO_SCHEDULE": "NoSchedule", "NO_EXECUTE": "NoExecute", "PREFER_NO_SCHEDULE": "PreferNoSchedule"}


def effective(pod: Pod, kind: str) -> dict[str, float]:
    """The pod's effective requests or limits (KIND) per resource, from its containers after defaulting."""
    result = {}
    for resource in RESOURCES:

        def amount(c: dict[str, Any], r: str = resource) -> float:
            return quantity(((c.get("resources") or {}).get(kind) or {}).get(r, 0))

        sidecars_so_far, init_peak = 0.0, 0.0
        for c in pod.spec.get("initContainers", []):
            if c.get("restartPolicy") == "Always":
                sidecars_so_far += amount(c)
                init_peak = max(init_peak, sidecars_so_far)
            else:
                init_peak = max(init_peak, sidecars_so_far + amount(c))
        running = sidecars_so_far + sum(amount(c) for c in pod.spec["containers"])
        result[resource] = max(init_peak, running)
    return result


# ------------------------------------------------------------------------------------------------ quota


def claimed_storage(env: Environment) -> list[tuple[str, float]]:
    """(claim, bytes) for every PVC the namespace gets: rendered PVCs, StatefulSet volumeClaimTemplates per
    replica, and CloudNativePG's PGDATA (and WAL) volume per instance (cloudnative-pg docs "Storage")."""
    claims = []
    for pvc in env.app.of_kind("PersistentVolumeClaim"):
        claims.append((pvc["metadata"]["name"], quantity(pvc["spec"]["resources"]["requests"]["storage"])))
    for sts in env.app.of_kind("StatefulSet"):
        for template in sts["spec"].get("volumeClaimTemplates", []):
            for i in range(sts["spec"].get("replicas", 1)):
                name = f"{template['metadata']['name']}-{sts['metadata']['name']}-{i}"
                claims.append((name, quantity(template["spec"]["resources"]["requests"]["storage"])))
    for cluster in env.app.of_kind("Cluster"):
        for i in range(1, cluster["spec"]["instances"] + 1):
            for key, suffix in (("storage", ""), ("walStorage", "-wal")):
                if cluster["spec"].get(key):
                    size = quantity(cluster["spec"][key]["size"])
                    claims.append((f"{cluster['metadata']['name']}-{i}{suffix}", size))
    return claims


@dataclass(frozen=True)
class QuotaUse:
    used: dict[str, float]
    hard: dict[str, float]

    def over(self) -> dict[str, tuple[float, float]]:
        return {k: (self.used[k], self.hard[k]) for k in self.hard if k in self.used and self.used[k] > self.hard[k]}


def quota_use(env: Environment, pods: list[Pod]) -> QuotaUse:
    limit_ranges = env.app.of_kind("LimitRange")
    used: Counter[str] = Counter()
    for pod in pods:
        defaulted = with_limit_range_defaults(pod, limit_ranges)
        used["pods"] += pod.peak
        for kind in ("requests", "limits"):
            for resource, value in effective(defaulted, kind).items():
                used[f"{kind}.{resource}"] += pod.peak * value
    claims = claimed_storage(env)
    used["persistentvolumeclaims"] = len(claims)
    used["requests.storage"] = sum(size for _, size in claims)
    hard: dict[str, float] = {}
    for quota in env.app.of_kind("ResourceQuota"):
        for key, value in quota["spec"]["hard"].items():
            hard[key] = min(hard.get(key, float("inf")), quantity(value))
    return QuotaUse(dict(used), hard)


# ------------------------------------------------------------------------------------------- node groups


@dataclass(frozen=True)
class Taint:
    key: str
    value: str
    effect: str


@dataclass(frozen=True)
class NodeGroup:
    """An EKS managed node group as planned: what a node offers (its weakest instance type) and looks like."""

    name: str
    instance_types: tuple[str, ...]
    max_size: int
    labels: dict[str, str]
    taints: tuple[Taint, ...]
    zones: tuple[str, ...]

    @property
    def cpu(self) -> float:
        return min(instance_type(t).allocatable_cpu for t in self.instance_types)

    @property
    def memory(self) -> float:
        return min(instance_type(t).allocatable_memory for t in self.instance_types)

    @property
    def max_pods(self) -> int:
        return min(instance_type(t).max_pods for t in self.instance_types)


def node_groups(plan: Plan) -> list[NodeGroup]:
    groups = []
    for group in plan.resources("aws_eks_node_group"):
        subnets = [
            ref.split(".")[1]
            for ref in plan.config_refs(group["address"], "subnet_ids")
            if ref.startswith("aws_subnet.")
        ]
        zones = sorted(
            {
                s["availability_zone"]
                for name in subnets
                for s in plan.resources("aws_subnet")
                if s["address"].startswith(f"aws_subnet.{name}[")
            }
        )
        # EKS labels every node with its capacity type and node group (docs.aws.amazon.com/eks/latest/
        # userguide/managed-node-groups.html) besides the group's own labels.
        labels = dict(group.get("labels") or {}) | {
            "eks.amazonaws.com/capacityType": group.get("capacity_type") or "ON_DEMAND",
            "eks.amazonaws.com/nodegroup": group["node_group_name"],
        }
        taints = tuple(
            Taint(t["key"], t.get("value") or "", TAINT_EFFECTS[t["effect"]]) for t in group.get("taint") or []
        )
        groups.append(
            NodeGroup(
                group["node_group_name"],
                tuple(group["instance_types"]),
                group["scaling_config"][0]["max_size"],
                labels,
                taints,
                tuple(zones),
            )
        )
    return sorted(groups, key=lambda g: g.name)


@dataclass(frozen=True)
class DaemonPod:
    name: str
    cpu: float
    memory: float


def daemonsets(env: Environment) -> list[DaemonPod]:
    """Pods every node runs before any of ours, with their documented requests: the EKS add-ons Terraform
    installs (aws-node: aws-vpc-cni chart requests 25m; kube-proxy: EKS add-on requests 100m; ebs-csi-node:
    aws-ebs-csi-driver chart node requests 10m/40Mi for each of its 3 containers) and, when the platform runs
    the Istio CNI node agent, istio-cni-node (istio cni chart requests 100m/100Mi)."""
    pods = [
        DaemonPod("aws-node", 0.025, 0),
        DaemonPod("kube-proxy", 0.1, 0),
        DaemonPod("ebs-csi-node", 0.03, 3 * 40 * 2**20),
    ]
    if istio.mesh(env.platform).cni:
        pods.append(DaemonPod("istio-cni-node", 0.1, 100 * 2**20))
    return pods


def cluster_pods(env: Environment) -> list[Pod]:
    """Pods outside the namespace that share the untainted nodes: CoreDNS, when Terraform installs the coredns
    add-on (two replicas requesting 100m/70Mi each, the EKS add-on's Deployment and kubernetes coredns
    manifest). Operators the platform layer installs are not modelled here."""
    addons = {a["addon_name"] for a in env.plan.resources("aws_eks_addon")}
    if "coredns" not in addons:
        return []
    spec = {"containers": [{"name": "coredns", "resources": {"requests": {"cpu": "100m", "memory": "70Mi"}}}]}
    return [Pod("kube-system Deployment/coredns", "kube-system", {"labels": {"k8s-app": "kube-dns"}}, spec, peak=2)]


# ----------------------------------------------------------------------------------------------- scheduling


@dataclass
class Node:
    group: NodeGroup
    zone: str
    index: int
    cpu: float
    memory: float
    pods: int
    placed: list[Pod] = field(default_factory=list)

    @property
    def labels(self) -> dict[str, str]:
        return self.group.labels | {
            "topology.kubernetes.io/zone": self.zone,
            "kubernetes.io/hostname": f"{self.group.name}-{self.index}",
        }


def tolerates(pod: Pod, taint: Taint) -> bool:
    for t in pod.spec.get("tolerations", []):
        if t.get("effect") and t["effect"] != taint.effect:
            continue
        if t.get("operator", "Equal") == "Exists" and (not t.get("key") or t["key"] == taint.key):
            return True
        if t.get("key") == taint.key and t.get("value", "") == taint.value:
            return True
    return False


def _expression(expr: dict[str, Any], labels: dict[str, str]) -> bool:
    key, op, values = expr["key"], expr["operator"], expr.get("values", [])
    if op == "In":
        return labels.get(key) in values
    if op == "NotIn":
        return labels.get(key) not in values
    if op == "Exists":
        return key in labels
    if op == "DoesNotExist":
        return key not in labels
    if op in ("Gt", "Lt"):
        if key not in labels:
            return False
        return int(labels[key]) > int(values[0]) if op == "Gt" else int(labels[key]) < int(values[0])
    raise AssertionError(f"unknown operator {op}")


def _selects(selector: dict[str, Any], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()) and all(
        _expression(e, labels) for e in selector.get("matchExpressions") or []
    )


def fits_node_rules(pod: Pod, labels: dict[str, str], taints: tuple[Taint, ...]) -> bool:
    if any(t.effect in ("NoSchedule", "NoExecute") and not tolerates(pod, t) for t in taints):
        return False
    if any(labels.get(k) != v for k, v in (pod.spec.get("nodeSelector") or {}).items()):
        return False
    required = ((pod.spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "requiredDuringSchedulingIgnoredDuringExecution"
    ) or {}
    terms = required.get("nodeSelectorTerms") or []
    return not terms or any(all(_expression(e, labels) for e in term.get("matchExpressions", [])) for term in terms)


def preference(pod: Pod, labels: dict[str, str]) -> int:
    preferred = ((pod.spec.get("affinity") or {}).get("nodeAffinity") or {}).get(
        "preferredDuringSchedulingIgnoredDuringExecution"
    ) or []
    return sum(
        p["weight"]
        for p in preferred
        if all(_expression(e, labels) for e in p["preference"].get("matchExpressions", []))
    )


def _anti_affinity_ok(pod: Pod, node: Node, nodes: list[Node]) -> bool:
    affinity = pod.spec.get("affinity") or {}
    if (affinity.get("podAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution"):
        raise AssertionError(f"{pod.owner}: required pod affinity is not in the capacity model")
    for term in (affinity.get("podAntiAffinity") or {}).get("requiredDuringSchedulingIgnoredDuringExecution", []):
        domain = node.labels.get(term["topologyKey"])
        for other in nodes:
            if other.labels.get(term["topologyKey"]) == domain and any(
                _selects(term["labelSelector"], p.labels) for p in other.placed
            ):
                return False
    return True


def _spread_ok(pod: Pod, node: Node, nodes: list[Node], domains: dict[str, set[str]]) -> bool:
    for constraint in pod.spec.get("topologySpreadConstraints", []):
        if constraint.get("whenUnsatisfiable", "DoNotSchedule") != "DoNotSchedule":
            continue
        key = constraint["topologyKey"]
        counts = dict.fromkeys(domains.get(key, set()), 0)
        for other in nodes:
            matching = sum(_selects(constraint["labelSelector"], p.labels) for p in other.placed)
            counts[other.labels[key]] = counts.get(other.labels[key], 0) + matching
        target = node.labels[key]
        if counts.get(target, 0) + 1 - min(counts.values() or [0]) > constraint["maxSkew"]:
            return False
    return True


@dataclass
class Schedule:
    nodes: list[Node]
    unscheduled: list[str]

    def nodes_per_group(self) -> dict[str, int]:
        return dict(Counter(n.group.name for n in self.nodes))


def schedule(pods: list[Pod], groups: list[NodeGroup], daemons: list[DaemonPod]) -> Schedule:
    """Place every copy of every pod the way the scheduler plus a node autoscaler would: onto an existing node
    that fits, else onto a new node of a group that has room below its max_size (preferred groups first,
    the new node in the group's least used zone that satisfies the pod)."""
    nodes: list[Node] = []
    unscheduled = []
    daemon_cpu, daemon_memory = sum(d.cpu for d in daemons), sum(d.memory for d in daemons)
    domains = {"topology.kubernetes.io/zone": {z for g in groups for z in g.zones}}
    copies = [pod for pod in pods for _ in range(pod.peak)]
    # Most constrained first, then largest: first-fit decreasing.
    copies.sort(
        key=lambda p: (
            sum(fits_node_rules(p, g.labels, g.taints) for g in groups),
            -effective(p, "requests")["memory"],
            -effective(p, "requests")["cpu"],
        )
    )
    for pod in copies:
        need = effective(pod, "requests")
        eligible = [
            g for g in groups if fits_node_rules(pod, g.labels | {"topology.kubernetes.io/zone": g.zones[0]}, g.taints)
        ]
        eligible.sort(key=lambda g: -preference(pod, g.labels))
        placed = False
        for group in eligible:
            candidates = [n for n in nodes if n.group is group]
            opened = len(candidates)
            for zone in sorted(group.zones, key=lambda z: sum(n.zone == z for n in candidates)):
                if opened < group.max_size:
                    candidates.append(
                        Node(
                            group,
                            zone,
                            opened,
                            group.cpu - daemon_cpu,
                            group.memory - daemon_memory,
                            group.max_pods - len(daemons),
                        )
                    )
            for node in candidates:
                if node.cpu < need["cpu"] or node.memory < need["memory"] or node.pods < 1:
                    continue
                if not _anti_affinity_ok(pod, node, nodes) or not _spread_ok(pod, node, nodes, domains):
                    continue
                if node not in nodes:
                    nodes.append(node)
                node.cpu -= need["cpu"]
                node.memory -= need["memory"]
                node.pods -= 1
                node.placed.append(pod)
                placed = True
                break
            if placed:
                break
        if not placed:
            unscheduled.append(pod.owner)
    return Schedule(nodes, unscheduled)
