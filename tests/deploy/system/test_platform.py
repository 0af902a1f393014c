"""Seams between the cluster Terraform builds and what the kit needs from it: encrypted nodes can launch,
NetworkPolicies are enforced, the add-ons and operators the rendered kit relies on are installed, pinned and
ordered, and every StorageClass a volume names exists (review items 1, 3, 6 and 7 of issue 13)."""

from __future__ import annotations

import pytest

from tests.deploy.k8s.manifests import K8S_DIR, render
from tests.deploy.system.platform import (
    EXACT_VERSION,
    addons,
    as_list,
    default_storage_class,
    operators,
    policy_statements,
    storage_classes,
)
from tests.deploy.system.world import Environment

pytestmark = [pytest.mark.tools, pytest.mark.slow]

# EC2 Auto Scaling User Guide, "Required AWS KMS key policy for use with encrypted volumes": the
# service-linked role needs these key actions, and CreateGrant limited to AWS resources.
ASG_KEY_ACTIONS = {"kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"}
ASG_ROLE = "arn:aws:iam::{account}:role/aws-service-role/autoscaling.amazonaws.com/AWSServiceRoleForAutoScaling"


def test_auto_scaling_may_use_the_node_volume_key(env: Environment) -> None:
    templates = env.plan.resources("aws_launch_template")
    assert templates
    assert _launch_template_uses_env_key(env), f"{env.name}: node volumes are not on the environment key"
    account = env.plan.raw["prior_state"]["values"]["root_module"]["resources"]
    account_id = next(r["values"]["account_id"] for r in account if r["type"] == "aws_caller_identity")
    role = ASG_ROLE.format(account=account_id)
    statements = policy_statements(env.plan.one("aws_kms_key")["policy"])
    granted: set[str] = set()
    grants_for_resources = False
    for st in statements:
        if st["Effect"] != "Allow" or role not in as_list(st.get("Principal", {}).get("AWS", [])):
            continue
        granted |= set(as_list(st["Action"]))
        if "kms:CreateGrant" in as_list(st["Action"]):
            grants_for_resources = st.get("Condition", {}).get("Bool", {}).get("kms:GrantIsForAWSResource") in (
                "true",
                ["true"],
            )
    assert granted >= ASG_KEY_ACTIONS, f"{env.name}: the key policy grants {role} only {sorted(granted)}"
    assert grants_for_resources, f"{env.name}: {role} may not create grants for AWS resources"
    # KMS refuses a key policy whose principal does not exist: a fresh account must create the role first.
    assert env.plan.resources("aws_iam_service_linked_role"), f"{env.name}: nothing creates {role}"


def _launch_template_uses_env_key(env: Environment) -> bool:
    for res in env.plan.raw["configuration"]["root_module"]["resources"]:
        if res["address"] == "aws_launch_template.nodes":
            ebs = res["expressions"]["block_device_mappings"][0]["ebs"][0]
            return "aws_kms_key.this" in ebs["kms_key_id"]["references"]
    return False


def test_network_policies_are_enforced(env: Environment) -> None:
    # EKS User Guide, "Limit pod traffic with Kubernetes network policies": the VPC CNI add-on enforces
    # NetworkPolicies only with configuration value enableNetworkPolicy "true".
    if env.app.of_kind("NetworkPolicy"):
        cni = addons(env).get("vpc-cni")
        assert cni and cni["configuration"].get("enableNetworkPolicy") == "true", (
            f"{env.name}: NetworkPolicies are accepted but not enforced"
        )


def test_cluster_addons_the_kit_relies_on(env: Environment) -> None:
    installed = set(addons(env))
    kinds = {d["kind"] for d in env.app.docs + env.platform.docs}
    # The kit's on-demand volume snapshot of this environment needs the snapshot API too.
    kinds |= {
        d["kind"]
        for d in render(K8S_DIR / "components/backup/snapshots")
        if d["metadata"].get("namespace") == env.namespace
    }
    needed = {"vpc-cni", "kube-proxy", "coredns"}
    if "HorizontalPodAutoscaler" in kinds:
        needed.add("metrics-server")  # resource metrics API (CPU/memory targets)
    if "PersistentVolumeClaim" in kinds or "StatefulSet" in kinds or "Cluster" in kinds:
        needed.add("aws-ebs-csi-driver")  # the only EBS provisioner on EKS since 1.23
    if {"VolumeSnapshot", "VolumeSnapshotClass"} & kinds:
        needed.add("snapshot-controller")  # serves snapshot.storage.k8s.io
    if env.plan.resources("aws_eks_pod_identity_association"):
        needed.add("eks-pod-identity-agent")  # EKS User Guide, "Set up the EKS Pod Identity Agent"
    assert needed <= installed, f"{env.name}: add-ons missing {sorted(needed - installed)}"


def test_a_node_autoscaler_scales_terraforms_node_groups(env: Environment) -> None:
    groups = env.plan.resources("aws_eks_node_group")
    if not any(g["scaling_config"][0]["max_size"] > g["scaling_config"][0]["min_size"] for g in groups):
        return
    autoscaler = operators(env).get("cluster-autoscaler")
    assert autoscaler, f"{env.name}: node groups have room to grow but nothing scales them"
    assert autoscaler.value("cloudProvider") == "aws"
    cluster = env.plan.one("aws_eks_cluster")
    assert autoscaler.value("autoDiscovery.clusterName") == cluster["name"]
    assert autoscaler.value("awsRegion") == env.plan.variable("region")
    # Cluster Autoscaler README: run the release matching the cluster's Kubernetes minor version.
    tag = autoscaler.value("image.tag").lstrip("v")
    assert tag.rsplit(".", 1)[0] == cluster["version"], f"autoscaler {tag} on Kubernetes {cluster['version']}"
    account = autoscaler.value("rbac.serviceAccount.name")
    associations = {
        (a["namespace"], a["service_account"]) for a in env.plan.resources("aws_eks_pod_identity_association")
    }
    assert (autoscaler.namespace, account) in associations, f"{env.name}: the autoscaler has no AWS identity"
    role = next(r for r in env.plan.resources("aws_iam_role_policy") if r["address"].endswith('["cluster-autoscaler"]'))
    actions = {a for st in policy_statements(role["policy"]) for a in as_list(st["Action"])}
    assert {"autoscaling:SetDesiredCapacity", "eks:DescribeNodegroup"} <= actions


def test_every_volume_names_an_existing_storage_class(env: Environment) -> None:
    classes = storage_classes(env)
    default = default_storage_class(env)
    wanted: list[tuple[str, str | None]] = []
    for doc in env.app.docs:
        if doc["kind"] == "PersistentVolumeClaim":
            wanted.append((doc["metadata"]["name"], doc["spec"].get("storageClassName")))
        elif doc["kind"] == "StatefulSet":
            for claim in doc["spec"].get("volumeClaimTemplates", []):
                wanted.append(
                    (f"{doc['metadata']['name']}/{claim['metadata']['name']}", claim["spec"].get("storageClassName"))
                )
        elif doc["kind"] == "Cluster":  # CloudNativePG: spec.storage.storageClass, default class if unset
            wanted.append((doc["metadata"]["name"], doc["spec"]["storage"].get("storageClass")))
    for op in operators(env).values():
        claim = op.value("prometheus.prometheusSpec.storageSpec.volumeClaimTemplate.spec")
        if claim:
            wanted.append((op.release, claim.get("storageClassName")))
    for owner, name in wanted:
        resolved = name or default
        assert resolved in classes, f"{env.name}: {owner} needs StorageClass {name or '(default)'}, none exists"


def test_storage_classes_are_encrypted_with_the_environment_key(env: Environment) -> None:
    classes = storage_classes(env)
    assert classes, f"{env.name}: the platform creates no StorageClass"
    for name, sc in classes.items():
        params = sc.get("parameters", {})
        assert sc["provisioner"] == "ebs.csi.aws.com", name
        assert params.get("encrypted") == "true", name
        # EBS volumes are zonal: bind once the pod is scheduled (Kubernetes docs, "Volume binding mode").
        assert sc.get("volumeBindingMode") == "WaitForFirstConsumer", name
        if "kmsKeyId" not in params:
            # Without kmsKeyId the driver uses the account's EBS default key: it must be the environment's.
            default_key = env.plan.resources("aws_ebs_default_kms_key")
            assert default_key, f"{env.name}: {name} would encrypt with the AWS managed key"
            assert "aws_kms_key.this" in env.plan.config_refs(default_key[0]["address"], "key_arn")
    ebs = addons(env).get("aws-ebs-csi-driver")
    if ebs:
        # EBS CSI driver docs: a customer managed key needs kms:CreateGrant etc. on the driver's role.
        policies = [
            r
            for r in env.plan.resources("aws_iam_role_policy")
            if "aws_iam_role.irsa" in " ".join(env.plan.config_refs(r["address"], "role"))
            and "aws_kms_key.this" in " ".join(_policy_refs(env, r["address"]))
        ]
        assert any("ebs" in r["address"] for r in policies), f"{env.name}: the EBS CSI role cannot use the key"


def _policy_refs(env: Environment, address: str) -> list[str]:
    refs = env.plan.config_refs(address, "policy")
    config = env.plan.raw["configuration"]["root_module"]
    out = list(refs)
    for ref in refs:
        if ref.startswith("data.aws_iam_policy_document."):
            name = ref.split(".")[2]
            for res in config["resources"]:
                if res["address"] == f"data.aws_iam_policy_document.{name}":
                    out += [
                        r
                        for st in res["expressions"].get("statement", [])
                        for r in st.get("resources", {}).get("references", [])
                    ]
    return out


def test_every_operator_is_pinned_to_a_chart_version(env: Environment) -> None:
    ops = operators(env)
    assert "argo-cd" in ops, f"{env.name}: Argo CD does not manage itself"
    [project] = [p for p in env.platform.of_kind("AppProject") if p["metadata"]["name"] == "platform"]
    for name, op in ops.items():
        assert EXACT_VERSION.match(op.version), f"{name}: chart version {op.version} is not pinned"
        assert op.repo in project["spec"]["sourceRepos"], f"{name}: {op.repo} not allowed by the AppProject"
