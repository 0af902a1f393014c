"""Probes and monitoring endpoints: /livez, /readyz, /api/health; Prometheus metrics (scrape, metrics_router)."""

from __future__ import annotations

import asyncio
import os
from typing import Any

from fastapi import APIRouter, FastAPI, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest, multiprocess

from hyperpage import __version__
from hyperpage.api.deps import EngineDep, SettingsDep
from hyperpage.config import Environment
from hyperpage.db.check import check_database, record_pool_metrics
from hyperpage.db.storage import check_storage
from hyperpage.errors import error_body
from hyperpage.lifecycle import lifecycle

router = APIRouter(tags=["health"])
# /api/metrics on the worker's port; the web process serves /metrics on HYPERPAGE_METRICS_PORT (metrics_server.py)
metrics_router = APIRouter(tags=["health"])
NO_STORE = {"Cache-Control": "no-store"}


@router.get("/livez", summary="Liveness: the process can serve (touches no dependency)")
async def livez() -> Response:
    return Response(b'{"status":"alive"}', media_type="application/json", headers=NO_STORE)


@router.get(
    "/readyz",
    summary="Readiness: database answers and schema at head; 503 while starting or draining",
    responses={503: {"description": "Not ready; the error message says why"}},
)
async def readyz(engine: EngineDep) -> Response:
    reason = _lifecycle_reason()
    if reason is None:
        db = await check_database(engine)
        if not db.reachable:
            reason = f"database unreachable: {db.error}"
        elif not db.at_head:
            reason = f"schema at {db.revision or 'none'}, expected {db.head}: run `hyperpage db upgrade`"
    if reason:
        return JSONResponse(error_body("not_ready", reason), status_code=503, headers=NO_STORE)
    return JSONResponse({"status": "ready"}, headers=NO_STORE)


@router.get(
    "/api/health",
    summary="Detailed health: version, environment, uptime, database, schema and (SQLite) storage",
    responses={503: {"description": "Unhealthy: same body with status unhealthy"}},
)
async def health(request: Request, settings: SettingsDep, engine: EngineDep) -> JSONResponse:
    db = await check_database(engine)
    database: dict[str, Any] = {
        "status": "up" if db.reachable else "down",
        "engine": settings.db_engine,
        "latency_ms": db.latency_ms,
    }
    if db.error:
        database["error"] = db.error
    storage = await check_storage(settings)
    reason = _lifecycle_reason()
    healthy = db.at_head and reason is None and (storage is None or storage.ok)
    body: dict[str, Any] = {
        "status": "healthy" if healthy else "unhealthy",
        "version": __version__,
        "environment": settings.hyperpage_env.value,
        "uptime_seconds": round(lifecycle.uptime_seconds, 1),
        "draining": lifecycle.draining,
        "database": database,
        "schema": {"revision": db.revision, "head": db.head, "at_head": db.at_head},
    }
    if storage is not None:  # SQLite: a full or read-only disk stops every sync write
        body["storage"] = storage.as_dict()
    identity = request.scope.get("state", {}).get("identity")
    if settings.hyperpage_env is not Environment.DEVELOPMENT and not (identity and identity.authenticated):
        body = {"status": body["status"]}  # versions and errors help an attacker more than an anonymous prober
    return JSONResponse(body, status_code=200 if healthy else 503, headers=NO_STORE)


@metrics_router.get("/api/metrics", summary="Prometheus metrics (text exposition format)")
async def prometheus_metrics(request: Request) -> Response:
    return Response(await scrape(request.app), media_type=CONTENT_TYPE_LATEST, headers=NO_STORE)


async def scrape(app: FastAPI) -> bytes:
    """Refresh the gauges read from the database, then render every metric."""
    await check_database(app.state.engine, timeout=1.0)  # refreshes hyperpage_db_up
    record_pool_metrics(app.state.engine)
    hooks = getattr(app.state, "scrape_hooks", ())
    await asyncio.gather(*(hook(app) for hook in hooks))
    return _exposition()


def _lifecycle_reason() -> str | None:
    if lifecycle.draining:
        return "shutting down"
    if not lifecycle.started:
        return "starting"
    return None


def _exposition() -> bytes:
    """One process's registry, or every worker's merged when running under the supervisor."""
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        return generate_latest(REGISTRY)
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry)
    return generate_latest(registry)
