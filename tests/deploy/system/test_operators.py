"""Every operator the rendered kit relies on is installed by the platform layer of that environment, with
the values the kit needs, in a sync wave after everything it needs (review items 6 and 8 of issue 13)."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy.system.platform import operators, wave
from tests.deploy.system.world import Environment

pytestmark = [pytest.mark.tools, pytest.mark.slow]

# Which platform Application serves a custom resource group the app kit renders (the charts' CRDs).
SERVED_BY = {
    "monitoring.coreos.com": "kube-prometheus-stack",
    "external-secrets.io": "external-secrets",
    "postgresql.cnpg.io": "cloudnative-pg",
    "barmancloud.cnpg.io": "plugin-barman-cloud",
    "networking.istio.io": "istiod",
    "security.istio.io": "istiod",
}
# What must run before what (each chart's install docs): the plugin needs the operator and cert-manager
# (plugin-barman-cloud README), Istio installs base -> cni -> istiod -> gateway (Istio docs, Helm install
# with CNI), the adapter queries Prometheus, issuers need cert-manager's CRDs and webhook.
NEEDS = {
    "plugin-barman-cloud": ("cloudnative-pg", "cert-manager"),
    "istio-cni": ("istio-base",),
    "istiod": ("istio-base", "istio-cni"),
    "istio-ingressgateway": ("istiod",),
    "prometheus-adapter": ("kube-prometheus-stack",),
    "ClusterIssuer": ("cert-manager",),
    "Certificate": ("cert-manager", "istio-ingressgateway"),
}


def test_an_operator_serves_every_custom_resource(env: Environment) -> None:
    ops = operators(env)
    for doc in env.app.docs:
        group = doc["apiVersion"].rpartition("/")[0]
        if group in SERVED_BY:
            assert SERVED_BY[group] in ops, f"{env.name}: nothing serves {doc['kind']} ({group})"


def test_ingress_controller_and_issuer_exist(env: Environment) -> None:
    ops = operators(env)
    issuers = {d["metadata"]["name"]: d for d in env.platform.of_kind("ClusterIssuer")}
    for ingress in env.app.of_kind("Ingress"):
        klass = ingress["spec"].get("ingressClassName")
        nginx = ops.get("ingress-nginx")
        assert nginx and nginx.value("controller.ingressClassResource.name") == klass, (
            f"{env.name}: no controller for ingress class {klass}"
        )
        issuer = (ingress["metadata"].get("annotations") or {}).get("cert-manager.io/cluster-issuer")
        if issuer:
            assert "cert-manager" in ops and issuer in issuers, f"{env.name}: no ClusterIssuer {issuer}"
        # ingress-nginx docs (ConfigMap, global-allowed-response-headers): custom-headers may only set these.
        headers = (ingress["metadata"].get("annotations") or {}).get("nginx.ingress.kubernetes.io/custom-headers")
        if headers:
            names = set(env.app.get("ConfigMap", headers.split("/")[-1])["data"])
            allowed = set(nginx.value("controller.config")["global-allowed-response-headers"].split(","))
            assert names <= allowed, f"{env.name}: ingress-nginx refuses headers {sorted(names - allowed)}"


def test_custom_metrics_come_from_the_adapter(env: Environment) -> None:
    for hpa in env.app.of_kind("HorizontalPodAutoscaler"):
        custom = [m for m in hpa["spec"].get("metrics", []) if m["type"] in ("Pods", "Object", "External")]
        if not custom:
            continue
        adapter = operators(env).get("prometheus-adapter")
        assert adapter, f"{env.name}: the HPA's custom metrics have no adapter"
        rules = yaml.safe_load(env.app.get("ConfigMap", "hyperpage-prometheus-adapter-rules")["data"]["config.yaml"])
        assert rules["rules"] == adapter.value("rules.custom"), "the adapter's rules differ from the kit's"
        prometheus = operators(env)["kube-prometheus-stack"]
        assert adapter.value("prometheus.url") == f"http://{prometheus.release}-prometheus.{prometheus.namespace}.svc"


def test_sidecar_injection_under_restricted_uses_istio_cni(env: Environment) -> None:
    # Istio docs, "Install the Istio CNI node agent": without it the injected istio-init container needs
    # NET_ADMIN and NET_RAW, which Pod Security "restricted" forbids.
    labels = env.app.get("Namespace", env.namespace)["metadata"].get("labels", {})
    injected = labels.get("istio-injection") == "enabled" or any(
        (t["metadata"].get("labels") or {}).get("sidecar.istio.io/inject") == "true" for _, t in env.app.workloads()
    )
    if not injected:
        return
    ops = operators(env)
    assert "istio-cni" in ops, f"{env.name}: sidecars without the Istio CNI agent"
    assert ops["istiod"].value("pilot.cni.enabled") is True


def test_waves_install_what_each_needs_first(env: Environment) -> None:
    ops = operators(env)
    waves = {name: op.wave for name, op in ops.items()}
    for doc in env.platform.docs:
        if doc["kind"] in NEEDS:
            waves[doc["kind"]] = wave(doc)
    for item, needs in NEEDS.items():
        if item not in waves:
            continue
        for need in needs:
            assert need in waves, f"{env.name}: {item} needs {need}, which is not installed"
            assert waves[need] < waves[item], f"{env.name}: {item} (wave {waves[item]}) before {need}"
    # Argo CD and the storage classes come first: everything else may create volumes or need syncing.
    first = min(waves.values())
    assert waves["argo-cd"] == first
    for sc in env.platform.of_kind("StorageClass"):
        assert wave(sc) <= min(w for n, w in waves.items() if n != "argo-cd")
