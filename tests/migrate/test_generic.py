"""Any SQLite file: every trap of real-world files is converted losslessly or reported, never dropped silently."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg
import pytest

from hyperpage.migrate import introspect, ledger
from hyperpage.migrate.plan import Endpoint
from tests.migrate import adversarial
from tests.migrate.sources import LONG, build_traps, hyperpage_cli, sha256


@pytest.fixture
def traps(tmp_path: Path) -> Path:
    path = tmp_path / "traps.db"
    build_traps(path)
    return path


def _types(url: str, table: str) -> dict[str, str]:
    with psycopg.connect(url) as conn:
        return dict(
            conn.execute(
                "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = %s", (table,)
            ).fetchall()
        )


def test_every_trap_is_converted_or_rejected_and_reported(traps: Path, target_url: str, tmp_path: Path) -> None:
    before = sha256(traps)
    rejects, report = tmp_path / "rejects.jsonl", tmp_path / "report.json"
    result = hyperpage_cli(
        "db",
        "migrate",
        "--from",
        f"sqlite:///{traps}",
        "--to",
        target_url,
        "--no-progress",
        "--rejects",
        str(rejects),
        "--report",
        str(report),
    )
    assert result.returncode == 3, result.stderr  # rows were rejected and --allow-rejects was not given
    assert sha256(traps) == before  # the source is byte-identical

    data = json.loads(report.read_text())
    assert data["verified"] is True
    lost = {t["table"]: t["source_rows"] - t["rejected"] - t["target_rows"] for t in data["tables"]}
    assert set(lost.values()) == {0}
    rows = [json.loads(line) for line in rejects.read_text().splitlines()]
    reasons = {(r["table"], r["rowid"]): r["reason"] for r in rows}
    assert "invalid UTF-8" in reasons[("Order", "4")] and "invalid UTF-8" in reasons[("Order", "5")]
    assert "U+0000" in reasons[("Order", "6")]
    assert sum(1 for t, _ in reasons if t == "nullpk") == 2
    assert rows[0]["values"]  # the whole row is kept in the rejects file
    assert any("view 'order_view' is not migrated" in w for w in data["warnings"])
    assert any("julianday" in w for w in data["warnings"])  # untranslatable CHECK: dropped with a warning

    types = _types(target_url, "Order")
    assert types["qty"] == "smallint" and types["mediumint_col"] == "integer"
    assert types["ident"] == "bigint" and types["big"] == "bigint"  # unsigned widens
    assert types["ratio"] == "double precision" and types["amount"] == "numeric"
    assert types["flag"] == "boolean" and types["payload"] == "bytea"
    assert types["created"] == types["epoch_s"] == types["epoch_ms"] == "timestamp with time zone"
    assert types["made"] == "date" and types["doc"] == "jsonb"
    assert types["zero_date"] == "text" and types["bad_doc"] == "text" and types["mixed"] == "text"
    assert types["select"] == "text" and "MixedCase" in types  # reserved word and case kept

    with psycopg.connect(target_url) as conn:
        row = conn.execute(
            'SELECT "select", flag, amount::text, epoch_ms, zero_date, doc, mixed FROM "Order" WHERE id = 1'
        ).fetchone()
        assert row[0] == "plain" and row[1] is True and row[2] == "12.5"
        assert row[3].isoformat() == "2021-07-26T12:51:46.122000+00:00"
        assert row[4] == "0000-00-00 00:00:00" and row[5] == {"a": [1, 2.5, None]} and row[6] == "1"
        assert conn.execute('SELECT mixed FROM "Order" WHERE id = 3').fetchone()[0] == "2.5"
        names = [r[0] for r in conn.execute("SELECT relname FROM pg_class WHERE relname LIKE 'a_table_name%'")]
        assert names and all(len(n.encode()) <= 63 for n in names) and len(set(names)) == len(names)
        tables = [r[0] for r in conn.execute("SELECT tablename FROM pg_tables WHERE tablename LIKE 'a_table%'")]
        assert len(tables) == 2 and all(n.startswith(LONG[:50]) for n in tables)
        assert sum(conn.execute(f'SELECT count(*) FROM "{n}"').fetchone()[0] for n in tables) == 4
        # the rowid alias became an identity continuing past the copied ids (4-6 were rejected)
        new_id = conn.execute('INSERT INTO "Order" ("select") VALUES (\'new\') RETURNING id, stamp, created')
        new = new_id.fetchone()
        assert new[0] == 4 and new[1] is not None and new[2] is not None  # translated expression defaults
        fk = conn.execute("SELECT convalidated FROM pg_constraint WHERE conname = 'line_order_id_fkey'").fetchone()
        assert fk == (False,)  # orphan row kept, constraint NOT VALID for it
        assert conn.execute("SELECT count(*) FROM line").fetchone()[0] == 4
        assert conn.execute("SELECT count(*) FROM pg_constraint WHERE conname = 'customer_pkey'").fetchone()[0] == 1


def test_allow_rejects_exits_zero_and_verify_agrees(traps: Path, target_url: str, tmp_path: Path) -> None:
    result = hyperpage_cli(
        "db",
        "migrate",
        "--from",
        f"sqlite:///{traps}",
        "--to",
        target_url,
        "--no-progress",
        "--allow-rejects",
        "--rejects",
        str(tmp_path / "r.jsonl"),
    )
    assert result.returncode == 0, result.stderr
    verify = hyperpage_cli("db", "verify", "--from", f"sqlite:///{traps}", "--to", target_url, "--no-progress")
    assert verify.returncode == 0, verify.stderr
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("UPDATE customer SET name = 'Eve' WHERE code = 'c1' AND region = 'eu'")
    tampered = hyperpage_cli(
        "db",
        "verify",
        "--from",
        f"sqlite:///{traps}",
        "--to",
        target_url,
        "--no-progress",
        "--report",
        str(tmp_path / "v.json"),
    )
    assert tampered.returncode == 1
    bad = [t["table"] for t in json.loads((tmp_path / "v.json").read_text())["tables"] if not t["ok"]]
    assert bad == ["customer"]


def test_dry_run_prints_the_plan_and_writes_nothing(traps: Path, target_url: str) -> None:
    with psycopg.connect(target_url) as conn:
        before = ledger.catalog_snapshot(conn)
    result = hyperpage_cli("db", "migrate", "--from", f"sqlite:///{traps}", "--to", target_url, "--dry-run")
    assert result.returncode == 0, result.stderr
    assert 'CREATE TABLE "Order"' in result.stdout and "FOREIGN KEY" in result.stdout
    assert "0000-00-00" in result.stdout  # the reason a DATETIME column stays text
    with psycopg.connect(target_url) as conn:
        assert ledger.catalog_snapshot(conn) == before


def test_a_non_empty_target_is_refused(traps: Path, target_url: str) -> None:
    with psycopg.connect(target_url, autocommit=True) as conn:
        conn.execute("CREATE TABLE precious (id int)")
    result = hyperpage_cli("db", "migrate", "--from", f"sqlite:///{traps}", "--to", target_url, "--no-progress")
    assert result.returncode == 1 and "not empty" in result.stderr
    assert "precious" in result.stderr


def _decisions(path: Path) -> list[object]:
    plan = introspect.build_generic_plan(Endpoint.parse(f"sqlite:///{path}"))
    tables = [
        (t.target, t.rows, t.key, [(c.target, c.pg_type, c.kind, c.select, c.as_is, c.decision) for c in t.columns])
        for t in plan.tables
    ]
    return [tables, plan.warnings, plan.create, plan.post_load]


@pytest.mark.parametrize("build", [build_traps, adversarial.build], ids=["traps", "adversarial"])
def test_plan_does_not_depend_on_how_many_connections_scan(
    build: Callable[[Path], None], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The profile's scans are split over connections (threads): every column's types, counts and warnings must
    come out as one connection finds them."""
    path = tmp_path / "src.db"
    build(path)
    monkeypatch.setattr(introspect, "PLAN_CONNECTIONS", 1)
    alone = _decisions(path)
    monkeypatch.setattr(introspect, "PLAN_CONNECTIONS", 2)
    assert _decisions(path) == alone
    assert any(w for w in alone[1])  # the files' traps do produce warnings, compared above
