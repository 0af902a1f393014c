"""The platform's Helm releases and the object names their charts give them.

The kit's manifests name objects the platform creates: the ingress gateway's ServiceAccount (an Istio
principal), Prometheus's ServiceAccount and pod labels, istiod's pod labels, the label kube-prometheus-stack
selects monitors and rules by. Those names follow from each chart's templates and the release name and
namespace the platform installs it with, so they are derived here from the chart sources (cited per entry),
not copied from the manifests under test. deploy/platform/ installs these releases (agreed with the platform
layer; test_releases.py checks that it does).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from tests.deploy.system.world import Environment


@dataclass(frozen=True)
class Release:
    chart: str
    name: str
    namespace: str


KUBE_PROMETHEUS_STACK = Release("kube-prometheus-stack", "kube-prometheus-stack", "monitoring")
ISTIO_BASE = Release("base", "istio-base", "istio-system")
ISTIOD = Release("istiod", "istiod", "istio-system")
ISTIO_GATEWAY = Release("gateway", "istio-ingressgateway", "istio-ingress")
INGRESS_NGINX = Release("ingress-nginx", "ingress-nginx", "ingress-nginx")
CERT_MANAGER = Release("cert-manager", "cert-manager", "cert-manager")
EXTERNAL_SECRETS = Release("external-secrets", "external-secrets", "external-secrets")
CLOUDNATIVE_PG = Release("cloudnative-pg", "cnpg", "cnpg-system")

RELEASES = (
    KUBE_PROMETHEUS_STACK,
    ISTIO_BASE,
    ISTIOD,
    ISTIO_GATEWAY,
    INGRESS_NGINX,
    CERT_MANAGER,
    EXTERNAL_SECRETS,
    CLOUDNATIVE_PG,
)

# Namespaces EKS itself provides (aws-node, kube-proxy, coredns and the EBS CSI add-on run there).
EKS_NAMESPACES = ("kube-system",)


def helm_fullname(release: str, chart: str) -> str:
    """The `<chart>.fullname` helper of `helm create`, which these charts keep: the release name when it
    contains the chart name, else <release>-<chart> (truncated to 63 characters)."""
    return (release if chart in release else f"{release}-{chart}")[:63].rstrip("-")


# kube-prometheus-stack, templates/_helpers.tpl "kube-prometheus-stack.prometheus.serviceAccountName":
# default (printf "%s-prometheus" (include "kube-prometheus-stack.fullname" .)).
PROMETHEUS_SERVICE_ACCOUNT = f"{helm_fullname(KUBE_PROMETHEUS_STACK.name, 'kube-prometheus-stack')}-prometheus"

# kube-prometheus-stack values.yaml, prometheus.prometheusSpec.
# {serviceMonitor,podMonitor,rule}SelectorNilUsesHelmValues: true by default, and
# templates/prometheus/prometheus.yaml then renders each selector as matchLabels {release: <release name>}:
# monitors and rules without that label are never loaded.
MONITOR_SELECTOR_LABELS = {"release": KUBE_PROMETHEUS_STACK.name}

# Prometheus Operator, pkg/prometheus/statefulset.go: Prometheus pods carry app.kubernetes.io/name=prometheus.
PROMETHEUS_POD_LABELS = {"app.kubernetes.io/name": "prometheus"}

# istio/istio manifests/charts/gateway/templates/_helpers.tpl: "gateway.name" is .Values.name or the release
# name; pods carry app=<name> and istio=<name without the "istio-" prefix>; "gateway.serviceAccountName" is
# the gateway name when serviceAccount.create (the default).
GATEWAY_NAME = ISTIO_GATEWAY.name
GATEWAY_POD_LABELS = {"app": GATEWAY_NAME, "istio": GATEWAY_NAME.removeprefix("istio-")}
GATEWAY_SERVICE_ACCOUNT = GATEWAY_NAME

# istio/istio manifests/charts/istio-control/istio-discovery templates/deployment.yaml: istiod pods carry
# app=istiod (and istio=pilot).
ISTIOD_POD_LABELS = {"app": "istiod"}


def spiffe_principal(namespace: str, service_account: str) -> str:
    """Istio's workload principal, as AuthorizationPolicy `source.principals` names it (Istio docs, security
    concepts: "cluster.local/ns/<namespace>/sa/<service account>", trust domain cluster.local by default)."""
    return f"cluster.local/ns/{namespace}/sa/{service_account}"


def helm_applications(env: Environment) -> list[tuple[dict[str, Any], dict[str, Any]]]:
    """(Argo CD Application, its Helm source) for every Helm chart the platform layer installs."""
    found = []
    for app in env.platform.of_kind("Application"):
        spec = app["spec"]
        for source in spec.get("sources") or [spec.get("source") or {}]:
            if source.get("chart"):
                found.append((app, source))
    return found


def installed_release(env: Environment, chart: str) -> Release | None:
    """The release the platform layer installs CHART as (Argo CD uses helm.releaseName, else the
    Application's name: Argo CD docs, "Helm" user guide, "Helm Release Name")."""
    for app, source in helm_applications(env):
        if source["chart"] == chart:
            name = (source.get("helm") or {}).get("releaseName") or app["metadata"]["name"]
            return Release(chart, name, app["spec"]["destination"]["namespace"])
    return None


def helm_values(source: dict[str, Any]) -> dict[str, Any]:
    """The values an Application passes to its chart: helm.valuesObject, or helm.values (a YAML string)."""
    helm = source.get("helm") or {}
    if "valuesObject" in helm:
        return helm["valuesObject"] or {}
    return yaml.safe_load(helm.get("values") or "") or {}
