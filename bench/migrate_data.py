"""Fast generators for the migration benchmark: executemany in big transactions, values in SQLite's own forms.

The Hyperpage database is written the way the app writes it (naive UTC timestamps as text, 0/1 booleans, JSON
text), at the Alembic head; the generic one is a plain file with the usual mixture of declared types.
"""

from __future__ import annotations

import json
import random
import sqlite3
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

from hyperpage.db import schema

BASE = datetime(2026, 1, 1)


def _ts(i: int) -> str:
    return (BASE + timedelta(seconds=i * 7, microseconds=i % 1_000_000)).strftime("%Y-%m-%d %H:%M:%S.%f")


def _fast(conn: sqlite3.Connection) -> None:
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")


def build_hyperpage(path: Path, rows: int) -> int:
    """About `rows` rows over the app's tables; returns the exact count."""
    schema.upgrade(f"sqlite:///{path}")
    conn = sqlite3.connect(path)
    _fast(conn)
    rnd = random.Random(1)
    now = _ts(0)
    per = rows // 4
    with conn:
        conn.executemany(
            "INSERT INTO connections (id, tool, name, base_url, scope, enabled, created_at, updated_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (i + 1, t, f"{t}-main", f"https://{t}.example.com", '{"orgs": ["acme"]}', 1, now, now)
                for i, t in enumerate(("github", "gitlab", "jira"))
            ],
        )
        conn.executemany(
            "INSERT INTO repositories (id, connection_id, external_id, full_name, web_url, "
            "default_branch, archived, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                (
                    i,
                    1 + i % 2,
                    str(i),
                    f"acme/repo-{i}",
                    f"https://github.com/acme/repo-{i}",
                    "main",
                    int(i % 9 == 0),
                    now,
                    now,
                )
                for i in range(1, 1001)
            ],
        )
        conn.executemany(
            "INSERT INTO pull_requests (id, connection_id, repository_id, external_id, number, title, state, "
            "original_state, draft, author, requested_reviewers, labels, source_branch, target_branch, web_url, "
            "created_at, updated_at, merged_at, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
            "?, ?)",
            (
                (
                    i,
                    1,
                    1 + i % 1000,
                    f"pr{i}",
                    i,
                    f"Fix flaky test in module {i % 97} (#{i})",
                    ("OPEN", "CLOSED", "MERGED")[i % 3],
                    "open",
                    i % 5 == 0,
                    f"user{i % 50}",
                    '["carol", "dave"]',
                    json.dumps(["bug"] if i % 2 else []),
                    f"feature/{i}",
                    "main",
                    f"https://github.com/acme/pr/{i}",
                    _ts(i),
                    _ts(i + 1),
                    _ts(i + 2) if i % 3 == 2 else None,
                    now,
                )
                for i in range(1, per + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO pipelines (id, connection_id, repository_id, external_id, name, status, result, "
            "original_status, created_at, updated_at, started_at, finished_at, duration_seconds, synced_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    i,
                    2,
                    1 + i % 1000,
                    f"pl{i}",
                    "ci",
                    "DONE",
                    ("SUCCESS", "FAILURE", None)[i % 3],
                    "success",
                    _ts(i),
                    _ts(i),
                    _ts(i),
                    _ts(i + 60),
                    rnd.random() * 900,
                    now,
                )
                for i in range(1, per + 1)
            ),
        )
        conn.executemany(
            "INSERT INTO issues (id, connection_id, external_id, key, title, status_category, original_status, "
            "assignee, labels, created_at, updated_at, synced_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                (
                    i,
                    3,
                    f"{10000 + i}",
                    f"OPS-{i}",
                    f"Investigate alert {i}",
                    ("TODO", "IN_PROGRESS", "DONE")[i % 3],
                    "Open",
                    f"user{i % 40}" if i % 4 else None,
                    '{"sprint": 12, "tags": ["ops"]}',
                    _ts(i),
                    _ts(i),
                    now,
                )
                for i in range(1, per + 1)
            ),
        )
        conn.executemany(
            'INSERT INTO rate_limit_samples (id, connection_id, resource, "limit", remaining, reset_at, '
            "observed_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ((i, 1, "core", 5000, 5000 - i % 5000, _ts(i + 3600), _ts(i)) for i in range(1, per + 1)),
        )
    total = sum(
        conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("connections", "repositories", "pull_requests", "pipelines", "issues", "rate_limit_samples")
    )
    conn.close()
    return total


def _events(n: int) -> Iterator[tuple[object, ...]]:
    rnd = random.Random(2)
    for i in range(1, n + 1):
        yield (
            i,
            f"event-{i}",
            rnd.random() * 1000,
            i % 250,
            (BASE + timedelta(seconds=i)).isoformat(" "),
            i % 2,
            json.dumps({"k": i, "tags": ["a", "b"]}),
            rnd.randbytes(16),
            1 + i % 1000,
        )


def build_generic(path: Path, rows: int) -> int:
    """A plain SQLite file (no Alembic): events referencing users, typical declared types."""
    conn = sqlite3.connect(path)
    _fast(conn)
    conn.executescript("""
        CREATE TABLE users (id INTEGER PRIMARY KEY AUTOINCREMENT, email VARCHAR(200) NOT NULL UNIQUE,
                            name TEXT, age TINYINT, balance DECIMAL(12,2), created DATETIME DEFAULT CURRENT_TIMESTAMP);
        CREATE TABLE events (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, bucket INT,
                             at DATETIME, flag BOOLEAN, payload JSON, raw BLOB,
                             user_id INTEGER REFERENCES users(id));
        CREATE INDEX events_at ON events (at);""")
    with conn:
        conn.executemany(
            "INSERT INTO users VALUES (?, ?, ?, ?, ?, ?)",
            (
                (
                    i,
                    f"user{i}@example.com",
                    f"User {i}",
                    i % 90,
                    round(i * 1.25, 2),
                    (BASE + timedelta(days=i % 365)).isoformat(" "),
                )
                for i in range(1, 1001)
            ),
        )
        conn.executemany("INSERT INTO events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", _events(rows - 1000))
    conn.close()
    return rows
