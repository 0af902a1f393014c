"""`terraform plan` per environment against a local moto server, saved as JSON and checked resource by
resource.

Unlike the mocked `terraform test`, these assertions walk every planned resource, so a rule or bucket added
later is covered without touching the tests.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.deploy.system.world import terraform_plans
from tests.deploy.terraform.harness import ENVIRONMENTS
from tests.tooling import REPO_ROOT

pytestmark = [pytest.mark.tools, pytest.mark.slow]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "terraform"
PUBLIC = {"0.0.0.0/0", "::/0"}


@pytest.fixture(scope="module")
def plans() -> dict[str, dict[str, Any]]:
    # The same plans the whole-system model reads (planned once per checkout state, see world.py).
    result = terraform_plans()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    counts = {env: dict(sorted(Counter(r["type"] for r in managed(p)).items())) for env, p in result.items()}
    totals = {env: sum(c.values()) for env, c in counts.items()}
    (ARTIFACTS / "plan-counts.json").write_text(json.dumps({"totals": totals, "by_type": counts}, indent=2))
    return result


def managed(plan: dict[str, Any]) -> list[dict[str, Any]]:
    return [r for r in plan["resource_changes"] if r["mode"] == "managed"]


def of_type(plan: dict[str, Any], rtype: str) -> list[dict[str, Any]]:
    return [r for r in managed(plan) if r["type"] == rtype]


def config_refs(plan: dict[str, Any], address: str, attribute: str) -> list[str]:
    """References written in the configuration for one attribute of one resource (count/for_each stripped)."""
    base = address.split("[")[0]
    for res in plan["configuration"]["root_module"]["resources"]:
        if res["address"] == base:
            return res["expressions"].get(attribute, {}).get("references", [])
    raise AssertionError(f"{base} not in configuration")


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_plan_only_creates(plans: dict[str, dict[str, Any]], env: str) -> None:
    actions = {tuple(r["change"]["actions"]) for r in managed(plans[env])}
    assert actions == {("create",)}


@pytest.mark.parametrize(("env", "nat"), [("development", 1), ("staging", 1), ("production", 3)])
def test_network_shape(plans: dict[str, dict[str, Any]], env: str, nat: int) -> None:
    plan = plans[env]
    assert len(of_type(plan, "aws_nat_gateway")) == nat
    assert len(of_type(plan, "aws_eip")) == nat
    cidrs = sorted(r["change"]["after"]["cidr_block"] for r in of_type(plan, "aws_subnet"))
    assert cidrs == sorted([f"10.0.{n}.0/24" for n in (10, 11, 12, 20, 21, 22, 100, 101, 102)])
    zones = {r["change"]["after"]["availability_zone"] for r in of_type(plan, "aws_subnet")}
    assert zones == {"us-east-1a", "us-east-1b", "us-east-1c"}
    prefix = "com.amazonaws.us-east-1."
    endpoints = {r["change"]["after"]["service_name"].removeprefix(prefix) for r in of_type(plan, "aws_vpc_endpoint")}
    interface = set() if env == "development" else {"ecr.api", "ecr.dkr", "logs", "sts"}
    assert endpoints == {"s3"} | interface
    assert of_type(plan, "aws_flow_log")[0]["change"]["after"]["traffic_type"] == "ALL"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_node_groups_and_addons(plans: dict[str, dict[str, Any]], env: str) -> None:
    groups = {r["index"]: r["change"]["after"] for r in of_type(plans[env], "aws_eks_node_group")}
    assert set(groups) == {"main", "critical", "spot"}
    assert groups["spot"]["capacity_type"] == "SPOT"
    assert groups["spot"]["taint"] == [{"key": "spot", "value": "true", "effect": "NO_SCHEDULE"}]
    assert groups["critical"]["taint"] == [{"key": "critical", "value": "true", "effect": "NO_SCHEDULE"}]
    assert groups["main"]["capacity_type"] == "ON_DEMAND" and groups["main"]["taint"] == []
    addons = {r["index"] for r in of_type(plans[env], "aws_eks_addon")}
    # vpc-cni enforces NetworkPolicies, snapshot-controller serves VolumeSnapshots, metrics-server feeds the
    # HPA, the pod identity agent serves the platform roles (deploy/platform needs all of them).
    assert addons == {
        "vpc-cni",
        "coredns",
        "kube-proxy",
        "aws-ebs-csi-driver",
        "snapshot-controller",
        "metrics-server",
        "eks-pod-identity-agent",
    }
    if env == "production":
        scaling = {k: g["scaling_config"][0] for k, g in groups.items()}
        sizes = {k: (c["min_size"], c["max_size"]) for k, c in scaling.items()}
        # Sized for the peak by tests/deploy/system/test_capacity.py: 13 m*.2xlarge hold 75 web pods of 4 GiB;
        # the three CloudNativePG instances (one per zone) always need three critical nodes.
        assert sizes == {"main": (3, 16), "critical": (3, 5), "spot": (0, 5)}
        assert groups["main"]["instance_types"] == ["m6i.2xlarge", "m5.2xlarge", "m5a.2xlarge"]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_only_load_balancers_face_the_internet(plans: dict[str, dict[str, Any]], env: str) -> None:
    plan = plans[env]
    public = []
    for rule in of_type(plan, "aws_vpc_security_group_ingress_rule"):
        after = rule["change"]["after"]
        if after.get("cidr_ipv4") in PUBLIC or after.get("cidr_ipv6") in PUBLIC:
            group = config_refs(plan, rule["address"], "security_group_id")
            public.append((group[-1], after["from_port"], after["to_port"]))
    assert sorted(public) == [
        ("aws_security_group.load_balancers", 80, 80),
        ("aws_security_group.load_balancers", 443, 443),
    ]
    # Inline rules would escape the check above; every rule must be its own resource.
    for res in plan["configuration"]["root_module"]["resources"]:
        if res["type"] == "aws_security_group":
            assert not {"ingress", "egress"} & set(res["expressions"]), f"{res['address']} has inline rules"
    # Open egress exists only from the nodes: HTTPS (registries and upstream APIs through NAT) and HTTP for
    # cert-manager's HTTP-01 self-check through the public load balancer.
    egress = of_type(plan, "aws_vpc_security_group_egress_rule")
    open_egress = [
        (r["address"], r["change"]["after"]["from_port"])
        for r in egress
        if r["change"]["after"].get("cidr_ipv4") in PUBLIC
    ]
    assert sorted(open_egress) == [
        ("aws_vpc_security_group_egress_rule.nodes_acme_http_out", 80),
        ("aws_vpc_security_group_egress_rule.nodes_https_out", 443),
    ]


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_encryption_everywhere(plans: dict[str, dict[str, Any]], env: str) -> None:
    plan = plans[env]
    key = "aws_kms_key.this"
    for group in of_type(plan, "aws_cloudwatch_log_group"):
        assert key in config_refs(plan, group["address"], "kms_key_id"), group["address"]
    cluster = of_type(plan, "aws_eks_cluster")[0]["change"]["after"]
    assert cluster["encryption_config"][0]["resources"] == ["secrets"]
    assert of_type(plan, "aws_ebs_encryption_by_default")[0]["change"]["after"]["enabled"] is True
    for template in of_type(plan, "aws_launch_template"):
        after = template["change"]["after"]
        assert after["block_device_mappings"][0]["ebs"][0]["encrypted"] == "true"
        assert after["metadata_options"][0]["http_tokens"] == "required"
    buckets = {r["address"] for r in of_type(plan, "aws_s3_bucket")}
    for rtype in (
        "aws_s3_bucket_server_side_encryption_configuration",
        "aws_s3_bucket_public_access_block",
        "aws_s3_bucket_versioning",
        "aws_s3_bucket_lifecycle_configuration",
    ):
        covered = {config_refs(plan, r["address"], "bucket")[-1] for r in of_type(plan, rtype)}
        assert covered == buckets, f"{rtype} missing for {buckets - covered}"
    sse = of_type(plan, "aws_s3_bucket_server_side_encryption_configuration")[0]["change"]["after"]
    assert sse["rule"][0]["apply_server_side_encryption_by_default"][0]["sse_algorithm"] == "aws:kms"


@pytest.mark.parametrize("env", ENVIRONMENTS)
def test_every_resource_is_tagged_with_its_environment(plans: dict[str, dict[str, Any]], env: str) -> None:
    for res in managed(plans[env]):
        tags = res["change"]["after"].get("tags_all")
        if tags is not None:
            assert tags.get("Environment") == env and tags.get("ManagedBy") == "terraform", res["address"]


def test_outputs_tell_how_to_connect(plans: dict[str, dict[str, Any]]) -> None:
    outputs = plans["production"]["planned_values"]["outputs"]
    assert outputs["environment"]["value"] == "production"
    assert outputs["nat_gateway_count"]["value"] == 3
    assert outputs["rds_endpoint"]["value"] is None
    # The command itself is known only after apply (cluster name); the output must exist and be described.
    described = plans["production"]["configuration"]["root_module"]["outputs"]
    assert all(o.get("description") for o in described.values())
    wanted = {"configure_kubectl", "cluster_endpoint", "irsa_role_arns", "backup_bucket_name", "next_steps"}
    assert wanted <= set(described)
