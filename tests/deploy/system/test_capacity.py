"""Capacity seams: at HPA maximum plus rollout surge, every pod of the environment fits the namespace's
ResourceQuota and schedules onto the node groups Terraform plans (max_size nodes of the weakest instance
type each group may launch), respecting taints, selectors, affinity and spread."""

from __future__ import annotations

import pytest

from tests.deploy.system.admission import with_limit_range_defaults
from tests.deploy.system.capacity import (
    NodeGroup,
    Taint,
    cluster_pods,
    daemonsets,
    node_groups,
    quota_use,
    schedule,
)
from tests.deploy.system.instance_types import INSTANCE_TYPES, instance_type
from tests.deploy.system.inventory import environment_pods
from tests.deploy.system.pods import Pod
from tests.deploy.system.world import Environment


def peak_pods(env: Environment) -> list[Pod]:
    limit_ranges = env.app.of_kind("LimitRange")
    return [with_limit_range_defaults(pod, limit_ranges) for pod in environment_pods(env)] + cluster_pods(env)


def test_peak_fits_the_resource_quota(env: Environment) -> None:
    """Review item 9 (staging's 20 Gi storage quota below its 10 Gi database + 20 Gi backup claims) and the
    pods/CPU/memory the largest rollout needs, operator-made pods and Istio sidecars included."""
    use = quota_use(env, environment_pods(env))
    assert not use.over(), f"{env.name}: at the peak the namespace needs more than its quota: {use.over()}"


def test_peak_schedules_onto_the_planned_node_groups(env: Environment) -> None:
    """Review item 4: production web pods (4 GiB + sidecar) do not fit c5.large, the node groups' max_size
    cannot hold HPA max x requests, and the tainted critical/spot groups are tolerated by nothing."""
    groups = node_groups(env.plan)
    result = schedule(peak_pods(env), groups, daemonsets(env))
    assert not result.unscheduled, (
        f"{env.name}: {len(result.unscheduled)} pods stay Pending at the peak: {sorted(set(result.unscheduled))}; "
        f"nodes used {result.nodes_per_group()} of max { ({g.name: g.max_size for g in groups}) }"
    )


def test_every_tainted_node_group_has_tenants(env: Environment) -> None:
    """A tainted group nothing tolerates is paid-for capacity no pod can use (review item 4: `critical` and
    `spot`; docs/kubernetes.md says the sync workers run on spot)."""
    result = schedule(peak_pods(env), node_groups(env.plan), daemonsets(env))
    used = result.nodes_per_group()
    for group in node_groups(env.plan):
        if group.taints:
            assert used.get(group.name), f"{env.name}: no pod tolerates node group {group.name} {group.taints}"


def test_workers_run_on_spot_and_serving_pods_do_not(env: Environment) -> None:
    """Spot capacity is reclaimed at two minutes' notice (docs.aws.amazon.com/AWSEC2/latest/UserGuide/
    spot-interruptions.html): the sync worker (leases make an interruption harmless) goes there; web and the
    database never do."""
    result = schedule(peak_pods(env), node_groups(env.plan), daemonsets(env))
    spot = {
        p.owner
        for n in result.nodes
        if n.group.labels.get("eks.amazonaws.com/capacityType") == "SPOT"
        for p in n.placed
    }
    assert "Deployment/hyperpage-worker" in spot
    assert not {o for o in spot if "web" in o or "Cluster/" in o or "postgres" in o or "Pooler/" in o}


# The model itself, on facts the sources state outright.


@pytest.mark.parametrize(
    ("name", "max_pods"), [("c5.large", 29), ("c5.xlarge", 58), ("m5.2xlarge", 58), ("m5.4xlarge", 234)]
)
def test_max_pods_match_eni_max_pods_txt(name: str, max_pods: int) -> None:
    # awslabs/amazon-eks-ami templates/shared/runtime/eni-max-pods.txt
    assert instance_type(name).max_pods == max_pods


def test_allocatable_follows_the_eks_ami_reservations() -> None:
    c5_large = INSTANCE_TYPES["c5.large"]
    # 6% of the first core + 1% of the second = 70m; 11 x 29 + 255 = 574 MiB.
    assert round(c5_large.kube_reserved_cpu * 1000) == 70
    assert c5_large.kube_reserved_memory == 574 * 2**20
    # A c5.large offers pods about 3.0 GiB: a 4 GiB web pod can never run there.
    assert 2.9 * 2**30 < c5_large.allocatable_memory < 3.1 * 2**30


def test_the_scheduler_model_honours_taints_and_max_size() -> None:
    pod = Pod(
        "Deployment/x",
        "ns",
        {"labels": {"app": "x"}},
        {"containers": [{"name": "x", "resources": {"requests": {"cpu": "1", "memory": "1Gi"}}}]},
        peak=3,
    )
    tainted = NodeGroup(
        "critical", ("c5.xlarge",), 5, {"workload": "critical"}, (Taint("critical", "true", "NoSchedule"),), ("a",)
    )
    assert len(schedule([pod], [tainted], []).unscheduled) == 3
    tolerating = Pod(
        pod.owner,
        pod.namespace,
        pod.metadata,
        {
            **pod.spec,
            "tolerations": [{"key": "critical", "operator": "Equal", "value": "true", "effect": "NoSchedule"}],
        },
        peak=3,
    )
    assert not schedule([tolerating], [tainted], []).unscheduled
    small = NodeGroup("main", ("c5.large",), 1, {}, (), ("a",))
    assert len(schedule([pod], [small], []).unscheduled) == 2  # one 1-CPU pod per c5.large (1.93 cores)
