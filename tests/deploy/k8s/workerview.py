"""What the rendered manifests and monitoring objects say about the sync worker."""

from __future__ import annotations

import re
from typing import Any

from tests.deploy.k8s.manifests import Rendered
from tests.deploy.monitoring.contract import SYNC

WORKER_JOB = "hyperpage-worker"


def worker_container(rendered: Rendered) -> tuple[dict[str, Any], dict[str, Any]]:
    """(pod template, worker container)."""
    template = rendered.get("Deployment", "hyperpage-worker")["spec"]["template"]
    [container] = [c for c in template["spec"]["containers"] if c["name"] == "worker"]
    return template, container


def rule_expressions(rendered: Rendered) -> list[str]:
    return [
        rule["expr"]
        for doc in rendered.of_kind("PrometheusRule")
        for group in doc["spec"]["groups"]
        for rule in group["rules"]
    ]


def monitored_worker_metrics(rendered: Rendered) -> set[str]:
    """Metric names the rendered rules read from the worker: the sync metrics, and every metric they select
    with job="hyperpage-worker" (process memory and its limit; histograms as _bucket/_count/_sum)."""
    wanted = set()
    for expr in rule_expressions(rendered):
        for name in re.findall(r"[a-zA-Z_][a-zA-Z0-9_]*", expr.split("#")[0]):
            if re.sub(r"_(bucket|count|sum)$", "", name) in SYNC:
                wanted.add(name)
        wanted.update(re.findall(r"\b([a-z_]+)\{[^}]*" + re.escape(WORKER_JOB), expr))
    return wanted
