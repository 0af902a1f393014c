"""Shared benchmark tools: wrk runs with percentiles, the same-run ceiling app, and process timing."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

# wrk's --latency output has no P95; this script prints the percentiles we report.
WRK_SCRIPT = """
done = function(summary, latency, requests)
  io.write(string.format("RESULT %d %d %.0f %.0f %.0f %d\\n", summary.requests, summary.duration,
    latency:percentile(50), latency:percentile(95), latency:percentile(99),
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.status +
    summary.errors.timeout))
end
"""


@dataclass(frozen=True)
class LoadResult:
    rps: float
    p50_ms: float
    p95_ms: float
    p99_ms: float
    errors: int

    def row(self, label: str, ceiling: LoadResult | None = None) -> str:
        ratio = f"{self.rps / ceiling.rps:6.1%}" if ceiling else "   -  "
        return (
            f"{label:<44} {self.rps:>9.0f} req/s  P50 {self.p50_ms:6.2f} ms  P95 {self.p95_ms:6.2f} ms  "
            f"P99 {self.p99_ms:6.2f} ms  errors {self.errors:<4} of ceiling {ratio}"
        )


def wrk(url: str, *, seconds: int = 8, connections: int = 32, threads: int = 2) -> LoadResult:
    exe = shutil.which("wrk")
    if exe is None:
        raise RuntimeError("wrk is not installed: run `make deps` (scripts/deps/20-load.sh)")
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as fh:
        fh.write(WRK_SCRIPT)
    out = subprocess.run(
        [exe, f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "-s", fh.name, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(fh.name).unlink()
    match = re.search(r"RESULT (\d+) (\d+) (\d+) (\d+) (\d+) (\d+)", out)
    if not match:
        raise RuntimeError(f"unexpected wrk output: {out}")
    requests, duration_us, p50, p95, p99, errors = (int(x) for x in match.groups())
    return LoadResult(requests / (duration_us / 1e6), p50 / 1000, p95 / 1000, p99 / 1000, errors)


def median(values: list[float]) -> float:
    ordered = sorted(values)
    mid = len(ordered) // 2
    return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
