#!/usr/bin/env python3
"""Build the Grafana dashboards in deploy/k8s/components/monitoring/dashboards/ from the panel lists below.

Written as code so every panel shares one datasource, one set of template variables (datasource,
namespace, pod) and one layout; the JSON files are the artefact Grafana's sidecar loads.

    python3 deploy/monitoring/build_dashboards.py           # rewrite the JSON files
    python3 deploy/monitoring/build_dashboards.py --check   # exit 1 if a file is stale

tests/deploy/monitoring/test_dashboards.py runs the same comparison and checks every query.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

# The panel lists sit beside this script; it is run as a file, not installed as a package.
sys.path.insert(0, str(Path(__file__).resolve().parent))
from dashboard_panels import DASHBOARDS

# Written under the Kustomize component: configMapGenerator only reads files in or below its root.
OUT_DIR = Path(__file__).resolve().parents[1] / "k8s" / "components" / "monitoring" / "dashboards"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
GRID_WIDTH = 24


def _variable(name: str, label: str, query: str) -> dict:
    return {
        "name": name,
        "label": label,
        "type": "query",
        "datasource": DATASOURCE,
        "query": {"query": query, "refId": f"{name}-variable"},
        "definition": query,
        "refresh": 2,
        "includeAll": True,
        "multi": True,
        "allValue": ".*",
        "current": {"selected": True, "text": ["All"], "value": ["$__all"]},
        "sort": 1,
    }


TEMPLATING = {
    "list": [
        {
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
        },
        _variable("namespace", "Namespace",
                  'label_values(up{job=~"hyperpage|hyperpage-worker"}, namespace)'),
        _variable("pod", "Pod",
                  'label_values(up{job=~"hyperpage|hyperpage-worker", namespace=~"$namespace"}, pod)'),
    ]
}


def _panel(spec: dict, panel_id: int, x: int, y: int) -> dict:
    kind = spec.get("type", "timeseries")
    panel = {
        "id": panel_id,
        "type": kind,
        "title": spec["title"],
        "description": spec.get("description", ""),
        "datasource": DATASOURCE,
        "gridPos": {"x": x, "y": y, "w": spec.get("w", 12), "h": spec.get("h", 8)},
        "fieldConfig": {
            "defaults": {"unit": spec.get("unit", "short")},
            "overrides": [],
        },
        "targets": [
            {
                "datasource": DATASOURCE,
                "refId": chr(ord("A") + index),
                "expr": expr,
                "legendFormat": legend,
                **({"instant": True} if kind == "stat" else {}),
            }
            for index, (expr, legend) in enumerate(spec["queries"])
        ],
    }
    if "thresholds" in spec:
        steps = [{"color": "green", "value": None}]
        steps += [{"color": color, "value": value} for value, color in spec["thresholds"]]
        panel["fieldConfig"]["defaults"]["thresholds"] = {"mode": "absolute", "steps": steps}
    if kind == "timeseries":
        legend = {"displayMode": "table", "placement": "bottom", "calcs": ["lastNotNull"]}
        panel["options"] = {"legend": legend, "tooltip": {"mode": "multi", "sort": "desc"}}
    if kind == "stat":
        panel["options"] = {"reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
                            "colorMode": "value", "graphMode": "none"}
    return panel


def build(dashboard: dict) -> dict:
    panels: list[dict] = []
    panel_id, x, y, row_height = 1, 0, 0, 0
    for row_title, specs in dashboard["rows"]:
        if x:
            x, y = 0, y + row_height
        panels.append({"id": panel_id, "type": "row", "title": row_title, "collapsed": False,
                       "gridPos": {"x": 0, "y": y, "w": GRID_WIDTH, "h": 1}, "panels": []})
        panel_id, y, row_height = panel_id + 1, y + 1, 0
        for spec in specs:
            width = spec.get("w", 12)
            if x + width > GRID_WIDTH:
                x, y, row_height = 0, y + row_height, 0
            panels.append(_panel(spec, panel_id, x, y))
            panel_id += 1
            x += width
            row_height = max(row_height, spec.get("h", 8))
    return {
        "uid": dashboard["uid"],
        "title": dashboard["title"],
        "description": dashboard["description"],
        "tags": ["hyperpage"],
        "timezone": "utc",
        "editable": False,
        "graphTooltip": 1,
        "refresh": "30s",
        "schemaVersion": 39,
        "version": 1,
        "time": {"from": "now-6h", "to": "now"},
        "templating": TEMPLATING,
        "annotations": {"list": []},
        "links": [{"title": "Hyperpage dashboards", "type": "dashboards", "tags": ["hyperpage"],
                   "asDropdown": True}],
        "panels": panels,
    }


def render_all() -> dict[str, str]:
    return {f"{d['uid']}.json": json.dumps(build(d), indent=2) + "\n" for d in DASHBOARDS}


def main(argv: list[str]) -> int:
    rendered = render_all()
    if "--check" in argv:
        stale = [name for name, text in rendered.items()
                 if not (OUT_DIR / name).exists() or (OUT_DIR / name).read_text() != text]
        if stale:
            sys.stderr.write(f"stale dashboards: {', '.join(stale)}; run {Path(__file__).name}\n")
        return 1 if stale else 0
    OUT_DIR.mkdir(exist_ok=True)
    for name, text in rendered.items():
        (OUT_DIR / name).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
