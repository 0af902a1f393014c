"""The example Alertmanager configuration: amtool validates it and resolves its routes; a real Alertmanager
applies its inhibition rules."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import yaml

from tests.deploy.monitoring import support
from tests.tooling import free_port, require_tool


def test_amtool_check_config() -> None:
    amtool = require_tool("amtool")
    result = subprocess.run(
        [amtool, "check-config", str(support.ALERTMANAGER_CONFIG)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "SUCCESS" in result.stdout


# labels of an alert -> receivers it must reach (critical pages and also shows in chat)
ROUTES = [
    ({"alertname": "HyperpageDown", "severity": "critical", "component": "app"}, "oncall-pager,team-chat"),
    (
        {"alertname": "HyperpageAvailabilityBudgetBurnFast", "severity": "critical", "slo": "availability"},
        "oncall-pager,team-chat",
    ),
    ({"alertname": "HyperpageHighResponseTime", "severity": "warning", "component": "latency"}, "team-chat"),
    ({"alertname": "HyperpageSyncStale", "severity": "warning", "tool": "github"}, "team-chat"),
    ({"alertname": "SomethingNew"}, "team-chat"),
]


@pytest.mark.parametrize(("labels", "receivers"), ROUTES, ids=[labels["alertname"] for labels, _ in ROUTES])
def test_amtool_routes(labels: dict[str, str], receivers: str) -> None:
    amtool = require_tool("amtool")
    result = subprocess.run(
        [
            amtool,
            "config",
            "routes",
            "test",
            f"--config.file={support.ALERTMANAGER_CONFIG}",
            f"--verify.receivers={receivers}",
            *(f"{key}={value}" for key, value in labels.items()),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == receivers


def test_every_alert_severity_reaches_a_receiver() -> None:
    """No alert of ours depends on the catch-all: each severity has its own route."""
    config = yaml.safe_load(support.ALERTMANAGER_CONFIG.read_text())
    matchers = " ".join(m for route in config["route"]["routes"] for m in route["matchers"])
    for rule in support.alert_rules():
        assert rule["labels"]["severity"] in matchers


@pytest.fixture(scope="module")
def alertmanager(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Alertmanager with the example's routes and inhibition rules on 127.0.0.1.

    The receivers lose their integrations so nothing is ever sent anywhere; routing and inhibition are
    exactly the example's.
    """
    binary = require_tool("prometheus-alertmanager", hint="Debian package prometheus-alertmanager")
    workdir = tmp_path_factory.mktemp("alertmanager")
    config = yaml.safe_load(support.ALERTMANAGER_CONFIG.read_text())
    config["receivers"] = [{"name": receiver["name"]} for receiver in config["receivers"]]
    config_path = workdir / "alertmanager.yml"
    config_path.write_text(yaml.safe_dump(config))
    port = free_port()
    log = (workdir / "alertmanager.log").open("w")
    process = subprocess.Popen(
        [
            binary,
            f"--config.file={config_path}",
            f"--storage.path={workdir / 'data'}",
            f"--web.listen-address=127.0.0.1:{port}",
            "--cluster.listen-address=",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(url, process, workdir / "alertmanager.log")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(f"alertmanager exited: {log.read_text()}")
        try:
            if httpx.get(f"{url}/-/ready", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    pytest.fail(f"alertmanager did not become ready: {log.read_text()}")


def _alert(**labels: str) -> dict:
    return {"labels": labels, "annotations": {"summary": labels["alertname"]}}


def test_inhibition_rules(alertmanager: str) -> None:
    alerts = [
        # the database is gone: its slow-query warning is noise, the sync warning of another component not
        _alert(alertname="HyperpageDatabaseUnreachable", severity="critical", component="database", namespace="prod"),
        _alert(
            alertname="HyperpageSlowDatabaseQueries",
            severity="warning",
            component="database",
            namespace="prod",
            operation="select",
        ),
        _alert(
            alertname="HyperpageSyncStale",
            severity="warning",
            component="sync",
            namespace="prod",
            tool="github",
            connection="acme",
            resource="pulls",
        ),
        # one pod's memory page does not hide another pod's growth
        _alert(alertname="HyperpageHighMemory", severity="critical", component="memory", namespace="prod", pod="web-a"),
        _alert(
            alertname="HyperpageMemoryGrowing", severity="warning", component="memory", namespace="prod", pod="web-a"
        ),
        _alert(
            alertname="HyperpageMemoryGrowing", severity="warning", component="memory", namespace="prod", pod="web-b"
        ),
        # staging is down: every staging warning is inhibited, prod's are not
        _alert(alertname="HyperpageDown", severity="critical", component="app", namespace="staging"),
        _alert(alertname="HyperpageHighResponseTime", severity="warning", component="latency", namespace="staging"),
        # the breaker of the gitlab connection explains its stale sync
        _alert(
            alertname="HyperpageCircuitBreakerOpen",
            severity="warning",
            component="upstream",
            namespace="prod",
            tool="gitlab",
            connection="lab",
        ),
        _alert(
            alertname="HyperpageSyncStale",
            severity="warning",
            component="sync",
            namespace="prod",
            tool="gitlab",
            connection="lab",
            resource="merge_requests",
        ),
    ]
    response = httpx.post(f"{alertmanager}/api/v2/alerts", json=alerts, timeout=5)
    assert response.status_code == 200, response.text

    def key(alert: dict) -> tuple:
        labels = alert["labels"]
        return (labels["alertname"], labels["namespace"], labels.get("pod", ""), labels.get("tool", ""))

    deadline = time.monotonic() + 10
    while True:
        listed = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
        if len(listed) == len(alerts) or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    inhibited = {key(alert): bool(alert["status"]["inhibitedBy"]) for alert in listed}
    assert inhibited == {
        ("HyperpageDatabaseUnreachable", "prod", "", ""): False,
        ("HyperpageSlowDatabaseQueries", "prod", "", ""): True,
        ("HyperpageSyncStale", "prod", "", "github"): False,
        ("HyperpageHighMemory", "prod", "web-a", ""): False,
        ("HyperpageMemoryGrowing", "prod", "web-a", ""): True,
        ("HyperpageMemoryGrowing", "prod", "web-b", ""): False,
        ("HyperpageDown", "staging", "", ""): False,
        ("HyperpageHighResponseTime", "staging", "", ""): True,
        ("HyperpageCircuitBreakerOpen", "prod", "", "gitlab"): False,
        ("HyperpageSyncStale", "prod", "", "gitlab"): True,
    }
