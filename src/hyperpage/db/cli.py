"""`hyperpage db ...`: schema upgrade, downgrade, current revision and the at-head check."""

from __future__ import annotations

from typing import Annotated

import typer

from hyperpage.clikit import fail, lazy_group, settings_or_exit

# Alembic and SQLAlchemy are imported by the commands that use them: `db migrate` of a generic file needs neither
app = typer.Typer(
    cls=lazy_group(
        {
            "migrate": "hyperpage.migrate.cli:migrate_command",
            "verify": "hyperpage.migrate.cli:verify_command",
            "upgrade": None,
            "downgrade": None,
            "current": None,
            "check": None,
        }
    ),
    help="Database schema: upgrade, downgrade, current, check; migrate and verify.",
    no_args_is_help=True,
)


def _url() -> str:
    from hyperpage.logging import configure_logging

    settings = settings_or_exit()
    configure_logging(settings)
    return settings.database_url.get_secret_value()


@app.command()
def upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
    wait: Annotated[float, typer.Option(help="Seconds to wait for the database to answer first.")] = 0.0,
) -> None:
    """Apply migrations up to REVISION (default: head)."""
    from sqlalchemy.exc import OperationalError

    from hyperpage.db import schema
    from hyperpage.logging import redact_text

    url = _url()
    try:
        if wait:
            schema.wait_for_database(url, wait)
        schema.upgrade(url, revision)
    except OperationalError as exc:
        raise fail(f"database unreachable: {redact_text(str(exc.orig or exc)).splitlines()[0]}") from None
    typer.echo(f"schema at {schema.current_revision(url)}")


@app.command()
def downgrade(revision: Annotated[str, typer.Argument(help="Target revision, e.g. -1 or base.")] = "-1") -> None:
    """Revert migrations down to REVISION (default: one step)."""
    from hyperpage.db import schema

    url = _url()
    schema.downgrade(url, revision)
    typer.echo(f"schema at {schema.current_revision(url) or 'base (empty)'}")


@app.command()
def current() -> None:
    """Print the database's schema revision and the head this version ships."""
    from hyperpage.db import schema

    status = schema.status(_url())
    typer.echo(f"current: {status.current or 'none'}\nhead:    {status.head}")


@app.command()
def check() -> None:
    """Exit 0 when the schema is at head, 1 when it is behind or ahead (for Jobs and init containers)."""
    from sqlalchemy.exc import OperationalError

    from hyperpage.db import schema
    from hyperpage.logging import redact_text

    try:
        status = schema.status(_url())
    except OperationalError as exc:
        raise fail(f"database unreachable: {redact_text(str(exc.orig or exc)).splitlines()[0]}") from None
    if not status.at_head:
        raise fail(f"schema at {status.current or 'none'}, head is {status.head}: run `hyperpage db upgrade`")
    typer.echo(f"schema at head ({status.head})")
