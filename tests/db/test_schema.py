"""The Alembic migrations build the same logical schema on SQLite and PostgreSQL, and `db check` sees drift."""

from __future__ import annotations

from typing import Any

from sqlalchemy import create_engine, inspect, pool, types

from hyperpage.config import sync_url
from hyperpage.db import schema
from hyperpage.db.models import Base

LOGICAL = (
    (types.Boolean, "boolean"),
    (types.Integer, "integer"),  # BigInteger/SmallInteger are Integer subclasses
    (types.Float, "float"),
    (types.Numeric, "float"),
    (types.DateTime, "datetime"),
    (types.JSON, "json"),
    (types.String, "string"),
)


def _logical(col_type: types.TypeEngine[Any]) -> str:
    if type(col_type).__name__ in ("JSONB", "JSON"):
        return "json"
    for cls, name in LOGICAL:
        if isinstance(col_type, cls):
            return name
    return type(col_type).__name__.lower()


def reflect(url: str) -> dict[str, Any]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        insp = inspect(engine)
        out: dict[str, Any] = {}
        for table in insp.get_table_names():
            out[table] = {
                "columns": {c["name"]: (_logical(c["type"]), c["nullable"]) for c in insp.get_columns(table)},
                "pk": tuple(insp.get_pk_constraint(table)["constrained_columns"]),
                "unique": sorted(tuple(u["column_names"]) for u in insp.get_unique_constraints(table)),
                "fks": sorted(
                    (tuple(f["constrained_columns"]), f["referred_table"]) for f in insp.get_foreign_keys(table)
                ),
                "indexes": sorted(
                    (i["name"], tuple(i["column_names"]), bool(i["unique"]))
                    for i in insp.get_indexes(table)
                    if not i.get("duplicates_constraint")
                ),  # PG lists unique keys twice
            }
        return out
    finally:
        engine.dispose()


def test_same_logical_schema_on_both_engines(tmp_path, pg_cluster) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'a.db'}"
    pg_name = pg_cluster.create_database()
    try:
        pg_url = pg_cluster.url(pg_name)
        schema.upgrade(sqlite_url)
        schema.upgrade(pg_url)
        on_sqlite, on_pg = reflect(sqlite_url), reflect(pg_url)
    finally:
        pg_cluster.drop_database(pg_name)
    assert on_sqlite == on_pg
    expected = {t.name for t in Base.metadata.sorted_tables} | {"alembic_version"}
    assert set(on_pg) == expected


def test_migrations_match_the_models(empty_db_url: str) -> None:
    """Autogenerate finds nothing to do at head: the migrations and the models agree."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    schema.upgrade(empty_db_url)
    engine = create_engine(sync_url(empty_db_url), poolclass=pool.NullPool)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), Base.metadata)
    engine.dispose()
    assert diff == []


def test_downgrade_then_upgrade_round_trip(empty_db_url: str) -> None:
    schema.upgrade(empty_db_url)
    assert schema.status(empty_db_url).at_head
    schema.downgrade(empty_db_url, "base")
    assert schema.current_revision(empty_db_url) is None
    assert set(reflect(empty_db_url)) <= {"alembic_version"}
    schema.upgrade(empty_db_url)
    assert schema.status(empty_db_url).at_head


def test_synced_tables_keep_the_migrations_column_order(empty_db_url: str) -> None:
    """The models build their tables in the migrations' column order: the SyncedRow mixin's columns first (and
    synced_at last) around each table's own, so a table made from the models reads like a migrated one."""
    schema.upgrade(empty_db_url)
    engine = create_engine(sync_url(empty_db_url), poolclass=pool.NullPool)
    try:
        insp = inspect(engine)
        for table in ("pull_requests", "pipelines", "issues"):
            migrated = [c["name"] for c in insp.get_columns(table)]
            assert [c.name for c in Base.metadata.tables[table].columns] == migrated, table
    finally:
        engine.dispose()
