"""Identity seams: every IRSA annotation names a role Terraform plans, trusted by exactly that ServiceAccount;
every account, bucket and region written in the kit is the one Terraform builds."""

from __future__ import annotations

import fnmatch

from tests.deploy.k8s.manifests import K8S_DIR
from tests.deploy.system.identity import (
    STS_AUDIENCE,
    account,
    annotated_service_accounts,
    aws_names,
    irsa_roles,
    platform_service_accounts,
)
from tests.deploy.system.releases import EKS_NAMESPACES, EXTERNAL_SECRETS, RELEASES
from tests.deploy.system.world import Environment, compose, environment

PITR = K8S_DIR / "components" / "backup" / "cnpg" / "recovery"


def test_every_role_annotation_names_a_role_terraform_plans(env: Environment) -> None:
    roles = irsa_roles(env.plan)
    for sa in annotated_service_accounts(env):
        assert sa.role_arn in roles, (
            f"{env.name}: {sa.source} ServiceAccount {sa.namespace}/{sa.name} assumes {sa.role_arn!r}, "
            f"which Terraform does not create (IRSA roles: {sorted(roles)})"
        )


def test_each_annotated_role_trusts_exactly_its_service_account(env: Environment) -> None:
    roles = irsa_roles(env.plan)
    for sa in annotated_service_accounts(env):
        role = roles.get(sa.role_arn)
        if role is None:
            continue  # reported by the test above
        assert role.subjects == (sa.subject,), (
            f"{env.name}: role {role.name} trusts {role.subjects}, but {sa.source} runs as {sa.subject}"
        )
        assert role.audiences == (STS_AUDIENCE,), f"{env.name}: role {role.name} audience {role.audiences}"


def test_every_irsa_role_trusts_a_namespace_the_kit_creates(env: Environment) -> None:
    """A role trusting a namespace nobody deploys to is a role no pod can assume (the app roles once trusted
    "hyperpage" while the overlays deploy to hyperpage-dev, -staging, -production)."""
    namespaces = {env.namespace, *EKS_NAMESPACES, *(r.namespace for r in RELEASES)}
    for role in irsa_roles(env.plan).values():
        for trusted in role.subjects:
            namespace = trusted.split(":")[2]
            assert namespace in namespaces, (
                f"{env.name}: role {role.name} trusts {trusted}; the kit deploys to {sorted(namespaces)}"
            )


def test_terraform_is_planned_in_the_account_it_names(env: Environment) -> None:
    assert account(env.plan).id == env.plan.variable("aws_account_id")


def test_every_account_bucket_and_region_in_the_overlay_is_terraforms(env: Environment) -> None:
    _assert_aws_names_are_terraforms(env, env.app.docs + env.platform.docs)


def test_point_in_time_recovery_names_terraforms_role_and_bucket() -> None:
    """The on-demand recovery Cluster (production's CloudNativePG) archives with its own ServiceAccount,
    hyperpage-db-pitr, into the same bucket."""
    prod = environment("production")
    docs = compose("production", PITR).docs
    _assert_aws_names_are_terraforms(prod, docs)
    roles = irsa_roles(prod.plan)
    for cluster in (d for d in docs if d["kind"] == "Cluster"):
        template = cluster["spec"]["serviceAccountTemplate"]["metadata"]["annotations"]
        role = roles.get(template["eks.amazonaws.com/role-arn"])
        assert role is not None, f"{template} names no role Terraform creates ({sorted(roles)})"
        want = f"system:serviceaccount:{cluster['metadata']['namespace']}:{cluster['metadata']['name']}"
        assert role.subjects == (want,), f"{role.name} trusts {role.subjects}, the recovery runs as {want}"


def _assert_aws_names_are_terraforms(env: Environment, docs: list[dict]) -> None:
    acct = account(env.plan)
    region = env.plan.variable("region")
    buckets = {b["bucket"] for b in env.plan.resources("aws_s3_bucket")}
    names = list(aws_names(docs))
    for name in names:
        if name.kind == "bucket":
            assert name.value in buckets, f"{env.name}: {name.where} uses bucket {name.value}, Terraform: {buckets}"
        elif name.kind == "region":
            assert name.value == region, f"{env.name}: {name.where} says {name.value}, Terraform: {region}"
        else:
            arn = name.arn
            assert arn is not None
            assert arn.group("partition") == acct.partition, f"{name.where}: {name.value}"
            assert arn.group("account") in (acct.id, "aws", ""), (
                f"{env.name}: {name.where} names account {arn.group('account')}, Terraform's is {acct.id}"
            )
            assert arn.group("region") in ("", region), f"{env.name}: {name.where}: {name.value}"


def test_secret_store_keys_are_ones_the_operator_role_may_read(env: Environment) -> None:
    """SecretStores without `auth` use the External Secrets controller's own credentials (External Secrets
    docs, AWS provider: "If no auth is set, the controller's IRSA/instance credentials are used"), so every
    ExternalSecret key must fall under the secretsmanager resources of Terraform's external-secrets role."""
    stores = env.app.of_kind("SecretStore")
    if not stores:
        return
    policy = next(
        d
        for d in env.plan.data_sources("aws_iam_policy_document")
        if d["address"] == "data.aws_iam_policy_document.external_secrets"
    )
    allowed = [
        arn for st in policy["statement"] if "secretsmanager:GetSecretValue" in st["actions"] for arn in st["resources"]
    ]
    for store in stores:
        provider = store["spec"]["provider"]["aws"]
        assert "auth" not in provider, "a store with its own credentials needs its own identity check"
        for arn in allowed:
            assert arn.split(":")[3] == provider["region"], f"{env.name}: store region vs policy {arn}"
    for secret in env.app.of_kind("ExternalSecret"):
        for item in secret["spec"].get("data", []):
            key = item["remoteRef"]["key"]
            assert any(fnmatch.fnmatchcase(key, arn.split(":secret:", 1)[1]) for arn in allowed), (
                f"{env.name}: ExternalSecret {secret['metadata']['name']} reads {key}; the role may read {allowed}"
            )


def test_secret_stores_get_credentials_from_the_platforms_operator(env: Environment) -> None:
    """The controller that serves those SecretStores is the platform's external-secrets release, annotated
    with the role Terraform trusts for it."""
    if not env.app.of_kind("SecretStore"):
        return
    controllers = [sa for sa in platform_service_accounts(env) if sa.source.endswith(EXTERNAL_SECRETS.chart)]
    assert controllers, f"{env.name}: the platform layer installs no external-secrets chart"
    roles = irsa_roles(env.plan)
    # Or EKS Pod Identity: an association (namespace, ServiceAccount) names the role, and the ServiceAccount
    # carries no annotation (EKS User Guide, "Assign an IAM role to a Kubernetes service account").
    associated = {
        f"system:serviceaccount:{a['namespace']}:{a['service_account']}"
        for a in env.plan.resources("aws_eks_pod_identity_association")
    }
    for sa in controllers:
        if not sa.role_arn and sa.subject in associated:
            continue
        role = roles.get(sa.role_arn)
        assert role is not None and role.subjects == (sa.subject,), (
            f"{env.name}: external-secrets runs as {sa.subject} with role {sa.role_arn!r} and no Pod Identity "
            f"association ({sorted(associated)})"
        )
