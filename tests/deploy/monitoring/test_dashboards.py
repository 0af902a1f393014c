"""Grafana dashboards: generated from deploy/monitoring/dashboard_panels.py, templated by namespace and
pod, and every query is valid PromQL over metrics that exist in the contract or our recording rules."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.deploy.monitoring import support
from tests.deploy.monitoring.contract import ALLOWED_SOURCE_NAMES
from tests.tooling import require_tool

DASHBOARDS = support.dashboards()
EXPECTED = {"hyperpage-overview.json", "hyperpage-sync.json", "hyperpage-database.json"}
MATCHERS = re.compile(r"\{([^}]*)\}")


def test_dashboard_files_are_generated_from_the_panel_lists() -> None:
    result = subprocess.run(
        ["python3", str(support.MONITORING_DIR / "build_dashboards.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert set(DASHBOARDS) == EXPECTED


def test_dashboard_uids_are_unique_and_match_file_names() -> None:
    uids = [dashboard["uid"] for dashboard in DASHBOARDS.values()]
    assert len(uids) == len(set(uids))
    for name, dashboard in DASHBOARDS.items():
        assert name == f"{dashboard['uid']}.json"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_dashboard_is_templated_by_datasource_namespace_and_pod(name: str) -> None:
    variables = {var["name"]: var for var in DASHBOARDS[name]["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource"
    assert variables["datasource"]["query"] == "prometheus"
    for var in ("namespace", "pod"):
        assert variables[var]["type"] == "query" and variables[var]["includeAll"]
        assert variables[var]["allValue"] == ".*"
    assert "$namespace" in variables["pod"]["definition"], "pod choices follow the namespace"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_panels_are_laid_out_and_use_the_datasource_variable(name: str) -> None:
    panels = support.dashboard_panels(DASHBOARDS[name])
    ids = [panel["id"] for panel in panels]
    assert len(ids) == len(set(ids))
    for panel in panels:
        grid = panel["gridPos"]
        assert grid["x"] >= 0 and grid["x"] + grid["w"] <= 24, panel["title"]
        if panel["type"] == "row":
            continue
        assert panel["title"] and panel["targets"], panel
        assert panel["datasource"]["uid"] == "${datasource}"
        assert all(target["datasource"]["uid"] == "${datasource}" for target in panel["targets"])
    # no two panels cover the same grid cell
    cells: set[tuple[int, int]] = set()
    for panel in panels:
        grid = panel["gridPos"]
        area = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not cells & area, f"{panel['title']} overlaps another panel"
        cells |= area


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_selector_filters_on_the_namespace_variable(name: str) -> None:
    for title, expr in support.dashboard_queries(DASHBOARDS[name]):
        for matchers in MATCHERS.findall(expr):
            assert 'namespace=~"$namespace"' in matchers, f"{title}: {{{matchers}}}"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_queries_only_use_contract_or_recorded_metrics(name: str) -> None:
    allowed = ALLOWED_SOURCE_NAMES | {rule["record"] for rule in support.recording_rules()}
    for title, expr in support.dashboard_queries(DASHBOARDS[name]):
        names = support.metric_names(expr)
        assert names, f"{title}: no metric found in {expr}"
        assert names <= allowed, f"{title}: unknown metrics {names - allowed}"


def test_overview_covers_traffic_errors_latency_and_slo_budget() -> None:
    titles = " | ".join(p["title"] for p in support.dashboard_panels(DASHBOARDS["hyperpage-overview.json"]))
    for needle in ("Requests/s", "5xx ratio", "Latency percentiles", "error budget left", "burn rate"):
        assert needle in titles, needle


def test_every_query_is_valid_promql(tmp_path: Path) -> None:
    """promtool parses each query (Grafana variables filled in) as the expression of a recording rule."""
    promtool = require_tool("promtool")
    rules = [
        {"record": f"dashboard:query:{index}", "expr": support.expand_grafana_variables(expr)}
        for index, (_, expr) in enumerate(
            query for dashboard in DASHBOARDS.values() for query in support.dashboard_queries(dashboard)
        )
    ]
    path = tmp_path / "dashboard-queries.rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "dashboard_queries", "rules": rules}]}))
    result = subprocess.run([promtool, "check", "rules", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"SUCCESS: {len(rules)} rules found" in result.stdout


def test_observability_doc_states_the_panel_counts() -> None:
    text = (support.REPO_ROOT / "docs/observability.md").read_text()
    for dashboard in DASHBOARDS.values():
        panels = [p for p in support.dashboard_panels(dashboard) if p["type"] != "row"]
        assert f"| `{dashboard['uid']}` | {len(panels)} |" in text, dashboard["uid"]
