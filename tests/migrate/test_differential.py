"""The differential check: adversarial files migrated, then compared cell by cell by code outside the migration."""

from __future__ import annotations

import json
from pathlib import Path

import psycopg
import pytest

from tests.migrate.adversarial import build, compare
from tests.migrate.sources import hyperpage_cli


@pytest.mark.parametrize("rows", [200, 100_000], ids=["small", "100k"])
def test_every_cell_arrives_exactly_or_its_row_is_rejected(rows: int, tmp_path: Path, target_url: str) -> None:
    source = tmp_path / "adversarial.db"
    build(source, rows=rows)
    rejects, report = tmp_path / "rejects.jsonl", tmp_path / "report.json"
    result = hyperpage_cli(
        "db",
        "migrate",
        "--from",
        f"sqlite:///{source}",
        "--to",
        target_url,
        "--no-progress",
        "--allow-rejects",
        "--rejects",
        str(rejects),
        "--report",
        str(report),
        timeout=900,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    data = json.loads(report.read_text())
    assert data["verified"] is True
    checked = compare(source, target_url, rejects)
    assert checked.problems == [], checked.problems
    assert checked.rejected == data["rejected_rows"] >= 2  # rows 1000 and 1001, and non-UTF-8 blobs in text
    reasons = [json.loads(line)["reason"] for line in rejects.read_text().splitlines()]
    assert all("UTF-8" in r or "U+0000" in r or "in a BLOB column" in r for r in reasons), reasons
    print(f"differential check ({rows} typed rows): {checked.cells:,} cells in {checked.rows:,} rows compared")
    assert checked.cells > rows * 10
    with psycopg.connect(target_url, autocommit=True) as conn:  # the check itself notices a single changed cell
        conn.execute(
            "UPDATE typed SET at = at + interval '1 microsecond' WHERE id = (SELECT min(id) FROM typed "
            "WHERE at IS NOT NULL)"
        )
    assert len(compare(source, target_url, rejects).problems) == 1
    warnings = " ".join(data["warnings"])
    assert "fts5" in warnings and "rtree" in warnings and "xmin" in warnings and "Julian day" in warnings
