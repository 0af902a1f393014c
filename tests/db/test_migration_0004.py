"""Migration 0004 widens columns in place: rows written at 0003 survive it (and the way back) on both engines."""

from __future__ import annotations

from sqlalchemy import create_engine, pool, text

from hyperpage.config import sync_url
from hyperpage.db import schema

NOW = "2026-12-03 18:00:00+00:00"


def _execute(url: str, *statements: str) -> list[tuple]:
    engine = create_engine(sync_url(url), poolclass=pool.NullPool)
    try:
        with engine.begin() as conn:
            rows: list[tuple] = []
            for statement in statements:
                result = conn.execute(text(statement))
                rows = list(result) if result.returns_rows else rows
            return rows
    finally:
        engine.dispose()


def test_rows_survive_the_upgrade_and_long_keys_fit_after_it(empty_db_url: str) -> None:
    schema.upgrade(empty_db_url, "0003")
    _execute(
        empty_db_url,
        "INSERT INTO connections (id, tool, name, base_url, enabled, scope, created_at, updated_at) "
        f"VALUES (1, 'github', 'default', 'https://api.github.com', true, '{{}}', '{NOW}', '{NOW}')",
        "INSERT INTO issues (connection_id, external_id, key, title, status_category, original_status, labels, "
        f"created_at, updated_at, synced_at) VALUES (1, '1', 'acme/web#1', 't', 'TODO', 'open', '[]', '{NOW}', "
        f"'{NOW}', '{NOW}')",
    )
    schema.upgrade(empty_db_url)
    long_key = "platform-engineering-guild/" + "service-catalogue-" + "x" * 26 + "-frontend#123456"
    rows = _execute(
        empty_db_url,
        "INSERT INTO issues (connection_id, external_id, key, title, status_category, original_status, labels, "
        f"created_at, updated_at, synced_at) VALUES (1, '2', '{long_key}', 't', 'TODO', 'open', '[]', '{NOW}', "
        f"'{NOW}', '{NOW}')",
        "SELECT key FROM issues ORDER BY external_id",
    )
    assert [r[0] for r in rows] == ["acme/web#1", long_key] and len(long_key) >= 77
    _execute(empty_db_url, "DELETE FROM issues WHERE external_id = '2'")
    schema.downgrade(empty_db_url, "0003")
    assert [r[0] for r in _execute(empty_db_url, "SELECT key FROM issues")] == ["acme/web#1"]
