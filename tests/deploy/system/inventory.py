"""Every pod an environment runs, as the API server receives it: the rendered workloads' templates and the
pods the operators create from the rendered custom resources (operators.py), each after the platform's
mutating webhooks (istio.py), with the number of copies that exist at the peak (HPA maximum plus rollout
surge). The admission and capacity models both read `environment_pods(env)`; neither reads a manifest itself.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

from tests.deploy.k8s.manifests import Rendered
from tests.deploy.system import istio, operators
from tests.deploy.system.pods import Pod, surge
from tests.deploy.system.world import Environment


def _peak(rendered: Rendered, doc: dict[str, Any]) -> int:
    kind = doc["kind"]
    if kind in ("Job", "CronJob"):
        # One run at a time: Jobs here have parallelism 1; the CronJobs forbid concurrent runs.
        return 1
    replicas = doc["spec"].get("replicas", 1)
    for hpa in rendered.of_kind("HorizontalPodAutoscaler"):
        target = hpa["spec"]["scaleTargetRef"]
        if target["kind"] == kind and target["name"] == doc["metadata"]["name"]:
            replicas = hpa["spec"]["maxReplicas"]
    if kind == "Deployment":
        return replicas + surge(doc["spec"].get("strategy", {}), replicas)
    # A StatefulSet's RollingUpdate deletes a pod before it creates its replacement: no surge.
    return replicas


def namespace_labels(env: Environment) -> dict[str, str]:
    return env.app.get("Namespace", env.namespace)["metadata"].get("labels") or {}


def rendered_pods(env: Environment) -> Iterator[Pod]:
    """The overlay's Deployments, StatefulSets, Jobs and CronJobs."""
    for doc, template in env.app.workloads():
        yield Pod(
            owner=f"{doc['kind']}/{doc['metadata']['name']}",
            namespace=env.namespace,
            metadata=copy.deepcopy(template.get("metadata") or {}),
            spec=copy.deepcopy(template["spec"]),
            peak=_peak(env.app, doc),
            completes=doc["kind"] in ("Job", "CronJob"),
        )


def environment_pods(env: Environment) -> list[Pod]:
    """Every pod of the environment's namespace after the platform's webhooks mutated it."""
    mesh = istio.mesh(env.platform)
    labels = namespace_labels(env)
    pods = list(rendered_pods(env)) + list(operators.operator_pods(env.app, env.namespace))
    return [istio.inject(pod, labels, mesh) for pod in pods]
