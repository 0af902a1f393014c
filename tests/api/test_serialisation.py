"""List pages are written by orjson from dataclasses: the bytes must be exactly what pydantic would write.

The OpenAPI schema comes from pydantic, and clients were built against pydantic's JSON (UTC as `Z`, enums by
value, microseconds when present, `null` for missing values); both engines, awkward values included.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import TypeAdapter

from hyperpage.issues.schemas import IssuePage
from hyperpage.pipelines.schemas import PipelinePage
from hyperpage.reviews.schemas import ReviewPage
from tests import factories as f

PAGES = {"/api/v1/reviews": ReviewPage, "/api/v1/pipelines": PipelinePage, "/api/v1/issues": IssuePage}


async def _seed(db_url: str) -> None:
    odd = f.BASE_TIME + timedelta(microseconds=123_456)
    async with f.db_session(db_url) as s:
        gh = await f.add_connection(s, tool="github", name="gh")
        jira = await f.add_connection(s, tool="jira", name="jira")
        repo = await f.add_repository(s, connection=gh, full_name="acme/wéb")
        await f.add_pull_request(
            s,
            connection=gh,
            repository=repo,
            title='Quote " and ünïcode ✓',
            updated_at=odd,
            requested_reviewers=["carol"],
            labels=["a", "b"],
            draft=True,
        )
        await f.add_pull_request(
            s,
            connection=gh,
            title="No repository",
            state="MERGED",
            original_state="merged",
            merged_at=odd,
            closed_at=odd,
            author=None,
            source_branch=None,
            web_url=None,
        )
        await f.add_pipeline(
            s,
            connection=gh,
            repository=repo,
            duration_seconds=0.1 + 0.2,
            status="IN_PROGRESS",
            result=None,
            original_result=None,
            finished_at=None,
        )
        await f.add_pipeline(s, connection=gh, duration_seconds=None, started_at=None, updated_at=odd)
        await f.add_issue(s, connection=jira, labels=["x"], resolved_at=odd, status_category="DONE")
        await f.add_issue(s, connection=jira, assignee=None, priority=None, title="Tab\tand newline\n")


@pytest.mark.parametrize("path", list(PAGES))
async def test_list_pages_are_byte_identical_to_pydantic_serialisation(client, db_url, path: str) -> None:
    await _seed(db_url)
    resp = await client.get(path, params={"limit": 1})
    assert resp.status_code == 200
    adapter = TypeAdapter(PAGES[path])
    for params in ({"limit": 1}, {"limit": 1, "cursor": resp.json()["next_cursor"]}, {}):
        body = (await client.get(path, params=params)).content
        page = adapter.validate_json(body)  # also: the body satisfies the documented schema
        assert adapter.dump_json(page) == body
    assert len(page.items) == 2  # type: ignore[attr-defined]
