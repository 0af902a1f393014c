"""Cluster-side contracts: NetworkPolicies allow exactly what the app needs, Argo CD runs the migration
between the configuration and the rollout, and the namespace quota admits the largest rollout."""

from __future__ import annotations

import math
from urllib.parse import urlsplit

import pytest

from tests.deploy.k8s.appview import database_url, secret_files, web_container
from tests.deploy.k8s.manifests import OVERLAYS, Rendered, annotations, overlay
from tests.deploy.k8s.netpol import Address, Pod, PolicySet, selects

INGRESS_NGINX = Pod("ingress-nginx", {"app.kubernetes.io/name": "ingress-nginx"}, name="ingress-nginx")
PROMETHEUS = Pod("monitoring", {"app.kubernetes.io/name": "prometheus"}, name="prometheus")
KUBE_DNS = Pod("kube-system", {"k8s-app": "kube-dns"}, name="kube-dns")
# The platform installs the istio/gateway chart as release istio-ingressgateway in istio-ingress (Istio docs,
# "Installing Gateways" with Helm); the chart labels its pods app=<release>, istio=<release without istio->.
GATEWAY = Pod("istio-ingress", {"app": "istio-ingressgateway", "istio": "ingressgateway"}, name="istio-ingressgateway")
ISTIOD = Pod("istio-system", {"app": "istiod"}, name="istiod")
CNPG_OPERATOR = Pod("cnpg-system", {"app.kubernetes.io/name": "cloudnative-pg"}, name="cnpg-operator")
OTHER_NAMESPACE = Pod("default", {"app": "anything"}, name="other-namespace")
INTERNET = Address("140.82.112.3", name="api.github.com")
CLOUD_METADATA = Address("169.254.169.254", name="instance metadata")


def pods(rendered: Rendered) -> dict[str, Pod]:
    """Every pod the overlay runs, keyed by workload name (operator-made pods included)."""
    ns = rendered.namespace
    found = {}
    for doc, template in rendered.workloads():
        ports = {p["name"]: p["containerPort"] for c in template["spec"]["containers"] for p in c.get("ports", [])}
        found[doc["metadata"]["name"]] = Pod(ns, template["metadata"]["labels"], ports, doc["metadata"]["name"])
    for cluster in rendered.of_kind("Cluster"):
        labels = {"cnpg.io/cluster": cluster["metadata"]["name"]} | cluster["spec"]["inheritedMetadata"]["labels"]
        found[cluster["metadata"]["name"]] = Pod(
            ns, labels, {"postgres": 5432, "metrics": 9187}, cluster["metadata"]["name"]
        )
    for pooler in rendered.of_kind("Pooler"):
        labels = {"cnpg.io/poolerName": pooler["metadata"]["name"]} | pooler["spec"]["template"]["metadata"]["labels"]
        found[pooler["metadata"]["name"]] = Pod(ns, labels, {"pgbouncer": 5432}, pooler["metadata"]["name"])
    found["stranger"] = Pod(ns, {"app": "debug-shell"}, name="stranger")
    return found


def database_pod(rendered: Rendered, all_pods: dict[str, Pod], variable: str = "DATABASE_URL_FILE") -> tuple[Pod, int]:
    """The pod the web pods' URL in VARIABLE reaches."""
    return url_pod(rendered, all_pods, database_url(rendered, variable))


def url_pod(rendered: Rendered, all_pods: dict[str, Pod], database: str) -> tuple[Pod, int]:
    """The pod a database URL reaches: through a rendered Service, a CloudNativePG Pooler's Service, or the
    Service `<cluster>-rw` the operator makes for a Cluster's primary (`<name>.<namespace>` included)."""
    url = urlsplit(database)
    host, port = url.hostname.removesuffix(f".{rendered.namespace}"), url.port or 5432
    service = rendered.find("Service", host)
    if service is not None:
        [target] = [p for p in all_pods.values() if selects({"matchLabels": service["spec"]["selector"]}, p.labels)]
        return target, port
    if host.endswith("-rw") and rendered.find("Cluster", host.removesuffix("-rw")) is not None:
        return all_pods[host.removesuffix("-rw")], port
    return all_pods[host], port


@pytest.mark.parametrize("name", OVERLAYS)
def test_network_policies_allow_exactly_what_the_app_needs(name: str) -> None:
    rendered = overlay(name)
    policies = PolicySet(rendered.namespace, rendered.of_kind("NetworkPolicy"))
    all_pods = pods(rendered)
    web, migrate, stranger = all_pods["hyperpage-web"], all_pods["hyperpage-migrate"], all_pods["stranger"]
    worker = all_pods["hyperpage-worker"]
    db, db_port = database_pod(rendered, all_pods)
    listen_db, listen_port = db, db_port
    if "HYPERPAGE_LISTEN_DATABASE_URL_FILE" in rendered.app_env(web_container(rendered)[1]):
        listen_db, listen_port = database_pod(rendered, all_pods, "HYPERPAGE_LISTEN_DATABASE_URL_FILE")
    istio = bool(rendered.of_kind("PeerAuthentication"))
    front = GATEWAY if rendered.of_kind("Gateway") else INGRESS_NGINX
    scraped = bool(rendered.of_kind("ServiceMonitor"))
    proxy = all_pods.get("hyperpage-oauth2-proxy")
    metrics = web.ports["metrics"]
    issuer = oidc_issuer(rendered)

    needed = [(app, KUBE_DNS, 53, "UDP") for app in (web, migrate, worker)]
    needed += [(web, db, db_port, "TCP"), (migrate, db, db_port, "TCP")]
    needed += [(web, listen_db, listen_port, "TCP")]
    needed += [(worker, db, db_port, "TCP"), (worker, INTERNET, 443, "TCP")]
    needed += [(PROMETHEUS, web, metrics, "TCP"), (PROMETHEUS, worker, 3001, "TCP")] if scraped else []
    needed += [(web, ISTIOD, 15012, "TCP")] if istio else []
    # Browsers come through the front door, and through oauth2-proxy where it signs them in.
    if proxy is None:
        needed += [(front, web, 3000, "TCP")]
    else:
        needed += [
            (front, proxy, proxy.ports["http"], "TCP"),
            (proxy, web, 3000, "TCP"),
            (proxy, KUBE_DNS, 53, "UDP"),
            (proxy, INTERNET, 443, "TCP"),
        ]
    # In-app sign-in: discovery, JWKS and the token exchange at the issuer.
    needed += [(web, issuer[0], issuer[1], "TCP")] if issuer else []
    if "hyperpage-postgres-exporter" in all_pods:
        exporter = all_pods["hyperpage-postgres-exporter"]
        needed += [(PROMETHEUS, exporter, 9187, "TCP"), (exporter, db, 5432, "TCP")]
    needed += backup_connections(rendered, all_pods)
    for cluster in rendered.of_kind("Cluster"):
        instance = all_pods[cluster["metadata"]["name"]]
        needed += [
            (db, instance, 5432, "TCP"),
            (instance, instance, 5432, "TCP"),
            (CNPG_OPERATOR, instance, 8000, "TCP"),
            (PROMETHEUS, instance, 9187, "TCP"),
            (instance, INTERNET, 443, "TCP"),
        ]
    blocked = [
        (migrate, INTERNET, 443),
        (web, CLOUD_METADATA, 80),
        (web, CLOUD_METADATA, 443),
        (db, CLOUD_METADATA, 80),
        (web, INTERNET, 80),
        (PROMETHEUS, web, 3000),
        (front, web, metrics),
        (stranger, web, metrics),
        (OTHER_NAMESPACE, web, metrics),
        (INTERNET, web, metrics),
        (worker, web, metrics),
        (migrate, web, metrics),
        (stranger, web, 3000),
        (OTHER_NAMESPACE, web, 3000),
        (INTERNET, web, 3000),
        (web, stranger, 3000),
        (INGRESS_NGINX, db, db_port),
        (stranger, db, db_port),
        (OTHER_NAMESPACE, db, db_port),
        (web, db, 22),
        (PROMETHEUS, web, 22),
        (migrate, web, 3000),
        (worker, CLOUD_METADATA, 80),
        (worker, CLOUD_METADATA, 443),
        (worker, INTERNET, 80),
        (stranger, worker, 3001),
        (web, worker, 3001),
        (OTHER_NAMESPACE, worker, 3001),
        (INTERNET, worker, 3001),
        (INGRESS_NGINX, worker, 3001),
        (GATEWAY, worker, 3001),
        (PROMETHEUS, worker, 22),
        (worker, web, 3000),
    ]
    blocked += [(INGRESS_NGINX, web, 3000)] if istio else []
    blocked += [] if scraped else [(PROMETHEUS, web, metrics), (PROMETHEUS, worker, 3001)]
    blocked += [] if issuer else [(web, INTERNET, 443)]
    if proxy is not None:
        # The user header is believed from the pods' network: only oauth2-proxy may open web's port 3000.
        port = proxy.ports["http"]
        blocked += [
            (front, web, 3000),
            (proxy, web, metrics),
            (proxy, CLOUD_METADATA, 443),
            (proxy, INTERNET, 80),
            (proxy, db, db_port),
            (proxy, worker, 3001),
            (stranger, proxy, port),
            (OTHER_NAMESPACE, proxy, port),
            (INTERNET, proxy, port),
            (web, proxy, port),
            (worker, proxy, port),
            (PROMETHEUS, proxy, port),
        ]
    for cluster in rendered.of_kind("Cluster"):
        # Only the web pods' LISTEN connection bypasses the Pooler.
        instance = all_pods[cluster["metadata"]["name"]]
        blocked += [
            (worker, instance, 5432),
            (migrate, instance, 5432),
            (stranger, instance, 5432),
            (OTHER_NAMESPACE, instance, 5432),
            (INGRESS_NGINX, instance, 5432),
        ]
    for pooler in rendered.of_kind("Pooler"):
        # Backup pods need sessions (pg_dump's snapshot, pg_restore's transaction): never the transaction pool.
        backups = {src for src, _, _, _ in backup_connections(rendered, all_pods)}
        blocked += [(backup, all_pods[pooler["metadata"]["name"]], 5432) for backup in backups]

    if "hyperpage-redis" in all_pods:
        redis = all_pods["hyperpage-redis"]
        needed += [(web, redis, 6379, "TCP")]
        blocked += [
            (worker, redis, 6379),
            (migrate, redis, 6379),
            (stranger, redis, 6379),
            (OTHER_NAMESPACE, redis, 6379),
            (redis, INTERNET, 443),
            (redis, db, db_port),
            (web, redis, 22),
        ]

    for src, dst, port, proto in needed:
        assert policies.allows(src, dst, port, proto), f"blocked but needed: {src.name} -> {dst.name}:{port}"
    used = set(policies.used_rules)
    for src, dst, port in blocked:
        assert not policies.allows(src, dst, port), f"allowed but not needed: {src.name} -> {dst.name}:{port}"
    for app in (web, migrate, worker) + ((proxy,) if proxy else ()):
        unused = policies.rules_selecting(app) - used
        assert not unused, f"{app.name}: rules no connection of the app uses: {sorted(unused)}"


def oidc_issuer(rendered: Rendered) -> tuple[Address, int] | None:
    """Where the web pods fetch discovery, JWKS and tokens when the app signs users in itself: some public
    address (the issuer has no fixed one) on the port of HYPERPAGE_OIDC_ISSUER."""
    env = rendered.app_env(web_container(rendered)[1])
    if env.get("HYPERPAGE_AUTH") != "oidc":
        return None
    url = urlsplit(env["HYPERPAGE_OIDC_ISSUER"])
    return Address("104.16.0.1", name=f"issuer {url.hostname}"), url.port or {"https": 443, "http": 80}[url.scheme]


def backup_connections(rendered: Rendered, all_pods: dict[str, Pod]) -> list[tuple[Pod, Pod, int, str]]:
    """Every database connection a backup pod makes: to the server of each database URL file it reads."""
    connections = []
    for workload, template in rendered.app_workloads():
        if template["metadata"]["labels"]["app.kubernetes.io/component"] != "backup":
            continue
        pod = all_pods[workload["metadata"]["name"]]
        connections.append((pod, KUBE_DNS, 53, "UDP"))
        for container in template["spec"].get("initContainers", []) + template["spec"]["containers"]:
            files = secret_files(rendered, template, container)
            for variable, path in rendered.app_env(container).items():
                if variable.endswith("DATABASE_URL_FILE"):
                    target, port = url_pod(rendered, all_pods, files[path])
                    connections.append((pod, target, port, "TCP"))
    return connections


@pytest.mark.parametrize("name", [n for n in OVERLAYS if overlay(n).of_kind("CronJob")])
def test_backup_pods_connect_to_the_database_server_itself(name: str) -> None:
    rendered = overlay(name)
    all_pods = pods(rendered)
    servers = {target.name for _, target, _, proto in backup_connections(rendered, all_pods) if proto == "TCP"}
    # pg_dump's exported snapshot and pg_restore's single transaction need sessions on the server: never the
    # transaction-mode Pooler, which the backup pods' NetworkPolicy does not let them reach anyway.
    expected = {c["metadata"]["name"] for c in rendered.of_kind("Cluster")} or {"hyperpage-postgres"}
    assert servers == expected


def wave(doc: dict) -> int:
    return int(annotations(doc).get("argocd.argoproj.io/sync-wave", "0"))


@pytest.mark.parametrize("name", OVERLAYS)
def test_migration_hook_runs_after_config_and_database_and_before_the_rollout(name: str) -> None:
    rendered = overlay(name)
    job = rendered.get("Job", "hyperpage-migrate")
    assert annotations(job)["argocd.argoproj.io/hook"] == "Sync"
    assert annotations(job)["argocd.argoproj.io/hook-delete-policy"] == "BeforeHookCreation"
    earlier_kinds = {
        "Namespace",
        "ServiceAccount",
        "ConfigMap",
        "Secret",
        "ExternalSecret",
        "SecretStore",
        "NetworkPolicy",
        "ResourceQuota",
        "LimitRange",
        "PriorityClass",
        "StatefulSet",
        "Cluster",
        "Pooler",
        "ObjectStore",
    }
    for doc in rendered.docs:
        if doc["kind"] in earlier_kinds:
            assert wave(doc) < wave(job), f"{doc['kind']}/{doc['metadata']['name']} must sync before the migration"
    for service in rendered.of_kind("Service"):
        if service["metadata"]["name"] == "hyperpage-postgres":
            assert wave(service) < wave(job)
    for deployment in rendered.of_kind("Deployment"):
        if deployment["metadata"]["name"] in ("hyperpage-web", "hyperpage-worker"):
            assert wave(deployment) > wave(job)


UNITS = {"m": 1e-3, "": 1, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
ISTIO_PROXY_DEFAULTS = {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "2", "memory": "1Gi"}}


def quantity(value: str | int) -> float:
    text = str(value)
    number = text.rstrip("mKiMG")
    return float(number) * UNITS[text[len(number) :]]


def pod_resources(template: dict, sidecar: bool) -> list[dict]:
    containers = [c["resources"] for c in template["spec"]["containers"]]
    if sidecar and template["metadata"].get("labels", {}).get("sidecar.istio.io/inject") != "false":
        notes = template["metadata"].get("annotations", {})
        containers.append(
            {
                "requests": {
                    "cpu": notes.get("sidecar.istio.io/proxyCPU", "100m"),
                    "memory": notes.get("sidecar.istio.io/proxyMemory", "128Mi"),
                },
                "limits": {
                    "cpu": notes.get("sidecar.istio.io/proxyCPULimit", "2"),
                    "memory": notes.get("sidecar.istio.io/proxyMemoryLimit", "1Gi"),
                },
            }
        )
    return containers


@pytest.mark.parametrize("name", OVERLAYS)
def test_quota_admits_the_largest_rollout_and_containers_fit_the_limit_range(name: str) -> None:
    rendered = overlay(name)
    sidecar = rendered.docs[0]["metadata"]["labels"].get("istio-injection") == "enabled"
    hpa = {h["spec"]["scaleTargetRef"]["name"]: h for h in rendered.of_kind("HorizontalPodAutoscaler")}
    bounds = rendered.get("LimitRange", "hyperpage-limits")["spec"]["limits"][0]
    pods_and_counts = []
    for doc, template in rendered.workloads():
        count = doc["spec"].get("replicas", 1)
        if doc["metadata"]["name"] in hpa:
            count = hpa[doc["metadata"]["name"]]["spec"]["maxReplicas"]
        if doc["kind"] == "Deployment":
            # Kubernetes' default rolling update surges 25%.
            surge = doc["spec"].get("strategy", {}).get("rollingUpdate", {}).get("maxSurge", "25%")
            count += math.ceil(count * int(surge.rstrip("%")) / 100) if str(surge).endswith("%") else int(surge)
        pods_and_counts.append((pod_resources(template, sidecar), count))
        for container in template["spec"]["containers"]:
            for resource in ("cpu", "memory"):
                declared = container["resources"]
                where = f"{doc['metadata']['name']} {resource}"
                assert quantity(declared["limits"][resource]) <= quantity(bounds["max"][resource]), where
                assert quantity(declared["requests"][resource]) >= quantity(bounds["min"][resource]), where
    for cluster in rendered.of_kind("Cluster"):
        pods_and_counts.append(([cluster["spec"]["resources"]], cluster["spec"]["instances"]))
    for pooler in rendered.of_kind("Pooler"):
        resources = [c["resources"] for c in pooler["spec"]["template"]["spec"]["containers"]]
        pods_and_counts.append((resources, pooler["spec"]["instances"]))

    hard = rendered.get("ResourceQuota", "hyperpage-quota")["spec"]["hard"]
    assert sum(count for _, count in pods_and_counts) <= int(hard["pods"])
    for key in ("requests.cpu", "requests.memory", "limits.cpu", "limits.memory"):
        kind, resource = key.split(".")
        total = sum(
            count * sum(quantity(c[kind][resource]) for c in containers) for containers, count in pods_and_counts
        )
        assert total <= quantity(hard[key]), f"{key}: the largest rollout needs {total:g}, quota is {hard[key]}"
