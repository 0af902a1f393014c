"""Alerting and recording rules: promtool validates and unit-tests them; they follow the contract."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from tests.deploy.monitoring import support
from tests.deploy.monitoring.contract import ALLOWED_SOURCE_NAMES
from tests.tooling import require_tool

# The seed's alerts (issue 7): name -> (severity, for).
SEED_ALERTS = {
    "HyperpageDown": ("critical", "1m"),
    "HyperpageHighErrorRate": ("critical", "2m"),
    "HyperpageDatabaseUnreachable": ("critical", "1m"),
    "HyperpageHighMemory": ("critical", "5m"),
    "HyperpageHighResponseTime": ("warning", "5m"),
    "HyperpageSlowDatabaseQueries": ("warning", "1m"),
    "HyperpageMemoryGrowing": ("warning", "5m"),
    "HyperpageNoUserActivity": ("warning", "10m"),
}
EXTRA_ALERTS = {
    "HyperpageSyncStale",
    "HyperpageUpstreamQuotaLow",
    "HyperpageCircuitBreakerOpen",
    "HyperpageBackupTooOld",
}
# CloudNativePG and kubelet metrics (issue 13): WAL archiving, replication lag, volume fill.
DATABASE_ALERTS = {"HyperpageWalArchivingFailing", "HyperpageReplicationLag", "HyperpageDatabaseVolumeFilling"}
SLO_ALERTS = {
    "HyperpageAvailabilityBudgetBurnFast",
    "HyperpageAvailabilityBudgetBurnSlow",
    "HyperpageLatencyBudgetBurnFast",
    "HyperpageLatencyBudgetBurnSlow",
}
RECORD_NAME = re.compile(r"^[a-z_]+:[a-z0-9_]+:[a-z0-9_]+$")


def test_promtool_check_rules() -> None:
    promtool = require_tool("promtool")
    result = subprocess.run(
        [promtool, "check", "rules", *map(str, support.rule_files())], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_promtool_unit_tests_pass() -> None:
    promtool = require_tool("promtool")
    files = sorted(support.PROMTOOL_TESTS_DIR.glob("*.test.yaml"))
    assert files, "no promtool unit tests found"
    result = subprocess.run([promtool, "test", "rules", *map(str, files)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr


def test_rule_files_hold_the_expected_groups() -> None:
    names = [group["name"] for group in support.rule_groups()]
    assert sorted(names) == sorted(
        ["hyperpage_rules", "HyperpageAlerts", "HyperpageSyncAlerts", "HyperpageSLOAlerts", "HyperpageDatabaseAlerts"]
    )
    alerts = {rule["alert"] for rule in support.alert_rules()}
    assert alerts == set(SEED_ALERTS) | EXTRA_ALERTS | SLO_ALERTS | DATABASE_ALERTS


@pytest.mark.parametrize("name", sorted(SEED_ALERTS))
def test_seed_alert_has_the_seed_severity_and_duration(name: str) -> None:
    rule = next(rule for rule in support.alert_rules() if rule["alert"] == name)
    assert (rule["labels"]["severity"], rule["for"]) == SEED_ALERTS[name]


@pytest.mark.parametrize("rule", support.alert_rules(), ids=lambda rule: rule["alert"])
def test_alert_is_documented_and_routable(rule: dict) -> None:
    name = rule["alert"]
    assert rule["labels"]["severity"] in {"critical", "warning"}
    assert rule["labels"].get("component"), "component drives Alertmanager's inhibition"
    annotations = rule["annotations"]
    assert annotations["summary"].strip() and annotations["description"].strip()
    assert annotations["runbook_url"] == f"{support.RUNBOOK_URL_BASE}{name}.md"
    runbook = support.RUNBOOKS_DIR / f"{name}.md"
    assert runbook.is_file(), f"runbook {runbook.relative_to(support.REPO_ROOT)} is missing"
    text = runbook.read_text()
    assert text.startswith(f"# {name}\n")
    for heading in ("## Meaning", "## Check", "## Act"):
        assert heading in text, f"{runbook.name} lacks a {heading!r} section"


def test_every_runbook_belongs_to_an_alert() -> None:
    alerts = {rule["alert"] for rule in support.alert_rules()}
    # Alert pages are named after their alert; procedures (restore-from-logical-backup.md, ...) are not alerts.
    runbooks = {path.stem for path in support.RUNBOOKS_DIR.glob("Hyperpage*.md")}
    assert runbooks == alerts


def test_every_alert_is_unit_tested_firing_and_silent() -> None:
    firing: set[str] = set()
    silent: set[str] = set()
    for path in support.PROMTOOL_TESTS_DIR.glob("*.test.yaml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                (firing if check.get("exp_alerts") else silent).add(check["alertname"])
    alerts = {rule["alert"] for rule in support.alert_rules()}
    assert alerts - firing == set(), "alerts never tested firing"
    assert alerts - silent == set(), "alerts never tested silent"


def test_firing_expectations_name_severity_and_component() -> None:
    by_name = {rule["alert"]: rule for rule in support.alert_rules()}
    for path in support.PROMTOOL_TESTS_DIR.glob("*.test.yaml"):
        for case in yaml.safe_load(path.read_text())["tests"]:
            for check in case.get("alert_rule_test", []):
                rule = by_name[check["alertname"]]
                for expected in check.get("exp_alerts") or []:
                    labels = expected["exp_labels"]
                    assert labels["severity"] == rule["labels"]["severity"], case["name"]
                    assert labels["component"] == rule["labels"]["component"], case["name"]
                    assert "runbook_url" in expected["exp_annotations"], case["name"]


def test_recording_rules_follow_level_metric_operation() -> None:
    records = [rule["record"] for rule in support.recording_rules()]
    assert len(records) == len(set(records)), "duplicate recording rule"
    for name in records:
        assert RECORD_NAME.match(name), name
        assert ":hyperpage_" in name, name


def test_rules_only_use_contract_or_recorded_metrics() -> None:
    allowed = ALLOWED_SOURCE_NAMES | {rule["record"] for rule in support.recording_rules()}
    for group in support.rule_groups():
        for rule in group["rules"]:
            unknown = support.metric_names(rule["expr"]) - allowed
            assert not unknown, f"{rule.get('alert') or rule.get('record')} uses unknown metrics {unknown}"


def test_slis_leave_probe_routes_out() -> None:
    """Probes are hit every few seconds by kubelet and Prometheus; counting them would hide user errors."""
    for rule in support.recording_rules():
        if "ratio_rate" in rule["record"] or rule["record"].endswith(":rate5m"):
            if "route, status" in rule["expr"]:
                continue  # the per-route breakdown for dashboards keeps every route on purpose
            for route in support.PROBE_ROUTES:
                assert route in rule["expr"], f"{rule['record']} does not exclude {route}"


def test_metric_name_extraction() -> None:
    expr = (
        'histogram_quantile(0.95, sum by (le, job) (rate(a_bucket{job="x", route!~"/b|c"}[5m])))'
        ' / on (job) group_left b_total offset 1h > 1e3 and time() - c_seconds{le="0.5"} @ end()'
    )
    assert support.metric_names(expr) == {"a_bucket", "b_total", "c_seconds"}


def test_runbook_index_lists_every_alert_with_its_severity_and_for() -> None:
    rows = re.findall(
        r"^\| \[(\w+)\]\(\1\.md\) \| (\w+) \| [^|]+ \| (\w+) \|$",
        (support.RUNBOOKS_DIR / "README.md").read_text(),
        flags=re.MULTILINE,
    )
    documented = {name: (severity, duration) for name, severity, duration in rows}
    assert documented == {rule["alert"]: (rule["labels"]["severity"], rule["for"]) for rule in support.alert_rules()}
