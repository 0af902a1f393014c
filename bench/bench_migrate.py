"""Our SQLite -> PostgreSQL migration against Debian's pgloader, side by side on one PostgreSQL cluster.

Two sources of BENCH_MIGRATE_ROWS rows (default 1,000,000): a Hyperpage database and a generic SQLite file.
pgloader gets its best-known recipe for each (for ours: schema from our Alembic migrations, then `data only`,
as Grafana's and Mattermost's guides do; for the generic file: its defaults). pgloader exits 0 even when it
loses rows, so each result is judged by `hyperpage db verify`, not by exit codes.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from tests.migrate.sources import sha256
from tests.pg import PgCluster

from bench.migrate_data import build_generic, build_hyperpage
from hyperpage.db import schema

CLI = [sys.executable, "-c", "from hyperpage.cli import app; app()"]
HYPERPAGE_LOAD = """LOAD DATABASE FROM sqlite://{src} INTO pgsql://postgres@127.0.0.1:{port}/{db}
WITH data only, truncate, reset sequences, disable triggers
EXCLUDING TABLE NAMES LIKE 'alembic_version';
"""


def _timed(cmd: list[str], work: Path) -> tuple[int, float, int, str]:
    """Exit code, wall seconds, peak RSS in MiB (largest process, from /usr/bin/time) and the output tail."""
    timer = shutil.which("time", path="/usr/bin") or "/usr/bin/time"
    stats = work / "time.txt"
    started = time.monotonic()
    proc = subprocess.run([timer, "-o", str(stats), "-f", "%M", *cmd], capture_output=True, text=True)
    wall = time.monotonic() - started
    rss = int(stats.read_text().strip().splitlines()[-1]) // 1024
    return proc.returncode, wall, rss, (proc.stdout + proc.stderr)[-600:]


def _verify(source: Path, url: str, work: Path) -> tuple[bool, str, float]:
    """`hyperpage db verify` of a result: verified, detail, wall seconds (plan included)."""
    report = work / "verify.json"
    started = time.monotonic()
    subprocess.run(
        [*CLI, "db", "verify", "--from", f"sqlite:///{source}", "--to", url, "--no-progress", "--report", str(report)],
        capture_output=True,
        text=True,
    )
    seconds = time.monotonic() - started
    if not report.exists():
        return False, "verification could not run (schema differs)", seconds
    data = json.loads(report.read_text())
    bad = [t for t in data["tables"] if not t["ok"]]
    lost = sum(t["source_rows"] - t["target_rows"] for t in data["tables"])
    detail = "; ".join(
        f"{t['table']}: {t['target_rows']}/{t['source_rows']} rows, {t['missing_rows']:,}"
        f"{'' if t['counts_exact'] else '+'} rows differ, e.g. {(t['examples'] or [''])[0]}"
        for t in bad[:4]
    )
    return data["verified"], (f"{lost} rows missing; " if lost else "") + (detail or "all tables match"), seconds


def _run_ours(cluster: PgCluster, source: Path, work: Path, workers: int) -> dict[str, object]:
    db = cluster.create_database(prefix="bench_ours")
    report = work / f"ours-{workers}.json"
    code, wall, rss, tail = _timed(
        [
            *CLI,
            "db",
            "migrate",
            "--from",
            f"sqlite:///{source}",
            "--to",
            cluster.url(db),
            "--no-progress",
            "--workers",
            str(workers),
            "--allow-rejects",
            "--report",
            str(report),
        ],
        work,
    )
    data = json.loads(report.read_text()) if report.exists() else {}
    cluster.drop_database(db)
    return {
        "tool": f"hyperpage db migrate --workers {workers}",
        "exit": code,
        "wall": wall,
        "copy": data.get("copy_seconds", wall),
        "rss": rss,
        "verified": data.get("verified", False),
        "verify": data["seconds"] - data["copy_seconds"] if data else 0.0,
        "detail": "built-in verification" if data else tail,
    }


def _run_pgloader(cluster: PgCluster, source: Path, work: Path, hyperpage: bool) -> dict[str, object]:
    exe = shutil.which("pgloader")
    if exe is None:
        raise RuntimeError("pgloader is not installed: run `make deps` (scripts/deps/40-pgloader.sh)")
    db = cluster.create_database(prefix="bench_pgloader")
    url = cluster.url(db)
    started = time.monotonic()
    if hyperpage:
        schema.upgrade(url)
        load = work / "hyperpage.load"
        load.write_text(HYPERPAGE_LOAD.format(src=source, port=cluster.port, db=db))
        cmd = [exe, str(load)]
    else:
        cmd = [exe, f"sqlite://{source}", f"pgsql://postgres@127.0.0.1:{cluster.port}/{db}"]
    schema_seconds = time.monotonic() - started
    code, wall, rss, tail = _timed(cmd, work)
    verified, detail, verify_seconds = _verify(source, url, work)
    cluster.drop_database(db)
    return {
        "tool": "pgloader 3.6.9" + (" (Alembic schema + data only)" if hyperpage else " (defaults)"),
        "exit": code,
        "wall": wall + schema_seconds,
        "copy": wall + schema_seconds,
        "rss": rss,
        "verify": verify_seconds,
        "verified": verified,
        "detail": detail if code == 0 else f"exit {code}: {tail[-200:]}",
    }


def _print(name: str, rows: int, results: list[dict[str, object]]) -> None:
    """One line per run; verification is timed next to the copy of the same run (verify/copy: the ratio)."""
    print(f"\n{name}: {rows:,} rows")
    print(
        f"{'tool':<52} {'exit':>4} {'copy s':>8} {'rows/s':>9} {'verify s':>8} {'rows/s':>9} {'v/copy':>6} "
        f"{'total s':>8} {'peak MiB':>8}  verified"
    )
    for r in results:
        copy, check = float(r["copy"]), float(r["verify"])  # type: ignore[arg-type]
        print(
            f"{r['tool']!s:<52} {r['exit']!s:>4} {copy:>8.1f} {rows / copy:>9,.0f} {check:>8.1f} "
            f"{rows / check if check else 0:>9,.0f} {check / copy:>6.2f} {float(r['wall']):>8.1f} "  # type: ignore[arg-type]
            f"{r['rss']!s:>8}  {'yes' if r['verified'] else 'NO'} - {r['detail']}"
        )


def main(args: list[str]) -> None:
    rows = int(os.environ.get("BENCH_MIGRATE_ROWS", "1000000"))
    work = Path(tempfile.mkdtemp(prefix="bench-migrate-"))
    cluster = PgCluster.start()
    try:
        for name, build, hyperpage in (
            ("Hyperpage database", build_hyperpage, True),
            ("generic SQLite file", build_generic, False),
        ):
            source = work / f"{'hyperpage' if hyperpage else 'generic'}.db"
            started = time.monotonic()
            count = build(source, rows)
            print(
                f"generated {name} ({count:,} rows, {source.stat().st_size / 2**20:.0f} MiB) in "
                f"{time.monotonic() - started:.0f} s",
                flush=True,
            )
            before = sha256(source)
            results = [
                _run_pgloader(cluster, source, work, hyperpage),
                _run_ours(cluster, source, work, 2),
                _run_ours(cluster, source, work, 1),
            ]
            assert sha256(source) == before, "the source file changed"
            _print(name, count, results)
            ours = min(float(r["copy"]) for r in results[1:])  # type: ignore[arg-type]
            print(
                f"ours (copy, best of 1 or 2 workers) vs pgloader: {float(results[0]['copy']) / ours:.2f}x "  # type: ignore[arg-type]
                "pgloader's time; total includes our verification of every row",
                flush=True,
            )
            best = min(results[1:], key=lambda r: float(r["wall"]))  # type: ignore[arg-type]
            print(
                f"end to end, ours verified vs pgloader: wall {float(best['wall']):.1f} s vs "  # type: ignore[arg-type]
                f"{float(results[0]['wall']):.1f} s, peak RSS {best['rss']} MiB vs {results[0]['rss']} MiB "
                f"({best['tool']})",
                flush=True,
            )
            check, copy = float(results[1]["verify"]), float(results[1]["copy"])  # type: ignore[arg-type]
            print(
                f"verification (--workers 2): {check:.1f} s, {count / check if check else 0:,.0f} rows/s = "
                f"{check / copy:.2f}x the copy of the same run; `db verify` of pgloader's result: "
                f"{float(results[0]['verify']):.1f} s (plan included)",
                flush=True,
            )  # type: ignore[arg-type]
            source.unlink()
    finally:
        cluster.destroy()
        shutil.rmtree(work, ignore_errors=True)
