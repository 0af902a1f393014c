"""The metric contract the rules and dashboards are written against.

Names the app exports (or will export) on /api/metrics, grouped by the issue that brings them. The
real-Prometheus test (issue 7, part 6) checks the "core" names against the running app and asserts the
others are still absent, so this file is updated the day a feature starts exporting them.
"""

from __future__ import annotations

# name -> type. Histograms also export <name>_bucket, <name>_count and <name>_sum.
CORE = {
    "hyperpage_http_requests_total": "counter",
    "hyperpage_http_request_duration_seconds": "histogram",
    "hyperpage_http_requests_in_flight": "gauge",
    "hyperpage_db_up": "gauge",
    "hyperpage_db_pool_size": "gauge",
    "hyperpage_db_pool_in_use": "gauge",
    "hyperpage_db_pool_idle": "gauge",
    "hyperpage_db_pool_overflow": "gauge",
    "hyperpage_db_query_duration_seconds": "histogram",
    "hyperpage_build_info": "gauge",
    # The container's memory limit (cgroup), read at start-up: the memory alerts divide by it.
    "hyperpage_memory_limit_bytes": "gauge",
    # The list endpoints' response cache (issue 4): outcomes and memory held.
    "hyperpage_api_cache_requests_total": "counter",
    "hyperpage_api_cache_bytes": "gauge",
}

# Issue 3 (sync): exported by the worker, except the DB-derived gauges the web pods export at scrape.
SYNC = {
    "hyperpage_upstream_requests_total": "counter",
    "hyperpage_upstream_not_modified_total": "counter",
    "hyperpage_upstream_retries_total": "counter",
    "hyperpage_sync_runs_total": "counter",
    "hyperpage_sync_run_duration_seconds": "histogram",
    "hyperpage_sync_items_upserted_total": "counter",
    "hyperpage_sync_items_rejected_total": "counter",
    "hyperpage_sync_scopes_missing_total": "counter",
    "hyperpage_upstream_links_refused_total": "counter",
    "hyperpage_sync_last_success_timestamp_seconds": "gauge",
    "hyperpage_sync_interval_seconds": "gauge",
    "hyperpage_rate_limit_limit": "gauge",
    "hyperpage_rate_limit_remaining": "gauge",
    "hyperpage_rate_limit_reset_timestamp_seconds": "gauge",
    "hyperpage_circuit_breaker_open": "gauge",
    "hyperpage_rate_limit_samples_pruned_total": "counter",
}

# Issue 7 part 1 (metrics): business gauges, DB-derived, exported by the web pods at scrape.
BUSINESS = {
    "hyperpage_open_reviews": "gauge",
    "hyperpage_failing_pipelines": "gauge",
    "hyperpage_stale_connections": "gauge",
}

# Issue 8 (backup, landed): DB-derived from the backup command's record, exported by the web pods.
BACKUP = {
    "hyperpage_backup_last_success_timestamp_seconds": "gauge",
    "hyperpage_backup_last_size_bytes": "gauge",
}

# The portal (issue 4) exports the business gauges and the sync (issue 3) its metrics: no longer pending.
CORE = {**CORE, **BUSINESS}

# Backups (issue 8) export theirs too.
LANDED = {**BACKUP}

PENDING_BY_ISSUE: dict[int, dict[str, str]] = {}

# Metrics every Prometheus target or the standard exporters provide.
STANDARD = {
    "up",
    "process_resident_memory_bytes",
    "process_virtual_memory_bytes",
    "process_cpu_seconds_total",
    "process_start_time_seconds",
    "process_open_fds",
    "process_max_fds",
}

# prometheus-postgres-exporter (Debian package; the Database dashboard's PostgreSQL row).
POSTGRES_EXPORTER = {
    "pg_up",
    "pg_settings_max_connections",
    "pg_stat_database_numbackends",
    "pg_stat_database_xact_commit",
    "pg_stat_database_xact_rollback",
    "pg_stat_database_blks_hit",
    "pg_stat_database_blks_read",
    "pg_stat_database_deadlocks",
    "pg_database_size_bytes",
}

# CloudNativePG's instance manager (production): the default monitoring queries in cloudnative-pg
# config/manager/default-monitoring.yaml export cnpg_<query>_<column>; cnpg_collector_up is the collector's
# own "PostgreSQL answers" gauge (CloudNativePG docs, "Monitoring", predefined metrics).
CLOUDNATIVE_PG = {
    "cnpg_collector_up",
    "cnpg_backends_total",
    "cnpg_pg_settings_setting",
    "cnpg_pg_database_size_bytes",
    "cnpg_pg_stat_database_xact_commit",
    "cnpg_pg_stat_database_xact_rollback",
    "cnpg_pg_stat_database_blks_hit",
    "cnpg_pg_stat_database_blks_read",
    "cnpg_pg_stat_database_deadlocks",
    "cnpg_pg_stat_archiver_archived_count",
    "cnpg_pg_stat_archiver_failed_count",
    "cnpg_pg_stat_archiver_seconds_since_last_archival",
    "cnpg_pg_stat_archiver_last_archived_time",
    "cnpg_pg_stat_archiver_last_failed_time",
    "cnpg_pg_replication_lag",
}

# The kubelet's volume statistics per PVC (Kubernetes docs, "Metrics For Kubernetes System Components";
# kube-prometheus-stack scrapes the kubelet).
KUBELET = {"kubelet_volume_stats_available_bytes", "kubelet_volume_stats_capacity_bytes"}


def exported_names(metrics: dict[str, str]) -> set[str]:
    """Series names a set of metrics produces in the exposition format."""
    names: set[str] = set()
    for name, kind in metrics.items():
        if kind == "histogram":
            names.update({f"{name}_bucket", f"{name}_count", f"{name}_sum"})
        else:
            names.add(name)
    return names


APP_METRICS = {**CORE, **SYNC, **BUSINESS, **BACKUP}
ALLOWED_SOURCE_NAMES = exported_names(APP_METRICS) | STANDARD | POSTGRES_EXPORTER | CLOUDNATIVE_PG | KUBELET
