"""The real thing: a real Prometheus scrapes `hyperpage serve` (SQLite) and postgres_exporter (throwaway
PostgreSQL) on 127.0.0.1, loads our rule files, and evaluates every recording rule, alert expression and
dashboard query through its HTTP API.

Metrics that features still to land will export are listed in contract.PENDING_BY_ISSUE: this test
asserts they are ABSENT today, so it fails (and the list must shrink) the day one of them appears.
"""

from __future__ import annotations

import os
import re
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import httpx
import pytest
import yaml

from hyperpage.db import schema
from hyperpage.demo.config import DEMO_GITHUB_TOKEN
from tests.deploy.monitoring import support
from tests.deploy.monitoring.contract import (
    CLOUDNATIVE_PG,
    CORE,
    KUBELET,
    LANDED,
    PENDING_BY_ISSUE,
    POSTGRES_EXPORTER,
    STANDARD,
    SYNC,
    exported_names,
)
from tests.integration.processes import FakeUpstreamProcess
from tests.pg import PgCluster
from tests.serverproc import HYPERPAGE, ServerProcess, wait_until
from tests.tooling import free_port, require_tool

SCRAPE_INTERVAL = "1s"
# Labels Kubernetes service discovery would attach; the rules and dashboards group by them.
TARGET_LABELS = {"namespace": "hyperpage-test", "pod": "hyperpage-web-0"}


@dataclass
class Stack:
    prometheus: str
    app: ServerProcess


def _expression_queries() -> list[tuple[str, str]]:
    """(what, PromQL) for every rule and every dashboard query, Grafana variables filled in."""
    queries = [(f"record {rule['record']}", rule["expr"]) for rule in support.recording_rules()]
    queries += [(f"alert {rule['alert']}", rule["expr"]) for rule in support.alert_rules()]
    for name, dashboard in support.dashboards().items():
        queries += [
            (f"{name}: {title}", support.expand_grafana_variables(expr))
            for title, expr in support.dashboard_queries(dashboard)
        ]
    return queries


def _start(args: list[str], log: Path) -> subprocess.Popen:
    return subprocess.Popen(args, stdout=log.open("w"), stderr=subprocess.STDOUT)


def _stop(process: subprocess.Popen | None) -> None:
    if process is not None and process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _query(prometheus: str, expr: str) -> dict:
    response = httpx.get(f"{prometheus}/api/v1/query", params={"query": expr}, timeout=10)
    return response.json()


def _ready(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    prometheus_bin = require_tool("prometheus", hint="Debian package prometheus")
    exporter_bin = require_tool("prometheus-postgres-exporter", hint="Debian package prometheus-postgres-exporter")
    work = tmp_path_factory.mktemp("prometheus-live")
    cluster = PgCluster.start()
    exporter = prometheus = app = upstream = None
    try:
        db = work / "hyperpage.db"
        schema.upgrade(f"sqlite:///{db}")
        # A healthy installation has a recent backup (else HyperpageBackupTooOld rightly fires).
        subprocess.run(
            [HYPERPAGE, "backup", "create"],
            check=True,
            capture_output=True,
            env={
                **os.environ,
                "DATABASE_URL": f"sqlite:///{db}",
                "HYPERPAGE_BACKUP_DESTINATION": f"file://{work / 'backups'}",
            },
        )
        # The in-process sync (SQLite) pulls from the fake upstream, so the sync metrics are real too.
        upstream = FakeUpstreamProcess("--repos", "2", "--big-repo-prs", "0", "--prs-per-repo", "3")
        # Metrics on their own port (HYPERPAGE_METRICS_PORT, path /metrics), as the ServiceMonitor scrapes them.
        metrics_port = free_port()
        app = ServerProcess(
            env={
                "DATABASE_URL": f"sqlite:///{db}",
                "ENABLE_GITHUB": "true",
                "GITHUB_TOKEN": DEMO_GITHUB_TOKEN,
                "GITHUB_API_URL": f"{upstream.base}/github",
                "SYNC_TICK_SECONDS": "0.2",
                "HYPERPAGE_METRICS_PORT": str(metrics_port),
            }
        ).start(work / "serve.log")

        exporter_port = free_port()
        exporter = subprocess.Popen(
            [exporter_bin, f"--web.listen-address=127.0.0.1:{exporter_port}"],
            env={"DATA_SOURCE_NAME": f"postgresql://postgres@127.0.0.1:{cluster.port}/postgres?sslmode=disable"},
            stdout=(work / "exporter.log").open("w"),
            stderr=subprocess.STDOUT,
        )

        port = free_port()
        config = {
            "global": {
                "scrape_interval": SCRAPE_INTERVAL,
                "scrape_timeout": SCRAPE_INTERVAL,
                "evaluation_interval": SCRAPE_INTERVAL,
            },
            "rule_files": [str(path) for path in support.rule_files()],
            "scrape_configs": [
                {
                    "job_name": "hyperpage",
                    "metrics_path": "/metrics",
                    "static_configs": [{"targets": [f"127.0.0.1:{metrics_port}"], "labels": TARGET_LABELS}],
                },
                {
                    "job_name": "postgres-exporter",
                    "static_configs": [
                        {"targets": [f"127.0.0.1:{exporter_port}"], "labels": {"namespace": TARGET_LABELS["namespace"]}}
                    ],
                },
            ],
        }
        (work / "prometheus.yml").write_text(yaml.safe_dump(config))
        prometheus = _start(
            [
                prometheus_bin,
                f"--config.file={work / 'prometheus.yml'}",
                f"--web.listen-address=127.0.0.1:{port}",
                f"--storage.tsdb.path={work / 'tsdb'}",
            ],
            work / "prometheus.log",
        )
        url = f"http://127.0.0.1:{port}"

        assert app.wait_status("/readyz", 200, timeout=30), app.logs()
        # every sync job has succeeded once, so no stale-sync alert is even pending
        assert wait_until(lambda: _sync_done(metrics_port), timeout=60), app.logs()
        assert wait_until(lambda: _ready(f"{url}/-/ready"), timeout=30), (work / "prometheus.log").read_text()
        up = 'count(up{job=~"hyperpage|postgres-exporter"} == 1) == 2'
        assert wait_until(lambda: bool(_query(url, up)["data"]["result"]), timeout=30), (
            work / "prometheus.log"
        ).read_text() + app.logs()
        # Traffic in two rounds with a scrape between them: a counter's first sample already holds the
        # whole first round, so rate() only sees requests made after Prometheus has seen the series.
        _drive_traffic(app)
        seen = 'hyperpage_http_requests_total{route="/openapi.json"}'
        assert wait_until(lambda: bool(_query(url, seen)["data"]["result"]), timeout=30)
        # read before the second round: a scrape during it would otherwise already hold the new total
        before = _query(url, seen)["data"]["result"][0]["value"][1]
        _drive_traffic(app)
        grown = f"{seen} > {before}"
        assert wait_until(lambda: bool(_query(url, grown)["data"]["result"]), timeout=30)
        # every rule evaluated once more after the second round had been scraped, so the SLIs hold it
        seen_at = time.time()
        assert wait_until(lambda: _rules_evaluated(url, since=seen_at), timeout=30), (
            work / "prometheus.log"
        ).read_text()
        yield Stack(prometheus=url, app=app)
    finally:
        _stop(prometheus)
        _stop(exporter)
        if app is not None:
            app.stop()
        if upstream is not None:
            upstream.stop()
        cluster.destroy()


def _sync_done(metrics_port: int) -> bool:
    try:
        response = httpx.get(f"http://127.0.0.1:{metrics_port}/metrics", timeout=3)
    except httpx.HTTPError:
        return False
    lines = [
        line for line in response.text.splitlines() if line.startswith("hyperpage_sync_last_success_timestamp_seconds{")
    ]
    return len(lines) >= 5 and all(not line.endswith(" 0.0") for line in lines)


def _drive_traffic(app: ServerProcess) -> None:
    """User requests (a page, the OpenAPI document, a 404) plus probes, which the SLIs must ignore."""
    for _ in range(5):
        for path in ("/openapi.json", "/docs", "/no-such-page", "/livez", "/readyz", "/api/health"):
            assert app.get(path) is not None, f"{path} did not answer"


def _rules_evaluated(url: str, *, since: float) -> bool:
    groups = httpx.get(f"{url}/api/v1/rules", timeout=10).json()["data"]["groups"]
    return bool(groups) and all(
        _unix_time(group["lastEvaluation"]) > since and all(rule["health"] != "unknown" for rule in group["rules"])
        for group in groups
    )


def _unix_time(rfc3339: str) -> float:
    """Prometheus's RFC 3339 times carry nanoseconds, which datetime does not parse."""
    match = re.fullmatch(r"(.+?)(\.\d+)?(Z|[+-]\d\d:\d\d)", rfc3339)
    assert match, rfc3339
    zone = "+00:00" if match[3] == "Z" else match[3]
    return datetime.fromisoformat(match[1] + zone).timestamp() + float(match[2] or 0)


def test_prometheus_loaded_every_rule_and_all_are_healthy(stack: Stack) -> None:
    groups = httpx.get(f"{stack.prometheus}/api/v1/rules", timeout=10).json()["data"]["groups"]
    loaded = {rule["name"] for group in groups for rule in group["rules"]}
    expected = {rule.get("alert") or rule["record"] for rule in support.alert_rules() + support.recording_rules()}
    assert loaded == expected
    unhealthy = {
        rule["name"]: rule.get("lastError") for group in groups for rule in group["rules"] if rule["health"] != "ok"
    }
    assert unhealthy == {}


def test_every_rule_and_dashboard_query_evaluates(stack: Stack) -> None:
    failures = {}
    for what, expr in _expression_queries():
        body = _query(stack.prometheus, expr)
        if body.get("status") != "success":
            failures[what] = body.get("error")
    assert failures == {}


def test_referenced_metrics_exist_unless_their_feature_is_still_pending(stack: Stack) -> None:
    recorded = {rule["record"] for rule in support.recording_rules()}
    referenced = set().union(*(support.metric_names(expr) for _, expr in _expression_queries())) - recorded
    pending = {name: issue for issue, metrics in PENDING_BY_ISSUE.items() for name in exported_names(metrics)}
    available = exported_names(CORE) | exported_names(SYNC) | exported_names(LANDED) | STANDARD | POSTGRES_EXPORTER

    def exists(name: str) -> bool:
        return bool(_query(stack.prometheus, f"count({{__name__={name!r}}})".replace("'", '"'))["data"]["result"])

    # CloudNativePG and the kubelet export theirs in the cluster; this stack runs neither (their names are
    # checked against CloudNativePG's default queries in tests/deploy/system/test_monitoring_seams.py).
    elsewhere = CLOUDNATIVE_PG | KUBELET
    unknown = referenced - available - set(pending) - elsewhere
    assert unknown == set(), "metrics referenced but in no list of contract.py"
    missing = sorted(name for name in referenced & available if not exists(name))
    assert missing == [], "metrics the rules or dashboards need but the app or exporter does not export"
    arrived = {name: f"issue {pending[name]}" for name in referenced & set(pending) if exists(name)}
    assert arrived == {}, "exported now: move them out of contract.PENDING_BY_ISSUE"


def test_recording_rules_turn_real_traffic_into_slis(stack: Stack) -> None:
    def value(expr: str) -> float:
        result = _query(stack.prometheus, expr)["data"]["result"]
        assert len(result) == 1, (expr, result)
        assert result[0]["metric"].get("namespace") == TARGET_LABELS["namespace"]
        return float(result[0]["value"][1])

    assert value("namespace_job:hyperpage_http_requests:rate5m") > 0
    # the 404 page is not a server error, and the probes are not counted at all
    assert value("namespace_job:hyperpage_http_request_errors:ratio_rate5m") == 0
    assert 0 < value("namespace_job:hyperpage_http_request_duration_seconds:p95_rate5m") < 10
    assert value("namespace_job:hyperpage_http_request_slow:ratio_rate5m") >= 0


def test_no_alert_fires_for_a_healthy_app_with_a_reachable_database(stack: Stack) -> None:
    alerts = httpx.get(f"{stack.prometheus}/api/v1/alerts", timeout=10).json()["data"]["alerts"]
    active = {alert["labels"]["alertname"] for alert in alerts}
    # NoUserActivity may be pending (the counter series of user routes is young); nothing else may be
    assert active <= {"HyperpageNoUserActivity"}, alerts
    assert _query(stack.prometheus, 'max(hyperpage_db_up{job="hyperpage"})')["data"]["result"][0]["value"][1] == "1"
