"""The migration plan: what is copied where, with which types, in which order.

A plan is built once (by introspect.py for any SQLite file, by hyperpage_mode.py for our own schema) and then
drives the DDL, the copy, the verification and the report, so that all of them agree on every decision.
Everything in it is picklable: worker processes receive their table's plan as is.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote, unquote

PG_MAX_IDENT = 63
Mode = Literal["hyperpage", "generic"]


class Reject(Exception):
    """A value that cannot be stored in its target column without loss; its row goes to the rejects file."""


class MigrationError(Exception):
    """The migration cannot go on; the message is one line for the operator."""


@dataclass
class Column:
    source: str
    target: str
    pg_type: str
    kind: str  # canonicalisation family: int float numeric bool text bytes json ts date
    select: str  # expression read on the source side
    convert: Callable[[Any], Any] | None = None
    not_null: bool = False
    default: str | None = None
    identity: bool = False
    decision: str = ""  # why this type was chosen, for the plan and the report
    # every stored value goes to COPY unconverted (copies_as_is): with all columns so, a table's rows are
    # written as SQLite returns them, by psycopg's C code (copy.py's fast path)
    as_is: bool = False
    epoch_divisor: int = 1  # a timestamp column's integers are Unix epoch seconds / this (1, 1000, 1_000_000)


@dataclass
class Table:
    source: str
    target: str
    columns: list[Column]
    rows: int = 0
    key: str = "rowid"  # source expression that identifies a row in the rejects file
    depends_on: set[str] = field(default_factory=set)  # target names of referenced tables
    identity: str | None = None  # column whose sequence is reset past its maximum
    not_null_pk: list[str] = field(default_factory=list)  # source columns whose NULLs are rejected


@dataclass
class Plan:
    mode: Mode
    source: str  # display form, never with a password
    tables: list[Table]
    create: list[str] = field(default_factory=list)  # before the load
    # keys, indexes, foreign keys, checks, defaults, sequence resets: (sql, optional); an optional step that
    # PostgreSQL refuses (an untranslatable CHECK or default) becomes a warning instead of a failure
    post_load: list[tuple[str, bool]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def table(self, target: str) -> Table:
        return next(t for t in self.tables if t.target == target)


AS_IS_TYPES = frozenset(
    {"bigint", "integer", "smallint", "boolean", "numeric", "double precision", "bytea", "text", "jsonb", "timestamptz"}
)


def copies_as_is(pg_type: str) -> bool:
    """Whether SQLite's stored value, written by psycopg's COPY as it is, reads back in PostgreSQL unchanged.

    Integers and text are written as they are, doubles as repr() (the shortest text of the very same bits),
    blobs as bytea hex, NULL as NULL. Booleans stored as 0/1 or t/f/true/false, JSON and timestamp text are
    parsed by PostgreSQL (naive timestamps in the copy session's UTC); the plan allows this only for columns
    whose every value it checked.
    """
    return pg_type in AS_IS_TYPES


def quote_ident(name: str) -> str:
    """Always quote: keeps mixed case and reserved words exactly as they were in SQLite."""
    return '"' + name.replace('"', '""') + '"'


def scalar(conn: Any, sql: str, params: tuple[Any, ...] = ()) -> Any:
    """The first column of a query that always returns one row (count, max, a catalogue look-up)."""
    row = conn.execute(sql, params).fetchone()
    if row is None:
        raise MigrationError(f"the database returned no row for: {sql.split()[0]} ...")
    return row[0]


def shorten(name: str, used: set[str]) -> str:
    """Fit a name into PostgreSQL's 63 bytes, deterministically and without colliding with `used`."""
    candidate = name
    if len(name.encode()) > PG_MAX_IDENT:
        digest = hashlib.sha1(name.encode()).hexdigest()[:8]
        head = name.encode()[: PG_MAX_IDENT - 9].decode("utf-8", "ignore")
        candidate = f"{head}_{digest}"
    n = 1
    base = candidate
    while candidate.lower() in used:
        n += 1
        suffix = f"_{n}"
        candidate = base.encode()[: PG_MAX_IDENT - len(suffix)].decode("utf-8", "ignore") + suffix
    used.add(candidate.lower())
    return candidate


def fk_order(tables: list[Table]) -> list[Table]:
    """Parents before children (cycles and self-references are broken in name order)."""
    by_name = {t.target: t for t in tables}
    done: list[Table] = []
    seen: set[str] = set()

    def visit(t: Table, stack: set[str]) -> None:
        if t.target in seen:
            return
        stack.add(t.target)
        for dep in sorted(t.depends_on):
            if dep in by_name and dep not in stack:
                visit(by_name[dep], stack)
        seen.add(t.target)
        done.append(t)

    for t in sorted(tables, key=lambda t: t.target):
        visit(t, set())
    return done


@dataclass(frozen=True)
class Endpoint:
    """A database named on the command line: a SQLite file or a PostgreSQL URL."""

    kind: Literal["sqlite", "postgresql"]
    path: Path | None = None
    dsn: str | None = None  # libpq URL for psycopg (contains the password: never print it)
    display: str = ""

    @classmethod
    def parse(cls, raw: str) -> Endpoint:
        """sqlite:///relative.db, sqlite:////absolute.db, postgresql[+driver]://... (or postgres://).

        Parsed here, not by SQLAlchemy (whose import alone is a third of a second of every run): a SQLite path as
        SQLAlchemy reads it (percent-decoded, the query string dropped); a PostgreSQL URL is checked by libpq
        itself, which is what will connect with it.
        """
        scheme, sep, rest = raw.partition("://")
        backend = scheme.split("+", 1)[0].lower()
        if not sep or not scheme:
            raise MigrationError(f"not a database URL: {raw.split('@')[-1]!r}")
        if backend == "sqlite":
            path = unquote(rest[1:].partition("?")[0]) if rest.startswith("/") else ""
            if not path:
                raise MigrationError("a SQLite URL needs a file path: sqlite:///path/to/file.db")
            return cls("sqlite", path=Path(path), display=f"sqlite:///{path}")
        if backend in ("postgresql", "postgres"):
            import psycopg.conninfo

            dsn = f"postgresql://{rest}"
            psycopg.conninfo.conninfo_to_dict(dsn)  # libpq refuses what it could not connect with, here
            netloc_end = min((i for i in (rest.find("/"), rest.find("?")) if i >= 0), default=len(rest))
            userinfo, at, host = rest[:netloc_end].rpartition("@")
            user, colon, _ = userinfo.partition(":")
            shown = f"{user}{':***' if colon else ''}{at}{host}{rest[netloc_end:]}"
            return cls("postgresql", dsn=dsn, display=f"postgresql://{shown}")
        raise MigrationError(f"unsupported database URL scheme {scheme!r}: use sqlite:/// or postgresql://")

    @property
    def pg_dsn(self) -> str:
        """The libpq URL of a PostgreSQL endpoint (a SQLite endpoint has none: a bug of the caller, said so)."""
        if self.dsn is None:
            raise MigrationError(f"{self.display} is not a PostgreSQL database")
        return self.dsn

    def sqlite_uri(self) -> str:
        """Read-only URI; `immutable` (no locks, no -shm) only when no write-ahead log holds pending pages."""
        assert self.path is not None
        wal = self.path.with_name(self.path.name + "-wal")
        immutable = "&immutable=1" if not (wal.exists() and wal.stat().st_size > 0) else ""
        return f"file:{quote(str(self.path.resolve()))}?mode=ro{immutable}"


def ends_sql(t: str, key: str) -> str:
    """The smallest and largest rowid (or alias): two b-tree look-ups. SQLite optimises a lone min() or max()
    only; `SELECT min(k), max(k)` scans the whole table (0.1 s of CPU per million rows)."""
    return f"SELECT (SELECT min({key}) FROM {t}), (SELECT max({key}) FROM {t})"
