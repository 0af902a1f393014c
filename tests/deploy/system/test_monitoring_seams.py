"""Monitoring seams: the Database dashboard reads the metrics each environment's PostgreSQL exporter really
exports (postgres_exporter pg_* in staging, CloudNativePG cnpg_* in production), and the volume alert covers
every database and backup volume the environment creates, under the names Kubernetes and CloudNativePG give
them."""

from __future__ import annotations

import re

import yaml

from tests.deploy.monitoring import support
from tests.deploy.monitoring.contract import CLOUDNATIVE_PG, POSTGRES_EXPORTER
from tests.deploy.system.world import Environment

DATABASE_DASHBOARD = "hyperpage-database.json"
DATABASE_RULES = support.MONITORING_DIR / "rules" / "hyperpage-database.rules.yaml"
PVC_MATCHER = re.compile(r'persistentvolumeclaim=~"([^"]+)"')


def exporter_metrics(env: Environment) -> set[str]:
    """Database metric names the environment's monitors scrape: a monitor selecting CloudNativePG's instance
    pods (label cnpg.io/cluster) gets cnpg_*, one selecting postgres_exporter gets pg_*."""
    names: set[str] = set()
    for kind in ("PodMonitor", "ServiceMonitor"):
        for monitor in env.app.of_kind(kind):
            selector = monitor["spec"]["selector"].get("matchLabels") or {}
            if "cnpg.io/cluster" in selector:
                names |= CLOUDNATIVE_PG
            if selector.get("app.kubernetes.io/name") == "hyperpage-postgres-exporter":
                names |= POSTGRES_EXPORTER
    return names


def test_database_dashboard_panels_read_what_the_environment_exports(env: Environment) -> None:
    exported = exporter_metrics(env)
    if not exported:
        return  # no database exporter scraped here (development has no monitoring component)
    known = CLOUDNATIVE_PG | POSTGRES_EXPORTER
    dashboard = support.dashboards()[DATABASE_DASHBOARD]
    for panel in support.dashboard_panels(dashboard):
        for target in panel.get("targets", []):
            names = support.metric_names(target["expr"]) & known
            # WAL archiving and streaming replication exist only where CloudNativePG runs them.
            if names - {n for n in names if n.startswith("cnpg_pg_stat_archiver") or n == "cnpg_pg_replication_lag"}:
                assert names & exported, (
                    f"{env.name}: panel {panel['title']!r} reads {sorted(names)}; the environment exports "
                    f"{sorted(exported & known)}"
                )


def volume_claims(env: Environment) -> set[str]:
    """Names of the PVCs of the database and the backups.

    StatefulSet: "<volumeClaimTemplate>-<statefulset>-<ordinal>" (Kubernetes docs, StatefulSets, "Stable
    Storage"). CloudNativePG: one PVC per instance named after the instance pod "<cluster>-<serial>", serials
    from 1 (CloudNativePG docs, "Storage" and "Instance pod names")."""
    claims = set()
    for sts in env.app.of_kind("StatefulSet"):
        labels = sts["spec"]["template"]["metadata"].get("labels") or {}
        if labels.get("app.kubernetes.io/component") != "database":
            continue
        for template in sts["spec"].get("volumeClaimTemplates", []):
            for ordinal in range(sts["spec"].get("replicas", 1)):
                claims.add(f"{template['metadata']['name']}-{sts['metadata']['name']}-{ordinal}")
    for cluster in env.app.of_kind("Cluster"):
        for serial in range(1, cluster["spec"]["instances"] + 1):
            claims.add(f"{cluster['metadata']['name']}-{serial}")
    for pvc in env.app.of_kind("PersistentVolumeClaim"):
        claims.add(pvc["metadata"]["name"])
    return claims


def test_volume_alert_covers_every_database_and_backup_volume(env: Environment) -> None:
    groups = yaml.safe_load(DATABASE_RULES.read_text())["groups"]
    rule = next(r for g in groups for r in g["rules"] if r.get("alert") == "HyperpageDatabaseVolumeFilling")
    patterns = set(PVC_MATCHER.findall(rule["expr"]))
    assert len(patterns) == 1, f"available and capacity select different PVCs: {patterns}"
    pattern = re.compile(f"^(?:{patterns.pop()})$")  # PromQL =~ is fully anchored
    claims = volume_claims(env)
    assert claims, f"{env.name}: no database volume found"
    for claim in claims:
        assert pattern.match(claim), f"{env.name}: PVC {claim} is not watched by HyperpageDatabaseVolumeFilling"
