"""Network seam: every flow the system needs passes the planned security groups AND the NetworkPolicies,
and the VPC CNI enforces those policies. The evaluators are checked on flows they must refuse, so a pass
is never a model that lets everything through."""

from __future__ import annotations

import pytest

from tests.deploy.k8s.netpol import Pod
from tests.deploy.system.flows import (
    CERT_MANAGER,
    INGRESS_NGINX,
    SOLVER,
    SOLVER_PORT,
    WEBHOOKS,
    Network,
    needed_flows,
    vpc_cni_configuration,
)
from tests.deploy.system.network import Flow, NetworkPolicies, SecurityGroups
from tests.deploy.system.world import Environment


def policies(env: Environment) -> NetworkPolicies:
    return NetworkPolicies.of(env.app.docs + env.platform.docs)


def test_security_groups_allow_every_needed_flow(env: Environment) -> None:
    groups = SecurityGroups.from_plan(env.plan)
    blocked = [str(flow) for flow in needed_flows(env) if not groups.allows(flow)]
    assert not blocked, f"{env.name}: security groups drop:\n" + "\n".join(blocked)


def test_network_policies_allow_every_needed_flow(env: Environment) -> None:
    rules = policies(env)
    blocked = [str(flow) for flow in needed_flows(env) if not rules.allows(flow)]
    assert not blocked, f"{env.name}: NetworkPolicies drop:\n" + "\n".join(blocked)


def test_control_plane_reaches_every_webhook_the_platform_registers(env: Environment) -> None:
    # Admission webhooks fail closed: a blocked port stops pod/Ingress creation; a blocked aggregated API
    # (prometheus-adapter, metrics-server) takes the HPA's metrics away.
    groups, net = SecurityGroups.from_plan(env.plan), Network(env)
    unreachable = [
        f"{hook.name}: {hook.port} ({hook.source})"
        for hook in WEBHOOKS
        if not groups.allows(Flow(net.control_plane, net.pod(hook.pod), hook.port))
    ]
    assert not unreachable, f"{env.name}: control plane cannot reach:\n" + "\n".join(unreachable)


def test_the_vpc_cni_enforces_network_policies(env: Environment) -> None:
    # NetworkPolicies are accepted by the API either way; only the VPC CNI's network policy agent enforces
    # them, switched on by the add-on configuration {"enableNetworkPolicy": "true"}
    # (docs.aws.amazon.com/eks/latest/userguide/cni-network-policy-configure.html).
    configuration = vpc_cni_configuration(env)
    assert configuration is not None, f"{env.name}: no vpc-cni add-on is planned"
    assert configuration.get("enableNetworkPolicy") == "true", f"{env.name}: vpc-cni {configuration}"


def test_security_groups_refuse_what_nothing_needs(env: Environment) -> None:
    groups, net = SecurityGroups.from_plan(env.plan), Network(env)
    web = net.pod(Pod(env.namespace, {"app.kubernetes.io/component": "web"}, name="web"))
    refused = [
        Flow(net.user, web, 3000, why="the internet straight to a pod"),
        Flow(net.user, net.node, 10250, why="the internet to a kubelet"),
        Flow(net.control_plane, net.node, 22, why="SSH from the control plane"),
        Flow(net.load_balancer, web, 5432, why="the load balancer to a database port"),
        Flow(net.user, net.control_plane, 443, why="the private API endpoint from outside"),
        Flow(web, net.upstream, 22, why="pods out to the internet on SSH"),
    ]
    assert [str(f) for f in refused if groups.allows(f)] == []


def test_network_policies_refuse_what_nothing_needs(env: Environment) -> None:
    rules, net = policies(env), Network(env)
    solver = net.pod(Pod(env.namespace, SOLVER, {"http": SOLVER_PORT}, name="solver"))
    stranger = net.pod(Pod(env.namespace, {"app": "debug-shell"}, name="stranger"))
    elsewhere = net.pod(Pod("default", {"app": "anything"}, name="other-namespace"))
    refused = [
        Flow(stranger, solver, SOLVER_PORT, why="only the ingress controller fetches the challenge"),
        Flow(elsewhere, solver, SOLVER_PORT, why="nor any other namespace"),
        Flow(net.pod(INGRESS_NGINX), solver, 22, why="nor on another port"),
        Flow(net.pod(CERT_MANAGER), solver, SOLVER_PORT, why="the self-check goes through the load balancer"),
        Flow(solver, net.upstream, 443, why="the solver calls nobody"),
    ]
    assert [str(f) for f in refused if rules.allows(f)] == []


@pytest.mark.parametrize("port", sorted({hook.port for hook in WEBHOOKS}))
def test_every_webhook_port_is_cited(port: int) -> None:
    # The table is the model's only source for these ports: each row names where its number comes from.
    for hook in WEBHOOKS:
        if hook.port == port:
            assert str(port) in hook.source, f"{hook.name}: {hook.source}"
