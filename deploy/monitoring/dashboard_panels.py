"""Panels of the three Hyperpage dashboards; build_dashboards.py turns them into Grafana JSON.

Each panel: title, queries [(PromQL, legend)], unit, optional type (timeseries|stat), width w, height h,
thresholds [(value, colour)], description. Every query filters on the namespace variable and, where the
series has a pod label, on the pod variable. DB-derived gauges are identical on every web pod, so they are
folded with max()/min() rather than summed.
"""

from __future__ import annotations

NS = 'namespace=~"$namespace"'
POD = 'namespace=~"$namespace", pod=~"$pod"'
WEB = f'job="hyperpage", {POD}'
USER = 'route!~"/livez|/readyz|/api/health|/api/metrics"'
APP_JOBS = 'job=~"hyperpage|hyperpage-worker"'
REQS = "hyperpage_http_requests_total"
DUR = "hyperpage_http_request_duration_seconds"
USERS = f'job="hyperpage", {NS}, {USER}'
ERRORS = f'{USERS}, status=~"5.."'
RI = "$__rate_interval"


def _quantiles(bucket: str, selector: str, by: str = "") -> list[tuple[str, str]]:
    group = f"{by}, le" if by else "le"
    prefix = "{{" + by + "}} " if by else ""
    return [
        (f"histogram_quantile({q}, sum by ({group}) (rate({bucket}{{{selector}}}[$__rate_interval])))",
         f"{prefix}p{int(q * 100)}")
        for q in (0.5, 0.95, 0.99)
    ]


def _burn(record: str, budget: float) -> list[tuple[str, str]]:
    return [(f"{record}{window}{{{NS}}} / {budget}", f"{{{{namespace}}}} {window}")
            for window in ("1h", "6h", "1d")]


OVERVIEW = {
    "uid": "hyperpage-overview",
    "title": "Hyperpage / Overview",
    "description": "Traffic, errors, latency and the SLOs (availability 99.9 %, 95 % of requests < 500 ms).",
    "rows": [
        ("Service level objectives", [
            {"title": "Availability (30 days)", "type": "stat", "w": 5, "h": 4, "unit": "percentunit",
             "thresholds": [(0.999, "green")],
             "description": "Share of user requests (probes excluded) not answered 5xx. Objective 99.9 %.",
             "queries": [(
                 f"1 - (sum(increase({REQS}{{{ERRORS}}}[30d])) or vector(0))"
                 f" / sum(increase({REQS}{{{USERS}}}[30d]))", "availability")]},
            {"title": "Availability error budget left (30 days)", "type": "stat", "w": 5, "h": 4,
             "unit": "percentunit", "thresholds": [(0, "red")],
             "description": "1 - (5xx ratio over 30 days / 0.1 %). Below 0 the SLO is missed.",
             "queries": [(
                 f"1 - ((sum(increase({REQS}{{{ERRORS}}}[30d])) or vector(0))"
                 f" / sum(increase({REQS}{{{USERS}}}[30d]))) / 0.001", "budget left")]},
            {"title": "Latency error budget left (30 days)", "type": "stat", "w": 5, "h": 4,
             "unit": "percentunit", "thresholds": [(0, "red")],
             "description": "1 - (share of requests slower than 500 ms over 30 days / 5 %).",
             "queries": [(
                 f'1 - (1 - sum(increase({DUR}_bucket{{{USERS}, le="0.5"}}[30d]))'
                 f" / sum(increase({DUR}_count{{{USERS}}}[30d]))) / 0.05", "budget left")]},
            {"title": "P95 latency now", "type": "stat", "w": 5, "h": 4, "unit": "s",
             "thresholds": [(0.5, "red")],
             "queries": [(f"max(namespace_job:{DUR}:p95_rate5m{{{NS}}})", "p95")]},
            {"title": "User requests/s", "type": "stat", "w": 4, "h": 4, "unit": "reqps",
             "queries": [(f"sum(namespace_job:hyperpage_http_requests:rate5m{{{NS}}})", "req/s")]},
            {"title": "Availability burn rate", "unit": "x",
             "description": "Error ratio / budget. Pages at 14.4x (1h) and 6x (6h); tickets at 3x (1d).",
             "queries": _burn("namespace_job:hyperpage_http_request_errors:ratio_rate", 0.001)},
            {"title": "Latency burn rate", "unit": "x",
             "description": "Share of requests over 500 ms / 5 %. Same thresholds as availability.",
             "queries": _burn("namespace_job:hyperpage_http_request_slow:ratio_rate", 0.05)},
        ]),
        ("Traffic and errors", [
            {"title": "Requests/s by route", "unit": "reqps",
             "queries": [(f"sum by (route) (rate({REQS}{{{WEB}}}[$__rate_interval]))", "{{route}}")]},
            {"title": "Responses/s by status", "unit": "reqps",
             "queries": [(f"sum by (status) (rate({REQS}{{{WEB}}}[$__rate_interval]))", "{{status}}")]},
            {"title": "5xx ratio by route", "unit": "percentunit", "thresholds": [(0.05, "red")],
             "queries": [(f'sum by (route) (rate({REQS}{{{WEB}, status=~"5.."}}[$__rate_interval]))'
                          f" / sum by (route) (rate({REQS}{{{WEB}}}[$__rate_interval]))", "{{route}}")]},
            {"title": "Requests in flight by pod",
             "queries": [(f"sum by (pod) (hyperpage_http_requests_in_flight{{{POD}}})", "{{pod}}")]},
        ]),
        ("Latency", [
            {"title": "Latency percentiles (user routes)", "unit": "s", "thresholds": [(0.5, "red")],
             "queries": _quantiles(f"{DUR}_bucket", f"{WEB}, {USER}")},
            {"title": "P95 latency by route", "unit": "s",
             "queries": [(f"histogram_quantile(0.95, sum by (route, le) "
                          f"(rate({DUR}_bucket{{{WEB}}}[$__rate_interval])))", "{{route}}")]},
        ]),
        ("Processes", [
            {"title": "Resident memory by pod", "unit": "bytes", "w": 8, "thresholds": [(966367641, "red")],
             "queries": [(f"process_resident_memory_bytes{{{APP_JOBS}, {POD}}}", "{{pod}}")]},
            {"title": "CPU by pod", "unit": "short", "w": 8,
             "queries": [(f"rate(process_cpu_seconds_total{{{APP_JOBS}, {POD}}}[$__rate_interval])",
                          "{{pod}}")]},
            {"title": "Targets up", "w": 8,
             "queries": [(f"sum by (job) (up{{{APP_JOBS}, {POD}}})", "{{job}}")]},
            {"title": "Running versions", "type": "stat", "w": 24, "h": 4,
             "queries": [(f"count by (version, python_version) (hyperpage_build_info{{{POD}}})",
                          "{{version}} (Python {{python_version}})")]},
        ]),
        ("Portal data", [
            {"title": "Open reviews", "type": "stat", "w": 8, "h": 4,
             "queries": [(f"max(hyperpage_open_reviews{{{NS}}})", "open reviews")]},
            {"title": "Failing pipelines", "type": "stat", "w": 8, "h": 4, "thresholds": [(1, "orange")],
             "queries": [(f"max(hyperpage_failing_pipelines{{{NS}}})", "failing pipelines")]},
            {"title": "Stale connections", "type": "stat", "w": 8, "h": 4, "thresholds": [(1, "orange")],
             "queries": [(f"max(hyperpage_stale_connections{{{NS}}})", "stale connections")]},
        ]),
    ],
}

TCR = "tool, connection, resource"
SYNC = {
    "uid": "hyperpage-sync",
    "title": "Hyperpage / Sync and upstream quota",
    "description": "Freshness of every sync job, upstream request outcomes and API quota per connection.",
    "rows": [
        ("Freshness", [
            {"title": "Time since last successful sync", "unit": "s",
             "queries": [(f"namespace_tool_connection_resource:hyperpage_sync_age_seconds:max{{{NS}}}",
                          "{{tool}}/{{connection}}/{{resource}}")]},
            {"title": "Staleness (age / interval)", "unit": "x", "thresholds": [(2, "red")],
             "description": "HyperpageSyncStale fires above 2 for 5 minutes.",
             "queries": [(f"namespace_tool_connection_resource:hyperpage_sync_age_seconds:max{{{NS}}}"
                          f" / on (namespace, {TCR}) max by (namespace, {TCR}) "
                          f"(hyperpage_sync_interval_seconds{{{NS}}})",
                          "{{tool}}/{{connection}}/{{resource}}")]},
            {"title": "Sync runs/s by outcome", "unit": "ops",
             "queries": [(f"sum by (tool, resource, outcome) (rate(hyperpage_sync_runs_total{{{POD}}}"
                          f"[$__rate_interval]))", "{{tool}}/{{resource}} {{outcome}}")]},
            {"title": "Sync run duration", "unit": "s",
             "queries": _quantiles("hyperpage_sync_run_duration_seconds_bucket", POD, by="tool, resource")},
            {"title": "Items upserted/s", "unit": "ops",
             "queries": [(f"sum by (tool, resource) (rate(hyperpage_sync_items_upserted_total{{{POD}}}"
                          f"[$__rate_interval]))", "{{tool}}/{{resource}}")]},
            {"title": "Stale connections", "type": "stat", "thresholds": [(1, "orange")],
             "queries": [(f"max(hyperpage_stale_connections{{{NS}}})", "stale connections")]},
        ]),
        ("Upstream requests", [
            {"title": "Upstream requests/s by status class", "unit": "reqps",
             "queries": [(f"sum by (tool, status_class) (rate(hyperpage_upstream_requests_total{{{POD}}}"
                          f"[$__rate_interval]))", "{{tool}} {{status_class}}")]},
            {"title": "304 Not Modified ratio", "unit": "percentunit",
             "description": "Conditional requests answered 304 cost no GitHub quota: higher is cheaper.",
             "queries": [(f"sum by (tool, resource) (rate(hyperpage_upstream_not_modified_total{{{POD}}}"
                          f"[$__rate_interval])) / sum by (tool, resource) "
                          f"(rate(hyperpage_upstream_requests_total{{{POD}}}[$__rate_interval]))",
                          "{{tool}}/{{resource}}")]},
            {"title": "Retries/s by reason", "unit": "ops",
             "queries": [(f"sum by (tool, reason) (rate(hyperpage_upstream_retries_total{{{POD}}}"
                          f"[$__rate_interval]))", "{{tool}} {{reason}}")]},
            {"title": "Circuit breakers open",
             "queries": [(f"max by (tool, connection) (hyperpage_circuit_breaker_open{{{NS}}})",
                          "{{tool}}/{{connection}}")]},
        ]),
        ("Quota", [
            {"title": "Quota remaining (share of limit)", "unit": "percentunit",
             "thresholds": [(0.1, "green")],
             "description": "HyperpageUpstreamQuotaLow fires below 10 % with the reset over 5 minutes away.",
             "queries": [(f"namespace_tool_connection_resource:hyperpage_rate_limit_remaining:ratio{{{NS}}}",
                          "{{tool}}/{{connection}}/{{resource}}")]},
            {"title": "Quota remaining (requests)",
             "queries": [(f"min by ({TCR}) (hyperpage_rate_limit_remaining{{{NS}}})",
                          "{{tool}}/{{connection}}/{{resource}}"),
                         (f"max by ({TCR}) (hyperpage_rate_limit_limit{{{NS}}})",
                          "limit {{tool}}/{{connection}}/{{resource}}")]},
            {"title": "Time to quota reset", "unit": "s",
             "queries": [(f"max by ({TCR}) (hyperpage_rate_limit_reset_timestamp_seconds{{{NS}}}) - time()",
                          "{{tool}}/{{connection}}/{{resource}}")]},
        ]),
    ],
}

DB_OP = "hyperpage_db_query_duration_seconds"
PG = NS
DATABASE = {
    "uid": "hyperpage-database",
    "title": "Hyperpage / Database",
    "description": "Pools and query latency from the app; PostgreSQL from postgres_exporter (staging) or "
                   "CloudNativePG (production); WAL archiving, replication, volumes; backups.",
    "rows": [
        ("Application side", [
            {"title": "Database reachable (min over pods)", "type": "stat", "w": 6, "h": 4,
             "thresholds": [(1, "green")],
             "queries": [(f'min(hyperpage_db_up{{job="hyperpage", {POD}}})', "db up")]},
            {"title": "Pool saturation", "type": "stat", "w": 6, "h": 4, "unit": "percentunit",
             "thresholds": [(0.8, "orange")],
             "queries": [(f"max(namespace_job:hyperpage_db_pool_in_use:ratio{{{NS}}})", "in use / size")]},
            {"title": "Queries/s", "type": "stat", "w": 12, "h": 4, "unit": "ops",
             "queries": [(f"sum(rate({DB_OP}_count{{{POD}}}[$__rate_interval]))", "queries/s")]},
            {"title": "Pool connections by pod",
             "queries": [(f"sum by (pod) (hyperpage_db_pool_in_use{{{POD}}})", "in use {{pod}}"),
                         (f"sum by (pod) (hyperpage_db_pool_idle{{{POD}}})", "idle {{pod}}"),
                         (f"sum by (pod) (hyperpage_db_pool_size{{{POD}}})", "size {{pod}}")]},
            {"title": "Pool overflow by pod",
             "description": "Connections beyond the pool size; steady overflow means the pool is too small.",
             "queries": [(f"sum by (pod) (hyperpage_db_pool_overflow{{{POD}}})", "{{pod}}")]},
            {"title": "Query latency P95 by operation", "unit": "s", "thresholds": [(0.25, "red")],
             "queries": [(f"histogram_quantile(0.95, sum by (operation, le) "
                          f"(rate({DB_OP}_bucket{{{POD}}}[$__rate_interval])))", "{{operation}}")]},
            {"title": "Queries/s by operation", "unit": "ops",
             "queries": [(f"sum by (operation) (rate({DB_OP}_count{{{POD}}}[$__rate_interval]))",
                          "{{operation}}")]},
            {"title": "API response cache: share of list requests answered without a query",
             "unit": "percentunit",
             "description": "hit + shared over all list requests. Low while syncs write often (each commit empties "
                            "the cache) or while bypassing (PostgreSQL LISTEN connection down).",
             "queries": [(f'sum(rate(hyperpage_api_cache_requests_total{{result=~"hit|shared", {POD}}}'
                          f'[$__rate_interval])) / sum(rate(hyperpage_api_cache_requests_total{{{POD}}}'
                          f'[$__rate_interval]))', "answered from cache"),
                         (f'sum(rate(hyperpage_api_cache_requests_total{{result="bypass", {POD}}}'
                          f'[$__rate_interval])) / sum(rate(hyperpage_api_cache_requests_total{{{POD}}}'
                          f'[$__rate_interval]))', "bypassed")]},
            {"title": "API response cache size by pod", "unit": "bytes",
             "queries": [(f"sum by (pod) (hyperpage_api_cache_bytes{{{POD}}})", "{{pod}}")]},
        ]),
        # Staging runs postgres_exporter (pg_*), production CloudNativePG (cnpg_*, its default monitoring
        # queries: cloudnative-pg config/manager/default-monitoring.yaml): each panel reads whichever exists.
        # CloudNativePG exports per instance, so sizes take the max over instances and connections are per pod.
        ("PostgreSQL (postgres_exporter or CloudNativePG)", [
            {"title": "PostgreSQL up", "type": "stat", "w": 6, "h": 4, "thresholds": [(1, "green")],
             "queries": [(f"min(pg_up{{{PG}}}) or min(cnpg_collector_up{{{PG}}})", "pg up")]},
            {"title": "Connections used (busiest instance)", "type": "stat", "w": 6, "h": 4,
             "unit": "percentunit", "thresholds": [(0.8, "orange")],
             "queries": [(f"sum(pg_stat_database_numbackends{{{PG}}})"
                          f" / max(pg_settings_max_connections{{{PG}}})"
                          f" or max(sum by (pod) (cnpg_backends_total{{{PG}}})"
                          f" / on (pod) max by (pod) (cnpg_pg_settings_setting{{name=\"max_connections\", {PG}}}))",
                          "used")]},
            {"title": "Database size", "type": "stat", "w": 12, "h": 4, "unit": "bytes",
             "queries": [(f"sum by (datname) (pg_database_size_bytes{{{PG}}})"
                          f" or max by (datname) (cnpg_pg_database_size_bytes{{{PG}}})", "{{datname}}")]},
            {"title": "Connections by database",
             "queries": [(f"sum by (datname) (pg_stat_database_numbackends{{{PG}}})"
                          f" or sum by (datname) (cnpg_backends_total{{{PG}}})", "{{datname}}"),
                         (f"max(pg_settings_max_connections{{{PG}}})"
                          f" or max(cnpg_pg_settings_setting{{name=\"max_connections\", {PG}}})", "max_connections")]},
            {"title": "Transactions/s", "unit": "ops",
             "queries": [(f"sum by (datname) (rate(pg_stat_database_xact_commit{{{PG}}}[{RI}]))"
                          f" or sum by (datname) (rate(cnpg_pg_stat_database_xact_commit{{{PG}}}[{RI}]))",
                          "commit {{datname}}"),
                         (f"sum by (datname) (rate(pg_stat_database_xact_rollback{{{PG}}}[{RI}]))"
                          f" or sum by (datname) (rate(cnpg_pg_stat_database_xact_rollback{{{PG}}}[{RI}]))",
                          "rollback {{datname}}")]},
            {"title": "Buffer cache hit ratio", "unit": "percentunit",
             "queries": [(f"sum by (datname) (rate(pg_stat_database_blks_hit{{{PG}}}[{RI}]))"
                          f" / (sum by (datname) (rate(pg_stat_database_blks_hit{{{PG}}}[{RI}]))"
                          f" + sum by (datname) (rate(pg_stat_database_blks_read{{{PG}}}[{RI}])))"
                          f" or sum by (datname) (rate(cnpg_pg_stat_database_blks_hit{{{PG}}}[{RI}]))"
                          f" / (sum by (datname) (rate(cnpg_pg_stat_database_blks_hit{{{PG}}}[{RI}]))"
                          f" + sum by (datname) (rate(cnpg_pg_stat_database_blks_read{{{PG}}}[{RI}])))",
                          "{{datname}}")]},
            {"title": "Deadlocks", "unit": "short",
             "queries": [(f"sum by (datname) (increase(pg_stat_database_deadlocks{{{PG}}}[{RI}]))"
                          f" or sum by (datname) (increase(cnpg_pg_stat_database_deadlocks{{{PG}}}[{RI}]))",
                          "{{datname}}")]},
        ]),
        ("WAL archive, replication and volumes", [
            {"title": "Time since the last WAL segment was archived", "unit": "s",
             "thresholds": [(300, "orange")],
             "description": "Per primary (CloudNativePG). HyperpageWalArchivingFailing fires when the last "
                            "attempt failed.",
             "queries": [(f"max by (pod) (cnpg_pg_stat_archiver_seconds_since_last_archival{{{PG}}})",
                          "{{pod}}")]},
            {"title": "WAL archive failures", "unit": "short",
             "queries": [(f"sum by (pod) (increase(cnpg_pg_stat_archiver_failed_count{{{PG}}}[{RI}]))",
                          "{{pod}}")]},
            {"title": "Replication lag by replica", "unit": "s", "thresholds": [(60, "orange")],
             "description": "HyperpageReplicationLag fires past 60 s for 5 minutes.",
             "queries": [(f"max by (pod) (cnpg_pg_replication_lag{{{PG}}})", "{{pod}}")]},
            {"title": "Volume free space", "unit": "percentunit", "thresholds": [(0.1, "red")],
             "description": "Every PVC of the namespace. HyperpageDatabaseVolumeFilling fires under 10 % for "
                            "the database and backup volumes.",
             "queries": [(f"min by (persistentvolumeclaim) (kubelet_volume_stats_available_bytes{{{PG}}}"
                          f" / kubelet_volume_stats_capacity_bytes{{{PG}}})", "{{persistentvolumeclaim}}")]},
        ]),
        ("Backups", [
            {"title": "Time since last successful backup", "type": "stat", "w": 12, "h": 4, "unit": "s",
             "thresholds": [(93600, "red")],
             "description": "HyperpageBackupTooOld fires past 26 hours.",
             "queries": [(f"time() - max(hyperpage_backup_last_success_timestamp_seconds{{{NS}}})", "age")]},
            {"title": "Last backup size", "type": "stat", "w": 12, "h": 4, "unit": "bytes",
             "queries": [(f"max(hyperpage_backup_last_size_bytes{{{NS}}})", "size")]},
        ]),
    ],
}

DASHBOARDS = (OVERVIEW, SYNC, DATABASE)
