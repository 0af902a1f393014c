"""Type decisions, default translation and identifier shortening, rule by rule (no database needed)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from hyperpage.migrate.ddl import translate_default
from hyperpage.migrate.plan import Endpoint, Reject, shorten
from hyperpage.migrate.typing_rules import Profile, affinity, decide, parse_ts, to_numeric, to_text


@pytest.mark.parametrize(
    ("declared", "expected"),
    [
        ("INTEGER", "INTEGER"),
        ("BIGINT UNSIGNED", "INTEGER"),
        ("VARCHAR(20)", "TEXT"),
        ("CLOB", "TEXT"),
        ("BLOB", "BLOB"),
        ("", "BLOB"),
        ("DOUBLE PRECISION", "REAL"),
        ("FLOAT", "REAL"),
        ("DECIMAL(10,2)", "NUMERIC"),
        ("BOOLEAN", "NUMERIC"),
        ("DATETIME", "NUMERIC"),
        ("CHARINT", "INTEGER"),  # INT wins, as in SQLite
    ],
)
def test_affinity_follows_sqlite(declared: str, expected: str) -> None:
    assert affinity(declared) == expected


@pytest.mark.parametrize(
    ("declared", "lo", "hi", "expected"),
    [
        ("TINYINT", 0, 200, "smallint"),
        ("TINYINT UNSIGNED", 0, 255, "integer"),
        ("SMALLINT", -40000, 1, "integer"),
        ("MEDIUMINT", 0, 8_000_000, "integer"),
        ("INT UNSIGNED", 0, 4_000_000_000, "bigint"),
        ("INT", 0, 2**40, "bigint"),
        ("INTEGER", 0, 1, "bigint"),
    ],
)
def test_integer_sizes_follow_declaration_and_values(declared: str, lo: int, hi: int, expected: str) -> None:
    assert decide(declared, Profile(n_int=2, min_int=lo, max_int=hi)).pg_type == expected


def test_floats_are_double_and_mixed_numbers_numeric() -> None:
    assert decide("REAL", Profile(n_real=3)).pg_type == "double precision"
    assert decide("FLOAT", Profile(n_real=3, n_int=1)).pg_type == "double precision"
    mixed = decide("", Profile(n_real=1, n_int=1, min_int=1, max_int=1))
    assert mixed.pg_type == "numeric" and mixed.convert is to_numeric
    assert to_numeric(0.1) == Decimal("0.1") and to_numeric(2**62) == 2**62


def test_text_in_an_integer_column_widens_to_text() -> None:
    d = decide("INTEGER", Profile(n_int=5, n_text=1, min_int=1, max_int=9))
    assert d.pg_type == "text" and "widened" in d.why
    assert d.convert(5) == "5" and d.convert(2.5) == "2.5"


def test_failed_candidates_fall_back_with_a_reason() -> None:
    bad_dates = Profile(n_text=3, ts_ok=False, ts_problem="1 distinct values do not parse, e.g. '0000-00-00'")
    d = decide("DATETIME", bad_dates)
    assert d.pg_type == "text" and "0000-00-00" in d.why
    assert decide("JSON", Profile(n_text=2, json_ok=False, json_problem="x")).pg_type == "text"
    assert decide("BOOLEAN", Profile(n_int=2, bool_ok=True)).pg_type == "boolean"
    assert decide("BOOLEAN", Profile(n_int=2, min_int=0, max_int=7)).pg_type == "bigint"


def test_timestamps_parse_iso_and_epochs_exactly() -> None:
    assert parse_ts("2024-01-02 03:04:05").isoformat() == "2024-01-02T03:04:05+00:00"
    assert parse_ts("2024-01-02T03:04:05+02:00").utcoffset().total_seconds() == 7200
    assert parse_ts(1627303906122, 1000).isoformat() == "2021-07-26T12:51:46.122000+00:00"
    with pytest.raises(Reject):
        parse_ts("0000-00-00 00:00:00")
    with pytest.raises(Reject):
        parse_ts(1.0000000001, 1)  # more precision than microseconds: not lossless


def test_text_rejects_what_postgresql_cannot_hold() -> None:
    with pytest.raises(Reject, match="UTF-8"):
        to_text(b"\xff\xfe")
    with pytest.raises(Reject, match="U\\+0000"):
        to_text("a\x00b")


@pytest.mark.parametrize(
    ("expr", "pg_type", "expected"),
    [
        ("CURRENT_TIMESTAMP", "timestamptz", "CURRENT_TIMESTAMP"),
        ("(datetime('now'))", "timestamptz", "CURRENT_TIMESTAMP"),
        ("datetime('now', 'localtime')", "timestamptz", "CURRENT_TIMESTAMP"),
        ("(strftime('%s','now'))", "bigint", "floor(extract(epoch FROM CURRENT_TIMESTAMP))::bigint"),
        (
            "(strftime('%Y-%m-%d', 'now'))",
            "text",
            "to_char(CURRENT_TIMESTAMP AT TIME ZONE 'UTC', 'YYYY\"-\"MM\"-\"DD')",
        ),
        ("0", "boolean", "false"),
        ("NULL", "text", None),
        ("'abc'", "text", "'abc'"),
    ],
)
def test_default_translation(expr: str, pg_type: str, expected: str | None) -> None:
    assert translate_default(expr, pg_type) == expected


def test_long_names_are_shortened_deterministically_without_collisions() -> None:
    long = "x" * 80
    used: set[str] = set()
    first, second = shorten(long, used), shorten(long, used)
    assert len(first.encode()) <= 63 and len(second.encode()) <= 63 and first != second
    assert shorten(long, set()) == first  # the same name always maps the same way
    assert shorten("ü" * 40, set()).encode().decode()  # never cuts a multi-byte character in half
    assert shorten("Order", set()) == "Order"


@pytest.mark.parametrize(
    "raw",
    [
        "sqlite:///relative.db",
        "sqlite:////abs/path/file.db",
        "sqlite:////srv/hyperpage/with%20space.db?mode=ro",
        "postgresql://app:s%40cret@127.0.0.1:5432/db",
        "postgres://app@db.example/hyperpage",
        "postgresql+psycopg://app:pw@h:1/db?sslmode=disable",
        "postgresql://h/db",
    ],
)
def test_endpoints_parse_as_sqlalchemy_reads_them_without_showing_a_password(raw: str) -> None:
    """Parsed without SQLAlchemy (start-up time, issue 16): the same file, the same database, no password shown."""
    from sqlalchemy.engine import make_url

    url = make_url(raw.replace("postgres://", "postgresql://", 1))
    end = Endpoint.parse(raw)
    if url.get_backend_name() == "sqlite":
        assert end.path == Path(url.database or "") and end.display == f"sqlite:///{url.database}"
        return
    assert end.display == url.set(drivername="postgresql").render_as_string()
    assert make_url(end.pg_dsn).password == url.password and make_url(end.pg_dsn).database == url.database
    assert ":pw@" not in end.display and "cret" not in end.display


@pytest.mark.parametrize(
    "raw", ["nonsense", "mysql://h/db", "sqlite://", "sqlite:///", "postgresql://h/db?nosuchoption=1"]
)
def test_a_bad_endpoint_is_refused(raw: str) -> None:
    with pytest.raises(Exception, match=r"URL|file path|invalid"):
        Endpoint.parse(raw)
