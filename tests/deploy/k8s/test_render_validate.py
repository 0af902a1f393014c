"""Every overlay (app kit, Argo CD objects, platform layer) renders with kubectl kustomize and passes
kubernetes-validate --strict (1.30 and 1.33)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.deploy.k8s.manifests import (
    K8S_DIR,
    OVERLAYS,
    PLATFORM_DIR,
    argocd_dir,
    crd_schema_dir,
    render,
    render_text,
)

KUBERNETES_VERSIONS = ("1.30.0", "1.33.0")
TARGETS = (
    {name: K8S_DIR / "overlays" / name for name in OVERLAYS}
    | {f"argocd-{name}": argocd_dir(name) for name in OVERLAYS}
    | {f"platform-{name}": PLATFORM_DIR / "overlays" / name for name in OVERLAYS}
)


@pytest.mark.tools
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("target", sorted(TARGETS))
def test_kubernetes_validate_strict(target: str, version: str) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "kubernetes_validate", "-k", version, "--strict", "-"],
        input=render_text(TARGETS[target]),
        capture_output=True,
        text=True,
        check=False,
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "ERROR" not in output, output
    # kubernetes-validate only warns on custom resources; each must have a schema for test_crds.py.
    schemas = crd_schema_dir()
    for line in output.splitlines():
        if line.startswith("WARN"):
            kind, api = line.split("for kind ")[1].split(" with api version ")
            group, version_ = api.split(" ")[0].split("/")
            assert (schemas / group / f"{kind.lower()}_{version_}.json").is_file(), line


def test_base_holds_no_environment_values() -> None:
    docs = render(K8S_DIR / "base")
    config = next(d for d in docs if d["kind"] == "ConfigMap" and d["metadata"]["name"].startswith("hyperpage-config"))
    profile_keys = {"HYPERPAGE_ENV", "HYPERPAGE_DEBUG", "LOG_LEVEL", "HYPERPAGE_RATE_LIMIT_PER_HOUR"}
    assert not profile_keys & set(config["data"]), "profile settings belong in the overlays"
    assert not [d for d in docs if d["kind"] == "Secret"], "secrets come from the overlays, never the base"
    namespaced = [d for d in docs if d["kind"] not in ("Namespace", "PriorityClass")]
    assert all("namespace" not in d["metadata"] for d in namespaced), "the overlay sets the namespace"


@pytest.mark.parametrize("name", OVERLAYS)
def test_overlay_sets_its_own_namespace(name: str) -> None:
    docs = render(K8S_DIR / "overlays" / name)
    [namespace] = [d["metadata"]["name"] for d in docs if d["kind"] == "Namespace"]
    assert namespace.startswith("hyperpage-")
    for doc in docs:
        if doc["kind"] not in ("Namespace", "PriorityClass"):
            assert doc["metadata"]["namespace"] == namespace, doc["metadata"]["name"]
    labels = docs[0]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
