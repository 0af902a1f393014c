"""`hyperpage backup ...`: create, list, verify, restore, prune (docs/runbooks/ shows them in use)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy.engine import make_url

from hyperpage.backup.destinations import BackupError, Destination, open_destination
from hyperpage.clikit import fail, settings_or_exit
from hyperpage.config import Settings
from hyperpage.logging import configure_logging, redact_text, register_secret

app = typer.Typer(help="Logical backups: create, list, verify, restore, prune.", no_args_is_help=True)

DestinationOpt = Annotated[
    str | None,
    typer.Option("--destination", "-d", help="file:///dir or s3://bucket/prefix [HYPERPAGE_BACKUP_DESTINATION]."),
]
BackupOpt = Annotated[str | None, typer.Option("--backup", "-b", help="Backup id (default: the newest).")]


def _setup(destination: str | None) -> tuple[Settings, Destination]:
    settings = settings_or_exit()
    configure_logging(settings)
    verify_url = settings.hyperpage_backup_verify_database_url
    if verify_url is not None:
        register_secret(make_url(verify_url.get_secret_value()).password)
    try:
        return settings, open_destination(
            destination or settings.hyperpage_backup_destination,
            s3_endpoint_url=settings.hyperpage_backup_s3_endpoint_url,
            s3_region=settings.hyperpage_backup_s3_region,
        )
    except BackupError as exc:
        raise fail(exc.message) from None


def _work_dir(settings: Settings) -> Path | None:
    return settings.hyperpage_backup_work_dir


@contextmanager
def _failing(prefix: str) -> Iterator[None]:
    """Turn any failure into one redacted line on stderr and exit code 1 (the CronJob sees it)."""
    from boto3.exceptions import Boto3Error
    from botocore.exceptions import BotoCoreError, ClientError
    from sqlalchemy.exc import SQLAlchemyError

    try:
        yield
    except BackupError as exc:
        raise fail(f"{prefix}{exc.message}") from None
    except SQLAlchemyError as exc:
        detail = str(getattr(exc, "orig", None) or exc).splitlines()[0]
        raise fail(f"{prefix}database error: {redact_text(detail)}") from None
    except (OSError, Boto3Error, BotoCoreError, ClientError) as exc:
        raise fail(f"{prefix}{type(exc).__name__}: {redact_text(str(exc)).splitlines()[0]}") from None


@app.command()
def create(destination: DestinationOpt = None) -> None:
    """Back up the configured database, then record the success in app_state for the metrics."""
    from hyperpage.backup.dump import create_backup
    from hyperpage.backup.status import record_success

    settings, dest = _setup(destination)
    with _failing("backup failed: "):
        manifest = create_backup(
            database_url=settings.database_url.get_secret_value(),
            destination=dest,
            compression_level=settings.hyperpage_backup_compression_level,
            work_dir=_work_dir(settings),
        )
    with _failing(f"backup {manifest.id} is stored but could not be recorded for the metrics: "):
        asyncio.run(record_success(settings, manifest, dest.url))
    typer.echo(
        f"{manifest.id}: {manifest.size} bytes, {len(manifest.tables)} tables, {manifest.total_rows} rows, "
        f"schema {manifest.schema_revision}, sha256 {manifest.sha256}"
    )


@app.command("list")
def list_(destination: DestinationOpt = None) -> None:
    """List complete backups, newest first, with their verification state."""
    from hyperpage.backup.retention import list_backups
    from hyperpage.backup.verify import verification_of

    _, dest = _setup(destination)
    with _failing(""):
        backups = list_backups(dest)
    if not backups:
        typer.echo(f"no backups at {dest.url}")
    for m in backups:
        checked = verification_of(dest, m.id)
        state = f"verified {checked['verified_at']}" if checked else "not verified"
        typer.echo(
            f"{m.id}  {m.finished_at}  {m.engine:<10}  {m.size:>12} B  {m.total_rows:>9} rows  "
            f"schema {m.schema_revision}  {state}"
        )


@app.command()
def verify(
    backup: BackupOpt = None,
    destination: DestinationOpt = None,
) -> None:
    """Check the checksum, restore into a scratch database and compare every table with the manifest."""
    from hyperpage.backup.retention import find_backup
    from hyperpage.backup.verify import verify_backup

    settings, dest = _setup(destination)
    server = settings.hyperpage_backup_verify_database_url or settings.database_url
    with _failing("verification FAILED: "):
        manifest = find_backup(dest, backup)
        result = verify_backup(
            manifest=manifest, destination=dest, server_url=server.get_secret_value(), work_dir=_work_dir(settings)
        )
    typer.echo(f"{result.backup_id}: verified ({result.tables} tables, {result.rows} rows match the manifest)")


@app.command()
def restore(
    backup: BackupOpt = None,
    destination: DestinationOpt = None,
    to: Annotated[str | None, typer.Option("--to", help="Target database URL (default: DATABASE_URL).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the objects of a non-empty database.")] = False,
) -> None:
    """Restore a backup (default: the newest) into an empty database; all or nothing."""
    from hyperpage.backup.restore import restore_backup
    from hyperpage.backup.retention import find_backup

    settings, dest = _setup(destination)
    target = to or settings.database_url.get_secret_value()
    if to:
        register_secret(make_url(to).password)
    with _failing("restore failed: "):
        manifest = find_backup(dest, backup)
        restore_backup(
            manifest=manifest, destination=dest, target_url=target, force=force, work_dir=_work_dir(settings)
        )
    typer.echo(
        f"restored {manifest.id} ({manifest.total_rows} rows, schema {manifest.schema_revision}); "
        "check with `hyperpage db check`"
    )


@app.command()
def prune(
    destination: DestinationOpt = None,
    keep_days: Annotated[int | None, typer.Option(min=0, help="[HYPERPAGE_BACKUP_KEEP_DAYS]")] = None,
    keep_copies: Annotated[int | None, typer.Option(min=1, help="[HYPERPAGE_BACKUP_KEEP_COPIES]")] = None,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan, delete nothing.")] = False,
) -> None:
    """Delete backups outside the retention policy; never the last verified one."""
    from hyperpage.backup.retention import prune as run_prune

    settings, dest = _setup(destination)
    with _failing("prune failed: "):
        plan = run_prune(
            dest,
            now=datetime.now(UTC),
            keep_days=settings.hyperpage_backup_keep_days if keep_days is None else keep_days,
            keep_copies=settings.hyperpage_backup_keep_copies if keep_copies is None else keep_copies,
            dry_run=dry_run,
        )
    verb = "would delete" if dry_run else "deleted"
    for m in plan.delete:
        typer.echo(f"{verb} {m.id} ({m.finished_at})")
    for name in plan.orphans:
        typer.echo(f"{verb} left-over {name}")
    if plan.protected:
        typer.echo(f"kept {plan.protected}: the only verified backup")
    typer.echo(f"{len(plan.keep)} backups kept, {len(plan.delete)} {verb}")
