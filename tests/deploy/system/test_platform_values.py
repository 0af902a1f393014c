"""Seams between the app's monitoring objects and the platform's chart values: the HPA's custom metric is
served by the platform's prometheus-adapter from the platform's Prometheus, and in the mesh Prometheus has
the Istio certificates the web ServiceMonitor's tlsConfig names."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

import yaml

from tests.deploy.system import releases as rel
from tests.deploy.system.world import Environment


def _chart_values(env: Environment, chart: str) -> dict[str, Any] | None:
    for _app, source in rel.helm_applications(env):
        if source["chart"] == chart:
            return rel.helm_values(source)
    return None


def _hpa_pod_metrics(env: Environment) -> set[str]:
    return {
        m["pods"]["metric"]["name"]
        for hpa in env.app.of_kind("HorizontalPodAutoscaler")
        for m in hpa["spec"].get("metrics", [])
        if m["type"] == "Pods"
    }


def test_prometheus_adapter_serves_the_hpa_metric_from_the_platform_prometheus(env: Environment) -> None:
    """prometheus-adapter chart values: prometheus.url/port name the Prometheus to query, rules.custom the
    custom-metrics rules (prometheus-community/helm-charts charts/prometheus-adapter values.yaml). The app's
    rule ships as ConfigMap hyperpage-prometheus-adapter-rules; the adapter only reads its own values."""
    wanted = _hpa_pod_metrics(env)
    if not wanted:
        return
    values = _chart_values(env, "prometheus-adapter")
    assert values is not None, f"{env.name}: the HPA scales on {wanted}; the platform installs no prometheus-adapter"
    custom = (values.get("rules") or {}).get("custom") or []
    served = {(rule.get("name") or {}).get("as") for rule in custom}
    assert wanted <= served, f"{env.name}: prometheus-adapter serves {served}, the HPA needs {wanted}"
    app_rules = yaml.safe_load(env.app.get("ConfigMap", "hyperpage-prometheus-adapter-rules")["data"]["config.yaml"])[
        "rules"
    ]
    for rule in app_rules:
        assert rule in custom, f"{env.name}: the adapter's rules.custom differs from the app's rule {rule}"
    prometheus = values.get("prometheus") or {}
    host = urlsplit(prometheus.get("url", "")).hostname or ""
    # kube-prometheus-stack templates/prometheus/service.yaml: Service <fullname>-prometheus, port 9090.
    service = f"{rel.helm_fullname(rel.KUBE_PROMETHEUS_STACK.name, 'kube-prometheus-stack')}-prometheus"
    assert host.split(".")[:2] == [service, rel.KUBE_PROMETHEUS_STACK.namespace], (
        f"{env.name}: prometheus-adapter queries {prometheus}, the platform's Prometheus is "
        f"{service}.{rel.KUBE_PROMETHEUS_STACK.namespace}"
    )
    assert int(prometheus.get("port", 0)) == 9090


def test_prometheus_has_the_istio_certificates_the_web_monitor_uses(env: Environment) -> None:
    """Istio docs, "Prometheus" integration, TLS settings: Prometheus gets a sidecar that only writes its
    certificates (annotations proxy.istio.io/config OUTPUT_CERTS and sidecar.istio.io/userVolumeMount) into a
    shared volume, which the Prometheus container mounts where the scrape tlsConfig reads them."""
    files = {
        path
        for monitor in env.app.of_kind("ServiceMonitor")
        for endpoint in monitor["spec"]["endpoints"]
        for path in ((endpoint.get("tlsConfig") or {}).get(k) for k in ("caFile", "certFile", "keyFile"))
        if path
    }
    if not files:
        return
    values = _chart_values(env, rel.KUBE_PROMETHEUS_STACK.chart)
    assert values is not None, f"{env.name}: the platform installs no kube-prometheus-stack"
    spec = (values.get("prometheus") or {}).get("prometheusSpec") or {}
    mounts = {m["mountPath"].rstrip("/"): m["name"] for m in spec.get("volumeMounts", [])}
    directories = {path.rsplit("/", 1)[0] for path in files}
    for directory in directories:
        assert directory in mounts, f"{env.name}: Prometheus mounts {sorted(mounts)}, the monitor reads {directory}"
        annotations = (spec.get("podMetadata") or {}).get("annotations") or {}
        shared = json.loads(annotations.get("sidecar.istio.io/userVolumeMount", "[]"))
        assert mounts[directory] in {v["name"] for v in shared}, (
            f"{env.name}: the Istio sidecar of Prometheus does not write into volume {mounts[directory]}"
        )
        assert "OUTPUT_CERTS" in annotations.get("proxy.istio.io/config", ""), f"{env.name}: no OUTPUT_CERTS"
