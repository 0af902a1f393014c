"""The manifest written beside each backup, and the canonical per-table checksums it records.

A table's checksum does not depend on row order: every row is hashed on its own and the row hashes are
summed (a sum, unlike XOR, does not let two identical rows cancel out), so the same data gives the same
checksum whichever order pg_restore or the SQLite backup wrote it in.
- PostgreSQL, inside the database (a 1 GB table takes seconds, not minutes in Python): md5 of the row's
  `row_to_json` text with TimeZone UTC (jsonb keeps its keys sorted), as two 64-bit halves summed.
- SQLite, in Python: SHA-256 of a canonical JSON document (columns by name, timestamps as UTC ISO-8601, JSON
  with sorted keys), first 16 bytes summed modulo 2**128.
The manifest's checksum_method says which; verification always recomputes with the same method.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, select, text
from sqlalchemy.engine import Connection

from hyperpage.backup.destinations import MANIFEST_SUFFIX, BackupError

MANIFEST_FORMAT = 1
_MOD = 2**128


@dataclass(frozen=True)
class TableSummary:
    rows: int
    checksum: str


@dataclass(frozen=True)
class Manifest:
    id: str
    engine: str  # postgresql | sqlite
    file: str  # data object name beside the manifest
    file_format: str  # pg_dump-custom | sqlite-gzip
    size: int
    sha256: str
    compression_level: int
    app_version: str
    schema_revision: str | None
    started_at: str
    finished_at: str
    tables: dict[str, TableSummary] = field(default_factory=dict)
    server_version: str | None = None
    checksum_method: str = "canonical-json-sha256-sum"
    format: int = MANIFEST_FORMAT

    @property
    def manifest_name(self) -> str:
        return f"{self.id}{MANIFEST_SUFFIX}"

    @property
    def finished(self) -> datetime:
        return datetime.fromisoformat(self.finished_at)

    @property
    def total_rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str) -> Manifest:
        try:
            data = json.loads(text)
            if data.get("format") != MANIFEST_FORMAT:
                raise BackupError(f"unknown manifest format {data.get('format')!r}")
            data["tables"] = {name: TableSummary(**t) for name, t in data["tables"].items()}
            return cls(**data)
        except (ValueError, TypeError, KeyError) as exc:
            raise BackupError(f"unreadable manifest: {exc}") from None


def _canonical(value: Any) -> Any:
    if isinstance(value, datetime):
        aware = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
        return aware.isoformat(timespec="microseconds")
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value.normalize())
    if isinstance(value, bytes | bytearray | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, str) and value[:1] in "[{":
        # SQLite reflection hands JSON columns back as text; PostgreSQL as objects. Parse to agree.
        try:
            return json.loads(value)
        except ValueError:
            return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def row_digest(row: dict[str, Any]) -> int:
    doc = json.dumps(
        {k: _canonical(v) for k, v in row.items()},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
        default=str,
    )
    return int.from_bytes(hashlib.sha256(doc.encode()).digest()[:16], "big")


_PG_SUMMARY = """
SELECT count(*),
       coalesce(sum(('x' || substr(h, 1, 16))::bit(64)::bigint::numeric), 0),
       coalesce(sum(('x' || substr(h, 17, 16))::bit(64)::bigint::numeric), 0)
FROM (SELECT md5(row_to_json(t)::text) AS h FROM {table} AS t) AS rows
"""


def checksum_method(dialect: str) -> str:
    return "pg-row_to_json-md5-sum" if dialect == "postgresql" else "canonical-json-sha256-sum"


def table_summaries(conn: Connection, *, batch: int = 5000) -> dict[str, TableSummary]:
    """Row count and canonical checksum of every table, read through conn (its snapshot)."""
    if conn.dialect.name == "postgresql":
        return _pg_summaries(conn)
    meta = MetaData()
    meta.reflect(conn)
    result: dict[str, TableSummary] = {}
    for table in sorted(meta.tables.values(), key=lambda t: t.name):
        total, rows = 0, 0
        stream = conn.execute(select(table).execution_options(stream_results=True, yield_per=batch))
        for row in stream.mappings():
            total = (total + row_digest(dict(row))) % _MOD
            rows += 1
        result[table.name] = TableSummary(rows=rows, checksum=f"{total:032x}")
    return result


def _pg_summaries(conn: Connection) -> dict[str, TableSummary]:
    conn.execute(text("SET LOCAL TimeZone = 'UTC'"))  # timestamptz text depends on it
    names = (
        conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY tablename"))
        .scalars()
        .all()
    )
    result: dict[str, TableSummary] = {}
    for name in names:
        quoted = conn.dialect.identifier_preparer.quote(name)
        rows, high, low = conn.execute(text(_PG_SUMMARY.format(table=quoted))).one()
        result[name] = TableSummary(rows=rows, checksum=f"{int(high) % 2**64:016x}{int(low) % 2**64:016x}")
    return result


def compare(expected: dict[str, TableSummary], actual: dict[str, TableSummary]) -> list[str]:
    """Differences between two sets of table summaries, one line each (empty when identical)."""
    problems = []
    for name in sorted(set(expected) | set(actual)):
        want, got = expected.get(name), actual.get(name)
        if want is None:
            problems.append(f"{name}: present after restore but not in the manifest")
        elif got is None:
            problems.append(f"{name}: in the manifest but missing after restore")
        elif want.rows != got.rows:
            problems.append(f"{name}: {got.rows} rows, manifest says {want.rows}")
        elif want.checksum != got.checksum:
            problems.append(f"{name}: checksum {got.checksum} differs from the manifest's {want.checksum}")
    return problems


def file_sha256(path: Path) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    with open(path, "rb") as fh:
        while chunk := fh.read(1024 * 1024):
            digest.update(chunk)
            size += len(chunk)
    return digest.hexdigest(), size
