"""Contract between the worker's manifests and the app: port, probes, settings, tokens, scraping, budget.

test_contract.py already holds every workload (the worker included) to "every config key is a setting"
and "every *_FILE is mounted"; test_worker_run.py starts the real `hyperpage worker` with this env.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hyperpage.config import Settings
from tests.deploy.k8s.appview import rendered_settings, secret_files, web_container
from tests.deploy.k8s.manifests import OVERLAYS, container_port, overlay
from tests.deploy.k8s.netpol import selects
from tests.deploy.k8s.workerview import WORKER_JOB, rule_expressions, worker_container

TOKENS = ("GITHUB_TOKEN", "GITLAB_TOKEN", "JIRA_API_TOKEN")
REPLICAS = {"development": 1, "staging": 1, "production": 2}


@pytest.mark.parametrize("name", OVERLAYS)
def test_worker_port_and_probes_point_at_the_worker(name: str) -> None:
    rendered = overlay(name)
    _, container = worker_container(rendered)
    port = container_port(container, "metrics")
    assert port == Settings.model_fields["hyperpage_worker_port"].default
    assert int(rendered.app_env(container)["HYPERPAGE_WORKER_PORT"]) == port
    assert container["args"] == ["worker"]
    probes = ("startupProbe", "readinessProbe", "livenessProbe")
    assert {container_port(container, container[p]["httpGet"]["port"]) for p in probes} == {port}
    assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert container["startupProbe"]["httpGet"]["path"] == "/livez"


@pytest.mark.parametrize("name", OVERLAYS)
def test_worker_settings_tokens_and_shutdown_budget(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rendered = overlay(name)
    template, container = worker_container(rendered)
    env = rendered.app_env(container)
    assert not {t for t in TOKENS if t in env}, "tokens travel only as *_FILE secret mounts"
    assert {f"{t}_FILE" for t in TOKENS} <= set(env)
    settings = rendered_settings(rendered, template, container, tmp_path / "worker", monkeypatch)
    assert settings.hyperpage_env.value == name and settings.db_engine == "postgresql"
    # No preStop: the app's whole shutdown (scheduler grace included) must end before the SIGKILL.
    assert "lifecycle" not in container
    assert settings.hyperpage_shutdown_grace_seconds < template["spec"]["terminationGracePeriodSeconds"]

    web_template, web = web_container(rendered)
    web_settings = rendered_settings(rendered, web_template, web, tmp_path / "web", monkeypatch)
    assert not web_settings.scheduler_enabled, "web pods on PostgreSQL leave the sync to the worker"
    web_token_files = {p for p in secret_files(rendered, web_template, web) if re.search(r"token", p)}
    assert not web_token_files, f"upstream tokens mounted in the web pods: {web_token_files}"


@pytest.mark.parametrize("name", OVERLAYS)
def test_worker_replicas_and_disruption_budget(name: str) -> None:
    rendered = overlay(name)
    deployment = rendered.get("Deployment", "hyperpage-worker")
    assert deployment["spec"]["replicas"] == REPLICAS[name]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    [budget] = [p for p in rendered.of_kind("PodDisruptionBudget") if selects(p["spec"]["selector"], labels)]
    # One voluntary eviction at a time, and never none: a single worker must not block a node drain.
    assert budget["spec"]["maxUnavailable"] == 1


@pytest.mark.parametrize("name", [n for n in OVERLAYS if overlay(n).of_kind("PodMonitor")])
def test_prometheus_scrapes_the_worker_as_the_rules_expect(name: str) -> None:
    rendered = overlay(name)
    template, container = worker_container(rendered)
    monitor = rendered.get("PodMonitor", "hyperpage-worker")
    assert selects(monitor["spec"]["selector"], template["metadata"]["labels"])
    [endpoint] = monitor["spec"]["podMetricsEndpoints"]
    assert container_port(container, endpoint["port"]) == container_port(container, "metrics")
    assert endpoint["path"] == "/api/metrics"
    jobs = [r["replacement"] for r in endpoint.get("relabelings", []) if r.get("targetLabel") == "job"]
    assert jobs == [WORKER_JOB]
    selectors = [m for e in rule_expressions(rendered) for m in re.findall(r'job=~"([^"]+)"', e)]
    assert selectors and all(re.fullmatch(s, WORKER_JOB) for s in selectors if "worker" in s)
    assert any("worker" in s for s in selectors), "no rule selects the worker's job"
    for other in rendered.of_kind("PodMonitor"):
        if other is not monitor:
            assert not selects(other["spec"]["selector"], template["metadata"]["labels"])


@pytest.mark.parametrize("name", [n for n in OVERLAYS if overlay(n).of_kind("ServiceMonitor")])
def test_prometheus_labels_the_web_pods_with_the_job_the_rules_select(name: str) -> None:
    monitor = overlay(name).get("ServiceMonitor", "hyperpage-web")
    [endpoint] = monitor["spec"]["endpoints"]
    jobs = [r["replacement"] for r in endpoint.get("relabelings", []) if r.get("targetLabel") == "job"]
    assert jobs == ["hyperpage"]
    selectors = {m for e in rule_expressions(overlay(name)) for m in re.findall(r'job="([^"]+)"', e)}
    assert "hyperpage" in selectors
