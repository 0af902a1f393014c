"""Every custom resource (Argo CD, CloudNativePG, Istio, Prometheus Operator, ESO) matches its CRD, strictly."""

from __future__ import annotations

import copy

import pytest
import yaml

from tests.deploy.k8s.crds import errors, is_custom_resource
from tests.deploy.k8s.manifests import K8S_DIR, OVERLAYS, PLATFORM_DIR, argocd_dir, overlay, render

EXPECTED_KINDS = {
    "development": set(),
    "staging": {"ServiceMonitor", "SecretStore", "ExternalSecret"},
    "production": {
        "ServiceMonitor",
        "PodMonitor",
        "SecretStore",
        "ExternalSecret",
        "Cluster",
        "Pooler",
        "ObjectStore",
        "ScheduledBackup",
        "Gateway",
        "VirtualService",
        "DestinationRule",
        "PeerAuthentication",
        "AuthorizationPolicy",
    },
}


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_custom_resources_match_their_crds(name: str) -> None:
    docs = [d for d in overlay(name).docs if is_custom_resource(d)]
    # Other custom resources (the observability issue's PrometheusRule) are welcome; all must validate.
    assert EXPECTED_KINDS[name] <= {d["kind"] for d in docs}
    problems = {f"{d['kind']}/{d['metadata']['name']}": errors(d) for d in docs}
    assert not {k: v for k, v in problems.items() if v}


@pytest.mark.parametrize("name", OVERLAYS)
def test_argocd_objects_match_their_crds(name: str) -> None:
    docs = render(argocd_dir(name))
    assert sorted(d["kind"] for d in docs) == ["AppProject", "Application"]
    problems = {d["metadata"]["name"]: errors(d) for d in docs}
    assert not {k: v for k, v in problems.items() if v}


@pytest.mark.parametrize("name", OVERLAYS)
def test_platform_custom_resources_match_their_crds(name: str) -> None:
    # Applications, AppProject, ClusterIssuer, Certificate, VolumeSnapshotClass of deploy/platform.
    # snapshot.storage.k8s.io is a CRD group (the snapshot-controller add-on installs it) despite its name.
    docs = [
        d
        for d in render(PLATFORM_DIR / "overlays" / name)
        if is_custom_resource(d) or d["apiVersion"].startswith("snapshot.storage.k8s.io/")
    ]
    assert {"Application", "AppProject", "VolumeSnapshotClass"} <= {d["kind"] for d in docs}
    problems = {f"{d['kind']}/{d['metadata']['name']}": errors(d) for d in docs}
    assert not {k: v for k, v in problems.items() if v}


def test_strict_mode_rejects_a_misspelled_field() -> None:
    monitor = copy.deepcopy(overlay("production").get("ServiceMonitor", "hyperpage-web"))
    monitor["spec"]["endpoints"][0]["intervall"] = "30s"
    assert any("intervall" in e for e in errors(monitor))
    cluster = copy.deepcopy(overlay("production").get("Cluster", "hyperpage-db"))
    cluster["metadata"]["lables"] = {}
    assert any("lables" in e for e in errors(cluster))


def test_every_component_is_used_by_an_overlay() -> None:
    # An unused component is never rendered, so never validated: none may exist.
    used = set()
    for name in OVERLAYS:
        kustomization = yaml.safe_load((K8S_DIR / "overlays" / name / "kustomization.yaml").read_text())
        # "../../components/backup/cnpg" uses a sub-component of backup: count the top-level one
        used |= {path.split("components/", 1)[1].split("/")[0] for path in kustomization.get("components", [])}
    present = {p.name for p in (K8S_DIR / "components").iterdir() if p.is_dir()}
    assert present == used
