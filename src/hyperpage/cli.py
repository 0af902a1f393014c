"""The `hyperpage` command: one typer app; feature groups live in <feature>/cli.py."""

from __future__ import annotations

from typing import Annotated

import typer

from hyperpage import __version__
from hyperpage.clikit import fail, lazy_group, settings_or_exit

# each group's module is imported when one of its commands runs: `db migrate` starts without the web app
COMMANDS = {
    "worker": "hyperpage.sync.cli:worker",
    "serve": None,  # below
    "db": "hyperpage.db.cli:app",
    "sync": "hyperpage.sync.cli:app",
    "tools": "hyperpage.tools.cli:app",
    "backup": "hyperpage.backup.cli:app",
    "demo": "hyperpage.demo.cli:app",
    "tokens": "hyperpage.auth.cli:app",
}

app = typer.Typer(
    name="hyperpage",
    cls=lazy_group(COMMANDS),
    help="Hyperpage: code reviews, CI/CD, tickets and API rate limits in one portal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"hyperpage {__version__}")
        raise typer.Exit()


@app.callback()
def main(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    """Hyperpage command-line interface."""
    from hyperpage.db.sqlite_tuning import statistics_off

    statistics_off()  # before any command opens a database: a lock less on every SQLite allocation


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Listen address [HYPERPAGE_HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Listen port [HYPERPAGE_PORT].")] = None,
    workers: Annotated[int | None, typer.Option(min=1, help="Worker processes [HYPERPAGE_WORKERS].")] = None,
    migrate: Annotated[bool, typer.Option("--migrate", help="Upgrade the schema first (one-machine use).")] = False,
) -> None:
    """Serve the API and the portal (port 3000 by default) until SIGTERM, then drain and exit."""
    from hyperpage import server
    from hyperpage.db import schema
    from hyperpage.logging import configure_logging

    settings = settings_or_exit()
    configure_logging(settings)
    problem = settings.web_auth_problem()
    if problem is not None:
        raise fail(f"configuration error: {problem}", code=2)
    if migrate:
        schema.upgrade(settings.sqlalchemy_url)
    code = server.run(server.build_config(settings, host=host, port=port, workers=workers), settings, metrics=True)
    raise typer.Exit(code)


if __name__ == "__main__":
    app()
