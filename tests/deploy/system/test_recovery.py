"""Point-in-time recovery (docs/runbooks/point-in-time-recovery.md) as the runbook applies it: the recovery
component added to the environment's overlay. It must carry no "set-by-overlay" value, use the environment's
bucket and role, and its instances must get the connections they need to come up and, after the switch, to
serve."""

from __future__ import annotations

import pytest
import yaml

from tests.deploy.k8s.manifests import K8S_DIR, OVERLAYS, Rendered, overlay
from tests.deploy.system.flows import needed_flows
from tests.deploy.system.network import Flow, NetworkPolicies, SecurityGroups
from tests.deploy.system.world import compose, environment, restore_job_objects

RECOVERY = K8S_DIR / "components" / "backup" / "cnpg" / "recovery"
ROLE = "eks.amazonaws.com/role-arn"
WITH_CLOUDNATIVEPG = [name for name in OVERLAYS if overlay(name).of_kind("Cluster")]


@pytest.mark.parametrize("name", WITH_CLOUDNATIVEPG)
def test_recovery_takes_bucket_and_role_from_its_environment(name: str) -> None:
    app = compose(name, RECOVERY)
    assert "set-by-overlay" not in yaml.safe_dump_all(app.docs), "set-by-overlay would be applied literally"
    origin, pitr = app.get("Cluster", "hyperpage-db"), app.get("Cluster", "hyperpage-db-pitr")
    annotations = pitr["spec"]["serviceAccountTemplate"]["metadata"]["annotations"]
    # Its own role (test_identity checks Terraform trusts hyperpage-db-pitr with it), in the origin's account
    # and environment, with nothing left of the component's template.
    origin_role = origin["spec"]["serviceAccountTemplate"]["metadata"]["annotations"][ROLE]
    assert annotations[ROLE] == origin_role.replace("-cnpg-backup", "-cnpg-pitr-backup")
    stores = {store["metadata"]["name"] for store in app.of_kind("ObjectStore")}
    named = [pitr["spec"]["externalClusters"][0]["plugin"]["parameters"]["barmanObjectName"]]
    named += [plugin["parameters"]["barmanObjectName"] for plugin in pitr["spec"]["plugins"]]
    assert set(named) <= stores, f"ObjectStores {named} not all rendered ({stores})"
    assert app.namespace == pitr["metadata"]["namespace"] == overlay(name).namespace


@pytest.mark.parametrize("name", WITH_CLOUDNATIVEPG)
def test_recovered_instances_get_their_connections(name: str) -> None:
    env, app = environment(name), compose(name, RECOVERY)
    flows = needed_flows(env, app)
    recovered = [f for f in flows if "hyperpage-db-pitr" in (f.source.name, f.destination.name)]
    pooler = next(f.source for f in flows if f.source.name == "hyperpage-db-pooler-rw")
    pitr = next(f.destination for f in recovered if f.destination.name == "hyperpage-db-pitr")
    recovered.append(Flow(pooler, pitr, 5432, why="the Pooler switched to the recovered cluster"))
    assert len(recovered) >= 6, [str(f) for f in recovered]
    rules, groups = NetworkPolicies.of(app.docs + env.platform.docs), SecurityGroups.from_plan(env.plan)
    blocked = [str(f) for f in recovered if not (rules.allows(f) and groups.allows(f))]
    assert not blocked, f"{name}: recovery blocked:\n" + "\n".join(blocked)


# The restore Job is applied on its own, into the namespace its kustomization names
# (docs/runbooks/restore-from-logical-backup.md), and joins the running app there.
RESTORE_NAMESPACE = restore_job_objects()[0]["metadata"]["namespace"]


@pytest.mark.parametrize("name", [n for n in OVERLAYS if overlay(n).namespace == RESTORE_NAMESPACE])
def test_restore_job_reaches_its_database_and_bucket(name: str) -> None:
    env = environment(name)
    app = Rendered(name, env.app.docs + restore_job_objects())
    flows = [f for f in needed_flows(env, app) if f.source.name == "hyperpage-restore"]
    assert {f.port for f in flows} >= {53, 443, 5432}, [str(f) for f in flows]
    rules, groups = NetworkPolicies.of(app.docs + env.platform.docs), SecurityGroups.from_plan(env.plan)
    blocked = [str(f) for f in flows if not (rules.allows(f) and groups.allows(f))]
    assert not blocked, f"{name}: restore blocked:\n" + "\n".join(blocked)
