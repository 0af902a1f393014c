"""`hyperpage sync now`, `hyperpage sync prune-samples` and `hyperpage worker`."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from sqlalchemy.exc import DBAPIError

from hyperpage.clikit import fail, settings_or_exit
from hyperpage.config import ConfigError, Settings
from hyperpage.tools.base import RESOURCES

if TYPE_CHECKING:
    from hyperpage.sync.scheduler import RunReport

app = typer.Typer(help="Run the background sync.", no_args_is_help=True)


@app.command("now")
def sync_now(
    tool: Annotated[str | None, typer.Option(help="Only this tool: github, gitlab or jira.")] = None,
    resource: Annotated[str | None, typer.Option(help=f"Only this resource: {', '.join(RESOURCES)}.")] = None,
) -> None:
    """Run one sync cycle in the foreground (every matching job once) and print a summary."""
    from hyperpage.logging import configure_logging

    settings = settings_or_exit()
    configure_logging(settings)
    if tool and tool not in ("github", "gitlab", "jira"):
        raise fail(f"unknown tool {tool!r} (github, gitlab, jira)", code=2)
    if resource and resource not in RESOURCES:
        raise fail(f"unknown resource {resource!r} ({', '.join(RESOURCES)})", code=2)
    try:
        reports = asyncio.run(_cycle(settings, tool, resource))
    except ConfigError as exc:
        raise fail(f"configuration error: {exc}", code=2) from None
    console = Console()
    table = Table(title="Sync cycle")
    for column in ("tool", "connection", "resource", "scope", "outcome", "requests", "304s", "items", "seconds"):
        table.add_column(column, justify="right" if column in ("requests", "304s", "items", "seconds") else "left")
    for r in reports:
        table.add_row(
            r.tool,
            r.connection,
            r.resource,
            r.scope or "-",
            "ok" if r.ok else f"FAILED: {r.error}",
            str(r.requests),
            str(r.not_modified),
            str(r.items),
            f"{r.duration:.2f}",
        )
    console.print(table)
    failed = sum(not r.ok for r in reports)
    console.print(
        f"{len(reports)} jobs, {failed} failed, {sum(r.requests for r in reports)} requests "
        f"({sum(r.not_modified for r in reports)} not modified), {sum(r.items for r in reports)} items"
    )
    if not reports:
        raise fail("no jobs matched: enable a tool (ENABLE_GITHUB, ENABLE_GITLAB, ENABLE_JIRA)", code=1)
    if failed:
        raise typer.Exit(code=1)


async def _cycle(settings: Settings, tool: str | None, resource: str | None) -> list[RunReport]:
    from hyperpage.db.session import create_engine, make_sessionmaker
    from hyperpage.sync.scheduler import Scheduler

    engine = create_engine(settings)
    scheduler = Scheduler(settings=settings, sessionmaker=make_sessionmaker(engine))
    try:
        with Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.completed} jobs"),
            TimeElapsedColumn(),
            transient=True,
        ) as progress:
            task = progress.add_task("syncing", total=None)

            def advance(report: RunReport) -> None:
                label = f"{report.tool}/{report.connection} {report.resource} {report.scope}".strip()
                progress.update(task, advance=1, description=label)

            return await scheduler.run_cycle(tool=tool, resource=resource, on_report=advance)
    finally:
        await scheduler.pool.aclose()
        await engine.dispose()


@app.command("prune-samples")
def prune_samples(
    days: Annotated[
        int | None, typer.Option(min=1, help="Keep samples of the last N days [HYPERPAGE_RATE_LIMIT_RETENTION_DAYS].")
    ] = None,
) -> None:
    """Delete rate-limit samples older than the retention window, in batches; the newest sample of each
    connection and resource (its current status) is always kept. Workers also do this once an hour."""
    from hyperpage.logging import configure_logging, redact_text

    settings = settings_or_exit()
    configure_logging(settings)
    days = days or settings.hyperpage_rate_limit_retention_days
    try:
        deleted = asyncio.run(_prune(settings, days))
    except OSError as exc:  # asyncpg: connection refused, unknown host
        raise fail(f"database unreachable: {redact_text(str(exc)).splitlines()[0]}") from None
    except DBAPIError as exc:
        raise fail(f"database error: {redact_text(str(exc.orig or exc)).splitlines()[0]}") from None
    typer.echo(
        f"deleted {deleted} rate-limit samples older than {days} days (kept the newest of each connection and resource)"
    )


async def _prune(settings: Settings, days: int) -> int:
    from hyperpage.db.session import create_engine, make_sessionmaker
    from hyperpage.rate_limits.service import prune_samples as prune

    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            return await prune(session, retention_days=days)
    finally:
        await engine.dispose()


def worker(
    host: Annotated[str | None, typer.Option(help="Listen address for probes/metrics [HYPERPAGE_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Probe/metrics port [HYPERPAGE_WORKER_PORT].")] = None,
) -> None:
    """Run the sync scheduler (leases in the database: run as many as you like) with /livez, /readyz and
    /api/metrics on port 3001."""
    from hyperpage import server
    from hyperpage.logging import configure_logging

    settings = settings_or_exit()
    configure_logging(settings)
    config = server.build_config(
        settings,
        app="hyperpage.sync.worker:create_worker_app",
        host=host,
        port=port or settings.hyperpage_worker_port,
        workers=1,
    )
    server.run(config, settings)
