"""The pod vocabulary of the whole-system model: a `Pod` as the API server receives it (after the platform's
mutating webhooks) with how many copies of it exist at the peak, and Kubernetes resource quantities."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

UNITS = {"m": 1e-3, "": 1, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def quantity(value: str | int | float) -> float:
    """A Kubernetes resource quantity as a number (cores or bytes): "500m" -> 0.5, "4Gi" -> 4 * 2**30."""
    text = str(value)
    for suffix in sorted(UNITS, key=len, reverse=True):
        if suffix and text.endswith(suffix):
            return float(text[: -len(suffix)]) * UNITS[suffix]
    return float(text)


@dataclass(frozen=True)
class Pod:
    """One kind of pod: its metadata and spec as admitted, and how many of it exist at the peak."""

    owner: str  # e.g. "Deployment/hyperpage-web", "Cluster/hyperpage-db (instance)"
    namespace: str
    metadata: dict[str, Any]
    spec: dict[str, Any]
    peak: int
    # Run-to-completion pods (Jobs, CronJobs, one-shot operator pods): a sidecar that never exits keeps them
    # running forever unless it is a native sidecar.
    completes: bool = False

    @property
    def labels(self) -> dict[str, str]:
        return self.metadata.get("labels") or {}

    @property
    def annotations(self) -> dict[str, str]:
        return self.metadata.get("annotations") or {}

    def containers(self) -> list[dict[str, Any]]:
        """Init containers (sidecars included) and app containers, in the order the kubelet starts them."""
        return list(self.spec.get("initContainers", [])) + list(self.spec["containers"])


def surge(strategy: dict[str, Any], replicas: int) -> int:
    """Extra pods a Deployment rollout creates. maxSurge defaults to 25%, and a percentage rounds up
    (kubernetes.io/docs/concepts/workloads/controllers/deployment/#max-surge); Recreate never overlaps."""
    if strategy.get("type") == "Recreate":
        return 0
    value = strategy.get("rollingUpdate", {}).get("maxSurge", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return math.ceil(replicas * int(value[:-1]) / 100)
    return int(value)
