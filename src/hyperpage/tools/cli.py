"""`hyperpage tools list`: configured connections and the state of their sync jobs."""

from __future__ import annotations

import asyncio
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import case, func

from hyperpage.clikit import fail, settings_or_exit
from hyperpage.config import ConfigError, Settings
from hyperpage.logging import strip_userinfo

app = typer.Typer(help="Upstream tools and their connections.", no_args_is_help=True)


@app.command("list")
def list_tools() -> None:
    """Show each configured connection (never its token) and its jobs: count, failing, last success, next run."""
    from hyperpage.tools.registry import configured_connections

    settings = settings_or_exit()
    try:
        specs = configured_connections(settings)
    except ConfigError as exc:
        raise fail(f"configuration error: {exc}", code=2) from None
    states = asyncio.run(_job_states(settings))
    table = Table(title="Connections")
    for column in (
        "tool",
        "connection",
        "url",
        "scope",
        "resource",
        "jobs",
        "failing",
        "oldest success",
        "next run",
        "last error",
    ):
        table.add_column(column)
    for spec in specs:
        scope = ", ".join(spec.scopes) or (spec.jql if spec.tool == "jira" else "involves me")
        rows = states.get((spec.tool, spec.name)) or [("-", 0, 0, None, None, None)]
        for resource, jobs, failing, success, next_run, error in rows:
            table.add_row(
                spec.tool,
                spec.name,
                strip_userinfo(spec.base_url),
                scope or "-",
                resource,
                str(jobs),
                str(failing),
                _when(success),
                _when(next_run),
                (error or "")[:60],
            )
    console = Console()
    console.print(table)
    if not specs:
        console.print("No tool enabled: set ENABLE_GITHUB, ENABLE_GITLAB or ENABLE_JIRA (docs/configuration.md).")


def _when(moment: Any) -> str:
    return moment.strftime("%Y-%m-%d %H:%M:%S") if moment else "never"


async def _job_states(settings: Settings) -> dict[tuple[str, str], list[tuple[Any, ...]]]:
    from hyperpage.db.session import create_engine, make_sessionmaker
    from hyperpage.sync.models import SyncState, per_connection_resource
    from hyperpage.tools.models import Connection

    engine = create_engine(settings)
    try:
        async with make_sessionmaker(engine)() as session:
            failing = func.sum(case((SyncState.consecutive_failures > 0, 1), else_=0))
            rows = (
                await session.execute(
                    per_connection_resource(
                        func.count(SyncState.id),
                        failing,
                        func.min(SyncState.last_success_at),
                        func.min(SyncState.next_run_at),
                        func.max(SyncState.last_error),
                    ).order_by(Connection.tool, Connection.name, SyncState.resource)
                )
            ).all()
    except Exception as exc:  # no database yet: still show the configuration
        Console(stderr=True).print(f"(job states unavailable: {type(exc).__name__}; run `hyperpage db upgrade`)")
        return {}
    finally:
        await engine.dispose()
    states: dict[tuple[str, str], list[tuple[Any, ...]]] = {}
    for tool, name, *rest in rows:
        states.setdefault((tool, name), []).append(tuple(rest))
    return states
