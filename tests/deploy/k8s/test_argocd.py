"""The Argo CD objects point at the overlays, and the AppProject admits everything they render."""

from __future__ import annotations

import pytest

from tests.deploy.k8s.manifests import OVERLAYS, argocd_dir, overlay, render
from tests.tooling import REPO_ROOT

CLUSTER_SCOPED = {"Namespace", "PriorityClass"}


def argocd(name: str, kind: str) -> list[dict]:
    return [d for d in render(argocd_dir(name)) if d["kind"] == kind]


@pytest.mark.parametrize("name", OVERLAYS)
def test_application_deploys_its_overlay_into_a_permitted_namespace(name: str) -> None:
    [app] = argocd(name, "Application")
    assert app["metadata"]["name"] == f"hyperpage-{name}"
    [project] = argocd(name, "AppProject")
    rendered = overlay(name)
    spec = app["spec"]
    assert spec["project"] == project["metadata"]["name"]
    assert (REPO_ROOT / spec["source"]["path"]).resolve() == (REPO_ROOT / "deploy/k8s/overlays" / name).resolve()
    assert spec["source"]["repoURL"] in project["spec"]["sourceRepos"]
    assert spec["destination"]["namespace"] == rendered.namespace
    assert project["spec"]["destinations"] == [{"name": spec["destination"]["name"], "namespace": rendered.namespace}]
    allowed_cluster = {(k["group"], k["kind"]) for k in project["spec"]["clusterResourceWhitelist"]}
    allowed_namespaced = {(k["group"], k["kind"]) for k in project["spec"]["namespaceResourceWhitelist"]}
    for doc in rendered.docs:
        group = doc["apiVersion"].rpartition("/")[0]
        allowed = allowed_cluster if doc["kind"] in CLUSTER_SCOPED else allowed_namespaced
        assert (group, doc["kind"]) in allowed, f"the AppProject refuses {doc['kind']} ({group or 'core'})"
    automated = "automated" in spec.get("syncPolicy", {})
    assert automated == (name != "production"), "production is synced by hand, the others automatically"
    if automated:
        assert spec["syncPolicy"]["automated"] == {"prune": True, "selfHeal": True}
    if rendered.of_kind("HorizontalPodAutoscaler"):
        ignored = {(d["kind"], d["name"], tuple(d["jsonPointers"])) for d in spec["ignoreDifferences"]}
        assert ("Deployment", "hyperpage-web", ("/spec/replicas",)) in ignored
        assert "RespectIgnoreDifferences=true" in spec["syncPolicy"]["syncOptions"]
