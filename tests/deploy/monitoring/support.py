"""Paths, loaders and a PromQL metric-name extractor shared by the monitoring tests."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import yaml

from tests.tooling import REPO_ROOT

MONITORING_DIR = REPO_ROOT / "deploy/monitoring"
RULES_DIR = MONITORING_DIR / "rules"
PROMTOOL_TESTS_DIR = MONITORING_DIR / "tests"
DASHBOARDS_DIR = MONITORING_DIR.parent / "k8s" / "components" / "monitoring" / "dashboards"
ALERTMANAGER_CONFIG = MONITORING_DIR / "alertmanager/alertmanager.yml"
PROMETHEUSRULE = REPO_ROOT / "deploy/k8s/components/monitoring/hyperpage-prometheusrule.yaml"
RUNBOOKS_DIR = REPO_ROOT / "docs/runbooks"
RUNBOOK_URL_BASE = "https://github.com/hyperpage/hyperpage/blob/main/docs/runbooks/"

PROBE_ROUTES = ("/livez", "/readyz", "/api/health", "/api/metrics")


def shared_dir() -> Path:
    """The project's shared/ folder: beside the clone in CI, further up for a worktree."""
    if env := os.environ.get("HYPERPAGE_SHARED_DIR"):
        return Path(env)
    for parent in REPO_ROOT.parents:
        if (parent / "shared/schemas/crds").is_dir():
            return parent / "shared"
    raise FileNotFoundError("shared/schemas/crds not found beside the repository; set HYPERPAGE_SHARED_DIR")


def rule_files() -> list[Path]:
    return sorted(RULES_DIR.glob("*.rules.yaml"))


def rule_groups() -> list[dict]:
    groups: list[dict] = []
    for path in rule_files():
        groups.extend(yaml.safe_load(path.read_text())["groups"])
    return groups


def alert_rules() -> list[dict]:
    return [rule for group in rule_groups() for rule in group["rules"] if "alert" in rule]


def recording_rules() -> list[dict]:
    return [rule for group in rule_groups() for rule in group["rules"] if "record" in rule]


def dashboards() -> dict[str, dict]:
    return {path.name: json.loads(path.read_text()) for path in sorted(DASHBOARDS_DIR.glob("*.json"))}


def dashboard_panels(dashboard: dict) -> list[dict]:
    """Every panel, including those nested in collapsed rows."""
    panels: list[dict] = []
    for panel in dashboard.get("panels", []):
        panels.append(panel)
        panels.extend(panel.get("panels", []))
    return panels


def dashboard_queries(dashboard: dict) -> list[tuple[str, str]]:
    """(panel title, PromQL expression) for every query target of every panel."""
    return [
        (panel.get("title", ""), target["expr"])
        for panel in dashboard_panels(dashboard)
        for target in panel.get("targets", [])
        if target.get("expr")
    ]


# Grafana's variables, replaced by values a plain Prometheus accepts.
GRAFANA_SUBSTITUTIONS = {
    "$__rate_interval": "5m",
    "$__interval": "1m",
    "$__range": "1h",
    "${namespace:regex}": ".*",
    "${pod:regex}": ".*",
    "$namespace": ".*",
    "$pod": ".*",
}


def expand_grafana_variables(expr: str) -> str:
    for variable, value in GRAFANA_SUBSTITUTIONS.items():
        expr = expr.replace(variable, value)
    return expr


_STRINGS = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`')
_MATCHERS = re.compile(r"\{[^}]*\}")
_RANGES = re.compile(r"\[[^\]]*\]")
_GROUPING = re.compile(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)")
_IDENTIFIER = re.compile(r"(?<![\w.$])([A-Za-z_:][\w:]*)(\s*\()?")
_KEYWORDS = {
    "and",
    "or",
    "unless",
    "by",
    "without",
    "on",
    "ignoring",
    "group_left",
    "group_right",
    "bool",
    "offset",
    "inf",
    "nan",
    "start",
    "end",
}


def metric_names(expr: str) -> set[str]:
    """Metric names a PromQL expression selects (functions, keywords, labels and literals left out)."""
    text = _STRINGS.sub(" ", expr)
    text = _MATCHERS.sub(" ", text)
    text = _RANGES.sub(" ", text)
    text = _GROUPING.sub(" ", text)
    names = set()
    for match in _IDENTIFIER.finditer(text):
        name, call = match.groups()
        if call is None and name.lower() not in _KEYWORDS:
            names.add(name)
    return names
