"""Every Prometheus metric of Hyperpage, in one place so names stay consistent.

Naming follows Prometheus conventions: `hyperpage_` prefix, base units, `_total` on counters. Label values
come from bounded sets (route templates, tool slugs, connection names), never from raw paths or user input.
"""

from __future__ import annotations

import platform
from pathlib import Path
from typing import Final

from prometheus_client import Counter, Gauge, Histogram

from hyperpage import __version__

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "hyperpage_http_requests",
    "HTTP requests answered, by route template and status.",
    ["method", "route", "status"],
)
HTTP_DURATION = Histogram(
    "hyperpage_http_request_duration_seconds",
    "Time to answer an HTTP request.",
    ["method", "route"],
    buckets=LATENCY_BUCKETS,
)
HTTP_IN_FLIGHT = Gauge(
    "hyperpage_http_requests_in_flight", "HTTP requests being answered now.", multiprocess_mode="livesum"
)
API_CACHE = Counter(
    "hyperpage_api_cache_requests",
    "List requests by response-cache outcome: hit, miss, shared (waited for a "
    "concurrent miss of the same page), bypass (no change signal, e.g. PostgreSQL LISTEN down).",
    ["result"],
)
for _result in ("hit", "miss", "shared", "bypass"):  # exported at 0 from the start, so rates are never absent
    API_CACHE.labels(_result)
API_CACHE_BYTES = Gauge(
    "hyperpage_api_cache_bytes", "Bytes held by the API response cache.", multiprocess_mode="livesum"
)

DB_UP = Gauge(
    "hyperpage_db_up",
    "1 when the last database ping (made on each scrape) succeeded.",
    multiprocess_mode="livemostrecent",
)
DB_QUERY_DURATION = Histogram(
    "hyperpage_db_query_duration_seconds",
    "Time the database took to run a statement.",
    ["operation"],
    buckets=LATENCY_BUCKETS,
)
# With several workers each process reports its own pool; "livesum" adds the live ones up.
POOL: Final = "livesum"
DB_POOL_SIZE = Gauge(
    "hyperpage_db_pool_size", "Connections the pool may hold (pool size plus overflow).", multiprocess_mode=POOL
)
DB_POOL_IN_USE = Gauge("hyperpage_db_pool_in_use", "Pool connections checked out now.", multiprocess_mode=POOL)
DB_POOL_IDLE = Gauge("hyperpage_db_pool_idle", "Pool connections open and idle now.", multiprocess_mode=POOL)
DB_POOL_OVERFLOW = Gauge(
    "hyperpage_db_pool_overflow", "Connections open beyond the pool size now.", multiprocess_mode=POOL
)

BUILD_INFO = Gauge(
    "hyperpage_build_info",
    "Always 1; labels carry the version.",
    ["version", "python_version"],
    multiprocess_mode="livemax",
)
BUILD_INFO.labels(__version__, platform.python_version()).set(1)


def memory_limit_bytes(cgroup: Path = Path("/sys/fs/cgroup"), meminfo: Path = Path("/proc/meminfo")) -> int:
    """The container's memory limit: cgroup v2 memory.max, else v1 memory.limit_in_bytes, capped at the
    host's total memory (v2 says "max" and v1 a near-2^63 number when there is no limit)."""
    host = _host_memory_bytes(meminfo)
    for path in (cgroup / "memory.max", cgroup / "memory" / "memory.limit_in_bytes"):
        try:
            raw = path.read_text().strip()
        except OSError:
            continue
        if raw.isdigit():
            return min(int(raw), host) if host else int(raw)
        return host  # "max": no limit
    return host


def _host_memory_bytes(meminfo: Path) -> int:
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) * 1024  # reported in kB
    except (OSError, ValueError, IndexError):
        pass
    return 0


# The memory alerts compare process_resident_memory_bytes with this, so they follow each environment's
# limit (1Gi in the base, 8Gi in production) instead of a number written into the rules. Read once: a
# container's limit cannot change without a restart.
MEMORY_LIMIT = Gauge(
    "hyperpage_memory_limit_bytes",
    "Memory limit of this container (cgroup), or the host's total memory without one.",
    multiprocess_mode="livemax",
)
MEMORY_LIMIT.set(memory_limit_bytes())

# Upstream sync. tool/resource/connection values come from the registry and the configured connections.
UPSTREAM_REQUESTS = Counter(
    "hyperpage_upstream_requests",
    "Requests sent to upstream APIs, by status class (2xx, 3xx, 4xx, 5xx, error).",
    ["tool", "resource", "status_class"],
)
UPSTREAM_NOT_MODIFIED = Counter(
    "hyperpage_upstream_not_modified",
    "Conditional upstream requests answered 304 (no quota spent on GitHub).",
    ["tool", "resource"],
)
UPSTREAM_RETRIES = Counter(
    "hyperpage_upstream_retries",
    "Upstream requests retried, by reason (server_error, timeout, connection, rate_limit, secondary_rate_limit).",
    ["tool", "reason"],
)
SYNC_RUNS = Counter(
    "hyperpage_sync_runs",
    "Sync runs finished, by outcome (success, partial, failure).",
    ["tool", "resource", "outcome"],
)
SYNC_RUN_DURATION = Histogram(
    "hyperpage_sync_run_duration_seconds",
    "Wall time of one sync run.",
    ["tool", "resource"],
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0),
)
SYNC_ITEMS_UPSERTED = Counter("hyperpage_sync_items_upserted", "Rows written by sync runs.", ["tool", "resource"])
SYNC_ITEMS_REJECTED = Counter(
    "hyperpage_sync_items_rejected",
    "Upstream items that could not be mapped or stored; kept in sync_rejects.",
    ["tool", "resource"],
)
SYNC_SCOPES_MISSING = Counter(
    "hyperpage_sync_scopes_missing",
    "Configured repositories/projects discovery could not find (404 or no access).",
    ["tool", "connection"],
)
UPSTREAM_LINKS_REFUSED = Counter(
    "hyperpage_upstream_links_refused",
    "Links (pagination, redirects) to another origin that were not followed.",
    ["tool"],
)
RATE_LIMIT_SAMPLES_PRUNED = Counter(
    "hyperpage_rate_limit_samples_pruned",
    "Rate-limit samples deleted by retention (HYPERPAGE_RATE_LIMIT_RETENTION_DAYS).",
)
CIRCUIT_BREAKER_OPEN = Gauge(
    "hyperpage_circuit_breaker_open", "1 while a connection's circuit breaker is open.", ["tool", "connection"]
)

# Refreshed from the database on each scrape (web app and worker alike), so any replica reports the same.
SYNC_LAST_SUCCESS = Gauge(
    "hyperpage_sync_last_success_timestamp_seconds",
    "Unix time of the last successful sync of a job.",
    ["tool", "connection", "resource"],
)
SYNC_INTERVAL = Gauge(
    "hyperpage_sync_interval_seconds", "Configured interval of a sync job.", ["tool", "connection", "resource"]
)
RATE_LIMIT_LIMIT = Gauge(
    "hyperpage_rate_limit_limit", "Upstream quota size from the latest sample.", ["tool", "connection", "resource"]
)
RATE_LIMIT_REMAINING = Gauge(
    "hyperpage_rate_limit_remaining", "Upstream quota left from the latest sample.", ["tool", "connection", "resource"]
)
RATE_LIMIT_RESET = Gauge(
    "hyperpage_rate_limit_reset_timestamp_seconds",
    "Unix time the upstream quota resets (latest sample).",
    ["tool", "connection", "resource"],
)

# Business gauges, refreshed from the database by scrape hooks of the feature services.
OPEN_REVIEWS = Gauge("hyperpage_open_reviews", "Pull/merge requests in state OPEN.")
FAILING_PIPELINES = Gauge(
    "hyperpage_failing_pipelines", "Branches (repository, ref, workflow) whose latest finished run failed."
)
STALE_CONNECTIONS = Gauge(
    "hyperpage_stale_connections", "Connections whose last successful sync is older than twice their interval."
)

# Set on each scrape from the app_state row written by `hyperpage backup create` (0 until a first backup),
# for the alert "backup older than 26 h".
BACKUP_LAST_SUCCESS = Gauge(
    "hyperpage_backup_last_success_timestamp_seconds", "Unix time at which the last successful backup finished."
)
BACKUP_LAST_SIZE = Gauge("hyperpage_backup_last_size_bytes", "Size of the last successful backup's data file.")
