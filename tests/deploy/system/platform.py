"""The platform layer as the model sees it: the operators Argo CD installs (chart, pinned version, release,
namespace, values, sync wave), the StorageClasses, and the EKS add-ons and roles Terraform plans."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

import yaml

from tests.deploy.system.world import Environment
from tests.tooling import REPO_ROOT

EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")  # a chart version, never a range or a branch
DEFAULT_CLASS = "storageclass.kubernetes.io/is-default-class"  # Kubernetes docs, "Change the default StorageClass"


@dataclass(frozen=True)
class Operator:
    """One Helm chart installed by an Argo CD Application of the platform layer."""

    app: dict[str, Any]

    @property
    def _chart_source(self) -> dict[str, Any]:
        spec = self.app["spec"]
        sources = spec.get("sources") or [spec["source"]]
        return next(s for s in sources if "chart" in s)

    @property
    def chart(self) -> str:
        return self._chart_source["chart"]

    @property
    def version(self) -> str:
        return self._chart_source["targetRevision"]

    @property
    def repo(self) -> str:
        return self._chart_source["repoURL"]

    @property
    def release(self) -> str:
        return self._chart_source.get("helm", {}).get("releaseName", self.app["metadata"]["name"])

    @property
    def namespace(self) -> str:
        return self.app["spec"]["destination"]["namespace"]

    @property
    def wave(self) -> int:
        return wave(self.app)

    @property
    def values(self) -> dict[str, Any]:
        """valuesObject merged over the value files it names ($values/<path> is this repository)."""
        helm = self._chart_source.get("helm", {})
        merged: dict[str, Any] = {}
        for ref in helm.get("valueFiles", []):
            merged.update(yaml.safe_load((REPO_ROOT / ref.removeprefix("$values/")).read_text()) or {})
        merged.update(helm.get("valuesObject") or {})
        return merged

    def value(self, dotted: str) -> Any:
        node: Any = self.values
        for key in dotted.split("."):
            if not isinstance(node, dict) or key not in node:
                return None
            node = node[key]
        return node


def wave(doc: dict[str, Any]) -> int:
    """Argo CD sync wave of an object (0 when unset, Argo CD docs "Sync Phases and Waves")."""
    return int((doc["metadata"].get("annotations") or {}).get("argocd.argoproj.io/sync-wave", "0"))


def operators(env: Environment) -> dict[str, Operator]:
    """Helm-installed operators by Application name."""
    found = {}
    for app in env.platform.of_kind("Application"):
        spec = app["spec"]
        if any("chart" in s for s in spec.get("sources") or [spec.get("source", {})]):
            found[app["metadata"]["name"]] = Operator(app)
    return found


def addons(env: Environment) -> dict[str, dict[str, Any]]:
    """Planned aws_eks_addon resources by add-on name, configuration_values decoded."""
    found = {}
    for addon in env.plan.resources("aws_eks_addon"):
        config = addon.get("configuration_values")
        found[addon["addon_name"]] = {**addon, "configuration": json.loads(config) if config else {}}
    return found


def storage_classes(env: Environment) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in env.platform.of_kind("StorageClass")}


def default_storage_class(env: Environment) -> str | None:
    defaults = [
        name
        for name, sc in storage_classes(env).items()
        if (sc["metadata"].get("annotations") or {}).get(DEFAULT_CLASS) == "true"
    ]
    assert len(defaults) <= 1, f"{env.name}: several default StorageClasses {defaults}"
    return defaults[0] if defaults else None


def policy_statements(policy_json: str | None) -> list[dict[str, Any]]:
    assert policy_json, "policy unknown at plan time"
    statements = json.loads(policy_json)["Statement"]
    return statements if isinstance(statements, list) else [statements]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]
