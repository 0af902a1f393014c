"""Every gauge read from the database at scrape time, registered here and nowhere else.

A Prometheus scrape of a process (api/health.py `scrape`) first refreshes these gauges from the database, then
renders every metric. Counting open reviews or stale connections as they change would need each replica to see
every write; reading them at scrape time makes every replica report the same numbers (dashboards take `max`).

The web process reports them all. The worker reports only the sync gauges: it serves no data routes, and its
scrape must not cost the data queries a second time per replica.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI

from hyperpage.backup.status import backup_scrape_hook
from hyperpage.pipelines.service import scrape_gauges as failing_pipelines
from hyperpage.reviews.service import scrape_gauges as open_reviews
from hyperpage.status.service import scrape_gauges as stale_connections
from hyperpage.sync.gauges import refresh_sync_gauges

ScrapeHook = Callable[[FastAPI], Awaitable[None]]

WEB_HOOKS: tuple[ScrapeHook, ...] = (
    refresh_sync_gauges,  # hyperpage_sync_last_success_timestamp_seconds, _interval_seconds, rate-limit gauges
    backup_scrape_hook,  # hyperpage_backup_last_success_timestamp_seconds, _last_size_bytes
    open_reviews,  # hyperpage_open_reviews
    failing_pipelines,  # hyperpage_failing_pipelines
    stale_connections,  # hyperpage_stale_connections
)
WORKER_HOOKS: tuple[ScrapeHook, ...] = (refresh_sync_gauges,)


def install(app: FastAPI, hooks: tuple[ScrapeHook, ...]) -> None:
    """Give the app its scrape hooks (api/health.py runs them concurrently on each scrape)."""
    app.state.scrape_hooks = list(hooks)
