"""Every ConfigMap, Secret, PVC, ServiceAccount, PriorityClass, StorageClass, Service and snapshot class a
rendered object names exists after Kustomize's name hashing, in that namespace, or is made by the platform
layer or an operator (tests/deploy/system/references.py). The on-demand kustomizations (restore Job,
volume snapshot, SQLite migration Job) are applied into a running environment, so they are checked against
the environment whose namespace they name."""

from __future__ import annotations

import pytest

from tests.deploy.k8s.manifests import K8S_DIR, OVERLAYS, render
from tests.deploy.system.references import Ref, index, references
from tests.deploy.system.world import Environment, environment

pytestmark = [pytest.mark.tools, pytest.mark.slow]

CHECKED = {
    "ConfigMap",
    "Secret",
    "PersistentVolumeClaim",
    "ServiceAccount",
    "PriorityClass",
    "StorageClass",
    "Service",
    "VolumeSnapshotClass",
    "SecretStore",
    "Cluster",
    "ObjectStore",
    "Deployment",
}
# Objects Kubernetes itself provides: the ServiceAccount "default" of every namespace (controller-manager's
# serviceaccount controller) and the two built-in PriorityClasses (Kubernetes docs, "Pod Priority").
BUILT_IN_PRIORITY = {"system-cluster-critical", "system-node-critical"}
ON_DEMAND = ("jobs/restore", "components/backup/snapshots", "jobs/sqlite-to-postgres")


def available(env: Environment) -> set[Ref]:
    found = index(env.app.docs + env.platform.docs)
    found |= {("PriorityClass", "", name) for name in BUILT_IN_PRIORITY}
    found |= {("ServiceAccount", ns, "default") for _, ns, _ in found if ns}
    return found


def dangling(env: Environment, docs: list[dict]) -> list[str]:
    have = available(env) | index(docs)
    missing = []
    for doc in docs:
        for ref in references(doc):
            if ref[0] in CHECKED and ref not in have:
                missing.append(f"{doc['kind']}/{doc['metadata']['name']} -> {ref[0]} {ref[1]}/{ref[2]}")
    return missing


def test_every_reference_of_the_overlay_exists(env: Environment) -> None:
    assert not dangling(env, env.app.docs)


def test_every_reference_of_the_platform_layer_exists(env: Environment) -> None:
    assert not dangling(env, env.platform.docs)


@pytest.mark.parametrize("path", ON_DEMAND)
def test_on_demand_kustomizations_fit_the_environment_they_name(path: str) -> None:
    docs = render(K8S_DIR / path)
    namespaces = {d["metadata"]["namespace"] for d in docs if d["metadata"].get("namespace")}
    assert len(namespaces) == 1, f"{path} names namespaces {namespaces}"
    [namespace] = namespaces
    envs = [name for name in OVERLAYS if environment(name).namespace == namespace]
    assert envs, f"{path} targets namespace {namespace}, which no overlay creates"
    assert not dangling(environment(envs[0]), docs)
