"""GET /api/v1/pipelines and the failing-pipelines gauge, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from tests import factories as f
from tests.metrics_port import scrape_metrics


async def _seed(db_url: str) -> None:
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        gl = await f.add_connection(s, tool="gitlab", name="gl")
        web = await f.add_repository(s, connection=gh, full_name="acme/web")
        api = await f.add_repository(s, connection=gl, full_name="acme/api")
        t = f.BASE_TIME
        # web/main: failed, then fixed -> not failing now
        await f.add_pipeline(
            s, connection=gh, repository=web, name="CI", ref="main", result="FAILURE", created_at=t, updated_at=t
        )
        await f.add_pipeline(
            s,
            connection=gh,
            repository=web,
            name="CI",
            ref="main",
            result="SUCCESS",
            created_at=t + timedelta(minutes=10),
            updated_at=t + timedelta(minutes=10),
        )
        # web/release: latest failed -> failing
        await f.add_pipeline(
            s,
            connection=gh,
            repository=web,
            name="CI",
            ref="release",
            result="FAILURE",
            created_at=t + timedelta(minutes=20),
            updated_at=t + timedelta(minutes=20),
        )
        # api/main: running after a failure -> the latest *finished* run failed -> failing
        await f.add_pipeline(
            s,
            connection=gl,
            repository=api,
            name="pipeline",
            ref="main",
            result="FAILURE",
            created_at=t + timedelta(minutes=30),
            updated_at=t + timedelta(minutes=30),
        )
        await f.add_pipeline(
            s,
            connection=gl,
            repository=api,
            name="pipeline",
            ref="main",
            status="IN_PROGRESS",
            result=None,
            original_status="running",
            original_result=None,
            finished_at=None,
            created_at=t + timedelta(minutes=40),
            updated_at=t + timedelta(minutes=40),
        )


async def _refs(client, **params) -> list[tuple[str, str | None]]:
    resp = await client.get("/api/v1/pipelines", params=params)
    assert resp.status_code == 200, resp.text
    return [(i["ref"], i["result"]) for i in resp.json()["items"]]


async def test_pipeline_filters_and_search(client, db_url) -> None:
    await _seed(db_url)
    assert len(await _refs(client)) == 5
    assert await _refs(client, result="failure") == [("main", "FAILURE"), ("release", "FAILURE"), ("main", "FAILURE")]
    assert await _refs(client, status="IN_PROGRESS") == [("main", None)]
    assert await _refs(client, tool="github", ref="main") == [("main", "SUCCESS"), ("main", "FAILURE")]
    assert await _refs(client, repository="acme/api", result="FAILURE") == [("main", "FAILURE")]
    assert await _refs(client, q="release") == [("release", "FAILURE")]
    assert await _refs(client, q="acme/api pipeline") == [("main", None), ("main", "FAILURE")]
    assert (await client.get("/api/v1/pipelines?result=BROKEN")).status_code == 422


async def test_failing_pipelines_gauge_counts_branches_whose_latest_finished_run_failed(client, db_url) -> None:
    await _seed(db_url)
    text = await scrape_metrics(client.app)
    assert "hyperpage_failing_pipelines 2.0" in text
