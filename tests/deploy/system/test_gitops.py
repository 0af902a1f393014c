"""GitOps seams: each environment's Argo CD Application reaches that environment's cluster (Terraform builds
one cluster per environment, each runs its own Argo CD from deploy/platform), and the migration hook runs
before the rollout."""

from __future__ import annotations

import pytest

from tests.deploy.k8s.manifests import K8S_DIR, OVERLAYS, argocd_dir, render
from tests.deploy.system.platform import operators, wave
from tests.deploy.system.world import Environment
from tests.tooling import REPO_ROOT

pytestmark = [pytest.mark.tools, pytest.mark.slow]
IN_CLUSTER = ("https://kubernetes.default.svc", "in-cluster")  # Argo CD docs, "Declarative Setup": the local cluster


def test_the_application_targets_this_environments_cluster(env: Environment) -> None:
    docs = render(argocd_dir(env.name))
    apps = [d for d in docs if d["kind"] == "Application"]
    # Only this environment's Application goes to this cluster's Argo CD: another environment's overlay
    # synced "in-cluster" here would deploy it into the wrong cluster.
    assert [a["metadata"]["name"] for a in apps] == [f"hyperpage-{env.name}"]
    [app] = apps
    dest = app["spec"]["destination"]
    assert dest.get("name", dest.get("server")) in IN_CLUSTER
    assert dest["namespace"] == env.namespace
    assert (REPO_ROOT / app["spec"]["source"]["path"]).resolve() == (K8S_DIR / "overlays" / env.name).resolve()
    others = {(K8S_DIR / "overlays" / o).resolve() for o in OVERLAYS if o != env.name}
    assert (REPO_ROOT / app["spec"]["source"]["path"]).resolve() not in others
    # "in-cluster" is Terraform's cluster of this environment because this environment's platform layer
    # installs that Argo CD there, and the root Application of that layer is this environment's.
    assert "argo-cd" in operators(env)
    [root] = [a for a in env.platform.of_kind("Application") if a["metadata"]["name"] == "platform"]
    assert root["spec"]["source"]["path"] == f"deploy/platform/overlays/{env.name}"
    cluster = env.plan.one("aws_eks_cluster")["name"]
    assert operators(env)["cluster-autoscaler"].value("autoDiscovery.clusterName") == cluster


def test_the_migration_hook_runs_before_the_rollout(env: Environment) -> None:
    job = env.app.get("Job", "hyperpage-migrate")
    hooks = (job["metadata"].get("annotations") or {}).get("argocd.argoproj.io/hook", "")
    # Argo CD docs, "Resource Hooks": PreSync runs before the Sync phase; a Sync hook runs in its wave.
    assert hooks in ("PreSync", "Sync"), f"{env.name}: the migration Job is no Argo CD hook ({hooks!r})"
    for deployment in env.app.of_kind("Deployment"):
        if hooks == "Sync":
            assert wave(job) < wave(deployment), f"{deployment['metadata']['name']} rolls out with the migration"
    # It reads its config and secrets, which must be there before it (earlier wave or PreSync).
    for doc in env.app.docs:
        if doc["kind"] in ("ConfigMap", "Secret", "ExternalSecret", "ServiceAccount") and hooks == "Sync":
            assert wave(doc) < wave(job), f"{doc['kind']}/{doc['metadata']['name']} after the migration"
