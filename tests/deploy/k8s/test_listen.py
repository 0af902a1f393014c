"""The web pods' LISTEN connection (the API response cache's change signal) where DATABASE_URL goes through a
transaction-mode PgBouncer, which cannot carry LISTEN: it must reach the primary directly, from the web pods
only, fit the database's connection budget, and pass the service mesh in plaintext."""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from hyperpage.db.session import create_engine, create_listen_engine
from tests.deploy.k8s.appview import (
    database_url,
    rendered_settings,
    secret_files,
    secret_keys,
    secret_source,
    web_container,
)
from tests.deploy.k8s.manifests import K8S_DIR, OVERLAYS, Rendered, overlay, render

LISTEN_FILE = "HYPERPAGE_LISTEN_DATABASE_URL_FILE"
SUPERUSER_RESERVED = 3  # PostgreSQL's default superuser_reserved_connections: not the app's to use


def transaction_pooler(rendered: Rendered) -> dict[str, Any] | None:
    """The CloudNativePG Pooler DATABASE_URL goes through, when it pools by transaction."""
    pooler = rendered.find("Pooler", urlsplit(database_url(rendered)).hostname)
    if pooler is None or pooler["spec"]["pgbouncer"].get("poolMode", "session") != "transaction":
        return None
    return pooler


# The overlays whose DATABASE_URL goes through a transaction-mode Pooler.
POOLED = [n for n in OVERLAYS if transaction_pooler(overlay(n))]
RESTORE = K8S_DIR / "jobs" / "restore"


def pod_templates(rendered: Rendered) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, pod template) of every pod that may run in the overlay's namespace: its workloads (CronJobs
    included) and the on-demand restore Job made for that namespace."""
    for doc, template in rendered.workloads():
        yield doc["metadata"]["name"], template
    for job in render(RESTORE):
        on_demand = job["metadata"].get("labels", {}).get("hyperpage.io/on-demand") == "restore"
        if job["kind"] == "Job" and on_demand and job["metadata"].get("namespace") == rendered.namespace:
            yield job["metadata"]["name"], job["spec"]["template"]


@pytest.mark.parametrize("name", OVERLAYS)
def test_only_web_pods_behind_a_transaction_pooler_listen_elsewhere(name: str) -> None:
    rendered = overlay(name)
    template, container = web_container(rendered)
    pooler = transaction_pooler(rendered)
    env = rendered.app_env(container)
    others = [
        (workload["metadata"]["name"], pod, other)
        for workload, pod in rendered.app_workloads()
        if workload["metadata"]["name"] != "hyperpage-web"
        for other in pod["spec"]["containers"]
    ]
    for workload, _, other in others:
        assert LISTEN_FILE not in rendered.app_env(other), f"{workload} serves no API: it needs no LISTEN"
    if pooler is None:
        # development and staging: DATABASE_URL reaches PostgreSQL itself, where LISTEN works as it is
        assert LISTEN_FILE not in env
        return

    # database_url reads the file from the mounted Secret's keys (items honoured): LISTEN_FILE must name one
    listen, pooled = urlsplit(database_url(rendered, LISTEN_FILE)), urlsplit(database_url(rendered))
    # the operator's Service for the Cluster's current primary, on the same database as the same user
    assert (listen.hostname, listen.port) == (f"{pooler['spec']['cluster']['name']}-rw", 5432)
    assert (listen.scheme, listen.username, listen.password, listen.path) == (
        pooled.scheme,
        pooled.username,
        pooled.password,
        pooled.path,
    )
    for workload, pod, other in others:
        if pod["metadata"]["labels"]["app.kubernetes.io/component"] == "backup":
            continue  # pg_dump and pg_restore need sessions: the backup pods connect to the primary by design
        files = secret_files(rendered, pod, other).values()
        assert database_url(rendered, LISTEN_FILE) not in files, f"{workload} must not get the direct URL"
    # Nor may any other pod (the backup CronJobs and the restore Job too): each one mounting the Secret that
    # holds the direct URL lists the keys it reads, and that key is not among them.
    _, source = secret_source(template, container, env[LISTEN_FILE])
    keys = secret_keys(rendered, source["secretName"])
    direct = {key for key, value in keys.items() if value == database_url(rendered, LISTEN_FILE)}
    for workload, pod in pod_templates(rendered):
        for volume in pod["spec"].get("volumes", []):
            if workload != "hyperpage-web" and volume.get("secret", {}).get("secretName") == source["secretName"]:
                given = {item["key"] for item in volume["secret"].get("items") or [{"key": k} for k in keys]}
                assert not given & direct, f"{workload} must not get the direct URL"


@pytest.mark.parametrize("name", POOLED)
def test_the_rendered_web_settings_listen_on_the_primary_and_query_through_the_pooler(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    rendered = overlay(name)
    template, container = web_container(rendered)
    settings = rendered_settings(rendered, template, container, tmp_path, monkeypatch)
    # engines are lazy: building them opens no connection
    assert create_engine(settings).url.host == transaction_pooler(rendered)["metadata"]["name"]
    assert create_listen_engine(settings).url.host == urlsplit(database_url(rendered, LISTEN_FILE)).hostname


@pytest.mark.parametrize("name", POOLED)
def test_listen_connections_fit_the_database_connection_budget(name: str) -> None:
    rendered = overlay(name)
    pooler = transaction_pooler(rendered)
    cluster = rendered.get("Cluster", pooler["spec"]["cluster"]["name"])
    parameters = cluster["spec"]["postgresql"]["parameters"]
    bouncer = pooler["spec"]["pgbouncer"]["parameters"]
    # each PgBouncer: its server pool for the one user/database pair, its reserve, and its auth_query connection
    pooled = pooler["spec"]["instances"] * (
        int(bouncer["default_pool_size"]) + int(bouncer.get("reserve_pool_size", 0)) + 1
    )
    deployment = rendered.get("Deployment", "hyperpage-web")
    replicas = rendered.get("HorizontalPodAutoscaler", "hyperpage-web")["spec"]["maxReplicas"]
    surge = deployment["spec"]["strategy"]["rollingUpdate"]["maxSurge"]
    replicas += math.ceil(replicas * int(surge.rstrip("%")) / 100) if str(surge).endswith("%") else int(surge)
    _, container = web_container(rendered)
    listeners = replicas * int(rendered.app_env(container).get("HYPERPAGE_WORKERS", "1"))  # one per process
    usable = int(parameters["max_connections"]) - int(
        parameters.get("superuser_reserved_connections", SUPERUSER_RESERVED)
    )
    assert pooled + listeners <= usable, f"{pooled} pooled + {listeners} LISTEN connections > {usable}"


@pytest.mark.parametrize("name", [n for n in OVERLAYS if overlay(n).of_kind("PeerAuthentication")])
def test_the_mesh_lets_web_pods_reach_the_primary_in_plaintext(name: str) -> None:
    rendered = overlay(name)
    host = urlsplit(database_url(rendered, LISTEN_FILE)).hostname
    cluster = rendered.get("Cluster", host.removesuffix("-rw"))
    # the instances have no sidecar, so the web pods' sidecar must not insist on mTLS towards them
    assert cluster["spec"]["inheritedMetadata"]["labels"]["sidecar.istio.io/inject"] == "false"
    for rule in rendered.of_kind("DestinationRule"):
        if rule["spec"]["host"].split(".")[0] == host:
            assert rule["spec"].get("trafficPolicy", {}).get("tls", {}).get("mode") in (None, "DISABLE")
    # a Sidecar resource would limit the web pods' egress to its listed hosts
    for sidecar in rendered.of_kind("Sidecar"):
        hosts = [h for egress in sidecar["spec"].get("egress", []) for h in egress["hosts"]]
        assert any(h in ("*/*", "./*", f"./{host}", f"{rendered.namespace}/{host}") for h in hosts), hosts
