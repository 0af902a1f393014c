"""How the Kustomize kit is put together: the base holds no environment values, one component names and tags
the image, one component orders the Argo CD sync waves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.deploy.k8s.manifests import K8S_DIR, OVERLAYS, overlay, render

IMAGE = "ghcr.io/hyperpage/hyperpage"
RELEASE = K8S_DIR / "components" / "release"
SYNC_WAVES = K8S_DIR / "components" / "sync-waves"
ON_DEMAND_JOBS = ("restore", "sqlite-to-postgres")
EARLY_KINDS = (
    "Namespace",
    "ServiceAccount",
    "ConfigMap",
    "Secret",
    "NetworkPolicy",
    "ResourceQuota",
    "LimitRange",
    "PriorityClass",
    "SecretStore",
    "ExternalSecret",
)


def kustomization(directory: Path) -> dict[str, Any]:
    return yaml.safe_load((directory / "kustomization.yaml").read_text())


def release_tag() -> str:
    [image] = kustomization(RELEASE)["images"]
    assert image["name"] == "hyperpage" and image["newName"] == IMAGE
    return str(image["newTag"])


def containers(pod_spec: dict[str, Any]) -> list[dict[str, Any]]:
    return pod_spec.get("initContainers", []) + pod_spec["containers"]


def test_base_sets_no_replicas_scaling_or_image() -> None:
    docs = render(K8S_DIR / "base")
    for doc in docs:
        assert "replicas" not in doc.get("spec", {}), f"{doc['metadata']['name']}: replicas belong in the overlays"
    assert not [d for d in docs if d["kind"] == "HorizontalPodAutoscaler"], "autoscaling is components/autoscaling"
    for budget in (d for d in docs if d["kind"] == "PodDisruptionBudget"):
        # maxUnavailable 1 suits any replica count; a minAvailable is tied to one environment's replicas.
        assert "minAvailable" not in budget["spec"], budget["metadata"]["name"]
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            for container in containers(doc["spec"]["template"]["spec"]):
                assert container["image"] == "hyperpage", "the base keeps the placeholder; components/release names it"


def test_only_the_release_component_tags_the_image() -> None:
    setters = []
    for path in sorted(K8S_DIR.rglob("kustomization.yaml")):
        for image in yaml.safe_load(path.read_text()).get("images", []):
            if {"hyperpage", IMAGE} & {image["name"], image.get("newName")}:
                setters.append(path.parent.relative_to(K8S_DIR).as_posix())
    assert setters == ["components/release"]


@pytest.mark.parametrize("target", [f"overlays/{o}" for o in OVERLAYS] + [f"jobs/{j}" for j in ON_DEMAND_JOBS])
def test_every_hyperpage_pod_runs_the_release(target: str) -> None:
    expected = f"{IMAGE}:{release_tag()}"
    seen = 0
    for doc in render(K8S_DIR / target):
        spec = doc.get("spec", {})
        template = spec.get("jobTemplate", {}).get("spec", spec).get("template")
        if not template:
            continue
        for container in containers(template["spec"]):
            image = container.get("image", "")  # a CloudNativePG Pooler's template may leave it to the operator
            if image.split(":")[0] in ("hyperpage", IMAGE):
                assert image == expected, f"{target}: {doc['metadata']['name']}/{container['name']}"
                seen += 1
    assert seen


@pytest.mark.parametrize("name", OVERLAYS)
def test_sync_waves_come_from_the_component(name: str) -> None:
    directory = K8S_DIR / "overlays" / name
    text = (directory / "kustomization.yaml").read_text()
    assert "argocd.argoproj.io/sync-wave" not in text, "wave patches live in components/sync-waves"
    # A component's patches reach only what the components before it added.
    assert kustomization(directory)["components"][-1] == "../../components/sync-waves"
    rendered = overlay(name)
    for doc in rendered.docs:
        if doc["kind"] in EARLY_KINDS:
            assert doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-3", doc["metadata"]["name"]
    databases = [
        d
        for d in rendered.docs
        if d["kind"] in ("Cluster", "Pooler", "ObjectStore", "ScheduledBackup")
        or (d["kind"] in ("StatefulSet", "Service") and d["metadata"]["name"] == "hyperpage-postgres")
    ]
    assert databases
    for doc in databases:
        assert doc["metadata"]["annotations"]["argocd.argoproj.io/sync-wave"] == "-2", doc["metadata"]["name"]


@pytest.mark.parametrize("name", ("staging", "production"))
def test_scaled_overlays_set_their_own_numbers(name: str) -> None:
    rendered = overlay(name)
    hpa = rendered.get("HorizontalPodAutoscaler", "hyperpage-web")["spec"]
    budget = rendered.get("PodDisruptionBudget", "hyperpage-web")["spec"]
    web = rendered.get("Deployment", "hyperpage-web")["spec"]
    assert budget["minAvailable"] < hpa["minReplicas"] <= web["replicas"] <= hpa["maxReplicas"]
