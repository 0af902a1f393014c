"""Contract between the manifests and the real app: port, probes, settings, secrets, metrics."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from hyperpage.config import Settings
from hyperpage.db import schema
from tests.deploy.k8s.appview import (
    SETTINGS_ENV,
    database_url,
    operator_app_secret,
    rendered_settings,
    secret_files,
    secret_keys,
    web_container,
)
from tests.deploy.k8s.manifests import OVERLAYS, Rendered, container_port, overlay
from tests.serverproc import ServerProcess
from tests.tooling import free_port

PROFILE = {"development": 10_000, "staging": 5_000, "production": 1_000}
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


@pytest.mark.parametrize("name", OVERLAYS)
def test_ports_and_probes_point_at_the_app(name: str) -> None:
    rendered = overlay(name)
    template, container = web_container(rendered)
    port = container_port(container, "http")
    assert port == Settings.model_fields["hyperpage_port"].default
    env = rendered.app_env(container)
    assert int(env["HYPERPAGE_PORT"]) == port
    assert env["HYPERPAGE_HOST"] == "0.0.0.0", "a container must listen on all interfaces"
    assert {container_port(container, container[p]["httpGet"]["port"]) for p in PROBES} == {port}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    service = rendered.get("Service", "hyperpage-web")
    assert service["spec"]["selector"].items() <= template["metadata"]["labels"].items()
    [service_port] = service["spec"]["ports"]
    assert container_port(container, service_port["targetPort"]) == port
    # Metrics on their own port (the auth contract's HYPERPAGE_METRICS_PORT, default 3002), never the public one.
    assert container_port(container, "metrics") == int(env.get("HYPERPAGE_METRICS_PORT", "3002")) != port
    # Where oauth2-proxy signs users in, the Ingress sends everything to it (test_auth_kit.py checks its upstream).
    front = "hyperpage-oauth2-proxy" if rendered.find("Deployment", "hyperpage-oauth2-proxy") else "hyperpage-web"
    for ingress in rendered.of_kind("Ingress"):
        backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
        assert (backend["name"], backend["port"]["name"]) == (front, service_port["name"])
    for virtual_service in rendered.of_kind("VirtualService"):
        destination = virtual_service["spec"]["http"][0]["route"][0]["destination"]
        assert (destination["host"], destination["port"]["number"]) == ("hyperpage-web", service_port["port"])


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_config_key_is_a_setting_the_app_reads(name: str) -> None:
    rendered = overlay(name)
    for workload, template in rendered.app_workloads():
        for container in template["spec"].get("initContainers", []) + template["spec"]["containers"]:
            dead = set(rendered.app_env(container)) - SETTINGS_ENV
            assert not dead, f"{workload['metadata']['name']}: the app reads none of {sorted(dead)}"


@pytest.mark.parametrize("name", OVERLAYS)
def test_every_secret_file_is_read_and_every_secret_file_setting_is_mounted(name: str) -> None:
    # Backup CronJobs included: a Secret that nothing renders (no Secret, no ExternalSecret target, not made by
    # an operator) fails here, as its pods could never start.
    rendered = overlay(name)
    for workload, template in rendered.app_workloads():
        for container in template["spec"].get("initContainers", []) + template["spec"]["containers"]:
            env = rendered.app_env(container)
            wanted = {value for key, value in env.items() if key.endswith("_FILE")}
            mounted = set(secret_files(rendered, template, container))
            assert mounted == wanted, f"{workload['metadata']['name']}: secret files {mounted}, read {wanted}"


def test_only_secrets_that_exist_count_as_provided() -> None:
    rendered = overlay("production")
    [cluster] = rendered.of_kind("Cluster")
    # Bootstrapped from hyperpage-db-credentials, which CloudNativePG then uses as the application Secret: it
    # makes no hyperpage-db-app, so a pod mounting that one would never start.
    assert operator_app_secret(cluster) is None
    with pytest.raises(AssertionError, match="nothing provides the Secret hyperpage-db-app"):
        secret_keys(rendered, "hyperpage-db-app")
    bare = copy.deepcopy(cluster)
    del bare["spec"]["bootstrap"]["initdb"]["secret"]
    made = Rendered(rendered.name, [d for d in rendered.docs if d is not cluster] + [bare])
    assert operator_app_secret(bare) == "hyperpage-db-app"
    uri = urlsplit(secret_keys(made, "hyperpage-db-app")["uri"])
    assert (uri.hostname, uri.port, uri.username, uri.path) == (
        f"hyperpage-db-rw.{rendered.namespace}",
        5432,
        "hyperpage",
        "/hyperpage",
    )
    with pytest.raises(AssertionError, match="nothing provides"):
        secret_keys(rendered, "hyperpage-backup-verify-typo")


@pytest.mark.parametrize("name", OVERLAYS)
def test_rendered_environment_loads_as_the_right_profile(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = overlay(name)
    template, container = web_container(rendered)
    settings = rendered_settings(rendered, template, container, tmp_path, monkeypatch)
    assert settings.database_url.get_secret_value() == database_url(rendered)
    assert settings.hyperpage_env.value == name
    assert settings.hyperpage_rate_limit_per_hour == PROFILE[name]
    assert settings.db_engine == "postgresql"
    # The kubelet kills the pod at the grace period: preStop plus the app's whole shutdown must fit.
    pre_stop = container["lifecycle"]["preStop"]["sleep"]["seconds"]
    grace = template["spec"]["terminationGracePeriodSeconds"]
    assert pre_stop + settings.hyperpage_shutdown_grace_seconds < grace
    assert settings.hyperpage_drain_seconds < settings.hyperpage_shutdown_grace_seconds


@dataclass(frozen=True)
class Scrape:
    """What the real `hyperpage serve` exports on its metrics port after kubelet probes and scrapes only."""

    samples: dict[str, set[str]]  # sample name -> label names
    routes: set[str]  # route label values of hyperpage_http_requests_total


@pytest.fixture(scope="module")
def exported(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrape]:
    """The real process, as the pod runs it: the public port and HYPERPAGE_METRICS_PORT; probes, then scrapes of
    /metrics on the metrics port (the ServiceMonitor's), and the public port must not serve /api/metrics."""
    work = tmp_path_factory.mktemp("metrics")
    url = f"sqlite:///{work / 'hyperpage.db'}"
    schema.upgrade(url)
    metrics_port = free_port()
    app = ServerProcess(
        env={"DATABASE_URL": url, "HYPERPAGE_METRICS_PORT": str(metrics_port), "LOG_FORMAT": "console"}
    ).start(work / "serve.log")
    try:
        assert app.wait_status("/readyz", 200, timeout=30), app.logs()
        for path in ("/livez", "/readyz", "/livez", "/readyz"):  # what the kubelet sends
            assert app.get(path) is not None
        for _ in range(2):  # the second scrape shows the first one, if scrapes are counted at all
            response = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=5)
        assert response.status_code == 200, app.logs()
        assert response.headers["content-type"].startswith("text/plain")
        text = response.text
        # After the scrape, which must show probe and scrape traffic only.
        assert app.status("/api/metrics") == 404, "the public port still serves the metrics"
    finally:
        app.stop()
    samples: dict[str, set[str]] = {}
    routes: set[str] = set()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, set()).update(sample.labels)
            if sample.name == "hyperpage_http_requests_total":
                routes.add(sample.labels["route"])
    yield Scrape(samples, routes)


@pytest.mark.parametrize("name", [n for n in OVERLAYS if overlay(n).of_kind("ServiceMonitor")])
def test_monitoring_names_only_metrics_the_app_exports(name: str, exported: Scrape) -> None:
    rendered = overlay(name)
    monitor = rendered.get("ServiceMonitor", "hyperpage-web")
    assert [(e["port"], e["path"]) for e in monitor["spec"]["endpoints"]] == [("metrics", "/metrics")]
    # The port named `metrics` of a Service the monitor selects leads to the web container's metrics port.
    _, container = web_container(rendered)
    selected = [
        s
        for s in rendered.of_kind("Service")
        if monitor["spec"]["selector"]["matchLabels"].items() <= s["metadata"]["labels"].items()
    ]
    targets = {
        container_port(container, p["targetPort"])
        for s in selected
        for p in s["spec"]["ports"]
        if p["name"] == "metrics"
    }
    assert targets == {int(rendered.app_env(container)["HYPERPAGE_METRICS_PORT"])}
    exported = exported.samples
    adapter = yaml.safe_load(rendered.get("ConfigMap", "hyperpage-prometheus-adapter-rules")["data"]["config.yaml"])
    hpa_metrics = {
        m["pods"]["metric"]["name"]
        for m in rendered.get("HorizontalPodAutoscaler", "hyperpage-web")["spec"]["metrics"]
        if m["type"] == "Pods"
    }
    served = set()
    for rule in adapter["rules"]:
        series = re.match(r"(\w+)\{", rule["seriesQuery"]).group(1)
        assert series in exported, f"adapter rule reads {series}, which the app does not export"
        assert re.search(rule["name"]["matches"], series)
        for label in re.findall(r"(\w+)\s*(?:!~|=~|!=|=)\s*\"", rule["metricsQuery"]):
            assert label in exported[series], f"{series} has no label {label}"
        assert {"namespace", "pod"} == set(rule["resources"]["overrides"])
        served.add(rule["name"]["as"])
    assert hpa_metrics and hpa_metrics <= served, "the HPA asks for a metric no adapter rule serves"


def test_probe_traffic_is_excluded_from_the_scaling_metric(exported: Scrape) -> None:
    rendered = overlay("production")
    adapter = yaml.safe_load(rendered.get("ConfigMap", "hyperpage-prometheus-adapter-rules")["data"]["config.yaml"])
    excluded = re.search(r'route!~"([^"]+)"', adapter["rules"][0]["metricsQuery"]).group(1)
    _, container = web_container(rendered)
    probe_paths = {container[p]["httpGet"]["path"] for p in PROBES}
    assert all(re.fullmatch(excluded, path) for path in probe_paths)
    assert "route" in exported.samples["hyperpage_http_requests_total"]
    # Only probes and scrapes reached the real process: whatever routes it counted, the HPA must not see them.
    assert exported.routes and all(re.fullmatch(excluded, route) for route in exported.routes), exported.routes
