"""The network seam's vocabulary: a `Flow` the system needs, and the two layers that can drop it.

On EKS a packet between two pods, or between the control plane and a pod, passes two independent filters:

- the AWS security groups of the network interfaces at both ends. With the VPC CNI a pod uses the security
  groups of its node's primary interface ("Security groups for Pods": by default pods get the node's
  security groups, https://docs.aws.amazon.com/eks/latest/userguide/security-groups-for-pods.html), and the
  control plane's cross-account interfaces carry the cluster security groups of `vpc_config`
  (https://docs.aws.amazon.com/eks/latest/userguide/sec-group-reqs.html). Groups are stateful: a flow needs an
  egress rule on the source side and an ingress rule on the destination side, replies need nothing
  (https://docs.aws.amazon.com/vpc/latest/userguide/vpc-security-groups.html);
- the Kubernetes NetworkPolicies of both namespaces (tests/deploy/k8s/netpol.py evaluates them as the API
  defines them), enforced only when the VPC CNI runs its network policy agent.

Security group rules are read from the Terraform plan: rule resources by address, the groups they attach to
and reference by the configuration's references (group ids are unknown until apply).
"""

from __future__ import annotations

import ipaddress
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from tests.deploy.k8s.netpol import Address, Endpoint, Pod, PolicySet
from tests.deploy.system.world import Plan

_PROTOCOLS = {"tcp": "TCP", "6": "TCP", "udp": "UDP", "17": "UDP", "-1": "ALL", "all": "ALL"}


@dataclass(frozen=True)
class Peer:
    """One end of a flow, as each layer sees it.

    `k8s` is what NetworkPolicies match (a pod with its namespace and labels, or an address for anything that
    is not a pod); `groups` the security groups (names in the plan, aws_security_group.<name>) on its network
    interface, empty outside the VPC; `ip` the address CIDR rules are matched against.
    """

    name: str
    k8s: Endpoint
    groups: frozenset[str] = frozenset()
    ip: str = ""


@dataclass(frozen=True)
class Flow:
    """A connection the system cannot work without, and why it is needed."""

    source: Peer
    destination: Peer
    port: int
    protocol: str = "TCP"
    why: str = ""

    def __str__(self) -> str:
        return f"{self.source.name} -> {self.destination.name}:{self.port}/{self.protocol} ({self.why})"


@dataclass(frozen=True)
class Rule:
    """One security group rule of the plan."""

    address: str
    group: str
    direction: str  # "ingress" | "egress"
    protocol: str  # "TCP" | "UDP" | "ALL"
    from_port: int | None
    to_port: int | None
    peer_group: str | None
    cidr: str | None

    def admits(self, other: Peer, port: int, protocol: str) -> bool:
        if self.protocol != "ALL" and self.protocol != protocol:
            return False
        if self.protocol != "ALL" and not (self.from_port <= port <= self.to_port):  # type: ignore[operator]
            return False
        if self.peer_group is not None:
            return self.peer_group in other.groups
        return bool(other.ip) and ipaddress.ip_address(other.ip) in ipaddress.ip_network(self.cidr or "")


def _group_name(refs: list[str]) -> str | None:
    names = {ref.split(".")[1] for ref in refs if ref.startswith("aws_security_group.")}
    assert len(names) <= 1, f"a rule referencing several groups: {refs}"
    return names.pop() if names else None


@dataclass
class SecurityGroups:
    """The planned security group rules, and whether they let a flow through."""

    rules: list[Rule]

    @classmethod
    def from_plan(cls, plan: Plan) -> SecurityGroups:
        # Only the standalone rule resources are read; a rule written any other way would be invisible here.
        assert not plan.resources("aws_security_group_rule"), "use aws_vpc_security_group_*_rule resources"
        for group in plan.resources("aws_security_group"):
            assert not group.get("ingress") and not group.get("egress"), f"{group['address']} has inline rules"
        rules = []
        for rtype, direction in (
            ("aws_vpc_security_group_ingress_rule", "ingress"),
            ("aws_vpc_security_group_egress_rule", "egress"),
        ):
            for res in plan.resources(rtype):
                unread = [k for k in ("cidr_ipv6", "prefix_list_id") if res.get(k)]
                assert not unread, f"{res['address']}: the model does not read {unread}"
                group = _group_name(plan.config_refs(res["address"], "security_group_id"))
                assert group, f"{res['address']} attaches to no aws_security_group"
                rules.append(
                    Rule(
                        address=res["address"],
                        group=group,
                        direction=direction,
                        protocol=_PROTOCOLS[str(res["ip_protocol"]).lower()],
                        from_port=res.get("from_port"),
                        to_port=res.get("to_port"),
                        peer_group=_group_name(plan.config_refs(res["address"], "referenced_security_group_id")),
                        cidr=res.get("cidr_ipv4"),
                    )
                )
        return cls(rules)

    def _side(self, own: Peer, direction: str, other: Peer, port: int, protocol: str) -> list[Rule]:
        return [
            r
            for r in self.rules
            if r.group in own.groups and r.direction == direction and r.admits(other, port, protocol)
        ]

    def allows(self, flow: Flow) -> bool:
        """Outside the VPC (no groups) nothing filters; inside, both ends' groups must have a matching rule."""
        src, dst = flow.source, flow.destination
        egress = not src.groups or bool(self._side(src, "egress", dst, flow.port, flow.protocol))
        ingress = not dst.groups or bool(self._side(dst, "ingress", src, flow.port, flow.protocol))
        return egress and ingress


@dataclass
class NetworkPolicies:
    """Every rendered NetworkPolicy, by namespace; a flow must pass the source's and the destination's."""

    by_namespace: dict[str, PolicySet] = field(default_factory=dict)

    @classmethod
    def of(cls, docs: list[dict[str, Any]]) -> NetworkPolicies:
        grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for doc in docs:
            if doc["kind"] == "NetworkPolicy":
                grouped[doc["metadata"]["namespace"]].append(doc)
        return cls({ns: PolicySet(ns, policies) for ns, policies in grouped.items()})

    def allows(self, flow: Flow) -> bool:
        src, dst = flow.source.k8s, flow.destination.k8s
        sets = [
            self.by_namespace[p.namespace]
            for p in (src, dst)
            if isinstance(p, Pod) and p.namespace in self.by_namespace
        ]
        return all(ps.allows(src, dst, flow.port, flow.protocol) for ps in sets)


def host(cidr: str, index: int) -> str:
    """The INDEXth address of a CIDR block (a stand-in for an interface in that subnet)."""
    return str(ipaddress.ip_network(cidr)[index])


def pod_peer(pod: Pod, ip: str) -> Peer:
    """A pod on a node: NetworkPolicies see the pod, security groups the node's groups (VPC CNI)."""
    return Peer(pod.name or str(pod.labels), pod, frozenset({"nodes"}), ip)


def address_peer(name: str, ip: str, groups: frozenset[str] = frozenset()) -> Peer:
    return Peer(name, Address(ip, name), groups, ip)
