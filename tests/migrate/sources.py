"""SQLite files for the migration tests: one with every trap of real-world files, one Hyperpage database."""

from __future__ import annotations

import hashlib
import random
import sqlite3
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from hyperpage.db import schema
from hyperpage.db.app_state import AppState
from hyperpage.issues.models import Issue
from hyperpage.pipelines.models import Pipeline
from hyperpage.rate_limits.models import RateLimitSample
from hyperpage.reviews.models import PullRequest
from hyperpage.sync.models import SyncRun, SyncState
from hyperpage.tools.models import Connection, Repository, ToolConfig

LONG = "a_table_name_that_is_much_longer_than_postgresql_allows_for_identifiers_x"  # 75 bytes
TRAPS_DDL = f"""
CREATE TABLE "Order" (
    id INTEGER PRIMARY KEY AUTOINCREMENT, "select" TEXT NOT NULL, "MixedCase" VARCHAR(20),
    qty tinyint, big BIGINT UNSIGNED, amount DECIMAL(10,2), ratio REAL, flag BOOLEAN DEFAULT 0,
    payload BLOB, created DATETIME DEFAULT CURRENT_TIMESTAMP, made DATE, zero_date DATETIME,
    epoch_s TIMESTAMP, epoch_ms DATETIME, doc JSON, bad_doc JSON, mixed, note TEXT,
    stamp TEXT DEFAULT (datetime('now')), stamp2 TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    ident INT UNSIGNED, mediumint_col MEDIUMINT, CHECK (qty >= 0), CHECK (julianday(created) > 0));
CREATE TABLE customer (region TEXT, code TEXT, name TEXT, PRIMARY KEY (region, code));
CREATE TABLE line (order_id INTEGER REFERENCES "Order"(id) ON DELETE CASCADE, region TEXT, code TEXT,
    n INT, FOREIGN KEY (region, code) REFERENCES customer (region, code));
CREATE TABLE "{LONG}_one" (k TEXT PRIMARY KEY, "{LONG}_column" TEXT, v NUMERIC) WITHOUT ROWID;
CREATE TABLE "{LONG}_two" (k INTEGER PRIMARY KEY, v TEXT);
CREATE TABLE nullpk (a TEXT PRIMARY KEY, b TEXT);
CREATE INDEX "Order_by_Mixed" ON "Order" ("MixedCase", qty DESC);
CREATE UNIQUE INDEX order_note_u ON "Order"(note);
CREATE VIEW order_view AS SELECT id FROM "Order";
"""


def build_traps(path: Path) -> None:
    conn = sqlite3.connect(path)
    conn.executescript(TRAPS_DDL)
    rows = [
        (
            1,
            "plain",
            "Ab",
            1,
            18446744073709551,
            12.5,
            0.1,
            1,
            b"\x00\xffbin",
            "2024-01-02 03:04:05",
            "2024-02-29",
            "0000-00-00 00:00:00",
            1700000000,
            1627303906122,
            '{"a": [1, 2.5, null]}',
            '{"x": 1}',
            1,
            "n1",
            "2024-01-01 00:00:00",
            "x",
            4000000000,
            8000000,
        ),
        (
            2,
            "two",
            "cD",
            2,
            3,
            7,
            2.25,
            "true",
            b"",
            "2024-01-02T03:04:05+02:00",
            "1999-12-31",
            "2020-05-05 05:05:05",
            0,
            0,
            "[]",
            "{not json",
            "text",
            "n2",
            None,
            None,
            1,
            -5,
        ),
        (
            3,
            "three",
            None,
            255,
            2**62,
            3.14159,
            -1.5e300,
            "false",
            None,
            "2024-01-02 03:04:05.123456Z",
            None,
            None,
            None,
            None,
            '{"k": "v", "n": {"m": true}}',
            '{"a": 1, "a": 2}',
            2.5,
            "n3",
            None,
            None,
            0,
            0,
        ),
        (
            4,
            "four",
            "EF",
            0,
            None,
            None,
            None,
            0,
            b"\x01",
            None,
            None,
            None,
            2460000.5,
            None,
            None,
            None,
            b"\xff\xfe",
            "n4",
            None,
            None,
            None,
            None,
        ),
    ]
    conn.executemany(f'INSERT INTO "Order" VALUES ({", ".join("?" * 22)})', rows)
    # invalid UTF-8 stored as TEXT (CAST of a blob) and a text value containing U+0000
    conn.execute("""INSERT INTO "Order" (id, "select", note) VALUES (5, CAST(x'4142ff43' AS TEXT), 'n5')""")
    conn.execute("""INSERT INTO "Order" (id, "select", note) VALUES (6, 'nul' || char(0) || 'inside', 'n6')""")
    conn.executemany("INSERT INTO customer VALUES (?, ?, ?)", [("eu", "c1", "Ann"), ("us", "c1", "Bob")])
    conn.executemany(
        "INSERT INTO line VALUES (?, ?, ?, ?)",
        [(1, "eu", "c1", 1), (2, "us", "c1", 2), (3, None, None, 3), (99, "eu", "c1", 4)],
    )
    conn.executemany(f'INSERT INTO "{LONG}_one" VALUES (?, ?, ?)', [("k1", "v1", 1), ("k2", "v2", "12.50")])
    conn.executemany(f'INSERT INTO "{LONG}_two" VALUES (?, ?)', [(10, "ten"), (20, "twenty")])
    conn.executemany("INSERT INTO nullpk VALUES (?, ?)", [("a", "1"), (None, "null key"), (None, "again")])
    conn.commit()
    conn.close()


def build_big_generic(path: Path, rows: int) -> None:
    """A plain file with one large table, for the kill -9 and resume test."""
    conn = sqlite3.connect(path)
    conn.executescript("""
        CREATE TABLE a_small (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE big (id INTEGER PRIMARY KEY, label TEXT, amount REAL, at DATETIME, flag BOOLEAN);""")
    conn.executemany("INSERT INTO a_small VALUES (?, ?)", [(i, f"s{i}") for i in range(100)])
    base = datetime(2024, 1, 1)
    conn.executemany(
        "INSERT INTO big VALUES (?, ?, ?, ?, ?)",
        (
            (i, f"label {i} " * 3, i / 7, (base + timedelta(seconds=i)).isoformat(" "), i % 2)
            for i in range(1, rows + 1)
        ),
    )
    conn.commit()
    conn.close()


def build_hyperpage(path: Path, scale: int = 40, seed: int = 7) -> None:
    """A Hyperpage database at head, filled through the models with realistic rows."""
    rnd = random.Random(seed)
    url = f"sqlite:///{path}"
    schema.upgrade(url)
    engine = create_engine(url)
    now = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
    with Session(engine) as s, s.begin():
        s.add(AppState(key="setup", value={"done": True, "by": "admin"}, updated_at=now))
        s.add(ToolConfig(tool="github", enabled=True, interval_seconds=300, config={"org": "acme"}, updated_at=now))
        conns = [
            Connection(
                tool=t,
                name=f"{t}-main",
                base_url=f"https://{t}.example.com",
                scope={"orgs": ["acme"]},
                enabled=t != "jira",
            )
            for t in ("github", "gitlab", "jira")
        ]
        s.add_all(conns)
        s.flush()
        repos = [
            Repository(
                connection_id=conns[i % 2].id,
                external_id=str(1000 + i),
                full_name=f"acme/repo-{i}",
                web_url=f"https://github.com/acme/repo-{i}",
                default_branch="main",
                archived=i % 5 == 0,
            )
            for i in range(scale // 4)
        ]
        s.add_all(repos)
        s.flush()
        for i in range(scale):
            t = now - timedelta(hours=i, microseconds=rnd.randrange(10**6))
            repo = rnd.choice(repos)
            s.add(
                PullRequest(
                    connection_id=repo.connection_id,
                    repository_id=repo.id,
                    external_id=f"pr{i}",
                    number=i + 1,
                    title=f"Fix ünïcode bug #{i} 'quoted' \"double\"",
                    state=rnd.choice(["OPEN", "CLOSED", "MERGED"]),
                    original_state="open",
                    draft=i % 3 == 0,
                    author=rnd.choice(["ann", "bob", None]),
                    requested_reviewers=["carol"],
                    labels=["bug", "p1"] if i % 2 else [],
                    created_at=t,
                    updated_at=t,
                    synced_at=now,
                    merged_at=t if i % 4 == 0 else None,
                )
            )
            s.add(
                Pipeline(
                    connection_id=repo.connection_id,
                    repository_id=repo.id,
                    external_id=f"pl{i}",
                    name="ci",
                    status="DONE",
                    result=rnd.choice(["SUCCESS", "FAILURE", None]),
                    original_status="completed",
                    created_at=t,
                    updated_at=t,
                    synced_at=now,
                    duration_seconds=rnd.random() * 600,
                )
            )
            s.add(
                Issue(
                    connection_id=conns[2].id,
                    external_id=f"JIRA-{i}",
                    key=f"OPS-{i}",
                    title=f"Issue {i}",
                    status_category=rnd.choice(["TODO", "IN_PROGRESS", "DONE"]),
                    original_status="Open",
                    labels={"nested": {"a": [1, 2]}} if i % 7 == 0 else [],
                    created_at=t,
                    updated_at=t,
                    synced_at=now,
                )
            )
            s.add(
                RateLimitSample(
                    connection_id=conns[0].id,
                    resource="core",
                    limit=5000,
                    remaining=5000 - i,
                    reset_at=t + timedelta(hours=1),
                    observed_at=t,
                )
            )
        state = SyncState(
            connection_id=conns[0].id,
            resource="pulls",
            scope="acme",
            consecutive_failures=0,
            interval_seconds=300,
            next_run_at=now,
            high_water_mark=now,
        )
        s.add(state)
        s.flush()
        s.add_all(
            SyncRun(
                sync_state_id=state.id,
                status="SUCCESS",
                started_at=now - timedelta(minutes=i),
                finished_at=now,
                duration_seconds=1.5,
                requests_made=3,
                not_modified=1,
                items_upserted=i,
            )
            for i in range(5)
        )
    engine.dispose()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def hyperpage_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """The real command line, in its own process (exit codes and kill -9 behave as in production)."""
    return subprocess.run(
        [sys.executable, "-c", "from hyperpage.cli import app; app()", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
