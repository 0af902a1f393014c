"""Render the Kustomize overlays with the real kubectl and give the tests typed access to the objects."""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from tests.tooling import REPO_ROOT, require_tool

K8S_DIR = REPO_ROOT / "deploy" / "k8s"
ARGOCD_DIR = REPO_ROOT / "deploy" / "argocd"
PLATFORM_DIR = REPO_ROOT / "deploy" / "platform"
OVERLAYS = ("development", "staging", "production")
APP_COMPONENTS = ("web", "migrate", "worker")


@functools.cache
def render_text(path: Path) -> str:
    """`kubectl kustomize PATH` output; a rendering error fails the caller with kubectl's message."""
    kubectl = require_tool("kubectl")
    proc = subprocess.run([kubectl, "kustomize", str(path)], capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise AssertionError(f"kubectl kustomize {path} failed:\n{proc.stderr}")
    return proc.stdout


def render(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(render_text(path)) if doc]


def argocd_dir(name: str) -> Path:
    """The Argo CD objects one environment's cluster gets (each cluster runs its own Argo CD)."""
    return ARGOCD_DIR / "overlays" / name


def overlay(name: str) -> Rendered:
    return Rendered(name, render(K8S_DIR / "overlays" / name))


def crd_schema_dir() -> Path:
    """The CRD schemas in shared/ beside the repository (or above a worktree); fails loudly if absent."""
    override = os.environ.get("HYPERPAGE_CRD_SCHEMAS")
    candidates = [Path(override)] if override else [p / "shared" / "schemas" / "crds" for p in REPO_ROOT.parents]
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise AssertionError(
        "CRD schemas not found: expected shared/schemas/crds beside the repository "
        f"(looked in {', '.join(str(c) for c in candidates[:3])}) or HYPERPAGE_CRD_SCHEMAS"
    )


@dataclass(frozen=True)
class Rendered:
    """The objects one overlay renders."""

    name: str
    docs: list[dict[str, Any]]

    @property
    def namespace(self) -> str:
        return next(d["metadata"]["name"] for d in self.docs if d["kind"] == "Namespace")

    def of_kind(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def get(self, kind: str, name: str) -> dict[str, Any]:
        """The object of that kind whose name is NAME or, for generated objects, NAME-<hash>."""
        for doc in self.of_kind(kind):
            actual = doc["metadata"]["name"]
            if actual == name or (actual.startswith(name + "-") and len(actual) == len(name) + 11):
                return doc
        raise AssertionError(f"{self.name}: no {kind} named {name}")

    def find(self, kind: str, name: str) -> dict[str, Any] | None:
        try:
            return self.get(kind, name)
        except AssertionError:
            return None

    def workloads(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """(object, pod template) for every Deployment, StatefulSet, Job and CronJob."""
        for doc in self.docs:
            if doc["kind"] in ("Deployment", "StatefulSet", "Job"):
                yield doc, doc["spec"]["template"]
            elif doc["kind"] == "CronJob":
                yield doc, doc["spec"]["jobTemplate"]["spec"]["template"]

    def app_workloads(self) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
        """Workloads that run the Hyperpage image (web, worker, migration Job, backup CronJobs)."""
        for doc, template in self.workloads():
            labels = template["metadata"].get("labels", {})
            if labels.get("app.kubernetes.io/name") == "hyperpage":
                yield doc, template

    def app_env(self, container: dict[str, Any]) -> dict[str, str]:
        """The environment a container gets from its envFrom ConfigMaps and literal env entries."""
        env: dict[str, str] = {}
        for source in container.get("envFrom", []):
            if "configMapRef" in source:
                env.update(self.get("ConfigMap", source["configMapRef"]["name"])["data"])
            else:
                raise AssertionError(f"{self.name}: unexpected envFrom source {source}")
        for item in container.get("env", []):
            if "value" not in item:
                raise AssertionError(f"{self.name}: env {item['name']} uses valueFrom; mount a file instead")
            env[item["name"]] = item["value"]
        return env


def container_port(container: dict[str, Any], port: int | str) -> int:
    """Resolve a probe's or Service's port (a number or a container port name)."""
    if isinstance(port, int):
        return port
    for item in container.get("ports", []):
        if item.get("name") == port:
            return int(item["containerPort"])
    raise AssertionError(f"container {container['name']} has no port named {port}")


def annotations(doc: dict[str, Any]) -> dict[str, str]:
    return doc["metadata"].get("annotations") or {}
