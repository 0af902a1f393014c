"""Naming seams between the kit and the platform's Helm releases: the names, labels and principals the
overlays use for platform objects are the ones the charts create (tests/deploy/system/releases.py)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.deploy.system import releases as rel
from tests.deploy.system.world import Environment

MONITORING_KINDS = {"ServiceMonitor": "serviceMonitor", "PodMonitor": "podMonitor", "PrometheusRule": "rule"}


def _prometheus_spec(env: Environment) -> tuple[rel.Release, dict[str, Any]]:
    for _app, source in rel.helm_applications(env):
        if source["chart"] == rel.KUBE_PROMETHEUS_STACK.chart:
            release = rel.installed_release(env, source["chart"])
            assert release is not None
            spec = (rel.helm_values(source).get("prometheus") or {}).get("prometheusSpec") or {}
            return release, spec
    return rel.KUBE_PROMETHEUS_STACK, {}


def monitor_selector(env: Environment, kind: str) -> dict[str, str]:
    """matchLabels the platform's Prometheus selects KIND by (kube-prometheus-stack values.yaml and
    templates/prometheus/prometheus.yaml: an explicit <kind>Selector wins; else, while
    <kind>SelectorNilUsesHelmValues is true (the default), {release: <release name>}; else everything)."""
    release, spec = _prometheus_spec(env)
    field = MONITORING_KINDS[kind]
    explicit = spec.get(f"{field}Selector") or {}
    if explicit:
        assert set(explicit) == {"matchLabels"}, f"{field}Selector {explicit}: only matchLabels is modelled"
        return explicit["matchLabels"]
    if spec.get(f"{field}SelectorNilUsesHelmValues", True):
        return {"release": release.name}
    return {}


@pytest.mark.parametrize("kind", sorted(MONITORING_KINDS))
def test_monitors_and_rules_carry_the_label_prometheus_selects(env: Environment, kind: str) -> None:
    for doc in env.app.of_kind(kind):
        labels = doc["metadata"].get("labels") or {}
        want = monitor_selector(env, kind)
        missing = {k: v for k, v in want.items() if labels.get(k) != v}
        assert not missing, f"{env.name}: {kind} {doc['metadata']['name']} lacks {missing}; Prometheus never loads it"


def _known_workloads() -> dict[str, dict[str, str]]:
    """Principal -> pod labels of the platform workloads the kit lets call its pods."""
    return {
        rel.spiffe_principal(rel.ISTIO_GATEWAY.namespace, rel.GATEWAY_SERVICE_ACCOUNT): rel.GATEWAY_POD_LABELS,
        rel.spiffe_principal(
            rel.KUBE_PROMETHEUS_STACK.namespace, rel.PROMETHEUS_SERVICE_ACCOUNT
        ): rel.PROMETHEUS_POD_LABELS,
    }


def test_authorization_policies_name_principals_that_exist(env: Environment) -> None:
    """A principal of no workload is an ALLOW rule that never matches: the gateway or Prometheus is denied."""
    known = set(_known_workloads())
    own = {rel.spiffe_principal(env.namespace, sa["metadata"]["name"]) for sa in env.app.of_kind("ServiceAccount")}
    for policy in env.app.of_kind("AuthorizationPolicy"):
        for rule in policy["spec"].get("rules", []):
            for peer in rule.get("from", []):
                for principal in peer["source"].get("principals", []):
                    assert principal in known | own, (
                        f"{env.name}: AuthorizationPolicy {policy['metadata']['name']} allows {principal}; "
                        f"the platform's workloads are {sorted(known)}"
                    )


def test_gateways_select_the_charts_gateway_pods(env: Environment) -> None:
    for gateway in env.app.of_kind("Gateway"):
        selector = gateway["spec"]["selector"]
        assert selector.items() <= rel.GATEWAY_POD_LABELS.items(), (
            f"{env.name}: Gateway {gateway['metadata']['name']} selects {selector}; "
            f"the {rel.ISTIO_GATEWAY.name} release's pods are {rel.GATEWAY_POD_LABELS}"
        )


# Pods of each platform namespace the kit's NetworkPolicies name, with the labels their charts give them.
# ingress-nginx: charts/ingress-nginx/templates/_helpers.tpl "ingress-nginx.selectorLabels"
# (app.kubernetes.io/name = chart name, app.kubernetes.io/instance = release) plus component=controller.
PLATFORM_PODS: dict[str, list[dict[str, str]]] = {
    rel.ISTIOD.namespace: [rel.ISTIOD_POD_LABELS],
    rel.ISTIO_GATEWAY.namespace: [rel.GATEWAY_POD_LABELS],
    rel.KUBE_PROMETHEUS_STACK.namespace: [rel.PROMETHEUS_POD_LABELS],
    rel.INGRESS_NGINX.namespace: [
        {
            "app.kubernetes.io/name": "ingress-nginx",
            "app.kubernetes.io/instance": rel.INGRESS_NGINX.name,
            "app.kubernetes.io/component": "controller",
        }
    ],
    # cloudnative-pg chart, templates/_helpers.tpl "cloudnative-pg.selectorLabels": name = chart, instance = release.
    rel.CLOUDNATIVE_PG.namespace: [
        {"app.kubernetes.io/name": "cloudnative-pg", "app.kubernetes.io/instance": rel.CLOUDNATIVE_PG.name}
    ],
}


def test_network_policy_peers_in_platform_namespaces_select_platform_pods(env: Environment) -> None:
    for policy in env.app.of_kind("NetworkPolicy"):
        spec = policy["spec"]
        for rule in [*spec.get("ingress", []), *spec.get("egress", [])]:
            for peer in rule.get("from", []) + rule.get("to", []):
                ns = ((peer.get("namespaceSelector") or {}).get("matchLabels") or {}).get("kubernetes.io/metadata.name")
                if ns is None or ns in (*rel.EKS_NAMESPACES, env.namespace):
                    continue
                pods = (peer.get("podSelector") or {}).get("matchLabels") or {}
                assert ns in PLATFORM_PODS, (
                    f"{env.name}: NetworkPolicy {policy['metadata']['name']} names namespace {ns}, whose "
                    f"platform pods this model does not list ({sorted(PLATFORM_PODS)})"
                )
                assert any(pods.items() <= labels.items() for labels in PLATFORM_PODS[ns]), (
                    f"{env.name}: NetworkPolicy {policy['metadata']['name']} selects {pods} in {ns}; "
                    f"the platform's pods there are {PLATFORM_PODS[ns]}"
                )


def test_platform_installs_the_releases_the_kit_names(env: Environment) -> None:
    """deploy/platform installs each chart the environment's kit relies on, under the release name and namespace
    the kit's names assume; an environment installs only what its kit uses (no Istio in staging, say)."""
    groups = {doc["apiVersion"].split("/")[0] for doc in env.app.docs}
    classes = {doc["spec"].get("ingressClassName") for doc in env.app.of_kind("Ingress")}
    needed = {
        rel.KUBE_PROMETHEUS_STACK: "monitoring.coreos.com" in groups,
        rel.ISTIO_BASE: "security.istio.io" in groups,
        rel.ISTIOD: "networking.istio.io" in groups,
        rel.ISTIO_GATEWAY: "networking.istio.io" in groups,
        rel.INGRESS_NGINX: "nginx" in classes,
        rel.EXTERNAL_SECRETS: "external-secrets.io" in groups,
        rel.CLOUDNATIVE_PG: "postgresql.cnpg.io" in groups,
    }
    for release in rel.RELEASES:
        installed = rel.installed_release(env, release.chart)
        if installed is None and not needed.get(release, False):
            continue
        assert installed == release, (
            f"{env.name}: the platform installs {release.chart} as {installed}, the kit assumes {release}"
        )
