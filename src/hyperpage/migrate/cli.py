"""`hyperpage db migrate` and `hyperpage db verify` (added to the `db` group in hyperpage/db/cli.py)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Annotated

import psycopg
import typer

from hyperpage.clikit import fail
from hyperpage.migrate.plan import Endpoint, MigrationError
from hyperpage.migrate.report import console, print_plan
from hyperpage.migrate.rollback import rollback
from hyperpage.migrate.run import Options, build_plan, check, migrate

FromOpt = Annotated[str | None, typer.Option("--from", help="Source: sqlite:///file.db or postgresql://...")]
ToOpt = Annotated[str, typer.Option("--to", help="Target: postgresql://... or sqlite:///new-file.db")]
ModeOpt = Annotated[str, typer.Option(help="auto (Hyperpage when the source has alembic_version), hyperpage, generic.")]
WorkersOpt = Annotated[int, typer.Option(min=1, max=16, help="Tables copied/verified in parallel (processes).")]
ReportOpt = Annotated[Path | None, typer.Option(help="Write the JSON report here.")]


def redact_text(text: str) -> str:
    """Passwords out of a message; hyperpage.logging (structlog, the settings) is loaded only to print one."""
    from hyperpage.logging import redact_text

    return redact_text(text)


def _first_line(exc: BaseException) -> str:
    return (redact_text(str(exc)).strip().splitlines() or [type(exc).__name__])[0]


def _endpoint(raw: str) -> Endpoint:
    try:
        return Endpoint.parse(raw)
    except Exception as exc:
        raise fail(f"invalid database URL: {redact_text(str(exc))}", code=2) from None


def migrate_command(
    to: ToOpt,
    from_: FromOpt = None,
    mode: ModeOpt = "auto",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Print the plan; write nothing.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Continue an interrupted migration.")] = False,
    replace: Annotated[bool, typer.Option("--replace", help="Remove an earlier migration first.")] = False,
    do_rollback: Annotated[bool, typer.Option("--rollback", help="Remove what a migration created in --to.")] = False,
    allow_rejects: Annotated[bool, typer.Option("--allow-rejects", help="Exit 0 even if rows were rejected.")] = False,
    workers: WorkersOpt = 2,
    rejects: Annotated[Path | None, typer.Option(help="Rejected rows (JSON lines).")] = None,
    report: ReportOpt = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Copy a SQLite database into PostgreSQL (or a Hyperpage PostgreSQL database back into SQLite), verified."""
    target = _endpoint(to)
    try:
        if do_rollback:
            for line in rollback(target):
                console.print(f"dropped {line}", highlight=False)
            console.print("rollback complete: the target holds nothing this tool created")
            return
        if from_ is None:
            raise fail("--from is required (unless --rollback)", code=2)
        source = _endpoint(from_)
        if source.kind == target.kind:
            raise fail("--from and --to must be one SQLite file and one PostgreSQL database", code=2)
        plan = build_plan(source, mode)
        if dry_run:
            print_plan(plan, target.display)
            return
        opts = Options(
            mode=mode,
            resume=resume,
            replace=replace,
            workers=workers,
            rejects_path=rejects,
            report_path=report,
            progress=progress,
        )
        result = migrate(source, target, plan, opts)
    except (MigrationError, FileNotFoundError) as exc:
        raise fail(redact_text(str(exc))) from None
    except psycopg.OperationalError as exc:
        raise fail(f"database unreachable: {redact_text(str(exc)).splitlines()[0]}") from None
    except typer.Exit:
        raise
    except psycopg.Error as exc:  # DDL or data PostgreSQL refused: the statement is in the message
        raise fail(f"PostgreSQL refused: {_first_line(exc)}") from None
    except sqlite3.Error as exc:
        raise fail(f"reading {from_ or to}: {_first_line(exc)}") from None
    except Exception as exc:
        raise fail(f"migration stopped: {type(exc).__name__}: {_first_line(exc)} (run again with --resume)") from None
    result.rejects_file = str(opts.rejects_path) if result.rejects else None
    result.write(report)
    result.summary()
    if not result.verified:
        raise typer.Exit(code=1)
    if result.rejects and not allow_rejects:
        console.print("rows were rejected: exit 3 (add --allow-rejects to accept them)")
        raise typer.Exit(code=3)


def verify_command(
    to: ToOpt,
    from_: FromOpt = None,
    mode: ModeOpt = "auto",
    workers: WorkersOpt = 2,
    report: ReportOpt = None,
    progress: Annotated[bool, typer.Option(help="Show progress bars.")] = True,
) -> None:
    """Compare a migrated target with its source: counts, checksums, foreign keys, sequences."""
    if from_ is None:
        raise fail("--from is required", code=2)
    source, target = _endpoint(from_), _endpoint(to)
    try:
        plan = build_plan(source, mode)
        result = check(source, target, plan, Options(workers=workers, progress=progress))
    except (MigrationError, FileNotFoundError) as exc:
        raise fail(redact_text(str(exc))) from None
    except psycopg.Error as exc:
        raise fail(f"verification failed: {_first_line(exc)}") from None
    except sqlite3.Error as exc:
        raise fail(f"reading {from_}: {_first_line(exc)}") from None
    result.write(report)
    result.summary()
    if not result.verified:
        raise typer.Exit(code=1)
