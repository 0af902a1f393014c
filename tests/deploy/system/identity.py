"""Who the kit's pods are to AWS, and which AWS names the kit uses.

Vocabulary:
- `IrsaRole`: an IAM role Terraform plans for IRSA, with the ServiceAccount subjects and audiences its trust
  policy admits (read from the planned policy document, not from the configuration's intent);
- `AnnotatedServiceAccount`: a ServiceAccount the running system will have with an
  `eks.amazonaws.com/role-arn` annotation: rendered by the overlay, created by an operator from a template
  (CloudNativePG), or created by a platform chart from its values;
- `aws_names(docs)`: every ARN, S3 URL, regional endpoint and region setting written in rendered objects.

Facts from AWS documentation:
- IRSA: the pod identity webhook injects credentials for the role named by the ServiceAccount annotation
  eks.amazonaws.com/role-arn, and STS accepts the projected token only if the role's trust policy allows
  sts:AssumeRoleWithWebIdentity for the cluster's OIDC provider with StringEquals on
  "<issuer>:sub" = "system:serviceaccount:<namespace>:<name>" and "<issuer>:aud" = "sts.amazonaws.com"
  (EKS User Guide, "Assign IAM roles to Kubernetes service accounts" / "Configure the role trust policy").
- ARN format arn:<partition>:<service>:<region>:<account>:<resource>; IAM role ARNs have an empty region,
  resource "role/<path without leading slash><name>" (IAM User Guide, "IAM identifiers").
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from tests.deploy.system.releases import helm_applications, helm_values
from tests.deploy.system.world import Environment, Plan

ROLE_ANNOTATION = "eks.amazonaws.com/role-arn"
STS_AUDIENCE = "sts.amazonaws.com"
ARN = re.compile(
    r"\barn:(?P<partition>aws[a-z-]*):(?P<service>[a-z0-9-]+):(?P<region>[a-z0-9-]*):"
    r"(?P<account>[0-9]{12}|aws|):(?P<resource>[^\s\"',]+)"
)
S3_URL = re.compile(r"\bs3://(?P<bucket>[^/\s\"']+)")
REGIONAL_HOST = re.compile(r"\b[a-z0-9.-]+\.(?P<region>[a-z]{2}(?:-gov)?-[a-z]+-[0-9])\.amazonaws\.com\b")
REGION_VALUE = re.compile(r"^[a-z]{2}(?:-gov)?-[a-z]+-[0-9]$")


def subject(namespace: str, name: str) -> str:
    return f"system:serviceaccount:{namespace}:{name}"


@dataclass(frozen=True)
class IrsaRole:
    key: str
    name: str
    arn: str
    subjects: tuple[str, ...]
    audiences: tuple[str, ...]


@dataclass(frozen=True)
class AnnotatedServiceAccount:
    namespace: str
    name: str
    role_arn: str
    source: str  # where the ServiceAccount comes from, for failure messages

    @property
    def subject(self) -> str:
        return subject(self.namespace, self.name)


@dataclass(frozen=True)
class Account:
    """The AWS account and partition the plan ran against (data sources read at plan time)."""

    id: str
    partition: str


def account(plan: Plan) -> Account:
    values = {
        r["type"]: r["values"]
        for r in plan.raw["prior_state"]["values"]["root_module"]["resources"]
        if r["mode"] == "data"
    }
    return Account(id=values["aws_caller_identity"]["account_id"], partition=values["aws_partition"]["partition"])


def _trust(statements: list[dict[str, Any]]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(subjects, audiences) a web-identity trust policy admits; StringLike or other tests admit nothing
    exactly, so they are refused rather than guessed at."""
    subjects: list[str] = []
    audiences: list[str] = []
    for st in statements:
        if st.get("effect") not in (None, "Allow") or "sts:AssumeRoleWithWebIdentity" not in st["actions"]:
            continue
        assert [p["type"] for p in st["principals"]] == ["Federated"], st["principals"]
        for cond in st["condition"]:
            assert cond["test"] == "StringEquals", f"trust condition {cond['test']} is not an exact match"
            # The condition keys are "<issuer>:sub"/"<issuer>:aud", unknown until the cluster exists; the
            # values tell them apart (a subject always has the system:serviceaccount: prefix).
            for value in cond["values"]:
                (subjects if value.startswith("system:serviceaccount:") else audiences).append(value)
    return tuple(subjects), tuple(audiences)


def irsa_roles(plan: Plan) -> dict[str, IrsaRole]:
    """IAM roles whose trust policy is a planned aws_iam_policy_document admitting web identities, by ARN."""
    acct = account(plan)
    documents = {d["address"]: d for d in plan.data_sources("aws_iam_policy_document")}
    roles = {}
    for role in plan.resources("aws_iam_role"):
        refs = plan.config_refs(role["address"], "assume_role_policy")
        docs = [r for r in refs if r.startswith("data.aws_iam_policy_document.")]
        if not docs:
            continue
        base = docs[-1].split("[")[0]
        doc = documents.get(f'{base}["{role["index"]}"]' if role["index"] is not None else base)
        if doc is None:
            continue
        subjects, audiences = _trust(doc["statement"])
        if not subjects:
            continue  # a service role (EKS, EC2, flow logs), not IRSA
        path = role.get("path") or "/"
        arn = f"arn:{acct.partition}:iam::{acct.id}:role{path}{role['name']}"
        roles[arn] = IrsaRole(
            key=str(role["index"]), name=role["name"], arn=arn, subjects=subjects, audiences=audiences
        )
    return roles


def _app_service_accounts(env: Environment) -> Iterator[AnnotatedServiceAccount]:
    for sa in env.app.of_kind("ServiceAccount"):
        arn = (sa["metadata"].get("annotations") or {}).get(ROLE_ANNOTATION)
        if arn is not None:
            yield AnnotatedServiceAccount(env.namespace, sa["metadata"]["name"], arn, "overlay")
    # CloudNativePG API reference, ClusterSpec.serviceAccountTemplate: "Configure the generation of the
    # service account"; the operator creates the ServiceAccount named after the Cluster, in its namespace,
    # with the template's metadata, and runs every instance pod (and the barman-cloud plugin sidecar) with it.
    for cluster in env.app.of_kind("Cluster"):
        template = (cluster["spec"].get("serviceAccountTemplate") or {}).get("metadata") or {}
        arn = (template.get("annotations") or {}).get(ROLE_ANNOTATION)
        if arn is not None:
            yield AnnotatedServiceAccount(
                cluster["metadata"].get("namespace", env.namespace),
                cluster["metadata"]["name"],
                arn,
                "CloudNativePG Cluster",
            )


def _chart_service_account(chart: str, release: str, values: dict[str, Any]) -> tuple[str, dict] | None:
    """(ServiceAccount name, its annotations) a chart renders, for the charts that run an AWS client.

    external-secrets, karpenter, aws-load-balancer-controller: templates/_helpers.tpl
    "<chart>.serviceAccountName" = serviceAccount.name or the fullname; annotations from
    serviceAccount.annotations. cluster-autoscaler: rbac.serviceAccount.name or
    "<release>-aws-cluster-autoscaler" (its fullname with cloudProvider aws), annotations from
    rbac.serviceAccount.annotations.
    """
    if chart in ("external-secrets", "karpenter", "aws-load-balancer-controller"):
        sa = values.get("serviceAccount") or {}
        fullname = values.get("fullnameOverride") or (release if chart in release else f"{release}-{chart}")
        return sa.get("name") or fullname, sa.get("annotations") or {}
    if chart == "cluster-autoscaler":
        sa = (values.get("rbac") or {}).get("serviceAccount") or {}
        provider = values.get("cloudProvider", "aws")
        fullname = values.get("fullnameOverride") or f"{release}-{provider}-cluster-autoscaler"
        return sa.get("name") or fullname, sa.get("annotations") or {}
    return None


def platform_service_accounts(env: Environment) -> Iterator[AnnotatedServiceAccount]:
    """ServiceAccounts the platform's charts create, as (namespace, name, annotations) from their values."""
    for app, source in helm_applications(env):
        release = (source.get("helm") or {}).get("releaseName") or app["metadata"]["name"]
        found = _chart_service_account(source["chart"], release, helm_values(source))
        if found is None:
            continue
        name, annotations = found
        yield AnnotatedServiceAccount(
            app["spec"]["destination"]["namespace"],
            name,
            annotations.get(ROLE_ANNOTATION, ""),
            f"platform chart {source['chart']}",
        )


def annotated_service_accounts(env: Environment) -> list[AnnotatedServiceAccount]:
    return [*_app_service_accounts(env), *(sa for sa in platform_service_accounts(env) if sa.role_arn)]


def _strings(node: Any, path: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _strings(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, f"{path}[{index}]")
    elif isinstance(node, str):
        yield path, node


@dataclass(frozen=True)
class AwsName:
    kind: str  # arn | bucket | region
    value: str
    where: str
    arn: re.Match[str] | None = None


def aws_names(docs: list[dict[str, Any]]) -> Iterator[AwsName]:
    """Every AWS name written in the objects: ARNs, S3 buckets, regions (of endpoints and region settings).

    Strings are scanned wherever they sit (annotations, ConfigMap data, CR specs, embedded config files),
    so a name cannot hide in a field the model does not know about."""
    for doc in docs:
        label = f"{doc['kind']}/{doc['metadata']['name']}"
        for path, text in _strings(doc):
            where = f"{label}{path}"
            for match in ARN.finditer(text):
                yield AwsName("arn", match.group(0), where, match)
            for match in S3_URL.finditer(text):
                yield AwsName("bucket", match.group("bucket"), where)
            for match in REGIONAL_HOST.finditer(text):
                yield AwsName("region", match.group("region"), where)
            key = path.rsplit(".", 1)[-1]
            if (key.lower() == "region" or key.upper().endswith("_REGION")) and REGION_VALUE.match(text):
                yield AwsName("region", text, where)
