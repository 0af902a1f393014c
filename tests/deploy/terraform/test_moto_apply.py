"""The infrastructure half of scripts/deploy-terraform.sh for real: the real aws CLI creates the state bucket
and lock table, real terraform inits the S3 backend, plans and applies production, all against moto on
127.0.0.1; kubectl is the recording stand-in. Then terraform destroys everything again.

moto rejects aws_eks_addon and lacks GetEbsDefaultKmsKeyId, so TF_VAR_enable_eks_addons=false and
TF_VAR_manage_ebs_default_kms_key=false for this run only.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.deploy.terraform.harness import MOTO_ACCOUNT, MotoServer, moto_override, run
from tests.deploy.terraform.scripted import Deployment, HealthServer, make_deployment
from tests.tooling import REPO_ROOT, require_tool

pytestmark = [pytest.mark.tools, pytest.mark.slow]
ARTIFACTS = REPO_ROOT / "test-artifacts" / "terraform"
CLUSTER = "hyperpage-production"
STATE_BUCKET = "hyperpage-terraform-state-production"
STATE_KEY = "hyperpage/production/terraform.tfstate"


def backend_override(endpoint: str) -> str:
    # Replaces the backend block of versions.tf; bucket, key and table still come from envs/*.backend.hcl.
    return f"""
terraform {{
  backend "s3" {{
    endpoints = {{
      s3       = "{endpoint}"
      dynamodb = "{endpoint}"
      sts      = "{endpoint}"
      iam      = "{endpoint}"
    }}
    use_path_style              = true
    skip_credentials_validation = true
    skip_requesting_account_id  = true
    skip_metadata_api_check     = true
    access_key                  = "testing"
    secret_key                  = "testing"
  }}
}}
"""


@pytest.fixture(scope="module")
def applied(tmp_path_factory: pytest.TempPathFactory, moto: MotoServer) -> Iterator[dict[str, Any]]:
    """Runs the deploy script against moto once; destroys in teardown if a test did not get that far."""
    base = tmp_path_factory.mktemp("deploy-moto")
    health = HealthServer()
    deployment = make_deployment(base, ("aws", "kubectl", "helm"), health.port)
    (deployment.root / "deploy/terraform/moto_override.tf").write_text(
        moto_override(moto.endpoint) + backend_override(moto.endpoint)
    )
    deployment.env.update(
        REAL_AWS=require_tool("aws"),
        AWS_ENDPOINT_URL=moto.endpoint,
        AWS_ACCESS_KEY_ID="testing",
        AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
        TF_VAR_enable_eks_addons="false",
        TF_VAR_manage_ebs_default_kms_key="false",  # moto lacks GetEbsDefaultKmsKeyId
    )
    started = time.monotonic()
    proc = deployment.run("--auto-approve", "production", timeout=900)
    state = {
        "deployment": deployment,
        "proc": proc,
        "apply_seconds": round(time.monotonic() - started, 1),
        "destroyed": False,
    }
    try:
        yield state
    finally:
        health.stop()
        if not state["destroyed"]:
            destroy(deployment)


def destroy(deployment: Deployment) -> float:
    started = time.monotonic()
    run(
        [
            require_tool("terraform"),
            "destroy",
            "-input=false",
            "-auto-approve",
            "-no-color",
            "-var-file=envs/production.tfvars",
        ],
        cwd=deployment.root / "deploy/terraform",
        env=deployment.env,
        timeout=900,
    )
    return round(time.monotonic() - started, 1)


def test_script_applies_production(applied: dict[str, Any], moto: MotoServer) -> None:
    proc = applied["proc"]
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "Apply complete!" in proc.stdout
    # The real CLI created the backend the first init needed, with the settings the script asked for.
    s3 = moto.client("s3")
    assert s3.get_bucket_versioning(Bucket=STATE_BUCKET)["Status"] == "Enabled"
    block = s3.get_public_access_block(Bucket=STATE_BUCKET)["PublicAccessBlockConfiguration"]
    assert all(block.values())
    table = moto.client("dynamodb").describe_table(TableName="hyperpage-terraform-locks")["Table"]
    assert table["KeySchema"] == [{"AttributeName": "LockID", "KeyType": "HASH"}]
    state = json.loads(s3.get_object(Bucket=STATE_BUCKET, Key=STATE_KEY)["Body"].read())
    assert len(state["resources"]) > 50


def test_cluster_and_node_groups_exist(applied: dict[str, Any], moto: MotoServer) -> None:
    eks = moto.client("eks")
    cluster = eks.describe_cluster(name=CLUSTER)["cluster"]
    assert cluster["encryptionConfig"][0]["resources"] == ["secrets"]
    assert cluster["resourcesVpcConfig"]["endpointPrivateAccess"] is True
    groups = {
        name: eks.describe_nodegroup(clusterName=CLUSTER, nodegroupName=name)["nodegroup"]
        for name in eks.list_nodegroups(clusterName=CLUSTER)["nodegroups"]
    }
    assert set(groups) == {"main", "critical", "spot"}
    assert groups["spot"]["capacityType"] == "SPOT"
    assert groups["spot"]["taints"] == [{"key": "spot", "value": "true", "effect": "NO_SCHEDULE"}]
    # Sized for the peak (tests/deploy/system/test_capacity.py): 13 m*.2xlarge hold 75 web pods of 4 GiB.
    assert groups["main"]["scalingConfig"] == {"minSize": 3, "maxSize": 16, "desiredSize": 3}
    kubeconfig = Path(applied["deployment"].env["KUBECONFIG"]).read_text()
    assert f"arn:aws:eks:us-east-1:{MOTO_ACCOUNT}:cluster/{CLUSTER}" in kubeconfig


def test_network_storage_and_iam_exist(applied: dict[str, Any], moto: MotoServer) -> None:
    ec2 = moto.client("ec2")
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "tag:Environment", "Values": ["production"]}])["Vpcs"]
    assert [v["CidrBlock"] for v in vpcs] == ["10.0.0.0/16"]
    vpc_filter = [{"Name": "vpc-id", "Values": [vpcs[0]["VpcId"]]}]
    assert len(ec2.describe_subnets(Filters=vpc_filter)["Subnets"]) == 9
    nats = ec2.describe_nat_gateways(Filters=vpc_filter)["NatGateways"]
    nats = [n for n in nats if n["State"] != "deleted"]
    assert len(nats) == 3
    assert ec2.get_ebs_encryption_by_default()["EbsEncryptionByDefault"] is True
    s3 = moto.client("s3")
    bucket = f"hyperpage-production-backups-{MOTO_ACCOUNT}"
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    roles = {r["RoleName"] for r in moto.client("iam").list_roles()["Roles"]}
    assert {
        f"{CLUSTER}-{n}"
        for n in ("cluster", "nodes", "ebs-csi-driver", "backups", "external-secrets", "aws-load-balancer-controller")
    } <= roles


def test_replan_drifts_only_where_moto_is_known_to(applied: dict[str, Any]) -> None:
    # moto does not round-trip every attribute: EKS access_config (so the cluster, its node groups and the
    # OIDC provider are replaced, and the IRSA trust policies follow), launch template versions, and rules
    # that reference another security group. Everything else (VPC, subnets, routes, NAT, CIDR rules, S3, KMS,
    # IAM policies) must plan as unchanged.
    deployment = applied["deployment"]
    module = deployment.root / "deploy/terraform"
    terraform = require_tool("terraform")
    args = ["-input=false", "-lock=false", "-var-file=envs/production.tfvars", "-out=replan.tfplan"]
    run([terraform, "plan", *args], cwd=module, env=deployment.env, timeout=600)
    shown = run([terraform, "show", "-json", "replan.tfplan"], cwd=module, env=deployment.env)
    plan = json.loads(shown.stdout)
    changed = {
        r["address"]: r["change"]["actions"]
        for r in plan["resource_changes"]
        if r["mode"] == "managed" and r["change"]["actions"] != ["no-op"]
    }
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "moto-replan.json").write_text(json.dumps(changed, indent=2))
    known = (
        "aws_eks_cluster.this",
        "aws_eks_node_group.this[",
        "aws_iam_openid_connect_provider.eks",
        "aws_iam_role.irsa[",
        "aws_launch_template.nodes[",
    )
    sg_rules = {
        r["address"]: r["change"]["before"]
        for r in plan["resource_changes"]
        if r["type"].startswith("aws_vpc_security_group_") and r["change"]["before"]
    }
    unexpected = {
        a: act
        for a, act in changed.items()
        if not a.startswith(known) and not (a in sg_rules and sg_rules[a].get("referenced_security_group_id"))
    }
    assert unexpected == {}
    assert all(act == ["update"] for a, act in changed.items() if a in sg_rules)


def test_destroy_leaves_nothing(applied: dict[str, Any], moto: MotoServer) -> None:
    deployment = applied["deployment"]
    destroy_seconds = destroy(deployment)
    applied["destroyed"] = True
    assert moto.client("eks").list_clusters()["clusters"] == []
    ec2 = moto.client("ec2")
    assert ec2.describe_vpcs(Filters=[{"Name": "tag:Project", "Values": ["hyperpage"]}])["Vpcs"] == []
    live_nats = [n for n in ec2.describe_nat_gateways()["NatGateways"] if n["State"] != "deleted"]
    assert live_nats == []
    state = json.loads(moto.client("s3").get_object(Bucket=STATE_BUCKET, Key=STATE_KEY)["Body"].read())
    assert state["resources"] == []
    (ARTIFACTS / "moto-timings.json").write_text(
        json.dumps({"script_apply_seconds": applied["apply_seconds"], "destroy_seconds": destroy_seconds}, indent=2)
    )
