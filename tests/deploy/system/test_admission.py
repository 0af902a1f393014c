"""Admission seams: every pod the environment runs, after the platform's webhooks, is admitted by its
namespace's Pod Security level and LimitRange, and run-to-completion pods can complete."""

from __future__ import annotations

import pytest

from tests.deploy.k8s.manifests import Rendered
from tests.deploy.system import istio
from tests.deploy.system.admission import limit_range_violations, pod_security_violations
from tests.deploy.system.inventory import environment_pods, namespace_labels
from tests.deploy.system.pods import Pod
from tests.deploy.system.world import Environment


def test_every_pod_passes_the_namespace_pod_security_level(env: Environment) -> None:
    """Review item 8: with sidecar injection but without the Istio CNI node agent, istio-init needs
    NET_ADMIN/NET_RAW as root and `restricted` rejects every injected pod. The mesh settings are read from
    the platform layer's istiod/cni Applications (deploy/platform)."""
    labels = namespace_labels(env)
    rejected = {pod.owner: v for pod in environment_pods(env) if (v := pod_security_violations(pod, labels))}
    level = labels.get("pod-security.kubernetes.io/enforce")
    assert not rejected, f"{env.name}: Pod Security {level} rejects {rejected}"


def test_every_container_fits_the_limit_range(env: Environment) -> None:
    """Includes operator-made pods: cert-manager's HTTP-01 solver (10m/64Mi), CNPG instance/bootstrap/pooler
    pods and the Istio sidecar with its init container."""
    limit_ranges = env.app.of_kind("LimitRange")
    rejected = {pod.owner: v for pod in environment_pods(env) if (v := limit_range_violations(pod, limit_ranges))}
    assert not rejected, f"{env.name}: the LimitRange rejects {rejected}"


def test_run_to_completion_pods_get_no_sidecar(env: Environment) -> None:
    """Review item 11: an injected istio-proxy (a regular container) never exits, so a Job's pod never
    completes (istio.io/latest/docs/ops/common-problems/injection/ and the Job note in "Sidecar injection");
    and an init container runs before the proxy starts, so its traffic is redirected to a proxy that is not
    there yet (istio.io/latest/docs/setup/additional-setup/sidecar-injection/#... "init containers")."""
    injected = [pod.owner for pod in environment_pods(env) if pod.completes and istio.has_sidecar(pod)]
    assert not injected, f"{env.name}: run-to-completion pods get an Istio sidecar: {injected}"


def test_the_on_demand_restore_job_gets_no_sidecar() -> None:
    """The restore Job (jobs/restore, production's namespace) is a Job like the backups."""
    from tests.deploy.system.world import environment, restore_job_objects

    production = environment("production")
    restore = Rendered("restore", restore_job_objects())
    [(job, template)] = list(restore.workloads())
    assert job["metadata"]["namespace"] == production.namespace
    pod = Pod(f"Job/{job['metadata']['name']}", production.namespace, template["metadata"], template["spec"], 1, True)
    after = istio.inject(pod, namespace_labels(production), istio.mesh(production.platform))
    assert not istio.has_sidecar(after)


# The model itself: the same web pod is rejected without Istio CNI and admitted with it, so the test above
# fails for the platform's reason and not for a quirk of the model.


def _platform(istiod_values: str, with_cni_chart: bool) -> Rendered:
    apps = [
        {
            "kind": "Application",
            "metadata": {"name": "istiod"},
            "spec": {"source": {"chart": "istiod", "helm": {"values": istiod_values}}},
        }
    ]
    if with_cni_chart:
        apps.append(
            {
                "kind": "Application",
                "metadata": {"name": "istio-cni"},
                "spec": {"sources": [{"chart": "cni", "helm": {"valuesObject": {}}}]},
            }
        )
    return Rendered("platform", apps)


@pytest.mark.parametrize(
    ("values", "cni_chart", "admitted"),
    [
        ("pilot:\n  cni:\n    enabled: true\n", True, True),
        ("pilot:\n  cni:\n    enabled: true\n", False, False),  # validation would fail: nothing programs iptables
        ("{}", True, False),
        ("istio_cni:\n  enabled: true\n", True, True),
        ("pilot:\n  cni:\n    enabled: true\nglobal:\n  proxy:\n    privileged: true\n", True, False),
    ],
)
def test_the_model_reads_istio_cni_from_the_platform(values: str, cni_chart: bool, admitted: bool) -> None:
    from tests.deploy.system.world import environment

    production = environment("production")
    labels = namespace_labels(production)
    [web] = [p for p in environment_pods(production) if p.owner == "Deployment/hyperpage-web"]
    bare = Pod(
        web.owner,
        web.namespace,
        web.metadata,
        {
            **web.spec,
            "initContainers": [c for c in web.spec.get("initContainers", []) if not c["name"].startswith("istio-")],
            "containers": [c for c in web.spec["containers"] if c["name"] != "istio-proxy"],
        },
        web.peak,
    )
    after = istio.inject(bare, labels, istio.mesh(_platform(values, cni_chart)))
    assert istio.has_sidecar(after)
    violations = pod_security_violations(after, labels)
    assert (not violations) == admitted, violations
    if not admitted:
        assert any("NET_ADMIN" in v or "privileged" in v for v in violations)


def test_pods_outside_the_mesh_reach_the_database_under_strict_mtls(env: Environment) -> None:
    """A STRICT PeerAuthentication makes every sidecar accept only mutual TLS (istio.io/latest/docs/reference/
    config/security/peer_authentication/): the backup, migration and worker pods, which run without one, can
    reach the database only while its pods (CloudNativePG instances, PgBouncer, PostgreSQL) stay out of the
    mesh too."""
    strict = any((p["spec"].get("mtls") or {}).get("mode") == "STRICT" for p in env.app.of_kind("PeerAuthentication"))
    pods = environment_pods(env)
    outside = [
        p.owner
        for p in pods
        if p.labels.get("app.kubernetes.io/name") == "hyperpage"
        and p.labels.get("app.kubernetes.io/component") != "web"
        and not istio.has_sidecar(p)
    ]
    databases = [p for p in pods if p.labels.get("app.kubernetes.io/component") == "database"]
    assert databases, f"{env.name}: no database pods in the model"
    if strict and outside:
        meshed = [p.owner for p in databases if istio.has_sidecar(p)]
        assert not meshed, f"{env.name}: {outside} cannot reach {meshed} through their STRICT mTLS sidecars"
