#!/usr/bin/env python3
"""Render the Prometheus Operator PrometheusRule from the plain rule files in deploy/monitoring/rules/.

The rule files are the source of truth (promtool checks and unit-tests them); the custom resource in the
monitoring component is generated from them so the two cannot drift apart unnoticed:

    python3 deploy/monitoring/render_prometheusrule.py            # rewrite the resource
    python3 deploy/monitoring/render_prometheusrule.py --check    # exit 1 if it is out of date

tests/deploy/monitoring/test_prometheusrule.py runs the same comparison.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

MONITORING_DIR = Path(__file__).resolve().parent
REPO_ROOT = MONITORING_DIR.parent.parent
RULES_DIR = MONITORING_DIR / "rules"
OUTPUT = REPO_ROOT / "deploy/k8s/components/monitoring/hyperpage-prometheusrule.yaml"

HEADER = (
    "# GENERATED from deploy/monitoring/rules/*.rules.yaml by deploy/monitoring/render_prometheusrule.py.\n"
    "# Do not edit: change the rule files and re-run the script (a test fails while this file is stale).\n"
)


class _BlockDumper(yaml.SafeDumper):
    """Dump multi-line strings (PromQL, descriptions) as literal blocks so the resource stays readable."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_BlockDumper.add_representer(str, _represent_str)


def load_groups(rules_dir: Path = RULES_DIR) -> list[dict]:
    """All rule groups of all rule files, in file-name order."""
    groups: list[dict] = []
    for path in sorted(rules_dir.glob("*.rules.yaml")):
        groups.extend(yaml.safe_load(path.read_text())["groups"])
    return groups


def render(rules_dir: Path = RULES_DIR) -> str:
    resource = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": "hyperpage",
            "labels": {
                "app.kubernetes.io/name": "hyperpage",
                "app.kubernetes.io/part-of": "hyperpage",
                "app.kubernetes.io/component": "monitoring",
                # kube-prometheus-stack's default ruleSelector is {release: <its release name>} (values.yaml
                # ruleSelectorNilUsesHelmValues: true); deploy/platform installs it as kube-prometheus-stack.
                "release": "kube-prometheus-stack",
            },
        },
        "spec": {"groups": load_groups(rules_dir)},
    }
    body = yaml.dump(resource, Dumper=_BlockDumper, sort_keys=False, width=1000, allow_unicode=True)
    return HEADER + body


def main(argv: list[str]) -> int:
    text = render()
    if "--check" in argv:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            sys.stderr.write(f"{OUTPUT.relative_to(REPO_ROOT)} is stale: run {Path(__file__).name}\n")
            return 1
        return 0
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    OUTPUT.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
