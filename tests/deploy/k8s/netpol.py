"""A small evaluator of Kubernetes NetworkPolicy semantics over rendered manifests.

It answers "would this connection be allowed?" the way the API defines it: a pod selected by no policy of
a direction is open in that direction; a selected pod allows only what some rule of a selecting policy
allows. Peers outside the rendered namespace (ingress controller, Prometheus, DNS, the internet) are
modelled as pods or IP addresses with the labels their usual installations carry.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Pod:
    namespace: str
    labels: dict[str, str]
    ports: dict[str, int] = field(default_factory=dict)  # named container ports
    name: str = ""

    def __hash__(self) -> int:
        return hash((self.namespace, tuple(sorted(self.labels.items()))))


@dataclass(frozen=True)
class Address:
    ip: str
    name: str = ""


Endpoint = Pod | Address


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Label selector semantics: matchLabels AND every matchExpression; an empty selector selects all."""
    selector = selector or {}
    if any(labels.get(k) != v for k, v in (selector.get("matchLabels") or {}).items()):
        return False
    for expr in selector.get("matchExpressions") or []:
        key, op, values = expr["key"], expr["operator"], expr.get("values") or []
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def _peer_matches(peer: dict[str, Any], policy_ns: str, other: Endpoint) -> bool:
    if "ipBlock" in peer:
        if not isinstance(other, Address):
            return False  # pod IPs matching an ipBlock is implementation-defined: never count on it
        ip = ipaddress.ip_address(other.ip)
        block = peer["ipBlock"]
        return ip in ipaddress.ip_network(block["cidr"]) and not any(
            ip in ipaddress.ip_network(e) for e in block.get("except", [])
        )
    if not isinstance(other, Pod):
        return False
    if "namespaceSelector" in peer:
        ns_labels = {"kubernetes.io/metadata.name": other.namespace}
        if not selects(peer["namespaceSelector"], ns_labels):
            return False
    elif other.namespace != policy_ns:
        return False
    return selects(peer.get("podSelector"), other.labels)


def _port_matches(rule_ports: list[dict[str, Any]] | None, target: Endpoint, port: int, proto: str) -> bool:
    if not rule_ports:
        return True
    for item in rule_ports:
        if item.get("protocol", "TCP") != proto:
            continue
        wanted = item.get("port")
        if wanted is None:
            return True
        if isinstance(wanted, str):
            wanted = target.ports.get(wanted) if isinstance(target, Pod) else None
        if wanted == port or (wanted is not None and wanted <= port <= item.get("endPort", wanted)):
            return True
    return False


@dataclass
class PolicySet:
    namespace: str
    policies: list[dict[str, Any]]
    used_rules: set[tuple[str, str, int]] = field(default_factory=set)

    def _selecting(self, pod: Pod, direction: str) -> list[dict[str, Any]]:
        if pod.namespace != self.namespace:
            return []
        return [
            p
            for p in self.policies
            if direction in p["spec"].get("policyTypes", ["Ingress"]) and selects(p["spec"]["podSelector"], pod.labels)
        ]

    def _side_allows(self, pod: Pod, direction: str, other: Endpoint, target: Endpoint, port: int, proto: str) -> bool:
        policies = self._selecting(pod, direction)
        if not policies:
            return True
        key, peers_key = ("egress", "to") if direction == "Egress" else ("ingress", "from")
        allowed = False
        for policy in policies:
            for index, rule in enumerate(policy["spec"].get(key) or []):
                peers = rule.get(peers_key)
                peer_ok = not peers or any(_peer_matches(p, self.namespace, other) for p in peers)
                if peer_ok and _port_matches(rule.get("ports"), target, port, proto):
                    self.used_rules.add((policy["metadata"]["name"], key, index))
                    allowed = True
        return allowed

    def allows(self, src: Endpoint, dst: Endpoint, port: int, proto: str = "TCP") -> bool:
        """Egress of the source and ingress of the destination must both allow the connection."""
        egress = not isinstance(src, Pod) or self._side_allows(src, "Egress", dst, dst, port, proto)
        ingress = not isinstance(dst, Pod) or self._side_allows(dst, "Ingress", src, dst, port, proto)
        return egress and ingress

    def rules_selecting(self, pod: Pod) -> set[tuple[str, str, int]]:
        """Every (policy, direction, rule index) that applies to POD."""
        found = set()
        for direction, key in (("Egress", "egress"), ("Ingress", "ingress")):
            for policy in self._selecting(pod, direction):
                for index, _ in enumerate(policy["spec"].get(key) or []):
                    found.add((policy["metadata"]["name"], key, index))
        return found
