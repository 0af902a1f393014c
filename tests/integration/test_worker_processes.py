"""Two `hyperpage worker` processes on one PostgreSQL, syncing from a `hyperpage demo upstream` process.

Counts are taken at the fake: each job runs exactly once per interval across the workers, and when the
worker holding a job is killed (SIGKILL, mid-request) the other takes the job over once the lease expires.
"""

from __future__ import annotations

import os
import re
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest

from tests.integration.processes import FakeUpstreamProcess, start_workers, wait_for, worker_env

pytestmark = [pytest.mark.postgres_only, pytest.mark.parametrize("db_engine_name", ["postgresql"])]
LONG = {
    "SYNC_PULL_REQUESTS_INTERVAL_SECONDS": "3600",
    "SYNC_PIPELINES_INTERVAL_SECONDS": "3600",
    "SYNC_ISSUES_INTERVAL_SECONDS": "3600",
    "SYNC_RATE_LIMITS_INTERVAL_SECONDS": "3600",
    "SYNC_TICK_SECONDS": "0.2",
    "SYNC_CONCURRENT_JOBS": "2",
}


@pytest.fixture
def upstream() -> Iterator[FakeUpstreamProcess]:
    fake = FakeUpstreamProcess(
        "--repos", "4", "--big-repo-prs", "0", "--prs-per-repo", "5", "--runs-per-repo", "5", "--issues-per-repo", "5"
    )
    yield fake
    fake.stop()


def _query(db_url: str, sql: str) -> list[tuple]:
    with psycopg.connect(db_url) as conn:
        return conn.execute(sql).fetchall()


def _stop(procs: list) -> None:
    for proc in procs:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
    for proc in procs:
        proc.wait(timeout=30)


def test_two_workers_run_each_job_exactly_once(db_url: str, upstream: FakeUpstreamProcess, tmp_path: Path) -> None:
    repos = list(upstream.world()["github"]["repos"])
    env = worker_env(db_url, upstream, repos, **LONG)
    # Every list request takes a moment, so one worker cannot finish all jobs before the other starts.
    upstream.fault(kind="timeout", service="github", path="/repos/*", delay=0.3, count=None)
    procs = [p for p, _ in start_workers(env, [tmp_path / f"worker{i}.log" for i in range(2)])]
    try:
        # discovery + rate limits + per repository: pulls, runs, issues and the insights' PR details,
        # deployments, incidents
        jobs = 2 + 6 * len(repos)
        wait_for(
            lambda: _query(db_url, "SELECT count(*) FROM sync_runs WHERE status <> 'RUNNING'")[0][0] >= jobs,
            what="every job to run once",
        )
        assert all(p.poll() is None for p in procs)
        time.sleep(2)  # ten more ticks of each worker: nothing may run again within the interval
        assert upstream.calls("/pulls") == len(repos)
        assert upstream.calls("/actions/runs") == len(repos)
        per_job = _query(db_url, "SELECT sync_state_id, count(*) FROM sync_runs GROUP BY sync_state_id")
        assert len(per_job) == jobs and {n for _, n in per_job} == {1}
        assert _query(db_url, "SELECT count(DISTINCT worker) FROM sync_runs")[0][0] == 2
        assert _query(db_url, "SELECT count(*) FROM sync_runs WHERE status = 'FAILED'")[0][0] == 0
    finally:
        _stop(procs)
    assert all(p.returncode == 0 for p in procs), [p.returncode for p in procs]


def test_killed_workers_job_is_taken_over_after_lease_expiry(
    db_url: str, upstream: FakeUpstreamProcess, tmp_path: Path
) -> None:
    repos = list(upstream.world()["github"]["repos"])
    slow = repos[0]
    # The fake holds this one response for 20 s: the run is in flight when its worker dies.
    upstream.fault(kind="timeout", service="github", path=f"/repos/{slow}/pulls", delay=20, count=1)
    env = worker_env(db_url, upstream, repos, **LONG, SYNC_LEASE_SECONDS="3")
    started = start_workers(env, [tmp_path / f"worker{i}.log" for i in range(2)])
    procs = [p for p, _ in started]
    job_sql = f"SELECT id, lease_owner FROM sync_state WHERE resource = 'pull_requests' AND scope = '{slow}'"
    try:
        job_id, owner = wait_for(
            lambda: next((r for r in _query(db_url, job_sql) if r[1]), None), what="the slow job to be leased"
        )
        pid = int(owner.split(":")[1])
        victim = next(p for p in procs if p.pid == pid)
        wait_for(lambda: upstream.calls("/pulls") >= 1, what="the slow request to reach the fake")
        os.kill(pid, signal.SIGKILL)
        victim.wait(timeout=10)
        runs_sql = f"SELECT status, worker, error FROM sync_runs WHERE sync_state_id = {job_id} ORDER BY id"
        runs = wait_for(
            lambda: (r := _query(db_url, runs_sql)) and r[-1][0] == "SUCCESS" and r,
            timeout=60,
            what="the job to be taken over and succeed",
        )
        assert runs[0][0] == "FAILED" and re.search(rf"lease of \S+:{pid}:\S+ expired", runs[0][2])
        assert int(runs[-1][1].split(":")[1]) != pid
        assert (
            _query(
                db_url,
                f"SELECT count(*) FROM pull_requests pr JOIN repositories r ON r.id = "
                f"pr.repository_id WHERE r.full_name = '{slow}'",
            )[0][0]
            == 5
        )
        survivor = next(port for p, port in started if p.pid != pid)
        metrics = httpx.get(f"http://127.0.0.1:{survivor}/api/metrics").text
        assert (
            'hyperpage_sync_last_success_timestamp_seconds{connection="default",resource="pull_requests"'
            ',tool="github"}' in metrics
        )
    finally:
        _stop(procs)
